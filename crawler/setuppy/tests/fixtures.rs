//! Real old sdists from PyPI (see fixtures/SOURCES.md) whose requirements are known, run in
//! the sandbox; plus recording into the crawl-state schema.

mod common;

use std::path::{Path, PathBuf};

use common::{config, sdist, single};
use pinion_setuppy::{
    Recorded, Run, RunError, RunErrorKind, merge_runs, record, run_many, run_setup_py,
};
use rusqlite::Connection;

fn fixture(name: &str) -> (String, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    (
        name.to_string(),
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
}

const FIXTURES: [&str; 8] = [
    "isort-4.3.4.tar.gz",
    "jsonpatch-1.16.tar.gz",
    "jsonschema-2.6.0.tar.gz",
    "mock-2.0.0.tar.gz",
    "pathlib2-2.3.0.tar.gz",
    "pickleshare-0.7.4.tar.gz",
    "singledispatch-3.4.0.3.tar.gz",
    "unittest2-1.1.0.tar.gz",
];

#[test]
fn records_known_requirements_of_real_sdists() {
    let Some(cfg) = config() else { return };
    let jobs: Vec<_> = FIXTURES.iter().map(|f| fixture(f)).collect();
    let results = run_many(jobs, &cfg, 2);
    let by_name = |name: &str| -> Result<Recorded, RunError> {
        let index = FIXTURES.iter().position(|f| *f == name).unwrap();
        single(results[index].as_ref().unwrap().clone()).outcome
    };

    let isort = by_name("isort-4.3.4.tar.gz").unwrap();
    assert_eq!(
        isort.install_requires,
        Vec::<String>::new(),
        "futures is Python 2 only"
    );
    assert_eq!(
        isort.extras_require[":python_version==\"2.7\""],
        ["futures"]
    );
    assert_eq!(
        isort.python_requires.as_deref(),
        Some(">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*")
    );
    assert_eq!(isort.tests_require, ["pytest", "mock"]);

    // Read from requirements.txt at run time.
    assert_eq!(
        by_name("jsonpatch-1.16.tar.gz").unwrap().install_requires,
        ["jsonpointer>=1.9"]
    );

    let jsonschema = by_name("jsonschema-2.6.0.tar.gz").unwrap();
    assert_eq!(jsonschema.setup_requires, ["vcversioner>=2.16.0.0"]);
    assert_eq!(
        jsonschema.extras_require["format"],
        ["rfc3987", "strict-rfc3339", "webcolors"]
    );
    assert_eq!(
        jsonschema.extras_require[":python_version=='2.7'"],
        ["functools32"]
    );

    let mock = by_name("mock-2.0.0.tar.gz").unwrap_err();
    assert_eq!(
        mock.kind,
        RunErrorKind::Unsupported,
        "pbr computes the requirements; never claim none"
    );

    let pathlib2 = by_name("pathlib2-2.3.0.tar.gz").unwrap();
    assert_eq!(pathlib2.install_requires, ["six"]);
    assert_eq!(
        pathlib2.extras_require[":python_version<\"3.5\""],
        ["scandir"]
    );

    let pickleshare = by_name("pickleshare-0.7.4.tar.gz").unwrap();
    assert_eq!(
        pickleshare.extras_require[":python_version in \"2.6 2.7 3.2 3.3\""],
        ["pathlib2"]
    );

    let singledispatch = by_name("singledispatch-3.4.0.3.tar.gz").unwrap();
    assert_eq!(singledispatch.install_requires, ["six"]);
    assert_eq!(singledispatch.name.as_deref(), Some("singledispatch"));
    assert_eq!(singledispatch.version.as_deref(), Some("3.4.0.3"));

    // `REQUIRES = [...],` makes a tuple holding the list; setuptools flattens it, so do we.
    let unittest2 = by_name("unittest2-1.1.0.tar.gz").unwrap();
    assert_eq!(
        unittest2.install_requires,
        ["argparse", "six>=1.4", "traceback2"]
    );
    assert_eq!(unittest2.setup_requires, unittest2.install_requires);
    assert_eq!(
        unittest2.version, None,
        "its lazy version object imports the uninstalled traceback2"
    );

    // User-visible merged output, pinned; the interpreter version depends on the machine.
    let merged: Vec<_> = FIXTURES
        .iter()
        .zip(&results)
        .map(|(name, result)| {
            let mut merged = serde_json::json!(merge_runs(result.as_ref().unwrap()));
            if let Some(fields) = merged.as_object_mut() {
                fields.remove("pythons");
            }
            serde_json::json!({ "sdist": name, "merged": merged })
        })
        .collect();
    insta::assert_snapshot!(
        "merged_python3",
        serde_json::to_string_pretty(&merged).unwrap()
    );
}

#[test]
fn results_are_deterministic() {
    let Some(cfg) = config() else { return };
    let (name, bytes) = fixture("jsonschema-2.6.0.tar.gz");
    let first = serde_json::to_string(&run_setup_py(&name, &bytes, &cfg).unwrap()).unwrap();
    let second = serde_json::to_string(&run_setup_py(&name, &bytes, &cfg).unwrap()).unwrap();
    assert_eq!(first, second);
}

/// A Python 2 interpreter, when the machine has one (pyenv or the distribution).
fn python2() -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from("/usr/bin/python2.7")];
    if let Ok(dir) = std::fs::read_dir("/root/.pyenv/versions") {
        let mut versions: Vec<_> = dir
            .flatten()
            .map(|e| e.path().join("bin/python2.7"))
            .collect();
        versions.sort();
        candidates.extend(versions);
    }
    candidates.into_iter().find(|p| p.is_file())
}

