//! From what the user names (a plugin directory, a manifest, or a bare
//! executable) to the command the server would run.

use std::{
    ffi::{OsStr, OsString},
    fs,
    os::unix::fs::PermissionsExt,
    path::{Component, Path, PathBuf},
};

use super::manifest::{MANIFEST_NAMES, Manifest, ManifestError};

/// A plugin, resolved far enough to be started.
#[derive(Debug, Clone)]
pub struct PluginTarget {
    /// Plugin id from the manifest, or the executable's file stem.
    pub id: String,
    /// The bundle directory; the plugin runs with it as working directory.
    pub dir: PathBuf,
    /// The executable relative to `dir`, as the manifest writes it.
    pub executable: PathBuf,
    pub runtime: Runtime,
    pub manifest: Option<Manifest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Started as `[interpreter, executable]`.
    Python,
    /// Started directly.
    Native,
}

impl Runtime {
    /// As reports name it: `python` or `native`.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Python => "python",
            Runtime::Native => "native",
        }
    }
}

/// The process to spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
}

/// Errors of the user's input: the named path or its manifest.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    #[error(
        "{0}: no plugin manifest in this directory (looked for plugin.json, plugin.yaml, plugin.yml)"
    )]
    NoManifest(PathBuf),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "{manifest}: executable {executable:?} points outside the plugin directory; expected a path inside it"
    )]
    EscapingExecutable {
        manifest: PathBuf,
        executable: String,
    },
}

/// Why the command could not be formed: the plugin cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the plugin's executable {0} does not exist")]
    ExecutableMissing(PathBuf),
    #[error(
        "the plugin's executable {0} is not a runnable file (check that it is a file with the execute bit set)"
    )]
    NotRunnable(PathBuf),
    #[error("no Python interpreter found for this Python plugin; looked for {}", .searched.join(", "))]
    NoInterpreter { searched: Vec<String> },
}

impl PluginTarget {
    /// Resolves a plugin directory, a manifest file, or an executable.
    pub fn resolve(path: &Path) -> Result<PluginTarget, TargetError> {
        let metadata = fs::metadata(path).map_err(|_| TargetError::NotFound(path.to_owned()))?;
        if metadata.is_dir() {
            let manifest_path = MANIFEST_NAMES
                .iter()
                .map(|name| path.join(name))
                .find(|candidate| candidate.is_file())
                .ok_or_else(|| TargetError::NoManifest(path.to_owned()))?;
            return Self::from_manifest(&manifest_path);
        }
        let is_manifest = path
            .extension()
            .is_some_and(|ext| ext == "json" || ext == "yaml" || ext == "yml");
        if is_manifest {
            return Self::from_manifest(path);
        }
        Ok(Self::from_executable(path))
    }

    fn from_manifest(manifest_path: &Path) -> Result<PluginTarget, TargetError> {
        let manifest = Manifest::load(manifest_path)?;
        let dir = absolute(manifest_path.parent().unwrap_or(Path::new(".")));
        let written = manifest.executable().unwrap_or_default().to_owned();
        let executable =
            clean_relative(&written).ok_or_else(|| TargetError::EscapingExecutable {
                manifest: manifest_path.to_owned(),
                executable: written.clone(),
            })?;
        Ok(PluginTarget {
            id: manifest.id.clone(),
            dir,
            executable,
            runtime: if manifest.is_python() {
                Runtime::Python
            } else {
                Runtime::Native
            },
            manifest: Some(manifest),
        })
    }

    fn from_executable(path: &Path) -> PluginTarget {
        let absolute_path = absolute(path);
        let dir = absolute_path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_owned);
        let file_name = PathBuf::from(absolute_path.file_name().unwrap_or_default());
        let is_python = file_name.extension().is_some_and(|ext| ext == "py");
        PluginTarget {
            id: file_name
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir,
            executable: file_name,
            runtime: if is_python {
                Runtime::Python
            } else {
                Runtime::Native
            },
            manifest: None,
        }
    }

    /// The command line the server would run, with `extra_args` appended.
    /// `path_env` is the `PATH` searched for an interpreter.
    pub fn command_line(
        &self,
        extra_args: &[OsString],
        path_env: Option<&OsStr>,
    ) -> Result<CommandLine, CommandError> {
        let executable = self.dir.join(&self.executable);
        if !executable.exists() {
            return Err(CommandError::ExecutableMissing(executable));
        }
        let (program, mut args) = match self.runtime {
            Runtime::Python => {
                if !executable.is_file() {
                    return Err(CommandError::NotRunnable(executable));
                }
                let interpreter = find_python(&self.dir, path_env)?;
                // The script is passed as the manifest writes it, relative to cwd.
                (interpreter, vec![self.executable.clone().into_os_string()])
            }
            Runtime::Native => {
                if !is_runnable(&executable) {
                    return Err(CommandError::NotRunnable(executable));
                }
                (executable, Vec::new())
            }
        };
        args.extend(extra_args.iter().cloned());
        Ok(CommandLine {
            program,
            args,
            cwd: self.dir.clone(),
        })
    }
}

