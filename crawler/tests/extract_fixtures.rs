//! Extraction from real PyPI files (tests/fixtures/pypi, see SOURCES.md there): snapshots of
//! the full result plus targeted assertions, range reads against whole-file reads, and
//! cross-checks between independent sources of the same project.

mod extract_support;

use crawler::extract::{self, Extracted, Limits, Source, zip_range};
use extract_support::{ZipEntry, build_zip, fixture, gzip};
use pinion_pep::pep508_rs::VersionOrUrl;

fn sdist(name: &str) -> Extracted {
    extract::from_sdist(name, &fixture(name), &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn wheel(name: &str) -> Extracted {
    extract::from_wheel(&fixture(name), &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dist(e: &Extracted) -> (&[String], Source) {
    let d = e.requires_dist.as_ref().expect("requires_dist known");
    (&d.value, d.source)
}

#[test]
fn requests_wheel() {
    let e = wheel("requests-2.31.0-py3-none-any.whl");
    insta::assert_debug_snapshot!(e);
    assert_eq!(e.name.as_deref(), Some("requests"));
    assert_eq!(
        e.requires_python.as_ref().map(|r| r.value.as_str()),
        Some(">=3.7")
    );
    let (reqs, source) = dist(&e);
    assert_eq!(source, Source::Metadata);
    assert!(
        reqs.contains(&"charset-normalizer (<4,>=2)".to_string()),
        "{reqs:?}"
    );
    assert_eq!(
        e.provides_extra,
        vec!["security", "socks", "use_chardet_on_py3"]
    );
    assert_eq!(e.build_requires, None);
    assert!(!e.dynamic_setup_py);
}

#[test]
fn sidecar_matches_wheel() {
    let sidecar = fixture("requests-2.31.0-py3-none-any.whl.metadata");
    assert_eq!(
        extract::from_core_metadata(&sidecar).unwrap(),
        wheel("requests-2.31.0-py3-none-any.whl")
    );
}

#[test]
fn httpx_wheel_extras_with_markers() {
    let e = wheel("httpx-0.27.0-py3-none-any.whl");
    insta::assert_debug_snapshot!(e);
    let (reqs, _) = dist(&e);
    assert!(
        reqs.iter().any(
            |r| r.contains("extra == 'brotli'") && r.contains("platform_python_implementation")
        ),
        "{reqs:?}"
    );
}

/// Reads METADATA the way the crawler does over HTTP: tail, central directory, entry.
fn range_read(bytes: &[u8], tail_len: u64) -> Result<Vec<u8>, extract::ExtractError> {
    let size = bytes.len() as u64;
    let tail_start = size.saturating_sub(tail_len);
    let cd = zip_range::locate_central_directory(&bytes[tail_start as usize..], size)?;
    let cd_bytes = &bytes[cd.offset as usize..(cd.offset + cd.len) as usize];
    let entry = zip_range::find_metadata_entry(cd_bytes)?;
    let (start, len) = zip_range::local_entry_span(&entry);
    let end = (start + len).min(size);
    zip_range::read_local_entry(
        &bytes[start as usize..end as usize],
        &entry,
        &Limits::default(),
    )
}

#[test]
fn range_read_equals_sidecar() {
    let sidecar = fixture("requests-2.31.0-py3-none-any.whl.metadata");
    for name in [
        "requests-2.31.0-py3-none-any.whl",
        "httpx-0.27.0-py3-none-any.whl",
    ] {
        let bytes = fixture(name);
        // A tail that holds only the end record forces a separate central directory fetch.
        for tail in [zip_range::TAIL_GUESS, 22, 200] {
            let metadata =
                range_read(&bytes, tail).unwrap_or_else(|e| panic!("{name} tail {tail}: {e}"));
            assert_eq!(extract::from_core_metadata(&metadata).unwrap(), wheel(name));
            if name.starts_with("requests") {
                assert_eq!(metadata, sidecar);
            }
        }
    }
}

#[test]
fn zip64_range_read_and_record_outside_tail() {
    let meta = extract_support::metadata("z", "1.0", "Requires-Dist: a>=1");
    let entries = [
        ZipEntry::new("z/__init__.py", b"x = 1\n"),
        ZipEntry::new("z-1.0.dist-info/METADATA", meta.as_bytes()),
    ];
    let bytes = build_zip(&entries, true);
    assert_eq!(
        range_read(&bytes, zip_range::TAIL_GUESS).unwrap(),
        meta.as_bytes()
    );
    let e = extract::from_wheel(&bytes, &Limits::default()).unwrap();
    assert_eq!(dist(&e).0, ["a>=1"]);
    // EOCD (22) + locator (20) fetched, zip64 record (56) not.
    let err = range_read(&bytes, 42).unwrap_err();
    assert!(
        matches!(err, extract::ExtractError::Zip64RecordOutsideTail { .. }),
        "{err}"
    );
}

#[test]
fn flit_pyproject_sdist() {
    let e = sdist("idna-3.7.tar.gz");
    insta::assert_debug_snapshot!(e);
    assert_eq!(
        e.build_requires
            .as_ref()
            .map(|b| (b.value.clone(), b.source)),
        Some((vec!["flit_core >=3.2,<4".to_string()], Source::Pyproject))
    );
    assert_eq!(e.build_backend.as_deref(), Some("flit_core.buildapi"));
    assert_eq!(dist(&e), (&[][..], Source::Pyproject));
    assert_eq!(
        e.requires_python.as_ref().map(|r| r.source),
        Some(Source::Pyproject)
    );
}

#[test]
fn hatchling_sdist() {
    let e = sdist("iniconfig-2.0.0.tar.gz");
    insta::assert_debug_snapshot!(e);
    assert!(e.has_build_system);
    assert!(!e.dynamic_setup_py);
}

#[test]
fn setup_cfg_sdist() {
    let e = sdist("importlib_metadata-4.8.1.tar.gz");
    insta::assert_debug_snapshot!(e);
    let (reqs, source) = dist(&e);
    assert_eq!(source, Source::SetupCfg);
    assert_eq!(
        reqs[..2],
        [
            "zipp>=0.5",
            "typing-extensions>=3.6.4; python_version < \"3.8\""
        ]
    );
    assert_eq!(e.provides_extra, vec!["testing", "docs", "perf"]);
    assert_eq!(
        e.requires_python
            .as_ref()
            .map(|r| (r.value.as_str(), r.source)),
        Some((">=3.6", Source::SetupCfg))
    );
    // pyproject.toml has [build-system] with setuptools_scm.
    assert_eq!(
        e.build_requires.as_ref().map(|b| b.source),
        Some(Source::Pyproject)
    );
    // setup.py is `setuptools.setup()`: fully static, so no setup_requires.
    assert_eq!(
        e.setup_requires.as_ref().map(|s| (s.value.len(), s.source)),
        Some((0, Source::SetupPyStatic))
    );
    assert!(!e.dynamic_setup_py);
}

/// Requirement sets compared by parsed meaning: name, extras, sorted specifiers, marker.
fn meaning(reqs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = reqs
        .iter()
        .map(|r| {
            let req = pinion_pep::parse_requirement(r).unwrap_or_else(|e| panic!("{r}: {e}"));
            let mut specs: Vec<String> = match &req.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(s)) => {
                    s.iter().map(ToString::to_string).collect()
                }
                _ => vec![],
            };
            specs.sort();
            format!(
                "{} {:?} {specs:?} {:?}",
                req.name,
                req.extras,
                req.marker.try_to_string()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn egg_info_wins_and_agrees_with_static_setup_py() {
    let bytes = fixture("requests-2.18.4.tar.gz");
    let e = sdist("requests-2.18.4.tar.gz");
    insta::assert_debug_snapshot!(e);
    let (from_egg, source) = dist(&e);
    assert_eq!(source, Source::EggInfo);
    assert!(
        from_egg
            .iter()
            .any(|r| r.starts_with("win_inet_pton; (sys_platform == \"win32\"")),
        "{from_egg:?}"
    );

    // The same archive without its egg-info falls through to setup.py, which must agree.
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut builder = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry
            .path()
            .unwrap()
            .to_string_lossy()
            .contains(".egg-info")
        {
            continue;
        }
        let header = entry.header().clone();
        builder.append(&header, &mut entry).unwrap();
    }
    let stripped = gzip(&builder.into_inner().unwrap());
    let s = extract::from_sdist("requests-2.18.4.tar.gz", &stripped, &Limits::default()).unwrap();
    let (from_setup_py, source) = dist(&s);
    assert_eq!(source, Source::SetupPyStatic);
    assert_eq!(meaning(from_setup_py), meaning(from_egg));
    assert_eq!(s.provides_extra, e.provides_extra);
    assert!(!s.dynamic_setup_py);
}

#[test]
fn flask_setup_py_era_sdist() {
    let e = sdist("Flask-0.10.1.tar.gz");
    insta::assert_debug_snapshot!(e);
    assert_eq!(dist(&e).1, Source::EggInfo);
    assert_eq!(
        e.build_requires.as_ref().map(|b| b.source),
        Some(Source::Default)
    );
}

#[test]
fn pbr_sdist_uses_egg_info_and_keeps_setup_requires() {
    let e = sdist("mock-2.0.0.tar.gz");
    insta::assert_debug_snapshot!(e);
    assert_eq!(dist(&e).1, Source::EggInfo);
    assert_eq!(
        e.setup_requires
            .as_ref()
            .map(|s| (s.value.clone(), s.source)),
        Some((
            vec!["pbr>=1.3".to_string(), "setuptools>=17.1".to_string()],
            Source::SetupPyStatic
        ))
    );
}

#[test]
fn dynamic_setup_py_sdist() {
    // tornado 4.5.3 builds install_requires with appends under version checks and passes
    // them as **kwargs; its egg-info has no requires.txt (built on a new Python).
    let e = sdist("tornado-4.5.3.tar.gz");
    insta::assert_debug_snapshot!(e);
    assert_eq!(e.requires_dist, None);
    assert_eq!(e.setup_requires, None);
    assert!(e.dynamic_setup_py);
}

#[test]
fn zip_sdist() {
    let e = sdist("simplegeneric-0.8.1.zip");
    insta::assert_debug_snapshot!(e);
    assert_eq!(e.name.as_deref(), Some("simplegeneric"));
    assert_eq!(dist(&e), (&[][..], Source::SetupPyStatic));
}

#[test]
fn every_tar_compression_gives_the_same_result() {
    let gz = fixture("idna-3.7.tar.gz");
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut tar).unwrap();
    let mut bz2 = Vec::new();
    std::io::Read::read_to_end(
        &mut bzip2::read::BzEncoder::new(tar.as_slice(), bzip2::Compression::fast()),
        &mut bz2,
    )
    .unwrap();
    let mut xz = Vec::new();
    lzma_rs::xz_compress(&mut tar.as_slice(), &mut xz).unwrap();
    let want = sdist("idna-3.7.tar.gz");
    for (name, bytes) in [
        ("idna-3.7.tar", &tar),
        ("idna-3.7.tar.bz2", &bz2),
        ("idna-3.7.tar.xz", &xz),
    ] {
        assert_eq!(
            extract::from_sdist(name, bytes, &Limits::default()).unwrap(),
            want,
            "{name}"
        );
    }
}

#[test]
fn metadata_2_4_pkg_info_wins() {
    let e = sdist("pluggy-1.6.0.tar.gz");
    insta::assert_debug_snapshot!(e);
    let (reqs, source) = dist(&e);
    assert_eq!(source, Source::PkgInfo);
    assert_eq!(reqs[0], "pre-commit; extra == \"dev\"");
    assert_eq!(e.provides_extra, vec!["dev", "testing"]);
    assert_eq!(
        e.requires_python
            .as_ref()
            .map(|r| (r.value.as_str(), r.source)),
        Some((">=3.9", Source::PkgInfo))
    );
}

/// sqlalchemy 2.0.7 (minimal reproduction, SOURCES.md): `aiomysql = %(asyncio)s\n aiomysql`
/// in setup.cfg expands as setuptools' configparser does, giving what PyPI's wheel says.
#[test]
fn sqlalchemy_setup_cfg_interpolation() {
    let e = sdist("SQLAlchemy-2.0.7-minimal.tar.gz");
    let (reqs, source) = dist(&e);
    assert_eq!(source, Source::SetupCfg);
    assert!(reqs.iter().all(|r| !r.contains("%(")), "{reqs:?}");
    for want in [
        "greenlet!=0.4.17; extra == \"aiomysql\"",
        "aiomysql; extra == \"aiomysql\"",
        "greenlet!=0.4.17; extra == \"postgresql_asyncpg\"",
        "typing_extensions!=3.10.0.1; extra == \"aiosqlite\"",
    ] {
        assert!(reqs.contains(&want.to_string()), "{want} not in {reqs:?}");
    }
    // Exactly what the sdist's own requires.txt (written by setuptools) lists for it.
    let aiomysql: Vec<&String> = reqs
        .iter()
        .filter(|r| r.ends_with("extra == \"aiomysql\""))
        .collect();
    assert_eq!(aiomysql.len(), 2, "{aiomysql:?}");
    assert_eq!(e.unknown_reason, None);
}

/// matplotlib 3.6.1 (minimal reproduction): requires.txt ships `setuptools_scm>=7`, but
/// setup.py adds it only when `.git` exists. requires.txt is not trusted; the requirements
/// stay unknown for the sandbox to decide, with the reason recorded.
#[test]
fn matplotlib_requires_txt_not_trusted() {
    let e = sdist("matplotlib-3.6.1-minimal.tar.gz");
    assert_eq!(e.requires_dist, None);
    assert!(e.dynamic_setup_py);
    let why = e.unknown_reason.as_deref().unwrap_or("");
    assert!(why.contains("build environment"), "{why}");
    let (txt, _) = e.requires_txt.as_ref().expect("requires.txt set aside");
    assert!(txt.contains(&"setuptools_scm>=7".to_string()));
}
