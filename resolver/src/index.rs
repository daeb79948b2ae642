//! What the solver needs from a package database, as a small trait: per project its releases
//! and files (cheap summaries), and on demand one file's dependency metadata. `MemIndex`
//! implements it in memory for tests; `crate::dbindex` implements it over the binary DB.

use std::collections::BTreeMap;

use pep440_rs::VersionSpecifiers;
use pep508_rs::MarkerTree;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Wheel,
    Sdist,
}

#[derive(Clone, Debug)]
pub struct FileInfo {
    pub filename: String,
    pub kind: FileKind,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
    pub requires_python: Option<String>,
    pub upload_time: Option<i64>,
    pub yanked: bool,
    pub sha256: [u8; 32],
}

/// A project's release versions (index = release number). Files are fetched per release with
/// [`Index::files`], because the solver usually looks at only the newest few releases.
#[derive(Clone, Debug)]
pub struct ProjectInfo {
    pub name: String,
    pub display_name: String,
    pub versions: Vec<String>,
}

/// One dependency of a distribution, already parsed.
#[derive(Clone, Debug)]
pub struct Dep {
    pub name: String,
    pub extras: Vec<String>,
    pub specifiers: VersionSpecifiers,
    pub marker: MarkerTree,
}

/// Dependency metadata of one file. `None` = the crawler could not extract it.
#[derive(Clone, Debug, Default)]
pub struct FileMeta {
    pub requires_dist: Option<Vec<Dep>>,
    /// `[build-system] requires` followed by `setup_requires`; unknown parts are left out.
    pub build: Vec<Dep>,
    pub has_build_system: bool,
    /// `Provides-Extra`, as published (older metadata may define extras only in markers).
    pub provides_extra: Vec<String>,
    /// Requirement strings the crawler found but could not parse: the requirements above
    /// are then partial.
    pub unparsed: Vec<String>,
}

/// Identity of the database for the lock's `db` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub format: u32,
    pub created_at: i64,
    pub serial: i64,
    pub sha256: String,
    pub index_url: String,
}

pub trait Index {
    fn snapshot(&self) -> Snapshot;
    /// Looks a project up by any spelling of its name.
    fn project(&self, name: &str) -> Option<ProjectInfo>;
    /// The files of `project`'s release number `release` (an index into `versions`).
    fn files(&self, project: &str, release: usize) -> Vec<FileInfo>;
    /// Metadata of `project`'s release number `release`, file number `file` (indices into
    /// the `ProjectInfo` this index returned). Errors are texts naming what is broken.
    fn metadata(&self, project: &str, release: usize, file: usize) -> Result<FileMeta, String>;
    fn url(&self, project: &str, release: usize, file: usize) -> String;
    /// Every normalized project name (only used to suggest spellings after a miss).
    fn names(&self) -> Vec<String>;
}

/// Parses a PEP 508 string into a `Dep` (used by `MemIndex`; the DB stores requirements pre-parsed).
pub fn parse_dep(raw: &str) -> Result<Dep, String> {
    let req = pinion_pep::parse_requirement(raw).map_err(|e| e.to_string())?;
    let specifiers = match req.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s,
        Some(pep508_rs::VersionOrUrl::Url(_)) => {
            return Err(format!("{raw:?} is a URL requirement"));
        }
        None => VersionSpecifiers::empty(),
    };
    let name = pinion_pep::ProjectName::new(req.name.as_ref())
        .map_err(|e| e.to_string())?
        .into_string();
    Ok(Dep {
        name,
        extras: req.extras.iter().map(|e| e.to_string()).collect(),
        specifiers,
        marker: req.marker,
    })
}

/// Parses a canonical marker string once; `None` if it is not a valid marker.
pub fn parse_marker(marker: &str) -> Option<MarkerTree> {
    pinion_pep::parse_requirement(&format!("x ; {marker}"))
        .ok()
        .map(|r| r.marker)
}

/// An in-memory index for tests and property tests.
#[derive(Clone, Debug, Default)]
pub struct MemIndex {
    pub snapshot: Snapshot,
    projects: BTreeMap<String, MemProject>,
}

#[derive(Clone, Debug)]
struct MemProject {
    info: ProjectInfo,
    files: Vec<Vec<FileInfo>>,
    meta: Vec<Vec<MemMeta>>,
}

/// Metadata of a test file as requirement strings; `requires_dist: None` = unknown.
#[derive(Clone, Debug, Default)]
pub struct MemMeta {
    pub requires_dist: Option<Vec<String>>,
    pub build: Vec<String>,
    pub has_build_system: bool,
}

