//! Runs the shim under one interpreter inside bubblewrap, with rlimits, a wall-clock timeout
//! and capped output capture, and turns what came back into a [`Run`].
//!
//! Process chain: `bwrap <namespaces, mounts> -- [setpriv <drop to an unprivileged uid>] --
//! prlimit <limits> -- python shim.py /pinion/src /tmp/build`. Every link inside `exec`s the
//! next; the child we hold is the bwrap monitor; bwrap runs the payload as PID 1 of a new PID
//! namespace, and killing the monitor (with `--die-with-parent` on the payload) tears the
//! whole namespace down, including forked grandchildren in their own sessions.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::{Recorded, Run, RunError, RunErrorKind, SandboxConfig, SetupPyError};

const RESULT_MARK: &str = "PINION-SETUPPY-RESULT ";
/// Cap on the result channel; a recorded result is a few kilobytes.
const MAX_RESULT_BYTES: usize = 4 << 20;
/// How many distinct uids concurrent sandboxes rotate through when running as root, so that
/// one sandbox's fork bomb does not use up another's RLIMIT_NPROC (counted per uid).
const UID_POOL: u32 = 256;

/// A probed interpreter: what to exec inside the sandbox and which host trees it needs.
#[derive(Debug, Clone)]
pub(crate) struct Interpreter {
    pub version: String,
    pub executable: PathBuf,
    pub binds: Vec<PathBuf>,
}

impl Interpreter {
    /// `(major, minor)` for ordering runs deterministically.
    pub fn version_key(&self) -> (u32, u32) {
        version_key(&self.version)
    }
}

pub(crate) fn version_key(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(u32::MAX));
    (
        parts.next().unwrap_or(u32::MAX),
        parts.next().unwrap_or(u32::MAX),
    )
}

/// Asks the (trusted, configured) interpreter where it lives. Cached per path: probing costs
/// an interpreter start-up, and configurations do not change during a process.
pub(crate) fn probe(python: &Path) -> Result<Interpreter, SetupPyError> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Interpreter>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(python) {
        return Ok(found.clone());
    }
    let script = "import os, sys\n\
                  print('%d.%d' % sys.version_info[:2])\n\
                  print(sys.executable)\n\
                  print(os.path.dirname(os.path.realpath(sys.executable)))\n\
                  print(getattr(sys, 'base_prefix', sys.prefix))\n\
                  print(sys.prefix)\n\
                  print(sys.exec_prefix)\n";
    let failed = |message: String| SetupPyError::Interpreter {
        python: python.to_path_buf(),
        message,
    };
    let output = Command::new(python)
        .args(["-s", "-c", script])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        return Err(failed(format!(
            "probe failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let [version, executable, prefixes @ ..] = lines.as_slice() else {
        return Err(failed(format!("unexpected probe output {text:?}")));
    };
    // Not the real path: a venv's `bin/python` link must be run as itself to find pyvenv.cfg.
    let executable = PathBuf::from(executable);
    let mut binds: Vec<PathBuf> = Vec::new();
    // The real executable's directory and the prefixes; for a venv these differ.
    let mut wanted: Vec<PathBuf> = prefixes.iter().map(PathBuf::from).collect();
    wanted.extend(executable.parent().map(Path::to_path_buf));
    for path in wanted {
        // /usr is always mounted; anything else (pyenv, /opt, a venv) is bound read-only.
        if path.starts_with("/usr")
            || binds.iter().any(|b| path.starts_with(b))
            || !path.is_absolute()
        {
            continue;
        }
        binds.retain(|b| !b.starts_with(&path));
        binds.push(path);
    }
    binds.sort();
    let found = Interpreter {
        version: version.trim().to_string(),
        executable,
        binds,
    };
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(python.to_path_buf(), found.clone());
    Ok(found)
}

fn next_uid(base: u32) -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    base + NEXT.fetch_add(1, Ordering::Relaxed) % UID_POOL
}

