//! Typed, borrowed views over database records. Every id is bounds-checked on use; a bad
//! id (only possible in a database that fails `verify`) reads as empty rather than panicking.

use std::borrow::Cow;
use std::fmt::Write as _;

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, FromZeros, Immutable, KnownLayout, Unaligned};

use super::layout::{self, MetadataRec, ProjectRec, SectionKind, TagSetRec};
use super::{Database, Op};

/// Id of an interned canonical marker string; equal ids mean equal markers, so the resolver
/// parses each distinct marker once and caches the result by id.
pub type MarkerId = u32;

const ZERO_HASH: [u8; 32] = [0; 32];

impl Database {
    /// String `id` of the string table; "" for 0 or a bad id.
    pub(crate) fn string(&self, id: u32) -> &str {
        let offsets = self.u32s(SectionKind::StrOffsets);
        let i = id as usize;
        let (Some(start), Some(end)) = (offsets.get(i), offsets.get(i.wrapping_add(1))) else {
            return "";
        };
        let bytes = self.section(SectionKind::StrBytes);
        bytes
            .get(start.get() as usize..end.get() as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    pub(crate) fn opt_string(&self, id: u32) -> Option<&str> {
        (id != 0).then(|| self.string(id))
    }

    /// List `id` of the list table; empty for 0 or a bad id.
    pub(crate) fn list(&self, id: u32) -> &[U32] {
        let offsets = self.u32s(SectionKind::ListOffsets);
        let i = id as usize;
        let (Some(start), Some(end)) = (offsets.get(i), offsets.get(i.wrapping_add(1))) else {
            return &[];
        };
        self.u32s(SectionKind::ListPool)
            .get(start.get() as usize..end.get() as usize)
            .unwrap_or(&[])
    }

    fn record<T: FromBytes + KnownLayout + Immutable + Unaligned + Copy>(
        &self,
        kind: SectionKind,
        i: u32,
    ) -> T {
        self.records::<T>(kind)
            .get(i as usize)
            .copied()
            .unwrap_or_else(T::new_zeroed)
    }

    /// Records `first..first+count` of a section, clamped to the section.
    fn clamped(&self, kind: SectionKind, first: u32, count: u32) -> std::ops::Range<u32> {
        let len = (self.section(kind).len() / layout::record_len(kind)) as u32;
        let start = first.min(len);
        start..first.saturating_add(count).min(len)
    }

    /// Entry `i` of a `u32` column; 0 for a bad index.
    pub(super) fn col_u32(&self, kind: SectionKind, i: u32) -> u32 {
        self.u32s(kind).get(i as usize).map_or(0, |v| v.get())
    }

    /// Looks a project up by any spelling of its name (PEP 503 normalization), by binary
    /// search over the sorted name index.
    pub fn project(&self, any_spelling: &str) -> Option<Project<'_>> {
        let name = pinion_pep::ProjectName::new(any_spelling).ok()?;
        let recs = self.records::<ProjectRec>(SectionKind::Projects);
        let i = recs
            .binary_search_by(|p| {
                self.string(p.name.get())
                    .as_bytes()
                    .cmp(name.as_str().as_bytes())
            })
            .ok()?;
        Some(Project {
            db: self,
            rec: recs[i],
        })
    }

    /// All projects in normalized-name order.
    pub fn projects(&self) -> impl ExactSizeIterator<Item = Project<'_>> {
        self.records::<ProjectRec>(SectionKind::Projects)
            .iter()
            .map(|rec| Project {
                db: self,
                rec: *rec,
            })
    }
}

#[derive(Clone, Copy)]
pub struct Project<'a> {
    db: &'a Database,
    rec: ProjectRec,
}

