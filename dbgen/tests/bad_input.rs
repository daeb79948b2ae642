//! Corrupt, truncated, foreign and future databases and crawl states are refused with a
//! clear error, never a panic.

mod common;

use std::io::Write;

use dbgen::BuildOptions;
use resolver::db::{Database, DbError};

fn fixture_db() -> Vec<u8> {
    dbgen::write_db(&common::fixture(), &BuildOptions::new(1_795_132_800))
        .unwrap()
        .db
}

/// Walks everything reachable; must not panic whatever the bytes.
fn walk(db: &Database) -> usize {
    let mut n = 0;
    for p in db.projects() {
        n += p.name().len() + p.display_name().len();
        for r in p.releases() {
            n += r.version_str().len() + usize::from(r.yanked());
            for f in r.files() {
                n += f.filename().len()
                    + f.url_string().map_or(0, str::len)
                    + f.python_tags().count()
                    + f.platform_tags().count();
                let m = f.metadata();
                for set in [m.requires_dist(), m.build_requires(), m.setup_requires()] {
                    n += set
                        .iter()
                        .map(|r| r.to_pep508_string().len())
                        .sum::<usize>();
                }
                n += m.provides_extra().count();
            }
        }
    }
    n
}

#[test]
fn every_single_bit_flip_is_caught() {
    let good = fixture_db();
    let reference = Database::from_bytes(good.clone()).unwrap();
    reference.verify().unwrap();
    for byte in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[byte] ^= 1 << bit;
            match Database::from_bytes(bad) {
                Err(_) => {}
                Ok(db) => {
                    walk(&db);
                    assert!(
                        db.verify().is_err(),
                        "flip of bit {bit} in byte {byte} went unnoticed"
                    );
                }
            }
        }
    }
}

/// `bytes` with every section CRC and the header CRC recomputed, so that damage inside a
/// section reaches the structural checks instead of stopping at a checksum.
fn with_valid_checksums(mut bytes: Vec<u8>) -> Vec<u8> {
    let count = u32::from_le_bytes(bytes[20..24].try_into().unwrap()) as usize;
    for i in 0..count {
        let e = 88 + 32 * i;
        let at = |r: std::ops::Range<usize>| u64::from_le_bytes(bytes[r].try_into().unwrap());
        let (offset, len) = (at(e + 8..e + 16) as usize, at(e + 16..e + 24) as usize);
        let crc = crc32fast::hash(&bytes[offset..offset + len]);
        bytes[e + 24..e + 28].copy_from_slice(&crc.to_le_bytes());
    }
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    bytes[16..20].fill(0);
    let crc = crc32fast::hash(&bytes[..header_len]);
    bytes[16..20].copy_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn structural_damage_behind_valid_checksums_is_caught() {
    use resolver::db::SectionKind;
    let good = fixture_db();
    let db = Database::from_bytes(good.clone()).unwrap();
    let start = |kind: SectionKind| {
        db.sections()
            .iter()
            .find(|s| s.kind == kind)
            .unwrap()
            .range
            .start
    };
    /// (what, section, how its first byte is damaged, expected words in the error)
    type Case = (&'static str, SectionKind, fn(u8) -> u8, &'static str);
    let cases: [Case; 5] = [
        (
            "first release time unknown",
            SectionKind::ReleaseTimes,
            |_| 0,
            "release",
        ),
        (
            "empty set not empty",
            SectionKind::ReqSets,
            |_| 1,
            "requirement set",
        ),
        (
            "first version longer",
            SectionKind::ReleaseVersions,
            |b| b + 1,
            "release",
        ),
        (
            "unknown file flag bit",
            SectionKind::FileFlags,
            |b| b | 0x80,
            "flag bits",
        ),
        (
            "wheel with an sdist extension",
            SectionKind::FileFlags,
            |b| b | 1 | 1 << 2,
            "extension",
        ),
    ];
    for (what, kind, damage, expect) in cases {
        let mut bad = good.clone();
        let at = start(kind);
        bad[at] = damage(bad[at]);
        let bad = with_valid_checksums(bad);
        let db = Database::from_bytes(bad).unwrap_or_else(|e| panic!("{what}: open: {e}"));
        walk(&db);
        let err = db.verify().expect_err(what).to_string();
        assert!(err.contains(expect), "{what}: {err}");
    }
}

#[test]
fn every_truncation_is_refused() {
    let good = fixture_db();
    for len in 0..good.len() {
        let err = Database::from_bytes(good[..len].to_vec()).err();
        assert!(err.is_some(), "truncated to {len} bytes but opened");
    }
    let err = Database::from_bytes(good[..200].to_vec()).err().unwrap();
    assert!(matches!(err, DbError::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("file has 200"), "{err}");
}

#[test]
fn wrong_magic_and_future_versions() {
    let mut bad = fixture_db();
    bad[0] = b'X';
    assert!(matches!(
        Database::from_bytes(bad).err().unwrap(),
        DbError::NotPinionDb
    ));
    assert!(matches!(
        Database::from_bytes(b"{\"json\": 1}".to_vec())
            .err()
            .unwrap(),
        DbError::NotPinionDb
    ));
    let mut v4 = fixture_db();
    v4[8..12].copy_from_slice(&4u32.to_le_bytes());
    let err = Database::from_bytes(v4).err().unwrap();
    assert_eq!(
        err.to_string(),
        "database format 4 is newer than this resolver (reads 3)"
    );
    // A v2 database (hashes in the core file, before the hash shards) is refused before any
    // of its sections are read, with what to do about it.
    let mut v2 = fixture_db();
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    let err = Database::from_bytes(v2).err().unwrap();
    assert!(matches!(err, DbError::OlderFormat { found: 2, reads: 3 }));
    assert!(
        err.to_string()
            .starts_with("database format 2 is older than this resolver (reads 3): rebuild it"),
        "{err}"
    );
}

#[test]
fn random_garbage_never_panics() {
    use proptest::prelude::*;
    let good = fixture_db();
    let mut runner =
        proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(3000));
    runner
        .run(
            &(
                prop::collection::vec((0..good.len(), any::<u8>()), 1..8),
                any::<bool>(),
            ),
            |(edits, keep_crc)| {
                let mut bad = good.clone();
                for (at, v) in edits {
                    bad[at] = v;
                }
                if keep_crc {
                    // Recompute the header checksum so the damage reaches the section parsers.
                    bad[16..20].fill(0);
                    let hlen = u32::from_le_bytes(bad[12..16].try_into().unwrap()) as usize;
                    if hlen <= bad.len() {
                        let crc = crc32fast::hash(&bad[..hlen]);
                        bad[16..20].copy_from_slice(&crc.to_le_bytes());
                    }
                }
                if let Ok(db) = Database::from_bytes(bad) {
                    walk(&db);
                    let _ = db.verify();
                    let _ = db.project("requests");
                }
                Ok(())
            },
        )
        .unwrap();
}

fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).unwrap();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

