//! End-to-end resolver behaviour on small scenarios: each test states a policy (extras,
//! markers, pre-releases, yanked, constraints, providers, build deps, errors) and runs
//! against both the in-memory source and the scenario written as a real database
//! (`common::resolve_both`), which must agree.

mod common;

use std::path::Path;

use common::resolve_both;
use pinion_db::model::File;
use resolver::ResolveError;
use resolver::providers::{Nixpkgs, Providers};
use resolver::requirements::RequirementSet;
use resolver::solve::{Note, Options};
use resolver::source::scenario::{Scenario, metadata, sdist_file, wheel_file};
use resolver::target::Target;
use serde_json::Value;

fn opts() -> Options {
    Options {
        target: Target::new("3.11.7", "x86_64-linux", None, None).unwrap(),
        providers: Providers::default(),
        nixpkgs: Nixpkgs::default(),
        exclude_newer: None,
    }
}

fn reqs(text: &str) -> RequirementSet {
    let mut r = RequirementSet::default();
    r.add_text(Path::new("requirements.txt"), text, false)
        .unwrap();
    r
}

fn solve_with(ix: &Scenario, text: &str, o: &Options) -> Result<Value, ResolveError> {
    resolve_both(ix, &reqs(text), o).map(|o| o.lock)
}

fn solve(ix: &Scenario, text: &str) -> Result<Value, ResolveError> {
    solve_with(ix, text, &opts())
}

/// `name==version` for every locked package, sorted.
fn pins(lock: &Value) -> Vec<String> {
    lock["packages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}=={}", v["version"].as_str().unwrap()))
        .collect()
}

/// `f` with known, empty requirements.
fn known(mut f: File) -> File {
    f.metadata = Some(metadata(Some(&[]), &[]));
    f
}

fn err(r: Result<Value, ResolveError>) -> String {
    match r {
        Ok(v) => panic!("expected failure, got {:?}", pins(&v)),
        Err(e) => e.to_string(),
    }
}

#[test]
fn picks_newest_compatible_and_follows_dependencies() {
    let mut ix = Scenario::new();
    ix.add_wheel("app", "1.0", &["lib>=1,<3", "util"]);
    ix.add_wheel("lib", "1.0", &[]);
    ix.add_wheel("lib", "2.5", &["util<2"]);
    ix.add_wheel("lib", "3.0", &[]);
    ix.add_wheel("util", "1.9", &[]);
    ix.add_wheel("util", "2.0", &[]);
    let lock = solve(&ix, "app").unwrap();
    assert_eq!(pins(&lock), ["app==1.0", "lib==2.5", "util==1.9"]);
    assert_eq!(
        lock["packages"]["app"]["dependencies"],
        serde_json::json!(["lib", "util"])
    );
    assert_eq!(lock["roots"], serde_json::json!(["app"]));
}

#[test]
fn backtracks_when_newest_conflicts() {
    let mut ix = Scenario::new();
    ix.add_wheel("a", "2.0", &["c==2"]);
    ix.add_wheel("a", "1.0", &["c==1"]);
    ix.add_wheel("b", "1.0", &["c==1"]);
    ix.add_wheel("c", "1", &[]);
    ix.add_wheel("c", "2", &[]);
    assert_eq!(
        pins(&solve(&ix, "a\nb").unwrap()),
        ["a==1.0", "b==1.0", "c==1"]
    );
}

#[test]
fn extras_and_markers() {
    let mut ix = Scenario::new();
    ix.add_wheel(
        "requests",
        "2.31.0",
        &[
            "idna",
            "pysocks>=1.5.6 ; extra == 'socks'",
            "win-inet-pton ; sys_platform == 'win32' and extra == 'socks'",
            "chardet ; python_version < '3'",
        ],
    );
    ix.add_wheel("idna", "3.4", &[]);
    ix.add_wheel("pysocks", "1.7.1", &[]);
    ix.add_wheel("win-inet-pton", "1.1", &[]);
    ix.add_wheel("chardet", "5.0", &[]);
    let lock = solve(&ix, "Requests[SOCKS]").unwrap();
    assert_eq!(
        pins(&lock),
        ["idna==3.4", "pysocks==1.7.1", "requests==2.31.0"]
    );
    assert_eq!(
        lock["packages"]["requests"]["extras"],
        serde_json::json!(["socks"])
    );
    assert_eq!(
        lock["packages"]["requests"]["dependencies"],
        serde_json::json!(["idna", "pysocks"])
    );
    let lock = solve(&ix, "requests\nidna ; sys_platform == 'darwin'").unwrap();
    assert_eq!(pins(&lock), ["idna==3.4", "requests==2.31.0"]);
    assert_eq!(lock["roots"], serde_json::json!(["requests"]));
}

