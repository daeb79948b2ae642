//! Fault injection on the crawler process: SIGKILL at many moments of a sync, and two crawlers
//! started on one state.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use crawler::testindex::{Config, TestIndex};

fn spawn(index: &TestIndex, state: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_crawler"))
        .args(["sync", "--state"])
        .arg(state)
        .args(["--index", &index.index_url()])
        .args(extra)
        .env("PINION_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `bound`; kills it and fails the test past that.
fn wait_bounded(mut child: Child, bound: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > bound {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("crawler still running after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Everything a sync records, as sorted lines (ids and timestamps left out).
fn dump(path: &Path) -> Vec<String> {
    let c = db(path);
    let mut rows = strings(
        &c,
        "SELECT 'project ' || name || ' ' || coalesce(synced_serial, 'null') FROM projects ORDER BY 1",
    );
    rows.extend(strings(
        &c,
        "SELECT 'file ' || f.filename || ' ' || f.kind || ' ' || hex(f.sha256) || ' ' || coalesce(m.method, 'pending')
         FROM files f LEFT JOIN file_metadata m ON m.file_id = f.id ORDER BY 1",
    ));
    rows.extend(strings(
        &c,
        "SELECT 'req ' || f.filename || ' ' || r.kind || r.position || ' ' || r.canonical
         FROM requirements r JOIN files f ON f.id = r.file_id ORDER BY 1",
    ));
    rows
}

fn done_files(path: &Path) -> BTreeSet<String> {
    strings(
        &db(path),
        "SELECT f.filename FROM files f JOIN file_metadata m ON m.file_id = f.id",
    )
    .into_iter()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_restart_cycles_lose_nothing_and_fetch_no_finished_file_twice() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let projects: Vec<String> = (0..6).map(|i| format!("proj{i}")).collect();
    for (p, name) in projects.iter().enumerate() {
        for v in 0..150 {
            let dep = format!("proj{}>=1", (p + 1) % 6);
            index.add_file(name, wheel_file(name, &format!("1.{v}"), &[&dep], 10));
        }
    }
    let mut list = vec!["--concurrency", "2"];
    for p in &projects {
        list.extend(["--project", p]);
    }
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.sqlite");
    let out = wait_bounded(spawn(&index, &reference, &list), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0));

    let state = dir.path().join("killed.sqlite");
    // Deterministic "random" kill moments: an LCG over 5..65 ms after the first request.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let (mut kills, mut refetched) = (0, 0);
    for _cycle in 0..12 {
        let done = done_files(&state_or_empty(&state));
        index.clear_requests();
        let mut child = spawn(&index, &state, &list);
        let started = Instant::now();
        while index.count(|_| true) == 0 && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        tokio::time::sleep(Duration::from_millis(5 + (x >> 33) % 60)).await;
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        kills += usize::from(!finished);
        refetched += index.count(|r| {
            r.path
                .strip_prefix("/files/")
                .and_then(|f| f.strip_suffix(".metadata"))
                .is_some_and(|f| done.contains(f))
        });
    }
    assert!(kills >= 6, "only {kills} kills landed mid-sync");
    let out = wait_bounded(spawn(&index, &state, &list), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        refetched, 0,
        "files recorded before a kill were fetched again"
    );
    let (want, got) = (dump(&reference), dump(&state));
    let lost: Vec<_> = want.iter().filter(|r| !got.contains(r)).collect();
    assert!(lost.is_empty(), "{} rows lost: {lost:?}", lost.len());
    assert_eq!(want, got);
}

/// The state path, or a fresh empty one when no run has created it yet.
fn state_or_empty(path: &Path) -> std::path::PathBuf {
    if !path.exists() {
        drop(crawler::state::State::open(path).unwrap());
    }
    path.to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_crawler_on_the_same_state_exits_at_once() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    for v in 0..1500 {
        index.add_file("big", wheel_file("big", &format!("1.{v}"), &[], 10));
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.sqlite");
    let args = ["--project", "big", "--concurrency", "1"];
    let mut first = spawn(&index, &state, &args);
    while index.count(|r| r.path.ends_with(".metadata")) < 5 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let started = Instant::now();
    let second = wait_bounded(spawn(&index, &state, &args), Duration::from_secs(30));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&second.stderr);
    let still_running = first.try_wait().unwrap().is_none();
    first.kill().ok();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(still_running, "the first crawler finished before the test");
    assert!(
        stderr.contains("s.sqlite")
            && stderr.contains("another crawler")
            && stderr.contains(&first.id().to_string()),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_or_full_stdout_ends_cleanly() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file("p", wheel_file("p", "1.0", &[], 10));
    let dir = tempfile::tempdir().unwrap();
    for (i, full) in [false, true].into_iter().enumerate() {
        let state = dir.path().join(format!("s{i}.sqlite"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_crawler"));
        cmd.args(["sync", "--project", "p", "--state"])
            .arg(&state)
            .args(["--index", &index.index_url()])
            .env("PINION_LOG", "error")
            .stderr(Stdio::piped());
        if full {
            cmd.stdout(std::fs::File::create("/dev/full").unwrap());
        } else {
            cmd.stdout(Stdio::piped());
        }
        let mut child = cmd.spawn().unwrap();
        // `| head -0`: the reader is gone before the summary is printed.
        drop(child.stdout.take());
        let out = wait_bounded(child, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if full {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.contains("writing to stdout") && stderr.contains("No space left"),
                "{stderr}"
            );
        } else {
            assert_eq!(out.status.code(), Some(141), "{stderr}");
            assert_eq!(stderr, "");
        }
        assert_eq!(count(&db(&state), "SELECT count(*) FROM file_metadata"), 1);
    }
}
