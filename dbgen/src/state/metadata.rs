//! A file's metadata from its `file_metadata` row and its requirement rows, shared between
//! the files of a project that have the same.
//!
//! Most files repeat the metadata of the file read before them (a release's wheels, and
//! releases that keep their requirements), so a file is first compared, without allocating,
//! with the previous one; only a file that differs is built and looked up among the
//! project's others. At PyPI scale (≈ 200 M requirement rows) building every file's
//! metadata only to find it again was most of the reading's allocations.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use pinion_db::model::{Metadata, ReqSet};
use rusqlite::Row;

use super::{StateError, opt_text, text};

/// `file_metadata` columns of the files query (`FILES_SQL`).
const REQUIRES_PYTHON: usize = 12;
const PROVIDES_EXTRA: usize = 13;
/// The sources of requires_dist, build_requires and setup_requires, in the order of
/// [`KINDS`].
const SOURCES: [usize; 3] = [14, 15, 16];
const BUILD_BACKEND: usize = 17;
const UNKNOWN_REASON: usize = 18;

/// Requirement kinds as the state spells them, in the order of [`SOURCES`].
const KINDS: [&str; 3] = ["dist", "build", "setup"];

/// A requirement row of `REQS_SQL`.
pub(super) struct ReqRow {
    file_id: i64,
    /// Index into [`KINDS`], or the unknown kind as found.
    kind: Result<usize, String>,
    /// Whether `text` is the canonical form (else the raw string, which did not parse).
    canonical: bool,
    /// The requirement's text in [`ReqRows::text`].
    text: Range<usize>,
}

/// A project's requirement rows, taken file by file in file id order; their text in one
/// buffer.
pub(super) struct ReqRows {
    rows: Vec<ReqRow>,
    text: String,
    next: usize,
}

/// One file's requirement rows.
pub(super) struct FileReqs<'a> {
    rows: &'a [ReqRow],
    text: &'a str,
}

impl ReqRows {
    pub(super) fn read(
        reqs: &mut rusqlite::Statement<'_>,
        project: i64,
        sql: &impl Fn(rusqlite::Error) -> StateError,
    ) -> Result<ReqRows, StateError> {
        let (mut rows, mut buf) = (Vec::new(), String::new());
        let mut q = reqs.query([project]).map_err(sql)?;
        while let Some(row) = q.next().map_err(sql)? {
            let kind = text(row, 1).map_err(sql)?;
            let kind = KINDS
                .iter()
                .position(|k| *k == kind)
                .ok_or_else(|| kind.to_string());
            let canonical = row.get_ref(2).map_err(sql)? != rusqlite::types::ValueRef::Null;
            let start = buf.len();
            buf.push_str(text(row, if canonical { 2 } else { 3 }).map_err(sql)?);
            rows.push(ReqRow {
                file_id: row.get(0).map_err(sql)?,
                kind,
                canonical,
                text: start..buf.len(),
            });
        }
        Ok(ReqRows {
            rows,
            text: buf,
            next: 0,
        })
    }

    /// The rows of file `id`; rows of files before it (skipped files) are passed over.
    pub(super) fn of(&mut self, id: i64) -> FileReqs<'_> {
        while self.rows.get(self.next).is_some_and(|r| r.file_id < id) {
            self.next += 1;
        }
        let start = self.next;
        while self.rows.get(self.next).is_some_and(|r| r.file_id == id) {
            self.next += 1;
        }
        FileReqs {
            rows: &self.rows[start..self.next],
            text: &self.text,
        }
    }
}

impl FileReqs<'_> {
    /// The (canonical, unparsed) strings of kind `k`, in position order.
    fn of_kind(&self, k: usize) -> impl Iterator<Item = (bool, &str)> {
        self.rows
            .iter()
            .filter(move |r| r.kind == Ok(k))
            .map(|r| (r.canonical, &self.text[r.text.clone()]))
    }
}

/// The metadata of a project's files so far: every distinct one, and the last file's with
/// its `provides_extra` JSON as found.
#[derive(Default)]
pub(super) struct Shared {
    all: HashMap<Arc<Metadata>, ()>,
    last: Option<(Arc<Metadata>, String)>,
}

