//! Writes setup.py runs into the crawl state database (`crawler/schema.sql`): the raw
//! per-interpreter rows, and, when at least one run succeeded, the merged requirements with
//! source `setup.py-exec`.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, params};

use crate::{Run, merge_runs};

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .expect("serializing strings, lists and maps of strings cannot fail")
}

/// Records `runs` for `file_id` atomically (a savepoint, so it also works inside a
/// transaction the caller holds). Earlier `setup_py_runs` rows of the file are replaced;
/// `requirements` of kind `dist` and `setup` are replaced only when a run succeeded, so a
/// failed re-run never erases known requirements.
pub fn record(conn: &Connection, file_id: i64, runs: &[Run]) -> Result<(), rusqlite::Error> {
    conn.execute_batch("SAVEPOINT pinion_setuppy_record")?;
    match write(conn, file_id, runs) {
        Ok(()) => conn.execute_batch("RELEASE pinion_setuppy_record"),
        Err(e) => {
            // The original error matters more than a failure to roll back.
            let _ = conn
                .execute_batch("ROLLBACK TO pinion_setuppy_record; RELEASE pinion_setuppy_record");
            Err(e)
        }
    }
}

fn write(tx: &Connection, file_id: i64, runs: &[Run]) -> Result<(), rusqlite::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    tx.execute("DELETE FROM setup_py_runs WHERE file_id = ?1", [file_id])?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO setup_py_runs (file_id, python, status, install_requires, setup_requires, \
             extras_require, python_requires, error, stderr_tail, ran_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for run in runs {
            match &run.outcome {
                Ok(rec) => insert.execute(params![
                    file_id,
                    run.python,
                    "ok",
                    json(&rec.install_requires),
                    json(&rec.setup_requires),
                    json(&rec.extras_require),
                    rec.python_requires,
                    None::<String>,
                    None::<String>,
                    now
                ])?,
                Err(e) => insert.execute(params![
                    file_id,
                    run.python,
                    "error",
                    None::<String>,
                    None::<String>,
                    None::<String>,
                    None::<String>,
                    format!("{}: {}", e.kind.as_str(), e.message),
                    e.stderr_tail,
                    now
                ])?,
            };
        }
    }
    if let Some(merged) = merge_runs(runs) {
        tx.execute(
            "DELETE FROM requirements WHERE file_id = ?1 AND kind IN ('dist', 'setup')",
            [file_id],
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO requirements (file_id, kind, position, raw, canonical, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (kind, list) in [
            ("dist", &merged.requires_dist),
            ("setup", &merged.setup_requires),
        ] {
            for (position, raw) in list.iter().enumerate() {
                let (canonical, error) = match pinion_pep::canonical_requirement(raw) {
                    Ok(c) => (Some(c), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                insert.execute(params![
                    file_id,
                    kind,
                    position as i64,
                    raw,
                    canonical,
                    error
                ])?;
            }
        }
        drop(insert);
        let first = runs.iter().find_map(|r| r.outcome.as_ref().ok());
        tx.execute(
            "INSERT INTO file_metadata (file_id, method, name, version, requires_python, provides_extra, \
             requires_dist_source, setup_requires_source, fetched_at) \
             VALUES (?1, 'download', ?2, ?3, ?4, ?5, 'setup.py-exec', 'setup.py-exec', ?6) \
             ON CONFLICT(file_id) DO UPDATE SET \
             requires_dist_source = 'setup.py-exec', setup_requires_source = 'setup.py-exec', \
             name = COALESCE(name, excluded.name), version = COALESCE(version, excluded.version), \
             requires_python = COALESCE(requires_python, excluded.requires_python), \
             provides_extra = CASE WHEN provides_extra = '[]' THEN excluded.provides_extra ELSE provides_extra END",
            params![
                file_id,
                first.and_then(|r| r.name.clone()),
                first.and_then(|r| r.version.clone()),
                merged.requires_python,
                json(&merged.provides_extra),
                now
            ],
        )?;
    }
    Ok(())
}