#[test]
fn interpreters_that_disagree_get_python_version_markers() {
    let Some(mut cfg) = config() else { return };
    let Some(py2) = python2() else {
        eprintln!(
            "SKIPPED: no Python 2.7 interpreter on this machine; the merge logic is unit-tested in merge.rs"
        );
        return;
    };
    cfg.pythons = vec![PathBuf::from("/usr/bin/python3"), py2];
    let (name, bytes) = fixture("isort-4.3.4.tar.gz");
    let runs = run_setup_py(&name, &bytes, &cfg).unwrap();
    assert_eq!(runs[0].python, "2.7", "runs are ordered by version");
    assert_eq!(
        runs[0].outcome.as_ref().unwrap().install_requires,
        ["futures"]
    );
    let merged = merge_runs(&runs).unwrap();
    assert_eq!(merged.requires_dist, ["futures; python_version == \"2.7\""]);
    assert_eq!(merged.pythons[0], "2.7");
}

fn crawl_db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(include_str!("../../schema.sql"))
        .unwrap();
    conn.execute_batch(
        "INSERT INTO projects (id, name, display_name) VALUES (1, 'jsonschema', 'jsonschema');
         INSERT INTO files (id, project_id, filename, url, version, kind)
           VALUES (7, 1, 'jsonschema-2.6.0.tar.gz', 'https://example/j.tar.gz', '2.6.0', 'sdist');",
    )
    .unwrap();
    conn
}

