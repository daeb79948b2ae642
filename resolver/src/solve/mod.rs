//! PubGrub over the index. Packages are project names plus virtual `name[extra]` packages
//! (which pin `name` to their own version and add the extra's requirements). Version sets are
//! `Ranges<Version>` built from the *candidate list*: the versions matching a requirement are
//! grouped into runs of consecutive candidates, so every PEP 440 subtlety (`==1.*`, `~=`, local
//! versions, pre-release rules) is decided by `VersionSpecifier::contains` and never re-derived.

//!
//! `ranges` maps a requirement to a version set, `provider` is PubGrub's side (what to decide
//! next, which version to try, each version's dependencies), `facts` keeps what the solver
//! notices for explaining a failure. This module holds the solver's state and its reads of
//! the index: candidates, files, the offer chosen per version and that offer's dependencies.

mod facts;
mod provider;
mod ranges;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::ExtraName;
use pubgrub::Ranges;

pub use facts::{Conflict, Note, Unknown};
pub use provider::run;

use crate::candidates::{Candidate, Candidates, FileFilter, Offer, ProjectPolicy};
use crate::providers::{Nixpkgs, Providers};
use crate::requirements::{RequirementSet, Spec};
use crate::source::{Dep, FileId, FileInfo, FileKind, FileMeta, PackageSource, ReleaseId};
use crate::target::Target;
use facts::Facts;
use ranges::matching;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pkg {
    Root,
    Base(Arc<str>),
    Extra(Arc<str>, Arc<str>),
}

impl Pkg {
    pub fn name(&self) -> Option<&str> {
        match self {
            Pkg::Root => None,
            Pkg::Base(n) | Pkg::Extra(n, _) => Some(n),
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => f.write_str("your requirements"),
            Pkg::Base(n) => f.write_str(n),
            Pkg::Extra(n, e) => write!(f, "{n}[{e}]"),
        }
    }
}

pub type VS = Ranges<Version>;

/// PubGrub's explanation of a failure.
pub type Tree = pubgrub::DerivationTree<Pkg, VS, Infallible>;

/// One release's files, shared between the offer decision and the lock.
pub type ReleaseFiles = Rc<Vec<FileInfo>>;

/// Everything about the target and the user's choices.
pub struct Options {
    pub target: Target,
    pub providers: Providers,
    pub nixpkgs: Nixpkgs,
    pub exclude_newer: Option<i64>,
}

pub struct Solver<'a, I: PackageSource> {
    index: &'a I,
    opts: &'a Options,
    filter: FileFilter<'a>,
    cache: RefCell<HashMap<Arc<str>, Rc<Candidates>>>,
    ranges: RefCell<HashMap<(Arc<str>, String), VS>>,
    files_cache: RefCell<HashMap<(Arc<str>, ReleaseId), ReleaseFiles>>,
    constraints: BTreeMap<String, Vec<VersionSpecifiers>>,
    hashes: BTreeMap<String, BTreeSet<String>>,
    pinned: BTreeMap<String, Vec<Version>>,
    pre_allowed: BTreeSet<String>,
    roots: Vec<Spec>,
    seen_order: RefCell<HashMap<Pkg, u32>>,
    next_seq: Cell<u32>,
    /// What the solver noticed, for explaining a failure and for warnings.
    facts: Facts,
    /// Offer each missing project as one version without dependencies, to find every
    /// missing project a solution needs (and whether anything else conflicts) for the message.
    stub_missing: bool,
}

impl<'a, I: PackageSource> Solver<'a, I> {
    pub fn new(index: &'a I, opts: &'a Options, reqs: &RequirementSet) -> Self {
        let env = &opts.target.markers;
        let active = |s: &&Spec| s.marker.evaluate(env, &[]);
        let mut constraints: BTreeMap<String, Vec<VersionSpecifiers>> = BTreeMap::new();
        let mut hashes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut pinned: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        let mut pre_allowed = BTreeSet::new();
        for s in reqs
            .constraints
            .iter()
            .chain(&reqs.requirements)
            .filter(active)
        {
            let name = s.name.as_str().to_string();
            if !s.hashes.is_empty() {
                hashes
                    .entry(name.clone())
                    .or_default()
                    .extend(s.hashes.iter().cloned());
            }
            for spec in s.specifiers.iter() {
                if matches!(spec.operator(), Operator::Equal | Operator::ExactEqual) {
                    pinned
                        .entry(name.clone())
                        .or_default()
                        .push(spec.version().clone());
                }
            }
            if s.specifiers.iter().any(|sp| sp.any_prerelease()) {
                pre_allowed.insert(name.clone());
            }
        }
        for s in reqs.constraints.iter().filter(active) {
            constraints
                .entry(s.name.as_str().to_string())
                .or_default()
                .push(s.specifiers.clone());
        }
        let roots = reqs.requirements.iter().filter(active).cloned().collect();
        Solver {
            index,
            opts,
            filter: FileFilter::new(&opts.target, opts.exclude_newer),
            cache: RefCell::default(),
            ranges: RefCell::default(),
            files_cache: RefCell::default(),
            constraints,
            hashes,
            pinned,
            pre_allowed,
            roots,
            seen_order: RefCell::default(),
            next_seq: Cell::new(0),
            facts: Facts::default(),
            stub_missing: false,
        }
    }

