//! Typed, borrowed views over database records. Every id is bounds-checked on use; a bad
//! id (only possible in a database that fails `verify`) reads as empty rather than panicking.

use std::borrow::Cow;
use std::fmt::Write as _;

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, FromZeros, Immutable, KnownLayout, Unaligned};

use super::layout::{
    self, FileRec, MetadataRec, ProjectRec, ReleaseRec, RequirementRec, SectionKind, TagSetRec,
};
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

    /// Releases, newest first by PEP 440 order (stored pre-sorted).
    pub fn releases(
        &self,
    ) -> impl ExactSizeIterator<Item = Release<'a>> + DoubleEndedIterator + use<'a> {
        let db = self.db;
        db.clamped(
            SectionKind::Releases,
            self.rec.first_release.get(),
            self.rec.release_count.get(),
        )
        .map(move |i| Release {
            db,
            rec: db.record(SectionKind::Releases, i),
        })
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
    rec: ReleaseRec,
}

impl<'a> Release<'a> {
    pub fn version_str(&self) -> &'a str {
        self.db.string(self.rec.version.get())
    }

    pub fn version(&self) -> Result<pep440_rs::Version, pep440_rs::VersionParseError> {
        self.version_str().parse()
    }

    /// Earliest upload time of the release's files (unix seconds).
    pub fn upload_time(&self) -> Option<i64> {
        let t = self.rec.upload_time.get();
        (t != layout::NO_TIME).then_some(t)
    }

    /// True when every file of the release is yanked.
    pub fn yanked(&self) -> bool {
        self.rec.flags.get() & layout::RELEASE_YANKED != 0
    }

    pub fn yanked_reason(&self) -> Option<&'a str> {
        self.db.opt_string(self.rec.yanked_reason.get())
    }

    /// Files sorted by filename.
    pub fn files(&self) -> impl ExactSizeIterator<Item = File<'a>> + use<'a> {
        let db = self.db;
        db.clamped(
            SectionKind::Files,
            self.rec.first_file.get(),
            self.rec.file_count.get(),
        )
        .map(move |i| File {
            db,
            index: i,
            rec: db.record(SectionKind::Files, i),
        })
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
    rec: FileRec,
}

impl<'a> File<'a> {
    pub fn filename(&self) -> &'a str {
        self.db.string(self.rec.filename.get())
    }

    /// Download URL; rebuilt from the stored blake2b digest for files.pythonhosted.org.
    pub fn url(&self) -> Cow<'a, str> {
        match self.rec.url.get() {
            0 => {
                let digests = self.db.records::<[u8; 32]>(SectionKind::UrlDigests);
                let digest = digests.get(self.index as usize).unwrap_or(&ZERO_HASH);
                Cow::Owned(layout::pythonhosted_url(digest, self.filename()))
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
        let s = self.rec.size.get();
        (s != layout::NO_SIZE).then_some(s)
    }

    pub fn kind(&self) -> FileKind {
        if self.rec.flags.get() & layout::FILE_WHEEL != 0 {
            FileKind::Wheel
        } else {
            FileKind::Sdist
        }
    }

    fn tags(&self) -> TagSetRec {
        match self.rec.tagset.get() {
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
        self.db.opt_string(self.rec.requires_python.get())
    }

    pub fn upload_time(&self) -> Option<i64> {
        let t = self.rec.upload_time.get();
        (t != layout::NO_TIME).then_some(t)
    }

    pub fn yanked(&self) -> bool {
        self.rec.flags.get() & layout::FILE_YANKED != 0
    }

    pub fn yanked_reason(&self) -> Option<&'a str> {
        self.db.opt_string(self.rec.yanked_reason.get())
    }

    /// Extracted metadata (shared between files with identical metadata).
    pub fn metadata(&self) -> Metadata<'a> {
        let id = self.rec.metadata.get();
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
            list: self.rec.requires_dist.get(),
            source: self.rec.requires_dist_source.get(),
        }
    }

    /// pyproject `[build-system] requires` (or the PEP 517 default for sdists without one).
    pub fn build_requires(&self) -> ReqSet<'a> {
        ReqSet {
            db: self.db,
            list: self.rec.build_requires.get(),
            source: self.rec.build_requires_source.get(),
        }
    }

    /// setuptools `setup_requires`.
    pub fn setup_requires(&self) -> ReqSet<'a> {
        ReqSet {
            db: self.db,
            list: self.rec.setup_requires.get(),
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
    list: u32,
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

    /// The list id; equal ids mean equal sets, so callers can cache per set.
    pub fn id(&self) -> u32 {
        self.list
    }

    pub fn len(&self) -> usize {
        self.db.list(self.list).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Requirement<'a>> + use<'a> {
        let db = self.db;
        db.list(self.list).iter().map(move |id| Requirement {
            db,
            rec: db.record(SectionKind::Requirements, id.get()),
        })
    }
}

#[derive(Clone, Copy)]
pub struct Requirement<'a> {
    db: &'a Database,
    rec: RequirementRec,
}

impl<'a> Requirement<'a> {
    /// Normalized project name.
    pub fn name(&self) -> &'a str {
        self.db.string(self.rec.name.get())
    }

    /// Normalized, sorted extras.
    pub fn extras(&self) -> impl ExactSizeIterator<Item = &'a str> + use<'a> {
        let db = self.db;
        db.list(self.rec.extras.get())
            .iter()
            .map(move |id| db.string(id.get()))
    }

    /// Version specifiers as (operator, version text). `EqualStar`/`NotEqualStar` carry the
    /// version without the trailing `.*`.
    pub fn specifiers(&self) -> impl Iterator<Item = (Op, &'a str)> + use<'a> {
        let db = self.db;
        db.list(self.rec.specifiers.get())
            .chunks_exact(2)
            .filter_map(move |p| {
                Some((
                    layout::operator_from_code(p[0].get())?,
                    db.string(p[1].get()),
                ))
            })
    }

    /// The canonical marker and its interned id; `None` when unconditional.
    pub fn marker(&self) -> Option<(MarkerId, &'a str)> {
        let id = self.rec.marker.get();
        (id != 0).then(|| (id, self.db.string(id)))
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
