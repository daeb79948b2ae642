//! Random universes survive model → crawl state → `dbgen build` → reader unchanged (modulo
//! the documented transformations), and builds are byte-for-byte deterministic.

mod common;

use pinion_db::BuildOptions;
use pinion_db::Database;
use proptest::prelude::*;

fn build_via_state(u: &pinion_db::model::Universe) -> dbgen::Built {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    dbgen::state::save(u, 1_795_132_800, &mut conn).unwrap();
    drop(conn);
    dbgen::build(&path, None, None).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn state_round_trip(u in common::universe()) {
        let built = build_via_state(&u);
        let db = Database::from_bytes(built.tarball.clone()).unwrap();
        db.verify().unwrap();
        let shards = common::shard_set(&db, &built.shards);
        let info = db.info();
        prop_assert_eq!(info.created_at, 1_795_132_800);
        prop_assert_eq!(info.serial, u.last_serial);
        prop_assert_eq!(&info.index_url, &u.index_url);
        prop_assert_eq!(common::db_view(&db, &shards), common::expected_view(&u));
        // Same input, same bytes.
        let again = build_via_state(&u);
        prop_assert_eq!(again.tarball, built.tarball);
        prop_assert_eq!(again.shards, built.shards);
    }

    #[test]
    fn model_round_trip(u in common::universe()) {
        // Several shard counts: projects spread over shards, or all in one.
        let options = BuildOptions { created_at: 7, shard_count: Some(1 << (u.last_serial % 4)) };
        let written = pinion_db::write_db(&u, &options).unwrap();
        let db = Database::from_bytes(written.db.clone()).unwrap();
        db.verify().unwrap();
        let shards = common::shard_set(&db, &written.shards);
        prop_assert_eq!(common::db_view(&db, &shards), common::expected_view(&u));
        prop_assert_eq!(pinion_db::write_db(&u, &options).unwrap(), written);
    }
}

#[test]
fn fixture_builds_deterministically_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&state).unwrap();
    dbgen::state::save(&common::fixture(), 1_795_132_800, &mut conn).unwrap();
    drop(conn);
    let a = dbgen::build(&state, None, None).unwrap();
    let b = dbgen::build(&state, None, None).unwrap();
    assert_eq!(a.tarball, b.tarball);
    assert_eq!(a.shards, b.shards);
    // Streaming build and whole-universe load + write_db agree byte for byte.
    let loaded = dbgen::state::load(&state).unwrap();
    let whole = pinion_db::write_db(
        &loaded.universe,
        &BuildOptions::new(loaded.finished_at.unwrap()),
    )
    .unwrap();
    assert_eq!(whole.db, a.db);
    assert_eq!(whole.shards, a.shards);
    assert_eq!(a.load.files, 7);
    assert_eq!(
        (
            a.write.dropped_other,
            a.write.dropped_platform,
            a.write.files_kept
        ),
        (1, 1, 5)
    );
    let path = dir.path().join("pinion-db.tar.xz");
    std::fs::write(&path, &a.tarball).unwrap();
    let raw = dir.path().join("pinion.db");
    std::fs::write(&raw, &a.db).unwrap();
    let from_tar = Database::open(&path).unwrap();
    let from_raw = Database::open(&raw).unwrap();
    assert_eq!(from_tar.sha256_hex(), from_raw.sha256_hex());
    from_raw.verify().unwrap();
    let p = from_raw.project("Requests").unwrap();
    let versions: Vec<&str> = p.releases().map(|r| r.version_str()).collect();
    assert_eq!(versions, ["2.32.0rc1", "2.31.0", "2.0.0"]);
    assert!(from_raw.project("zope_interface").is_some());
    assert!(from_raw.project("nope").is_none());
    assert!(from_raw.project("not a name!").is_none());
    let different = dbgen::build(&state, Some(1), None).unwrap();
    assert_ne!(
        different.tarball, a.tarball,
        "created-at is part of the output"
    );
}