    /// This solver, resolving as if every project missing from the database and nixpkgs
    /// existed as version 0 with no dependencies. Only for explaining a failure: its
    /// solution names every missing project a resolution would need.
    pub fn assuming_missing_exist(mut self) -> Self {
        self.stub_missing = true;
        self
    }

    pub fn roots(&self) -> &[Spec] {
        &self.roots
    }

    /// Two of the user's own requirements or constraints on one project that each allow some
    /// version the database has but no version together (`a==1` in one file, `a==2` in
    /// another), so the message can name both instead of "no matching version".
    pub fn clashing_roots<'r>(&self, reqs: &'r RequirementSet) -> Option<(&'r Spec, &'r Spec)> {
        let env = &self.opts.target.markers;
        let specs: Vec<&Spec> = reqs
            .requirements
            .iter()
            .chain(&reqs.constraints)
            .filter(|s| s.marker.evaluate(env, &[]))
            .collect();
        for (i, a) in specs.iter().enumerate() {
            let cands = self.candidates(a.name.as_str());
            let ok_a = matching(&cands.list, a.specifiers.iter());
            if !ok_a.contains(&true) {
                continue;
            }
            for b in specs[i + 1..].iter().filter(|b| b.name == a.name) {
                let ok_b = matching(&cands.list, b.specifiers.iter());
                if ok_b.contains(&true) && !ok_a.iter().zip(&ok_b).any(|(x, y)| *x && *y) {
                    return Some((a, b));
                }
            }
        }
        None
    }

    pub fn target(&self) -> &Target {
        &self.opts.target
    }

    pub fn nixpkgs_attr(&self, name: &str) -> Option<String> {
        self.opts.nixpkgs.packages.get(name).map(|n| n.attr.clone())
    }

    fn policy<'s>(&'s self, name: &str) -> ProjectPolicy<'s> {
        ProjectPolicy {
            providers: self.opts.providers.for_package(name),
            nixpkgs: self.opts.nixpkgs.packages.get(name),
            hashes: self.hashes.get(name),
            pinned: self.pinned.get(name).map(Vec::as_slice).unwrap_or(&[]),
        }
    }

    /// The candidates of a project, computed once.
    pub fn candidates(&self, name: &str) -> Rc<Candidates> {
        if let Some(c) = self.cache.borrow().get(name) {
            return c.clone();
        }
        let info = self.index.project(name);
        let display = info
            .as_ref()
            .map(|i| i.display_name.clone())
            .unwrap_or_else(|| name.to_string());
        if info.is_none() && !self.opts.nixpkgs.packages.contains_key(name) {
            self.facts.missing.borrow_mut().insert(name.to_string());
        }
        let c = Rc::new(self.filter.candidates(info, display, &self.policy(name)));
        self.cache.borrow_mut().insert(Arc::from(name), c.clone());
        c
    }

    /// The files of release `release` of `name`, read from the index once.
    pub fn files(&self, name: &str, release: ReleaseId) -> ReleaseFiles {
        let key = (Arc::<str>::from(name), release);
        if let Some(f) = self.files_cache.borrow().get(&key) {
            return f.clone();
        }
        let files = Rc::new(self.index.files(name, release));
        self.files_cache.borrow_mut().insert(key, files.clone());
        files
    }

    /// Who supplies candidate `c` of `name` (decided on first use).
    pub fn offer(&self, name: &str, c: &Candidate) -> Option<Offer> {
        *c.offer.get_or_init(|| {
            let r = c.release?;
            self.filter
                .offer(&self.files(name, r), r, c, &self.policy(name))
        })
    }
    /// Metadata for the offer chosen for `name` at `version`.
    fn meta_for(&self, name: &str, version: &Version) -> Option<(Offer, FileMeta, bool)> {
        let cands = self.candidates(name);
        let c = cands.list.iter().find(|c| &c.version == version)?;
        let offer = self.offer(name, c)?;
        let load = |file: FileId| match self.index.metadata(name, file) {
            Ok(m) => Some(m),
            Err(e) => {
                self.note_unknown(name, Unknown::Unreadable(e.to_string()));
                None
            }
        };
        let meta = match offer {
            Offer::Wheel(file) | Offer::Sdist(file) => load(file),
            Offer::Nixpkgs { release: None } => None,
            Offer::Nixpkgs { release: Some(r) } => {
                // nixpkgs builds its own package; the release's wheel metadata (static, exact)
                // tells which dependencies it has, an sdist's when there is no wheel.
                let files = self.files(name, r);
                let mut order: Vec<usize> = (0..files.len()).collect();
                order.sort_by_key(|&i| files[i].kind != FileKind::Wheel);
                order
                    .into_iter()
                    .filter_map(|position| {
                        load(FileId {
                            release: r,
                            position,
                        })
                    })
                    .find(|m| m.requires_dist.is_some())
            }
        };
        let known = meta.as_ref().is_some_and(|m| m.requires_dist.is_some());
        Some((offer, meta.unwrap_or_default(), known))
    }

    /// Requirement strings of the chosen file that the crawler could not parse (its
    /// requirements are partial when this is not empty).
    pub fn unparsed_of(&self, name: &str, version: &Version) -> Vec<String> {
        self.meta_for(name, version)
            .map(|(_, meta, _)| meta.unparsed)
            .unwrap_or_default()
    }

    fn applies(&self, dep: &Dep, extras: &[ExtraName]) -> bool {
        dep.marker.evaluate(&self.opts.target.markers, extras)
    }

    /// Whether `name` at `version` defines `extra`: listed in `Provides-Extra`, or named by a
    /// requirement's marker (in any environment). `None` when its requirements are unknown.
    pub fn defines_extra(&self, name: &str, version: &Version, extra: &str) -> Option<bool> {
        let (_, meta, known) = self.meta_for(name, version)?;
        let requires = meta.requires_dist.filter(|_| known)?;
        let extra = ExtraName::from_str(extra).ok()?;
        let listed = meta
            .provides_extra
            .iter()
            .any(|p| ExtraName::from_str(p).is_ok_and(|p| p == extra));
        Some(
            listed
                || requires.iter().any(|d| {
                    d.marker.evaluate_extras(std::slice::from_ref(&extra))
                        && !d.marker.evaluate_extras(&[])
                }),
        )
    }

    /// Runtime + build dependencies (as `Dep`s) of the package chosen for `name` at `version`,
    /// with `extra` restricting to what that extra adds.
    pub fn deps_of(
        &self,
        name: &str,
        version: &Version,
        extra: Option<&str>,
    ) -> (Vec<Dep>, Vec<Dep>, bool) {
        let Some((offer, meta, known)) = self.meta_for(name, version) else {
            return (vec![], vec![], false);
        };
        let runtime = meta.requires_dist.unwrap_or_default();
        match extra {
            Some(e) => {
                let Ok(e) = ExtraName::from_str(e) else {
                    return (vec![], vec![], known);
                };
                let adds = runtime
                    .into_iter()
                    .filter(|d| self.applies(d, std::slice::from_ref(&e)) && !self.applies(d, &[]))
                    .collect();
                (adds, vec![], known)
            }
            None => {
                let base: Vec<Dep> = runtime
                    .into_iter()
                    .filter(|d| self.applies(d, &[]) && !(d.name == name && d.extras.is_empty()))
                    .collect();
                let build = if matches!(offer, Offer::Sdist { .. }) {
                    meta.build
                        .into_iter()
                        .filter(|d| self.applies(d, &[]))
                        .collect()
                } else {
                    vec![]
                };
                (base, build, known)
            }
        }
    }
}

/// PEP 685 extra normalization, as pep508_rs applies it to parsed names.
pub fn normalize_extra(e: &str) -> String {
    ExtraName::from_str(e)
        .map(|x| x.to_string())
        .unwrap_or_else(|_| e.to_ascii_lowercase())
}
