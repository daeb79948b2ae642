//! Serializes a [`Universe`] into database format v4 (`data-format.md`, layout types shared
//! with the reader in [`crate::layout`]). Output is a pure function of the universe and
//! the options: everything is sorted first and ids are handed out in traversal order.

// Seeded per process, so crawled strings cannot be made to collide; ids never depend on
// the maps' order.
use foldhash::HashMap;

use crate::layout::{self, MetadataRec, NoteRec, ProjectRec, SparseRec, TagSetRec};
use zerocopy::little_endian::U32;

use crate::model::{self, Universe};
use intern::{Lists, Strings};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Unix seconds written into the header.
    pub created_at: i64,
    /// Number of hash shards (a power of two, at most `layout::MAX_SHARDS`); `None` picks
    /// [`default_shard_count`] from the number of projects.
    pub shard_count: Option<u32>,
}

impl BuildOptions {
    pub fn new(created_at: i64) -> BuildOptions {
        BuildOptions {
            created_at,
            shard_count: None,
        }
    }
}

/// A written database: the core file and its hash shards (index = shard number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub db: Vec<u8>,
    pub shards: Vec<Vec<u8>>,
}

/// About 57 projects per shard (a power of two; 16,384 shards for today's ~930k projects),
/// so that a 100-package environment (~130 projects) fetches ~130 shards of ~70 kB. Measured
/// trade-off in `dbgen-bench`: fewer shards make each fetched shard bigger, more shards make
/// more files to publish and fetch.
pub fn default_shard_count(projects: usize) -> u32 {
    let want = projects.div_ceil(57).max(1);
    (want.next_power_of_two() as u32).min(layout::MAX_SHARDS)
}

/// What the writer left out, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub files_kept: u64,
    /// Eggs, installers and other non-wheel, non-sdist files.
    pub dropped_other: u64,
    /// Wheels with no platform tag pinion can install on (Windows-only and the like).
    pub dropped_platform: u64,
    pub dropped_bad_wheel_name: u64,
    pub dropped_no_url: u64,
    /// Releases left with no kept file.
    pub dropped_empty_releases: u64,
    /// Requirement strings that did not parse: left out of their set, which is marked
    /// partial and lists them in its metadata note (never a silent drop).
    pub bad_requirements: u64,
    /// Metadata records with a partial requirement set.
    pub partial_metadata: u64,
    /// Provides-Extra names that are not valid extra names.
    pub bad_extras: u64,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum WriteError {
    #[error("project name {0:?} is not PEP 503 normalized")]
    BadName(String),
    #[error("project {0:?} appears twice")]
    DuplicateProject(String),
    #[error("project {0:?} comes after a project that sorts later")]
    Unsorted(String),
    #[error("project {project}: version {version:?} is not a PEP 440 version")]
    BadVersion { project: String, version: String },
    #[error("project {project}: versions {a:?} and {b:?} are the same release")]
    DuplicateRelease {
        project: String,
        a: String,
        b: String,
    },
    #[error("project {project}: file {filename:?} appears twice")]
    DuplicateFile { project: String, filename: String },
    #[error("shard count {0} is not a power of two between 1 and 65536")]
    ShardCount(u32),
    #[error("{0} exceeds the 4 GiB limit of format v4")]
    TooLarge(&'static str),
    #[error(
        "file {filename:?} has an upload time too far from its project's other releases; it is wrong"
    )]
    TimeSpan { filename: String },
}

fn to_u32(n: usize, what: &'static str) -> Result<u32, WriteError> {
    u32::try_from(n).map_err(|_| WriteError::TooLarge(what))
}

mod files;
mod intern;
mod prepare;
mod requirements;
mod sections;

pub use prepare::Prepared;

/// Serializes `universe` into the bytes of a `pinion.db` file and its hash shards.
pub fn write_db(universe: &Universe, options: &BuildOptions) -> Result<Written, WriteError> {
    write_db_with_stats(universe, options).map(|(written, _)| written)
}

/// [`write_db`], also reporting what was left out.
pub fn write_db_with_stats(
    universe: &Universe,
    options: &BuildOptions,
) -> Result<(Written, WriteStats), WriteError> {
    let mut w = Writer::new();
    let mut projects: Vec<&model::Project> = universe.projects.iter().collect();
    projects.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    for p in projects {
        w.add_project(p)?;
    }
    w.finish(&universe.index_url, universe.last_serial, options)
}

/// Incremental form of [`write_db`], so a caller can stream projects (in name order) without
/// holding the whole universe in memory.
pub struct Writer {
    strings: Strings,
    lists: Lists,
    projects: Vec<ProjectRec>,
    releases: Releases,
    files: Files,
    tagsets: Vec<TagSetRec>,
    tagset_ids: HashMap<[u32; 3], u32>,
    metadata: Vec<MetadataRec>,
    /// Keyed by the record's bytes followed by its note's (reason, unparsed) ids.
    metadata_ids: HashMap<Vec<u8>, u32>,
    notes: Vec<NoteRec>,
    /// Keyed by the `Arc`'s address: files sharing one `Arc<Metadata>` are converted once.
    /// Cleared per project, because the caller may free a project's `Arc`s afterwards and
    /// an address can then be reused.
    metadata_by_ptr: HashMap<usize, u32>,
    reqsets: ReqSets,
    last_name: Option<String>,
    stats: WriteStats,
}

