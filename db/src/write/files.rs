//! Files and releases: which files are kept, the stored stem of each name, and the file
//! columns and release streams they go into.

use std::collections::HashMap;

use pinion_pep::WheelFilename;
use zerocopy::little_endian::U32;

use super::prepare::{PreparedFile, PreparedRelease};
use super::{WriteError, WriteStats, Writer, sparse, to_u32};
use crate::layout::{self, TagSetRec};
use crate::model::{self, FileKind};

/// Wheels pinion can install somewhere Nix runs. Windows-only wheels (`win32`,
/// `win_amd64`, ...) and exotic platforms are dropped: they are a large share of PyPI's files
/// and can never be chosen.
pub(super) fn installable_platform(tag: &str) -> bool {
    tag == "any"
        || ["linux", "manylinux", "musllinux", "macosx"]
            .iter()
            .any(|p| tag.starts_with(p))
}

/// The wheel's filename without `-{python}-{abi}-{platform}.whl` (tags as written): the
/// database stores this stem and rebuilds the name from the tag set.
pub(super) fn wheel_stem<'a>(filename: &'a str, w: &WheelFilename) -> Option<&'a str> {
    let suffix = format!(
        "-{}-{}-{}.whl",
        w.python_tags.join("."),
        w.abi_tags.join("."),
        w.platform_tags.join(".")
    );
    filename.strip_suffix(&suffix)
}

/// A kept file, with its parsed name when it is a wheel.
pub(super) type Kept<'f> = (&'f model::File, Option<WheelFilename>);

/// The stem stored for a file and its sdist extension code (see `layout::FILE_EXT_SHIFT`).
pub(super) fn stem<'f>(f: &'f model::File, wheel: Option<&WheelFilename>) -> (&'f str, u8) {
    if let Some(w) = wheel {
        let stem = wheel_stem(&f.filename, w)
            .expect("classify() keeps only wheels whose names end with their tags");
        return (stem, 0);
    }
    match layout::sdist_extension_code(&f.filename) {
        0 => (&f.filename, 0),
        code => {
            let ext = layout::SDIST_EXTENSIONS[usize::from(code) - 1];
            (&f.filename[..f.filename.len() - ext.len()], code)
        }
    }
}

/// The project's most common stem prefix: what precedes `-{version}` in its files' stems
/// (ties go to the byte-wise smallest, for determinism). Files whose stem is
/// `{prefix}-{version}` then store no stem string at all.
pub(super) fn stem_prefix(releases: &[(String, Vec<Kept<'_>>)]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (version, files) in releases {
        let suffix = format!("-{version}");
        for (f, wheel) in files {
            if let Some(prefix) = stem(f, wheel.as_ref()).0.strip_suffix(&suffix) {
                *counts.entry(prefix).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .filter(|(p, _)| !p.is_empty())
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(p, _)| p.to_string())
}

/// The files of `r` the database keeps, sorted by filename (with what was dropped counted in
/// `stats`), or `None` when none is kept.
pub(super) fn classify<'f>(
    stats: &mut WriteStats,
    p: &model::Project,
    r: &'f model::Release,
) -> Result<Option<Vec<Kept<'f>>>, WriteError> {
    let mut files: Vec<Kept<'f>> = Vec::with_capacity(r.files.len());
    for f in &r.files {
        match f.kind {
            FileKind::Other => stats.dropped_other += 1,
            _ if f.url.is_empty() => stats.dropped_no_url += 1,
            FileKind::Sdist => files.push((f, None)),
            FileKind::Wheel => match WheelFilename::parse(&f.filename) {
                Err(_) => stats.dropped_bad_wheel_name += 1,
                Ok(w) if !w.platform_tags.iter().any(|t| installable_platform(t)) => {
                    stats.dropped_platform += 1
                }
                Ok(w) if wheel_stem(&f.filename, &w).is_none() => stats.dropped_bad_wheel_name += 1,
                Ok(w) => files.push((f, Some(w))),
            },
        }
    }
    if files.is_empty() {
        stats.dropped_empty_releases += 1;
        return Ok(None);
    }
    files.sort_by(|a, b| a.0.filename.cmp(&b.0.filename));
    for pair in files.windows(2) {
        if pair[0].0.filename == pair[1].0.filename {
            return Err(WriteError::DuplicateFile {
                project: p.name.clone(),
                filename: pair[0].0.filename.clone(),
            });
        }
    }
    Ok(Some(files))
}

impl Writer {
    pub(super) fn add_release(&mut self, r: &PreparedRelease) -> Result<(), WriteError> {
        for f in &r.files {
            self.add_file(f)?;
        }
        let rel = &mut self.releases;
        layout::put_varint(&mut rel.versions, r.version.len() as u64);
        rel.versions.extend_from_slice(r.version.as_bytes());
        layout::put_varint(&mut rel.versions, r.files.len() as u64);
        layout::put_varint(&mut rel.times, r.time_code);
        rel.count += 1;
        Ok(())
    }

    /// Interns `f`'s strings in the order the format's ids are defined by, and appends its
    /// columns.
    fn add_file(&mut self, f: &PreparedFile) -> Result<(), WriteError> {
        let url = self.strings.opt(f.url.as_deref())?;
        let mut tagset = 0;
        if let Some(tags) = &f.tags {
            let key = [
                self.strings.id(&tags[0])?,
                self.strings.id(&tags[1])?,
                self.strings.id(&tags[2])?,
            ];
            tagset = match self.tagset_ids.get(&key) {
                Some(&id) => id,
                None => {
                    self.tagsets.push(TagSetRec {
                        python: U32::new(key[0]),
                        abi: U32::new(key[1]),
                        platform: U32::new(key[2]),
                    });
                    let id = to_u32(self.tagsets.len(), "tag set count")?;
                    self.tagset_ids.insert(key, id);
                    id
                }
            };
        }
        let metadata = self.metadata(f.metadata.as_ref())?;
        let name = self.strings.opt(f.name.as_deref())?;
        let c = &mut self.files;
        let index = to_u32(c.flags.len(), "file count")?;
        sparse(&mut c.names, index, name);
        c.flags.push(f.flags);
        c.tagsets.push(U32::new(tagset));
        c.requires_python
            .push(U32::new(self.strings.opt(f.requires_python.as_deref())?));
        c.metadata.push(U32::new(metadata));
        let reason = self.strings.opt(f.yanked_reason.as_deref())?;
        sparse(&mut c.yanked_reasons, index, reason);
        sparse(&mut c.urls, index, url);
        c.hashes.push(f.hashes);
        Ok(())
    }
}