#[test]
fn requirements_are_pre_parsed() {
    let written = pinion_db::write_db(&common::fixture(), &BuildOptions::new(0)).unwrap();
    let db = Database::from_bytes(written.db).unwrap();
    let r = db.project("requests").unwrap().releases().nth(1).unwrap();
    let wheel = r
        .files()
        .find(|f| f.filename().ends_with("any.whl"))
        .unwrap();
    let reqs: Vec<_> = wheel.metadata().requires_dist().iter().collect();
    assert_eq!(reqs[0].name(), "charset-normalizer");
    let specs: Vec<(pinion_db::Op, &str)> = reqs[0].specifiers().collect();
    assert_eq!(
        specs,
        [
            (pinion_db::Op::GreaterThanEqual, "2"),
            (pinion_db::Op::LessThan, "4")
        ]
    );
    assert_eq!(reqs[2].name(), "pysocks");
    let (id, text) = reqs[2].marker().unwrap();
    assert_eq!(text, "extra == 'socks'");
    assert!(id > 0);
    assert!(reqs[0].marker().is_none());
    let sdist = r
        .files()
        .find(|f| f.filename().ends_with(".tar.gz"))
        .unwrap()
        .metadata();
    assert!(sdist.has_build_system());
    assert_eq!(sdist.build_requires().source(), Some("pyproject"));
    assert!(sdist.setup_requires().known() && sdist.setup_requires().is_empty());
    assert!(!wheel.metadata().build_requires().known());
    assert_eq!(
        wheel.metadata().provides_extra().collect::<Vec<_>>(),
        ["socks", "use-chardet-on-py3"]
    );
}

/// A synthetic state of `n` projects, written to `dir`.
fn synth_state(dir: &std::path::Path, n: usize) -> (std::path::PathBuf, Vec<String>, u64) {
    let u = dbgen::synth::universe(n, 3);
    let mut names: Vec<String> = u.projects.iter().map(|p| p.name.clone()).collect();
    names.sort();
    let files = u
        .projects
        .iter()
        .flat_map(|p| &p.releases)
        .map(|r| r.files.len() as u64)
        .sum();
    let state = dir.join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&state).unwrap();
    dbgen::state::save(&u, dbgen::synth::FINISHED_AT, &mut conn).unwrap();
    (state, names, files)
}

#[test]
fn reading_threads_hand_back_every_project_in_order() {
    // Hundreds of projects: many chunks per reading thread, so the order in which the
    // chunks are taken back decides the output.
    let dir = tempfile::tempdir().unwrap();
    let (state, names, files) = synth_state(dir.path(), 700);
    let built = dbgen::build(&state, None, None).unwrap();
    let loaded = dbgen::state::load(&state).unwrap();
    let got: Vec<&str> = loaded
        .universe
        .projects
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(got, names);
    assert_eq!((loaded.stats.files, built.load.files), (files, files));
    // The threaded build and the single-threaded writer over the whole universe agree.
    let whole = pinion_db::write_db(
        &loaded.universe,
        &BuildOptions::new(loaded.finished_at.unwrap()),
    )
    .unwrap();
    assert_eq!(whole.db, built.db);
    assert_eq!(whole.shards, built.shards);
    assert_eq!(loaded.stats, built.load);
}

#[test]
fn the_first_damaged_project_in_stored_order_is_reported() {
    // The state is read in stored (id) order before anything is written. Two damaged
    // projects far apart, in chunks of different reading threads, and in the opposite order
    // by name: the error is the one stored first, whichever thread reads faster.
    let dir = tempfile::tempdir().unwrap();
    let (state, _, _) = synth_state(dir.path(), 400);
    let conn = rusqlite::Connection::open(&state).unwrap();
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")
        .unwrap();
    let with_requirements: Vec<(i64, String)> = conn
        .prepare(
            "SELECT p.id, p.name FROM projects p WHERE EXISTS (SELECT 1 FROM requirements r
               JOIN files f ON f.id = r.file_id WHERE f.project_id = p.id AND r.kind = 'dist')
               ORDER BY p.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // One of them, and one stored over 256 projects later whose name sorts before it and
    // whose chunk of 64 (ids count from 1) another of the 4 threads reads.
    let (first_id, first) = &with_requirements[with_requirements.len() / 10];
    let thread = |id: i64| (id - 1) / 64 % 4;
    let (_, later) = with_requirements
        .iter()
        .find(|(id, name)| id - first_id > 256 && name < first && thread(*id) != thread(*first_id))
        .expect("a project stored later whose name sorts first");
    let damaged = [first, later];
    let mut filenames: Vec<Vec<String>> = Vec::new();
    for name in damaged {
        let n = conn
            .execute(
                "UPDATE requirements SET kind = 'runtime' WHERE kind = 'dist' AND file_id IN
                   (SELECT f.id FROM files f JOIN projects p ON p.id = f.project_id WHERE p.name = ?1)",
                [name],
            )
            .unwrap();
        assert!(n > 0, "{name} has requirements");
        let mut q = conn
            .prepare("SELECT f.filename FROM files f JOIN projects p ON p.id = f.project_id WHERE p.name = ?1")
            .unwrap();
        let rows = q.query_map([name], |r| r.get(0)).unwrap();
        filenames.push(rows.map(Result::unwrap).collect());
    }
    drop(conn);
    let names_file = |err: &str, i: usize| {
        filenames[i]
            .iter()
            .any(|f: &String| err.contains(&format!("`{f}`")))
    };
    for _ in 0..3 {
        let err = format!("{:#}", dbgen::build(&state, None, None).err().unwrap());
        assert!(
            err.contains("unknown kind `runtime`") && names_file(&err, 0) && !names_file(&err, 1),
            "{err}"
        );
    }
}

