//! `crawler coverage` and `crawler setup-py`, run as the binary over a state crawled from
//! the loopback index: the coverage split before and after the sandbox runs, resumability
//! (a second `setup-py` has nothing left to do), and the records it leaves.

mod common;

use std::process::Output;

use common::*;
use crawler::testindex::{Config, TestFile, TestIndex, sdist};

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sandbox with the configured interpreters, or `None` after saying why (the same
/// probe as the sandbox crate's own tests: bubblewrap present and able to create
/// namespaces, setuptools importable).
fn sandbox_usable() -> bool {
    let cfg = match pinion_setuppy::SandboxConfig::detect() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("SKIPPED: the setup.py sandbox is unavailable here: {e}");
            return false;
        }
    };
    let probe = sdist(
        "probe-1.0",
        &[(
            "setup.py",
            b"from setuptools import setup\nsetup(name='probe')\n",
        )],
    );
    match pinion_setuppy::run_setup_py("probe-1.0.tar.gz", &probe, &cfg) {
        Ok(runs) if runs.iter().all(|r| r.outcome.is_ok()) => true,
        other => {
            eprintln!(
                "SKIPPED: the setup.py sandbox cannot run a trivial setup.py here: {other:?}"
            );
            false
        }
    }
}

const COMPUTED: &[u8] = b"from setuptools import setup\n\
base = ['six']\nbase = base + ['attrs>=' + '.'.join(['20', '1'])]\n\
setup(name='dyn', version='1.0', install_requires=base)\n";

/// hellp 0.0.1's shape: long_description from a README.md the sdist does not ship.
const README_MISSING: &[u8] = b"from setuptools import setup\n\
with open('README.md') as fh:\n    long_description = fh.read()\n\
setup(name='hellp', version='0.0.1', long_description=long_description,\n\
      install_requires=sorted(['toolz==0.9.0']))\n";

/// mdtui's shape: requirements.txt is not shipped.
const REQUIREMENTS_MISSING: &[u8] = b"from setuptools import setup\n\
with open('requirements.txt') as f:\n    required = f.read().splitlines()\n\
setup(name='mdtui', version='1.0', install_requires=required)\n";

async fn crawled_state(index: &TestIndex, dir: &std::path::Path) -> std::path::PathBuf {
    index.add_file("ok", wheel_file("ok", "1.0", &["dep"], 10));
    for (project, version, setup_py) in [
        ("dyn", "1.0", COMPUTED),
        ("hellp", "0.0.1", README_MISSING),
        ("mdtui", "1.0", REQUIREMENTS_MISSING),
    ] {
        let root = format!("{project}-{version}");
        index.add_file(
            project,
            TestFile::new(
                &format!("{root}.tar.gz"),
                sdist(&root, &[("setup.py", setup_py)]),
            ),
        );
    }
    // coastpy's shape: neither setup.py nor [build-system].
    index.add_file(
        "coastpy",
        TestFile::new(
            "coastpy-0.1.1.tar.gz",
            sdist(
                "coastpy-0.1.1",
                &[
                    ("pyproject.toml", b"[tool.poetry]\nname = \"coastpy\"\n"),
                    (
                        "PKG-INFO",
                        b"Metadata-Version: 2.1\nName: coastpy\nVersion: 0.1.1\nRequires-Dist: affine\n",
                    ),
                ],
            ),
        ),
    );
    let state = dir.join("s.sqlite");
    let mut args = vec!["sync", "--state", state.to_str().unwrap()];
    let url = index.index_url();
    args.extend(["--index", url.as_str()]);
    for p in ["ok", "dyn", "hellp", "mdtui", "coastpy"] {
        args.extend(["--project", p]);
    }
    stdout(&crawler(&args).await);
    state
}

