//! Byte layout of a pinion database: the constants and record types of `data-format.md` at the
//! repository root, which is the one description of the bytes (header, section kinds and
//! their record sizes, requirement-set encoding, why this layout, changelog). This module is
//! its executable twin, shared by the reader ([`crate::Database`]) and the writer
//! ([`crate::write`]) so the two cannot drift apart; a test checks the section table of the
//! document against [`record_len`]. Every record type is `Unaligned` so a section slice can
//! be cast in place whatever the buffer's alignment.

use zerocopy::little_endian::{I64, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub const MAGIC: [u8; 8] = *b"PINIONDB";
pub const FORMAT_VERSION: u32 = 4;
pub const FIXED_HEADER_LEN: usize = 88;
pub const SECTION_ENTRY_LEN: usize = 32;
/// Offset of the header checksum, which is computed with this field zeroed.
pub const HEADER_CRC_OFFSET: usize = 16;
/// Upper bound on `header_len`, so a corrupt length cannot make the reader allocate or scan
/// without limit before the checksum has been checked.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// Section kinds. A reader requires every kind below exactly once and ignores kinds it
/// does not know (room for additive extensions without a version bump). Per-release and
/// per-file data is stored column by column: each column holds values of one kind and
/// entropy (sizes apart from flags apart from ids), which gzip compresses far better than
/// interleaved records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum SectionKind {
    /// `u32` byte offsets into `StrBytes`, `strings + 1` entries; string `i` is
    /// `bytes[off[i]..off[i+1]]`, UTF-8. String 0 is the empty string and means "none".
    StrOffsets = 1,
    StrBytes = 2,
    /// `u32` element offsets into `ListPool`, `lists + 1` entries; list 0 is empty.
    ListOffsets = 3,
    ListPool = 4,
    Projects = 5,
    /// Per project, per release newest first: the version (varint length, UTF-8 bytes) and
    /// the number of files (varint).
    ReleaseVersions = 6,
    /// Per project, per release newest first: the upload time as a varint, 0 = unknown,
    /// else 1 + the zigzag-encoded difference from the previous known time of the project
    /// (from 0 for the first).
    ReleaseTimes = 7,
    /// Sparse per-file column (`SparseRec`): string id of the filename's stem: a wheel's
    /// name without `-{python}-{abi}-{platform}.whl` (its tag set gives that back), an
    /// sdist's without the extension its flags name (or the whole name when they name none).
    /// Files not listed (most) have an implied stem: `{project stem_prefix}-{release version}`.
    FileNames = 8,
    /// Per file: one byte of `FILE_*` flags.
    FileFlags = 9,
    /// Per file: 0 for sdists, else 1 + the index of its `TagSetRec`.
    FileTagSets = 10,
    /// Per file: string id of the index's `data-requires-python` (0 = none).
    FileRequiresPython = 11,
    /// Per file: index of its `MetadataRec`.
    FileMetadata = 12,
    /// Sparse per-file column (`SparseRec`): string id of the yank reason (files not listed
    /// have none).
    FileYankedReasons = 13,
    /// Sparse per-file column (`SparseRec`): string id of the full URL; files not listed
    /// (those on files.pythonhosted.org) have it rebuilt from the digest in the project's
    /// hash shard.
    FileUrls = 14,
    TagSets = 15,
    Metadata = 16,
    /// Requirement sets, varint-encoded back to back (see `data-format.md`); a set is
    /// referred to by its byte offset, and offset 0 holds the empty set.
    ReqSets = 17,
    /// The hash shards' manifest: one 32-byte sha256 per shard file, in shard order. The
    /// shard count is the number of records, a power of two.
    ShardManifest = 18,
    /// `NoteRec`s: why a metadata record's requirements are partial or unknown.
    MetadataNotes = 19,
}

impl SectionKind {
    pub const ALL: [SectionKind; 19] = [
        SectionKind::StrOffsets,
        SectionKind::StrBytes,
        SectionKind::ListOffsets,
        SectionKind::ListPool,
        SectionKind::Projects,
        SectionKind::ReleaseVersions,
        SectionKind::ReleaseTimes,
        SectionKind::FileNames,
        SectionKind::FileFlags,
        SectionKind::FileTagSets,
        SectionKind::FileRequiresPython,
        SectionKind::FileMetadata,
        SectionKind::FileYankedReasons,
        SectionKind::FileUrls,
        SectionKind::TagSets,
        SectionKind::Metadata,
        SectionKind::ReqSets,
        SectionKind::ShardManifest,
        SectionKind::MetadataNotes,
    ];

    pub fn from_u32(v: u32) -> Option<SectionKind> {
        SectionKind::ALL.into_iter().find(|k| *k as u32 == v)
    }

