//! Streams an sdist archive in memory and keeps only the members that can carry metadata.
//!
//! Nothing is written to disk. Decompressed bytes are counted against
//! `Limits::max_total_uncompressed` while the archive is walked, so a bomb stops early; every
//! path is checked before anything else is done with the member.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::rc::Rc;

use super::zip_range::{self, check_path};
use super::{ExtractError, Limits};

/// File names that may carry metadata, looked for at most this many components deep
/// (`top/src/pkg.egg-info/requires.txt`).
const MAX_CANDIDATE_DEPTH: usize = 4;
const CANDIDATE_NAMES: [&str; 5] = [
    "PKG-INFO",
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "requires.txt",
];
/// Kept candidate bytes are bounded by this many maximal members.
const KEPT_BUDGET_MEMBERS: u64 = 16;
/// Small text files that setup.cfg `file:` directives may name (`requirements.txt`,
/// `requirements/base.in`) are kept up to this size each...
const SIDE_FILE_MAX: u64 = 64 * 1024;
/// ...and this much in total; beyond it they are listed in `Members::paths` but not kept.
const SIDE_FILE_BUDGET: u64 = 2 * 1024 * 1024;
const SIDE_FILE_EXTENSIONS: [&str; 3] = [".txt", ".in", ".pip"];

/// The metadata-relevant part of an sdist.
#[derive(Debug, Default)]
pub(crate) struct Members {
    /// The archive's single top directory with a trailing `/`, or empty when files sit at
    /// the root.
    pub top: String,
    /// Candidate files by normalized path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every `*.egg-info` directory seen (normalized path, no trailing slash).
    pub egg_info_dirs: BTreeSet<String>,
    /// Every regular file (and hard link) of the archive, normalized, so a file that was
    /// not kept can be told from one that does not exist.
    pub paths: BTreeSet<String>,
}

impl Members {
    /// A file relative to the top directory.
    pub fn top_file(&self, rel: &str) -> Option<&[u8]> {
        self.files
            .get(&format!("{}{rel}", self.top))
            .map(Vec::as_slice)
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Gz,
    Bz2,
    Xz,
    Tar,
    Zip,
}

fn kind_of(filename: &str) -> Result<Kind, ExtractError> {
    let lower = filename.to_ascii_lowercase();
    let kind = if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Kind::Gz
    } else if lower.ends_with(".tar.bz2") || lower.ends_with(".tbz") || lower.ends_with(".tbz2") {
        Kind::Bz2
    } else if lower.ends_with(".tar.xz") || lower.ends_with(".txz") {
        Kind::Xz
    } else if lower.ends_with(".tar") {
        Kind::Tar
    } else if lower.ends_with(".zip") {
        Kind::Zip
    } else {
        return Err(ExtractError::Unsupported(format!(
            "sdist format of {filename}"
        )));
    };
    Ok(kind)
}

/// Drops `./` and empty components so `./pkg-1.0//PKG-INFO` and `pkg-1.0/PKG-INFO` agree.
fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Accumulates what the sdist logic needs while members stream by.
struct Collector<'l> {
    limits: &'l Limits,
    members: Members,
    count: usize,
    kept_bytes: u64,
    side_bytes: u64,
    /// Hard-linked candidates: (path, link target), resolved once all data is read.
    links: Vec<(String, String)>,
    /// First component shared by every member so far; `None` once they disagree or a file
    /// sits at the root.
    common_top: Option<Option<String>>,
}

impl<'l> Collector<'l> {
    fn new(limits: &'l Limits) -> Self {
        Collector {
            limits,
            members: Members::default(),
            count: 0,
            kept_bytes: 0,
            side_bytes: 0,
            links: Vec::new(),
            common_top: Some(None),
        }
    }

