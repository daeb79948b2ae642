//! Opt-in crawl of a few real projects on pypi.org (`cargo test -p crawler --test pypi -- --ignored`).

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "hits pypi.org"]
async fn crawls_known_projects_from_pypi() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    // Small projects in full, including the setup.py-only simplegeneric (last upload 2012).
    let s = sync(
        &path,
        options("https://pypi.org/simple/", &["six", "simplegeneric"]),
    )
    .await;
    assert_eq!(s.files_failed, 0, "{s:?}");
    // setuptools alone has thousands of files; recent uploads are enough here.
    let mut opts = options(
        "https://pypi.org/simple/",
        &["requests", "flask", "setuptools"],
    );
    opts.uploaded_since = crawler::simple::parse_timestamp("2024-06-01");
    let s = sync(&path, opts).await;
    assert_eq!(s.files_failed, 0, "{s:?}");
    assert!(s.metadata_pep658 > 0, "pypi.org serves PEP 658 sidecars");
    let c = db(&path);
    let rows = strings(
        &c,
        "SELECT f.filename || ' ' || r.kind || ' ' || coalesce(r.canonical, '') FROM requirements r
         JOIN files f ON f.id = r.file_id",
    );
    for want in [
        "requests-2.32.4-py3-none-any.whl dist charset-normalizer>=2,<4",
        "flask-3.1.0-py3-none-any.whl dist werkzeug>=3.1",
        "simplegeneric-0.8.1.zip build setuptools>=40.8.0",
    ] {
        assert!(rows.iter().any(|r| r == want), "missing {want:?}");
    }
    // simplegeneric declares no dependencies; its setup.py says so statically.
    let src: String = c
        .query_row(
            "SELECT coalesce(m.requires_dist_source, 'unknown') FROM file_metadata m JOIN files f ON f.id = m.file_id
             WHERE f.filename = 'simplegeneric-0.8.1.zip'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(src, "setup.py-static");
    assert!(
        count(
            &c,
            "SELECT count(*) FROM files WHERE filename LIKE 'six-1.%'"
        ) > 30
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM projects WHERE synced_serial = last_serial"
        ),
        5
    );
}
