//! A PEP 508 parser that is safe on hostile input.
//!
//! `pep508_rs` 0.9.2 panics on some malformed strings (`1. >= 1`, names ending in `.`, `-`
//! or `_`). Crawled metadata is hostile input, so we reject those shapes up front, then parse
//! under `catch_unwind` as a second line of defence, and report both as ordinary errors.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use pep508_rs::{Requirement, VerbatimUrl};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequirementError {
    #[error("invalid requirement {raw:?}: {message}")]
    Invalid { raw: String, message: String },
    #[error("requirement {0:?} is longer than {MAX_LEN} bytes")]
    TooLong(String),
    #[error("requirement {0:?} points at a URL; only index requirements are supported")]
    Url(String),
}

const MAX_LEN: usize = 4096;

/// Parses one requirement. URL requirements (`name @ https://...`) are rejected: an
/// offline index-based resolver cannot honour them.
pub fn parse_requirement(raw: &str) -> Result<Requirement<VerbatimUrl>, RequirementError> {
    let invalid = |message: &str| RequirementError::Invalid {
        raw: raw.to_string(),
        message: message.to_string(),
    };
    if raw.len() > MAX_LEN {
        return Err(RequirementError::TooLong(raw.chars().take(60).collect()));
    }
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid("empty"));
    }
    if text.contains('\0') {
        return Err(invalid("contains a NUL byte"));
    }
    // The name is the leading run of name characters; pep508_rs panics when it ends in a
    // separator, so that case never reaches it.
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if name.is_empty() {
        return Err(invalid("does not start with a project name"));
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric()
        || !name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
    {
        return Err(invalid(
            "project name must start and end with a letter or digit",
        ));
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Requirement::<VerbatimUrl>::from_str(text)
    }));
    match parsed {
        Ok(Ok(req)) => {
            if matches!(req.version_or_url, Some(pep508_rs::VersionOrUrl::Url(_))) {
                return Err(RequirementError::Url(raw.to_string()));
            }
            Ok(req)
        }
        Ok(Err(e)) => Err(invalid(&e.message.to_string())),
        Err(_) => Err(invalid("the PEP 508 parser could not read it")),
    }
}

/// The canonical text of a requirement: normalized name, sorted extras, specifiers and the
/// simplified marker as `pep508_rs` prints them. Equal requirements give equal text, which
/// lets dbgen deduplicate requirement sets byte-for-byte.
pub fn canonical_requirement(raw: &str) -> Result<String, RequirementError> {
    let mut req = parse_requirement(raw)?;
    req.extras.sort();
    req.extras.dedup();
    req.origin = None;
    Ok(req.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_canonicalizes() {
        let c = canonical_requirement("Requests [socks,Security] >=2.8.1 ; python_version>'3.8'")
            .unwrap();
        assert!(c.starts_with("requests["), "{c}");
        assert!(c.contains(">=2.8.1"), "{c}");
        assert_eq!(canonical_requirement(&c).unwrap(), c);
    }

    #[test]
    fn known_panicking_inputs_are_errors() {
        for raw in [
            "1. >= 1",
            "foo. >= 1",
            "foo- ; python_version > '3'",
            "foo_",
            "",
            "   ",
            ">=1.0",
            "a\0b",
        ] {
            assert!(parse_requirement(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn url_requirements_rejected() {
        assert!(matches!(
            parse_requirement("foo @ https://example.com/foo.whl"),
            Err(RequirementError::Url(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn never_panics(raw in "[a-zA-Z0-9 ._\\-\\[\\],;<>=!~*'\"()@:/]{0,40}") {
            let _ = parse_requirement(&raw);
        }
    }
}
