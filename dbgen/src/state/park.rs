//! [`StateReader::for_each_project`]: the state read in stored order, the projects handed
//! over in name order.
//!
//! 1. *Parking.* [`READERS`] threads walk the projects by id — the order in which a crawl
//!    inserts a project and, mostly, its files and requirement rows, so the tables are read
//!    nearly front to back — each taking every [`READERS`]th chunk of [`CHUNK`] projects,
//!    and append each project's [`spill`] encoding to a temporary file of its own.
//! 2. *Handing over.* The parked projects are sorted by name; [`READERS`] threads decode
//!    every [`READERS`]th chunk of that order and the calling thread takes the chunks back in
//!    order, so the caller sees exactly the sequence one thread would give it.
//!
//! Why not read in name order directly: see [`spill`]. The cost is the encoding and decoding
//! (a few percent of the reading) and a temporary file of about a seventh of the state's size
//! (4.2 GB for the 30.6 GB full-scale synthetic state).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use pinion_db::model::Project;

use super::{LoadStats, StateError, StateReader, open_read_only, project, spill, sql_error};

/// Projects per unit of work of a thread: large enough that channel traffic is negligible,
/// small enough that a bounded queue of them holds little memory.
const CHUNK: usize = 64;
/// Threads reading the crawl state, and then decoding the parked projects: more than the 2
/// cores `dbgen build` is measured on, because a full-scale state does not fit in the page
/// cache and a reader spends some of its time waiting for the disk.
const READERS: usize = 4;
/// Encoded projects a parking thread collects before writing them out.
const WRITE_BUFFER: usize = 4 << 20;

/// Where a parked project is: file `file` (the parking thread's), `len` bytes at `offset`.
struct Parked {
    name: Box<str>,
    file: usize,
    offset: u64,
    len: usize,
}

/// Consecutive projects decoded (and prepared) by one thread; `error` ends the handing over
/// after `projects`.
struct Chunk<T> {
    projects: Vec<T>,
    error: Option<StateError>,
}

impl StateReader {
    /// Calls `f` with `prepare` of every project, in byte order of the normalized name, after
    /// calling `read` with the number of projects read so far every [`CHUNK`] projects.
    /// `prepare` runs on the handing-over threads: what it does is off the calling thread.
    ///
    /// The whole state is read before `f` sees the first project: a damaged row stops the
    /// build before anything is written, with the error of the first damaged project in the
    /// state's stored order.
    pub fn for_each_project<T: Send, E: From<StateError>>(
        &self,
        stats: &mut LoadStats,
        read: &mut dyn FnMut(u64),
        prepare: impl Fn(Project) -> T + Sync,
        mut f: impl FnMut(&T) -> Result<(), E>,
    ) -> Result<(), E> {
        let (files, mut parked) = self.park(stats, read)?;
        parked.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        std::thread::scope(|s| {
            let mut chunks = Vec::with_capacity(READERS);
            let mut used = Vec::with_capacity(READERS);
            for worker in 0..READERS {
                let (tx, rx) = mpsc::sync_channel(2);
                let (used_tx, used_rx) = mpsc::channel();
                let (files, parked, prepare) = (&files, &parked, &prepare);
                s.spawn(move || hand_over(files, parked, worker, prepare, &tx, &used_rx));
                chunks.push(rx);
                used.push(used_tx);
            }
            // A thread that has no chunk `i` has hung up: every project has been handed over
            // (a panic is re-raised when the scope joins it).
            for i in 0.. {
                let Ok(chunk) = chunks[i % READERS].recv() else {
                    break;
                };
                for p in &chunk.projects {
                    f(p)?;
                }
                // Freed by the thread that allocated them: freeing them here (glibc's
                // malloc frees another thread's memory slowly) cost ≈ 20 % more CPU in all.
                let _ = used[i % READERS].send(chunk.projects);
                if let Some(e) = chunk.error {
                    return Err(e.into());
                }
            }
            Ok(())
        })
    }

    /// Phase 1: every listed project encoded into one temporary file per thread.
    fn park(
        &self,
        stats: &mut LoadStats,
        read: &mut dyn FnMut(u64),
    ) -> Result<(Vec<File>, Vec<Parked>), StateError> {
        // The first chunk (in id order) that failed: threads stop past it, and every chunk
        // before it is read, so the error reported is the one a single thread would meet.
        let failed = AtomicUsize::new(usize::MAX);
        let (done_tx, done_rx) = mpsc::channel();
        let results = std::thread::scope(|s| {
            let threads: Vec<_> = (0..READERS)
                .map(|worker| {
                    let (done, failed) = (done_tx.clone(), &failed);
                    let (file, shown) = (&self.file, self.path.as_str());
                    s.spawn(move || park_chunks(file, shown, worker, failed, &done))
                })
                .collect();
            drop(done_tx);
            let mut projects = 0;
            for n in done_rx {
                projects += n;
                read(projects);
            }
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect::<Vec<_>>()
        });
        let mut files = Vec::with_capacity(READERS);
        let mut parked = Vec::new();
        let mut first_error: Option<(usize, StateError)> = None;
        for result in results {
            match result {
                Ok(t) => {
                    stats.add(&t.stats);
                    files.push(t.file);
                    parked.extend(t.parked);
                }
                Err((chunk, e)) => {
                    if first_error.as_ref().is_none_or(|(c, _)| chunk < *c) {
                        first_error = Some((chunk, e));
                    }
                }
            }
        }
        if let Some((_, e)) = first_error {
            return Err(e);
        }
        tracing::info!(
            projects = parked.len(),
            bytes = parked.iter().map(|p| p.len as u64).sum::<u64>(),
            "parked the projects read in temporary files"
        );
        Ok((files, parked))
    }
}

