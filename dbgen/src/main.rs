//! `dbgen`: build, inspect, verify pinion databases and synthesize crawl states.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use dbgen::Step;
use indicatif::{ProgressBar, ProgressStyle};
use pinion_db::Database;
use pinion_pep::cli::{self, Exit, UsageError};

#[derive(Parser)]
#[command(
    name = "dbgen",
    version,
    about = "Build, inspect and verify pinion databases",
    after_help = cli::exit_status_help(&cli::COMMON)
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Crawl state (SQLite) → deterministic pinion-db.tar.xz (pinion-db/manifest.json +
    /// pinion-db/pinion.db) and its hash shards.
    /// Outputs are written whole or not at all (a temporary file renamed into place).
    /// The projects read are parked in TMPDIR until they are written in name order: about a
    /// seventh of the state's size (4.2 GB at PyPI's scale).
    Build {
        /// The crawl state to read (SQLite, written by `crawler sync`; never modified).
        #[arg(long)]
        state: PathBuf,
        /// The tarball to write (`pinion-db/manifest.json` + `pinion-db/pinion.db`, xz).
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
        /// Also write the NAR sha256 (hex) of the tree the tarball unpacks to here: the
        /// `sha256` of the pin (`nix/db.json`), checked by Nix's `builtins.fetchTarball`.
        #[arg(long)]
        nar_sha256_out: Option<PathBuf>,
    },
    /// Summary statistics, or one project's releases, files and requirements.
    Inspect {
        /// The database: a raw pinion.db or the published .tar.gz.
        db: PathBuf,
        /// A project to show (any spelling of its name); without it, summary statistics.
        name: Option<String>,
        /// Directory of the database's hash shards (for one project's sha256 and URLs).
        #[arg(long)]
        shards: Option<PathBuf>,
    },
    /// Check every checksum and invariant, and with --shards every hash shard.
    Verify {
        /// The database: a raw pinion.db or the published .tar.gz.
        db: PathBuf,
        /// Directory of the database's hash shards.
        #[arg(long)]
        shards: Option<PathBuf>,
    },
    /// Write a synthetic crawl state with PyPI's shape (for benchmarks).
    Synth {
        /// Number of projects to generate.
        #[arg(long)]
        projects: usize,
        /// Seed of the generator: the same seed and count give the same state.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The crawl state to create (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run(Cli::parse()).map(|()| Exit::Success))
}

/// Writes the shard files into `dir` and removes shard files of another shard count left
/// there by an earlier build, so the directory holds exactly this database's shards.
fn write_shards(dir: &Path, shards: &[Vec<u8>]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let names: std::collections::HashSet<String> = (0..shards.len() as u32)
        .map(pinion_db::layout::shard_file_name)
        .collect();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading `{}`", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("shard-") && name.ends_with(".bin") && !names.contains(&name) {
            std::fs::remove_file(dir.join(&name))
                .with_context(|| format!("removing the stale shard `{name}`"))?;
        }
    }
    for (i, bytes) in (0u32..).zip(shards) {
        pinion_pep::output::write_atomic(&dir.join(pinion_db::layout::shard_file_name(i)), bytes)?;
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
            nar_sha256_out,
        } => {
            let created_at = created_at
                .map(|s| {
                    pinion_db::time::parse_time(&s).ok_or_else(|| {
                        UsageError(format!(
                            "invalid `--created-at` `{s}`: not RFC 3339 UTC or unix seconds\nhint: e.g. `2024-02-29T00:00:00Z` or `1709164800`"
                        ))
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
            // Drawn only when stderr is a terminal.
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {msg:12} {bar:30} {pos}/{len} projects",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let built = dbgen::write(&state, created_at, shards, &mut |step| match step {
                Step::Reading { projects } => {
                    bar.set_length(projects);
                    bar.set_message("reading");
                }
                Step::Read { projects } | Step::Written { projects } => bar.set_position(projects),
                Step::Writing => {
                    bar.set_position(0);
                    bar.set_message("writing");
                }
                Step::LayingOut => {
                    bar.set_position(bar.length().unwrap_or(0));
                    bar.set_message("laying out");
                }
            })
            .with_context(|| format!("building from `{}`", state.display()))?;
            bar.set_message("compressing");
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            // Compressing takes both cores for minutes at PyPI scale; the raw DB and the
            // shards go to disk meanwhile. Each output is replaced whole (temporary file
            // renamed): a resolver that has the old raw database memory-mapped keeps reading
            // the old file instead of dying of SIGBUS. The raw DB first: if it cannot be
            // written, no new shards or tarball are left behind either; the tarball last,
            // as it lists the shards' sha256.
            let (packed, written) = std::thread::scope(|s| {
                let packing = s.spawn(|| built.pack());
                let written = (|| -> Result<()> {
                    if let Some(raw) = &raw_out {
                        pinion_pep::output::write_atomic(raw, &built.db)?;
                    }
                    write_shards(&shards_out, &built.shards)
                })();
                (packing.join(), written)
            });
            bar.finish_and_clear();
            written?;
            let packed = match packed {
                Ok(packed) => packed,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let packed = packed.with_context(|| format!("building from `{}`", state.display()))?;
            pinion_pep::output::write_atomic(&out, &packed.tarball)?;
            if let Some(path) = &nar_sha256_out {
                pinion_pep::output::write_atomic(
                    path,
                    format!("{}\n", packed.nar_sha256).as_bytes(),
                )?;
            }
            let (l, w) = (&built.load, &built.write);
            tracing::info!(?l, ?w, "build stats");
            eprintln!(
                "wrote {} ({} bytes, unpacked tree's NAR sha256 {}; pinion.db {} bytes) and {} hash shards in {} ({} bytes): {} files kept of {}; {} removed projects left out; skipped \
                 {} files without sha256, {} with non-PEP 440 or overlong versions, {} named unlike their project and version, \
                 {} with negative sizes; dropped {} other files, {} wheels for other platforms, \
                 {} bad wheel names, {} without URL, {} empty releases, {} bad extras; {} unparsable requirements kept \
                 as notes of {} partial metadata records",
                out.display(),
                packed.tarball.len(),
                packed.nar_sha256,
                built.db.len(),
                built.shards.len(),
                shards_out.display(),
                built.shards.iter().map(Vec::len).sum::<usize>(),
                w.files_kept,
                l.files,
                l.skipped_removed_projects,
                l.skipped_no_sha256,
                l.skipped_bad_version,
                l.skipped_bad_filename,
                l.skipped_bad_size,
                w.dropped_other,
                w.dropped_platform,
                w.dropped_bad_wheel_name,
                w.dropped_no_url,
                w.dropped_empty_releases,
                w.bad_extras,
                w.bad_requirements,
                w.partial_metadata
            );
        }
        Command::Inspect { db, name, shards } => {
            let database = open_db(&db)?;
            let shards = match &shards {
                Some(dir) => pinion_db::ShardSet::load_dir(&database, dir)
                    .with_context(|| format!("reading hash shards in `{}`", dir.display()))?,
                None => pinion_db::ShardSet::new(),
            };
            match name {
                None => print(&dbgen::inspect::summary(&database))?,
                Some(n) => match dbgen::inspect::project(&database, &shards, &n) {
                    Some(text) => print(&text)?,
                    None => bail!(
                        "`{n}` is not in `{}`\nhint: names are matched after PEP 503 normalization; `dbgen inspect DB` without a name prints the summary",
                        db.display()
                    ),
                },
            }
        }
        Command::Verify { db, shards } => {
            let database = open_db(&db)?;
            database
                .verify()
                .with_context(|| format!("verifying `{}`", db.display()))?;
            if let Some(dir) = &shards {
                database
                    .verify_shards(dir)
                    .with_context(|| format!("verifying the hash shards in `{}`", dir.display()))?;
            }
            let c = database.info().counts;
            print(&format!(
                "ok: {} ({} projects, {} releases, {} files, {} hash shards{}, sha256 {})\n",
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
            ))?;
        }
        Command::Synth {
            projects,
            seed,
            out,
        } => {
            if out.exists() {
                bail!(
                    "`{}` exists; synth writes a fresh state\nhint: remove it or pass another `--out`",
                    out.display()
                );
            }
            // Written under a temporary name and moved into place when complete.
            let tmp = pinion_pep::output::temp_beside(&out)
                .with_context(|| format!("creating `{}`", out.display()))?;
            let mut conn = rusqlite::Connection::open(tmp.path())
                .with_context(|| format!("creating `{}`", out.display()))?;
            dbgen::synth::save_state(projects, seed, &mut conn)
                .context("writing the synthetic state")?;
            drop(conn);
            tmp.persist_noclobber(&out)
                .with_context(|| format!("creating `{}`", out.display()))?;
        }
    }
    Ok(())
}

/// Opens a database, naming it in the error unless the error already does (`DbError::Io`).
fn open_db(path: &Path) -> Result<Database> {
    Database::open(path).map_err(|e| match e {
        pinion_db::DbError::Io { .. } => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(format!("opening `{}`", path.display())),
    })
}

fn print(text: &str) -> Result<()> {
    pinion_pep::output::print(text).context("writing to stdout")
}

/// Refuses an output that is also an input (`--out` = `--state` would replace the crawl
/// state with a tarball).
fn ensure_distinct(input: &std::path::Path, output: &std::path::Path) -> Result<()> {
    pinion_pep::output::ensure_distinct(input, output).map_err(|e| {
        anyhow::anyhow!(
            "{e}: refusing to overwrite an input\nhint: give `--out` and `--raw-out` paths of their own"
        )
    })
}

#[test]
fn every_argument_has_help() {
    cli::assert_documented(&<Cli as clap::CommandFactory>::command());
}
