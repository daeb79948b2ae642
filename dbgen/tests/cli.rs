//! The `dbgen` binary end to end: synth → build → verify → inspect, with `inspect` output
//! pinned by snapshots.

mod common;

use std::process::Command;

use common::{build_args, fixture_state};

fn dbgen(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dbgen"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn inspect_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let state = fixture_state(dir.path());
    let out = dir.path().join("db.tar.xz");
    let out = out.to_str().unwrap();
    let shards = dir.path().join("shards");
    let shards = shards.to_str().unwrap();
    let (ok, _, err) = dbgen(&build_args(&state, out, shards, &[]));
    assert!(ok, "{err}");
    assert!(err.contains("5 files kept of 7"), "{err}");
    let (ok, summary, err) = dbgen(&["inspect", out]);
    assert!(ok, "{err}");
    insta::assert_snapshot!("summary", summary);
    let (ok, project, err) = dbgen(&["inspect", out, "Requests", "--shards", shards]);
    assert!(ok, "{err}");
    insta::assert_snapshot!("project_requests", project);
    // Without the shards, hashes and URLs are named by the shard that holds them.
    let (ok, bare, err) = dbgen(&["inspect", out, "Requests"]);
    assert!(ok, "{err}");
    assert!(bare.contains("(in hash shard shard-0000.bin)"), "{bare}");
    let (ok, _, err) = dbgen(&["inspect", out, "missing-project"]);
    assert!(!ok);
    assert!(err.contains("`missing-project` is not in"), "{err}");
}

#[test]
fn build_verify_and_created_at() {
    let dir = tempfile::tempdir().unwrap();
    let state = fixture_state(dir.path());
    let a = dir.path().join("a.tar.xz");
    let b = dir.path().join("b.tar.xz");
    let raw = dir.path().join("pinion.db");
    let shards = dir.path().join("shards");
    let shards = shards.to_str().unwrap();
    let (ok, _, err) = dbgen(&build_args(
        &state,
        a.to_str().unwrap(),
        shards,
        &[
            "--created-at",
            "2026-11-20T00:00:00Z",
            "--raw-out",
            raw.to_str().unwrap(),
            "--shards",
            "2",
        ],
    ));
    assert!(ok, "{err}");
    let (ok, _, err) = dbgen(&build_args(
        &state,
        b.to_str().unwrap(),
        dir.path().join("b-shards").to_str().unwrap(),
        &["--shards", "2"],
    ));
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "default created-at is the state's finish time"
    );
    for db in [&a, &raw] {
        let (ok, stdout, err) = dbgen(&["verify", db.to_str().unwrap(), "--shards", shards]);
        assert!(ok && stdout.starts_with("ok: "), "{stdout}{err}");
        assert!(stdout.contains("2 hash shards checked"), "{stdout}");
    }
    // A damaged shard is caught by its sha256 in the manifest.
    let shard = dir.path().join("shards").join("shard-0001.bin");
    let mut bytes = std::fs::read(&shard).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&shard, bytes).unwrap();
    let (ok, _, err) = dbgen(&["verify", a.to_str().unwrap(), "--shards", shards]);
    assert!(
        !ok && err.contains("hash shard shard-0001.bin has sha256"),
        "{err}"
    );
    let (ok, _, err) = dbgen(&build_args(&state, "x", shards, &["--shards", "3"]));
    assert!(
        !ok && err.contains("shard count 3 is not a power of two"),
        "{err}"
    );
    let (ok, _, err) = dbgen(&build_args(
        &state,
        a.to_str().unwrap(),
        shards,
        &["--created-at", "last tuesday"],
    ));
    assert!(!ok && err.contains("not RFC 3339"), "{err}");
    let mut bytes = std::fs::read(&raw).unwrap();
    // The last section (metadata notes) is empty for this state and alignment pads < 8
    // bytes, so 8 bytes from the end lies inside the requirement sets.
    let n = bytes.len();
    bytes[n - 8] ^= 0x40;
    std::fs::write(&raw, bytes).unwrap();
    let (ok, _, err) = dbgen(&["verify", raw.to_str().unwrap()]);
    assert!(!ok && err.contains("checksum mismatch in section"), "{err}");
}

#[test]
fn synth_then_build() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("synth.sqlite");
    let (ok, _, err) = dbgen(&[
        "synth",
        "--projects",
        "300",
        "--seed",
        "3",
        "--out",
        state.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let out = dir.path().join("db.tar.xz");
    let (ok, _, err) = dbgen(&build_args(
        state.to_str().unwrap(),
        out.to_str().unwrap(),
        dir.path().join("shards").to_str().unwrap(),
        &[],
    ));
    assert!(ok, "{err}");
    let db = pinion_db::Database::open(&out).unwrap();
    db.verify().unwrap();
    assert_eq!(db.info().counts.projects, 300);
    let releases = db.info().counts.releases as f64 / 300.0;
    assert!(
        (3.0..15.0).contains(&releases),
        "{releases} releases per project"
    );
    let (ok, _, err) = dbgen(&["synth", "--projects", "3", "--out", state.to_str().unwrap()]);
    assert!(!ok && err.contains("exists"), "{err}");
}

#[test]
fn an_unusable_temporary_directory_is_reported_and_nothing_is_written() {
    // The projects read are parked in TMPDIR before they are written in name order.
    let dir = tempfile::tempdir().unwrap();
    let state = fixture_state(dir.path());
    let missing = dir.path().join("no-such-dir");
    let out = dir.path().join("db.tar.xz");
    let shards = dir.path().join("shards");
    let output = Command::new(env!("CARGO_BIN_EXE_dbgen"))
        .args(build_args(
            &state,
            out.to_str().unwrap(),
            shards.to_str().unwrap(),
            &[],
        ))
        .env("TMPDIR", &missing)
        .output()
        .unwrap();
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(
        err.contains(&format!("temporary file in `{}`", missing.display()))
            && err.contains("hint: ")
            && err.contains("TMPDIR"),
        "{err}"
    );
    assert!(!out.exists() && !shards.exists());
}
