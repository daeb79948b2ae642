//! Benchmark for the database format and dbgen: what a user downloads and stores for a first
//! resolution and a one-day update (core database + hash shards) beside mach-nix, the shape
//! figures `dbgen synth` is calibrated with, sizes (per section, compressed), build time and
//! peak RSS (measured in a child process so only the build counts), open and lookup latency,
//! and a size comparison against the same dependency data in mach-nix's pypi-deps-db shape.
//!
//! `cargo run --release -p dbgen --bin dbgen-bench -- [--state crawl.sqlite] [--projects N] [--full]`

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use flate2::Compression;
use flate2::write::GzEncoder;
use pinion_db::Database;
use pinion_db::layout::{MetadataRec, ProjectRec, SectionKind, SparseRec, TagSetRec};
use pinion_pep::cli::{self, Exit};
use zerocopy::FromBytes;
use zerocopy::little_endian::U32;

mod pypi_deps_db;
mod user;

/// Size, build-time and lookup benchmark of the database format, beside mach-nix.
#[derive(Parser)]
#[command(after_help = cli::exit_status_help(&cli::COMMON))]
struct Args {
    /// A real crawl state to measure as well.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Synthetic universe size (projects).
    #[arg(long, default_value_t = 20_000)]
    projects: usize,
    /// Synthetic universe at full PyPI scale (930k projects, ~17 M kept files).
    #[arg(long)]
    full: bool,
    /// Skip the synthetic universe.
    #[arg(long)]
    no_synth: bool,
    /// Reuse (or write, if missing) the synthetic crawl state at this path instead of a
    /// temporary one: writing a full-scale state takes most of the run.
    #[arg(long)]
    synth_state: Option<PathBuf>,
    /// Seed of the synthetic universe.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Internal: build STATE into TAR, RAW and the shard directory SHARDS, print timing and
    /// VmHWM (run as a child).
    #[arg(long, num_args = 4, hide = true)]
    child_build: Option<Vec<PathBuf>>,
    /// Internal: write a synthetic state of `--projects` projects to this path (as a child,
    /// so the universe's memory is gone before the build is measured).
    #[arg(long, hide = true)]
    child_synth: Option<PathBuf>,
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn gz_len(bytes: &[u8]) -> usize {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(9));
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory").len()
}

fn main() -> ExitCode {
    cli::init_logging("warn");
    cli::finish(run().map(|()| Exit::Success))
}

