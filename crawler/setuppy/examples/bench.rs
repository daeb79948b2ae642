//! Benchmark: setup.py executions per second on a bounded pool, and the share of a sample
//! of sdists whose requirements are known statically, only by execution, or not at all.
//!
//! `cargo run --release -p pinion-setuppy --example bench -- [--threads 2] [--repeat 5] [SDIST...]`
//! (default sample: tests/fixtures). Interpreters: `PINION_SETUPPY_PYTHONS` or /usr/bin/python3.
//!
//! "Static" is a deliberately simple check, not the crawler's extractor: the sdist ships
//! `*.egg-info/requires.txt`, or every install_requires / setup_requires / extras_require
//! in setup.py is a literal list/dict of string literals and setup() gets no `**kwargs`.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use pinion_setuppy::{SandboxConfig, merge_runs, run_many};

const KEYS: [&str; 3] = ["install_requires", "setup_requires", "extras_require"];

/// setup.py text and whether an egg-info requires.txt is present.
fn inspect(name: &str, bytes: &[u8]) -> (Option<String>, bool) {
    let mut setup_py = None;
    let mut egg_info = false;
    if !name.ends_with(".tar.gz") {
        return (None, false);
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let Ok(entries) = archive.entries() else {
        return (None, false);
    };
    for mut entry in entries.flatten() {
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let depth = path.trim_end_matches('/').matches('/').count();
        if depth == 1 && path.ends_with("/setup.py") {
            let mut text = String::new();
            if entry.read_to_string(&mut text).is_ok() {
                setup_py = Some(text);
            }
        } else if depth == 2 && path.ends_with(".egg-info/requires.txt") {
            egg_info = true;
        }
    }
    (setup_py, egg_info)
}

/// Is the bracketed literal starting at `text[0]` made only of string literals?
fn literal_only(text: &str) -> bool {
    let (open, close) = match text.chars().next() {
        Some('[') => ('[', ']'),
        Some('{') => ('{', '}'),
        Some('(') => ('(', ')'),
        _ => return false,
    };
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return true;
                    }
                }
                ',' | ':' | ' ' | '\n' | '\t' | '\r' | '[' | ']' => {}
                _ => return false,
            },
        }
    }
    false
}

fn statically_known(setup_py: &str) -> bool {
    if setup_py.contains("**") || setup_py.contains("pbr") {
        return false;
    }
    KEYS.iter().all(|key| {
        setup_py.match_indices(key).all(|(at, _)| {
            let rest = setup_py[at + key.len()..].trim_start();
            rest.strip_prefix('=')
                .is_some_and(|value| literal_only(value.trim_start()))
        })
    })
}

fn main() -> anyhow::Result<()> {
    let mut threads = 2;
    let mut repeat = 5;
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next().context("--threads N")?.parse()?,
            "--repeat" => repeat = args.next().context("--repeat N")?.parse()?,
            _ => paths.push(arg.into()),
        }
    }
    if paths.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        paths = std::fs::read_dir(&dir)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "gz"))
            .collect();
        paths.sort();
    }
    let jobs: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| {
            Ok((
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(p)?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let cfg = SandboxConfig::detect()?;
    println!(
        "{} sdists x {} interpreter(s) {:?}, {threads} threads, {repeat} repeats",
        jobs.len(),
        cfg.pythons.len(),
        cfg.pythons
    );

    let mut rates = Vec::new();
    let mut last = Vec::new();
    for _ in 0..repeat {
        let start = Instant::now();
        last = run_many(jobs.clone(), &cfg, threads);
        rates.push(jobs.len() as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "sdists/s: median {:.2}  min {:.2}  max {:.2}",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1]
    );

    // Classes in order of precedence: what a static reader already knows wins.
    const CLASSES: [&str; 4] = [
        "static: egg-info requires.txt",
        "static: literal setup() kwargs",
        "only by execution",
        "unknown",
    ];
    let mut counts = [0usize; 4];
    for ((name, bytes), result) in jobs.iter().zip(&last) {
        let (setup_py, egg_info) = inspect(name, bytes);
        let executed = result
            .as_ref()
            .ok()
            .and_then(|runs| merge_runs(runs))
            .is_some();
        let class = if egg_info {
            0
        } else if setup_py.as_deref().is_some_and(statically_known) {
            1
        } else if executed {
            2
        } else {
            3
        };
        counts[class] += 1;
        let exec_note = if executed {
            "execution ok"
        } else {
            "execution failed"
        };
        println!("  {:32} {exec_note:17} {name}", CLASSES[class]);
    }
    let total = jobs.len().max(1) as f64;
    for (class, count) in CLASSES.iter().zip(counts) {
        println!(
            "{class:32} {count:3}  {:5.1}%",
            100.0 * count as f64 / total
        );
    }
    Ok(())
}
