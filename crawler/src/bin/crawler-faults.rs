//! `crawler-faults`: the fault-injection run. Against a loopback index it makes pages, files
//! and the root misbehave (error pages served with 200, truncated and foreign pages, drips,
//! hangs, resets, absurd lengths, 429 storms), kills real `crawler` processes with SIGKILL at
//! many moments and restarts them, and starts two crawlers on one state. It prints the cases
//! tried, the rows lost (against an undisturbed crawl), duplicate fetches, the longest time a
//! stalled server held a request, and peak memory. Loopback only; a few minutes.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use crawler::http::{Http, HttpConfig};
use crawler::state::State;
use crawler::sync::{Selection, Summary, SyncOptions};
use crawler::testindex::{Config, Fault, TestFile, TestIndex, metadata_text, sync_options, wheel};
use pinion_pep::cli::{self, Exit};
use rusqlite::Connection;

#[derive(Parser)]
#[command(
    about = "Fault-injection run of the crawler against a loopback index",
    after_help = cli::exit_status_help(&cli::COMMON)
)]
struct Args {
    /// Overall deadline of one request, retries included (seconds).
    #[arg(long, default_value_t = 3.0)]
    deadline: f64,
    /// SIGKILL/restart cycles of a real crawler process.
    #[arg(long, default_value_t = 30)]
    kills: usize,
    /// The `crawler` binary (default: next to this one).
    #[arg(long)]
    crawler: Option<PathBuf>,
}

#[derive(Default)]
struct Tally {
    cases: usize,
    failed: Vec<String>,
    rows_lost: usize,
    duplicate_fetches: usize,
    max_give_up: Duration,
    child_peak_kib: u64,
}

impl Tally {
    fn check(&mut self, case: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.cases += 1;
        if ok {
            println!("ok      {case}");
        } else {
            println!("FAILED  {case}: {}", detail());
            self.failed.push(case.to_string());
        }
    }
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run().map(|()| Exit::Success))
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let crawler = match &args.crawler {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("crawler"),
    };
    ensure!(
        crawler.is_file(),
        "`{}` not found\nhint: build it first (`cargo build -p crawler`), or pass `--crawler PATH`",
        crawler.display()
    );
    let deadline = Duration::from_secs_f64(args.deadline);
    let rt = tokio::runtime::Runtime::new()?;
    let mut t = Tally::default();
    let started = Instant::now();
    rt.block_on(async {
        page_faults(&mut t, deadline).await?;
        file_faults(&mut t, deadline).await?;
        root_faults(&mut t, deadline).await?;
        kill_cycles(&mut t, &crawler, args.kills).await?;
        second_crawler(&mut t, &crawler).await
    })?;
    println!("cases tried:             {}", t.cases);
    println!("cases failed:            {}", t.failed.len());
    println!("rows lost:               {}", t.rows_lost);
    println!(
        "duplicate fetches:       {} (files recorded before a kill and fetched again)",
        t.duplicate_fetches
    );
    println!(
        "max time to give up:     {:.2} s (request deadline {:.1} s)",
        t.max_give_up.as_secs_f64(),
        deadline.as_secs_f64()
    );
    println!(
        "peak memory (VmHWM):     {} MiB this process (index + in-process syncs), {} MiB largest crawler child",
        vm_hwm_kib() / 1024,
        t.child_peak_kib / 1024
    );
    println!(
        "wall time:               {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !t.failed.is_empty() || t.rows_lost > 0 || t.duplicate_fetches > 0 {
        bail!("{} cases failed", t.failed.len());
    }
    Ok(())
}

fn http(deadline: Duration) -> anyhow::Result<Http> {
    Ok(Http::new(HttpConfig {
        concurrency: 8,
        backoff_base: Duration::from_millis(20),
        timeout: deadline,
        deadline,
        ..HttpConfig::default()
    })?)
}

