//! End-to-end syncs against the loopback index: every metadata strategy, the page formats,
//! incremental re-syncs, resumption after a kill, and dependency following.

mod common;

use common::*;
use crawler::testindex::{Config, TestFile, TestIndex, metadata_text, sdist};

/// An sdist whose PKG-INFO (Metadata-Version 2.2, nothing dynamic) is authoritative.
fn sdist_file(name: &str, version: &str, requires: &[&str]) -> TestFile {
    let pkg_info = metadata_text(name, version, requires)
        .replace("Metadata-Version: 2.1", "Metadata-Version: 2.2");
    let root = format!("{name}-{version}");
    let bytes = sdist(
        &root,
        &[
            ("PKG-INFO", pkg_info.as_bytes()),
            ("pyproject.toml", b"[build-system]\nrequires = [\"flit_core >=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n"),
        ],
    );
    TestFile::new(&format!("{name}-{version}.tar.gz"), bytes)
}

async fn alpha_index(config: Config) -> TestIndex {
    let index = TestIndex::start(config).await.unwrap();
    index.add_file(
        "alpha",
        wheel_file(
            "alpha",
            "1.0",
            &["requests>=2", "idna ; extra == 'x'"],
            100_000,
        ),
    );
    index.add_file(
        "alpha",
        wheel_file("alpha", "2.0", &["Requests [Socks] >=2.1"], 100_000),
    );
    index.add_file("alpha", sdist_file("alpha", "2.0", &["requests>=2.1"]));
    index
}

