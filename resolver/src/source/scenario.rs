//! Test scenarios (feature `test-source`): a small `pinion_db::model::Universe` built by hand,
//! read either as a [`MemorySource`] or as a real database — written by `pinion_db`'s writer,
//! opened by its reader, hashes and URLs read from its hash shards — through [`DbSource`].
//! Running a test against both checks the path users run (stored parts rebuilt into
//! requirements) against the plain model.

use std::sync::Arc;

use pinion_db::model::{File, FileKind, Metadata, Project, Release, ReqSet, Universe};
use pinion_db::{Database, DbError, ShardSet, WriteError};

use super::db::DbSource;
use super::memory::MemorySource;
use crate::candidates::hex;

/// A universe under construction; projects and releases are created on first mention.
#[derive(Clone, Debug)]
pub struct Scenario {
    universe: Universe,
    /// The DB header's creation time (the memory source reports the same).
    pub created_at: i64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::new()
    }
}

/// Why a scenario could not be written or read back as a database.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the writer refused the scenario: {0}")]
    Write(#[from] WriteError),
    #[error("the reader refused the written database: {0}")]
    Read(#[from] DbError),
}

impl Scenario {
    pub fn new() -> Scenario {
        Scenario {
            universe: Universe {
                index_url: "https://pypi.org/simple/".into(),
                last_serial: 1,
                projects: Vec::new(),
            },
            created_at: 1_700_000_000,
        }
    }

    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// Adds project `name` (any spelling; the first one is its display name) if new.
    pub fn add_project(&mut self, name: &str) -> &mut Project {
        let norm = pinion_pep::ProjectName::new(name)
            .expect("scenario project names are valid")
            .into_string();
        let i = match self.universe.projects.iter().position(|p| p.name == norm) {
            Some(i) => i,
            None => {
                self.universe.projects.push(Project {
                    name: norm,
                    display_name: name.to_string(),
                    releases: Vec::new(),
                });
                self.universe.projects.len() - 1
            }
        };
        &mut self.universe.projects[i]
    }

    /// Adds `file` to `name`'s release `version` (created on first use).
    pub fn add_file(&mut self, name: &str, version: &str, file: File) -> &mut Self {
        let project = self.add_project(name);
        match project.releases.iter_mut().find(|r| r.version == version) {
            Some(r) => r.files.push(file),
            None => project.releases.push(Release {
                version: version.to_string(),
                files: vec![file],
            }),
        }
        self
    }

    /// Adds a pure-Python wheel `name-version-py3-none-any.whl` with these requirements.
    pub fn add_wheel(&mut self, name: &str, version: &str, requires: &[&str]) -> &mut Self {
        let mut file = wheel_file(name, version, "py3", "none", "any");
        file.metadata = Some(metadata(Some(requires), &[]));
        self.add_file(name, version, file)
    }

    pub fn memory(&self) -> MemorySource {
        MemorySource::new(&self.universe, self.created_at)
    }

    /// Writes the universe with the real writer and opens it with the real reader.
    pub fn database(&self) -> Result<ScenarioDb, ScenarioError> {
        let written = pinion_db::write_db(
            &self.universe,
            &pinion_db::BuildOptions::new(self.created_at),
        )?;
        let db = Database::from_bytes(written.db)?;
        let out = ScenarioDb {
            db,
            shards: written.shards,
        };
        out.shard_set()?;
        Ok(out)
    }
}

/// A scenario written as a database, with its hash shards.
pub struct ScenarioDb {
    pub db: Database,
    pub shards: Vec<Vec<u8>>,
}

impl ScenarioDb {
    fn shard_set(&self) -> Result<ShardSet, DbError> {
        let mut set = ShardSet::new();
        for (i, bytes) in self.shards.iter().enumerate() {
            let i = u32::try_from(i).expect("at most 65536 shards");
            set.add(&self.db, i, bytes)?;
        }
        Ok(set)
    }

    /// The database as the resolver binary reads it, every shard at hand.
    pub fn source(&self) -> DbSource<'_> {
        let shards = self
            .shard_set()
            .expect("the shards were checked when the scenario was written");
        DbSource::new(&self.db).with_shards(shards)
    }
}

/// Metadata as the crawler records it: requirement strings canonicalized (those that do not
/// parse are kept as unparsed); `requires: None` = requirements unknown. Build requirements
/// come from `[build-system]`, so their presence sets `has_build_system`.
pub fn metadata(requires: Option<&[&str]>, build: &[&str]) -> Arc<Metadata> {
    let set = |source: &str, reqs: &[&str]| {
        let mut set = ReqSet::known(source, Vec::new());
        for r in reqs {
            match pinion_pep::canonical_requirement(r) {
                Ok(c) => set.requirements.push(c),
                Err(_) => set.unparsed.push(r.to_string()),
            }
        }
        set
    };
    Arc::new(Metadata {
        requires_dist: requires.map_or_else(ReqSet::default, |r| set("metadata", r)),
        build_requires: if build.is_empty() {
            ReqSet::default()
        } else {
            set("pyproject", build)
        },
        has_build_system: !build.is_empty(),
        ..Metadata::default()
    })
}

/// A wheel with a deterministic fake sha256 and a files.pythonhosted.org URL (both derived
/// from its filename); metadata unknown until set.
pub fn wheel_file(name: &str, version: &str, py: &str, abi: &str, plat: &str) -> File {
    file(
        format!("{}-{version}-{py}-{abi}-{plat}.whl", name.replace('-', "_")),
        FileKind::Wheel,
    )
}

/// An sdist `name-version.tar.gz`; metadata unknown until set.
pub fn sdist_file(name: &str, version: &str) -> File {
    file(format!("{name}-{version}.tar.gz"), FileKind::Sdist)
}

fn file(filename: String, kind: FileKind) -> File {
    let blake = hex(&fake_hash(&format!("blake2b {filename}")));
    File {
        url: format!(
            "https://files.pythonhosted.org/packages/{}/{}/{}/{filename}",
            &blake[..2],
            &blake[2..4],
            &blake[4..]
        ),
        sha256: fake_hash(&filename),
        filename,
        kind,
        size: Some(1000),
        upload_time: Some(1_600_000_000),
        ..File::default()
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