async fn sync(path: &Path, opts: SyncOptions, deadline: Duration) -> anyhow::Result<Summary> {
    Ok(crawler::sync::sync(State::open(path)?, http(deadline)?, opts).await?)
}

fn wheel_file(name: &str, version: &str, pad: usize) -> TestFile {
    let meta = metadata_text(name, version, &["dep>=1"]);
    let bytes = wheel(name, version, meta.as_bytes(), pad);
    TestFile::new(&format!("{name}-{version}-py3-none-any.whl"), bytes).with_metadata(meta)
}

fn count(path: &Path, sql: &str) -> anyhow::Result<usize> {
    let n: i64 = Connection::open(path)?.query_row(sql, [], |r| r.get(0))?;
    Ok(n as usize)
}

fn rows(path: &Path) -> anyhow::Result<usize> {
    Ok(count(path, "SELECT count(*) FROM files")?
        + count(path, "SELECT count(*) FROM file_metadata")?)
}

/// Pages that are not what they claim or never arrive: the project fails, nothing recorded
/// is removed, and the sync ends within the deadline.
async fn page_faults(t: &mut Tally, deadline: Duration) -> anyhow::Result<()> {
    let json = "application/vnd.pypi.simple.v1+json";
    let overrides: [(&str, &str, &[u8]); 4] = [
        ("json-error", json, br#"{"message": "upstream timed out"}"#),
        (
            "json-no-files",
            json,
            br#"{"meta": {"api-version": "1.1"}}"#,
        ),
        (
            "json-foreign",
            json,
            br#"{"meta": {"api-version": "1.1"}, "name": "other", "files": []}"#,
        ),
        (
            "html-empty",
            "text/html",
            b"<html><body>maintenance</body></html>",
        ),
    ];
    let faults = [
        ("error-page-200", Fault::ErrorPage),
        ("truncated", Fault::Truncated),
        (
            "drip",
            Fault::Drip {
                interval: Duration::from_millis(200),
            },
        ),
        ("hang", Fault::Hang),
        ("hang-after-headers", Fault::HangAfterHeaders),
        ("reset", Fault::Reset),
        ("huge-length", Fault::HugeLength { len: 2 << 30 }),
    ];
    for html in [false, true] {
        let index = TestIndex::start(Config {
            html_only: html,
            ..Config::default()
        })
        .await?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("s.sqlite");
        let cases = overrides
            .iter()
            .map(|(n, ..)| *n)
            .chain(faults.iter().map(|(n, _)| *n));
        for name in cases {
            // Wheel names spell `-` as `_` (PEP 427).
            let dist = name.replace('-', "_");
            for v in 0..5 {
                index.add_file(name, wheel_file(&dist, &format!("1.{v}"), 10));
            }
            sync(&path, sync_options(&index.index_url(), &[name]), deadline).await?;
            let before = rows(&path)?;
            match overrides.iter().find(|(n, ..)| *n == name) {
                Some((_, ct, body)) => index.override_page(name, ct, body),
                None => {
                    let fault = faults
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, f)| f.clone());
                    index.set_page_fault(name, fault.unwrap_or_default());
                }
            }
            let started = Instant::now();
            let s = sync(&path, sync_options(&index.index_url(), &[name]), deadline).await?;
            let took = started.elapsed();
            t.max_give_up = t.max_give_up.max(took);
            let lost = before.saturating_sub(rows(&path)?);
            t.rows_lost += lost;
            let case = format!("page {name} ({})", if html { "html" } else { "json" });
            t.check(
                &case,
                s.projects_failed == [name] && lost == 0 && took < deadline * 2,
                || format!("failed {:?}, {lost} rows lost, {took:?}", s.projects_failed),
            );
        }
    }
    Ok(())
}

