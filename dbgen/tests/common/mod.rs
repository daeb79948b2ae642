//! Shared test helpers: random universes (proptest), the reader's view of a database and the
//! view a universe should produce after dbgen's documented transformations.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::sync::Arc;

use pep440_rs::Version;
use pinion_db::model::{File, FileKind, Metadata, Project, Release, ReqSet, Universe};
use pinion_db::{Database, FileKind as DbKind, ShardSet};
use proptest::prelude::*;

#[derive(Debug, PartialEq, Eq)]
pub struct PView {
    pub name: String,
    pub display: String,
    pub releases: Vec<RView>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct RView {
    pub version: String,
    pub upload_time: Option<i64>,
    pub yanked: bool,
    pub yanked_reason: Option<String>,
    pub files: Vec<FView>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct FView {
    pub filename: String,
    pub url: String,
    pub sha256: [u8; 32],
    pub wheel: bool,
    pub tags: (Vec<String>, Vec<String>, Vec<String>),
    pub requires_python: Option<String>,
    pub yanked: bool,
    pub yanked_reason: Option<String>,
    pub meta: MView,
}

#[derive(Debug, PartialEq, Eq)]
pub struct MView {
    pub sets: Vec<(Option<String>, Vec<String>)>,
    pub provides_extra: Vec<String>,
    pub requires_python: Option<String>,
    pub build_backend: Option<String>,
    pub has_build_system: bool,
}

/// Loads every hash shard of a written database, each checked by `ShardSet::add`, after
/// `verify_shard_bytes` checked them together.
pub fn shard_set(db: &Database, shards: &[Vec<u8>]) -> ShardSet {
    db.verify_shard_bytes(shards).unwrap();
    let mut set = ShardSet::new();
    for (i, bytes) in (0u32..).zip(shards) {
        set.add(db, i, bytes).unwrap();
    }
    set
}

/// Everything the reader exposes, walked through the public API, with hashes and URLs
/// from `shards`.
pub fn db_view(db: &Database, shards: &ShardSet) -> Vec<PView> {
    db.projects()
        .map(|p| {
            assert_eq!(
                db.project(p.display_name()).map(|q| q.name()),
                Some(p.name()),
                "lookup by display name"
            );
            PView {
                name: p.name().into(),
                display: p.display_name().into(),
                releases: p
                    .releases()
                    .map(|r| RView {
                        version: r.version_str().into(),
                        upload_time: r.upload_time(),
                        yanked: r.yanked(),
                        yanked_reason: r.yanked_reason().map(Into::into),
                        files: r
                            .files()
                            .map(|f| {
                                let m = f.metadata();
                                let set = |s: pinion_db::ReqSet<'_>| {
                                    (
                                        s.source().map(Into::into),
                                        s.iter().map(|r| r.to_pep508_string()).collect(),
                                    )
                                };
                                FView {
                                    filename: f.filename().into(),
                                    url: shards.url(p.name(), &f).unwrap().into_owned(),
                                    sha256: shards.hashes(p.name(), &f).unwrap().sha256,
                                    wheel: f.kind() == DbKind::Wheel,
                                    tags: (
                                        f.python_tags().map(Into::into).collect(),
                                        f.abi_tags().map(Into::into).collect(),
                                        f.platform_tags().map(Into::into).collect(),
                                    ),
                                    requires_python: f.requires_python().map(Into::into),
                                    yanked: f.yanked(),
                                    yanked_reason: f.yanked_reason().map(Into::into),
                                    meta: MView {
                                        sets: vec![
                                            set(m.requires_dist()),
                                            set(m.build_requires()),
                                            set(m.setup_requires()),
                                        ],
                                        provides_extra: m
                                            .provides_extra()
                                            .map(Into::into)
                                            .collect(),
                                        requires_python: m.requires_python().map(Into::into),
                                        build_backend: m.build_backend().map(Into::into),
                                        has_build_system: m.has_build_system(),
                                    },
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn installable(platform: &str) -> bool {
    platform.split('.').any(|t| {
        t == "any"
            || ["linux", "manylinux", "musllinux", "macosx"]
                .iter()
                .any(|p| t.starts_with(p))
    })
}

/// What the reader should show for `u`, following data-format.md's rules (files kept,
/// ordering, normalized versions and extras).
pub fn expected_view(u: &Universe) -> Vec<PView> {
    let mut projects: Vec<&Project> = u.projects.iter().collect();
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    projects
        .into_iter()
        .map(|p| {
            let mut releases: Vec<(Version, &Release)> = p
                .releases
                .iter()
                .map(|r| (r.version.parse().unwrap(), r))
                .collect();
            releases.sort_by(|a, b| b.0.cmp(&a.0));
            PView {
                name: p.name.clone(),
                display: p.display_name.clone(),
                releases: releases
                    .into_iter()
                    .filter_map(|(v, r)| {
                        let mut files: Vec<&File> = r
                            .files
                            .iter()
                            .filter(|f| match f.kind {
                                FileKind::Other => false,
                                FileKind::Sdist => true,
                                FileKind::Wheel => installable(
                                    f.filename
                                        .rsplit('-')
                                        .next()
                                        .unwrap()
                                        .trim_end_matches(".whl"),
                                ),
                            })
                            .collect();
                        if files.is_empty() {
                            return None;
                        }
                        files.sort_by(|a, b| a.filename.cmp(&b.filename));
                        let yanked = files.iter().all(|f| f.yanked);
                        Some(RView {
                            version: v.to_string(),
                            upload_time: files.iter().filter_map(|f| f.upload_time).min(),
                            yanked,
                            yanked_reason: if yanked {
                                files.iter().find_map(|f| f.yanked_reason.clone())
                            } else {
                                None
                            },
                            files: files.into_iter().map(expected_file).collect(),
                        })
                    })
                    .collect(),
            }
        })
        .collect()
}

fn expected_file(f: &File) -> FView {
    let wheel = f.kind == FileKind::Wheel;
    let tags = if wheel {
        let w = pinion_pep::WheelFilename::parse(&f.filename).unwrap();
        (w.python_tags, w.abi_tags, w.platform_tags)
    } else {
        Default::default()
    };
    let default = Metadata::default();
    let m = f.metadata.as_deref().unwrap_or(&default);
    let set = |s: &ReqSet| {
        (
            s.source.clone(),
            if s.source.is_some() {
                s.requirements.clone()
            } else {
                vec![]
            },
        )
    };
    let mut extras: Vec<String> = m
        .provides_extra
        .iter()
        .map(|e| e.parse::<pep508_rs::ExtraName>().unwrap().to_string())
        .collect();
    extras.sort();
    extras.dedup();
    FView {
        filename: f.filename.clone(),
        url: f.url.clone(),
        sha256: f.sha256,
        wheel,
        tags,
        requires_python: f.requires_python.clone(),
        yanked: f.yanked,
        yanked_reason: f.yanked_reason.clone(),
        meta: MView {
            sets: vec![
                set(&m.requires_dist),
                set(&m.build_requires),
                set(&m.setup_requires),
            ],
            provides_extra: extras,
            requires_python: m.requires_python.clone(),
            build_backend: m.build_backend.clone(),
            has_build_system: m.has_build_system,
        },
    }
}

const RAW_REQUIREMENTS: [&str; 10] = [
    "requests>=2.8.1",
    "Foo_Bar[Security,socks] >=1.0, <2 ; python_version < '3.8'",
    "baz; extra == 'test'",
    "qux~=1.2,!=1.2.5",
    "numpy==1.26.*",
    "typing-extensions",
    "six ; sys_platform == 'win32' and extra == 'docs'",
    "zope.interface===4.0",
    "importlib-metadata>=4; python_version<'3.10'",
    "cffi!=1.11.3,>=1.8",
];

const SOURCES: [&str; 8] = [
    "metadata",
    "pkg-info",
    "pyproject",
    "setup.cfg",
    "egg-info",
    "setup.py-static",
    "setup.py-exec",
    "default",
];

fn reqset() -> impl Strategy<Value = ReqSet> {
    prop_oneof![
        1 => Just(ReqSet::default()),
        4 => (prop::sample::select(&SOURCES[..]), prop::collection::vec(prop::sample::select(&RAW_REQUIREMENTS[..]), 0..5)).prop_map(|(src, reqs)| {
            ReqSet::known(src, reqs.iter().map(|r| pinion_pep::canonical_requirement(r).unwrap()).collect())
        }),
    ]
}

fn metadata() -> impl Strategy<Value = Option<Arc<Metadata>>> {
    let m = (
        reqset(),
        reqset(),
        reqset(),
        prop::collection::vec(
            prop::sample::select(&["test", "Docs", "dev_tools", "test"][..]),
            0..3,
        ),
        prop::option::of(prop::sample::select(&[">=3.8", "!=3.0.*,>=2.7"][..])),
        prop::option::of(prop::sample::select(
            &["setuptools.build_meta", "hatchling.build"][..],
        )),
    )
        .prop_map(|(rd, br, sr, extras, rp, backend)| {
            let has_build_system = br.source.as_deref() == Some("pyproject") || backend.is_some();
            Metadata {
                requires_dist: rd,
                build_requires: br,
                setup_requires: sr,
                provides_extra: extras.iter().map(|s| s.to_string()).collect(),
                requires_python: rp.map(Into::into),
                build_backend: backend.map(Into::into),
                has_build_system,
                unknown_reason: None,
            }
        });
    prop::option::of(m.prop_map(Arc::new))
}

/// What follows `{stem}-{version}-` in a wheel name: tags, some with a build tag.
const WHEEL_TAGS: [&str; 6] = [
    "py3-none-any",
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp311-cp311-win_amd64",
    "py2.py3-none-any",
    "cp312-abi3-macosx_11_0_arm64",
    "2b-cp312-cp312-musllinux_1_2_aarch64",
];

fn file(stem: String, version: String) -> impl Strategy<Value = File> {
    (
        0..8usize,
        any::<[u8; 32]>(),
        any::<bool>(),
        prop::option::of(0u64..1 << 40),
        prop::option::of(1_000_000_000i64..2_000_000_000),
        prop::option::of(prop::sample::select(&[">=3.7", "<4,>=3.9"][..])),
        any::<bool>(),
        prop::option::of(prop::sample::select(&["bad build", "security"][..])),
        metadata(),
    )
        .prop_map(
            move |(k, sha, pythonhosted, size, time, rp, yanked, reason, metadata)| {
                let (filename, kind) = match k {
                    0 => (format!("{stem}-{version}.tar.gz"), FileKind::Sdist),
                    1 => (format!("{stem}-{version}.zip"), FileKind::Sdist),
                    7 => (format!("{stem}-{version}.win32.exe"), FileKind::Other),
                    t => (
                        format!("{stem}-{version}-{}.whl", WHEEL_TAGS[t - 2]),
                        FileKind::Wheel,
                    ),
                };
                let url = if pythonhosted {
                    pinion_db::layout::pythonhosted_url(&sha, &filename)
                } else {
                    format!("https://example.org/dl/{filename}")
                };
                File {
                    filename,
                    url,
                    kind,
                    sha256: sha,
                    size,
                    upload_time: time,
                    requires_python: rp.map(Into::into),
                    yanked,
                    yanked_reason: reason.filter(|_| yanked).map(Into::into),
                    metadata,
                }
            },
        )
}

fn release(stem: String) -> impl Strategy<Value = Release> {
    (0u32..4, 0u32..12, prop::option::of(1u32..3)).prop_flat_map(move |(a, b, rc)| {
        let version = match rc {
            Some(n) => format!("{a}.{b}rc{n}"),
            None => format!("{a}.{b}"),
        };
        prop::collection::vec(file(stem.clone(), version.clone()), 1..4).prop_map(
            move |mut files| {
                files.sort_by(|x, y| x.filename.cmp(&y.filename));
                files.dedup_by(|x, y| x.filename == y.filename);
                Release {
                    version: version.clone(),
                    files,
                }
            },
        )
    })
}

fn project() -> impl Strategy<Value = Project> {
    ("[a-z][a-z0-9]{0,4}(-[a-z0-9]{1,3})?", any::<bool>()).prop_flat_map(|(name, upper)| {
        let display = if upper {
            name.to_uppercase().replace('-', "_")
        } else {
            name.clone()
        };
        let stem = display.replace('-', "_");
        prop::collection::vec(release(stem), 0..5).prop_map(move |mut releases| {
            let mut seen = Vec::new();
            releases.retain(|r| {
                let v: Version = r.version.parse().unwrap();
                let new = !seen.contains(&v);
                seen.push(v);
                new
            });
            Project {
                name: name.clone(),
                display_name: display.clone(),
                releases,
            }
        })
    })
}

pub fn universe() -> impl Strategy<Value = Universe> {
    (prop::collection::vec(project(), 0..6), 0u64..1_000_000).prop_map(|(mut projects, serial)| {
        projects.sort_by(|a, b| a.name.cmp(&b.name));
        projects.dedup_by(|a, b| a.name == b.name);
        Universe {
            index_url: "https://pypi.org/simple/".into(),
            last_serial: serial,
            projects,
        }
    })
}

/// A small hand-written universe used by snapshot and corruption tests.
pub fn fixture() -> Universe {
    let canon = |r: &str| pinion_pep::canonical_requirement(r).unwrap();
    let meta = Arc::new(Metadata {
        requires_dist: ReqSet::known(
            "metadata",
            vec![
                canon("charset_normalizer<4,>=2"),
                canon("idna<4,>=2.5"),
                canon("PySocks!=1.5.7,>=1.5.6; extra == 'socks'"),
            ],
        ),
        build_requires: ReqSet::default(),
        setup_requires: ReqSet::default(),
        provides_extra: vec!["socks".into(), "use_chardet_on_py3".into()],
        requires_python: Some(">=3.7".into()),
        build_backend: None,
        has_build_system: false,
        unknown_reason: None,
    });
    let sdist_meta = Arc::new(Metadata {
        requires_dist: ReqSet::known("pkg-info", vec![canon("idna")]),
        build_requires: ReqSet::known("pyproject", vec![canon("setuptools>=61"), canon("wheel")]),
        setup_requires: ReqSet::known("setup.py-static", vec![]),
        provides_extra: vec![],
        requires_python: None,
        build_backend: Some("setuptools.build_meta".into()),
        has_build_system: true,
        unknown_reason: None,
    });
    let file = |filename: &str, kind, meta: Option<Arc<Metadata>>, n: u8| File {
        filename: filename.into(),
        url: pinion_db::layout::pythonhosted_url(&[n; 32], filename),
        kind,
        sha256: [n.wrapping_mul(7); 32],
        size: Some(1000 + n as u64),
        upload_time: Some(1_700_000_000 + n as i64 * 1000),
        requires_python: Some(">=3.7".into()),
        yanked: false,
        yanked_reason: None,
        metadata: meta,
    };
    let mut yanked = file("requests-2.0.0.tar.gz", FileKind::Sdist, None, 9);
    yanked.yanked = true;
    yanked.yanked_reason = Some("broken".into());
    yanked.url = "https://mirror.example.org/requests-2.0.0.tar.gz".into();
    Universe {
        index_url: "https://pypi.org/simple/".into(),
        last_serial: 424242,
        projects: vec![
            Project {
                name: "requests".into(),
                display_name: "requests".into(),
                releases: vec![
                    Release {
                        version: "2.31.0".into(),
                        files: vec![
                            file(
                                "requests-2.31.0-py3-none-any.whl",
                                FileKind::Wheel,
                                Some(meta.clone()),
                                1,
                            ),
                            file(
                                "requests-2.31.0.tar.gz",
                                FileKind::Sdist,
                                Some(sdist_meta),
                                2,
                            ),
                            file(
                                "requests-2.31.0-py3-none-win_amd64.whl",
                                FileKind::Wheel,
                                Some(meta.clone()),
                                3,
                            ),
                        ],
                    },
                    Release {
                        version: "2.0.0".into(),
                        files: vec![yanked],
                    },
                    Release {
                        version: "2.32.0rc1".into(),
                        files: vec![file(
                            "requests-2.32.0rc1-py3-none-any.whl",
                            FileKind::Wheel,
                            Some(meta),
                            4,
                        )],
                    },
                ],
            },
            Project {
                name: "zope-interface".into(),
                display_name: "zope.interface".into(),
                releases: vec![Release {
                    version: "6.0".into(),
                    files: vec![
                        file(
                            "zope.interface-6.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                            FileKind::Wheel,
                            None,
                            5,
                        ),
                        file("zope.interface-6.0.win32.exe", FileKind::Other, None, 6),
                    ],
                }],
            },
            Project {
                name: "empty".into(),
                display_name: "Empty".into(),
                releases: vec![],
            },
        ],
    }
}

/// Writes [`fixture`] as the crawl state `dir/state.sqlite`; returns its path.
pub fn fixture_state(dir: &Path) -> String {
    let path = dir.join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    dbgen::state::save(&fixture(), 1_795_132_800, &mut conn).unwrap();
    path.to_str().unwrap().to_string()
}

/// `dbgen build` from `state` to the tarball `out` and the shard directory `shards`, then `extra`.
pub fn build_args<'a>(
    state: &'a str,
    out: &'a str,
    shards: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "build",
        "--state",
        state,
        "--out",
        out,
        "--shards-out",
        shards,
    ];
    args.extend_from_slice(extra);
    args
}