/// Reading compares each file's metadata with the previous file's before building it
/// (`state/metadata.rs`): consecutive files that differ in exactly one part of their metadata
/// must each come back as written, and equal ones as one shared record.
#[test]
fn consecutive_files_that_differ_in_one_part_keep_their_own_metadata() {
    use pinion_db::model::{File, FileKind, Metadata, Project, Release, ReqSet, Universe};
    use std::sync::Arc;
    let canon = |r: &str| pinion_pep::canonical_requirement(r).unwrap();
    let base = Metadata {
        requires_dist: ReqSet::known("metadata", vec![canon("a>=1"), canon("b")]),
        build_requires: ReqSet::default(),
        setup_requires: ReqSet::default(),
        provides_extra: vec!["x".into()],
        requires_python: Some(">=3.8".into()),
        build_backend: None,
        has_build_system: false,
        unknown_reason: None,
    };
    let with = |f: &dyn Fn(&mut Metadata)| {
        let mut m = base.clone();
        f(&mut m);
        m
    };
    let variants = [
        base.clone(),
        base.clone(),
        with(&|m| m.requires_dist.requirements[1] = canon("c")),
        with(&|m| {
            m.requires_dist.requirements.pop();
            m.requires_dist.unparsed.push("b @@".into());
        }),
        with(&|m| m.requires_dist = ReqSet::default()),
        with(&|m| m.requires_dist.requirements.clear()),
        with(&|m| m.provides_extra = vec!["y".into()]),
        with(&|m| m.requires_python = None),
        with(&|m| {
            m.build_requires = ReqSet::known("pyproject", vec![canon("setuptools")]);
            m.build_backend = Some("setuptools.build_meta".into());
            m.has_build_system = true;
        }),
        with(&|m| m.unknown_reason = Some("setup.py run failed".into())),
        base.clone(),
    ];
    let releases = variants
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let filename = format!("demo-1.{i}-py3-none-any.whl");
            Release {
                version: format!("1.{i}"),
                files: vec![File {
                    url: format!("https://example.org/{filename}"),
                    filename,
                    kind: FileKind::Wheel,
                    sha256: [i as u8; 32],
                    size: Some(1),
                    upload_time: Some(1_700_000_000),
                    requires_python: None,
                    yanked: false,
                    yanked_reason: None,
                    metadata: Some(Arc::new(m.clone())),
                }],
            }
        })
        .collect();
    let u = Universe {
        index_url: "https://pypi.org/simple/".into(),
        last_serial: 1,
        projects: vec![Project {
            name: "demo".into(),
            display_name: "demo".into(),
            releases,
        }],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    dbgen::state::save(&u, 1_795_132_800, &mut conn).unwrap();
    drop(conn);
    let loaded = dbgen::state::load(&path).unwrap();
    let read: Vec<Arc<Metadata>> = loaded.universe.projects[0]
        .releases
        .iter()
        .map(|r| r.files[0].metadata.clone().unwrap())
        .collect();
    for (i, (got, want)) in read.iter().zip(&variants).enumerate() {
        assert_eq!(**got, *want, "file {i}");
    }
    assert!(Arc::ptr_eq(&read[0], &read[1]) && Arc::ptr_eq(&read[0], &read[10]));
    assert_eq!(loaded.stats.partial_requirements, 1);
}
