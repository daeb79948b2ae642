//! One `crawler sync` run: fetch project pages, diff them into the state, obtain metadata of
//! files not yet processed, optionally follow dependencies, and summarize what changed.
//!
//! Incrementality comes from two facts kept in the state: a project whose index serial equals
//! its `synced_serial` is skipped, and a file with a `file_metadata` row is never fetched again.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use pinion_pep::ProjectName;
use pinion_pep::pep508_rs::ExtraName;
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use serde::Serialize;
use tokio::task::JoinSet;
use url::Url;

use crate::fetch::{FetchError, FetchOptions, Fetcher, Method};
use crate::http::{Http, HttpError};
use crate::merge::Shard;
use crate::simple::{self, CoreMetadata, IndexError, IndexFile};
use crate::state::{State, StateError};

/// Index pages are small; anything bigger is not a simple-index page.
const PAGE_CAP: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("index URL {url:?}: {message}")]
    BadIndexUrl { url: String, message: String },
    #[error("index root {url}: HTTP {status}")]
    Root { url: String, status: u16 },
    #[error("crawl task failed: {0}")]
    Task(String),
}

#[derive(Debug, Clone)]
pub enum Selection {
    Projects(Vec<String>),
    All,
}

#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub index_url: String,
    pub selection: Selection,
    pub follow_deps: bool,
    /// Unix seconds; files uploaded earlier are not recorded...
    pub uploaded_since: Option<i64>,
    /// ...except those of each project's `keep_releases` most recently uploaded final releases, so
    /// a project without recent uploads stays installable.
    pub keep_releases: usize,
    pub retry_failed: bool,
    /// Files of one project processed concurrently (requests are bounded by the client).
    pub concurrency: usize,
    pub progress: bool,
    pub fetch: FetchOptions,
    /// Only projects in this shard are crawled (dependencies outside it are left to others).
    pub shard: Option<Shard>,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub projects_checked: u64,
    pub projects_changed: u64,
    pub projects_unchanged: u64,
    pub projects_missing: Vec<String>,
    pub projects_failed: Vec<String>,
    pub files_added: u64,
    pub files_removed: u64,
    pub files_yank_changed: u64,
    pub files_skipped_old: u64,
    pub metadata_pep658: u64,
    pub metadata_range: u64,
    pub metadata_download: u64,
    pub files_failed: u64,
    pub files_skipped_failed: u64,
    /// Interpreter runs of setup.py (`--run-setup-py`), successful or not.
    pub setup_py_runs: u64,
    pub requests: u64,
    pub retries: u64,
    pub bytes: u64,
}

impl Summary {
    pub fn metadata_fetched(&self) -> u64 {
        self.metadata_pep658 + self.metadata_range + self.metadata_download
    }

    fn absorb(&mut self, p: ProjectOutcome) {
        self.projects_checked += 1;
        match p.status {
            ProjectStatus::Unchanged => self.projects_unchanged += 1,
            ProjectStatus::Changed => self.projects_changed += 1,
            ProjectStatus::Missing => self.projects_missing.push(p.name),
            ProjectStatus::Failed => self.projects_failed.push(p.name),
        }
        self.files_added += p.added;
        self.files_removed += p.removed;
        self.files_yank_changed += p.yank_changed;
        self.files_skipped_old += p.skipped_old;
        self.files_failed += p.failed;
        self.files_skipped_failed += p.skipped_failed;
        self.setup_py_runs += p.setup_py_runs;
        for (m, n) in p.fetched {
            match m {
                Method::Pep658 => self.metadata_pep658 += n,
                Method::Range => self.metadata_range += n,
                Method::Download => self.metadata_download += n,
            }
        }
    }

