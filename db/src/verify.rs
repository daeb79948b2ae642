//! Full verification: every checksum, every id in range, every ordering invariant the reader
//! relies on for speed (sorted names for binary search, newest-first releases), and the
//! meaning of what it copies into locks (file names are names of their own project and
//! release, marker strings parse, sizes fit a signed integer). `open` skips this because it
//! reads the whole file; `dbgen verify` runs it, and the resolver checks only the section
//! checksums on each run (`Database::check_checksums`).

use std::collections::HashSet;

use zerocopy::FromBytes;
use zerocopy::little_endian::U32;

use super::layout::{self, MetadataRec, SectionEntry, SectionKind, TagSetRec};
use super::{Database, DbError};

fn bad<T>(msg: String) -> Result<T, DbError> {
    Err(DbError::Invariant(msg))
}

pub(super) fn verify(db: &Database) -> Result<(), DbError> {
    checksums_and_padding(db)?;
    let c = db.info.counts;
    tables(db)?;
    sparse_columns(db)?;
    let string_ok = |id: u32| id < c.strings;
    let list_of = |id: u32, what: &str, ok: &dyn Fn(u32) -> bool| -> Result<(), DbError> {
        if id >= c.lists {
            return bad(format!(
                "{what}: list id {id} out of range ({} lists)",
                c.lists
            ));
        }
        if let Some(v) = db.list(id).iter().find(|v| !ok(v.get())) {
            return bad(format!(
                "{what}: list {id} holds out-of-range id {}",
                v.get()
            ));
        }
        Ok(())
    };
    let str_id = |id: u32, what: &str| -> Result<(), DbError> {
        if string_ok(id) {
            Ok(())
        } else {
            bad(format!(
                "{what}: string id {id} out of range ({} strings)",
                c.strings
            ))
        }
    };

    for (i, t) in db
        .records::<TagSetRec>(SectionKind::TagSets)
        .iter()
        .enumerate()
    {
        for id in [t.python.get(), t.abi.get(), t.platform.get()] {
            str_id(id, &format!("tag set {i}"))?;
        }
    }
    let set_starts = reqsets(db)?;
    let mut used = HashSet::new();
    for (i, m) in db
        .records::<MetadataRec>(SectionKind::Metadata)
        .iter()
        .enumerate()
    {
        let what = format!("metadata {i}");
        let sets = [
            (m.requires_dist.get(), m.requires_dist_source.get()),
            (m.build_requires.get(), m.build_requires_source.get()),
            (m.setup_requires.get(), m.setup_requires_source.get()),
        ];
        for (offset, source) in sets {
            str_id(source, &what)?;
            if !set_starts.contains(&offset) {
                return bad(format!(
                    "{what}: offset {offset} is not the start of a requirement set"
                ));
            }
            if source == 0 && offset != 0 {
                return bad(format!("{what}: an unknown requirement set has members"));
            }
            used.insert(offset);
        }
        list_of(m.provides_extra.get(), &what, &string_ok)?;
        str_id(m.requires_python.get(), &what)?;
        str_id(m.build_backend.get(), &what)?;
        if m.flags.get() & !layout::META_FLAGS != 0 {
            return bad(format!("{what}: unknown flag bits"));
        }
    }
    metadata_notes(db, &|id, what| list_of(id, what, &string_ok))?;
    // The empty set at offset 0 is always present, used or not.
    used.insert(0);
    if used.len() != set_starts.len() {
        return bad(format!(
            "{} requirement sets are stored but metadata uses {}",
            set_starts.len(),
            used.len()
        ));
    }
    projects_releases_files(db)
}

/// Every known section's CRC against the section table.
pub(super) fn checksums(db: &Database) -> Result<(), DbError> {
    let bytes = db.bytes();
    for s in db.sections() {
        let section = bytes.get(s.range.clone()).unwrap_or(&[]);
        if crc32fast::hash(section) != s.crc32 {
            return Err(DbError::Checksum(format!("section {}", s.kind.name())));
        }
    }
    Ok(())
}

