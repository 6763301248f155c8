//! `harness record --install`: a copy of a plugin bundle whose entry point
//! runs the recorder around the original one, to install on a real
//! Mattermost server in place of the plugin.
//!
//! The manifest is left as it is, so the server starts the copy exactly as
//! it would the original: the same id, settings, runtime and executable
//! path. Only the file at that path changes. The original entry point moves
//! beside it (`plugin.py` → `plugin.original.py`, `plugin` →
//! `plugin.original`), and a small shim takes its place:
//!
//! - a Python plugin's shim is Python. The server has already picked the
//!   interpreter (the bundle's `venv/` or `.venv/`, else `python3` on
//!   `PATH`), so the shim runs the original script with that same
//!   interpreter (`sys.executable`): the venv still applies.
//! - any other plugin's shim is a `/bin/sh` script that runs the original
//!   executable.
//!
//! Either way the shim execs `harness record` (the path given at install
//! time, else `harness` on `PATH`) with the plugin's id in
//! `MATTERMOST_PLUGIN_ID`, so the recorder names the suite after the
//! plugin although it starts a bare command.

use std::{
    fs,
    io::ErrorKind,
    path::{Path, PathBuf},
};

use crate::launch::{PluginTarget, Runtime};

/// What to install, and where.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The plugin bundle directory to copy.
    pub plugin: PathBuf,
    /// The bundle to write; it must not exist or be empty.
    pub bundle: PathBuf,
    /// Where the installed recorder writes its suites; a relative path is
    /// taken from the plugin's directory on the server (its working
    /// directory there).
    pub record_to: PathBuf,
    /// The `harness` the shim runs; when that path does not exist on the
    /// server, `harness` is looked up on `PATH`.
    pub harness: PathBuf,
    /// File and suite name of the recordings (default: the plugin id).
    pub name: Option<String>,
}

/// The bundle written.
#[derive(Debug, Clone)]
pub struct Installed {
    pub id: String,
    pub runtime: Runtime,
    /// The shim, relative to the bundle (the manifest's executable).
    pub entry: PathBuf,
    /// Where the original entry point went, relative to the bundle.
    pub original: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("--install {0}: {1}")]
    Plugin(PathBuf, String),
    #[error("--out {0}: already holds files; the bundle is written into a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("--out {0}: the bundle cannot be written inside the plugin it copies")]
    Inside(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |err| InstallError::Io(path.to_owned(), err)
}

