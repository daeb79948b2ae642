//! A synthetic universe with PyPI's shape, for benchmarks at any scale: long-tailed
//! releases per project, mostly one or two files per release with a few binary-heavy
//! projects, requirement sets that usually repeat the previous release's, Zipf-popular
//! dependency names, markers, extras, pythonhosted URLs. The shape constants below are
//! calibrated against a crawl of a random PyPI shard and PyPI's totals: `dbgen-bench --state
//! SHARD` prints the same shape table for both (README, *Database size*, has the figures).

use std::collections::HashMap;
use std::sync::Arc;

use pinion_db::model::{File, FileKind, Metadata, Project, Release, ReqSet, Universe};

/// The synthetic crawl's finish time (2026-11-20T00:00:00Z).
pub const FINISHED_AT: i64 = 1_795_132_800;

/// splitmix64: tiny, seedable, and stable across versions (unlike `rand`'s generators).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }

    /// Log-normal sample (Box-Muller).
    fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (mu + sigma * z).exp()
    }

    /// Zipf-like index in 0..n: small indices are much more popular.
    fn zipf(&mut self, n: usize) -> usize {
        ((n as f64).powf(self.unit()) - 1.0) as usize % n.max(1)
    }
}

/// Releases per project: ceil(lognormal(μ, σ)), clamped to 1..=800. μ = 1.2, σ = 1.35 give a
/// mean of 8.7 and a median of 4 (PyPI: 8.3 M releases / 930 k projects = 8.9).
const RELEASES_MU: f64 = 1.2;
const RELEASES_SIGMA: f64 = 1.35;
/// Share of projects that publish binary wheels for several Pythons and platforms (shard
/// 1234/2000: 5 % of releases have 4+ files, 22 % of kept files are platform wheels).
const P_BINARY: f64 = 0.05;
/// Other releases: an sdist when a uniform roll is below `SDIST_BELOW`, a pure wheel when it
/// is at least `WHEEL_FROM` (shard: 32 % of releases have one file, 63 % two).
const SDIST_BELOW: f64 = 0.95;
const WHEEL_FROM: f64 = 0.27;
/// Chance that a release's requirements differ from the previous release's (shard: 78 %
/// repeat the previous Requires-Dist).
const P_NEW_REQUIREMENTS: f64 = 0.24;
/// Requirements per set: none with this chance, else 1 + Zipf(`REQS_ZIPF`) (shard: 8.6 per
/// known set, extras' requirements included).
const P_NO_REQUIREMENTS: f64 = 0.25;
const REQS_ZIPF: usize = 50;
/// Projects whose sdists are named with dashes, unlike their wheels.
const P_DASHED_SDIST: f64 = 0.3;
/// Chance that a release whose requirements change edits the previous set rather than
/// drawing a new one.
const P_EDIT: f64 = 0.7;
/// Chance that a new requirement set declares extras (1 to 4 of them).
const P_EXTRAS: f64 = 0.25;

const SYLLABLES: [&str; 24] = [
    "py", "django", "flask", "test", "data", "lib", "net", "auth", "json", "web", "cloud", "ml",
    "core", "utils", "aio", "fast", "mini", "tool", "kit", "io", "sdk", "api", "plot", "graph",
];

fn project_name(rng: &mut Rng, i: usize) -> (String, String) {
    let parts = 1 + rng.below(3) as usize;
    let mut display = String::new();
    for k in 0..parts {
        if k > 0 {
            display.push(if rng.chance(0.5) { '-' } else { '_' });
        }
        display.push_str(SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]);
    }
    display.push_str(&format!("{i}"));
    if rng.chance(0.2) {
        display[..1].make_ascii_uppercase();
    }
    let name = pinion_pep::ProjectName::new(&display)
        .expect("synthetic names are valid")
        .into_string();
    (name, display)
}

/// Marker shapes; `{}` takes a minor Python version, so markers vary as much as on PyPI
/// (shard 1234/2000: 0.36 distinct strings per kept file, most of them markers and extras).
const MARKERS: [&str; 6] = [
    "python_version < \"3.{}\"",
    "sys_platform == \"win32\"",
    "python_version >= \"3.{}\"",
    "platform_machine == \"x86_64\" and python_version < \"3.{}\"",
    "implementation_name == \"cpython\"",
    "os_name == \"nt\"",
];

/// Extra names: a few common ones, else one of the project's own (`{syllable}{n}`).
const COMMON_EXTRAS: [&str; 6] = ["test", "docs", "dev", "all", "lint", "typing"];

