//! Minimal reproductions of sdists from the random shard crawl (`crawler sync --all --shard
//! 1234/2000`, crawler/README.md) that the crawler used to get wrong: the member contents
//! are copied from the real archives, trimmed to what extraction reads.

mod extract_support;

use crawler::extract::{self, Limits, Source, UNBUILDABLE};
use extract_support::{build_tar, gzip};

fn extract(filename: &str, entries: &[(&str, &[u8])]) -> extract::Extracted {
    extract::from_sdist(filename, &gzip(&build_tar(entries)), &Limits::default())
        .unwrap_or_else(|e| panic!("{filename}: {e}"))
}

const UKITAI_SETUP_PY: &str = "from setuptools import setup\n\
    install_requires = [\n    'pyserial',\n    'protobuf',\n    'websocket-client'\n]\n\
    setup(name='ukitai', version='0.1.5', packages=['ukitai'], install_requires=install_requires)\n";

/// ukitai 0.1.5 was tarred on macOS: an AppleDouble `._ukitai-0.1.5` file sits beside the
/// `ukitai-0.1.5/` directory (and `._X` beside each member inside it). nixpkgs'
/// unpackPhase takes the single directory; so does extraction now.
#[test]
fn apple_double_files_beside_the_top_directory_are_ignored() {
    let apple_double: &[u8] = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ";
    let e = extract(
        "ukitai-0.1.5.tar.gz",
        &[
            ("._ukitai-0.1.5", apple_double),
            ("ukitai-0.1.5/._PKG-INFO", apple_double),
            (
                "ukitai-0.1.5/PKG-INFO",
                b"Metadata-Version: 1.0\nName: ukitai\nVersion: 0.1.5\nSummary: Python SDK for uKit AI\n",
            ),
            ("ukitai-0.1.5/._setup.py", apple_double),
            ("ukitai-0.1.5/setup.py", UKITAI_SETUP_PY.as_bytes()),
            ("ukitai-0.1.5/setup.cfg", b"[egg_info]\ntag_build = \ntag_date = 0\n\n"),
            ("ukitai-0.1.5/ukitai.egg-info/._requires.txt", apple_double),
            (
                "ukitai-0.1.5/ukitai.egg-info/requires.txt",
                b"protobuf\npyserial\nwebsocket-client\n",
            ),
        ],
    );
    let dist = e.requires_dist.expect("known");
    assert_eq!(dist.source, Source::EggInfo);
    assert_eq!(dist.value, ["protobuf", "pyserial", "websocket-client"]);
    assert_eq!(e.name.as_deref(), Some("ukitai"));
}

/// Any other file beside the top directory still means the files sit at the root.
#[test]
fn other_root_files_still_mean_no_top_directory() {
    let err = extract::from_sdist(
        "p-1.0.tar.gz",
        &gzip(&build_tar(&[
            ("notes.txt", b"x"),
            ("p-1.0/setup.py", UKITAI_SETUP_PY.as_bytes()),
        ])),
        &Limits::default(),
    )
    .expect_err("no metadata at the root");
    assert!(err.to_string().contains("no metadata found"), "{err}");
}

/// wavestate.bunch 0.9.0: setup.cfg says `setup_requires = 'setuptools>=45.0.0'` (quotes
/// included, which packaging rejects), but setup.py passes
/// `setup_requires=["setuptools >= 45.0.0"]`. setuptools applies setup.cfg only to options
/// setup() left empty, so it never parses the quoted string (checked with setuptools 84:
/// the distribution's setup_requires is `['setuptools >= 45.0.0']`).
#[test]
fn setup_py_keywords_win_over_setup_cfg_options() {
    let setup_cfg = "[metadata]\nname = wavestate.bunch\nversion = 0.9.0\n\
        long_description = file: README.md\n\n\
        [options]\nsetup_requires = 'setuptools>=45.0.0'\ninstall_requires = \n\
        package_dir = \n\t=src\npackages = find_namespace:\n\n\
        [options.packages.find]\nwhere = src\n";
    let setup_py = "from setuptools import setup\n\n\
        # Settings are primarily in setup.cfg\nsetup(\n\
        \x20   # this ensures setuptools is new enough to use setup.cfg\n\
        \x20   setup_requires=[\n        \"setuptools >= 45.0.0\",\n    ],\n)\n";
    let pyproject = "[build-system]\nrequires = [\n    \"setuptools>=45\",\n    \"wheel\",\n]\n\
        build-backend = \"setuptools.build_meta\"";
    let e = extract(
        "wavestate.bunch-0.9.0.tar.gz",
        &[
            (
                "wavestate.bunch-0.9.0/PKG-INFO",
                b"Metadata-Version: 2.1\nName: wavestate.bunch\nVersion: 0.9.0\n",
            ),
            ("wavestate.bunch-0.9.0/setup.cfg", setup_cfg.as_bytes()),
            ("wavestate.bunch-0.9.0/setup.py", setup_py.as_bytes()),
            ("wavestate.bunch-0.9.0/pyproject.toml", pyproject.as_bytes()),
        ],
    );
    let setup = e.setup_requires.expect("setup_requires known");
    assert_eq!(setup.source, Source::SetupPyStatic);
    assert_eq!(setup.value, ["setuptools >= 45.0.0"]);
    let dist = e.requires_dist.expect("install_requires known");
    assert_eq!((dist.source, dist.value.len()), (Source::SetupCfg, 0));
    assert!(
        e.decision
            .as_deref()
            .unwrap_or("")
            .contains("setup_requires from setup.py"),
        "{:?}",
        e.decision
    );
    assert!(!e.dynamic_setup_py);
}

