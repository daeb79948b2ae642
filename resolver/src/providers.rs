//! Provider configuration (which source may supply each package: a wheel, an sdist or the
//! nixpkgs attribute) and the nixpkgs version table the Nix library passes in.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use pep440_rs::Version;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    Wheel,
    Sdist,
    Nixpkgs,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Wheel => "wheel",
            Provider::Sdist => "sdist",
            Provider::Nixpkgs => "nixpkgs",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid {
        path: std::path::PathBuf,
        message: String,
    },
}

/// Ordered provider lists per normalized package name, with a default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Providers {
    default: Vec<Provider>,
    per_package: BTreeMap<String, Vec<Provider>>,
}

impl Default for Providers {
    fn default() -> Self {
        Providers {
            default: vec![Provider::Wheel, Provider::Sdist, Provider::Nixpkgs],
            per_package: BTreeMap::new(),
        }
    }
}

/// Parses `"wheel,sdist"`; unknown names, duplicates and empty lists are errors.
pub fn parse_provider_list(s: &str) -> Result<Vec<Provider>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let p = match part {
            "wheel" => Provider::Wheel,
            "sdist" => Provider::Sdist,
            "nixpkgs" => Provider::Nixpkgs,
            other => {
                return Err(format!(
                    "unknown provider {other:?} in {s:?} (known: wheel, sdist, nixpkgs)"
                ));
            }
        };
        if out.contains(&p) {
            return Err(format!("provider {p} listed twice in {s:?}"));
        }
        out.push(p);
    }
    Ok(out)
}

impl Providers {
    /// Reads `{"_default": "wheel,sdist,nixpkgs", "torch": "wheel", ...}`; values may also be
    /// JSON arrays of provider names.
    pub fn from_json(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let obj = json_object(path, text, "package name -> providers")?;
        let mut out = Providers::default();
        for (key, v) in &obj {
            let list_text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => {
                    let parts: Option<Vec<&str>> = a.iter().map(|x| x.as_str()).collect();
                    parts
                        .ok_or_else(|| invalid(format!("{key:?}: expected a list of strings")))?
                        .join(",")
                }
                _ => {
                    return Err(invalid(format!(
                        "{key:?}: expected a string like \"wheel,sdist\""
                    )));
                }
            };
            let list =
                parse_provider_list(&list_text).map_err(|m| invalid(format!("{key:?}: {m}")))?;
            if key == "_default" {
                out.default = list;
            } else {
                let name = pinion_pep::ProjectName::new(key).map_err(|e| invalid(e.to_string()))?;
                out.per_package.insert(name.into_string(), list);
            }
        }
        Ok(out)
    }

    pub fn for_package(&self, name: &str) -> &[Provider] {
        self.per_package.get(name).unwrap_or(&self.default)
    }
}

/// One nixpkgs Python package: the attribute and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NixpkgsEntry {
    pub attr: String,
    pub version: Version,
}

/// nixpkgs' Python packages by normalized name.
#[derive(Clone, Debug, Default)]
pub struct Nixpkgs {
    pub packages: BTreeMap<String, NixpkgsEntry>,
    /// Entries whose version is not PEP 440 (e.g. `unstable-2023-01-01`): never offered.
    pub skipped: Vec<String>,
}

impl Nixpkgs {
    /// Reads `{"requests": {"attr": "requests", "version": "2.31.0"}, ...}`.
    pub fn from_json(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let obj = json_object(path, text, "package name -> {attr, version}")?;
        let mut out = Nixpkgs::default();
        for (key, v) in &obj {
            let field = |f: &str| {
                v.get(f)
                    .and_then(|x| x.as_str())
                    .ok_or_else(|| invalid(format!("{key:?}: missing string field {f:?}")))
            };
            let attr = field("attr")?.to_string();
            let version_text = field("version")?;
            let Ok(name) = pinion_pep::ProjectName::new(key) else {
                out.skipped.push(key.clone());
                continue;
            };
            match version_text.parse::<Version>() {
                Ok(version) => {
                    out.packages
                        .insert(name.into_string(), NixpkgsEntry { attr, version });
                }
                Err(_) => out.skipped.push(key.clone()),
            }
        }
        Ok(out)
    }
}

/// Reads a JSON config file, mapping I/O errors to `ConfigError`.
pub fn read_config(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses `text` as a JSON object, naming `path` and the expected `shape` on failure.
fn json_object(
    path: &Path,
    text: &str,
    shape: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ConfigError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|source| ConfigError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    match value {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("expected a JSON object of {shape}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse() {
        let p = Providers::from_json(
            Path::new("p.json"),
            r#"{"_default": "nixpkgs,sdist", "TensorFlow": "nixpkgs", "torch": ["wheel"]}"#,
        )
        .unwrap();
        assert_eq!(p.for_package("tensorflow"), [Provider::Nixpkgs]);
        assert_eq!(p.for_package("torch"), [Provider::Wheel]);
        assert_eq!(
            p.for_package("requests"),
            [Provider::Nixpkgs, Provider::Sdist]
        );
        assert_eq!(
            Providers::default().for_package("x"),
            [Provider::Wheel, Provider::Sdist, Provider::Nixpkgs]
        );
    }

    #[test]
    fn providers_errors() {
        let e = Providers::from_json(Path::new("p.json"), r#"{"torch": "wheel,conda"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.json") && e.contains("unknown provider \"conda\""),
            "{e}"
        );
        let e = Providers::from_json(Path::new("p.json"), r#"{"torch": "wheel,wheel"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
        let e = Providers::from_json(Path::new("p.json"), r#"{"torch": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"torch\""), "{e}");
        assert!(Providers::from_json(Path::new("p.json"), "[").is_err());
        assert!(parse_provider_list("").is_err());
    }

    #[test]
    fn nixpkgs_parse() {
        let n = Nixpkgs::from_json(
            Path::new("n.json"),
            r#"{"Requests": {"attr": "requests", "version": "2.31.0"}, "weird": {"attr": "weird", "version": "unstable-2023-01-01"}}"#,
        )
        .unwrap();
        assert_eq!(
            n.packages["requests"].version,
            "2.31.0".parse::<Version>().unwrap()
        );
        assert_eq!(n.skipped, ["weird"]);
        let e = Nixpkgs::from_json(Path::new("n.json"), r#"{"x": {"version": "1"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"attr\""), "{e}");
    }
}
