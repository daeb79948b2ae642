//! Every failure message of a resolution, and only here: PubGrub's derivation tree rendered
//! with pinion's wording ("you require", "==1.0", "your requirements"), the solver's notes on
//! versions that exist but are unusable or unmatched, projects missing from the database with
//! close spellings, and hints. The types here carry the facts (`crate::ResolveError` wraps
//! them); their `Display` is the text. Output is bounded so a pathological conflict cannot
//! flood the terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fmt;
use std::ops::Bound;

use pubgrub::{DefaultStringReporter, Derived, External, Map, ReportFormatter, Reporter, Term};

use pep440_rs::Version;

use crate::candidates::{Reject, Unusable};
use crate::requirements::Spec;
use crate::solve::{self, Note, Pkg, VS};
use crate::source::FileKind;

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

/// At most this many lines of derivation are printed.
pub const MAX_LINES: usize = 40;

pub fn fmt_range(r: &VS) -> String {
    let parts: Vec<String> = r
        .iter()
        .map(|seg| match seg {
            (Bound::Unbounded, Bound::Unbounded) => "*".to_string(),
            (Bound::Included(a), Bound::Included(b)) if a == b => format!("=={a}"),
            (lo, hi) => {
                let lo = match lo {
                    Bound::Included(v) => Some(format!(">={v}")),
                    Bound::Excluded(v) => Some(format!(">{v}")),
                    Bound::Unbounded => None,
                };
                let hi = match hi {
                    Bound::Included(v) => Some(format!("<={v}")),
                    Bound::Excluded(v) => Some(format!("<{v}")),
                    Bound::Unbounded => None,
                };
                lo.into_iter().chain(hi).collect::<Vec<_>>().join(", ")
            }
        })
        .collect();
    if parts.is_empty() {
        "(no matching version)".into()
    } else {
        parts.join(" | ")
    }
}

/// Describes a set over the versions the database has for a package: PubGrub's sets are
/// unions of candidate runs, whose raw bounds read badly ("<0.0.0 | >0.0.0, <0.1.1 | ...").
fn describe(r: &VS, versions: &[Version]) -> Option<String> {
    if versions.is_empty() {
        return None;
    }
    let member: Vec<bool> = versions.iter().map(|v| r.contains(v)).collect();
    let k = member.iter().filter(|&&m| m).count();
    if k == versions.len() {
        return Some(String::new());
    }
    if k == 0 {
        return Some("(no matching version)".into());
    }
    let mut runs = Vec::new();
    let mut i = 0;
    while i < member.len() {
        if member[i] {
            let start = i;
            while i < member.len() && member[i] {
                i += 1;
            }
            runs.push((start, i - 1));
        } else {
            i += 1;
        }
    }
    let last = versions.len() - 1;
    if runs.len() <= 2 {
        let parts: Vec<String> = runs
            .iter()
            .map(|&(a, b)| match (a, b) {
                _ if a == b => format!("=={}", versions[a]),
                (0, b) => format!("<={}", versions[b]),
                (a, b) if b == last => format!(">={}", versions[a]),
                (a, b) => format!(">={}, <={}", versions[a], versions[b]),
            })
            .collect();
        return Some(parts.join(" | "));
    }
    let excluded: Vec<String> = versions
        .iter()
        .zip(&member)
        .filter(|(_, m)| !**m)
        .map(|(v, _)| format!("!={v}"))
        .collect();
    if excluded.len() <= 3 {
        return Some(excluded.join(", "));
    }
    let newest: Vec<String> = versions
        .iter()
        .zip(&member)
        .rev()
        .filter(|(_, m)| **m)
        .take(3)
        .map(|(v, _)| v.to_string())
        .collect();
    let more = if k > newest.len() { ", ..." } else { "" };
    Some(format!("({k} versions: {}{more})", newest.join(", ")))
}

/// pinion's wording; `versions` holds, per project, the versions the database has (ascending).
struct Wording<'a> {
    versions: &'a BTreeMap<String, Vec<Version>>,
}