impl<'a> Project<'a> {
    /// PEP 503 normalized name.
    pub fn name(&self) -> &'a str {
        self.db.string(self.rec.name.get())
    }

    /// The name as the index spells it.
    pub fn display_name(&self) -> &'a str {
        self.db.string(self.rec.display_name.get())
    }

    /// Releases, newest first by PEP 440 order (stored pre-sorted), decoded front to back
    /// from the project's release streams. A malformed stream (only possible in a database
    /// that fails `verify`) ends early instead of panicking.
    pub fn releases(&self) -> Releases<'a> {
        let db = self.db;
        let at = |kind, offset: u32| db.section(kind).get(offset as usize..).unwrap_or(&[]);
        Releases {
            db,
            stem_prefix: db.string(self.rec.stem_prefix.get()),
            versions: at(SectionKind::ReleaseVersions, self.rec.versions.get()),
            times: at(SectionKind::ReleaseTimes, self.rec.times.get()),
            prev_time: 0,
            next_file: self.rec.first_file.get(),
            remaining: self.rec.release_count.get(),
        }
    }

    pub(super) fn rec(&self) -> &ProjectRec {
        &self.rec
    }
}

/// Iterator over a project's releases.
pub struct Releases<'a> {
    db: &'a Database,
    stem_prefix: &'a str,
    versions: &'a [u8],
    times: &'a [u8],
    prev_time: i64,
    next_file: u32,
    remaining: u32,
}

impl<'a> Releases<'a> {
    /// Bytes left in the (versions, times) streams; `verify` checks that each project ends
    /// exactly where the next begins.
    pub(super) fn rest(&self) -> (usize, usize) {
        (self.versions.len(), self.times.len())
    }

    pub(super) fn next_file(&self) -> u32 {
        self.next_file
    }

    fn decode(&mut self) -> Option<Release<'a>> {
        let len = layout::get_varint_u32(&mut self.versions)? as usize;
        let (version, rest) = self.versions.split_at_checked(len)?;
        self.versions = rest;
        let version = std::str::from_utf8(version).ok()?;
        let file_count = layout::get_varint_u32(&mut self.versions)?;
        let upload_time = match layout::get_varint(&mut self.times)? {
            0 => None,
            v => {
                let t = self.prev_time.checked_add(layout::unzigzag(v - 1))?;
                self.prev_time = t;
                Some(t)
            }
        };
        let first_file = self.next_file;
        self.next_file = first_file.checked_add(file_count)?;
        Some(Release {
            db: self.db,
            stem_prefix: self.stem_prefix,
            version,
            upload_time,
            first_file,
            file_count,
        })
    }
}

impl<'a> Iterator for Releases<'a> {
    type Item = Release<'a>;

    fn next(&mut self) -> Option<Release<'a>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let release = self.decode();
        if release.is_none() {
            self.remaining = 0;
        }
        release
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}

impl std::fmt::Debug for Project<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Project")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
pub struct Release<'a> {
    db: &'a Database,
    stem_prefix: &'a str,
    version: &'a str,
    upload_time: Option<i64>,
    first_file: u32,
    file_count: u32,
}

impl<'a> Release<'a> {
    pub fn version_str(&self) -> &'a str {
        self.version
    }

    pub fn version(&self) -> Result<pep440_rs::Version, pep440_rs::VersionParseError> {
        self.version_str().parse()
    }

    /// Earliest upload time of the release's files (unix seconds).
    pub fn upload_time(&self) -> Option<i64> {
        self.upload_time
    }

    /// True when every file of the release is yanked.
    pub fn yanked(&self) -> bool {
        self.files().all(|f| f.yanked())
    }

    /// The first yank reason among its files (in filename order), when the release is yanked.
    pub fn yanked_reason(&self) -> Option<&'a str> {
        if !self.yanked() {
            return None;
        }
        self.files().find_map(|f| f.yanked_reason())
    }

    pub(super) fn file_count(&self) -> u32 {
        self.file_count
    }

    /// Files sorted by filename.
    pub fn files(&self) -> impl ExactSizeIterator<Item = File<'a>> + use<'a> {
        let (db, release) = (self.db, *self);
        db.clamped(SectionKind::FileNames, self.first_file, self.file_count)
            .map(move |index| File { db, index, release })
    }
}

impl std::fmt::Debug for Release<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Release")
            .field("version", &self.version_str())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Wheel,
    Sdist,
}

#[derive(Clone, Copy)]
pub struct File<'a> {
    db: &'a Database,
    index: u32,
    /// The file's release: the base of its upload time and of its implied stem.
    release: Release<'a>,
}

impl<'a> File<'a> {
    fn flags(&self) -> u8 {
        self.db
            .section(SectionKind::FileFlags)
            .get(self.index as usize)
            .copied()
            .unwrap_or(0)
    }

