//! The environment a lock is made for: a CPython version on one Nix system. From it come the
//! PEP 508 marker environment and the ordered list of compatible wheel tags (the same order as
//! `packaging.tags.sys_tags()` for CPython), which ranks wheels.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

/// glibc of current nixpkgs releases (24.11 and 25.05 ship 2.40). A wheel built for a newer
/// glibc than the one it runs against fails at import time, so the default must not exceed
/// what the user's nixpkgs has; the Nix library can pass `stdenv.cc.libc.version` instead.
pub const DEFAULT_MANYLINUX_GLIBC: (u32, u32) = (2, 40);
/// macOS deployment targets nixpkgs builds for by default on each architecture.
pub const DEFAULT_MACOS_X86_64: (u32, u32) = (10, 12);
pub const DEFAULT_MACOS_ARM64: (u32, u32) = (11, 0);
/// Upper bound for each part of `--manylinux-glibc` / `--macos-target`: the tag list has one
/// entry per version up to the target's, so an unbounded part would size an unbounded
/// allocation (glibc is at 2.42 and macOS at 26 in 2025; 99 leaves decades of room).
pub const MAX_PLATFORM_VERSION_PART: u32 = 99;
/// Newest CPython minor release pinion's tag and marker rules were written against; a newer
/// one is resolved by extrapolation, with a warning.
pub const NEWEST_KNOWN_MINOR: u32 = 15;
/// Upper bound for the target's CPython minor version: the tag list has one entry per older
/// minor (`cp3N-abi3`, `py3N`), so this bounds its size.
pub const MAX_PYTHON_MINOR: u32 = 99;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Linux,
    Darwin,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "unsupported system {0:?}: expected x86_64-linux, aarch64-linux, x86_64-darwin or aarch64-darwin"
    )]
    System(String),
    #[error("invalid Python version {0:?}: expected X.Y.Z (e.g. 3.11.7)")]
    Python(String),
    #[error(
        "Python `{0}` is not supported: pinion resolves for CPython 3 only\nhint: pass the version of the CPython 3 interpreter the environment uses, e.g. `--python 3.12.8`"
    )]
    NotPython3(String),
    #[error(
        "invalid Python version `{value}`: CPython 3.{minor} does not exist (minor versions above {MAX_PYTHON_MINOR} are refused)"
    )]
    PythonMinorOutOfRange { value: String, minor: u32 },
    #[error("invalid {what} {value:?}: expected MAJOR.MINOR")]
    MajorMinor { what: &'static str, value: String },
    #[error(
        "invalid {what} `{value}`: each part must be at most {MAX_PLATFORM_VERSION_PART}\nhint: pass the target's real version, e.g. `2.40` for glibc or `11.0` for macOS"
    )]
    MajorMinorOutOfRange { what: &'static str, value: String },
}

/// A target: CPython `python` on `system`.
#[derive(Clone, Debug)]
pub struct Target {
    pub python: Version,
    pub python_full: String,
    pub major: u32,
    pub minor: u32,
    pub system: String,
    pub arch: Arch,
    pub os: Os,
    pub glibc: (u32, u32),
    pub macos: (u32, u32),
    pub markers: MarkerEnvironment,
    tag_rank: HashMap<String, usize>,
    warnings: Vec<String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CPython {} on {}", self.python_full, self.system)
    }
}

/// Parses `MAJOR.MINOR` for `--manylinux-glibc` / `--macos-target`.
pub fn parse_major_minor(what: &'static str, value: &str) -> Result<(u32, u32), TargetError> {
    let bad = || TargetError::MajorMinor {
        what,
        value: value.to_string(),
    };
    let (a, b) = value.split_once('.').ok_or_else(bad)?;
    let part = |p: &str| -> Result<u32, TargetError> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match p.parse::<u32>() {
            Ok(n) if n <= MAX_PLATFORM_VERSION_PART => Ok(n),
            _ => Err(TargetError::MajorMinorOutOfRange {
                what,
                value: value.to_string(),
            }),
        }
    };
    Ok((part(a)?, part(b)?))
}

