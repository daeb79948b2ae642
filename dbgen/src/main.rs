//! `dbgen`: build, inspect, verify pinion databases and synthesize crawl states.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use pinion_db::Database;

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
    /// Outputs are written whole or not at all (a temporary file renamed into place).
    Build {
        /// The crawl state to read (never written).
        #[arg(long)]
        state: PathBuf,
        /// The tarball to write.
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
        // `dbgen inspect DB | head -1`: the reader has what it wanted.
        Err(e) if pinion_pep::output::is_broken_pipe(e.as_ref()) => {
            ExitCode::from(pinion_pep::output::EXIT_BROKEN_PIPE)
        }
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
            let outputs = std::iter::once(&out).chain(raw_out.as_ref());
            for o in outputs.clone() {
                ensure_distinct(&state, o)?;
            }
            if let Some(raw) = &raw_out {
                ensure_distinct(&out, raw)?;
            }
            let built = dbgen::build(&state, created_at)
                .with_context(|| format!("building from {}", state.display()))?;
            // Replaced whole (temporary file renamed): a resolver that has the old raw
            // database memory-mapped keeps reading the old file instead of dying of SIGBUS.
            // The raw DB first: if it cannot be written, no new tarball is left behind either.
            if let Some(raw) = &raw_out {
                pinion_pep::output::write_atomic(raw, &built.db)?;
            }
            pinion_pep::output::write_atomic(&out, &built.tarball)?;
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
                None => print(&dbgen::inspect::summary(&database))?,
                Some(n) => match dbgen::inspect::project(&database, &n) {
                    Some(text) => print(&text)?,
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
            print(&format!(
                "ok: {} ({} projects, {} releases, {} files, sha256 {})\n",
                db.display(),
                c.projects,
                c.releases,
                c.files,
                database.sha256_hex()
            ))?;
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
            // Written under a temporary name and moved into place when complete.
            let tmp = pinion_pep::output::temp_beside(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            let mut conn = rusqlite::Connection::open(tmp.path())
                .with_context(|| format!("creating {}", out.display()))?;
            dbgen::state::save(&universe, dbgen::synth::FINISHED_AT, &mut conn)
                .context("writing the synthetic state")?;
            drop(conn);
            tmp.persist_noclobber(&out)
                .with_context(|| format!("creating {}", out.display()))?;
        }
    }
    Ok(())
}

fn print(text: &str) -> Result<()> {
    pinion_pep::output::print(text).context("writing to stdout")
}

/// Refuses an output that is also an input (`--out` = `--state` would replace the crawl
/// state with a tarball).
fn ensure_distinct(input: &std::path::Path, output: &std::path::Path) -> Result<()> {
    pinion_pep::output::ensure_distinct(input, output).map_err(|e| {
        anyhow::anyhow!(
            "{e}: refusing to overwrite an input\nhint: give --out and --raw-out paths of their own"
        )
    })
}