/// The two release streams.
#[derive(Default)]
struct Releases {
    count: u64,
    versions: Vec<u8>,
    times: Vec<u8>,
}

/// File columns, and each file's hash shard entry (sha256 then URL digest).
#[derive(Default)]
struct Files {
    names: Vec<SparseRec>,
    flags: Vec<u8>,
    tagsets: Vec<U32>,
    requires_python: Vec<U32>,
    metadata: Vec<U32>,
    yanked_reasons: Vec<SparseRec>,
    urls: Vec<SparseRec>,
    hashes: Vec<[u8; 64]>,
}

/// Appends `(file, value)` to a sparse column unless `value` is 0.
fn sparse(col: &mut Vec<SparseRec>, file: u32, value: u32) {
    if value != 0 {
        col.push(SparseRec {
            file: U32::new(file),
            value: U32::new(value),
        });
    }
}

/// The varint-encoded requirement-set blob, deduplicated.
#[derive(Default)]
struct ReqSets {
    blob: Vec<u8>,
    ids: HashMap<Box<[u8]>, u32>,
    /// Encoded requirement per canonical string, as a range of `arena` (`None`: it does not
    /// parse).
    encoded: HashMap<Box<str>, Option<std::ops::Range<usize>>>,
    arena: Vec<u8>,
    /// The set being encoded (kept to reuse its allocation).
    scratch: Vec<u8>,
    requirements: u64,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        let empty_set = vec![0u8];
        Writer {
            strings: Strings::new(),
            lists: Lists::new(),
            projects: Vec::new(),
            releases: Releases::default(),
            files: Files::default(),
            tagsets: Vec::new(),
            tagset_ids: HashMap::default(),
            metadata: Vec::new(),
            metadata_ids: HashMap::default(),
            notes: Vec::new(),
            metadata_by_ptr: HashMap::default(),
            reqsets: ReqSets {
                blob: empty_set.clone(),
                ids: [(empty_set.into(), 0)].into_iter().collect(),
                ..ReqSets::default()
            },
            last_name: None,
            stats: WriteStats::default(),
        }
    }

    /// Adds a project; projects must come in strictly increasing byte order of their names.
    pub fn add_project(&mut self, p: &model::Project) -> Result<(), WriteError> {
        self.add_prepared(&Writer::prepare(p))
    }

    /// [`Writer::add_project`] of a project already [prepared](Writer::prepare): what is left
    /// is handing out ids and appending, which must follow the name order.
    pub fn add_prepared(&mut self, p: &Prepared) -> Result<(), WriteError> {
        let body = match &p.body {
            Err(WriteError::BadName(name)) => return Err(WriteError::BadName(name.clone())),
            body => body,
        };
        match self
            .last_name
            .as_deref()
            .map(|l| l.as_bytes().cmp(p.name.as_bytes()))
        {
            Some(std::cmp::Ordering::Equal) => {
                return Err(WriteError::DuplicateProject(p.name.clone()));
            }
            Some(std::cmp::Ordering::Greater) => return Err(WriteError::Unsorted(p.name.clone())),
            _ => {}
        }
        let body = body.as_ref().map_err(Clone::clone)?;
        self.last_name = Some(p.name.clone());
        self.metadata_by_ptr.clear();
        let name = self.strings.id(&p.name)?;
        let display_name = self.strings.id(&body.display_name)?;
        let first_release = self.releases.count;
        let first_file = to_u32(self.files.flags.len(), "file count")?;
        let versions = to_u32(self.releases.versions.len(), "release versions")?;
        let times = to_u32(self.releases.times.len(), "release times")?;
        let stem_prefix = self.strings.opt(body.stem_prefix.as_deref())?;
        for r in &body.releases {
            self.add_release(r)?;
        }
        self.stats.add(&body.stats);
        let release_count = to_u32(
            usize::try_from(self.releases.count - first_release).unwrap_or(usize::MAX),
            "release count",
        )?;
        self.projects.push(ProjectRec {
            name: U32::new(name),
            display_name: U32::new(display_name),
            release_count: U32::new(release_count),
            first_file: U32::new(first_file),
            versions: U32::new(versions),
            times: U32::new(times),
            stem_prefix: U32::new(stem_prefix),
            reserved: U32::new(0),
        });
        Ok(())
    }
}

impl WriteStats {
    fn add(&mut self, o: &WriteStats) {
        self.files_kept += o.files_kept;
        self.dropped_other += o.dropped_other;
        self.dropped_platform += o.dropped_platform;
        self.dropped_bad_wheel_name += o.dropped_bad_wheel_name;
        self.dropped_no_url += o.dropped_no_url;
        self.dropped_empty_releases += o.dropped_empty_releases;
        self.bad_requirements += o.bad_requirements;
        self.partial_metadata += o.partial_metadata;
        self.bad_extras += o.bad_extras;
    }
}