fn requirement_rows(conn: &Connection) -> Vec<(String, i64, String, Option<String>)> {
    let mut stmt = conn.prepare("SELECT kind, position, raw, canonical FROM requirements WHERE file_id = 7 ORDER BY kind, position").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn record_writes_runs_requirements_and_sources() {
    let Some(cfg) = config() else { return };
    let (name, bytes) = fixture("jsonschema-2.6.0.tar.gz");
    let mut runs = run_setup_py(&name, &bytes, &cfg).unwrap();
    runs.push(Run {
        python: "3.12".into(),
        outcome: Err(RunError {
            kind: RunErrorKind::ImportError,
            message: "No module named 'distutils'".into(),
            stderr_tail: "tb".into(),
        }),
    });
    let conn = crawl_db();
    // Static extraction left a row with unknown requirements: it is updated, not replaced.
    conn.execute(
        "INSERT INTO file_metadata (file_id, method, fetched_at) VALUES (7, 'range', 1)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO requirements (file_id, kind, position, raw) VALUES (7, 'dist', 0, 'stale')",
        [],
    )
    .unwrap();
    record(&conn, 7, &runs).unwrap();

    let rows = requirement_rows(&conn);
    let raws: Vec<_> = rows
        .iter()
        .map(|(kind, _, raw, _)| format!("{kind}: {raw}"))
        .collect();
    assert_eq!(
        raws,
        [
            "dist: functools32; python_version=='2.7'",
            "dist: rfc3987; extra == \"format\"",
            "dist: strict-rfc3339; extra == \"format\"",
            "dist: webcolors; extra == \"format\"",
            "setup: vcversioner>=2.16.0.0",
        ]
    );
    assert!(
        rows.iter().all(|(_, _, _, canonical)| canonical.is_some()),
        "{rows:?}"
    );
    let meta: (String, String, String, String) = conn
        .query_row(
            "SELECT method, requires_dist_source, setup_requires_source, provides_extra FROM file_metadata WHERE file_id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        meta,
        (
            "range".into(),
            "setup.py-exec".into(),
            "setup.py-exec".into(),
            "[\"format\"]".into()
        )
    );
    let statuses: Vec<(String, String, Option<String>)> = conn
        .prepare(
            "SELECT python, status, error FROM setup_py_runs WHERE file_id = 7 ORDER BY python",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(statuses[0], ("3.11".into(), "ok".into(), None));
    assert_eq!(
        statuses[1],
        (
            "3.12".into(),
            "error".into(),
            Some("import-error: No module named 'distutils'".into())
        )
    );

    // A later run that fails everywhere replaces the run rows but keeps what was learned.
    let failed = [Run {
        python: "3.11".into(),
        outcome: Err(RunError {
            kind: RunErrorKind::Timeout,
            message: "killed".into(),
            stderr_tail: String::new(),
        }),
    }];
    record(&conn, 7, &failed).unwrap();
    assert_eq!(requirement_rows(&conn), rows);
    let count: i64 = conn
        .query_row(
            "SELECT count(*) FROM setup_py_runs WHERE file_id = 7",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn record_creates_metadata_row_when_missing() {
    let Some(cfg) = config() else { return };
    let (name, bytes) = sdist(
        "good",
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/ok.py"))
            .unwrap(),
    );
    let runs = run_setup_py(&name, &bytes, &cfg).unwrap();
    let conn = crawl_db();
    record(&conn, 7, &runs).unwrap();
    let meta: (String, Option<String>, Option<String>, Option<String>, String) = conn
        .query_row("SELECT method, name, version, requires_python, provides_extra FROM file_metadata WHERE file_id = 7", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    assert_eq!(
        meta,
        (
            "download".into(),
            Some("good".into()),
            Some("1.0".into()),
            Some(">=2.7".into()),
            "[\"test\"]".into()
        )
    );
    let raws: Vec<_> = requirement_rows(&conn)
        .into_iter()
        .filter(|r| r.0 == "dist")
        .map(|r| r.2)
        .collect();
    assert_eq!(
        raws,
        [
            "six>=1.0",
            "futures; python_version < '3'",
            "py3only",
            "pywin32; sys_platform == 'win32'",
            "pytest; extra == \"test\""
        ]
    );
}

#[test]
fn record_is_atomic() {
    let runs = [Run {
        python: "3.11".into(),
        outcome: Ok(Recorded {
            name: None,
            version: None,
            install_requires: vec!["six".into()],
            setup_requires: vec![],
            tests_require: vec![],
            extras_require: Default::default(),
            python_requires: None,
            stand_ins: vec![],
        }),
    }];
    let conn = crawl_db();
    conn.execute(
        "INSERT INTO requirements (file_id, kind, position, raw) VALUES (7, 'dist', 0, 'old')",
        [],
    )
    .unwrap();
    // Fail the last statement, after the run rows and requirements were written.
    conn.execute_batch("CREATE TRIGGER fail BEFORE INSERT ON file_metadata BEGIN SELECT RAISE(ABORT, 'boom'); END;").unwrap();
    assert!(record(&conn, 7, &runs).is_err());
    let runs_rows: i64 = conn
        .query_row("SELECT count(*) FROM setup_py_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs_rows, 0);
    assert_eq!(
        requirement_rows(&conn),
        [("dist".to_string(), 0, "old".to_string(), None)]
    );
    conn.execute_batch("DROP TRIGGER fail").unwrap();
    // Inside a caller's transaction it works and commits with it.
    conn.execute_batch("BEGIN").unwrap();
    record(&conn, 7, &runs).unwrap();
    conn.execute_batch("COMMIT").unwrap();
    assert_eq!(requirement_rows(&conn).len(), 1);
}
