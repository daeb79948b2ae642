//! Obtaining one file's metadata, cheapest strategy first:
//! wheels — the PEP 658/714 `.metadata` sidecar, then HTTP range requests for just the
//! zip's central directory and METADATA entry, then the whole file; sdists — the whole file.
//! Whole files are always checked against the index's sha256.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, RANGE};
use sha2::{Digest, Sha256};

use pinion_setuppy::{Run, SandboxConfig};

use crate::extract::{self, Extracted, Limits, zip_range};
use crate::http::{Http, HttpError};
use crate::simple::CoreMetadata;
use crate::state::PendingFile;

/// How metadata was obtained, as stored in `file_metadata.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Pep658,
    Range,
    Download,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Pep658 => "pep658",
            Method::Range => "range",
            Method::Download => "download",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Try `<url>.metadata` even when the index does not advertise it.
    pub try_sidecar: bool,
    pub try_range: bool,
    /// Largest file downloaded whole.
    pub max_download: u64,
    pub limits: Limits,
    /// Run setup.py in the sandbox for sdists whose requirements static reading left
    /// unknown (`None`: leave them unknown).
    pub setup_py: Option<Arc<SandboxConfig>>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            try_sidecar: true,
            try_range: true,
            max_download: 512 << 20,
            limits: Limits::default(),
            setup_py: None,
        }
    }
}

/// Stage names as stored in `file_errors.stage`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Fetch(#[from] HttpError),
    #[error("{filename}: sha256 {got} does not match the index's {want}")]
    Hash {
        filename: String,
        got: String,
        want: String,
    },
    #[error("{filename}: {message}")]
    Archive { filename: String, message: String },
    #[error("{filename}: {message}")]
    Metadata { filename: String, message: String },
    #[error("GET {url}: unexpected HTTP {status}")]
    Status { url: String, status: u16 },
    /// Named like an sdist but a `bdist_dumb` archive: recorded as that kind, not a failure.
    #[error("{filename}: {message}")]
    BdistDumb { filename: String, message: String },
}

impl FetchError {
    pub fn stage(&self) -> &'static str {
        match self {
            FetchError::Fetch(_) | FetchError::Status { .. } => "fetch",
            FetchError::Hash { .. } => "hash",
            FetchError::Archive { .. } => "archive",
            FetchError::Metadata { .. } => "metadata",
            FetchError::BdistDumb { .. } => "archive",
        }
    }
}

/// Per-crawl memory of what the server supports, so a server without sidecars or Range
/// support is not asked again for every file.
pub struct Fetcher {
    http: Http,
    /// Bounds files in progress, so what we learn about the server (no sidecars, no Range)
    /// applies to every file that has not started yet, not just to those queued afterwards.
    in_progress: tokio::sync::Semaphore,
    opts: FetchOptions,
    sidecar_misses: AtomicU64,
    no_sidecars: AtomicBool,
    /// Counts files while sidecars are given up, to re-probe every `SIDECAR_REPROBE`th.
    reprobe_tick: AtomicU64,
    no_range: AtomicBool,
    /// setup.py runs are CPU-bound: at most one per core at a time, however many downloads
    /// are in flight.
    setup_py_slots: tokio::sync::Semaphore,
}

/// What one file yielded: how its metadata was obtained, the metadata, and the sandboxed
/// setup.py runs when static reading was not enough.
pub struct Fetched {
    pub method: Method,
    pub extracted: Extracted,
    pub setup_py_runs: Vec<Run>,
}

/// After this many 404s on unadvertised sidecars in a row, stop guessing.
const SIDECAR_GIVE_UP: u64 = 50;
/// Some mirrors serve sidecars for part of their files only, so after giving up we still
/// probe one file in this many; a hit turns probing back on.
const SIDECAR_REPROBE: u64 = 32;

