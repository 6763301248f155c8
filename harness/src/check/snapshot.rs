//! Snapshots: a step's answer and API calls, redacted and pretty-printed,
//! compared against a file beside the suite (`snapshots/SUITE__CASE__NAME.snap`,
//! in insta's format, so `cargo insta`-literate reviewers feel at home).
//!
//! New snapshots are written and accepted locally; in CI they fail. A
//! changed snapshot fails and leaves the new version in `.snap.new` for
//! review; `--update-snapshots` accepts it instead.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use similar::TextDiff;

/// How snapshots are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SnapshotMode {
    /// New snapshots are accepted; changed ones fail.
    #[default]
    Local,
    /// New and changed snapshots fail; `.snap.new` files are written.
    Ci,
    /// Every snapshot is (re)written and passes.
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutcome {
    Matched,
    /// There was none; it was written (local mode).
    Created,
    /// It differed and was rewritten (update mode).
    Updated,
    /// There was none; `.snap.new` holds the candidate (CI mode).
    Missing {
        new_path: PathBuf,
    },
    /// It differs: a unified diff, and where the new version was written.
    Changed {
        diff: String,
        new_path: PathBuf,
    },
}

impl SnapshotOutcome {
    pub fn passed(&self) -> bool {
        matches!(
            self,
            SnapshotOutcome::Matched | SnapshotOutcome::Created | SnapshotOutcome::Updated
        )
    }
}

/// Where a step's snapshot lives.
pub fn snapshot_path(suite_file: &Path, suite: &str, case: &str, name: &str) -> PathBuf {
    suite_file
        .parent()
        .unwrap_or(Path::new("."))
        .join("snapshots")
        .join(format!("{suite}__{case}__{name}.snap"))
}

/// Compares `content` with the snapshot at `path`, writing files as `mode` says.
pub fn check_snapshot(
    path: &Path,
    source: &str,
    expression: &str,
    content: &str,
    mode: SnapshotMode,
) -> io::Result<SnapshotOutcome> {
    let existing = match fs::read_to_string(path) {
        Ok(text) => Some(body(&text).to_owned()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(err),
    };
    let new_path = path.with_extension("snap.new");
    let file_text = format!("---\nsource: {source}\nexpression: {expression:?}\n---\n{content}\n");
    let normalized = content.trim_end();
    match (existing, mode) {
        (Some(old), _) if old.trim_end() == normalized => {
            remove_if_present(&new_path)?;
            Ok(SnapshotOutcome::Matched)
        }
        (_, SnapshotMode::Update) | (None, SnapshotMode::Local) => {
            let created = !path.exists();
            write(path, &file_text)?;
            remove_if_present(&new_path)?;
            Ok(if created {
                SnapshotOutcome::Created
            } else {
                SnapshotOutcome::Updated
            })
        }
        (None, SnapshotMode::Ci) => {
            write(&new_path, &file_text)?;
            Ok(SnapshotOutcome::Missing { new_path })
        }
        (Some(old), SnapshotMode::Local | SnapshotMode::Ci) => {
            write(&new_path, &file_text)?;
            let diff = TextDiff::from_lines(old.trim_end(), normalized)
                .unified_diff()
                .context_radius(3)
                .header("snapshot", "actual")
                .to_string();
            Ok(SnapshotOutcome::Changed { diff, new_path })
        }
    }
}

/// The snapshot files below `suite_file`'s `snapshots/` for `suite` that
/// none of `used` names: left behind by renamed or removed steps.
pub fn stale_snapshots(suite_file: &Path, suite: &str, used: &[PathBuf]) -> Vec<PathBuf> {
    let dir = suite_file
        .parent()
        .unwrap_or(Path::new("."))
        .join("snapshots");
    let prefix = format!("{suite}__");
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stale: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            name.starts_with(&prefix) && name.ends_with(".snap")
        })
        .filter(|path| !used.contains(path))
        .collect();
    stale.sort();
    stale
}

/// The content of a snapshot file: what follows its header.
fn body(text: &str) -> &str {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text, |(_, body)| body)
}

fn write(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, text)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(dir: &Path, content: &str, mode: SnapshotMode) -> SnapshotOutcome {
        check_snapshot(
            &dir.join("snapshots/s__c__n.snap"),
            "s.json",
            "s/c",
            content,
            mode,
        )
        .unwrap()
    }

    #[test]
    fn local_mode_accepts_new_and_fails_changed_with_a_diff() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            check(dir.path(), "{\n  \"a\": 1\n}", SnapshotMode::Local),
            SnapshotOutcome::Created
        );
        let written = fs::read_to_string(dir.path().join("snapshots/s__c__n.snap")).unwrap();
        assert!(
            written.starts_with("---\nsource: s.json\nexpression: \"s/c\"\n---\n{"),
            "{written}"
        );
        assert_eq!(
            check(dir.path(), "{\n  \"a\": 1\n}", SnapshotMode::Local),
            SnapshotOutcome::Matched
        );
        let SnapshotOutcome::Changed { diff, new_path } =
            check(dir.path(), "{\n  \"a\": 2\n}", SnapshotMode::Local)
        else {
            panic!()
        };
        assert!(
            diff.contains("-  \"a\": 1") && diff.contains("+  \"a\": 2"),
            "{diff}"
        );
        assert!(new_path.exists());
        // Going back to the accepted content removes the candidate.
        assert_eq!(
            check(dir.path(), "{\n  \"a\": 1\n}", SnapshotMode::Local),
            SnapshotOutcome::Matched
        );
        assert!(!new_path.exists());
    }

    #[test]
    fn ci_mode_never_accepts_and_update_mode_always_does() {
        let dir = tempfile::tempdir().unwrap();
        let SnapshotOutcome::Missing { new_path } = check(dir.path(), "x", SnapshotMode::Ci) else {
            panic!()
        };
        assert!(new_path.ends_with("s__c__n.snap.new"));
        assert!(!dir.path().join("snapshots/s__c__n.snap").exists());
        assert_eq!(
            check(dir.path(), "x", SnapshotMode::Update),
            SnapshotOutcome::Created
        );
        assert!(!new_path.exists());
        assert!(matches!(
            check(dir.path(), "y", SnapshotMode::Ci),
            SnapshotOutcome::Changed { .. }
        ));
        assert_eq!(
            check(dir.path(), "y", SnapshotMode::Update),
            SnapshotOutcome::Updated
        );
        assert_eq!(
            check(dir.path(), "y", SnapshotMode::Ci),
            SnapshotOutcome::Matched
        );
    }

    #[test]
    fn unused_snapshot_files_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        let suite_file = dir.path().join("s.json");
        check(dir.path(), "x", SnapshotMode::Local);
        fs::write(dir.path().join("snapshots/s__old__n.snap"), "x").unwrap();
        fs::write(dir.path().join("snapshots/other__c__n.snap"), "x").unwrap();
        let used = [snapshot_path(&suite_file, "s", "c", "n")];
        assert_eq!(
            stale_snapshots(&suite_file, "s", &used),
            [dir.path().join("snapshots/s__old__n.snap")]
        );
    }
}
