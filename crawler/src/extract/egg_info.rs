//! `*.egg-info/requires.txt`: unconditional requirements, then `[extra]`, `[:marker]` and
//! `[extra:marker]` sections, as setuptools' `egg_info` writes them.

use super::reqs::{add_extra, split_extra_key, split_lines, with_extra};

/// Returns the requirement strings (extras folded into markers) and the extra names.
pub(crate) fn parse_requires_txt(text: &str) -> (Vec<String>, Vec<String>) {
    let mut requires = Vec::new();
    let mut extras = Vec::new();
    let mut section: Option<String> = None;
    let mut body = String::new();
    let flush = |section: &Option<String>,
                 body: &mut String,
                 requires: &mut Vec<String>,
                 extras: &mut Vec<String>| {
        let (extra, marker) = section
            .as_deref()
            .map(split_extra_key)
            .unwrap_or((None, None));
        add_extra(extras, extra);
        for req in split_lines([body.as_str()]) {
            requires.push(with_extra(&req, extra, marker));
        }
        body.clear();
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            flush(&section, &mut body, &mut requires, &mut extras);
            section = Some(name.to_string());
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&section, &mut body, &mut requires, &mut extras);
    (requires, extras)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        let text = "six>=1.9\n\n[:(python_version<\"3.3\")]\nfuncsigs>=1\n\n[docs:python_version>=\"3\"]\nsphinx\n\n[test]\nunittest2>=1.1.0\n[empty]\n";
        let (reqs, extras) = parse_requires_txt(text);
        assert_eq!(
            reqs,
            vec![
                "six>=1.9",
                "funcsigs>=1; (python_version<\"3.3\")",
                "sphinx; (python_version>=\"3\") and extra == \"docs\"",
                "unittest2>=1.1.0; extra == \"test\"",
            ]
        );
        assert_eq!(extras, vec!["docs", "test", "empty"]);
    }
}
