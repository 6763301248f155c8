//! Verdicts: a step's answer against what its suite expects, and the
//! protocol rules that hold for every plugin. Each failed check is a
//! [`Mismatch`] naming the field, what was expected and what came back.

mod consequence;
mod hook;
mod http;
mod json_match;
mod redact;
mod rules;
mod snapshot;

pub use consequence::{Consequence, DISMISS_POST, Family, consequence};
pub use hook::{HookExchange, HookVerdict, check_hook};
pub use http::check_http;
pub use json_match::partial_match;
pub use redact::Selector;
pub use rules::{check_implemented, check_output, check_termination};
pub use snapshot::{SnapshotMode, SnapshotOutcome, check_snapshot, snapshot_path, stale_snapshots};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What was checked: a response field path (`response.rejection_reason`),
    /// `status`, `exit`, ...
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl Mismatch {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Mismatch {
        Mismatch {
            field: field.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}
