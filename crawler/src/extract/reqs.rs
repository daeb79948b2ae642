//! Requirement-list helpers shared by the setuptools-style sources (setup.cfg, requires.txt,
//! setup.py): line splitting the way setuptools does it and folding `extras_require` keys
//! into `extra == "x"` markers. Strings stay raw; canonicalization is the caller's job.

/// setuptools' `_reqs.parse_strings`: split into lines, strip, drop blank and `#` lines, cut
/// ` #` comments and join lines ending in a backslash with the next line.
pub(crate) fn split_lines<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for item in items {
        for line in item.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.split(" #").next().unwrap_or("").trim_end();
            let joined = match pending.take() {
                Some(mut p) => {
                    p.push_str(line);
                    p
                }
                None => line.to_string(),
            };
            match joined.strip_suffix('\\') {
                Some(head) => pending = Some(head.trim_end().to_string()),
                None => out.push(joined),
            }
        }
    }
    // A trailing backslash with nothing after it: setuptools drops the line, so do we.
    out
}

/// Splits an `extras_require` key / requires.txt section `extra:marker` into its parts.
pub(crate) fn split_extra_key(key: &str) -> (Option<&str>, Option<&str>) {
    let (extra, marker) = match key.split_once(':') {
        Some((e, m)) => (e, Some(m)),
        None => (key, None),
    };
    let extra = Some(extra.trim()).filter(|e| !e.is_empty());
    let marker = marker.map(str::trim).filter(|m| !m.is_empty());
    (extra, marker)
}

/// Finds the `;` that starts a requirement's marker. For URL requirements PEP 508 requires
/// whitespace before it, since `;` may appear inside the URL.
fn marker_split(req: &str) -> Option<usize> {
    let is_url = req.contains('@');
    req.char_indices()
        .filter(|&(_, c)| c == ';')
        .map(|(i, _)| i)
        .find(|&i| !is_url || req[..i].ends_with(char::is_whitespace))
}

/// `req` restricted to `extra` and `section_marker`, combined with its own marker as
/// `req; (own) and (section) and extra == "x"`.
pub(crate) fn with_extra(req: &str, extra: Option<&str>, section_marker: Option<&str>) -> String {
    if extra.is_none() && section_marker.is_none() {
        return req.to_string();
    }
    let (base, own) = match marker_split(req) {
        Some(i) => (
            req[..i].trim_end(),
            Some(req[i + 1..].trim()).filter(|m| !m.is_empty()),
        ),
        None => (req, None),
    };
    let mut parts: Vec<String> = own
        .into_iter()
        .chain(section_marker)
        .map(str::to_string)
        .collect();
    let extra_clause = extra.map(|e| format!("extra == \"{e}\""));
    if parts.len() + usize::from(extra_clause.is_some()) > 1 {
        parts = parts
            .into_iter()
            .map(|m| {
                if is_parenthesized(&m) {
                    m
                } else {
                    format!("({m})")
                }
            })
            .collect();
    }
    parts.extend(extra_clause);
    format!("{base}; {}", parts.join(" and "))
}

/// True when the whole marker is one parenthesized group, e.g. `(a or b)` but not
/// `(a) or (b)`. Quotes are respected so `")"` inside a string does not count.
fn is_parenthesized(marker: &str) -> bool {
    if !marker.starts_with('(') {
        return false;
    }
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in marker.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return i == marker.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// Pushes `extra` onto `extras` unless already present.
pub(crate) fn add_extra(extras: &mut Vec<String>, extra: Option<&str>) {
    if let Some(e) = extra
        && !extras.iter().any(|x| x == e)
    {
        extras.push(e.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_setuptools() {
        let got = split_lines([
            "a>=1\n  # comment\n\nb ; python_version<'3' # why\nc; \\\n  os_name=='nt'",
            "d",
        ]);
        assert_eq!(
            got,
            vec!["a>=1", "b ; python_version<'3'", "c;os_name=='nt'", "d"]
        );
    }

    #[test]
    fn extra_markers() {
        assert_eq!(with_extra("a>=1", None, None), "a>=1");
        assert_eq!(with_extra("a>=1", Some("x"), None), "a>=1; extra == \"x\"");
        assert_eq!(
            with_extra("a; os_name=='nt'", Some("x"), None),
            "a; (os_name=='nt') and extra == \"x\""
        );
        assert_eq!(
            with_extra("a", None, Some("python_version<'3'")),
            "a; python_version<'3'"
        );
        assert_eq!(
            with_extra("a;b=='1' or c=='2'", Some("t"), Some("d=='3'")),
            "a; (b=='1' or c=='2') and (d=='3') and extra == \"t\""
        );
        assert_eq!(
            with_extra("p @ https://h/x;y.whl ; os_name=='nt'", Some("e"), None),
            "p @ https://h/x;y.whl; (os_name=='nt') and extra == \"e\""
        );
        assert_eq!(
            with_extra("a", Some("d"), Some("(b or c)")),
            "a; (b or c) and extra == \"d\""
        );
        assert_eq!(
            with_extra("a", Some("d"), Some("(b) or (c)")),
            "a; ((b) or (c)) and extra == \"d\""
        );
        assert_eq!(
            with_extra("a", Some("d"), Some("(b == ')') or c")),
            "a; ((b == ')') or c) and extra == \"d\""
        );
    }

    #[test]
    fn extra_keys() {
        assert_eq!(split_extra_key("test"), (Some("test"), None));
        assert_eq!(
            split_extra_key(":python_version<'3'"),
            (None, Some("python_version<'3'"))
        );
        assert_eq!(
            split_extra_key("socks: sys_platform=='win32'"),
            (Some("socks"), Some("sys_platform=='win32'"))
        );
    }
}
