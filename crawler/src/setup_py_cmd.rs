//! `crawler setup-py`: runs the setup.py sandbox over sdists already in a crawl state whose
//! requirements are still unknown or partial (a state crawled without `--run-setup-py`, e.g.
//! on a CI runner without user namespaces). Each file is downloaded again (sha256-checked),
//! run, and recorded in one transaction, as `sync --run-setup-py` does; files already tried
//! are skipped, so an interrupted run resumes where it stopped.

use std::sync::Arc;

use pinion_setuppy::SandboxConfig;
use reqwest::header::ACCEPT_ENCODING;
use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::http::Http;
use crate::state::{State, StateError};

/// Reasons `record_setup_py` writes: a file carrying one has been tried.
const TRIED_PREFIXES: [&str; 2] = ["setup.py run failed", "setup.py not run"];
/// Largest sdist downloaded (as `FetchOptions::max_download`).
const MAX_DOWNLOAD: u64 = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SetupPyCmdError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("crawl state: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// What a `setup-py` run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub candidates: u64,
    pub now_known: u64,
    pub still_unknown: u64,
    pub not_run: u64,
}

struct Candidate {
    id: i64,
    filename: String,
    url: String,
    sha256: Option<Vec<u8>>,
}

fn candidates(state: &State, projects: &[String], retry: bool) -> rusqlite::Result<Vec<Candidate>> {
    let conn = state.connection();
    let mut st = conn.prepare(
        "SELECT f.id, f.filename, f.url, f.sha256, p.name, m.unknown_reason,
                EXISTS (SELECT 1 FROM setup_py_runs s WHERE s.file_id = f.id)
         FROM files f JOIN file_metadata m ON m.file_id = f.id JOIN projects p ON p.id = f.project_id
         WHERE f.kind = 'sdist' AND p.removed_at IS NULL
           AND (m.requires_dist_source IS NULL
                OR EXISTS (SELECT 1 FROM requirements r WHERE r.file_id = f.id
                           AND r.canonical IS NULL))
         ORDER BY p.name, f.filename",
    )?;
    let mut out = Vec::new();
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(4)?;
        if !projects.is_empty() && !projects.contains(&name) {
            continue;
        }
        let reason: Option<String> = r.get(5)?;
        // No setup.py to run, and no frontend could build it anyway.
        if reason
            .as_deref()
            .is_some_and(|r| r.starts_with(crate::extract::UNBUILDABLE))
        {
            continue;
        }
        let ran: bool = r.get(6)?;
        let tried = ran
            || reason
                .as_deref()
                .is_some_and(|r| TRIED_PREFIXES.iter().any(|p| r.starts_with(p)));
        if tried && !retry {
            continue;
        }
        out.push(Candidate {
            id: r.get(0)?,
            filename: r.get(1)?,
            url: r.get(2)?,
            sha256: r.get(3)?,
        });
    }
    Ok(out)
}

/// Runs the sandbox over the candidates one by one (the sandbox uses every core for one
/// sdist's interpreters anyway), recording each result in its own transaction.
pub async fn run(
    state: &mut State,
    http: &Http,
    cfg: Arc<SandboxConfig>,
    projects: &[String],
    retry: bool,
) -> Result<Summary, SetupPyCmdError> {
    let list = candidates(state, projects, retry)?;
    let mut summary = Summary {
        candidates: list.len() as u64,
        ..Summary::default()
    };
    for c in list {
        let bytes = match download(http, &c).await {
            Ok(b) => b,
            Err(why) => {
                tracing::warn!("{}: {why}", c.filename);
                note_not_run(state, c.id, &why)?;
                summary.not_run += 1;
                continue;
            }
        };
        let (filename, cfg) = (c.filename.clone(), cfg.clone());
        let runs = tokio::task::spawn_blocking(move || {
            pinion_setuppy::run_setup_py(&filename, &bytes, &cfg)
        })
        .await;
        let runs = match runs {
            Ok(Ok(runs)) => runs,
            Ok(Err(e)) => {
                note_not_run(state, c.id, &e.to_string())?;
                summary.not_run += 1;
                continue;
            }
            Err(e) => {
                note_not_run(state, c.id, &format!("runner failed: {e}"))?;
                summary.not_run += 1;
                continue;
            }
        };
        let known = state.record_setup_py_runs(c.id, &runs)?;
        if known {
            summary.now_known += 1;
        } else {
            summary.still_unknown += 1;
        }
    }
    Ok(summary)
}

fn note_not_run(state: &State, file_id: i64, why: &str) -> rusqlite::Result<()> {
    state.connection().execute(
        "UPDATE file_metadata SET unknown_reason = ?2 WHERE file_id = ?1 AND requires_dist_source IS NULL",
        params![file_id, format!("setup.py not run: {why}")],
    )?;
    Ok(())
}

async fn download(http: &Http, c: &Candidate) -> Result<Vec<u8>, String> {
    let resp = http
        .get(&c.url, &[(ACCEPT_ENCODING, "identity")], MAX_DOWNLOAD)
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status.is_success() {
        return Err(format!("GET {}: HTTP {}", c.url, resp.status));
    }
    if let Some(want) = &c.sha256 {
        let got = Sha256::digest(&resp.body);
        if got.as_slice() != want.as_slice() {
            return Err(format!(
                "sha256 {} does not match the index's {}",
                hex::encode(got),
                hex::encode(want)
            ));
        }
    }
    Ok(resp.body)
}
