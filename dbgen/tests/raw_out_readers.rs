//! `dbgen build --raw-out` over a raw database that a resolver has memory-mapped: the
//! resolver must keep reading the old file, untouched, while the new one is written (issue 15:
//! the in-place rewrite killed ~1.5 % of resolvers with SIGBUS).

mod common;

use std::process::Command;

use pinion_db::Database;

#[test]
fn a_mapped_raw_database_is_unaffected_by_a_rebuild_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = |name: &str, universe: &pinion_db::model::Universe, finished_at: i64| {
        let path = dir.path().join(name);
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        dbgen::state::save(universe, finished_at, &mut conn).unwrap();
        path
    };
    let full = common::fixture();
    let mut smaller = common::fixture();
    smaller.projects.truncate(1);
    let old_state = state("old.sqlite", &full, 1_795_132_800);
    let new_state = state("new.sqlite", &smaller, 1_795_219_200);
    let raw = dir.path().join("pinion.db");
    let build = |state: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_dbgen"))
            .arg("build")
            .arg("--state")
            .arg(state)
            .arg("--out")
            .arg(dir.path().join("pinion-db.tar.xz"))
            .arg("--raw-out")
            .arg(&raw)
            .arg("--shards-out")
            .arg(dir.path().join("shards"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    build(&old_state);
    let mapped = Database::open(&raw).unwrap();
    let before = mapped.bytes().to_vec();
    mapped.check_checksums().unwrap();

    // The new database is smaller: rewritten in place, the old mapping would now end past the
    // end of the file (SIGBUS on access) and its first pages would hold the new header.
    build(&new_state);
    assert!(
        mapped.bytes() == before.as_slice(),
        "the mapped old database changed under its reader"
    );
    mapped.check_checksums().unwrap();
    mapped.verify().unwrap();
    let reopened = Database::open(&raw).unwrap();
    assert_ne!(
        reopened.bytes(),
        before.as_slice(),
        "the path holds the new one"
    );
    assert_eq!(reopened.info().counts.projects, 1);
}