impl Fetcher {
    pub fn new(http: Http, opts: FetchOptions, concurrency: usize) -> Arc<Fetcher> {
        Arc::new(Fetcher {
            http,
            in_progress: tokio::sync::Semaphore::new(concurrency.max(1)),
            opts,
            sidecar_misses: Default::default(),
            no_sidecars: AtomicBool::new(false),
            reprobe_tick: AtomicU64::new(0),
            no_range: AtomicBool::new(false),
            setup_py_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            ),
        })
    }

    pub async fn fetch(&self, f: &PendingFile, core: &CoreMetadata) -> Result<Fetched, FetchError> {
        let (method, extracted, setup_py_runs) = self.fetch_inner(f, core).await?;
        Ok(Fetched {
            method,
            extracted,
            setup_py_runs,
        })
    }

    async fn fetch_inner(
        &self,
        f: &PendingFile,
        core: &CoreMetadata,
    ) -> Result<(Method, Extracted, Vec<Run>), FetchError> {
        // The semaphore is never closed, so acquiring cannot fail.
        let _permit = self.in_progress.acquire().await.ok();
        if f.kind == "sdist" {
            let bytes = self.download(f).await?;
            let x = extract::from_sdist(&f.filename, &bytes, &self.opts.limits).map_err(
                |e| match e {
                    extract::ExtractError::BdistDumb(_) => FetchError::BdistDumb {
                        filename: f.filename.clone(),
                        message: e.to_string(),
                    },
                    e => archive(f, e),
                },
            )?;
            let runs = match &self.opts.setup_py {
                Some(cfg) if x.dynamic_setup_py => self.run_setup_py(f, bytes, cfg.clone()).await,
                _ => Vec::new(),
            };
            return Ok((Method::Download, x, runs));
        }
        let advertised = matches!(core, CoreMetadata::Advertised { .. });
        if advertised || (self.opts.try_sidecar && self.probe_unadvertised()) {
            let want = match core {
                CoreMetadata::Advertised { sha256 } => *sha256,
                CoreMetadata::NotAdvertised => None,
            };
            if let Some(x) = self.sidecar(f, want, advertised).await? {
                return Ok((Method::Pep658, x, Vec::new()));
            }
        }
        if self.opts.try_range && !self.no_range.load(Ordering::Relaxed) {
            match self.range(f).await? {
                RangeOutcome::Metadata(x) => return Ok((Method::Range, *x, Vec::new())),
                RangeOutcome::WholeFile(bytes) => {
                    let x = self.wheel_from_bytes(f, &bytes)?;
                    return Ok((Method::Download, x, Vec::new()));
                }
                RangeOutcome::Unusable => {}
            }
        }
        let bytes = self.download(f).await?;
        let x = self.wheel_from_bytes(f, &bytes)?;
        Ok((Method::Download, x, Vec::new()))
    }

    /// Runs setup.py on a blocking thread. A sandbox that cannot start (bad archive, missing
    /// tool) leaves the requirements unknown, as without `--run-setup-py`; per-interpreter
    /// failures come back as runs with an error and are recorded.
    async fn run_setup_py(
        &self,
        f: &PendingFile,
        bytes: Vec<u8>,
        cfg: Arc<SandboxConfig>,
    ) -> Vec<Run> {
        let _slot = self.setup_py_slots.acquire().await.ok();
        let filename = f.filename.clone();
        let joined = tokio::task::spawn_blocking(move || {
            pinion_setuppy::run_setup_py(&filename, &bytes, &cfg)
        })
        .await;
        match joined {
            Ok(Ok(runs)) => runs,
            Ok(Err(e)) => {
                tracing::warn!("{}: setup.py not run: {e}", f.filename);
                Vec::new()
            }
            Err(e) => {
                tracing::warn!("{}: setup.py runner failed: {e}", f.filename);
                Vec::new()
            }
        }
    }

    fn probe_unadvertised(&self) -> bool {
        !self.no_sidecars.load(Ordering::Relaxed)
            || self.reprobe_tick.fetch_add(1, Ordering::Relaxed) % SIDECAR_REPROBE
                == SIDECAR_REPROBE - 1
    }

    /// `Ok(None)` means "no usable sidecar; try the next strategy".
    async fn sidecar(
        &self,
        f: &PendingFile,
        want: Option<[u8; 32]>,
        advertised: bool,
    ) -> Result<Option<Extracted>, FetchError> {
        let url = format!("{}.metadata", f.url);
        let cap = self.opts.limits.max_member_bytes;
        let resp = match self.http.get(&url, &[], cap).await {
            Ok(r) => r,
            Err(HttpError::TooLarge { .. }) => {
                return Err(metadata_err(f, format!("sidecar larger than {cap} bytes")));
            }
            Err(e) => return Err(e.into()),
        };
        if !resp.status.is_success() {
            if !advertised && resp.status == StatusCode::NOT_FOUND {
                let misses = self.sidecar_misses.fetch_add(1, Ordering::Relaxed) + 1;
                if misses >= SIDECAR_GIVE_UP && !self.no_sidecars.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        "{misses} unadvertised .metadata sidecars missing; no longer trying them"
                    );
                }
            } else {
                tracing::debug!(url, status = resp.status.as_u16(), "sidecar unavailable");
            }
            return Ok(None);
        }
        self.sidecar_misses.store(0, Ordering::Relaxed);
        if self.no_sidecars.swap(false, Ordering::Relaxed) {
            tracing::info!(url, "a .metadata sidecar appeared; trying sidecars again");
        }
        if let Some(want) = want {
            let got: [u8; 32] = Sha256::digest(&resp.body).into();
            if got != want {
                // The wheel itself is authoritative and hash-checked; use it instead.
                tracing::warn!(
                    url,
                    "sidecar sha256 does not match the advertised hash; ignoring the sidecar"
                );
                return Ok(None);
            }
        }
        extract::from_core_metadata(&resp.body)
            .map(Some)
            .map_err(|e| metadata_err(f, e.to_string()))
    }

    async fn range(&self, f: &PendingFile) -> Result<RangeOutcome, FetchError> {
        let tail_len = zip_range::TAIL_GUESS;
        let suffix = format!("bytes=-{tail_len}");
        let cap = self.opts.max_download;
        let resp = self
            .http
            .get(
                &f.url,
                &[(RANGE, &suffix), (ACCEPT_ENCODING, "identity")],
                cap,
            )
            .await?;
        match resp.status {
            StatusCode::PARTIAL_CONTENT => {}
            StatusCode::OK => {
                if !self.no_range.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        url = f.url,
                        "server ignores Range requests; downloading whole files"
                    );
                }
                return Ok(RangeOutcome::WholeFile(resp.body));
            }
            // 416 for files smaller than the suffix on some servers; downloading is cheap then.
            _ => return Ok(RangeOutcome::Unusable),
        }
        let Some(total) = resp
            .header("content-range")
            .and_then(content_range_total)
            .or(f.size.map(|s| s as u64))
        else {
            return Ok(RangeOutcome::Unusable);
        };
        let tail = resp.body;
        let tail_start = total.saturating_sub(tail.len() as u64);
        let cd = match zip_range::locate_central_directory(&tail, total) {
            Ok(cd) => cd,
            Err(extract::ExtractError::Zip64RecordOutsideTail { .. }) => {
                return Ok(RangeOutcome::Unusable);
            }
            Err(e) => return Err(archive(f, e)),
        };
        let cd_bytes = if cd.offset >= tail_start {
            let from = (cd.offset - tail_start) as usize;
            from.checked_add(cd.len as usize)
                .and_then(|end| tail.get(from..end))
                .ok_or_else(|| archive_msg(f, "central directory outside the file"))?
                .to_vec()
        } else {
            self.get_range(f, cd.offset, cd.len).await?
        };
        let entry = zip_range::find_metadata_entry_limited(&cd_bytes, self.opts.limits.max_members)
            .map_err(|e| archive(f, e))?;
        let (start, len) = zip_range::local_entry_span(&entry);
        if start >= total {
            return Err(archive_msg(
                f,
                "METADATA entry starts beyond the end of the file",
            ));
        }
        let end = start.saturating_add(len).min(total);
        let local = if start >= tail_start {
            tail[(start - tail_start) as usize..(end - tail_start) as usize].to_vec()
        } else {
            self.get_range(f, start, end - start).await?
        };
        let meta = zip_range::read_local_entry(&local, &entry, &self.opts.limits)
            .map_err(|e| archive(f, e))?;
        extract::from_core_metadata(&meta)
            .map(|x| RangeOutcome::Metadata(Box::new(x)))
            .map_err(|e| metadata_err(f, e.to_string()))
    }

    async fn get_range(
        &self,
        f: &PendingFile,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>, FetchError> {
        if len == 0 {
            return Err(archive_msg(f, "empty byte range"));
        }
        let header = format!("bytes={}-{}", start, start + len - 1);
        let resp = self
            .http
            .get(
                &f.url,
                &[(RANGE, &header), (ACCEPT_ENCODING, "identity")],
                len.max(1 << 16),
            )
            .await?;
        if resp.status != StatusCode::PARTIAL_CONTENT {
            return Err(FetchError::Status {
                url: f.url.clone(),
                status: resp.status.as_u16(),
            });
        }
        Ok(resp.body)
    }

    async fn download(&self, f: &PendingFile) -> Result<Vec<u8>, FetchError> {
        let resp = self
            .http
            .get(
                &f.url,
                &[(ACCEPT_ENCODING, "identity")],
                self.opts.max_download,
            )
            .await?;
        if !resp.status.is_success() {
            return Err(FetchError::Status {
                url: f.url.clone(),
                status: resp.status.as_u16(),
            });
        }
        check_hash(f, &resp.body)?;
        Ok(resp.body)
    }

    fn wheel_from_bytes(&self, f: &PendingFile, bytes: &[u8]) -> Result<Extracted, FetchError> {
        check_hash(f, bytes)?;
        extract::from_wheel(bytes, &self.opts.limits).map_err(|e| archive(f, e))
    }
}

