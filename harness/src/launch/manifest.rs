//! Plugin manifests (`plugin.json`, `plugin.yaml`): the few fields the server
//! reads to start a plugin. Every other field a manifest may carry (webapp,
//! settings schema, ...) is accepted and ignored, as the server does.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::wire::strip_serde_position as strip_position;

/// File names the server looks for in a plugin bundle, in order.
pub const MANIFEST_NAMES: [&str; 3] = ["plugin.json", "plugin.yaml", "plugin.yml"];

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    pub server: Option<ServerManifest>,
    /// The oldest upstream rule also read `props.runtime == "python"`.
    #[serde(default)]
    pub props: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerManifest {
    /// Per-platform executables keyed like Go's `GOOS-GOARCH` (`linux-amd64`).
    #[serde(default)]
    pub executables: BTreeMap<String, String>,
    pub executable: Option<String>,
    pub runtime: Option<String>,
    pub python_version: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: invalid manifest: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: invalid manifest: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Manifest {
    /// Reads a manifest file, choosing JSON or YAML by its extension.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let yaml = path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        let manifest = if yaml {
            Self::parse_yaml(path, &text)?
        } else {
            Self::parse_json(path, &text)?
        };
        manifest.validate(path)?;
        Ok(manifest)
    }

    fn parse_json(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let field = err.path().to_string();
            let err = err.into_inner();
            let message = strip_position(&err.to_string());
            ManifestError::Syntax {
                path: path.to_owned(),
                line: err.line(),
                column: err.column(),
                message: if field == "." {
                    message
                } else {
                    format!("{field}: {message}")
                },
            }
        })
    }

    fn parse_yaml(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        serde_norway::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((0, 0), |at| (at.line(), at.column()));
            ManifestError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: strip_position(&err.to_string()),
            }
        })
    }

    fn validate(&self, path: &Path) -> Result<(), ManifestError> {
        let invalid = |message: &str| ManifestError::Invalid {
            path: path.to_owned(),
            message: message.to_owned(),
        };
        if self.id.trim().is_empty() {
            return Err(invalid("field `id` is empty; expected the plugin id"));
        }
        if self.executable().is_none() {
            return Err(invalid(
                "no server executable: expected `server.executable` or \
                 `server.executables.<os>-<arch>` (the harness tests a plugin's server side)",
            ));
        }
        Ok(())
    }

    /// The executable for this platform, as written in the manifest: the
    /// platform's entry in `server.executables`, else `server.executable`.
    pub fn executable(&self) -> Option<&str> {
        let server = self.server.as_ref()?;
        server
            .executables
            .get(&go_platform())
            .or(server.executable.as_ref())
            .map(String::as_str)
            .filter(|exe| !exe.is_empty())
    }

    /// Whether the server would start this plugin through a Python interpreter.
    pub fn is_python(&self) -> bool {
        let runtime = self.server.as_ref().and_then(|s| s.runtime.as_deref());
        let legacy_runtime = self.props.get("runtime").and_then(|v| v.as_str());
        runtime == Some("python")
            || legacy_runtime == Some("python")
            || self.executable().is_some_and(|exe| exe.ends_with(".py"))
    }
}

/// This machine's platform in Go's `GOOS-GOARCH` spelling.
fn go_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}-{arch}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_the_guides_json_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "plugin.json",
            r#"{"id": "com.example.myplugin", "name": "My Python Plugin", "version": "0.1.0",
                "min_server_version": "9.5.0",
                "server": {"executable": "server/plugin.py", "runtime": "python", "python_version": "3.9"},
                "webapp": {"bundle_path": "webapp/dist/main.js"}}"#,
        );
        let manifest = Manifest::load(&path).unwrap();
        assert_eq!(manifest.id, "com.example.myplugin");
        assert_eq!(manifest.executable(), Some("server/plugin.py"));
        assert!(manifest.is_python());
    }

    #[test]
    fn reads_yaml_with_per_platform_executables() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "plugin.yaml",
            &format!(
                "id: com.example.native\nserver:\n  executables:\n    {}: server/dist/plugin\n  executable: server/other\n",
                go_platform()
            ),
        );
        let manifest = Manifest::load(&path).unwrap();
        assert_eq!(manifest.executable(), Some("server/dist/plugin"));
        assert!(!manifest.is_python());
    }

    #[test]
    fn python_is_detected_by_runtime_by_extension_and_by_legacy_props() {
        let parse = |text: &str| serde_json::from_str::<Manifest>(text).unwrap();
        assert!(parse(r#"{"id":"a","server":{"executable":"main.py"}}"#).is_python());
        assert!(
            parse(r#"{"id":"a","server":{"executable":"run"},"props":{"runtime":"python"}}"#)
                .is_python()
        );
        assert!(!parse(r#"{"id":"a","server":{"executable":"run"}}"#).is_python());
    }

    #[test]
    fn json_syntax_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "plugin.json",
            "{\n  \"id\": \"x\",\n  \"server\": \"main\"\n}",
        );
        let err = Manifest::load(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, ManifestError::Syntax { line: 3, .. }),
            "{text}"
        );
        assert!(text.contains("plugin.json:3:"), "{text}");
        assert!(
            text.contains("server: invalid type: string \"main\", expected struct ServerManifest"),
            "{text}"
        );
    }

    #[test]
    fn yaml_errors_name_the_line_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "plugin.yaml", "id: x\nserver:\n  executable: [a\n");
        let err = Manifest::load(&path).unwrap_err();
        assert!(
            matches!(err, ManifestError::Syntax { line, .. } if line >= 3),
            "{err}"
        );
    }

    #[test]
    fn missing_id_and_missing_executable_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let no_id = write(&dir, "a.json", r#"{"server":{"executable":"x"}}"#);
        assert!(
            Manifest::load(&no_id)
                .unwrap_err()
                .to_string()
                .contains("missing field `id`")
        );
        let no_exe = write(&dir, "b.json", r#"{"id":"x","server":{}}"#);
        assert!(
            Manifest::load(&no_exe)
                .unwrap_err()
                .to_string()
                .contains("server.executable")
        );
    }
}