impl Target {
    pub fn new(
        python: &str,
        system: &str,
        glibc: Option<(u32, u32)>,
        macos: Option<(u32, u32)>,
    ) -> Result<Self, TargetError> {
        let (arch, os) = match system {
            "x86_64-linux" => (Arch::X86_64, Os::Linux),
            "aarch64-linux" => (Arch::Aarch64, Os::Linux),
            "x86_64-darwin" => (Arch::X86_64, Os::Darwin),
            "aarch64-darwin" => (Arch::Aarch64, Os::Darwin),
            _ => return Err(TargetError::System(system.to_string())),
        };
        let bad = || TargetError::Python(python.to_string());
        // nixpkgs sometimes ships pre-releases ("3.13.0rc2"): the suffix is kept in
        // python_full_version and in the version requires-python is checked against.
        let (numeric, suffix) = match python.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
            Some(i) if ["a", "b", "rc"].iter().any(|p| python[i..].starts_with(p)) => {
                python.split_at(i)
            }
            Some(_) => return Err(bad()),
            None => (python, ""),
        };
        let parts: Vec<u32> = numeric
            .split('.')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let (major, minor, patch) = match parts.as_slice() {
            [a, b] if suffix.is_empty() => (*a, *b, 0),
            [a, b, c] => (*a, *b, *c),
            _ => return Err(bad()),
        };
        if major != 3 {
            return Err(TargetError::NotPython3(python.to_string()));
        }
        if minor > MAX_PYTHON_MINOR {
            return Err(TargetError::PythonMinorOutOfRange {
                value: python.to_string(),
                minor,
            });
        }
        let mut warnings = Vec::new();
        if minor > NEWEST_KNOWN_MINOR {
            warnings.push(format!(
                "Python `{python}`: CPython 3.{minor} is newer than any release this resolver knows (newest: 3.{NEWEST_KNOWN_MINOR}); wheel tags are extrapolated, check the version"
            ));
        }
        // Since 3.10 CPython makes pre-releases of X.Y.0 only, so "3.12.8rc1" is most likely a
        // typo, and requires-python would be checked against a version that never existed.
        if !suffix.is_empty() && patch != 0 && minor >= 10 {
            warnings.push(format!(
                "Python `{python}` is not a CPython release: pre-releases (a, b, rc) are made only of 3.{minor}.0; check the version"
            ));
        }
        let python_full = format!("{major}.{minor}.{patch}{suffix}");
        let python_short = format!("{major}.{minor}");
        let machine = match (arch, os) {
            (Arch::X86_64, _) => "x86_64",
            (Arch::Aarch64, Os::Linux) => "aarch64",
            (Arch::Aarch64, Os::Darwin) => "arm64",
        };
        let (sys_platform, platform_system) = match os {
            Os::Linux => ("linux", "Linux"),
            Os::Darwin => ("darwin", "Darwin"),
        };
        let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &python_full,
            os_name: "posix",
            platform_machine: machine,
            platform_python_implementation: "CPython",
            // Kernel release/version are unknowable for a Nix build; empty never matches a
            // comparison, which is what pip would do with an unrecognised value.
            platform_release: "",
            platform_system,
            platform_version: "",
            python_full_version: &python_full,
            python_version: &python_short,
            sys_platform,
        })
        .map_err(|_| bad())?;
        let glibc = glibc.unwrap_or(DEFAULT_MANYLINUX_GLIBC);
        let macos = macos.unwrap_or(match arch {
            Arch::X86_64 => DEFAULT_MACOS_X86_64,
            Arch::Aarch64 => DEFAULT_MACOS_ARM64,
        });
        let tags = compatible_tags(minor, &platform_tags(arch, os, glibc, macos));
        let tag_rank = tags.into_iter().enumerate().map(|(i, t)| (t, i)).collect();
        let python = Version::from_str(&python_full).map_err(|_| bad())?;
        Ok(Target {
            python,
            python_full,
            major,
            minor,
            system: system.to_string(),
            arch,
            os,
            glibc,
            macos,
            markers,
            tag_rank,
            warnings,
        })
    }

    /// Doubts about the target that do not stop a resolution (a CPython version newer than any
    /// known, a pre-release that was never made), for stderr.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Rank of a `python-abi-platform` tag (0 = best), `None` if the target cannot use it.
    pub fn tag_rank(&self, python: &str, abi: &str, platform: &str) -> Option<usize> {
        let mut key = String::with_capacity(python.len() + abi.len() + platform.len() + 2);
        key.push_str(python);
        key.push('-');
        key.push_str(abi);
        key.push('-');
        key.push_str(platform);
        self.tag_rank.get(&key).copied()
    }

    /// All compatible tags, best first (for tests and `--explain` style output).
    pub fn tags(&self) -> Vec<&str> {
        let mut v: Vec<(&str, usize)> = self
            .tag_rank
            .iter()
            .map(|(k, &r)| (k.as_str(), r))
            .collect();
        v.sort_by_key(|&(_, r)| r);
        v.into_iter().map(|(k, _)| k).collect()
    }
}

