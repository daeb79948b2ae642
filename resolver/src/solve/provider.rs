//! The PubGrub side of the solver: which package to decide next, which version to try (newest
//! first, skipping versions no solution can contain) and each version's dependencies as
//! version sets. Nothing here can fail (`Infallible`): a missing project or unusable version
//! is an empty choice, which PubGrub turns into the derivation tree of a conflict.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use pep440_rs::Version;
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
    PubGrubError,
};

use super::facts::{Conflict, Unknown};
use super::{Pkg, Solver, VS, normalize_extra};
use crate::candidates::Candidate;
use crate::source::PackageSource;

pub(super) fn root_version() -> Version {
    Version::new([0])
}

impl<I: PackageSource> Solver<'_, I> {
    /// False when `name==version` has a runtime dependency whose allowed versions are disjoint
    /// from what the user's own requirements (and constraints) allow for that package, or
    /// empty: such a version is in no solution, whatever else is chosen.
    fn possible(&self, name: &str, version: &Version) -> bool {
        let (runtime, _, _) = self.deps_of(name, version, None);
        runtime.iter().all(|d| {
            let range = self.range_for(&d.name, &d.specifiers);
            if range == VS::empty() {
                return false;
            }
            self.roots
                .iter()
                .filter(|r| r.name.as_str() == d.name)
                .all(|r| !range.is_disjoint(&self.range_for(&d.name, &r.specifiers)))
        })
    }

    fn add_dep(&self, out: &mut BTreeMap<Pkg, VS>, name: &str, extras: &[String], range: VS) {
        let mut put = |p: Pkg, r: &VS| {
            let merged = match out.get(&p) {
                Some(old) => old.intersection(r),
                None => r.clone(),
            };
            out.insert(p, merged);
        };
        let n: Arc<str> = Arc::from(name);
        put(Pkg::Base(n.clone()), &range);
        for e in extras {
            put(
                Pkg::Extra(n.clone(), Arc::from(normalize_extra(e).as_str())),
                &range,
            );
        }
    }
}

impl<I: PackageSource> DependencyProvider for Solver<'_, I> {
    type P = Pkg;
    type V = Version;
    type VS = VS;
    /// pinion never declares a version unavailable with a reason of its own.
    type M = Infallible;
    type Err = Infallible;
    type Priority = (u8, u32, Reverse<u32>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &VS,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let seq = *self
            .seen_order
            .borrow_mut()
            .entry(package.clone())
            .or_insert_with(|| {
                let s = self.next_seq.get();
                self.next_seq.set(s + 1);
                s
            });
        // Decide pinned packages first (they cannot branch), then those that caused conflicts,
        // then in discovery order (breadth first, like pip and uv).
        let class = match package {
            Pkg::Root => 3,
            _ if range.as_singleton().is_some() => 2,
            _ => 1,
        };
        (class, stats.conflict_count(), Reverse(seq))
    }

    fn choose_version(&self, package: &Pkg, range: &VS) -> Result<Option<Version>, Infallible> {
        let Some(name) = package.name() else {
            return Ok(Some(root_version()));
        };
        let cands = self.candidates(name);
        if self.stub_missing && cands.list.is_empty() && self.facts.missing.borrow().contains(name)
        {
            return Ok(Some(root_version()));
        }
        // Pre-releases only when the user's requirements mention one for this package, or
        // when the range holds nothing else (PEP 440's "if necessary" rule).
        let in_range = || {
            cands
                .list
                .iter()
                .rev()
                .filter(|c| range.contains(&c.version) && self.offer(name, c).is_some())
        };
        let pick = |possible: &dyn Fn(&Candidate) -> bool| {
            if self.pre_allowed.contains(name) {
                in_range().find(|c| possible(c))
            } else {
                in_range()
                    .find(|c| !c.prerelease && possible(c))
                    .or_else(|| in_range().find(|c| possible(c)))
            }
        };
        // Skipping versions that can never be part of a solution saves PubGrub one conflict
        // each (boto3 releases walked back to a botocore the user capped). If none is left,
        // the newest is offered anyway, so the derivation tree explains the failure.
        let found = match package {
            Pkg::Base(_) => pick(&|c| self.possible(name, &c.version)).or_else(|| pick(&|_| true)),
            _ => pick(&|_| true),
        }
        .map(|c| c.version.clone());
        if found.is_none() {
            self.note_unusable(name, range);
        }
        Ok(found)
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, VS, Infallible>, Infallible> {
        let mut out: BTreeMap<Pkg, VS> = BTreeMap::new();
        match package {
            Pkg::Root => {
                for s in &self.roots {
                    let range = self.range_for(s.name.as_str(), &s.specifiers);
                    self.add_dep(&mut out, s.name.as_str(), &s.extras, range);
                }
            }
            Pkg::Base(name) => {
                let (runtime, build, known) = self.deps_of(name, version, None);
                if !known {
                    self.note_unknown(name, Unknown::NotExtracted);
                }
                for d in runtime
                    .iter()
                    .chain(build.iter().filter(|d| d.name != **name))
                {
                    let range = self.range_for(&d.name, &d.specifiers);
                    self.add_dep(&mut out, &d.name, &d.extras, range);
                }
            }
            Pkg::Extra(name, extra) => {
                out.insert(Pkg::Base(name.clone()), VS::singleton(version.clone()));
                let (adds, _, _) = self.deps_of(name, version, Some(extra));
                for d in adds {
                    let range = self.range_for(&d.name, &d.specifiers);
                    self.add_dep(&mut out, &d.name, &d.extras, range);
                }
            }
        }
        let missing = self.facts.missing.borrow();
        for dep in out.keys() {
            if let Some(n) = dep.name().filter(|n| missing.contains(*n)) {
                self.facts
                    .needed_by
                    .borrow_mut()
                    .entry(n.to_string())
                    .or_default()
                    .insert((package.clone(), version.clone()));
            }
        }
        drop(missing);
        Ok(Dependencies::Available(
            out.into_iter().collect::<DependencyConstraints<Pkg, VS>>(),
        ))
    }
}

/// Runs PubGrub from the root. `Ok` lists every selected package with its version; `Err` is
/// the conflict with what the solver noticed about the packages in it (boxed: it is large and
/// only on the error path).
pub fn run<I: PackageSource>(solver: &Solver<'_, I>) -> Result<Vec<(Pkg, Version)>, Box<Conflict>> {
    let sol = match pubgrub::resolve(solver, Pkg::Root, root_version()) {
        Ok(sol) => sol,
        Err(PubGrubError::NoSolution(tree)) => return Err(Box::new(solver.conflict(tree))),
        Err(
            PubGrubError::ErrorRetrievingDependencies { source, .. }
            | PubGrubError::ErrorChoosingVersion { source, .. }
            | PubGrubError::ErrorInShouldCancel(source),
        ) => match source {},
    };
    let mut v: Vec<(Pkg, Version)> = sol.into_iter().filter(|(p, _)| *p != Pkg::Root).collect();
    v.sort();
    Ok(v)
}
