//! The NAR hash `dbgen build --nar-sha256-out` writes is the one Nix computes for the tree the
//! tarball unpacks to (what `builtins.fetchTarball { url; sha256; }` checks): the tarball is
//! unpacked with the system `tar`/`xz` and hashed with `nix hash path`. Nix is installed by
//! `tests/nix/setup-nix.sh` (`scripts/test.sh`); without it the test fails unless
//! `PINION_NO_NIX=1` says the machine has none.

mod common;

use std::path::Path;
use std::process::Command;

fn have_nix() -> bool {
    let found = Command::new("nix").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("PINION_NO_NIX").is_some(),
            "`nix` is not on PATH: run tests/nix/setup-nix.sh, or set PINION_NO_NIX=1 to skip"
        );
    }
    found
}

fn nix_hash_path(dir: &Path) -> String {
    let o = Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command",
            "hash",
            "path",
            "--type",
            "sha256",
            "--base16",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

#[test]
fn nar_sha256_is_what_nix_computes_for_the_unpacked_tarball() {
    if !have_nix() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&state).unwrap();
    dbgen::state::save(&common::fixture(), 1_795_132_800, &mut conn).unwrap();
    drop(conn);
    let (out, nar, shards) = (
        dir.path().join("db.tar.xz"),
        dir.path().join("db.nar-sha256"),
        dir.path().join("shards"),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_dbgen"))
        .args(["build", "--state"])
        .arg(&state)
        .arg("--out")
        .arg(&out)
        .arg("--shards-out")
        .arg(&shards)
        .arg("--nar-sha256-out")
        .arg(&nar)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let o = Command::new("tar")
        .arg("-xJf")
        .arg(&out)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // One top-level directory, as builtins.fetchTarball requires.
    let top: Vec<_> = std::fs::read_dir(&unpacked).unwrap().collect();
    assert_eq!(top.len(), 1);
    let tree = unpacked.join("pinion-db");
    let written = std::fs::read_to_string(&nar).unwrap();
    assert_eq!(written, format!("{}\n", nix_hash_path(&tree)));
    // The hash covers the content: another database has another one.
    std::fs::write(tree.join("pinion.db"), b"changed").unwrap();
    assert_ne!(written.trim(), nix_hash_path(&tree));
}