/// The metadata of the file of row `r` whose requirement rows are `reqs`.
pub(super) fn of_file(
    filename: &str,
    r: &Row<'_>,
    reqs: FileReqs<'_>,
    shared: &mut Shared,
    stats: &mut super::LoadStats,
    sql: &impl Fn(rusqlite::Error) -> StateError,
) -> Result<Arc<Metadata>, StateError> {
    for row in reqs.rows {
        // Dropping the row would make the file's requirements look complete when they are
        // not; a schema violation means the state is damaged.
        if let Err(kind) = &row.kind {
            return Err(StateError::UnknownRequirementKind {
                filename: filename.to_string(),
                kind: kind.clone(),
            });
        }
    }
    stats.partial_requirements += reqs.rows.iter().filter(|r| !r.canonical).count() as u64;
    let opt = |i: usize| opt_text(r, i).map_err(sql);
    let extras_json = text(r, PROVIDES_EXTRA).map_err(sql)?;
    if let Some((last, last_json)) = &shared.last
        && *last_json == extras_json
        && last.requires_python.as_deref() == opt(REQUIRES_PYTHON)?
        && last.build_backend.as_deref() == opt(BUILD_BACKEND)?
        && last.unknown_reason.as_deref() == opt(UNKNOWN_REASON)?
        && same_sets(last, &reqs, &opt)?
    {
        return Ok(Arc::clone(last));
    }
    let provides_extra: Vec<String> =
        serde_json::from_str(extras_json).map_err(|e| StateError::BadFile {
            filename: filename.to_string(),
            message: format!("provides_extra is not a JSON array of strings: {e}"),
        })?;
    let mut sets: [ReqSet; 3] = Default::default();
    for (k, set) in sets.iter_mut().enumerate() {
        // An unknown set (no source) is empty whatever rows it has.
        if let Some(source) = opt(SOURCES[k])? {
            set.source = Some(source.to_string());
            for (canonical, text) in reqs.of_kind(k) {
                let list = if canonical {
                    &mut set.requirements
                } else {
                    &mut set.unparsed
                };
                list.push(text.to_string());
            }
        }
    }
    let [requires_dist, build_requires, setup_requires] = sets;
    let build_backend = opt(BUILD_BACKEND)?.map(str::to_string);
    let m = Metadata {
        has_build_system: build_requires.source.as_deref() == Some("pyproject")
            || build_backend.is_some(),
        requires_dist,
        build_requires,
        setup_requires,
        provides_extra,
        requires_python: opt(REQUIRES_PYTHON)?.map(str::to_string),
        build_backend,
        unknown_reason: opt(UNKNOWN_REASON)?.map(str::to_string),
    };
    let arc = match shared.all.get_key_value(&m) {
        Some((k, _)) => Arc::clone(k),
        None => {
            let a = Arc::new(m);
            shared.all.insert(Arc::clone(&a), ());
            a
        }
    };
    shared.last = Some((Arc::clone(&arc), extras_json.to_string()));
    Ok(arc)
}

/// Whether the three requirement sets of `reqs` (with their sources) are `last`'s.
fn same_sets<'r>(
    last: &Metadata,
    reqs: &FileReqs<'_>,
    opt: &impl Fn(usize) -> Result<Option<&'r str>, StateError>,
) -> Result<bool, StateError> {
    let last_sets = [
        &last.requires_dist,
        &last.build_requires,
        &last.setup_requires,
    ];
    for (k, set) in last_sets.into_iter().enumerate() {
        let source = opt(SOURCES[k])?;
        if set.source.as_deref() != source {
            return Ok(false);
        }
        if source.is_none() {
            continue;
        }
        let (mut parsed, mut unparsed) = (set.requirements.iter(), set.unparsed.iter());
        for (canonical, text) in reqs.of_kind(k) {
            let expected = if canonical {
                parsed.next()
            } else {
                unparsed.next()
            };
            if expected.map(String::as_str) != Some(text) {
                return Ok(false);
            }
        }
        if parsed.next().is_some() || unparsed.next().is_some() {
            return Ok(false);
        }
    }
    Ok(true)
}
