//! The lock (see `lock-format.md`): built from a PubGrub solution, with build-dependency
//! cycles broken, then written as pretty JSON or as the equivalent Nix expression. Both are
//! deterministic: `serde_json::Map` is a BTreeMap here, and lists are sorted before writing.

use std::collections::{BTreeMap, BTreeSet};

use pinion_db::time::rfc3339;
use serde_json::{Value, json};

use crate::candidates::{Offer, hex};
use crate::solve::{Pkg, Solver};
use crate::source::{FileKind, PackageSource};

/// One package of the lock before serialization.
#[derive(Clone, Debug)]
struct Entry {
    value: serde_json::Map<String, Value>,
    runtime: BTreeSet<String>,
    build: BTreeSet<String>,
}

/// Builds the lock value from a solution; warnings go to the caller (and stderr).
pub fn build_lock<I: PackageSource>(
    solver: &Solver<'_, I>,
    index: &I,
    solution: &[(Pkg, pep440_rs::Version)],
    exclude_newer: Option<&str>,
) -> (Value, Vec<String>) {
    let mut warnings = Vec::new();
    let mut extras: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (p, version) in solution {
        if let Pkg::Extra(n, e) = p {
            // Like uv: an extra the package does not define is warned about (a typo, or an
            // extra that a newer release added), and is not recorded in the lock.
            if solver.defines_extra(n, version, e) == Some(false) {
                warnings.push(format!(
                    "`{n}` {version} has no extra `{e}`; it was ignored"
                ));
                continue;
            }
            extras
                .entry(n.to_string())
                .or_default()
                .insert(e.to_string());
        }
    }
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for (p, version) in solution {
        let Pkg::Base(name) = p else { continue };
        let cands = solver.candidates(name);
        let Some(cand) = cands.list.iter().find(|c| &c.version == version) else {
            continue;
        };
        let Some(offer) = solver.offer(name, cand) else {
            continue;
        };
        let (runtime, build, known) = solver.deps_of(name, version, None);
        let mut runtime: BTreeSet<String> = runtime.into_iter().map(|d| d.name).collect();
        for e in extras.get(&**name).into_iter().flatten() {
            runtime.extend(
                solver
                    .deps_of(name, version, Some(e))
                    .0
                    .into_iter()
                    .map(|d| d.name),
            );
        }
        runtime.remove(&**name);
        let build: BTreeSet<String> = build.into_iter().map(|d| d.name).collect();
        if !known {
            warnings.push(format!("{name} {}: requirements unknown (the database could not extract them); its dependencies are not locked", cand.version_str));
        }
        let unparsed = solver.unparsed_of(name, version);
        for bad in &unparsed {
            // A direct URL reference parses; the database leaves it out because an offline,
            // index-based resolution cannot follow it. Saying it did not parse would be false.
            let why = match pinion_pep::parse_requirement(bad) {
                Err(pinion_pep::RequirementError::Url(_)) => {
                    "points at a URL, which pinion does not follow"
                }
                _ => "could not be parsed when crawled",
            };
            warnings.push(format!(
                "{name} {}: requirement {bad:?} {why}; its requirements are partial and may miss dependencies",
                cand.version_str
            ));
        }
        let (format, source) = match offer {
            Offer::Wheel(file) | Offer::Sdist(file) => {
                let files = solver.files(name, file.release);
                let f = &files[file.position];
                let format = match f.kind {
                    FileKind::Wheel => "wheel",
                    FileKind::Sdist => {
                        let has_bs = index
                            .metadata(name, file)
                            .map(|m| m.has_build_system)
                            .unwrap_or(false);
                        if has_bs { "pyproject" } else { "setuptools" }
                    }
                };
                (
                    format,
                    json!({"url": index.url(name, file), "sha256": hex(&f.sha256), "filename": f.filename}),
                )
            }
            Offer::Nixpkgs { .. } => {
                let attr = solver_nix_attr(solver, name);
                ("nixpkgs", json!({ "attr": attr }))
            }
        };
        let mut value = serde_json::Map::new();
        value.insert("name".into(), json!(name.to_string()));
        value.insert("display_name".into(), json!(cands.display_name));
        value.insert("version".into(), json!(cand.version_str));
        value.insert("provider".into(), json!(offer.provider().as_str()));
        value.insert("format".into(), json!(format));
        value.insert("source".into(), source);
        value.insert(
            "extras".into(),
            json!(extras.get(&**name).cloned().unwrap_or_default()),
        );
        value.insert(
            "requirements_known".into(),
            json!(known && unparsed.is_empty()),
        );
        if !unparsed.is_empty() {
            value.insert("unparsed_requirements".into(), json!(unparsed));
        }
        entries.insert(
            name.to_string(),
            Entry {
                value,
                runtime,
                build,
            },
        );
    }
    let cycles = break_cycles(&mut entries);
    let mut packages = serde_json::Map::new();
    for (name, mut e) in entries {
        e.value.insert("dependencies".into(), json!(e.runtime));
        e.value.insert("build_dependencies".into(), json!(e.build));
        packages.insert(name, Value::Object(e.value));
    }
    let snap = index.snapshot();
    let target = &solver_target(solver);
    let roots: BTreeSet<String> = solver
        .roots()
        .iter()
        .map(|s| s.name.as_str().to_string())
        .collect();
    let mut lock = json!({
        "lock_version": 1,
        "db": {
            "format": snap.format,
            "created_at": rfc3339(snap.created_at),
            "serial": snap.serial,
            "sha256": snap.sha256,
            "index_url": snap.index_url,
        },
        "target": { "python": target.0, "system": target.1, "exclude_newer": exclude_newer },
        "roots": roots,
        "packages": packages,
    });
    if !cycles.is_empty() {
        lock["cycles_broken"] = json!(cycles);
    }
    (lock, warnings)
}