    /// The human-readable report printed at the end of a sync.
    pub fn render(&self) -> String {
        let mut s = format!(
            "projects: {} checked, {} changed, {} unchanged, {} missing, {} failed\n\
             files: {} added, {} removed, {} yank changes, {} older than --uploaded-since\n\
             metadata fetched: {} ({} pep658, {} range, {} download)\n\
             http: {} requests, {} retries, {} bytes\n",
            self.projects_checked,
            self.projects_changed,
            self.projects_unchanged,
            self.projects_missing.len(),
            self.projects_failed.len(),
            self.files_added,
            self.files_removed,
            self.files_yank_changed,
            self.files_skipped_old,
            self.metadata_fetched(),
            self.metadata_pep658,
            self.metadata_range,
            self.metadata_download,
            self.requests,
            self.retries,
            self.bytes,
        );
        if !self.projects_missing.is_empty() {
            s += &format!("not on the index: {}\n", self.projects_missing.join(", "));
        }
        if !self.projects_failed.is_empty() {
            s += &format!(
                "project pages that failed: {}\n",
                self.projects_failed.join(", ")
            );
        }
        if self.setup_py_runs > 0 {
            s += &format!("setup.py runs in the sandbox: {}\n", self.setup_py_runs);
        }
        if self.files_skipped_failed > 0 {
            s += &format!(
                "{} files skipped after repeated failures (use --retry-failed)\n",
                self.files_skipped_failed
            );
        }
        s += &format!("{} files failed (see file_errors)\n", self.files_failed);
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProjectStatus {
    Unchanged,
    Changed,
    Missing,
    Failed,
}

struct ProjectOutcome {
    name: String,
    status: ProjectStatus,
    added: u64,
    removed: u64,
    yank_changed: u64,
    skipped_old: u64,
    failed: u64,
    skipped_failed: u64,
    setup_py_runs: u64,
    fetched: HashMap<Method, u64>,
}

impl ProjectOutcome {
    fn new(name: &str, status: ProjectStatus) -> Self {
        ProjectOutcome {
            name: name.to_string(),
            status,
            added: 0,
            removed: 0,
            yank_changed: 0,
            skipped_old: 0,
            failed: 0,
            skipped_failed: 0,
            setup_py_runs: 0,
            fetched: HashMap::new(),
        }
    }
}

struct Ctx {
    http: Http,
    fetcher: Arc<Fetcher>,
    state: Mutex<State>,
    index: Url,
    opts: SyncOptions,
    bar: ProgressBar,
}

impl Ctx {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back on drop), so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs one sync against `state`. Returns the summary; file failures are in it, not errors.
pub async fn sync(state: State, http: Http, opts: SyncOptions) -> Result<Summary, SyncError> {
    let mut index = Url::parse(&opts.index_url).map_err(|e| SyncError::BadIndexUrl {
        url: opts.index_url.clone(),
        message: e.to_string(),
    })?;
    if !index.path().ends_with('/') {
        index.set_path(&format!("{}/", index.path()));
    }
    state.set_meta("index_url", index.as_str())?;
    state.set_meta("last_sync_started_at", &now().to_string())?;
    let bar = if opts.progress {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files {per_sec} ETA {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let fetcher = Fetcher::new(http.clone(), opts.fetch.clone(), opts.concurrency);
    let ctx = Arc::new(Ctx {
        http,
        fetcher,
        state: Mutex::new(state),
        index,
        opts,
        bar,
    });

    let mut queue: VecDeque<(ProjectName, Option<i64>)> = VecDeque::new();
    match &ctx.opts.selection {
        Selection::Projects(names) => {
            for n in names {
                match ProjectName::new(n) {
                    Ok(p) => queue.push_back((p, None)),
                    Err(e) => tracing::warn!("skipping {n:?}: {e}"),
                }
            }
        }
        Selection::All => {
            for e in list_all(&ctx).await? {
                match ProjectName::new(&e.name) {
                    Ok(p) => queue.push_back((p, e.last_serial)),
                    Err(err) => tracing::warn!("skipping root entry {:?}: {err}", e.name),
                }
            }
        }
    }
    let in_shard = |p: &ProjectName| ctx.opts.shard.is_none_or(|s| s.contains(p.as_str()));
    let mut seen: HashSet<ProjectName> = HashSet::new();
    // A name listed twice (or spelled two ways) is crawled once.
    queue.retain(|(p, _)| in_shard(p) && seen.insert(p.clone()));
    let mut follow = Follow::default();
    let mut summary = Summary::default();
    let mut tasks = JoinSet::new();
    let parallel = ctx.opts.concurrency.max(1);
    let started = Instant::now();
    loop {
        while tasks.len() < parallel
            && let Some((name, serial)) = queue.pop_front()
        {
            let ctx = ctx.clone();
            tasks.spawn(async move { sync_project(&ctx, name, serial).await });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let outcome = joined.map_err(|e| SyncError::Task(e.to_string()))??;
        if ctx.opts.follow_deps {
            for dep in follow.done(&ctx, &outcome.name)? {
                if in_shard(&dep) && seen.insert(dep.clone()) {
                    queue.push_back((dep, None));
                }
            }
        }
        ctx.bar.set_message(format!(
            "{} projects, {} queued",
            summary.projects_checked + 1,
            queue.len()
        ));
        summary.absorb(outcome);
    }
    ctx.bar.finish_and_clear();
    let c = &ctx.http.counters;
    summary.requests = c.requests.load(std::sync::atomic::Ordering::Relaxed);
    summary.retries = c.retries.load(std::sync::atomic::Ordering::Relaxed);
    summary.bytes = c.bytes.load(std::sync::atomic::Ordering::Relaxed);
    summary.projects_missing.sort();
    summary.projects_failed.sort();
    ctx.state()
        .set_meta("last_sync_finished_at", &now().to_string())?;
    tracing::info!(elapsed = ?started.elapsed(), "sync finished");
    Ok(summary)
}

async fn list_all(ctx: &Ctx) -> Result<Vec<simple::RootEntry>, SyncError> {
    let url = ctx.index.as_str();
    let resp = ctx
        .http
        .get(url, &[(ACCEPT, simple::ACCEPT)], PAGE_CAP)
        .await?;
    if !resp.status.is_success() {
        return Err(SyncError::Root {
            url: url.to_string(),
            status: resp.status.as_u16(),
        });
    }
    let ct = resp.header("content-type").unwrap_or("").to_string();
    Ok(simple::parse_root_page(&resp.url, &ct, &resp.body)?)
}

async fn sync_project(
    ctx: &Ctx,
    name: ProjectName,
    root_serial: Option<i64>,
) -> Result<ProjectOutcome, SyncError> {
    let n = name.as_str();
    let known = ctx.state().serials(n)?;
    if let (Some(rs), Some(k)) = (root_serial, known)
        && k.synced == Some(rs)
        && !ctx.opts.retry_failed
    {
        return Ok(ProjectOutcome::new(n, ProjectStatus::Unchanged));
    }
    let url = ctx
        .index
        .join(&format!("{n}/"))
        .map_err(|e| SyncError::BadIndexUrl {
            url: n.to_string(),
            message: e.to_string(),
        })?;
    let resp = match ctx
        .http
        .get(url.as_str(), &[(ACCEPT, simple::ACCEPT)], PAGE_CAP)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("{e}");
            return Ok(ProjectOutcome::new(n, ProjectStatus::Failed));
        }
    };
    if resp.status == StatusCode::NOT_FOUND || resp.status == StatusCode::GONE {
        tracing::warn!("{n}: not on the index ({})", resp.status);
        ctx.state().mark_removed(n, now())?;
        return Ok(ProjectOutcome::new(n, ProjectStatus::Missing));
    }
    if !resp.status.is_success() {
        tracing::warn!("{url}: HTTP {}", resp.status);
        return Ok(ProjectOutcome::new(n, ProjectStatus::Failed));
    }
    ctx.state().mark_listed(n)?;
    let header_serial = resp
        .header("x-pypi-last-serial")
        .and_then(|s| s.trim().parse().ok());
    let ct = resp.header("content-type").unwrap_or("").to_string();
    // Relative links resolve against the page's final URL, which redirects may have changed.
    // A page that is not a listing of this project is a failed fetch, never an empty project:
    // applying it would delete every recorded file.
    let page = match simple::parse_project_page(&resp.url, &name, &ct, &resp.body, header_serial) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("{e}");
            return Ok(ProjectOutcome::new(n, ProjectStatus::Failed));
        }
    };
    let unchanged = page.last_serial.is_some()
        && known.is_some_and(|k| k.synced == page.last_serial)
        && !ctx.opts.retry_failed;
    if unchanged {
        return Ok(ProjectOutcome::new(n, ProjectStatus::Unchanged));
    }
    let mut out = ProjectOutcome::new(n, ProjectStatus::Changed);
    let files: Vec<_> = match ctx.opts.uploaded_since {
        Some(since) => {
            let (keep, old) = recent_files(page.files, n, since, ctx.opts.keep_releases);
            out.skipped_old = old;
            keep
        }
        None => page.files,
    };

    let core: HashMap<String, CoreMetadata> = files
        .iter()
        .map(|f| (f.filename.clone(), f.core_metadata.clone()))
        .collect();
    let display = page.display_name.as_deref().unwrap_or(n).to_string();
    let (project_id, pending, skipped_failed) = {
        let mut st = ctx.state();
        let (project_id, diff) = st.apply_page(n, &display, page.last_serial, now(), &files)?;
        if let Some(s) = page.last_serial {
            st.bump_last_serial(s)?;
        }
        out.added = diff.added;
        out.removed = diff.removed;
        out.yank_changed = diff.yank_changed;
        let (pending, skipped) = st.pending_files(project_id, ctx.opts.retry_failed)?;
        (project_id, pending, skipped)
    };
    out.skipped_failed = skipped_failed;
    ctx.bar.inc_length(pending.len() as u64);
    let mut results = futures::stream::iter(pending)
        .map(|f| {
            let core = core.get(&f.filename).cloned().unwrap_or_default();
            async move {
                let r = ctx.fetcher.fetch(&f, &core).await;
                (f, r)
            }
        })
        .buffer_unordered(ctx.opts.concurrency.max(1));
    while let Some((f, r)) = results.next().await {
        ctx.bar.inc(1);
        match r {
            Ok(got) => {
                ctx.state().record_success(
                    f.id,
                    got.method.as_str(),
                    &got.extracted,
                    &got.setup_py_runs,
                    now(),
                )?;
                *out.fetched.entry(got.method).or_default() += 1;
                out.setup_py_runs += got.setup_py_runs.len() as u64;
            }
            Err(FetchError::BdistDumb { message, .. }) => {
                tracing::info!("{}: {message}", f.filename);
                ctx.state().set_kind(f.id, "bdist_dumb")?;
            }
            Err(e) => {
                tracing::warn!("{}: {} failed: {e}", f.filename, e.stage());
                ctx.state()
                    .record_failure(f.id, e.stage(), &e.to_string(), now())?;
                out.failed += 1;
            }
        }
    }
    ctx.state()
        .mark_synced_if_complete(project_id, page.last_serial)?;
    Ok(out)
}

/// Splits a page into the files to record and the number dropped by `--uploaded-since`.
fn recent_files(
    files: Vec<IndexFile>,
    project: &str,
    since: i64,
    keep_releases: usize,
) -> (Vec<IndexFile>, u64) {
    let mut latest: HashMap<String, i64> = HashMap::new();
    for f in &files {
        let t = f.upload_time.unwrap_or(i64::MAX);
        let e = latest.entry(f.classify(project).1).or_insert(t);
        *e = (*e).max(t);
    }
    // Only final releases count towards --keep-releases: a project whose newest uploads are
    // all pre-releases (httpx 1.0.devN) must still keep the releases that resolvers pick.
    let mut releases: Vec<(i64, String)> = latest
        .into_iter()
        .filter(|(v, _)| is_final_release(v))
        .map(|(v, t)| (t, v))
        .collect();
    releases.sort_unstable_by(|a, b| b.cmp(a));
    let kept: HashSet<String> = releases
        .into_iter()
        .take(keep_releases)
        .map(|(_, v)| v)
        .collect();
    let (keep, old): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| {
        f.upload_time.is_none_or(|t| t >= since) || kept.contains(&f.classify(project).1)
    });
    (keep, old.len() as u64)
}

