//! `resolver-bench`: wall-clock comparison of whole `resolver` processes (open DB + resolve +
//! write the lock) against `uv pip compile --offline` with a warm cache, per requirement set,
//! and whether the two agree on the pinned versions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use pinion_pep::cli::{self, Exit};

/// Benchmark the resolver against uv on requirement sets.
#[derive(Parser)]
#[command(after_help = cli::exit_status_help(&cli::COMMON))]
struct Cli {
    /// The pinion database (raw or .tar.xz).
    #[arg(long)]
    db: PathBuf,
    /// Requirement sets (files).
    #[arg(required = true)]
    sets: Vec<PathBuf>,
    /// Timed runs per tool and set (after one untimed warm-up).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Target CPython version, X.Y.Z (both tools).
    #[arg(long, default_value = "3.11.7")]
    python: String,
    /// Target Nix system (uv gets the matching `--python-platform`).
    #[arg(long, default_value = "x86_64-linux")]
    system: String,
    /// glibc for both tools (uv: `--python-platform x86_64-manylinux_<glibc>`).
    #[arg(long, default_value = "2.28")]
    glibc: String,
    /// The resolver binary (default: next to this program).
    #[arg(long)]
    resolver: Option<PathBuf>,
    /// The uv binary; `--uv none` skips uv. Pass the real binary, not a pyenv shim: the shim
    /// is a shell script that costs more than uv's resolution.
    #[arg(long, default_value = "uv")]
    uv: String,
    /// Interpreter uv should use (`uv --python`). Without it uv discovers one, which through
    /// pyenv shims can cost more than the resolution itself.
    #[arg(long)]
    uv_python: Option<PathBuf>,
}

struct Ctx {
    cli: Cli,
    sha256: String,
    resolver: PathBuf,
    created: String,
    uv_version: String,
    uv_platform: String,
    work: PathBuf,
}

fn time_runs(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    f()?;
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        f()?;
        all.push(t.elapsed());
    }
    all.sort();
    Ok(all[all.len() / 2])
}

fn check(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{}", err.lines().next().unwrap_or("failed"));
    }
    Ok(())
}

/// `name -> version` from `name==version` lines (uv's output).
fn uv_pins(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once("=="))
        .filter_map(|(n, v)| {
            let v = v.split([' ', ';']).next().unwrap_or("").to_string();
            pinion_pep::ProjectName::new(n.trim())
                .ok()
                .map(|n| (n.into_string(), v))
        })
        .collect()
}

fn lock_pins(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let v: serde_json::Value = serde_json::from_str(text)?;
    let pkgs = v["packages"].as_object().context("lock without packages")?;
    Ok(pkgs
        .iter()
        .map(|(k, p)| (k.clone(), p["version"].as_str().unwrap_or("").to_string()))
        .collect())
}