fn checksums_and_padding(db: &Database) -> Result<(), DbError> {
    checksums(db)?;
    let bytes = db.bytes();
    // Every byte outside the header and the listed sections (known or not) must be zero, so
    // that no bit of the file escapes a check.
    let count =
        FromBytes::read_from_prefix(&bytes[20..]).map_or(0, |(v, _): (U32, _)| v.get()) as usize;
    let table = &bytes
        [layout::FIXED_HEADER_LEN..layout::FIXED_HEADER_LEN + count * layout::SECTION_ENTRY_LEN];
    let mut ranges: Vec<(u64, u64)> = <[SectionEntry]>::ref_from_bytes(table)
        .map_err(|_| DbError::invariant("section table is malformed"))?
        .iter()
        .map(|e| {
            (
                e.offset.get(),
                e.offset.get().saturating_add(e.length.get()),
            )
        })
        .collect();
    ranges.sort_unstable();
    let entries_reserved = table
        .chunks_exact(layout::SECTION_ENTRY_LEN)
        .any(|e| e[4..8] != [0; 4] || e[28..32] != [0; 4]);
    if bytes[80..88] != [0; 8] || entries_reserved {
        return Err(DbError::invariant("reserved header fields are not zero"));
    }
    let mut pos = db.header_len() as u64;
    for (start, end) in ranges
        .into_iter()
        .chain([(bytes.len() as u64, bytes.len() as u64)])
    {
        if start < pos {
            return Err(DbError::invariant("sections overlap"));
        }
        if bytes[pos as usize..start as usize].iter().any(|b| *b != 0) {
            return Err(DbError::invariant(format!(
                "non-zero padding in bytes {pos}..{start}"
            )));
        }
        pos = end;
    }
    Ok(())
}

fn tables(db: &Database) -> Result<(), DbError> {
    for (kind, blob_len, what) in [
        (
            SectionKind::StrOffsets,
            db.section(SectionKind::StrBytes).len(),
            "string",
        ),
        (
            SectionKind::ListOffsets,
            db.u32s(SectionKind::ListPool).len(),
            "list",
        ),
    ] {
        let offsets = db.u32s(kind);
        if offsets.first().map(|o| o.get()) != Some(0)
            || offsets.last().map(|o| o.get() as usize) != Some(blob_len)
        {
            return bad(format!("{what} offsets do not span their pool"));
        }
        if let Some(i) = offsets.windows(2).position(|w| w[0].get() > w[1].get()) {
            return bad(format!("{what} offsets decrease at {what} {i}"));
        }
        if offsets.len() < 2 || offsets[1].get() != 0 {
            return bad(format!("{what} 0 must be empty"));
        }
    }
    let mut seen = HashSet::new();
    let offsets = db.u32s(SectionKind::StrOffsets);
    let blob = db.section(SectionKind::StrBytes);
    for (i, w) in offsets.windows(2).enumerate() {
        let Ok(s) = std::str::from_utf8(&blob[w[0].get() as usize..w[1].get() as usize]) else {
            return bad(format!("string {i} is not UTF-8"));
        };
        if !seen.insert(s) {
            return bad(format!("string {i} ({s:?}) is stored twice"));
        }
    }
    Ok(())
}