/// Platform tags, most specific first, like `packaging.tags.platform_tags()`.
fn platform_tags(arch: Arch, os: Os, glibc: (u32, u32), macos: (u32, u32)) -> Vec<String> {
    let mut out = Vec::new();
    match os {
        Os::Linux => {
            let a = match arch {
                Arch::X86_64 => "x86_64",
                Arch::Aarch64 => "aarch64",
            };
            // manylinux wheels for aarch64 start at glibc 2.17 (manylinux2014).
            let min_minor = match arch {
                Arch::X86_64 => 5,
                Arch::Aarch64 => 17,
            };
            if glibc.0 == 2 {
                for m in (min_minor..=glibc.1).rev() {
                    out.push(format!("manylinux_2_{m}_{a}"));
                    let legacy = match m {
                        17 => Some("manylinux2014"),
                        12 => Some("manylinux2010"),
                        5 => Some("manylinux1"),
                        _ => None,
                    };
                    if let Some(l) = legacy {
                        out.push(format!("{l}_{a}"));
                    }
                }
            }
            out.push(format!("linux_{a}"));
        }
        Os::Darwin => {
            let a = match arch {
                Arch::X86_64 => "x86_64",
                Arch::Aarch64 => "arm64",
            };
            let formats = |ver: (u32, u32)| -> Vec<&'static str> {
                match arch {
                    Arch::X86_64 if ver < (10, 4) => vec![],
                    Arch::X86_64 => vec![
                        "x86_64",
                        "intel",
                        "fat64",
                        "fat32",
                        "universal2",
                        "universal",
                    ],
                    Arch::Aarch64 => vec!["arm64", "universal2"],
                }
            };
            if macos.0 >= 11 {
                for major in (11..=macos.0).rev() {
                    for f in formats((major, 0)) {
                        out.push(format!("macosx_{major}_0_{f}"));
                    }
                }
                for minor in (4..=16).rev() {
                    match arch {
                        Arch::X86_64 => out.extend(
                            formats((10, minor))
                                .into_iter()
                                .map(|f| format!("macosx_10_{minor}_{f}")),
                        ),
                        Arch::Aarch64 => out.push(format!("macosx_10_{minor}_universal2")),
                    }
                }
            } else {
                for minor in (0..=macos.1).rev() {
                    out.extend(
                        formats((10, minor))
                            .into_iter()
                            .map(|f| format!("macosx_10_{minor}_{f}")),
                    );
                }
            }
            debug_assert!(!a.is_empty());
        }
    }
    out
}