    /// Registers a member; returns its normalized path when its content should be kept.
    fn see(
        &mut self,
        raw_path: &str,
        is_file: bool,
        size: u64,
    ) -> Result<Option<String>, ExtractError> {
        check_path(raw_path)?;
        self.count += 1;
        if self.count > self.limits.max_members {
            return Err(ExtractError::TooManyMembers {
                limit: self.limits.max_members,
            });
        }
        let path = normalize(raw_path);
        if path.is_empty() {
            return Ok(None);
        }
        let comps: Vec<&str> = path.split('/').collect();
        self.common_top = match (self.common_top.take(), comps.as_slice()) {
            // macOS tar adds an AppleDouble `._name` file beside each member (`._pkg-1.0`
            // next to `pkg-1.0/`). It is resource-fork metadata, never part of the project,
            // and nixpkgs' unpackPhase (pkgs/stdenv/generic/setup.sh) picks the single top
            // directory regardless of such files, so a Nix build finds the project there.
            (top, [name]) if is_file && name.starts_with("._") => top,
            (_, [_]) if is_file => None,
            (Some(None), [first, ..]) => Some(Some(first.to_string())),
            (Some(Some(t)), [first, ..]) if t == *first => Some(Some(t)),
            _ => None,
        };
        let dir_comps = if is_file {
            &comps[..comps.len() - 1]
        } else {
            &comps[..]
        };
        if let Some(i) = dir_comps.iter().position(|c| c.ends_with(".egg-info"))
            && i < MAX_CANDIDATE_DEPTH - 1
        {
            self.members.egg_info_dirs.insert(comps[..=i].join("/"));
        }
        if is_file {
            self.members.paths.insert(path.clone());
        }
        let base = comps.last().copied().unwrap_or("");
        let shallow = is_file && comps.len() <= MAX_CANDIDATE_DEPTH;
        if shallow
            && !CANDIDATE_NAMES.contains(&base)
            && SIDE_FILE_EXTENSIONS.iter().any(|e| base.ends_with(e))
            && size <= SIDE_FILE_MAX
            && self.side_bytes + size <= SIDE_FILE_BUDGET
        {
            self.side_bytes += size;
            return Ok(Some(path));
        }
        if !(shallow && CANDIDATE_NAMES.contains(&base)) {
            return Ok(None);
        }
        if size > self.limits.max_member_bytes {
            return Err(ExtractError::TooLarge {
                what: path,
                size,
                limit: self.limits.max_member_bytes,
            });
        }
        self.count_kept(size)?;
        Ok(Some(path))
    }

    fn count_kept(&mut self, size: u64) -> Result<(), ExtractError> {
        self.kept_bytes = self.kept_bytes.saturating_add(size);
        let budget = self
            .limits
            .max_member_bytes
            .saturating_mul(KEPT_BUDGET_MEMBERS);
        if self.kept_bytes > budget {
            return Err(ExtractError::TooLarge {
                what: "metadata candidates in the archive".into(),
                size: self.kept_bytes,
                limit: budget,
            });
        }
        Ok(())
    }

    fn keep(&mut self, path: String, data: Vec<u8>) {
        // Duplicate members: the last one wins, as when unpacking.
        self.members.files.insert(path, data);
    }

    fn finish(mut self) -> Result<Members, ExtractError> {
        for (path, target) in std::mem::take(&mut self.links) {
            if let Some(data) = self.members.files.get(&target).cloned() {
                self.count_kept(data.len() as u64)?;
                self.members.files.insert(path, data);
            }
        }
        if let Some(Some(top)) = self.common_top {
            self.members.top = format!("{top}/");
        }
        Ok(self.members)
    }
}

