//! pinion's offline resolver: reads requirements.txt files, resolves them with PubGrub against
//! a pinion database (or any [`source::PackageSource`]) for one target (CPython version × Nix
//! system), choosing per package a wheel, an sdist or the nixpkgs attribute, and writes the lock
//! that the Nix library consumes (`lock-format.md`), as JSON or as a Nix expression.
//!
//! Policies in one place (details in `resolver/README.md`): pre-releases only when the
//! user's requirements mention one for that package or the allowed range has nothing else; yanked files only when the user pins the
//! version with `==`/`===`; `--exclude-newer` filters files by upload time; extras are virtual
//! packages `name[extra]`; build requirements of sdists join the same package set.

pub mod candidates;
pub mod lock;
pub mod providers;
pub mod report;
pub mod requirements;
pub mod solve;
pub mod source;
pub mod target;

use std::fmt;

use requirements::RequirementSet;
use solve::{Options, Solver};
use source::PackageSource;

/// Why a resolution failed. Missing projects are kept apart from version conflicts.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{}", missing_message(.missing, .snapshot))]
    Missing {
        missing: Vec<(String, Vec<String>)>,
        snapshot: String,
    },
    #[error("{message}")]
    Conflict { message: String },
    /// Two of the user's own lines on one project exclude each other.
    #[error("{0}")]
    ClashingRequirements(report::ClashingRequirements),
    /// Projects needed deeper in the graph that the database does not have.
    #[error("{0}")]
    MissingDependencies(report::MissingDependencies),
}

fn missing_message(missing: &[(String, Vec<String>)], snapshot: &str) -> String {
    let mut out = String::new();
    for (name, close) in missing {
        out.push_str(&format!(
            "{name} is not in the database (snapshot {snapshot})"
        ));
        if !close.is_empty() {
            out.push_str(&format!("; did you mean {}?", close.join(", ")));
        }
        out.push('\n');
    }
    out.push_str("hint: check the spelling\n");
    out.push_str(&report::missing_hints(snapshot));
    out
}

/// A successful resolution: the lock value and warnings for stderr.
#[derive(Debug)]
pub struct Outcome {
    pub lock: serde_json::Value,
    pub warnings: Vec<String>,
}

struct Suggestions<'a>(&'a str, bool);

impl fmt::Display for Suggestions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "hints:")?;
        if self.1 {
            writeln!(
                f,
                "  - a version noted above exists but is unusable for this target; another --python, system or provider (e.g. \"wheel,sdist,nixpkgs\") may help"
            )?;
        }
        writeln!(f, "  - relax a pin in your requirements or constraints")?;
        write!(
            f,
            "  - a newer database may have fixed releases (this one is from {})",
            self.0
        )
    }
}

/// Resolves `reqs` against `index` for the target in `opts`.
pub fn resolve<I: PackageSource>(
    index: &I,
    reqs: &RequirementSet,
    opts: &Options,
) -> Result<Outcome, ResolveError> {
    let solver = Solver::new(index, opts, reqs);
    let snapshot = pinion_db::time::rfc3339(index.snapshot().created_at);
    let missing: Vec<String> = solver
        .roots()
        .iter()
        .map(|s| s.name.as_str().to_string())
        .filter(|n| solver.candidates(n).list.is_empty() && solver.missing.borrow().contains(n))
        .collect();
    if !missing.is_empty() {
        return Err(missing_error(index, missing, snapshot));
    }
    if let Some((a, b)) = solver.clashing_roots(reqs) {
        let line =
            |s: &requirements::Spec| (format!("{}{}", s.name, s.specifiers), s.origin.to_string());
        return Err(ResolveError::ClashingRequirements(
            report::ClashingRequirements {
                name: a.name.to_string(),
                first: line(a),
                second: line(b),
            },
        ));
    }
    let solution = match solve::run(&solver).map_err(|e| *e) {
        Ok(s) => s,
        Err(pubgrub::PubGrubError::NoSolution(tree)) => {
            if !solver.missing.borrow().is_empty()
                && let Some(e) = missing_dependencies(index, opts, reqs, &snapshot)
            {
                return Err(e);
            }
            let mut message = conflict_message(&solver, &tree, &snapshot);
            message.push('\n');
            message
                .push_str(&Suggestions(&snapshot, has_unusable_note(&solver, &tree)).to_string());
            return Err(ResolveError::Conflict { message });
        }
        Err(other) => {
            return Err(ResolveError::Conflict {
                message: other.to_string(),
            });
        }
    };
    let exclude_newer = opts.exclude_newer.map(pinion_db::time::rfc3339);
    let (lock, mut warnings) =
        lock::build_lock(&solver, index, &solution, exclude_newer.as_deref());
    for (name, why) in solver.unknown.borrow().iter() {
        if why != "requirements unknown" {
            warnings.push(format!("{name}: metadata unusable: {why}"));
        }
    }
    warnings.sort();
    warnings.dedup();
    Ok(Outcome { lock, warnings })
}

