//! Combines an sdist's metadata sources. Each field takes the first source that states it:
//! PKG-INFO (Metadata-Version >= 2.2, field not `Dynamic`), pyproject.toml, older PKG-INFO
//! from backends that only write static metadata (poetry-core, flit, hatchling, pdm),
//! setup.cfg, `*.egg-info/requires.txt`, older PKG-INFO (Requires-Python only), static setup.py.

use super::archive::Members;
use super::core_metadata::{self, CoreMetadata};
use super::setup_py::{self, SetupPy};
use super::{ExtractError, Extracted, Source, Sourced, pyproject, setup_cfg};

/// PEP 517's fallback build requirements for projects without `[build-system]`.
const DEFAULT_BUILD_REQUIRES: &str = "setuptools>=40.8.0";

/// Build backends that write PKG-INFO from static configuration only, so even before
/// Metadata-Version 2.2 their PKG-INFO says what every wheel built from the sdist will say.
const STATIC_METADATA_BACKENDS: [&str; 5] = [
    "poetry.core.masonry.api",
    "flit_core.buildapi",
    "hatchling.build",
    "pdm.backend",
    "pdm.pep517.api",
];

fn text<'a>(bytes: &'a [u8], member: &str) -> Result<&'a str, ExtractError> {
    std::str::from_utf8(bytes).map_err(|_| ExtractError::NotUtf8 {
        member: member.to_string(),
        field: "(file)".into(),
    })
}

/// PEP 503 normalization plus `_`, as egg-info directory names use `_` for `-`.
fn norm(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '-' | '_' | '.') {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The project's own egg-info directory: the only one, or the one named after the project.
fn pick_egg_info<'m>(m: &'m Members, project: Option<&str>) -> Option<&'m str> {
    let dirs: Vec<&str> = m
        .egg_info_dirs
        .iter()
        .map(String::as_str)
        .filter(|d| d.starts_with(&m.top))
        .collect();
    if let [only] = dirs.as_slice() {
        return Some(only);
    }
    let want = norm(project?);
    let mut named = dirs.into_iter().filter(|d| {
        let base = d.rsplit('/').next().unwrap_or(d);
        norm(base.trim_end_matches(".egg-info")) == want
    });
    match (named.next(), named.next()) {
        (Some(d), None) => Some(d),
        _ => None,
    }
}

fn set<T>(slot: &mut Option<Sourced<T>>, value: Option<T>, source: Source) {
    if slot.is_none()
        && let Some(v) = value
    {
        *slot = Some(Sourced::new(v, source));
    }
}

