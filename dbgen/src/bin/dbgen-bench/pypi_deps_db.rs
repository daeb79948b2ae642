//! The dependency data of a pinion database re-serialized the way mach-nix's pypi-deps-db
//! (2023) stores it, so the size comparison is against the real shape and not a strawman:
//!
//! - 256 bucket files, `sdist/XX.json` and `wheel/XX.json`, `XX` the first two hex digits
//!   of sha256(name); Python's `json.dump(..., indent=2)` of a name-sorted object.
//! - sdist: `name → version → ("other version" | {pyver → data | "27"})`, where `data` is
//!   `{install_requires, extras_require, setup_requires, python_requires}` (empty keys left
//!   out) and pyvers are `27 36 37 38 39 310`, the later ones references to `27`. A
//!   version whose data equals an earlier version's is stored as that version's name.
//! - wheel: `name → python tag → version → filename → ({provides_extras, requires_dist,
//!   requires_python} | "version@filename")`, the reference when an earlier wheel of the
//!   same name and python tag has the same data.
//!
//! Requirement strings are pinion's canonical PEP 508 text (pypi-deps-db kept what each
//! METADATA said, often the longer `name (>=1)` form, so this errs in its favour).

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use pinion_db::{Database, FileKind, ReqSet};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Sizes of the emulated JSON, gzip -9.
pub struct Emulated {
    pub bucket_files: usize,
    pub json_bytes: usize,
    /// sdist and wheel parts, each as one gzip stream over its bucket files in order (as a
    /// tarball of the repository would compress them).
    pub sdist_gz: usize,
    pub wheel_gz: usize,
    /// Every bucket file gzipped on its own.
    pub separately_gz: usize,
    pub sdist_versions: usize,
    pub wheel_files: usize,
}

const PYVERS: [&str; 6] = ["27", "36", "37", "38", "39", "310"];

fn bucket(name: &str) -> String {
    let d = Sha256::digest(name.as_bytes());
    format!("{:02x}", d[0])
}

fn strings(set: ReqSet<'_>) -> Vec<String> {
    set.iter().map(|r| r.to_pep508_string()).collect()
}

/// Splits Requires-Dist into setuptools' `install_requires` and `extras_require`: a
/// requirement whose whole marker is `extra == "x"` goes to extra `x`.
fn sdist_data(m: pinion_db::Metadata<'_>) -> Value {
    let mut install = Vec::new();
    let mut extras: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in m.requires_dist().iter() {
        let text = r.to_pep508_string();
        let extra = r.marker().and_then(|(_, mk)| {
            let rest = mk.strip_prefix("extra == ")?;
            let name = rest.trim_matches(|c| c == '\'' || c == '"');
            (rest.len() == name.len() + 2).then(|| name.to_string())
        });
        match extra {
            Some(x) => {
                let bare = text.split(" ; ").next().unwrap_or(&text).to_string();
                extras.entry(x).or_default().push(bare);
            }
            None => install.push(text),
        }
    }
    let mut data = Map::new();
    if !install.is_empty() {
        data.insert("install_requires".into(), json!(install));
    }
    if !extras.is_empty() {
        data.insert("extras_require".into(), json!(extras));
    }
    let setup = strings(m.setup_requires());
    if !setup.is_empty() {
        data.insert("setup_requires".into(), json!(setup));
    }
    if let Some(rp) = m.requires_python() {
        data.insert("python_requires".into(), json!([rp]));
    }
    Value::Object(data)
}

fn wheel_data(m: pinion_db::Metadata<'_>) -> Value {
    let mut data = Map::new();
    let extras: Vec<&str> = m.provides_extra().collect();
    if !extras.is_empty() {
        data.insert("provides_extras".into(), json!(extras));
    }
    let reqs = strings(m.requires_dist());
    if !reqs.is_empty() {
        data.insert("requires_dist".into(), json!(reqs));
    }
    if let Some(rp) = m.requires_python() {
        data.insert("requires_python".into(), json!(rp));
    }
    Value::Object(data)
}

