//! The memory map behind [`crate::Database::open`]: the one `unsafe` block of pinion.

/// Maps `file` read-only.
///
/// # Safety
///
/// The safe signature rests on how pinion database files are used: the map is read-only and
/// private to this process, and database files are written once by dbgen and never modified in
/// place. If another process truncated the file anyway, reads could fault; that is the
/// accepted cost of opening a multi-hundred-megabyte file in well under a millisecond.
#[allow(unsafe_code)]
pub(crate) fn map(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: see the function's `# Safety` section.
    unsafe { memmap2::Mmap::map(file) }
}
