//! The `resolver` binary against hostile input and a hostile environment, on the bundled sample
//! database: requirement files in other encodings or of unbounded size, target options that
//! would size unbounded allocations, dates and versions that do not exist, databases it cannot
//! read, and a stdout that is full or closed. Messages are snapshotted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn sample_db() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample/pinion-db.tar.xz")
}

fn sample_shards() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample/pinion-db-shards")
}

struct Run {
    dir: tempfile::TempDir,
}

/// The resolver on `db` for `python` on x86_64-linux, without hash shards.
fn resolver(db: &Path, req: &Path, python: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_resolver"));
    c.arg("--db")
        .arg(db)
        .arg("-r")
        .arg(req)
        .args(["--python", python, "--system", "x86_64-linux"]);
    c
}

impl Run {
    fn new() -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// The resolver on the sample database and its shards, for CPython 3.12.8.
    fn command(&self, req: &Path, extra: &[&str]) -> Command {
        let mut c = resolver(&sample_db(), req, "3.12.8");
        c.arg("--shards").arg(sample_shards()).args(extra);
        c
    }

    /// Runs the resolver; returns (exit code, stdout, stderr with the temp dir as `<dir>`).
    fn run(&self, req: &Path, extra: &[&str]) -> (i32, String, String) {
        self.output(&mut self.command(req, extra))
    }

    fn output(&self, c: &mut Command) -> (i32, String, String) {
        self.split(c.output().unwrap())
    }

    fn split(&self, out: Output) -> (i32, String, String) {
        let stderr = String::from_utf8(out.stderr)
            .unwrap()
            .replace(self.dir.path().to_str().unwrap(), "<dir>");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            stderr,
        )
    }
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn requirement_files_with_a_byte_order_mark_read_like_uv() {
    let run = Run::new();
    let text = "# web\nrequests>=2.30\n";
    let (code, plain, err) = run.run(&run.file("plain.txt", text.as_bytes()), &[]);
    assert_eq!(code, 0, "{err}");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(text.as_bytes());
    for (name, bytes) in [
        ("utf8-bom.txt", bom),
        ("utf16le.txt", utf16(text, false)),
        ("utf16be.txt", utf16(text, true)),
    ] {
        let (code, lock, err) = run.run(&run.file(name, &bytes), &[]);
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(lock, plain, "{name}: same lock as the plain UTF-8 file");
    }
}

