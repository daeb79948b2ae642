//! What the solver needs from a package database, as one small trait, [`PackageSource`]: per
//! project its releases and files (cheap summaries), and on demand one file's dependency
//! metadata. [`db::DbSource`] implements it over the binary DB (`pinion_db`), the only source
//! the shipped resolver has; `memory::MemorySource` (tests only, feature `test-source`)
//! implements it over a `pinion_db::model::Universe`, and `scenario` writes the same universe
//! through the real writer so tests can run one scenario against both.
//!
//! Releases and files are named by [`ReleaseId`] and [`FileId`], positions the source itself
//! handed out (in [`ProjectInfo::versions`] and [`PackageSource::files`]).

pub mod db;
#[cfg(any(test, feature = "test-source"))]
pub mod memory;
#[cfg(any(test, feature = "test-source"))]
pub mod scenario;

use pep440_rs::VersionSpecifiers;
use pep508_rs::MarkerTree;

/// A release of a project: its position in the project's [`ProjectInfo::versions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseId(usize);

impl ReleaseId {
    pub fn new(position: usize) -> ReleaseId {
        ReleaseId(position)
    }

    pub fn position(self) -> usize {
        self.0
    }
}

/// A file of a project: its release and its position in that release's
/// [`PackageSource::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    pub release: ReleaseId,
    pub position: usize,
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "file #{} of release #{}", self.position, self.release.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Wheel,
    Sdist,
}

#[derive(Clone, Debug)]
pub struct FileInfo {
    pub filename: String,
    pub kind: FileKind,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
    pub requires_python: Option<String>,
    pub upload_time: Option<i64>,
    pub yanked: bool,
    pub sha256: [u8; 32],
}

/// A project's release versions (position = [`ReleaseId`]). Files are fetched per release
/// with [`PackageSource::files`], because the solver usually looks at only the newest few.
#[derive(Clone, Debug)]
pub struct ProjectInfo {
    pub name: String,
    pub display_name: String,
    pub versions: Vec<String>,
}

/// One dependency of a distribution, already parsed.
#[derive(Clone, Debug)]
pub struct Dep {
    pub name: String,
    pub extras: Vec<String>,
    pub specifiers: VersionSpecifiers,
    pub marker: MarkerTree,
}

/// Dependency metadata of one file. `None` = the crawler could not extract it.
#[derive(Clone, Debug, Default)]
pub struct FileMeta {
    pub requires_dist: Option<Vec<Dep>>,
    /// `[build-system] requires` followed by `setup_requires`; unknown parts are left out.
    pub build: Vec<Dep>,
    pub has_build_system: bool,
    /// `Provides-Extra`, as published (older metadata may define extras only in markers).
    pub provides_extra: Vec<String>,
    /// Requirement strings the crawler found but could not parse: the requirements above
    /// are then partial.
    pub unparsed: Vec<String>,
}

/// Identity of the database for the lock's `db` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub format: u32,
    pub created_at: i64,
    pub serial: i64,
    pub sha256: String,
    pub index_url: String,
}

/// Why a source could not give a file's metadata. The solver treats the file's requirements
/// as unknown and warns with this text.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An id the source did not hand out (a caller bug, or ids of another source).
    #[error("`{project}` has no {file}")]
    NoSuchFile { project: String, file: FileId },
    #[error("requirement {requirement:?}: {source}")]
    BadVersion {
        requirement: String,
        source: pep440_rs::VersionParseError,
    },
    #[error("requirement {requirement:?}: {source}")]
    BadSpecifier {
        requirement: String,
        source: pep440_rs::VersionSpecifierBuildError,
    },
    #[error("requirement {requirement:?}: invalid marker {marker:?}")]
    BadMarker { requirement: String, marker: String },
}

pub trait PackageSource {
    /// Why `metadata` failed; [`std::convert::Infallible`] for a source that cannot fail.
    type Error: std::error::Error;

    fn snapshot(&self) -> Snapshot;
    /// Looks a project up by any spelling of its name.
    fn project(&self, name: &str) -> Option<ProjectInfo>;
    /// The files of `project`'s release `release`; a file's position here is its
    /// [`FileId::position`].
    fn files(&self, project: &str, release: ReleaseId) -> Vec<FileInfo>;
    /// Dependency metadata of one file of `project` (ids this source handed out).
    fn metadata(&self, project: &str, file: FileId) -> Result<FileMeta, Self::Error>;
    /// Where the file is downloaded from; empty when this source cannot say.
    fn url(&self, project: &str, file: FileId) -> String;
    /// Every normalized project name (only used to suggest spellings after a miss).
    fn names(&self) -> Vec<String>;
}

/// Parses a canonical marker string once; `None` if it is not a valid marker.
pub fn parse_marker(marker: &str) -> Option<MarkerTree> {
    pinion_pep::parse_requirement(&format!("x ; {marker}"))
        .ok()
        .map(|r| r.marker)
}
