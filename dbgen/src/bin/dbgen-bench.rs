//! Benchmark for the database format and dbgen: sizes (bytes per release/file, per section,
//! compressed), build time and peak RSS (measured in a child process so only the build
//! counts), open and lookup latency, and a size comparison against the same dependency data
//! in mach-nix's pypi-deps-db JSON shape.
//!
//! `cargo run --release -p dbgen --bin dbgen-bench -- [--state crawl.sqlite] [--projects N] [--full]`

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use flate2::Compression;
use flate2::write::GzEncoder;
use resolver::db::layout::{FileRec, MetadataRec, RequirementRec, SectionKind, TagSetRec};
use resolver::db::{Database, FileKind};
use zerocopy::FromBytes;
use zerocopy::little_endian::U32;

#[derive(Parser)]
struct Args {
    /// A real crawl state to measure as well.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Synthetic universe size (projects).
    #[arg(long, default_value_t = 20_000)]
    projects: usize,
    /// Synthetic universe at full PyPI scale (700k projects).
    #[arg(long)]
    full: bool,
    /// Skip the synthetic universe.
    #[arg(long)]
    no_synth: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Internal: build STATE into TAR and RAW, print timing and VmHWM (run as a child).
    #[arg(long, num_args = 3, hide = true)]
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

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(paths) = &args.child_build {
        let start = Instant::now();
        let built = dbgen::build(&paths[0], None)?;
        std::fs::write(&paths[1], &built.tarball)?;
        std::fs::write(&paths[2], &built.db)?;
        println!("{} {}", start.elapsed().as_secs_f64(), vm_hwm_kib());
        return Ok(());
    }
    if let Some(state) = &args.child_synth {
        let t = Instant::now();
        let universe = dbgen::synth::universe(args.projects, args.seed);
        println!("synth generate:     {:.1} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut conn = rusqlite::Connection::open(state)?;
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
        dbgen::state::save(&universe, dbgen::synth::FINISHED_AT, &mut conn)?;
        println!(
            "synth state write:  {:.1} s ({} MB)",
            t.elapsed().as_secs_f64(),
            std::fs::metadata(state)?.len() >> 20
        );
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    if let Some(state) = &args.state {
        println!("== real crawl state {}", state.display());
        measure(state, dir.path(), "real")?;
    }
    if !args.no_synth {
        let n = if args.full { 700_000 } else { args.projects };
        println!("== synthetic universe, {n} projects, seed {}", args.seed);
        let state = dir.path().join("synth.sqlite");
        let status = Command::new(std::env::current_exe()?)
            .args([
                "--projects",
                &n.to_string(),
                "--seed",
                &args.seed.to_string(),
                "--child-synth",
            ])
            .arg(&state)
            .status()?;
        if !status.success() {
            bail!("synthesizing the crawl state failed");
        }
        measure(&state, dir.path(), "synth")?;
    }
    Ok(())
}

fn measure(state: &Path, dir: &Path, tag: &str) -> Result<()> {
    let tar = dir.join(format!("{tag}.tar.gz"));
    let raw = dir.join(format!("{tag}.db"));
    let out = Command::new(std::env::current_exe()?)
        .arg("--child-build")
        .args([state, &tar, &raw])
        .output()
        .context("running the build child")?;
    if !out.status.success() {
        bail!("build failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8(out.stdout)?;
    let mut it = stdout.split_whitespace();
    let (secs, hwm): (f64, u64) = (
        it.next().unwrap_or("0").parse()?,
        it.next().unwrap_or("0").parse()?,
    );
    println!(
        "build (load + write + tar.gz): {secs:.2} s, peak RSS {:.0} MiB",
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
    println!("verify: {:.2} s", t.elapsed().as_secs_f64());

    sizes(&db)?;
    latency(&raw, &db)?;
    Ok(())
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

/// Concatenation of the given strings, to measure how they compress as a group.
fn strings_blob(db: &Database, ids: &HashSet<u32>) -> Vec<u8> {
    let offsets = recs::<U32>(db, SectionKind::StrOffsets);
    let bytes = section(db, SectionKind::StrBytes);
    let mut sorted: Vec<u32> = ids.iter().copied().collect();
    sorted.sort_unstable();
    let mut out = Vec::new();
    for id in sorted {
        let (a, b) = (
            offsets[id as usize].get() as usize,
            offsets[id as usize + 1].get() as usize,
        );
        out.extend_from_slice(&bytes[a..b]);
        out.push(0);
    }
    out
}

fn sizes(db: &Database) -> Result<()> {
    let c = db.info().counts;
    println!("per-section size (raw -> gzip -9 alone):");
    let mut gz = std::collections::HashMap::new();
    for s in db.sections() {
        let bytes = &db.bytes()[s.range.clone()];
        let g = gz_len(bytes);
        gz.insert(s.kind, g);
        println!("  {:<14} {:>12} -> {:>11}", s.kind.name(), bytes.len(), g);
    }
    let files = recs::<FileRec>(db, SectionKind::Files);
    let tagsets = recs::<TagSetRec>(db, SectionKind::TagSets);
    let mut file_strings = HashSet::new();
    for f in files {
        file_strings.extend([
            f.filename.get(),
            f.url.get(),
            f.requires_python.get(),
            f.yanked_reason.get(),
        ]);
    }
    for t in tagsets {
        file_strings.extend([t.python.get(), t.abi.get(), t.platform.get()]);
    }
    let file_str_gz = gz_len(&strings_blob(db, &file_strings));
    let base = gz[&SectionKind::Files]
        + gz[&SectionKind::Sha256]
        + gz[&SectionKind::TagSets]
        + file_str_gz;
    let nf = c.files.max(1) as f64;
    println!(
        "per-file data (file records + sha256 + tag sets + their strings, gzip): {:.1} B/file without URL digests, {:.1} B/file with",
        base as f64 / nf,
        (base + gz[&SectionKind::UrlDigests]) as f64 / nf
    );

    let mut dep_strings = HashSet::new();
    let pool = recs::<U32>(db, SectionKind::ListPool);
    let list_offsets = recs::<U32>(db, SectionKind::ListOffsets);
    let list = |id: u32| {
        &pool
            [list_offsets[id as usize].get() as usize..list_offsets[id as usize + 1].get() as usize]
    };
    for r in recs::<RequirementRec>(db, SectionKind::Requirements) {
        dep_strings.extend([r.name.get(), r.marker.get()]);
        dep_strings.extend(list(r.extras.get()).iter().map(|v| v.get()));
        dep_strings.extend(list(r.specifiers.get()).chunks(2).map(|p| p[1].get()));
    }
    for m in recs::<MetadataRec>(db, SectionKind::Metadata) {
        dep_strings.extend([m.requires_python.get(), m.build_backend.get()]);
        dep_strings.extend(list(m.provides_extra.get()).iter().map(|v| v.get()));
    }
    let dep_gz = gz[&SectionKind::Metadata]
        + gz[&SectionKind::Requirements]
        + gz[&SectionKind::ListPool]
        + gz[&SectionKind::ListOffsets]
        + gz_len(&strings_blob(db, &dep_strings))
        // Each file's metadata pointer is dependency data too.
        + gz_len(&files.iter().flat_map(|f| f.metadata.get().to_le_bytes()).collect::<Vec<u8>>());
    println!(
        "dependency data (metadata, requirements, lists, their strings, per-file metadata ids; gzip): {dep_gz} bytes = {:.2} B/release, {:.2} B/file",
        dep_gz as f64 / c.releases.max(1) as f64,
        dep_gz as f64 / nf
    );
    let (sdist_json, wheel_json, sdist_versions, wheel_files) = mach_nix_json(db)?;
    let (sg, wg) = (gz_len(&sdist_json), gz_len(&wheel_json));
    println!(
        "mach-nix pypi-deps-db shape, same data, gzip -9: sdist {sg} bytes ({:.1} B/version over {sdist_versions}), wheel {wg} bytes ({:.1} B/file over {wheel_files}); total {}",
        sg as f64 / sdist_versions.max(1) as f64,
        wg as f64 / wheel_files.max(1) as f64,
        sg + wg
    );
    println!(
        "ratio pinion dependency data / mach-nix JSON: 1/{:.1}",
        (sg + wg) as f64 / dep_gz.max(1) as f64
    );
    Ok(())
}

/// The same dependency data in mach-nix's pypi-deps-db layout: sdist data per
/// `name → version → {requires_dist, requires_python, setup_requires}`, wheel data per
/// `name → version → python tag → filename → {requires_dist, requires_python}`.
fn mach_nix_json(db: &Database) -> Result<(Vec<u8>, Vec<u8>, usize, usize)> {
    let js = |s: &str| serde_json::to_string(s).expect("strings serialize");
    let list = |set: resolver::db::ReqSet<'_>| {
        let items: Vec<String> = set.iter().map(|r| js(&r.to_pep508_string())).collect();
        format!("[{}]", items.join(","))
    };
    let (mut sd, mut wh) = (String::from("{"), String::from("{"));
    let (mut nsd, mut nwh) = (0, 0);
    for p in db.projects() {
        let (mut sv, mut wv) = (Vec::new(), Vec::new());
        for r in p.releases() {
            let mut wheels = Vec::new();
            for f in r.files() {
                let m = f.metadata();
                match f.kind() {
                    FileKind::Sdist
                        if !sv
                            .iter()
                            .any(|(v, _): &(String, String)| v == r.version_str()) =>
                    {
                        nsd += 1;
                        let mut entry = format!("\"requires_dist\":{}", list(m.requires_dist()));
                        if let Some(rp) = m.requires_python() {
                            entry.push_str(&format!(",\"requires_python\":{}", js(rp)));
                        }
                        if !m.setup_requires().is_empty() {
                            entry.push_str(&format!(
                                ",\"setup_requires\":{}",
                                list(m.setup_requires())
                            ));
                        }
                        sv.push((r.version_str().to_string(), format!("{{{entry}}}")));
                    }
                    FileKind::Wheel => {
                        nwh += 1;
                        let py: Vec<&str> = f.python_tags().collect();
                        let mut entry = format!("\"requires_dist\":{}", list(m.requires_dist()));
                        if let Some(rp) = m.requires_python() {
                            entry.push_str(&format!(",\"requires_python\":{}", js(rp)));
                        }
                        wheels.push(format!(
                            "{}:{{{}:{{{entry}}}}}",
                            js(&py.join(".")),
                            js(f.filename())
                        ));
                    }
                    FileKind::Sdist => {}
                }
            }
            if !wheels.is_empty() {
                wv.push(format!("{}:{{{}}}", js(r.version_str()), wheels.join(",")));
            }
        }
        if !sv.is_empty() {
            let body: Vec<String> = sv.iter().map(|(v, e)| format!("{}:{e}", js(v))).collect();
            sd.push_str(&format!("{}:{{{}}},", js(p.name()), body.join(",")));
        }
        if !wv.is_empty() {
            wh.push_str(&format!("{}:{{{}}},", js(p.name()), wv.join(",")));
        }
    }
    sd.push('}');
    wh.push('}');
    Ok((sd.into_bytes(), wh.into_bytes(), nsd, nwh))
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
