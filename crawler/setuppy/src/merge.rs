//! Merges per-interpreter setup.py results into one set of PEP 508 requirements.
//!
//! A requirement recorded by every successful run is unconditional. One recorded by only
//! some runs gets a `python_version == "X.Y"` marker (an `or` of them) and-ed with its own
//! marker. Consequence for interpreter versions that were not run (or whose run failed):
//! only the requirements common to all successful runs apply to them; version-specific
//! extras are assumed absent. The successful versions are listed in [`Merged::pythons`] so
//! consumers can tell how far the result was tested.
//!
//! `extras_require` keys follow setuptools: `name` gives `req; extra == "name"` (the name made
//! safe as setuptools does), `name:marker` adds the marker and `:marker` is a conditional
//! install requirement. `requires_python` comes from the newest successful interpreter.

use std::collections::HashMap;

use crate::Run;

/// The merged requirements of one sdist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Merged {
    /// install_requires plus extras as `extra == "..."` markers, in first-seen order.
    pub requires_dist: Vec<String>,
    pub setup_requires: Vec<String>,
    /// From the newest successful interpreter that reported one.
    pub requires_python: Option<String>,
    /// Extra names (the part of extras_require keys before `:`), sorted, from every run.
    pub provides_extra: Vec<String>,
    /// `X.Y` of the successful runs, ascending.
    pub pythons: Vec<String>,
}

/// Appends `conditions` to a requirement's own marker: `base; (own) and (c1) and (c2)`.
fn with_conditions(requirement: &str, conditions: &[String]) -> String {
    let (base, own) = match requirement.split_once(';') {
        Some((base, own)) => (base.trim(), Some(own.trim())),
        None => (requirement.trim(), None),
    };
    let mut all: Vec<&str> = own.filter(|m| !m.is_empty()).into_iter().collect();
    all.extend(
        conditions
            .iter()
            .map(String::as_str)
            .filter(|c| !c.is_empty()),
    );
    match all.as_slice() {
        [] => base.to_string(),
        [one] => format!("{base}; {one}"),
        many => format!(
            "{base}; {}",
            many.iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}

/// The extra name of an extras_require key, spelled as setuptools' `safe_extra` writes it
/// into metadata: lowercase, runs of other characters than `[A-Za-z0-9.-]` become `_`. This
/// also keeps a hostile key from injecting marker syntax. `None` for marker-only keys.
fn extra_name(key: &str) -> Option<String> {
    let extra = key.split_once(':').map_or(key, |(extra, _)| extra).trim();
    let mut safe = String::with_capacity(extra.len());
    for c in extra.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            safe.push(c.to_ascii_lowercase());
        } else if !safe.ends_with('_') {
            safe.push('_');
        }
    }
    (!safe.is_empty()).then_some(safe)
}

fn dist_entries(recorded: &crate::Recorded) -> Vec<String> {
    let mut entries = recorded.install_requires.clone();
    for (key, requirements) in &recorded.extras_require {
        let (extra, marker) = key.split_once(':').unwrap_or((key.as_str(), ""));
        let mut conditions = Vec::new();
        if !marker.trim().is_empty() {
            conditions.push(marker.trim().to_string());
        }
        if let Some(extra) = extra_name(extra) {
            conditions.push(format!("extra == \"{extra}\""));
        }
        entries.extend(requirements.iter().map(|r| with_conditions(r, &conditions)));
    }
    entries
}

/// Identity for comparing requirements across runs: the canonical form when it parses.
fn key(requirement: &str) -> String {
    pinion_pep::canonical_requirement(requirement)
        .unwrap_or_else(|_| requirement.trim().to_string())
}

fn merge_lists(per_run: &[(&str, Vec<String>)]) -> Vec<String> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut seen_in: HashMap<String, Vec<&str>> = HashMap::new();
    for (python, entries) in per_run {
        for entry in entries {
            let k = key(entry);
            let versions = seen_in.entry(k.clone()).or_insert_with(|| {
                order.push((k, entry.clone()));
                Vec::new()
            });
            if !versions.contains(python) {
                versions.push(python);
            }
        }
    }
    let mut emitted = std::collections::HashSet::new();
    order
        .into_iter()
        .map(|(k, raw)| {
            let versions = &seen_in[&k];
            if versions.len() == per_run.len() {
                return raw;
            }
            let condition = versions
                .iter()
                .map(|v| format!("python_version == \"{v}\""))
                .collect::<Vec<_>>()
                .join(" or ");
            with_conditions(&raw, &[condition])
        })
        // A conditional entry can coincide with one a run wrote with the same marker itself.
        .filter(|entry| emitted.insert(key(entry)))
        .collect()
}

