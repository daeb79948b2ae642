//! One crawl → DB → resolution, through the real components and a real HTTP index on
//! 127.0.0.1: what the crawler records is what the resolver decides on.

use std::path::Path;
use std::time::Duration;

use crawler::http::{Http, HttpConfig};
use crawler::state::State;
use crawler::sync::SyncOptions;
use crawler::testindex::{Config, TestFile, TestIndex, metadata_text, sdist, sync_options, wheel};
use pinion_db::{Database, ShardSet};
use resolver::providers::{Nixpkgs, Providers};
use resolver::requirements::RequirementSet;
use resolver::solve::Options;
use resolver::source::db::DbSource;
use resolver::target::Target;

fn wheel_file(
    name: &str,
    version: &str,
    requires: &[&str],
    requires_python: Option<&str>,
) -> TestFile {
    let mut meta = metadata_text(name, version, requires);
    if let Some(rp) = requires_python {
        meta += &format!("Requires-Python: {rp}\n");
    }
    let bytes = wheel(name, version, meta.as_bytes(), 0);
    let mut f = TestFile::new(
        &format!("{}-{version}-py3-none-any.whl", name.replace('-', "_")),
        bytes,
    )
    .with_metadata(meta);
    f.requires_python = requires_python.map(str::to_string);
    f.upload_time = Some("2025-06-01T00:00:00.000000Z".into());
    f
}

async fn crawl(index: &TestIndex, state: &Path) {
    let opts = SyncOptions {
        follow_deps: true,
        ..sync_options(&index.index_url(), &["App"])
    };
    let http = Http::new(HttpConfig {
        timeout: Duration::from_secs(20),
        ..HttpConfig::default()
    })
    .unwrap();
    let summary = crawler::sync::sync(State::open(state).unwrap(), http, opts)
        .await
        .unwrap();
    assert_eq!(summary.files_failed, 0, "{}", summary.render());
}

fn resolve(
    db: &Database,
    shards: &[Vec<u8>],
    requirements: &str,
    python: &str,
) -> serde_json::Value {
    resolve_with_warnings(db, shards, requirements, python).0
}

fn resolve_with_warnings(
    db: &Database,
    shards: &[Vec<u8>],
    requirements: &str,
    python: &str,
) -> (serde_json::Value, Vec<String>) {
    let mut reqs = RequirementSet::default();
    reqs.add_text(Path::new("requirements.txt"), requirements, false)
        .unwrap();
    let opts = Options {
        target: Target::new(python, "x86_64-linux", None, None).unwrap(),
        providers: Providers::default(),
        nixpkgs: Nixpkgs::default(),
        exclude_newer: None,
    };
    let mut set = ShardSet::new();
    for (i, bytes) in (0u32..).zip(shards) {
        set.add(db, i, bytes).unwrap();
    }
    let index = DbSource::new(db)
        .with_sha256(db.sha256_hex())
        .with_shards(set);
    match resolver::resolve(&index, &reqs, &opts) {
        Ok(outcome) => (outcome.lock, outcome.warnings),
        Err(e) => panic!("resolution failed: {e}"),
    }
}