#[test]
fn tarball_problems() {
    let db = fixture_db();
    let err = Database::from_bytes(tar_gz(&[("pinion.db", &db)]))
        .err()
        .unwrap();
    assert!(
        matches!(err, DbError::MissingMember("manifest.json")),
        "{err}"
    );
    let err = Database::from_bytes(tar_gz(&[("manifest.json", b"{\"sha256\": \"00\"}")]))
        .err()
        .unwrap();
    assert!(matches!(err, DbError::MissingMember("pinion.db")), "{err}");
    let err = Database::from_bytes(tar_gz(&[
        ("manifest.json", b"{\"sha256\": \"00\"}"),
        ("pinion.db", &db),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, DbError::ManifestSha256 { .. }), "{err}");
    let err = Database::from_bytes(tar_gz(&[
        ("manifest.json", b"not json"),
        ("pinion.db", &db),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, DbError::Manifest(_)), "{err}");
    let info = Database::from_bytes(db.clone()).unwrap().info();
    let good = dbgen::tarball::build_tarball(&db, &info).unwrap();
    let mut cut = good.clone();
    cut.truncate(good.len() / 2);
    assert!(Database::from_bytes(cut).is_err());
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let err = Database::open(&missing).err().unwrap();
    assert!(err.to_string().contains("nope.db"), "{err}");
}

#[test]
fn unknown_crawl_state_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    dbgen::state::save(&common::fixture(), 5, &mut conn).unwrap();
    conn.execute(
        "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = dbgen::build(&path, None, None).err().unwrap();
    assert_eq!(
        err.to_string(),
        "crawl state schema 2 unknown (dbgen reads 1)"
    );
}

#[test]
fn null_canonical_rows_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    dbgen::state::save(&common::fixture(), 5, &mut conn).unwrap();
    conn.execute(
        "UPDATE requirements SET canonical = NULL, error = 'bad' WHERE raw LIKE 'idna%'",
        [],
    )
    .unwrap();
    drop(conn);
    let built = dbgen::build(&path, None, None).unwrap();
    assert_eq!(built.load.skipped_requirements, 4);
    let db = Database::from_bytes(built.db).unwrap();
    let names: Vec<String> = db
        .project("requests")
        .unwrap()
        .releases()
        .next()
        .unwrap()
        .files()
        .next()
        .unwrap()
        .metadata()
        .requires_dist()
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(names, ["charset-normalizer", "pysocks"]);
}

#[test]
fn writer_rejects_bad_models() {
    let mut u = common::fixture();
    u.projects[0].name = "Requests".into();
    assert!(matches!(
        dbgen::write_db(&u, &BuildOptions::new(0)),
        Err(dbgen::WriteError::BadName(_))
    ));
    let mut u = common::fixture();
    u.projects[0].releases[1].version = "2.31".into();
    let err = dbgen::write_db(&u, &BuildOptions::new(0)).err().unwrap();
    assert!(err.to_string().contains("same release"), "{err}");
    let mut u = common::fixture();
    u.projects[0].releases[1].version = "two".into();
    assert!(matches!(
        dbgen::write_db(&u, &BuildOptions::new(0)),
        Err(dbgen::WriteError::BadVersion { .. })
    ));
    let u = common::fixture();
    let mut w = dbgen::Writer::new();
    w.add_project(&u.projects[1]).unwrap();
    let err = w.add_project(&u.projects[0]).err().unwrap();
    assert!(matches!(err, dbgen::WriteError::Unsorted(_)), "{err}");
    let err = w.add_project(&u.projects[1]).err().unwrap();
    assert!(
        matches!(err, dbgen::WriteError::DuplicateProject(_)),
        "{err}"
    );
}
