//! `dbgen`: build, inspect, verify pinion databases and synthesize crawl states.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use pinion_db::Database;
use pinion_pep::output;

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
    },
    /// Summary statistics, or one project's releases, files and requirements.
    Inspect { db: PathBuf, name: Option<String> },
    /// Check every checksum and invariant.
    Verify { db: PathBuf },
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Build {
            state,
            out,
            created_at,
            raw_out,
        } => {
            let created_at = created_at
                .map(|s| {
                    pinion_db::time::parse_time(&s).with_context(|| {
                        format!("--created-at {s:?} is not RFC 3339 UTC or unix seconds")
                    })
                })
                .transpose()?;
            let built = dbgen::build(&state, created_at)
                .with_context(|| format!("building from {}", state.display()))?;
            // Replaced whole (temporary file renamed): a resolver that has the old raw
            // database memory-mapped keeps reading the old file instead of dying of SIGBUS.
            output::write_atomic(&out, &built.tarball)?;
            if let Some(raw) = raw_out {
                output::write_atomic(&raw, &built.db)?;
            }
            let (l, w) = (&built.load, &built.write);
            tracing::info!(?l, ?w, "build stats");
            eprintln!(
                "wrote {} ({} bytes; pinion.db {} bytes): {} files kept of {}; skipped {} requirement rows with NULL canonical, \
                 {} files without sha256, {} with non-PEP 440 or overlong versions, {} named unlike their project and version, \
                 {} with negative sizes; dropped {} other files, {} wheels for other platforms, \
                 {} bad wheel names, {} without URL, {} empty releases, {} unparsable requirements, {} bad extras",
                out.display(),
                built.tarball.len(),
                built.db.len(),
                w.files_kept,
                l.files,
                l.skipped_requirements,
                l.skipped_no_sha256,
                l.skipped_bad_version,
                l.skipped_bad_filename,
                l.skipped_bad_size,
                w.dropped_other,
                w.dropped_platform,
                w.dropped_bad_wheel_name,
                w.dropped_no_url,
                w.dropped_empty_releases,
                w.bad_requirements,
                w.bad_extras
            );
        }
        Command::Inspect { db, name } => {
            let database =
                Database::open(&db).with_context(|| format!("opening {}", db.display()))?;
            match name {
                None => print!("{}", dbgen::inspect::summary(&database)),
                Some(n) => match dbgen::inspect::project(&database, &n) {
                    Some(text) => print!("{text}"),
                    None => bail!("{n} is not in {}", db.display()),
                },
            }
        }
        Command::Verify { db } => {
            let database =
                Database::open(&db).with_context(|| format!("opening {}", db.display()))?;
            database
                .verify()
                .with_context(|| format!("verifying {}", db.display()))?;
            let c = database.info().counts;
            println!(
                "ok: {} ({} projects, {} releases, {} files, sha256 {})",
                db.display(),
                c.projects,
                c.releases,
                c.files,
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
