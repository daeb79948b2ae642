//! Projects parked between reading and writing.
//!
//! The writer wants projects in name order, while a crawl state keeps a project's rows
//! together in the order they were crawled. Reading in name order jumps around the file, and a
//! full-scale state (≈ 30 GB) does not fit in the page cache: the kernel then reads the file
//! several times over (measured: 4.1× the state's size at 1/10 scale in a memory-limited
//! cgroup, 106 GB for a 30.6 GB state at full scale). So [`super::StateReader`] reads the
//! state in stored order, encodes each project into a temporary file with [`encode`], and
//! hands them to the writer in name order from there with [`decode`]: the temporary file is a
//! fraction of the state (one copy of each distinct metadata per project, URLs of the usual
//! shape as their 32-byte digest) and its reads hit the page cache.
//!
//! The encoding lives only as long as one `dbgen build`; it is not a format anything else
//! reads. Every field of [`Project`] survives the round trip, including which files share one
//! `Arc<Metadata>` (the writer converts a shared metadata once).

use std::collections::HashMap;
use std::sync::Arc;

use pinion_db::layout::{self, get_varint, put_varint};
use pinion_db::model::{File, FileKind, Metadata, Project, Release, ReqSet};

const YANKED: u8 = 1;
/// The URL is the files.pythonhosted.org one of the file's name and a digest, which follows.
const PYTHONHOSTED: u8 = 1 << 1;
const KIND_SHIFT: u8 = 2;
const HAS_SIZE: u8 = 1 << 4;
const HAS_UPLOAD_TIME: u8 = 1 << 5;
const HAS_REQUIRES_PYTHON: u8 = 1 << 6;
const HAS_YANKED_REASON: u8 = 1 << 7;

/// The encoded project did not decode: the temporary file was damaged after it was written.
#[derive(Debug, thiserror::Error)]
#[error("the encoded project is damaged at byte {0}")]
pub struct Damaged(pub usize);

/// Appends `p`'s encoding to `out`.
pub fn encode(p: &Project, out: &mut Vec<u8>) {
    put_str(out, &p.name);
    put_str(out, &p.display_name);
    // Distinct metadata, in order of first use; files name them by position + 1.
    let mut table: HashMap<*const Metadata, u64> = HashMap::new();
    let mut distinct = Vec::new();
    for f in p.releases.iter().flat_map(|r| &r.files) {
        if let Some(m) = &f.metadata {
            table.entry(Arc::as_ptr(m)).or_insert_with(|| {
                distinct.push(m);
                distinct.len() as u64
            });
        }
    }
    put_varint(out, distinct.len() as u64);
    for m in distinct {
        put_metadata(out, m);
    }
    put_varint(out, p.releases.len() as u64);
    for r in &p.releases {
        put_str(out, &r.version);
        put_varint(out, r.files.len() as u64);
        for f in &r.files {
            let metadata = f.metadata.as_ref().map_or(0, |m| table[&Arc::as_ptr(m)]);
            put_file(out, f, metadata);
        }
    }
}

