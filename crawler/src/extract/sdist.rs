//! Combines an sdist's metadata sources. Each field takes the first source that states it:
//! PKG-INFO (Metadata-Version >= 2.2, field not `Dynamic`), pyproject.toml, older PKG-INFO
//! from backends that only write static metadata ([`STATIC_METADATA_BACKENDS`]), setup.cfg,
//! `*.egg-info/requires.txt` (unless setup.py computes its requirements from the build
//! environment: see [`RequiresTxt`]), older PKG-INFO (Requires-Python only), static setup.py.

use super::archive::Members;
use super::core_metadata::{self, CoreMetadata};
use super::setup_cfg::FileRead;
use super::setup_py::{self, Overrides, SetupPy};
use super::{ExtractError, Extracted, Source, Sourced, UNBUILDABLE, pyproject, setup_cfg};

/// PEP 517's fallback build requirements for projects without `[build-system]`.
const DEFAULT_BUILD_REQUIRES: &str = "setuptools>=40.8.0";

/// Build backends whose PKG-INFO is generated from static configuration only, so even
/// before Metadata-Version 2.2 (which most of them do not write yet) it says what every wheel
/// built from the sdist will say — as long as pyproject.toml does not declare the
/// dependencies `dynamic` (then a plugin may compute them; Poetry excepted, see below).
/// Why each one is here (crawler/SCHEMA.md repeats this):
/// - `poetry.core.masonry.api`, `poetry.masonry.api` (Poetry < 1.1 shipped the backend in
///   poetry itself): dependencies come from `[tool.poetry.dependencies]`/`[project]` only;
///   Poetry runs no project code. Poetry 2 lists `dependencies` as dynamic when it fills
///   them from `[tool.poetry]`, which is still static, so the `dynamic` rule does not apply.
/// - `flit_core.buildapi`, `flit.buildapi` (old flit, delegating to flit_core): flit only
///   allows `version` and `description` to be dynamic.
/// - `hatchling.build`: build hooks cannot change dependencies; metadata hooks can only
///   fill fields listed as `dynamic`.
/// - `pdm.backend`, `pdm.pep517.api` (its predecessor): metadata from `[project]`.
/// - `maturin`: metadata from `[project]` or Cargo.toml, no Python code runs.
/// - `mesonpy`, `scikit_build_core.build`: metadata from `[project]`; scikit-build-core's
///   metadata providers only fill `dynamic` fields.
/// - `uv_build`: static `[project]` only.
const STATIC_METADATA_BACKENDS: [&str; 11] = [
    "poetry.core.masonry.api",
    "poetry.masonry.api",
    "flit_core.buildapi",
    "flit.buildapi",
    "hatchling.build",
    "pdm.backend",
    "pdm.pep517.api",
    "maturin",
    "mesonpy",
    "scikit_build_core.build",
    "uv_build",
];

/// Poetry fills `[project] dependencies` from `[tool.poetry]` when they are `dynamic`.
fn dynamic_is_static(backend: &str) -> bool {
    backend.starts_with("poetry.")
}

/// Largest file a setup.cfg `file:` directive may read.
const MAX_DIRECTIVE_FILE: usize = 64 * 1024;

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

