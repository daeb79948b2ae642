//! The Python packaging standards that every pinion crate needs, in one small place:
//! PEP 503 normalized project names, wheel and sdist filenames (PEP 427/491/625), and a
//! *guarded* PEP 508 requirement parser that never panics on crawled text.
//!
//! Everything here but [`output`] and `cli` is pure (no I/O) so the crawler, dbgen and the
//! resolver agree on the exact same spelling rules. [`output`] is the one place where the
//! binaries write files and stdout (atomic replacement, broken pipes); `cli` (feature `cli`)
//! is their shared convention for errors, logging, exit status and help.

#[cfg(feature = "cli")]
pub mod cli;
mod filename;
mod name;
pub mod output;
mod requirement;

pub use filename::{DistFilename, FilenameError, SdistFilename, WheelFilename, classify_filename};
pub use name::{NameError, ProjectName};
pub use requirement::{RequirementError, canonical_requirement, parse_requirement};

pub use pep440_rs;
pub use pep508_rs;
