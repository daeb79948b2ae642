-- pinion crawl state, schema version 2.
-- Written by `crawler`, read by `dbgen`. Documented in crawler/SCHEMA.md; any change bumps
-- `meta.schema_version` and readers refuse versions they do not know.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
-- keys: schema_version ('2'), index_url, last_serial (max project serial seen),
--       last_sync_started_at / last_sync_finished_at (unix seconds)

CREATE TABLE IF NOT EXISTS projects (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,   -- PEP 503 normalized
    display_name  TEXT NOT NULL,          -- as the index spells it
    last_serial   INTEGER,                -- index `_last-serial` at the last page fetch
    synced_serial INTEGER,                -- serial whose files are all processed; NULL = never
    page_fetched_at INTEGER,              -- unix seconds
    removed_at    INTEGER                 -- the index answered 404 for its page (unix seconds); NULL = listed
) STRICT;

CREATE TABLE IF NOT EXISTS files (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    filename        TEXT NOT NULL UNIQUE,
    url             TEXT NOT NULL,
    version         TEXT NOT NULL,        -- from the filename, as written
    kind            TEXT NOT NULL CHECK (kind IN ('wheel', 'sdist', 'bdist_dumb', 'other')),
    sha256          BLOB CHECK (sha256 IS NULL OR length(sha256) = 32),
    size            INTEGER,
    upload_time     INTEGER,              -- unix seconds, NULL when the index does not say
    requires_python TEXT,                 -- data-requires-python / requires-python from the index
    yanked          INTEGER NOT NULL DEFAULT 0 CHECK (yanked IN (0, 1)),
    yanked_reason   TEXT,
    python_tags     TEXT,                 -- wheels: '.'-joined compressed tag sets, else NULL
    abi_tags        TEXT,
    platform_tags   TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS files_by_project ON files(project_id);

-- One row per file whose metadata was obtained (fully or partially). A file without a row
-- here has not been processed yet.
CREATE TABLE IF NOT EXISTS file_metadata (
    file_id          INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    method           TEXT NOT NULL,   -- 'pep658' | 'range' | 'download'
    metadata_version TEXT,
    name             TEXT,
    version          TEXT,
    requires_python  TEXT,
    provides_extra   TEXT NOT NULL DEFAULT '[]',  -- JSON array of extra names as written
    -- Where each requirement set came from: 'metadata' (wheel METADATA), 'pkg-info',
    -- 'pyproject', 'setup.cfg', 'egg-info', 'setup.py-static', 'setup.py-exec', 'default'
    -- (PEP 517 fallback for sdists without [build-system]: setuptools), or NULL = unknown.
    requires_dist_source TEXT,
    build_requires_source TEXT,
    setup_requires_source TEXT,
    build_backend    TEXT,            -- pyproject [build-system] build-backend
    fetched_at       INTEGER NOT NULL,
    unknown_reason   TEXT,            -- why requires_dist_source is NULL (NULL when known)
    source_decision  TEXT             -- when sources disagreed: which won and why
) STRICT;

-- Requirement strings, raw as found beside their canonical PEP 508 form.
-- kind: 'dist' = Requires-Dist (extras_require become `; extra == "x"` markers),
--       'build' = pyproject [build-system] requires, 'setup' = setup_requires.
CREATE TABLE IF NOT EXISTS requirements (
    file_id   INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('dist', 'build', 'setup')),
    position  INTEGER NOT NULL,
    raw       TEXT NOT NULL,
    canonical TEXT,                   -- NULL when it does not parse
    error     TEXT,                   -- the parse error, NULL when it parses
    PRIMARY KEY (file_id, kind, position)
) STRICT;

-- Per-file failures, kept until the file succeeds. attempts counts tries so a later sync
-- can skip files that keep failing (--retry-failed forces them).
CREATE TABLE IF NOT EXISTS file_errors (
    file_id       INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    stage         TEXT NOT NULL,      -- 'fetch' | 'hash' | 'archive' | 'metadata' | 'parse'
    message       TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL
) STRICT;

-- Raw results of running setup.py in the sandbox (issue 6), one row per interpreter.
-- The merged outcome is written to `requirements` with source 'setup.py-exec'; where
-- interpreters disagree, requirements get `python_version` markers (see crawler/SCHEMA.md).
CREATE TABLE IF NOT EXISTS setup_py_runs (
    file_id          INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    python           TEXT NOT NULL,    -- interpreter 'X.Y'
    status           TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    install_requires TEXT,             -- JSON array as recorded
    setup_requires   TEXT,
    extras_require   TEXT,             -- JSON object extra -> array
    python_requires  TEXT,
    error            TEXT,
    stderr_tail      TEXT,
    ran_at           INTEGER NOT NULL,
    cause            TEXT,             -- failed runs: classified cause (crawler/SCHEMA.md)
    PRIMARY KEY (file_id, python)
) STRICT;
