//! Shared helpers: sdist builders and a sandbox configuration that skips loudly when the
//! machine cannot create namespaces.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use pinion_setuppy::{Run, RunErrorKind, SandboxConfig, run_setup_py};

/// A `.tar.gz` sdist `name-1.0/` holding `setup.py` with `source`.
pub fn sdist(name: &str, source: &str) -> (String, Vec<u8>) {
    sdist_with(name, source, &[])
}

/// Like [`sdist`], plus `files` (paths relative to `name-1.0/`).
pub fn sdist_with(name: &str, source: &str, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let base = [
        (format!("{name}-1.0/setup.py"), source.as_bytes()),
        (format!("{name}-1.0/PKG-INFO"), b"".as_slice()),
    ];
    let extra = files
        .iter()
        .map(|(path, data)| (format!("{name}-1.0/{path}"), *data));
    for (path, data) in base.into_iter().chain(extra) {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, path, data).unwrap();
    }
    (
        format!("{name}-1.0.tar.gz"),
        builder.into_inner().unwrap().finish().unwrap(),
    )
}

pub fn hostile(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(format!("{name}.py"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `/usr/bin/python3` only, short limits. `None` (after printing why) when bubblewrap
/// cannot build a sandbox here, so the caller returns early instead of passing silently.
pub fn config() -> Option<SandboxConfig> {
    let mut cfg = match SandboxConfig::detect() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("SKIPPED: no sandbox tooling on this machine: {e}");
            return None;
        }
    };
    cfg.pythons = vec![PathBuf::from("/usr/bin/python3")];
    cfg.cpu_seconds = 5;
    cfg.wall_seconds = 20;
    cfg.memory_bytes = 1 << 30;
    let (name, bytes) = sdist(
        "probe",
        "from setuptools import setup\nsetup(name='probe')\n",
    );
    let runs = run_setup_py(&name, &bytes, &cfg).expect("probe sdist runs");
    if let Err(e) = &runs[0].outcome
        && e.kind == RunErrorKind::Sandbox
    {
        eprintln!(
            "SKIPPED: bubblewrap cannot create namespaces on this machine: {} {}",
            e.message, e.stderr_tail
        );
        return None;
    }
    if let Err(e) = &runs[0].outcome
        && e.kind == RunErrorKind::ImportError
    {
        eprintln!(
            "SKIPPED: /usr/bin/python3 cannot import setuptools: {}",
            e.message
        );
        return None;
    }
    assert!(
        runs[0].outcome.is_ok(),
        "the probe setup.py must work: {runs:?}"
    );
    Some(cfg)
}

pub fn single(runs: Vec<Run>) -> Run {
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}
