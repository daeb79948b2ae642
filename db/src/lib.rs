//! pinion's database format, in one crate: the bytes are specified in `data-format.md` (the
//! one description; [`layout`] holds the matching record types and constants), written by
//! [`write`] from an in-memory [`model::Universe`], packed with a manifest by [`tarball`],
//! checked by [`Database::verify`], and read here.
//!
//! The reader opens a database file (memory-mapped, in [`mmap`]: the crate's only `unsafe`)
//! or a published `.tar.gz` (decompressed into memory, checked against its `manifest.json`),
//! validates the header and section table, and hands out zero-copy views of projects,
//! releases, files, metadata and pre-parsed requirements. `open` checks only what is cheap
//! (magic, version, header checksum, section bounds and sizes) so it stays well under a
//! millisecond on a full-PyPI database; [`Database::verify`] checks every section checksum and
//! invariant. Accessors never panic, even on a database that fails `verify`: out-of-range ids
//! read as empty strings and empty lists.

mod error;
pub mod layout;
mod mmap;
pub mod model;
pub mod nar;
mod shards;
pub mod tarball;
pub mod time;
mod verify;
mod view;
pub mod write;

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

pub use error::DbError;
pub use layout::SectionKind;
pub use pep440_rs::Operator as Op;
pub use shards::{FileHashes, ShardSet};
pub use view::{
    File, FileKind, MarkerId, Metadata, Project, Release, Releases, ReqSet, Requirement,
};

use layout::{Counts, FixedHeader, SectionEntry};
pub use write::{
    BuildOptions, Prepared, WriteError, WriteStats, Writer, Written, default_shard_count, write_db,
    write_db_with_stats,
};

/// Header facts of an open database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbInfo {
    pub format_version: u32,
    /// Unix seconds.
    pub created_at: i64,
    pub index_url: String,
    pub serial: u64,
    pub counts: DbCounts,
    /// Number of hash shards.
    pub shard_count: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbCounts {
    pub projects: u32,
    pub releases: u32,
    pub files: u32,
    pub metadata: u32,
    pub requirements: u32,
    pub reqsets: u32,
    pub lists: u32,
    pub strings: u32,
    pub tagsets: u32,
}

impl From<&Counts> for DbCounts {
    fn from(c: &Counts) -> Self {
        DbCounts {
            projects: c.projects.get(),
            releases: c.releases.get(),
            files: c.files.get(),
            metadata: c.metadata.get(),
            requirements: c.requirements.get(),
            reqsets: c.reqsets.get(),
            lists: c.lists.get(),
            strings: c.strings.get(),
            tagsets: c.tagsets.get(),
        }
    }
}

/// Where a section lies and its recorded checksum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionInfo {
    pub kind: SectionKind,
    pub range: Range<usize>,
    pub crc32: u32,
}

enum Backing {
    Mmap(memmap2::Mmap),
    Owned(Vec<u8>),
}

/// An open pinion database. Cheap to query from many threads (`&self` everywhere).
pub struct Database {
    backing: Backing,
    info: DbInfo,
    header_len: usize,
    /// Indexed by `SectionKind as usize - 1`.
    sections: Vec<SectionInfo>,
    sha256: OnceLock<String>,
}

