//! A loopback package index for the integration tests and the benchmark: an in-process axum
//! server on 127.0.0.1 serving PEP 691 JSON / PEP 503 HTML pages, files, PEP 658 sidecars and
//! Range requests — each switchable — plus fault injection on files, project pages and the
//! root page (429 storms, cut connections, resets, HTML error pages served with 200, truncated
//! pages, bodies dripped a byte at a time, hangs, absurd `Content-Length`s, wrong hashes, pages
//! in an unknown format). It logs every request so tests can assert exactly what a sync
//! fetched. Also builds synthetic wheels and sdists.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Injected misbehaviour of one URL (a file, a project page or the root page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// The first `times` requests get 429 with `Retry-After: retry_after`.
    TooManyRequests { times: u32, retry_after: u32 },
    /// The first `times` requests send half the body, then drop the connection.
    CutConnection { times: u32 },
    /// Every request gets headers, then the connection drops before any body byte.
    Reset,
    /// 200 with a proxy's HTML error page instead of the content.
    ErrorPage,
    /// 200 with the first half of the content and a clean end (no `Content-Length`), as a
    /// proxy that lost its upstream mid-page sends it.
    Truncated,
    /// The body, one byte every `interval`.
    Drip { interval: Duration },
    /// Headers, then no body byte ever (the connection stays open).
    HangAfterHeaders,
    /// The connection is accepted and nothing is ever sent.
    Hang,
    /// Headers announcing a `Content-Length` of `len`, then the real body and a closed
    /// connection.
    HugeLength { len: u64 },
}

/// A proxy's error page, as served with status 200 by misconfigured caches.
pub const ERROR_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body><h1>503 Service Unavailable</h1><p>The upstream server is not answering. <a href=\"/\">Home</a></p></body></html>\n";

#[derive(Debug, Clone)]
pub struct TestFile {
    pub filename: String,
    pub bytes: Bytes,
    /// The sidecar served at `<url>.metadata` (when sidecars are on).
    pub metadata: Option<Bytes>,
    pub upload_time: Option<String>,
    /// `Some("")` = yanked without a reason.
    pub yanked: Option<String>,
    pub requires_python: Option<String>,
    /// Hash listed on the page instead of the real one.
    pub listed_sha256: Option<[u8; 32]>,
    pub fault: Fault,
}

impl TestFile {
    pub fn new(filename: &str, bytes: Vec<u8>) -> TestFile {
        TestFile {
            filename: filename.to_string(),
            bytes: Bytes::from(bytes),
            metadata: None,
            upload_time: None,
            yanked: None,
            requires_python: None,
            listed_sha256: None,
            fault: Fault::None,
        }
    }

    pub fn with_metadata(mut self, m: impl Into<Vec<u8>>) -> TestFile {
        self.metadata = Some(Bytes::from(m.into()));
        self
    }
}

/// Server-wide switches.
#[derive(Debug, Clone)]
pub struct Config {
    pub sidecars: bool,
    /// Put `core-metadata` / `data-core-metadata` on pages (PyPI does; some mirrors do not).
    pub advertise_sidecars: bool,
    pub range: bool,
    /// Serve PEP 503 HTML even when JSON is accepted.
    pub html_only: bool,
}

