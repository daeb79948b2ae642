//! `Index` over the binary database (`pinion_db`). Requirements arrive pre-parsed; each
//! distinct marker string is parsed once and cached by its interned id.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::MarkerTree;

use crate::index::{Dep, FileInfo, FileKind, FileMeta, Index, ProjectInfo, Snapshot, parse_marker};
use pinion_db::{self as db, Database};

pub struct DbIndex<'a> {
    db: &'a Database,
    /// The file's sha256 when the caller already knows it (hashing a full-scale DB costs
    /// ~0.2 s per run).
    sha256: Option<String>,
    markers: RefCell<HashMap<u32, Option<MarkerTree>>>,
}

impl<'a> DbIndex<'a> {
    pub fn new(db: &'a Database) -> Self {
        DbIndex {
            db,
            sha256: None,
            markers: RefCell::default(),
        }
    }

    /// Uses `sha256` (lowercase hex, e.g. from the published manifest.json) in the lock
    /// instead of hashing the database file.
    pub fn with_sha256(self, sha256: String) -> Self {
        DbIndex {
            sha256: Some(sha256),
            ..self
        }
    }

    fn marker(&self, id: u32, text: &str) -> Result<MarkerTree, String> {
        if let Some(m) = self.markers.borrow().get(&id) {
            return m.clone().ok_or_else(|| format!("invalid marker {text:?}"));
        }
        let parsed = parse_marker(text);
        self.markers.borrow_mut().insert(id, parsed.clone());
        parsed.ok_or_else(|| format!("invalid marker {text:?}"))
    }

    fn deps(&self, set: db::ReqSet<'_>) -> Result<Option<Vec<Dep>>, String> {
        if !set.known() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(set.len());
        for r in set.iter() {
            let mut specs = Vec::new();
            for (op, v) in r.specifiers() {
                let version =
                    Version::from_str(v).map_err(|e| format!("requirement {r:?}: {e}"))?;
                specs.push(
                    VersionSpecifier::from_version(op, version)
                        .map_err(|e| format!("requirement {r:?}: {e}"))?,
                );
            }
            let marker = match r.marker() {
                Some((id, text)) => self
                    .marker(id, text)
                    .map_err(|e| format!("requirement {r:?}: {e}"))?,
                None => MarkerTree::TRUE,
            };
            out.push(Dep {
                name: r.name().to_string(),
                extras: r.extras().map(str::to_string).collect(),
                specifiers: VersionSpecifiers::from_iter(specs),
                marker,
            });
        }
        Ok(Some(out))
    }

    fn file(&self, project: &str, release: usize, file: usize) -> Option<db::File<'a>> {
        self.db
            .project(project)?
            .releases()
            .nth(release)?
            .files()
            .nth(file)
    }
}

impl Index for DbIndex<'_> {
    fn snapshot(&self) -> Snapshot {
        let info = self.db.info();
        Snapshot {
            format: info.format_version,
            created_at: info.created_at,
            serial: i64::try_from(info.serial).unwrap_or(i64::MAX),
            sha256: self.sha256.clone().unwrap_or_else(|| self.db.sha256_hex()),
            index_url: info.index_url,
        }
    }

    fn project(&self, name: &str) -> Option<ProjectInfo> {
        let p = self.db.project(name)?;
        Some(ProjectInfo {
            name: p.name().to_string(),
            display_name: p.display_name().to_string(),
            versions: p.releases().map(|r| r.version_str().to_string()).collect(),
        })
    }

    fn files(&self, project: &str, release: usize) -> Vec<FileInfo> {
        let Some(r) = self
            .db
            .project(project)
            .and_then(|p| p.releases().nth(release))
        else {
            return Vec::new();
        };
        r.files()
            .map(|f| FileInfo {
                filename: f.filename().to_string(),
                kind: match f.kind() {
                    db::FileKind::Wheel => FileKind::Wheel,
                    db::FileKind::Sdist => FileKind::Sdist,
                },
                python_tags: f.python_tags().map(str::to_string).collect(),
                abi_tags: f.abi_tags().map(str::to_string).collect(),
                platform_tags: f.platform_tags().map(str::to_string).collect(),
                requires_python: f.requires_python().map(str::to_string),
                upload_time: f.upload_time(),
                yanked: f.yanked(),
                sha256: *f.sha256(),
            })
            .collect()
    }

    fn metadata(&self, project: &str, release: usize, file: usize) -> Result<FileMeta, String> {
        let f = self
            .file(project, release, file)
            .ok_or_else(|| format!("{project}: no file #{file} in release #{release}"))?;
        let m = f.metadata();
        let mut build = self.deps(m.build_requires())?.unwrap_or_default();
        build.extend(self.deps(m.setup_requires())?.unwrap_or_default());
        Ok(FileMeta {
            requires_dist: self.deps(m.requires_dist())?,
            build,
            has_build_system: m.has_build_system(),
            provides_extra: m.provides_extra().map(str::to_string).collect(),
        })
    }

    fn url(&self, project: &str, release: usize, file: usize) -> String {
        self.file(project, release, file)
            .map(|f| f.url().into_owned())
            .unwrap_or_default()
    }

    fn names(&self) -> Vec<String> {
        self.db.projects().map(|p| p.name().to_string()).collect()
    }
}