/// Walks the requirement-set blob front to back, checking every set and requirement, and
/// returns the offsets where sets start.
fn reqsets(db: &Database) -> Result<HashSet<u32>, DbError> {
    let c = db.info.counts;
    let blob = db.section(SectionKind::ReqSets);
    let mut rest = blob;
    let mut starts = HashSet::new();
    let mut distinct = HashSet::new();
    let mut markers_ok: std::collections::HashMap<u32, bool> = Default::default();
    let mut requirements = 0u64;
    if blob.first() != Some(&0) {
        return bad("requirement set 0 must be the empty set".into());
    }
    while !rest.is_empty() {
        let offset = (blob.len() - rest.len()) as u32;
        let what = || format!("requirement set at offset {offset}");
        let start = rest;
        let Some(n) = layout::get_varint_u32(&mut rest) else {
            return bad(format!("{}: truncated count", what()));
        };
        for k in 0..n {
            let rwhat = || format!("{}, requirement {k}", what());
            let Some(r) = super::view::Requirement::decode(db, &mut rest) else {
                return bad(format!("{}: truncated", rwhat()));
            };
            let (name_id, marker_id) = r.string_ids();
            for id in [name_id, marker_id] {
                if id >= c.strings {
                    return bad(format!("{}: string id {id} out of range", rwhat()));
                }
            }
            let name = r.name();
            if pinion_pep::ProjectName::new(name).map(|n| n.as_str() == name) != Ok(true) {
                return bad(format!("{}: name {name:?} is not normalized", rwhat()));
            }
            if r.extras().count() != r.extras_len() || r.specifiers().count() != r.specs_len() {
                return bad(format!(
                    "{}: bad extra id, operator code or version text",
                    rwhat()
                ));
            }
            if let Some(id) = r.extra_ids().find(|id| *id == 0 || *id >= c.strings) {
                return bad(format!("{}: extra string id {id} out of range", rwhat()));
            }
            if !r.canonical_head() {
                return bad(format!("{}: marker or extras flagged but absent", rwhat()));
            }
            // The reader parses each marker string once, when first needed; a string that is
            // not a marker would only surface mid-resolution, far from the damage.
            if let Some((id, text)) = r.marker() {
                let ok = *markers_ok.entry(id).or_insert_with(|| {
                    pinion_pep::parse_requirement(&format!("x ; {text}")).is_ok()
                });
                if !ok {
                    return bad(format!(
                        "{}: marker string {id} ({text:?}) is not a PEP 508 marker",
                        rwhat()
                    ));
                }
            }
            if let Some((_, v)) = r
                .specifiers()
                .find(|(_, v)| v.parse::<pep440_rs::Version>().is_err())
            {
                return bad(format!("{}: version {v:?} is not PEP 440", rwhat()));
            }
            requirements += 1;
        }
        let bytes = &start[..start.len() - rest.len()];
        if !distinct.insert(bytes) {
            return bad(format!("{} is stored twice", what()));
        }
        starts.insert(offset);
    }
    if starts.len() as u64 != c.reqsets as u64 || requirements != c.requirements as u64 {
        return bad(format!(
            "header says {} requirement sets of {} requirements in all, the blob holds {} of {requirements}",
            c.reqsets,
            c.requirements,
            starts.len()
        ));
    }
    Ok(starts)
}

fn projects_releases_files(db: &Database) -> Result<(), DbError> {
    let c = db.info.counts;
    let str_id = |id: u32, what: &dyn Fn() -> String| -> Result<(), DbError> {
        if id < c.strings {
            Ok(())
        } else {
            bad(format!("{}: string id {id} out of range", what()))
        }
    };
    let versions_len = db.section(SectionKind::ReleaseVersions).len();
    let times_len = db.section(SectionKind::ReleaseTimes).len();
    // Where the next project's release streams and files must start: projects own
    // contiguous, gap-free runs, so every byte of both streams belongs to one release.
    let (mut at_versions, mut at_times, mut next_file) = (0usize, 0usize, 0u32);
    let mut releases = 0u64;
    let mut prev_name: Option<&str> = None;
    for (pi, p) in db.projects().enumerate() {
        let rec = *p.rec();
        let pwhat = || format!("project {pi}");
        str_id(rec.name.get(), &pwhat)?;
        str_id(rec.display_name.get(), &pwhat)?;
        str_id(rec.stem_prefix.get(), &pwhat)?;
        if rec.reserved.get() != 0 {
            return bad(format!("{}: reserved field is not zero", pwhat()));
        }
        let name = p.name();
        let pwhat = || format!("project {pi} ({name:?})");
        if pinion_pep::ProjectName::new(name).map(|n| n.as_str() == name) != Ok(true) {
            return bad(format!("{}: name is not normalized", pwhat()));
        }
        if prev_name.is_some_and(|prev| prev.as_bytes() >= name.as_bytes()) {
            return bad(format!("{}: name index not strictly sorted", pwhat()));
        }
        prev_name = Some(name);
        if rec.versions.get() as usize != at_versions
            || rec.times.get() as usize != at_times
            || rec.first_file.get() != next_file
        {
            return bad(format!(
                "{}: release streams or files do not continue where the previous project's end",
                pwhat()
            ));
        }
        let mut it = p.releases();
        let mut prev_version: Option<pep440_rs::Version> = None;
        let mut count = 0u32;
        for r in it.by_ref() {
            let ri = count;
            count += 1;
            let rwhat = || format!("{}, release {ri}", pwhat());
            let vs = r.version_str();
            let Ok(v) = vs.parse::<pep440_rs::Version>() else {
                return bad(format!("{}: version {vs:?} is not PEP 440", rwhat()));
            };
            if prev_version.as_ref().is_some_and(|prev| *prev <= v) {
                return bad(format!("{}: releases not newest-first at {vs}", rwhat()));
            }
            prev_version = Some(v.clone());
            let files: Vec<_> = r.files().collect();
            if files.is_empty() || files.len() != r.file_count() as usize {
                return bad(format!("{}: no files, or files out of range", rwhat()));
            }
            let mut prev_filename: Option<String> = None;
            for f in files {
                let fi = f.index();
                let fwhat = || format!("{}, file {fi}", rwhat());
                file(db, fi, &fwhat)?;
                if db.col_u32(SectionKind::FileNames, fi) == 0 && rec.stem_prefix.get() == 0 {
                    return bad(format!(
                        "{}: implied filename stem, but the project has no stem prefix",
                        fwhat()
                    ));
                }
                let filename = f.filename().into_owned();
                if let Err(why) = names_own_release(&filename, f.kind(), name, &v) {
                    return bad(format!("{}: file name {filename:?} {why}", fwhat()));
                }
                if prev_filename.as_ref().is_some_and(|p| *p >= filename) {
                    return bad(format!("{}: files not sorted by filename", fwhat()));
                }
                prev_filename = Some(filename);
            }
        }
        if count != rec.release_count.get() {
            return bad(format!(
                "{}: release streams are malformed after {count} of {} releases",
                pwhat(),
                rec.release_count.get()
            ));
        }
        let (v_rest, t_rest) = it.rest();
        at_versions = versions_len - v_rest;
        at_times = times_len - t_rest;
        next_file = it.next_file();
        releases += u64::from(count);
    }
    if at_versions != versions_len || at_times != times_len {
        return bad("release streams hold bytes no project owns".into());
    }
    if next_file != c.files || releases != u64::from(c.releases) {
        return bad(format!(
            "projects own {releases} releases and {next_file} files, header says {} and {}",
            c.releases, c.files
        ));
    }
    Ok(())
}

