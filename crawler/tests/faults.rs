//! Fault injection: misbehaving servers and hostile files must end as recorded per-file errors
//! (or clean retries), never as a panic, a stopped crawl, or a corrupt state.

mod common;

use std::time::{Duration, Instant};

use common::*;
use crawler::testindex::{
    Config, Fault, TestFile, TestIndex, ZipEntry, metadata_text, sdist, wheel, zip,
};

fn plain_wheel(name: &str, version: &str) -> TestFile {
    let meta = metadata_text(name, version, &[]);
    TestFile::new(
        &format!("{name}-{version}-py3-none-any.whl"),
        wheel(name, version, meta.as_bytes(), 10),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_429_with_retry_after_and_cut_connections() {
    let index = TestIndex::start(Config::whole_files()).await.unwrap();
    let mut slow = plain_wheel("slow", "1.0");
    slow.fault = Fault::TooManyRequests {
        times: 2,
        retry_after: 1,
    };
    let mut cut = plain_wheel("cut", "1.0");
    cut.fault = Fault::CutConnection { times: 2 };
    index.add_file("slow", slow);
    index.add_file("cut", cut);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let started = Instant::now();
    let s = sync(&path, options(&index.index_url(), &["slow", "cut"])).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After: 1 twice must wait ≥ 2 s"
    );
    assert_eq!((s.metadata_fetched(), s.files_failed), (2, 0));
    assert_eq!(s.retries, 4);
    assert_eq!(
        index.count(|r| r.path == "/files/slow-1.0-py3-none-any.whl" && r.status == 429),
        2
    );
    assert_eq!(
        index.count(|r| r.path == "/files/cut-1.0-py3-none-any.whl"),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_429_becomes_a_recorded_fetch_error() {
    let index = TestIndex::start(Config {
        sidecars: false,
        ..Config::default()
    })
    .await
    .unwrap();
    let mut storm = plain_wheel("storm", "1.0");
    storm.fault = Fault::TooManyRequests {
        times: 1000,
        retry_after: 0,
    };
    index.add_file("storm", storm);
    index.add_file("storm", plain_wheel("storm", "2.0"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let s = sync(&path, options(&index.index_url(), &["storm"])).await;
    assert_eq!((s.metadata_fetched(), s.files_failed), (1, 1));
    let c = db(&path);
    let (stage, msg, attempts): (String, String, i64) = c
        .query_row(
            "SELECT stage, message, attempts FROM file_errors",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((stage.as_str(), attempts), ("fetch", 1));
    assert!(
        msg.contains("HTTP 429") && msg.contains("after 4 attempts"),
        "{msg}"
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM projects WHERE synced_serial IS NULL"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_skipped_until_retry_failed() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let mut bad = TestFile::new(
        "bad-1.0.tar.gz",
        sdist("bad-1.0", &[("PKG-INFO", b"Name: bad\nVersion: 1.0\n")]),
    );
    bad.listed_sha256 = Some([7; 32]);
    index.add_file("bad", bad);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    for attempt in 1..=3 {
        let s = sync(&path, options(&index.index_url(), &["bad"])).await;
        assert_eq!(s.files_failed, 1, "attempt {attempt}");
        let (stage, attempts): (String, i64) = db(&path)
            .query_row("SELECT stage, attempts FROM file_errors", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((stage.as_str(), attempts), ("hash", attempt));
    }
    index.clear_requests();
    let s = sync(&path, options(&index.index_url(), &["bad"])).await;
    assert_eq!((s.files_failed, s.files_skipped_failed), (0, 1));
    assert_eq!(index.count(|r| r.path.starts_with("/files/")), 0);
    let mut opts = options(&index.index_url(), &["bad"]);
    opts.retry_failed = true;
    let s = sync(&path, opts).await;
    assert_eq!((s.files_failed, s.files_skipped_failed), (1, 0));
    assert_eq!(count(&db(&path), "SELECT attempts FROM file_errors"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_in_unknown_format_fails_only_that_project() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file("good", plain_wheel("good", "1.0"));
    index.add_file("weird", plain_wheel("weird", "1.0"));
    index.override_page("weird", "text/plain", b"this is not an index page");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let s = sync(
        &path,
        options(&index.index_url(), &["good", "weird", "absent"]),
    )
    .await;
    assert_eq!(s.projects_failed, ["weird"]);
    assert_eq!(s.projects_missing, ["absent"]);
    assert_eq!(s.metadata_fetched(), 1);
    assert_eq!(strings(&db(&path), "SELECT name FROM projects"), ["good"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advertised_sidecar_with_wrong_hash_falls_back_to_the_verified_wheel() {
    let index = TestIndex::start(Config {
        range: false,
        ..Config::default()
    })
    .await
    .unwrap();
    let meta = metadata_text("liar", "1.0", &["real-dep"]);
    let mut f = TestFile::new(
        "liar-1.0-py3-none-any.whl",
        wheel("liar", "1.0", meta.as_bytes(), 10),
    );
    // The sidecar is served, but its content differs from what the page's hash describes.
    f.metadata = Some(
        metadata_text("liar", "1.0", &["fake-dep"])
            .into_bytes()
            .into(),
    );
    index.add_file("liar", f);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    // A page advertising a sidecar hash that the served sidecar does not have.
    let page = format!(
        "<a href=\"/files/liar-1.0-py3-none-any.whl\" data-core-metadata=\"sha256={}\">liar-1.0-py3-none-any.whl</a>",
        "00".repeat(32)
    );
    index.override_page("liar", "text/html", page.as_bytes());
    let s = sync(&path, options(&index.index_url(), &["liar"])).await;
    assert_eq!(
        (s.metadata_download, s.metadata_pep658, s.files_failed),
        (1, 0, 0)
    );
    assert_eq!(
        strings(&db(&path), "SELECT raw FROM requirements"),
        ["real-dep"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_are_recorded_errors_and_the_crawl_goes_on() {
    let index = TestIndex::start(Config {
        sidecars: true,
        range: false,
        ..Config::default()
    })
    .await
    .unwrap();
    // Zip bomb: METADATA inflates to 64 MiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip(&[ZipEntry {
        name: "bomb-1.0.dist-info/METADATA",
        data: &zeros,
        deflate: true,
    }]);
    index.add_file("hostile", TestFile::new("bomb-1.0-py3-none-any.whl", bomb));
    // Truncated archive.
    let mut whole = wheel(
        "trunc",
        "1.0",
        metadata_text("trunc", "1.0", &[]).as_bytes(),
        10,
    );
    whole.truncate(whole.len() / 2);
    index.add_file(
        "hostile",
        TestFile::new("trunc-1.0-py3-none-any.whl", whole),
    );
    // Tar with a `..` member.
    let evil = sdist(
        "evil-1.0",
        &[(
            "../evil-1.0/PKG-INFO",
            b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
        )],
    );
    index.add_file("hostile", TestFile::new("evil-1.0.tar.gz", evil));
    // Huge sidecar.
    let huge = format!(
        "{}Summary: {}\n",
        metadata_text("huge", "1.0", &[]),
        "x".repeat(5 << 20)
    );
    index.add_file("hostile", plain_wheel("huge", "1.0").with_metadata(huge));
    // Non-UTF-8 metadata.
    let mut latin1 = metadata_text("latin", "1.0", &["dep"]).into_bytes();
    latin1.extend_from_slice(b"Author: Fran\xe7ois\n");
    index.add_file("hostile", plain_wheel("latin", "1.0").with_metadata(latin1));
    // Malformed requirement strings are kept raw with their parse error.
    index.add_file(
        "hostile",
        plain_wheel("odd", "1.0").with_metadata(metadata_text(
            "odd",
            "1.0",
            &["ok>=1", "1. >= 1", "foo-"],
        )),
    );
    index.add_file("hostile", plain_wheel("fine", "1.0"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let s = sync(&path, options(&index.index_url(), &["hostile"])).await;
    let c = db(&path);
    let errors = strings(
        &c,
        "SELECT f.filename || ' ' || e.stage FROM file_errors e JOIN files f ON f.id = e.file_id ORDER BY 1",
    );
    assert_eq!(
        errors,
        [
            "bomb-1.0-py3-none-any.whl archive",
            "evil-1.0.tar.gz archive",
            "huge-1.0-py3-none-any.whl metadata",
            "trunc-1.0-py3-none-any.whl archive"
        ]
    );
    assert_eq!(s.files_failed, 4);
    let ok = strings(
        &c,
        "SELECT f.filename FROM files f JOIN file_metadata m ON m.file_id = f.id ORDER BY 1",
    );
    assert_eq!(
        ok,
        [
            "fine-1.0-py3-none-any.whl",
            "latin-1.0-py3-none-any.whl",
            "odd-1.0-py3-none-any.whl"
        ]
    );
    let odd = strings(
        &c,
        "SELECT r.raw || ' | ' || coalesce(r.canonical, 'NULL') || ' | ' || (r.error IS NOT NULL) FROM requirements r
         JOIN files f ON f.id = r.file_id WHERE f.filename LIKE 'odd-%' ORDER BY r.position",
    );
    assert_eq!(
        odd,
        ["ok>=1 | ok>=1 | 0", "1. >= 1 | NULL | 1", "foo- | NULL | 1"]
    );
    assert_eq!(
        strings(
            &c,
            "SELECT r.raw FROM requirements r JOIN files f ON f.id = r.file_id WHERE f.filename LIKE 'latin-%'"
        ),
        ["dep"]
    );
}

#[test]
fn refuses_a_state_of_another_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    drop(crawler::state::State::open(&path).unwrap());
    db(&path)
        .execute(
            "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let err = crawler::state::State::open(&path)
        .err()
        .expect("must refuse");
    let msg = err.to_string();
    assert!(
        msg.contains("schema version \"3\"") && msg.contains("s.sqlite"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_spaces_requests_and_user_agent_is_sent() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file("p", plain_wheel("p", "1.0"));
    let http = crawler::http::Http::new(crawler::http::HttpConfig {
        concurrency: 8,
        rate_limit: Some(20.0),
        ..crawler::http::HttpConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let url = index.file_url("p-1.0-py3-none-any.whl");
    let gets: Vec<_> = (0..11).map(|_| http.get(&url, &[], 1 << 20)).collect();
    for r in futures::future::join_all(gets).await {
        assert_eq!(r.unwrap().status, 200);
    }
    // 11 requests at 20/s: the last one starts 10 intervals (500 ms) after the first.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(490) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let agents: Vec<_> = index.requests().into_iter().map(|r| r.user_agent).collect();
    assert_eq!(agents.len(), 11);
    assert!(
        agents
            .iter()
            .all(|a| a.as_deref() == Some(crawler::http::USER_AGENT)),
        "{agents:?}"
    );
    assert!(crawler::http::USER_AGENT.starts_with("pinion-crawler/0.1.0 (+https://"));
}