/// Appends to the `decision` note (several fields may each record one).
fn note(decision: &mut Option<String>, what: &str) {
    match decision {
        Some(d) => {
            d.push_str("; ");
            d.push_str(what);
        }
        None => *decision = Some(what.to_string()),
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
        if let Some(installed) = m.paths.iter().find(|p| is_installed_tree(p)) {
            return Err(ExtractError::BdistDumb(installed.clone()));
        }
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
    let deps_dynamic = pyproject
        .as_ref()
        .and_then(|p| p.project.as_ref())
        .is_some_and(|p| p.requires_dist.is_none());
    if let Some(pkg) = &pkg
        && out.requires_dist.is_none()
        && let Some(backend) = out.build_backend.as_deref()
        && STATIC_METADATA_BACKENDS.contains(&backend)
        && (!deps_dynamic || dynamic_is_static(backend))
    {
        set(
            &mut out.requires_dist,
            Some(pkg.requires_dist.clone()),
            Source::PkgInfo,
        );
        extras = Some(pkg.provides_extra.clone());
    }

    // setup.py, read statically (parsed at most once, only when a field is still open or
    // setup.cfg may be overridden by its keywords).
    let need_setup_py = out.requires_dist.is_none()
        || out.setup_requires.is_none()
        || out.requires_python.is_none();
    let setup: Option<(SetupPy, String)> = match setup_py_bytes {
        Some(b) if need_setup_py => {
            // Python source may declare another encoding; requirement strings are ASCII.
            let source = String::from_utf8_lossy(b).into_owned();
            let setup = setup_py::analyze(&source);
            if let SetupPy::Unreadable(why) = &setup {
                tracing::debug!("{top}setup.py is not static: {why}");
            }
            Some((setup, source))
        }
        _ => None,
    };
    let overrides = |key: &str| {
        setup
            .as_ref()
            .map_or(Overrides::No, |(s, _)| s.overrides_cfg(key))
    };

    // 3. setup.cfg: a file setuptools itself could not read is skipped, not fatal.
    let read = |rel: &str| directive_file(m, rel);
    let cfg = match setup_cfg_bytes
        .map(|b| text(b, &format!("{top}setup.cfg")))
        .transpose()?
    {
        Some(t) => setup_cfg::parse(t, &read)
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
        if out.requires_dist.is_none() {
            out.unknown_reason = cfg.unknown_reason();
        }
        match (&cfg.setup_requires, overrides("setup_requires")) {
            (setup_cfg::Field::Value(_), Overrides::With(v)) => {
                note(
                    &mut out.decision,
                    "setup_requires from setup.py: setup() passes it, so setuptools ignores \
                     setup.cfg's",
                );
                set(&mut out.setup_requires, Some(v), Source::SetupPyStatic)
            }
            // Left open: setup.py decides, statically below or when run.
            (setup_cfg::Field::Value(_), Overrides::Unknown) => {}
            (setup_cfg::Field::Value(v), Overrides::No) => {
                set(&mut out.setup_requires, Some(v.clone()), Source::SetupCfg)
            }
            (setup_cfg::Field::Absent, _) if setup_py_bytes.is_none() && cfg.declares_project => {
                set(&mut out.setup_requires, Some(Vec::new()), Source::SetupCfg)
            }
            _ => {}
        }
        if overrides("python_requires") == Overrides::No {
            set(
                &mut out.requires_python,
                cfg.python_requires.clone(),
                Source::SetupCfg,
            );
        }
        out.name = out.name.take().or_else(|| cfg.name.clone());
        out.version = out.version.take().or_else(|| cfg.version.clone());
    }

    // 4. egg-info requires.txt: what `setup.py egg_info` wrote on the machine that made the
    // sdist. It is what setuptools computes here too unless setup.py's requirements depend
    // on the build environment; then only running setup.py can tell.
    if out.requires_dist.is_none()
        && let Some(dir) = pick_egg_info(m, out.name.as_deref())
    {
        let member = format!("{dir}/requires.txt");
        if let Some(b) = m.files.get(&member) {
            let (reqs, names) = super::egg_info::parse_requires_txt(text(b, &member)?);
            match setup.as_ref().map(|(s, src)| RequiresTxt::judge(s, src)) {
                None | Some(RequiresTxt::Trusted) => {
                    set(&mut out.requires_dist, Some(reqs), Source::EggInfo);
                    extras = Some(names);
                }
                Some(RequiresTxt::Static(static_reqs, static_names)) => {
                    if super::same_requirements(&reqs, &static_reqs) {
                        set(&mut out.requires_dist, Some(reqs), Source::EggInfo);
                        extras = Some(names);
                    } else {
                        out.decision = Some(
                            "requires.txt differs from the literal setup() arguments; \
                             setup.py-static used (setuptools rewrites requires.txt from them)"
                                .into(),
                        );
                        set(
                            &mut out.requires_dist,
                            Some(static_reqs),
                            Source::SetupPyStatic,
                        );
                        extras = Some(static_names);
                    }
                }
                Some(RequiresTxt::Environment(why)) => {
                    out.unknown_reason = Some(format!(
                        "setup.py computes its requirements depending on the build environment \
                         ({why}); requires.txt not trusted"
                    ));
                    out.requires_txt = Some((reqs, names));
                }
            }
        }
    }
    set(
        &mut out.requires_python,
        pkg.as_ref().and_then(|p| p.requires_python.clone()),
        Source::PkgInfo,
    );

    // 5. setup.py, read statically.
    if let Some((setup, _)) = &setup {
        if out.requires_dist.is_none()
            && out.requires_txt.is_none()
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
        if out.requires_dist.is_none() && out.unknown_reason.is_none() {
            out.unknown_reason = Some(match setup {
                SetupPy::Unreadable(why) => format!("setup.py is not static: {why}"),
                SetupPy::Call { .. } => "setup.py computes its requirements".into(),
            });
        }
    }
    if setup_py_bytes.is_some() {
        out.dynamic_setup_py = out.requires_dist.is_none() || out.setup_requires.is_none();
    }
    if out.requires_dist.is_none() && out.unknown_reason.is_none() {
        out.unknown_reason = Some("no static source states the requirements".into());
    }
    // Nothing tells a PEP 517 frontend how to build the project: without `[build-system]`
    // it falls back to setuptools, which without setup.py, setup.cfg or `[project]` builds
    // a wheel named after the directory, version 0.0.0, with no requirements (coastpy
    // 0.1.1, a Poetry project whose pyproject.toml lacks `[build-system]`: pip builds
    // `coastpy-0.0.0`, then refuses it for `coastpy==0.1.1`). A PKG-INFO in such an archive
    // describes something no frontend builds from it.
    let declares_project = pyproject.as_ref().is_some_and(|p| p.project.is_some())
        || cfg.as_ref().is_some_and(|c| c.declares_project);
    if setup_py_bytes.is_none() && !out.has_build_system && !declares_project {
        out.requires_dist = None;
        extras = None;
        out.unknown_reason = Some(format!(
            "{UNBUILDABLE}: no setup.py, no [build-system], no [project] or setup.cfg \
             metadata; the PEP 517 fallback (setuptools) builds a version 0.0.0 without \
             requirements"
        ));
    }

    out.provides_extra = extras.unwrap_or_default();
    Ok(out)
}

/// How far `*.egg-info/requires.txt` can be trusted, given setup.py.
enum RequiresTxt {
    /// setup.py's requirement arguments are not literal but nothing in setup.py tests the
    /// build environment, so running it here gives what it gave when the sdist was made.
    Trusted,
    /// setup.py passes literal lists: compare them with requires.txt.
    Static(Vec<String>, Vec<String>),
    /// setup.py tests the build environment (Python version, platform, environment
    /// variables, files such as `.git`): requires.txt reflects the sdist author's machine.
    Environment(String),
}

impl RequiresTxt {
    fn judge(setup: &SetupPy, source: &str) -> RequiresTxt {
        if let Some((reqs, names)) = setup.requires_dist() {
            return RequiresTxt::Static(reqs, names);
        }
        match setup_py::environment_condition(source) {
            Some(why) => RequiresTxt::Environment(why),
            None => RequiresTxt::Trusted,
        }
    }
}

/// A file named by a setup.cfg `file:` directive, relative to the sdist's top directory.
fn directive_file(m: &Members, rel: &str) -> FileRead {
    let path = format!("{}{rel}", m.top);
    match m.files.get(&path) {
        Some(b) if b.len() <= MAX_DIRECTIVE_FILE => FileRead::Found(b.clone()),
        Some(b) => FileRead::Unreadable(format!(
            "{} bytes, more than the {MAX_DIRECTIVE_FILE} read",
            b.len()
        )),
        None if m.paths.contains(&path) => {
            FileRead::Unreadable("present in the archive but not read (see Limits)".into())
        }
        None => FileRead::Missing,
    }
}

/// A path of an installed tree, as `setup.py bdist_dumb` archives it
/// (`usr/lib/python3.9/site-packages/pkg/__init__.py`, `Lib/site-packages/...` on Windows).
fn is_installed_tree(path: &str) -> bool {
    path.split('/')
        .any(|c| c == "site-packages" || c == "dist-packages")
}
