//! The `crawler` binary: exit codes, the summary it prints, and resumption after SIGKILL.

mod common;

use std::process::{Command, Stdio};

use common::*;
use crawler::testindex::{Config, TestFile, TestIndex};

fn args(index: &TestIndex, state: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "sync".into(),
        "--state".into(),
        state.display().to_string(),
        "--index".into(),
        index.index_url(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_code_and_summaries() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    index.add_file("ok", wheel_file("ok", "1.0", &["dep"], 10));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.sqlite");
    let out = crawler(args(&index, &state, &["--project", "ok"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("metadata fetched: 1 (1 pep658, 0 range, 0 download)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 files failed (see file_errors)"),
        "{stdout}"
    );

    let mut bad = TestFile::new("bad-1.0.tar.gz", b"not an archive".to_vec());
    bad.listed_sha256 = None;
    index.add_file("bad", bad);
    let out = crawler(args(
        &index,
        &state,
        &["--project", "ok", "--project", "bad", "--json-summary"],
    ))
    .await;
    // 3, not clap's usage code 2: the sync ran and kept what succeeded.
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["files_failed"], 1);
    assert_eq!(json["projects_unchanged"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 files failed (see file_errors)"));

    let out = crawler(vec![
        "sync".into(),
        "--state".into(),
        state.display().to_string(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: nothing to crawl\nhint: give `--project NAME`, `--projects-file FILE` or `--all`\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_crawl_then_rerun_fetches_each_file_once() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let n = 300;
    for i in 0..n {
        index.add_file("big", wheel_file("big", &format!("0.{i}"), &["dep"], 10));
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_crawler"))
        .args(args(
            &index,
            &state,
            &["--project", "big", "--concurrency", "1"],
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while index.count(|r| r.path.ends_with(".metadata")) < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = strings(
        &db(&state),
        "SELECT f.filename FROM files f JOIN file_metadata m ON m.file_id = f.id",
    );
    assert!(done.len() >= 49 && done.len() < n, "{} done", done.len());
    index.clear_requests();
    let out = crawler(args(&index, &state, &["--project", "big"])).await;
    assert_eq!(out.status.code(), Some(0));
    let again = index.count(|r| {
        done.iter()
            .any(|f| r.path == format!("/files/{f}.metadata"))
    });
    assert_eq!(
        again, 0,
        "files recorded before the kill were fetched again"
    );
    assert_eq!(
        index.count(|r| r.path.ends_with(".metadata")),
        n - done.len()
    );
    assert_eq!(
        count(&db(&state), "SELECT count(*) FROM file_metadata") as usize,
        n
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_crawls_merge_into_the_full_crawl() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let names: Vec<String> = (0..12).map(|i| format!("pkg{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        index.add_file(
            n,
            wheel_file(n, "1.0", &[&format!("dep{i}>=1"), "common"], 10),
        );
        let mut failing = TestFile::new(&format!("{n}-1.0.tar.gz"), b"garbage".to_vec());
        failing.listed_sha256 = None;
        index.add_file(n, failing);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut list: Vec<&str> = vec![];
    for n in &names {
        list.extend(["--project", n]);
    }
    let full = dir.path().join("full.sqlite");
    assert_eq!(
        crawler(args(&index, &full, &list)).await.status.code(),
        Some(3)
    );
    let mut shards = vec![];
    for i in 0..3 {
        let path = dir.path().join(format!("shard{i}.sqlite"));
        let mut a = list.clone();
        let shard = format!("{i}/3");
        a.extend(["--shard", &shard]);
        crawler(args(&index, &path, &a)).await;
        shards.push(path.display().to_string());
    }
    let sizes: Vec<i64> = shards
        .iter()
        .map(|s| {
            count(
                &db(std::path::Path::new(s)),
                "SELECT count(*) FROM projects",
            )
        })
        .collect();
    assert_eq!(sizes.iter().sum::<i64>(), 12, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n < 12), "{sizes:?}");
    // The schema v2 columns this crawl leaves NULL, filled the same way in every state (keyed
    // by names, not ids), so that the merge must carry them. Before: merge dropped them.
    for s in shards
        .iter()
        .map(std::path::Path::new)
        .chain([full.as_path()])
    {
        db(s).execute_batch(
            "UPDATE projects SET removed_at = length(name);
             UPDATE file_metadata SET
                 unknown_reason = (SELECT 'reason ' || filename FROM files WHERE id = file_id),
                 source_decision = (SELECT 'decision ' || filename FROM files WHERE id = file_id);
             INSERT INTO setup_py_runs(file_id, python, status, ran_at, cause)
                 SELECT id, '3.12', 'error', 1, 'cause ' || filename FROM files WHERE kind = 'sdist';",
        )
        .unwrap();
    }
    let merged = dir.path().join("merged.sqlite");
    let mut m = vec![
        "merge".to_string(),
        "--out".into(),
        merged.display().to_string(),
    ];
    m.extend(shards);
    let out = crawler(m).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = |p: &std::path::Path| {
        let c = db(p);
        let mut rows = strings(
            &c,
            "SELECT p.name || ' ' || coalesce(p.synced_serial, 'null') || ' ' || p.removed_at FROM projects p ORDER BY 1",
        );
        rows.extend(strings(
            &c,
            "SELECT m.unknown_reason || ' ' || m.source_decision FROM file_metadata m ORDER BY 1",
        ));
        rows.extend(strings(
            &c,
            "SELECT r.python || ' ' || r.cause FROM setup_py_runs r ORDER BY 1",
        ));
        rows.extend(strings(
            &c,
            "SELECT f.filename || ' ' || f.kind || ' ' || hex(f.sha256) FROM files f ORDER BY 1",
        ));
        rows.extend(strings(
            &c,
            "SELECT f.filename || ' ' || r.kind || r.position || ' ' || r.canonical FROM requirements r JOIN files f ON f.id = r.file_id ORDER BY 1",
        ));
        rows.extend(strings(&c, "SELECT f.filename || ' ' || e.stage || e.attempts FROM file_errors e JOIN files f ON f.id = e.file_id ORDER BY 1"));
        rows
    };
    let (a, b) = (dump(&full), dump(&merged));
    assert!(a.len() > 12 * 4, "{a:?}");
    assert_eq!(a, b);
}
