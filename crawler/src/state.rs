//! The crawl state: a SQLite database laid out exactly as `crawler/schema.sql` (v2) says.
//!
//! Every mutation that must be atomic (a project page diff, one file's metadata with its
//! requirement rows) runs in one transaction, so a crawler killed at any instant leaves a
//! consistent state that the next run simply continues (see `crawler/SCHEMA.md`).
//!
//! One writer at a time: opening a state takes an advisory lock (`flock`) on `<state>.lock`
//! beside it, held until the [`State`] is dropped, so a second crawler (or `crawler merge`)
//! on the same state stops at once instead of fetching the same files. A new state is
//! created under a temporary name, given its schema, and renamed into place, so a state file
//! that exists always has its schema.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::extract::{Extracted, Sourced};
use crate::simple::IndexFile;

pub const SCHEMA_SQL: &str = include_str!("../schema.sql");
pub const SCHEMA_VERSION: &str = "2";
/// The version [`State::open`] migrates from (in place, one transaction).
const PREVIOUS_SCHEMA_VERSION: &str = "1";
/// Files that failed this many times are skipped unless `--retry-failed`.
pub const MAX_ATTEMPTS: i64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("crawl state {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "crawl state {path} has schema version {found:?}; this crawler only understands version {SCHEMA_VERSION:?}"
    )]
    WrongVersion { path: PathBuf, found: String },
    #[error(
        "crawl state `{}` is in use by another crawler{} (lock `{}`)",
        path.display(),
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        lock.display()
    )]
    Locked {
        path: PathBuf,
        lock: PathBuf,
        holder: Option<u32>,
    },
    #[error("crawl state `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, StateError>;

/// What a page diff changed in the stored file list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageDiff {
    pub added: u64,
    pub removed: u64,
    pub yank_changed: u64,
}

/// A file whose metadata still has to be obtained.
#[derive(Debug, Clone)]
pub struct PendingFile {
    pub id: i64,
    pub filename: String,
    pub url: String,
    pub kind: String,
    pub sha256: Option<[u8; 32]>,
    pub size: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serials {
    pub last: Option<i64>,
    pub synced: Option<i64>,
}

pub struct State {
    conn: Connection,
    path: PathBuf,
    /// The `flock`ed lock file; dropping it (with the state) releases the lock.
    _lock: File,
}

/// What to do when another process holds the state's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLocked {
    Fail,
    Wait,
}

impl State {
    /// Opens (creating if needed) a state database and checks its schema version; fails at
    /// once when another process has it open ([`StateError::Locked`]).
    pub fn open(path: &Path) -> Result<State> {
        State::open_with(path, OnLocked::Fail)
    }

    pub fn open_with(path: &Path, on_locked: OnLocked) -> Result<State> {
        let lock = lock(path, on_locked)?;
        if !path.exists() {
            create(path)?;
        }
        let conn = Connection::open(path).map_err(|e| sql_err(path, e))?;
        let state = State {
            conn,
            path: path.to_path_buf(),
            _lock: lock,
        };
        state.init()?;
        Ok(state)
    }