/// Whether a rebuilt file name is a wheel or sdist name of `project` at `version`: the lock
/// copies file names, and Nix derives store paths and the installer derives the project from
/// them.
fn names_own_release(
    filename: &str,
    kind: super::FileKind,
    project: &str,
    version: &pep440_rs::Version,
) -> Result<(), String> {
    let project = pinion_pep::ProjectName::new(project).map_err(|e| e.to_string())?;
    let (name, file_version) = match kind {
        super::FileKind::Wheel => pinion_pep::WheelFilename::parse(filename)
            .map(|w| (w.name, w.version))
            .map_err(|_| "is not a wheel file name".to_string())?,
        super::FileKind::Sdist => pinion_pep::SdistFilename::parse(filename, &project)
            .map(|s| (s.name, s.version))
            .map_err(|_| "is not an sdist file name".to_string())?,
    };
    if pinion_pep::ProjectName::new(&name).ok().as_ref() != Some(&project) {
        return Err(format!("names project `{name}`, not `{project}`"));
    }
    if file_version.parse::<pep440_rs::Version>().ok().as_ref() != Some(version) {
        return Err(format!(
            "has version `{file_version}`, not the release's `{version}`"
        ));
    }
    Ok(())
}

/// Sparse per-file columns list files in strictly increasing order, within the file count,
/// each with a non-zero string id in range (so every entry is the only encoding of a value).
fn sparse_columns(db: &Database) -> Result<(), DbError> {
    let c = db.info.counts;
    for kind in [
        SectionKind::FileNames,
        SectionKind::FileYankedReasons,
        SectionKind::FileUrls,
    ] {
        let mut prev: Option<u32> = None;
        for r in db.records::<layout::SparseRec>(kind) {
            let (file, value) = (r.file.get(), r.value.get());
            if prev.is_some_and(|p| p >= file) || file >= c.files {
                return bad(format!(
                    "{}: file {file} out of order or out of range",
                    kind.name()
                ));
            }
            if value == 0 || value >= c.strings {
                return bad(format!(
                    "{}: file {file} has string id {value}, not in 1..{}",
                    kind.name(),
                    c.strings
                ));
            }
            prev = Some(file);
        }
    }
    Ok(())
}

