//! Shared helpers for the crawler's integration tests: run a sync against the loopback index
//! and query the resulting state.
#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crawler::http::{Http, HttpConfig};
use crawler::state::State;
use crawler::sync::{Summary, SyncOptions};
use crawler::testindex::{TestFile, metadata_text, wheel};
use rusqlite::Connection;

/// The overall deadline of one request in these tests (retries included).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

#[allow(unused_imports)] // like `dead_code` above: not every test binary crawls
pub use crawler::testindex::sync_options as options;

/// Runs the `crawler` binary (logs quiet) off the async runtime's worker threads.
pub async fn crawler(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Output {
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_crawler"))
            .args(args)
            .env("PINION_LOG", "error")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub fn http() -> Http {
    Http::new(HttpConfig {
        concurrency: 4,
        backoff_base: Duration::from_millis(10),
        max_attempts: 4,
        timeout: Duration::from_secs(20),
        deadline: REQUEST_DEADLINE,
        ..HttpConfig::default()
    })
    .unwrap()
}

pub async fn sync(db: &Path, opts: SyncOptions) -> Summary {
    let state = State::open(db).unwrap();
    crawler::sync::sync(state, http(), opts).await.unwrap()
}

/// A wheel whose METADATA requires `requires`, with its sidecar attached.
pub fn wheel_file(name: &str, version: &str, requires: &[&str], pad: usize) -> TestFile {
    let meta = metadata_text(name, version, requires);
    let bytes = wheel(name, version, meta.as_bytes(), pad);
    TestFile::new(&format!("{name}-{version}-py3-none-any.whl"), bytes).with_metadata(meta)
}

pub fn db(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

pub fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// `filename|method` for every file with metadata, sorted.
pub fn methods(conn: &Connection) -> Vec<String> {
    strings(
        conn,
        "SELECT f.filename || '|' || m.method FROM files f JOIN file_metadata m ON m.file_id = f.id ORDER BY f.filename",
    )
}
