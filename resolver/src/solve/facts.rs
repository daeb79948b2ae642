//! What the solver notices while it runs and what a failure consists of, kept as data: projects
//! missing from the database, why versions were unusable or unmatched, metadata it could not use,
//! who needed each missing project. `crate::report` is the only place that words any of it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use pep440_rs::{Version, VersionSpecifiers};

use super::{Pkg, Solver, Tree, VS};
use crate::candidates::{Candidate, Unusable};
use crate::source::PackageSource;

/// A hint recorded while solving, shown when resolution fails and the package is involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The project is in the database, but none of its releases has a file pinion keeps.
    NoReleases,
    /// No version in the database matches a requirement together with the user's constraints.
    NoMatch {
        /// The requirement's specifiers, then each constraint on the project.
        wanted: VersionSpecifiers,
        constraints: Vec<VersionSpecifiers>,
        /// The newest versions the database has (at most five, newest first).
        newest: Vec<String>,
        /// The database has more versions than `newest`.
        more: bool,
    },
    /// Versions in the wanted range exist but no allowed provider offers them for the target.
    Unusable {
        /// The newest such version, as published.
        version: String,
        /// Why its files offer nothing, per file.
        why: Vec<Unusable>,
        /// How many versions in the range are unusable.
        count: usize,
    },
}

/// Why a chosen package's requirements are not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// The database has no requirements for the file (the crawler could not extract them).
    NotExtracted,
    /// Reading the file's metadata from the source failed (`SourceError`'s text).
    Unreadable(String),
}

/// The solver's record of what it noticed (interior mutability: PubGrub's provider methods
/// take `&self`).
#[derive(Default)]
pub(super) struct Facts {
    /// Projects referenced but found neither in the DB nor in nixpkgs.
    pub(super) missing: RefCell<BTreeSet<String>>,
    /// Notes by project; the first "no match" stays, "unusable" overwrites.
    pub(super) notes: RefCell<BTreeMap<String, Note>>,
    /// Packages whose metadata could not be used.
    pub(super) unknown: RefCell<BTreeMap<String, Unknown>>,
    /// Missing project -> the packages (and versions) whose dependencies named it.
    pub(super) needed_by: RefCell<BTreeMap<String, BTreeSet<(Pkg, Version)>>>,
}

/// Why PubGrub found no solution, with what the solver noticed about the packages involved.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// PubGrub's derivation of the failure.
    pub tree: Tree,
    /// For each project in the tree, the versions the database has (ascending), so ranges
    /// can be described over them.
    pub versions: BTreeMap<String, Vec<Version>>,
    /// Projects in the tree that neither the database nor nixpkgs has.
    pub missing: Vec<String>,
    /// Notes about projects in the tree, by project.
    pub notes: Vec<(String, Note)>,
}

impl Conflict {
    /// A version of a project in the conflict exists but is unusable for the target.
    pub fn has_unusable(&self) -> bool {
        self.notes
            .iter()
            .any(|(_, n)| matches!(n, Note::Unusable { .. }))
    }
}

/// Projects a derivation tree mentions (with repeats).
fn tree_projects(tree: &Tree) -> Vec<String> {
    tree.packages()
        .into_iter()
        .filter_map(|p| p.name().map(str::to_string))
        .collect()
}

impl<I: PackageSource> Solver<'_, I> {
    /// The user's requirements on projects that neither the database nor nixpkgs has.
    pub fn missing_roots(&self) -> Vec<String> {
        self.roots()
            .iter()
            .map(|s| s.name.as_str().to_string())
            .filter(|n| {
                self.candidates(n).list.is_empty() && self.facts.missing.borrow().contains(n)
            })
            .collect()
    }

    /// Whether any project met while solving is missing from the database and nixpkgs.
    pub fn met_missing(&self) -> bool {
        !self.facts.missing.borrow().is_empty()
    }

    /// Missing project -> the packages (and versions) whose dependencies named it.
    pub fn needed_by(&self) -> BTreeMap<String, BTreeSet<(Pkg, Version)>> {
        self.facts.needed_by.borrow().clone()
    }

    /// Packages whose metadata the index failed to read, with its reason.
    pub fn unreadable_metadata(&self) -> Vec<(String, String)> {
        self.facts
            .unknown
            .borrow()
            .iter()
            .filter_map(|(name, u)| match u {
                Unknown::Unreadable(why) => Some((name.clone(), why.clone())),
                Unknown::NotExtracted => None,
            })
            .collect()
    }

    /// The failure `tree` with the versions, missing projects and notes of the projects in it.
    pub fn conflict(&self, tree: Tree) -> Conflict {
        let projects = tree_projects(&tree);
        let versions = projects
            .iter()
            .map(|n| {
                let cands = self.candidates(n);
                (
                    n.clone(),
                    cands.list.iter().map(|c| c.version.clone()).collect(),
                )
            })
            .collect();
        let missing = self
            .facts
            .missing
            .borrow()
            .iter()
            .filter(|n| projects.contains(n))
            .cloned()
            .collect();
        let notes = self
            .facts
            .notes
            .borrow()
            .iter()
            .filter(|(n, _)| projects.contains(n))
            .map(|(n, note)| (n.clone(), note.clone()))
            .collect();
        Conflict {
            tree,
            versions,
            missing,
            notes,
        }
    }

    /// Records that no candidate of `name` matches `wanted` with the user's constraints
    /// (unless a note on `name` exists already).
    pub(super) fn note_no_match(&self, name: &str, wanted: &VersionSpecifiers) {
        let cands = self.candidates(name);
        let constraints = self.constraints.get(name).cloned().unwrap_or_default();
        self.facts
            .notes
            .borrow_mut()
            .entry(name.to_string())
            .or_insert_with(|| Note::NoMatch {
                wanted: wanted.clone(),
                constraints,
                newest: (cands.list.iter().rev().take(5))
                    .map(|c| c.version_str.clone())
                    .collect(),
                more: cands.list.len() > 5,
            });
    }

    /// Records why nothing in `range` of `name` can be chosen, when the database has versions
    /// there that no allowed provider offers.
    pub(super) fn note_unusable(&self, name: &str, range: &VS) {
        let cands = self.candidates(name);
        if !cands.in_index {
            return;
        }
        if cands.list.is_empty() {
            self.facts
                .notes
                .borrow_mut()
                .insert(name.to_string(), Note::NoReleases);
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
            self.facts.notes.borrow_mut().insert(
                name.to_string(),
                Note::Unusable {
                    version: newest.version_str.clone(),
                    why,
                    count: unusable.len(),
                },
            );
        }
    }

    /// Records why `name`'s requirements are unknown; a read failure replaces "not extracted".
    pub(super) fn note_unknown(&self, name: &str, why: Unknown) {
        let mut unknown = self.facts.unknown.borrow_mut();
        match why {
            Unknown::NotExtracted => {
                unknown.entry(name.to_string()).or_insert(why);
            }
            Unknown::Unreadable(_) => {
                unknown.insert(name.to_string(), why);
            }
        }
    }
}
