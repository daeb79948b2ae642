//! Hostile setup.py files: each must be contained, end as a recorded error (or a harmless
//! result), leave the host untouched, and not disturb the next job.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{config, hostile, sdist, single};
use pinion_setuppy::{RunErrorKind, run_many, run_setup_py};

fn run_hostile(name: &str, source: &str) -> pinion_setuppy::Run {
    let cfg = config().expect("checked by the caller");
    let (file, bytes) = sdist(name, source);
    single(run_setup_py(&file, &bytes, &cfg).unwrap())
}

fn error_kind(run: &pinion_setuppy::Run) -> RunErrorKind {
    match &run.outcome {
        Ok(rec) => panic!("expected an error, got {rec:?}"),
        Err(e) => e.kind,
    }
}

#[test]
fn network_is_unreachable() {
    if config().is_none() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let run = run_hostile(
        "net",
        &hostile("socket").replace("@PORT@", &port.to_string()),
    );
    let rec = run.outcome.expect("setup() is still reached");
    assert_eq!(rec.install_requires, ["network-blocked"]);
    assert!(
        listener.accept().is_err(),
        "the host listener must not see a connection"
    );
}

#[test]
fn writes_outside_do_not_reach_the_host() {
    if config().is_none() {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    let canary = host.path().join("canary");
    std::fs::write(&canary, "original").unwrap();
    let source = hostile("write_outside")
        .replace("@CANARY_DIR@", host.path().to_str().unwrap())
        .replace("@CANARY@", canary.to_str().unwrap());
    let run = run_hostile("writer", &source);
    assert_eq!(
        run.outcome.expect("setup() is reached").install_requires,
        ["ran"]
    );
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "original");
    let entries: Vec<_> = std::fs::read_dir(host.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["canary"]);
    assert!(!std::path::Path::new("/usr/evil").exists());
    assert!(
        !std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .contains("pwned")
    );
}

#[test]
fn fork_bomb_hits_the_process_limit() {
    let Some(cfg) = config() else { return };
    let start = Instant::now();
    let run = run_hostile("forker", &hostile("fork_bomb"));
    let err = run.outcome.as_ref().unwrap_err();
    assert!(matches!(err.kind, RunErrorKind::Exception), "{err:?}");
    assert!(
        err.message.contains("BlockingIOError") || err.message.contains("OSError"),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(cfg.wall_seconds),
        "contained by NPROC, not the timeout"
    );
}

#[test]
fn endless_loop_hits_the_cpu_limit() {
    let Some(mut cfg) = config() else { return };
    cfg.cpu_seconds = 1;
    let (file, bytes) = sdist("spin", &hostile("cpu_loop"));
    let run = single(run_setup_py(&file, &bytes, &cfg).unwrap());
    assert_eq!(error_kind(&run), RunErrorKind::CpuLimit, "{run:?}");
}

fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(marker)
        {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

#[test]
fn sleeping_forever_is_killed_with_its_detached_children() {
    let Some(mut cfg) = config() else { return };
    cfg.wall_seconds = 3;
    let marker = format!(
        "pinion-marker-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    let source = hostile("sleep_forever")
        .replace("@PYTHON@", "/usr/bin/python3")
        .replace("@MARKER@", &marker);
    let (file, bytes) = sdist("sleeper", &source);
    let start = Instant::now();
    let run = single(run_setup_py(&file, &bytes, &cfg).unwrap());
    assert_eq!(error_kind(&run), RunErrorKind::Timeout, "{run:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    // The PID namespace dies with its monitor; give the kernel a moment to reap.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

#[test]
fn disk_filling_hits_the_file_size_and_tmpfs_limits() {
    let Some(mut cfg) = config() else { return };
    cfg.max_file_bytes = 16 << 20;
    cfg.tmpfs_bytes = 64 << 20;
    let (file, bytes) = sdist("disk", &hostile("disk"));
    let run = single(run_setup_py(&file, &bytes, &cfg).unwrap());
    // EFBIG (27) from RLIMIT_FSIZE, then ENOSPC (28) from the tmpfs size.
    assert_eq!(
        run.outcome.unwrap().install_requires,
        ["big-file-errno-27", "tmpfs-errno-28"]
    );
}

#[test]
fn huge_allocation_hits_the_memory_limit() {
    if config().is_none() {
        return;
    }
    let run = run_hostile("hog", &hostile("memory"));
    assert_eq!(error_kind(&run), RunErrorKind::MemoryLimit, "{run:?}");
}

#[test]
fn missing_numpy_is_an_import_error_with_the_traceback() {
    if config().is_none() {
        return;
    }
    let run = run_hostile("needs-numpy", &hostile("numpy_import"));
    let err = run.outcome.unwrap_err();
    assert_eq!(err.kind, RunErrorKind::ImportError);
    assert!(err.message.contains("numpy"), "{err:?}");
    assert!(
        err.stderr_tail
            .contains("from numpy.distutils.core import setup"),
        "{err:?}"
    );
}

#[test]
fn sys_exit_is_recorded() {
    if config().is_none() {
        return;
    }
    let run = run_hostile("exits", &hostile("sys_exit"));
    let err = run.outcome.unwrap_err();
    assert_eq!(err.kind, RunErrorKind::SystemExit);
    assert!(err.message.ends_with(": 1"), "{err:?}");
    assert!(
        err.stderr_tail.contains("does not support your platform"),
        "{err:?}"
    );
}

#[test]
fn output_floods_are_capped_to_the_tail() {
    let Some(cfg) = config() else { return };
    let run = run_hostile("flood", &hostile("flood"));
    let err = run.outcome.unwrap_err();
    assert_eq!(err.kind, RunErrorKind::Exception);
    assert!(
        err.stderr_tail.len() <= cfg.max_output_bytes + 64,
        "{} bytes kept",
        err.stderr_tail.len()
    );
    assert!(err.stderr_tail.starts_with("[... output truncated ...]"));
    assert!(err.stderr_tail.contains("failed after the flood"));
}

#[test]
fn a_batch_of_hostile_jobs_still_runs_the_good_one() {
    let Some(mut cfg) = config() else { return };
    cfg.cpu_seconds = 1;
    cfg.wall_seconds = 5;
    let mut jobs: Vec<(String, Vec<u8>)> = [
        "fork_bomb",
        "cpu_loop",
        "memory",
        "sys_exit",
        "numpy_import",
    ]
    .iter()
    .map(|n| sdist(&n.replace('_', "-"), &hostile(n)))
    .collect();
    jobs.push(("broken-1.0.tar.gz".into(), b"not an archive".to_vec()));
    jobs.push(sdist("good", &hostile("ok")));
    let results = run_many(jobs, &cfg, 2);
    assert_eq!(results.len(), 7);
    for result in &results[..5] {
        let runs = result.as_ref().unwrap();
        assert!(runs[0].outcome.is_err(), "{runs:?}");
    }
    assert!(results[5].is_err());
    let good = results[6].as_ref().unwrap()[0].outcome.as_ref().unwrap();
    assert_eq!(
        good.install_requires,
        ["six>=1.0", "futures; python_version < '3'", "py3only"]
    );
    assert_eq!(good.setup_requires, ["setuptools_scm"]);
    assert_eq!(good.python_requires.as_deref(), Some(">=2.7"));
    assert_eq!(good.extras_require["test"], ["pytest"]);
}
