//! Corrupt, truncated, foreign and future databases and crawl states are refused with a
//! clear error, never a panic.

mod common;

use std::io::Write;

use pinion_db::BuildOptions;
use pinion_db::{Database, DbError};

fn fixture_db() -> Vec<u8> {
    pinion_db::write_db(&common::fixture(), &BuildOptions::new(1_795_132_800))
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
    use pinion_db::SectionKind;
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

/// The string table of `bytes` as (id, text, byte range in the file).
fn strings(db: &Database) -> Vec<(u32, String, std::ops::Range<usize>)> {
    use pinion_db::SectionKind;
    let range = |kind| {
        db.sections()
            .iter()
            .find(|s| s.kind == kind)
            .unwrap()
            .range
            .clone()
    };
    let (offsets, blob) = (range(SectionKind::StrOffsets), range(SectionKind::StrBytes));
    let bytes = db.bytes();
    let offsets: Vec<usize> = bytes[offsets]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize)
        .collect();
    offsets
        .windows(2)
        .enumerate()
        .map(|(id, w)| {
            let r = blob.start + w[0]..blob.start + w[1];
            (
                id as u32,
                String::from_utf8(bytes[r.clone()].to_vec()).unwrap(),
                r,
            )
        })
        .collect()
}

#[test]
fn semantic_damage_behind_valid_checksums_is_caught() {
    use pinion_db::SectionKind;
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
    let strings = strings(&db);
    let id_of = |pred: &dyn Fn(&str) -> bool| strings.iter().find(|(_, s, _)| pred(s)).unwrap();
    let marker = id_of(&|s| s.starts_with("extra"));
    let other = id_of(&|s| s == "empty");
    // `stem_prefix` is the u32 at byte 24 of a 32-byte project record.
    let requests = db.projects().position(|p| p.name() == "requests").unwrap();
    let stem_prefix = start(SectionKind::Projects) + 32 * requests + 24;
    let set_u32 =
        |at: usize, v: u32| move |b: &mut Vec<u8>| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    /// (what, damage, expected words in the error); each found by the fault run,
    /// each passed `dbgen verify` before.
    type Case = (&'static str, Box<dyn Fn(&mut Vec<u8>)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "a marker as the file name stem (`extra == ...-2.31.0-py3-none-any.whl`)",
            Box::new(set_u32(stem_prefix, marker.0)),
            "not `requests`",
        ),
        (
            "another project's file name (`empty-2.31.0-py3-none-any.whl`)",
            Box::new(set_u32(stem_prefix, other.0)),
            "names project `empty`, not `requests`",
        ),
        (
            "a marker string that does not parse",
            Box::new({
                let at = marker.2.start;
                move |b: &mut Vec<u8>| b[at] = b'('
            }),
            "is not a PEP 508 marker",
        ),
    ];
    for (what, damage, expect) in cases {
        let mut bad = good.clone();
        damage(&mut bad);
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
    let mut v5 = fixture_db();
    v5[8..12].copy_from_slice(&5u32.to_le_bytes());
    let err = Database::from_bytes(v5).err().unwrap();
    assert_eq!(
        err.to_string(),
        "database format 5 is newer than this resolver (reads 4)\nhint: update pinion to a release that reads format 5, or pin a database published in format 4"
    );
    // A v3 database (published as a gzip tarball) is refused before any of its sections are
    // read, with what to do about it.
    let mut v3 = fixture_db();
    v3[8..12].copy_from_slice(&3u32.to_le_bytes());
    let err = Database::from_bytes(v3).err().unwrap();
    assert!(matches!(err, DbError::OlderFormat { found: 3, reads: 4 }));
    assert!(
        err.to_string()
            .starts_with("database format 3 is older than this resolver (reads 4): rebuild it"),
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

fn tar_xz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let xz = xz2::write::XzEncoder::new(Vec::new(), 6);
    let mut tar = tar::Builder::new(xz);
    for (name, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).unwrap();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    let mut xz = tar.into_inner().unwrap();
    xz.flush().unwrap();
    xz.finish().unwrap()
}

#[test]
fn tarball_problems() {
    let db = fixture_db();
    let err = Database::from_bytes(tar_xz(&[("pinion-db/pinion.db", &db)]))
        .err()
        .unwrap();
    assert!(
        matches!(err, DbError::MissingMember("pinion-db/manifest.json")),
        "{err}"
    );
    // Members outside the one top-level directory (format 3's layout) are not the database.
    let err = Database::from_bytes(tar_xz(&[
        ("manifest.json", b"{\"sha256\": \"00\"}"),
        ("pinion.db", &db),
    ]))
    .err()
    .unwrap();
    assert!(
        matches!(err, DbError::MissingMember("pinion-db/manifest.json")),
        "{err}"
    );
    let err = Database::from_bytes(tar_xz(&[(
        "pinion-db/manifest.json",
        b"{\"sha256\": \"00\"}",
    )]))
    .err()
    .unwrap();
    assert!(
        matches!(err, DbError::MissingMember("pinion-db/pinion.db")),
        "{err}"
    );
    let err = Database::from_bytes(tar_xz(&[
        ("pinion-db/manifest.json", b"{\"sha256\": \"00\"}"),
        ("pinion-db/pinion.db", &db),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, DbError::ManifestSha256 { .. }), "{err}");
    // A format 3 tarball (gzip) is refused with what to do, before it is unpacked.
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"anything").unwrap();
        e.finish().unwrap()
    };
    let err = Database::from_bytes(gz).err().unwrap();
    assert!(matches!(err, DbError::GzipTarball { reads: 4 }), "{err}");
    assert!(err.to_string().contains("hint: rebuild it"), "{err}");
    let err = Database::from_bytes(tar_xz(&[
        ("pinion-db/manifest.json", b"not json"),
        ("pinion-db/pinion.db", &db),
    ]))
    .err()
    .unwrap();
    assert!(matches!(err, DbError::Manifest(_)), "{err}");
    let info = Database::from_bytes(db.clone()).unwrap().info();
    let good = pinion_db::tarball::pack(&db, &info).unwrap().tarball;
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
        "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = dbgen::build(&path, None, None).err().unwrap();
    assert!(
        err.to_string()
            .starts_with("crawl state schema 3 unknown (dbgen reads 2)\nhint:"),
        "{err}"
    );
}