/// Without the setup.py keyword, setup.cfg's option stands (and the quoted string is a
/// partial set downstream, as setuptools rejects it).
#[test]
fn setup_cfg_option_stands_when_setup_py_does_not_pass_it() {
    let e = extract(
        "w-1.0.tar.gz",
        &[
            (
                "w-1.0/setup.cfg",
                b"[metadata]\nname = w\n\n[options]\nsetup_requires = 'setuptools>=45.0.0'\n",
            ),
            ("w-1.0/setup.py", b"from setuptools import setup\nsetup()\n"),
        ],
    );
    let setup = e.setup_requires.expect("known");
    assert_eq!(
        (setup.source, setup.value),
        (Source::SetupCfg, vec!["'setuptools>=45.0.0'".to_string()])
    );
}

/// coastpy 0.1.1: a Poetry project whose pyproject.toml has `[tool.poetry]` but no
/// `[build-system]`, no setup.py. A frontend falls back to setuptools, which builds
/// `coastpy-0.0.0` without requirements (pip 23.2 + setuptools 84, checked on the real
/// sdist); the Poetry-written PKG-INFO describes nothing a frontend builds.
#[test]
fn no_build_entry_point_is_unbuildable() {
    let e = extract(
        "coastpy-0.1.1.tar.gz",
        &[
            (
                "coastpy-0.1.1/pyproject.toml",
                b"[tool.poetry]\nname = \"coastpy\"\nversion = \"0.1.1\"\n\n\
                  [tool.poetry.dependencies]\npython = \"^3.12\"\naffine = \"^2.4.0\"\n",
            ),
            (
                "coastpy-0.1.1/PKG-INFO",
                b"Metadata-Version: 2.1\nName: coastpy\nVersion: 0.1.1\n\
                  Requires-Python: >=3.12,<4.0\nRequires-Dist: affine (>=2.4.0,<3.0.0)\n",
            ),
            ("coastpy-0.1.1/src/coastpy/__init__.py", b""),
        ],
    );
    assert_eq!(e.requires_dist, None);
    let why = e.unknown_reason.unwrap_or_default();
    assert!(why.starts_with(UNBUILDABLE), "{why}");
    assert_eq!(e.name.as_deref(), Some("coastpy"));
}

/// The same archive with a `[build-system]` naming Poetry is an ordinary static sdist.
#[test]
fn poetry_backend_declared_is_buildable() {
    let e = extract(
        "coastpy-0.1.1.tar.gz",
        &[
            (
                "coastpy-0.1.1/pyproject.toml",
                b"[tool.poetry]\nname = \"coastpy\"\nversion = \"0.1.1\"\n\n\
                  [build-system]\nrequires = [\"poetry-core\"]\n\
                  build-backend = \"poetry.core.masonry.api\"\n",
            ),
            (
                "coastpy-0.1.1/PKG-INFO",
                b"Metadata-Version: 2.1\nName: coastpy\nVersion: 0.1.1\n\
                  Requires-Dist: affine (>=2.4.0,<3.0.0)\n",
            ),
        ],
    );
    let dist = e.requires_dist.expect("known");
    assert_eq!(dist.source, Source::PkgInfo);
    assert_eq!(e.unknown_reason, None);
}