fn requirement(rng: &mut Rng, names: &[String], extra: Option<&str>) -> String {
    let mut s = names[rng.zipf(names.len())].clone();
    if rng.chance(0.05) {
        s.push_str("[socks]");
    }
    // Versions with three components and upper bounds as often as on the shard (12.3
    // requirements of ~10 stored bytes each per set).
    let (a, b, c) = (rng.below(5), rng.below(30), rng.below(12));
    match rng.below(10) {
        0..=2 => {}
        3..=5 => s.push_str(&format!(">={a}.{b}.{c}")),
        6 => s.push_str(&format!(">={a}.{b},<{}", a + 1)),
        7 => s.push_str(&format!(">={a}.{b}.{c},!={a}.{b}.{},<{}", c + 1, a + 2)),
        8 => s.push_str(&format!("=={a}.{b}.{c}")),
        _ => s.push_str(&format!("~={a}.{b}")),
    }
    let marker = if rng.chance(0.15) {
        let shape = MARKERS[rng.below(MARKERS.len() as u64) as usize];
        Some(shape.replace("{}", &(6 + rng.below(8)).to_string()))
    } else {
        None
    };
    match (marker, extra) {
        (None, None) => {}
        (Some(m), None) => s.push_str(&format!("; {m}")),
        (None, Some(e)) => s.push_str(&format!("; extra == \"{e}\"")),
        (Some(m), Some(e)) => s.push_str(&format!("; {m} and extra == \"{e}\"")),
    }
    s
}

/// A new requirement set drawn from scratch: (extras, requirements, extras' included).
fn fresh_requirements(
    rng: &mut Rng,
    names: &[String],
    canon: &mut impl FnMut(String) -> String,
) -> (Vec<String>, Vec<String>) {
    let n_extras = if rng.chance(P_EXTRAS) {
        1 + rng.below(4) as usize
    } else {
        0
    };
    let extras: Vec<String> = (0..n_extras)
        .map(|_| {
            if rng.chance(0.5) {
                COMMON_EXTRAS[rng.below(COMMON_EXTRAS.len() as u64) as usize].to_string()
            } else {
                let syl = SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize];
                format!("{syl}{}", rng.below(50))
            }
        })
        .collect();
    let n_reqs = if rng.chance(P_NO_REQUIREMENTS) {
        0
    } else {
        1 + rng.zipf(REQS_ZIPF)
    };
    let mut reqs: Vec<String> = (0..n_reqs)
        .map(|_| canon(requirement(rng, names, None)))
        .collect();
    for e in &extras {
        for _ in 0..1 + rng.below(3) {
            reqs.push(canon(requirement(rng, names, Some(e))));
        }
    }
    (extras, reqs)
}

/// The synthetic index URL and serial.
pub const INDEX_URL: &str = "https://pypi.org/simple/";
pub const LAST_SERIAL: u64 = 25_000_000;

/// A universe of `projects` projects, identical for identical `(projects, seed)`.
pub fn universe(projects: usize, seed: u64) -> Universe {
    Universe {
        index_url: INDEX_URL.into(),
        last_serial: LAST_SERIAL,
        projects: Projects::new(projects, seed).collect(),
    }
}

/// Writes the crawl state of [`universe`]`(projects, seed)` to `conn`, one project at a time.
pub fn save_state(
    projects: usize,
    seed: u64,
    conn: &mut rusqlite::Connection,
) -> rusqlite::Result<()> {
    crate::state::save_projects(
        INDEX_URL,
        LAST_SERIAL,
        Projects::new(projects, seed),
        FINISHED_AT,
        conn,
    )
}

/// The projects of [`universe`], one at a time: a full-scale universe (≈ 17 M files) does
/// not fit in memory at once, so its crawl state is written as they come.
pub struct Projects {
    rng: Rng,
    /// Names of the projects not yet generated (normalized, display), next one last.
    named: Vec<(String, String)>,
    /// Every project's normalized name: what requirements name.
    names: Vec<String>,
    /// Requirement string → its canonical form, computed once per string.
    canonical: HashMap<String, String>,
}

impl Projects {
    pub fn new(projects: usize, seed: u64) -> Projects {
        let mut rng = Rng(seed);
        let mut named: Vec<(String, String)> =
            (0..projects).map(|i| project_name(&mut rng, i)).collect();
        let names = named.iter().map(|(n, _)| n.clone()).collect();
        named.reverse();
        Projects {
            rng,
            named,
            names,
            canonical: HashMap::new(),
        }
    }

