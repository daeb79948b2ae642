//! Serializes a [`Universe`] into database format v4 (`data-format.md`, layout types shared
//! with the reader in [`crate::layout`]). Output is a pure function of the universe and
//! the options: everything is sorted first and ids are handed out in traversal order.

use std::collections::HashMap;
use std::sync::Arc;

use crate::layout::{
    self, Counts, FixedHeader, MetadataRec, NoteRec, ProjectRec, SectionEntry, SectionKind,
    SparseRec, TagSetRec,
};
use pep440_rs::Version;
use pinion_pep::{ProjectName, WheelFilename};
use sha2::{Digest, Sha256};
use zerocopy::IntoBytes;
use zerocopy::little_endian::{I64, U32, U64};

use crate::model::{self, FileKind, Universe};

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

#[derive(Debug, thiserror::Error)]
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

#[derive(Default)]
struct Strings {
    map: HashMap<Box<str>, u32>,
    offsets: Vec<U32>,
    bytes: Vec<u8>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings::default();
        s.offsets.push(U32::new(0));
        s.offsets.push(U32::new(0));
        s.map.insert("".into(), 0);
        s
    }

    fn id(&mut self, s: &str) -> Result<u32, WriteError> {
        if let Some(&id) = self.map.get(s) {
            return Ok(id);
        }
        let id = to_u32(self.offsets.len() - 1, "string count")?;
        self.bytes.extend_from_slice(s.as_bytes());
        self.offsets
            .push(U32::new(to_u32(self.bytes.len(), "string table")?));
        self.map.insert(s.into(), id);
        Ok(id)
    }

    fn opt(&mut self, s: Option<&str>) -> Result<u32, WriteError> {
        s.map_or(Ok(0), |s| self.id(s))
    }

    /// String `id` (which this table handed out).
    fn get(&self, id: u32) -> &str {
        let (a, b) = (
            self.offsets[id as usize].get() as usize,
            self.offsets[id as usize + 1].get() as usize,
        );
        std::str::from_utf8(&self.bytes[a..b]).expect("the table holds only &str bytes")
    }
}

#[derive(Default)]
struct Lists {
    map: HashMap<Vec<u32>, u32>,
    offsets: Vec<U32>,
    pool: Vec<U32>,
}

impl Lists {
    fn new() -> Lists {
        let mut l = Lists::default();
        l.offsets.push(U32::new(0));
        l.offsets.push(U32::new(0));
        l.map.insert(Vec::new(), 0);
        l
    }

    fn id(&mut self, items: Vec<u32>) -> Result<u32, WriteError> {
        if let Some(&id) = self.map.get(&items) {
            return Ok(id);
        }
        let id = to_u32(self.offsets.len() - 1, "list count")?;
        self.pool.extend(items.iter().map(|v| U32::new(*v)));
        self.offsets
            .push(U32::new(to_u32(self.pool.len(), "list pool")?));
        self.map.insert(items, id);
        Ok(id)
    }
}

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
    /// Previous known upload time of the current project (the base of the next delta).
    prev_time: i64,
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
struct ReqSets {
    blob: Vec<u8>,
    ids: HashMap<Vec<u8>, u32>,
    /// Encoded requirement per canonical string (`None`: it does not parse).
    encoded: HashMap<String, Option<Vec<u8>>>,
    requirements: u64,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

/// Wheels pinion can install somewhere Nix runs. Windows-only wheels (`win32`,
/// `win_amd64`, ...) and exotic platforms are dropped: they are a large share of PyPI's files
/// and can never be chosen.
fn installable_platform(tag: &str) -> bool {
    tag == "any"
        || ["linux", "manylinux", "musllinux", "macosx"]
            .iter()
            .any(|p| tag.starts_with(p))
}

/// The wheel's filename without `-{python}-{abi}-{platform}.whl` (tags as written): the
/// database stores this stem and rebuilds the name from the tag set.
fn wheel_stem<'a>(filename: &'a str, w: &WheelFilename) -> Option<&'a str> {
    let suffix = format!(
        "-{}-{}-{}.whl",
        w.python_tags.join("."),
        w.abi_tags.join("."),
        w.platform_tags.join(".")
    );
    filename.strip_suffix(&suffix)
}