    fn init(&self) -> Result<()> {
        let c = &self.conn;
        // WAL + NORMAL: a commit is durable against process death (what resumption needs)
        // without an fsync per file.
        c.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.err(e))?;
        c.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.err(e))?;
        c.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| self.err(e))?;
        let has_meta: bool = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))?;
        if has_meta {
            let found: Option<String> = c
                .query_row(
                    "SELECT value FROM meta WHERE key='schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            let found = found.unwrap_or_default();
            if found == PREVIOUS_SCHEMA_VERSION {
                self.migrate_from_v1()?;
            } else if found != SCHEMA_VERSION {
                return Err(StateError::WrongVersion {
                    path: self.path.clone(),
                    found,
                });
            }
        }
        c.execute_batch(SCHEMA_SQL).map_err(|e| self.err(e))?;
        c.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// v1 -> v2: new nullable columns, and `files.kind` may be `bdist_dumb` (a CHECK change,
    /// so the table is rebuilt the way SQLite documents, foreign keys off meanwhile).
    fn migrate_from_v1(&self) -> Result<()> {
        let files_ddl = {
            let start = SCHEMA_SQL
                .find("CREATE TABLE IF NOT EXISTS files (")
                .expect("schema.sql defines files");
            let len = SCHEMA_SQL[start..]
                .find(") STRICT;")
                .expect("schema.sql tables are STRICT")
                + ") STRICT;".len();
            SCHEMA_SQL[start..start + len].replace(
                "CREATE TABLE IF NOT EXISTS files (",
                "CREATE TABLE files_v2 (",
            )
        };
        tracing::info!(
            "migrating crawl state {} from schema v1 to v2",
            self.path.display()
        );
        let c = &self.conn;
        c.pragma_update(None, "foreign_keys", "OFF")
            .map_err(|e| self.err(e))?;
        let migrated = c.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             ALTER TABLE projects ADD COLUMN removed_at INTEGER;
             ALTER TABLE file_metadata ADD COLUMN unknown_reason TEXT;
             ALTER TABLE file_metadata ADD COLUMN source_decision TEXT;
             ALTER TABLE setup_py_runs ADD COLUMN cause TEXT;
             {files_ddl}
             INSERT INTO files_v2 SELECT * FROM files;
             DROP TABLE files;
             ALTER TABLE files_v2 RENAME TO files;
             CREATE INDEX files_by_project ON files(project_id);
             UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version';
             COMMIT;"
        ));
        if migrated.is_err() {
            // Nothing was committed: the state is still a valid v1 state.
            let _ = c.execute_batch("ROLLBACK");
        }
        c.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        migrated.map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StateError {
        sql_err(&self.path, e)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Raises `meta.last_serial` to `serial` if it is higher.
    pub fn bump_last_serial(&self, serial: i64) -> Result<()> {
        let cur = self
            .meta("last_serial")?
            .and_then(|s| s.parse::<i64>().ok());
        if cur.is_none_or(|c| c < serial) {
            self.set_meta("last_serial", &serial.to_string())?;
        }
        Ok(())
    }

    pub fn serials(&self, name: &str) -> Result<Option<Serials>> {
        self.conn
            .query_row(
                "SELECT last_serial, synced_serial FROM projects WHERE name = ?1",
                [name],
                |r| {
                    Ok(Serials {
                        last: r.get(0)?,
                        synced: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Replaces the stored file list of a project with `files` (the index page, already
    /// filtered), in one transaction: new files inserted, vanished files deleted (their
    /// metadata cascades), yank status updated. Returns the project id and the diff.
    pub fn apply_page(
        &mut self,
        name: &str,
        display_name: &str,
        serial: Option<i64>,
        now: i64,
        files: &[IndexFile],
    ) -> Result<(i64, PageDiff)> {
        let path = self.path.clone();
        let e = |e| sql_err(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "INSERT INTO projects(name, display_name, last_serial, page_fetched_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET display_name = excluded.display_name,
                 last_serial = excluded.last_serial, page_fetched_at = excluded.page_fetched_at,
                 removed_at = NULL",
            params![name, display_name, serial, now],
        )
        .map_err(e)?;
        let project_id: i64 = tx
            .query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .map_err(e)?;
        let mut existing: HashMap<String, (i64, bool, Option<String>)> = HashMap::new();
        {
            let mut st = tx
                .prepare_cached(
                    "SELECT id, filename, yanked, yanked_reason FROM files WHERE project_id = ?1",
                )
                .map_err(e)?;
            let rows = st
                .query_map([project_id], |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        (r.get(0)?, r.get::<_, i64>(2)? != 0, r.get(3)?),
                    ))
                })
                .map_err(e)?;
            for row in rows {
                let (k, v) = row.map_err(e)?;
                existing.insert(k, v);
            }
        }
        let mut diff = PageDiff::default();
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO files(project_id, filename, url, version, kind, sha256, size, upload_time,
                        requires_python, yanked, yanked_reason, python_tags, abi_tags, platform_tags)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                     ON CONFLICT(filename) DO UPDATE SET project_id = excluded.project_id, url = excluded.url",
                )
                .map_err(e)?;
            let mut upd = tx
                .prepare_cached(
                    "UPDATE files SET yanked = ?2, yanked_reason = ?3, url = ?4 WHERE id = ?1",
                )
                .map_err(e)?;
            for f in files {
                match existing.remove(&f.filename) {
                    Some((id, yanked, reason)) => {
                        if yanked != f.yanked || reason != f.yanked_reason {
                            diff.yank_changed += 1;
                        }
                        upd.execute(params![id, f.yanked as i64, f.yanked_reason, f.url])
                            .map_err(e)?;
                    }
                    None => {
                        let (kind, version, tags) = f.classify(name);
                        let [py, abi, plat] = tags.map_or([None, None, None], |t| t.map(Some));
                        ins.execute(params![
                            project_id,
                            f.filename,
                            f.url,
                            version,
                            kind,
                            f.sha256.map(|h| h.to_vec()),
                            f.size,
                            f.upload_time,
                            f.requires_python,
                            f.yanked as i64,
                            f.yanked_reason,
                            py,
                            abi,
                            plat
                        ])
                        .map_err(e)?;
                        diff.added += 1;
                    }
                }
            }
            let mut del = tx
                .prepare_cached("DELETE FROM files WHERE id = ?1")
                .map_err(e)?;
            for (id, _, _) in existing.values() {
                del.execute([id]).map_err(e)?;
                diff.removed += 1;
            }
        }
        tx.commit().map_err(e)?;
        Ok((project_id, diff))
    }

    /// Files of a project still lacking metadata. Only wheels and sdists carry metadata we
    /// can read; other kinds are recorded but never fetched.
    pub fn pending_files(
        &self,
        project_id: i64,
        retry_failed: bool,
    ) -> Result<(Vec<PendingFile>, u64)> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT f.id, f.filename, f.url, f.kind, f.sha256, f.size, coalesce(e.attempts, 0)
                 FROM files f LEFT JOIN file_metadata m ON m.file_id = f.id
                 LEFT JOIN file_errors e ON e.file_id = f.id
                 WHERE f.project_id = ?1 AND m.file_id IS NULL AND f.kind IN ('wheel', 'sdist')
                 ORDER BY f.filename",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([project_id], |r| {
                let sha: Option<Vec<u8>> = r.get(4)?;
                Ok((
                    PendingFile {
                        id: r.get(0)?,
                        filename: r.get(1)?,
                        url: r.get(2)?,
                        kind: r.get(3)?,
                        sha256: sha.and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok()),
                        size: r.get(5)?,
                    },
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let (mut out, mut skipped) = (Vec::new(), 0);
        for row in rows {
            let (f, attempts) = row.map_err(|e| self.err(e))?;
            if attempts >= MAX_ATTEMPTS && !retry_failed {
                skipped += 1;
            } else {
                out.push(f);
            }
        }
        Ok((out, skipped))
    }

    /// Records one file's metadata, its requirement rows, and clears its error — atomically.
    pub fn record_success(
        &mut self,
        file_id: i64,
        method: &str,
        x: &Extracted,
        setup_py_runs: &[pinion_setuppy::Run],
        now: i64,
    ) -> Result<()> {
        let path = self.path.clone();
        let e = |e| sql_err(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let src = |s: &Option<Sourced<Vec<String>>>| s.as_ref().map(|s| s.source.as_str());
        tx.prepare_cached(
            "INSERT OR REPLACE INTO file_metadata(file_id, method, metadata_version, name, version, requires_python,
                provides_extra, requires_dist_source, build_requires_source, setup_requires_source, build_backend, fetched_at,
                unknown_reason, source_decision)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut st| st.execute(params![
                file_id,
                method,
                x.metadata_version,
                x.name,
                x.version,
                x.requires_python.as_ref().map(|s| &s.value),
                serde_json::to_string(&x.provides_extra).unwrap_or_else(|_| "[]".into()),
                src(&x.requires_dist),
                src(&x.build_requires),
                src(&x.setup_requires),
                x.build_backend,
                now,
                x.unknown_reason,
                x.decision
            ]))
        .map_err(e)?;
        tx.prepare_cached("DELETE FROM requirements WHERE file_id = ?1")
            .and_then(|mut st| st.execute([file_id]))
            .map_err(e)?;
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO requirements(file_id, kind, position, raw, canonical, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(e)?;
            for (kind, set) in [
                ("dist", &x.requires_dist),
                ("build", &x.build_requires),
                ("setup", &x.setup_requires),
            ] {
                for (pos, raw) in set.iter().flat_map(|s| s.value.iter()).enumerate() {
                    let (canonical, error) = match pinion_pep::canonical_requirement(raw) {
                        Ok(c) => (Some(c), None),
                        Err(err) => (None, Some(err.to_string())),
                    };
                    ins.execute(params![file_id, kind, pos as i64, raw, canonical, error])
                        .map_err(e)?;
                }
            }
        }
        if !setup_py_runs.is_empty() {
            // Same transaction: a crash never leaves a file marked processed without the
            // setup.py results that were computed for it.
            record_setup_py(&tx, file_id, x.requires_txt.as_ref(), setup_py_runs).map_err(e)?;
        }
        tx.prepare_cached("DELETE FROM file_errors WHERE file_id = ?1")
            .and_then(|mut st| st.execute([file_id]))
            .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Records what the file turned out to be (a `bdist_dumb` archive named like an sdist):
    /// it then carries no metadata and is never fetched again.
    pub fn set_kind(&self, file_id: i64, kind: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE files SET kind = ?2 WHERE id = ?1",
                params![file_id, kind],
            )
            .map(drop)
            .map_err(|e| self.err(e))?;
        self.conn
            .execute("DELETE FROM file_errors WHERE file_id = ?1", [file_id])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A known project whose page now answers 404/410: kept with its files (history), but
    /// marked so dbgen leaves it out. A later successful page fetch clears the mark.
    pub fn mark_removed(&self, name: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE projects SET removed_at = ?2 WHERE name = ?1 AND removed_at IS NULL",
                params![name, now],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The project's page answered again: it is back on the index.
    pub fn mark_listed(&self, name: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE projects SET removed_at = NULL WHERE name = ?1 AND removed_at IS NOT NULL",
                [name],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn record_failure(&self, file_id: i64, stage: &str, message: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO file_errors(file_id, stage, message, attempts, last_attempt_at) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT(file_id) DO UPDATE SET stage = excluded.stage, message = excluded.message,
                     attempts = attempts + 1, last_attempt_at = excluded.last_attempt_at",
                params![file_id, stage, message, now],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records setup.py runs for a file already in the state (`crawler setup-py`), in one
    /// transaction; true when its requires_dist is now known.
    pub fn record_setup_py_runs(
        &mut self,
        file_id: i64,
        runs: &[pinion_setuppy::Run],
    ) -> Result<bool> {
        let path = self.path.clone();
        let e = |e| sql_err(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        record_setup_py(&tx, file_id, None, runs).map_err(e)?;
        let known: bool = tx
            .query_row(
                "SELECT requires_dist_source IS NOT NULL FROM file_metadata WHERE file_id = ?1",
                [file_id],
                |r| r.get(0),
            )
            .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(known)
    }

    /// Marks the project synced at `serial` when none of its fetchable files lacks metadata.
    pub fn mark_synced_if_complete(&self, project_id: i64, serial: Option<i64>) -> Result<bool> {
        let missing: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM files f LEFT JOIN file_metadata m ON m.file_id = f.id
                 WHERE f.project_id = ?1 AND m.file_id IS NULL AND f.kind IN ('wheel', 'sdist')",
                [project_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if missing == 0 {
            self.conn
                .execute(
                    "UPDATE projects SET synced_serial = ?2 WHERE id = ?1",
                    params![project_id, serial],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(missing == 0)
    }

    /// Canonical requirement strings of a project's files (what `--follow-deps` follows).
    pub fn project_requirements(&self, name: &str) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT r.canonical FROM requirements r JOIN files f ON f.id = r.file_id
                 JOIN projects p ON p.id = f.project_id WHERE p.name = ?1 AND r.canonical IS NOT NULL
                 ORDER BY r.canonical",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([name], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<Vec<String>, _>>()
            .map_err(|e| self.err(e))
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// `<state>.lock`, the file whose `flock` marks the state as in use.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Takes the state's lock and writes our pid into the lock file for whoever finds it taken.
/// The lock file stays after the lock is released: removing it would let two processes lock
/// two different files of the same name.
fn lock(path: &Path, on_locked: OnLocked) -> Result<File> {
    let lock = lock_path(path);
    let io = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) if on_locked == OnLocked::Wait => {
            tracing::info!("waiting for the crawler holding {}", lock.display());
            file.lock().map_err(io)?;
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(StateError::Locked {
                path: path.to_path_buf(),
                lock,
                holder: text.trim().parse().ok(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(file)
}

/// Creates a state with its schema under a temporary name beside `path`, then moves it there.
fn create(path: &Path) -> Result<()> {
    let io = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = pinion_pep::output::temp_beside(path).map_err(io)?;
    {
        // Rollback journal, not WAL, so that closing leaves one self-contained file to rename.
        let conn = Connection::open(tmp.path()).map_err(|e| sql_err(path, e))?;
        conn.execute_batch(SCHEMA_SQL)
            .map_err(|e| sql_err(path, e))?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION],
        )
        .map_err(|e| sql_err(path, e))?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    Ok(())
}

fn sql_err(path: &Path, source: rusqlite::Error) -> StateError {
    StateError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// Records setup.py runs (`pinion_setuppy::record`), then the state's own judgement: the
/// classified cause of each failed run, and — when the run succeeded and an egg-info
/// `requires.txt` had been set aside — whether they agreed and which one won.
pub(crate) fn record_setup_py(
    tx: &Connection,
    file_id: i64,
    requires_txt: Option<&(Vec<String>, Vec<String>)>,
    runs: &[pinion_setuppy::Run],
) -> rusqlite::Result<()> {
    pinion_setuppy::record(tx, file_id, runs)?;
    let mut cause = tx
        .prepare_cached("UPDATE setup_py_runs SET cause = ?3 WHERE file_id = ?1 AND python = ?2")?;
    for run in runs {
        if let Err(e) = &run.outcome {
            cause.execute(params![
                file_id,
                run.python,
                pinion_setuppy::classify_failure(e)
            ])?;
        }
    }
    let merged = pinion_setuppy::merge_runs(runs);
    let (reason, decision) = match (&merged, requires_txt) {
        (Some(m), Some((txt, _))) if crate::extract::same_requirements(&m.requires_dist, txt) => (
            None,
            Some("setup.py run agrees with requires.txt".to_string()),
        ),
        (Some(_), Some(_)) => (
            None,
            Some(
                "setup.py-exec used: requires.txt differs, and setup.py computes its \
                 requirements from the build environment"
                    .to_string(),
            ),
        ),
        (Some(_), None) => (None, None),
        (None, _) => {
            let causes: Vec<&str> = runs
                .iter()
                .filter_map(|r| r.outcome.as_ref().err())
                .map(pinion_setuppy::classify_failure)
                .collect();
            (
                Some(format!("setup.py run failed: {}", causes.join(", "))),
                None,
            )
        }
    };
    let mut stand_ins: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .flat_map(|rec| rec.stand_ins.iter().map(String::as_str))
        .collect();
    stand_ins.sort_unstable();
    stand_ins.dedup();
    let decision = match (decision, stand_ins.is_empty()) {
        (decision, true) => decision,
        (decision, false) => {
            let note = format!(
                "setup.py run with empty stand-ins for prose files the sdist does not ship \
                 (long_description only): {}",
                stand_ins.join(", ")
            );
            Some(match decision {
                Some(d) => format!("{d}; {note}"),
                None => note,
            })
        }
    };
    tx.prepare_cached(
        "UPDATE file_metadata SET unknown_reason = CASE WHEN requires_dist_source IS NULL THEN ?2 ELSE NULL END,
             source_decision = coalesce(?3, source_decision) WHERE file_id = ?1",
    )?
    .execute(params![file_id, reason, decision])?;
    Ok(())
}
