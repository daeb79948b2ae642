//! The in-memory universe dbgen writes: projects → releases → files → metadata with
//! canonical requirement strings. `state` fills it from a crawl state; tests build it by hand
//! to make fixture databases without SQLite.

use std::sync::Arc;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Universe {
    /// The simple index the crawl read, e.g. `https://pypi.org/simple/`.
    pub index_url: String,
    /// Highest project serial the crawl has seen.
    pub last_serial: u64,
    /// Any order; the writer sorts by name.
    pub projects: Vec<Project>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Project {
    /// PEP 503 normalized.
    pub name: String,
    pub display_name: String,
    /// Any order; the writer sorts newest-first.
    pub releases: Vec<Release>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// A PEP 440 version; two releases of a project must not be equal versions.
    pub version: String,
    /// Any order; the writer sorts by filename and drops files it does not keep.
    pub files: Vec<File>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FileKind {
    Wheel,
    #[default]
    Sdist,
    /// Eggs, installers and the like: never stored.
    Other,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    pub filename: String,
    pub url: String,
    pub kind: FileKind,
    pub sha256: [u8; 32],
    pub size: Option<u64>,
    pub upload_time: Option<i64>,
    /// As the index publishes it.
    pub requires_python: Option<String>,
    pub yanked: bool,
    pub yanked_reason: Option<String>,
    /// `None`: not processed by the crawler (every requirement set unknown). Shared because
    /// most files of a release have identical metadata.
    pub metadata: Option<Arc<Metadata>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Metadata {
    pub requires_dist: ReqSet,
    pub build_requires: ReqSet,
    pub setup_requires: ReqSet,
    /// Extra names as written; the writer normalizes them.
    pub provides_extra: Vec<String>,
    pub requires_python: Option<String>,
    pub build_backend: Option<String>,
    pub has_build_system: bool,
}

/// A requirement set. `source: None` means unknown (the crawler could not extract it);
/// `Some` with no requirements is a known empty set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReqSet {
    pub source: Option<String>,
    /// Canonical PEP 508 strings (`pinion_pep::canonical_requirement`).
    pub requirements: Vec<String>,
}

impl ReqSet {
    pub fn known(source: &str, requirements: Vec<String>) -> ReqSet {
        ReqSet {
            source: Some(source.to_string()),
            requirements,
        }
    }
}
