//! setup.cfg: a small INI reader with Python `configparser` semantics as setuptools uses them
//! (full-line `#`/`;` comments only, so `; python_version<"3"` markers survive; values
//! continue on more-indented lines; `=` or `:` delimits), then setuptools' reading of
//! `[options]` and `[options.extras_require]`.

use super::reqs::{add_extra, split_extra_key, split_lines, with_extra};

type Section = (String, Vec<(String, String)>);

/// Parses INI text; the error names the line.
fn parse_ini(text: &str) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    // Value lines of the current option and the indentation of its key line.
    let mut current: Option<(Vec<String>, usize)> = None;
    let finish = |sections: &mut Vec<Section>, current: &mut Option<(Vec<String>, usize)>| {
        if let (Some((lines, _)), Some((_, opts))) = (current.take(), sections.last_mut())
            && let Some(last) = opts.last_mut()
        {
            last.1 = lines.join("\n").trim_end().to_string();
        }
    };
    for (idx, line) in text.lines().enumerate() {
        let lineno = idx + 1;
        let stripped = line.trim();
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if stripped.is_empty() {
            if let Some((lines, _)) = current.as_mut() {
                lines.push(String::new());
            }
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let Some((lines, key_indent)) = current.as_mut()
            && indent > *key_indent
        {
            lines.push(stripped.to_string());
            continue;
        }
        finish(&mut sections, &mut current);
        if let Some(rest) = stripped.strip_prefix('[')
            && let Some(end) = rest.rfind(']')
            && end > 0
        {
            let name = rest[..end].to_string();
            if sections.iter().any(|(n, _)| *n == name) {
                return Err(format!("line {lineno}: duplicate section [{name}]"));
            }
            sections.push((name, Vec::new()));
            continue;
        }
        let Some((_, opts)) = sections.last_mut() else {
            return Err(format!("line {lineno}: option before any [section] header"));
        };
        let Some(delim) = stripped.find(['=', ':']) else {
            return Err(format!("line {lineno}: expected `key = value`"));
        };
        let key = stripped[..delim]
            .trim()
            .to_ascii_lowercase()
            .replace('-', "_");
        if opts.iter().any(|(k, _)| *k == key) {
            return Err(format!("line {lineno}: duplicate option {key}"));
        }
        opts.push((key, String::new()));
        current = Some((vec![stripped[delim + 1..].trim().to_string()], indent));
    }
    finish(&mut sections, &mut current);
    Ok(sections)
}

/// A requirement-list option.
#[derive(Debug, PartialEq)]
pub(crate) enum Field {
    Absent,
    /// `file:` directive: the content lives elsewhere.
    Indirect,
    Value(Vec<String>),
}

#[derive(Debug)]
pub(crate) struct SetupCfg {
    pub name: Option<String>,
    pub version: Option<String>,
    pub python_requires: Option<String>,
    pub install_requires: Field,
    pub setup_requires: Field,
    /// `None` when `[options.extras_require]` is absent; `Some(None)` when a value is indirect.
    pub extras: Option<Option<(Vec<String>, Vec<String>)>>,
    /// `[metadata]` or `[options]` is present: setuptools reads this file for the project.
    pub declares_project: bool,
}

impl SetupCfg {
    /// Requirements and extra names, when setup.cfg states them completely.
    pub fn requires_dist(&self) -> Option<(Vec<String>, Vec<String>)> {
        let base = match &self.install_requires {
            Field::Indirect => return None,
            Field::Absent if self.extras.is_none() => return None,
            Field::Absent => Vec::new(),
            Field::Value(v) => v.clone(),
        };
        match &self.extras {
            None => Some((base, Vec::new())),
            Some(None) => None,
            Some(Some((reqs, extras))) => Some(([base, reqs.clone()].concat(), extras.clone())),
        }
    }
}

/// setuptools' list parsing: one item per line when multi-line, else `;`-separated.
fn parse_list(value: &str) -> Field {
    if value.trim_start().starts_with("file:") {
        return Field::Indirect;
    }
    let items: Vec<&str> = if value.contains('\n') {
        value.lines().collect()
    } else {
        value.split(';').collect()
    };
    Field::Value(split_lines(items))
}

