//! Crawl state (SQLite, `crawler/schema.sql`, schema version 2) ↔ [`Universe`].
//!
//! Reading walks the projects in stored (id) order (`files_by_project` and the requirements
//! primary key give the per-project rows, one query each per project), parks them in a
//! temporary file and hands them to the caller in name order ([`park`], [`spill`]), so
//! `dbgen build` holds a few hundred projects in memory at most besides the database being
//! written. Files are grouped into releases by PEP 440 version equality (`1.0` and `1.0.0`
//! are one release, named by the normalized version); files of a project with identical
//! metadata share one `Arc<Metadata>` ([`metadata`]). Writing exists for tests and the
//! synthetic benchmark.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pep440_rs::Version;
use pinion_pep::{ProjectName, SdistFilename, WheelFilename};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

mod metadata;
mod park;
mod spill;
use metadata::ReqRows;

use pinion_db::model::{File, FileKind, Project, Release, Universe};

pub const SCHEMA_SQL: &str = include_str!("../../../crawler/schema.sql");
pub const SCHEMA_VERSION: &str = "2";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("crawl state {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "crawl state schema {0} unknown (dbgen reads {SCHEMA_VERSION})\nhint: a version 1 state is migrated in place by any `crawler` command that opens it, e.g. `crawler coverage --state PATH`"
    )]
    Schema(String),
    #[error(
        "writing or reading back the projects read from the crawl state, in a temporary file in `{dir}`: {source}\nhint: it takes about a seventh of the state's size (4.2 GB at PyPI's scale); point TMPDIR at a directory with room"
    )]
    Spill { dir: String, source: std::io::Error },
    #[error("crawl state has no meta.last_sync_finished_at; pass --created-at")]
    NoCreatedAt,
    #[error("crawl state meta.{key} = {value:?} is not an integer")]
    BadMeta { key: &'static str, value: String },
    #[error("crawl state file {filename:?}: {message}")]
    BadFile { filename: String, message: String },
    #[error(
        "crawl state file `{filename}`: requirement row of unknown kind `{kind}` (expected dist, build or setup)\nhint: the state is damaged or from another tool; re-crawl the project"
    )]
    UnknownRequirementKind { filename: String, kind: String },
}

/// Longest version kept: real PyPI versions are under 64 bytes; a longer one is a damaged or
/// hostile row, and would be copied into every lock that names the file.
pub const MAX_VERSION_LEN: usize = 128;

/// What reading the state skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub files: u64,
    /// Requirement rows whose `canonical` is NULL (they did not parse when crawled): kept
    /// as the *unparsed* strings of a partial set.
    pub partial_requirements: u64,
    /// Projects marked removed from the index (`projects.removed_at`), left out.
    pub skipped_removed_projects: u64,
    pub skipped_no_sha256: u64,
    /// Files whose version is not PEP 440 (cannot be ordered, so never resolvable) or is
    /// longer than [`MAX_VERSION_LEN`].
    pub skipped_bad_version: u64,
    /// Files whose name is not a wheel or sdist name of their own project and version.
    pub skipped_bad_filename: u64,
    /// Files with a negative size.
    pub skipped_bad_size: u64,
}

/// An open crawl state whose schema version has been checked.
pub struct StateReader {
    conn: Connection,
    file: PathBuf,
    /// `file` as error messages show it.
    path: String,
    pub index_url: String,
    pub last_serial: u64,
    /// meta.last_sync_finished_at, the default created-at.
    pub finished_at: Option<i64>,
}

pub struct Loaded {
    pub universe: Universe,
    pub finished_at: Option<i64>,
    pub stats: LoadStats,
}

const FILES_SQL: &str = "SELECT f.id, f.filename, f.url, f.version, f.kind, f.sha256, f.size, f.upload_time,
        f.requires_python, f.yanked, f.yanked_reason,
        m.file_id, m.requires_python, m.provides_extra, m.requires_dist_source,
        m.build_requires_source, m.setup_requires_source, m.build_backend, m.unknown_reason
    FROM files f LEFT JOIN file_metadata m ON m.file_id = f.id WHERE f.project_id = ?1 ORDER BY f.id";

