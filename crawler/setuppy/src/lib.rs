//! Runs the `setup.py` of setup.py-only sdists in a bubblewrap sandbox to record the
//! requirements they only declare by executing code (install_requires, setup_requires,
//! extras_require, python_requires), once per configured Python interpreter, and merges the
//! per-interpreter results into PEP 508 requirement lists for the crawl state database.
//!
//! setup.py is untrusted code: see `ARCHITECTURE.md` ("setup.py sandbox: threat model") and
//! `src/sandbox.rs` for the isolation; `src/archive.rs` unpacks the sdist defensively first.
//! `src/merge.rs` documents how per-interpreter results become markers.
//!
//! Typical use by the crawler: `let cfg = SandboxConfig::detect()?;` once, then
//! [`run_many`] over a batch of `(filename, bytes)` and [`record`] each result.

mod archive;
mod cause;
mod db;
mod merge;
mod sandbox;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

pub use cause::classify_failure;
pub use db::record;
pub use merge::{Merged, merge_runs};

/// The Python shim that replaces `setup()`; see its header comment.
const SHIM: &str = include_str!("shim.py");

#[derive(Debug, thiserror::Error)]
pub enum SetupPyError {
    #[error("{sdist}: cannot unpack: {message}")]
    Archive { sdist: String, message: String },
    #[error("{sdist}: refusing archive member {member:?}: {reason}")]
    UnsafeArchive {
        sdist: String,
        member: String,
        reason: String,
    },
    #[error("{0}: not a supported sdist format (.tar.gz, .tgz, .tar.bz2, .tar, .zip)")]
    UnsupportedFormat(String),
    #[error("{0}: no setup.py at the archive root or in its single top-level directory")]
    NoSetupPy(String),
    #[error("interpreter {}: {message}", python.display())]
    Interpreter { python: PathBuf, message: String },
    #[error("{0} not found on PATH; install it (Debian: apt-get install {1})")]
    MissingTool(&'static str, &'static str),
    #[error("no Python interpreter configured")]
    NoInterpreter,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// Limits and tools for the sandbox. `detect` fills in defaults.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Interpreters to run setup.py with; results are keyed by their `X.Y` version, and a
    /// second interpreter with the same `X.Y` is ignored.
    pub pythons: Vec<PathBuf>,
    /// RLIMIT_CPU per process (SIGXCPU at this many seconds).
    pub cpu_seconds: u64,
    /// Wall-clock limit for one interpreter run, after which the sandbox is killed.
    pub wall_seconds: u64,
    /// RLIMIT_AS per process.
    pub memory_bytes: u64,
    /// RLIMIT_NPROC (processes of the sandbox uid).
    pub max_processes: u64,
    /// RLIMIT_FSIZE: the largest file setup.py may write.
    pub max_file_bytes: u64,
    /// How much of stderr to keep (the tail).
    pub max_output_bytes: usize,
    /// Size of the sandbox's private writable tmpfs (a copy of the sdist lives there).
    pub tmpfs_bytes: u64,
    pub bwrap: PathBuf,
    /// Run inside the sandbox, so it must live under `/usr` (or `/bin`, `/sbin`).
    pub prlimit: PathBuf,
    /// When running as root: the first uid of the range the payload is switched to (with
    /// `setpriv`), because RLIMIT_NPROC does not apply to root. `None` when not root.
    pub sandbox_uid: Option<u32>,
}

impl SandboxConfig {
    /// Finds `bwrap` and `prlimit` on PATH and the interpreters to use: the `:`-separated
    /// list in `PINION_SETUPPY_PYTHONS`, else `/usr/bin/python3`, else `python3` on PATH.
    pub fn detect() -> Result<Self, SetupPyError> {
        let bwrap =
            find_on_path("bwrap").ok_or(SetupPyError::MissingTool("bwrap", "bubblewrap"))?;
        let prlimit =
            find_on_path("prlimit").ok_or(SetupPyError::MissingTool("prlimit", "util-linux"))?;
        let pythons: Vec<PathBuf> = match std::env::var_os("PINION_SETUPPY_PYTHONS") {
            Some(list) => std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            None if Path::new("/usr/bin/python3").is_file() => {
                vec![PathBuf::from("/usr/bin/python3")]
            }
            None => find_on_path("python3").into_iter().collect(),
        };
        if pythons.is_empty() {
            return Err(SetupPyError::NoInterpreter);
        }
        let is_root = fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        if is_root && !Path::new("/usr/bin/setpriv").is_file() {
            return Err(SetupPyError::MissingTool("/usr/bin/setpriv", "util-linux"));
        }
        Ok(SandboxConfig {
            pythons,
            cpu_seconds: 30,
            wall_seconds: 60,
            memory_bytes: 1 << 30,
            max_processes: 64,
            max_file_bytes: 16 << 20,
            max_output_bytes: 64 << 10,
            tmpfs_bytes: 128 << 20,
            bwrap,
            prlimit,
            sandbox_uid: is_root.then_some(64_000),
        })
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The keyword arguments one `setup()` call received, normalised by the shim: requirement
/// lists flattened to one string per requirement, extras keys as written (`name`,
/// `name:marker` or `:marker`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub name: Option<String>,
    pub version: Option<String>,
    pub install_requires: Vec<String>,
    pub setup_requires: Vec<String>,
    pub tests_require: Vec<String>,
    pub extras_require: BTreeMap<String, Vec<String>>,
    pub python_requires: Option<String>,
    /// Files setup.py opened that the sdist does not ship, replaced by empty stand-ins
    /// because their names say they only feed `long_description` (README, CHANGES...; see
    /// the shim). Empty when the sdist was complete.
    #[serde(default)]
    pub stand_ins: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunErrorKind {
    /// The wall-clock limit expired.
    Timeout,
    /// RLIMIT_CPU (SIGXCPU).
    CpuLimit,
    /// SIGKILL from inside: the CPU hard limit or the kernel's OOM killer.
    Killed,
    /// Python raised MemoryError (RLIMIT_AS).
    MemoryLimit,
    /// setup.py imports a module that is not installed (numpy, Cython, the package itself).
    ImportError,
    /// setup.py called sys.exit() before setup().
    SystemExit,
    /// Any other exception (including fork failures from RLIMIT_NPROC).
    Exception,
    NoSetupCall,
    /// setup() relies on a plugin (pbr, d2to1) that computes requirements while it runs.
    Unsupported,
    /// setup() received requirement arguments of an unusable type.
    InvalidArguments,
    /// The interpreter died without reporting a result.
    Crashed,
    /// The sandbox itself could not be started.
    Sandbox,
}

impl RunErrorKind {
    /// The kebab-case name, as serialized and stored in `setup_py_runs.error`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunErrorKind::Timeout => "timeout",
            RunErrorKind::CpuLimit => "cpu-limit",
            RunErrorKind::Killed => "killed",
            RunErrorKind::MemoryLimit => "memory-limit",
            RunErrorKind::ImportError => "import-error",
            RunErrorKind::SystemExit => "system-exit",
            RunErrorKind::Exception => "exception",
            RunErrorKind::NoSetupCall => "no-setup-call",
            RunErrorKind::Unsupported => "unsupported",
            RunErrorKind::InvalidArguments => "invalid-arguments",
            RunErrorKind::Crashed => "crashed",
            RunErrorKind::Sandbox => "sandbox",
        }
    }
}