    pub fn name(self) -> &'static str {
        match self {
            SectionKind::StrOffsets => "string offsets",
            SectionKind::StrBytes => "string bytes",
            SectionKind::ListOffsets => "list offsets",
            SectionKind::ListPool => "list pool",
            SectionKind::Projects => "projects",
            SectionKind::ReleaseVersions => "release versions",
            SectionKind::ReleaseTimes => "release times",
            SectionKind::FileNames => "file names",
            SectionKind::FileFlags => "file flags",
            SectionKind::FileTagSets => "file tag sets",
            SectionKind::FileRequiresPython => "file requires-python",
            SectionKind::FileMetadata => "file metadata",
            SectionKind::FileYankedReasons => "file yank reasons",
            SectionKind::FileUrls => "file urls",
            SectionKind::TagSets => "tag sets",
            SectionKind::Metadata => "metadata",
            SectionKind::ReqSets => "requirement sets",
            SectionKind::ShardManifest => "shard manifest",
            SectionKind::MetadataNotes => "metadata notes",
        }
    }
}

/// Header counts, in header order (offset 44).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct Counts {
    pub projects: U32,
    pub releases: U32,
    pub files: U32,
    pub metadata: U32,
    /// Requirements across all stored sets.
    pub requirements: U32,
    /// Requirement sets stored in `ReqSets`, the empty set at offset 0 included.
    pub reqsets: U32,
    pub lists: U32,
    pub strings: U32,
    pub tagsets: U32,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct FixedHeader {
    pub magic: [u8; 8],
    pub format_version: U32,
    pub header_len: U32,
    pub header_crc32: U32,
    pub section_count: U32,
    pub created_at: I64,
    pub last_serial: U64,
    pub index_url_len: U32,
    pub counts: Counts,
    pub reserved: U64,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SectionEntry {
    pub kind: U32,
    pub reserved0: U32,
    pub offset: U64,
    pub length: U64,
    /// crc32 (IEEE, as zlib/`crc32fast`) of the section's `length` bytes.
    pub crc32: U32,
    pub reserved1: U32,
}

/// Sorted by the bytes of the normalized name (so lookup is a binary search). Projects'
/// release data and files are contiguous and in project order.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ProjectRec {
    pub name: U32,
    pub display_name: U32,
    pub release_count: U32,
    /// Index of the newest release's first file.
    pub first_file: U32,
    /// Byte offset of the project's releases in `ReleaseVersions`.
    pub versions: U32,
    /// Byte offset of the project's releases in `ReleaseTimes`.
    pub times: U32,
    /// String id of the prefix of its files' implied stems (`FileNames` entry 0): the stem
    /// is `{stem_prefix}-{release version}`, as in `requests-2.32.3`.
    pub stem_prefix: U32,
    pub reserved: U32,
}

/// An entry of a sparse per-file column, for values that are 0 for most files: listed in
/// strictly increasing `file` order, `value` ≠ 0; a file not listed has value 0. Looked up by
/// binary search (these columns are read once per picked file, not in the solver's loop).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SparseRec {
    pub file: U32,
    pub value: U32,
}

/// Whether `kind` is a sparse per-file column.
pub fn is_sparse(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::FileNames | SectionKind::FileYankedReasons | SectionKind::FileUrls
    )
}

/// `FileFlags` bits.
pub const FILE_WHEEL: u8 = 1;
pub const FILE_YANKED: u8 = 2;
/// Bits 2..=4: an sdist's extension, 1 + its index in `SDIST_EXTENSIONS`; 0 = `FileNames`
/// holds the whole filename.
pub const FILE_EXT_SHIFT: u32 = 2;
pub const FILE_EXT_MASK: u8 = 0b111 << FILE_EXT_SHIFT;
pub const SDIST_EXTENSIONS: [&str; 6] = [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar"];
pub const FILE_FLAGS: u8 = FILE_WHEEL | FILE_YANKED | FILE_EXT_MASK;

/// The extension of an sdist filename as stored in its flags (0 = none of the known ones).
pub fn sdist_extension_code(filename: &str) -> u8 {
    SDIST_EXTENSIONS
        .iter()
        .position(|e| filename.len() > e.len() && filename.ends_with(e))
        .map_or(0, |i| i as u8 + 1)
}

/// The three compressed tag sets of a wheel filename, each a string id of the `.`-joined
/// set as written (`cp311`, `manylinux_2_17_x86_64.manylinux2014_x86_64`).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct TagSetRec {
    pub python: U32,
    pub abi: U32,
    pub platform: U32,
}

