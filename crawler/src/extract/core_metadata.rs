//! Core metadata (METADATA / PKG-INFO) header parser.
//!
//! Follows Python's `email.feedparser`, which is what pip and packaging use: lines end with
//! CRLF, LF or CR; lines starting with space/tab continue the previous header; the header block
//! ends at the first empty line or at the first line that is not a header (the rest is the
//! description and is ignored). Only the fields we keep must be UTF-8: legacy PKG-INFO files
//! often carry Latin-1 author names, which must not make the requirements unreadable, while a
//! kept field that is not UTF-8 is an error rather than silently mangled text.

use super::{ExtractError, Extracted, Source, Sourced};

#[derive(Debug, Default)]
pub(crate) struct CoreMetadata {
    pub metadata_version: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub requires_python: Option<String>,
    pub requires_dist: Vec<String>,
    pub provides_extra: Vec<String>,
    /// `Dynamic` field values, lower-cased.
    pub dynamic: Vec<String>,
}

impl CoreMetadata {
    /// True when Metadata-Version >= 2.2, from which on fields not listed in `Dynamic` are
    /// guaranteed to match every wheel built from the sdist (PEP 643).
    pub fn is_static_capable(&self) -> bool {
        let Some(v) = &self.metadata_version else {
            return false;
        };
        let mut parts = v.trim().split('.');
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (major, minor) >= (2, 2)
    }

    pub fn is_dynamic(&self, field: &str) -> bool {
        self.dynamic.iter().any(|d| d.eq_ignore_ascii_case(field))
    }

    /// A wheel's METADATA is authoritative: absent fields are empty.
    pub fn into_extracted(self, source: Source) -> Extracted {
        Extracted {
            metadata_version: self.metadata_version,
            name: self.name,
            version: self.version,
            requires_python: self.requires_python.map(|v| Sourced::new(v, source)),
            requires_dist: Some(Sourced::new(self.requires_dist, source)),
            provides_extra: self.provides_extra,
            ..Extracted::default()
        }
    }
}

/// Splits on CRLF, LF or CR like Python's `email` package; the terminator is dropped.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            None => Some(std::mem::take(&mut rest)),
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(line)
            }
        }
    })
}

/// Header name: printable ASCII except `:` followed by `:` (Python's `headerRE`).
fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    name.iter()
        .all(|&b| (0x21..=0x7e).contains(&b))
        .then(|| (name, &line[colon + 1..]))
}

/// Parses the header block of a core metadata file. `member` names the file in errors.
pub(crate) fn parse(bytes: &[u8], member: &str) -> Result<CoreMetadata, ExtractError> {
    // (name, unfolded value, line number)
    let mut headers: Vec<(&[u8], Vec<u8>, usize)> = Vec::new();
    let mut stopped_at = None;
    for (idx, line) in lines(bytes).enumerate() {
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // A continuation before any header is a defect Python ignores.
            if let Some((_, value, _)) = headers.last_mut() {
                value.extend_from_slice(line);
            }
            continue;
        }
        match split_header(line) {
            Some((name, value)) => headers.push((name, value.to_vec(), idx + 1)),
            None => {
                stopped_at = Some(idx + 1);
                break;
            }
        }
    }
    if headers.is_empty() {
        return Err(ExtractError::BadMetadata {
            member: member.to_string(),
            line: stopped_at.unwrap_or(1),
            msg: "expected a `Name: value` header".into(),
        });
    }

    let mut meta = CoreMetadata::default();
    for (name, value, _line) in &headers {
        let field = String::from_utf8_lossy(name).to_ascii_lowercase();
        let slot = match field.as_str() {
            "metadata-version" | "name" | "version" | "requires-python" | "requires-dist"
            | "provides-extra" | "dynamic" => field.as_str(),
            _ => continue,
        };
        let text = std::str::from_utf8(value).map_err(|_| ExtractError::NotUtf8 {
            member: member.to_string(),
            field: String::from_utf8_lossy(name).into_owned(),
        })?;
        let text = text.trim().to_string();
        match slot {
            "metadata-version" => set_once(&mut meta.metadata_version, text),
            "name" => set_once(&mut meta.name, text),
            "version" => set_once(&mut meta.version, text),
            "requires-python" => set_once(&mut meta.requires_python, text),
            "requires-dist" if !text.is_empty() => meta.requires_dist.push(text),
            "provides-extra" if !text.is_empty() => meta.provides_extra.push(text),
            "dynamic" if !text.is_empty() => meta.dynamic.push(text.to_ascii_lowercase()),
            _ => {}
        }
    }
    if meta.metadata_version.is_none() && meta.name.is_none() {
        return Err(ExtractError::BadMetadata {
            member: member.to_string(),
            line: 1,
            msg: "neither Metadata-Version nor Name is present".into(),
        });
    }
    Ok(meta)
}

/// Single-use fields keep their first occurrence, as `email.message.Message.get` does.
fn set_once(slot: &mut Option<String>, value: String) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_crlf_and_continuations() {
        let text = b"Metadata-Version: 2.1\r\nName: demo\r\nVersion: 1.0\r\nRequires-Dist: a>=1\r\nRequires-Dist: b;\r\n  extra == \"x\"\r\nProvides-Extra: x\r\nrequires-python: >=3.8\r\n\r\nRequires-Dist: not-a-header\r\n";
        let m = parse(text, "METADATA").unwrap();
        assert_eq!(m.metadata_version.as_deref(), Some("2.1"));
        assert_eq!(m.name.as_deref(), Some("demo"));
        assert_eq!(m.requires_dist, vec!["a>=1", "b;  extra == \"x\""]);
        assert_eq!(m.provides_extra, vec!["x"]);
        assert_eq!(m.requires_python.as_deref(), Some(">=3.8"));
        assert!(!m.is_static_capable());
    }

    #[test]
    fn bare_cr_line_endings() {
        let m = parse(
            b"Metadata-Version: 2.2\rName: a\rDynamic: Requires-Dist\r",
            "PKG-INFO",
        )
        .unwrap();
        assert_eq!(m.name.as_deref(), Some("a"));
        assert!(m.is_static_capable());
        assert!(m.is_dynamic("requires-dist"));
    }

    #[test]
    fn non_header_line_ends_the_header_block() {
        let m = parse(
            b"Name: a\nthis is description\nRequires-Dist: b\n",
            "PKG-INFO",
        )
        .unwrap();
        assert!(m.requires_dist.is_empty());
    }

    #[test]
    fn latin1_in_ignored_field_is_fine_but_not_in_kept_field() {
        let ok = parse(
            b"Metadata-Version: 1.0\nName: a\nAuthor: Andr\xe9\n",
            "PKG-INFO",
        )
        .unwrap();
        assert_eq!(ok.name.as_deref(), Some("a"));
        let err = parse(
            b"Metadata-Version: 2.1\nName: a\nRequires-Dist: b\xff\n",
            "x/METADATA",
        )
        .unwrap_err();
        assert_eq!(
            err,
            ExtractError::NotUtf8 {
                member: "x/METADATA".into(),
                field: "Requires-Dist".into()
            }
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        let err = parse(b"\x00\x01garbage\nName: x\n", "PKG-INFO").unwrap_err();
        assert!(
            matches!(err, ExtractError::BadMetadata { line: 1, .. }),
            "{err:?}"
        );
        assert!(parse(b"", "PKG-INFO").is_err());
        assert!(matches!(
            parse(b"Summary: only\n", "PKG-INFO").unwrap_err(),
            ExtractError::BadMetadata { .. }
        ));
    }
}