impl Config {
    /// Neither PEP 658 sidecars nor range requests: every file is downloaded whole (the
    /// path on which file faults bite).
    pub fn whole_files() -> Config {
        Config {
            sidecars: false,
            range: false,
            ..Config::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sidecars: true,
            advertise_sidecars: true,
            range: true,
            html_only: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
    /// Body bytes sent (for cut connections: the part sent before the cut).
    pub bytes: u64,
    pub user_agent: Option<String>,
}

#[derive(Default)]
struct Project {
    display: String,
    serial: i64,
    files: Vec<TestFile>,
    /// Served verbatim instead of the page: (content type, body).
    override_page: Option<(String, Vec<u8>)>,
    page_fault: Fault,
}

#[derive(Default)]
struct Inner {
    projects: Mutex<BTreeMap<String, Project>>,
    /// filename → project key, so file requests need no scan of the whole index.
    owners: Mutex<std::collections::HashMap<String, String>>,
    config: Mutex<Config>,
    log: Mutex<Vec<LoggedRequest>>,
    /// Requests seen per path, for faults that apply to the first N requests.
    hits: Mutex<BTreeMap<String, u32>>,
    serial: AtomicU64,
    /// Total response body bytes sent.
    bytes_sent: AtomicU64,
    root_fault: Mutex<Fault>,
}

pub struct TestIndex {
    inner: Arc<Inner>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestIndex {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestIndex {
    /// Starts the server on an ephemeral loopback port (needs a running tokio runtime).
    pub async fn start(config: Config) -> std::io::Result<TestIndex> {
        let inner = Arc::new(Inner {
            config: Mutex::new(config),
            ..Inner::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TestIndex {
            inner,
            addr,
            server,
        })
    }

    /// The index under its old address, which redirects every request to `index_url`.
    pub fn moved_index_url(&self) -> String {
        format!("http://{}/old/simple/", self.addr)
    }

    pub fn index_url(&self) -> String {
        format!("http://{}/simple/", self.addr)
    }

    pub fn file_url(&self, filename: &str) -> String {
        format!("http://{}/files/{filename}", self.addr)
    }

    pub fn set_config(&self, f: impl FnOnce(&mut Config)) {
        f(&mut lock(&self.inner.config));
    }

    /// Adds (or replaces) a file and bumps the project's serial.
    pub fn add_file(&self, project: &str, file: TestFile) {
        lock(&self.inner.owners).insert(file.filename.clone(), normalize(project));
        self.with_project(project, |p| {
            p.files.retain(|f| f.filename != file.filename);
            p.files.push(file);
        });
    }

    pub fn remove_file(&self, project: &str, filename: &str) {
        lock(&self.inner.owners).remove(filename);
        self.with_project(project, |p| p.files.retain(|f| f.filename != filename));
    }

    /// Deletes a project, as PyPI does when its owner removes it: its page and files then
    /// answer 404.
    pub fn remove_project(&self, project: &str) {
        let key = normalize(project);
        lock(&self.inner.owners).retain(|_, owner| *owner != key);
        lock(&self.inner.projects).remove(&key);
    }

    pub fn set_yanked(&self, project: &str, filename: &str, reason: Option<&str>) {
        self.with_project(project, |p| {
            for f in p.files.iter_mut().filter(|f| f.filename == filename) {
                f.yanked = reason.map(str::to_string);
            }
        });
    }

    pub fn override_page(&self, project: &str, content_type: &str, body: &[u8]) {
        self.with_project(project, |p| {
            p.override_page = Some((content_type.to_string(), body.to_vec()))
        });
    }

    /// Makes every request for the project's page misbehave (`Fault::None` heals it). The
    /// serial is unchanged, as it is when a proxy in front of the index fails.
    pub fn set_page_fault(&self, project: &str, fault: Fault) {
        if let Some(p) = lock(&self.inner.projects).get_mut(&normalize(project)) {
            p.page_fault = fault;
        }
    }

    /// Makes every request for the root page misbehave.
    pub fn set_root_fault(&self, fault: Fault) {
        *lock(&self.inner.root_fault) = fault;
    }

    /// Makes every request for a file misbehave.
    pub fn set_file_fault(&self, project: &str, filename: &str, fault: Fault) {
        if let Some(p) = lock(&self.inner.projects).get_mut(&normalize(project)) {
            for f in p.files.iter_mut().filter(|f| f.filename == filename) {
                f.fault = fault.clone();
            }
        }
    }

    fn with_project(&self, project: &str, f: impl FnOnce(&mut Project)) {
        let key = normalize(project);
        let mut projects = lock(&self.inner.projects);
        let p = projects.entry(key).or_insert_with(|| Project {
            display: project.to_string(),
            ..Project::default()
        });
        f(p);
        p.serial = self.inner.serial.fetch_add(1, Ordering::SeqCst) as i64 + 1;
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.inner.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.inner.log).clear();
    }

    pub fn count(&self, pred: impl Fn(&LoggedRequest) -> bool) -> usize {
        lock(&self.inner.log).iter().filter(|r| pred(r)).count()
    }

    pub fn bytes_sent(&self) -> u64 {
        self.inner.bytes_sent.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn normalize(name: &str) -> String {
    pinion_pep::ProjectName::new(name)
        .map(|n| n.into_string())
        .unwrap_or_else(|_| name.to_ascii_lowercase())
}

async fn handle(
    axum::extract::State(inner): axum::extract::State<Arc<Inner>>,
    req: axum::extract::Request,
) -> Response {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let hit = {
        let mut hits = lock(&inner.hits);
        let h = hits.entry(path.clone()).or_default();
        *h += 1;
        *h
    };
    let resp = route(&inner, &path, &headers, hit);
    let stall = resp.0.extensions().get::<Stall>().is_some();
    inner.bytes_sent.fetch_add(resp.1, Ordering::Relaxed);
    lock(&inner.log).push(LoggedRequest {
        path,
        range,
        status: resp.0.status().as_u16(),
        bytes: resp.1,
        user_agent,
    });
    if stall {
        // `Fault::Hang`: hold the connection without ever answering.
        std::future::pending::<()>().await;
    }
    resp.0
}

/// Marks a response that must never be sent (`Fault::Hang`).
#[derive(Clone, Copy)]
struct Stall;

/// Applies `fault` to the response `ok` would give; `hit` counts requests for this path.
fn faulty(fault: &Fault, hit: u32, ok: impl FnOnce() -> (Response, u64)) -> (Response, u64) {
    let stream = |chunks: Vec<Result<Bytes, std::io::Error>>| {
        Response::new(Body::from_stream(futures::stream::iter(chunks)))
    };
    let reset = || {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected cut",
        ))
    };
    match fault {
        Fault::None => ok(),
        Fault::TooManyRequests { times, retry_after } if hit <= *times => {
            let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            (r, 0)
        }
        Fault::TooManyRequests { .. } | Fault::CutConnection { .. } => ok(),
        Fault::ErrorPage => sized(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(ERROR_PAGE.as_bytes()),
        ),
        Fault::Reset => {
            let mut r = stream(vec![reset()]);
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(1000));
            (r, 0)
        }
        Fault::Hang => {
            let mut r = StatusCode::OK.into_response();
            r.extensions_mut().insert(Stall);
            (r, 0)
        }
        Fault::HangAfterHeaders => (
            Response::new(Body::from_stream(futures::stream::pending::<
                Result<Bytes, std::io::Error>,
            >())),
            0,
        ),
        Fault::Truncated | Fault::Drip { .. } | Fault::HugeLength { .. } => {
            let (full, _) = ok();
            let (parts, body) = full.into_parts();
            let status = parts.status;
            let mut headers = parts.headers;
            headers.remove(header::CONTENT_LENGTH);
            let body = futures::executor::block_on(axum::body::to_bytes(body, usize::MAX))
                .unwrap_or_default();
            let (mut r, n) = match fault {
                Fault::Truncated => {
                    let half = body.slice(..body.len() / 2);
                    let n = half.len() as u64;
                    (stream(vec![Ok(half)]), n)
                }
                Fault::Drip { interval } => {
                    let interval = *interval;
                    let drip = futures::stream::unfold(body.clone(), move |rest| async move {
                        if rest.is_empty() {
                            return None;
                        }
                        tokio::time::sleep(interval).await;
                        Some((Ok::<_, std::io::Error>(rest.slice(..1)), rest.slice(1..)))
                    });
                    (Response::new(Body::from_stream(drip)), body.len() as u64)
                }
                Fault::HugeLength { len } => {
                    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(*len));
                    let n = body.len() as u64;
                    (stream(vec![Ok(body), reset()]), n)
                }
                _ => unreachable!("matched above"),
            };
            *r.status_mut() = status;
            r.headers_mut().extend(headers);
            (r, n)
        }
    }
}

fn route(inner: &Inner, path: &str, headers: &HeaderMap, hit: u32) -> (Response, u64) {
    let config = lock(&inner.config).clone();
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/vnd.pypi.simple.v1+json"))
        && !config.html_only;
    // A moved index: `/old/...` redirects to `/...` (one level up, so relative links only
    // resolve correctly against the final URL).
    if let Some(rest) = path.strip_prefix("/old/") {
        let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
        let location =
            HeaderValue::from_str(&format!("/{rest}")).unwrap_or(HeaderValue::from_static("/"));
        r.headers_mut().insert(header::LOCATION, location);
        return (r, 0);
    }
    if path == "/simple/" {
        let fault = lock(&inner.root_fault).clone();
        return faulty(&fault, hit, || root_page(inner, wants_json));
    }
    if let Some(name) = path
        .strip_prefix("/simple/")
        .and_then(|r| r.strip_suffix('/'))
    {
        return project_page(inner, &config, name, wants_json, hit);
    }
    if let Some(name) = path.strip_prefix("/files/") {
        let projects = lock(&inner.projects);
        let owners = lock(&inner.owners);
        let find = |filename: &str| {
            let project = projects.get(owners.get(filename)?)?;
            project.files.iter().find(|f| f.filename == filename)
        };
        if let Some(base) = name.strip_suffix(".metadata")
            && let Some(f) = find(base)
        {
            return match (&f.metadata, config.sidecars) {
                (Some(m), true) => sized(StatusCode::OK, "application/octet-stream", m.clone()),
                _ => status(StatusCode::NOT_FOUND),
            };
        }
        if let Some(f) = find(name) {
            return serve_file(f, &config, headers, hit);
        }
    }
    status(StatusCode::NOT_FOUND)
}

fn status(s: StatusCode) -> (Response, u64) {
    (s.into_response(), 0)
}

fn sized(s: StatusCode, content_type: &str, body: Bytes) -> (Response, u64) {
    let n = body.len() as u64;
    let mut r = (s, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    (r, n)
}

fn root_page(inner: &Inner, json: bool) -> (Response, u64) {
    let projects = lock(&inner.projects);
    if json {
        let list: Vec<_> = projects
            .values()
            .map(|p| serde_json::json!({"name": p.display, "_last-serial": p.serial}))
            .collect();
        let body = serde_json::json!({"meta": {"api-version": "1.1"}, "projects": list});
        return sized(
            StatusCode::OK,
            crate::simple::JSON_CONTENT_TYPE,
            Bytes::from(body.to_string()),
        );
    }
    let mut html = String::from("<!DOCTYPE html><html><body>\n");
    for (key, p) in projects.iter() {
        html += &format!("<a href=\"/simple/{key}/\">{}</a>\n", p.display);
    }
    html += "</body></html>";
    sized(StatusCode::OK, "text/html", Bytes::from(html))
}

fn project_page(
    inner: &Inner,
    config: &Config,
    name: &str,
    json: bool,
    hit: u32,
) -> (Response, u64) {
    let fault = match lock(&inner.projects).get(&normalize(name)) {
        Some(p) => p.page_fault.clone(),
        None => return status(StatusCode::NOT_FOUND),
    };
    faulty(&fault, hit, || render_page(inner, config, name, json))
}

fn render_page(inner: &Inner, config: &Config, name: &str, json: bool) -> (Response, u64) {
    let projects = lock(&inner.projects);
    let Some(p) = projects.get(&normalize(name)) else {
        return status(StatusCode::NOT_FOUND);
    };
    if let Some((ct, body)) = &p.override_page {
        return sized(StatusCode::OK, ct, Bytes::from(body.clone()));
    }
    let sha = |f: &TestFile| {
        hex::encode(
            f.listed_sha256
                .unwrap_or_else(|| Sha256::digest(&f.bytes).into()),
        )
    };
    let meta_sha = |f: &TestFile| f.metadata.as_ref().map(|m| hex::encode(Sha256::digest(m)));
    let advertise =
        |f: &TestFile| config.advertise_sidecars && config.sidecars && f.metadata.is_some();
    let (ct, body) = if json {
        let files: Vec<_> = p
            .files
            .iter()
            .map(|f| {
                let mut o = serde_json::json!({
                    "filename": f.filename,
                    "url": format!("../../files/{}", f.filename),
                    "hashes": {"sha256": sha(f)},
                    "size": f.bytes.len(),
                    "yanked": match &f.yanked { None => serde_json::json!(false), Some(r) if r.is_empty() => serde_json::json!(true), Some(r) => serde_json::json!(r) },
                });
                if let Some(t) = &f.upload_time {
                    o["upload-time"] = serde_json::json!(t);
                }
                if let Some(rp) = &f.requires_python {
                    o["requires-python"] = serde_json::json!(rp);
                }
                if advertise(f) {
                    o["core-metadata"] = serde_json::json!({"sha256": meta_sha(f)});
                }
                o
            })
            .collect();
        let body = serde_json::json!({"meta": {"api-version": "1.1", "_last-serial": p.serial}, "name": p.display, "files": files});
        (
            crate::simple::JSON_CONTENT_TYPE.to_string(),
            body.to_string(),
        )
    } else {
        let mut html = format!(
            "<!DOCTYPE html><html><head><title>Links for {}</title></head><body>\n",
            p.display
        );
        for f in &p.files {
            let mut attrs = String::new();
            if let Some(rp) = &f.requires_python {
                attrs += &format!(
                    " data-requires-python=\"{}\"",
                    rp.replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                );
            }
            if let Some(y) = &f.yanked {
                attrs += &format!(
                    " data-yanked=\"{}\"",
                    y.replace('&', "&amp;").replace('"', "&quot;")
                );
            }
            if advertise(f) {
                attrs += &format!(
                    " data-core-metadata=\"sha256={}\"",
                    meta_sha(f).unwrap_or_default()
                );
            }
            html += &format!(
                "<a href=\"/files/{0}#sha256={1}\"{attrs}>{0}</a><br/>\n",
                f.filename,
                sha(f)
            );
        }
        html += "</body></html>";
        ("text/html".to_string(), html)
    };
    let (mut r, n) = sized(StatusCode::OK, &ct, Bytes::from(body));
    r.headers_mut()
        .insert("x-pypi-last-serial", HeaderValue::from(p.serial));
    (r, n)
}

fn serve_file(f: &TestFile, config: &Config, headers: &HeaderMap, hit: u32) -> (Response, u64) {
    if let Fault::CutConnection { times } = f.fault
        && hit <= times
    {
        let half = f.bytes.slice(..f.bytes.len() / 2);
        let n = half.len() as u64;
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected cut",
            )),
        ];
        let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(f.bytes.len()));
        return (r, n);
    }
    faulty(&f.fault, hit, || serve_content(f, config, headers))
}

