//! requirements.txt as pip reads it, restricted to what an offline index resolver can honour:
//! comments, `\` continuations, `-r`/`-c` includes (relative to the including file, cycles
//! rejected), PEP 508 requirements with extras/specifiers/markers and `--hash` options.
//! Everything pip accepts that we cannot honour (`-e`, URLs, paths, index options) is an error
//! naming the file and line, so a user never gets a lock that silently ignores a line.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use pep508_rs::{MarkerTree, Requirement, VerbatimUrl};
use pinion_pep::ProjectName;

/// One requirement line with where it came from.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: ProjectName,
    pub extras: Vec<String>,
    pub specifiers: pep440_rs::VersionSpecifiers,
    pub marker: MarkerTree,
    /// Lowercase hex sha256 digests from `--hash=sha256:...`.
    pub hashes: BTreeSet<String>,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Requirements and constraints gathered from all files, in file order.
#[derive(Clone, Debug, Default)]
pub struct RequirementSet {
    pub requirements: Vec<Spec>,
    pub constraints: Vec<Spec>,
}

/// Largest requirements file read: real ones (even `pip-compile` output with hashes for
/// hundreds of packages) are well under 1 MiB, and `-r /dev/zero` must not read forever.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ReqFileError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{}` is larger than {} MiB: not a requirements file\nhint: pass the requirements file itself; pinion reads at most {} MiB from each", path.display(), MAX_FILE_BYTES >> 20, MAX_FILE_BYTES >> 20
    )]
    TooLarge { path: PathBuf },
    #[error(
        "`{}` is not text: {what}\nhint: save it as UTF-8 (UTF-16 is read only with a byte order mark)", path.display()
    )]
    NotText { path: PathBuf, what: String },
    #[error("{origin}: {message}")]
    Line { origin: Origin, message: String },
    #[error("{origin}: {} includes itself (include chain: {})", file.display(), chain.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "))]
    Cycle {
        origin: Origin,
        file: PathBuf,
        chain: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requirement,
    Constraint,
}

impl RequirementSet {
    /// Reads a requirements file (`constraint = false`) or a constraints file.
    pub fn add_file(&mut self, path: &Path, constraint: bool) -> Result<(), ReqFileError> {
        let kind = if constraint {
            Kind::Constraint
        } else {
            Kind::Requirement
        };
        let mut stack = Vec::new();
        self.read_file(path, kind, &mut stack, None)
    }

    /// Parses requirements given as text; `name` stands for the file in messages and relative
    /// includes resolve against the current directory.
    pub fn add_text(
        &mut self,
        name: &Path,
        text: &str,
        constraint: bool,
    ) -> Result<(), ReqFileError> {
        let kind = if constraint {
            Kind::Constraint
        } else {
            Kind::Requirement
        };
        let mut stack = vec![name.to_path_buf()];
        self.parse_text(name, Path::new("."), text, kind, &mut stack)
    }

    fn read_file(
        &mut self,
        path: &Path,
        kind: Kind,
        stack: &mut Vec<PathBuf>,
        from: Option<Origin>,
    ) -> Result<(), ReqFileError> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if stack.contains(&canonical) {
            let mut chain = stack.clone();
            chain.push(canonical.clone());
            return Err(ReqFileError::Cycle {
                origin: from.unwrap_or(Origin {
                    file: path.to_path_buf(),
                    line: 0,
                }),
                file: path.to_path_buf(),
                chain,
            });
        }
        let text = read_text(path).map_err(|e| match (from.clone(), e) {
            (Some(origin), ReqFileError::Io { source, .. }) => ReqFileError::Line {
                origin,
                message: format!("cannot read included file {}: {source}", path.display()),
            },
            (Some(origin), e) => ReqFileError::Line {
                origin,
                message: format!("included file {e}"),
            },
            (None, e) => e,
        })?;
        stack.push(canonical);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let result = self.parse_text(path, &dir, &text, kind, stack);
        stack.pop();
        result
    }

    fn parse_text(
        &mut self,
        file: &Path,
        dir: &Path,
        text: &str,
        kind: Kind,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), ReqFileError> {
        for (line_no, logical) in logical_lines(text) {
            let origin = Origin {
                file: file.to_path_buf(),
                line: line_no,
            };
            let err = |message: String| ReqFileError::Line {
                origin: origin.clone(),
                message,
            };
            let line = strip_comment(&logical);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('-') {
                let (opt, value) = split_option(line);
                match opt {
                    "-r" | "--requirement" | "-c" | "--constraint" => {
                        let value = value.ok_or_else(|| err(format!("{opt} needs a file name")))?;
                        let include_kind = if matches!(opt, "-c" | "--constraint") { Kind::Constraint } else { kind };
                        let target = dir.join(value);
                        self.read_file(&target, include_kind, stack, Some(origin.clone()))?;
                    }
                    "-e" | "--editable" => return Err(err("editable requirements (-e) are not supported: pinion resolves from its package database only".into())),
                    "-i" | "--index-url" | "--extra-index-url" | "--no-index" | "-f" | "--find-links" => {
                        return Err(err(format!("{opt} is not supported: pinion resolves offline from its package database, not from an index")));
                    }
                    _ => return Err(err(format!("unsupported option {opt:?}"))),
                }
                continue;
            }
            let spec = parse_spec_line(line, origin.clone())?;
            match kind {
                Kind::Requirement => self.requirements.push(spec),
                Kind::Constraint => self.constraints.push(spec),
            }
        }
        Ok(())
    }
}

