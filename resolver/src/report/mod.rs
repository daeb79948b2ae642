//! Every failure message of a resolution, and only here. The types here carry the facts
//! (`crate::ResolveError` wraps them) and their `Display` is the text: conflicts (the derivation
//! in words, from `derivation`, then the solver's notes on versions that exist but are unusable
//! or unmatched), projects missing from the database with close spellings, clashing lines of
//! the user's own, and hints.

mod derivation;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use pep440_rs::Version;

use crate::candidates::{Reject, Unusable};
use crate::requirements::Spec;
use crate::solve::{self, Note, Pkg};
use crate::source::FileKind;
use derivation::{derivation, truncate};

/// What to do about projects missing from the database, for every message that names some.
pub fn missing_hints(snapshot: &str) -> String {
    format!(
        "hint: a project is missing when it is newer than the database or was never crawled; either
  - use a newer database (this one is from {snapshot}), or
  - take it from nixpkgs: the `nixpkgs` provider (allowed by default) offers what the Nix library lists from `python.pkgs` (on the command line: `--nixpkgs`), or
  - add it to `python.pkgs` with an `overrides_pre` overlay, which makes it a nixpkgs package"
    )
}

/// Projects the user asked for that neither the database nor nixpkgs has.
#[derive(Debug)]
pub struct MissingProjects {
    pub snapshot: String,
    /// Each missing project with the close spellings the database has (at most three).
    pub missing: Vec<(String, Vec<String>)>,
}

impl fmt::Display for MissingProjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, close) in &self.missing {
            write!(
                f,
                "{name} is not in the database (snapshot {})",
                self.snapshot
            )?;
            if !close.is_empty() {
                write!(f, "; did you mean {}?", close.join(", "))?;
            }
            writeln!(f)?;
        }
        writeln!(f, "hint: check the spelling")?;
        f.write_str(&missing_hints(&self.snapshot))
    }
}

/// No choice of versions satisfies the requirements.
#[derive(Debug)]
pub struct Conflict {
    pub snapshot: String,
    pub conflict: Box<solve::Conflict>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", Explained(&self.conflict, &self.snapshot))?;
        writeln!(f, "hints:")?;
        if self.conflict.has_unusable() {
            writeln!(
                f,
                "  - a version noted above exists but is unusable for this target; another --python, system or provider (e.g. \"wheel,sdist,nixpkgs\") may help"
            )?;
        }
        writeln!(f, "  - relax a pin in your requirements or constraints")?;
        write!(
            f,
            "  - a newer database may have fixed releases (this one is from {})",
            self.snapshot
        )
    }
}

/// A conflict's derivation in pinion's words, then the projects in it that are missing and
/// the solver's notes on them; the snapshot dates the database.
struct Explained<'a>(&'a solve::Conflict, &'a str);

impl fmt::Display for Explained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Explained(c, snapshot) = self;
        f.write_str(&truncate(&derivation(&c.tree, &c.versions)))?;
        for name in &c.missing {
            write!(f, "\n{name} is not in the database (snapshot {snapshot})")?;
        }
        for (name, note) in &c.notes {
            write!(f, "\nnote: {}", Noted(name, note))?;
        }
        Ok(())
    }
}

/// A solver's note on project `.0`.
struct Noted<'a>(&'a str, &'a Note);