fn solver_nix_attr<I: PackageSource>(solver: &Solver<'_, I>, name: &str) -> String {
    solver
        .nixpkgs_attr(name)
        .unwrap_or_else(|| name.to_string())
}

fn solver_target<I: PackageSource>(solver: &Solver<'_, I>) -> (String, String) {
    let t = solver.target();
    (t.python_full.clone(), t.system.clone())
}

/// Drops build edges that would make a package need itself to be built. A depth-first walk
/// over runtime and build edges, in name order, removes every *build* edge pointing at a
/// package still on the walk's stack; runtime-only cycles are left alone (wheels and nixpkgs
/// packages can depend on each other at run time). Returns the dropped `[from, to]` pairs.
fn break_cycles(entries: &mut BTreeMap<String, Entry>) -> Vec<[String; 2]> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnStack,
        Done,
    }
    let names: Vec<String> = entries.keys().cloned().collect();
    let mut state: BTreeMap<String, State> =
        names.iter().map(|n| (n.clone(), State::New)).collect();
    let mut dropped = Vec::new();
    for start in &names {
        if state[start] != State::New {
            continue;
        }
        // Iterative DFS; each frame is (node, its outgoing edges, next edge index).
        let edges_of = |entries: &BTreeMap<String, Entry>, n: &str| -> Vec<(String, bool)> {
            let e = &entries[n];
            let mut v: Vec<(String, bool)> = e.build.iter().map(|d| (d.clone(), true)).collect();
            v.extend(e.runtime.iter().map(|d| (d.clone(), false)));
            v
        };
        let mut stack = vec![(start.clone(), edges_of(entries, start), 0usize)];
        state.insert(start.clone(), State::OnStack);
        while let Some((node, edges, i)) = stack.last_mut() {
            if *i == edges.len() {
                state.insert(node.clone(), State::Done);
                stack.pop();
                continue;
            }
            let (to, is_build) = edges[*i].clone();
            *i += 1;
            let from = node.clone();
            match state.get(&to).copied() {
                None | Some(State::Done) => {}
                Some(State::OnStack) => {
                    if is_build {
                        entries
                            .get_mut(&from)
                            .expect("node exists")
                            .build
                            .remove(&to);
                        dropped.push([from, to]);
                    }
                }
                Some(State::New) => {
                    state.insert(to.clone(), State::OnStack);
                    let e = edges_of(entries, &to);
                    stack.push((to, e, 0));
                }
            }
        }
    }
    dropped.sort();
    dropped
}

/// Pretty JSON with a trailing newline.
pub fn to_json(lock: &Value) -> String {
    let mut s = serde_json::to_string_pretty(lock).expect("JSON values always serialize");
    s.push('\n');
    s
}

/// The same value as a Nix expression (attribute sets, lists, strings, null).
pub fn to_nix(lock: &Value) -> String {
    let mut out = String::new();
    write_nix(lock, 0, &mut out);
    out.push('\n');
    out
}

fn write_nix(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => nix_string(s, out),
        Value::Array(a) if a.is_empty() => out.push_str("[ ]"),
        Value::Array(a) => {
            out.push_str("[\n");
            for x in a {
                out.push_str(&pad(indent + 1));
                write_nix(x, indent + 1, out);
                out.push('\n');
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{ }"),
        Value::Object(m) => {
            out.push_str("{\n");
            for (k, x) in m {
                out.push_str(&pad(indent + 1));
                nix_key(k, out);
                out.push_str(" = ");
                write_nix(x, indent + 1, out);
                out.push_str(";\n");
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
    }
}

const NIX_KEYWORDS: [&str; 10] = [
    "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or",
];

fn nix_key(k: &str, out: &mut String) {
    let plain = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !NIX_KEYWORDS.contains(&k);
    if plain {
        out.push_str(k)
    } else {
        nix_string(k, out)
    }
}

fn nix_string(s: &str, out: &mut String) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix_escaping() {
        let v = json!({"a b": "x\"y\\z${q}$w\n", "in": [], "ok-key": {"n": null, "t": true, "i": 3}, "l": ["p"]});
        insta::assert_snapshot!(to_nix(&v), @r#"
        {
          "a b" = "x\"y\\z\${q}$w\n";
          "in" = [ ];
          l = [
            "p"
          ];
          ok-key = {
            i = 3;
            n = null;
            t = true;
          };
        }
        "#);
    }

    fn entry(runtime: &[&str], build: &[&str]) -> Entry {
        Entry {
            value: serde_json::Map::new(),
            runtime: runtime.iter().map(|s| s.to_string()).collect(),
            build: build.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn cycles_broken_on_build_edges_only() {
        let mut e: BTreeMap<String, Entry> = BTreeMap::new();
        e.insert("setuptools".into(), entry(&[], &["wheel"]));
        e.insert("wheel".into(), entry(&[], &["setuptools", "flit-core"]));
        e.insert("flit-core".into(), entry(&[], &["flit-core"]));
        e.insert("a".into(), entry(&["b"], &[]));
        e.insert("b".into(), entry(&["a"], &["setuptools"]));
        let dropped = break_cycles(&mut e);
        assert_eq!(
            dropped,
            [
                ["flit-core".to_string(), "flit-core".to_string()],
                ["wheel".into(), "setuptools".into()]
            ]
        );
        assert!(e["setuptools"].build.contains("wheel"));
        assert!(e["b"].runtime.contains("a"), "runtime cycles are kept");
        assert!(e["wheel"].build.contains("flit-core"));
    }
}
