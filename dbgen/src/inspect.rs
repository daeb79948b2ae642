//! Human-readable views of a database for `dbgen inspect`: a summary (header, counts,
//! section sizes, bytes per release/file) or one project's releases, files and requirements.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use resolver::db::{Database, FileKind, Metadata, ReqSet, ShardSet, layout};

use crate::time::rfc3339;

pub fn summary(db: &Database) -> String {
    let info = db.info();
    let c = info.counts;
    let mut s = String::new();
    let _ = writeln!(s, "pinion database, format {}", info.format_version);
    let _ = writeln!(
        s,
        "created at:  {} ({})",
        rfc3339(info.created_at),
        info.created_at
    );
    let _ = writeln!(s, "index:       {}", info.index_url);
    let _ = writeln!(s, "serial:      {}", info.serial);
    let _ = writeln!(s, "sha256:      {}", db.sha256_hex());
    let _ = writeln!(s, "size:        {} bytes", db.bytes().len());
    let _ = writeln!(
        s,
        "counts:      {} projects, {} releases, {} files, {} metadata records, {} requirements, {} requirement sets, {} lists, {} strings, {} tag sets",
        c.projects,
        c.releases,
        c.files,
        c.metadata,
        c.requirements,
        c.reqsets,
        c.lists,
        c.strings,
        c.tagsets
    );
    let _ = writeln!(s, "sections:");
    let _ = writeln!(
        s,
        "  {:<20} {:>12} {:>12}  crc32",
        "kind", "offset", "bytes"
    );
    let _ = writeln!(s, "  {:<20} {:>12} {:>12}", "header", 0, db.header_len());
    for sec in db.sections() {
        let _ = writeln!(
            s,
            "  {:<20} {:>12} {:>12}  {:08x}",
            sec.kind.name(),
            sec.range.start,
            sec.range.len(),
            sec.crc32
        );
    }
    let per = |n: u32| {
        if n == 0 {
            0.0
        } else {
            db.bytes().len() as f64 / n as f64
        }
    };
    let _ = writeln!(
        s,
        "bytes/release (uncompressed, whole file): {:.1}",
        per(c.releases)
    );
    let _ = writeln!(
        s,
        "bytes/file (uncompressed, whole file):    {:.1}",
        per(c.files)
    );
    s
}

/// One project, newest release first; `None` when the database does not have it. Hashes
/// and URLs come from `shards` when its hash shard is there.
pub fn project(db: &Database, shards: &ShardSet, name: &str) -> Option<String> {
    let p = db.project(name)?;
    let mut s = String::new();
    let releases: Vec<_> = p.releases().collect();
    let _ = writeln!(
        s,
        "{} (display name {:?}), {} releases",
        p.name(),
        p.display_name(),
        releases.len()
    );
    for r in releases {
        let time = r
            .upload_time()
            .map_or_else(|| "unknown".to_string(), rfc3339);
        let _ = write!(s, "\n{}  uploaded {time}", r.version_str());
        if r.yanked() {
            let _ = write!(s, "  YANKED ({})", r.yanked_reason().unwrap_or("no reason"));
        }
        s.push('\n');
        let mut metas: BTreeMap<u32, Metadata<'_>> = BTreeMap::new();
        for f in r.files() {
            let kind = match f.kind() {
                FileKind::Wheel => format!(
                    "wheel {}-{}-{}",
                    f.python_tags().collect::<Vec<_>>().join("."),
                    f.abi_tags().collect::<Vec<_>>().join("."),
                    f.platform_tags().collect::<Vec<_>>().join(".")
                ),
                FileKind::Sdist => "sdist".to_string(),
            };
            let shard = || {
                let file = layout::shard_file_name(db.shard_of(p.name()));
                format!("(in hash shard {file})")
            };
            let sha = shards
                .hashes(p.name(), &f)
                .map_or_else(shard, |h| layout::hex_lower(&h.sha256));
            let _ = writeln!(s, "  {}  [{kind}]", f.filename());
            let _ = writeln!(
                s,
                "    sha256 {sha}  requires-python {}  metadata #{}{}",
                f.requires_python().unwrap_or("-"),
                f.metadata().id(),
                if f.yanked() { "  yanked" } else { "" }
            );
            let url = shards
                .url(p.name(), &f)
                .map_or_else(shard, |u| u.into_owned());
            let _ = writeln!(s, "    {url}");
            metas.insert(f.metadata().id(), f.metadata());
        }
        for (id, m) in metas {
            let _ = writeln!(
                s,
                "  metadata #{id}: requires-python {}, build backend {}, [build-system] {}",
                m.requires_python().unwrap_or("-"),
                m.build_backend().unwrap_or("-"),
                if m.has_build_system() { "yes" } else { "no" }
            );
            let extras: Vec<&str> = m.provides_extra().collect();
            if !extras.is_empty() {
                let _ = writeln!(s, "    provides-extra: {}", extras.join(", "));
            }
            for (label, set) in [
                ("requires-dist", m.requires_dist()),
                ("build", m.build_requires()),
                ("setup", m.setup_requires()),
            ] {
                reqset(&mut s, label, set);
            }
        }
    }
    Some(s)
}

fn reqset(s: &mut String, label: &str, set: ReqSet<'_>) {
    match set.source() {
        None => {
            let _ = writeln!(s, "    {label}: UNKNOWN");
        }
        Some(src) => {
            let _ = writeln!(s, "    {label} (from {src}): {} requirement(s)", set.len());
            for r in set.iter() {
                let _ = writeln!(s, "      {}", r.to_pep508_string());
            }
        }
    }
}
