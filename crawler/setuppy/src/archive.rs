//! Unpacks an untrusted sdist (`.tar.gz`, `.tgz`, `.tar.bz2`, `.zip`) into a directory.
//!
//! The archive is hostile input: member paths that are absolute or contain `..` are refused,
//! links are never created (a link to an already-extracted file inside the tree becomes a
//! copy, a link leaving the tree is refused, anything else is skipped), and member count,
//! per-file and total sizes are capped so a zip bomb cannot fill the disk.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use crate::SetupPyError;

/// Caps applied while unpacking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_members: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_members: 20_000,
            max_file_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
        }
    }
}

struct Unpacker<'a> {
    filename: &'a str,
    dest: &'a Path,
    limits: Limits,
    members: usize,
    total: u64,
}

impl Unpacker<'_> {
    fn unsafe_member(&self, member: &str, reason: &str) -> SetupPyError {
        SetupPyError::UnsafeArchive {
            sdist: self.filename.to_string(),
            member: member.to_string(),
            reason: reason.to_string(),
        }
    }

    fn io(&self, e: io::Error) -> SetupPyError {
        SetupPyError::Archive {
            sdist: self.filename.to_string(),
            message: e.to_string(),
        }
    }

    /// Maps a member path to a path under `dest`, refusing anything that could leave it.
    fn target(&self, member: &str) -> Result<Option<PathBuf>, SetupPyError> {
        let mut rel = PathBuf::new();
        for component in Path::new(member).components() {
            match component {
                Component::Normal(part) => rel.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    return Err(self.unsafe_member(member, "path contains `..`"));
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.unsafe_member(member, "absolute path"));
                }
            }
        }
        Ok((!rel.as_os_str().is_empty()).then(|| self.dest.join(rel)))
    }

    fn count_member(&mut self, member: &str) -> Result<(), SetupPyError> {
        self.members += 1;
        if self.members > self.limits.max_members {
            return Err(self.unsafe_member(
                member,
                &format!("more than {} members", self.limits.max_members),
            ));
        }
        Ok(())
    }

    fn write_file(
        &mut self,
        member: &str,
        target: &Path,
        reader: &mut dyn Read,
    ) -> Result<(), SetupPyError> {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| self.io(e))?;
        }
        let mut file = fs::File::create(target).map_err(|e| self.io(e))?;
        let cap = self
            .limits
            .max_file_bytes
            .min(self.limits.max_total_bytes - self.total);
        // Read one byte past the cap to tell "exactly at the cap" from "over it".
        let written = io::copy(&mut reader.take(cap + 1), &mut file).map_err(|e| self.io(e))?;
        if written > cap {
            return Err(self.unsafe_member(member, "member or archive exceeds the size cap"));
        }
        self.total += written;
        Ok(())
    }

    /// Resolves a link target (relative to the link's directory, or to the archive root for
    /// hard links) lexically; `None` when it leaves the tree.
    fn link_source(&self, base: &Path, target: &Path) -> Option<PathBuf> {
        if target.is_absolute() {
            return None;
        }
        let mut resolved = base.to_path_buf();
        for component in target.components() {
            match component {
                Component::Normal(part) => resolved.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !resolved.pop() {
                        return None;
                    }
                }
                Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        Some(self.dest.join(resolved))
    }

    fn copy_link(
        &mut self,
        member: &str,
        target: &Path,
        base: &Path,
        link: &Path,
    ) -> Result<(), SetupPyError> {
        let Some(source) = self.link_source(base, link) else {
            return Err(self.unsafe_member(member, "link points outside the archive"));
        };
        // symlink_metadata: nothing we created is a link, but be explicit about not following.
        match fs::symlink_metadata(&source) {
            Ok(meta) if meta.is_file() => {
                let mut file = fs::File::open(&source).map_err(|e| self.io(e))?;
                self.write_file(member, target, &mut file)
            }
            _ => {
                tracing::debug!(
                    sdist = self.filename,
                    member,
                    "skipping link to a directory or a later member"
                );
                Ok(())
            }
        }
    }

    fn unpack_tar(&mut self, reader: impl Read) -> Result<(), SetupPyError> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(|e| self.io(e))? {
            let mut entry = entry.map_err(|e| self.io(e))?;
            let member = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            self.count_member(&member)?;
            let Some(target) = self.target(&member)? else {
                continue;
            };
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                fs::create_dir_all(&target).map_err(|e| self.io(e))?;
            } else if kind.is_file() || kind == tar::EntryType::Continuous {
                self.write_file(&member, &target, &mut entry)?;
            } else if kind.is_symlink() || kind.is_hard_link() {
                let link = entry.link_name().map_err(|e| self.io(e))?;
                let Some(link) = link else { continue };
                let link = link.into_owned();
                let base = if kind.is_hard_link() {
                    PathBuf::new()
                } else {
                    Path::new(&member)
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default()
                };
                self.copy_link(&member, &target, &base, &link)?;
            }
            // Devices, fifos and the like are not needed to run setup.py.
        }
        Ok(())
    }

    fn unpack_zip(&mut self, bytes: &[u8]) -> Result<(), SetupPyError> {
        let bad = |e: zip::result::ZipError| SetupPyError::Archive {
            sdist: self.filename.to_string(),
            message: e.to_string(),
        };
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(bad)?;
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).map_err(bad)?;
            let member = file.name().map_err(bad)?.into_owned();
            self.count_member(&member)?;
            let Some(target) = self.target(&member)? else {
                continue;
            };
            if file.is_dir() {
                fs::create_dir_all(&target).map_err(|e| self.io(e))?;
            } else if file.is_symlink() {
                // Zip symlinks are rare in sdists; refusing them is simpler than resolving.
                return Err(self.unsafe_member(&member, "symbolic link in a zip archive"));
            } else {
                self.write_file(&member, &target, &mut file)?;
            }
        }
        Ok(())
    }
}

