//! Test helpers for the extract tests: fixture loading and tiny zip/tar writers that can
//! produce archives real tools refuse to (unsafe paths, lying sizes, zip64 records).
#![allow(dead_code)] // each test binary uses a different subset

use std::io::Write;
use std::path::PathBuf;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pypi")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub struct ZipEntry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub deflate: bool,
    /// Overrides the uncompressed size written to the headers (to make it lie).
    pub declared_size: Option<u64>,
}

impl<'a> ZipEntry<'a> {
    pub fn new(name: &'a str, data: &'a [u8]) -> Self {
        ZipEntry {
            name,
            data,
            deflate: true,
            declared_size: None,
        }
    }
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// Writes a zip archive; with `zip64` the offsets go through a zip64 extra field and the end
/// record is preceded by a zip64 end record and locator.
pub fn build_zip(entries: &[ZipEntry], zip64: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for e in entries {
        let (payload, method) = if e.deflate {
            (deflate(e.data), 8u16)
        } else {
            (e.data.to_vec(), 0u16)
        };
        let size = e.declared_size.unwrap_or(e.data.len() as u64) as u32;
        let crc = crc32(e.data);
        let offset = out.len() as u64;
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(method.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend(crc.to_le_bytes());
        out.extend((payload.len() as u32).to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((e.name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(e.name.as_bytes());
        out.extend(&payload);

        cd.extend(0x0201_4b50u32.to_le_bytes());
        cd.extend(20u16.to_le_bytes());
        cd.extend(20u16.to_le_bytes());
        cd.extend(0u16.to_le_bytes());
        cd.extend(method.to_le_bytes());
        cd.extend([0u8; 4]);
        cd.extend(crc.to_le_bytes());
        cd.extend((payload.len() as u32).to_le_bytes());
        cd.extend(size.to_le_bytes());
        cd.extend((e.name.len() as u16).to_le_bytes());
        cd.extend((if zip64 { 12u16 } else { 0 }).to_le_bytes());
        cd.extend(0u16.to_le_bytes());
        cd.extend([0u8; 8]);
        cd.extend((if zip64 { u32::MAX } else { offset as u32 }).to_le_bytes());
        cd.extend(e.name.as_bytes());
        if zip64 {
            cd.extend(1u16.to_le_bytes());
            cd.extend(8u16.to_le_bytes());
            cd.extend(offset.to_le_bytes());
        }
    }
    let cd_offset = out.len() as u64;
    out.extend(&cd);
    let n = entries.len() as u64;
    if zip64 {
        let rec = out.len() as u64;
        out.extend(0x0606_4b50u32.to_le_bytes());
        out.extend(44u64.to_le_bytes());
        out.extend(45u16.to_le_bytes());
        out.extend(45u16.to_le_bytes());
        out.extend([0u8; 8]);
        out.extend(n.to_le_bytes());
        out.extend(n.to_le_bytes());
        out.extend((cd.len() as u64).to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(0x0706_4b50u32.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend(rec.to_le_bytes());
        out.extend(1u32.to_le_bytes());
    }
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((n as u16).to_le_bytes());
    out.extend((n as u16).to_le_bytes());
    out.extend((cd.len() as u32).to_le_bytes());
    out.extend((if zip64 { u32::MAX } else { cd_offset as u32 }).to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Writes a plain tar with raw names (so `../x` and `/abs` are possible).
pub fn build_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        out.extend(h.as_bytes());
        out.extend(*data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.extend([0u8; 1024]);
    out
}

pub fn metadata(name: &str, version: &str, extra_headers: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra_headers}\nDescription body\n"
    )
}