/// Reads up to `buf.len()` bytes (fewer only at the end of the file).
fn read_head(mut file: &std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A gzip stream: the published tarball up to format 3.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl Database {
    /// Opens a raw database file (memory-mapped) or a `.tar.xz` as published by `dbgen build`
    /// (told apart by content, not by file name).
    pub fn open(path: &Path) -> Result<Database, DbError> {
        let io = |source| DbError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut head = [0u8; 6];
        let n = read_head(&file, &mut head).map_err(io)?;
        let head = &head[..n];
        if head.starts_with(&tarball::XZ_MAGIC) || head.starts_with(&GZIP_MAGIC) {
            let mut bytes = head.to_vec();
            (&file).read_to_end(&mut bytes).map_err(io)?;
            return Database::from_tarball(&bytes);
        }
        if n < 2 {
            return Err(DbError::NotPinionDb);
        }
        let map = mmap::map(&file).map_err(io)?;
        Database::from_backing(Backing::Mmap(map))
    }

    /// Opens database bytes held in memory: a raw database file, or an xz tarball.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Database, DbError> {
        if bytes.starts_with(&tarball::XZ_MAGIC) || bytes.starts_with(&GZIP_MAGIC) {
            return Database::from_tarball(&bytes);
        }
        Database::from_backing(Backing::Owned(bytes))
    }

    fn from_tarball(compressed: &[u8]) -> Result<Database, DbError> {
        if compressed.starts_with(&GZIP_MAGIC) {
            return Err(DbError::GzipTarball {
                reads: layout::FORMAT_VERSION,
            });
        }
        let mut archive = tar::Archive::new(xz2::read::XzDecoder::new(compressed));
        let (mut db, mut manifest) = (None, None);
        let bad = |e: std::io::Error| DbError::Tarball(e.to_string());
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
            let slot = match name
                .strip_prefix(tarball::TOP_DIR)
                .and_then(|n| n.strip_prefix('/'))
            {
                Some("pinion.db") => &mut db,
                Some("manifest.json") => &mut manifest,
                _ => continue,
            };
            let mut buf = Vec::new();
            entry.read_to_end(&mut buf).map_err(bad)?;
            *slot = Some(buf);
        }
        let manifest = manifest.ok_or(DbError::MissingMember("pinion-db/manifest.json"))?;
        let db = db.ok_or(DbError::MissingMember("pinion-db/pinion.db"))?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest).map_err(|e| DbError::Manifest(e.to_string()))?;
        let expected = manifest
            .get("sha256")
            .and_then(|v| v.as_str())
            .ok_or_else(|| DbError::Manifest("no \"sha256\" string".into()))?
            .to_string();
        let actual = layout::hex_lower(&Sha256::digest(&db));
        if expected != actual {
            return Err(DbError::ManifestSha256 { expected, actual });
        }
        let database = Database::from_backing(Backing::Owned(db))?;
        let _ = database.sha256.set(actual);
        Ok(database)
    }

    fn from_backing(backing: Backing) -> Result<Database, DbError> {
        let bytes: &[u8] = match &backing {
            Backing::Mmap(m) => m,
            Backing::Owned(v) => v,
        };
        let (info, header_len, sections) = parse_header(bytes)?;
        Ok(Database {
            backing,
            info,
            header_len,
            sections,
            sha256: OnceLock::new(),
        })
    }

    /// The database file's bytes (for a tarball: the decompressed `pinion.db`).
    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Mmap(m) => m,
            Backing::Owned(v) => v,
        }
    }

    /// Gives the database bytes back (copying them only when memory-mapped).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.backing {
            Backing::Mmap(m) => m.to_vec(),
            Backing::Owned(v) => v,
        }
    }

    pub fn info(&self) -> DbInfo {
        self.info.clone()
    }

    /// Hex sha256 of the database file bytes, computed on first use.
    pub fn sha256_hex(&self) -> String {
        self.sha256
            .get_or_init(|| layout::hex_lower(&Sha256::digest(self.bytes())))
            .clone()
    }

    /// Length of the header including the section table and index URL.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The section table, in `SectionKind` order.
    pub fn sections(&self) -> &[SectionInfo] {
        &self.sections
    }

    /// Checks every section checksum and every structural invariant (ids in range, names
    /// sorted and normalized, releases newest-first, ...). Returns the first failure.
    pub fn verify(&self) -> Result<(), DbError> {
        verify::verify(self)
    }

    /// Checks every section checksum, nothing else: linear in the file size but a fraction of
    /// `verify`, so that a resolver never copies a damaged byte into a lock (the header
    /// checksum is checked at open).
    pub fn check_checksums(&self) -> Result<(), DbError> {
        verify::checksums(self)
    }

    /// Checks every hash shard (read from `dir`, named as published) against this database.
    pub fn verify_shards(&self, dir: &Path) -> Result<(), DbError> {
        verify::verify_shards(self, &mut |i| {
            let path = dir.join(layout::shard_file_name(i));
            std::fs::read(&path).map_err(|source| DbError::Io { path, source })
        })
    }

    /// [`Database::verify_shards`] over shards held in memory (index = shard number).
    pub fn verify_shard_bytes(&self, shards: &[Vec<u8>]) -> Result<(), DbError> {
        if shards.len() != self.shard_count() as usize {
            return Err(DbError::invariant(format!(
                "{} hash shards given, the database has {}",
                shards.len(),
                self.shard_count()
            )));
        }
        verify::verify_shards(self, &mut |i| Ok(shards[i as usize].clone()))
    }

    fn section(&self, kind: SectionKind) -> &[u8] {
        let range = self.sections[kind as usize - 1].range.clone();
        self.bytes().get(range).unwrap_or(&[])
    }

    /// A section as a slice of records. Lengths were checked against the record size at
    /// open, so the cast cannot fail; the fallback only keeps this total.
    fn records<T: FromBytes + KnownLayout + Immutable + Unaligned>(
        &self,
        kind: SectionKind,
    ) -> &[T] {
        <[T]>::ref_from_bytes(self.section(kind)).unwrap_or(&[])
    }

    fn u32s(&self, kind: SectionKind) -> &[U32] {
        self.records::<U32>(kind)
    }
}