fn build_command(cfg: &SandboxConfig, interp: &Interpreter, src: &Path, shim: &Path) -> Command {
    let mut cmd = Command::new(&cfg.bwrap);
    if cfg.sandbox_uid.is_some() {
        // As root a user namespace would map the payload to uid 0, which ignores
        // RLIMIT_NPROC; instead keep the host user namespace and drop privileges with setpriv.
        cmd.args([
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]);
    } else {
        cmd.arg("--unshare-all");
    }
    cmd.args([
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
    ]);
    for top in ["/bin", "/sbin", "/lib", "/lib64", "/lib32"] {
        match std::fs::read_link(top) {
            Ok(target) => {
                cmd.arg("--symlink").arg(target).arg(top);
            }
            Err(_) if Path::new(top).is_dir() => {
                cmd.args(["--ro-bind", top, top]);
            }
            Err(_) => {}
        }
    }
    // A minimal /etc: the dynamic loader cache and name lookup for the few setup.py files that
    // call getpass/pwd. Nothing secret lives in these.
    for file in [
        "/etc/ld.so.cache",
        "/etc/passwd",
        "/etc/group",
        "/etc/nsswitch.conf",
        "/etc/localtime",
    ] {
        cmd.args(["--ro-bind-try", file, file]);
    }
    cmd.args(["--proc", "/proc", "--dev", "/dev"])
        .args(["--perms", "1777", "--size"])
        .arg(cfg.tmpfs_bytes.to_string())
        .args(["--tmpfs", "/tmp"]);
    // Interpreter binds come after the tmpfs so one living under /tmp (a venv) stays visible.
    // bwrap creates missing mount-point parents as 0700 root, which the unprivileged payload
    // could not traverse; create them world-traversable first.
    let mut parents: Vec<&Path> = interp
        .binds
        .iter()
        .flat_map(|b| b.ancestors().skip(1))
        .collect();
    parents.push(Path::new("/pinion"));
    parents.retain(|p| *p != Path::new("/") && !p.starts_with("/usr") && *p != Path::new("/tmp"));
    parents.sort();
    parents.dedup();
    for dir in parents {
        cmd.args(["--perms", "0755", "--dir"]).arg(dir);
    }
    for bind in &interp.binds {
        cmd.arg("--ro-bind").arg(bind).arg(bind);
    }
    cmd.arg("--ro-bind")
        .arg(src)
        .arg("/pinion/src")
        .arg("--ro-bind")
        .arg(shim)
        .args(["/pinion/shim.py", "--chdir", "/tmp", "--"]);
    if let Some(base) = cfg.sandbox_uid {
        let uid = next_uid(base);
        cmd.arg("/usr/bin/setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .args([
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]);
    }
    // The limits are set inside the namespaces: RLIMIT_NPROC then counts the processes of
    // this sandbox's user (namespace) rather than every process the caller owns.
    let limit = |name: &str, value: u64| format!("--{name}={value}:{value}");
    cmd.arg(&cfg.prlimit)
        .arg(format!("--cpu={}:{}", cfg.cpu_seconds, cfg.cpu_seconds + 1))
        .arg(limit("as", cfg.memory_bytes))
        .arg(limit("nproc", cfg.max_processes))
        .arg(limit("fsize", cfg.max_file_bytes))
        .arg(limit("nofile", 256))
        .arg(limit("core", 0))
        .arg("--")
        .arg(&interp.executable)
        .args(["-s", "-B", "/pinion/shim.py", "/pinion/src", "/tmp/build"]);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/tmp")
        .env("TMPDIR", "/tmp")
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        // Sets iterate in hash order; a fixed seed keeps recorded lists deterministic.
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONNOUSERSITE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd
}

/// Reads a pipe to the end, keeping at most `cap` bytes: the head or the tail.
fn capture(
    mut pipe: impl Read + Send + 'static,
    cap: usize,
    keep_tail: bool,
) -> thread::JoinHandle<(Vec<u8>, bool)> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if keep_tail {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * cap.max(1) {
                    kept.drain(..kept.len() - cap);
                    truncated = true;
                }
            } else if kept.len() < cap {
                let take = n.min(cap - kept.len());
                kept.extend_from_slice(&buf[..take]);
                truncated |= take < n;
            } else {
                truncated = true;
            }
        }
        if kept.len() > cap {
            kept.drain(..kept.len() - cap);
            truncated = true;
        }
        (kept, truncated)
    })
}

