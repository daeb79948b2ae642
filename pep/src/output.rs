//! Writing what a pinion binary produces: output files replaced whole (a temporary file in
//! the same directory, synced and renamed over the target, so a reader — the resolver maps the
//! raw DB — sees the old file or the new one, never a truncated mix), a guard against an
//! output that is also an input, and stdout that may be a closed pipe or a full disk.
//!
//! Shared by every binary of the workspace (crawler, dbgen, resolver).

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("writing `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` and `{}` are the same file", a.display(), b.display())]
    SameFile { a: PathBuf, b: PathBuf },
}

/// Replaces `path` with `bytes`: written to a temporary file beside it, flushed to disk, then
/// renamed over it. On error `path` is untouched and no temporary file is left.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let err = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = temp_beside(path).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// A temporary file in `path`'s directory (so renaming it onto `path` is atomic), deleted on
/// drop unless persisted. For outputs written by other means than bytes (SQLite databases).
pub fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".pinion-")
        .suffix(".tmp")
        .tempfile_in(dir)
}

/// Fails when `a` and `b` name one file (same device and inode, or the same canonical path
/// when the platform has no inodes). A path that does not exist yet is nobody's input.
pub fn ensure_distinct(a: &Path, b: &Path) -> Result<(), OutputError> {
    if same_file(a, b) {
        return Err(OutputError::SameFile {
            a: a.to_path_buf(),
            b: b.to_path_buf(),
        });
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    // Not both existing: two spellings of one future path still collide.
    let canonical = |p: &Path| {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = parent.map_or_else(std::env::current_dir, std::fs::canonicalize);
        dir.ok().map(|d| d.join(p.file_name().unwrap_or_default()))
    };
    matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

/// Writes `text` to stdout and flushes it. The caller decides what a failure means: see
/// [`is_broken_pipe`].
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The status a binary ends with, quietly, when its stdout reader went away: what a shell
/// reports for a process killed by SIGPIPE (128 + 13), as C tools end in `cmd | head -1`.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Whether `err` (or an error it wraps) is a write to a pipe whose reader is gone — as in
/// `dbgen inspect DB | head -1`. Binaries then end without a message with
/// [`EXIT_BROKEN_PIPE`]; every other write error (a full disk: `> /dev/full`) is reported.
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write_atomic(&p, b"one").unwrap();
        let held = std::fs::File::open(&p).unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let mut old = String::new();
        std::io::Read::read_to_string(&mut &held, &mut old).unwrap();
        assert_eq!(old, "one");
        let missing = dir.path().join("no-such-dir").join("x");
        let e = write_atomic(&missing, b"x").unwrap_err();
        assert!(e.to_string().contains("no-such-dir"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn same_file_by_inode_and_by_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"").unwrap();
        let respelled = dir.path().join(".").join("a");
        assert!(ensure_distinct(&a, &respelled).is_err());
        let future = dir.path().join("b");
        assert!(ensure_distinct(&future, &dir.path().join(".").join("b")).is_err());
        assert!(ensure_distinct(&a, &future).is_ok());
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert!(ensure_distinct(&link, &a).is_err());
        }
    }

    #[test]
    fn broken_pipe_is_found_through_wrappers() {
        #[derive(Debug, thiserror::Error)]
        #[error("printing")]
        struct Wrap(#[source] std::io::Error);
        let pipe = Wrap(std::io::ErrorKind::BrokenPipe.into());
        assert!(is_broken_pipe(&pipe));
        let full = Wrap(std::io::Error::from_raw_os_error(28));
        assert!(!is_broken_pipe(&full));
    }
}
