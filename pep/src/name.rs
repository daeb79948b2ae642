//! PEP 503 project-name normalization as a newtype: once a `ProjectName` exists it is
//! normalized, so comparisons and lookups never need to re-normalize.

use std::fmt;

/// A PEP 503 normalized project name: lowercase ASCII letters, digits, and single `-`
/// separators, never starting or ending with a separator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("empty project name")]
    Empty,
    #[error(
        "project name {0:?} contains {1:?}; names may contain only ASCII letters, digits, '.', '-' and '_'"
    )]
    BadChar(String, char),
    #[error("project name {0:?} must start and end with a letter or digit")]
    BadEdge(String),
}

impl ProjectName {
    /// Normalizes any valid spelling (`Foo.Bar`, `foo__bar`, `FOO-bar`) to `foo-bar`.
    pub fn new(raw: &str) -> Result<Self, NameError> {
        let raw_trim = raw.trim();
        if raw_trim.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some(c) = raw_trim
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(NameError::BadChar(raw.to_string(), c));
        }
        let first = raw_trim.as_bytes()[0];
        let last = raw_trim.as_bytes()[raw_trim.len() - 1];
        if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
            return Err(NameError::BadEdge(raw.to_string()));
        }
        Ok(ProjectName(normalize_unchecked(raw_trim)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Lowercases and collapses runs of `.`, `-`, `_` into one `-`. Used by lookups that must
/// accept any spelling, including ones that would fail validation.
pub(crate) fn normalize_unchecked(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut sep = false;
    for c in raw.chars() {
        if matches!(c, '.' | '-' | '_') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProjectName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ProjectName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProjectName::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_pep503_examples() {
        for raw in [
            "friendly-bard",
            "Friendly-Bard",
            "FRIENDLY-BARD",
            "friendly.bard",
            "friendly_bard",
            "friendly--bard",
            "FrIeNdLy-._.-bArD",
        ] {
            assert_eq!(
                ProjectName::new(raw).unwrap().as_str(),
                "friendly-bard",
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(ProjectName::new(""), Err(NameError::Empty));
        assert!(matches!(
            ProjectName::new("foo-"),
            Err(NameError::BadEdge(_))
        ));
        assert!(matches!(
            ProjectName::new("_foo"),
            Err(NameError::BadEdge(_))
        ));
        assert!(matches!(
            ProjectName::new("fo o"),
            Err(NameError::BadChar(_, ' '))
        ));
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(raw in "[A-Za-z0-9][A-Za-z0-9._-]{0,20}[A-Za-z0-9]") {
            let once = ProjectName::new(&raw).unwrap();
            let twice = ProjectName::new(once.as_str()).unwrap();
            prop_assert_eq!(once, twice);
        }
    }
}
