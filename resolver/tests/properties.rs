//! Property tests on random small universes: every solution satisfies every constraint, and
//! "no solution" is only reported when brute force over all version combinations agrees.
//! Each universe is resolved by the in-memory source and as a written database, which must
//! agree (`common::resolve_both`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::resolve_both;
use pep440_rs::{Version, VersionSpecifiers};
use proptest::prelude::*;
use resolver::ResolveError;
use resolver::providers::{Nixpkgs, Providers};
use resolver::requirements::RequirementSet;
use resolver::solve::Options;
use resolver::source::scenario::{Scenario, wheel_file};
use resolver::target::Target;

const VERSIONS: [&str; 3] = ["1.0", "2.0", "3.0"];

/// (package index, specifier text)
type Req = (usize, String);

#[derive(Clone, Debug)]
struct Universe {
    /// packages[p][v] = Some(deps) if version v exists.
    packages: Vec<Vec<Option<Vec<Req>>>>,
    roots: Vec<Req>,
}

fn spec() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (1usize..=3).prop_map(|v| format!("=={v}.0")),
        (1usize..=3).prop_map(|v| format!(">={v}.0")),
        (1usize..=3).prop_map(|v| format!("<{v}.0")),
        (1usize..=3).prop_map(|v| format!("!={v}.0")),
    ]
}

fn universe() -> impl Strategy<Value = Universe> {
    (2usize..=5).prop_flat_map(|n| {
        let version =
            proptest::option::weighted(0.8, proptest::collection::vec((0..n, spec()), 0..3));
        let package = proptest::collection::vec(version, 3);
        (
            proptest::collection::vec(package, n),
            proptest::collection::vec((0..n, spec()), 1..3),
        )
            .prop_map(|(packages, roots)| Universe { packages, roots })
    })
}

fn name(p: usize) -> String {
    format!("p{p}")
}

fn specs(s: &str) -> VersionSpecifiers {
    s.parse().unwrap()
}

fn index(u: &Universe) -> Scenario {
    let mut ix = Scenario::new();
    for (p, versions) in u.packages.iter().enumerate() {
        for (v, deps) in versions.iter().enumerate() {
            if let Some(deps) = deps {
                let texts: Vec<String> = deps
                    .iter()
                    .map(|(d, s)| format!("{}{s}", name(*d)))
                    .collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                ix.add_wheel(&name(p), VERSIONS[v], &refs);
            }
        }
        if versions.iter().all(Option::is_none) {
            // Keep every project in the index (with a release unusable on x86_64-linux: a
            // Windows-only one would be dropped by the DB writer) so
            // "missing" never masks a conflict.
            ix.add_file(
                &name(p),
                "0.1",
                wheel_file(&name(p), "0.1", "cp311", "cp311", "macosx_11_0_arm64"),
            );
        }
    }
    ix
}

/// Self-dependencies are ignored (as pip and uv do), so `skip` names the depending package.
fn satisfied(choice: &[Option<usize>], reqs: &[Req], skip: Option<usize>) -> bool {
    reqs.iter().filter(|(d, _)| Some(*d) != skip).all(|(d, s)| {
        choice[*d].is_some_and(|v| specs(s).contains(&VERSIONS[v].parse::<Version>().unwrap()))
    })
}

/// Some assignment (package → version or absent) satisfies the roots and the dependencies
/// of every present package.
fn brute_force(u: &Universe) -> bool {
    let n = u.packages.len();
    let total = 4usize.pow(n as u32);
    (0..total).any(|mut code| {
        let mut choice = vec![None; n];
        for c in choice.iter_mut() {
            let k = code % 4;
            code /= 4;
            *c = (k < 3).then_some(k);
        }
        let exists = choice
            .iter()
            .enumerate()
            .all(|(p, c)| c.is_none_or(|v| u.packages[p][v].is_some()));
        exists
            && satisfied(&choice, &u.roots, None)
            && choice.iter().enumerate().all(|(p, c)| {
                c.is_none_or(|v| satisfied(&choice, u.packages[p][v].as_ref().unwrap(), Some(p)))
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn solutions_are_valid_and_failures_are_real(u in universe()) {
        let ix = index(&u);
        let text: String = u.roots.iter().map(|(p, s)| format!("{}{s}\n", name(*p))).collect();
        let mut reqs = RequirementSet::default();
        reqs.add_text(Path::new("r.txt"), &text, false).unwrap();
        let opts = Options { target: Target::new("3.11.7", "x86_64-linux", None, None).unwrap(), providers: Providers::default(), nixpkgs: Nixpkgs::default(), exclude_newer: None };
        match resolve_both(&ix, &reqs, &opts) {
            Ok(out) => {
                let pkgs = out.lock["packages"].as_object().unwrap();
                let mut choice = vec![None; u.packages.len()];
                let mut by_name = BTreeMap::new();
                for (k, v) in pkgs {
                    let p: usize = k[1..].parse().unwrap();
                    let ver = v["version"].as_str().unwrap();
                    let vi = VERSIONS.iter().position(|x| *x == ver);
                    prop_assert!(vi.is_some(), "chose non-existent {k} {ver}");
                    choice[p] = vi;
                    by_name.insert(k.clone(), ver.to_string());
                }
                prop_assert!(satisfied(&choice, &u.roots, None), "roots unsatisfied: {:?}", by_name);
                for (p, c) in choice.iter().enumerate() {
                    if let Some(v) = c {
                        let deps = u.packages[p][*v].as_ref().unwrap();
                        prop_assert!(satisfied(&choice, deps, Some(p)), "deps of p{p} unsatisfied: {:?}", by_name);
                        let listed: Vec<String> = pkgs[&name(p)]["dependencies"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
                        for (d, _) in deps {
                            prop_assert!(*d == p || listed.contains(&name(*d)), "p{p} does not list p{d}");
                        }
                    }
                }
            }
            Err(e @ ResolveError::Conflict(_)) => {
                prop_assert!(!brute_force(&u), "resolver said no solution but one exists:\n{e}");
            }
            Err(e @ ResolveError::ClashingRequirements(_)) => {
                prop_assert!(!brute_force(&u), "resolver said two requirements clash but a solution exists:\n{e}");
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

/// The generator must produce both solvable and unsolvable universes, or the property above
/// would never exercise one of its branches.
#[test]
fn generator_yields_both_outcomes() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut ok, mut conflict) = (0, 0);
    for _ in 0..300 {
        let u = universe().new_tree(&mut runner).unwrap().current();
        if brute_force(&u) {
            ok += 1;
        } else {
            conflict += 1;
        }
    }
    assert!(
        ok > 30 && conflict > 30,
        "solvable {ok}, unsolvable {conflict}"
    );
}
