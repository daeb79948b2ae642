//! Turns one project's releases into candidate versions for the target and decides, per
//! release and only when the solver asks (usually for the newest few), the first allowed
//! provider that offers it (best-ranked compatible wheel, an sdist, or nixpkgs at that exact
//! version) after the file filters (requires-python, yanked, --exclude-newer, --hash).
//! Releases nobody offers stay in the list so error messages can say why a version that
//! exists was not usable.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::providers::{NixpkgsEntry, Provider};
use crate::source::{FileId, FileInfo, FileKind, ProjectInfo, ReleaseId};
use crate::target::Target;

/// Who supplies a candidate: a file of the project, or nixpkgs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    Wheel(FileId),
    Sdist(FileId),
    /// `release` is the DB release with the same version, whose metadata gives the dependencies.
    Nixpkgs {
        release: Option<ReleaseId>,
    },
}

impl Offer {
    pub fn provider(self) -> Provider {
        match self {
            Offer::Wheel(_) => Provider::Wheel,
            Offer::Sdist(_) => Provider::Sdist,
            Offer::Nixpkgs { .. } => Provider::Nixpkgs,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Candidate {
    pub version: Version,
    pub version_str: String,
    /// The DB release, `None` for a nixpkgs version the DB does not have.
    pub release: Option<ReleaseId>,
    /// nixpkgs has exactly this version.
    pub nix_here: bool,
    pub prerelease: bool,
    /// Filled on first use by `Solver::offer`.
    pub offer: OnceCell<Option<Offer>>,
}

/// A project's candidates, ascending by version.
#[derive(Clone, Debug)]
pub struct Candidates {
    pub display_name: String,
    /// The project is in the index (not only in nixpkgs).
    pub in_index: bool,
    pub list: Vec<Candidate>,
}

/// Everything that decides which files are usable, shared by all projects.
pub struct FileFilter<'a> {
    pub target: &'a Target,
    pub exclude_newer: Option<i64>,
    requires_python_ok: std::cell::RefCell<HashMap<String, bool>>,
}

/// Why a file filter rejects a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    Yanked,
    /// Uploaded after `--exclude-newer`.
    Newer,
    /// Its `Requires-Python` excludes the target.
    Python,
    /// Not among the user's `--hash` digests.
    Hash,
}

/// Why one file of a release offers nothing (worded by `crate::report`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// The release has no files at all.
    NoFiles,
    /// Files of this kind are not among the project's providers.
    NotAllowed {
        kind: FileKind,
        providers: Vec<Provider>,
    },
    /// A file filter rejects the file; `requires_python` is the file's.
    Rejected {
        kind: FileKind,
        reject: Reject,
        requires_python: Option<String>,
    },
    /// No tag of the wheel is compatible with the target (as `Target` displays).
    IncompatibleWheel { target: String },
}

/// Per-project choices coming from the user: providers, allowed hashes, yanked pins.
pub struct ProjectPolicy<'a> {
    pub providers: &'a [Provider],
    pub nixpkgs: Option<&'a NixpkgsEntry>,
    /// Non-empty = only files with one of these sha256 digests (hex) are usable.
    pub hashes: Option<&'a BTreeSet<String>>,
    /// Versions pinned with `==`/`===` by the user: their yanked files are usable.
    pub pinned: &'a [Version],
}

impl<'a> FileFilter<'a> {
    pub fn new(target: &'a Target, exclude_newer: Option<i64>) -> Self {
        FileFilter {
            target,
            exclude_newer,
            requires_python_ok: Default::default(),
        }
    }

    fn python_ok(&self, requires_python: Option<&str>) -> bool {
        let Some(rp) = requires_python else {
            return true;
        };
        if let Some(&ok) = self.requires_python_ok.borrow().get(rp) {
            return ok;
        }
        // pip ignores an invalid Requires-Python instead of rejecting the file; so do we.
        let ok = VersionSpecifiers::from_str(rp)
            .map(|s| s.contains(&self.target.python))
            .unwrap_or(true);
        self.requires_python_ok
            .borrow_mut()
            .insert(rp.to_string(), ok);
        ok
    }