impl fmt::Display for Noted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Noted(name, note) = self;
        match note {
            Note::NoReleases => write!(
                f,
                "{name} is in the database but has no releases with files pinion keeps"
            ),
            Note::NoMatch {
                wanted,
                constraints,
                newest,
                more,
            } => {
                let mut wanted = wanted.to_string();
                for c in constraints {
                    wanted = if wanted.is_empty() {
                        format!("{c} (constraint)")
                    } else {
                        format!("{wanted}, {c} (constraint)")
                    };
                }
                write!(
                    f,
                    "no version of {name} matches {wanted}; the database has {}{}",
                    newest.join(", "),
                    if *more { ", ..." } else { "" }
                )
            }
            Note::Unusable {
                version,
                why,
                count,
            } => {
                write!(f, "{name} {version} exists but is unusable: {}", Why(why))?;
                if *count > 1 {
                    write!(f, " ({count} matching versions are unusable)")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a release's files offer nothing: each distinct reason once, sorted.
struct Why<'a>(&'a [Unusable]);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |k: &FileKind| match k {
            FileKind::Wheel => "wheel",
            FileKind::Sdist => "sdist",
        };
        let reasons: BTreeSet<String> = self
            .0
            .iter()
            .map(|u| match u {
                Unusable::NoFiles => "has no files".to_string(),
                Unusable::NotAllowed { kind: k, providers } => {
                    let providers: Vec<&str> = providers.iter().map(|p| p.as_str()).collect();
                    format!(
                        "{} files are not allowed by its providers ({})",
                        kind(k),
                        providers.join(",")
                    )
                }
                Unusable::Rejected {
                    kind: k,
                    reject,
                    requires_python,
                } => {
                    let r = match reject {
                        Reject::Yanked => "yanked".to_string(),
                        Reject::Newer => "uploaded after --exclude-newer".to_string(),
                        Reject::Python => format!(
                            "requires Python {}",
                            requires_python.as_deref().unwrap_or("?")
                        ),
                        Reject::Hash => "does not match the --hash given".to_string(),
                    };
                    format!("{} {r}", kind(k))
                }
                Unusable::IncompatibleWheel { target } => {
                    format!("no wheel is compatible with {target}")
                }
            })
            .collect();
        let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
        f.write_str(&reasons.join("; "))
    }
}

/// The warning for a package whose metadata the index failed to read.
pub fn unreadable_metadata(name: &str, why: &str) -> String {
    format!("{name}: metadata unusable: {why}")
}

/// Projects a resolution needs that neither the database nor nixpkgs has, found by resolving
/// again as if they existed: every one is listed with who needs it, before anything else.
#[derive(Debug)]
pub struct MissingDependencies {
    pub snapshot: String,
    /// Missing project -> the packages (with their versions) that need it in the solution
    /// found when the missing projects are assumed present.
    pub needed_by: BTreeMap<String, BTreeSet<(Pkg, Version)>>,
    /// The conflict that remains when the missing projects are assumed present.
    pub conflict: Option<Box<solve::Conflict>>,
}

impl fmt::Display for MissingDependencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.needed_by.len();
        let (projects, are) = if n == 1 {
            ("project", "is")
        } else {
            ("projects", "are")
        };
        writeln!(
            f,
            "{n} {projects} that your requirements need {are} not in this database (snapshot {}) nor in nixpkgs:",
            self.snapshot
        )?;
        for (name, by) in &self.needed_by {
            let by: BTreeSet<String> = by
                .iter()
                .map(|(p, v)| match p {
                    Pkg::Root => p.to_string(),
                    _ => format!("`{p}` {v}"),
                })
                .collect();
            let by: Vec<&str> = by.iter().map(String::as_str).collect();
            writeln!(f, "  - `{name}`, needed by {}", by.join(", "))?;
        }
        let them = if n == 1 { "it" } else { "them" };
        match &self.conflict {
            None => writeln!(f, "With {them}, the rest of your requirements resolves.")?,
            Some(c) => writeln!(
                f,
                "Even with {them}, your requirements conflict:\n{}",
                Explained(c, &self.snapshot)
            )?,
        }
        if self.conflict.is_some() {
            writeln!(
                f,
                "hint: for the conflict, relax a pin in your requirements or constraints"
            )?;
        }
        f.write_str(&missing_hints(&self.snapshot))
    }
}

/// Two of the user's own lines on one project that no version satisfies together.
#[derive(Debug)]
pub struct ClashingRequirements {
    pub name: String,
    pub first: Spec,
    pub second: Spec,
}

impl fmt::Display for ClashingRequirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "no version of `{}` satisfies both of your requirements:",
            self.name
        )?;
        for s in [&self.first, &self.second] {
            writeln!(f, "  - `{}{}` ({})", s.name, s.specifiers, s.origin)?;
        }
        write!(
            f,
            "hint: keep one of them, or widen them until they overlap"
        )
    }
}