#[test]
fn prereleases_only_when_asked_or_nothing_else() {
    let mut ix = Scenario::new();
    ix.add_wheel("a", "1.0", &[]);
    ix.add_wheel("a", "2.0b1", &[]);
    ix.add_wheel("only-pre", "1.0a1", &[]);
    assert_eq!(pins(&solve(&ix, "a").unwrap()), ["a==1.0"]);
    assert_eq!(pins(&solve(&ix, "a>=2.0b1").unwrap()), ["a==2.0b1"]);
    assert_eq!(
        pins(&solve(&ix, "a>1.0").unwrap()),
        ["a==2.0b1"],
        "nothing stable matches"
    );
    assert_eq!(pins(&solve(&ix, "only-pre").unwrap()), ["only-pre==1.0a1"]);
}

#[test]
fn yanked_only_when_pinned() {
    let mut ix = Scenario::new();
    ix.add_wheel("a", "1.0", &[]);
    let mut w = wheel_file("a", "1.1", "py3", "none", "any");
    w.yanked = true;
    ix.add_file("a", "1.1", known(w));
    assert_eq!(pins(&solve(&ix, "a").unwrap()), ["a==1.0"]);
    assert_eq!(pins(&solve(&ix, "a==1.1").unwrap()), ["a==1.1"]);
}

#[test]
fn constraints_apply_only_to_required_packages() {
    let mut ix = Scenario::new();
    ix.add_wheel("a", "1.0", &["b"]);
    ix.add_wheel("b", "1.0", &[]);
    ix.add_wheel("b", "2.0", &[]);
    ix.add_wheel("c", "1.0", &[]);
    let mut r = reqs("a");
    r.add_text(Path::new("constraints.txt"), "b<2\nc==1.0\n", true)
        .unwrap();
    let lock = resolve_both(&ix, &r, &opts()).unwrap().lock;
    assert_eq!(pins(&lock), ["a==1.0", "b==1.0"]);
}

#[test]
fn exclude_newer_and_requires_python() {
    let mut ix = Scenario::new();
    ix.add_wheel("a", "1.0", &[]);
    let mut w = wheel_file("a", "2.0", "py3", "none", "any");
    w.upload_time = Some(1_800_000_000);
    ix.add_file("a", "2.0", known(w));
    let mut w = wheel_file("a", "3.0", "py3", "none", "any");
    w.requires_python = Some(">=3.12".into());
    ix.add_file("a", "3.0", known(w));
    assert_eq!(pins(&solve(&ix, "a").unwrap()), ["a==2.0"]);
    let o = Options {
        exclude_newer: Some(1_700_000_000),
        ..opts()
    };
    let lock = solve_with(&ix, "a", &o).unwrap();
    assert_eq!(pins(&lock), ["a==1.0"]);
    assert_eq!(lock["target"]["exclude_newer"], "2023-11-14T22:13:20Z");
}

fn sdist_index() -> Scenario {
    let mut ix = Scenario::new();
    let sdist = |name: &str, version: &str, deps: Option<&[&str]>, build: &[&str]| {
        let mut f = sdist_file(name, version);
        f.metadata = Some(metadata(deps, build));
        f
    };
    ix.add_file(
        "pkg",
        "1.0",
        sdist("pkg", "1.0", Some(&["six"]), &["setuptools>=40", "wheel"]),
    );
    ix.add_file(
        "six",
        "1.16.0",
        sdist("six", "1.16.0", Some(&[]), &["setuptools"]),
    );
    ix.add_file(
        "setuptools",
        "69.0",
        sdist("setuptools", "69.0", Some(&[]), &["wheel"]),
    );
    ix.add_file(
        "wheel",
        "0.42",
        sdist("wheel", "0.42", Some(&[]), &["setuptools", "flit-core"]),
    );
    ix.add_file(
        "flit-core",
        "3.9",
        sdist("flit-core", "3.9", Some(&[]), &[]),
    );
    ix.add_file("legacy", "0.1", sdist("legacy", "0.1", None, &[]));
    ix
}