/// Builds the JSON one bucket at a time, so memory stays at one 256th of the data even for
/// the full-scale synthetic universe.
pub fn emulate(db: &Database) -> Emulated {
    let mut buckets: BTreeMap<String, Vec<pinion_db::Project<'_>>> = BTreeMap::new();
    for p in db.projects() {
        buckets.entry(bucket(p.name())).or_default().push(p);
    }
    let gz = || GzEncoder::new(Vec::new(), Compression::new(9));
    let (mut sdist_stream, mut wheel_stream) = (gz(), gz());
    let mut e = Emulated {
        bucket_files: 0,
        json_bytes: 0,
        sdist_gz: 0,
        wheel_gz: 0,
        separately_gz: 0,
        sdist_versions: 0,
        wheel_files: 0,
    };
    for projects in buckets.values() {
        let (mut sdist, mut wheel) = (Map::new(), Map::new());
        for p in projects {
            let (s, w) = project(*p, &mut e);
            if !s.is_empty() {
                sdist.insert(p.name().to_string(), Value::Object(s));
            }
            if !w.is_empty() {
                wheel.insert(p.name().to_string(), Value::Object(w));
            }
        }
        for (part, stream) in [(sdist, &mut sdist_stream), (wheel, &mut wheel_stream)] {
            if part.is_empty() {
                continue;
            }
            let mut json =
                serde_json::to_vec_pretty(&Value::Object(part)).expect("JSON serializes");
            json.push(b'\n');
            stream.write_all(&json).expect("writing to memory");
            let mut alone = gz();
            alone.write_all(&json).expect("writing to memory");
            e.separately_gz += alone.finish().expect("writing to memory").len();
            e.json_bytes += json.len();
            e.bucket_files += 1;
        }
    }
    e.sdist_gz = sdist_stream.finish().expect("writing to memory").len();
    e.wheel_gz = wheel_stream.finish().expect("writing to memory").len();
    e
}

/// One project's sdist and wheel objects.
fn project(
    p: pinion_db::Project<'_>,
    e: &mut Emulated,
) -> (Map<String, Value>, Map<String, Value>) {
    let (mut versions, mut seen_sdist) = (Map::new(), Vec::<(Value, String)>::new());
    let mut by_tag: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut seen_wheel: BTreeMap<String, Vec<(Value, String)>> = BTreeMap::new();
    let releases: Vec<_> = p.releases().collect();
    // Oldest first, as the crawler appended them.
    for r in releases.into_iter().rev() {
        let version = r.version_str().to_string();
        if let Some(f) = r.files().find(|f| f.kind() == FileKind::Sdist) {
            e.sdist_versions += 1;
            let data = sdist_data(f.metadata());
            let entry = match seen_sdist.iter().find(|(d, _)| *d == data) {
                Some((_, v)) => json!(v),
                None => {
                    seen_sdist.push((data.clone(), version.clone()));
                    let mut per_py = Map::new();
                    per_py.insert(PYVERS[0].into(), data);
                    for py in &PYVERS[1..] {
                        per_py.insert((*py).into(), json!(PYVERS[0]));
                    }
                    Value::Object(per_py)
                }
            };
            versions.insert(version.clone(), entry);
        }
        for f in r.files().filter(|f| f.kind() == FileKind::Wheel) {
            e.wheel_files += 1;
            let tag = f.python_tags().collect::<Vec<_>>().join(".");
            let filename = f.filename().into_owned();
            let data = wheel_data(f.metadata());
            let seen = seen_wheel.entry(tag.clone()).or_default();
            let entry = match seen.iter().find(|(d, _)| *d == data) {
                Some((_, at)) => json!(at),
                None => {
                    seen.push((data.clone(), format!("{version}@{filename}")));
                    data
                }
            };
            if let Value::Object(files) = by_tag
                .entry(tag)
                .or_default()
                .entry(version.clone())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                files.insert(filename, entry);
            }
        }
    }
    let tags = by_tag
        .into_iter()
        .map(|(k, v)| (k, Value::Object(v)))
        .collect();
    (versions, tags)
}