/// A kept file, with its parsed name when it is a wheel.
type Kept<'f> = (&'f model::File, Option<WheelFilename>);

/// The stem stored for a file and its sdist extension code (see `layout::FILE_EXT_SHIFT`).
fn stem<'f>(f: &'f model::File, wheel: Option<&WheelFilename>) -> (&'f str, u8) {
    if let Some(w) = wheel {
        let stem = wheel_stem(&f.filename, w)
            .expect("classify() keeps only wheels whose names end with their tags");
        return (stem, 0);
    }
    match layout::sdist_extension_code(&f.filename) {
        0 => (&f.filename, 0),
        code => {
            let ext = layout::SDIST_EXTENSIONS[usize::from(code) - 1];
            (&f.filename[..f.filename.len() - ext.len()], code)
        }
    }
}

/// The project's most common stem prefix: what precedes `-{version}` in its files' stems
/// (ties go to the byte-wise smallest, for determinism). Files whose stem is
/// `{prefix}-{version}` then store no stem string at all.
fn stem_prefix(releases: &[(String, Vec<Kept<'_>>)]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (version, files) in releases {
        let suffix = format!("-{version}");
        for (f, wheel) in files {
            if let Some(prefix) = stem(f, wheel.as_ref()).0.strip_suffix(&suffix) {
                *counts.entry(prefix).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .filter(|(p, _)| !p.is_empty())
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(p, _)| p.to_string())
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
            tagset_ids: HashMap::new(),
            metadata: Vec::new(),
            metadata_ids: HashMap::new(),
            notes: Vec::new(),
            metadata_by_ptr: HashMap::new(),
            reqsets: ReqSets {
                blob: empty_set.clone(),
                ids: HashMap::from([(empty_set, 0)]),
                encoded: HashMap::new(),
                requirements: 0,
            },
            last_name: None,
            stats: WriteStats::default(),
        }
    }

    /// Adds a project; projects must come in strictly increasing byte order of their names.
    pub fn add_project(&mut self, p: &model::Project) -> Result<(), WriteError> {
        if ProjectName::new(&p.name).map(|n| n.into_string() == p.name) != Ok(true) {
            return Err(WriteError::BadName(p.name.clone()));
        }
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
        self.last_name = Some(p.name.clone());
        self.metadata_by_ptr.clear();
        let name = self.strings.id(&p.name)?;
        let display_name = self.strings.id(&p.display_name)?;
        let mut releases = Vec::with_capacity(p.releases.len());
        for r in &p.releases {
            let v: Version = r.version.parse().map_err(|_| WriteError::BadVersion {
                project: p.name.clone(),
                version: r.version.clone(),
            })?;
            releases.push((v, r));
        }
        releases.sort_by(|a, b| b.0.cmp(&a.0));
        for pair in releases.windows(2) {
            if pair[0].0 == pair[1].0 {
                let (a, b) = (pair[0].1.version.clone(), pair[1].1.version.clone());
                return Err(WriteError::DuplicateRelease {
                    project: p.name.clone(),
                    a,
                    b,
                });
            }
        }
        let mut kept = Vec::with_capacity(releases.len());
        for (version, r) in releases {
            if let Some(files) = self.classify(p, r)? {
                kept.push((version.to_string(), files));
            }
        }
        let prefix = stem_prefix(&kept);
        let first_release = self.releases.count;
        let first_file = to_u32(self.files.flags.len(), "file count")?;
        let versions = to_u32(self.releases.versions.len(), "release versions")?;
        let times = to_u32(self.releases.times.len(), "release times")?;
        let stem_prefix = self.strings.opt(prefix.as_deref())?;
        self.releases.prev_time = 0;
        for (version, files) in &kept {
            self.release(version, files, prefix.as_deref())?;
        }
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

    /// The files of `r` the database keeps, sorted by filename (with what was dropped
    /// counted), or `None` when none is kept.
    fn classify<'f>(
        &mut self,
        p: &model::Project,
        r: &'f model::Release,
    ) -> Result<Option<Vec<Kept<'f>>>, WriteError> {
        let mut files: Vec<Kept<'f>> = Vec::with_capacity(r.files.len());
        for f in &r.files {
            match f.kind {
                FileKind::Other => self.stats.dropped_other += 1,
                _ if f.url.is_empty() => self.stats.dropped_no_url += 1,
                FileKind::Sdist => files.push((f, None)),
                FileKind::Wheel => match WheelFilename::parse(&f.filename) {
                    Err(_) => self.stats.dropped_bad_wheel_name += 1,
                    Ok(w) if !w.platform_tags.iter().any(|t| installable_platform(t)) => {
                        self.stats.dropped_platform += 1
                    }
                    Ok(w) if wheel_stem(&f.filename, &w).is_none() => {
                        self.stats.dropped_bad_wheel_name += 1
                    }
                    Ok(w) => files.push((f, Some(w))),
                },
            }
        }
        if files.is_empty() {
            self.stats.dropped_empty_releases += 1;
            return Ok(None);
        }
        files.sort_by(|a, b| a.0.filename.cmp(&b.0.filename));
        for pair in files.windows(2) {
            if pair[0].0.filename == pair[1].0.filename {
                return Err(WriteError::DuplicateFile {
                    project: p.name.clone(),
                    filename: pair[0].0.filename.clone(),
                });
            }
        }
        Ok(Some(files))
    }

    fn release(
        &mut self,
        version: &str,
        files: &[Kept<'_>],
        stem_prefix: Option<&str>,
    ) -> Result<(), WriteError> {
        let upload_time = files.iter().filter_map(|(f, _)| f.upload_time).min();
        let time_code = match upload_time {
            None => 0,
            Some(t) => t
                .checked_sub(self.releases.prev_time)
                .map(layout::zigzag)
                .and_then(|z| z.checked_add(1))
                .ok_or_else(|| WriteError::TimeSpan {
                    filename: files[0].0.filename.clone(),
                })?,
        };
        let implied = stem_prefix.map(|p| format!("{p}-{version}"));
        for (f, wheel) in files {
            self.file(f, wheel.as_ref(), implied.as_deref())?;
        }
        self.stats.files_kept += files.len() as u64;
        let rel = &mut self.releases;
        layout::put_varint(&mut rel.versions, version.len() as u64);
        rel.versions.extend_from_slice(version.as_bytes());
        layout::put_varint(&mut rel.versions, files.len() as u64);
        layout::put_varint(&mut rel.times, time_code);
        if let Some(t) = upload_time {
            rel.prev_time = t;
        }
        rel.count += 1;
        Ok(())
    }

    fn file(
        &mut self,
        f: &model::File,
        wheel: Option<&WheelFilename>,
        implied_stem: Option<&str>,
    ) -> Result<(), WriteError> {
        let (url, digest) = match layout::pythonhosted_digest(&f.url, &f.filename) {
            Some(d) => (0, d),
            None => (self.strings.id(&f.url)?, [0; 32]),
        };
        let mut flags = if f.yanked { layout::FILE_YANKED } else { 0 };
        let (name, code) = stem(f, wheel);
        flags |= code << layout::FILE_EXT_SHIFT;
        let mut tagset = 0;
        if let Some(w) = wheel {
            flags |= layout::FILE_WHEEL;
            let tags = [
                w.python_tags.join("."),
                w.abi_tags.join("."),
                w.platform_tags.join("."),
            ];
            let key = [
                self.strings.id(&tags[0])?,
                self.strings.id(&tags[1])?,
                self.strings.id(&tags[2])?,
            ];
            tagset = match self.tagset_ids.get(&key) {
                Some(&id) => id,
                None => {
                    self.tagsets.push(TagSetRec {
                        python: U32::new(key[0]),
                        abi: U32::new(key[1]),
                        platform: U32::new(key[2]),
                    });
                    let id = to_u32(self.tagsets.len(), "tag set count")?;
                    self.tagset_ids.insert(key, id);
                    id
                }
            };
        }
        let metadata = self.metadata(f.metadata.as_ref())?;
        let c = &mut self.files;
        let name = if implied_stem == Some(name) {
            0
        } else {
            self.strings.id(name)?
        };
        let index = to_u32(c.flags.len(), "file count")?;
        sparse(&mut c.names, index, name);
        c.flags.push(flags);
        c.tagsets.push(U32::new(tagset));
        c.requires_python
            .push(U32::new(self.strings.opt(f.requires_python.as_deref())?));
        c.metadata.push(U32::new(metadata));
        let reason = self.strings.opt(f.yanked_reason.as_deref())?;
        sparse(&mut c.yanked_reasons, index, reason);
        sparse(&mut c.urls, index, url);
        let mut hashes = [0u8; 64];
        hashes[..32].copy_from_slice(&f.sha256);
        hashes[32..].copy_from_slice(&digest);
        c.hashes.push(hashes);
        Ok(())
    }

    fn metadata(&mut self, m: Option<&Arc<model::Metadata>>) -> Result<u32, WriteError> {
        let ptr = m.map_or(0, |m| Arc::as_ptr(m) as usize);
        if let Some(&id) = self.metadata_by_ptr.get(&ptr) {
            return Ok(id);
        }
        let default = model::Metadata::default();
        let m: &model::Metadata = m.map_or(&default, |m| m);
        let mut unparsed = Vec::new();
        let (rd, rd_src) = self.reqset(&m.requires_dist, &mut unparsed)?;
        let dist_partial = !unparsed.is_empty();
        let before = unparsed.len();
        let (br, br_src) = self.reqset(&m.build_requires, &mut unparsed)?;
        let build_partial = unparsed.len() > before;
        let before = unparsed.len();
        let (sr, sr_src) = self.reqset(&m.setup_requires, &mut unparsed)?;
        let setup_partial = unparsed.len() > before;
        let unparsed_ids = unparsed
            .iter()
            .map(|r| self.strings.id(r))
            .collect::<Result<Vec<_>, _>>()?;
        let note_unparsed = self.lists.id(unparsed_ids)?;
        let note_reason = if rd_src == 0 {
            self.strings.opt(m.unknown_reason.as_deref())?
        } else {
            0
        };
        let flags = [
            (m.has_build_system, layout::META_HAS_BUILD_SYSTEM),
            (dist_partial, layout::META_PARTIAL_DIST),
            (build_partial, layout::META_PARTIAL_BUILD),
            (setup_partial, layout::META_PARTIAL_SETUP),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, bit)| acc | bit);
        let mut extras = Vec::new();
        for e in &m.provides_extra {
            match e.parse::<pep508_rs::ExtraName>() {
                Ok(e) => extras.push(e.to_string()),
                Err(_) => self.stats.bad_extras += 1,
            }
        }
        extras.sort();
        extras.dedup();
        let extra_ids = extras
            .iter()
            .map(|e| self.strings.id(e))
            .collect::<Result<Vec<_>, _>>()?;
        let rec = MetadataRec {
            requires_dist: U32::new(rd),
            build_requires: U32::new(br),
            setup_requires: U32::new(sr),
            requires_dist_source: U32::new(rd_src),
            build_requires_source: U32::new(br_src),
            setup_requires_source: U32::new(sr_src),
            provides_extra: U32::new(self.lists.id(extra_ids)?),
            requires_python: U32::new(self.strings.opt(m.requires_python.as_deref())?),
            build_backend: U32::new(self.strings.opt(m.build_backend.as_deref())?),
            flags: U32::new(flags),
        };
        let mut key = rec.as_bytes().to_vec();
        key.extend_from_slice(&note_reason.to_le_bytes());
        key.extend_from_slice(&note_unparsed.to_le_bytes());
        let id = match self.metadata_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = to_u32(self.metadata.len(), "metadata count")?;
                self.metadata_ids.insert(key, id);
                self.metadata.push(rec);
                if flags & layout::META_PARTIAL != 0 {
                    self.stats.partial_metadata += 1;
                }
                if note_reason != 0 || note_unparsed != 0 {
                    self.notes.push(NoteRec {
                        metadata: U32::new(id),
                        reason: U32::new(note_reason),
                        unparsed: U32::new(note_unparsed),
                    });
                }
                id
            }
        };
        self.metadata_by_ptr.insert(ptr, id);
        Ok(id)
    }

    /// (set offset, source string id). An unknown set is stored as (0, 0) whatever it holds.
    /// Requirements that do not parse (the crawl state's, and canonical strings the encoder
    /// cannot take) are appended to `unparsed`.
    fn reqset(
        &mut self,
        set: &model::ReqSet,
        unparsed: &mut Vec<String>,
    ) -> Result<(u32, u32), WriteError> {
        let Some(source) = set.source.as_deref().filter(|s| !s.is_empty()) else {
            return Ok((0, 0));
        };
        let source = self.strings.id(source)?;
        let mut body = Vec::new();
        let mut n = 0u64;
        for r in &set.requirements {
            match self.requirement(r)? {
                Some(bytes) => {
                    body.extend_from_slice(&bytes);
                    n += 1;
                }
                None => unparsed.push(r.clone()),
            }
        }
        self.stats.bad_requirements += set.unparsed.len() as u64;
        unparsed.extend(set.unparsed.iter().cloned());
        let mut encoded = Vec::with_capacity(body.len() + 2);
        layout::put_varint(&mut encoded, n);
        encoded.extend_from_slice(&body);
        if let Some(&offset) = self.reqsets.ids.get(&encoded) {
            return Ok((offset, source));
        }
        let offset = to_u32(self.reqsets.blob.len(), "requirement set blob")?;
        self.reqsets.blob.extend_from_slice(&encoded);
        self.reqsets.requirements += n;
        self.reqsets.ids.insert(encoded, offset);
        Ok((offset, source))
    }

    fn requirement(&mut self, canonical: &str) -> Result<Option<Vec<u8>>, WriteError> {
        if let Some(bytes) = self.reqsets.encoded.get(canonical) {
            if bytes.is_none() {
                self.stats.bad_requirements += 1;
            }
            return Ok(bytes.clone());
        }
        let bytes = match pinion_pep::parse_requirement(canonical) {
            Err(_) => {
                self.stats.bad_requirements += 1;
                None
            }
            Ok(req) => Some(self.encode_requirement(&req)?),
        };
        self.reqsets
            .encoded
            .insert(canonical.to_string(), bytes.clone());
        Ok(bytes)
    }

    fn encode_requirement(
        &mut self,
        req: &pep508_rs::Requirement<pep508_rs::VerbatimUrl>,
    ) -> Result<Vec<u8>, WriteError> {
        let mut extras: Vec<String> = req.extras.iter().map(ToString::to_string).collect();
        extras.sort();
        extras.dedup();
        let specs: Vec<(u32, String)> = match &req.version_or_url {
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(vs)) => vs
                .iter()
                .map(|s| {
                    (
                        layout::operator_code(*s.operator()),
                        s.version().to_string(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let marker = self.strings.opt(req.marker.try_to_string().as_deref())?;
        let mut out = Vec::new();
        layout::put_varint(&mut out, u64::from(self.strings.id(req.name.as_ref())?));
        let head = (specs.len() as u64) << layout::REQ_SPECS_SHIFT
            | if extras.is_empty() {
                0
            } else {
                layout::REQ_HAS_EXTRAS
            }
            | if marker == 0 {
                0
            } else {
                layout::REQ_HAS_MARKER
            };
        layout::put_varint(&mut out, head);
        if !extras.is_empty() {
            layout::put_varint(&mut out, extras.len() as u64);
        }
        for e in &extras {
            layout::put_varint(&mut out, u64::from(self.strings.id(e)?));
        }
        for (code, version) in &specs {
            out.push(*code as u8);
            layout::put_varint(&mut out, version.len() as u64);
            out.extend_from_slice(version.as_bytes());
        }
        if marker != 0 {
            layout::put_varint(&mut out, u64::from(marker));
        }
        Ok(out)
    }

    /// Lays out the hash shards, then the sections and header: the bytes of a `pinion.db`
    /// file and of its shards.
    pub fn finish(
        self,
        index_url: &str,
        last_serial: u64,
        options: &BuildOptions,
    ) -> Result<(Written, WriteStats), WriteError> {
        let count = options
            .shard_count
            .unwrap_or_else(|| default_shard_count(self.projects.len()));
        if !count.is_power_of_two() || count > layout::MAX_SHARDS {
            return Err(WriteError::ShardCount(count));
        }
        let shards = self.shards(count)?;
        let manifest: Vec<[u8; 32]> = shards.iter().map(|s| Sha256::digest(s).into()).collect();
        let db = self.assemble(index_url, last_serial, options, &manifest)?;
        Ok((Written { db, shards }, self.stats))
    }

    /// The hash shards (`data-format.md`, *Hash shards*): each project's files' sha256 and
    /// URL digests, in the shard `layout::shard_of` its name falls in.
    fn shards(&self, count: u32) -> Result<Vec<Vec<u8>>, WriteError> {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); count as usize];
        let files = self.files.hashes.len();
        let file_range = |i: usize| {
            let first = self.projects[i].first_file.get() as usize;
            let end = self
                .projects
                .get(i + 1)
                .map_or(files, |p| p.first_file.get() as usize);
            first..end
        };
        for (i, p) in self.projects.iter().enumerate() {
            if !file_range(i).is_empty() {
                let name = self.strings.get(p.name.get());
                members[layout::shard_of(name, count) as usize].push(i);
            }
        }
        let mut out = Vec::with_capacity(count as usize);
        for (index, projects) in members.iter().enumerate() {
            let n_files: usize = projects.iter().map(|&i| file_range(i).len()).sum();
            let mut bytes = Vec::with_capacity(layout::SHARD_HEADER_LEN + 64 * n_files);
            bytes.extend_from_slice(&layout::SHARD_MAGIC);
            for v in [
                layout::FORMAT_VERSION,
                index as u32,
                count,
                to_u32(projects.len(), "projects per shard")?,
                to_u32(n_files, "files per shard")?,
                0,
            ] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            for &i in projects {
                let name = self.strings.get(self.projects[i].name.get());
                layout::put_varint(&mut bytes, name.len() as u64);
                bytes.extend_from_slice(name.as_bytes());
                layout::put_varint(&mut bytes, file_range(i).len() as u64);
            }
            for &i in projects {
                bytes.extend_from_slice(self.files.hashes[file_range(i)].as_flattened());
            }
            out.push(bytes);
        }
        Ok(out)
    }

    fn assemble(
        &self,
        index_url: &str,
        last_serial: u64,
        options: &BuildOptions,
        manifest: &[[u8; 32]],
    ) -> Result<Vec<u8>, WriteError> {
        let (r, f) = (&self.releases, &self.files);
        let sections: [(SectionKind, &[u8]); 19] = [
            (SectionKind::StrOffsets, self.strings.offsets.as_bytes()),
            (SectionKind::StrBytes, &self.strings.bytes),
            (SectionKind::ListOffsets, self.lists.offsets.as_bytes()),
            (SectionKind::ListPool, self.lists.pool.as_bytes()),
            (SectionKind::Projects, self.projects.as_bytes()),
            (SectionKind::ReleaseVersions, &r.versions),
            (SectionKind::ReleaseTimes, &r.times),
            (SectionKind::FileNames, f.names.as_bytes()),
            (SectionKind::FileFlags, &f.flags),
            (SectionKind::FileTagSets, f.tagsets.as_bytes()),
            (
                SectionKind::FileRequiresPython,
                f.requires_python.as_bytes(),
            ),
            (SectionKind::FileMetadata, f.metadata.as_bytes()),
            (SectionKind::FileYankedReasons, f.yanked_reasons.as_bytes()),
            (SectionKind::FileUrls, f.urls.as_bytes()),
            (SectionKind::TagSets, self.tagsets.as_bytes()),
            (SectionKind::Metadata, self.metadata.as_bytes()),
            (SectionKind::ReqSets, &self.reqsets.blob),
            (SectionKind::ShardManifest, manifest.as_flattened()),
            (SectionKind::MetadataNotes, self.notes.as_bytes()),
        ];
        let url = index_url.as_bytes();
        let table_end = layout::FIXED_HEADER_LEN + sections.len() * layout::SECTION_ENTRY_LEN;
        let header_len = layout::align8(table_end + url.len());
        if header_len > layout::MAX_HEADER_LEN {
            return Err(WriteError::TooLarge("index URL"));
        }
        let mut entries = Vec::with_capacity(sections.len());
        let mut offset = header_len;
        for (kind, bytes) in &sections {
            offset = layout::align8(offset);
            entries.push(SectionEntry {
                kind: U32::new(*kind as u32),
                reserved0: U32::new(0),
                offset: U64::new(offset as u64),
                length: U64::new(bytes.len() as u64),
                crc32: U32::new(crc32fast::hash(bytes)),
                reserved1: U32::new(0),
            });
            offset += bytes.len();
        }
        let count = |n: usize| U32::new(n as u32);
        let header = FixedHeader {
            magic: layout::MAGIC,
            format_version: U32::new(layout::FORMAT_VERSION),
            header_len: U32::new(header_len as u32),
            header_crc32: U32::new(0),
            section_count: U32::new(sections.len() as u32),
            created_at: I64::new(options.created_at),
            last_serial: U64::new(last_serial),
            index_url_len: U32::new(url.len() as u32),
            counts: Counts {
                projects: count(self.projects.len()),
                releases: U32::new(to_u32(
                    usize::try_from(self.releases.count).unwrap_or(usize::MAX),
                    "release count",
                )?),
                files: count(self.files.flags.len()),
                metadata: count(self.metadata.len()),
                requirements: U32::new(to_u32(
                    usize::try_from(self.reqsets.requirements).unwrap_or(usize::MAX),
                    "requirement count",
                )?),
                reqsets: count(self.reqsets.ids.len()),
                lists: count(self.lists.offsets.len() - 1),
                strings: count(self.strings.offsets.len() - 1),
                tagsets: count(self.tagsets.len()),
            },
            reserved: U64::new(0),
        };
        let mut out = vec![0u8; offset];
        out[..layout::FIXED_HEADER_LEN].copy_from_slice(header.as_bytes());
        out[layout::FIXED_HEADER_LEN..table_end].copy_from_slice(entries.as_bytes());
        out[table_end..table_end + url.len()].copy_from_slice(url);
        let crc = crc32fast::hash(&out[..header_len]);
        out[layout::HEADER_CRC_OFFSET..layout::HEADER_CRC_OFFSET + 4]
            .copy_from_slice(&crc.to_le_bytes());
        for ((_, bytes), e) in sections.iter().zip(&entries) {
            let start = e.offset.get() as usize;
            out[start..start + bytes.len()].copy_from_slice(bytes);
        }
        Ok(out)
    }
}