fn put_file(out: &mut Vec<u8>, f: &File, metadata: u64) {
    let digest = layout::pythonhosted_digest(&f.url, &f.filename);
    let kind = match f.kind {
        FileKind::Wheel => 0,
        FileKind::Sdist => 1,
        FileKind::Other => 2,
    };
    let flags = [
        (f.yanked, YANKED),
        (digest.is_some(), PYTHONHOSTED),
        (f.size.is_some(), HAS_SIZE),
        (f.upload_time.is_some(), HAS_UPLOAD_TIME),
        (f.requires_python.is_some(), HAS_REQUIRES_PYTHON),
        (f.yanked_reason.is_some(), HAS_YANKED_REASON),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(kind << KIND_SHIFT, |acc, (_, bit)| acc | bit);
    out.push(flags);
    put_str(out, &f.filename);
    out.extend_from_slice(&f.sha256);
    match digest {
        Some(d) => out.extend_from_slice(&d),
        None => put_str(out, &f.url),
    }
    if let Some(size) = f.size {
        put_varint(out, size);
    }
    if let Some(t) = f.upload_time {
        put_varint(out, layout::zigzag(t));
    }
    if let Some(rp) = &f.requires_python {
        put_str(out, rp);
    }
    if let Some(reason) = &f.yanked_reason {
        put_str(out, reason);
    }
    put_varint(out, metadata);
}

fn put_metadata(out: &mut Vec<u8>, m: &Metadata) {
    for set in [&m.requires_dist, &m.build_requires, &m.setup_requires] {
        put_opt_str(out, set.source.as_deref());
        put_strs(out, &set.requirements);
        put_strs(out, &set.unparsed);
    }
    put_strs(out, &m.provides_extra);
    put_opt_str(out, m.requires_python.as_deref());
    put_opt_str(out, m.build_backend.as_deref());
    out.push(u8::from(m.has_build_system));
    put_opt_str(out, m.unknown_reason.as_deref());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// `None` is 0, `Some(s)` is `s.len() + 1` then `s`.
fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => put_varint(out, 0),
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

fn put_strs(out: &mut Vec<u8>, strs: &[String]) {
    put_varint(out, strs.len() as u64);
    for s in strs {
        put_str(out, s);
    }
}

/// The project [`encode`] wrote into `bytes` (all of them).
pub fn decode(bytes: &[u8]) -> Result<Project, Damaged> {
    let mut c = Cursor { bytes, at: 0 };
    let name = c.str()?;
    let display_name = c.str()?;
    let n = c.count()?;
    let mut table = Vec::with_capacity(n);
    for _ in 0..n {
        table.push(Arc::new(c.metadata()?));
    }
    let n = c.count()?;
    let mut releases = Vec::with_capacity(n);
    for _ in 0..n {
        let version = c.str()?;
        let n = c.count()?;
        let mut files = Vec::with_capacity(n);
        for _ in 0..n {
            files.push(c.file(&table)?);
        }
        releases.push(Release { version, files });
    }
    if c.at != bytes.len() {
        return Err(Damaged(c.at));
    }
    Ok(Project {
        name,
        display_name,
        releases,
    })
}

struct Cursor<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Cursor<'_> {
    fn damaged(&self) -> Damaged {
        Damaged(self.at)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Damaged> {
        let end = self.at.checked_add(n).ok_or(Damaged(self.at))?;
        let taken = self.bytes.get(self.at..end).ok_or(Damaged(self.at))?;
        self.at = end;
        Ok(taken)
    }

    fn varint(&mut self) -> Result<u64, Damaged> {
        let mut rest = &self.bytes[self.at..];
        let before = rest.len();
        let v = get_varint(&mut rest).ok_or_else(|| self.damaged())?;
        self.at += before - rest.len();
        Ok(v)
    }

    /// A length or count: never more than the bytes left (each item takes at least one), so
    /// a damaged count cannot make a huge allocation.
    fn count(&mut self) -> Result<usize, Damaged> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.at)
            .ok_or_else(|| self.damaged())
    }

    fn byte(&mut self) -> Result<u8, Damaged> {
        Ok(self.take(1)?[0])
    }

    fn array(&mut self) -> Result<[u8; 32], Damaged> {
        let at = self.at;
        <[u8; 32]>::try_from(self.take(32)?).map_err(|_| Damaged(at))
    }

    fn utf8(&mut self, n: usize) -> Result<String, Damaged> {
        let at = self.at;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| Damaged(at))
    }

    fn str(&mut self) -> Result<String, Damaged> {
        let n = self.count()?;
        self.utf8(n)
    }

    fn opt_str(&mut self) -> Result<Option<String>, Damaged> {
        match self.count()? {
            0 => Ok(None),
            n => self.utf8(n - 1).map(Some),
        }
    }

    fn strs(&mut self) -> Result<Vec<String>, Damaged> {
        let n = self.count()?;
        (0..n).map(|_| self.str()).collect()
    }

    fn reqset(&mut self) -> Result<ReqSet, Damaged> {
        Ok(ReqSet {
            source: self.opt_str()?,
            requirements: self.strs()?,
            unparsed: self.strs()?,
        })
    }

    fn metadata(&mut self) -> Result<Metadata, Damaged> {
        Ok(Metadata {
            requires_dist: self.reqset()?,
            build_requires: self.reqset()?,
            setup_requires: self.reqset()?,
            provides_extra: self.strs()?,
            requires_python: self.opt_str()?,
            build_backend: self.opt_str()?,
            has_build_system: match self.byte()? {
                0 => false,
                1 => true,
                _ => return Err(Damaged(self.at - 1)),
            },
            unknown_reason: self.opt_str()?,
        })
    }

    fn file(&mut self, table: &[Arc<Metadata>]) -> Result<File, Damaged> {
        let flags = self.byte()?;
        let kind = match flags >> KIND_SHIFT & 3 {
            0 => FileKind::Wheel,
            1 => FileKind::Sdist,
            2 => FileKind::Other,
            _ => return Err(Damaged(self.at - 1)),
        };
        let filename = self.str()?;
        let sha256 = self.array()?;
        let url = if flags & PYTHONHOSTED != 0 {
            layout::pythonhosted_url(&self.array()?, &filename)
        } else {
            self.str()?
        };
        let size = (flags & HAS_SIZE != 0).then(|| self.varint()).transpose()?;
        let upload_time = (flags & HAS_UPLOAD_TIME != 0)
            .then(|| self.varint().map(layout::unzigzag))
            .transpose()?;
        let requires_python = (flags & HAS_REQUIRES_PYTHON != 0)
            .then(|| self.str())
            .transpose()?;
        let yanked_reason = (flags & HAS_YANKED_REASON != 0)
            .then(|| self.str())
            .transpose()?;
        let metadata = match self.varint()? {
            0 => None,
            k => Some(Arc::clone(
                usize::try_from(k - 1)
                    .ok()
                    .and_then(|i| table.get(i))
                    .ok_or_else(|| self.damaged())?,
            )),
        };
        Ok(File {
            filename,
            url,
            kind,
            sha256,
            size,
            upload_time,
            requires_python,
            yanked: flags & YANKED != 0,
            yanked_reason,
            metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z0-9._-]{0,12}", "\\PC{0,6}"]
    }

    fn reqset() -> impl Strategy<Value = ReqSet> {
        (
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..2),
        )
            .prop_map(|(source, requirements, unparsed)| ReqSet {
                source,
                requirements,
                unparsed,
            })
    }

    fn metadata() -> impl Strategy<Value = Metadata> {
        (
            (reqset(), reqset(), reqset()),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(text()),
            proptest::option::of(text()),
            any::<bool>(),
            proptest::option::of(text()),
        )
            .prop_map(|((rd, br, sr), extras, rp, backend, bs, reason)| Metadata {
                requires_dist: rd,
                build_requires: br,
                setup_requires: sr,
                provides_extra: extras,
                requires_python: rp,
                build_backend: backend,
                has_build_system: bs,
                unknown_reason: reason,
            })
    }

    /// A file; `metadata` picks from the project's shared table (`None`: no metadata).
    fn file() -> impl Strategy<Value = (File, Option<usize>)> {
        let kind = prop_oneof![
            Just(FileKind::Wheel),
            Just(FileKind::Sdist),
            Just(FileKind::Other)
        ];
        (
            ("[a-z]{1,6}-1\\.[0-9]\\.tar\\.gz", kind, any::<[u8; 32]>()),
            (any::<bool>(), any::<[u8; 32]>(), text()),
            (
                proptest::option::of(any::<u64>()),
                proptest::option::of(any::<i64>()),
            ),
            (
                proptest::option::of(text()),
                any::<bool>(),
                proptest::option::of(text()),
            ),
            proptest::option::of(0usize..3),
        )
            .prop_map(
                |(
                    (filename, kind, sha256),
                    (hosted, digest, other_url),
                    (size, upload_time),
                    (requires_python, yanked, yanked_reason),
                    metadata,
                )| {
                    let url = if hosted {
                        layout::pythonhosted_url(&digest, &filename)
                    } else {
                        other_url
                    };
                    let f = File {
                        filename,
                        url,
                        kind,
                        sha256,
                        size,
                        upload_time,
                        requires_python,
                        yanked,
                        yanked_reason,
                        metadata: None,
                    };
                    (f, metadata)
                },
            )
    }

    fn project() -> impl Strategy<Value = Project> {
        (
            text(),
            text(),
            proptest::collection::vec(metadata(), 1..3),
            proptest::collection::vec((text(), proptest::collection::vec(file(), 0..4)), 0..4),
        )
            .prop_map(|(name, display_name, table, releases)| {
                let table: Vec<Arc<Metadata>> = table.into_iter().map(Arc::new).collect();
                let releases = releases
                    .into_iter()
                    .map(|(version, files)| Release {
                        version,
                        files: files
                            .into_iter()
                            .map(|(mut f, m)| {
                                f.metadata = m.map(|i| Arc::clone(&table[i % table.len()]));
                                f
                            })
                            .collect(),
                    })
                    .collect();
                Project {
                    name,
                    display_name,
                    releases,
                }
            })
    }

    /// Which files share one `Arc`, as pairs of positions.
    fn sharing(p: &Project) -> Vec<(usize, usize)> {
        let files: Vec<&File> = p.releases.iter().flat_map(|r| &r.files).collect();
        let mut pairs = Vec::new();
        for (i, a) in files.iter().enumerate() {
            for (j, b) in files.iter().enumerate().skip(i + 1) {
                if let (Some(a), Some(b)) = (&a.metadata, &b.metadata)
                    && Arc::ptr_eq(a, b)
                {
                    pairs.push((i, j));
                }
            }
        }
        pairs
    }

    proptest! {
        #[test]
        fn round_trip(p in project()) {
            let mut bytes = Vec::new();
            encode(&p, &mut bytes);
            let back = decode(&bytes).expect("decodes");
            prop_assert_eq!(&back, &p);
            prop_assert_eq!(sharing(&back), sharing(&p));
        }

        #[test]
        fn a_cut_encoding_is_damaged_not_a_panic(p in project(), cut in any::<prop::sample::Index>()) {
            let mut bytes = Vec::new();
            encode(&p, &mut bytes);
            let cut = cut.index(bytes.len());
            prop_assert!(decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn usual_urls_are_stored_as_their_digest() {
        let filename = "demo-1.0.tar.gz".to_string();
        let digest = [7u8; 32];
        let url = layout::pythonhosted_url(&digest, &filename);
        let p = |url: String| Project {
            name: "demo".into(),
            display_name: "demo".into(),
            releases: vec![Release {
                version: "1.0".into(),
                files: vec![File {
                    filename: filename.clone(),
                    url,
                    ..File::default()
                }],
            }],
        };
        let (mut usual, mut other) = (Vec::new(), Vec::new());
        encode(&p(url.clone()), &mut usual);
        encode(&p(url.replace("https", "http")), &mut other);
        // The other URL (one byte shorter) is stored whole behind its length's 1-byte varint.
        assert_eq!(other.len() - usual.len(), 1 + (url.len() - 1) - 32);
        assert_eq!(
            decode(&usual).expect("decodes").releases[0].files[0].url,
            url
        );
    }
}