    /// Why a file cannot be used, or `None` if it can (tags are checked separately).
    fn reject(&self, f: &FileInfo, policy: &ProjectPolicy, pinned: bool) -> Option<Reject> {
        if f.yanked && !pinned {
            return Some(Reject::Yanked);
        }
        if let (Some(limit), Some(t)) = (self.exclude_newer, f.upload_time)
            && t > limit
        {
            return Some(Reject::Newer);
        }
        if !self.python_ok(f.requires_python.as_deref()) {
            return Some(Reject::Python);
        }
        if let Some(h) = policy.hashes
            && !h.contains(&hex(&f.sha256))
        {
            return Some(Reject::Hash);
        }
        None
    }

    /// The best-ranked usable wheel's position in `files`.
    fn best_wheel(
        &self,
        files: &[FileInfo],
        policy: &ProjectPolicy,
        pinned: bool,
    ) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (i, f) in files.iter().enumerate() {
            if f.kind != FileKind::Wheel || self.reject(f, policy, pinned).is_some() {
                continue;
            }
            let rank = f
                .python_tags
                .iter()
                .flat_map(|p| {
                    f.abi_tags
                        .iter()
                        .flat_map(move |a| f.platform_tags.iter().map(move |pl| (p, a, pl)))
                })
                .filter_map(|(p, a, pl)| self.target.tag_rank(p, a, pl))
                .min();
            if let Some(rank) = rank
                && best.is_none_or(|(r, bi)| {
                    rank < r || (rank == r && f.filename < files[bi].filename)
                })
            {
                best = Some((rank, i));
            }
        }
        best.map(|(_, i)| i)
    }

    fn first_sdist(
        &self,
        files: &[FileInfo],
        policy: &ProjectPolicy,
        pinned: bool,
    ) -> Option<usize> {
        // `.tar.gz` is what PyPI has required since 2020 and what nixpkgs fetchers expect.
        let usable = |i: &usize| {
            files[*i].kind == FileKind::Sdist && self.reject(&files[*i], policy, pinned).is_none()
        };
        let mut idx: Vec<usize> = (0..files.len()).filter(usable).collect();
        idx.sort_by_key(|&i| {
            (
                !files[i].filename.ends_with(".tar.gz"),
                files[i].filename.clone(),
            )
        });
        idx.first().copied()
    }

    /// Builds the candidate list of a project (or of a nixpkgs-only package when `info` is
    /// None); offers are decided later by [`FileFilter::offer`].
    pub fn candidates(
        &self,
        info: Option<ProjectInfo>,
        display_name: String,
        policy: &ProjectPolicy,
    ) -> Candidates {
        let mut list = Vec::new();
        let mut nix_matched = false;
        let in_index = info.is_some();
        for (ri, v) in info.iter().flat_map(|i| i.versions.iter().enumerate()) {
            // Unparsable historical versions (e.g. `2004d`) can never satisfy a specifier.
            let Ok(version) = Version::from_str(v) else {
                continue;
            };
            let nix_here = policy.nixpkgs.is_some_and(|n| n.version == version);
            nix_matched |= nix_here;
            list.push(Candidate {
                prerelease: version.any_prerelease(),
                version,
                version_str: v.clone(),
                release: Some(ReleaseId::new(ri)),
                nix_here,
                offer: OnceCell::new(),
            });
        }
        if let Some(n) = policy.nixpkgs
            && !nix_matched
            && policy.providers.contains(&Provider::Nixpkgs)
            && policy.hashes.is_none()
        {
            list.push(Candidate {
                prerelease: n.version.any_prerelease(),
                version: n.version.clone(),
                version_str: n.version.to_string(),
                release: None,
                nix_here: true,
                offer: OnceCell::from(Some(Offer::Nixpkgs { release: None })),
            });
        }
        // Stable sort: of two spellings of one version (`1.0`, `1.0.0`) the newer-listed
        // release stays, so the solver sees each version once.
        list.sort_by(|a, b| a.version.cmp(&b.version));
        list.dedup_by(|later, earlier| later.version == earlier.version);
        Candidates {
            display_name,
            in_index,
            list,
        }
    }

    /// The first provider in the package's list that offers release `release` (its `files`).
    pub fn offer(
        &self,
        files: &[FileInfo],
        release: ReleaseId,
        cand: &Candidate,
        policy: &ProjectPolicy,
    ) -> Option<Offer> {
        let file = |position| FileId { release, position };
        let pinned = policy.pinned.contains(&cand.version);
        policy.providers.iter().find_map(|p| match p {
            Provider::Wheel => self
                .best_wheel(files, policy, pinned)
                .map(|p| Offer::Wheel(file(p))),
            Provider::Sdist => self
                .first_sdist(files, policy, pinned)
                .map(|p| Offer::Sdist(file(p))),
            Provider::Nixpkgs => {
                (cand.nix_here && policy.hashes.is_none()).then_some(Offer::Nixpkgs {
                    release: Some(release),
                })
            }
        })
    }

    /// Why a release with these `files` offers nothing, per file (for error hints).
    pub fn why_unusable(&self, files: &[FileInfo], policy: &ProjectPolicy) -> Vec<Unusable> {
        if files.is_empty() {
            return vec![Unusable::NoFiles];
        }
        let mut reasons = Vec::new();
        for f in files {
            let allowed = match f.kind {
                FileKind::Wheel => policy.providers.contains(&Provider::Wheel),
                FileKind::Sdist => policy.providers.contains(&Provider::Sdist),
            };
            if !allowed {
                reasons.push(Unusable::NotAllowed {
                    kind: f.kind,
                    providers: policy.providers.to_vec(),
                });
            } else if let Some(reject) = self.reject(f, policy, false) {
                reasons.push(Unusable::Rejected {
                    kind: f.kind,
                    reject,
                    requires_python: f.requires_python.clone(),
                });
            } else if f.kind == FileKind::Wheel {
                reasons.push(Unusable::IncompatibleWheel {
                    target: self.target.to_string(),
                });
            }
        }
        reasons
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::PackageSource;
    use crate::source::memory::MemorySource;
    use crate::source::scenario::{Scenario, sdist_file, wheel_file};

    fn policy<'a>(providers: &'a [Provider], nix: Option<&'a NixpkgsEntry>) -> ProjectPolicy<'a> {
        ProjectPolicy {
            providers,
            nixpkgs: nix,
            hashes: None,
            pinned: &[],
        }
    }

    fn index() -> MemorySource {
        let mut ix = Scenario::new();
        ix.add_file("foo", "1.0", wheel_file("foo", "1.0", "py3", "none", "any"));
        ix.add_file("foo", "1.0", sdist_file("foo", "1.0"));
        ix.add_file("foo", "2.0", sdist_file("foo", "2.0"));
        ix.add_file(
            "foo",
            "3.0",
            wheel_file(
                "foo",
                "3.0",
                "cp311",
                "cp311",
                "manylinux_2_17_x86_64.manylinux2014_x86_64",
            ),
        );
        ix.add_file(
            "foo",
            "3.0",
            wheel_file("foo", "3.0", "cp311", "cp311", "macosx_11_0_arm64"),
        );
        ix.add_file("foo", "3.0", wheel_file("foo", "3.0", "py3", "none", "any"));
        ix.memory()
    }

    /// The offer of every candidate (computing lazily-decided ones from the index).
    fn all_offers(
        f: &FileFilter,
        ix: &MemorySource,
        c: &Candidates,
        p: &ProjectPolicy,
    ) -> Vec<Option<Offer>> {
        c.list
            .iter()
            .map(|c| {
                *c.offer.get_or_init(|| {
                    c.release
                        .and_then(|r| f.offer(&ix.files("foo", r), r, c, p))
                })
            })
            .collect()
    }

    fn offers(
        system: &str,
        providers: &[Provider],
        nix: Option<&NixpkgsEntry>,
    ) -> Vec<(String, Option<String>)> {
        let ix = index();
        let t = Target::new("3.11.7", system, None, None).unwrap();
        let f = FileFilter::new(&t, None);
        let info = ix.project("foo").unwrap();
        let p = policy(providers, nix);
        let c = f.candidates(Some(info), "foo".into(), &p);
        let offers = all_offers(&f, &ix, &c, &p);
        c.list
            .iter()
            .zip(offers)
            .map(|(c, o)| {
                let what = o.map(|o| match o {
                    Offer::Wheel(file) | Offer::Sdist(file) => ix.files("foo", file.release)
                        [file.position]
                        .filename
                        .clone(),
                    Offer::Nixpkgs { release } => {
                        format!("nixpkgs(release {:?})", release.map(ReleaseId::position))
                    }
                });
                (c.version_str.clone(), what)
            })
            .collect()
    }

    #[test]
    fn provider_order_and_tags() {
        use Provider::*;
        let got = offers("x86_64-linux", &[Wheel, Sdist, Nixpkgs], None);
        assert_eq!(
            got[0],
            ("1.0".into(), Some("foo-1.0-py3-none-any.whl".into()))
        );
        assert_eq!(got[1], ("2.0".into(), Some("foo-2.0.tar.gz".into())));
        assert_eq!(
            got[2],
            (
                "3.0".into(),
                Some("foo-3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl".into())
            )
        );
        let got = offers("aarch64-darwin", &[Wheel], None);
        assert_eq!(got[1].1, None, "2.0 has only an sdist");
        assert_eq!(
            got[2].1.as_deref(),
            Some("foo-3.0-cp311-cp311-macosx_11_0_arm64.whl")
        );
        let got = offers("x86_64-linux", &[Sdist, Wheel], None);
        assert_eq!(got[0].1.as_deref(), Some("foo-1.0.tar.gz"));
        assert_eq!(
            got[2].1.as_deref(),
            Some("foo-3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
        );
    }

    #[test]
    fn nixpkgs_provider() {
        use Provider::*;
        let two = NixpkgsEntry {
            attr: "foo".into(),
            version: "2.0".parse().unwrap(),
        };
        let got = offers("x86_64-linux", &[Nixpkgs], Some(&two));
        assert_eq!(got.iter().filter(|(_, o)| o.is_some()).count(), 1);
        assert_eq!(
            got[1],
            ("2.0".into(), Some("nixpkgs(release Some(1))".into()))
        );
        let odd = NixpkgsEntry {
            attr: "foo".into(),
            version: "2.5".parse().unwrap(),
        };
        let got = offers("x86_64-linux", &[Nixpkgs, Wheel], Some(&odd));
        assert_eq!(got[2], ("2.5".into(), Some("nixpkgs(release None)".into())));
        assert_eq!(got.len(), 4);
        let got = offers("x86_64-linux", &[Wheel], Some(&two));
        assert_eq!(got[1].1, None, "nixpkgs not allowed");
    }

    #[test]
    fn file_filters() {
        let mut s = Scenario::new();
        let mut w = wheel_file("foo", "1.0", "py3", "none", "any");
        w.requires_python = Some(">=3.12".into());
        s.add_file("foo", "1.0", w);
        let mut w = wheel_file("foo", "2.0", "py3", "none", "any");
        w.yanked = true;
        s.add_file("foo", "2.0", w);
        let mut w = wheel_file("foo", "3.0", "py3", "none", "any");
        w.upload_time = Some(2_000_000_000);
        s.add_file("foo", "3.0", w);
        let ix = s.memory();
        let t = Target::new("3.11.7", "x86_64-linux", None, None).unwrap();
        let f = FileFilter::new(&t, Some(1_900_000_000));
        let info = ix.project("foo").unwrap();
        let providers = [Provider::Wheel];
        let p = policy(&providers, None);
        let c = f.candidates(Some(info.clone()), "foo".into(), &p);
        assert!(all_offers(&f, &ix, &c, &p).iter().all(Option::is_none));
        let rejected = |reject, requires_python: Option<&str>| {
            vec![Unusable::Rejected {
                kind: FileKind::Wheel,
                reject,
                requires_python: requires_python.map(str::to_string),
            }]
        };
        assert_eq!(
            f.why_unusable(&ix.files("foo", ReleaseId::new(0)), &p),
            rejected(Reject::Python, Some(">=3.12"))
        );
        assert_eq!(
            f.why_unusable(&ix.files("foo", ReleaseId::new(1)), &p),
            rejected(Reject::Yanked, None)
        );
        assert_eq!(
            f.why_unusable(&ix.files("foo", ReleaseId::new(2)), &p),
            rejected(Reject::Newer, None)
        );
        let pinned = ["2.0".parse().unwrap()];
        let p = ProjectPolicy {
            providers: &providers,
            nixpkgs: None,
            hashes: None,
            pinned: &pinned,
        };
        let c = f.candidates(Some(info.clone()), "foo".into(), &p);
        assert!(
            all_offers(&f, &ix, &c, &p)[1].is_some(),
            "yanked but pinned"
        );
        let hashes: BTreeSet<String> = [hex(&ix.files("foo", ReleaseId::new(2))[0].sha256)].into();
        let f = FileFilter::new(&t, None);
        let p = ProjectPolicy {
            providers: &providers,
            nixpkgs: None,
            hashes: Some(&hashes),
            pinned: &[],
        };
        let c = f.candidates(Some(info), "foo".into(), &p);
        let offered: Vec<bool> = all_offers(&f, &ix, &c, &p)
            .iter()
            .map(Option::is_some)
            .collect();
        assert_eq!(offered, [false, false, true]);
    }
}
