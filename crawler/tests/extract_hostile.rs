//! Hostile and broken input: bombs, unsafe paths, truncation, oversized or non-UTF-8
//! metadata, malformed requirements, broken setup.py, plus property tests that random and
//! mutated archives never panic.

mod extract_support;

use crawler::extract::{self, ExtractError, Limits, Source};
use extract_support::{ZipEntry, build_tar, build_zip, fixture, gzip, metadata};
use proptest::prelude::*;

fn small_limits() -> Limits {
    Limits {
        max_archive_bytes: 1 << 20,
        max_member_bytes: 64 * 1024,
        max_total_uncompressed: 1 << 20,
        max_members: 50,
    }
}

fn targz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    gzip(&build_tar(entries))
}

#[test]
fn zip_bomb_metadata_is_refused_by_declared_size() {
    let zeros = vec![0u8; 8 << 20];
    let bytes = build_zip(&[ZipEntry::new("x-1.dist-info/METADATA", &zeros)], false);
    assert!(bytes.len() < 64 * 1024, "the bomb compresses well");
    let err = extract::from_wheel(&bytes, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooLarge { ref what, .. } if what == "x-1.dist-info/METADATA"),
        "{err}"
    );
}

#[test]
fn zip_entry_lying_about_its_size_is_corrupt_and_inflation_stops() {
    let zeros = vec![0u8; 8 << 20];
    let mut entry = ZipEntry::new("x-1.dist-info/METADATA", &zeros);
    entry.declared_size = Some(100);
    let bytes = build_zip(&[entry], false);
    let err = extract::from_wheel(&bytes, &Limits::default()).unwrap_err();
    assert!(
        err.to_string().contains("decompressed to 101 bytes"),
        "{err}"
    );
}

#[test]
fn tar_bomb_is_stopped_by_total_cap() {
    let zeros = vec![0u8; 4 << 20];
    let bytes = targz(&[
        ("p-1/big.bin", &zeros),
        ("p-1/PKG-INFO", metadata("p", "1", "").as_bytes()),
    ]);
    let err = extract::from_sdist("p-1.tar.gz", &bytes, &small_limits()).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooLarge { ref what, .. } if what == "decompressed archive"),
        "{err}"
    );
}

#[test]
fn unsafe_tar_and_zip_paths_are_refused() {
    let pkg = metadata("p", "1", "");
    for bad in ["../x", "/abs/PKG-INFO", "p-1/../../etc/passwd"] {
        let bytes = targz(&[("p-1/PKG-INFO", pkg.as_bytes()), (bad, b"x")]);
        assert_eq!(
            extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()).unwrap_err(),
            ExtractError::UnsafePath(bad.to_string())
        );
        let zip = build_zip(
            &[
                ZipEntry::new("p-1/PKG-INFO", pkg.as_bytes()),
                ZipEntry::new(bad, b"x"),
            ],
            false,
        );
        assert_eq!(
            extract::from_sdist("p-1.zip", &zip, &Limits::default()).unwrap_err(),
            ExtractError::UnsafePath(bad.to_string())
        );
    }
}