impl Serialize for RunErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunError {
    pub kind: RunErrorKind,
    pub message: String,
    pub stderr_tail: String,
}

/// One interpreter's attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Interpreter version, `X.Y`.
    pub python: String,
    pub outcome: Result<Recorded, RunError>,
}

impl Serialize for Run {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            python: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            ok: Option<&'a Recorded>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a RunError>,
        }
        Out {
            python: &self.python,
            ok: self.outcome.as_ref().ok(),
            error: self.outcome.as_ref().err(),
        }
        .serialize(serializer)
    }
}

/// Unpacks the sdist and runs its setup.py once per configured interpreter. Errors are
/// about the sdist or the configuration; setup.py failures are per-run [`RunError`]s.
/// Runs are ordered by interpreter version.
pub fn run_setup_py(
    sdist_filename: &str,
    sdist_bytes: &[u8],
    cfg: &SandboxConfig,
) -> Result<Vec<Run>, SetupPyError> {
    if cfg.pythons.is_empty() {
        return Err(SetupPyError::NoInterpreter);
    }
    let mut interpreters: Vec<sandbox::Interpreter> = Vec::new();
    for python in &cfg.pythons {
        let found = sandbox::probe(python)?;
        if interpreters.iter().any(|i| i.version == found.version) {
            tracing::debug!(python = %python.display(), version = found.version, "duplicate interpreter version ignored");
            continue;
        }
        interpreters.push(found);
    }
    interpreters.sort_by_key(sandbox::Interpreter::version_key);

    let io = |context: &str| {
        let context = format!("{sdist_filename}: {context}");
        move |source| SetupPyError::Io { context, source }
    };
    let dir = tempfile::Builder::new()
        .prefix("pinion-setuppy-")
        .tempdir()
        .map_err(io("creating a temp dir"))?;
    let unpack_dir = dir.path().join("unpack");
    fs::create_dir(&unpack_dir).map_err(io("creating a temp dir"))?;
    let root = archive::unpack_sdist(
        sdist_filename,
        sdist_bytes,
        &unpack_dir,
        archive::Limits::default(),
    )?;
    // The payload runs as another uid when we are root: make the tree world-readable
    // whatever the umask was.
    make_readable(&unpack_dir).map_err(io("setting permissions"))?;
    let shim = dir.path().join("shim.py");
    fs::write(&shim, SHIM).map_err(io("writing the shim"))?;
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o644))
        .map_err(io("setting permissions"))?;

    Ok(interpreters
        .iter()
        .map(|interp| sandbox::run_one(cfg, interp, &root, &shim))
        .collect())
}

fn make_readable(root: &Path) -> std::io::Result<()> {
    // Iterative: archive nesting depth is attacker-controlled.
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    Ok(())
}

/// Runs many sdists on a bounded pool of `threads` workers; results are in job order.
pub fn run_many(
    jobs: Vec<(String, Vec<u8>)>,
    cfg: &SandboxConfig,
    threads: usize,
) -> Vec<Result<Vec<Run>, SetupPyError>> {
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    let mut results: Vec<_> = std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, jobs.len().max(1)) {
            let sender = sender.clone();
            let (jobs, next) = (&jobs, &next);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((filename, bytes)) = jobs.get(index) else {
                        break;
                    };
                    // The receiver outlives every worker, so sending cannot fail.
                    let _ = sender.send((index, run_setup_py(filename, bytes, cfg)));
                }
            });
        }
        drop(sender);
        receiver.iter().collect()
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}
