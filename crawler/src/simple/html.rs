//! PEP 503 HTML: a small scanner for the anchors and the few tags (title, heading, PEP 629
//! version) that tell an index page from anything else served with 200.

use pinion_pep::ProjectName;
use url::Url;

use super::{
    CoreMetadata, IndexError, IndexFile, check_api_version, not_index, parse_sha256, resolve,
};

/// An `<a>` element of a PEP 503 page.
#[derive(Debug, Default)]
pub(super) struct Anchor {
    href: String,
    pub(super) text: String,
    requires_python: Option<String>,
    yanked: Option<String>,
    core_metadata: Option<String>,
}

impl Anchor {
    pub(super) fn into_file(self, base: &Url) -> Result<IndexFile, IndexError> {
        let unusable = || not_index(base, format!("the link {:?} is unusable", self.href));
        let joined = base.join(&self.href).map_err(|_| unusable())?;
        let sha256 = joined
            .fragment()
            .and_then(|f| f.strip_prefix("sha256="))
            .and_then(parse_sha256);
        let url = resolve(base, &self.href).ok_or_else(unusable)?;
        let filename = {
            let text = self.text.trim();
            if text.is_empty() {
                joined
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(unusable)?
                    .to_string()
            } else {
                text.to_string()
            }
        };
        let core_metadata = match self.core_metadata.as_deref() {
            None | Some("false") => CoreMetadata::NotAdvertised,
            Some(v) => CoreMetadata::Advertised {
                sha256: v.strip_prefix("sha256=").and_then(parse_sha256),
            },
        };
        Ok(IndexFile {
            filename,
            url,
            sha256,
            size: None,
            upload_time: None,
            requires_python: self.requires_python.filter(|s| !s.trim().is_empty()),
            yanked: self.yanked.is_some(),
            yanked_reason: self.yanked.filter(|s| !s.is_empty()),
            core_metadata,
        })
    }
}

impl Anchor {
    /// Whether this root-page anchor links a project name to that project's page
    /// (`<a href="/simple/foo-bar/">Foo.Bar</a>`), as PEP 503 root anchors do.
    pub(super) fn links_project(&self, base: &Url) -> bool {
        let Ok(name) = ProjectName::new(self.text.trim()) else {
            return false;
        };
        base.join(&self.href).ok().is_some_and(|u| {
            u.path_segments()
                .and_then(|mut s| s.rfind(|s| !s.is_empty()))
                .and_then(|last| ProjectName::new(last).ok())
                .is_some_and(|linked| linked == name)
        })
    }
}

/// Whether `filename` starts with the project's name (normalized), as its distributions do.
pub(super) fn names_project(filename: &str, project: &ProjectName) -> bool {
    let mut normalized = String::with_capacity(filename.len());
    for c in filename.chars() {
        let c = if matches!(c, '_' | '.') { '-' } else { c };
        if !(c == '-' && normalized.ends_with('-')) {
            normalized.push(c.to_ascii_lowercase());
        }
    }
    normalized
        .strip_prefix(project.as_str())
        .is_some_and(|rest| rest.starts_with('-'))
}

/// The anchors of a page that must be complete: an unterminated tag or anchor, or an
/// `<html>` without its `</html>`, means the page was cut short.
pub(super) fn html_structure(url: &Url, html: &str) -> Result<Vec<Anchor>, IndexError> {
    let lower = html.to_ascii_lowercase();
    if lower.contains("<html") && !lower.contains("</html") {
        return Err(IndexError::Malformed {
            url: url.to_string(),
            reason: "`<html>` is never closed".into(),
        });
    }
    if let Some(version) = repository_version(html) {
        check_api_version(url, &version)?;
    }
    anchors(html).map_err(|reason| IndexError::Malformed {
        url: url.to_string(),
        reason,
    })
}

