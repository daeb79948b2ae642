//! [`PackageSource`] over the binary database (`pinion_db`). Requirements arrive as stored
//! parts (name, extras, operator + version text, interned marker); each specifier's version
//! text is parsed here, and each distinct marker string once, cached by its interned id.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::MarkerTree;

use super::{
    Dep, FileId, FileInfo, FileKind, FileMeta, PackageSource, ProjectInfo, ReleaseId, Snapshot,
    SourceError, parse_marker,
};
use pinion_db::{self as db, Database, ShardSet};

pub struct DbSource<'a> {
    db: &'a Database,
    /// The file's sha256 when the caller already knows it (hashing a full-scale DB costs
    /// ~0.2 s per run).
    sha256: Option<String>,
    markers: RefCell<HashMap<u32, Option<MarkerTree>>>,
    /// The hash shards at hand; files of other shards read with a zero sha256 and no URL.
    shards: ShardSet,
    /// Shards whose hashes were asked for (a picked file's URL) but are not at hand.
    missing: RefCell<BTreeSet<u32>>,
}

impl<'a> DbSource<'a> {
    pub fn new(db: &'a Database) -> Self {
        DbSource {
            db,
            sha256: None,
            markers: RefCell::default(),
            shards: ShardSet::new(),
            missing: RefCell::default(),
        }
    }

    /// Uses these hash shards for the picked files' sha256 and URLs.
    pub fn with_shards(self, shards: ShardSet) -> Self {
        DbSource { shards, ..self }
    }

    /// Shards a lock needed but did not have: the lock written without them is incomplete.
    pub fn missing_shards(&self) -> BTreeSet<u32> {
        self.missing.borrow().clone()
    }

    pub fn shards(&self) -> &ShardSet {
        &self.shards
    }

    /// Uses `sha256` (lowercase hex, e.g. from the published manifest.json) in the lock
    /// instead of hashing the database file.
    pub fn with_sha256(self, sha256: String) -> Self {
        DbSource {
            sha256: Some(sha256),
            ..self
        }
    }

    /// The parsed marker interned as `id` (`None`: not a valid marker).
    fn marker(&self, id: u32, text: &str) -> Option<MarkerTree> {
        if let Some(m) = self.markers.borrow().get(&id) {
            return m.clone();
        }
        let parsed = parse_marker(text);
        self.markers.borrow_mut().insert(id, parsed.clone());
        parsed
    }

    fn deps(&self, set: db::ReqSet<'_>) -> Result<Option<Vec<Dep>>, SourceError> {
        if !set.known() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(set.len());
        for r in set.iter() {
            let mut specs = Vec::new();
            for (op, v) in r.specifiers() {
                let version = Version::from_str(v).map_err(|source| SourceError::BadVersion {
                    requirement: format!("{r:?}"),
                    source,
                })?;
                specs.push(
                    VersionSpecifier::from_version(op, version).map_err(|source| {
                        SourceError::BadSpecifier {
                            requirement: format!("{r:?}"),
                            source,
                        }
                    })?,
                );
            }
            let marker = match r.marker() {
                Some((id, text)) => {
                    self.marker(id, text)
                        .ok_or_else(|| SourceError::BadMarker {
                            requirement: format!("{r:?}"),
                            marker: text.to_string(),
                        })?
                }
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

    fn file(&self, project: &str, file: FileId) -> Option<db::File<'a>> {
        self.db
            .project(project)?
            .releases()
            .nth(file.release.position())?
            .files()
            .nth(file.position)
    }
}

impl PackageSource for DbSource<'_> {
    type Error = SourceError;

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

    fn files(&self, project: &str, release: ReleaseId) -> Vec<FileInfo> {
        let Some(r) = self
            .db
            .project(project)
            .and_then(|p| p.releases().nth(release.position()))
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
                // Format 3 keeps release upload times only (the earliest of its files').
                upload_time: r.upload_time(),
                yanked: f.yanked(),
                sha256: self
                    .shards
                    .hashes(project_name(self.db, project), &f)
                    .map_or([0; 32], |h| h.sha256),
            })
            .collect()
    }

    fn metadata(&self, project: &str, file: FileId) -> Result<FileMeta, SourceError> {
        let f = self
            .file(project, file)
            .ok_or_else(|| SourceError::NoSuchFile {
                project: project.to_string(),
                file,
            })?;
        let m = f.metadata();
        let mut build = self.deps(m.build_requires())?.unwrap_or_default();
        build.extend(self.deps(m.setup_requires())?.unwrap_or_default());
        Ok(FileMeta {
            requires_dist: self.deps(m.requires_dist())?,
            build,
            has_build_system: m.has_build_system(),
            provides_extra: m.provides_extra().map(str::to_string).collect(),
            unparsed: m.unparsed().map(str::to_string).collect(),
        })
    }

    fn url(&self, project: &str, file: FileId) -> String {
        let Some(f) = self.file(project, file) else {
            return String::new();
        };
        let name = project_name(self.db, project);
        match self.shards.url(name, &f) {
            // The sha256 is needed as well, so the shard is needed even for a stored URL.
            Some(url) if self.shards.hashes(name, &f).is_some() => url.into_owned(),
            _ => {
                self.missing.borrow_mut().insert(self.db.shard_of(name));
                String::new()
            }
        }
    }

    fn names(&self) -> Vec<String> {
        self.db.projects().map(|p| p.name().to_string()).collect()
    }
}

/// The normalized name of `project` (any spelling), as shards key it.
fn project_name<'d>(db: &'d Database, project: &str) -> &'d str {
    db.project(project).map_or("", |p| p.name())
}
