//! Everything that can be wrong with a database file, as one typed error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    // The OS error comes from the source chain (anyhow's `{:#}`), so it is printed once.
    #[error("cannot read database `{}`", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a pinion database (expected magic \"PINIONDB\" or an xz tarball)")]
    NotPinionDb,
    #[error(
        "this database tarball is gzip-compressed, as published up to database format 3; this resolver reads format {reads}, published as an xz tarball (`.tar.xz`)\nhint: rebuild it with this version's `dbgen build`, or pin a database published for format {reads}"
    )]
    GzipTarball { reads: u32 },
    #[error(
        "database format {found} is newer than this resolver (reads {reads})\nhint: update pinion to a release that reads format {found}, or pin a database published in format {reads}"
    )]
    NewerFormat { found: u32, reads: u32 },
    #[error(
        "database format {found} is older than this resolver (reads {reads}): rebuild it with this version's `dbgen build`, or pin a database published for it"
    )]
    OlderFormat { found: u32, reads: u32 },
    #[error("database format {0} is invalid")]
    BadFormatVersion(u32),
    #[error("truncated database: {what} needs bytes {start}..{end}, file has {len}")]
    Truncated {
        what: String,
        start: u64,
        end: u64,
        len: u64,
    },
    #[error(
        "checksum mismatch in {0}: the file is damaged\nhint: download or unpack the database again; its sha256 is published in manifest.json"
    )]
    Checksum(String),
    #[error("invalid database: {0}")]
    Invariant(String),
    #[error("database tarball has no {0}")]
    MissingMember(&'static str),
    #[error("database tarball is unreadable: {0}")]
    Tarball(String),
    #[error("manifest.json is invalid: {0}")]
    Manifest(String),
    #[error(
        "hash shard {shard} has sha256 {actual} but the database's manifest says {expected}: it belongs to another database or is corrupt; fetch the shard published with this database"
    )]
    ShardSha256 {
        shard: String,
        expected: String,
        actual: String,
    },
    #[error("pinion.db has sha256 {actual} but manifest.json says {expected}")]
    ManifestSha256 { expected: String, actual: String },
}

impl DbError {
    pub(crate) fn invariant(msg: impl Into<String>) -> DbError {
        DbError::Invariant(msg.into())
    }
}