#[test]
fn sdists_bring_build_dependencies_and_cycles_are_broken() {
    let ix = sdist_index();
    let lock = solve(&ix, "pkg").unwrap();
    assert_eq!(
        pins(&lock),
        [
            "flit-core==3.9",
            "pkg==1.0",
            "setuptools==69.0",
            "six==1.16.0",
            "wheel==0.42"
        ]
    );
    let p = &lock["packages"];
    assert_eq!(
        p["pkg"]["build_dependencies"],
        serde_json::json!(["setuptools", "wheel"])
    );
    assert_eq!(p["pkg"]["format"], "pyproject");
    assert_eq!(p["flit-core"]["format"], "setuptools");
    assert_eq!(
        lock["cycles_broken"],
        serde_json::json!([["wheel", "setuptools"]])
    );
    assert_eq!(
        p["wheel"]["build_dependencies"],
        serde_json::json!(["flit-core"])
    );
}

#[test]
fn unknown_requirements_are_flagged() {
    let ix = sdist_index();
    let out = resolve_both(&ix, &reqs("legacy"), &opts()).unwrap();
    assert_eq!(out.lock["packages"]["legacy"]["requirements_known"], false);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.starts_with("legacy 0.1: requirements unknown")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn providers_choose_the_source() {
    let mut ix = Scenario::new();
    ix.add_file("a", "1.0", known(sdist_file("a", "1.0")));
    ix.add_wheel("a", "1.0", &[]);
    ix.add_wheel("a", "2.0", &[]);
    ix.add_wheel("tf", "2.15", &["a"]);
    ix.add_wheel("tf", "2.14", &["a<2"]);
    let nix = Nixpkgs::from_json(Path::new("n.json"), r#"{"tf": {"attr": "tensorflow", "version": "2.14"}, "a": {"attr": "a", "version": "1.0"}}"#).unwrap();
    let providers = Providers::from_json(
        Path::new("p.json"),
        r#"{"_default": "sdist,nixpkgs", "tf": "nixpkgs"}"#,
    )
    .unwrap();
    let o = Options {
        providers,
        nixpkgs: nix,
        ..opts()
    };
    let lock = solve_with(&ix, "tf", &o).unwrap();
    assert_eq!(pins(&lock), ["a==1.0", "tf==2.14"]);
    assert_eq!(lock["packages"]["tf"]["provider"], "nixpkgs");
    assert_eq!(
        lock["packages"]["tf"]["source"],
        serde_json::json!({"attr": "tensorflow"})
    );
    assert_eq!(
        lock["packages"]["a"]["provider"], "sdist",
        "sdist is first for a and offers 1.0"
    );
    let lock = solve(&ix, "tf").unwrap();
    assert_eq!(pins(&lock), ["a==2.0", "tf==2.15"]);
    assert_eq!(lock["packages"]["a"]["provider"], "wheel");
}

#[test]
fn missing_projects_are_not_conflicts() {
    let mut ix = Scenario::new();
    ix.add_wheel("requests", "2.31.0", &[]);
    let e = err(solve(&ix, "requets\nreqests"));
    assert!(
        e.contains(
            "requets is not in the database (snapshot 2023-11-14T22:13:20Z); did you mean requests?"
        ),
        "{e}"
    );
    assert!(e.contains("reqests is not in the database"), "{e}");
    ix.add_wheel("app", "1.0", &["ghost>=1"]);
    let e = err(solve(&ix, "app"));
    assert!(
        e.starts_with("1 project that your requirements need is not in this database"),
        "{e}"
    );
    assert!(e.contains("`ghost`, needed by `app` 1.0"), "{e}");
}

#[test]
fn missing_projects_come_first_then_what_else_conflicts() {
    let mut ix = Scenario::new();
    ix.add_wheel("app", "1.0", &["ghost>=1", "phantom", "c>=2"]);
    ix.add_wheel("b", "1.0", &["c<2"]);
    ix.add_wheel("c", "1.0", &[]);
    ix.add_wheel("c", "2.0", &[]);
    insta::assert_snapshot!(err(solve(&ix, "app\nb")));
}

#[test]
fn conflict_message() {
    let mut ix = Scenario::new();
    ix.add_wheel("a", "1.0", &["c>=2"]);
    ix.add_wheel("b", "1.0", &["c<2"]);
    ix.add_wheel("c", "1.0", &[]);
    ix.add_wheel("c", "2.0", &[]);
    insta::assert_snapshot!(err(solve(&ix, "a\nb")));
}

#[test]
fn unusable_versions_are_explained() {
    let mut ix = Scenario::new();
    ix.add_file(
        "native",
        "1.0",
        known(wheel_file(
            "native",
            "1.0",
            "cp311",
            "cp311",
            "macosx_11_0_arm64",
        )),
    );
    let e = err(solve(&ix, "native==1.0"));
    insta::assert_snapshot!(e);
}

/// The two sources are compared for real: the DB writer drops wheels no supported platform
/// can install (Windows-only), so there the release is gone rather than unusable.
#[test]
#[should_panic(expected = "memory and database fail differently")]
fn sources_that_disagree_fail_the_test() {
    let mut ix = Scenario::new();
    ix.add_file(
        "native",
        "1.0",
        known(wheel_file("native", "1.0", "cp311", "cp311", "win_amd64")),
    );
    let _ = solve(&ix, "native==1.0");
}

#[test]
fn specifiers_matching_nothing_are_explained() {
    let mut ix = Scenario::new();
    ix.add_wheel("urllib3", "2.0", &[]);
    ix.add_wheel("urllib3", "2.1", &[]);
    let e = err(solve(&ix, "urllib3<2"));
    assert!(
        e.contains("note: no version of urllib3 matches <2; the database has 2.1, 2.0"),
        "{e}"
    );
}

/// A conflict reaches the caller as data (the message is only its rendering): the solver's
/// notes on the projects in the derivation, typed, and the versions the database has.
#[test]
fn conflicts_are_data() {
    let mut ix = Scenario::new();
    ix.add_wheel("app", "1.0", &["urllib3<2"]);
    ix.add_wheel("urllib3", "2.0", &[]);
    ix.add_wheel("urllib3", "2.1", &[]);
    ix.add_wheel("other", "1.0", &["zzz<1"]);
    ix.add_wheel("zzz", "1.0", &[]);
    let Err(ResolveError::Conflict(c)) = solve(&ix, "app\nother") else {
        panic!("expected a conflict");
    };
    let note = Note::NoMatch {
        wanted: "<2".parse().unwrap(),
        constraints: vec![],
        newest: vec!["2.1".into(), "2.0".into()],
        more: false,
    };
    assert_eq!(c.conflict.notes, [("urllib3".to_string(), note)]);
    let versions: Vec<String> = c.conflict.versions["urllib3"]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(versions, ["2.0", "2.1"]);
    assert!(c.conflict.missing.is_empty());
    assert!(!c.conflict.has_unusable());
}

#[test]
fn projects_without_releases_are_explained() {
    let mut ix = Scenario::new();
    ix.add_wheel("flask", "3.0", &["blinker"]);
    ix.add_project("blinker");
    let e = err(solve(&ix, "flask"));
    assert!(
        e.contains("note: blinker is in the database but has no releases"),
        "{e}"
    );
    // Only a memory source can hold a version that is not PEP 440 (the DB writer refuses
    // it); the resolver skips it like a missing release.
    ix.add_wheel("blinker", "not-a-version", &[]);
    let e = err(resolver::resolve(&ix.memory(), &reqs("flask"), &opts()).map(|o| o.lock));
    assert!(
        e.contains("note: blinker is in the database but has no releases"),
        "{e}"
    );
}

/// A URL requirement and a string that is no requirement are kept as unparsed (the set is
/// partial) by both sources; extras and markers survive the DB's stored parts.
#[test]
fn requirements_the_db_cannot_store_agree() {
    let mut ix = Scenario::new();
    ix.add_wheel(
        "app",
        "1.0",
        &[
            "lib @ https://example.org/lib-1.0.tar.gz",
            "not a requirement!",
            "Other_Lib[B,a] >=1.0 ; python_version >= '3.8'",
        ],
    );
    ix.add_wheel("lib", "1.0", &[]);
    ix.add_wheel("other-lib", "1.0", &[]);
    let out = resolve_both(&ix, &reqs("app"), &opts()).unwrap();
    assert_eq!(pins(&out.lock), ["app==1.0", "other-lib==1.0"]);
    let partial: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| w.contains("its requirements are partial"))
        .collect();
    assert_eq!(partial.len(), 2, "{:?}", out.warnings);
    assert!(
        partial[0].contains(
            "\"lib @ https://example.org/lib-1.0.tar.gz\" points at a URL, which pinion does not follow"
        ),
        "{}",
        partial[0]
    );
    assert!(
        partial[1].contains("\"not a requirement!\" could not be parsed when crawled"),
        "{}",
        partial[1]
    );
}