enum RangeOutcome {
    Metadata(Box<Extracted>),
    WholeFile(Vec<u8>),
    Unusable,
}

fn check_hash(f: &PendingFile, bytes: &[u8]) -> Result<(), FetchError> {
    if let Some(want) = f.sha256 {
        let got: [u8; 32] = Sha256::digest(bytes).into();
        if got != want {
            return Err(FetchError::Hash {
                filename: f.filename.clone(),
                got: hex::encode(got),
                want: hex::encode(want),
            });
        }
    }
    Ok(())
}

/// `bytes 100-199/12345` → 12345.
fn content_range_total(v: &str) -> Option<u64> {
    v.rsplit('/').next()?.trim().parse().ok()
}

fn archive(f: &PendingFile, e: extract::ExtractError) -> FetchError {
    FetchError::Archive {
        filename: f.filename.clone(),
        message: e.to_string(),
    }
}

fn archive_msg(f: &PendingFile, m: &str) -> FetchError {
    FetchError::Archive {
        filename: f.filename.clone(),
        message: m.to_string(),
    }
}

fn metadata_err(f: &PendingFile, message: String) -> FetchError {
    FetchError::Metadata {
        filename: f.filename.clone(),
        message,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_range() {
        assert_eq!(
            super::content_range_total("bytes 100-199/12345"),
            Some(12345)
        );
        assert_eq!(super::content_range_total("bytes 0-1/*"), None);
    }
}