fn is_final_release(version: &str) -> bool {
    version
        .parse::<pinion_pep::pep440_rs::Version>()
        .is_ok_and(|v| !v.any_prerelease())
}

/// `--follow-deps`: which projects the crawled requirements lead to. A dependency's extras
/// count (`jsonschema[format-nongpl]` leads to `fqdn`), so requested extras are remembered per
/// project, and an extra requested after its project was crawled is followed from the state.
#[derive(Default)]
struct Follow {
    requested: HashMap<ProjectName, BTreeSet<ExtraName>>,
    crawled: HashSet<ProjectName>,
}

impl Follow {
    /// `project` was crawled: returns the projects its requirements (plain ones and those of
    /// every extra requested so far) lead to, including through newly requested extras of
    /// projects crawled earlier.
    fn done(&mut self, ctx: &Ctx, project: &str) -> Result<Vec<ProjectName>, SyncError> {
        let Ok(name) = ProjectName::new(project) else {
            return Ok(Vec::new());
        };
        self.crawled.insert(name.clone());
        let mut found = Vec::new();
        let mut work = vec![(name, None)];
        while let Some((project, only_extras)) = work.pop() {
            let reqs = ctx.state().project_requirements(project.as_str())?;
            let all_requested: Vec<ExtraName> = self
                .requested
                .get(&project)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            for (dep, extras) in active_requirements(&reqs, only_extras.as_deref(), &all_requested)
            {
                let known = self.requested.entry(dep.clone()).or_default();
                let new: Vec<ExtraName> = extras
                    .into_iter()
                    .filter(|e| known.insert(e.clone()))
                    .collect();
                if self.crawled.contains(&dep) {
                    if !new.is_empty() {
                        work.push((dep, Some(new)));
                    }
                } else {
                    found.push(dep);
                }
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }
}

/// The (project, extras) pairs a project's requirements lead to: with `only_extras` = None,
/// those active without extras plus those of `requested`; else only those the given extras
/// newly activate.
fn active_requirements(
    reqs: &[String],
    only_extras: Option<&[ExtraName]>,
    requested: &[ExtraName],
) -> Vec<(ProjectName, Vec<ExtraName>)> {
    reqs.iter()
        .filter_map(|r| pinion_pep::parse_requirement(r).ok())
        .filter(|req| {
            let plain = req.marker.evaluate_extras(&[]);
            match only_extras {
                None => plain || req.marker.evaluate_extras(requested),
                Some(extras) => !plain && req.marker.evaluate_extras(extras),
            }
        })
        .filter_map(|req| Some((ProjectName::new(req.name.as_ref()).ok()?, req.extras)))
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extras(names: &[&str]) -> Vec<ExtraName> {
        names.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn follow(reqs: &[&str], only: Option<&[&str]>, requested: &[&str]) -> Vec<String> {
        let reqs: Vec<String> = reqs.iter().map(|r| r.to_string()).collect();
        let only = only.map(extras);
        active_requirements(&reqs, only.as_deref(), &extras(requested))
            .into_iter()
            .map(|(n, x)| {
                let x: Vec<String> = x.iter().map(|e| e.to_string()).collect();
                format!("{n}[{}]", x.join(","))
            })
            .collect()
    }

    #[test]
    fn follows_plain_requirements_and_requested_extras_only() {
        let reqs = [
            "Foo.Bar>=1",
            "idna ; python_version < '3.8'",
            "pysocks ; extra == 'socks'",
            "fqdn ; extra == 'format-nongpl'",
            "jsonschema[format-nongpl]>=4",
            "not a requirement !!",
        ];
        assert_eq!(
            follow(&reqs, None, &[]),
            ["foo-bar[]", "idna[]", "jsonschema[format-nongpl]"]
        );
        assert_eq!(
            follow(&reqs, None, &["format-nongpl"]),
            ["foo-bar[]", "idna[]", "fqdn[]", "jsonschema[format-nongpl]"]
        );
        assert_eq!(follow(&reqs, Some(&["socks"]), &[]), ["pysocks[]"]);
    }
}
