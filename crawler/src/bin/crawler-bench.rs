//! `crawler-bench`: crawl throughput against a loopback index of synthetic wheels, with and
//! without PEP 658 sidecars. Prints files/s, requests/file, bytes/file vs METADATA size and
//! peak RSS (of this process, which also runs the index server).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use crawler::http::{Http, HttpConfig};
use crawler::state::State;
use crawler::sync::SyncOptions;
use crawler::testindex::{Config, TestFile, TestIndex, metadata_text, sync_options, wheel};
use pinion_pep::cli::{self, Exit};

#[derive(Parser)]
#[command(
    about = "Benchmark the crawler against a loopback index",
    after_help = cli::exit_status_help(&cli::COMMON)
)]
struct Args {
    /// Wheel files in the index.
    #[arg(long, default_value_t = 20_000)]
    files: usize,
    /// Files per project.
    #[arg(long, default_value_t = 20)]
    per_project: usize,
    /// Concurrent HTTP requests of the crawler.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Size of the (incompressible) module inside each wheel.
    #[arg(long, default_value_t = 20_000)]
    pad: usize,
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run().map(|()| Exit::Success))
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let index = TestIndex::start(Config::default()).await?;
    let per = args.per_project.max(1);
    let mut metadata_bytes = 0u64;
    let description = "A synthetic project used to benchmark the pinion crawler. ".repeat(12);
    for i in 0..args.files {
        let (project, version) = (format!("proj{:05}", i / per), format!("1.{}", i % per));
        let deps = [
            format!("proj{:05}>=1.0", (i / per + 1) % 1000),
            "requests>=2.28".into(),
            "typing-extensions; python_version < '3.11'".into(),
        ];
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        let meta = format!(
            "{}Summary: benchmark wheel\n\n{description}\n",
            metadata_text(&project, &version, &deps)
        );
        metadata_bytes += meta.len() as u64;
        let bytes = wheel(&project, &version, meta.as_bytes(), args.pad);
        index.add_file(
            &project,
            TestFile::new(&format!("{project}-{version}-py3-none-any.whl"), bytes)
                .with_metadata(meta),
        );
    }
    let projects: Vec<String> = (0..args.files.div_ceil(per))
        .map(|p| format!("proj{p:05}"))
        .collect();
    let avg_meta = metadata_bytes as f64 / args.files as f64;
    println!(
        "{} wheels in {} projects, METADATA {avg_meta:.0} B avg, wheel module {} B",
        args.files,
        projects.len(),
        args.pad
    );

    for (label, sidecars) in [("with PEP 658", true), ("without PEP 658 (range)", false)] {
        index.set_config(|c| c.sidecars = sidecars);
        index.clear_requests();
        let sent_before = index.bytes_sent();
        let dir = tempfile::tempdir()?;
        let state = State::open(&dir.path().join("bench.sqlite"))?;
        let http = Http::new(HttpConfig {
            concurrency: args.concurrency,
            timeout: Duration::from_secs(60),
            ..HttpConfig::default()
        })?;
        let names: Vec<&str> = projects.iter().map(String::as_str).collect();
        let opts = SyncOptions {
            concurrency: args.concurrency,
            ..sync_options(&index.index_url(), &names)
        };
        let started = Instant::now();
        let summary = crawler::sync::sync(state, http, opts)
            .await
            .context("sync")?;
        let secs = started.elapsed().as_secs_f64();
        let n = summary.metadata_fetched() as f64;
        anyhow::ensure!(
            summary.metadata_fetched() as usize == args.files && summary.files_failed == 0,
            "incomplete: {summary:?}"
        );
        let log = index.requests();
        let requests = log.len() as f64;
        let sidecar_probes = log.iter().filter(|r| r.path.ends_with(".metadata")).count();
        let ranged = log.iter().filter(|r| r.range.is_some()).count();
        let bytes = (index.bytes_sent() - sent_before) as f64;
        println!(
            "{label:<26} {:>8.0} files/s  {:>5.2} requests/file  {:>7.0} B/file ({:.2}x METADATA)  {:.1} s\n{:<26} ({} pages, {sidecar_probes} .metadata, {ranged} range requests)",
            n / secs,
            requests / n,
            bytes / n,
            bytes / n / avg_meta,
            secs,
            "",
            projects.len(),
        );
    }
    println!(
        "peak RSS {} MiB (crawler and index server together)",
        peak_rss_kib().unwrap_or(0) / 1024
    );
    Ok(())
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