fn serve_content(f: &TestFile, config: &Config, headers: &HeaderMap) -> (Response, u64) {
    let total = f.bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, total));
    match (config.range, range) {
        (true, Some(Some((start, end)))) => {
            let (mut r, n) = sized(
                StatusCode::PARTIAL_CONTENT,
                "application/octet-stream",
                f.bytes.slice(start as usize..=end as usize),
            );
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{total}"))
                    .unwrap_or(HeaderValue::from_static("")),
            );
            (r, n)
        }
        (true, Some(None)) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{total}"))
                    .unwrap_or(HeaderValue::from_static("")),
            );
            (r, 0)
        }
        _ => sized(StatusCode::OK, "application/octet-stream", f.bytes.clone()),
    }
}

/// `Some(Some((start, end)))` for a satisfiable single range, `Some(None)` for an
/// unsatisfiable one, `None` when the header is not a single byte range.
fn parse_range(v: &str, total: u64) -> Option<Option<(u64, u64)>> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || total == 0 {
            return Some(None);
        }
        return Some(Some((total.saturating_sub(n), total - 1)));
    }
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() {
        total.saturating_sub(1)
    } else {
        b.parse().ok()?
    };
    if start >= total || end < start {
        return Some(None);
    }
    Some(Some((start, end.min(total - 1))))
}