#[test]
fn too_many_members() {
    let names: Vec<String> = (0..60).map(|i| format!("p-1/f{i}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let err = extract::from_sdist("p-1.tar.gz", &targz(&entries), &small_limits()).unwrap_err();
    assert_eq!(err, ExtractError::TooManyMembers { limit: 50 });
}

#[test]
fn truncated_archives_are_corrupt() {
    for name in [
        "idna-3.7.tar.gz",
        "simplegeneric-0.8.1.zip",
        "requests-2.31.0-py3-none-any.whl",
    ] {
        let bytes = fixture(name);
        for cut in [bytes.len() / 2, bytes.len() - 10, 100] {
            let part = &bytes[..cut];
            let res = if name.ends_with(".whl") {
                extract::from_wheel(part, &Limits::default())
            } else {
                extract::from_sdist(name, part, &Limits::default())
            };
            assert!(
                matches!(res, Err(ExtractError::CorruptArchive { .. })),
                "{name} cut at {cut}: {res:?}"
            );
        }
    }
}

#[test]
fn wheel_without_or_with_two_dist_infos() {
    let meta = metadata("a", "1", "");
    let none = build_zip(&[ZipEntry::new("a/__init__.py", b"")], false);
    assert!(matches!(
        extract::from_wheel(&none, &Limits::default()),
        Err(ExtractError::NoMetadata(_))
    ));
    let nested = build_zip(
        &[ZipEntry::new("a/b.dist-info/METADATA", meta.as_bytes())],
        false,
    );
    assert!(matches!(
        extract::from_wheel(&nested, &Limits::default()),
        Err(ExtractError::NoMetadata(_))
    ));
    let two = build_zip(
        &[
            ZipEntry::new("a-1.dist-info/METADATA", meta.as_bytes()),
            ZipEntry::new("b-1.dist-info/METADATA", meta.as_bytes()),
        ],
        false,
    );
    let err = extract::from_wheel(&two, &Limits::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("a-1.dist-info/METADATA, b-1.dist-info/METADATA"),
        "{err}"
    );
}

#[test]
fn huge_and_non_utf8_metadata() {
    let mut huge = metadata("a", "1", "").into_bytes();
    huge.resize(5 << 20, b'x');
    assert!(matches!(
        extract::from_core_metadata(&huge),
        Err(ExtractError::TooLarge { .. })
    ));
    let bad = b"Metadata-Version: 2.1\nName: a\nRequires-Dist: b (>=1)\xff\n";
    assert!(matches!(
        extract::from_core_metadata(bad),
        Err(ExtractError::NotUtf8 { .. })
    ));
    let sdist = targz(&[("p-1/PKG-INFO", b"Metadata-Version: 2.2\nName: \xe9\n")]);
    assert_eq!(
        extract::from_sdist("p-1.tar.gz", &sdist, &Limits::default()).unwrap_err(),
        ExtractError::NotUtf8 {
            member: "p-1/PKG-INFO".into(),
            field: "Name".into()
        }
    );
}

#[test]
fn malformed_requirements_are_kept_raw() {
    let e = extract::from_core_metadata(
        metadata("a", "1", "Requires-Dist: foo >=< 1\nRequires-Dist: ok>=1").as_bytes(),
    )
    .unwrap();
    let reqs = e.requires_dist.unwrap().value;
    assert_eq!(reqs, vec!["foo >=< 1", "ok>=1"]);
    assert!(pinion_pep::parse_requirement(&reqs[0]).is_err());
}

#[test]
fn setup_py_syntax_error_means_dynamic() {
    let bytes = targz(&[
        (
            "p-1/PKG-INFO",
            b"Metadata-Version: 1.0\nName: p\nVersion: 1\n",
        ),
        (
            "p-1/setup.py",
            b"from setuptools import setup\nprint 'py2'\nsetup(install_requires=['a'\n",
        ),
    ]);
    let e = extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()).unwrap();
    assert_eq!(e.requires_dist, None);
    assert!(e.dynamic_setup_py);
}

#[test]
fn pkg_info_2_2_wins_unless_dynamic() {
    let setup_py: &[u8] =
        b"from setuptools import setup\nsetup(install_requires=['from-setup-py'])\n";
    let static_pkg = b"Metadata-Version: 2.2\nName: p\nVersion: 1\nRequires-Dist: from-pkg-info\n";
    let e = extract::from_sdist(
        "p-1.tar.gz",
        &targz(&[("p-1/PKG-INFO", static_pkg), ("p-1/setup.py", setup_py)]),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        e.requires_dist.map(|r| (r.value, r.source)),
        Some((vec!["from-pkg-info".into()], Source::PkgInfo))
    );
    let dynamic_pkg = b"Metadata-Version: 2.2\nName: p\nVersion: 1\nDynamic: Requires-Dist\nRequires-Dist: from-pkg-info\n";
    let e = extract::from_sdist(
        "p-1.tar.gz",
        &targz(&[("p-1/PKG-INFO", dynamic_pkg), ("p-1/setup.py", setup_py)]),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        e.requires_dist.map(|r| (r.value, r.source)),
        Some((vec!["from-setup-py".into()], Source::SetupPyStatic))
    );
}

#[test]
fn hard_linked_pkg_info_is_followed() {
    let pkg = b"Metadata-Version: 2.2\nName: p\nVersion: 1\nRequires-Dist: a\n";
    // setup.py makes the archive buildable (see `no_build_entry_point_is_unbuildable`).
    let mut bytes = build_tar(&[
        ("p-1/p.egg-info/PKG-INFO", pkg),
        ("p-1/setup.py", b"from setuptools import setup\nsetup()\n"),
    ]);
    bytes.truncate(bytes.len() - 1024);
    let mut h = tar::Header::new_gnu();
    h.set_path("p-1/PKG-INFO").unwrap();
    h.set_link_name("p-1/p.egg-info/PKG-INFO").unwrap();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    h.set_cksum();
    bytes.extend(h.as_bytes());
    bytes.extend([0u8; 1024]);
    let e = extract::from_sdist("p-1.tar", &bytes, &Limits::default()).unwrap();
    assert_eq!(
        e.requires_dist.map(|r| (r.value, r.source)),
        Some((vec!["a".into()], Source::PkgInfo))
    );
}

#[test]
fn old_pkg_info_is_trusted_only_from_static_backends() {
    let pkg = b"Metadata-Version: 2.1\nName: p\nVersion: 1\nRequires-Dist: a (>=1)\n";
    let poetry = b"[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n[tool.poetry]\nname = \"p\"\n";
    let bytes = targz(&[("p-1/PKG-INFO", pkg), ("p-1/pyproject.toml", poetry)]);
    let e = extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()).unwrap();
    assert_eq!(
        e.requires_dist.map(|r| (r.value, r.source)),
        Some((vec!["a (>=1)".into()], Source::PkgInfo))
    );
    let setuptools =
        b"[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n";
    let bytes = targz(&[("p-1/PKG-INFO", pkg), ("p-1/pyproject.toml", setuptools)]);
    let e = extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()).unwrap();
    assert_eq!(e.requires_dist, None);
    assert!(!e.dynamic_setup_py, "no setup.py to run");
}