impl Wording<'_> {
    fn pkg_range(&self, p: &Pkg, r: &VS) -> String {
        let known = match p {
            Pkg::Root => None,
            Pkg::Base(n) | Pkg::Extra(n, _) => self.versions.get(&**n),
        };
        let text = match known.and_then(|v| describe(r, v)) {
            Some(t) => t,
            None if *r == VS::full() => String::new(),
            None => fmt_range(r),
        };
        if text.is_empty() {
            p.to_string()
        } else {
            format!("{p} {text}")
        }
    }
}

impl ReportFormatter<Pkg, VS, Infallible> for Wording<'_> {
    type Output = String;

    fn format_external(&self, external: &External<Pkg, VS, Infallible>) -> String {
        match external {
            External::NotRoot(p, _) => format!("we are solving {p}"),
            External::NoVersions(p, r) => {
                if *r == VS::full() {
                    format!("there is no usable version of {p}")
                } else {
                    format!("there is no usable version of {}", self.pkg_range(p, r))
                }
            }
            External::FromDependencyOf(Pkg::Root, _, dep, r) => {
                format!("you require {}", self.pkg_range(dep, r))
            }
            External::FromDependencyOf(p, rp, dep, rd) => {
                format!(
                    "{} depends on {}",
                    self.pkg_range(p, rp),
                    self.pkg_range(dep, rd)
                )
            }
            External::Custom(_, _, m) => match *m {},
        }
    }

    fn format_terms(&self, terms: &Map<Pkg, Term<VS>>) -> String {
        let mut v: Vec<(&Pkg, &Term<VS>)> = terms.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        match v.as_slice() {
            [] => "version solving failed".into(),
            [(Pkg::Root, Term::Positive(_))] => {
                "your requirements cannot be satisfied together".into()
            }
            [(p, Term::Positive(r))] => format!("{} cannot be used", self.pkg_range(p, r)),
            [(p, Term::Negative(r))] => format!("{} is required", self.pkg_range(p, r)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            slice => {
                let parts: Vec<String> = slice
                    .iter()
                    .map(|(p, t)| match t {
                        Term::Positive(r) => self.pkg_range(p, r),
                        Term::Negative(r) => format!("not {}", self.pkg_range(p, r)),
                    })
                    .collect();
                format!("{} are incompatible", parts.join(", "))
            }
        }
    }

    fn explain_both_external(
        &self,
        e1: &External<Pkg, VS, Infallible>,
        e2: &External<Pkg, VS, Infallible>,
        terms: &Map<Pkg, Term<VS>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(e1),
            self.format_external(e2),
            self.format_terms(terms)
        )
    }

    fn explain_both_ref(
        &self,
        id1: usize,
        d1: &Derived<Pkg, VS, Infallible>,
        id2: usize,
        d2: &Derived<Pkg, VS, Infallible>,
        terms: &Map<Pkg, Term<VS>>,
    ) -> String {
        format!(
            "Because {} ({id1}) and {} ({id2}), {}.",
            self.format_terms(&d1.terms),
            self.format_terms(&d2.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        id: usize,
        d: &Derived<Pkg, VS, Infallible>,
        e: &External<Pkg, VS, Infallible>,
        terms: &Map<Pkg, Term<VS>>,
    ) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&d.terms),
            self.format_external(e),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(
        &self,
        e: &External<Pkg, VS, Infallible>,
        terms: &Map<Pkg, Term<VS>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(e),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(
        &self,
        id: usize,
        d: &Derived<Pkg, VS, Infallible>,
        terms: &Map<Pkg, Term<VS>>,
    ) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&d.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior: &External<Pkg, VS, Infallible>,
        e: &External<Pkg, VS, Infallible>,
        terms: &Map<Pkg, Term<VS>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(e),
            self.format_terms(terms)
        )
    }
}