/// Core metadata text for a synthetic distribution.
pub fn metadata_text(name: &str, version: &str, requires: &[&str]) -> String {
    let mut s = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        s += &format!("Requires-Dist: {r}\n");
    }
    s
}

/// Entry of a synthetic zip: name, content, and whether to deflate it.
pub struct ZipEntry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub deflate: bool,
}

/// Builds a zip archive (stored or deflated entries, no zip64).
pub fn zip(entries: &[ZipEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let crc = crc32fast::hash(e.data);
        let (method, payload): (u16, Vec<u8>) = if e.deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = enc.write_all(e.data);
            (8, enc.finish().unwrap_or_default())
        } else {
            (0, e.data.to_vec())
        };
        let name = e.name.as_bytes();
        let mut local = Vec::new();
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&20u16.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(&method.to_le_bytes());
        local.extend_from_slice(&[0, 0, 0x21, 0]); // DOS time/date: 1980-01-01
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        local.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name);
        out.extend_from_slice(&local);
        out.extend_from_slice(&payload);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&local[4..30]);
        central.extend_from_slice(&[0; 4]); // comment length, disk number start
        central.extend_from_slice(&[0; 6]); // internal + external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A minimal valid wheel whose METADATA is `metadata`, preceded by a stored module of `pad`
