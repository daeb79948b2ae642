//! setup.cfg as setuptools reads it. `setuptools.dist.Distribution._parse_config_files` uses
//! `configparser.ConfigParser()` with `optionxform = str` and calls `parser.get(section, opt)`
//! for every option of every section, so:
//! - INI syntax is configparser's (full-line `#`/`;` comments only, so `; python_version<"3"`
//!   markers survive; values continue on more-indented lines; `=` or `:` delimits; duplicate
//!   sections or options are errors; keys keep their case);
//! - values go through `BasicInterpolation`: `%(key)s` is the raw value of `key` in the same
//!   section or `[DEFAULT]` (never another section: that would be `ExtendedInterpolation`),
//!   expanded recursively up to depth 10; `%%` is `%`; any other `%` or a missing key makes
//!   `get` raise, which fails the whole setuptools build, so here the whole file is unreadable;
//! - `[DEFAULT]` options appear in every section (`parser.options` merges them in).
//!
//! Then setuptools' reading of `[options]` and `[options.extras_require]`
//! (`setuptools/config/setupcfg.py`), including `file:` directives, which are resolved
//! against the sdist's own files (see [`FileRead`]).

use super::reqs::{add_extra, split_extra_key, split_lines, with_extra};

type Options = Vec<(String, String)>;
/// Requirement strings (extras folded into markers) and the extra names.
type RequiresAndExtras = (Vec<String>, Vec<String>);

/// configparser's `MAX_INTERPOLATION_DEPTH`.
const MAX_INTERPOLATION_DEPTH: usize = 10;
/// Expanded values larger than this are refused (nested references can grow exponentially).
const MAX_EXPANDED: usize = 1 << 20;
/// The section whose options every other section inherits (configparser's `default_section`).
const DEFAULT_SECTION: &str = "DEFAULT";

/// The INI structure, raw values (not interpolated).
#[derive(Debug, Default)]
struct Ini {
    defaults: Options,
    sections: Vec<(String, Options)>,
}

/// Parses INI text; the error names the line.
fn parse_ini(text: &str) -> Result<Ini, String> {
    let mut ini = Ini::default();
    // Index into `ini.sections` of the current section; `None` for [DEFAULT].
    let mut in_section: Option<Option<usize>> = None;
    // Value lines of the current option and the indentation of its key line.
    let mut current: Option<(Vec<String>, usize)> = None;
    fn opts(ini: &mut Ini, at: Option<usize>) -> &mut Options {
        match at {
            None => &mut ini.defaults,
            Some(i) => &mut ini.sections[i].1,
        }
    }
    let finish =
        |ini: &mut Ini, at: Option<Option<usize>>, current: &mut Option<(Vec<String>, usize)>| {
            if let (Some((lines, _)), Some(at)) = (current.take(), at)
                && let Some(last) = opts(ini, at).last_mut()
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
        finish(&mut ini, in_section, &mut current);
        if let Some(rest) = stripped.strip_prefix('[')
            && let Some(end) = rest.rfind(']')
            && end > 0
        {
            let name = rest[..end].to_string();
            if name == DEFAULT_SECTION {
                in_section = Some(None);
                continue;
            }
            if ini.sections.iter().any(|(n, _)| *n == name) {
                return Err(format!("line {lineno}: duplicate section [{name}]"));
            }
            ini.sections.push((name, Vec::new()));
            in_section = Some(Some(ini.sections.len() - 1));
            continue;
        }
        let Some(at) = in_section else {
            return Err(format!("line {lineno}: option before any [section] header"));
        };
        let Some(delim) = stripped.find(['=', ':']) else {
            return Err(format!("line {lineno}: expected `key = value`"));
        };
        let key = stripped[..delim].trim().to_string();
        let options = opts(&mut ini, at);
        if options.iter().any(|(k, _)| *k == key) {
            return Err(format!("line {lineno}: duplicate option {key}"));
        }
        options.push((key, String::new()));
        current = Some((vec![stripped[delim + 1..].trim().to_string()], indent));
    }
    finish(&mut ini, in_section, &mut current);
    Ok(ini)
}

