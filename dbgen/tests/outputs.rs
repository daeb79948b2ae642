//! What `dbgen` leaves on disk and on stdout when things go wrong: outputs are replaced whole
//! (a temporary file renamed) or not at all, the crawl state is never an output, and a closed
//! or full stdout ends the program cleanly.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{build_args, fixture_state};

fn dbgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dbgen"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The names in `dir`, sorted (so leftover temporary files show).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn build_refuses_to_write_over_its_own_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = fixture_state(dir.path());
    let before = std::fs::read(&state).unwrap();
    let respelled = dir.path().join(".").join("state.sqlite");
    let respelled = respelled.to_str().unwrap();
    let raw = dir.path().join("pinion.db");
    let tarball = dir.path().join("db.tar.xz");
    for args in [
        vec!["--out", &state],
        vec!["--out", respelled],
        vec!["--out", tarball.to_str().unwrap(), "--raw-out", respelled],
        vec![
            "--out",
            raw.to_str().unwrap(),
            "--raw-out",
            raw.to_str().unwrap(),
        ],
    ] {
        let shards = dir.path().join("shards");
        let mut a = vec![
            "build",
            "--state",
            &state,
            "--shards-out",
            shards.to_str().unwrap(),
        ];
        a.extend(args.iter().copied());
        let out = dbgen(&a);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("same file"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(std::fs::read(&state).unwrap(), before, "{args:?}");
    }
    assert_eq!(listing(dir.path()), ["state.sqlite"]);
}

#[test]
fn a_failing_raw_out_leaves_no_new_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let state = fixture_state(dir.path());
    let out = dir.path().join("db.tar.xz");
    let raw = dir.path().join("missing-dir").join("pinion.db");
    let shards = dir.path().join("shards");
    let o = dbgen(&build_args(
        &state,
        out.to_str().unwrap(),
        shards.to_str().unwrap(),
        &["--raw-out", raw.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("missing-dir"), "{}", stderr(&o));
    assert!(!out.exists(), "a tarball was left behind");
    // An existing tarball stays as it was.
    std::fs::write(&out, b"previous").unwrap();
    let o = dbgen(&build_args(
        &state,
        out.to_str().unwrap(),
        shards.to_str().unwrap(),
        &["--raw-out", raw.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    assert_eq!(listing(dir.path()), ["db.tar.xz", "state.sqlite"]);
}

#[test]
fn outputs_are_replaced_whole_never_rewritten_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let state = fixture_state(dir.path());
    let raw = dir.path().join("pinion.db");
    let out = dir.path().join("db.tar.xz");
    let shards = dir.path().join("shards");
    let build = |created_at: &str| {
        let o = dbgen(&build_args(
            &state,
            out.to_str().unwrap(),
            shards.to_str().unwrap(),
            &[
                "--raw-out",
                raw.to_str().unwrap(),
                "--created-at",
                created_at,
            ],
        ));
        assert!(o.status.success(), "{}", stderr(&o));
    };
    build("1700000000");
    let old = std::fs::read(&raw).unwrap();
    // A reader (the resolver maps this file) holds it open while a new build replaces it.
    let mut held = std::fs::File::open(&raw).unwrap();
    build("1800000000");
    let new = std::fs::read(&raw).unwrap();
    assert_ne!(old, new);
    let mut seen = Vec::new();
    held.read_to_end(&mut seen).unwrap();
    assert_eq!(seen, old, "the open file was rewritten under its reader");
    assert_eq!(
        listing(dir.path()),
        ["db.tar.xz", "pinion.db", "shards", "state.sqlite"]
    );
}

fn built_db(dir: &Path) -> String {
    let state = fixture_state(dir);
    let out = dir.join("db.tar.xz");
    let shards = dir.join("shards");
    let o = dbgen(&build_args(
        &state,
        out.to_str().unwrap(),
        shards.to_str().unwrap(),
        &[],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    out.to_str().unwrap().to_string()
}

#[test]
fn closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = built_db(dir.path());
    for args in [
        vec!["inspect", &db],
        vec!["inspect", &db, "requests"],
        vec!["verify", &db],
    ] {
        // `| head -0`: the reader is gone before dbgen starts, so the write fails however
        // fast dbgen is (dropping a piped stdout after spawning raced with it).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(env!("CARGO_BIN_EXE_dbgen"))
            .args(&args)
            .stdout(Stdio::from(writer))
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(141), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
    }
}

#[test]
fn full_stdout_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = built_db(dir.path());
    for args in [vec!["inspect", &db], vec!["verify", &db]] {
        let o = Command::new(env!("CARGO_BIN_EXE_dbgen"))
            .args(&args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("writing to stdout") && err.contains("No space left"),
            "{err}"
        );
    }
}