    fn project(&mut self, name: String, display: String) -> Project {
        let Projects {
            rng,
            names,
            canonical,
            ..
        } = self;
        let names: &[String] = names;
        let mut canon = |raw: String| -> String {
            canonical
                .entry(raw)
                .or_insert_with_key(|raw| {
                    pinion_pep::canonical_requirement(raw).expect("synthetic requirements parse")
                })
                .clone()
        };
        let n_releases = (rng.lognormal(RELEASES_MU, RELEASES_SIGMA).ceil() as usize).clamp(1, 800);
        let binary = rng.chance(P_BINARY);
        let mut time = FINISHED_AT - 86_400 * 365 * 10 + rng.below(86_400 * 365 * 5) as i64;
        let mut meta: Option<Arc<Metadata>> = None;
        let mut prev: Option<(Vec<String>, Vec<String>)> = None;
        let mut wheel_meta: Option<Arc<Metadata>> = None;
        let mut releases = Vec::with_capacity(n_releases);
        let stem = display.replace('-', "_");
        // Older sdists keep the display name's dashes while wheels use underscores, so one
        // kind stores its stem per file (shard: 5.9 % of kept files store a stem).
        let sdist_stem = if rng.chance(P_DASHED_SDIST) {
            display.clone()
        } else {
            stem.clone()
        };
        for k in 0..n_releases {
            let version = if rng.chance(0.05) {
                format!("{}.{}.0rc{}", k / 10, k % 10, 1 + rng.below(3))
            } else {
                format!("{}.{}.{}", k / 10, k % 10, rng.below(3))
            };
            time += rng.below(86_400 * 60) as i64;
            if meta.is_none() || rng.chance(P_NEW_REQUIREMENTS) {
                let (extras, reqs) = match prev.take() {
                    // Most changes edit the previous set: one requirement replaced, sometimes
                    // one added (the shard's sets are many, large and alike).
                    Some((extras, mut reqs)) if rng.chance(P_EDIT) && !reqs.is_empty() => {
                        let at = rng.below(reqs.len() as u64) as usize;
                        reqs[at] = canon(requirement(rng, names, None));
                        if rng.chance(0.3) {
                            reqs.push(canon(requirement(rng, names, None)));
                        }
                        (extras, reqs)
                    }
                    _ => fresh_requirements(rng, names, &mut canon),
                };
                prev = Some((extras.clone(), reqs.clone()));
                let pyproject = rng.chance(0.4);
                let build = if pyproject {
                    ReqSet::known(
                        "pyproject",
                        vec![canon("setuptools>=61".into()), canon("wheel".into())],
                    )
                } else {
                    ReqSet::known("default", vec![canon("setuptools>=40.8.0".into())])
                };
                let setup = if rng.chance(0.1) {
                    ReqSet::default()
                } else {
                    ReqSet::known("setup.py-static", vec![])
                };
                let sdist_meta = Metadata {
                    requires_dist: if rng.chance(0.03) {
                        ReqSet::default()
                    } else {
                        ReqSet::known("pkg-info", reqs)
                    },
                    build_requires: build,
                    setup_requires: setup,
                    provides_extra: extras,
                    requires_python: rng.chance(0.6).then(|| format!(">=3.{}", 6 + rng.below(6))),
                    build_backend: pyproject.then(|| "setuptools.build_meta".to_string()),
                    has_build_system: pyproject,
                    unknown_reason: None,
                };
                // A wheel's metadata comes from its METADATA and has no build requirements,
                // so a release's wheels and sdist have two records (shard: 0.48 metadata
                // records per release).
                let wheel = Metadata {
                    requires_dist: ReqSet {
                        source: sdist_meta
                            .requires_dist
                            .source
                            .as_ref()
                            .map(|_| "metadata".into()),
                        ..sdist_meta.requires_dist.clone()
                    },
                    build_requires: ReqSet::default(),
                    setup_requires: ReqSet::default(),
                    build_backend: None,
                    has_build_system: false,
                    ..sdist_meta.clone()
                };
                meta = Some(Arc::new(sdist_meta));
                wheel_meta = Some(Arc::new(wheel));
            }
            let file = |rng: &mut Rng, filename: String, kind| {
                let digest = rng.bytes32();
                File {
                    url: pinion_db::layout::pythonhosted_url(&digest, &filename),
                    filename,
                    kind,
                    sha256: rng.bytes32(),
                    size: Some(rng.lognormal(10.0, 1.5) as u64),
                    upload_time: Some(time + rng.below(3600) as i64),
                    requires_python: meta.as_ref().and_then(|m| m.requires_python.clone()),
                    yanked: false,
                    yanked_reason: None,
                    metadata: if kind == FileKind::Wheel {
                        wheel_meta.clone()
                    } else {
                        meta.clone()
                    },
                }
            };
            let mut files = Vec::new();
            let roll = rng.unit();
            if roll < SDIST_BELOW || binary {
                files.push(file(
                    rng,
                    format!("{sdist_stem}-{version}.tar.gz"),
                    FileKind::Sdist,
                ));
            }
            if roll >= WHEEL_FROM && !binary {
                files.push(file(
                    rng,
                    format!("{stem}-{version}-py3-none-any.whl"),
                    FileKind::Wheel,
                ));
            }
            if binary {
                let plats = [
                    "manylinux_2_17_x86_64.manylinux2014_x86_64",
                    "manylinux_2_17_aarch64.manylinux2014_aarch64",
                    "macosx_10_9_x86_64",
                    "macosx_11_0_arm64",
                    "win_amd64",
                    "win32",
                ];
                for py in 0..1 + rng.below(4) {
                    for plat in plats {
                        let tag = format!("cp3{}", 8 + py);
                        files.push(file(
                            rng,
                            format!("{stem}-{version}-{tag}-{tag}-{plat}.whl"),
                            FileKind::Wheel,
                        ));
                    }
                }
            }
            if rng.chance(0.005) {
                for f in &mut files {
                    f.yanked = true;
                    f.yanked_reason = Some("broken release".into());
                }
            }
            releases.push(Release { version, files });
        }
        Project {
            name,
            display_name: display,
            releases,
        }
    }
}

impl Iterator for Projects {
    type Item = Project;

    fn next(&mut self) -> Option<Project> {
        let (name, display) = self.named.pop()?;
        Some(self.project(name, display))
    }
}
