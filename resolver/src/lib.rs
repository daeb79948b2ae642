//! pinion's offline resolver: reads requirements.txt files, resolves them with PubGrub against
//! a pinion database (or any [`source::PackageSource`]) for one target (CPython version × Nix system),
//! choosing per package a wheel, an sdist or the nixpkgs attribute, and writes the lock that
//! the Nix library consumes (`lock-format.md`), as JSON or as a Nix expression.
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

use requirements::RequirementSet;
use solve::{Options, Pkg, Solver};
use source::PackageSource;

/// Why a resolution failed, as data; `report` words each case. Missing projects are kept apart
/// from version conflicts.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Projects the user asked for that neither the database nor nixpkgs has.
    #[error("{0}")]
    Missing(report::MissingProjects),
    /// No choice of versions satisfies the requirements.
    #[error("{0}")]
    Conflict(report::Conflict),
    /// Two of the user's own lines on one project exclude each other.
    #[error("{0}")]
    ClashingRequirements(Box<report::ClashingRequirements>),
    /// Projects needed deeper in the graph that the database does not have.
    #[error("{0}")]
    MissingDependencies(report::MissingDependencies),
}

/// A successful resolution: the lock value and warnings for stderr.
#[derive(Debug)]
pub struct Outcome {
    pub lock: serde_json::Value,
    pub warnings: Vec<String>,
}

/// Resolves `reqs` against `index` for the target in `opts`.
pub fn resolve<I: PackageSource>(
    index: &I,
    reqs: &RequirementSet,
    opts: &Options,
) -> Result<Outcome, ResolveError> {
    let solver = Solver::new(index, opts, reqs);
    let snapshot = pinion_db::time::rfc3339(index.snapshot().created_at);
    let missing = solver.missing_roots();
    if !missing.is_empty() {
        let names = index.names();
        let missing = missing
            .into_iter()
            .map(|n| {
                let close = report::close_spellings(&n, &names);
                (n, close)
            })
            .collect();
        return Err(ResolveError::Missing(report::MissingProjects {
            snapshot,
            missing,
        }));
    }
    if let Some((a, b)) = solver.clashing_roots(reqs) {
        return Err(ResolveError::ClashingRequirements(Box::new(
            report::ClashingRequirements {
                name: a.name.to_string(),
                first: a.clone(),
                second: b.clone(),
            },
        )));
    }
    let solution = match solve::run(&solver) {
        Ok(s) => s,
        Err(conflict) => {
            if solver.met_missing() {
                return Err(missing_dependencies(index, opts, reqs, snapshot));
            }
            return Err(ResolveError::Conflict(report::Conflict {
                snapshot,
                conflict,
            }));
        }
    };
    let exclude_newer = opts.exclude_newer.map(pinion_db::time::rfc3339);
    let (lock, mut warnings) =
        lock::build_lock(&solver, index, &solution, exclude_newer.as_deref());
    for (name, why) in solver.unreadable_metadata() {
        warnings.push(report::unreadable_metadata(&name, &why));
    }
    warnings.sort();
    warnings.dedup();
    Ok(Outcome { lock, warnings })
}

/// Resolves again as if every missing project existed, to name all of them (with who needs
/// them in that solution) and any conflict that remains.
fn missing_dependencies<I: PackageSource>(
    index: &I,
    opts: &Options,
    reqs: &RequirementSet,
    snapshot: String,
) -> ResolveError {
    let stub = Solver::new(index, opts, reqs).assuming_missing_exist();
    let (chosen, conflict) = match solve::run(&stub) {
        Ok(solution) => (Some(solution), None),
        Err(conflict) => (None, Some(conflict)),
    };
    let in_solution = |(p, v): &(Pkg, pep440_rs::Version)| {
        chosen
            .as_ref()
            .is_none_or(|s| s.iter().any(|(q, w)| q == p && w == v))
    };
    let needed_by: std::collections::BTreeMap<_, _> = stub
        .needed_by()
        .into_iter()
        .map(|(name, by)| (name, by.into_iter().filter(&in_solution).collect()))
        .filter(|(_, by): &(String, std::collections::BTreeSet<_>)| !by.is_empty())
        .collect();
    ResolveError::MissingDependencies(report::MissingDependencies {
        snapshot,
        needed_by,
        conflict,
    })
}
