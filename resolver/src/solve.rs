//! PubGrub over the index. Packages are project names plus virtual `name[extra]` packages
//! (which pin `name` to their own version and add the extra's requirements). Version sets are
//! `Ranges<Version>` built from the *candidate list*: the versions matching a requirement are
//! grouped into runs of consecutive candidates, so every PEP 440 subtlety (`==1.*`, `~=`, local
//! versions, pre-release rules) is decided by `VersionSpecifier::contains` and never re-derived.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Bound;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::ExtraName;
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, Ranges,
};

use crate::candidates::{Candidate, Candidates, FileFilter, Offer, ProjectPolicy};
use crate::providers::{Nixpkgs, Providers};
use crate::requirements::{RequirementSet, Spec};
use crate::source::{Dep, FileId, FileInfo, FileKind, FileMeta, PackageSource, ReleaseId};
use crate::target::Target;

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
pub type Tree = pubgrub::DerivationTree<Pkg, VS, String>;

/// One release's files, shared between the offer decision and the lock.
pub type ReleaseFiles = Rc<Vec<FileInfo>>;

/// A hint recorded while solving, shown when resolution fails and the package is involved.
#[derive(Clone, Debug)]
pub enum Note {
    /// Versions in the wanted range exist but no allowed provider offers them for the target.
    Unusable(String),
    /// No version in the database matches a requirement.
    NoMatch(String),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Unusable(s) | Note::NoMatch(s) => f.write_str(s),
        }
    }
}

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
    /// Projects referenced but found neither in the DB nor in nixpkgs.
    pub missing: RefCell<BTreeSet<String>>,
    /// Why existing versions were unusable, noted when a range had no candidate.
    pub notes: RefCell<BTreeMap<String, Note>>,
    /// Packages whose metadata could not be used (with the reason), for warnings.
    pub unknown: RefCell<BTreeMap<String, String>>,
    /// Missing project -> the packages (and versions) whose dependencies named it.
    pub needed_by: RefCell<BTreeMap<String, BTreeSet<(Pkg, Version)>>>,
    /// Offer each missing project as one version without dependencies, to find every
    /// missing project a solution needs (and whether anything else conflicts) for the message.
    stub_missing: bool,
}