fn wait_with_deadline(
    child: &mut Child,
    wall: Duration,
) -> std::io::Result<(Option<ExitStatus>, bool)> {
    let deadline = Instant::now() + wall;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((Some(status), false));
        }
        if Instant::now() >= deadline {
            // Killing the bwrap monitor ends its PID namespace and everything in it.
            let _ = child.kill();
            return Ok((child.wait().ok(), true));
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShimResult {
    ok: Option<Recorded>,
    error: Option<ShimError>,
}

#[derive(Deserialize)]
struct ShimError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

/// Runs the shim once and classifies the outcome. Sandbox set-up failures are run errors
/// too (kind `Sandbox`), so one broken interpreter does not hide the others' results.
pub(crate) fn run_one(cfg: &SandboxConfig, interp: &Interpreter, src: &Path, shim: &Path) -> Run {
    let python = interp.version.clone();
    let error = |kind, message: String, stderr_tail: String| Run {
        python: python.clone(),
        outcome: Err(RunError {
            kind,
            message,
            stderr_tail,
        }),
    };
    let mut child = match build_command(cfg, interp, src, shim).spawn() {
        Ok(child) => child,
        Err(e) => {
            return error(
                RunErrorKind::Sandbox,
                format!("cannot start {}: {e}", cfg.bwrap.display()),
                String::new(),
            );
        }
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        return error(
            RunErrorKind::Sandbox,
            "child has no pipes".into(),
            String::new(),
        );
    };
    let out = capture(stdout, MAX_RESULT_BYTES, false);
    let err = capture(stderr, cfg.max_output_bytes, true);
    let waited = wait_with_deadline(&mut child, Duration::from_secs(cfg.wall_seconds));
    let (out, _) = out.join().unwrap_or_default();
    let (err_bytes, truncated) = err.join().unwrap_or_default();
    let mut stderr_tail = String::from_utf8_lossy(&err_bytes).into_owned();
    if truncated {
        stderr_tail.insert_str(0, "[... output truncated ...]\n");
    }
    let (status, timed_out) = match waited {
        Ok(waited) => waited,
        Err(e) => {
            return error(
                RunErrorKind::Sandbox,
                format!("waiting for the sandbox: {e}"),
                stderr_tail,
            );
        }
    };
    if timed_out {
        return error(
            RunErrorKind::Timeout,
            format!("killed after {} s wall-clock", cfg.wall_seconds),
            stderr_tail,
        );
    }
    let out = String::from_utf8_lossy(&out);
    let result = out.lines().find_map(|line| line.strip_prefix(RESULT_MARK));
    match result.map(serde_json::from_str::<ShimResult>) {
        Some(Ok(ShimResult {
            ok: Some(recorded),
            error: None,
        })) => Run {
            python,
            outcome: Ok(recorded),
        },
        Some(Ok(ShimResult {
            ok: None,
            error: Some(e),
        })) => {
            let kind = match e.kind.as_str() {
                "ImportError" | "ModuleNotFoundError" => RunErrorKind::ImportError,
                "MemoryError" => RunErrorKind::MemoryLimit,
                "SystemExit" => RunErrorKind::SystemExit,
                "NoSetupCall" => RunErrorKind::NoSetupCall,
                "Unsupported" => RunErrorKind::Unsupported,
                "InvalidArguments" => RunErrorKind::InvalidArguments,
                _ => RunErrorKind::Exception,
            };
            error(kind, format!("{}: {}", e.kind, e.message), stderr_tail)
        }
        Some(_) => error(
            RunErrorKind::Crashed,
            "malformed result from the shim".into(),
            stderr_tail,
        ),
        None => {
            let code = status.and_then(|s| s.code());
            // bwrap reports a payload killed by signal N as exit status 128 + N.
            let (kind, message) = match code {
                Some(152) => (
                    RunErrorKind::CpuLimit,
                    format!("CPU limit of {} s exceeded (SIGXCPU)", cfg.cpu_seconds),
                ),
                Some(137) => (
                    RunErrorKind::Killed,
                    "killed (SIGKILL: CPU hard limit or out of memory)".to_string(),
                ),
                Some(_) if stderr_tail.lines().any(|l| l.starts_with("bwrap: ")) => (
                    RunErrorKind::Sandbox,
                    "bubblewrap could not set up the sandbox".to_string(),
                ),
                Some(code) => (
                    RunErrorKind::Crashed,
                    format!("exited with status {code} without a result"),
                ),
                None => (
                    RunErrorKind::Crashed,
                    "terminated by a signal without a result".to_string(),
                ),
            };
            error(kind, message, stderr_tail)
        }
    }
}
