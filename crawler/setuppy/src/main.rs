//! `pinion-setuppy SDIST...`: runs each sdist's setup.py in the sandbox and prints one JSON
//! object per sdist (runs and merged requirements) on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use pinion_pep::cli::{self, Exit};
use pinion_setuppy::{SandboxConfig, merge_runs, run_many};

#[derive(Parser)]
#[command(
    about = "Run setup.py of sdists in a bubblewrap sandbox and print the recorded requirements",
    after_help = cli::exit_status_help(&cli::COMMON)
)]
struct Args {
    /// Interpreter to run setup.py with (repeatable); default: see PINION_SETUPPY_PYTHONS.
    #[arg(long)]
    python: Vec<PathBuf>,
    /// Parallel sandboxes.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Wall-clock limit per interpreter run, seconds.
    #[arg(long)]
    wall_seconds: Option<u64>,
    /// sdist files (.tar.gz, .tar.bz2, .zip).
    #[arg(required = true)]
    sdists: Vec<PathBuf>,
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run().map(|()| Exit::Success))
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut cfg = SandboxConfig::detect()?;
    if !args.python.is_empty() {
        cfg.pythons = args.python;
    }
    if let Some(wall) = args.wall_seconds {
        cfg.wall_seconds = wall;
    }
    let mut jobs = Vec::new();
    for path in &args.sdists {
        let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        jobs.push((name, bytes));
    }
    let names: Vec<String> = jobs.iter().map(|(n, _)| n.clone()).collect();
    for (name, result) in names.iter().zip(run_many(jobs, &cfg, args.threads)) {
        let value = match result {
            Ok(runs) => {
                serde_json::json!({ "sdist": name, "runs": runs, "merged": merge_runs(&runs) })
            }
            Err(e) => serde_json::json!({ "sdist": name, "error": e.to_string() }),
        };
        pinion_pep::output::print(&format!("{value}\n")).context("writing to stdout")?;
    }
    Ok(())
}

#[test]
fn every_argument_has_help() {
    cli::assert_documented(&<Args as clap::CommandFactory>::command());
}