/// What one parking thread did.
struct ParkedBy {
    file: File,
    parked: Vec<Parked>,
    stats: LoadStats,
}

/// Thread `worker` of phase 1: reads chunks `worker`, `worker + READERS`, ... of the projects
/// in id order, telling `done` how many projects each chunk had. Fails with the index of the
/// chunk that failed.
fn park_chunks(
    file: &std::path::Path,
    shown: &str,
    worker: usize,
    failed: &AtomicUsize,
    done: &Sender<u64>,
) -> Result<ParkedBy, (usize, StateError)> {
    let sql = sql_error(shown);
    // Failures before the first row count as the first chunk's.
    let at_start = |e| (0, e);
    let sql_at_start = |e| (0, sql(e));
    let conn = open_read_only(file, shown).map_err(at_start)?;
    let mut projects = conn
        .prepare("SELECT id, name, display_name, removed_at IS NOT NULL FROM projects ORDER BY id")
        .map_err(sql_at_start)?;
    let mut files = conn.prepare(super::FILES_SQL).map_err(sql_at_start)?;
    let mut reqs = conn.prepare(super::REQS_SQL).map_err(sql_at_start)?;
    let mut rows = projects.query([]).map_err(sql_at_start)?;
    let mut by = ParkedBy {
        file: tempfile::tempfile().map_err(|e| at_start(spill_error(e)))?,
        parked: Vec::new(),
        stats: LoadStats::default(),
    };
    let mut buffer = Vec::new();
    let mut flushed = 0u64;
    let mut index = 0usize;
    let mut in_chunk = 0;
    loop {
        let chunk = index / CHUNK;
        let row = match rows.next() {
            Ok(row) => row,
            Err(e) => return Err((chunk, sql(e))),
        };
        let mine = chunk % READERS == worker;
        if mine && chunk > failed.load(Ordering::Relaxed) {
            break;
        }
        let Some(r) = row else { break };
        if mine {
            match project(shown, r, &mut files, &mut reqs, &mut by.stats) {
                Ok(None) => {}
                Ok(Some(p)) => {
                    let start = buffer.len();
                    spill::encode(&p, &mut buffer);
                    by.parked.push(Parked {
                        name: p.name.into_boxed_str(),
                        file: worker,
                        offset: flushed + start as u64,
                        len: buffer.len() - start,
                    });
                }
                Err(e) => {
                    failed.fetch_min(chunk, Ordering::Relaxed);
                    return Err((chunk, e));
                }
            }
            in_chunk += 1;
        }
        index += 1;
        if index.is_multiple_of(CHUNK) && mine {
            let _ = done.send(std::mem::take(&mut in_chunk));
            if buffer.len() >= WRITE_BUFFER {
                by.file
                    .write_all(&buffer)
                    .map_err(|e| (chunk, spill_error(e)))?;
                flushed += buffer.len() as u64;
                buffer.clear();
            }
        }
    }
    let _ = done.send(in_chunk);
    let last = index / CHUNK;
    by.file
        .write_all(&buffer)
        .map_err(|e| (last, spill_error(e)))?;
    Ok(by)
}

/// Thread `worker` of phase 2: decodes and prepares chunks `worker`, `worker + READERS`, ...
/// of `parked` (in name order) and sends each to `tx`, stopping at the first error (sent with
/// the projects before it) or when the receiver hangs up.
fn hand_over<T>(
    files: &[File],
    parked: &[Parked],
    worker: usize,
    prepare: &impl Fn(Project) -> T,
    tx: &SyncSender<Chunk<T>>,
    used: &Receiver<Vec<T>>,
) {
    let mut bytes = Vec::new();
    for chunk in parked.chunks(CHUNK).skip(worker).step_by(READERS) {
        let mut projects = used.try_iter().last().unwrap_or_default();
        projects.clear();
        let mut error = None;
        for p in chunk {
            bytes.resize(p.len, 0);
            let decoded = files[p.file]
                .read_exact_at(&mut bytes, p.offset)
                .and_then(|()| {
                    spill::decode(&bytes)
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                });
            match decoded {
                Ok(project) => projects.push(prepare(project)),
                Err(e) => {
                    error = Some(spill_error(e));
                    break;
                }
            }
        }
        let stop = error.is_some();
        if tx.send(Chunk { projects, error }).is_err() || stop {
            return;
        }
    }
}

/// A failure to write or read back the temporary files, which live in TMPDIR.
fn spill_error(source: std::io::Error) -> StateError {
    StateError::Spill {
        dir: std::env::temp_dir().display().to_string(),
        source,
    }
}

impl LoadStats {
    fn add(&mut self, o: &LoadStats) {
        self.files += o.files;
        self.partial_requirements += o.partial_requirements;
        self.skipped_removed_projects += o.skipped_removed_projects;
        self.skipped_no_sha256 += o.skipped_no_sha256;
        self.skipped_bad_version += o.skipped_bad_version;
        self.skipped_bad_filename += o.skipped_bad_filename;
        self.skipped_bad_size += o.skipped_bad_size;
    }
}
