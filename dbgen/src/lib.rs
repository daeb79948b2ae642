//! dbgen turns pinion's crawl state (SQLite) into the binary database the resolver reads
//! offline, packs it as a deterministic `.tar.xz` with a manifest, and inspects/verifies
//! databases. The format itself (layout, writer, reader, tarball) lives in `pinion_db`; this
//! crate loads the crawl state into a [`pinion_db::model::Universe`] and drives the writer.

pub mod inspect;
pub mod state;
pub mod synth;

use std::path::Path;

use pinion_db::{BuildOptions, WriteError, WriteStats, Writer, Written, tarball};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("the database just written does not open: {0}")]
    Reopen(#[from] pinion_db::DbError),
    #[error("packing the tarball: {0}")]
    Tarball(#[from] std::io::Error),
}

/// The result of [`build`]: the published tarball, the raw database inside it, its hash
/// shards (index = shard number), and what was skipped on the way.
pub struct Built {
    pub tarball: Vec<u8>,
    /// NAR sha256 (hex) of the tree the tarball unpacks to: the pin `builtins.fetchTarball`
    /// checks (`data-format.md`, *Publication*).
    pub nar_sha256: String,
    pub db: Vec<u8>,
    pub shards: Vec<Vec<u8>>,
    pub load: state::LoadStats,
    pub write: WriteStats,
}

/// `dbgen build`: crawl state → tarball. `created_at` defaults to the state's
/// `meta.last_sync_finished_at`, so the output is a function of the state alone.
pub fn build(
    state_path: &Path,
    created_at: Option<i64>,
    shard_count: Option<u32>,
) -> Result<Built, BuildError> {
    let reader = state::StateReader::open(state_path)?;
    let created_at = created_at
        .or(reader.finished_at)
        .ok_or(state::StateError::NoCreatedAt)?;
    let mut writer = Writer::new();
    let mut load = state::LoadStats::default();
    reader.for_each_project(&mut load, |p| {
        writer.add_project(p).map_err(BuildError::from)
    })?;
    let (written, write) = writer.finish(
        &reader.index_url,
        reader.last_serial,
        &BuildOptions {
            created_at,
            shard_count,
        },
    )?;
    let Written { db, shards } = written;
    // Reopening checks what was written and yields the header facts for the manifest.
    let database = pinion_db::Database::from_bytes(db)?;
    let info = database.info();
    let db = database.into_bytes();
    let tarball = tarball::build_tarball(&db, &info)?;
    let nar_sha256 = tarball::nar_sha256(&db, &info);
    Ok(Built {
        tarball,
        nar_sha256,
        db,
        shards,
        load,
        write,
    })
}
