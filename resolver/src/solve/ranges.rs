//! A requirement as a PubGrub version set: the candidates (ascending) that match its specifiers
//! and the user's constraints, grouped into runs of consecutive candidates. Matching uses
//! `VersionSpecifier::contains` only, with binary search where an operator is monotone.

use std::ops::Bound;
use std::sync::Arc;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};

use super::{Solver, VS};
use crate::candidates::Candidate;
use crate::source::PackageSource;

impl<I: PackageSource> Solver<'_, I> {
    /// The candidate versions of `name` that satisfy `specifiers` and the user's constraints,
    /// as a range (pre-release policy is applied in `choose_version`). Cached: many releases
    /// of a package repeat the same requirement, and matching walks every candidate.
    pub(super) fn range_for(&self, name: &str, specifiers: &VersionSpecifiers) -> VS {
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
            self.note_no_match(name, specifiers);
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
}

/// Which candidates (ascending) satisfy all `specs`. `>=` and `<=` are plain comparisons (local
/// labels aside, which sort next to their version), so they select a suffix / prefix of the
/// sorted candidates, found by binary search. `>V` and `<V` exclude post-/pre-releases by
/// *release segment* (`>1.0a1` rejects `1.0.post1`), which is only monotone when V is a final
/// release — the usual case (`<2`); otherwise they, like the other operators, are checked one
/// by one.
pub(super) fn matching<'s>(
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