fn sdist_totals(json: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut totals = serde_json::Map::new();
    for states in json["by_kind_year"]["sdist"].as_object().unwrap().values() {
        for (state, n) in states.as_object().unwrap() {
            let sum = totals.get(state).and_then(|v| v.as_u64()).unwrap_or(0) + n.as_u64().unwrap();
            totals.insert(state.clone(), sum.into());
        }
    }
    totals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_before_and_after_setup_py() {
    let index = TestIndex::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = crawled_state(&index, dir.path()).await;
    let s = state.to_str().unwrap();

    let json: serde_json::Value = serde_json::from_str(&stdout(
        &crawler(&["coverage", "--state", s, "--json"]).await,
    ))
    .unwrap();
    let totals = sdist_totals(&json);
    assert_eq!(
        totals.get("unknown").and_then(|v| v.as_u64()),
        Some(3),
        "{json}"
    );
    assert_eq!(
        totals.get("unbuildable").and_then(|v| v.as_u64()),
        Some(1),
        "{json}"
    );
    assert_eq!(totals.get("known"), None, "{json}");
    let text = stdout(&crawler(&["coverage", "--state", s]).await);
    assert!(text.contains("(+1 unbuildable)"), "{text}");
    assert!(text.contains("1  unbuildable"), "{text}");
    assert!(text.contains("wheel:"), "{text}");

    if !sandbox_usable() {
        return;
    }
    let out = stdout(&crawler(&["setup-py", "--state", s]).await);
    assert_eq!(
        out.trim(),
        "setup-py: 3 sdists tried, 2 now known, 1 still unknown, 0 not run",
        "the unbuildable sdist is not a candidate"
    );
    let c = db(&state);
    assert_eq!(
        strings(
            &c,
            "SELECT f.filename || ' ' || coalesce(m.requires_dist_source, 'NULL') || ' ' ||
                    coalesce(m.unknown_reason, '') || ' ' || coalesce(m.source_decision, '')
             FROM files f JOIN file_metadata m ON m.file_id = f.id
             WHERE f.kind = 'sdist' ORDER BY f.filename"
        ),
        [
            "coastpy-0.1.1.tar.gz NULL unbuildable: no setup.py, no [build-system], no [project] \
             or setup.cfg metadata; the PEP 517 fallback (setuptools) builds a version 0.0.0 \
             without requirements ",
            "dyn-1.0.tar.gz setup.py-exec  ",
            "hellp-0.0.1.tar.gz setup.py-exec  setup.py run with empty stand-ins for prose \
             files the sdist does not ship (long_description only): README.md",
            "mdtui-1.0.tar.gz NULL setup.py run failed: missing-file ",
        ]
    );
    assert_eq!(
        strings(
            &c,
            "SELECT r.raw FROM requirements r JOIN files f ON f.id = r.file_id
             WHERE r.kind = 'dist' AND f.kind = 'sdist' ORDER BY f.filename, r.position"
        ),
        ["six", "attrs>=20.1", "toolz==0.9.0"]
    );
    drop(c);

    let json: serde_json::Value = serde_json::from_str(&stdout(
        &crawler(&["coverage", "--state", s, "--json"]).await,
    ))
    .unwrap();
    let totals = sdist_totals(&json);
    assert_eq!(
        totals.get("known").and_then(|v| v.as_u64()),
        Some(2),
        "{json}"
    );
    assert_eq!(
        totals.get("unknown").and_then(|v| v.as_u64()),
        Some(1),
        "{json}"
    );
    assert_eq!(
        json["causes"]["sdist"]["setup.py run failed: missing-file"], 1,
        "{json}"
    );

    // Resumable: what was run is not run again unless asked.
    let out = stdout(&crawler(&["setup-py", "--state", s]).await);
    assert_eq!(
        out.trim(),
        "setup-py: 0 sdists tried, 0 now known, 0 still unknown, 0 not run"
    );
    let out = stdout(&crawler(&["setup-py", "--state", s, "--retry", "--project", "mdtui"]).await);
    assert_eq!(
        out.trim(),
        "setup-py: 1 sdists tried, 0 now known, 1 still unknown, 0 not run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_py_and_coverage_refuse_a_missing_state() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.sqlite");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["coverage", "--state", m],
        vec!["setup-py", "--state", m],
    ] {
        let out = crawler(&args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("does not exist"), "{err}");
        assert!(!missing.exists(), "{args:?} created the state");
    }
}
