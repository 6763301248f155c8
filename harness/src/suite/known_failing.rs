//! The known-failing list: `suite/case` globs, one per line (`#` starts a
//! comment). A listed case that fails is reported but does not fail the
//! run; a listed case that passes does, so the list never goes stale
//! silently.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{Location, Origin, SuiteError};

#[derive(Debug, Clone)]
pub struct KnownFailing {
    patterns: GlobSet,
    pub path: PathBuf,
}

impl KnownFailing {
    pub fn load(path: &Path) -> Result<KnownFailing, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut builder = GlobSetBuilder::new();
        for (index, line) in text.lines().enumerate() {
            let pattern = line.split('#').next().unwrap_or_default().trim();
            if pattern.is_empty() {
                continue;
            }
            let invalid = |message: String| SuiteError::Invalid {
                location: Location {
                    origin: Origin::File(path.to_owned()),
                    line: index + 1,
                    column: 1,
                },
                message,
            };
            if !pattern.contains('/') {
                return Err(invalid(format!(
                    "{pattern:?}: expected a `suite/case` pattern"
                )));
            }
            builder.add(Glob::new(pattern).map_err(|err| invalid(format!("{pattern:?}: {err}")))?);
        }
        let patterns = builder.build().map_err(|err| SuiteError::Invalid {
            location: Location {
                origin: Origin::File(path.to_owned()),
                line: 1,
                column: 1,
            },
            message: err.to_string(),
        })?;
        Ok(KnownFailing {
            patterns,
            path: path.to_owned(),
        })
    }

    pub fn lists(&self, suite: &str, case: &str) -> bool {
        self.patterns.is_match(format!("{suite}/{case}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_comments_and_positioned_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known-failing.txt");
        std::fs::write(&path, "# upstream bug: OnConfigurationChange never sent\nlifecycle/configuration-*\n\nmessages/badword  # flaky\n").unwrap();
        let list = KnownFailing::load(&path).unwrap();
        assert!(list.lists("lifecycle", "configuration-change"));
        assert!(list.lists("messages", "badword"));
        assert!(!list.lists("messages", "clean"));

        std::fs::write(&path, "lifecycle/ok\njust-a-name\n").unwrap();
        let err = KnownFailing::load(&path).unwrap_err().to_string();
        assert!(err.contains("known-failing.txt:2:1"), "{err}");
        assert!(err.contains("suite/case"), "{err}");
    }
}
