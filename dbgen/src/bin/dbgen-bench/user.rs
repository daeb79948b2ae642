//! What a user pays: bytes downloaded and added to the Nix store for a first resolution of a
//! 100-package environment and for a one-day update, with the core database and its hash
//! shards as published, beside mach-nix's figures. Also the shape figures `dbgen synth` is
//! calibrated with (`synth.rs` names each parameter's source).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;

use anyhow::{Context, Result};
use pinion_db::{Database, FileKind};

/// mach-nix's published figures (issue 12): pypi-deps-db ≈ 125 MB + nix-pypi-fetcher 242 MB
/// downloaded, ≈ 2 GB unpacked into the store.
const MACH_NIX_DOWNLOAD: f64 = 367e6;
const MACH_NIX_STORE: f64 = 2e9;

/// Today's PyPI (issue 12): kept files, the unit everything is scaled by.
pub const PYPI_FILES: f64 = 17.4e6;
pub const PYPI_PROJECTS: f64 = 930e3;

/// Shape of a database's content, compared between a real shard and the synthetic universe.
#[derive(Default, Clone)]
pub struct Shape {
    pub projects: u64,
    pub projects_with_files: u64,
    pub releases: u64,
    pub files: u64,
    pub wheels: u64,
    pub pure_wheels: u64,
    pub releases_by_files: [u64; 4],
    pub rel_per_project: Vec<u32>,
    /// Consecutive releases (newest first) whose Requires-Dist set is the previous one's.
    pub repeats: u64,
    pub release_pairs: u64,
    pub reqs_in_sets: u64,
    pub sets: u64,
    pub name_bytes: u64,
    pub version_bytes: u64,
    /// Projects with a release in the last 1 and 7 days before `created_at`.
    pub changed_1d: u64,
    pub changed_7d: u64,
    pub per_file: PerFile,
}

/// Bytes per kept file of each published artifact, and the daily change rate used.
#[derive(Default, Clone, Copy)]
pub struct PerFile {
    /// The core tarball as published (xz).
    pub core: f64,
    /// The unpacked `pinion.db`.
    pub raw: f64,
    pub shards: f64,
    pub daily: f64,
}

/// Shards a 100-package environment fetches (130 projects, one shard each at ~57 projects
/// per shard: `print_shard_count_table` measures it on the synthetic universe).
const ENV_SHARDS: f64 = 130.0;
const PYPI_SHARDS: f64 = 16_384.0;

impl PerFile {
    /// (first download, first store, one-day download) in bytes at PyPI's file count, from
    /// per-file figures alone: the same model for a real shard and the synthetic universe,
    /// so the two agree or disagree on the per-file bytes only.
    pub fn user_figures(&self) -> (f64, f64, f64) {
        let core = self.core * PYPI_FILES;
        let raw = self.raw * PYPI_FILES;
        let shard = self.shards * PYPI_FILES / PYPI_SHARDS;
        let per_shard_projects = PYPI_PROJECTS / PYPI_SHARDS;
        let p_changed = 1.0 - (1.0 - self.daily).powf(per_shard_projects);
        (
            core + ENV_SHARDS * shard,
            raw + ENV_SHARDS * shard,
            core + ENV_SHARDS * shard * p_changed,
        )
    }
}

pub fn shape(db: &Database) -> Shape {
    let mut s = Shape::default();
    // "Now" is the newest upload in the database, not its created-at (a synthetic or
    // re-dated state may be built long after its uploads).
    let now = db
        .projects()
        .filter_map(|p| p.releases().filter_map(|r| r.upload_time()).max())
        .max()
        .unwrap_or(0);
    for p in db.projects() {
        s.projects += 1;
        s.name_bytes += p.name().len() as u64;
        let mut n = 0u32;
        let mut prev: Option<u32> = None;
        let mut newest: Option<i64> = None;
        for r in p.releases() {
            n += 1;
            s.version_bytes += r.version_str().len() as u64;
            if let Some(t) = r.upload_time() {
                newest = Some(newest.map_or(t, |x: i64| x.max(t)));
            }
            let files: Vec<_> = r.files().collect();
            s.files += files.len() as u64;
            s.releases_by_files[files.len().min(4) - 1] += 1;
            for f in &files {
                if f.kind() == FileKind::Wheel {
                    s.wheels += 1;
                    s.pure_wheels += u64::from(f.platform_tags().any(|t| t == "any"));
                }
            }
            let set = files[0].metadata().requires_dist();
            if set.known() {
                s.sets += 1;
                s.reqs_in_sets += set.len() as u64;
            }
            if let Some(prev) = prev {
                s.release_pairs += 1;
                s.repeats += u64::from(prev == set.id());
            }
            prev = Some(set.id());
        }
        if n > 0 {
            s.projects_with_files += 1;
            s.rel_per_project.push(n);
        }
        s.releases += u64::from(n);
        if let Some(t) = newest {
            s.changed_1d += u64::from(now - t <= 86_400);
            s.changed_7d += u64::from(now - t <= 7 * 86_400);
        }
    }
    s.rel_per_project.sort_unstable();
    s
}