/// Files that stall, reset, lie about their size or are not archives: recorded errors.
async fn file_faults(t: &mut Tally, deadline: Duration) -> anyhow::Result<()> {
    let index = TestIndex::start(Config::whole_files()).await?;
    let faults = [
        Fault::Drip {
            interval: Duration::from_millis(100),
        },
        Fault::Hang,
        Fault::HangAfterHeaders,
        Fault::Reset,
        Fault::HugeLength { len: 2 << 30 },
        Fault::ErrorPage,
        Fault::Truncated,
        Fault::TooManyRequests {
            times: 1000,
            retry_after: 1,
        },
    ];
    for (i, f) in faults.iter().enumerate() {
        let mut file = wheel_file("stall", &format!("1.{i}"), 4000);
        file.fault = f.clone();
        index.add_file("stall", file);
    }
    index.add_file("stall", wheel_file("stall", "2.0", 10));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.sqlite");
    let started = Instant::now();
    let s = sync(
        &path,
        sync_options(&index.index_url(), &["stall"]),
        deadline,
    )
    .await?;
    let took = started.elapsed();
    t.max_give_up = t.max_give_up.max(took);
    let errors = count(&path, "SELECT count(*) FROM file_errors")?;
    t.check(
        "files: stalls, resets, lies",
        s.metadata_fetched() == 1 && errors == faults.len() && took < deadline * 2,
        || {
            format!(
                "{} fetched, {errors} errors, {took:?}",
                s.metadata_fetched()
            )
        },
    );
    Ok(())
}

/// A root listing that is not one fails the `--all` sync and leaves `last_sync_finished_at`.
async fn root_faults(t: &mut Tally, deadline: Duration) -> anyhow::Result<()> {
    let index = TestIndex::start(Config::default()).await?;
    index.add_file("kept", wheel_file("kept", "1.0", 10));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.sqlite");
    let all = || SyncOptions {
        selection: Selection::All,
        ..sync_options(&index.index_url(), &[])
    };
    sync(&path, all(), deadline).await?;
    let finished = || -> anyhow::Result<Option<String>> {
        Ok(State::open(&path)?.meta("last_sync_finished_at")?)
    };
    let before = (finished()?, rows(&path)?);
    for (name, fault) in [
        ("error-page-200", Fault::ErrorPage),
        ("truncated", Fault::Truncated),
        ("hang", Fault::Hang),
    ] {
        index.set_root_fault(fault);
        let started = Instant::now();
        let r = sync(&path, all(), deadline).await;
        t.max_give_up = t.max_give_up.max(started.elapsed());
        let after = (finished()?, rows(&path)?);
        t.check(
            &format!("root {name}"),
            r.is_err() && after == before,
            || {
                format!(
                    "sync {}, state {before:?} -> {after:?}",
                    if r.is_ok() { "succeeded" } else { "failed" }
                )
            },
        );
    }
    Ok(())
}

fn spawn(crawler: &Path, index: &TestIndex, state: &Path, args: &[&str]) -> anyhow::Result<Child> {
    Command::new(crawler)
        .args(["sync", "--state"])
        .arg(state)
        .args(["--index", &index.index_url()])
        .args(args)
        .env(cli::LOG_ENV, "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the crawler")
}

fn dump(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    let c = Connection::open(path)?;
    let mut out = BTreeSet::new();
    for sql in [
        "SELECT 'project ' || name || ' ' || coalesce(synced_serial, 'null') FROM projects",
        "SELECT 'file ' || f.filename || ' ' || hex(f.sha256) || ' ' || coalesce(m.method, 'pending')
         FROM files f LEFT JOIN file_metadata m ON m.file_id = f.id",
        "SELECT 'req ' || f.filename || ' ' || r.kind || r.position || ' ' || r.canonical
         FROM requirements r JOIN files f ON f.id = r.file_id",
    ] {
        let mut st = c.prepare(sql)?;
        for row in st.query_map([], |r| r.get::<_, String>(0))? {
            out.insert(row?);
        }
    }
    Ok(out)
}