    fn col(&self, kind: SectionKind) -> u32 {
        self.db.col_u32(kind, self.index)
    }

    pub(super) fn index(&self) -> u32 {
        self.index
    }

    pub fn filename(&self) -> Cow<'a, str> {
        let stem = match self.col(SectionKind::FileNames) {
            0 => Cow::Owned(format!(
                "{}-{}",
                self.release.stem_prefix, self.release.version
            )),
            id => Cow::Borrowed(self.db.string(id)),
        };
        let flags = self.flags();
        // Names are stored as stems so that a release's files share one string.
        if flags & layout::FILE_WHEEL != 0 {
            let t = self.tags();
            let db = self.db;
            return Cow::Owned(format!(
                "{stem}-{}-{}-{}.whl",
                db.string(t.python.get()),
                db.string(t.abi.get()),
                db.string(t.platform.get())
            ));
        }
        let code = (flags & layout::FILE_EXT_MASK) >> layout::FILE_EXT_SHIFT;
        match layout::SDIST_EXTENSIONS.get(usize::from(code).wrapping_sub(1)) {
            Some(ext) => Cow::Owned(format!("{stem}{ext}")),
            None => stem,
        }
    }

    /// Download URL; rebuilt from the stored blake2b digest for files.pythonhosted.org.
    pub fn url(&self) -> Cow<'a, str> {
        match self.col(SectionKind::FileUrls) {
            0 => {
                let digests = self.db.records::<[u8; 32]>(SectionKind::UrlDigests);
                let digest = digests.get(self.index as usize).unwrap_or(&ZERO_HASH);
                Cow::Owned(layout::pythonhosted_url(digest, &self.filename()))
            }
            id => Cow::Borrowed(self.db.string(id)),
        }
    }

    pub fn sha256(&self) -> &'a [u8; 32] {
        self.db
            .records::<[u8; 32]>(SectionKind::Sha256)
            .get(self.index as usize)
            .unwrap_or(&ZERO_HASH)
    }

    pub fn size(&self) -> Option<u64> {
        let s = self
            .db
            .records::<zerocopy::little_endian::U64>(SectionKind::FileSizes)
            .get(self.index as usize)
            .map_or(layout::NO_SIZE, |s| s.get());
        (s != layout::NO_SIZE).then_some(s)
    }

    pub fn kind(&self) -> FileKind {
        if self.flags() & layout::FILE_WHEEL != 0 {
            FileKind::Wheel
        } else {
            FileKind::Sdist
        }
    }

    fn tags(&self) -> TagSetRec {
        match self.col(SectionKind::FileTagSets) {
            0 => TagSetRec::new_zeroed(),
            id => self.db.record(SectionKind::TagSets, id - 1),
        }
    }

    fn split_tags(&self, id: u32) -> impl Iterator<Item = &'a str> + use<'a> {
        self.db.string(id).split('.').filter(|t| !t.is_empty())
    }

    /// Python tags of a wheel (`cp311`, `py3`); empty for sdists.
    pub fn python_tags(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.split_tags(self.tags().python.get())
    }

    pub fn abi_tags(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.split_tags(self.tags().abi.get())
    }

    pub fn platform_tags(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.split_tags(self.tags().platform.get())
    }

    /// `Requires-Python` as the index publishes it.
    pub fn requires_python(&self) -> Option<&'a str> {
        self.db
            .opt_string(self.col(SectionKind::FileRequiresPython))
    }

    pub fn upload_time(&self) -> Option<i64> {
        let delta = self.col(SectionKind::FileTimes);
        if delta == layout::NO_TIME_DELTA {
            return None;
        }
        self.release.upload_time?.checked_add(i64::from(delta))
    }

    pub fn yanked(&self) -> bool {
        self.flags() & layout::FILE_YANKED != 0
    }

    pub fn yanked_reason(&self) -> Option<&'a str> {
        self.db.opt_string(self.col(SectionKind::FileYankedReasons))
    }

    /// Extracted metadata (shared between files with identical metadata).
    pub fn metadata(&self) -> Metadata<'a> {
        let id = self.col(SectionKind::FileMetadata);
        Metadata {
            db: self.db,
            id,
            rec: self.db.record(SectionKind::Metadata, id),
        }
    }
}