/// Extracted metadata, one record per distinct content (files usually share one).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MetadataRec {
    /// Byte offsets into `ReqSets` (0 = the empty set).
    pub requires_dist: U32,
    pub build_requires: U32,
    pub setup_requires: U32,
    /// String ids of where each set came from; 0 = unknown (the set's list is then empty).
    pub requires_dist_source: U32,
    pub build_requires_source: U32,
    pub setup_requires_source: U32,
    /// List id of string ids (normalized extra names).
    pub provides_extra: U32,
    pub requires_python: U32,
    pub build_backend: U32,
    /// bit 0: the sdist declares a pyproject `[build-system]`; bits 1–3: requires_dist,
    /// build_requires, setup_requires is **partial** (some requirement strings did not
    /// parse; they are listed in the record's `NoteRec`).
    pub flags: U32,
}

pub const META_HAS_BUILD_SYSTEM: u32 = 1;
pub const META_PARTIAL_DIST: u32 = 2;
pub const META_PARTIAL_BUILD: u32 = 4;
pub const META_PARTIAL_SETUP: u32 = 8;
pub const META_PARTIAL: u32 = META_PARTIAL_DIST | META_PARTIAL_BUILD | META_PARTIAL_SETUP;
pub const META_FLAGS: u32 = META_HAS_BUILD_SYSTEM | META_PARTIAL;

/// What the crawl could not read for one metadata record. One per record that is partial or
/// whose requires_dist is unknown with a recorded reason, sorted by `metadata`.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct NoteRec {
    /// Index of the `MetadataRec`.
    pub metadata: U32,
    /// String id: why requires_dist is unknown (crawl state `unknown_reason`), 0 = none.
    pub reason: U32,
    /// List id of string ids: the requirement strings (as found) that did not parse, in
    /// crawl order over requires_dist, build_requires, setup_requires; 0 = none.
    pub unparsed: U32,
}

/// Operator codes used in requirement sets.
pub const OPERATORS: [(u32, pep440_rs::Operator); 10] = [
    (1, pep440_rs::Operator::Equal),
    (2, pep440_rs::Operator::EqualStar),
    (3, pep440_rs::Operator::ExactEqual),
    (4, pep440_rs::Operator::NotEqual),
    (5, pep440_rs::Operator::NotEqualStar),
    (6, pep440_rs::Operator::TildeEqual),
    (7, pep440_rs::Operator::LessThan),
    (8, pep440_rs::Operator::LessThanEqual),
    (9, pep440_rs::Operator::GreaterThan),
    (10, pep440_rs::Operator::GreaterThanEqual),
];

pub fn operator_from_code(code: u32) -> Option<pep440_rs::Operator> {
    OPERATORS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, op)| *op)
}

pub fn operator_code(op: pep440_rs::Operator) -> u32 {
    OPERATORS
        .iter()
        .find(|(_, o)| *o == op)
        .map_or(0, |(c, _)| *c)
}

/// Record size of each section (1 for byte blobs).
pub fn record_len(kind: SectionKind) -> usize {
    use SectionKind as K;
    match kind {
        K::StrBytes | K::ReleaseVersions | K::ReleaseTimes | K::FileFlags | K::ReqSets => 1,
        K::StrOffsets
        | K::ListOffsets
        | K::ListPool
        | K::FileTagSets
        | K::FileRequiresPython
        | K::FileMetadata => 4,
        K::FileNames | K::FileYankedReasons | K::FileUrls => size_of::<SparseRec>(),
        K::Projects => size_of::<ProjectRec>(),
        K::ShardManifest => 32,
        K::TagSets => size_of::<TagSetRec>(),
        K::Metadata => size_of::<MetadataRec>(),
        K::MetadataNotes => size_of::<NoteRec>(),
    }
}

/// `head` bits of an encoded requirement.
pub const REQ_HAS_MARKER: u64 = 1;
pub const REQ_HAS_EXTRAS: u64 = 2;
pub const REQ_SPECS_SHIFT: u32 = 2;

/// Zigzag encoding of a signed difference (0, -1, 1, -2, ... → 0, 1, 2, 3, ...).
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 varint from the front of `bytes`, advancing it; `None` when it
/// is truncated, longer than 10 bytes or not in its shortest form (so each value has one
/// encoding and byte-equal sets are equal sets).
pub fn get_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return None;
            }
            *bytes = &bytes[i + 1..];
            return Some(v);
        }
    }
    None
}

/// A `u32` varint (ids, counts, lengths).
pub fn get_varint_u32(bytes: &mut &[u8]) -> Option<u32> {
    get_varint(bytes).and_then(|v| u32::try_from(v).ok())
}

pub const PYTHONHOSTED_PREFIX: &str = "https://files.pythonhosted.org/packages/";

