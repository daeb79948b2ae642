//! Full verification: every checksum, every id in range, every ordering invariant the reader
//! relies on for speed (sorted names for binary search, newest-first releases). `open` skips
//! this because it reads the whole file; `dbgen verify` and the resolver's `--verify` run it.

use std::collections::HashSet;

use zerocopy::FromBytes;
use zerocopy::little_endian::U32;

use super::layout::{
    self, FileRec, MetadataRec, ProjectRec, ReleaseRec, RequirementRec, SectionEntry, SectionKind,
    TagSetRec,
};
use super::{Database, DbError};

fn bad(msg: String) -> Result<(), DbError> {
    Err(DbError::Invariant(msg))
}

pub(super) fn verify(db: &Database) -> Result<(), DbError> {
    checksums_and_padding(db)?;
    let c = db.info.counts;
    tables(db)?;
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
    for (i, r) in db
        .records::<RequirementRec>(SectionKind::Requirements)
        .iter()
        .enumerate()
    {
        let what = format!("requirement {i}");
        str_id(r.name.get(), &what)?;
        str_id(r.marker.get(), &what)?;
        let name = db.string(r.name.get());
        if pinion_pep::ProjectName::new(name).map(|n| n.as_str() == name) != Ok(true) {
            return bad(format!("{what}: name {name:?} is not normalized"));
        }
        list_of(r.extras.get(), &what, &string_ok)?;
        list_of(r.specifiers.get(), &what, &|_| true)?;
        let specs = db.list(r.specifiers.get());
        if !specs.len().is_multiple_of(2) {
            return bad(format!("{what}: odd specifier list"));
        }
        for pair in specs.chunks_exact(2) {
            if layout::operator_from_code(pair[0].get()).is_none() {
                return bad(format!("{what}: unknown operator code {}", pair[0].get()));
            }
            str_id(pair[1].get(), &what)?;
        }
    }
    let mut reqsets = HashSet::new();
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
        for (list, source) in sets {
            str_id(source, &what)?;
            list_of(list, &what, &|id| id < c.requirements)?;
            if source == 0 && list != 0 {
                return bad(format!("{what}: an unknown requirement set has members"));
            }
            reqsets.insert(list);
        }
        list_of(m.provides_extra.get(), &what, &string_ok)?;
        str_id(m.requires_python.get(), &what)?;
        str_id(m.build_backend.get(), &what)?;
        if m.flags.get() & !layout::META_HAS_BUILD_SYSTEM != 0 {
            return bad(format!("{what}: unknown flag bits"));
        }
    }
    if reqsets.len() as u64 != c.reqsets as u64 {
        return bad(format!(
            "header says {} requirement sets, metadata uses {}",
            c.reqsets,
            reqsets.len()
        ));
    }
    projects_releases_files(db)
}

