//! Real files downloaded from PyPI (crawler/tests/fixtures/pypi/) served by the loopback index:
//! every strategy must read the same requirements from the same wheel, and sdists of every
//! era must be understood.

mod common;

use common::*;
use crawler::testindex::{Config, TestFile, TestIndex};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/pypi/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn real_index(config: Config) -> TestIndex {
    let index = TestIndex::start(config).await.unwrap();
    let whl = "requests-2.31.0-py3-none-any.whl";
    index.add_file(
        "requests",
        TestFile::new(whl, fixture(whl)).with_metadata(fixture(&format!("{whl}.metadata"))),
    );
    index.add_file(
        "requests",
        TestFile::new("requests-2.18.4.tar.gz", fixture("requests-2.18.4.tar.gz")),
    );
    index.add_file(
        "httpx",
        TestFile::new(
            "httpx-0.27.0-py3-none-any.whl",
            fixture("httpx-0.27.0-py3-none-any.whl"),
        ),
    );
    index.add_file(
        "flask",
        TestFile::new("Flask-0.10.1.tar.gz", fixture("Flask-0.10.1.tar.gz")),
    );
    index
}

fn requirement_rows(path: &std::path::Path) -> Vec<String> {
    strings(
        &db(path),
        "SELECT f.filename || ' ' || r.kind || ' ' || coalesce(r.canonical, 'ERR ' || r.raw) FROM requirements r
         JOIN files f ON f.id = r.file_id ORDER BY f.filename, r.kind, r.position",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sidecar_range_and_download_agree_on_real_wheels() {
    let mut results = Vec::new();
    for (config, method) in [
        (Config::default(), "pep658"),
        (
            Config {
                sidecars: false,
                ..Config::default()
            },
            "range",
        ),
        (Config::whole_files(), "download"),
    ] {
        let index = real_index(config).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let s = sync(
            &path,
            options(&index.index_url(), &["requests", "httpx", "flask"]),
        )
        .await;
        assert_eq!((s.files_added, s.files_failed), (4, 0), "{method}");
        let m = methods(&db(&path));
        assert!(
            m.contains(&format!("requests-2.31.0-py3-none-any.whl|{method}")),
            "{m:?}"
        );
        results.push(requirement_rows(&path));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
    let rows = &results[0];
    // Known facts, checked against the projects' own metadata on pypi.org.
    for want in [
        "requests-2.31.0-py3-none-any.whl dist urllib3>=1.21.1,<3",
        "requests-2.18.4.tar.gz dist idna>=2.5,<2.7",
        "httpx-0.27.0-py3-none-any.whl dist httpcore==1.*",
        "Flask-0.10.1.tar.gz dist werkzeug>=0.7",
        "Flask-0.10.1.tar.gz build setuptools>=40.8.0",
    ] {
        assert!(
            rows.iter().any(|r| r == want),
            "missing {want:?} in {rows:#?}"
        );
    }
    insta::assert_snapshot!(rows.join("\n"));
}