/// Reads a little-endian u32 at `at`; the caller has checked the bounds.
fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn truncated(what: &str, start: usize, end: u64, len: usize) -> DbError {
    DbError::Truncated {
        what: what.to_string(),
        start: start as u64,
        end,
        len: len as u64,
    }
}

fn parse_header(bytes: &[u8]) -> Result<(DbInfo, usize, Vec<SectionInfo>), DbError> {
    if bytes.len() < 8 || bytes[..8] != layout::MAGIC {
        return Err(DbError::NotPinionDb);
    }
    if bytes.len() < 12 {
        return Err(truncated("format version", 8, 12, bytes.len()));
    }
    let version = le_u32(bytes, 8);
    if version > layout::FORMAT_VERSION {
        return Err(DbError::NewerFormat {
            found: version,
            reads: layout::FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(DbError::BadFormatVersion(version));
    }
    if version < layout::FORMAT_VERSION {
        return Err(DbError::OlderFormat {
            found: version,
            reads: layout::FORMAT_VERSION,
        });
    }
    let Ok((fixed, _)) = FixedHeader::read_from_prefix(bytes) else {
        return Err(truncated(
            "header",
            0,
            layout::FIXED_HEADER_LEN as u64,
            bytes.len(),
        ));
    };
    let header_len = fixed.header_len.get() as usize;
    let section_count = fixed.section_count.get() as usize;
    let url_len = fixed.index_url_len.get() as usize;
    let needed = layout::FIXED_HEADER_LEN as u64
        + section_count as u64 * layout::SECTION_ENTRY_LEN as u64
        + url_len as u64;
    if header_len > layout::MAX_HEADER_LEN
        || (header_len as u64) < needed
        || !header_len.is_multiple_of(8)
    {
        return Err(DbError::invariant(format!(
            "header length {header_len} is inconsistent with {section_count} sections and a {url_len}-byte index URL"
        )));
    }
    if header_len > bytes.len() {
        return Err(truncated("header", 0, header_len as u64, bytes.len()));
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[..layout::HEADER_CRC_OFFSET]);
    crc.update(&[0; 4]);
    crc.update(&bytes[layout::HEADER_CRC_OFFSET + 4..header_len]);
    if crc.finalize() != fixed.header_crc32.get() {
        return Err(DbError::Checksum("header".into()));
    }
    let table_end = layout::FIXED_HEADER_LEN + section_count * layout::SECTION_ENTRY_LEN;
    let entries = <[SectionEntry]>::ref_from_bytes(&bytes[layout::FIXED_HEADER_LEN..table_end])
        .map_err(|_| DbError::invariant("section table is malformed"))?;
    let index_url = std::str::from_utf8(&bytes[table_end..table_end + url_len])
        .map_err(|_| DbError::invariant("index URL is not UTF-8"))?
        .to_string();

    let mut found: Vec<Option<SectionInfo>> = vec![None; SectionKind::ALL.len()];
    for e in entries {
        let kind = SectionKind::from_u32(e.kind.get());
        let name = kind.map_or_else(
            || format!("of unknown kind {}", e.kind.get()),
            |k| k.name().to_string(),
        );
        let (offset, length) = (e.offset.get(), e.length.get());
        let end = offset.saturating_add(length);
        // Unknown kinds are skipped but must still lie inside the file, so that verify can
        // account for every byte.
        if end > bytes.len() as u64 {
            return Err(DbError::Truncated {
                what: format!("section {name}"),
                start: offset,
                end,
                len: bytes.len() as u64,
            });
        }
        if !offset.is_multiple_of(8) || offset < header_len as u64 {
            return Err(DbError::invariant(format!(
                "section {name} starts at bad offset {offset}"
            )));
        }
        let Some(kind) = kind else { continue };
        if !length.is_multiple_of(layout::record_len(kind) as u64) {
            return Err(DbError::invariant(format!(
                "section {} length {length} is not a multiple of its {}-byte records",
                kind.name(),
                layout::record_len(kind)
            )));
        }
        let slot = &mut found[kind as usize - 1];
        if slot.is_some() {
            return Err(DbError::invariant(format!(
                "section {} appears twice",
                kind.name()
            )));
        }
        *slot = Some(SectionInfo {
            kind,
            range: offset as usize..end as usize,
            crc32: e.crc32.get(),
        });
    }
    let mut sections = Vec::with_capacity(found.len());
    for (slot, kind) in found.into_iter().zip(SectionKind::ALL) {
        sections.push(
            slot.ok_or_else(|| DbError::invariant(format!("section {} is missing", kind.name())))?,
        );
    }
    let mut by_offset: Vec<&SectionInfo> = sections.iter().collect();
    by_offset.sort_by_key(|s| s.range.start);
    for pair in by_offset.windows(2) {
        if pair[0].range.end > pair[1].range.start {
            return Err(DbError::invariant(format!(
                "sections {} and {} overlap",
                pair[0].kind.name(),
                pair[1].kind.name()
            )));
        }
    }
    let counts = DbCounts::from(&fixed.counts);
    check_counts(&sections, &counts)?;
    let info = DbInfo {
        format_version: version,
        created_at: fixed.created_at.get(),
        index_url,
        serial: fixed.last_serial.get(),
        counts,
        shard_count: (sections[SectionKind::ShardManifest as usize - 1]
            .range
            .len()
            / 32) as u32,
    };
    Ok((info, header_len, sections))
}

/// Section sizes must agree with the header counts, so every later id check against a
/// count is also a bounds check on the section.
fn check_counts(sections: &[SectionInfo], c: &DbCounts) -> Result<(), DbError> {
    let records =
        |k: SectionKind| (sections[k as usize - 1].range.len() / layout::record_len(k)) as u64;
    let expect = [
        (SectionKind::StrOffsets, c.strings as u64 + 1),
        (SectionKind::ListOffsets, c.lists as u64 + 1),
        (SectionKind::Projects, c.projects as u64),
        (SectionKind::FileFlags, c.files as u64),
        (SectionKind::FileTagSets, c.files as u64),
        (SectionKind::FileRequiresPython, c.files as u64),
        (SectionKind::FileMetadata, c.files as u64),
        (SectionKind::TagSets, c.tagsets as u64),
        (SectionKind::Metadata, c.metadata as u64),
    ];
    for (kind, want) in expect {
        if records(kind) != want {
            return Err(DbError::invariant(format!(
                "section {} has {} records, header counts say {want}",
                kind.name(),
                records(kind)
            )));
        }
    }
    if c.strings == 0 || c.lists == 0 {
        return Err(DbError::invariant(
            "string and list tables must contain the empty entry 0",
        ));
    }
    let shards = records(SectionKind::ShardManifest);
    if !shards.is_power_of_two() || shards > u64::from(layout::MAX_SHARDS) {
        return Err(DbError::invariant(format!(
            "the shard manifest lists {shards} shards, not a power of two up to {}",
            layout::MAX_SHARDS
        )));
    }
    if records(SectionKind::ReqSets) == 0 {
        return Err(DbError::invariant(
            "requirement sets must start with the empty set at offset 0",
        ));
    }
    Ok(())
}