#[test]
fn null_canonical_rows_make_partial_sets() {
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
    assert_eq!(built.load.partial_requirements, 4);
    let db = Database::from_bytes(built.db).unwrap();
    db.verify().unwrap();
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
    // Not silently complete: the metadata is partial and names the strings left out.
    let meta = db
        .project("requests")
        .unwrap()
        .releases()
        .next()
        .unwrap()
        .files()
        .next()
        .unwrap()
        .metadata();
    assert!(meta.is_partial());
    assert_eq!(meta.unparsed().collect::<Vec<_>>(), ["idna>=2.5,<4"]);
}

#[test]
fn damaged_crawl_rows_are_dropped_and_counted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    dbgen::state::save(&common::fixture(), 5, &mut conn).unwrap();
    let long_version = format!("2{}", ".0".repeat(500_000));
    let set = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
        assert_eq!(conn.execute(sql, p).unwrap(), 1, "{sql}")
    };
    // Before: each was kept, as a 1 MB version, a size of 0 and a file of `requests` named
    // like another project's.
    set(
        "UPDATE files SET version = ?1, filename = ?2 WHERE filename = 'requests-2.0.0.tar.gz'",
        &[&long_version, &format!("requests-{long_version}.tar.gz")],
    );
    set(
        "UPDATE files SET size = -5 WHERE filename = 'requests-2.32.0rc1-py3-none-any.whl'",
        &[],
    );
    set(
        "UPDATE files SET filename = 'zope.interface-2.31.0.tar.gz' WHERE filename = 'requests-2.31.0.tar.gz'",
        &[],
    );
    drop(conn);
    let built = dbgen::build(&path, None, None).unwrap();
    let l = &built.load;
    assert_eq!(
        (
            l.skipped_bad_version,
            l.skipped_bad_size,
            l.skipped_bad_filename
        ),
        (1, 1, 1)
    );
    let db = Database::from_bytes(built.db).unwrap();
    db.verify().unwrap();
    let files: Vec<String> = db
        .project("requests")
        .unwrap()
        .releases()
        .flat_map(|r| {
            r.files()
                .map(|f| f.filename().into_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(files, ["requests-2.31.0-py3-none-any.whl"]);

    // A requirement row of a kind the schema does not have: refused, naming the file, since
    // dropping it would make the file's requirements look complete.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")
        .unwrap();
    let n = conn
        .execute(
            "UPDATE requirements SET kind = 'runtime' WHERE raw LIKE 'idna%' AND kind = 'dist' AND file_id = (SELECT id FROM files WHERE filename = 'requests-2.31.0-py3-none-any.whl')",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    let err = dbgen::build(&path, None, None).err().unwrap().to_string();
    assert!(
        err.contains("`requests-2.31.0-py3-none-any.whl`")
            && err.contains("unknown kind `runtime`"),
        "{err}"
    );
}

#[test]
fn writer_rejects_bad_models() {
    let mut u = common::fixture();
    u.projects[0].name = "Requests".into();
    assert!(matches!(
        pinion_db::write_db(&u, &BuildOptions::new(0)),
        Err(pinion_db::WriteError::BadName(_))
    ));
    let mut u = common::fixture();
    u.projects[0].releases[1].version = "2.31".into();
    let err = pinion_db::write_db(&u, &BuildOptions::new(0))
        .err()
        .unwrap();
    assert!(err.to_string().contains("same release"), "{err}");
    let mut u = common::fixture();
    u.projects[0].releases[1].version = "two".into();
    assert!(matches!(
        pinion_db::write_db(&u, &BuildOptions::new(0)),
        Err(pinion_db::WriteError::BadVersion { .. })
    ));
    let u = common::fixture();
    let mut w = pinion_db::Writer::new();
    w.add_project(&u.projects[1]).unwrap();
    let err = w.add_project(&u.projects[0]).err().unwrap();
    assert!(matches!(err, pinion_db::WriteError::Unsorted(_)), "{err}");
    let err = w.add_project(&u.projects[1]).err().unwrap();
    assert!(
        matches!(err, pinion_db::WriteError::DuplicateProject(_)),
        "{err}"
    );
}