/// Reads setup.cfg; `Err` (with the line) when it is not valid INI, which setuptools would
/// refuse too.
pub(crate) fn parse(text: &str) -> Result<SetupCfg, String> {
    let sections = parse_ini(text)?;
    let get = |section: &str, key: &str| {
        sections
            .iter()
            .find(|(n, _)| n == section)
            .and_then(|(_, opts)| opts.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v.as_str())
    };
    let field = |key: &str| get("options", key).map_or(Field::Absent, parse_list);
    let extras = sections
        .iter()
        .find(|(n, _)| n == "options.extras_require")
        .map(|(_, opts)| {
            let mut reqs = Vec::new();
            let mut names = Vec::new();
            for (key, value) in opts {
                let Field::Value(list) = parse_list(value) else {
                    return None;
                };
                let (extra, marker) = split_extra_key(key);
                add_extra(&mut names, extra);
                reqs.extend(list.iter().map(|r| with_extra(r, extra, marker)));
            }
            Some((reqs, names))
        });
    fn plain(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty() && !v.starts_with("file:") && !v.starts_with("attr:"))
    }
    Ok(SetupCfg {
        name: plain(get("metadata", "name")).map(str::to_string),
        version: plain(get("metadata", "version")).map(str::to_string),
        python_requires: plain(get("options", "python_requires")).map(str::to_string),
        install_requires: field("install_requires"),
        setup_requires: field("setup_requires"),
        extras,
        declares_project: sections
            .iter()
            .any(|(n, _)| n == "metadata" || n == "options"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_extras() {
        let text = "[metadata]\nname = demo\n\n[options]\npython_requires = >=3.6\ninstall_requires =\n\tzipp>=0.5\n\t# comment\n\n\ttyping-extensions>=3.6.4; python_version < \"3.8\"\nsetup_requires = setuptools_scm; wheel\n\n[options.extras_require]\ntesting =\n\tpytest-black >= 0.3.7; \\\n\tpython_implementation != \"PyPy\"\ndocs = sphinx\n";
        let cfg = parse(text).unwrap();
        assert_eq!(cfg.name.as_deref(), Some("demo"));
        assert_eq!(cfg.python_requires.as_deref(), Some(">=3.6"));
        assert_eq!(
            cfg.install_requires,
            Field::Value(vec![
                "zipp>=0.5".into(),
                "typing-extensions>=3.6.4; python_version < \"3.8\"".into()
            ])
        );
        assert_eq!(
            cfg.setup_requires,
            Field::Value(vec!["setuptools_scm".into(), "wheel".into()])
        );
        let (reqs, extras) = cfg.requires_dist().unwrap();
        assert_eq!(
            reqs[2],
            "pytest-black >= 0.3.7; (python_implementation != \"PyPy\") and extra == \"testing\""
        );
        assert_eq!(reqs[3], "sphinx; extra == \"docs\"");
        assert_eq!(extras, vec!["testing", "docs"]);
    }

    #[test]
    fn file_directive_is_unknown() {
        let cfg = parse("[options]\ninstall_requires = file: requirements.txt\n").unwrap();
        assert_eq!(cfg.install_requires, Field::Indirect);
        assert_eq!(cfg.requires_dist(), None);
        let cfg = parse("[options.extras_require]\nx = file: x.txt\n").unwrap();
        assert_eq!(cfg.requires_dist(), None);
    }

    #[test]
    fn malformed_ini_names_the_line() {
        assert_eq!(
            parse("key = v\n").unwrap_err(),
            "line 1: option before any [section] header"
        );
        assert_eq!(
            parse("[a]\nk = 1\nnot an option\n").unwrap_err(),
            "line 3: expected `key = value`"
        );
        assert!(parse("[a]\n[a]\n").is_err());
    }

    #[test]
    fn no_requirements_is_absent() {
        let cfg = parse("[metadata]\nname = x\n").unwrap();
        assert_eq!(cfg.requires_dist(), None);
        assert!(cfg.declares_project);
    }
}