fn done_files(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    if !path.exists() {
        return Ok(BTreeSet::new());
    }
    let c = Connection::open(path)?;
    let mut st =
        c.prepare("SELECT f.filename FROM files f JOIN file_metadata m ON m.file_id = f.id")?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn wait(mut child: Child, bound: Duration) -> anyhow::Result<std::process::Output> {
    let started = Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > bound {
            child.kill()?;
            bail!("crawler still running after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(child.wait_with_output()?)
}

/// SIGKILL at pseudo-random moments, restart, and compare with an undisturbed crawl.
async fn kill_cycles(t: &mut Tally, crawler: &Path, kills: usize) -> anyhow::Result<()> {
    let index = TestIndex::start(Config::default()).await?;
    let names: Vec<String> = (0..8).map(|i| format!("proj{i}")).collect();
    for n in &names {
        for v in 0..250 {
            index.add_file(n, wheel_file(n, &format!("1.{v}"), 10));
        }
    }
    let mut args = vec!["--concurrency", "2"];
    for n in &names {
        args.extend(["--project", n]);
    }
    let dir = tempfile::tempdir()?;
    let reference = dir.path().join("reference.sqlite");
    let out = wait(
        spawn(crawler, &index, &reference, &args)?,
        Duration::from_secs(120),
    )?;
    ensure!(
        out.status.success(),
        "reference crawl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = dir.path().join("killed.sqlite");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut landed = 0;
    for _ in 0..kills {
        let done = done_files(&state)?;
        index.clear_requests();
        let mut child = spawn(crawler, &index, &state, &args)?;
        let started = Instant::now();
        while index.count(|_| true) == 0 && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        tokio::time::sleep(Duration::from_millis(2 + (x >> 33) % 60)).await;
        t.child_peak_kib = t.child_peak_kib.max(child_hwm_kib(child.id()));
        landed += usize::from(child.try_wait()?.is_none());
        let _ = child.kill();
        child.wait()?;
        t.duplicate_fetches += index.count(|r| {
            r.path
                .strip_prefix("/files/")
                .and_then(|f| f.strip_suffix(".metadata"))
                .is_some_and(|f| done.contains(f))
        });
    }
    let out = wait(
        spawn(crawler, &index, &state, &args)?,
        Duration::from_secs(120),
    )?;
    ensure!(
        out.status.success(),
        "final crawl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (want, got) = (dump(&reference)?, dump(&state)?);
    let lost = want.difference(&got).count();
    t.rows_lost += lost;
    t.check(
        &format!("{kills} SIGKILL/restart cycles ({landed} mid-sync)"),
        lost == 0 && want == got,
        || format!("{lost} rows lost, {} extra", got.difference(&want).count()),
    );
    Ok(())
}

/// Two crawlers on one state: the second stops at once and names the first.
async fn second_crawler(t: &mut Tally, crawler: &Path) -> anyhow::Result<()> {
    let index = TestIndex::start(Config::default()).await?;
    for v in 0..400 {
        index.add_file("big", wheel_file("big", &format!("1.{v}"), 10));
    }
    let dir = tempfile::tempdir()?;
    let state = dir.path().join("s.sqlite");
    let args = ["--project", "big", "--concurrency", "1"];
    let mut first = spawn(crawler, &index, &state, &args)?;
    while index.count(|r| r.path.ends_with(".metadata")) < 5 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let started = Instant::now();
    let second = wait(
        spawn(crawler, &index, &state, &args)?,
        Duration::from_secs(30),
    )?;
    let took = started.elapsed();
    let _ = first.kill();
    first.wait()?;
    let stderr = String::from_utf8_lossy(&second.stderr);
    t.check(
        "second crawler on one state",
        second.status.code() == Some(1)
            && took < Duration::from_secs(5)
            && stderr.contains(&first.id().to_string()),
        || format!("exit {:?} after {took:?}: {stderr}", second.status.code()),
    );
    Ok(())
}

fn child_hwm_kib(pid: u32) -> u64 {
    hwm(&std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default())
}

fn vm_hwm_kib() -> u64 {
    hwm(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
}

fn hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
