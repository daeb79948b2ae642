//! Fault injection on the index itself: pages that are not index pages (error pages served
//! with 200, truncated HTML, JSON error objects), servers that drip, hang or reset. A page that
//! cannot be read is a failed fetch — the files already recorded stay — and no request holds a
//! sync past its deadline.

mod common;

use std::time::{Duration, Instant};

use common::*;
use crawler::testindex::{Config, Fault, TestIndex};

/// Every case runs under this bound, so a hang fails the test instead of stalling the suite.
const CASE_BOUND: Duration = Duration::from_secs(40);

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(CASE_BOUND, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: still running after {CASE_BOUND:?}"),
    }
}

fn rows(path: &std::path::Path) -> (i64, i64) {
    let c = db(path);
    (
        count(&c, "SELECT count(*) FROM files"),
        count(&c, "SELECT count(*) FROM file_metadata"),
    )
}

/// A project with `n` wheels, crawled once in full.
async fn crawled(index: &TestIndex, path: &std::path::Path, project: &str, n: usize) {
    // Wheel names spell `-` as `_` (PEP 427).
    let dist = project.replace('-', "_");
    for i in 0..n {
        index.add_file(project, wheel_file(&dist, &format!("1.{i}"), &["dep"], 10));
    }
    let s = sync(path, options(&index.index_url(), &[project])).await;
    assert_eq!((s.files_added, s.files_failed), (n as u64, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_are_not_index_pages_keep_what_was_recorded() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let json = "application/vnd.pypi.simple.v1+json";
    let cases: [(&str, &str, &[u8]); 6] = [
        ("html-error", "", b""),
        ("json-error", json, br#"{"message": "upstream timed out"}"#),
        (
            "json-no-files",
            json,
            br#"{"meta": {"api-version": "1.1"}, "name": "json-no-files"}"#,
        ),
        (
            "other-project",
            json,
            br#"{"meta": {"api-version": "1.1"}, "name": "someone-else", "files": []}"#,
        ),
        (
            "maintenance",
            "text/html",
            b"<html><body><p>Down for maintenance</p></body></html>",
        ),
        (
            "unclosed",
            "text/html",
            b"<!DOCTYPE html><html><body><a href=\"/files/unclosed-1.0-py3-none-any.whl\">unclosed-1.0-py3-none-any.whl</a><a href=\"/files/uncl",
        ),
    ];
    for (project, ct, body) in cases {
        crawled(&index, &path, project, 3).await;
        if ct.is_empty() {
            index.set_page_fault(project, Fault::ErrorPage);
        } else {
            index.override_page(project, ct, body);
        }
        let s = sync(&path, options(&index.index_url(), &[project])).await;
        assert_eq!(
            (s.files_removed, s.projects_failed.clone()),
            (0, vec![project.to_string()]),
            "{project}: {s:?}"
        );
    }
    // 6 projects × 3 files, every row kept.
    assert_eq!(rows(&path), (18, 18));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_html_page_is_a_failed_fetch() {
    let index = TestIndex::start(Config {
        html_only: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    crawled(&index, &path, "cut", 20).await;
    // A new upload changes the serial, so the page is read rather than skipped as unchanged.
    index.add_file("cut", wheel_file("cut", "2.0", &[], 10));
    index.set_page_fault("cut", Fault::Truncated);
    let s = sync(&path, options(&index.index_url(), &["cut"])).await;
    assert_eq!(
        (s.files_removed, s.projects_failed),
        (0, vec!["cut".into()])
    );
    assert_eq!(rows(&path), (20, 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_listing_that_fails_fails_the_sync() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    crawled(&index, &path, "kept", 2).await;
    let all = || {
        let mut o = options(&index.index_url(), &[]);
        o.selection = crawler::sync::Selection::All;
        o
    };
    let finished = || {
        crawler::state::State::open(&path)
            .unwrap()
            .meta("last_sync_finished_at")
            .unwrap()
    };
    let before = finished();
    for fault in [Fault::ErrorPage, Fault::Truncated] {
        index.set_root_fault(fault.clone());
        let state = crawler::state::State::open(&path).unwrap();
        let r = crawler::sync::sync(state, http(), all()).await;
        let err = r.expect_err(&format!("{fault:?} on the root must fail the sync"));
        assert!(err.to_string().contains("/simple/"), "{err}");
        assert_eq!(finished(), before, "{fault:?} moved last_sync_finished_at");
    }
    assert_eq!(rows(&path), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dripping_and_hanging_pages_cost_one_deadline() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    crawled(&index, &path, "fine", 2).await;
    let faults = [
        (
            "drip",
            Fault::Drip {
                interval: Duration::from_millis(200),
            },
        ),
        ("hang", Fault::Hang),
        ("hang-after-headers", Fault::HangAfterHeaders),
    ];
    for (i, (project, fault)) in faults.into_iter().enumerate() {
        crawled(&index, &path, project, 2).await;
        index.set_page_fault(project, fault);
        index.add_file("fine", wheel_file("fine", &format!("2.{i}"), &[], 10));
        let started = Instant::now();
        let s = bounded(
            project,
            sync(&path, options(&index.index_url(), &["fine", project])),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(s.projects_failed, [project], "{s:?}");
        assert_eq!((s.files_removed, s.metadata_fetched()), (0, 1), "{s:?}");
        assert!(
            took < REQUEST_DEADLINE + Duration::from_secs(3),
            "{project}: gave up after {took:?}"
        );
    }
    assert_eq!(rows(&path), (11, 11));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_files_end_as_recorded_errors_within_the_deadline() {
    let index = TestIndex::start(Config::whole_files()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let faults = [
        Fault::Drip {
            interval: Duration::from_millis(100),
        },
        Fault::Hang,
        Fault::HangAfterHeaders,
        Fault::Reset,
        Fault::HugeLength { len: 2 << 30 },
    ];
    for (i, fault) in faults.iter().enumerate() {
        let mut f = wheel_file("stall", &format!("1.{i}"), &[], 2000);
        f.fault = fault.clone();
        index.add_file("stall", f);
    }
    index.add_file("stall", wheel_file("stall", "2.0", &[], 10));
    let started = Instant::now();
    let s = bounded(
        "stalled files",
        sync(&path, options(&index.index_url(), &["stall"])),
    )
    .await;
    let took = started.elapsed();
    assert_eq!((s.metadata_fetched(), s.files_failed), (1, 5), "{s:?}");
    assert!(
        took < REQUEST_DEADLINE + Duration::from_secs(3),
        "gave up after {took:?}"
    );
    let stages = strings(&db(&path), "SELECT stage FROM file_errors");
    assert_eq!(stages, ["fetch"; 5]);
}