impl Ini {
    /// `parser.options(section)` with `parser.get(section, opt)` values: the section's own
    /// options, then the `[DEFAULT]` ones it does not override, interpolated.
    fn section(&self, name: &str) -> Option<Result<Options, String>> {
        let own = &self.sections.iter().find(|(n, _)| n == name)?.1;
        Some(self.expand(name, own))
    }

    fn expand(&self, section: &str, own: &Options) -> Result<Options, String> {
        let lookup = |key: &str| {
            own.iter()
                .chain(&self.defaults)
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let merged = own.iter().chain(
            self.defaults
                .iter()
                .filter(|(k, _)| !own.iter().any(|(o, _)| o == k)),
        );
        merged
            .map(|(key, raw)| {
                let mut out = String::new();
                interpolate(raw, &lookup, 1, &mut out)
                    .map_err(|e| format!("[{section}] {key}: {e}"))?;
                Ok((key.clone(), out))
            })
            .collect()
    }

    /// Every section's options interpolated: setuptools reads them all, so one bad `%`
    /// anywhere fails the build.
    fn check_all(&self) -> Result<(), String> {
        self.expand(DEFAULT_SECTION, &Vec::new())?;
        for (name, own) in &self.sections {
            self.expand(name, own)?;
        }
        Ok(())
    }
}

/// configparser's `BasicInterpolation._interpolate_some`.
fn interpolate<'v>(
    rest: &'v str,
    lookup: &dyn Fn(&str) -> Option<&'v str>,
    depth: usize,
    out: &mut String,
) -> Result<(), String> {
    if depth > MAX_INTERPOLATION_DEPTH {
        return Err(format!(
            "interpolation deeper than {MAX_INTERPOLATION_DEPTH} levels"
        ));
    }
    let mut rest = rest;
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("%(") {
            // `%\(([^)]+)\)s`
            let Some(close) = after
                .find(')')
                .filter(|&c| c > 0 && after[c + 1..].starts_with('s'))
            else {
                return Err(format!("bad interpolation variable reference {rest:?}"));
            };
            let var = &after[..close];
            rest = &after[close + 2..];
            let value = lookup(var).ok_or_else(|| format!("no option {var:?} to interpolate"))?;
            if value.contains('%') {
                interpolate(value, lookup, depth + 1, out)?;
            } else {
                out.push_str(value);
            }
        } else {
            return Err(format!(
                "'%' must be followed by '%' or '(', found: {rest:?}"
            ));
        }
        if out.len() > MAX_EXPANDED {
            return Err(format!(
                "interpolated value larger than {MAX_EXPANDED} bytes"
            ));
        }
    }
    out.push_str(rest);
    Ok(())
}

/// What a `file:` directive finds at a path relative to the sdist's top directory.
#[derive(Debug, PartialEq)]
pub(crate) enum FileRead {
    Found(Vec<u8>),
    /// Not in the archive: setuptools warns and skips it.
    Missing,
    /// In the archive but not read (too large, not kept, not UTF-8...): the result would be
    /// a guess.
    Unreadable(String),
}

/// A requirement-list option.
#[derive(Debug, PartialEq)]
pub(crate) enum Field {
    Absent,
    /// A `file:` directive whose files could not all be read: the content is unknown.
    Indirect(String),
    Value(Vec<String>),
}

#[derive(Debug)]
pub(crate) struct SetupCfg {
    pub name: Option<String>,
    pub version: Option<String>,
    pub python_requires: Option<String>,
    pub install_requires: Field,
    pub setup_requires: Field,
    /// `None` when `[options.extras_require]` is absent; `Some(Err(why))` when a value is
    /// indirect and unreadable.
    pub extras: Option<Result<RequiresAndExtras, String>>,
    /// `[metadata]` or `[options]` is present: setuptools reads this file for the project.
    pub declares_project: bool,
}