fn pct(a: u64, b: u64) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

fn quantile(v: &[u32], q: f64) -> u32 {
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0)
}

/// A row of the user-facing table: its label and how to get it from per-file figures.
type Figure = (&'static str, fn(&PerFile) -> f64);

/// One line per figure, one column per database (real shard, synthetic universe).
pub fn print_shapes(shapes: &[(&str, Shape)]) {
    println!("== shape (calibration of dbgen synth)");
    let row = |label: &str, f: &dyn Fn(&Shape) -> String| {
        let cols: Vec<String> = shapes
            .iter()
            .map(|(_, s)| format!("{:>14}", f(s)))
            .collect();
        println!("  {label:<52}{}", cols.join(""));
    };
    row("", &|_| String::new());
    let heads: Vec<String> = shapes.iter().map(|(t, _)| format!("{t:>14}")).collect();
    println!("  {:<52}{}", "", heads.join(""));
    row("projects (with kept files)", &|s| {
        format!(
            "{} ({:.0}%)",
            s.projects,
            pct(s.projects_with_files, s.projects)
        )
    });
    row("releases per project with files: mean", &|s| {
        format!(
            "{:.2}",
            s.releases as f64 / s.projects_with_files.max(1) as f64
        )
    });
    row("  median / p90 / p99 / max", &|s| {
        let v = &s.rel_per_project;
        format!(
            "{}/{}/{}/{}",
            quantile(v, 0.5),
            quantile(v, 0.9),
            quantile(v, 0.99),
            v.last().copied().unwrap_or(0)
        )
    });
    row("kept files per release: mean", &|s| {
        format!("{:.2}", s.files as f64 / s.releases.max(1) as f64)
    });
    row("  releases with 1 / 2 / 3 / 4+ files (%)", &|s| {
        let r = s.releases_by_files;
        format!(
            "{:.0}/{:.0}/{:.0}/{:.0}",
            pct(r[0], s.releases),
            pct(r[1], s.releases),
            pct(r[2], s.releases),
            pct(r[3], s.releases)
        )
    });
    row("wheels among kept files (%), pure (any) among them", &|s| {
        format!(
            "{:.0} / {:.0}",
            pct(s.wheels, s.files),
            pct(s.pure_wheels, s.wheels)
        )
    });
    row("release repeats the previous Requires-Dist (%)", &|s| {
        format!("{:.0}", pct(s.repeats, s.release_pairs))
    });
    row("requirements per known Requires-Dist set", &|s| {
        format!("{:.2}", s.reqs_in_sets as f64 / s.sets.max(1) as f64)
    });
    row("name / version length (bytes)", &|s| {
        format!(
            "{:.1}/{:.1}",
            s.name_bytes as f64 / s.projects.max(1) as f64,
            s.version_bytes as f64 / s.releases.max(1) as f64
        )
    });
    row("projects with a release in the last 1 / 7 days (%)", &|s| {
        format!(
            "{:.2}/{:.2}",
            pct(s.changed_1d, s.projects),
            pct(s.changed_7d, s.projects)
        )
    });
    println!(
        "== user-facing figures, per-file model at {PYPI_FILES:.0} kept files (goal; mach-nix)"
    );
    let per_file: [Figure; 3] = [
        ("core tarball, xz (B/file)", |p| p.core),
        ("pinion.db unpacked (B/file)", |p| p.raw),
        ("hash shards (B/file)", |p| p.shards),
    ];
    let figures: [Figure; 3] = [
        ("download, first resolution (MB; <= 180; 367)", |p| {
            p.user_figures().0 / 1e6
        }),
        ("store, first resolution (MB; <= 1000; ~2000)", |p| {
            p.user_figures().1 / 1e6
        }),
        ("download, one-day update (MB; <= first)", |p| {
            p.user_figures().2 / 1e6
        }),
    ];
    let heads: Vec<String> = shapes.iter().map(|(t, _)| format!("{t:>14}")).collect();
    println!("  {:<52}{}{:>14}", "", heads.join(""), "agreement");
    for (label, f) in per_file.iter().chain(&figures) {
        let vals: Vec<f64> = shapes.iter().map(|(_, s)| f(&s.per_file)).collect();
        let cols: String = vals.iter().map(|v| format!("{v:>14.1}")).collect();
        // Synthetic against real, when both were measured: the "within 15 %".
        let agreement = match vals.as_slice() {
            [real, synth] if *real > 0.0 => format!("{:>+13.1}%", 100.0 * (synth - real) / real),
            _ => String::new(),
        };
        println!("  {label:<52}{cols}{agreement}");
    }
}

/// The environment a first resolution is priced with: the 100 projects the most other
/// projects' newest releases require, plus what their newest releases require (breadth
/// first), up to `cap` projects. On a synthetic universe that is the popular core its Zipf
/// draw of dependency names favours; a real random shard has no environment of its own.
pub fn popular_env(db: &Database, top: usize, cap: usize) -> Vec<String> {
    let newest_deps = |name: &str| -> Vec<String> {
        let Some(p) = db.project(name) else {
            return Vec::new();
        };
        let Some(r) = p.releases().next() else {
            return Vec::new();
        };
        let Some(f) = r.files().next() else {
            return Vec::new();
        };
        f.metadata()
            .requires_dist()
            .iter()
            .filter(|q| q.marker().is_none())
            .map(|q| q.name().to_string())
            .collect()
    };
    let mut depended: HashMap<String, u32> = HashMap::new();
    for p in db.projects() {
        let deps: BTreeSet<String> = newest_deps(p.name()).into_iter().collect();
        for d in deps {
            *depended.entry(d).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, u32)> = depended.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut env: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = ranked.into_iter().take(top).map(|(n, _)| n).collect();
    while let Some(n) = queue.pop_front() {
        if env.len() >= cap {
            break;
        }
        if db.project(&n).is_none() || !seen.insert(n.clone()) {
            continue;
        }
        queue.extend(newest_deps(&n));
        env.push(n);
    }
    env
}

/// Everything a user-facing figure needs from one built database.
pub struct Artifacts<'a> {
    pub db: &'a Database,
    pub tarball_len: u64,
    pub raw_len: u64,
    pub shard_lens: Vec<u64>,
}

/// Prints the first-resolution and daily-update figures for `env`, measured on this
/// database and scaled per file to today's PyPI.
pub fn print_user_figures(a: &Artifacts<'_>, env: &[String], daily_change: f64, scaled: bool) {
    let files = a.db.info().counts.files.max(1) as f64;
    let scale = if scaled { PYPI_FILES / files } else { 1.0 };
    let shards: BTreeSet<u32> = env.iter().map(|n| a.db.shard_of(n)).collect();
    let shard_bytes: u64 = shards.iter().map(|&i| a.shard_lens[i as usize]).sum();
    let total_shards: u64 = a.shard_lens.iter().sum();
    // Projects per shard, for the chance that a shard changed in a day.
    let mut members = vec![0u32; a.shard_lens.len()];
    for p in a.db.projects() {
        if p.releases().next().is_some() {
            members[a.db.shard_of(p.name()) as usize] += 1;
        }
    }
    let changed: f64 = shards
        .iter()
        .map(|&i| {
            let p_changed = 1.0 - (1.0 - daily_change).powi(members[i as usize] as i32);
            p_changed * a.shard_lens[i as usize] as f64
        })
        .sum();
    let mb = |b: f64| b / 1e6;
    let note = if scaled {
        format!(" (scaled per file ×{scale:.1} to {PYPI_FILES:.0} files)")
    } else {
        String::new()
    };
    println!(
        "hash shards: {} files, {} bytes in all ({:.1} B/file), {:.0} bytes each on average",
        a.shard_lens.len(),
        total_shards,
        total_shards as f64 / files,
        total_shards as f64 / a.shard_lens.len() as f64
    );
    println!(
        "environment: {} projects in {} shards ({} shard bytes)",
        env.len(),
        shards.len(),
        shard_bytes
    );
    // The shard bytes an environment fetches do not grow with the universe at a fixed shard
    // count per project; they are measured, not scaled (see the per-N table).
    let core_dl = a.tarball_len as f64 * scale;
    let core_store = a.raw_len as f64 * scale;
    let first_dl = core_dl + shard_bytes as f64;
    // builtins.fetchTarball unpacks at evaluation: the store holds pinion.db (and its small
    // manifest), never the tarball (nix/db.nix).
    let first_store = core_store + shard_bytes as f64;
    let day_dl = core_dl + changed;
    println!("user-facing figures{note}:");
    println!(
        "  first resolution: download {:.1} MB (core tarball, xz, {:.1} + shards {:.1}) = {:.2} of mach-nix's {:.0} MB; goal <= 180 MB",
        mb(first_dl),
        mb(core_dl),
        mb(shard_bytes as f64),
        first_dl / MACH_NIX_DOWNLOAD,
        mb(MACH_NIX_DOWNLOAD)
    );
    println!(
        "  first resolution: store {:.1} MB (unpacked pinion.db {:.1} + shards {:.1}; the tarball is not stored) = {:.2} of mach-nix's {:.0} MB; goal <= 1000 MB",
        mb(first_store),
        mb(core_store),
        mb(shard_bytes as f64),
        first_store / MACH_NIX_STORE,
        mb(MACH_NIX_STORE)
    );
    println!(
        "  one-day update ({:.2}% of projects change a day): download {:.1} MB (core {:.1} + changed shards {:.1}), store {:.1} MB; goal <= first resolution",
        100.0 * daily_change,
        mb(day_dl),
        mb(core_dl),
        mb(changed),
        mb(core_store + changed)
    );
}

/// Shard bytes a given environment fetches for several shard counts, the universe scaled to
/// today's PyPI: each project's share is its files × 64 B + its name, so a shard's size is
/// the sum over the projects hashed into it.
pub fn print_shard_count_table(db: &Database, env: &[String], project_scale: f64) {
    println!("shard count trade-off (projects scaled ×{project_scale:.1} to PyPI's count):");
    let per_project: Vec<(String, u64)> = db
        .projects()
        .map(|p| {
            let files: usize = p.releases().map(|r| r.files().len()).sum();
            (
                p.name().to_string(),
                files as u64 * 64 + p.name().len() as u64 + 2,
            )
        })
        .collect();
    let total: u64 = per_project.iter().map(|(_, b)| b).sum();
    let env_bytes: HashMap<&str, u64> = per_project
        .iter()
        .filter(|(n, _)| env.contains(n))
        .map(|(n, b)| (n.as_str(), *b))
        .collect();
    for n in [1024u32, 4096, 16384, 65536] {
        // At PyPI scale each shard holds project_scale times as many projects: the env's own
        // projects plus (shard's mean size minus them) of others.
        let mean = total as f64 * project_scale / f64::from(n);
        let shards: BTreeSet<u32> = env
            .iter()
            .map(|e| pinion_db::layout::shard_of(e, n))
            .collect();
        let own: u64 = env_bytes.values().sum();
        let fetched = shards.len() as f64 * mean + own as f64;
        println!(
            "  N = {n:>6}: {:>5} shards fetched, ~{:.1} MB (mean shard {:.0} kB); {n} files to publish",
            shards.len(),
            fetched / 1e6,
            mean / 1e3
        );
    }
}

/// Bytes of the shard files in `dir`, by index.
pub fn shard_lens(db: &Database, dir: &Path) -> Result<Vec<u64>> {
    (0..db.shard_count())
        .map(|i| {
            let p = dir.join(pinion_db::layout::shard_file_name(i));
            Ok(std::fs::metadata(&p)
                .with_context(|| format!("reading {}", p.display()))?
                .len())
        })
        .collect()
}