impl MemIndex {
    pub fn new() -> Self {
        MemIndex {
            snapshot: Snapshot {
                format: 1,
                created_at: 1_700_000_000,
                ..Snapshot::default()
            },
            projects: BTreeMap::new(),
        }
    }

    /// Adds a file to `name`'s release `version` (created on first use).
    pub fn add_file(
        &mut self,
        name: &str,
        version: &str,
        file: FileInfo,
        meta: MemMeta,
    ) -> &mut Self {
        let norm = pinion_pep::ProjectName::new(name)
            .expect("test project names are valid")
            .into_string();
        let project = self
            .projects
            .entry(norm.clone())
            .or_insert_with(|| MemProject {
                info: ProjectInfo {
                    name: norm,
                    display_name: name.to_string(),
                    versions: Vec::new(),
                },
                files: Vec::new(),
                meta: Vec::new(),
            });
        let idx = match project.info.versions.iter().position(|v| v == version) {
            Some(i) => i,
            None => {
                project.info.versions.push(version.to_string());
                project.files.push(Vec::new());
                project.meta.push(Vec::new());
                project.info.versions.len() - 1
            }
        };
        project.files[idx].push(file);
        project.meta[idx].push(meta);
        self
    }

    /// Adds a pure-Python wheel `name-version-py3-none-any.whl` with these requirements.
    pub fn add_wheel(&mut self, name: &str, version: &str, requires: &[&str]) -> &mut Self {
        let meta = MemMeta {
            requires_dist: Some(requires.iter().map(|s| s.to_string()).collect()),
            ..MemMeta::default()
        };
        self.add_file(
            name,
            version,
            wheel_file(name, version, "py3", "none", "any"),
            meta,
        )
    }
}

/// A wheel `FileInfo` with a deterministic fake hash derived from its filename.
pub fn wheel_file(name: &str, version: &str, py: &str, abi: &str, plat: &str) -> FileInfo {
    let filename = format!("{}-{version}-{py}-{abi}-{plat}.whl", name.replace('-', "_"));
    let split = |s: &str| s.split('.').map(str::to_string).collect();
    FileInfo {
        sha256: fake_hash(&filename),
        filename,
        kind: FileKind::Wheel,
        python_tags: split(py),
        abi_tags: split(abi),
        platform_tags: split(plat),
        requires_python: None,
        upload_time: Some(1_600_000_000),
        yanked: false,
    }
}

/// An sdist `FileInfo` `name-version.tar.gz`.
pub fn sdist_file(name: &str, version: &str) -> FileInfo {
    let filename = format!("{name}-{version}.tar.gz");
    FileInfo {
        sha256: fake_hash(&filename),
        filename,
        kind: FileKind::Sdist,
        python_tags: vec![],
        abi_tags: vec![],
        platform_tags: vec![],
        requires_python: None,
        upload_time: Some(1_600_000_000),
        yanked: false,
    }
}

fn fake_hash(s: &str) -> [u8; 32] {
    // FNV-1a spread over 32 bytes: stable and distinct enough for fixtures.
    let mut out = [0u8; 32];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, slot) in out.iter_mut().enumerate() {
        for b in s.bytes().chain([i as u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        *slot = (h >> 24) as u8;
    }
    out
}

impl Index for MemIndex {
    fn snapshot(&self) -> Snapshot {
        self.snapshot.clone()
    }

    fn project(&self, name: &str) -> Option<ProjectInfo> {
        let norm = pinion_pep::ProjectName::new(name).ok()?;
        self.projects.get(norm.as_str()).map(|p| p.info.clone())
    }

    fn files(&self, project: &str, release: usize) -> Vec<FileInfo> {
        self.projects
            .get(project)
            .and_then(|p| p.files.get(release))
            .cloned()
            .unwrap_or_default()
    }

    fn metadata(&self, project: &str, release: usize, file: usize) -> Result<FileMeta, String> {
        let m = self
            .projects
            .get(project)
            .and_then(|p| p.meta.get(release))
            .and_then(|r| r.get(file))
            .ok_or("no such file")?;
        let parse_all = |v: &[String]| {
            v.iter()
                .map(|s| parse_dep(s))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(FileMeta {
            requires_dist: m.requires_dist.as_deref().map(parse_all).transpose()?,
            build: parse_all(&m.build)?,
            has_build_system: m.has_build_system,
            provides_extra: Vec::new(),
            unparsed: Vec::new(),
        })
    }

    fn url(&self, project: &str, release: usize, file: usize) -> String {
        let filename = self
            .projects
            .get(project)
            .map(|p| p.files[release][file].filename.as_str())
            .unwrap_or("");
        format!("https://files.example.org/{project}/{filename}")
    }

    fn names(&self) -> Vec<String> {
        self.projects.keys().cloned().collect()
    }
}
