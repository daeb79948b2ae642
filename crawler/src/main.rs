//! `crawler`: the command-line front end of the pinion crawler.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use crawler::fetch::FetchOptions;
use crawler::http::{Http, HttpConfig};
use crawler::state::{OnLocked, State};
use crawler::sync::{Selection, SyncOptions};
use pinion_pep::cli::{self, Exit, UsageError};

#[derive(Parser)]
#[command(
    name = "crawler",
    version,
    about = "Crawl a Python package index into a pinion crawl state",
    after_help = cli::exit_status_help(&Exit::ALL)
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch project pages and the metadata of every file not yet in the state.
    #[command(after_help = cli::exit_status_help(&Exit::ALL))]
    Sync(SyncArgs),
    /// Run the setup.py sandbox over sdists of a state whose requirements are still unknown
    /// or partial (resumable: files already tried are skipped).
    SetupPy(SetupPyArgs),
    /// Share of files with known, partial and unknown requirements, per kind and upload
    /// year, by source and cause.
    Coverage {
        /// The crawl state.
        #[arg(long)]
        state: PathBuf,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Combine the states of sharded crawls (`sync --shard I/N`) into one.
    Merge {
        /// The merged state (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Shard states, merged in order (the first wins where they overlap).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct SyncArgs {
    /// The crawl state (SQLite, created if missing). Locked while the sync runs
    /// (`<state>.lock`): a second crawler on it exits with an error, or waits with --wait.
    #[arg(long)]
    state: PathBuf,
    /// When another crawler holds the state, wait for it to finish instead of exiting.
    #[arg(long)]
    wait: bool,
    /// Longest time one HTTP request may take, retries included (seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = crawler::http::DEFAULT_DEADLINE.as_secs_f64())]
    request_deadline: f64,
    /// Simple-repository root (PEP 503/691).
    #[arg(long, default_value = "https://pypi.org/simple/")]
    index: String,
    /// Projects to crawl (repeatable).
    #[arg(long = "project", value_name = "NAME")]
    projects: Vec<String>,
    /// File with one project name per line (`#` comments allowed; requirement lines work too).
    #[arg(long)]
    projects_file: Option<PathBuf>,
    /// Crawl every project listed on the index root page.
    #[arg(long, conflicts_with_all = ["projects", "projects_file"])]
    all: bool,
    /// Concurrent HTTP requests.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Maximum requests per second (0 = unlimited).
    #[arg(long, default_value_t = 0.0)]
    rate_limit: f64,
    /// Also crawl projects required by crawled files (transitively).
    #[arg(long)]
    follow_deps: bool,
    /// Skip files uploaded before this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    uploaded_since: Option<String>,
    /// With --uploaded-since: still record each project's N most recently uploaded releases.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        requires = "uploaded_since"
    )]
    keep_releases: usize,
    /// Retry files that failed 3 or more times before.
    #[arg(long)]
    retry_failed: bool,
    /// Never try `.metadata` sidecars that the index does not advertise.
    #[arg(long)]
    no_unadvertised_sidecars: bool,
    /// Run setup.py in a bubblewrap sandbox for sdists whose requirements static reading
    /// leaves unknown (needs `bwrap`; see pinion-setuppy).
    #[arg(long)]
    run_setup_py: bool,
    /// Interpreter for --run-setup-py (repeatable; default: /usr/bin/python3 or
    /// $PINION_SETUPPY_PYTHONS).
    #[arg(
        long = "setup-py-python",
        value_name = "PYTHON",
        requires = "run_setup_py"
    )]
    setup_py_pythons: Vec<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json_summary: bool,
    /// Crawl only projects whose name hashes to shard I of N (see `crawler merge`).
    #[arg(long, value_name = "I/N")]
    shard: Option<crawler::merge::Shard>,
}

#[derive(clap::Args)]
struct SetupPyArgs {
    /// The crawl state (must exist).
    #[arg(long)]
    state: PathBuf,
    /// Only these projects (repeatable; normalized names).
    #[arg(long = "project", value_name = "NAME")]
    projects: Vec<String>,
    /// Also retry sdists whose setup.py was already run (or could not be).
    #[arg(long)]
    retry: bool,
    /// Interpreter (repeatable; default: /usr/bin/python3 or $PINION_SETUPPY_PYTHONS).
    #[arg(long = "setup-py-python", value_name = "PYTHON")]
    pythons: Vec<PathBuf>,
}

fn main() -> ExitCode {
    cli::init_logging("info");
    cli::finish(run())
}

fn run() -> anyhow::Result<Exit> {
    match Cli::parse().command {
        Command::Sync(args) => sync(args),
        Command::SetupPy(args) => setup_py(args),
        Command::Coverage { state, json } => {
            if !state.exists() {
                bail!(
                    "`{}` does not exist\nhint: crawl first with `crawler sync --state {}`",
                    state.display(),
                    state.display()
                );
            }
            let state = State::open(&state)?;
            let cov = crawler::coverage::compute(state.connection())
                .context("reading the crawl state")?;
            if json {
                print(&format!("{}\n", serde_json::to_string_pretty(&cov)?))?;
            } else {
                print(&cov.render())?;
            }
            Ok(Exit::Success)
        }
        Command::Merge { out, shards } => {
            let shards: Vec<&std::path::Path> = shards.iter().map(PathBuf::as_path).collect();
            crawler::merge::merge(&out, &shards)?;
            print(&format!(
                "merged {} shards into {}\n",
                shards.len(),
                out.display()
            ))?;
            Ok(Exit::Success)
        }
    }
}