#[test]
fn requirement_files_that_are_not_text_or_too_large() {
    let run = Run::new();
    // Before: read until memory ran out.
    let (code, _, zero) = run.run(Path::new("/dev/zero"), &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("dev_zero", zero);
    let (code, _, latin1) = run.run(&run.file("latin1.txt", b"requests\n# caf\xe9\n"), &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("latin1", latin1);
    let mut odd = utf16("requests\n", false);
    odd.push(b'x');
    let (code, _, odd) = run.run(&run.file("odd.txt", &odd), &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("utf16_odd_length", odd);
}

#[test]
fn target_options_are_bounded() {
    let run = Run::new();
    let req = run.file("r.txt", b"requests\n");
    let (code, _, glibc) = run.run(&req, &["--manylinux-glibc", "2.100000000"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("glibc_out_of_range", glibc);
    let (code, _, macos) = run.run(&req, &["--macos-target", "4294967295.0"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("macos_out_of_range", macos);
}

#[test]
fn python_versions_that_do_not_exist() {
    let run = Run::new();
    let req = run.file("r.txt", b"six\n");
    let with_python = |v: &str| {
        run.output(
            resolver(&sample_db(), &req, v)
                .arg("--shards")
                .arg(sample_shards()),
        )
    };
    let (code, _, future) = with_python("3.99.1");
    assert_eq!(code, 0, "{future}");
    insta::assert_snapshot!("python_future", future);
    let (code, _, rc) = with_python("3.12.8rc1");
    assert_eq!(code, 0, "{rc}");
    insta::assert_snapshot!("python_patch_rc", rc);
    let (code, _, two) = with_python("2.7");
    assert_eq!(code, 1);
    insta::assert_snapshot!("python_two", two);
}

#[test]
fn dates_that_do_not_exist() {
    let run = Run::new();
    let req = run.file("r.txt", b"six\n");
    // Before: read as 2024-03-02.
    let (code, _, err) = run.run(&req, &["--exclude-newer", "2024-02-31"]);
    // A usage error, like clap's own.
    assert_eq!(code, 2);
    insta::assert_snapshot!("exclude_newer_feb_31", err);
}

#[test]
fn database_open_errors() {
    let run = Run::new();
    let req = run.file("r.txt", b"six\n");
    let missing = run.dir.path().join("nope.db");
    let (code, _, err) = run.output(&mut resolver(&missing, &req, "3.12.8"));
    assert_eq!(code, 1);
    assert_eq!(
        err.matches("nope.db").count(),
        1,
        "path printed once: {err}"
    );
    insta::assert_snapshot!("db_missing", err);
    let mut newer = pinion_db::Database::open(&sample_db())
        .unwrap()
        .into_bytes();
    let reads = u32::from_le_bytes(newer[8..12].try_into().unwrap());
    newer[8..12].copy_from_slice(&(reads + 1).to_le_bytes());
    let newer = run.file("newer.db", &newer);
    let (code, _, err) = run.output(&mut resolver(&newer, &req, "3.12.8"));
    assert_eq!(code, 1);
    insta::assert_snapshot!(
        "db_newer_format",
        err.replace(&reads.to_string(), "<N>")
            .replace(&(reads + 1).to_string(), "<N+1>")
    );
}

#[test]
fn full_stdout_is_an_error_and_a_closed_one_is_quiet() {
    let run = Run::new();
    let req = run.file("r.txt", b"six\n");
    // Before: panicked ("failed printing to stdout"), exit 101.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = run
        .command(&req, &[])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let (code, _, err) = run.split(out);
    assert_eq!(code, 1, "{err}");
    insta::assert_snapshot!("stdout_full", err);
    // The reader is gone before the resolver starts (`resolver ... | head -0`), so the write
    // fails however fast the resolver is.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = run
        .command(&req, &[])
        .stdout(Stdio::from(writer))
        .output()
        .unwrap();
    let (code, _, err) = run.split(out);
    assert_eq!((code, err.as_str()), (141, ""), "quiet, 128 + SIGPIPE");
}

#[test]
fn output_file_is_replaced_whole() {
    let run = Run::new();
    let req = run.file("r.txt", b"six\n");
    let lock = run.file("lock.json", b"old");
    let (code, _, err) = run.run(&req, &["-o", lock.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(text.contains("\"six\""), "{text}");
    let names: Vec<_> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(names.is_empty(), "no temporary left behind: {names:?}");
}

#[test]
fn a_damaged_database_never_yields_a_lock() {
    // Before: with --db-sha256, a flipped byte in a section gave exit 0 and the good
    // database's sha256 in the lock. The shard manifest is what the Nix library fetches hash
    // shards by.
    let run = Run::new();
    let req = run.file("r.txt", b"six\n");
    let db = pinion_db::Database::open(&sample_db()).unwrap();
    let good_sha = db.sha256_hex();
    let sha_section = db
        .sections()
        .iter()
        .find(|s| s.kind == pinion_db::SectionKind::ShardManifest)
        .unwrap()
        .range
        .clone();
    let mut bytes = db.into_bytes();
    let raw = run.file("pinion.db", &bytes);
    let resolve = |db: &Path| {
        run.output(
            resolver(db, &req, "3.12.8")
                .arg("--shards")
                .arg(sample_shards())
                .args(["--db-sha256", &good_sha]),
        )
    };
    let (code, _, err) = resolve(&raw);
    assert_eq!(code, 0, "the undamaged file resolves: {err}");
    for at in [sha_section.start, sha_section.end - 1] {
        bytes[at] ^= 0x10;
        let damaged = run.file("damaged.db", &bytes);
        bytes[at] ^= 0x10;
        let (code, lock, err) = resolve(&damaged);
        assert_eq!((code, lock.as_str()), (1, ""), "{err}");
        insta::assert_snapshot!("damaged_shard_manifest", err);
    }
}

#[test]
fn two_pins_on_one_project_are_both_named() {
    // Before: "Because you require six (no matching version)", naming neither pin.
    let run = Run::new();
    let (code, _, err) = run.run(&run.file("r.txt", b"six==1.16.0\nsix==1.17.0\n"), &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("two_pins", err);
    // A requirement and a constraint from another file.
    let constraints = run.file("c.txt", b"six<1.17\n");
    let req = run.file("r2.txt", b"six>=1.17\n");
    let (code, _, err) = run.run(&req, &["-c", constraints.to_str().unwrap()]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("pin_and_constraint", err);
}

#[test]
fn an_extra_the_package_does_not_define_is_warned_about() {
    // Before: silently recorded in the lock.
    let run = Run::new();
    let (code, lock, err) = run.run(&run.file("r.txt", b"requests[nonexistent]\n"), &[]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("unknown_extra", err);
    let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
    assert_eq!(
        lock["packages"]["requests"]["extras"],
        serde_json::json!([])
    );
    // A defined extra stays silent and recorded.
    let (code, lock, err) = run.run(&run.file("r3.txt", b"jsonschema[format-nongpl]\n"), &[]);
    assert_eq!((code, err.as_str()), (0, ""));
    let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
    assert_eq!(
        lock["packages"]["jsonschema"]["extras"],
        serde_json::json!(["format-nongpl"])
    );
}

#[test]
fn every_missing_dependency_is_listed_first() {
    // Before: a conflict derivation about `kombu[redis]`, `redis` in a note, and nothing about
    // the four projects httpx's extras need.
    let run = Run::new();
    let req = run.file("r.txt", b"httpx[http2,socks,brotli,zstd]\ncelery[redis]\n");
    let (code, lock, err) = run.run(&req, &[]);
    assert_eq!((code, lock.as_str()), (1, ""));
    insta::assert_snapshot!("missing_dependencies", err);
}