fn checksums_and_padding(db: &Database) -> Result<(), DbError> {
    let bytes = db.bytes();
    for s in db.sections() {
        let section = bytes.get(s.range.clone()).unwrap_or(&[]);
        if crc32fast::hash(section) != s.crc32 {
            return Err(DbError::Checksum(format!("section {}", s.kind.name())));
        }
    }
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

fn projects_releases_files(db: &Database) -> Result<(), DbError> {
    let c = db.info.counts;
    let str_id = |id: u32, what: &dyn Fn() -> String| -> Result<(), DbError> {
        if id < c.strings {
            Ok(())
        } else {
            bad(format!("{}: string id {id} out of range", what()))
        }
    };
    let projects = db.records::<ProjectRec>(SectionKind::Projects);
    let releases = db.records::<ReleaseRec>(SectionKind::Releases);
    let files = db.records::<FileRec>(SectionKind::Files);
    let (mut next_release, mut next_file) = (0u64, 0u64);
    let mut prev_name: Option<&str> = None;
    for (pi, p) in projects.iter().enumerate() {
        let pwhat = || format!("project {pi}");
        str_id(p.name.get(), &pwhat)?;
        str_id(p.display_name.get(), &pwhat)?;
        let name = db.string(p.name.get());
        let pwhat = || format!("project {pi} ({name:?})");
        if pinion_pep::ProjectName::new(name).map(|n| n.as_str() == name) != Ok(true) {
            return bad(format!("{}: name is not normalized", pwhat()));
        }
        if prev_name.is_some_and(|prev| prev.as_bytes() >= name.as_bytes()) {
            return bad(format!("{}: name index not strictly sorted", pwhat()));
        }
        prev_name = Some(name);
        if p.first_release.get() as u64 != next_release {
            return bad(format!("{}: releases are not contiguous", pwhat()));
        }
        next_release += p.release_count.get() as u64;
        if next_release > releases.len() as u64 {
            return bad(format!("{}: release range out of bounds", pwhat()));
        }
        let mut prev_version: Option<pep440_rs::Version> = None;
        for ri in p.first_release.get()..next_release as u32 {
            let r = &releases[ri as usize];
            let rwhat = || format!("{}, release {ri}", pwhat());
            str_id(r.version.get(), &rwhat)?;
            str_id(r.yanked_reason.get(), &rwhat)?;
            let vs = db.string(r.version.get());
            let Ok(v) = vs.parse::<pep440_rs::Version>() else {
                return bad(format!("{}: version {vs:?} is not PEP 440", rwhat()));
            };
            if prev_version.as_ref().is_some_and(|prev| *prev <= v) {
                return bad(format!("{}: releases not newest-first at {vs}", rwhat()));
            }
            prev_version = Some(v);
            if r.first_file.get() as u64 != next_file || r.file_count.get() == 0 {
                return bad(format!("{}: files are not contiguous or empty", rwhat()));
            }
            next_file += r.file_count.get() as u64;
            if next_file > files.len() as u64 {
                return bad(format!("{}: file range out of bounds", rwhat()));
            }
            let range = r.first_file.get() as usize..next_file as usize;
            let mut min_time = layout::NO_TIME;
            let mut all_yanked = true;
            let mut prev_filename: Option<&str> = None;
            for fi in range {
                let f = &files[fi];
                let fwhat = || format!("{}, file {fi}", rwhat());
                file(db, f, &fwhat)?;
                let filename = db.string(f.filename.get());
                if prev_filename.is_some_and(|p| p >= filename) {
                    return bad(format!("{}: files not sorted by filename", fwhat()));
                }
                prev_filename = Some(filename);
                let t = f.upload_time.get();
                if t != layout::NO_TIME && (min_time == layout::NO_TIME || t < min_time) {
                    min_time = t;
                }
                all_yanked &= f.flags.get() & layout::FILE_YANKED != 0;
            }
            if r.upload_time.get() != min_time {
                return bad(format!(
                    "{}: upload time is not the minimum of its files'",
                    rwhat()
                ));
            }
            if (r.flags.get() & layout::RELEASE_YANKED != 0) != all_yanked
                || r.flags.get() & !layout::RELEASE_YANKED != 0
            {
                return bad(format!("{}: yanked flag disagrees with its files", rwhat()));
            }
        }
    }
    if next_release != releases.len() as u64 || next_file != files.len() as u64 {
        return bad("some releases or files belong to no project".into());
    }
    Ok(())
}

fn file(db: &Database, f: &FileRec, what: &dyn Fn() -> String) -> Result<(), DbError> {
    let c = db.info.counts;
    for id in [
        f.filename.get(),
        f.url.get(),
        f.requires_python.get(),
        f.yanked_reason.get(),
    ] {
        if id >= c.strings {
            return bad(format!("{}: string id {id} out of range", what()));
        }
    }
    if f.filename.get() == 0 {
        return bad(format!("{}: empty filename", what()));
    }
    if f.metadata.get() >= c.metadata {
        return bad(format!("{}: metadata id out of range", what()));
    }
    let wheel = f.flags.get() & layout::FILE_WHEEL != 0;
    if f.flags.get() & !(layout::FILE_WHEEL | layout::FILE_YANKED) != 0 {
        return bad(format!("{}: unknown flag bits", what()));
    }
    if wheel != (f.tagset.get() != 0) || f.tagset.get() > c.tagsets {
        return bad(format!(
            "{}: tag set does not match the file kind or is out of range",
            what()
        ));
    }
    Ok(())
}