impl SetupCfg {
    /// Requirements and extra names, when setup.cfg states them completely.
    pub fn requires_dist(&self) -> Option<(Vec<String>, Vec<String>)> {
        let base = match &self.install_requires {
            Field::Indirect(_) => return None,
            Field::Absent if self.extras.is_none() => return None,
            Field::Absent => Vec::new(),
            Field::Value(v) => v.clone(),
        };
        match &self.extras {
            None => Some((base, Vec::new())),
            Some(Err(_)) => None,
            Some(Ok((reqs, extras))) => Some(([base, reqs.clone()].concat(), extras.clone())),
        }
    }

    /// Why the requirements are unknown although setup.cfg mentions them.
    pub fn unknown_reason(&self) -> Option<String> {
        match (&self.install_requires, &self.extras) {
            (Field::Indirect(why), _) | (_, Some(Err(why))) => Some(why.clone()),
            _ => None,
        }
    }
}

/// Resolves `path` (as written after `file:`) against the archive root the way
/// `setuptools.config.expand.read_files` does, without touching a file system: `None` when
/// it leaves the root (setuptools refuses existing such files and skips missing ones; which
/// applies depends on the build machine, so the result is unknown).
fn local_path(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `ConfigHandler._parse_file`: `file: a.txt, b.txt` is the files' contents joined with
/// `\n` (missing files skipped); any other value is itself.
fn expand_file<'v>(
    value: &'v str,
    read: &dyn Fn(&str) -> FileRead,
) -> Result<std::borrow::Cow<'v, str>, String> {
    let Some(spec) = value.strip_prefix("file:") else {
        return Ok(value.into());
    };
    let mut parts = Vec::new();
    for path in spec.split(',').map(str::trim) {
        let Some(local) = local_path(path) else {
            return Err(format!("setup.cfg `file: {path}` points outside the sdist"));
        };
        match read(&local) {
            FileRead::Found(bytes) => match String::from_utf8(bytes) {
                Ok(t) => parts.push(t),
                Err(_) => return Err(format!("setup.cfg `file: {path}`: not UTF-8")),
            },
            FileRead::Missing => {}
            FileRead::Unreadable(why) => {
                return Err(format!("setup.cfg `file: {path}`: {why}"));
            }
        }
    }
    Ok(parts.join("\n").into())
}

/// `_parse_requirements_list` / `_parse_list_semicolon`: one item per line when multi-line,
/// else `;`-separated; then setuptools' requirement line handling.
fn parse_list(value: &str, read: &dyn Fn(&str) -> FileRead) -> Field {
    let value = match expand_file(value, read) {
        Ok(v) => v,
        Err(why) => return Field::Indirect(why),
    };
    let items: Vec<&str> = if value.contains('\n') {
        value.lines().collect()
    } else {
        value.split(';').collect()
    };
    Field::Value(split_lines(items))
}

/// setuptools' option-name normalization for its own sections (`warn_dash_deprecation`,
/// `make_option_lowercase`): `-` becomes `_`; only `[metadata]` keys are lowercased.
fn setuptools_key(section: &str, key: &str) -> String {
    let key = key.replace('-', "_");
    if section == "metadata" {
        key.to_lowercase()
    } else {
        key
    }
}

