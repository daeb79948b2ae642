//! The published artifact: a gzip tarball holding `manifest.json` then `pinion.db`, byte-
//! identical for identical input (fixed member order, mtime = the DB's created-at, uid/gid 0,
//! mode 0644, no user names, gzip header without name or time, fixed compression level).

use std::io::Write;

use crate::layout::hex_lower;
use crate::{DbCounts, DbInfo};
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

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

/// Packs `db` (a `pinion.db` file) and its manifest into the deterministic tarball.
pub fn build_tarball(db: &[u8], info: &DbInfo) -> std::io::Result<Vec<u8>> {
    let manifest = manifest_json(info, db);
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(9));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mtime = u64::try_from(info.created_at).unwrap_or(0);
    for (name, data) in [("manifest.json", manifest.as_bytes()), ("pinion.db", db)] {
        let mut header = tar::Header::new_ustar();
        header.set_path(name)?;
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, data)?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}
