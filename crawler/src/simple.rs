//! Parsing of simple-repository pages: PEP 691 JSON and PEP 503 HTML, for both the root
//! project list and per-project file lists (with the PEP 592/658/700/714 extensions).
//!
//! Pure functions over bytes; the HTTP side lives in `sync`.
//!
//! A page is read as a listing only when it is one: PEP 691 JSON must carry
//! `meta.api-version` (major version 1) and its `files` (or `projects`) list; PEP 503 HTML must
//! be complete (no unterminated tag or anchor, `</html>` when `<html>` opens it) and either
//! name the project (`<title>Links for NAME</title>` / `<h1>`) or list files of it (the root:
//! the PEP 629 version tag, the `Simple index` title, or anchors that link a project's name to
//! its page). Anything else — a proxy's error page served with 200, a page cut short, another
//! project's page — is an error, never an empty listing, because the caller deletes the files
//! a listing no longer names.

use pinion_pep::{DistFilename, ProjectName, classify_filename};
use serde::Deserialize;
use url::Url;

mod html;
use html::{html_structure, links_for, names_project, repository_version, tag_text};

pub const JSON_CONTENT_TYPE: &str = "application/vnd.pypi.simple.v1+json";
/// JSON first, HTML as a fallback, per PEP 691's content negotiation.
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "{url}: response is neither PEP 691 JSON nor PEP 503 HTML (content-type {content_type:?})"
    )]
    UnknownFormat { url: String, content_type: String },
    #[error("{url}: invalid PEP 691 JSON: {message}")]
    BadJson { url: String, message: String },
    #[error("{url}: not a simple-index page: {reason}")]
    NotAnIndexPage { url: String, reason: String },
    #[error("{url}: malformed or truncated HTML: {reason}")]
    Malformed { url: String, reason: String },
    #[error(
        "{url}: repository API version {version:?} is not supported (this crawler reads major version 1)"
    )]
    UnsupportedVersion { url: String, version: String },
}

fn not_index(url: &Url, reason: impl Into<String>) -> IndexError {
    IndexError::NotAnIndexPage {
        url: url.to_string(),
        reason: reason.into(),
    }
}

/// PEP 629 / PEP 691: a client must refuse a major version it does not know.
fn check_api_version(url: &Url, version: &str) -> Result<(), IndexError> {
    if version.trim().split('.').next() == Some("1") {
        return Ok(());
    }
    Err(IndexError::UnsupportedVersion {
        url: url.to_string(),
        version: version.to_string(),
    })
}

/// The `meta.api-version` a PEP 691 response must carry.
fn json_api_version(url: &Url, meta: Option<&JsonMeta>) -> Result<(), IndexError> {
    match meta.and_then(|m| m.api_version.as_deref()) {
        Some(v) => check_api_version(url, v),
        None => Err(not_index(url, "JSON without `meta.api-version`")),
    }
}

/// Whether the index advertises a PEP 658 sidecar, and its hash when it gives one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CoreMetadata {
    #[default]
    NotAdvertised,
    Advertised {
        sha256: Option<[u8; 32]>,
    },
}

/// One file listed on a project page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexFile {
    pub filename: String,
    /// Absolute, fragment removed.
    pub url: String,
    pub sha256: Option<[u8; 32]>,
    pub size: Option<i64>,
    pub upload_time: Option<i64>,
    pub requires_python: Option<String>,
    pub yanked: bool,
    pub yanked_reason: Option<String>,
    pub core_metadata: CoreMetadata,
}

/// Wheel tag columns: python, abi, platform, each '.'-joined.
pub type TagColumns = [String; 3];