impl std::fmt::Debug for File<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("filename", &self.filename())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
pub struct Metadata<'a> {
    db: &'a Database,
    id: u32,
    rec: MetadataRec,
}

impl<'a> Metadata<'a> {
    /// The record id; files with equal ids have identical metadata.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `Requires-Dist` (extras_require appear as `extra == "x"` markers).
    pub fn requires_dist(&self) -> ReqSet<'a> {
        ReqSet {
            db: self.db,
            offset: self.rec.requires_dist.get(),
            source: self.rec.requires_dist_source.get(),
        }
    }

    /// pyproject `[build-system] requires` (or the PEP 517 default for sdists without one).
    pub fn build_requires(&self) -> ReqSet<'a> {
        ReqSet {
            db: self.db,
            offset: self.rec.build_requires.get(),
            source: self.rec.build_requires_source.get(),
        }
    }

    /// setuptools `setup_requires`.
    pub fn setup_requires(&self) -> ReqSet<'a> {
        ReqSet {
            db: self.db,
            offset: self.rec.setup_requires.get(),
            source: self.rec.setup_requires_source.get(),
        }
    }

    /// Normalized extra names.
    pub fn provides_extra(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let db = self.db;
        db.list(self.rec.provides_extra.get())
            .iter()
            .map(move |id| db.string(id.get()))
    }

    /// `Requires-Python` from the metadata itself.
    pub fn requires_python(&self) -> Option<&'a str> {
        self.db.opt_string(self.rec.requires_python.get())
    }

    pub fn build_backend(&self) -> Option<&'a str> {
        self.db.opt_string(self.rec.build_backend.get())
    }

    /// Whether the sdist declares a pyproject `[build-system]`.
    pub fn has_build_system(&self) -> bool {
        self.rec.flags.get() & layout::META_HAS_BUILD_SYSTEM != 0
    }
}

/// A requirement set. Unknown (`known() == false`) means the crawler could not extract it,
/// which is different from a known empty set.
#[derive(Clone, Copy)]
pub struct ReqSet<'a> {
    db: &'a Database,
    offset: u32,
    source: u32,
}

impl<'a> ReqSet<'a> {
    pub fn known(&self) -> bool {
        self.source != 0
    }

    /// Where the set came from: `metadata`, `pkg-info`, `pyproject`, `setup.cfg`, `egg-info`,
    /// `setup.py-static`, `setup.py-exec` or `default`; `None` when unknown.
    pub fn source(&self) -> Option<&'a str> {
        self.db.opt_string(self.source)
    }

    /// The set's byte offset; equal ids mean equal sets, so callers can cache per set.
    pub fn id(&self) -> u32 {
        self.offset
    }

    /// The encoded set: its count, and the bytes of its requirements.
    fn decode_head(&self) -> (u32, &'a [u8]) {
        let mut bytes = self
            .db
            .section(SectionKind::ReqSets)
            .get(self.offset as usize..)
            .unwrap_or(&[]);
        match layout::get_varint_u32(&mut bytes) {
            Some(n) => (n, bytes),
            None => (0, &[]),
        }
    }

    pub fn len(&self) -> usize {
        self.decode_head().0 as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decodes the requirements front to back; a malformed set (only possible in a database
    /// that fails `verify`) ends early instead of panicking.
    pub fn iter(&self) -> impl Iterator<Item = Requirement<'a>> + use<'a> {
        let db = self.db;
        let (n, mut bytes) = self.decode_head();
        (0..n).map_while(move |_| Requirement::decode(db, &mut bytes))
    }
}

/// One requirement, decoded from its set: ids and the still-encoded extras and specifiers.
#[derive(Clone, Copy)]
pub struct Requirement<'a> {
    db: &'a Database,
    name: u32,
    n_extras: u32,
    extras: &'a [u8],
    n_specs: u32,
    specs: &'a [u8],
    marker: u32,
    has_marker: bool,
    has_extras: bool,
}