/// Merges the successful runs; `None` when no run succeeded.
pub fn merge_runs(runs: &[Run]) -> Option<Merged> {
    let mut ok: Vec<(&str, &crate::Recorded)> = runs
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok().map(|rec| (r.python.as_str(), rec)))
        .collect();
    if ok.is_empty() {
        return None;
    }
    ok.sort_by_key(|(python, _)| crate::sandbox::version_key(python));
    ok.dedup_by_key(|(python, _)| *python);
    let dist: Vec<(&str, Vec<String>)> =
        ok.iter().map(|(p, rec)| (*p, dist_entries(rec))).collect();
    let setup: Vec<(&str, Vec<String>)> = ok
        .iter()
        .map(|(p, rec)| (*p, rec.setup_requires.clone()))
        .collect();
    Some(Merged {
        requires_dist: merge_lists(&dist),
        setup_requires: merge_lists(&setup),
        requires_python: ok
            .iter()
            .rev()
            .find_map(|(_, rec)| rec.python_requires.clone()),
        provides_extra: ok
            .iter()
            .flat_map(|(_, rec)| rec.extras_require.keys())
            .filter_map(|key| extra_name(key))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        pythons: ok.iter().map(|(p, _)| p.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::str::FromStr;

    use pinion_pep::pep508_rs::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder};
    use proptest::prelude::*;

    use super::*;
    use crate::{Recorded, RunError, RunErrorKind};

    fn recorded(install: &[&str], extras: &[(&str, &[&str])], setup: &[&str]) -> Recorded {
        Recorded {
            name: Some("pkg".into()),
            version: Some("1.0".into()),
            install_requires: install.iter().map(|s| s.to_string()).collect(),
            setup_requires: setup.iter().map(|s| s.to_string()).collect(),
            tests_require: vec![],
            extras_require: extras
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect::<BTreeMap<_, _>>(),
            python_requires: None,
            stand_ins: vec![],
        }
    }

    fn ok(python: &str, rec: Recorded) -> Run {
        Run {
            python: python.into(),
            outcome: Ok(rec),
        }
    }

    #[test]
    fn common_requirements_are_unconditional() {
        let runs = [
            ok(
                "2.7",
                recorded(
                    &["six", "futures>=3"],
                    &[("ssl:sys_platform == 'win32'", &["wincert"])],
                    &["pbr"],
                ),
            ),
            ok(
                "3.11",
                recorded(
                    &["six"],
                    &[
                        ("ssl:sys_platform == 'win32'", &["wincert"]),
                        (":python_version<'3.8'", &["typing; os_name == 'nt'"]),
                    ],
                    &["pbr"],
                ),
            ),
            Run {
                python: "3.12".into(),
                outcome: Err(RunError {
                    kind: RunErrorKind::ImportError,
                    message: "x".into(),
                    stderr_tail: String::new(),
                }),
            },
        ];
        let merged = merge_runs(&runs).unwrap();
        assert_eq!(
            merged.requires_dist,
            [
                "six",
                "futures>=3; python_version == \"2.7\"",
                "wincert; (sys_platform == 'win32') and (extra == \"ssl\")",
                "typing; ((os_name == 'nt') and (python_version<'3.8')) and (python_version == \"3.11\")",
            ]
        );
        assert_eq!(merged.setup_requires, ["pbr"]);
        assert_eq!(merged.pythons, ["2.7", "3.11"]);
        assert_eq!(merged.provides_extra, ["ssl"]);
        for r in &merged.requires_dist {
            pinion_pep::canonical_requirement(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
    }

    #[test]
    fn extra_names_are_made_safe() {
        let rec = recorded(
            &[],
            &[
                ("Socks Proxy", &["pysocks"]),
                ("x\" or \"1\" == \"1", &["evil"]),
            ],
            &[],
        );
        let merged = merge_runs(&[ok("3.11", rec)]).unwrap();
        assert_eq!(
            merged.requires_dist,
            [
                "pysocks; extra == \"socks_proxy\"",
                "evil; extra == \"x_or_1_1\""
            ]
        );
        assert_eq!(merged.provides_extra, ["socks_proxy", "x_or_1_1"]);
    }

    #[test]
    fn no_successful_run_is_unknown() {
        let runs = [Run {
            python: "3.11".into(),
            outcome: Err(RunError {
                kind: RunErrorKind::Timeout,
                message: String::new(),
                stderr_tail: String::new(),
            }),
        }];
        assert_eq!(merge_runs(&runs), None);
        assert_eq!(merge_runs(&[]), None);
    }

    fn env(python: &str) -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.2",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: &format!("{python}.0"),
            python_version: python,
            sys_platform: "linux",
        })
        .unwrap()
    }

    /// The requirement names that apply under `python` with `extras` active.
    fn active(requirements: &[String], python: &str, extras: &[ExtraName]) -> Vec<String> {
        let env = env(python);
        let mut names: Vec<String> = requirements
            .iter()
            .map(|r| pinion_pep::parse_requirement(r).unwrap())
            .filter(|r| r.evaluate_markers(&env, extras))
            .map(|r| r.name.to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    proptest! {
        /// For every interpreter that ran, the merged list means exactly what that run recorded.
        #[test]
        fn merged_markers_reproduce_each_run(
            picks in prop::collection::vec(prop::collection::vec((0usize..6, any::<bool>()), 0..6), 1..4)
        ) {
            const NAMES: [&str; 6] = ["alpha", "beta", "gamma>=1", "delta; os_name == 'posix'", "eps; os_name == 'nt'", "zeta"];
            const PYTHONS: [&str; 3] = ["2.7", "3.8", "3.11"];
            let runs: Vec<Run> = picks.iter().enumerate().map(|(i, reqs)| {
                let install: Vec<&str> = reqs.iter().filter(|(_, extra)| !extra).map(|(n, _)| NAMES[*n]).collect();
                let extra: Vec<&str> = reqs.iter().filter(|(_, extra)| *extra).map(|(n, _)| NAMES[*n]).collect();
                ok(PYTHONS[i], recorded(&install, &[("feat", &extra)], &[]))
            }).collect();
            let merged = merge_runs(&runs).unwrap();
            let feat = [ExtraName::from_str("feat").unwrap()];
            for run in &runs {
                let own = dist_entries(run.outcome.as_ref().unwrap());
                for extras in [&[][..], &feat[..]] {
                    prop_assert_eq!(active(&merged.requires_dist, &run.python, extras), active(&own, &run.python, extras));
                }
            }
        }
    }
}