/// The PEP 629 `<meta name="pypi:repository-version" content="1.0">` value.
pub(super) fn repository_version(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<meta").map(|i| i + pos) {
        let end = find_tag_end(html, start)?;
        let attrs = parse_attrs(&html[start + 5..end]);
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("name").is_some_and(|n| n.eq_ignore_ascii_case("pypi:repository-version")) {
            return get("content");
        }
        pos = end;
    }
    None
}

/// The text of the first `<tag>` element, trimmed.
pub(super) fn tag_text(html: &str, tag: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let start = lower.find(&open)?;
    let content = find_tag_end(html, start)? + 1;
    let end = lower[content..].find(&format!("</{tag}"))? + content;
    Some(unescape(html[content..end].trim()))
}

/// The project a PEP 503 page names in `Links for NAME` (its title, else its heading).
pub(super) fn links_for(html: &str) -> Option<String> {
    ["title", "h1"].iter().find_map(|t| {
        let text = tag_text(html, t)?;
        let name = text.strip_prefix("Links for ")?.trim();
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// A small scanner for the anchors of a simple-index page. Simple pages are machine-generated
/// and flat, so a full HTML parser buys nothing here; an anchor cut short is an error
/// (`Err(reason)`), not the end of the list.
fn anchors(html: &str) -> Result<Vec<Anchor>, String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<a").map(|i| i + pos) {
        let after = start + 2;
        if !lower[after..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>') {
            pos = after;
            continue;
        }
        let Some(tag_end) = find_tag_end(html, after) else {
            return Err(format!("the anchor at byte {start} is never closed"));
        };
        let attrs = parse_attrs(&html[after..tag_end]);
        let Some(close) = lower[tag_end..].find("</a").map(|i| i + tag_end) else {
            return Err(format!("the anchor at byte {start} has no `</a>`"));
        };
        let text = unescape(&html[tag_end + 1..close.max(tag_end + 1)]);
        let mut a = Anchor {
            text,
            ..Anchor::default()
        };
        for (k, v) in attrs {
            match k.as_str() {
                "href" => a.href = v,
                "data-requires-python" => a.requires_python = Some(v),
                "data-yanked" => a.yanked = Some(v),
                "data-core-metadata" => a.core_metadata = Some(v),
                "data-dist-info-metadata" if a.core_metadata.is_none() => a.core_metadata = Some(v),
                _ => {}
            }
        }
        if !a.href.is_empty() {
            out.push(a);
        }
        pos = close;
    }
    Ok(out)
}

/// Index of the `>` closing a tag, skipping quoted attribute values.
fn find_tag_end(html: &str, from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, c) in html[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(from + i),
            _ => {}
        }
    }
    None
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_ascii_whitespace() || c == '/' {
            chars.next();
            continue;
        }
        let mut end = i;
        while let Some(&(j, c)) = chars.peek() {
            if c == '=' || c.is_ascii_whitespace() {
                break;
            }
            end = j + c.len_utf8();
            chars.next();
        }
        let name = s[i..end].to_ascii_lowercase();
        while chars.peek().is_some_and(|&(_, c)| c.is_ascii_whitespace()) {
            chars.next();
        }
        if chars.peek().is_some_and(|&(_, c)| c == '=') {
            chars.next();
            while chars.peek().is_some_and(|&(_, c)| c.is_ascii_whitespace()) {
                chars.next();
            }
            let value = match chars.peek().copied() {
                Some((j, q @ ('"' | '\''))) => {
                    chars.next();
                    let mut end = s.len();
                    for (k, c) in chars.by_ref() {
                        if c == q {
                            end = k;
                            break;
                        }
                    }
                    &s[j + 1..end]
                }
                Some((j, _)) => {
                    let mut end = s.len();
                    while let Some(&(k, c)) = chars.peek() {
                        if c.is_ascii_whitespace() {
                            end = k;
                            break;
                        }
                        chars.next();
                    }
                    &s[j..end]
                }
                None => "",
            };
            out.push((name, unescape(value)));
        } else if !name.is_empty() {
            out.push((name, String::new()));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
