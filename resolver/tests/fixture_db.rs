//! The `resolver` binary on a fixture database written by dbgen's library: lock JSON, Nix
//! output and error messages are snapshotted (conflict, missing package, nixpkgs provider,
//! sdist with build deps and a cycle, yanked, prerelease).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use pinion_db::model::{File, FileKind, Metadata, Project, Release, ReqSet, Universe};

fn canon(reqs: &[&str]) -> Vec<String> {
    reqs.iter()
        .map(|r| pinion_pep::canonical_requirement(r).unwrap())
        .collect()
}

fn meta(
    requires: &[&str],
    build: &[&str],
    setup: &[&str],
    has_build_system: bool,
) -> Arc<Metadata> {
    Arc::new(Metadata {
        requires_dist: ReqSet::known("metadata", canon(requires)),
        build_requires: if build.is_empty() {
            ReqSet::default()
        } else {
            ReqSet::known("pyproject", canon(build))
        },
        setup_requires: if setup.is_empty() {
            ReqSet::default()
        } else {
            ReqSet::known("setup.cfg", canon(setup))
        },
        has_build_system,
        ..Metadata::default()
    })
}

fn file(filename: &str, kind: FileKind, m: Option<Arc<Metadata>>) -> File {
    let mut sha256 = [0u8; 32];
    for (i, b) in filename.bytes().enumerate() {
        sha256[i % 32] ^= b.wrapping_mul(i as u8 | 1);
    }
    File {
        filename: filename.to_string(),
        url: format!(
            "https://files.pythonhosted.org/packages/0a/1b/{}/{filename}",
            "2c".repeat(30)
        ),
        kind,
        sha256,
        size: Some(1000),
        upload_time: Some(1_690_000_000),
        requires_python: Some(">=3.8".into()),
        metadata: m,
        ..File::default()
    }
}

fn wheel(name: &str, version: &str, requires: &[&str]) -> File {
    file(
        &format!("{}-{version}-py3-none-any.whl", name.replace('-', "_")),
        FileKind::Wheel,
        Some(meta(requires, &[], &[], false)),
    )
}

fn sdist(name: &str, version: &str, requires: &[&str], build: &[&str], setup: &[&str]) -> File {
    file(
        &format!("{name}-{version}.tar.gz"),
        FileKind::Sdist,
        Some(meta(requires, build, setup, !build.is_empty())),
    )
}

fn project(name: &str, releases: Vec<(&str, Vec<File>)>) -> Project {
    Project {
        name: name.to_string(),
        display_name: name.to_string(),
        releases: releases
            .into_iter()
            .map(|(v, files)| Release {
                version: v.to_string(),
                files,
            })
            .collect(),
    }
}

