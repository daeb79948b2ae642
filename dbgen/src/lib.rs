//! dbgen turns pinion's crawl state (SQLite) into the binary database the resolver reads
//! offline, packs it as a deterministic `.tar.xz` with a manifest, and inspects/verifies
//! databases. The format itself (layout, writer, reader, tarball) lives in `pinion_db`; this
//! crate loads the crawl state into a [`pinion_db::model::Universe`] and drives the writer.

pub mod inspect;
pub mod state;
pub mod synth;

use std::path::Path;
use std::time::Instant;

use pinion_db::{BuildOptions, WriteError, WriteStats, Writer, Written, tarball};
pub use tarball::Packed;

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

/// A database written but not packed yet: [`Unpacked::pack`] compresses it, which at PyPI
/// scale takes as long as everything before it, so `dbgen build` writes the raw database
/// and the shards to disk meanwhile.
pub struct Unpacked {
    pub db: Vec<u8>,
    pub shards: Vec<Vec<u8>>,
    pub load: state::LoadStats,
    pub write: WriteStats,
    info: pinion_db::DbInfo,
}

/// `dbgen build`: crawl state → tarball. `created_at` defaults to the state's
/// `meta.last_sync_finished_at`, so the output is a function of the state alone.
pub fn build(
    state_path: &Path,
    created_at: Option<i64>,
    shard_count: Option<u32>,
) -> Result<Built, BuildError> {
    let unpacked = write(state_path, created_at, shard_count, &mut |_| {})?;
    let Packed {
        tarball,
        nar_sha256,
    } = unpacked.pack()?;
    let Unpacked {
        db,
        shards,
        load,
        write,
        ..
    } = unpacked;
    Ok(Built {
        tarball,
        nar_sha256,
        db,
        shards,
        load,
        write,
    })
}

/// How far [`write`] has come, for a progress display (`dbgen build` draws a bar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Reading starts: the state lists this many projects.
    Reading { projects: u64 },
    /// This many projects have been read.
    Read { projects: u64 },
    /// Every project has been read; they are being written in name order.
    Writing,
    /// This many projects have been written.
    Written { projects: u64 },
    /// Every project is in; the sections and shards are being laid out.
    LayingOut,
}

/// The first half of [`build`]: reads the state and writes the database and its shards,
/// telling `progress` how far it has come.
pub fn write(
    state_path: &Path,
    created_at: Option<i64>,
    shard_count: Option<u32>,
    progress: &mut dyn FnMut(Step),
) -> Result<Unpacked, BuildError> {
    let start = Instant::now();
    let reader = state::StateReader::open(state_path)?;
    let created_at = created_at
        .or(reader.finished_at)
        .ok_or(state::StateError::NoCreatedAt)?;
    progress(Step::Reading {
        projects: reader.project_count()?,
    });
    let mut writer = Writer::new();
    let mut load = state::LoadStats::default();
    // Reading reports before writing starts, so the two never borrow `progress` at once.
    let progress = std::cell::RefCell::new(progress);
    let mut logged = 0;
    let mut read = |projects| {
        (progress.borrow_mut())(Step::Read { projects });
        if projects >= logged + (64 << 10) {
            logged = projects;
            tracing::debug!(projects, seconds = start.elapsed().as_secs_f64(), "reading");
        }
    };
    let mut written = 0;
    let prepare = |p: pinion_db::model::Project| Writer::prepare(&p);
    reader.for_each_project(&mut load, &mut read, prepare, |p| {
        if written == 0 {
            (progress.borrow_mut())(Step::Writing);
        }
        writer.add_prepared(p).map_err(BuildError::from)?;
        written += 1;
        if written % 1024 == 0 {
            (progress.borrow_mut())(Step::Written { projects: written });
        }
        Ok::<(), BuildError>(())
    })?;
    let progress = progress.into_inner();
    progress(Step::LayingOut);
    tracing::info!(
        seconds = start.elapsed().as_secs_f64(),
        files = load.files,
        "read the crawl state"
    );
    let laying_out = Instant::now();
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
    tracing::info!(
        seconds = laying_out.elapsed().as_secs_f64(),
        bytes = db.len(),
        "laid out the database and its shards"
    );
    Ok(Unpacked {
        db,
        shards,
        load,
        write,
        info,
    })
}

impl Unpacked {
    /// The deterministic tarball and the NAR hash of its tree.
    pub fn pack(&self) -> Result<Packed, BuildError> {
        let start = Instant::now();
        let packed = tarball::pack(&self.db, &self.info)?;
        tracing::info!(
            seconds = start.elapsed().as_secs_f64(),
            bytes = packed.tarball.len(),
            "packed the tarball"
        );
        Ok(packed)
    }
}
