//! Minimal zip reader built for HTTP range requests (the way uv reads wheel metadata): find
//! the central directory from the file's tail, pick the `*.dist-info/METADATA` entry, then
//! fetch and inflate just that entry. The same functions read whole in-memory archives.
//!
//! Only what wheels and zip sdists use is supported: stored and deflate entries, zip64
//! sizes/offsets, no encryption, no multi-disk archives. Every length read from the file is
//! bounds-checked before use, so hostile input yields an [`ExtractError`], never a panic.

use std::io::Read;

use flate2::read::DeflateDecoder;

use super::{ExtractError, Limits};

/// How many trailing bytes to fetch first: the end-of-central-directory record (22 bytes plus
/// a comment of up to 64 KiB) and, for most wheels, the whole central directory.
pub const TAIL_GUESS: u64 = 64 * 1024;

/// Extra bytes fetched beyond the local header's fixed part and name, for its extra field.
const LOCAL_EXTRA_ALLOWANCE: u64 = 1024;

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CD_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

/// Absolute position of the central directory within the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CdLocation {
    pub offset: u64,
    pub len: u64,
}

/// A central directory entry: where its local header starts and how to decode its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLocation {
    pub local_header_offset: u64,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub crc32: u32,
    pub method: u16,
    pub flags: u16,
    pub name: String,
}

fn corrupt(what: impl Into<String>) -> ExtractError {
    ExtractError::CorruptArchive { what: what.into() }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Finds the central directory given the last `tail.len()` bytes of a file of `file_size`
/// bytes. Returns [`ExtractError::Zip64RecordOutsideTail`] when the zip64 record was not
/// fetched, so the caller can fetch more or fall back to a full download.
pub fn locate_central_directory(tail: &[u8], file_size: u64) -> Result<CdLocation, ExtractError> {
    let tail_len = tail.len() as u64;
    if tail_len > file_size {
        return Err(corrupt(format!(
            "tail of {tail_len} bytes is longer than the file ({file_size} bytes)"
        )));
    }
    let tail_start = file_size - tail_len;
    if tail.len() < 22 {
        return Err(corrupt(
            "file too short for an end of central directory record",
        ));
    }
    // The record is 22 bytes plus a comment; scan backwards over the maximal comment length.
    let lowest = tail.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lowest..=tail.len() - 22)
        .rev()
        .find(|&p| {
            u32_at(tail, p) == Some(EOCD_SIG)
                && u16_at(tail, p + 20).is_some_and(|c| p + 22 + c as usize <= tail.len())
        })
        .ok_or_else(|| {
            corrupt("no end of central directory record (not a zip file, or truncated)")
        })?;
    let field = |at: usize| {
        u32_at(tail, eocd + at).ok_or_else(|| corrupt("truncated end of central directory"))
    };
    let disk = u16_at(tail, eocd + 4).unwrap_or(0);
    let mut cd_len = u64::from(field(12)?);
    let mut cd_offset = u64::from(field(16)?);
    let eocd_abs = tail_start + eocd as u64;
    let mut cd_end_limit = eocd_abs;

    if eocd >= 20 && u32_at(tail, eocd - 20) == Some(ZIP64_LOCATOR_SIG) {
        let rec_abs =
            u64_at(tail, eocd - 20 + 8).ok_or_else(|| corrupt("truncated zip64 locator"))?;
        if rec_abs < tail_start {
            return Err(ExtractError::Zip64RecordOutsideTail { offset: rec_abs });
        }
        let rec = usize::try_from(rec_abs - tail_start)
            .map_err(|_| corrupt("zip64 record offset overflows"))?;
        if u32_at(tail, rec) != Some(ZIP64_EOCD_SIG) {
            return Err(corrupt(format!(
                "no zip64 end of central directory record at offset {rec_abs}"
            )));
        }
        cd_len = u64_at(tail, rec + 40)
            .ok_or_else(|| corrupt("truncated zip64 end of central directory"))?;
        cd_offset = u64_at(tail, rec + 48)
            .ok_or_else(|| corrupt("truncated zip64 end of central directory"))?;
        cd_end_limit = rec_abs;
    } else if disk != 0 {
        return Err(ExtractError::Unsupported("multi-disk zip archive".into()));
    }
    match cd_offset.checked_add(cd_len) {
        Some(end) if end <= cd_end_limit => Ok(CdLocation {
            offset: cd_offset,
            len: cd_len,
        }),
        _ => Err(corrupt(format!(
            "central directory at {cd_offset}+{cd_len} overlaps its end record at {cd_end_limit}"
        ))),
    }
}