/// One table row: pinion time, uv time, ratio, agreement.
fn bench_set(ctx: &Ctx, set: &Path, name: &str) -> anyhow::Result<[String; 4]> {
    let cli = &ctx.cli;
    let lock = ctx.work.join(format!("{name}.json"));
    let mut ours = Command::new(&ctx.resolver);
    ours.arg("--db")
        .arg(&cli.db)
        .arg("-r")
        .arg(set)
        .arg("-o")
        .arg(&lock);
    ours.args([
        "--python",
        &cli.python,
        "--system",
        &cli.system,
        "--manylinux-glibc",
        &cli.glibc,
    ]);
    ours.args(["--exclude-newer", &ctx.created, "--db-sha256", &ctx.sha256]);
    let t_ours = time_runs(cli.runs, || check(&mut ours)).context("pinion")?;
    let pins = lock_pins(&std::fs::read_to_string(&lock)?)?;
    if cli.uv == "none" {
        return Ok([
            ms(t_ours),
            "-".into(),
            "-".into(),
            format!("{} pinned (uv skipped)", pins.len()),
        ]);
    }
    let out = ctx.work.join(format!("{name}.uv.txt"));
    let uv_cmd = |offline: bool| {
        let mut c = Command::new(&cli.uv);
        c.args([
            "pip",
            "compile",
            "--quiet",
            "--no-header",
            "--python-version",
            &ctx.uv_version,
        ]);
        if let Some(p) = &cli.uv_python {
            c.arg("--python").arg(p);
        }
        c.args([
            "--python-platform",
            &ctx.uv_platform,
            "--exclude-newer",
            &ctx.created,
        ]);
        c.arg(set).arg("-o").arg(&out);
        if offline {
            c.arg("--offline");
        }
        c
    };
    // One online run fills uv's cache; the timed runs are offline.
    check(&mut uv_cmd(false)).context("uv (online warm-up)")?;
    let t_uv = time_runs(cli.runs, || check(&mut uv_cmd(true))).context("uv")?;
    let theirs = uv_pins(&std::fs::read_to_string(&out)?);
    let common: Vec<&String> = theirs.keys().filter(|k| pins.contains_key(*k)).collect();
    let differ: Vec<String> = common
        .iter()
        .filter(|k| pins[**k] != theirs[**k])
        .map(|k| format!("{k} {} vs uv {}", pins[*k], theirs[*k]))
        .collect();
    let mut text = format!("{}/{} same", common.len() - differ.len(), common.len());
    if !differ.is_empty() {
        text.push_str(&format!("; differ: {}", differ.join(", ")));
    }
    let only_uv: Vec<&str> = theirs
        .keys()
        .filter(|k| !pins.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !only_uv.is_empty() {
        text.push_str(&format!("; only uv: {}", only_uv.join(", ")));
    }
    let extra = pins.len() - common.len();
    if extra > 0 {
        text.push_str(&format!("; {extra} only pinion (build deps of sdists)"));
    }
    let ratio = format!("{:.3}", t_ours.as_secs_f64() / t_uv.as_secs_f64());
    Ok([ms(t_ours), ms(t_uv), ratio, text])
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run().map(|()| Exit::Success))
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let resolver = match &cli.resolver {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("resolver"),
    };
    let db = pinion_db::Database::open(&cli.db)
        .with_context(|| format!("opening `{}`", cli.db.display()))?;
    let created = pinion_db::time::rfc3339(db.info().created_at);
    // What every run pays to check the section checksums (part of each timed run below),
    // against hashing the whole file, which --db-sha256 saves (the first call hashes; for a
    // tarball the hash was taken at open and this reads 0 ms).
    let t = Instant::now();
    db.check_checksums()?;
    let t_crc = t.elapsed();
    let t = Instant::now();
    // The Nix library knows the DB's sha256 from its manifest and passes it, so each timed
    // run skips hashing the file, as in real use.
    let sha256 = db.sha256_hex();
    let t_sha = t.elapsed();
    let mb = db.bytes().len() as f64 / 1e6;
    println!(
        "section checksums of {mb:.1} MB: {} ms ({:.2} GB/s); sha256 of the file: {} ms",
        ms(t_crc),
        mb / 1e3 / t_crc.as_secs_f64(),
        ms(t_sha)
    );
    drop(db);
    let work = std::env::temp_dir().join(format!("resolver-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    // The full version: with only "3.11" uv assumes 3.11.0 and rejects `Requires-Python
    // >=3.11.5`, which pinion (given 3.11.7) accepts — the pins would differ for that reason alone.
    let uv_version = cli.python.clone();
    let arch = cli.system.split('-').next().unwrap_or("x86_64");
    let uv_platform = format!("{arch}-manylinux_{}", cli.glibc.replace('.', "_"));
    println!(
        "db {} (created {created}), median of {} runs; uv: --exclude-newer {created} --python-platform {uv_platform}",
        cli.db.display(),
        cli.runs
    );
    println!(
        "{:<12} {:>10} {:>10} {:>7}  agreement",
        "set", "pinion ms", "uv ms", "ratio"
    );
    let ctx = Ctx {
        resolver,
        created,
        uv_version,
        sha256,
        uv_platform,
        work: work.clone(),
        cli,
    };
    for set in &ctx.cli.sets {
        let name = set
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        match bench_set(&ctx, set, &name) {
            Ok([a, b, r, text]) => println!("{name:<12} {a:>10} {b:>10} {r:>7}  {text}"),
            Err(e) => println!("{name:<12} failed: {e:#}"),
        }
    }
    std::fs::remove_dir_all(&work).ok();
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uv_output() {
        let pins = uv_pins(
            "# comment\nRequests==2.31.0\n    # via foo\nzope.interface==6.1 ; python_version >= '3'\n",
        );
        assert_eq!(pins.len(), 2);
        assert_eq!(pins["requests"], "2.31.0");
        assert_eq!(pins["zope-interface"], "6.1");
    }
}
