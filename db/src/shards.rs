//! Hash shards (`data-format.md`, *Hash shards*): the per-file sha256 and files.pythonhosted.org
//! URL digests that the core database leaves out, grouped by project into files a resolution
//! fetches only for the projects it picks. A [`ShardSet`] holds the shards at hand, each
//! checked against the sha256 the core database's manifest lists for it and against the
//! core's projects and file counts.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::layout::{self, SectionKind};
use super::{Database, DbError, File};

/// The hashes of one file, from its project's shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHashes {
    pub sha256: [u8; 32],
    /// files.pythonhosted.org blake2b-256 path digest; zero when the core stores the URL.
    pub url_digest: [u8; 32],
}

/// The shards loaded so far, by project.
#[derive(Default)]
pub struct ShardSet {
    present: BTreeSet<u32>,
    by_project: HashMap<String, Vec<[u8; 64]>>,
}

fn bad(index: u32, msg: impl std::fmt::Display) -> DbError {
    DbError::Invariant(format!(
        "hash shard {}: {msg}",
        layout::shard_file_name(index)
    ))
}

impl Database {
    /// Number of hash shards (a power of two).
    pub fn shard_count(&self) -> u32 {
        (self.section(SectionKind::ShardManifest).len() / 32) as u32
    }

    /// The sha256 that shard `index`'s file must have.
    pub fn shard_sha256(&self, index: u32) -> Option<&[u8; 32]> {
        self.records::<[u8; 32]>(SectionKind::ShardManifest)
            .get(index as usize)
    }

    /// The shard holding `name`'s hashes (`name` normalized).
    pub fn shard_of(&self, name: &str) -> u32 {
        layout::shard_of(name, self.shard_count())
    }
}

impl ShardSet {
    pub fn new() -> ShardSet {
        ShardSet::default()
    }

    /// Whether shard `index` is loaded.
    pub fn has(&self, index: u32) -> bool {
        self.present.contains(&index)
    }

    /// Loads every `shard-XXXX.bin` in `dir` (other files are ignored).
    pub fn load_dir(db: &Database, dir: &Path) -> Result<ShardSet, DbError> {
        let io = |source| DbError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut set = ShardSet::new();
        for index in 0..db.shard_count() {
            let path = dir.join(layout::shard_file_name(index));
            match std::fs::read(&path) {
                Ok(bytes) => {
                    set.add(db, index, &bytes)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(set)
    }

    /// Adds shard `index` after checking it: its sha256 is the manifest's, its header names
    /// this shard of this many, every project it lists is in this shard and in the core with
    /// as many files, and a URL digest is present exactly for the files whose URL the core
    /// does not store. Returns how many projects it lists; that these are all of the shard's
    /// projects is checked by `Database::verify_shards` (a pass over every project, too slow
    /// for each resolution; the manifest's sha256 already pins the content).
    pub fn add(&mut self, db: &Database, index: u32, bytes: &[u8]) -> Result<u32, DbError> {
        let want = db.shard_sha256(index).ok_or_else(|| {
            bad(
                index,
                format!("the database has {} shards", db.shard_count()),
            )
        })?;
        let got: [u8; 32] = Sha256::digest(bytes).into();
        if &got != want {
            return Err(DbError::ShardSha256 {
                shard: layout::shard_file_name(index),
                expected: layout::hex_lower(want),
                actual: layout::hex_lower(&got),
            });
        }
        let header = bytes
            .get(..layout::SHARD_HEADER_LEN)
            .ok_or_else(|| bad(index, "truncated header"))?;
        let word = |i: usize| u32::from_le_bytes(header[8 + 4 * i..12 + 4 * i].try_into().unwrap());
        if header[..8] != layout::SHARD_MAGIC || word(0) != layout::FORMAT_VERSION {
            return Err(bad(
                index,
                format!("not a format {} hash shard", layout::FORMAT_VERSION),
            ));
        }
        if word(1) != index || word(2) != db.shard_count() || word(5) != 0 {
            return Err(bad(index, "header names another shard"));
        }
        let (projects, files) = (word(3), word(4) as usize);
        let mut rest = &bytes[layout::SHARD_HEADER_LEN..];
        let mut listed = Vec::with_capacity(projects as usize);
        for _ in 0..projects {
            let len = layout::get_varint_u32(&mut rest).ok_or_else(|| bad(index, "truncated"))?;
            let (name, after) = rest
                .split_at_checked(len as usize)
                .ok_or_else(|| bad(index, "truncated"))?;
            rest = after;
            let name = std::str::from_utf8(name).map_err(|_| bad(index, "name not UTF-8"))?;
            let count = layout::get_varint_u32(&mut rest).ok_or_else(|| bad(index, "truncated"))?;
            listed.push((name, count as usize));
        }
        if rest.len() != files * layout::SHARD_FILE_LEN
            || listed.iter().map(|(_, n)| n).sum::<usize>() != files
        {
            return Err(bad(index, "file count disagrees with its length"));
        }
        let mut entries = rest.chunks_exact(layout::SHARD_FILE_LEN);
        let mut prev: Option<&str> = None;
        for (name, count) in listed {
            if prev.is_some_and(|p| p >= name) || db.shard_of(name) != index {
                return Err(bad(
                    index,
                    format!("project `{name}` out of order or place"),
                ));
            }
            prev = Some(name);
            let project = db
                .project(name)
                .filter(|p| p.name() == name)
                .ok_or_else(|| bad(index, format!("project `{name}` is not in the database")))?;
            let core: Vec<File<'_>> = project.releases().flat_map(|r| r.files()).collect();
            if core.len() != count {
                return Err(bad(
                    index,
                    format!("`{name}` has {count} files, the database {}", core.len()),
                ));
            }
            let mut hashes = Vec::with_capacity(count);
            for f in core {
                let e: [u8; 64] = entries.next().expect("counted above").try_into().unwrap();
                if (e[32..] == [0; 32]) != f.url_string().is_some() {
                    return Err(bad(
                        index,
                        format!("`{}`: URL digest present iff no URL string", f.filename()),
                    ));
                }
                hashes.push(e);
            }
            self.by_project.insert(name.to_string(), hashes);
        }
        self.present.insert(index);
        Ok(projects)
    }

    /// `f`'s hashes, when its project's shard is loaded.
    pub fn hashes(&self, project: &str, f: &File<'_>) -> Option<FileHashes> {
        let e = self
            .by_project
            .get(project)?
            .get(f.index_in_project() as usize)?;
        let (sha256, url_digest) = e.split_at(32);
        Some(FileHashes {
            sha256: sha256.try_into().unwrap(),
            url_digest: url_digest.try_into().unwrap(),
        })
    }

    /// `f`'s download URL: the stored string, or files.pythonhosted.org's URL rebuilt from
    /// the shard's digest (`None` when that shard is not loaded).
    pub fn url<'a>(&self, project: &str, f: &File<'a>) -> Option<Cow<'a, str>> {
        if let Some(u) = f.url_string() {
            return Some(Cow::Borrowed(u));
        }
        let h = self.hashes(project, f)?;
        Some(Cow::Owned(layout::pythonhosted_url(
            &h.url_digest,
            &f.filename(),
        )))
    }
}