impl<'a> Requirement<'a> {
    /// Reads one requirement from the front of `bytes`, advancing it.
    pub(super) fn decode(db: &'a Database, bytes: &mut &'a [u8]) -> Option<Requirement<'a>> {
        let name = layout::get_varint_u32(bytes)?;
        let head = layout::get_varint(bytes)?;
        let n_extras = if head & layout::REQ_HAS_EXTRAS != 0 {
            layout::get_varint_u32(bytes)?
        } else {
            0
        };
        let n_specs = u32::try_from(head >> layout::REQ_SPECS_SHIFT).ok()?;
        let start = *bytes;
        for _ in 0..n_extras {
            layout::get_varint_u32(bytes)?;
        }
        let extras = &start[..start.len() - bytes.len()];
        let start = *bytes;
        for _ in 0..n_specs {
            *bytes = bytes.get(1..)?;
            let len = layout::get_varint_u32(bytes)? as usize;
            *bytes = bytes.get(len..)?;
        }
        let specs = &start[..start.len() - bytes.len()];
        let marker = if head & layout::REQ_HAS_MARKER != 0 {
            layout::get_varint_u32(bytes)?
        } else {
            0
        };
        Some(Requirement {
            db,
            name,
            n_extras,
            extras,
            n_specs,
            specs,
            marker,
            has_marker: head & layout::REQ_HAS_MARKER != 0,
            has_extras: head & layout::REQ_HAS_EXTRAS != 0,
        })
    }

    /// Normalized project name.
    pub fn name(&self) -> &'a str {
        self.db.string(self.name)
    }

    /// (name, marker) string ids (0 = no marker); for size accounting and `verify`.
    pub fn string_ids(&self) -> (u32, u32) {
        (self.name, self.marker)
    }

    /// String ids of the extras.
    pub fn extra_string_ids(&self) -> impl Iterator<Item = u32> + use<'a> {
        self.extra_ids()
    }

    /// Whether the head's flag bits match what follows (the writer's only encoding).
    pub(super) fn canonical_head(&self) -> bool {
        self.has_marker == (self.marker != 0) && self.has_extras == (self.n_extras != 0)
    }

    pub(super) fn extras_len(&self) -> usize {
        self.n_extras as usize
    }

    pub(super) fn specs_len(&self) -> usize {
        self.n_specs as usize
    }

    pub(super) fn extra_ids(&self) -> impl Iterator<Item = u32> + use<'a> {
        let mut bytes = self.extras;
        (0..self.n_extras).map_while(move |_| layout::get_varint_u32(&mut bytes))
    }

    /// Normalized, sorted extras.
    pub fn extras(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let db = self.db;
        let mut bytes = self.extras;
        (0..self.n_extras).map_while(move |_| Some(db.string(layout::get_varint_u32(&mut bytes)?)))
    }

    /// Version specifiers as (operator, version text). `EqualStar`/`NotEqualStar` carry the
    /// version without the trailing `.*`.
    pub fn specifiers(&self) -> impl Iterator<Item = (Op, &'a str)> + use<'a> {
        let mut bytes = self.specs;
        (0..self.n_specs).map_while(move |_| {
            let (&code, rest) = bytes.split_first()?;
            bytes = rest;
            let len = layout::get_varint_u32(&mut bytes)? as usize;
            let (version, rest) = bytes.split_at_checked(len)?;
            bytes = rest;
            Some((
                layout::operator_from_code(u32::from(code))?,
                std::str::from_utf8(version).ok()?,
            ))
        })
    }

    /// The canonical marker and its interned id; `None` when unconditional.
    pub fn marker(&self) -> Option<(MarkerId, &'a str)> {
        (self.marker != 0).then(|| (self.marker, self.db.string(self.marker)))
    }

    /// The requirement in PEP 508 form, exactly as `pep508_rs` prints its canonical form.
    pub fn to_pep508_string(&self) -> String {
        let mut s = self.name().to_string();
        let extras: Vec<&str> = self.extras().collect();
        if !extras.is_empty() {
            let _ = write!(s, "[{}]", extras.join(","));
        }
        for (i, (op, v)) in self.specifiers().enumerate() {
            let star = if matches!(op, Op::EqualStar | Op::NotEqualStar) {
                ".*"
            } else {
                ""
            };
            let _ = write!(s, "{}{op}{v}{star}", if i == 0 { "" } else { "," });
        }
        if let Some((_, m)) = self.marker() {
            let _ = write!(s, " ; {m}");
        }
        s
    }
}

impl std::fmt::Debug for Requirement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_pep508_string())
    }
}
