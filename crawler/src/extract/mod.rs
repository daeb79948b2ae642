//! Pure metadata extraction: bytes of a distribution file in, structured dependency metadata out.
//!
//! No network and no disk: wheels are read from their zip central directory, sdists are streamed
//! through their decompressor in memory and only the few members that carry metadata are kept.
//! Every source of a field is recorded (see [`Source`]) so the crawl state can say where a
//! requirement set came from. Hostile archives (bombs, `..` paths, truncation) produce a typed
//! [`ExtractError`], never a panic and never an allocation beyond [`Limits`].

mod archive;
mod core_metadata;
mod egg_info;
mod pyproject;
mod reqs;
mod sdist;
mod setup_cfg;
mod setup_py;
pub mod zip_range;

use serde::Serialize;

/// Resource caps applied while reading an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest archive accepted at all.
    pub max_archive_bytes: u64,
    /// Largest single metadata member (METADATA, PKG-INFO, setup.py, ...) that is read.
    pub max_member_bytes: u64,
    /// Cap on bytes produced by decompression while walking an archive (zip/tar bombs).
    pub max_total_uncompressed: u64,
    /// Cap on archive members.
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_bytes: 200 * 1024 * 1024,
            max_member_bytes: 4 * 1024 * 1024,
            max_total_uncompressed: 1024 * 1024 * 1024,
            max_members: 100_000,
        }
    }
}

/// Where a field's value came from; the strings are the crawl-state values (crawler/schema.sql).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Source {
    Metadata,
    PkgInfo,
    Pyproject,
    SetupCfg,
    EggInfo,
    SetupPyStatic,
    Default,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Metadata => "metadata",
            Source::PkgInfo => "pkg-info",
            Source::Pyproject => "pyproject",
            Source::SetupCfg => "setup.cfg",
            Source::EggInfo => "egg-info",
            Source::SetupPyStatic => "setup.py-static",
            Source::Default => "default",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub(crate) fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}

/// How an sdist's `unknown_reason` starts when no build frontend can build the archive
/// as the project it claims to be (crawler/SCHEMA.md, "Unbuildable sdists"). `crawler
/// coverage` counts these apart from sdists whose requirements are merely unknown.
pub const UNBUILDABLE: &str = "unbuildable";

/// Dependency metadata of one distribution file. `None` always means "unknown", never "empty".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Extracted {
    pub metadata_version: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub requires_python: Option<Sourced<String>>,
    /// Raw requirement strings as found; extras become `req; extra == "x"` markers.
    pub requires_dist: Option<Sourced<Vec<String>>>,
    /// Extra names as written, from the same source as `requires_dist`.
    pub provides_extra: Vec<String>,
    /// `[build-system] requires`; for sdists without pyproject.toml (or without a
    /// `[build-system]` table) the PEP 517 default `["setuptools>=40.8.0"]` with source
    /// `Default`. pip's legacy fallback also adds `wheel`; that is left out on purpose because
    /// setuptools >= 70.1 builds wheels by itself and modern pip no longer adds it.
    pub build_requires: Option<Sourced<Vec<String>>>,
    /// setup.cfg / setup.py `setup_requires`.
    pub setup_requires: Option<Sourced<Vec<String>>>,
    /// `[build-system] build-backend` as written; `None` when absent (legacy setuptools).
    pub build_backend: Option<String>,
    pub has_build_system: bool,
    /// setup.py exists and after every static source `requires_dist` or `setup_requires` is
    /// still unknown: only running setup.py can tell.
    pub dynamic_setup_py: bool,
    /// Why `requires_dist` is unknown (`None` when it is known).
    pub unknown_reason: Option<String>,
    /// When two sources disagreed: which one won and why.
    pub decision: Option<String>,
    /// `*.egg-info/requires.txt` (requirements, extras) set aside because setup.py computes
    /// its requirements from the build environment; a setup.py run is compared with it.
    pub requires_txt: Option<(Vec<String>, Vec<String>)>,
}

