//! Verdicts: a step's answer against what its suite expects, and the
//! protocol rules that hold for every plugin. Each failed check is a
//! [`Mismatch`] naming the field, what was expected and what came back.

mod consequence;
mod hook;
mod http;
mod rules;
mod self_report;
mod snapshot;

pub use consequence::{Consequence, DISMISS_POST, consequence};
pub use hook::{HookExchange, HookVerdict, check_hook};
pub use http::check_http;
pub use rules::{check_implemented, check_output, check_termination};
pub use self_report::{Concern, concern};
pub use snapshot::{SnapshotMode, SnapshotOutcome, check_snapshot, snapshot_path, stale_snapshots};

/// A failed check: the field, what was expected and what came back.
pub use crate::wire::Mismatch;