fn file(db: &Database, fi: u32, what: &dyn Fn() -> String) -> Result<(), DbError> {
    let c = db.info.counts;
    let col = |kind| db.col_u32(kind, fi);
    for kind in [
        SectionKind::FileNames,
        SectionKind::FileUrls,
        SectionKind::FileRequiresPython,
        SectionKind::FileYankedReasons,
    ] {
        let id = col(kind);
        if id >= c.strings {
            return bad(format!(
                "{}: {} string id {id} out of range",
                what(),
                kind.name()
            ));
        }
    }
    if col(SectionKind::FileMetadata) >= c.metadata {
        return bad(format!("{}: metadata id out of range", what()));
    }
    let flags = db.section(SectionKind::FileFlags)[fi as usize];
    if flags & !layout::FILE_FLAGS != 0 {
        return bad(format!("{}: unknown flag bits", what()));
    }
    let wheel = flags & layout::FILE_WHEEL != 0;
    let ext = (flags & layout::FILE_EXT_MASK) >> layout::FILE_EXT_SHIFT;
    if (wheel && ext != 0) || usize::from(ext) > layout::SDIST_EXTENSIONS.len() {
        return bad(format!("{}: bad sdist extension code {ext}", what()));
    }
    let tagset = col(SectionKind::FileTagSets);
    if wheel != (tagset != 0) || tagset > c.tagsets {
        return bad(format!(
            "{}: tag set does not match the file kind or is out of range",
            what()
        ));
    }
    Ok(())
}

/// Checks a complete set of hash shards against the core: each one as `ShardSet::add` does
/// (sha256 from the manifest, header, projects and file counts, digests), and together they
/// list every project that has files. `read(i)` gives shard `i`'s bytes.
pub(super) fn verify_shards(
    db: &Database,
    read: &mut dyn FnMut(u32) -> Result<Vec<u8>, DbError>,
) -> Result<(), DbError> {
    let mut expected = vec![0u32; db.shard_count() as usize];
    for p in db.projects() {
        if p.releases().next().is_some() {
            expected[db.shard_of(p.name()) as usize] += 1;
        }
    }
    for (index, want) in (0u32..).zip(expected) {
        // A fresh set per shard keeps memory to one shard at a time.
        let listed = super::ShardSet::new().add(db, index, &read(index)?)?;
        if listed != want {
            return bad(format!(
                "hash shard {} lists {listed} projects, the database has {want} in it",
                layout::shard_file_name(index)
            ));
        }
    }
    Ok(())
}

/// Notes: strictly sorted by metadata id, ids in range, never empty; a record has a note
/// with unparsed strings exactly when it has a partial flag, and a reason only when its
/// requires_dist is unknown.
fn metadata_notes(
    db: &Database,
    strings_list: &dyn Fn(u32, &str) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let strings = db.info.counts.strings;
    let metas = db.records::<MetadataRec>(SectionKind::Metadata);
    let notes = db.records::<layout::NoteRec>(SectionKind::MetadataNotes);
    let mut next = 0usize;
    for (i, m) in metas.iter().enumerate() {
        let note = notes.get(next).filter(|n| n.metadata.get() as usize == i);
        if let Some(n) = note {
            next += 1;
            let what = format!("metadata note {}", next - 1);
            if n.reason.get() == 0 && n.unparsed.get() == 0 {
                return bad(format!("{what}: empty"));
            }
            if n.reason.get() != 0 && m.requires_dist_source.get() != 0 {
                return bad(format!("{what}: a reason for a known requires_dist"));
            }
            if n.reason.get() >= strings {
                return bad(format!("{what}: reason string id out of range"));
            }
            strings_list(n.unparsed.get(), &what)?;
        }
        let has_unparsed = note.is_some_and(|n| n.unparsed.get() != 0);
        if has_unparsed != (m.flags.get() & layout::META_PARTIAL != 0) {
            return bad(format!(
                "metadata {i}: partial flags and the unparsed strings of its note disagree"
            ));
        }
    }
    if next != notes.len() {
        return bad(format!(
            "metadata note {next}: not sorted by metadata id, or the id is out of range"
        ));
    }
    Ok(())
}