impl IndexFile {
    /// (kind, version, wheel tags) as stored in `files`. Unparseable wheel/sdist names are
    /// stored as kind 'other' so one odd upload cannot stop a project.
    pub fn classify(&self, project: &str) -> (&'static str, String, Option<TagColumns>) {
        let Ok(name) = ProjectName::new(project) else {
            return ("other", String::new(), None);
        };
        match classify_filename(&self.filename, &name) {
            Ok(DistFilename::Wheel(w)) => (
                "wheel",
                w.version,
                Some([
                    w.python_tags.join("."),
                    w.abi_tags.join("."),
                    w.platform_tags.join("."),
                ]),
            ),
            Ok(DistFilename::Sdist(s)) if is_bdist_dumb_version(&s.version) => {
                ("bdist_dumb", s.version, None)
            }
            Ok(DistFilename::Sdist(s)) => ("sdist", s.version, None),
            Ok(DistFilename::Other) | Err(_) => ("other", other_version(&self.filename), None),
        }
    }
}

/// `setup.py bdist_dumb` names its archives `{name}-{version}.{platform}.tar.gz`/`.zip`
/// (`foo-1.0.linux-x86_64.tar.gz`, `foo-1.0.win32.zip`), which parse as sdists whose
/// version ends with a distutils platform name.
fn is_bdist_dumb_version(version: &str) -> bool {
    const PLATFORMS: [&str; 7] = [
        ".linux-",
        ".win32",
        ".win-amd64",
        ".win-arm64",
        ".macosx-",
        ".cygwin-",
        ".freebsd-",
    ];
    PLATFORMS.iter().any(|p| version.contains(p))
}

/// Best-effort version of eggs/installers (`name-1.0-py2.7.egg`): the second dash field.
fn other_version(filename: &str) -> String {
    filename
        .split('-')
        .nth(1)
        .map(|v| v.trim_end_matches(".exe").trim_end_matches(".egg"))
        .unwrap_or("")
        .to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPage {
    /// The name as the index spells it (falls back to the requested name).
    pub display_name: Option<String>,
    pub last_serial: Option<i64>,
    pub files: Vec<IndexFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootEntry {
    pub name: String,
    pub last_serial: Option<i64>,
}

fn is_json(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|m| {
        m.trim().eq_ignore_ascii_case(JSON_CONTENT_TYPE)
            || m.trim().eq_ignore_ascii_case("application/json")
    })
}

fn is_html(content_type: &str, body: &[u8]) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "text/html" || mime == "application/vnd.pypi.simple.v1+html" {
        return true;
    }
    // Some static mirrors serve pages without a content type.
    mime.is_empty() && {
        let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
        head.contains("<html") || head.contains("<!doctype html") || head.contains("<a ")
    }
}