fn sync(args: SyncArgs) -> anyhow::Result<Exit> {
    let selection = if args.all {
        Selection::All
    } else {
        let mut names = args.projects.clone();
        if let Some(path) = &args.projects_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading `{}`", path.display()))?;
            names.extend(project_names(&text));
        }
        if names.is_empty() {
            return Err(UsageError(
                "nothing to crawl\nhint: give `--project NAME`, `--projects-file FILE` or `--all`"
                    .into(),
            )
            .into());
        }
        Selection::Projects(names)
    };
    let uploaded_since = match &args.uploaded_since {
        Some(d) => Some(crawler::simple::parse_timestamp(d).ok_or_else(|| {
            UsageError(format!(
                "invalid `--uploaded-since` `{d}`: expected YYYY-MM-DD or an RFC 3339 timestamp\nhint: e.g. `2024-06-01` or `2024-06-01T00:00:00Z`"
            ))
        })?),
        None => None,
    };
    let setup_py = if args.run_setup_py {
        let mut cfg = pinion_setuppy::SandboxConfig::detect()
            .context("`--run-setup-py` needs the setup.py sandbox")?;
        if !args.setup_py_pythons.is_empty() {
            cfg.pythons = args.setup_py_pythons.clone();
        }
        Some(std::sync::Arc::new(cfg))
    } else {
        None
    };
    let deadline = Duration::try_from_secs_f64(args.request_deadline)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            UsageError(format!(
                "invalid `--request-deadline` `{}`: expected a positive number of seconds",
                args.request_deadline
            ))
        })?;
    let on_locked = if args.wait {
        OnLocked::Wait
    } else {
        OnLocked::Fail
    };
    let state = State::open_with(&args.state, on_locked).map_err(|e| match e {
        crawler::state::StateError::Locked { .. } => {
            anyhow::anyhow!("{e}\nhint: wait for it to finish, or pass `--wait` to queue behind it")
        }
        e => e.into(),
    })?;
    let http = Http::new(HttpConfig {
        concurrency: args.concurrency.max(1),
        rate_limit: (args.rate_limit > 0.0).then_some(args.rate_limit),
        deadline,
        ..HttpConfig::default()
    })?;
    let opts = SyncOptions {
        index_url: args.index.clone(),
        selection,
        follow_deps: args.follow_deps,
        uploaded_since,
        keep_releases: args.keep_releases,
        retry_failed: args.retry_failed,
        concurrency: args.concurrency.max(1),
        progress: std::io::stderr().is_terminal(),
        fetch: FetchOptions {
            try_sidecar: !args.no_unadvertised_sidecars,
            setup_py,
            ..FetchOptions::default()
        },
        shard: args.shard,
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let summary = rt.block_on(crawler::sync::sync(state, http, opts))?;
    rt.shutdown_timeout(Duration::from_secs(1));
    if args.json_summary {
        eprint!("{}", summary.render());
        print(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
    } else {
        print(&summary.render())?;
    }
    let failed = summary.files_failed > 0 || !summary.projects_failed.is_empty();
    Ok(if failed { Exit::Partial } else { Exit::Success })
}

fn print(text: &str) -> anyhow::Result<()> {
    pinion_pep::output::print(text).context("writing to stdout")
}

fn setup_py(args: SetupPyArgs) -> anyhow::Result<Exit> {
    if !args.state.exists() {
        bail!(
            "`{}` does not exist\nhint: crawl first with `crawler sync --state {}`",
            args.state.display(),
            args.state.display()
        );
    }
    let mut cfg = pinion_setuppy::SandboxConfig::detect()
        .context("`crawler setup-py` needs the setup.py sandbox")?;
    if !args.pythons.is_empty() {
        cfg.pythons = args.pythons.clone();
    }
    let mut state = State::open(&args.state)?;
    let http = Http::new(HttpConfig::default())?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let summary = rt.block_on(crawler::setup_py_cmd::run(
        &mut state,
        &http,
        std::sync::Arc::new(cfg),
        &args.projects,
        args.retry,
    ))?;
    print(&format!(
        "setup-py: {} sdists tried, {} now known, {} still unknown, {} not run\n",
        summary.candidates, summary.now_known, summary.still_unknown, summary.not_run
    ))?;
    Ok(Exit::Success)
}

/// Project names from a list file: the leading name of each non-comment line, so plain
/// requirement lines (`flask>=2`) work as well.
fn project_names(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(|l| {
            let end = l
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
                .unwrap_or(l.len());
            l[..end].to_string()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn every_argument_has_help() {
    cli::assert_documented(&<Cli as clap::CommandFactory>::command());
}
