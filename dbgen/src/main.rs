//! `dbgen`: build, inspect, verify pinion databases and synthesize crawl states.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use resolver::db::Database;

#[derive(Parser)]
#[command(
    name = "dbgen",
    version,
    about = "Build, inspect and verify pinion databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Crawl state (SQLite) → deterministic pinion-db.tar.gz (manifest.json + pinion.db).
    Build {
        #[arg(long)]
        state: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// RFC 3339 UTC or unix seconds; defaults to the state's last_sync_finished_at.
        #[arg(long)]
        created_at: Option<String>,
        /// Also write the raw database file here (for mmap use).
        #[arg(long)]
        raw_out: Option<PathBuf>,
        /// Directory to write the hash shards into (`shard-XXXX.bin`, published beside the
        /// tarball); created if missing, stale shard files in it are replaced.
        #[arg(long)]
        shards_out: PathBuf,
        /// Number of hash shards, a power of two (default: one per ~57 projects).
        #[arg(long)]
        shards: Option<u32>,
    },
    /// Summary statistics, or one project's releases, files and requirements.
    Inspect {
        db: PathBuf,
        name: Option<String>,
        /// Directory of the database's hash shards (for one project's sha256 and URLs).
        #[arg(long)]
        shards: Option<PathBuf>,
    },
    /// Check every checksum and invariant, and with --shards every hash shard.
    Verify {
        db: PathBuf,
        /// Directory of the database's hash shards.
        #[arg(long)]
        shards: Option<PathBuf>,
    },
    /// Write a synthetic crawl state with PyPI's shape (for benchmarks).
    Synth {
        #[arg(long)]
        projects: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dbgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let tmp = dir.unwrap_or(Path::new(".")).join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Writes the shard files into `dir` and removes shard files of another shard count left
/// there by an earlier build, so the directory holds exactly this database's shards.
fn write_shards(dir: &Path, shards: &[Vec<u8>]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let names: std::collections::HashSet<String> = (0..shards.len() as u32)
        .map(resolver::db::layout::shard_file_name)
        .collect();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("shard-") && name.ends_with(".bin") && !names.contains(&name) {
            std::fs::remove_file(dir.join(&name))
                .with_context(|| format!("removing the stale shard {name}"))?;
        }
    }
    for (i, bytes) in (0u32..).zip(shards) {
        write_atomic(&dir.join(resolver::db::layout::shard_file_name(i)), bytes)?;
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Build {
            state,
            out,
            created_at,
            raw_out,
            shards_out,
            shards,
        } => {
            let created_at = created_at
                .map(|s| {
                    dbgen::time::parse_time(&s).with_context(|| {
                        format!("--created-at {s:?} is not RFC 3339 UTC or unix seconds")
                    })
                })
                .transpose()?;
            let built = dbgen::build(&state, created_at, shards)
                .with_context(|| format!("building from {}", state.display()))?;
            write_shards(&shards_out, &built.shards)?;
            write_atomic(&out, &built.tarball)?;
            if let Some(raw) = raw_out {
                write_atomic(&raw, &built.db)?;
            }
            let (l, w) = (&built.load, &built.write);
            tracing::info!(?l, ?w, "build stats");
            eprintln!(
                "wrote {} ({} bytes; pinion.db {} bytes) and {} hash shards in {} ({} bytes): {} files kept of {}; skipped {} requirement rows with NULL canonical, \
                 {} files without sha256, {} with non-PEP 440 versions; dropped {} other files, {} wheels for other platforms, \
                 {} bad wheel names, {} without URL, {} empty releases, {} unparsable requirements, {} bad extras",
                out.display(),
                built.tarball.len(),
                built.db.len(),
                built.shards.len(),
                shards_out.display(),
                built.shards.iter().map(Vec::len).sum::<usize>(),
                w.files_kept,
                l.files,
                l.skipped_requirements,
                l.skipped_no_sha256,
                l.skipped_bad_version,
                w.dropped_other,
                w.dropped_platform,
                w.dropped_bad_wheel_name,
                w.dropped_no_url,
                w.dropped_empty_releases,
                w.bad_requirements,
                w.bad_extras
            );
        }
        Command::Inspect { db, name, shards } => {
            let database =
                Database::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let shards = match &shards {
                Some(dir) => resolver::db::ShardSet::load_dir(&database, dir)
                    .with_context(|| format!("reading hash shards in {}", dir.display()))?,
                None => resolver::db::ShardSet::new(),
            };
            match name {
                None => print!("{}", dbgen::inspect::summary(&database)),
                Some(n) => match dbgen::inspect::project(&database, &shards, &n) {
                    Some(text) => print!("{text}"),
                    None => bail!("{n} is not in {}", db.display()),
                },
            }
        }
        Command::Verify { db, shards } => {
            let database =
                Database::open(&db).with_context(|| format!("opening {}", db.display()))?;
            database
                .verify()
                .with_context(|| format!("verifying {}", db.display()))?;
            if let Some(dir) = &shards {
                database
                    .verify_shards(dir)
                    .with_context(|| format!("verifying the hash shards in {}", dir.display()))?;
            }
            let c = database.info().counts;
            println!(
                "ok: {} ({} projects, {} releases, {} files, {} hash shards{}, sha256 {})",
                db.display(),
                c.projects,
                c.releases,
                c.files,
                database.shard_count(),
                if shards.is_some() {
                    " checked"
                } else {
                    " not checked"
                },
                database.sha256_hex()
            );
        }
        Command::Synth {
            projects,
            seed,
            out,
        } => {
            let universe = dbgen::synth::universe(projects, seed);
            if out.exists() {
                bail!("{} exists; synth writes a fresh state", out.display());
            }
            let mut conn = rusqlite::Connection::open(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            dbgen::state::save(&universe, dbgen::synth::FINISHED_AT, &mut conn)
                .context("writing the synthetic state")?;
        }
    }
    Ok(())
}