/// Reads setup.cfg; `Err` (naming the line or option) when setuptools itself would fail on
/// it: invalid INI, or an interpolation error in any section. `read` gives the sdist's
/// files for `file:` directives.
pub(crate) fn parse(text: &str, read: &dyn Fn(&str) -> FileRead) -> Result<SetupCfg, String> {
    let ini = parse_ini(text)?;
    ini.check_all()?;
    let section = |name: &str| ini.section(name).transpose();
    let metadata = section("metadata")?;
    let options = section("options")?;
    // Later duplicates after normalization win, as setuptools overwrites its option dict.
    let get = |opts: &Option<Options>, section: &str, key: &str| -> Option<String> {
        opts.as_ref()?
            .iter()
            .rev()
            .find(|(k, _)| setuptools_key(section, k) == key)
            .map(|(_, v)| v.clone())
    };
    let field =
        |key: &str| get(&options, "options", key).map_or(Field::Absent, |v| parse_list(&v, read));
    let extras = section("options.extras_require")?.map(|opts| {
        let mut reqs = Vec::new();
        let mut names = Vec::new();
        for (key, value) in &opts {
            let list = match parse_list(value, read) {
                Field::Value(list) => list,
                Field::Indirect(why) => return Err(why),
                Field::Absent => Vec::new(),
            };
            let (extra, marker) = split_extra_key(key);
            add_extra(&mut names, extra);
            reqs.extend(list.iter().map(|r| with_extra(r, extra, marker)));
        }
        Ok((reqs, names))
    });
    fn plain(v: Option<String>) -> Option<String> {
        v.filter(|v| !v.is_empty() && !v.starts_with("file:") && !v.starts_with("attr:"))
    }
    Ok(SetupCfg {
        name: plain(get(&metadata, "metadata", "name")),
        version: plain(get(&metadata, "metadata", "version")),
        python_requires: plain(get(&options, "options", "python_requires")),
        install_requires: field("install_requires"),
        setup_requires: field("setup_requires"),
        extras,
        declares_project: metadata.is_some() || options.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(_: &str) -> FileRead {
        FileRead::Missing
    }

    fn cfg(text: &str) -> SetupCfg {
        parse(text, &no_files).unwrap()
    }

    #[test]
    fn options_and_extras() {
        let text = "[metadata]\nname = demo\n\n[options]\npython_requires = >=3.6\ninstall_requires =\n\tzipp>=0.5\n\t# comment\n\n\ttyping-extensions>=3.6.4; python_version < \"3.8\"\nsetup_requires = setuptools_scm; wheel\n\n[options.extras_require]\ntesting =\n\tpytest-black >= 0.3.7; \\\n\tpython_implementation != \"PyPy\"\ndocs = sphinx\n";
        let cfg = cfg(text);
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
    fn interpolation_like_configparser() {
        // sqlalchemy 2.0.7's extras (see tests/fixtures/pypi/SOURCES.md).
        let text = "[options.extras_require]\nasyncio =\n\tgreenlet!=0.4.17\naiomysql =\n\t%(asyncio)s\n\taiomysql\n";
        let (reqs, extras) = cfg(text).requires_dist().unwrap();
        assert_eq!(
            reqs,
            vec![
                "greenlet!=0.4.17; extra == \"asyncio\"",
                "greenlet!=0.4.17; extra == \"aiomysql\"",
                "aiomysql; extra == \"aiomysql\""
            ]
        );
        assert_eq!(extras, vec!["asyncio", "aiomysql"]);
        // [DEFAULT] is visible (and its options join every section), `%%` is `%`, nested
        // references expand in the referring section.
        let text = "[DEFAULT]\nbase = a>=1\n[options]\nmore = %(base)s\ninstall_requires = %(more)s; b%%c\n";
        assert_eq!(
            cfg(text).install_requires,
            Field::Value(vec!["a>=1".into(), "b%c".into()])
        );
        let text = "[DEFAULT]\nx = 1\n[options.extras_require]\ntest = pytest\n";
        assert_eq!(cfg(text).requires_dist().unwrap().1, vec!["test", "x"]);
    }

    #[test]
    fn interpolation_errors_fail_like_setuptools() {
        for (text, want) in [
            // Cross-section references are ExtendedInterpolation syntax, not Basic.
            (
                "[a]\nx = 1\n[options]\ninstall_requires = %(a:x)s\n",
                "no option \"a:x\"",
            ),
            (
                "[options]\ninstall_requires = %(missing)s\n",
                "no option \"missing\"",
            ),
            (
                "[tool:pytest]\nlog_format = %(asctime)s\n",
                "[tool:pytest] log_format",
            ),
            ("[options]\nx = 50%\n", "'%' must be followed by '%' or '('"),
            (
                "[options]\nx = %(y\n",
                "bad interpolation variable reference",
            ),
            ("[options]\na = %(a)s\n", "deeper than 10 levels"),
        ] {
            let err = parse(text, &no_files).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        // Depth 10 is allowed: a0 -> a1 -> ... -> a9 (nine nested expansions).
        let mut text = String::from("[s]\n");
        for i in 0..9 {
            text.push_str(&format!("a{i} = %(a{})s\n", i + 1));
        }
        text.push_str("a9 = %%\n");
        assert!(parse(&text, &no_files).is_ok());
        let text = text.replace("a9 = %%", "a9 = %(a10)s\na10 = %%");
        assert!(parse(&text, &no_files).unwrap_err().contains("deeper"));
        // Exponential growth is capped.
        let mut text = String::from("[s]\nx0 = aaaaaaaaaaaaaaaa\n");
        for i in 1..10 {
            text.push_str(&format!(
                "x{i} = %(x{0})s%(x{0})s%(x{0})s%(x{0})s%(x{0})s\n",
                i - 1
            ));
        }
        assert!(parse(&text, &no_files).unwrap_err().contains("larger than"));
    }

    #[test]
    fn keys_keep_case_and_normalize_like_setuptools() {
        let text = "[options]\ninstall-requires = a\n[options.extras_require]\nMy-Extra = b\n";
        let (reqs, extras) = cfg(text).requires_dist().unwrap();
        assert_eq!(reqs, vec!["a", "b; extra == \"My-Extra\""]);
        assert_eq!(extras, vec!["My-Extra"]);
        let text = "[options]\nInstall_Requires = a\n";
        assert_eq!(cfg(text).install_requires, Field::Absent);
    }

    #[test]
    fn file_directives() {
        let files = |p: &str| match p {
            "requirements.txt" => FileRead::Found(b"a>=1\n# c\nb ; os_name=='nt'\n".to_vec()),
            "req/extra.txt" => FileRead::Found(b"c".to_vec()),
            "big.txt" => FileRead::Unreadable("larger than the cap".into()),
            _ => FileRead::Missing,
        };
        let text = "[options]\ninstall_requires = file: requirements.txt, missing.txt\n[options.extras_require]\nx = file: ./req/../req/extra.txt\n";
        let cfg = parse(text, &files).unwrap();
        assert_eq!(
            cfg.requires_dist().unwrap(),
            (
                vec![
                    "a>=1".into(),
                    "b ; os_name=='nt'".into(),
                    "c; extra == \"x\"".into()
                ],
                vec!["x".into()]
            )
        );
        for text in [
            "[options]\ninstall_requires = file: big.txt\n",
            "[options]\ninstall_requires = file: ../outside.txt\n",
            "[options]\ninstall_requires = file: /etc/passwd\n",
            "[options.extras_require]\nx = file: req/../../x.txt\n",
        ] {
            let cfg = parse(text, &files).unwrap();
            assert_eq!(cfg.requires_dist(), None, "{text}");
            assert!(cfg.unknown_reason().is_some(), "{text}");
        }
        // Only a value that starts with `file:` is a directive.
        let cfg = parse("[options]\ninstall_requires =\n\tfile: x.txt\n", &files).unwrap();
        assert_eq!(
            cfg.install_requires,
            Field::Value(vec!["file: x.txt".into()])
        );
    }

    #[test]
    fn malformed_ini_names_the_line() {
        assert_eq!(
            parse("key = v\n", &no_files).unwrap_err(),
            "line 1: option before any [section] header"
        );
        assert_eq!(
            parse("[a]\nk = 1\nnot an option\n", &no_files).unwrap_err(),
            "line 3: expected `key = value`"
        );
        assert!(parse("[a]\n[a]\n", &no_files).is_err());
        assert!(parse("[a]\nk = 1\nk = 2\n", &no_files).is_err());
    }

    #[test]
    fn no_requirements_is_absent() {
        let cfg = cfg("[metadata]\nname = x\n");
        assert_eq!(cfg.requires_dist(), None);
        assert!(cfg.declares_project);
    }
}