fn file_requests(index: &TestIndex, suffix: &str) -> usize {
    index.count(|r| r.path.starts_with("/files/") && r.path.ends_with(suffix))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_index_with_pep658_sidecars() {
    let index = alpha_index(Config::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let s = sync(&path, options(&index.index_url(), &["Alpha", "alpha"])).await;
    assert_eq!(s.projects_checked, 1, "one project however it is spelled");
    assert_eq!(
        (
            s.files_added,
            s.metadata_pep658,
            s.metadata_download,
            s.files_failed
        ),
        (3, 2, 1, 0)
    );
    assert_eq!(
        file_requests(&index, ".whl"),
        0,
        "wheels must not be downloaded when sidecars exist"
    );
    assert_eq!(file_requests(&index, ".tar.gz"), 1);
    let c = db(&path);
    assert_eq!(
        methods(&c),
        [
            "alpha-1.0-py3-none-any.whl|pep658",
            "alpha-2.0-py3-none-any.whl|pep658",
            "alpha-2.0.tar.gz|download"
        ]
    );
    let reqs = strings(
        &c,
        "SELECT f.filename || ' ' || r.kind || ' ' || r.raw || ' -> ' || coalesce(r.canonical, 'ERR') FROM requirements r
         JOIN files f ON f.id = r.file_id ORDER BY f.filename, r.kind, r.position",
    );
    insta::assert_snapshot!(reqs.join("\n"));
    let row: (String, String, String, String, i64) = c
        .query_row(
            "SELECT kind, version, python_tags, platform_tags, length(sha256) FROM files WHERE filename = 'alpha-1.0-py3-none-any.whl'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        ("wheel".into(), "1.0".into(), "py3".into(), "any".into(), 32)
    );
    let (display, last, synced): (String, i64, i64) = c
        .query_row(
            "SELECT display_name, last_serial, synced_serial FROM projects WHERE name = 'alpha'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((display.as_str(), last), ("alpha", synced));
    assert_eq!(count(&c, "SELECT count(*) FROM file_errors"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_index_without_sidecars_uses_range_requests() {
    let config = Config {
        sidecars: false,
        html_only: true,
        ..Config::default()
    };
    let index = alpha_index(config).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let s = sync(&path, options(&index.index_url(), &["alpha"])).await;
    assert_eq!(
        (s.metadata_range, s.metadata_download, s.files_failed),
        (2, 1, 0)
    );
    // Sidecars are tried although not advertised, and their 404 is a clean fallback.
    assert_eq!(
        index.count(|r| r.path.ends_with(".metadata") && r.status == 404),
        2
    );
    let whl: Vec<_> = index
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(".whl"))
        .collect();
    assert!(
        whl.iter().all(|r| r.range.is_some() && r.status == 206),
        "{whl:?}"
    );
    // The 100 kB module is skipped: far fewer bytes than the wheels themselves.
    let sent: u64 = whl.iter().map(|r| r.bytes).sum();
    assert!(sent < 2 * 80_000, "range strategy transferred {sent} bytes");
    let c = db(&path);
    assert_eq!(methods(&c)[0], "alpha-1.0-py3-none-any.whl|range");
    assert_eq!(
        count(&c, "SELECT count(*) FROM requirements WHERE kind = 'dist'"),
        4
    );
    // The sdist was read from the archive: its [build-system] requirements are there.
    assert_eq!(
        strings(&c, "SELECT raw FROM requirements WHERE kind = 'build'"),
        ["flit_core >=3.2,<4"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_ignoring_range_gets_each_wheel_downloaded_once() {
    let config = Config::whole_files();
    let index = alpha_index(config).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let s = sync(&path, options(&index.index_url(), &["alpha"])).await;
    assert_eq!((s.metadata_download, s.files_failed), (3, 0));
    assert_eq!(
        file_requests(&index, ".whl"),
        2,
        "a 200 answer to a Range request must be used, not re-fetched"
    );
    assert!(methods(&db(&path)).iter().all(|m| m.ends_with("|download")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_fetches_only_what_changed() {
    let index = alpha_index(Config::default()).await;
    index.add_file("beta", wheel_file("beta", "1.0", &[], 10));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let first = sync(&path, options(&index.index_url(), &["alpha", "beta"])).await;
    assert_eq!((first.projects_changed, first.metadata_fetched()), (2, 4));

    index.clear_requests();
    let again = sync(&path, options(&index.index_url(), &["alpha", "beta"])).await;
    assert_eq!(
        (
            again.projects_changed,
            again.projects_unchanged,
            again.metadata_fetched()
        ),
        (0, 2, 0)
    );
    assert_eq!(
        index.count(|r| r.path.starts_with("/files/")),
        0,
        "an unchanged index costs page fetches only"
    );

    index.add_file("alpha", wheel_file("alpha", "3.0", &["six"], 10));
    index.set_yanked("alpha", "alpha-2.0-py3-none-any.whl", Some("broken"));
    index.remove_file("alpha", "alpha-1.0-py3-none-any.whl");
    index.clear_requests();
    let third = sync(&path, options(&index.index_url(), &["alpha", "beta"])).await;
    assert_eq!(
        (
            third.projects_changed,
            third.projects_unchanged,
            third.files_added,
            third.files_removed,
            third.files_yank_changed
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(third.metadata_fetched(), 1);
    let fetched: Vec<_> = index
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/files/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(fetched, ["/files/alpha-3.0-py3-none-any.whl.metadata"]);
    let c = db(&path);
    assert_eq!(
        strings(
            &c,
            "SELECT filename || ' ' || yanked || ' ' || coalesce(yanked_reason, '-') FROM files ORDER BY filename"
        ),
        [
            "alpha-2.0-py3-none-any.whl 1 broken",
            "alpha-2.0.tar.gz 0 -",
            "alpha-3.0-py3-none-any.whl 0 -",
            "beta-1.0-py3-none-any.whl 0 -"
        ]
    );
    // The removed file's metadata and requirements went with it (ON DELETE CASCADE).
    assert_eq!(count(&c, "SELECT count(*) FROM file_metadata"), 4);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM requirements WHERE file_id NOT IN (SELECT id FROM files)"
        ),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_sync_resumes_without_fetching_anything_twice() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let n = 40;
    for i in 0..n {
        index.add_file(
            "many",
            wheel_file("many", &format!("1.{i}"), &["dep>=1"], 10),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut opts = options(&index.index_url(), &["many"]);
    opts.concurrency = 1;
    let task = {
        let (path, opts) = (path.clone(), opts.clone());
        tokio::spawn(async move { sync(&path, opts).await })
    };
    while index.count(|r| r.path.ends_with(".metadata")) < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    // The sync's per-project tasks are aborted when its JoinSet drops; give them a moment to
    // reach their next await point, where cancellation takes effect.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let done = strings(
        &db(&path),
        "SELECT f.filename FROM files f JOIN file_metadata m ON m.file_id = f.id ORDER BY f.filename",
    );
    assert!(
        done.len() >= 9 && done.len() < n,
        "{} files done at the kill",
        done.len()
    );
    assert_eq!(
        count(
            &db(&path),
            "SELECT count(*) FROM projects WHERE synced_serial IS NOT NULL"
        ),
        0
    );

    index.clear_requests();
    let s = sync(&path, opts).await;
    assert_eq!(s.metadata_fetched() as usize, n - done.len());
    let refetched: Vec<_> = index
        .requests()
        .into_iter()
        .filter(|r| {
            done.iter()
                .any(|f| r.path == format!("/files/{f}.metadata"))
        })
        .collect();
    assert!(
        refetched.is_empty(),
        "fetched again after resuming: {refetched:?}"
    );
    let c = db(&path);
    assert_eq!(count(&c, "SELECT count(*) FROM file_metadata") as usize, n);
    assert_eq!(count(&c, "SELECT count(*) FROM requirements") as usize, n);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM projects WHERE synced_serial = last_serial"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_deps_crawls_the_closure_but_not_extras() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file(
        "app",
        wheel_file("app", "1.0", &["lib-a>=1", "optional ; extra == 'opt'"], 10),
    );
    index.add_file(
        "lib-a",
        wheel_file("lib_a", "1.0", &["Lib.B ; python_version >= '3.8'"], 10),
    );
    index.add_file("lib-b", sdist_file("lib_b", "1.0", &[]));
    index.add_file("flit-core", wheel_file("flit_core", "3.9", &[], 10));
    index.add_file("optional", wheel_file("optional", "1.0", &[], 10));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut opts = options(&index.index_url(), &["app"]);
    opts.follow_deps = true;
    let s = sync(&path, opts).await;
    assert_eq!(s.projects_checked, 4);
    assert_eq!(
        strings(&db(&path), "SELECT name FROM projects ORDER BY name"),
        ["app", "flit-core", "lib-a", "lib-b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_since_skips_old_files_and_all_lists_the_root() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let mut old = wheel_file("p", "0.1", &[], 10);
    old.upload_time = Some("2019-05-01T10:00:00.000000Z".into());
    let mut new = wheel_file("p", "0.2", &[], 10);
    new.upload_time = Some("2024-05-01T10:00:00.000000Z".into());
    index.add_file("p", old);
    index.add_file("p", new);
    index.add_file("q", wheel_file("q", "1.0", &[], 10));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut opts = options(&index.index_url(), &[]);
    opts.selection = crawler::sync::Selection::All;
    opts.uploaded_since = crawler::simple::parse_timestamp("2023-01-01");
    let s = sync(&path, opts.clone()).await;
    assert_eq!(
        (s.projects_checked, s.files_added, s.files_skipped_old),
        (2, 2, 1)
    );
    let c = db(&path);
    assert_eq!(
        strings(&c, "SELECT filename FROM files ORDER BY filename"),
        ["p-0.2-py3-none-any.whl", "q-1.0-py3-none-any.whl"]
    );
    assert_eq!(
        count(
            &c,
            "SELECT upload_time FROM files WHERE filename LIKE 'p-%'"
        ),
        1_714_557_600
    );
    // --keep-releases keeps the newest release of a project with no recent uploads.
    let mut keep = options(&index.index_url(), &["p"]);
    keep.uploaded_since = crawler::simple::parse_timestamp("2025-01-01");
    keep.keep_releases = 1;
    let kept = dir.path().join("k.sqlite");
    let s = sync(&kept, keep.clone()).await;
    assert_eq!((s.files_added, s.files_skipped_old), (1, 1));
    assert_eq!(
        strings(&db(&kept), "SELECT filename FROM files"),
        ["p-0.2-py3-none-any.whl"]
    );
    // With --all the root page's serials let unchanged projects skip their page entirely.
    index.clear_requests();
    let again = sync(&path, opts).await;
    assert_eq!(again.projects_unchanged, 2);
    assert_eq!(
        index.count(|r| r.path != "/simple/"),
        0,
        "{:?}",
        index.requests()
    );
    // A newer pre-release does not count towards --keep-releases: 0.2 stays.
    let mut pre = wheel_file("p", "0.3.dev1", &[], 10);
    pre.upload_time = Some("2024-06-01T10:00:00.000000Z".into());
    index.add_file("p", pre);
    let fresh = dir.path().join("k2.sqlite");
    let s = sync(&fresh, keep).await;
    assert_eq!((s.files_added, s.files_skipped_old), (1, 2));
    assert_eq!(
        strings(&db(&fresh), "SELECT filename FROM files"),
        ["p-0.2-py3-none-any.whl"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirected_pages_resolve_links_against_their_final_url() {
    let index = alpha_index(Config::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut opts = options(&index.moved_index_url(), &[]);
    opts.selection = crawler::sync::Selection::All;
    let s = sync(&path, opts).await;
    assert_eq!(
        (s.projects_checked, s.metadata_fetched(), s.files_failed),
        (1, 3, 0)
    );
    assert_eq!(
        index.count(|r| r.status == 301),
        2,
        "root and project page redirected"
    );
    let urls = strings(&db(&path), "SELECT url FROM files ORDER BY url");
    assert!(
        urls.iter().all(|u| u.starts_with(&index.file_url(""))),
        "{urls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unadvertised_sidecars_are_given_up_and_picked_up_again() {
    let index = TestIndex::start(Config {
        advertise_sidecars: false,
        ..Config::default()
    })
    .await
    .unwrap();
    // Files sort by name: the first 80 have no sidecar, the next 100 do.
    for i in 0..180 {
        let mut f = wheel_file("mixed", &format!("{i:03}"), &[], 10);
        if i < 80 {
            f.metadata = None;
        }
        index.add_file("mixed", f);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut opts = options(&index.index_url(), &["mixed"]);
    opts.concurrency = 1;
    let s = sync(&path, opts).await;
    assert_eq!(s.files_failed, 0);
    // 50 misses give up; the 80 sidecar-less files are read by range; a re-probe within 32
    // files of the first sidecar turns probing back on.
    assert!(
        s.metadata_range >= 80 && s.metadata_range < 80 + 32,
        "{s:?}"
    );
    assert_eq!(s.metadata_pep658 + s.metadata_range, 180);
    let probes = index.count(|r| r.path.ends_with(".metadata") && r.status == 404);
    assert!(probes < 80, "stopped probing: {probes} misses");
}

/// A project whose page later answers 404 is marked removed, keeps its files (history) and
/// is left out of coverage; a page that comes back clears the mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_gone_from_the_index_is_marked_removed() {
    let index = alpha_index(Config::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    sync(&path, options(&index.index_url(), &["alpha"])).await;
    index.remove_project("alpha");
    let s = sync(&path, options(&index.index_url(), &["alpha"])).await;
    assert_eq!(s.projects_missing, ["alpha"]);
    let c = db(&path);
    let (removed, files): (bool, i64) = c
        .query_row(
            "SELECT p.removed_at IS NOT NULL, (SELECT count(*) FROM files f WHERE f.project_id = p.id)
             FROM projects p WHERE p.name = 'alpha'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(removed);
    assert_eq!(files, 3, "history kept");
    let cov = crawler::coverage::compute(&c).unwrap();
    assert!(
        cov.by_kind_year.is_empty(),
        "removed projects are not covered"
    );
    drop(c);
    let index2 = alpha_index(Config::default()).await;
    sync(&path, options(&index2.index_url(), &["alpha"])).await;
    let removed: bool = db(&path)
        .query_row(
            "SELECT removed_at IS NOT NULL FROM projects WHERE name = 'alpha'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!removed);
}