/// Unpacks `bytes` (named `filename`, which selects the format) into `dest` and returns the
/// directory that holds `setup.py`: the single top-level directory, or `dest` itself.
pub(crate) fn unpack_sdist(
    filename: &str,
    bytes: &[u8],
    dest: &Path,
    limits: Limits,
) -> Result<PathBuf, SetupPyError> {
    let mut unpacker = Unpacker {
        filename,
        dest,
        limits,
        members: 0,
        total: 0,
    };
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        unpacker.unpack_tar(flate2::read::GzDecoder::new(bytes))?;
    } else if lower.ends_with(".tar.bz2") {
        unpacker.unpack_tar(bzip2::read::BzDecoder::new(bytes))?;
    } else if lower.ends_with(".tar") {
        unpacker.unpack_tar(bytes)?;
    } else if lower.ends_with(".zip") {
        unpacker.unpack_zip(bytes)?;
    } else {
        return Err(SetupPyError::UnsupportedFormat(filename.to_string()));
    }
    find_root(filename, dest)
}

fn find_root(filename: &str, dest: &Path) -> Result<PathBuf, SetupPyError> {
    if dest.join("setup.py").is_file() {
        return Ok(dest.to_path_buf());
    }
    let io_err = |e: io::Error| SetupPyError::Archive {
        sdist: filename.to_string(),
        message: e.to_string(),
    };
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dest).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        if entry.file_type().map_err(io_err)?.is_dir() {
            dirs.push(entry.path());
        }
    }
    // Zips made on macOS add a `__MACOSX/` directory beside the real one.
    dirs.retain(|dir| dir.join("setup.py").is_file());
    match dirs.as_slice() {
        [only] => Ok(only.clone()),
        _ => Err(SetupPyError::NoSetupPy(filename.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, kind, data, link) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            // set_path refuses `..`, so write the raw name to build hostile archives.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            if let Some(link) = link {
                header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn unpacks_and_finds_root() {
        let bytes = tar_gz(&[
            (
                "pkg-1.0/setup.py",
                tar::EntryType::Regular,
                b"print(1)",
                None,
            ),
            ("pkg-1.0/a/b.txt", tar::EntryType::Regular, b"x", None),
            (
                "pkg-1.0/copy.py",
                tar::EntryType::Symlink,
                b"",
                Some("setup.py"),
            ),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let root = unpack_sdist("pkg-1.0.tar.gz", &bytes, dir.path(), Limits::default()).unwrap();
        assert_eq!(root, dir.path().join("pkg-1.0"));
        assert_eq!(fs::read(root.join("copy.py")).unwrap(), b"print(1)");
        assert!(
            !fs::symlink_metadata(root.join("copy.py"))
                .unwrap()
                .is_symlink()
        );
    }

    #[test]
    fn refuses_escapes() {
        let outside = tempfile::tempdir().unwrap();
        for (path, kind, link) in [
            ("pkg/../../evil", tar::EntryType::Regular, None),
            ("/etc/evil", tar::EntryType::Regular, None),
            (
                "pkg/l",
                tar::EntryType::Symlink,
                Some("../../../etc/passwd"),
            ),
            ("pkg/l", tar::EntryType::Symlink, Some("/etc/passwd")),
            ("pkg/l", tar::EntryType::Link, Some("../x")),
        ] {
            let bytes = tar_gz(&[(path, kind, b"boom", link)]);
            let dest = outside.path().join("dest");
            fs::create_dir_all(&dest).unwrap();
            let err = unpack_sdist("pkg-1.0.tar.gz", &bytes, &dest, Limits::default()).unwrap_err();
            assert!(
                matches!(err, SetupPyError::UnsafeArchive { .. }),
                "{path}: {err}"
            );
            assert!(!outside.path().join("evil").exists());
            fs::remove_dir_all(&dest).unwrap();
        }
    }

    proptest::proptest! {
        /// Whatever the member name, the target stays under the destination.
        #[test]
        fn targets_never_leave_the_destination(parts in proptest::collection::vec("(\\.\\.|\\.|a|/|b\\\\c|)", 0..8)) {
            let member = parts.concat();
            let dest = Path::new("/dest");
            let unpacker = Unpacker { filename: "x.tar.gz", dest, limits: Limits::default(), members: 0, total: 0 };
            if let Ok(Some(target)) = unpacker.target(&member) {
                proptest::prop_assert!(target.starts_with(dest) && target != dest, "{member:?} -> {target:?}");
                proptest::prop_assert!(target.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_))));
            }
        }
    }

    #[test]
    fn caps_sizes_and_members() {
        let big = vec![0u8; 2000];
        let bytes = tar_gz(&[("pkg/setup.py", tar::EntryType::Regular, &big, None)]);
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_members: 10,
            max_file_bytes: 1000,
            max_total_bytes: 10_000,
        };
        assert!(matches!(
            unpack_sdist("p.tar.gz", &bytes, dir.path(), limits),
            Err(SetupPyError::UnsafeArchive { .. })
        ));
        let many: Vec<(String, Vec<u8>)> = (0..20).map(|i| (format!("pkg/f{i}"), vec![])).collect();
        let entries: Vec<_> = many
            .iter()
            .map(|(p, d)| (p.as_str(), tar::EntryType::Regular, d.as_slice(), None))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            unpack_sdist("p.tar.gz", &tar_gz(&entries), dir.path(), limits),
            Err(SetupPyError::UnsafeArchive { .. })
        ));
    }

    #[test]
    fn zip_and_errors() {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        writer.start_file("pkg-1.0/setup.py", options).unwrap();
        io::Write::write_all(&mut writer, b"print(1)").unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        let dir = tempfile::tempdir().unwrap();
        let root = unpack_sdist("pkg-1.0.zip", &bytes, dir.path(), Limits::default()).unwrap();
        assert!(root.join("setup.py").is_file());

        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            unpack_sdist("x.tar.gz", b"not gzip", dir.path(), Limits::default()),
            Err(SetupPyError::Archive { .. })
        ));
        assert!(matches!(
            unpack_sdist("x.rar", b"", dir.path(), Limits::default()),
            Err(SetupPyError::UnsupportedFormat(_))
        ));
        let bytes = tar_gz(&[("pkg/README", tar::EntryType::Regular, b"hi", None)]);
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            unpack_sdist("x.tar.gz", &bytes, dir.path(), Limits::default()),
            Err(SetupPyError::NoSetupPy(_))
        ));
    }
}