/// CPython tags then generic ones, as `packaging.tags.cpython_tags` + `compatible_tags`.
fn compatible_tags(minor: u32, platforms: &[String]) -> Vec<String> {
    let cp = format!("cp3{minor}");
    let mut out = Vec::new();
    for abi in [cp.as_str(), "abi3", "none"] {
        for p in platforms {
            out.push(format!("{cp}-{abi}-{p}"));
        }
    }
    for m in (2..minor).rev() {
        for p in platforms {
            out.push(format!("cp3{m}-abi3-{p}"));
        }
    }
    let mut pys = vec![format!("py3{minor}"), "py3".to_string()];
    pys.extend((0..minor).rev().map(|m| format!("py3{m}")));
    for py in &pys {
        for p in platforms {
            out.push(format!("{py}-none-{p}"));
        }
    }
    out.push(format!("{cp}-none-any"));
    for py in &pys {
        out.push(format!("{py}-none-any"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(t: &Target, tag: &str) -> Option<usize> {
        let mut it = tag.splitn(3, '-');
        t.tag_rank(it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
    }

    #[test]
    fn linux_x86_64_tags() {
        let t = Target::new("3.11.7", "x86_64-linux", Some((2, 28)), None).unwrap();
        let tags = t.tags();
        assert_eq!(tags[0], "cp311-cp311-manylinux_2_28_x86_64");
        assert!(
            rank(&t, "cp311-cp311-manylinux_2_17_x86_64")
                < rank(&t, "cp311-cp311-manylinux2014_x86_64")
        );
        assert!(
            rank(&t, "cp311-cp311-manylinux2014_x86_64")
                < rank(&t, "cp311-cp311-manylinux1_x86_64")
        );
        assert!(
            rank(&t, "cp311-cp311-manylinux1_x86_64")
                < rank(&t, "cp311-abi3-manylinux_2_28_x86_64")
        );
        assert!(rank(&t, "cp38-abi3-manylinux2014_x86_64").is_some());
        assert!(rank(&t, "cp312-abi3-manylinux2014_x86_64").is_none());
        assert!(
            rank(&t, "cp311-cp311-manylinux_2_31_x86_64").is_none(),
            "newer glibc than target"
        );
        assert!(rank(&t, "cp311-cp311-musllinux_1_1_x86_64").is_none());
        assert!(rank(&t, "cp311-cp311-manylinux2014_aarch64").is_none());
        assert!(rank(&t, "cp310-cp310-manylinux2014_x86_64").is_none());
        assert!(rank(&t, "cp311-cp311-macosx_10_9_x86_64").is_none());
        assert!(rank(&t, "py3-none-any") < rank(&t, "py2.py3-none-any").or(Some(usize::MAX)));
        assert!(rank(&t, "cp311-none-any") < rank(&t, "py311-none-any"));
        assert!(rank(&t, "py311-none-any") < rank(&t, "py3-none-any"));
        assert!(rank(&t, "py3-none-manylinux1_x86_64") < rank(&t, "py3-none-any"));
        assert_eq!(*tags.last().unwrap(), "py30-none-any");
    }

    #[test]
    fn aarch64_linux_starts_at_2014() {
        let t = Target::new("3.12.1", "aarch64-linux", None, None).unwrap();
        assert_eq!(t.tags()[0], "cp312-cp312-manylinux_2_40_aarch64");
        assert!(rank(&t, "cp312-cp312-manylinux2014_aarch64").is_some());
        assert!(rank(&t, "cp312-cp312-manylinux_2_12_aarch64").is_none());
        assert!(rank(&t, "cp312-cp312-manylinux_2_17_x86_64").is_none());
    }

    #[test]
    fn darwin_tags() {
        let t = Target::new("3.11.7", "aarch64-darwin", None, None).unwrap();
        assert_eq!(t.tags()[0], "cp311-cp311-macosx_11_0_arm64");
        assert!(rank(&t, "cp311-cp311-macosx_11_0_universal2").is_some());
        assert!(rank(&t, "cp311-cp311-macosx_10_9_universal2").is_some());
        assert!(rank(&t, "cp311-cp311-macosx_10_9_x86_64").is_none());
        assert!(
            rank(&t, "cp311-cp311-macosx_12_0_arm64").is_none(),
            "newer than deployment target"
        );
        let t = Target::new("3.11.7", "aarch64-darwin", None, Some((14, 0))).unwrap();
        assert!(
            rank(&t, "cp311-cp311-macosx_12_0_arm64") < rank(&t, "cp311-cp311-macosx_11_0_arm64")
        );
        let t = Target::new("3.10.2", "x86_64-darwin", None, None).unwrap();
        assert_eq!(t.tags()[0], "cp310-cp310-macosx_10_12_x86_64");
        assert!(rank(&t, "cp310-cp310-macosx_10_9_x86_64").is_some());
        assert!(rank(&t, "cp310-cp310-macosx_10_9_intel").is_some());
        assert!(rank(&t, "cp310-cp310-macosx_10_13_x86_64").is_none());
        assert!(rank(&t, "cp310-cp310-macosx_11_0_arm64").is_none());
        assert!(rank(&t, "cp310-cp310-manylinux1_x86_64").is_none());
    }

    #[test]
    fn marker_environment() {
        let check = |system: &str, marker: &str, want: bool| {
            let t = Target::new("3.11.7", system, None, None).unwrap();
            let m = pep508_rs::MarkerTree::from_str(marker).unwrap();
            assert_eq!(m.evaluate(&t.markers, &[]), want, "{system}: {marker}");
        };
        check(
            "x86_64-linux",
            "sys_platform == 'linux' and platform_machine == 'x86_64' and os_name == 'posix'",
            true,
        );
        check(
            "x86_64-linux",
            "platform_system == 'Linux' and implementation_name == 'cpython'",
            true,
        );
        check(
            "x86_64-linux",
            "python_version >= '3.11' and python_full_version == '3.11.7'",
            true,
        );
        check("x86_64-linux", "python_version < '3.11'", false);
        check(
            "x86_64-linux",
            "platform_python_implementation == 'PyPy'",
            false,
        );
        check("x86_64-linux", "sys_platform == 'win32'", false);
        check("aarch64-linux", "platform_machine == 'aarch64'", true);
        check(
            "aarch64-darwin",
            "sys_platform == 'darwin' and platform_machine == 'arm64' and platform_system == 'Darwin'",
            true,
        );
        check("x86_64-darwin", "platform_machine == 'x86_64'", true);
    }

    #[test]
    fn bad_targets() {
        assert_eq!(
            Target::new("3.11.7", "x86_64-windows", None, None).unwrap_err(),
            TargetError::System("x86_64-windows".into())
        );
        assert!(matches!(
            Target::new("3", "x86_64-linux", None, None),
            Err(TargetError::Python(_))
        ));
        assert!(matches!(
            Target::new("2.7.18", "x86_64-linux", None, None),
            Err(TargetError::NotPython3(_))
        ));
        assert!(matches!(
            Target::new("3.x", "x86_64-linux", None, None),
            Err(TargetError::Python(_))
        ));
        let t = Target::new("3.12", "x86_64-linux", None, None).unwrap();
        assert_eq!(t.python_full, "3.12.0");
        let t = Target::new("3.13.0rc2", "x86_64-linux", None, None).unwrap();
        assert_eq!(t.python_full, "3.13.0rc2");
        assert!(t.python.any_prerelease());
        assert!(Target::new("3.13rc2", "x86_64-linux", None, None).is_err());
        assert!(Target::new("3.13.0+local", "x86_64-linux", None, None).is_err());
        assert_eq!(parse_major_minor("glibc", "2.31"), Ok((2, 31)));
        assert!(parse_major_minor("glibc", "2").is_err());
    }

    #[test]
    fn options_that_size_the_tag_list_are_bounded() {
        // Before: these built tag lists of billions of entries (12 GB in 30 s).
        for value in ["2.100000000", "4294967295.0", "100.0", "2.4294967296"] {
            let err = parse_major_minor("--manylinux-glibc", value).unwrap_err();
            assert!(
                matches!(err, TargetError::MajorMinorOutOfRange { .. }),
                "{value}: {err}"
            );
            assert!(err.to_string().contains("at most 99"), "{err}");
        }
        assert!(matches!(
            parse_major_minor("--macos-target", "2.+5"),
            Err(TargetError::MajorMinor { .. })
        ));
        assert_eq!(parse_major_minor("--macos-target", "99.99"), Ok((99, 99)));
        // The largest lists the bounds allow stay small.
        let t = Target::new("3.99.0", "x86_64-darwin", None, Some((10, 99))).unwrap();
        assert!(t.tags().len() < 200_000, "{}", t.tags().len());
        let t = Target::new("3.99.0", "x86_64-linux", Some((2, 99)), None).unwrap();
        assert!(t.tags().len() < 200_000, "{}", t.tags().len());
        assert!(matches!(
            Target::new("3.4000000000.1", "x86_64-linux", None, None),
            Err(TargetError::PythonMinorOutOfRange {
                minor: 4000000000,
                ..
            })
        ));
    }

    #[test]
    fn python_versions_that_do_not_exist_are_doubted() {
        let t = Target::new("3.99.1", "x86_64-linux", None, None).unwrap();
        assert_eq!(t.warnings().len(), 1);
        assert!(
            t.warnings()[0].contains("newer than any release"),
            "{:?}",
            t.warnings()
        );
        let t = Target::new("3.12.8rc1", "x86_64-linux", None, None).unwrap();
        assert_eq!(t.warnings().len(), 1);
        assert!(
            t.warnings()[0].contains("not a CPython release"),
            "{:?}",
            t.warnings()
        );
        for fine in ["3.12.8", "3.13.0rc2", "3.9.1rc1"] {
            let t = Target::new(fine, "x86_64-linux", None, None).unwrap();
            assert!(t.warnings().is_empty(), "{fine}: {:?}", t.warnings());
        }
        let err = Target::new("2.7", "x86_64-linux", None, None).unwrap_err();
        assert_eq!(err, TargetError::NotPython3("2.7".into()));
        assert!(err.to_string().contains("CPython 3 only"), "{err}");
    }
}