/// Parses the page of `project`. `header_serial` is `X-PyPI-Last-Serial`, used when the body
/// has none.
pub fn parse_project_page(
    url: &Url,
    project: &ProjectName,
    content_type: &str,
    body: &[u8],
    header_serial: Option<i64>,
) -> Result<ProjectPage, IndexError> {
    if is_json(content_type) {
        let page: JsonProject = serde_json::from_slice(body).map_err(|e| IndexError::BadJson {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        json_api_version(url, page.meta.as_ref())?;
        if let Some(name) = &page.name
            && ProjectName::new(name).ok().as_ref() != Some(project)
        {
            return Err(not_index(
                url,
                format!("the page is for `{name}`, not `{project}`"),
            ));
        }
        let Some(entries) = page.files else {
            return Err(not_index(url, "JSON without a `files` list"));
        };
        let files = entries
            .into_iter()
            .map(|f| f.into_file(url))
            .collect::<Result<_, _>>()?;
        return Ok(ProjectPage {
            display_name: page.name,
            last_serial: page.meta.and_then(|m| m.last_serial).or(header_serial),
            files,
        });
    }
    if is_html(content_type, body) {
        let html = String::from_utf8_lossy(body);
        let files: Vec<IndexFile> = html_structure(url, &html)?
            .into_iter()
            .map(|a| a.into_file(url))
            .collect::<Result<_, _>>()?;
        match links_for(&html) {
            Some(named) if ProjectName::new(&named).ok().as_ref() != Some(project) => {
                return Err(not_index(
                    url,
                    format!("the page is for `{named}`, not `{project}`"),
                ));
            }
            Some(_) => {}
            None if files.iter().any(|f| names_project(&f.filename, project)) => {}
            None => {
                return Err(not_index(
                    url,
                    format!(
                        "neither names `{project}` (`<title>Links for {project}</title>`) nor lists a file of it"
                    ),
                ));
            }
        }
        return Ok(ProjectPage {
            display_name: None,
            last_serial: header_serial,
            files,
        });
    }
    Err(IndexError::UnknownFormat {
        url: url.to_string(),
        content_type: content_type.to_string(),
    })
}

/// Parses the root page (all projects).
pub fn parse_root_page(
    url: &Url,
    content_type: &str,
    body: &[u8],
) -> Result<Vec<RootEntry>, IndexError> {
    if is_json(content_type) {
        let root: JsonRoot = serde_json::from_slice(body).map_err(|e| IndexError::BadJson {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        json_api_version(url, root.meta.as_ref())?;
        return Ok(root
            .projects
            .into_iter()
            .map(|p| RootEntry {
                name: p.name,
                last_serial: p.last_serial,
            })
            .collect());
    }
    if is_html(content_type, body) {
        let html = String::from_utf8_lossy(body);
        let anchors = html_structure(url, &html)?;
        let says_index = repository_version(&html).is_some()
            || tag_text(&html, "title").is_some_and(|t| t.eq_ignore_ascii_case("simple index"));
        if !says_index && !anchors.iter().any(|a| a.links_project(url)) {
            return Err(not_index(
                url,
                "no anchor links a project to its page, and no `pypi:repository-version` tag says this is an index",
            ));
        }
        return Ok(anchors
            .into_iter()
            .map(|a| RootEntry {
                name: a.text.trim().to_string(),
                last_serial: None,
            })
            .collect());
    }
    Err(IndexError::UnknownFormat {
        url: url.to_string(),
        content_type: content_type.to_string(),
    })
}

/// `_last-serial` is a number in PEP 691's examples but a string on pypi.org; take both.
fn serial<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[derive(Deserialize)]
struct JsonRoot {
    meta: Option<JsonMeta>,
    projects: Vec<JsonRootProject>,
}

#[derive(Deserialize)]
struct JsonRootProject {
    name: String,
    #[serde(rename = "_last-serial", default, deserialize_with = "serial")]
    last_serial: Option<i64>,
}

#[derive(Deserialize)]
struct JsonProject {
    name: Option<String>,
    meta: Option<JsonMeta>,
    /// Absent is not empty: a JSON object without `files` is no project page.
    files: Option<Vec<JsonFile>>,
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
    #[serde(rename = "_last-serial", default, deserialize_with = "serial")]
    last_serial: Option<i64>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<serde_json::Value>,
    size: Option<i64>,
    #[serde(rename = "upload-time")]
    upload_time: Option<String>,
    #[serde(rename = "core-metadata")]
    core_metadata: Option<serde_json::Value>,
    #[serde(rename = "dist-info-metadata")]
    dist_info_metadata: Option<serde_json::Value>,
}

impl JsonFile {
    fn into_file(self, base: &Url) -> Result<IndexFile, IndexError> {
        let url = resolve(base, &self.url).ok_or_else(|| {
            not_index(
                base,
                format!("`{}` has the unusable URL {:?}", self.filename, self.url),
            )
        })?;
        let sha256 = self
            .hashes
            .get("sha256")
            .and_then(|v| v.as_str())
            .and_then(parse_sha256);
        let (yanked, yanked_reason) = match self.yanked {
            Some(serde_json::Value::Bool(b)) => (b, None),
            Some(serde_json::Value::String(s)) => (true, Some(s)),
            _ => (false, None),
        };
        let core = self.core_metadata.or(self.dist_info_metadata);
        let core_metadata = match core {
            None | Some(serde_json::Value::Bool(false)) | Some(serde_json::Value::Null) => {
                CoreMetadata::NotAdvertised
            }
            Some(serde_json::Value::Object(m)) => CoreMetadata::Advertised {
                sha256: m
                    .get("sha256")
                    .and_then(|v| v.as_str())
                    .and_then(parse_sha256),
            },
            Some(_) => CoreMetadata::Advertised { sha256: None },
        };
        Ok(IndexFile {
            filename: self.filename,
            url,
            sha256,
            size: self.size,
            upload_time: self.upload_time.as_deref().and_then(parse_timestamp),
            requires_python: self.requires_python.filter(|s| !s.trim().is_empty()),
            yanked,
            yanked_reason: yanked_reason.filter(|s| !s.is_empty()),
            core_metadata,
        })
    }
}

fn resolve(base: &Url, href: &str) -> Option<String> {
    let mut u = base.join(href).ok()?;
    u.set_fragment(None);
    Some(u.to_string())
}

fn parse_sha256(hex_str: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_str.trim(), &mut out).ok()?;
    Some(out)
}

/// Parses RFC 3339 / ISO 8601 UTC timestamps (`2023-01-01T12:00:00.123456Z`) or a bare
/// date (`2023-01-01`) to unix seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = s.get(..10)?;
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = pinion_db::time::days_from_civil(y, m, d) * 86_400;
    let rest = &s[10..];
    if let Some(time) = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' ')) {
        let hh: i64 = time.get(0..2)?.parse().ok()?;
        let mm: i64 = time.get(3..5)?.parse().ok()?;
        let ss: i64 = time.get(6..8)?.parse().ok()?;
        secs += hh * 3600 + mm * 60 + ss;
        // A numeric offset (`+02:00`) shifts to UTC; `Z` and fractions need nothing.
        let tail = &time[8..];
        if let Some(off_at) = tail.find(['+', '-']) {
            let off = &tail[off_at..];
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let oh: i64 = off.get(1..3)?.parse().ok()?;
            let om: i64 = off.get(4..6).and_then(|v| v.parse().ok()).unwrap_or(0);
            secs -= sign * (oh * 3600 + om * 60);
        }
    } else if !rest.is_empty() {
        return None;
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.org/simple/foo/").unwrap()
    }

    fn foo() -> ProjectName {
        ProjectName::new("foo").unwrap()
    }

    fn project(ct: &str, body: &str) -> Result<ProjectPage, IndexError> {
        parse_project_page(&base(), &foo(), ct, body.as_bytes(), None)
    }

    #[test]
    fn html_page_with_extensions() {
        let html = r#"<!DOCTYPE html><html><body>
<a href="../../files/foo-1.0-py3-none-any.whl#sha256=0000000000000000000000000000000000000000000000000000000000000001" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=0000000000000000000000000000000000000000000000000000000000000002">foo-1.0-py3-none-any.whl</a><br/>
<A HREF='https://other.example/foo-0.9.tar.gz' data-yanked="broken &amp; bad">foo-0.9.tar.gz</A>
<a href="foo-0.8.tar.gz" data-yanked data-core-metadata="true">foo-0.8.tar.gz</a>
</body></html>"#;
        let page = parse_project_page(
            &base(),
            &foo(),
            "text/html; charset=utf-8",
            html.as_bytes(),
            Some(7),
        )
        .unwrap();
        assert_eq!(page.last_serial, Some(7));
        assert_eq!(page.files.len(), 3);
        let w = &page.files[0];
        assert_eq!(w.url, "https://example.org/files/foo-1.0-py3-none-any.whl");
        assert_eq!(w.sha256.unwrap()[31], 1);
        assert_eq!(w.requires_python.as_deref(), Some(">=3.8"));
        let mut h2 = [0u8; 32];
        h2[31] = 2;
        assert_eq!(
            w.core_metadata,
            CoreMetadata::Advertised { sha256: Some(h2) }
        );
        assert_eq!(page.files[1].yanked_reason.as_deref(), Some("broken & bad"));
        assert!(page.files[1].yanked);
        assert_eq!(
            page.files[2].url,
            "https://example.org/simple/foo/foo-0.8.tar.gz"
        );
        assert!(page.files[2].yanked && page.files[2].yanked_reason.is_none());
        assert_eq!(
            page.files[2].core_metadata,
            CoreMetadata::Advertised { sha256: None }
        );
    }

    #[test]
    fn json_page() {
        let json = r#"{"meta":{"api-version":"1.1","_last-serial":"42"},"name":"Foo","files":[
            {"filename":"foo-1.0.tar.gz","url":"/f/foo-1.0.tar.gz","hashes":{"sha256":"ff00000000000000000000000000000000000000000000000000000000000000"},
             "requires-python":"","yanked":"oops","size":10,"upload-time":"2023-01-02T00:00:01.5Z","core-metadata":false},
            {"filename":"foo-1.0-py3-none-any.whl","url":"https://x/foo-1.0-py3-none-any.whl","hashes":{},"yanked":false,"core-metadata":{"sha256":"zz"}}]}"#;
        let page = parse_project_page(
            &base(),
            &foo(),
            "application/vnd.pypi.simple.v1+json",
            json.as_bytes(),
            Some(1),
        )
        .unwrap();
        assert_eq!(page.last_serial, Some(42));
        assert_eq!(page.display_name.as_deref(), Some("Foo"));
        let s = &page.files[0];
        assert_eq!(s.url, "https://example.org/f/foo-1.0.tar.gz");
        assert_eq!(s.sha256.unwrap()[0], 0xff);
        assert_eq!(s.requires_python, None);
        assert_eq!(s.yanked_reason.as_deref(), Some("oops"));
        assert_eq!(s.upload_time, Some(1_672_617_601));
        assert_eq!(s.core_metadata, CoreMetadata::NotAdvertised);
        assert_eq!(
            page.files[1].core_metadata,
            CoreMetadata::Advertised { sha256: None }
        );
        assert!(!page.files[1].yanked);
    }

    #[test]
    fn unknown_format_is_an_error() {
        let e = parse_project_page(&base(), &foo(), "text/plain", b"hello", None).unwrap_err();
        assert!(
            e.to_string()
                .contains("neither PEP 691 JSON nor PEP 503 HTML"),
            "{e}"
        );
        assert!(matches!(
            parse_project_page(&base(), &foo(), JSON_CONTENT_TYPE, b"{", None),
            Err(IndexError::BadJson { .. })
        ));
    }

    #[test]
    fn pages_that_are_not_index_pages_are_errors() {
        let not_index = |ct: &str, body: &str| match project(ct, body) {
            Err(IndexError::NotAnIndexPage { reason, .. }) => reason,
            other => panic!("{body}: {other:?}"),
        };
        let r = not_index(
            "text/html",
            "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><a href=\"/\">home</a></body></html>",
        );
        assert!(r.contains("neither names `foo`"), "{r}");
        assert!(not_index(JSON_CONTENT_TYPE, r#"{"message":"down"}"#).contains("api-version"));
        assert!(
            not_index(
                JSON_CONTENT_TYPE,
                r#"{"meta":{"api-version":"1.0"},"name":"foo"}"#
            )
            .contains("`files`")
        );
        assert!(
            not_index(
                JSON_CONTENT_TYPE,
                r#"{"meta":{"api-version":"1.0"},"name":"Bar","files":[]}"#
            )
            .contains("for `Bar`")
        );
        assert!(
            not_index(
                "text/html",
                "<html><head><title>Links for bar</title></head><body></body></html>"
            )
            .contains("for `bar`")
        );
        assert!(matches!(
            project(
                JSON_CONTENT_TYPE,
                r#"{"meta":{"api-version":"2.0"},"name":"foo","files":[]}"#
            ),
            Err(IndexError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            project(
                "text/html",
                "<html><head><meta name=\"pypi:repository-version\" content=\"2.0\"></head></html>"
            ),
            Err(IndexError::UnsupportedVersion { .. })
        ));
        for cut in [
            "<!DOCTYPE html><html><body><a href=\"foo-1.0.tar.gz\">foo-1.0.tar.gz</a>",
            "<a href=\"foo-1.0.tar.gz\">foo-1.0.tar.gz</a><a href=\"foo-1",
            "<a href=\"foo-1.0.tar.gz\">foo-1.0.tar.gz",
        ] {
            assert!(
                matches!(project("text/html", cut), Err(IndexError::Malformed { .. })),
                "{cut}"
            );
        }
    }

    #[test]
    fn empty_projects_are_read_when_the_page_says_so() {
        let html = "<!DOCTYPE html><html><head><title>Links for Foo</title></head><body><h1>Links for Foo</h1></body></html>";
        assert_eq!(project("text/html", html).unwrap().files, []);
        let json = r#"{"meta":{"api-version":"1.1"},"name":"foo","files":[]}"#;
        assert_eq!(project(JSON_CONTENT_TYPE, json).unwrap().files, []);
        // A bare list of the project's files (a static mirror) is a listing too.
        let bare = "<a href=\"Foo_Bar-1.0.tar.gz\">Foo_Bar-1.0.tar.gz</a>";
        let u = Url::parse("https://example.org/simple/foo-bar/").unwrap();
        let p = parse_project_page(
            &u,
            &ProjectName::new("foo-bar").unwrap(),
            "",
            bare.as_bytes(),
            None,
        );
        assert_eq!(p.unwrap().files.len(), 1);
    }

    #[test]
    fn root_pages_that_are_not_listings_are_errors() {
        let u = Url::parse("https://example.org/simple/").unwrap();
        for body in [
            "<!DOCTYPE html><html><body><h1>Service Unavailable</h1><a href=\"/\">home</a></body></html>",
            "<!DOCTYPE html><html><body><a href=\"/simple/a/\">a</a>",
        ] {
            assert!(
                parse_root_page(&u, "text/html", body.as_bytes()).is_err(),
                "{body}"
            );
        }
        assert!(parse_root_page(&u, JSON_CONTENT_TYPE, br#"{"projects":[]}"#).is_err());
        let empty = "<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Simple index</title></head><body></body></html>";
        assert_eq!(
            parse_root_page(&u, "text/html", empty.as_bytes()).unwrap(),
            []
        );
    }

    #[test]
    fn root_pages() {
        let u = Url::parse("https://example.org/simple/").unwrap();
        let j = br#"{"meta":{"api-version":"1.0"},"projects":[{"name":"A.b","_last-serial":3},{"name":"c"}]}"#;
        let r = parse_root_page(&u, JSON_CONTENT_TYPE, j).unwrap();
        assert_eq!(
            r,
            vec![
                RootEntry {
                    name: "A.b".into(),
                    last_serial: Some(3)
                },
                RootEntry {
                    name: "c".into(),
                    last_serial: None
                }
            ]
        );
        let h = b"<html><body><a href=\"/simple/a-b/\">A.b</a>\n<a href=\"/simple/c/\">c</a></body></html>";
        assert_eq!(parse_root_page(&u, "text/html", h).unwrap().len(), 2);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(parse_timestamp("2023-01-01"), Some(1_672_531_200));
        assert_eq!(
            parse_timestamp("2023-01-01T01:00:00+01:00"),
            Some(1_672_531_200)
        );
        assert_eq!(parse_timestamp("2000-02-29T23:59:59Z"), Some(951_868_799));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2023-13-01"), None);
    }

    #[test]
    fn bdist_dumb_names() {
        let file = |filename: &str| IndexFile {
            filename: filename.into(),
            ..IndexFile::default()
        };
        for (name, kind) in [
            ("foo-1.0.linux-x86_64.tar.gz", "bdist_dumb"),
            ("foo-1.0.win32.zip", "bdist_dumb"),
            ("foo-1.0.macosx-10.9-x86_64.tar.gz", "bdist_dumb"),
            ("foo-1.0.tar.gz", "sdist"),
            ("foo-1.0.linuxthing.tar.gz", "sdist"),
        ] {
            assert_eq!(file(name).classify("foo").0, kind, "{name}");
        }
    }
}