fn universe() -> Universe {
    let mut yanked = wheel("idna", "3.7", &[]);
    yanked.yanked = true;
    let native = |v: &str, plat: &str| {
        file(
            &format!("fastlib-{v}-cp311-cp311-{plat}.whl"),
            FileKind::Wheel,
            Some(meta(&[], &[], &[], false)),
        )
    };
    Universe {
        index_url: "https://pypi.org/simple/".into(),
        last_serial: 4242,
        projects: vec![
            project(
                "requests",
                vec![(
                    "2.31.0",
                    vec![
                        wheel(
                            "requests",
                            "2.31.0",
                            &[
                                "idna>=2.5,<4",
                                "urllib3>=1.21.1,<3",
                                "PySocks>=1.5.6,!=1.5.7 ; extra == 'socks'",
                                "win-inet-pton ; sys_platform == 'win32' and extra == 'socks'",
                            ],
                        ),
                        sdist(
                            "requests",
                            "2.31.0",
                            &["idna>=2.5,<4", "urllib3>=1.21.1,<3"],
                            &[],
                            &[],
                        ),
                    ],
                )],
            ),
            project(
                "idna",
                vec![
                    ("3.6", vec![wheel("idna", "3.6", &[])]),
                    ("3.7", vec![yanked]),
                ],
            ),
            project(
                "urllib3",
                vec![
                    ("1.26.18", vec![wheel("urllib3", "1.26.18", &[])]),
                    ("2.1.0", vec![wheel("urllib3", "2.1.0", &[])]),
                    ("2.2.0b1", vec![wheel("urllib3", "2.2.0b1", &[])]),
                ],
            ),
            project(
                "pysocks",
                vec![("1.7.1", vec![wheel("pysocks", "1.7.1", &[])])],
            ),
            project(
                "fastlib",
                vec![(
                    "1.0",
                    vec![
                        native("1.0", "manylinux_2_17_x86_64.manylinux2014_x86_64"),
                        native("1.0", "macosx_11_0_arm64"),
                    ],
                )],
            ),
            project(
                "botocore",
                vec![("1.34.0", vec![wheel("botocore", "1.34.0", &["urllib3<2"])])],
            ),
            project(
                "legacy-pkg",
                vec![(
                    "0.3",
                    vec![sdist(
                        "legacy-pkg",
                        "0.3",
                        &["six"],
                        &["setuptools>=61", "wheel"],
                        &["setuptools-scm"],
                    )],
                )],
            ),
            project("six", vec![("1.16.0", vec![wheel("six", "1.16.0", &[])])]),
            project(
                "setuptools",
                vec![(
                    "69.0.0",
                    vec![sdist("setuptools", "69.0.0", &[], &["wheel"], &[])],
                )],
            ),
            project(
                "wheel",
                vec![(
                    "0.42.0",
                    vec![sdist("wheel", "0.42.0", &[], &["setuptools"], &[])],
                )],
            ),
            project(
                "setuptools-scm",
                vec![(
                    "8.0.4",
                    vec![wheel(
                        "setuptools-scm",
                        "8.0.4",
                        &["setuptools", "packaging>=20"],
                    )],
                )],
            ),
            project(
                "packaging",
                vec![("23.2", vec![wheel("packaging", "23.2", &[])])],
            ),
            project(
                "numpy",
                vec![("1.26.4", vec![wheel("numpy", "1.26.4", &[])])],
            ),
        ],
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    // Four shards, so that a resolution needs some of them and not others.
    let written = pinion_db::write_db(
        &universe(),
        &pinion_db::BuildOptions {
            created_at: 1_700_000_000,
            shard_count: Some(4),
        },
    )
    .unwrap();
    let db = pinion_db::Database::from_bytes(written.db.clone()).unwrap();
    db.verify().unwrap();
    db.verify_shard_bytes(&written.shards).unwrap();
    std::fs::write(dir.path().join("pinion.db"), &written.db).unwrap();
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).unwrap();
    for (i, bytes) in (0u32..).zip(&written.shards) {
        std::fs::write(shards.join(pinion_db::layout::shard_file_name(i)), bytes).unwrap();
    }
    std::fs::write(dir.path().join("nixpkgs.json"), r#"{"numpy": {"attr": "numpy", "version": "1.26.4"}, "six": {"attr": "six", "version": "1.16.0"}}"#).unwrap();
    std::fs::write(
        dir.path().join("providers.json"),
        r#"{"numpy": "nixpkgs", "legacy-pkg": "sdist", "setuptools": "sdist", "wheel": "sdist"}"#,
    )
    .unwrap();
    Fixture {
        dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}

/// Runs the binary for x86_64-linux; returns (success, stdout, stderr).
fn run(fx: &Fixture, requirements: &str, extra: &[&str]) -> (bool, String, String) {
    run_on(fx, "x86_64-linux", requirements, extra)
}

fn run_on(
    fx: &Fixture,
    system: &str,
    requirements: &str,
    extra: &[&str],
) -> (bool, String, String) {
    let req = fx.dir.join("requirements.txt");
    std::fs::write(&req, requirements).unwrap();
    let shards = fx.dir.join("shards");
    let default_shards = ["--shards", path(&shards)];
    let out = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .args(if extra.contains(&"--shards") {
            &[][..]
        } else {
            &default_shards[..]
        })
        .args([
            "--db",
            path(&fx.dir.join("pinion.db")),
            "-r",
            path(&req),
            "--python",
            "3.11.7",
            "--system",
            system,
        ])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr)
        .unwrap()
        .replace(path(&fx.dir), "<dir>");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn with_providers(fx: &Fixture) -> Vec<String> {
    vec![
        "--providers".into(),
        path(&fx.dir.join("providers.json")).into(),
        "--nixpkgs".into(),
        path(&fx.dir.join("nixpkgs.json")).into(),
    ]
}

#[test]
fn lock_json_and_nix() {
    let fx = fixture();
    let extra = with_providers(&fx);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let reqs = "requests[socks]\nlegacy-pkg\nnumpy\nidna==3.7\n";
    let (ok, json, err) = run(&fx, reqs, &extra);
    assert!(ok, "{err}");
    let json = json.replace(
        &pinion_db::Database::open(&fx.dir.join("pinion.db"))
            .unwrap()
            .sha256_hex(),
        "<sha256>",
    );
    insta::assert_snapshot!("lock_json", json);
    let mut with_nix = extra.clone();
    with_nix.extend(["--format", "nix"]);
    let (ok, nix, err) = run(&fx, reqs, &with_nix);
    assert!(ok, "{err}");
    let (_, json_again, _) = run(&fx, reqs, &extra);
    assert_eq!(
        json_again.replace(
            &pinion_db::Database::open(&fx.dir.join("pinion.db"))
                .unwrap()
                .sha256_hex(),
            "<sha256>"
        ),
        json,
        "deterministic"
    );
    insta::assert_snapshot!(
        "lock_nix",
        nix.replace(
            &pinion_db::Database::open(&fx.dir.join("pinion.db"))
                .unwrap()
                .sha256_hex(),
            "<sha256>"
        )
    );
}

#[test]
fn prerelease_and_yanked_policies() {
    let fx = fixture();
    let (ok, json, err) = run(&fx, "urllib3\nidna\n", &[]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["packages"]["urllib3"]["version"], "2.1.0",
        "no pre-release unless asked"
    );
    assert_eq!(
        v["packages"]["idna"]["version"], "3.6",
        "yanked 3.7 skipped unless pinned"
    );
    let (ok, json, _) = run(&fx, "urllib3>=2.2.0b1\n", &[]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["packages"]["urllib3"]["version"], "2.2.0b1");
}

#[test]
fn errors() {
    let fx = fixture();
    let (ok, _, conflict) = run(&fx, "botocore\nurllib3>=2\n", &[]);
    assert!(!ok);
    insta::assert_snapshot!("conflict", conflict);
    let (ok, _, missing) = run(&fx, "requets\n", &[]);
    assert!(!ok);
    insta::assert_snapshot!("missing", missing);
    let (ok, _, darwin) = run_on(&fx, "x86_64-darwin", "fastlib\n", &[]);
    let (ok_arm, _, _) = run_on(&fx, "aarch64-darwin", "fastlib\n", &[]);
    assert!(ok_arm, "the macosx_11_0_arm64 wheel fits aarch64-darwin");
    assert!(!ok);
    insta::assert_snapshot!("no_compatible_wheel", darwin);
    let (ok, _, bad_line) = run(&fx, "requests\n-e .\n", &[]);
    assert!(!ok);
    assert_eq!(
        bad_line,
        "error: <dir>/requirements.txt:2: editable requirements (-e) are not supported: pinion resolves from its package database only\n"
    );
}

#[test]
#[ignore = "needs nix-instantiate on PATH"]
fn nix_output_evaluates_to_the_json_lock() {
    let fx = fixture();
    let extra = with_providers(&fx);
    let mut args: Vec<&str> = extra.iter().map(String::as_str).collect();
    let reqs = "requests[socks]\nlegacy-pkg\nnumpy\n";
    let (ok, json, err) = run(&fx, reqs, &args);
    assert!(ok, "{err}");
    args.extend(["--format", "nix"]);
    let (ok, nix, err) = run(&fx, reqs, &args);
    assert!(ok, "{err}");
    let nix_file = fx.dir.join("lock.nix");
    std::fs::write(&nix_file, nix).unwrap();
    let out = Command::new("nix-instantiate")
        .args([
            "--eval",
            "--strict",
            "--json",
            "-E",
            &format!("import {}", path(&nix_file)),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_nix: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(from_nix, from_json);
}

#[test]
fn db_sha256_flag() {
    let fx = fixture();
    let given = "ab".repeat(32);
    let (ok, json, err) = run(&fx, "six\n", &["--db-sha256", &given.to_uppercase()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["db"]["sha256"], given.as_str());
    let (ok, json, _) = run(&fx, "six\n", &[]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let real = pinion_db::Database::open(&fx.dir.join("pinion.db"))
        .unwrap()
        .sha256_hex();
    assert_eq!(v["db"]["sha256"], real.as_str());
    let (ok, _, err) = run(&fx, "six\n", &["--db-sha256", "xyz"]);
    assert!(!ok);
    assert!(
        err.contains("invalid `--db-sha256` `xyz`: expected 64 hex digits"),
        "{err}"
    );
}

/// The two-step resolution the Nix library runs: first with no shards (it learns which it
/// needs), then with exactly those; the lock equals the one resolved with every shard.
#[test]
fn hash_shards_two_steps() {
    let fx = fixture();
    let reqs = "requests[socks]\nidna==3.7\n";
    let (ok, full, err) = run(&fx, reqs, &[]);
    assert!(ok, "{err}");
    let req = fx.dir.join("requirements.txt");
    let need = fx.dir.join("need.json");
    let lock = fx.dir.join("lock.json");
    let step = |shards: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["--db", path(&fx.dir.join("pinion.db")), "-r", path(&req)])
            .args(["--python", "3.11.7", "--system", "x86_64-linux"])
            .args(["--shards", path(shards), "--need-shards", path(&need)])
            .args(["-o", path(&lock)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&need).unwrap()).unwrap();
        v
    };
    let some = fx.dir.join("some");
    std::fs::create_dir(&some).unwrap();
    let first = step(&some);
    assert!(!lock.exists(), "no lock without the shards");
    let needed = first["shards"].as_array().unwrap();
    assert_eq!(first["shard_count"], 4);
    assert!(!needed.is_empty() && needed.len() < 4, "{first}");
    for s in needed {
        let file = s["file"].as_str().unwrap();
        let bytes = std::fs::read(fx.dir.join("shards").join(file)).unwrap();
        assert_eq!(
            s["sha256"].as_str().unwrap(),
            pinion_db::layout::hex_lower(&<sha2::Sha256 as sha2::Digest>::digest(&bytes))
        );
        std::fs::write(some.join(file), bytes).unwrap();
    }
    let second = step(&some);
    assert_eq!(second, first, "the needed set does not change once present");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), full);

    // Without --need-shards, a missing shard is an error naming it.
    let none = fx.dir.join("none");
    std::fs::create_dir(&none).unwrap();
    let (ok, _, err) = run(&fx, reqs, &["--shards", path(&none)]);
    assert!(!ok);
    assert!(
        err.starts_with("error: the picked files' sha256 and URLs are in the hash shards `shard-"),
        "{err}"
    );
    assert!(err.contains("hint: pass `--shards DIR`"), "{err}");

    // A shard of another database is refused by its sha256.
    let other = fx.dir.join("other");
    std::fs::create_dir(&other).unwrap();
    let file = needed[0]["file"].as_str().unwrap();
    let mut bytes = std::fs::read(fx.dir.join("shards").join(file)).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(other.join(file), bytes).unwrap();
    let (ok, _, err) = run(&fx, reqs, &["--shards", path(&other)]);
    assert!(!ok);
    assert!(err.contains("but the database's manifest says"), "{err}");
}

/// What the Nix library reads from `--need-shards`: the shards and, once the resolution
/// ran, the names it picked (nixpkgs' too), written whether or not the lock is; before a
/// resolution (`--hash` shards missing) only the shards. The Nix library starts its next
/// nixpkgs-lookup round from those names instead of from a lock.
#[test]
fn need_shards_lists_the_picked_packages() {
    let fx = fixture();
    let need = fx.dir.join("need.json");
    let lock = fx.dir.join("lock.json");
    let empty = fx.dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let all = fx.dir.join("shards");
    let step = |reqs: &str, shards: &Path| {
        let _ = std::fs::remove_file(&need);
        let _ = std::fs::remove_file(&lock);
        let mut args = with_providers(&fx);
        args.extend(
            [
                "--shards",
                path(shards),
                "--need-shards",
                path(&need),
                "-o",
                path(&lock),
            ]
            .map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, err) = run(&fx, reqs, &args);
        assert!(ok, "{err}");
        let text = std::fs::read_to_string(&need).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        // The manifest's sha256 of each listed shard; redacted so the snapshot shows the
        // structure, not the fixture database's bytes.
        for s in v["shards"].as_array().unwrap() {
            let bytes = std::fs::read(all.join(s["file"].as_str().unwrap())).unwrap();
            assert_eq!(
                s["sha256"].as_str().unwrap(),
                pinion_db::layout::hex_lower(&<sha2::Sha256 as sha2::Digest>::digest(&bytes))
            );
        }
        let redacted = text
            .lines()
            .map(|l| match l.split_once("\"sha256\": \"") {
                Some((head, _)) => format!("{head}\"sha256\": \"<sha256 of the shard>\""),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        (v, redacted, lock.exists())
    };
    // numpy comes from nixpkgs (providers.json): listed as picked, but needs no shard.
    let reqs = "requests[socks]\nnumpy\n";
    let (without, text, wrote_lock) = step(reqs, &empty);
    assert!(!wrote_lock, "no lock without the shards");
    insta::assert_snapshot!("need_shards_without_lock", text);
    let (with, text, wrote_lock) = step(reqs, &all);
    assert!(wrote_lock, "the lock, with every shard at hand");
    insta::assert_snapshot!("need_shards_with_lock", text);
    assert_eq!(
        with, without,
        "the same resolution, with or without the shards"
    );
    let locked: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    let names: Vec<&String> = locked["packages"].as_object().unwrap().keys().collect();
    assert_eq!(
        with["packages"],
        serde_json::json!(names),
        "the lock's packages"
    );

    // `--hash` shards missing: the run stops before resolving, so it names no package.
    let hashed = format!("requests==2.31.0 --hash=sha256:{}\n", "ab".repeat(32));
    let (before, text, wrote_lock) = step(&hashed, &empty);
    assert!(!wrote_lock);
    assert!(before.get("packages").is_none(), "{before}");
    insta::assert_snapshot!("need_shards_before_resolving", text);
}