/// True when two requirement lists say the same, compared as sets of canonical PEP 508
/// strings (requires.txt and setup.py spell and order the same requirements differently).
/// Strings that do not parse are compared as written.
pub fn same_requirements(a: &[String], b: &[String]) -> bool {
    let canon = |v: &[String]| {
        v.iter()
            .map(|r| pinion_pep::canonical_requirement(r).unwrap_or_else(|_| r.trim().to_string()))
            .collect::<std::collections::BTreeSet<String>>()
    };
    canon(a) == canon(b)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("corrupt archive: {what}")]
    CorruptArchive { what: String },
    #[error("{what} is too large: {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("archive has more than {limit} members")]
    TooManyMembers { limit: usize },
    #[error(
        "archive member has an unsafe path (absolute or containing `..`): {0:?}; refusing the archive"
    )]
    UnsafePath(String),
    #[error("no metadata found: {0}")]
    NoMetadata(String),
    /// A built distribution (`setup.py bdist_dumb`: an installed tree, `.../site-packages/...`)
    /// uploaded under an sdist-like name.
    #[error("not an sdist but a bdist_dumb archive (installed files under {0:?})")]
    BdistDumb(String),
    #[error("{member}: malformed metadata at line {line}: {msg}")]
    BadMetadata {
        member: String,
        line: usize,
        msg: String,
    },
    #[error("{member}: field {field} is not valid UTF-8")]
    NotUtf8 { member: String, field: String },
    #[error("{member}: {msg}")]
    BadPyproject { member: String, msg: String },
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The zip64 end-of-central-directory record lies before the fetched tail: fetch more
    /// (or the whole file) and retry.
    #[error(
        "zip64 end of central directory record at offset {offset} lies outside the fetched tail"
    )]
    Zip64RecordOutsideTail { offset: u64 },
}

/// Parses a core metadata file (wheel METADATA, a PEP 658 `.metadata` sidecar, or PKG-INFO).
/// Files larger than `Limits::default().max_member_bytes` are refused.
pub fn from_core_metadata(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let limit = Limits::default().max_member_bytes;
    if bytes.len() as u64 > limit {
        return Err(ExtractError::TooLarge {
            what: "METADATA".into(),
            size: bytes.len() as u64,
            limit,
        });
    }
    let meta = core_metadata::parse(bytes, "METADATA")?;
    Ok(meta.into_extracted(Source::Metadata))
}

/// Extracts the single top-level `*.dist-info/METADATA` of a wheel.
pub fn from_wheel(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    check_archive_size(bytes, limits)?;
    let size = bytes.len() as u64;
    let cd = zip_range::locate_central_directory(bytes, size)?;
    let cd_bytes = slice_span(bytes, cd.offset, cd.len, "central directory")?;
    let entry = zip_range::find_metadata_entry_limited(cd_bytes, limits.max_members)?;
    let data = zip_range::read_entry_in_archive(bytes, &entry, limits)?;
    let meta = core_metadata::parse(&data, &entry.name)?;
    Ok(meta.into_extracted(Source::Metadata))
}

/// Extracts metadata from an sdist (`.tar.gz`, `.tgz`, `.tar.bz2`, `.tbz`, `.tar.xz`, `.txz`,
/// `.tar`, `.zip`), consulting PKG-INFO, pyproject.toml, setup.cfg, egg-info and setup.py in
/// that order; the first source that yields a field wins.
pub fn from_sdist(
    filename: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    check_archive_size(bytes, limits)?;
    let members = archive::read_sdist_members(filename, bytes, limits)?;
    sdist::extract(&members)
}

fn check_archive_size(bytes: &[u8], limits: &Limits) -> Result<(), ExtractError> {
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(ExtractError::TooLarge {
            what: "archive".into(),
            size: bytes.len() as u64,
            limit: limits.max_archive_bytes,
        });
    }
    Ok(())
}

fn slice_span<'a>(
    bytes: &'a [u8],
    offset: u64,
    len: u64,
    what: &str,
) -> Result<&'a [u8], ExtractError> {
    offset
        .checked_add(len)
        .filter(|&end| end <= bytes.len() as u64)
        .map(|end| &bytes[offset as usize..end as usize])
        .ok_or_else(|| ExtractError::CorruptArchive {
            what: format!("{what} at {offset}+{len} lies beyond the end of the file"),
        })
}
