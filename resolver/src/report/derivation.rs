//! A PubGrub derivation tree in pinion's words: "you require", ranges described over the
//! versions the database has ("==1.0", "(3 versions: ...)"), "your requirements" for the root;
//! capped at `MAX_LINES` lines so a pathological conflict cannot flood the terminal.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::ops::Bound;

use pep440_rs::Version;
use pubgrub::{DefaultStringReporter, Derived, External, Map, ReportFormatter, Reporter, Term};

use crate::solve::{self, Pkg, VS};

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
    fn truncation() {
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = truncate(&long);
        assert_eq!(t.lines().count(), MAX_LINES + 1);
        assert!(t.ends_with("... 60 more lines"));
    }
}