fn root_version() -> Version {
    Version::new([0])
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
            missing: RefCell::default(),
            notes: RefCell::default(),
            unknown: RefCell::default(),
            needed_by: RefCell::default(),
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
            self.missing.borrow_mut().insert(name.to_string());
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

    /// The candidate versions of `name` that satisfy `specifiers` and the user's constraints,
    /// as a range (pre-release policy is applied in `choose_version`). Cached: many releases
    /// of a package repeat the same requirement, and matching walks every candidate.
    fn range_for(&self, name: &str, specifiers: &VersionSpecifiers) -> VS {
        let key = (Arc::<str>::from(name), specifiers.to_string());
        if let Some(r) = self.ranges.borrow().get(&key) {
            return r.clone();
        }
        let range = self.compute_range(name, specifiers);
        self.ranges.borrow_mut().insert(key, range.clone());
        range
    }

    fn compute_range(&self, name: &str, specifiers: &VersionSpecifiers) -> VS {
        let cands = self.candidates(name);
        let cons = self.constraints.get(name).map(Vec::as_slice).unwrap_or(&[]);
        if cands.list.is_empty() {
            // Unknown project: "any version" reads better in messages than an empty set, and
            // `choose_version` finds nothing either way.
            return VS::full();
        }
        let all_specs = specifiers.iter().chain(cons.iter().flat_map(|c| c.iter()));
        let ok = matching(&cands.list, all_specs);
        if !ok.iter().any(|&b| b) {
            let newest: Vec<&str> = cands
                .list
                .iter()
                .rev()
                .take(5)
                .map(|c| c.version_str.as_str())
                .collect();
            let mut wanted = specifiers.to_string();
            for c in cons {
                wanted = if wanted.is_empty() {
                    format!("{c} (constraint)")
                } else {
                    format!("{wanted}, {c} (constraint)")
                };
            }
            self.notes
                .borrow_mut()
                .entry(name.to_string())
                .or_insert_with(|| {
                    Note::NoMatch(format!(
                        "no version of {name} matches {wanted}; the database has {}{}",
                        newest.join(", "),
                        if cands.list.len() > 5 { ", ..." } else { "" }
                    ))
                });
        }
        let mut segments = Vec::new();
        let mut i = 0;
        while i < ok.len() {
            if !ok[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < ok.len() && ok[i] {
                i += 1;
            }
            // Open ends where the run reaches the oldest/newest candidate: the same set of
            // candidates, and messages read "a" instead of "a >=0.1".
            let first = &cands.list[start].version;
            segments.push(if i == start + 1 && !(start == 0 && i == ok.len()) {
                (
                    Bound::Included(first.clone()),
                    Bound::Included(first.clone()),
                )
            } else {
                let lo = if start == 0 {
                    Bound::Unbounded
                } else {
                    Bound::Included(first.clone())
                };
                let hi = match cands.list.get(i) {
                    Some(next) => Bound::Excluded(next.version.clone()),
                    None => Bound::Unbounded,
                };
                (lo, hi)
            });
        }
        // Segments are sorted and disjoint, so collecting them appends without merging.
        segments.into_iter().collect()
    }

    /// Metadata for the offer chosen for `name` at `version`.
    fn meta_for(&self, name: &str, version: &Version) -> Option<(Offer, FileMeta, bool)> {
        let cands = self.candidates(name);
        let c = cands.list.iter().find(|c| &c.version == version)?;
        let offer = self.offer(name, c)?;
        let load = |file: FileId| match self.index.metadata(name, file) {
            Ok(m) => Some(m),
            Err(e) => {
                self.unknown
                    .borrow_mut()
                    .insert(name.to_string(), e.to_string());
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

    fn note_unusable(&self, name: &str, range: &VS) {
        let cands = self.candidates(name);
        if !cands.in_index {
            return;
        }
        if cands.list.is_empty() {
            let why =
                format!("{name} is in the database but has no releases with files pinion keeps");
            self.notes
                .borrow_mut()
                .insert(name.to_string(), Note::NoMatch(why));
            return;
        }
        let unusable: Vec<&Candidate> = cands
            .list
            .iter()
            .filter(|c| range.contains(&c.version) && self.offer(name, c).is_none())
            .collect();
        if let Some(newest) = unusable.last()
            && let Some(r) = newest.release
        {
            let why = self
                .filter
                .why_unusable(&self.files(name, r), &self.policy(name));
            let more = if unusable.len() > 1 {
                format!(" ({} matching versions are unusable)", unusable.len())
            } else {
                String::new()
            };
            self.notes.borrow_mut().insert(
                name.to_string(),
                Note::Unusable(format!(
                    "{name} {} exists but is unusable: {why}{more}",
                    newest.version_str
                )),
            );
        }
    }
}

/// Which candidates (ascending) satisfy all `specs`. `>=` and `<=` are plain comparisons (local
/// labels aside, which sort next to their version), so they select a suffix / prefix of the
/// sorted candidates, found by binary search. `>V` and `<V` exclude post-/pre-releases by
/// *release segment* (`>1.0a1` rejects `1.0.post1`), which is only monotone when V is a final
/// release — the usual case (`<2`); otherwise they, like the other operators, are checked one
/// by one.
fn matching<'s>(
    list: &[Candidate],
    specs: impl Iterator<Item = &'s VersionSpecifier>,
) -> Vec<bool> {
    let (mut lo, mut hi) = (0, list.len());
    let mut others = Vec::new();
    for spec in specs {
        match spec.operator() {
            Operator::GreaterThan if !is_final(spec.version()) => others.push(spec),
            Operator::LessThan if !is_final(spec.version()) => others.push(spec),
            Operator::GreaterThanEqual | Operator::GreaterThan => {
                lo = lo.max(list.partition_point(|c| !spec.contains(&c.version)));
            }
            Operator::LessThanEqual | Operator::LessThan => {
                hi = hi.min(list.partition_point(|c| spec.contains(&c.version)));
            }
            _ => others.push(spec),
        }
    }
    list.iter()
        .enumerate()
        .map(|(i, c)| lo <= i && i < hi && others.iter().all(|s| s.contains(&c.version)))
        .collect()
}

/// `<V`/`>V` are monotonic over sorted versions only for a final `V` without an epoch:
/// pep440_rs excludes pre-, post- and local releases "of V" by comparing release segments
/// alone, so `2.0.dev0 < 1!2.0` is false although `2.0.dev0` sorts below `1!2.0`.
fn is_final(v: &Version) -> bool {
    !v.any_prerelease() && !v.is_post() && v.local().is_empty() && v.epoch() == 0
}

/// PEP 685 extra normalization, as pep508_rs applies it to parsed names.
pub fn normalize_extra(e: &str) -> String {
    ExtraName::from_str(e)
        .map(|x| x.to_string())
        .unwrap_or_else(|_| e.to_ascii_lowercase())
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Never(String);

impl<I: PackageSource> DependencyProvider for Solver<'_, I> {
    type P = Pkg;
    type V = Version;
    type VS = VS;
    type M = String;
    type Err = Never;
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

    fn choose_version(&self, package: &Pkg, range: &VS) -> Result<Option<Version>, Never> {
        let Some(name) = package.name() else {
            return Ok(Some(root_version()));
        };
        let cands = self.candidates(name);
        if self.stub_missing && cands.list.is_empty() && self.missing.borrow().contains(name) {
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
    ) -> Result<Dependencies<Pkg, VS, String>, Never> {
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
                    self.unknown
                        .borrow_mut()
                        .entry(name.to_string())
                        .or_insert_with(|| "requirements unknown".into());
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
        let missing = self.missing.borrow();
        for dep in out.keys() {
            if let Some(n) = dep.name().filter(|n| missing.contains(*n)) {
                self.needed_by
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

/// PubGrub's failure (boxed: it is large and only on the error path).
pub type SolveError<'a, I> = Box<pubgrub::PubGrubError<Solver<'a, I>>>;

/// Runs PubGrub from the root. `Ok` maps every selected package to its version.
pub fn run<'a, I: PackageSource>(
    solver: &'a Solver<'a, I>,
) -> Result<Vec<(Pkg, Version)>, SolveError<'a, I>> {
    let sol = pubgrub::resolve(solver, Pkg::Root, root_version()).map_err(Box::new)?;
    let mut v: Vec<(Pkg, Version)> = sol.into_iter().filter(|(p, _)| *p != Pkg::Root).collect();
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::OnceCell;

    /// The binary-searched bounds agree with checking every candidate, on the versions where
    /// PEP 440's special cases live (pre/post/dev releases, local versions, epochs).
    #[test]
    fn matching_agrees_with_contains() {
        let raw = [
            "0.9",
            "1.0.dev0",
            "1.0a1",
            "1.0b2.dev1",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post1",
            "1.0.post1+x",
            "1.0.1",
            "1.1.dev0",
            "1.1a1",
            "1.1",
            "2.0",
            "2.0.post0.dev1",
            "2.0.post0",
            "1!0.5",
        ];
        let mut list: Vec<Candidate> = raw
            .iter()
            .map(|v| {
                let version: Version = v.parse().unwrap();
                Candidate {
                    prerelease: version.any_prerelease(),
                    version,
                    version_str: v.to_string(),
                    release: None,
                    nix_here: false,
                    offer: OnceCell::new(),
                }
            })
            .collect();
        list.sort_by(|a, b| a.version.cmp(&b.version));
        for op in [">", ">=", "<", "<=", "==", "!=", "~="] {
            for v in [
                "1.0",
                "1.0a1",
                "1.0.post1",
                "1.0.dev0",
                "1.1",
                "2.0",
                "0.9",
                "1!0.5",
                "1.0.1",
            ] {
                let Ok(specs) = format!("{op}{v}").parse::<VersionSpecifiers>() else {
                    continue;
                };
                let want: Vec<bool> = list.iter().map(|c| specs.contains(&c.version)).collect();
                assert_eq!(matching(&list, specs.iter()), want, "{op}{v}");
            }
        }
        let specs: VersionSpecifiers = ">=1.0a1, <1.1, !=1.0.post1".parse().unwrap();
        let want: Vec<bool> = list.iter().map(|c| specs.contains(&c.version)).collect();
        assert_eq!(matching(&list, specs.iter()), want);
    }

    fn version_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let suffix = prop_oneof![
            Just(""),
            Just("a1"),
            Just("rc2"),
            Just(".post1"),
            Just(".dev0"),
            Just("+loc"),
            Just(".post1.dev2")
        ];
        (
            prop_oneof![Just(""), Just("1!")],
            0u8..3,
            0u8..3,
            proptest::option::of(0u8..2),
            suffix,
        )
            .prop_map(|(e, a, b, c, sfx)| {
                format!(
                    "{e}{a}.{b}{}{sfx}",
                    c.map(|c| format!(".{c}")).unwrap_or_default()
                )
            })
    }

    proptest::proptest! {
        #[test]
        fn matching_agrees_with_contains_on_random_versions(
            versions in proptest::collection::vec(version_text(), 1..25),
            op in proptest::sample::select(vec![">", ">=", "<", "<=", "==", "!=", "~="]),
            target in version_text(),
        ) {
            let mut list: Vec<Candidate> = versions.iter().map(|v| {
                let version: Version = v.parse().unwrap();
                Candidate { prerelease: version.any_prerelease(), version, version_str: v.clone(), release: None, nix_here: false, offer: OnceCell::new() }
            }).collect();
            list.sort_by(|a, b| a.version.cmp(&b.version));
            if let Ok(specs) = format!("{op}{target}").parse::<VersionSpecifiers>() {
                let want: Vec<bool> = list.iter().map(|c| specs.contains(&c.version)).collect();
                proptest::prop_assert_eq!(matching(&list, specs.iter()), want);
            }
        }
    }
}