/// Up to three known names within edit distance 2 of `name` (or sharing its normalized form
/// with separators removed), closest first.
pub fn close_spellings(name: &str, known: &[String]) -> Vec<String> {
    let squash = |s: &str| s.replace('-', "");
    let target = squash(name);
    let mut scored: BTreeMap<(usize, String), ()> = BTreeMap::new();
    for k in known {
        if k.len().abs_diff(name.len()) > 2 {
            continue;
        }
        let d = if squash(k) == target {
            0
        } else {
            levenshtein(name, k)
        };
        if d <= 2 {
            scored.insert((d, k.clone()), ());
        }
    }
    scored.into_keys().take(3).map(|(_, k)| k).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_reasons_each_once_sorted() {
        use crate::providers::Provider;
        let wheel = |reject, requires_python: Option<&str>| Unusable::Rejected {
            kind: FileKind::Wheel,
            reject,
            requires_python: requires_python.map(str::to_string),
        };
        let why = [
            Unusable::IncompatibleWheel {
                target: "CPython 3.11.7 on x86_64-linux".into(),
            },
            wheel(Reject::Yanked, None),
            wheel(Reject::Python, Some(">=3.12")),
            Unusable::NotAllowed {
                kind: FileKind::Sdist,
                providers: vec![Provider::Wheel, Provider::Nixpkgs],
            },
            wheel(Reject::Yanked, None),
            Unusable::Rejected {
                kind: FileKind::Sdist,
                reject: Reject::Hash,
                requires_python: None,
            },
            wheel(Reject::Newer, None),
            wheel(Reject::Python, None),
        ];
        assert_eq!(
            Why(&why).to_string(),
            "no wheel is compatible with CPython 3.11.7 on x86_64-linux; \
             sdist does not match the --hash given; \
             sdist files are not allowed by its providers (wheel,nixpkgs); \
             wheel requires Python >=3.12; wheel requires Python ?; \
             wheel uploaded after --exclude-newer; wheel yanked"
        );
        assert_eq!(Why(&[Unusable::NoFiles]).to_string(), "has no files");
    }

    #[test]
    fn notes_name_the_project() {
        let specs = |s: &str| s.parse::<pep440_rs::VersionSpecifiers>().unwrap();
        assert_eq!(
            Noted("foo", &Note::NoReleases).to_string(),
            "foo is in the database but has no releases with files pinion keeps"
        );
        let no_match = Note::NoMatch {
            wanted: specs(">=2"),
            constraints: vec![specs("<1.5"), specs("!=1.0")],
            newest: vec!["1.4".into(), "1.3".into()],
            more: true,
        };
        assert_eq!(
            Noted("foo", &no_match).to_string(),
            "no version of foo matches >=2, <1.5 (constraint), !=1.0 (constraint); the database has 1.4, 1.3, ..."
        );
        let only_constraint = Note::NoMatch {
            wanted: specs(""),
            constraints: vec![specs("<1")],
            newest: vec!["2.0".into()],
            more: false,
        };
        assert_eq!(
            Noted("foo", &only_constraint).to_string(),
            "no version of foo matches <1 (constraint); the database has 2.0"
        );
        let yanked = vec![Unusable::Rejected {
            kind: FileKind::Wheel,
            reject: Reject::Yanked,
            requires_python: None,
        }];
        let unusable = |count| Note::Unusable {
            version: "2.0".into(),
            why: yanked.clone(),
            count,
        };
        assert_eq!(
            Noted("foo", &unusable(1)).to_string(),
            "foo 2.0 exists but is unusable: wheel yanked"
        );
        assert_eq!(
            Noted("foo", &unusable(3)).to_string(),
            "foo 2.0 exists but is unusable: wheel yanked (3 matching versions are unusable)"
        );
    }

    #[test]
    fn spelling() {
        let known: Vec<String> = [
            "requests",
            "request",
            "requests-oauthlib",
            "numpy",
            "scikit-learn",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(close_spellings("reqeusts", &known), ["requests"]);
        assert_eq!(close_spellings("requets", &known), ["requests", "request"]);
        assert_eq!(close_spellings("scikitlearn", &known), ["scikit-learn"]);
        assert!(close_spellings("zzzzzz", &known).is_empty());
    }
}