fn pins(lock: &serde_json::Value) -> Vec<String> {
    let packages = lock["packages"].as_object().unwrap();
    packages
        .values()
        .map(|p| {
            format!(
                "{}=={} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["provider"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_build_resolve() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file(
        "app",
        wheel_file(
            "app",
            "1.0",
            &["Lib>=2", "tool", "extra-only ; extra == 'x'"],
            None,
        ),
    );
    index.add_file("lib", wheel_file("lib", "1.0", &[], None));
    index.add_file("lib", wheel_file("lib", "2.0", &[], Some(">=3.8")));
    index.add_file("lib", wheel_file("lib", "3.0", &[], Some(">=3.13")));
    // An sdist-only project: its [build-system] requirement must come out as a build input.
    let pyproject = b"[build-system]\nrequires = [\"flit_core>=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n";
    let pkg_info = "Metadata-Version: 2.2\nName: tool\nVersion: 0.5\nRequires-Dist: lib\n";
    index.add_file(
        "tool",
        TestFile::new(
            "tool-0.5.tar.gz",
            sdist(
                "tool-0.5",
                &[
                    ("PKG-INFO", pkg_info.as_bytes()),
                    ("pyproject.toml", pyproject),
                ],
            ),
        ),
    );
    index.add_file("flit-core", wheel_file("flit-core", "3.9.0", &[], None));

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("crawl.sqlite");
    crawl(&index, &state).await;
    let built = dbgen::build(&state, Some(1_767_225_600), None).unwrap();
    let db = Database::from_bytes(built.db.clone()).unwrap();
    db.verify().unwrap();
    db.verify_shard_bytes(&built.shards).unwrap();
    // --follow-deps reached every project, including the build requirement's; not the extra's.
    let names: Vec<&str> = db.projects().map(|p| p.name()).collect();
    assert_eq!(names, ["app", "flit-core", "lib", "tool"]);

    // requires-python decides between lib 2.0 and 3.0.
    let lock = resolve(&db, &built.shards, "app\n", "3.11.7");
    assert_eq!(
        pins(&lock),
        [
            "app==1.0 wheel",
            "flit-core==3.9.0 wheel",
            "lib==2.0 wheel",
            "tool==0.5 sdist"
        ]
    );
    assert_eq!(lock["packages"]["tool"]["format"], "pyproject");
    assert_eq!(
        lock["packages"]["tool"]["build_dependencies"],
        serde_json::json!(["flit-core"])
    );
    assert_eq!(
        lock["packages"]["app"]["dependencies"],
        serde_json::json!(["lib", "tool"])
    );
    let lock313 = resolve(&db, &built.shards, "app\n", "3.13.1");
    assert_eq!(lock313["packages"]["lib"]["version"], "3.0");

    // The lock names the DB it came from, and a second build of the same state is identical.
    assert_eq!(lock["db"]["sha256"], db.sha256_hex());
    assert_eq!(
        dbgen::build(&state, Some(1_767_225_600), None)
            .unwrap()
            .tarball,
        built.tarball
    );
    assert_eq!(resolve(&db, &built.shards, "app\n", "3.11.7"), lock);
}

/// A requirement string that does not parse (seen on PyPI: `'setuptools>=45.0.0'` with its
/// quotes) makes the set partial all the way: crawl state row with the error, a partial
/// metadata record listing the string in the DB, a resolver warning naming package and
/// string, and `requirements_known: false` in the lock. Before issue 13 the row was dropped
/// with only a count and the lock said `requirements_known: true`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_requirement_is_partial_end_to_end() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file(
        "app",
        wheel_file("app", "1.0", &["lib", "'setuptools>=45.0.0'"], None),
    );
    index.add_file("lib", wheel_file("lib", "1.0", &[], None));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("crawl.sqlite");
    crawl(&index, &state).await;
    let (raw, error): (String, Option<String>) = State::open(&state)
        .unwrap()
        .connection()
        .query_row(
            "SELECT raw, error FROM requirements WHERE canonical IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(raw, "'setuptools>=45.0.0'");
    assert!(error.is_some());

    let built = dbgen::build(&state, Some(1_767_225_600), None).unwrap();
    assert_eq!(built.load.partial_requirements, 1);
    assert_eq!(built.write.partial_metadata, 1);
    let db = Database::from_bytes(built.db.clone()).unwrap();
    db.verify().unwrap();
    let app = db.project("app").unwrap();
    let release = app.releases().next().unwrap();
    let meta = release.files().next().unwrap().metadata();
    assert!(meta.is_partial());
    assert_eq!(
        meta.unparsed().collect::<Vec<_>>(),
        ["'setuptools>=45.0.0'"]
    );

    let (lock, warnings) = resolve_with_warnings(&db, &built.shards, "app\n", "3.11.7");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("app 1.0:") && w.contains("'setuptools>=45.0.0'")),
        "{warnings:?}"
    );
    assert_eq!(lock["packages"]["app"]["requirements_known"], false);
    assert_eq!(
        lock["packages"]["app"]["unparsed_requirements"],
        serde_json::json!(["'setuptools>=45.0.0'"])
    );
    // What did parse is still locked.
    assert_eq!(
        lock["packages"]["app"]["dependencies"],
        serde_json::json!(["lib"])
    );
    assert_eq!(lock["packages"]["lib"]["requirements_known"], true);
}
