//! [`PackageSource`] over a `pinion_db::model::Universe` held in memory, for tests only
//! (feature `test-source`): the universe as the crawler would hand it to the writer, read
//! without the writer's filters, sorting or encoding. Requirement strings are parsed with
//! pep508_rs when the source is built; one that does not parse (or names a URL) is kept
//! as unparsed, so the set reads as partial, as the DB stores it.
//!
//! `scenario` runs the same universe through the real writer and reader, so a test can ask
//! both sources and compare.

use std::collections::BTreeMap;
use std::convert::Infallible;

use pep440_rs::VersionSpecifiers;
use pinion_db::model::{self, Universe};

use super::{
    Dep, FileId, FileInfo, FileKind, FileMeta, PackageSource, ProjectInfo, ReleaseId, Snapshot,
};

/// Every file's metadata is parsed up front, so reading it cannot fail.
#[derive(Clone, Debug)]
pub struct MemorySource {
    snapshot: Snapshot,
    projects: BTreeMap<String, MemProject>,
}

#[derive(Clone, Debug)]
struct MemProject {
    info: ProjectInfo,
    /// Per release: its stored files (wheels and sdists) with their metadata and URL.
    files: Vec<Vec<(FileInfo, FileMeta, String)>>,
}

/// Why a requirement string cannot become a [`Dep`].
#[derive(Debug, thiserror::Error)]
pub enum DepError {
    #[error("{0}")]
    Parse(String),
    #[error("{0:?} is a URL requirement")]
    Url(String),
}

/// Parses a PEP 508 string into a `Dep` (the DB stores requirements as parts instead).
pub fn parse_dep(raw: &str) -> Result<Dep, DepError> {
    let req = pinion_pep::parse_requirement(raw).map_err(|e| DepError::Parse(e.to_string()))?;
    let specifiers = match req.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s,
        Some(pep508_rs::VersionOrUrl::Url(_)) => return Err(DepError::Url(raw.to_string())),
        None => VersionSpecifiers::empty(),
    };
    let name = pinion_pep::ProjectName::new(req.name.as_ref())
        .map_err(|e| DepError::Parse(e.to_string()))?
        .into_string();
    Ok(Dep {
        name,
        extras: req.extras.iter().map(|e| e.to_string()).collect(),
        specifiers,
        marker: req.marker,
    })
}

impl MemorySource {
    /// The universe as published. `created_at` stands in for the DB header's creation time.
    pub fn new(universe: &Universe, created_at: i64) -> MemorySource {
        let snapshot = Snapshot {
            format: pinion_db::layout::FORMAT_VERSION,
            created_at,
            serial: i64::try_from(universe.last_serial).unwrap_or(i64::MAX),
            // A memory source has no bytes to hash.
            sha256: String::new(),
            index_url: universe.index_url.clone(),
        };
        let projects = universe
            .projects
            .iter()
            .map(|p| (p.name.clone(), project(p)))
            .collect();
        MemorySource { snapshot, projects }
    }

    fn file(&self, project: &str, file: FileId) -> &(FileInfo, FileMeta, String) {
        self.projects
            .get(project)
            .and_then(|p| p.files.get(file.release.position()))
            .and_then(|r| r.get(file.position))
            .unwrap_or_else(|| panic!("`{project}` has no {file}: an id of another source"))
    }
}

fn project(p: &model::Project) -> MemProject {
    let mut versions = Vec::new();
    let mut files = Vec::new();
    for r in &p.releases {
        versions.push(r.version.clone());
        files.push(r.files.iter().filter_map(file).collect());
    }
    MemProject {
        info: ProjectInfo {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            versions,
        },
        files,
    }
}

/// A stored file (wheels and sdists), its metadata and URL.
fn file(f: &model::File) -> Option<(FileInfo, FileMeta, String)> {
    let (kind, tags) = match f.kind {
        model::FileKind::Other => return None,
        model::FileKind::Sdist => (FileKind::Sdist, [vec![], vec![], vec![]]),
        model::FileKind::Wheel => {
            // `name-version(-build)?-python-abi-platform.whl`: the last three fields.
            let stem = f.filename.strip_suffix(".whl")?;
            let mut fields = stem.rsplitn(4, '-');
            let split = |s: Option<&str>| -> Vec<String> {
                s.unwrap_or("").split('.').map(str::to_string).collect()
            };
            let (plat, abi, py) = (fields.next(), fields.next(), fields.next());
            (FileKind::Wheel, [split(py), split(abi), split(plat)])
        }
    };
    let [python_tags, abi_tags, platform_tags] = tags;
    let info = FileInfo {
        filename: f.filename.clone(),
        kind,
        python_tags,
        abi_tags,
        platform_tags,
        requires_python: f.requires_python.clone(),
        upload_time: f.upload_time,
        yanked: f.yanked,
        sha256: f.sha256,
    };
    let meta = f.metadata.as_deref().map(metadata).unwrap_or_default();
    Some((info, meta, f.url.clone()))
}

fn metadata(m: &model::Metadata) -> FileMeta {
    let mut unparsed = Vec::new();
    let mut set = |s: &model::ReqSet| -> Option<Vec<Dep>> {
        s.source.as_ref()?;
        let mut deps = Vec::new();
        for r in &s.requirements {
            match parse_dep(r) {
                Ok(d) => deps.push(d),
                Err(_) => unparsed.push(r.clone()),
            }
        }
        unparsed.extend(s.unparsed.iter().cloned());
        Some(deps)
    };
    let requires_dist = set(&m.requires_dist);
    let mut build = set(&m.build_requires).unwrap_or_default();
    build.extend(set(&m.setup_requires).unwrap_or_default());
    FileMeta {
        requires_dist,
        build,
        has_build_system: m.has_build_system,
        provides_extra: m.provides_extra.clone(),
        unparsed,
    }
}

impl PackageSource for MemorySource {
    type Error = Infallible;

    fn snapshot(&self) -> Snapshot {
        self.snapshot.clone()
    }

    fn project(&self, name: &str) -> Option<ProjectInfo> {
        let norm = pinion_pep::ProjectName::new(name).ok()?;
        self.projects.get(norm.as_str()).map(|p| p.info.clone())
    }

    fn files(&self, project: &str, release: ReleaseId) -> Vec<FileInfo> {
        self.projects
            .get(project)
            .and_then(|p| p.files.get(release.position()))
            .map(|r| r.iter().map(|(f, _, _)| f.clone()).collect())
            .unwrap_or_default()
    }

    fn metadata(&self, project: &str, file: FileId) -> Result<FileMeta, Infallible> {
        Ok(self.file(project, file).1.clone())
    }

    fn url(&self, project: &str, file: FileId) -> String {
        self.file(project, file).2.clone()
    }

    fn names(&self) -> Vec<String> {
        self.projects.keys().cloned().collect()
    }
}