/// The digest of a files.pythonhosted.org URL when it has the canonical shape for
/// `filename`, so the URL can be rebuilt byte-for-byte from it.
pub fn pythonhosted_digest(url: &str, filename: &str) -> Option<[u8; 32]> {
    let rest = url.strip_prefix(PYTHONHOSTED_PREFIX)?;
    let (path, name) = rest.split_at_checked(2 + 1 + 2 + 1 + 60)?;
    if name.strip_prefix('/')? != filename {
        return None;
    }
    let b = path.as_bytes();
    if b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    let hex: Vec<u8> = b[0..2]
        .iter()
        .chain(&b[3..5])
        .chain(&b[6..])
        .copied()
        .collect();
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let hi = hex_val(pair[0])?;
        let lo = hex_val(pair[1])?;
        out[i] = hi << 4 | lo;
    }
    Some(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

pub fn pythonhosted_url(digest: &[u8; 32], filename: &str) -> String {
    let hex = hex_lower(digest);
    format!(
        "{PYTHONHOSTED_PREFIX}{}/{}/{}/{filename}",
        &hex[0..2],
        &hex[2..4],
        &hex[4..]
    )
}

pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// First bytes of a hash shard file.
pub const SHARD_MAGIC: [u8; 8] = *b"PINSHARD";
/// Fixed shard header: magic, format version u32, shard index u32, shard count u32, project
/// count u32, file count u32, reserved u32 (0).
pub const SHARD_HEADER_LEN: usize = 32;
/// Per file in a shard: sha256, then the files.pythonhosted.org digest (zero when the
/// core stores the URL as a string).
pub const SHARD_FILE_LEN: usize = 64;
/// Shard counts the writer accepts: powers of two up to 2^16 (4 hex digits of file name).
pub const MAX_SHARDS: u32 = 1 << 16;

/// The hash shard holding `name`'s hashes: CRC-32 (IEEE) of the normalized name's bytes,
/// modulo the shard count (a power of two). A name keeps its shard from one day's database
/// to the next as long as the count stays, so an update re-fetches only changed shards.
pub fn shard_of(name: &str, shard_count: u32) -> u32 {
    crc32fast::hash(name.as_bytes()) & shard_count.saturating_sub(1)
}

/// The file name of shard `index` as published: `shard-` + 4 lowercase hex digits + `.bin`.
pub fn shard_file_name(index: u32) -> String {
    format!("shard-{index:04x}.bin")
}

pub fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_sizes_match_spec() {
        assert_eq!(size_of::<FixedHeader>(), FIXED_HEADER_LEN);
        assert_eq!(size_of::<SectionEntry>(), SECTION_ENTRY_LEN);
        assert_eq!(size_of::<ProjectRec>(), 32);
        assert_eq!(size_of::<TagSetRec>(), 12);
        assert_eq!(size_of::<MetadataRec>(), 40);
        assert_eq!(size_of::<SparseRec>(), 8);
        assert_eq!(size_of::<NoteRec>(), 12);
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut rest = out.as_slice();
            assert_eq!(get_varint(&mut rest), Some(v));
            assert!(rest.is_empty());
        }
        // Overlong and truncated encodings are refused.
        assert_eq!(get_varint(&mut [0x80, 0x00].as_slice()), None);
        assert_eq!(get_varint(&mut [0x80].as_slice()), None);
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -1_700_000_000] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    /// `data-format.md`'s section table (`| kind | name [record bytes] | ... |`) and this
    /// module must agree on every kind and record size.
    #[test]
    fn spec_section_table_matches() {
        let spec = include_str!("../../data-format.md");
        let mut seen = Vec::new();
        for line in spec.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(kind), Some(name)) = (cells.get(1), cells.get(2)) else {
                continue;
            };
            let Ok(kind) = kind.parse::<u32>() else {
                continue;
            };
            let Some((_, size)) = name.strip_suffix(']').and_then(|n| n.rsplit_once('[')) else {
                continue;
            };
            let k = SectionKind::from_u32(kind)
                .unwrap_or_else(|| panic!("data-format.md names unknown section kind {kind}"));
            assert_eq!(
                size.parse::<usize>().ok(),
                Some(record_len(k)),
                "data-format.md: {name} vs record_len({})",
                k.name()
            );
            seen.push(k);
        }
        assert_eq!(
            seen,
            SectionKind::ALL,
            "data-format.md lists every kind in order"
        );
    }

    #[test]
    fn pythonhosted_urls_round_trip() {
        let url = "https://files.pythonhosted.org/packages/f9/9b/335f9764261e915ed497fcdeb11df5dfd6f7bf257d4a6a2a686d80da4d54/requests-2.32.3-py3-none-any.whl";
        let d = pythonhosted_digest(url, "requests-2.32.3-py3-none-any.whl").unwrap();
        assert_eq!(
            pythonhosted_url(&d, "requests-2.32.3-py3-none-any.whl"),
            url
        );
        assert_eq!(pythonhosted_digest(url, "other.whl"), None);
        assert_eq!(
            pythonhosted_digest(&url.to_uppercase(), "REQUESTS-2.32.3-PY3-NONE-ANY.WHL"),
            None
        );
        assert_eq!(
            pythonhosted_digest("https://example.org/x.whl", "x.whl"),
            None
        );
    }
}
