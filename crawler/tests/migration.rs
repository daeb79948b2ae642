//! Crawl state v1 -> v2: a state written with the v1 schema (tests/fixtures/state/
//! schema-v1.sql, crawler/schema.sql as of the commit before v2) is migrated in place by
//! `State::open`, rows kept; a migration that fails leaves a valid v1 state.

use crawler::state::State;
use rusqlite::Connection;

const SCHEMA_V1: &str = include_str!("fixtures/state/schema-v1.sql");

/// A v1 state with one project, a wheel and an sdist with metadata, requirements and a
/// setup.py run: what a v1 crawler wrote.
fn v1_state(path: &std::path::Path) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(SCHEMA_V1).unwrap();
    c.execute_batch(
        "INSERT INTO meta VALUES ('schema_version', '1'), ('index_url', 'http://127.0.0.1:1/simple/');
         INSERT INTO projects (id, name, display_name, last_serial, synced_serial, page_fetched_at)
           VALUES (1, 'demo', 'Demo', 7, 7, 100);
         INSERT INTO files (id, project_id, filename, url, version, kind, upload_time)
           VALUES (1, 1, 'demo-1.0-py3-none-any.whl', 'http://x/demo-1.0-py3-none-any.whl', '1.0', 'wheel', 1600000000),
                  (2, 1, 'demo-1.0.tar.gz', 'http://x/demo-1.0.tar.gz', '1.0', 'sdist', 1600000000);
         INSERT INTO file_metadata (file_id, method, name, version, requires_dist_source, fetched_at)
           VALUES (1, 'range', 'demo', '1.0', 'metadata', 100),
                  (2, 'download', 'demo', '1.0', 'setup.py-exec', 100);
         INSERT INTO requirements VALUES (1, 'dist', 0, 'six', 'six', NULL),
                                         (2, 'dist', 0, 'six', 'six', NULL);
         INSERT INTO setup_py_runs (file_id, python, status, install_requires, ran_at)
           VALUES (2, '3.11', 'ok', '[\"six\"]', 100);",
    )
    .unwrap();
}

fn columns(c: &Connection, table: &str) -> Vec<String> {
    let mut st = c
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn v1_state_is_migrated_in_place_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    v1_state(&path);
    assert!(
        !columns(&Connection::open(&path).unwrap(), "file_metadata")
            .contains(&"unknown_reason".into())
    );

    let state = State::open(&path).expect("v1 is migrated");
    let c = state.connection();
    let version: String = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "2");
    for (table, column) in [
        ("projects", "removed_at"),
        ("file_metadata", "unknown_reason"),
        ("file_metadata", "source_decision"),
        ("setup_py_runs", "cause"),
    ] {
        assert!(
            columns(c, table).contains(&column.to_string()),
            "{table}.{column}"
        );
    }
    let kept: (i64, i64, i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM file_metadata),
                    (SELECT count(*) FROM requirements), (SELECT count(*) FROM setup_py_runs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(kept, (2, 2, 2, 1));
    let upload: i64 = c
        .query_row("SELECT upload_time FROM files WHERE id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(upload, 1600000000);
    // The rebuilt `files` accepts the v2 kind and still cascades from projects.
    c.execute(
        "INSERT INTO files (project_id, filename, url, version, kind)
         VALUES (1, 'demo-1.0.linux-x86_64.tar.gz', 'http://x/d', '1.0.linux-x86_64', 'bdist_dumb')",
        [],
    )
    .expect("bdist_dumb is a valid kind after the migration");
    let fk_errors: i64 = c
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk_errors, 0);
    c.execute("DELETE FROM projects WHERE id = 1", []).unwrap();
    let left: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM requirements)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "foreign keys cascade after the migration");
    drop(state);

    // Opening again is a no-op on a v2 state.
    State::open(&path).expect("v2 opens");
}

#[test]
fn a_failed_migration_leaves_a_valid_v1_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    v1_state(&path);
    // A table in the way of the rebuild makes the migration fail halfway through.
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE files_v2 (x INTEGER)")
        .unwrap();
    let err = State::open(&path).err().expect("the migration fails");
    assert!(err.to_string().contains("files_v2"), "{err}");

    let c = Connection::open(&path).unwrap();
    let version: String = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "1");
    assert!(!columns(&c, "projects").contains(&"removed_at".to_string()));
    let files: i64 = c
        .query_row("SELECT count(*) FROM files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(files, 2);
}