/// Finds the interpreter the way the server does: the bundle's `venv/`, then
/// `.venv/`, then `python3` and `python` on `PATH`.
pub fn find_python(dir: &Path, path_env: Option<&OsStr>) -> Result<PathBuf, CommandError> {
    let mut searched = Vec::new();
    for venv in ["venv", ".venv"] {
        for name in ["python", "python3"] {
            let candidate = dir.join(venv).join("bin").join(name);
            if is_runnable(&candidate) {
                return Ok(candidate);
            }
            searched.push(candidate.display().to_string());
        }
    }
    for name in ["python3", "python"] {
        let found = path_env
            .into_iter()
            .flat_map(std::env::split_paths)
            .map(|entry| entry.join(name))
            .find(|candidate| is_runnable(candidate));
        if let Some(found) = found {
            return Ok(found);
        }
        searched.push(format!("{name} on PATH"));
    }
    Err(CommandError::NoInterpreter { searched })
}

fn is_runnable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Cleans a manifest path the way the server does (`filepath.Clean("." + p)`
/// semantics: absolute paths become relative) and refuses one that leaves
/// the bundle.
fn clean_relative(written: &str) -> Option<PathBuf> {
    let mut cleaned = PathBuf::new();
    for component in Path::new(written).components() {
        match component {
            Component::Normal(part) => cleaned.push(part),
            Component::ParentDir => {
                if !cleaned.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    (!cleaned.as_os_str().is_empty()).then_some(cleaned)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn venv_wins_over_dot_venv_wins_over_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        touch(&bin.path().join("python3"), 0o755);
        let path_env = bin.path().as_os_str();

        assert_eq!(
            find_python(dir.path(), Some(path_env)).unwrap(),
            bin.path().join("python3")
        );
        touch(&dir.path().join(".venv/bin/python3"), 0o755);
        assert_eq!(
            find_python(dir.path(), Some(path_env)).unwrap(),
            dir.path().join(".venv/bin/python3")
        );
        touch(&dir.path().join("venv/bin/python"), 0o755);
        assert_eq!(
            find_python(dir.path(), Some(path_env)).unwrap(),
            dir.path().join("venv/bin/python")
        );
    }

    #[test]
    fn a_non_executable_candidate_is_skipped_and_the_search_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("venv/bin/python"), 0o644);
        let err = find_python(dir.path(), Some(OsStr::new(""))).unwrap_err();
        let CommandError::NoInterpreter { searched } = &err else {
            panic!("{err}")
        };
        assert_eq!(searched.len(), 6);
        assert!(searched[0].ends_with("venv/bin/python"));
        assert_eq!(searched[5], "python on PATH");
    }

    #[test]
    fn a_directory_resolves_through_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("plugin.json"),
            r#"{"id":"com.x","server":{"executable":"./server/../server/plugin.py","runtime":"python"}}"#,
        )
        .unwrap();
        let target = PluginTarget::resolve(dir.path()).unwrap();
        assert_eq!(target.id, "com.x");
        assert_eq!(target.runtime, Runtime::Python);
        assert_eq!(target.executable, PathBuf::from("server/plugin.py"));
        let err = target.command_line(&[], None).unwrap_err();
        assert!(
            matches!(err, CommandError::ExecutableMissing(p) if p.ends_with("server/plugin.py"))
        );
    }

    #[test]
    fn a_python_command_is_interpreter_then_relative_script_then_extra_args() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("plugin.json"),
            r#"{"id":"p","server":{"executable":"server/plugin.py","runtime":"python"}}"#,
        )
        .unwrap();
        touch(&dir.path().join("server/plugin.py"), 0o644);
        touch(&dir.path().join(".venv/bin/python"), 0o755);
        let target = PluginTarget::resolve(dir.path()).unwrap();
        let command = target.command_line(&["--verbose".into()], None).unwrap();
        assert_eq!(command.program, dir.path().join(".venv/bin/python"));
        assert_eq!(
            command.args,
            vec![OsString::from("server/plugin.py"), "--verbose".into()]
        );
        assert_eq!(command.cwd, dir.path());
    }

    #[test]
    fn escaping_executables_and_missing_manifests_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            PluginTarget::resolve(dir.path()),
            Err(TargetError::NoManifest(_))
        ));
        fs::write(
            dir.path().join("plugin.json"),
            r#"{"id":"p","server":{"executable":"../../bin/sh"}}"#,
        )
        .unwrap();
        assert!(matches!(
            PluginTarget::resolve(dir.path()),
            Err(TargetError::EscapingExecutable { .. })
        ));
        assert!(matches!(
            PluginTarget::resolve(&dir.path().join("nope")),
            Err(TargetError::NotFound(_))
        ));
    }

    #[test]
    fn a_bare_executable_needs_the_execute_bit() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("plugin-bin");
        touch(&exe, 0o644);
        let target = PluginTarget::resolve(&exe).unwrap();
        assert_eq!(target.runtime, Runtime::Native);
        assert_eq!(target.id, "plugin-bin");
        assert!(matches!(
            target.command_line(&[], None),
            Err(CommandError::NotRunnable(_))
        ));
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(target.command_line(&[], None).unwrap().program, exe);
    }
}
