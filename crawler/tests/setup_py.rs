//! `--run-setup-py`: an sdist whose setup.py computes its requirements gets them from the
//! sandbox, in the same transaction as the rest of its metadata.

mod common;

use std::sync::Arc;

use common::*;
use crawler::testindex::{Config, TestFile, TestIndex, sdist};

const DYNAMIC_SETUP_PY: &[u8] = b"from setuptools import setup\n\
base = ['six']\n\
base = base + ['attrs>=' + '.'.join(['20', '1'])]\n\
setup(name='dyn', version='1.0', install_requires=base,\n\
      extras_require={'fast': ['ujson; python_version >= \"3\"']}, setup_requires=['wheel'])\n";

fn sandbox() -> Option<pinion_setuppy::SandboxConfig> {
    match pinion_setuppy::SandboxConfig::detect() {
        Ok(cfg) => Some(cfg),
        Err(e) => {
            // Not a silent pass: the reason is printed, and CI installs bubblewrap.
            eprintln!("SKIPPED: the setup.py sandbox is unavailable here: {e}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_setup_py_is_run_in_the_sandbox() {
    let Some(cfg) = sandbox() else { return };
    let index = TestIndex::start(Config::default()).await.unwrap();
    let bytes = sdist("dyn-1.0", &[("setup.py", DYNAMIC_SETUP_PY)]);
    index.add_file("dyn", TestFile::new("dyn-1.0.tar.gz", bytes));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");

    // Without the sandbox the requirements stay unknown (NULL source), never "empty".
    let s = sync(&path, options(&index.index_url(), &["dyn"])).await;
    assert_eq!((s.files_added, s.files_failed, s.setup_py_runs), (1, 0, 0));
    let c = db(&path);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM file_metadata WHERE requires_dist_source IS NULL"
        ),
        1
    );

    let path2 = dir.path().join("s2.sqlite");
    let mut opts = options(&index.index_url(), &["dyn"]);
    opts.fetch.setup_py = Some(Arc::new(cfg));
    let s = sync(&path2, opts).await;
    assert_eq!((s.files_added, s.files_failed), (1, 0));
    assert!(s.setup_py_runs >= 1, "{s:?}");
    let c = db(&path2);
    assert_eq!(
        strings(
            &c,
            "SELECT requires_dist_source || ' ' || setup_requires_source FROM file_metadata"
        ),
        ["setup.py-exec setup.py-exec"]
    );
    let mut reqs = strings(
        &c,
        "SELECT kind || ' ' || canonical FROM requirements ORDER BY kind, position",
    );
    reqs.sort();
    assert_eq!(
        reqs,
        [
            // No [build-system]: PEP 517's default backend requirement.
            "build setuptools>=40.8.0",
            "dist attrs>=20.1",
            "dist six",
            // The extra's own marker survives, canonicalized by pep508_rs.
            "dist ujson ; python_full_version >= '3' and extra == 'fast'",
            "setup wheel"
        ]
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM setup_py_runs WHERE status = 'ok'"),
        1
    );
}