/// Renders a PubGrub failure. "No versions" facts are folded into the dependencies that led
/// to them (shorter, like uv), except when that would leave a bare fact with no "because".
pub fn derivation(tree: &solve::Tree, versions: &BTreeMap<String, Vec<Version>>) -> String {
    let wording = Wording { versions };
    let mut collapsed = tree.clone();
    collapsed.collapse_no_versions();
    let chosen = if matches!(collapsed, pubgrub::DerivationTree::External(_)) {
        tree
    } else {
        &collapsed
    };
    match chosen {
        // A single fact: PubGrub's reporter would print it without a conclusion.
        pubgrub::DerivationTree::External(e) => format!(
            "Because {}, your requirements cannot be satisfied.",
            wording.format_external(e)
        ),
        pubgrub::DerivationTree::Derived(_) => {
            DefaultStringReporter::report_with_formatter(chosen, &wording)
        }
    }
}

/// Caps `text` at `MAX_LINES` lines, saying how many were left out.
pub fn truncate(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= MAX_LINES {
        return text.trim_end().to_string();
    }
    format!(
        "{}\n... {} more lines",
        lines[..MAX_LINES].join("\n"),
        lines.len() - MAX_LINES
    )
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
    fn ranges_read_like_specifiers() {
        let v = |s: &str| s.parse::<pep440_rs::Version>().unwrap();
        assert_eq!(fmt_range(&VS::singleton(v("1.0"))), "==1.0");
        assert_eq!(
            fmt_range(&VS::from_range_bounds(v("1.0")..v("2.0"))),
            ">=1.0, <2.0"
        );
        assert_eq!(fmt_range(&VS::empty()), "(no matching version)");
        assert_eq!(
            fmt_range(&VS::singleton(v("1")).union(&VS::higher_than(v("3")))),
            "==1 | >=3"
        );
    }

    #[test]
    fn sets_described_over_known_versions() {
        let vs: Vec<Version> = ["0.1", "0.2", "1.0", "1.1", "2.0", "2.1", "3.0"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let set = |idx: &[usize]| {
            idx.iter().fold(VS::empty(), |acc, &i| {
                acc.union(&VS::singleton(vs[i].clone()))
            })
        };
        assert_eq!(describe(&set(&[0, 1, 2, 3, 4, 5, 6]), &vs).unwrap(), "");
        assert_eq!(describe(&set(&[]), &vs).unwrap(), "(no matching version)");
        assert_eq!(describe(&set(&[2]), &vs).unwrap(), "==1.0");
        assert_eq!(describe(&set(&[0, 1, 2]), &vs).unwrap(), "<=1.0");
        assert_eq!(describe(&set(&[4, 5, 6]), &vs).unwrap(), ">=2.0");
        assert_eq!(
            describe(&set(&[2, 3, 5]), &vs).unwrap(),
            ">=1.0, <=1.1 | ==2.1"
        );
        assert_eq!(
            describe(&set(&[0, 2, 4, 5, 6]), &vs).unwrap(),
            "!=0.2, !=1.1"
        );
        assert_eq!(
            describe(&set(&[0, 2, 4, 6]), &vs).unwrap(),
            "!=0.2, !=1.1, !=2.1"
        );
        assert_eq!(
            describe(&set(&[0, 2, 4]), &vs).unwrap(),
            "(3 versions: 2.0, 1.0, 0.1)"
        );
        let many: Vec<Version> = (0..10).map(|i| Version::new([i])).collect();
        let odd = (0..10).filter(|i| i % 2 == 1).fold(VS::empty(), |acc, i| {
            acc.union(&VS::singleton(Version::new([i])))
        });
        assert_eq!(describe(&odd, &many).unwrap(), "(5 versions: 9, 7, 5, ...)");
        assert_eq!(describe(&set(&[1]), &[]), None);
    }

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
    fn spelling_and_truncation() {
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
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = truncate(&long);
        assert_eq!(t.lines().count(), MAX_LINES + 1);
        assert!(t.ends_with("... 60 more lines"));
    }
}