/// incompressible bytes (so range requests have something to skip).
pub fn wheel(name: &str, version: &str, metadata: &[u8], pad: usize) -> Vec<u8> {
    let dist_info = format!("{name}-{version}.dist-info");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ pad as u64;
    let module: Vec<u8> = (0..pad)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let wheel_file =
        b"Wheel-Version: 1.0\nGenerator: pinion-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let (m, w, r) = (
        format!("{dist_info}/METADATA"),
        format!("{dist_info}/WHEEL"),
        format!("{dist_info}/RECORD"),
    );
    let module_name = format!("{name}/__init__.py");
    zip(&[
        ZipEntry {
            name: &module_name,
            data: &module,
            deflate: false,
        },
        ZipEntry {
            name: &m,
            data: metadata,
            deflate: true,
        },
        ZipEntry {
            name: &w,
            data: wheel_file,
            deflate: false,
        },
        ZipEntry {
            name: &r,
            data: b"",
            deflate: false,
        },
    ])
}

/// A `.tar.gz` sdist with the given members under `name-version/`. Paths are written raw,
/// so tests can build hostile archives (`..` members).
pub fn sdist(root: &str, members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, data) in members {
        let full = if path.starts_with('/') || path.starts_with("..") {
            path.to_string()
        } else {
            format!("{root}/{path}")
        };
        let mut h = tar::Header::new_ustar();
        let name = full.as_bytes();
        let n = name.len().min(100);
        h.as_old_mut().name[..n].copy_from_slice(&name[..n]);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let _ = b.append(&h, *data);
    }
    b.into_inner()
        .and_then(|gz| gz.finish())
        .unwrap_or_default()
}

/// The options of a test crawl of `projects` from the index at `index_url`: the named
/// projects only (no `--follow-deps`), 4 requests at once, no progress bar. The tests, the
/// end-to-end pipeline and the fault and benchmark programs change fields with `..`.
pub fn sync_options(index_url: &str, projects: &[&str]) -> crate::sync::SyncOptions {
    crate::sync::SyncOptions {
        index_url: index_url.to_string(),
        selection: crate::sync::Selection::Projects(
            projects.iter().map(|s| s.to_string()).collect(),
        ),
        follow_deps: false,
        uploaded_since: None,
        keep_releases: 0,
        retry_failed: false,
        concurrency: 4,
        progress: false,
        fetch: crate::fetch::FetchOptions::default(),
        shard: None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=-10", 100), Some(Some((90, 99))));
        assert_eq!(parse_range("bytes=-1000", 100), Some(Some((0, 99))));
        assert_eq!(parse_range("bytes=5-9", 100), Some(Some((5, 9))));
        assert_eq!(parse_range("bytes=5-", 100), Some(Some((5, 99))));
        assert_eq!(parse_range("bytes=200-300", 100), Some(None));
        assert_eq!(parse_range("bytes=1-2,4-5", 100), None);
    }
}