/// Writes the recording bundle.
pub fn install(options: &InstallOptions) -> Result<Installed, InstallError> {
    let plugin_error = |why: String| InstallError::Plugin(options.plugin.clone(), why);
    if !options.plugin.is_dir() {
        return Err(plugin_error(
            "not a directory; --install takes a plugin bundle directory (with plugin.json)"
                .to_owned(),
        ));
    }
    let target =
        PluginTarget::resolve(&options.plugin).map_err(|err| plugin_error(err.to_string()))?;
    if target.executable.as_os_str().is_empty() {
        return Err(plugin_error(
            "the manifest names no server executable: there is nothing to record".to_owned(),
        ));
    }
    let source = fs::canonicalize(&options.plugin).map_err(io(&options.plugin))?;
    match fs::read_dir(&options.bundle) {
        Ok(entries) => {
            if entries.count() > 0 {
                return Err(InstallError::NotEmpty(options.bundle.clone()));
            }
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(InstallError::Io(options.bundle.clone(), err)),
    }
    let bundle = std::path::absolute(&options.bundle).map_err(io(&options.bundle))?;
    if bundle.starts_with(&source) {
        return Err(InstallError::Inside(options.bundle.clone()));
    }
    fs::create_dir_all(&options.bundle).map_err(io(&options.bundle))?;
    copy_tree(&source, &source, &options.bundle)?;

    let entry = target.executable.clone();
    let original = original_name(&entry);
    let entry_path = options.bundle.join(&entry);
    fs::rename(&entry_path, options.bundle.join(&original)).map_err(io(&entry_path))?;
    let name = options.name.clone().unwrap_or_else(|| target.id.clone());
    let shim = match target.runtime {
        Runtime::Python => python_shim(options, &target.id, &name, &original),
        Runtime::Native => shell_shim(options, &target.id, &name, &original),
    };
    fs::write(&entry_path, shim).map_err(io(&entry_path))?;
    make_executable(&entry_path)?;
    Ok(Installed {
        id: target.id,
        runtime: target.runtime,
        entry,
        original,
    })
}

/// `server/plugin.py` → `server/plugin.original.py`; `server/plugin` →
/// `server/plugin.original`.
fn original_name(entry: &Path) -> PathBuf {
    let stem = entry
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match entry.extension() {
        Some(ext) => format!("{stem}.original.{}", ext.to_string_lossy()),
        None => format!("{stem}.original"),
    };
    entry.with_file_name(name)
}

/// `text` as one `sh` word.
fn sh_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `text` as a Python string literal (JSON's escapes are Python's).
fn python_literal(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn python_shim(options: &InstallOptions, id: &str, name: &str, original: &Path) -> String {
    format!(
        r#"# Written by `harness record --install`: runs the recorder around this
# plugin's original entry point ({original}), with the interpreter the server
# chose, and records the traffic to {record_to}.
import os
import shutil
import sys

HARNESS = {harness}
RECORD_TO = {record_to_literal}
ORIGINAL = {original_literal}

harness = HARNESS if os.path.isfile(HARNESS) else shutil.which("harness")
if harness is None:
    sys.exit(f"cannot record: neither {{HARNESS}} nor `harness` on PATH exists")
os.environ.setdefault("MATTERMOST_PLUGIN_ID", {id})
os.execv(
    harness,
    [harness, "record", "--out", RECORD_TO, "--name", {name}, "--", sys.executable, ORIGINAL]
    + sys.argv[1:],
)
"#,
        original = original.display(),
        record_to = options.record_to.display(),
        harness = python_literal(&options.harness.to_string_lossy()),
        record_to_literal = python_literal(&options.record_to.to_string_lossy()),
        original_literal = python_literal(&original.to_string_lossy()),
        id = python_literal(id),
        name = python_literal(name),
    )
}

fn shell_shim(options: &InstallOptions, id: &str, name: &str, original: &Path) -> String {
    format!(
        r#"#!/bin/sh
# Written by `harness record --install`: runs the recorder around this
# plugin's original entry point ({original}) and records the traffic to
# {record_to}.
harness={harness}
[ -f "$harness" ] || harness=$(command -v harness) || {{
    echo "cannot record: neither {harness_text} nor \`harness\` on PATH exists" >&2
    exit 1
}}
MATTERMOST_PLUGIN_ID=${{MATTERMOST_PLUGIN_ID:-{id}}}
export MATTERMOST_PLUGIN_ID
exec "$harness" record --out {record_to_quoted} --name {name} -- ./{original_quoted} "$@"
"#,
        original = original.display(),
        record_to = options.record_to.display(),
        harness = sh_quoted(&options.harness.to_string_lossy()),
        harness_text = options.harness.display(),
        id = sh_quoted(id),
        record_to_quoted = sh_quoted(&options.record_to.to_string_lossy()),
        name = sh_quoted(name),
        original_quoted = sh_quoted(&original.to_string_lossy()),
    )
}

fn make_executable(path: &Path) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = fs::metadata(path).map_err(io(path))?.permissions();
    permissions.set_mode(permissions.mode() | 0o755);
    fs::set_permissions(path, permissions).map_err(io(path))
}

/// Copies `from` (inside the plugin at `root`) into `to`: files with their
/// permissions, symlinks as symlinks (a bundled venv's interpreter is
/// one). A relative link that leads out of the plugin would lead nowhere
/// from the copy, so it becomes absolute.
fn copy_tree(root: &Path, from: &Path, to: &Path) -> Result<(), InstallError> {
    for entry in fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(io(&source))?;
        if kind.is_symlink() {
            let mut link = fs::read_link(&source).map_err(io(&source))?;
            if link.is_relative()
                && let Ok(resolved) = fs::canonicalize(&source)
                && !resolved.starts_with(root)
            {
                link = resolved;
            }
            std::os::unix::fs::symlink(&link, &dest).map_err(io(&dest))?;
        } else if kind.is_dir() {
            fs::create_dir(&dest).map_err(io(&dest))?;
            copy_tree(root, &source, &dest)?;
        } else {
            fs::copy(&source, &dest).map_err(io(&source))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_entry_point_keeps_its_directory_and_extension() {
        assert_eq!(
            original_name(Path::new("server/plugin.py")),
            Path::new("server/plugin.original.py")
        );
        assert_eq!(
            original_name(Path::new("server/dist/plugin-linux-amd64")),
            Path::new("server/dist/plugin-linux-amd64.original")
        );
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quoted("it's"), r"'it'\''s'");
        assert_eq!(python_literal(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
