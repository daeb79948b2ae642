//! pyproject.toml: `[build-system]` (PEP 518/517) and the static parts of `[project]` (PEP 621).
//! A file that is not valid TOML or has wrongly typed fields is an error: pip refuses to build
//! such an sdist, so guessing would only hide the problem.

use toml::{Table, Value};

use super::ExtractError;
use super::reqs::add_extra;

#[derive(Debug, Default)]
pub(crate) struct Pyproject {
    pub has_build_system: bool,
    /// `[build-system] requires`; `None` when the table or key is missing.
    pub build_requires: Option<Vec<String>>,
    pub build_backend: Option<String>,
    /// Present when there is a `[project]` table.
    pub project: Option<Project>,
}

#[derive(Debug, Default)]
pub(crate) struct Project {
    pub name: Option<String>,
    pub version: Option<String>,
    /// `None` when listed in `dynamic`; absent and not dynamic means empty.
    pub requires_dist: Option<(Vec<String>, Vec<String>)>,
    pub requires_python: Option<String>,
}

const MEMBER: &str = "pyproject.toml";

fn bad(msg: impl Into<String>) -> ExtractError {
    ExtractError::BadPyproject {
        member: MEMBER.into(),
        msg: msg.into(),
    }
}

fn string_array(v: &Value, what: &str) -> Result<Vec<String>, ExtractError> {
    let arr = v
        .as_array()
        .ok_or_else(|| bad(format!("{what} must be an array of strings")))?;
    arr.iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("{what} must contain only strings")))
        })
        .collect()
}

fn opt_str(t: &Table, key: &str, what: &str) -> Result<Option<String>, ExtractError> {
    t.get(key)
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("{what} must be a string")))
        })
        .transpose()
}

pub(crate) fn parse(text: &str) -> Result<Pyproject, ExtractError> {
    let doc: Table =
        toml::from_str(text).map_err(|e| bad(format!("invalid TOML: {}", e.message())))?;
    let mut out = Pyproject::default();
    if let Some(bs) = doc.get("build-system") {
        let bs = bs
            .as_table()
            .ok_or_else(|| bad("[build-system] must be a table"))?;
        out.has_build_system = true;
        out.build_requires = bs
            .get("requires")
            .map(|v| string_array(v, "[build-system] requires"))
            .transpose()?;
        out.build_backend = opt_str(bs, "build-backend", "[build-system] build-backend")?;
    }
    if let Some(p) = doc.get("project") {
        let p = p
            .as_table()
            .ok_or_else(|| bad("[project] must be a table"))?;
        let dynamic = p
            .get("dynamic")
            .map(|v| string_array(v, "project.dynamic"))
            .transpose()?
            .unwrap_or_default();
        let is_dynamic = |f: &str| dynamic.iter().any(|d| d == f);
        let mut project = Project {
            name: opt_str(p, "name", "project.name")?,
            version: opt_str(p, "version", "project.version")?,
            requires_python: opt_str(p, "requires-python", "project.requires-python")?,
            requires_dist: None,
        };
        if is_dynamic("requires-python") {
            project.requires_python = None;
        }
        if !is_dynamic("dependencies") && !is_dynamic("optional-dependencies") {
            let mut reqs = p
                .get("dependencies")
                .map(|v| string_array(v, "project.dependencies"))
                .transpose()?
                .unwrap_or_default();
            let mut extras = Vec::new();
            if let Some(od) = p.get("optional-dependencies") {
                let od = od
                    .as_table()
                    .ok_or_else(|| bad("project.optional-dependencies must be a table"))?;
                for (extra, list) in od {
                    add_extra(&mut extras, Some(extra));
                    for req in
                        string_array(list, &format!("project.optional-dependencies.{extra}"))?
                    {
                        reqs.push(super::reqs::with_extra(&req, Some(extra), None));
                    }
                }
            }
            project.requires_dist = Some((reqs, extras));
        }
        out.project = Some(project);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_project() {
        let p = parse(
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n[project]\nname = \"x\"\nrequires-python = \">=3.8\"\ndependencies = [\"a>=1\"]\n[project.optional-dependencies]\ntest = [\"pytest; python_version >= '3.9'\"]\n",
        )
        .unwrap();
        assert_eq!(p.build_requires, Some(vec!["hatchling".to_string()]));
        assert_eq!(p.build_backend.as_deref(), Some("hatchling.build"));
        let project = p.project.unwrap();
        let (reqs, extras) = project.requires_dist.unwrap();
        assert_eq!(
            reqs,
            vec![
                "a>=1",
                "pytest; (python_version >= '3.9') and extra == \"test\""
            ]
        );
        assert_eq!(extras, vec!["test"]);
        assert_eq!(project.requires_python.as_deref(), Some(">=3.8"));
    }

    #[test]
    fn dynamic_and_missing() {
        let p = parse("[project]\nname = \"x\"\ndynamic = [\"dependencies\"]\n").unwrap();
        assert!(!p.has_build_system);
        assert_eq!(p.project.unwrap().requires_dist, None);
        let p = parse("[project]\nname = \"x\"\n").unwrap();
        assert_eq!(p.project.unwrap().requires_dist, Some((vec![], vec![])));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse("[project\n"),
            Err(ExtractError::BadPyproject { .. })
        ));
        let err = parse("[build-system]\nrequires = \"setuptools\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pyproject.toml: [build-system] requires must be an array of strings"
        );
    }
}