#[test]
fn bad_pyproject_is_an_error_and_empty_sdist_has_no_metadata() {
    let bytes = targz(&[("p-1/pyproject.toml", b"[build-system\nrequires = 1\n")]);
    assert!(matches!(
        extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()),
        Err(ExtractError::BadPyproject { .. })
    ));
    let bytes = targz(&[("p-1/README", b"hi")]);
    assert!(matches!(
        extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()),
        Err(ExtractError::NoMetadata(_))
    ));
    assert!(matches!(
        extract::from_sdist("p-1.rar", b"", &Limits::default()),
        Err(ExtractError::Unsupported(_))
    ));
}

fn run_all(bytes: &[u8]) {
    let limits = small_limits();
    let _ = extract::from_core_metadata(bytes);
    let _ = extract::from_wheel(bytes, &limits);
    for name in ["p.tar.gz", "p.zip", "p.tar", "p.tar.bz2", "p.tar.xz"] {
        let _ = extract::from_sdist(name, bytes, &limits);
    }
    if let Ok(cd) = extract::zip_range::locate_central_directory(bytes, bytes.len() as u64 + 7) {
        let _ = cd.offset.checked_add(cd.len);
    }
    let _ = extract::zip_range::find_metadata_entry(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        run_all(&bytes);
    }

    #[test]
    fn mutated_real_archives_never_panic(
        which in 0usize..4,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let name = ["requests-2.31.0-py3-none-any.whl", "simplegeneric-0.8.1.zip", "iniconfig-2.0.0.tar.gz", "requests-2.31.0-py3-none-any.whl.metadata"][which];
        let mut bytes = fixture(name);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = bytes.len() - cut.index(bytes.len() / 4 + 1);
        bytes.truncate(keep);
        let limits = Limits::default();
        let _ = extract::from_core_metadata(&bytes);
        let _ = extract::from_wheel(&bytes, &limits);
        let _ = extract::from_sdist(name.trim_end_matches(".metadata"), &bytes, &limits);
    }

    #[test]
    fn arbitrary_setup_py_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("setup("), Just(")"), Just("install_requires="), Just("extras_require="), Just("**"),
                Just("["), Just("]"), Just("{"), Just("}"), Just("'a'"), Just(":"), Just(","), Just("x"),
                Just(" = "), Just("\n"), Just("    "), Just("print "), Just("+"), Just("*"), Just(".append(")
            ],
            0..80,
        ),
        noise in "[ -~\n]{0,40}",
    ) {
        let src = format!("{}{noise}", parts.concat());
        let bytes = targz(&[("p-1/setup.py", src.as_bytes())]);
        let e = extract::from_sdist("p-1.tar.gz", &bytes, &Limits::default()).unwrap();
        prop_assert_eq!(e.dynamic_setup_py, e.requires_dist.is_none() || e.setup_requires.is_none());
    }

    #[test]
    fn mutated_uncompressed_tar_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..32)) {
        let mut bytes = build_tar(&[("p-1/PKG-INFO", metadata("p", "1", "Requires-Dist: a").as_bytes()), ("p-1/setup.py", b"setup()\n")]);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = extract::from_sdist("p-1.tar", &bytes, &Limits::default());
    }
}
