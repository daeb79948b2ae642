//! Distribution filenames: wheels (PEP 427/491, compressed tag sets) and sdists (PEP 625 and
//! the legacy `name-version.ext` forms still common on PyPI).

use crate::name::{ProjectName, normalize_unchecked};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilenameError {
    #[error("{0:?} is not a wheel filename: expected name-version[-build]-python-abi-platform.whl")]
    BadWheel(String),
    #[error(
        "{0:?} is not an sdist filename of project {1:?}: expected {1}-VERSION.tar.gz (or .zip)"
    )]
    BadSdist(String, String),
}

/// A parsed wheel filename. Tag sets keep the order in which they were written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelFilename {
    pub name: String,
    pub version: String,
    pub build: Option<String>,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
}

impl WheelFilename {
    pub fn parse(filename: &str) -> Result<Self, FilenameError> {
        let bad = || FilenameError::BadWheel(filename.to_string());
        let stem = filename.strip_suffix(".whl").ok_or_else(bad)?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts.as_slice() {
            [n, v, p, a, pl] => (*n, *v, None, *p, *a, *pl),
            [n, v, b, p, a, pl] => (*n, *v, Some(*b), *p, *a, *pl),
            _ => return Err(bad()),
        };
        if [name, version, py, abi, plat].iter().any(|s| s.is_empty()) {
            return Err(bad());
        }
        if let Some(b) = build
            && !b.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let split = |s: &str| -> Result<Vec<String>, FilenameError> {
            let v: Vec<String> = s.split('.').map(str::to_string).collect();
            if v.iter().any(String::is_empty) {
                Err(bad())
            } else {
                Ok(v)
            }
        };
        Ok(WheelFilename {
            name: name.to_string(),
            version: version.to_string(),
            build: build.map(str::to_string),
            python_tags: split(py)?,
            abi_tags: split(abi)?,
            platform_tags: split(plat)?,
        })
    }

    /// Every `python-abi-platform` triple this wheel claims, in filename order.
    pub fn tag_triples(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.python_tags.iter().flat_map(move |p| {
            self.abi_tags.iter().flat_map(move |a| {
                self.platform_tags
                    .iter()
                    .map(move |pl| (p.as_str(), a.as_str(), pl.as_str()))
            })
        })
    }
}

/// A parsed sdist filename.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdistFilename {
    pub name: String,
    pub version: String,
    pub extension: &'static str,
}

const SDIST_EXTENSIONS: [&str; 7] = [
    ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tbz", ".tar",
];

impl SdistFilename {
    /// Legacy sdist names are ambiguous (`foo-bar-1.0.tar.gz`), so the project's name decides
    /// where the version starts; when no prefix matches, the last `-` before a digit does.
    pub fn parse(filename: &str, project: &ProjectName) -> Result<Self, FilenameError> {
        let bad = || FilenameError::BadSdist(filename.to_string(), project.to_string());
        let (stem, extension) = SDIST_EXTENSIONS
            .iter()
            .find_map(|ext| filename.strip_suffix(ext).map(|s| (s, *ext)))
            .ok_or_else(bad)?;
        let dashes: Vec<usize> = stem.match_indices('-').map(|(i, _)| i).collect();
        let by_name = dashes
            .iter()
            .copied()
            .find(|&i| normalize_unchecked(&stem[..i]) == project.as_str());
        let at = by_name
            .or_else(|| {
                dashes
                    .iter()
                    .rev()
                    .copied()
                    .find(|&i| stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
            })
            .ok_or_else(bad)?;
        let (name, version) = (&stem[..at], &stem[at + 1..]);
        if name.is_empty() || version.is_empty() {
            return Err(bad());
        }
        Ok(SdistFilename {
            name: name.to_string(),
            version: version.to_string(),
            extension,
        })
    }
}

/// What kind of distribution a file on an index is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DistFilename {
    Wheel(WheelFilename),
    Sdist(SdistFilename),
    /// Eggs, Windows installers, RPMs and anything else pinion does not install.
    Other,
}

/// Classifies a filename listed on `project`'s index page. Malformed wheel or sdist names
/// are errors (the caller records them); unknown kinds are `Other`.
pub fn classify_filename(
    filename: &str,
    project: &ProjectName,
) -> Result<DistFilename, FilenameError> {
    if filename.ends_with(".whl") {
        return WheelFilename::parse(filename).map(DistFilename::Wheel);
    }
    if SDIST_EXTENSIONS.iter().any(|e| filename.ends_with(e)) {
        return SdistFilename::parse(filename, project).map(DistFilename::Sdist);
    }
    Ok(DistFilename::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_with_compressed_tags() {
        let w = WheelFilename::parse(
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name, "numpy");
        assert_eq!(w.version, "1.26.4");
        assert_eq!(
            w.platform_tags,
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
        assert_eq!(w.tag_triples().count(), 2);
        let b = WheelFilename::parse("foo-1.0-1build-py2.py3-none-any.whl").unwrap();
        assert_eq!(b.build.as_deref(), Some("1build"));
        assert_eq!(b.python_tags, ["py2", "py3"]);
    }

    #[test]
    fn bad_wheels() {
        for f in [
            "foo.whl",
            "foo-1.0-py3-none.whl",
            "foo-1.0-x-py3-none-any.whl",
            "foo-1.0-py3..x-none-any.whl",
        ] {
            assert!(WheelFilename::parse(f).is_err(), "{f}");
        }
    }

    #[test]
    fn sdists() {
        let p = ProjectName::new("foo-bar").unwrap();
        let s = SdistFilename::parse("foo_bar-1.0-2.tar.gz", &p).unwrap();
        assert_eq!((s.name.as_str(), s.version.as_str()), ("foo_bar", "1.0-2"));
        let s = SdistFilename::parse("Foo-Bar-2.0rc1.zip", &p).unwrap();
        assert_eq!(s.version, "2.0rc1");
        let other = ProjectName::new("zzz").unwrap();
        let s = SdistFilename::parse("renamed-thing-3.1.tar.gz", &other).unwrap();
        assert_eq!(s.version, "3.1");
        assert!(SdistFilename::parse("nothing.tar.gz", &other).is_err());
        assert_eq!(
            classify_filename("x-1.0.exe", &other),
            Ok(DistFilename::Other)
        );
        assert_eq!(
            classify_filename("x-1.0-py2.7.egg", &other),
            Ok(DistFilename::Other)
        );
    }
}