/// Packages a derivation tree mentions.
fn tree_packages(tree: &solve::Tree) -> Vec<String> {
    tree.packages()
        .into_iter()
        .filter_map(|p| match p {
            solve::Pkg::Root => None,
            solve::Pkg::Base(n) | solve::Pkg::Extra(n, _) => Some(n.to_string()),
        })
        .collect()
}

fn has_unusable_note<I: PackageSource>(solver: &Solver<'_, I>, tree: &solve::Tree) -> bool {
    let packages = tree_packages(tree);
    solver
        .notes
        .borrow()
        .iter()
        .any(|(n, note)| packages.contains(n) && matches!(note, solve::Note::Unusable(_)))
}

/// The derivation of a conflict in pinion's words, then notes about the packages in it.
fn conflict_message<I: PackageSource>(
    solver: &Solver<'_, I>,
    tree: &solve::Tree,
    snapshot: &str,
) -> String {
    let packages = tree_packages(tree);
    let versions: std::collections::BTreeMap<String, Vec<pep440_rs::Version>> = packages
        .iter()
        .map(|n| {
            (
                n.clone(),
                solver
                    .candidates(n)
                    .list
                    .iter()
                    .map(|c| c.version.clone())
                    .collect(),
            )
        })
        .collect();
    let mut message = report::truncate(&report::derivation(tree, &versions));
    for name in solver.missing.borrow().iter() {
        if packages.contains(name) {
            message.push_str(&format!(
                "\n{name} is not in the database (snapshot {snapshot})"
            ));
        }
    }
    for (_, note) in solver
        .notes
        .borrow()
        .iter()
        .filter(|(n, _)| packages.contains(n))
    {
        message.push_str(&format!("\nnote: {note}"));
    }
    message
}

/// Resolves again as if every missing project existed, to name all of them (with who needs
/// them) and any conflict that remains. `None` when that resolution fails for another reason.
fn missing_dependencies<I: PackageSource>(
    index: &I,
    opts: &Options,
    reqs: &RequirementSet,
    snapshot: &str,
) -> Option<ResolveError> {
    let stub = Solver::new(index, opts, reqs).assuming_missing_exist();
    let (chosen, conflict) = match solve::run(&stub).map_err(|e| *e) {
        Ok(solution) => (Some(solution), None),
        Err(pubgrub::PubGrubError::NoSolution(tree)) => {
            (None, Some(conflict_message(&stub, &tree, snapshot)))
        }
        Err(_) => return None,
    };
    let in_solution = |(p, v): &(solve::Pkg, pep440_rs::Version)| {
        chosen
            .as_ref()
            .is_none_or(|s| s.iter().any(|(q, w)| q == p && w == v))
    };
    let needed_by = stub
        .needed_by
        .borrow()
        .iter()
        .map(|(name, by)| {
            let by: std::collections::BTreeSet<String> = by
                .iter()
                .filter(|e| in_solution(e))
                .map(|(p, v)| match p {
                    solve::Pkg::Root => p.to_string(),
                    _ => format!("`{p}` {v}"),
                })
                .collect();
            (name.clone(), by)
        })
        .filter(|(_, by)| !by.is_empty())
        .collect();
    Some(ResolveError::MissingDependencies(
        report::MissingDependencies {
            snapshot: snapshot.to_string(),
            needed_by,
            conflict,
        },
    ))
}

fn missing_error<I: PackageSource>(
    index: &I,
    missing: Vec<String>,
    snapshot: String,
) -> ResolveError {
    let names = index.names();
    let missing = missing
        .into_iter()
        .map(|n| {
            let close = report::close_spellings(&n, &names);
            (n, close)
        })
        .collect();
    ResolveError::Missing { missing, snapshot }
}