/// A project's requirement rows, in one query rather than one per file (a full-scale state
/// has ≈ 17 M files): in file id order like [`FILES_SQL`], so both are walked side by side.
const REQS_SQL: &str = "SELECT r.file_id, r.kind, r.canonical, r.raw
    FROM files f JOIN requirements r ON r.file_id = f.id
    WHERE f.project_id = ?1 ORDER BY f.id, r.kind, r.position";

impl StateReader {
    pub fn open(path: &Path) -> Result<StateReader, StateError> {
        let p = path.display().to_string();
        let conn = open_read_only(path, &p)?;
        let mut r = StateReader {
            conn,
            file: path.to_path_buf(),
            path: p,
            index_url: String::new(),
            last_serial: 0,
            finished_at: None,
        };
        match r.meta("schema_version")? {
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) => return Err(StateError::Schema(v)),
            None => return Err(StateError::Schema("(none)".into())),
        }
        r.index_url = r
            .meta("index_url")?
            .unwrap_or_else(|| "https://pypi.org/simple/".to_string());
        r.last_serial = r.meta_int("last_serial")?.unwrap_or(0).max(0) as u64;
        r.finished_at = r.meta_int("last_sync_finished_at")?;
        Ok(r)
    }

    fn sql(&self, source: rusqlite::Error) -> StateError {
        StateError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))
    }

    fn meta_int(&self, key: &'static str) -> Result<Option<i64>, StateError> {
        self.meta(key)?
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .map_err(|_| StateError::BadMeta { key, value })
            })
            .transpose()
    }

    /// How many projects the state lists (removed ones included).
    pub fn project_count(&self) -> Result<u64, StateError> {
        self.conn
            .query_row("SELECT count(*) FROM projects", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0).unsigned_abs())
            .map_err(|e| self.sql(e))
    }
}

fn sql_error(shown: &str) -> impl Fn(rusqlite::Error) -> StateError + '_ {
    move |source| StateError::Sqlite {
        path: shown.to_string(),
        source,
    }
}

fn open_read_only(file: &Path, shown: &str) -> Result<Connection, StateError> {
    // Each connection stays on one thread: SQLite's per-call mutexes are not needed.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags).map_err(sql_error(shown))?;
    // SQLite's default 2 MiB page cache re-reads the upper levels of a full-scale state's
    // B-trees (≈ 30 GB) with a system call each time.
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(sql_error(shown))?;
    Ok(conn)
}

/// Page cache of each reading connection, in KiB.
const CACHE_KIB: i64 = 64 << 10;

/// The project of row `r` of the projects query, `None` when it is marked removed.
fn project(
    shown: &str,
    r: &Row<'_>,
    files: &mut rusqlite::Statement<'_>,
    reqs: &mut rusqlite::Statement<'_>,
    stats: &mut LoadStats,
) -> Result<Option<Project>, StateError> {
    let sql = sql_error(shown);
    let id: i64 = r.get(0).map_err(&sql)?;
    if r.get::<_, bool>(3).map_err(&sql)? {
        stats.skipped_removed_projects += 1;
        return Ok(None);
    }
    let name: String = r.get(1).map_err(&sql)?;
    let project = ProjectName::new(&name).map_err(|e| StateError::BadFile {
        filename: String::new(),
        message: format!("project name {name:?}: {e}"),
    })?;
    let mut releases: BTreeMap<Version, Vec<File>> = BTreeMap::new();
    let mut shared = metadata::Shared::default();
    let mut reqs = ReqRows::read(reqs, id, &sql)?;
    let mut frows = files.query([id]).map_err(&sql)?;
    while let Some(fr) = frows.next().map_err(&sql)? {
        stats.files += 1;
        if let Some((version, file)) = file(shown, &project, fr, &mut reqs, &mut shared, stats)? {
            releases.entry(version).or_default().push(file);
        }
    }
    let releases = releases
        .into_iter()
        .map(|(v, files)| Release {
            version: v.to_string(),
            files,
        })
        .collect();
    Ok(Some(Project {
        name,
        display_name: r.get(2).map_err(&sql)?,
        releases,
    }))
}

