//! `resolver`: resolve requirements.txt files offline against a pinion database and write the
//! lock (JSON or Nix) for one target.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};

use pinion_db::{Database, DbError, ShardSet, layout};
use pinion_pep::cli::{self, Exit, UsageError};
use pinion_pep::output;
use resolver::providers::{Nixpkgs, Providers, read_config};
use resolver::requirements::RequirementSet;
use resolver::solve::Options;
use resolver::source::db::DbSource;
use resolver::target::{Target, parse_major_minor};

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Nix,
}

/// Resolve Python requirements offline against a pinion database.
#[derive(Parser)]
#[command(version, after_help = cli::exit_status_help(&cli::COMMON))]
struct Cli {
    /// The database: a raw pinion.db or the published .tar.xz.
    #[arg(long)]
    db: PathBuf,
    /// Requirements file (repeatable).
    #[arg(short = 'r', long = "requirement", required = true)]
    requirements: Vec<PathBuf>,
    /// Constraints file (repeatable).
    #[arg(short = 'c', long = "constraint")]
    constraints: Vec<PathBuf>,
    /// Target CPython version, X.Y.Z.
    #[arg(long)]
    python: String,
    /// Target Nix system: x86_64-linux, aarch64-linux, x86_64-darwin, aarch64-darwin.
    #[arg(long)]
    system: String,
    /// JSON: {"_default": "wheel,sdist,nixpkgs", "name": "nixpkgs", ...}.
    #[arg(long)]
    providers: Option<PathBuf>,
    /// JSON: {"name": {"attr": "...", "version": "..."}, ...} of nixpkgs' Python packages.
    #[arg(long)]
    nixpkgs: Option<PathBuf>,
    /// Ignore files uploaded after this UTC date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ).
    #[arg(long)]
    exclude_newer: Option<String>,
    /// Newest glibc the target has, MAJOR.MINOR (default 2.40, nixpkgs 24.11/25.05).
    #[arg(long)]
    manylinux_glibc: Option<String>,
    /// macOS deployment target, MAJOR.MINOR (default 10.12 on x86_64, 11.0 on arm64).
    #[arg(long)]
    macos_target: Option<String>,
    /// Lock format (`nix`: an attribute set with the same content as the JSON; lock-format.md).
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// sha256 of the database file as published in its manifest.json: recorded in the lock
    /// without hashing the file again (saves ~0.2 s on a full-PyPI database). It vouches only
    /// for which database was meant; damage to the file is caught by its section checksums,
    /// which are checked on every run.
    #[arg(long)]
    db_sha256: Option<String>,
    /// Directory holding hash shards (`shard-XXXX.bin`, as published beside the database):
    /// the sha256 and URLs of the picked files come from them.
    #[arg(long)]
    shards: Option<PathBuf>,
    /// Write the hash shards this resolution needs (JSON: file name, index, sha256) and the
    /// names of the packages it picked here, and write the lock only when --shards holds
    /// all of them. Without this option, a missing shard is an error.
    #[arg(long)]
    need_shards: Option<PathBuf>,
    /// Output file (default: stdout).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

/// The `--need-shards` file: every shard the final lock needs, with the sha256 the
/// database's manifest pins for it, so the caller (the Nix library) can fetch them; and,
/// once the resolution ran, the names of the packages it picked, so the caller can ask
/// nixpkgs about them without waiting for the lock those shards would give.
fn need_json(db: &Database, need: &BTreeSet<u32>, packages: Option<Vec<&str>>) -> String {
    let shards: Vec<serde_json::Value> = need
        .iter()
        .map(|&i| {
            serde_json::json!({
                "index": i,
                "file": layout::shard_file_name(i),
                "sha256": db.shard_sha256(i).map(|h| layout::hex_lower(h)),
            })
        })
        .collect();
    let mut v = serde_json::json!({ "shard_count": db.shard_count(), "shards": shards });
    if let Some(p) = packages {
        v["packages"] = serde_json::json!(p);
    }
    let mut text = serde_json::to_string_pretty(&v).expect("JSON values serialize");
    text.push('\n');
    text
}

fn shard_names(need: &BTreeSet<u32>) -> String {
    need.iter()
        .map(|&i| format!("`{}`", layout::shard_file_name(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    let glibc = cli
        .manylinux_glibc
        .as_deref()
        .map(|v| parse_major_minor("--manylinux-glibc", v))
        .transpose()?;
    let macos = cli
        .macos_target
        .as_deref()
        .map(|v| parse_major_minor("--macos-target", v))
        .transpose()?;
    let target = Target::new(&cli.python, &cli.system, glibc, macos)?;
    for w in target.warnings() {
        warn(w);
    }
    let providers = match &cli.providers {
        Some(p) => Providers::from_json(p, &read_config(p)?)?,
        None => Providers::default(),
    };
    let nixpkgs = match &cli.nixpkgs {
        Some(p) => Nixpkgs::from_json(p, &read_config(p)?)?,
        None => Nixpkgs::default(),
    };
    for skipped in &nixpkgs.skipped {
        tracing::debug!("nixpkgs package {skipped} has no PEP 440 version; never offered");
    }
    let exclude_newer = match &cli.exclude_newer {
        Some(d) => match pinion_db::time::parse_date(d) {
            Some(t) => Some(t),
            None => {
                return Err(UsageError(format!(
                    "invalid `--exclude-newer` `{d}`: not a valid UTC date\nhint: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, e.g. `2024-02-29`"
                ))
                .into());
            }
        },
        None => None,
    };
    let mut reqs = RequirementSet::default();
    for r in &cli.requirements {
        reqs.add_file(r, false)?;
    }
    for c in &cli.constraints {
        reqs.add_file(c, true)?;
    }
    let db = Database::open(&cli.db)
        .and_then(|db| db.check_checksums().map(|()| db))
        .map_err(|e| match e {
            // Names the path itself.
            DbError::Io { .. } => anyhow::Error::new(e),
            e => anyhow::Error::new(e).context(format!("opening database `{}`", cli.db.display())),
        })?;
    let shards = match &cli.shards {
        Some(dir) => ShardSet::load_dir(&db, dir)
            .with_context(|| format!("reading hash shards in {}", dir.display()))?,
        None => ShardSet::new(),
    };
    // `--hash` options filter files by sha256 while resolving, so those projects' shards
    // are needed before anything else.
    let mut need: BTreeSet<u32> = reqs
        .requirements
        .iter()
        .chain(&reqs.constraints)
        .filter(|s| !s.hashes.is_empty())
        .map(|s| db.shard_of(s.name.as_str()))
        .collect();
    let absent: BTreeSet<u32> = need.iter().copied().filter(|&i| !shards.has(i)).collect();
    if !absent.is_empty() {
        let Some(path) = &cli.need_shards else {
            bail!(
                "`--hash` options need the hash shards {}, which `--shards` does not hold\nhint: pass `--shards DIR` with the shards published beside the database",
                shard_names(&absent)
            );
        };
        output::write_atomic(path, need_json(&db, &need, None).as_bytes())?;
        return Ok(Exit::Success);
    }
    let index = match cli.db_sha256 {
        Some(sha) if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
            DbSource::new(&db).with_sha256(sha.to_ascii_lowercase())
        }
        Some(sha) => {
            return Err(UsageError(format!(
                "invalid `--db-sha256` `{sha}`: expected 64 hex digits\nhint: pass the `sha256` of `pinion.db` from the database's manifest.json"
            ))
            .into());
        }
        None => DbSource::new(&db),
    }
    .with_shards(shards);
    let opts = Options {
        target,
        providers,
        nixpkgs,
        exclude_newer,
    };
    let outcome = resolver::resolve(&index, &reqs, &opts)?;
    for w in &outcome.warnings {
        warn(w);
    }
    if let Some(packages) = outcome.lock["packages"].as_object() {
        need.extend(
            packages
                .iter()
                .filter(|(_, p)| p["provider"] != "nixpkgs")
                .map(|(name, _)| db.shard_of(name)),
        );
    }
    let absent = index.missing_shards();
    if let Some(path) = &cli.need_shards {
        let names = outcome.lock["packages"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect());
        output::write_atomic(path, need_json(&db, &need, names).as_bytes())?;
        if !absent.is_empty() {
            return Ok(Exit::Success);
        }
    } else if !absent.is_empty() {
        bail!(
            "the picked files' sha256 and URLs are in the hash shards {}, which `--shards` does not hold\nhint: pass `--shards DIR` with the shards published beside the database",
            shard_names(&absent)
        );
    }
    let text = match cli.format {
        Format::Json => resolver::lock::to_json(&outcome.lock),
        Format::Nix => resolver::lock::to_nix(&outcome.lock),
    };
    match &cli.output {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        // A reader that went away (`| head`) ends quietly: `cli::finish` sees the broken pipe.
        None => output::print(&text).context("writing the lock to stdout")?,
    }
    Ok(Exit::Success)
}

/// A warning on stderr; a closed stderr must not turn a resolution into a panic.
fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {message}");
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run(Cli::parse()))
}

#[test]
fn every_argument_has_help() {
    cli::assert_documented(&<Cli as clap::CommandFactory>::command());
}
