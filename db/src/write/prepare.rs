//! The part of adding a project that does not depend on the projects written before it:
//! parsing and ordering its releases, choosing the files kept, their stored stems, tag
//! strings and URL digests, and the release times. [`Writer::prepare`] needs no writer, so
//! `dbgen build` runs it on the threads that hand the projects over while the writer, which
//! must take them one at a time in name order, only interns and appends.

use std::sync::Arc;

use pep440_rs::Version;
use pinion_pep::ProjectName;

use super::files::{Kept, classify, stem, stem_prefix};
use super::{WriteError, WriteStats, Writer};
use crate::layout;
use crate::model::{self, Metadata};

/// A project ready for [`Writer::add_prepared`].
pub struct Prepared {
    pub(super) name: String,
    /// What is wrong with the project, if anything: reported when it is added, after the
    /// order check, as [`Writer::add_project`] does.
    pub(super) body: Result<Body, WriteError>,
}

pub(super) struct Body {
    pub(super) display_name: String,
    pub(super) stem_prefix: Option<String>,
    /// Newest first, only releases with a kept file.
    pub(super) releases: Vec<PreparedRelease>,
    /// Files and releases dropped, and files kept.
    pub(super) stats: WriteStats,
}

pub(super) struct PreparedRelease {
    /// Normalized.
    pub(super) version: String,
    /// The release-times stream's entry (`data-format.md`).
    pub(super) time_code: u64,
    /// Sorted by filename.
    pub(super) files: Vec<PreparedFile>,
}

pub(super) struct PreparedFile {
    pub(super) flags: u8,
    /// The URL, when it is not files.pythonhosted.org's for the file's name and `digest`.
    pub(super) url: Option<String>,
    /// sha256, then the URL digest (zero when `url` is stored).
    pub(super) hashes: [u8; 64],
    /// A wheel's python, abi and platform tags, each `.`-joined.
    pub(super) tags: Option<[String; 3]>,
    /// The stored stem; `None` when it is `{stem prefix}-{version}`.
    pub(super) name: Option<String>,
    pub(super) requires_python: Option<String>,
    pub(super) yanked_reason: Option<String>,
    pub(super) metadata: Option<Arc<Metadata>>,
}

impl Writer {
    /// The order-independent part of [`Writer::add_project`], on any thread.
    pub fn prepare(p: &model::Project) -> Prepared {
        Prepared {
            name: p.name.clone(),
            body: body(p),
        }
    }
}

fn body(p: &model::Project) -> Result<Body, WriteError> {
    if ProjectName::new(&p.name).map(|n| n.into_string() == p.name) != Ok(true) {
        return Err(WriteError::BadName(p.name.clone()));
    }
    let mut releases = Vec::with_capacity(p.releases.len());
    for r in &p.releases {
        let v: Version = r.version.parse().map_err(|_| WriteError::BadVersion {
            project: p.name.clone(),
            version: r.version.clone(),
        })?;
        releases.push((v, r));
    }
    releases.sort_by(|a, b| b.0.cmp(&a.0));
    for pair in releases.windows(2) {
        if pair[0].0 == pair[1].0 {
            let (a, b) = (pair[0].1.version.clone(), pair[1].1.version.clone());
            return Err(WriteError::DuplicateRelease {
                project: p.name.clone(),
                a,
                b,
            });
        }
    }
    let mut stats = WriteStats::default();
    let mut kept = Vec::with_capacity(releases.len());
    for (version, r) in releases {
        if let Some(files) = classify(&mut stats, p, r)? {
            kept.push((version.to_string(), files));
        }
    }
    let prefix = stem_prefix(&kept);
    let mut prev_time = 0;
    let releases = kept
        .iter()
        .map(|(version, files)| {
            stats.files_kept += files.len() as u64;
            release(version, files, prefix.as_deref(), &mut prev_time)
        })
        .collect::<Result<_, _>>()?;
    Ok(Body {
        display_name: p.display_name.clone(),
        stem_prefix: prefix,
        releases,
        stats,
    })
}

/// `prev_time`: the project's previous known upload time, the base of the next delta.
fn release(
    version: &str,
    files: &[Kept<'_>],
    stem_prefix: Option<&str>,
    prev_time: &mut i64,
) -> Result<PreparedRelease, WriteError> {
    let upload_time = files.iter().filter_map(|(f, _)| f.upload_time).min();
    let time_code = match upload_time {
        None => 0,
        Some(t) => t
            .checked_sub(*prev_time)
            .map(layout::zigzag)
            .and_then(|z| z.checked_add(1))
            .ok_or_else(|| WriteError::TimeSpan {
                filename: files[0].0.filename.clone(),
            })?,
    };
    if let Some(t) = upload_time {
        *prev_time = t;
    }
    let implied = stem_prefix.map(|p| format!("{p}-{version}"));
    Ok(PreparedRelease {
        version: version.to_string(),
        time_code,
        files: files
            .iter()
            .map(|(f, wheel)| file(f, wheel.as_ref(), implied.as_deref()))
            .collect(),
    })
}

fn file(
    f: &model::File,
    wheel: Option<&pinion_pep::WheelFilename>,
    implied_stem: Option<&str>,
) -> PreparedFile {
    let (url, digest) = match layout::pythonhosted_digest(&f.url, &f.filename) {
        Some(d) => (None, d),
        None => (Some(f.url.clone()), [0; 32]),
    };
    let mut flags = if f.yanked { layout::FILE_YANKED } else { 0 };
    let (name, code) = stem(f, wheel);
    flags |= code << layout::FILE_EXT_SHIFT;
    let tags = wheel.map(|w| {
        flags |= layout::FILE_WHEEL;
        [
            w.python_tags.join("."),
            w.abi_tags.join("."),
            w.platform_tags.join("."),
        ]
    });
    let mut hashes = [0u8; 64];
    hashes[..32].copy_from_slice(&f.sha256);
    hashes[32..].copy_from_slice(&digest);
    PreparedFile {
        flags,
        url,
        hashes,
        tags,
        name: (implied_stem != Some(name)).then(|| name.to_string()),
        requires_python: f.requires_python.clone(),
        yanked_reason: f.yanked_reason.clone(),
        metadata: f.metadata.clone(),
    }
}