pub(crate) fn extract(m: &Members) -> Result<Extracted, ExtractError> {
    let top = m.top.as_str();
    let pkg_info_bytes = m.top_file("PKG-INFO");
    let pyproject_bytes = m.top_file("pyproject.toml");
    let setup_cfg_bytes = m.top_file("setup.cfg");
    let setup_py_bytes = m.top_file("setup.py");
    if [
        pkg_info_bytes,
        pyproject_bytes,
        setup_cfg_bytes,
        setup_py_bytes,
    ]
    .iter()
    .all(Option::is_none)
    {
        return Err(ExtractError::NoMetadata(format!(
            "sdist has no PKG-INFO, pyproject.toml, setup.cfg or setup.py in its top directory {top:?}"
        )));
    }
    let mut out = Extracted::default();
    let mut extras: Option<Vec<String>> = None;

    // 1. PKG-INFO
    let pkg: Option<CoreMetadata> = pkg_info_bytes
        .map(|b| core_metadata::parse(b, &format!("{top}PKG-INFO")))
        .transpose()?;
    if let Some(pkg) = &pkg {
        out.metadata_version.clone_from(&pkg.metadata_version);
        out.name.clone_from(&pkg.name);
        out.version.clone_from(&pkg.version);
        if pkg.is_static_capable() {
            if !pkg.is_dynamic("requires-dist") {
                set(
                    &mut out.requires_dist,
                    Some(pkg.requires_dist.clone()),
                    Source::PkgInfo,
                );
                extras = Some(pkg.provides_extra.clone());
            }
            if !pkg.is_dynamic("requires-python") {
                set(
                    &mut out.requires_python,
                    pkg.requires_python.clone(),
                    Source::PkgInfo,
                );
            }
        }
    }

    // 2. pyproject.toml
    let pyproject = match pyproject_bytes {
        Some(b) => Some(pyproject::parse(text(b, &format!("{top}pyproject.toml"))?)?),
        None => None,
    };
    match &pyproject {
        Some(p) if p.has_build_system => {
            out.has_build_system = true;
            set(
                &mut out.build_requires,
                p.build_requires.clone(),
                Source::Pyproject,
            );
            out.build_backend.clone_from(&p.build_backend);
        }
        _ => set(
            &mut out.build_requires,
            Some(vec![DEFAULT_BUILD_REQUIRES.to_string()]),
            Source::Default,
        ),
    }
    if let Some(project) = pyproject.as_ref().and_then(|p| p.project.as_ref()) {
        if let Some((reqs, names)) = &project.requires_dist
            && out.requires_dist.is_none()
        {
            set(
                &mut out.requires_dist,
                Some(reqs.clone()),
                Source::Pyproject,
            );
            extras = Some(names.clone());
        }
        set(
            &mut out.requires_python,
            project.requires_python.clone(),
            Source::Pyproject,
        );
        out.name = out.name.take().or_else(|| project.name.clone());
        out.version = out.version.take().or_else(|| project.version.clone());
    }

    // 2b. Older PKG-INFO written by a backend without dynamic metadata.
    if let Some(pkg) = &pkg
        && out.requires_dist.is_none()
        && out
            .build_backend
            .as_deref()
            .is_some_and(|b| STATIC_METADATA_BACKENDS.contains(&b))
    {
        set(
            &mut out.requires_dist,
            Some(pkg.requires_dist.clone()),
            Source::PkgInfo,
        );
        extras = Some(pkg.provides_extra.clone());
    }

    // 3. setup.cfg: a file setuptools itself could not read is skipped, not fatal.
    let cfg = match setup_cfg_bytes
        .map(|b| text(b, &format!("{top}setup.cfg")))
        .transpose()?
    {
        Some(t) => setup_cfg::parse(t)
            .inspect_err(|e| tracing::debug!("{top}setup.cfg is not readable, ignoring it: {e}"))
            .ok(),
        None => None,
    };
    if let Some(cfg) = &cfg {
        if let Some((reqs, names)) = cfg.requires_dist()
            && out.requires_dist.is_none()
        {
            set(&mut out.requires_dist, Some(reqs), Source::SetupCfg);
            extras = Some(names);
        }
        match &cfg.setup_requires {
            setup_cfg::Field::Value(v) => {
                set(&mut out.setup_requires, Some(v.clone()), Source::SetupCfg)
            }
            setup_cfg::Field::Absent if setup_py_bytes.is_none() && cfg.declares_project => {
                set(&mut out.setup_requires, Some(Vec::new()), Source::SetupCfg)
            }
            _ => {}
        }
        set(
            &mut out.requires_python,
            cfg.python_requires.clone(),
            Source::SetupCfg,
        );
        out.name = out.name.take().or_else(|| cfg.name.clone());
        out.version = out.version.take().or_else(|| cfg.version.clone());
    }

    // 4. egg-info requires.txt, then Requires-Python from PKG-INFO of any version.
    if out.requires_dist.is_none()
        && let Some(dir) = pick_egg_info(m, out.name.as_deref())
    {
        let member = format!("{dir}/requires.txt");
        if let Some(b) = m.files.get(&member) {
            let (reqs, names) = super::egg_info::parse_requires_txt(text(b, &member)?);
            set(&mut out.requires_dist, Some(reqs), Source::EggInfo);
            extras = Some(names);
        }
    }
    set(
        &mut out.requires_python,
        pkg.as_ref().and_then(|p| p.requires_python.clone()),
        Source::PkgInfo,
    );

    // 5. setup.py, read statically.
    if let Some(b) = setup_py_bytes {
        if out.requires_dist.is_none()
            || out.setup_requires.is_none()
            || out.requires_python.is_none()
        {
            // Python source may declare another encoding; requirement strings are ASCII.
            let setup = setup_py::analyze(&String::from_utf8_lossy(b));
            if let SetupPy::Unreadable(why) = &setup {
                tracing::debug!("{top}setup.py is not static: {why}");
            }
            if out.requires_dist.is_none()
                && let Some((reqs, names)) = setup.requires_dist()
            {
                set(&mut out.requires_dist, Some(reqs), Source::SetupPyStatic);
                extras = Some(names);
            }
            set(
                &mut out.setup_requires,
                setup.setup_requires(),
                Source::SetupPyStatic,
            );
            set(
                &mut out.requires_python,
                setup.python_requires(),
                Source::SetupPyStatic,
            );
        }
        out.dynamic_setup_py = out.requires_dist.is_none() || out.setup_requires.is_none();
    }

    out.provides_extra = extras.unwrap_or_default();
    Ok(out)
}