/// Reads a requirements file as uv and pip do: UTF-8, with or without a byte order mark, or
/// UTF-16 with one; at most [`MAX_FILE_BYTES`].
fn read_text(path: &Path) -> Result<String, ReqFileError> {
    use std::io::Read;
    let io = |source| ReqFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReqFileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    decode_text(&bytes).map_err(|what| ReqFileError::NotText {
        path: path.to_path_buf(),
        what,
    })
}

fn decode_text(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err("UTF-16 with an odd number of bytes".to_string());
        }
        let units = rest.chunks_exact(2).map(|c| unit([c[0], c[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| format!("invalid UTF-16 ({e})"))
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => utf8(bytes),
    }
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("invalid UTF-8 on line {line} (byte {at})")
    })
}

/// Joins `\`-continued lines; yields the 1-based number of the first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut acc) = current.take().unwrap_or((i + 1, String::new()));
        // pip strips comments before joining, so a comment line ending in `\` does not continue.
        if let Some(body) = raw.strip_suffix('\\')
            && !strip_comment(raw).trim().is_empty()
            && strip_comment(raw).len() == raw.len()
        {
            acc.push_str(body);
            acc.push(' ');
            current = Some((start, acc));
        } else {
            acc.push_str(raw);
            out.push((start, acc));
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

/// A `#` starts a comment at the start of a line or after whitespace (pip's rule; `#` inside a
/// URL fragment is not a comment, but URLs are rejected anyway).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

fn split_option(line: &str) -> (&str, Option<&str>) {
    let (opt, rest) = match line
        .char_indices()
        .find(|&(_, c)| c == '=' || c.is_whitespace())
    {
        Some((i, c)) => (&line[..i], line[i + c.len_utf8()..].trim()),
        None => (line, ""),
    };
    // `-rfile.txt` is valid pip syntax.
    if opt.len() > 2 && (opt.starts_with("-r") || opt.starts_with("-c")) && !opt.starts_with("--") {
        return (&line[..2], Some(line[2..].trim()));
    }
    (opt, if rest.is_empty() { None } else { Some(rest) })
}

fn parse_spec_line(line: &str, origin: Origin) -> Result<Spec, ReqFileError> {
    let err = |message: String| ReqFileError::Line {
        origin: origin.clone(),
        message,
    };
    // Per-requirement options follow the requirement, separated by whitespace; the marker may
    // contain spaces, so only split where an option begins.
    let (req_text, options) = match find_option_start(line) {
        Some(i) => (line[..i].trim(), &line[i..]),
        None => (line, ""),
    };
    let mut hashes = BTreeSet::new();
    let mut words = options.split_whitespace();
    while let Some(word) = words.next() {
        let (opt, value) = match word.split_once('=') {
            Some((o, v)) => (o, Some(v.to_string())),
            None => (word, None),
        };
        if opt != "--hash" {
            return Err(err(format!(
                "unsupported per-requirement option {opt:?} (only --hash is supported)"
            )));
        }
        let value = value
            .or_else(|| words.next().map(str::to_string))
            .ok_or_else(|| err("--hash needs a value like sha256:<hex>".into()))?;
        let hex = value
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| err(format!("--hash {value:?} is not sha256:<64 hex digits> (pinion's database records sha256 only)")))?;
        hashes.insert(hex.to_ascii_lowercase());
    }
    if looks_like_path_or_url(req_text) {
        return Err(err(format!(
            "{req_text:?} is a URL or local path; only requirements on package names are supported"
        )));
    }
    let req: Requirement<VerbatimUrl> =
        pinion_pep::parse_requirement(req_text).map_err(|e| err(e.to_string()))?;
    let name = ProjectName::new(req.name.as_ref()).map_err(|e| err(e.to_string()))?;
    let specifiers = match req.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s,
        Some(pep508_rs::VersionOrUrl::Url(_)) => {
            return Err(err("URL requirements are not supported".into()));
        }
        None => pep440_rs::VersionSpecifiers::empty(),
    };
    let mut extras: Vec<String> = req.extras.iter().map(|e| e.to_string()).collect();
    extras.sort();
    extras.dedup();
    Ok(Spec {
        name,
        extras,
        specifiers,
        marker: req.marker,
        hashes,
        origin,
    })
}

