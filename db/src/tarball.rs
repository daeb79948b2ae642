//! The published artifact: an xz tarball holding one directory `pinion-db/` with
//! `manifest.json` then `pinion.db`, byte-identical for identical input (fixed member order,
//! mtime = the DB's created-at, uid/gid 0, fixed modes, no user names, xz with a fixed preset,
//! block size and the bundled liblzma). One top-level directory because Nix's
//! `builtins.fetchTarball` refuses any other shape; it unpacks the tarball into the store and
//! pins the unpacked tree by its NAR hash ([`crate::nar`]), so the tarball itself never lands
//! in the store.

use std::io::Write;

use crate::layout::hex_lower;
use crate::{DbCounts, DbInfo};
use sha2::{Digest, Sha256};

/// The tarball's one top-level directory.
pub const TOP_DIR: &str = "pinion-db";

/// xz preset 5: an 8 MiB dictionary, matches of up to 32 bytes sought. At PyPI scale
/// (`dbgen-bench`) xz saves about a quarter of gzip -9's bytes, which is what brings the
/// first download under the goal; compressing is then about half of `dbgen build`'s time.
/// Measured on a 1/10-scale core (88.6 MB, `xz -T1`): preset 9 gives 15.91 MB in 59 CPU-s,
/// 6 gives 15.90 MB in 53 CPU-s (a larger dictionary finds nothing more: a section's
/// repeats are near each other), 5 gives 16.25 MB in 42 CPU-s, 4 gives 16.82 MB in 33
/// CPU-s. Preset 5 keeps the first download ≤ 180 MB and the full-scale build ≤ 10 min.
const XZ_PRESET: u32 = 5;
/// Blocks of this many uncompressed bytes are compressed independently, so both cores work
/// at PyPI scale. The output depends on the block size, not on the thread count.
const XZ_BLOCK_SIZE: u64 = 64 << 20;
const XZ_THREADS: u32 = 2;

/// The magic of an xz stream.
pub const XZ_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0];

/// The manifest that travels next to `pinion.db`.
pub fn manifest_json(info: &DbInfo, db: &[u8]) -> String {
    let DbCounts {
        projects,
        releases,
        files,
        metadata,
        requirements,
        reqsets,
        lists,
        strings,
        tagsets,
    } = info.counts;
    let value = serde_json::json!({
        "format_version": info.format_version,
        "created_at": info.created_at,
        "index_url": info.index_url,
        "serial": info.serial,
        "db_file": "pinion.db",
        "db_size": db.len(),
        "sha256": hex_lower(&Sha256::digest(db)),
        "shard_count": info.shard_count,
        "counts": {
            "projects": projects, "releases": releases, "files": files, "metadata": metadata,
            "requirements": requirements, "requirement_sets": reqsets, "lists": lists,
            "strings": strings, "tag_sets": tagsets,
        },
    });
    let mut s = serde_json::to_string_pretty(&value).expect("a JSON value always serializes");
    s.push('\n');
    s
}

/// The members of the unpacked tarball, in order: what Nix's NAR hash is computed over.
pub fn members<'a>(db: &'a [u8], manifest: &'a str) -> [(&'static str, &'a [u8]); 2] {
    [("manifest.json", manifest.as_bytes()), ("pinion.db", db)]
}

/// The published tarball of a database, and the pin of the tree it unpacks to.
pub struct Packed {
    pub tarball: Vec<u8>,
    /// The NAR sha256 (lowercase hex) of the tree Nix unpacks the tarball into: what the
    /// pin's `sha256` is for `builtins.fetchTarball`.
    pub nar_sha256: String,
}

/// Packs `db` (a `pinion.db` file) and its manifest into the deterministic tarball. The
/// manifest, which holds the database's sha256, is built once for both results.
pub fn pack(db: &[u8], info: &DbInfo) -> std::io::Result<Packed> {
    let manifest = manifest_json(info, db);
    let members = members(db, &manifest);
    Ok(Packed {
        tarball: build_tarball(&members, info)?,
        nar_sha256: hex_lower(&crate::nar::directory_sha256(&members)),
    })
}

fn build_tarball(members: &[(&str, &[u8])], info: &DbInfo) -> std::io::Result<Vec<u8>> {
    let stream = xz2::stream::MtStreamBuilder::new()
        .preset(XZ_PRESET)
        .block_size(XZ_BLOCK_SIZE)
        .threads(XZ_THREADS)
        .check(xz2::stream::Check::Crc64)
        .encoder()
        .map_err(std::io::Error::other)?;
    let xz = xz2::write::XzEncoder::new_stream(Vec::new(), stream);
    let mut tar = tar::Builder::new(xz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mtime = u64::try_from(info.created_at).unwrap_or(0);
    let header = |path: &str, size: u64, mode: u32, kind: tar::EntryType| {
        let mut header = tar::Header::new_ustar();
        header.set_path(path)?;
        header.set_size(size);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_entry_type(kind);
        header.set_cksum();
        Ok::<_, std::io::Error>(header)
    };
    let dir = header(&format!("{TOP_DIR}/"), 0, 0o755, tar::EntryType::Directory)?;
    tar.append(&dir, std::io::empty())?;
    for &(name, data) in members {
        let path = format!("{TOP_DIR}/{name}");
        let h = header(&path, data.len() as u64, 0o644, tar::EntryType::Regular)?;
        tar.append(&h, data)?;
    }
    let mut xz = tar.into_inner()?;
    xz.flush()?;
    xz.finish()
}