fn file(
    shown: &str,
    project: &ProjectName,
    r: &Row<'_>,
    reqs: &mut ReqRows,
    shared: &mut metadata::Shared,
    stats: &mut LoadStats,
) -> Result<Option<(Version, File)>, StateError> {
    let sql = sql_error(shown);
    let id: i64 = r.get(0).map_err(&sql)?;
    let filename: String = r.get(1).map_err(&sql)?;
    let version: String = r.get(3).map_err(&sql)?;
    let parsed = match version.parse::<Version>() {
        Ok(v) if version.len() <= MAX_VERSION_LEN => v,
        _ => {
            tracing::warn!(%filename, len = version.len(), "skipped: version is not PEP 440 or too long");
            stats.skipped_bad_version += 1;
            return Ok(None);
        }
    };
    let sha: Option<Vec<u8>> = r.get(5).map_err(&sql)?;
    let Some(sha256) = sha.and_then(|s| <[u8; 32]>::try_from(s).ok()) else {
        stats.skipped_no_sha256 += 1;
        return Ok(None);
    };
    let kind = match text(r, 4).map_err(&sql)? {
        "wheel" => FileKind::Wheel,
        "sdist" => FileKind::Sdist,
        _ => FileKind::Other,
    };
    if kind != FileKind::Other && !names_own_release(&filename, kind, project, &parsed) {
        tracing::warn!(%filename, %project, %version, "skipped: not a file name of this project and version");
        stats.skipped_bad_filename += 1;
        return Ok(None);
    }
    let size: Option<i64> = r.get(6).map_err(&sql)?;
    if size.is_some_and(|s| s < 0) {
        tracing::warn!(%filename, ?size, "skipped: negative size");
        stats.skipped_bad_size += 1;
        return Ok(None);
    }
    let has_metadata: Option<i64> = r.get(11).map_err(&sql)?;
    let metadata = match has_metadata {
        None => None,
        Some(_) => Some(metadata::of_file(
            &filename,
            r,
            reqs.of(id),
            shared,
            stats,
            &sql,
        )?),
    };
    let file = File {
        url: r.get(2).map_err(&sql)?,
        kind,
        sha256,
        size: size.map(|s| s.unsigned_abs()),
        upload_time: r.get(7).map_err(&sql)?,
        requires_python: r.get(8).map_err(&sql)?,
        yanked: r.get::<_, i64>(9).map_err(&sql)? != 0,
        yanked_reason: r.get(10).map_err(&sql)?,
        metadata,
        filename,
    };
    Ok(Some((parsed, file)))
}

/// Column `i` of `row` as text, borrowed (no allocation per row for the columns that are only
/// compared).
fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(i)?.as_str().map_err(|_| not_text(row, i))
}

/// Column `i` of `row` as text or NULL, borrowed.
fn opt_text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    row.get_ref(i)?
        .as_str_or_null()
        .map_err(|_| not_text(row, i))
}

/// What is not UTF-8 text gets rusqlite's own error (column, type).
fn not_text(row: &Row<'_>, i: usize) -> rusqlite::Error {
    row.get::<_, String>(i)
        .err()
        .unwrap_or(rusqlite::Error::InvalidColumnIndex(i))
}

/// Whether `filename` is a wheel or sdist of `project` at `version` (PEP 440 equality: the
/// crawler takes the version from the file name, so any difference means a damaged row).
fn names_own_release(
    filename: &str,
    kind: FileKind,
    project: &ProjectName,
    version: &Version,
) -> bool {
    let (name, file_version) = match kind {
        FileKind::Wheel => match WheelFilename::parse(filename) {
            Ok(w) => (w.name, w.version),
            Err(_) => return false,
        },
        FileKind::Sdist => match SdistFilename::parse(filename, project) {
            Ok(s) => (s.name, s.version),
            Err(_) => return false,
        },
        FileKind::Other => return true,
    };
    ProjectName::new(&name).is_ok_and(|n| n == *project)
        && file_version.parse::<Version>().is_ok_and(|v| v == *version)
}