pub(crate) fn read_sdist_members(
    filename: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Members, ExtractError> {
    match kind_of(filename)? {
        Kind::Zip => read_zip(bytes, limits),
        Kind::Tar => read_tar(bytes, limits),
        Kind::Gz => read_tar(flate2::read::GzDecoder::new(bytes), limits),
        Kind::Bz2 => read_tar(bzip2::read::BzDecoder::new(bytes), limits),
        Kind::Xz => {
            let mut out = CappedWriter {
                buf: Vec::new(),
                cap: limits.max_total_uncompressed,
                exceeded: false,
            };
            lzma_rs::xz_decompress(&mut io::BufReader::new(bytes), &mut out).map_err(|e| {
                if out.exceeded {
                    too_much_decompressed(limits)
                } else {
                    ExtractError::CorruptArchive {
                        what: format!("xz stream: {e}"),
                    }
                }
            })?;
            read_tar(out.buf.as_slice(), limits)
        }
    }
}

fn too_much_decompressed(limits: &Limits) -> ExtractError {
    ExtractError::TooLarge {
        what: "decompressed archive".into(),
        size: limits.max_total_uncompressed + 1,
        limit: limits.max_total_uncompressed,
    }
}

fn read_zip(bytes: &[u8], limits: &Limits) -> Result<Members, ExtractError> {
    let cd = zip_range::locate_central_directory(bytes, bytes.len() as u64)?;
    let cd_bytes = super::slice_span(bytes, cd.offset, cd.len, "central directory")?;
    let mut collector = Collector::new(limits);
    let mut total = 0u64;
    for entry in zip_range::entries(cd_bytes, limits.max_members)? {
        let is_file = !entry.name.ends_with('/');
        let Some(path) = collector.see(&entry.name, is_file, entry.uncompressed_size)? else {
            continue;
        };
        total = total.saturating_add(entry.uncompressed_size);
        if total > limits.max_total_uncompressed {
            return Err(too_much_decompressed(limits));
        }
        let data = zip_range::read_entry_in_archive(bytes, &entry, limits)?;
        collector.keep(path, data);
    }
    collector.finish()
}

fn read_tar<R: Read>(reader: R, limits: &Limits) -> Result<Members, ExtractError> {
    let exceeded = Rc::new(Cell::new(false));
    let capped = CappedReader {
        inner: reader,
        left: limits.max_total_uncompressed,
        exceeded: exceeded.clone(),
    };
    let mut archive = tar::Archive::new(capped);
    let map_err = |e: io::Error, what: &str| {
        if exceeded.get() {
            too_much_decompressed(limits)
        } else {
            ExtractError::CorruptArchive {
                what: format!("{what}: {e}"),
            }
        }
    };
    let mut collector = Collector::new(limits);
    for entry in archive.entries().map_err(|e| map_err(e, "tar"))? {
        let mut entry = entry.map_err(|e| map_err(e, "tar entry"))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if kind.is_hard_link() {
            // Old sdists store PKG-INFO once and hard-link the egg-info copy (or the reverse).
            if let Some(path) = collector.see(&raw, true, 0)?
                && let Some(target) = entry.link_name_bytes()
            {
                collector
                    .links
                    .push((path, normalize(&String::from_utf8_lossy(&target))));
            }
            continue;
        }
        let size = entry.header().size().map_err(|e| map_err(e, &raw))?;
        if kind.is_symlink() {
            // A `file:` directive naming it would read its target: it exists, unread.
            collector.members.paths.insert(normalize(&raw));
        }
        let Some(path) = collector.see(&raw, kind.is_file(), size)? else {
            continue;
        };
        let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
        (&mut entry)
            .take(limits.max_member_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|e| map_err(e, &path))?;
        if data.len() as u64 != size {
            return Err(ExtractError::CorruptArchive {
                what: format!("{path}: read {} bytes, the header says {size}", data.len()),
            });
        }
        collector.keep(path, data);
    }
    // Read past the end-of-archive blocks so the compressor's trailer (gzip CRC, bzip2 and
    // xz checks) is verified and a truncated download is not mistaken for a complete one.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| map_err(e, "archive trailer"))?;
    collector.finish()
}

/// Fails reads once `left` decompressed bytes have been produced.
struct CappedReader<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Distinguish a stream that ends exactly at the cap from one that goes on.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded.set(true);
                    Err(io::Error::other("decompressed size limit exceeded"))
                }
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

struct CappedWriter {
    buf: Vec<u8>,
    cap: u64,
    exceeded: bool,
}

impl Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() as u64 + data.len() as u64 > self.cap {
            self.exceeded = true;
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