/// Parses every central directory entry, refusing unsafe names and more than `max_members`.
pub(crate) fn entries(cd: &[u8], max_members: usize) -> Result<Vec<EntryLocation>, ExtractError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < cd.len() {
        if u32_at(cd, pos) != Some(CD_SIG) {
            return Err(corrupt(format!(
                "bad central directory entry signature at offset {pos}"
            )));
        }
        if out.len() >= max_members {
            return Err(ExtractError::TooManyMembers { limit: max_members });
        }
        let trunc = || corrupt(format!("truncated central directory entry at offset {pos}"));
        let flags = u16_at(cd, pos + 8).ok_or_else(trunc)?;
        let method = u16_at(cd, pos + 10).ok_or_else(trunc)?;
        let crc32 = u32_at(cd, pos + 16).ok_or_else(trunc)?;
        let mut compressed_size = u64::from(u32_at(cd, pos + 20).ok_or_else(trunc)?);
        let mut uncompressed_size = u64::from(u32_at(cd, pos + 24).ok_or_else(trunc)?);
        let name_len = usize::from(u16_at(cd, pos + 28).ok_or_else(trunc)?);
        let extra_len = usize::from(u16_at(cd, pos + 30).ok_or_else(trunc)?);
        let comment_len = usize::from(u16_at(cd, pos + 32).ok_or_else(trunc)?);
        let mut local_header_offset = u64::from(u32_at(cd, pos + 42).ok_or_else(trunc)?);
        let name_start = pos + 46;
        let name_bytes = cd
            .get(name_start..name_start + name_len)
            .ok_or_else(trunc)?;
        let extra = cd
            .get(name_start + name_len..name_start + name_len + extra_len)
            .ok_or_else(trunc)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        check_path(&name)?;
        apply_zip64_extra(
            extra,
            &mut uncompressed_size,
            &mut compressed_size,
            &mut local_header_offset,
        )
        .ok_or_else(|| corrupt(format!("{name}: truncated zip64 extra field")))?;
        out.push(EntryLocation {
            local_header_offset,
            compressed_size,
            uncompressed_size,
            crc32,
            method,
            flags,
            name,
        });
        pos = name_start + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// Replaces 0xFFFFFFFF placeholders with the zip64 extra field's values, in spec order.
fn apply_zip64_extra(
    extra: &[u8],
    uncompressed: &mut u64,
    compressed: &mut u64,
    offset: &mut u64,
) -> Option<()> {
    let mut pos = 0;
    while pos + 4 <= extra.len() {
        let id = u16_at(extra, pos)?;
        let len = usize::from(u16_at(extra, pos + 2)?);
        let data = extra.get(pos + 4..pos + 4 + len)?;
        if id == 0x0001 {
            let mut at = 0;
            for slot in [uncompressed, compressed, offset] {
                if *slot == 0xFFFF_FFFF {
                    *slot = u64_at(data, at)?;
                    at += 8;
                }
            }
            return Some(());
        }
        pos += 4 + len;
    }
    Some(())
}

/// Refuses absolute paths and `..` components; for in-memory reading they are only
/// suspicious, but an archive containing them is not one a legitimate build tool produced.
pub(crate) fn check_path(name: &str) -> Result<(), ExtractError> {
    let unsafe_path = name.starts_with('/')
        || name.starts_with('\\')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split(['/', '\\']).any(|c| c == "..");
    if unsafe_path {
        Err(ExtractError::UnsafePath(name.to_string()))
    } else {
        Ok(())
    }
}

/// Finds the single top-level `*.dist-info/METADATA` entry of a wheel's central directory.
pub fn find_metadata_entry(cd: &[u8]) -> Result<EntryLocation, ExtractError> {
    find_metadata_entry_limited(cd, Limits::default().max_members)
}

pub fn find_metadata_entry_limited(
    cd: &[u8],
    max_members: usize,
) -> Result<EntryLocation, ExtractError> {
    let mut found: Vec<EntryLocation> = entries(cd, max_members)?
        .into_iter()
        .filter(|e| {
            e.name
                .split_once('/')
                .is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "METADATA")
        })
        .collect();
    match found.len() {
        0 => Err(ExtractError::NoMetadata(
            "wheel has no top-level *.dist-info/METADATA".into(),
        )),
        1 => Ok(found.remove(0)),
        n => Err(corrupt(format!(
            "wheel has {n} top-level .dist-info/METADATA files: {}",
            found
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The byte range to fetch for `entry`: its local header (fixed part, name and an allowance
/// for the extra field) and its data. The caller clamps the end to the file size.
pub fn local_entry_span(entry: &EntryLocation) -> (u64, u64) {
    let len = 30 + entry.name.len() as u64 + LOCAL_EXTRA_ALLOWANCE + entry.compressed_size;
    (entry.local_header_offset, len)
}

/// [`read_local_entry`] for a whole archive held in memory: finds the entry's local header.
pub fn read_entry_in_archive(
    archive: &[u8],
    entry: &EntryLocation,
    limits: &Limits,
) -> Result<Vec<u8>, ExtractError> {
    let start = usize::try_from(entry.local_header_offset)
        .ok()
        .filter(|&s| s <= archive.len())
        .ok_or_else(|| ExtractError::CorruptArchive {
            what: format!(
                "{}: local header offset beyond the end of the file",
                entry.name
            ),
        })?;
    read_local_entry(&archive[start..], entry, limits)
}

/// Parses the local header at the start of `bytes_from_local_header` and returns the entry's
/// decompressed data, verifying size and CRC-32 and refusing more than `max_member_bytes`.
pub fn read_local_entry(
    bytes_from_local_header: &[u8],
    entry: &EntryLocation,
    limits: &Limits,
) -> Result<Vec<u8>, ExtractError> {
    let b = bytes_from_local_header;
    let name = &entry.name;
    if entry.flags & 1 != 0 {
        return Err(ExtractError::Unsupported(format!(
            "{name}: encrypted zip entry"
        )));
    }
    if entry.uncompressed_size > limits.max_member_bytes {
        return Err(ExtractError::TooLarge {
            what: name.clone(),
            size: entry.uncompressed_size,
            limit: limits.max_member_bytes,
        });
    }
    if u32_at(b, 0) != Some(LOCAL_SIG) {
        return Err(corrupt(format!(
            "{name}: no local file header at offset {}",
            entry.local_header_offset
        )));
    }
    let trunc = || corrupt(format!("{name}: truncated local file header"));
    let name_len = u64::from(u16_at(b, 26).ok_or_else(trunc)?);
    let extra_len = u64::from(u16_at(b, 28).ok_or_else(trunc)?);
    let start = 30 + name_len + extra_len;
    let data = start
        .checked_add(entry.compressed_size)
        .filter(|&end| end <= b.len() as u64)
        .map(|end| &b[start as usize..end as usize])
        .ok_or_else(|| {
            corrupt(format!(
                "{name}: entry data truncated (need {} bytes after the local header, have {})",
                entry.compressed_size,
                (b.len() as u64).saturating_sub(start)
            ))
        })?;
    let out = match entry.method {
        0 => data.to_vec(),
        8 => {
            // Read one byte past the declared size so a lying size is detected, not trusted.
            let cap = entry.uncompressed_size + 1;
            let mut out = Vec::with_capacity(entry.uncompressed_size.min(1 << 20) as usize);
            DeflateDecoder::new(data)
                .take(cap)
                .read_to_end(&mut out)
                .map_err(|e| corrupt(format!("{name}: deflate stream is corrupt: {e}")))?;
            out
        }
        m => {
            return Err(ExtractError::Unsupported(format!(
                "{name}: zip compression method {m}"
            )));
        }
    };
    if out.len() as u64 != entry.uncompressed_size {
        return Err(corrupt(format!(
            "{name}: decompressed to {} bytes, the central directory says {}",
            out.len(),
            entry.uncompressed_size
        )));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&out);
    if crc.sum() != entry.crc32 {
        return Err(corrupt(format!("{name}: CRC-32 mismatch")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths() {
        for bad in ["/etc/passwd", "a/../../x", "..", "C:/x", "\\x", "a\\..\\b"] {
            assert_eq!(
                check_path(bad),
                Err(ExtractError::UnsafePath(bad.into())),
                "{bad}"
            );
        }
        for ok in ["a/b", "a..b/c", "pkg-1.0/PKG-INFO"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn tail_shorter_than_eocd() {
        assert!(matches!(
            locate_central_directory(b"PK\x05\x06", 4),
            Err(ExtractError::CorruptArchive { .. })
        ));
        assert!(matches!(
            locate_central_directory(&[0; 30], 10),
            Err(ExtractError::CorruptArchive { .. })
        ));
    }
}