fn run() -> Result<()> {
    let args = Args::parse();
    if let Some(paths) = &args.child_build {
        let start = Instant::now();
        let built = dbgen::build(&paths[0], None, None)?;
        std::fs::write(&paths[1], &built.tarball)?;
        std::fs::write(&paths[2], &built.db)?;
        std::fs::create_dir_all(&paths[3])?;
        for (i, bytes) in (0u32..).zip(&built.shards) {
            std::fs::write(paths[3].join(pinion_db::layout::shard_file_name(i)), bytes)?;
        }
        println!("{} {}", start.elapsed().as_secs_f64(), vm_hwm_kib());
        return Ok(());
    }
    if let Some(state) = &args.child_synth {
        let t = Instant::now();
        let mut conn = rusqlite::Connection::open(state)?;
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
        dbgen::synth::save_state(args.projects, args.seed, &mut conn)?;
        println!(
            "synth state (generated and written): {:.1} s ({} MB)",
            t.elapsed().as_secs_f64(),
            std::fs::metadata(state)?.len() >> 20
        );
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut shapes = Vec::new();
    // The daily change rate comes from the real shard when there is one (the synthetic
    // universe's upload times are not calibrated to a day's activity).
    let mut daily = None;
    if let Some(state) = &args.state {
        println!("== real crawl state {}", state.display());
        let shape = measure(state, dir.path(), "real", None)?;
        daily = Some(shape.changed_7d as f64 / 7.0 / shape.projects.max(1) as f64);
        shapes.push(("real", shape));
    }
    if !args.no_synth {
        let n = if args.full {
            user::PYPI_PROJECTS as usize
        } else {
            args.projects
        };
        println!("== synthetic universe, {n} projects, seed {}", args.seed);
        let state = args
            .synth_state
            .clone()
            .unwrap_or_else(|| dir.path().join("synth.sqlite"));
        if state.exists() {
            println!("(reusing {})", state.display());
        } else {
            synthesize(n, args.seed, &state)?;
        }
        shapes.push(("synthetic", measure(&state, dir.path(), "synth", daily)?));
    }
    user::print_shapes(&shapes);
    Ok(())
}

/// Writes a synthetic state of `n` projects in a child process.
fn synthesize(n: usize, seed: u64, state: &Path) -> Result<()> {
    let status = Command::new(std::env::current_exe()?)
        .args([
            "--projects",
            &n.to_string(),
            "--seed",
            &seed.to_string(),
            "--child-synth",
        ])
        .arg(state)
        .status()?;
    if !status.success() {
        bail!("synthesizing the crawl state failed");
    }
    Ok(())
}

/// Builds `state` in a child and prints every figure; `daily` is the fraction of projects
/// that change in a day (measured on the real shard), for the one-day update.
fn measure(state: &Path, dir: &Path, tag: &str, daily: Option<f64>) -> Result<user::Shape> {
    let tar = dir.join(format!("{tag}.tar.xz"));
    let raw = dir.join(format!("{tag}.db"));
    let shard_dir = dir.join(format!("{tag}-shards"));
    let out = Command::new(std::env::current_exe()?)
        .arg("--child-build")
        .args([state, &tar, &raw, &shard_dir])
        .output()
        .context("running the build child")?;
    if !out.status.success() {
        // The child reports in the same `error:` form; its report continues this one.
        let report = String::from_utf8_lossy(&out.stderr);
        bail!(
            "building `{}` (in a child process): {}",
            state.display(),
            report.strip_prefix("error: ").unwrap_or(&report).trim_end()
        );
    }
    let stdout = String::from_utf8(out.stdout)?;
    let mut it = stdout.split_whitespace();
    let (secs, hwm): (f64, u64) = (
        it.next().unwrap_or("0").parse()?,
        it.next().unwrap_or("0").parse()?,
    );
    println!(
        "build (load + write + tar.xz): {secs:.2} s, peak RSS {:.0} MiB",
        hwm as f64 / 1024.0
    );

    let db = Database::open(&raw)?;
    let c = db.info().counts;
    let tar_len = std::fs::metadata(&tar)?.len() as f64;
    println!(
        "counts: {} projects, {} releases, {} files, {} metadata, {} requirements, {} requirement sets, {} strings",
        c.projects, c.releases, c.files, c.metadata, c.requirements, c.reqsets, c.strings
    );
    println!(
        "pinion.db {} bytes; tarball {} bytes = {:.1} B/release, {:.1} B/file",
        db.bytes().len(),
        tar_len,
        tar_len / c.releases.max(1) as f64,
        tar_len / c.files.max(1) as f64
    );
    let t = Instant::now();
    db.verify()?;
    db.verify_shards(&shard_dir)?;
    println!(
        "verify (core and hash shards): {:.2} s",
        t.elapsed().as_secs_f64()
    );

    sizes(&db)?;
    let mut shape = user::shape(&db);
    let artifacts = user::Artifacts {
        db: &db,
        tarball_len: tar_len as u64,
        raw_len: db.bytes().len() as u64,
        shard_lens: user::shard_lens(&db, &shard_dir)?,
    };
    let nf = c.files.max(1) as f64;
    let shard_total: u64 = artifacts.shard_lens.iter().sum();
    let gz = gz_len(db.bytes());
    println!(
        "per file: core tarball (xz, as published) {:.2} B, core gzip -9 {:.2} B, pinion.db {:.2} B, hash shards {:.2} B",
        tar_len / nf,
        gz as f64 / nf,
        db.bytes().len() as f64 / nf,
        shard_total as f64 / nf
    );
    let daily = daily.unwrap_or(shape.changed_7d as f64 / 7.0 / shape.projects.max(1) as f64);
    shape.per_file = user::PerFile {
        core: tar_len / nf,
        raw: db.bytes().len() as f64 / nf,
        shards: shard_total as f64 / nf,
        daily,
    };
    if tag == "synth" {
        let env = user::popular_env(&db, 100, 130);
        // Below full scale the core is scaled per file; the shards an environment fetches
        // hold about as many projects each (`default_shard_count`), so they are not.
        let scaled = f64::from(c.projects) < 0.95 * user::PYPI_PROJECTS;
        user::print_user_figures(&artifacts, &env, daily, scaled);
        user::print_shard_count_table(
            &db,
            &env,
            user::PYPI_PROJECTS / f64::from(c.projects.max(1)),
        );
    } else {
        println!(
            "a random shard has no 100-package environment of its own: see the per-file model in the shape table"
        );
    }
    latency(&raw, &db)?;
    Ok(shape)
}

fn section(db: &Database, kind: SectionKind) -> &[u8] {
    let s = &db.sections()[kind as usize - 1];
    &db.bytes()[s.range.clone()]
}

fn recs<T: FromBytes + zerocopy::KnownLayout + zerocopy::Immutable>(
    db: &Database,
    kind: SectionKind,
) -> &[T] {
    <[T]>::ref_from_bytes(section(db, kind)).unwrap_or(&[])
}

/// What storing the given strings costs: their bytes and an offset table for just them,
/// each gzipped.
fn strings_cost(db: &Database, ids: &HashSet<u32>) -> usize {
    let offsets = recs::<U32>(db, SectionKind::StrOffsets);
    let bytes = section(db, SectionKind::StrBytes);
    let mut sorted: Vec<u32> = ids.iter().copied().filter(|id| *id != 0).collect();
    sorted.sort_unstable();
    let (mut blob, mut offs) = (Vec::new(), Vec::new());
    for id in sorted {
        let (a, b) = (
            offsets[id as usize].get() as usize,
            offsets[id as usize + 1].get() as usize,
        );
        blob.extend_from_slice(&bytes[a..b]);
        offs.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    }
    gz_len(&blob) + gz_len(&offs)
}

/// Splits the database into two buckets and prices each, gzip -9 per section: **per-file
/// data** (every per-file column but the metadata pointer, sha256, tag sets, and the strings
/// they use) and **dependency data** (everything else: projects, release columns, the
/// per-file metadata pointer, metadata, requirement sets, lists, and their strings). The URL
/// digests are priced apart. Strings used by both buckets are charged to both.
fn sizes(db: &Database) -> Result<()> {
    let c = db.info().counts;
    println!("per-section size (raw -> gzip -9 alone):");
    let mut gz = std::collections::HashMap::new();
    for s in db.sections() {
        let bytes = &db.bytes()[s.range.clone()];
        let g = gz_len(bytes);
        gz.insert(s.kind, g);
        println!("  {:<22} {:>12} -> {:>11}", s.kind.name(), bytes.len(), g);
    }
    let mut file_strings: HashSet<u32> = recs::<U32>(db, SectionKind::FileRequiresPython)
        .iter()
        .map(|v| v.get())
        .collect();
    for k in [
        SectionKind::FileNames,
        SectionKind::FileYankedReasons,
        SectionKind::FileUrls,
    ] {
        file_strings.extend(recs::<SparseRec>(db, k).iter().map(|r| r.value.get()));
    }
    for t in recs::<TagSetRec>(db, SectionKind::TagSets) {
        file_strings.extend([t.python.get(), t.abi.get(), t.platform.get()]);
    }
    use SectionKind as K;
    let file_sections = [
        K::FileNames,
        K::FileFlags,
        K::FileTagSets,
        K::FileRequiresPython,
        K::FileYankedReasons,
        K::FileUrls,
        K::TagSets,
    ];
    let per_file: usize =
        file_sections.iter().map(|k| gz[k]).sum::<usize>() + strings_cost(db, &file_strings);
    let nf = c.files.max(1) as f64;
    println!(
        "per-file data in the core (file columns but metadata ids, tag sets, their strings; gzip): {:.1} B/file",
        per_file as f64 / nf,
    );

    let mut dep_strings: HashSet<u32> = HashSet::new();
    for p in recs::<ProjectRec>(db, K::Projects) {
        dep_strings.extend([p.name.get(), p.display_name.get()]);
    }
    for p in db.projects() {
        for r in p.releases() {
            for f in r.files() {
                let m = f.metadata();
                for set in [m.requires_dist(), m.build_requires(), m.setup_requires()] {
                    for q in set.iter() {
                        let (name, marker) = q.string_ids();
                        dep_strings.extend([name, marker]);
                        dep_strings.extend(q.extra_string_ids());
                    }
                }
            }
        }
    }
    let pool = recs::<U32>(db, K::ListPool);
    dep_strings.extend(pool.iter().map(|v| v.get()));
    for m in recs::<MetadataRec>(db, K::Metadata) {
        dep_strings.extend([
            m.requires_python.get(),
            m.build_backend.get(),
            m.requires_dist_source.get(),
            m.build_requires_source.get(),
            m.setup_requires_source.get(),
        ]);
    }
    let dep_sections = [
        K::Projects,
        K::ReleaseVersions,
        K::ReleaseTimes,
        K::FileMetadata,
        K::Metadata,
        K::ReqSets,
        K::ListOffsets,
        K::ListPool,
    ];
    let dep_gz: usize =
        dep_sections.iter().map(|k| gz[k]).sum::<usize>() + strings_cost(db, &dep_strings);
    println!(
        "dependency data (projects, releases, metadata, requirement sets, lists, per-file metadata ids, their strings; gzip): {dep_gz} bytes = {:.2} B/release, {:.2} B/file",
        dep_gz as f64 / c.releases.max(1) as f64,
        dep_gz as f64 / nf
    );
    let tar_len = dep_gz + per_file + gz[&K::ShardManifest];
    println!(
        "sum of the buckets and the shard manifest: {tar_len} bytes (sections gzipped one by one)"
    );
    let e = pypi_deps_db::emulate(db);
    let (sg, wg) = (e.sdist_gz, e.wheel_gz);
    let (sdist_versions, wheel_files) = (e.sdist_versions, e.wheel_files);
    println!(
        "pypi-deps-db layout, same releases ({} bucket files, {} bytes of JSON), gzip -9 as one stream: sdist {sg} bytes ({:.1} B/version over {sdist_versions}), wheel {wg} bytes ({:.1} B/file over {wheel_files}); each bucket file gzipped alone: {} bytes",
        e.bucket_files,
        e.json_bytes,
        sg as f64 / sdist_versions.max(1) as f64,
        wg as f64 / wheel_files.max(1) as f64,
        e.separately_gz
    );
    println!(
        "ratio pinion dependency data / pypi-deps-db JSON: 1/{:.1} (one gzip stream), 1/{:.1} (per bucket file)",
        (sg + wg) as f64 / dep_gz.max(1) as f64,
        e.separately_gz as f64 / dep_gz.max(1) as f64
    );
    // The figures for the real 2023 pypi-deps-db: ~11 B per sdist version, ~15 B
    // per wheel file, as its per-bucket .json.gz files.
    let reference = 11 * sdist_versions + 15 * wheel_files;
    println!(
        "ratio pinion dependency data / pypi-deps-db at its 2023 rates (11 B/sdist version + 15 B/wheel = {reference} bytes): 1/{:.1}",
        reference as f64 / dep_gz.max(1) as f64
    );
    Ok(())
}

fn latency(raw: &Path, db: &Database) -> Result<()> {
    let n_open = 200;
    let mut opens = Vec::with_capacity(n_open);
    for _ in 0..n_open {
        let t = Instant::now();
        let d = Database::open(raw)?;
        opens.push(t.elapsed().as_secs_f64() * 1e6);
        drop(d);
    }
    opens.sort_by(f64::total_cmp);
    println!(
        "open (mmap + header checks): median {:.1} µs, p99 {:.1} µs",
        opens[n_open / 2],
        opens[n_open * 99 / 100]
    );

    let names: Vec<String> = db
        .projects()
        .map(|p| p.display_name().to_string())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let queries: Vec<&str> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            names[(x % names.len() as u64) as usize].as_str()
        })
        .collect();
    let t = Instant::now();
    let mut found = 0usize;
    for q in &queries {
        found += usize::from(db.project(q).is_some());
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / queries.len() as f64;
    println!("lookup by display name (normalize + binary search): {per:.2} µs ({found} found)");
    let t = Instant::now();
    let mut work = 0usize;
    for q in &queries[..20_000] {
        if let Some(p) = db.project(q) {
            for r in p.releases() {
                work += r.version_str().len();
                if let Some(f) = r.files().next() {
                    work += f
                        .metadata()
                        .requires_dist()
                        .iter()
                        .map(|r| r.name().len())
                        .sum::<usize>();
                }
            }
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / 20_000.0;
    println!(
        "lookup + walk all releases and one file's requirements: {per:.2} µs per project ({work})"
    );
    Ok(())
}
