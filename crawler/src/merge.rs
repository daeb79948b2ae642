//! Sharded crawls: `--shard i/N` picks the projects whose normalized name hashes to `i`, and
//! `crawler merge` combines shard states into one. The hash is FNV-1a (64-bit) of the PEP 503
//! name — stable across platforms, Rust versions and runs, unlike `std`'s hasher.

use std::path::Path;

use crate::state::{SCHEMA_VERSION, State, StateError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("--shard {0:?}: expected I/N with 0 <= I < N, e.g. 0/4")]
    BadShard(String),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("merging {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("shard {0} does not exist")]
    Missing(String),
    #[error("{path} has schema version {found:?}; only version {SCHEMA_VERSION:?} can be merged")]
    WrongVersion { path: String, found: String },
}

impl std::str::FromStr for Shard {
    type Err = MergeError;
    fn from_str(s: &str) -> Result<Shard, MergeError> {
        let bad = || MergeError::BadShard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the project with this normalized name belongs to the shard.
    pub fn contains(&self, normalized: &str) -> bool {
        fnv1a(normalized.as_bytes()) % u64::from(self.count) == u64::from(self.index)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Copies every shard into `out` (created if needed, and locked like a sync's state). Rows are
/// matched by project name and filename, so ids may differ between shards; on overlap the first
/// shard given wins. Every shard is checked before `out` is touched; each is then copied in one
/// transaction, and copying again changes nothing, so an interrupted merge is finished by
/// running it again.
pub fn merge(out: &Path, shards: &[&Path]) -> Result<(), MergeError> {
    for shard in shards {
        check_shard(shard)?;
    }
    let state = State::open(out)?;
    let conn = state.connection();
    for shard in shards {
        let path = shard.display().to_string();
        let sql = |source| MergeError::Sqlite {
            path: path.clone(),
            source,
        };
        conn.execute("ATTACH DATABASE ?1 AS s", [&path])
            .map_err(sql)?;
        conn.execute_batch(MERGE_SQL).map_err(sql)?;
        conn.execute("DETACH DATABASE s", []).map_err(sql)?;
    }
    Ok(())
}

/// A shard must exist and have this crawler's schema version.
fn check_shard(shard: &Path) -> Result<(), MergeError> {
    let path = shard.display().to_string();
    if !shard.is_file() {
        return Err(MergeError::Missing(path));
    }
    let sql = |source| MergeError::Sqlite {
        path: path.clone(),
        source,
    };
    let conn =
        rusqlite::Connection::open_with_flags(shard, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql)?;
    let found: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if found != SCHEMA_VERSION {
        return Err(MergeError::WrongVersion { path, found });
    }
    Ok(())
}

const MERGE_SQL: &str = "
BEGIN;
INSERT OR IGNORE INTO projects(name, display_name, last_serial, synced_serial, page_fetched_at, removed_at)
    SELECT name, display_name, last_serial, synced_serial, page_fetched_at, removed_at FROM s.projects ORDER BY name;
INSERT OR IGNORE INTO files(project_id, filename, url, version, kind, sha256, size, upload_time, requires_python,
        yanked, yanked_reason, python_tags, abi_tags, platform_tags)
    SELECT p.id, f.filename, f.url, f.version, f.kind, f.sha256, f.size, f.upload_time, f.requires_python,
        f.yanked, f.yanked_reason, f.python_tags, f.abi_tags, f.platform_tags
    FROM s.files f JOIN s.projects sp ON sp.id = f.project_id JOIN main.projects p ON p.name = sp.name
    ORDER BY f.filename;
CREATE TEMP TABLE file_map AS
    SELECT sf.id AS old, mf.id AS new FROM s.files sf JOIN main.files mf ON mf.filename = sf.filename;
INSERT OR IGNORE INTO file_metadata(file_id, method, metadata_version, name, version, requires_python, provides_extra,
        requires_dist_source, build_requires_source, setup_requires_source, build_backend, fetched_at,
        unknown_reason, source_decision)
    SELECT m.new, x.method, x.metadata_version, x.name, x.version, x.requires_python, x.provides_extra,
        x.requires_dist_source, x.build_requires_source, x.setup_requires_source, x.build_backend, x.fetched_at,
        x.unknown_reason, x.source_decision
    FROM s.file_metadata x JOIN file_map m ON m.old = x.file_id ORDER BY m.new;
INSERT OR IGNORE INTO requirements(file_id, kind, position, raw, canonical, error)
    SELECT m.new, r.kind, r.position, r.raw, r.canonical, r.error
    FROM s.requirements r JOIN file_map m ON m.old = r.file_id
    WHERE m.new IN (SELECT file_id FROM main.file_metadata) ORDER BY m.new, r.kind, r.position;
INSERT OR IGNORE INTO file_errors(file_id, stage, message, attempts, last_attempt_at)
    SELECT m.new, e.stage, e.message, e.attempts, e.last_attempt_at
    FROM s.file_errors e JOIN file_map m ON m.old = e.file_id
    WHERE m.new NOT IN (SELECT file_id FROM main.file_metadata) ORDER BY m.new;
INSERT OR IGNORE INTO setup_py_runs(file_id, python, status, install_requires, setup_requires, extras_require,
        python_requires, error, stderr_tail, ran_at, cause)
    SELECT m.new, r.python, r.status, r.install_requires, r.setup_requires, r.extras_require,
        r.python_requires, r.error, r.stderr_tail, r.ran_at, r.cause
    FROM s.setup_py_runs r JOIN file_map m ON m.old = r.file_id ORDER BY m.new, r.python;
INSERT INTO meta(key, value) SELECT key, value FROM s.meta WHERE key IN ('index_url')
    ON CONFLICT(key) DO NOTHING;
INSERT INTO meta(key, value) SELECT 'last_serial', CAST(max(CAST(value AS INTEGER)) AS TEXT) FROM (
        SELECT value FROM main.meta WHERE key = 'last_serial' UNION ALL SELECT value FROM s.meta WHERE key = 'last_serial')
    WHERE EXISTS (SELECT 1 FROM s.meta WHERE key = 'last_serial')
    ON CONFLICT(key) DO UPDATE SET value = excluded.value;
DROP TABLE file_map;
COMMIT;
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_names() {
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        for name in ["requests", "numpy", "a", "zope-interface", "x-y-z"] {
            assert_eq!(
                shards.iter().filter(|s| s.contains(name)).count(),
                1,
                "{name}"
            );
        }
        // Stable: fixed by the FNV-1a definition, not by the process.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        for bad in ["4/4", "1", "a/b", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