fn find_option_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (1..bytes.len()).find(|&i| {
        bytes[i] == b'-' && bytes[i - 1].is_ascii_whitespace() && bytes.get(i + 1) == Some(&b'-')
    })
}

fn looks_like_path_or_url(s: &str) -> bool {
    s.contains("://")
        || s.starts_with('.')
        || s.starts_with('/')
        || s.starts_with('~')
        || s.ends_with(".whl")
        || s.ends_with(".tar.gz")
        || s.ends_with(".zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RequirementSet, ReqFileError> {
        let mut set = RequirementSet::default();
        set.add_text(Path::new("req.txt"), text, false)?;
        Ok(set)
    }

    fn err_text(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn supported_forms() {
        let set = parse(
            "# comment\n\nRequests[socks, security] >=2.8.1, <3 ; python_version >= '3.8'  # trailing\n\
             numpy==1.26.* \\\n   --hash=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \\\n   --hash sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\nflask\n",
        )
        .unwrap();
        let r = &set.requirements;
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].name.as_str(), "requests");
        assert_eq!(r[0].extras, ["security", "socks"]);
        assert_eq!(r[0].specifiers.to_string(), ">=2.8.1, <3");
        assert_eq!(r[0].origin.line, 3);
        assert!(!r[0].marker.is_true());
        assert_eq!(r[1].name.as_str(), "numpy");
        assert_eq!(r[1].origin.line, 4);
        assert_eq!(r[1].hashes.len(), 2);
        assert!(r[1].hashes.contains(&"a".repeat(64)));
        assert_eq!(r[2].name.as_str(), "flask");
        assert_eq!(r[2].origin.line, 7);
    }

    #[test]
    fn unsupported_forms_name_file_and_line() {
        let cases = [
            ("flask\n-e ./local\n", "req.txt:2: editable"),
            (
                "--index-url https://x\n",
                "req.txt:1: --index-url is not supported",
            ),
            ("-f ./wheels\n", "req.txt:1: -f is not supported"),
            ("--pre\n", "req.txt:1: unsupported option \"--pre\""),
            ("\n\nfoo @ https://example.com/foo.whl\n", "req.txt:3:"),
            ("git+https://github.com/a/b\n", "req.txt:1:"),
            ("./pkg\n", "req.txt:1:"),
            (
                "foo --install-option=x\n",
                "req.txt:1: unsupported per-requirement option",
            ),
            ("foo --hash=md5:abc\n", "req.txt:1: --hash"),
            ("foo >=\n", "req.txt:1:"),
            ("-r\n", "req.txt:1: -r needs a file name"),
        ];
        for (text, want) in cases {
            let got = err_text(text);
            assert!(got.starts_with(want), "{text:?}: {got}");
        }
    }

    #[test]
    fn includes_and_cycles() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir(p.join("sub")).unwrap();
        std::fs::write(p.join("main.txt"), "-r sub/base.txt\n-c cons.txt\nflask\n").unwrap();
        std::fs::write(p.join("sub/base.txt"), "--requirement=more.txt\nrequests\n").unwrap();
        std::fs::write(p.join("sub/more.txt"), "idna\n").unwrap();
        std::fs::write(p.join("cons.txt"), "urllib3<2\n").unwrap();
        let mut set = RequirementSet::default();
        set.add_file(&p.join("main.txt"), false).unwrap();
        let names: Vec<&str> = set.requirements.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["idna", "requests", "flask"]);
        assert_eq!(set.constraints.len(), 1);
        assert_eq!(set.constraints[0].origin.line, 1);

        std::fs::write(p.join("a.txt"), "-r b.txt\n").unwrap();
        std::fs::write(p.join("b.txt"), "x\n-r a.txt\n").unwrap();
        let mut set = RequirementSet::default();
        let e = set
            .add_file(&p.join("a.txt"), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.txt:2") && e.contains("includes itself"),
            "{e}"
        );

        let mut set = RequirementSet::default();
        std::fs::write(p.join("c.txt"), "-r missing.txt\n").unwrap();
        let e = set
            .add_file(&p.join("c.txt"), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.txt:1") && e.contains("missing.txt"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[a-z0-9 =<>!~.,;'\"\\#\\[\\]\n\u{3000}é-]{0,60}") {
            let _ = parse(&text);
        }
    }

    #[test]
    fn unicode_whitespace_after_option() {
        assert!(err_text("-r\u{3000}x.txt\n").starts_with("req.txt:1:"));
    }

    #[test]
    fn comment_line_with_backslash_does_not_continue() {
        let set = parse("# note \\\nflask\n").unwrap();
        assert_eq!(set.requirements.len(), 1);
        assert_eq!(set.requirements[0].origin.line, 2);
    }
}