/// Reads a whole crawl state into a universe (tests and small states; `dbgen build` streams).
pub fn load(path: &Path) -> Result<Loaded, StateError> {
    let reader = StateReader::open(path)?;
    let mut stats = LoadStats::default();
    let mut projects = Vec::new();
    reader.for_each_project(
        &mut stats,
        &mut |_| {},
        |p| p,
        |p| {
            projects.push(p.clone());
            Ok::<(), StateError>(())
        },
    )?;
    let universe = Universe {
        index_url: reader.index_url.clone(),
        last_serial: reader.last_serial,
        projects,
    };
    Ok(Loaded {
        universe,
        finished_at: reader.finished_at,
        stats,
    })
}

/// Writes `universe` as a fresh crawl state (every file processed) to `conn`.
pub fn save(universe: &Universe, finished_at: i64, conn: &mut Connection) -> rusqlite::Result<()> {
    let Universe {
        index_url,
        last_serial,
        projects,
    } = universe;
    save_projects(index_url, *last_serial, projects, finished_at, conn)
}

/// [`save`] for projects that come one at a time (a full-scale synthetic universe does not
/// fit in memory).
pub fn save_projects<P: Borrow<Project>>(
    index_url: &str,
    last_serial: u64,
    projects: impl IntoIterator<Item = P>,
    finished_at: i64,
    conn: &mut Connection,
) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA_SQL)?;
    let tx = conn.transaction()?;
    {
        let mut meta = tx.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
        meta.execute(params!["schema_version", SCHEMA_VERSION])?;
        meta.execute(params!["index_url", index_url])?;
        meta.execute(params!["last_serial", last_serial.to_string()])?;
        meta.execute(params!["last_sync_started_at", finished_at.to_string()])?;
        meta.execute(params!["last_sync_finished_at", finished_at.to_string()])?;
        let mut proj = tx.prepare("INSERT INTO projects (name, display_name, last_serial, synced_serial) VALUES (?1, ?2, 0, 0)")?;
        let mut file = tx.prepare(
            "INSERT INTO files (project_id, filename, url, version, kind, sha256, size, upload_time, requires_python,
                                yanked, yanked_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut fm = tx.prepare(
            "INSERT INTO file_metadata (file_id, method, requires_python, provides_extra, requires_dist_source,
                                        build_requires_source, setup_requires_source, build_backend, fetched_at,
                                        unknown_reason)
             VALUES (?1, 'pep658', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut req = tx.prepare(
            "INSERT INTO requirements (file_id, kind, position, raw, canonical) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in projects {
            let p = p.borrow();
            proj.execute(params![p.name, p.display_name])?;
            let pid = tx.last_insert_rowid();
            for r in &p.releases {
                for f in &r.files {
                    let kind = match f.kind {
                        FileKind::Wheel => "wheel",
                        FileKind::Sdist => "sdist",
                        FileKind::Other => "other",
                    };
                    file.execute(params![
                        pid,
                        f.filename,
                        f.url,
                        r.version,
                        kind,
                        &f.sha256[..],
                        f.size.map(|s| s as i64),
                        f.upload_time,
                        f.requires_python,
                        f.yanked as i64,
                        f.yanked_reason
                    ])?;
                    let fid = tx.last_insert_rowid();
                    let Some(m) = &f.metadata else { continue };
                    let extras =
                        serde_json::to_string(&m.provides_extra).expect("strings serialize");
                    fm.execute(params![
                        fid,
                        m.requires_python,
                        extras,
                        m.requires_dist.source,
                        m.build_requires.source,
                        m.setup_requires.source,
                        m.build_backend,
                        finished_at,
                        m.unknown_reason
                    ])?;
                    for (kind, set) in [
                        ("dist", &m.requires_dist),
                        ("build", &m.build_requires),
                        ("setup", &m.setup_requires),
                    ] {
                        let rows = set.requirements.iter().map(|r| (r, Some(r)));
                        let bad = set.unparsed.iter().map(|r| (r, None));
                        for (i, (raw, canonical)) in rows.chain(bad).enumerate() {
                            req.execute(params![fid, kind, i as i64, raw, canonical])?;
                        }
                    }
                }
            }
        }
    }
    tx.commit()
}
