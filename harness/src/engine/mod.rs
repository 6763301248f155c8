//! The one engine every mode runs on: a [`Session`](crate::session::Session)
//! executing suite steps, each answer checked by [`check`](crate::check)
//! and reported in its verdict types ([`CaseReport`], [`StepReport`]). `run` loops over suites with
//! it; fuzz, record and the control mode call single steps through it.

mod executor;
mod verdict;

use std::time::Duration;

pub use executor::{HookCall, SuiteEnd, SuiteExecution, describe_termination, not_run};
pub use verdict::{
    CaseReport, HookEvent, Outcome, OutputEvent, StepOutcome, StepReport, WireEvent,
};

pub use crate::suite::PluginErrors;
use crate::{check::SnapshotMode, suite::KnownFailing};

/// How steps are executed and judged.
#[derive(Debug, Clone)]
pub struct StepOptions {
    /// Deadline of each hook call unless a step sets its own.
    pub deadline: Duration,
    /// Time the plugin gets to exit after SIGTERM.
    pub grace: Duration,
    pub snapshots: SnapshotMode,
    pub known_failing: Option<KnownFailing>,
    /// What becomes of problems the plugin reports in its own output.
    pub plugin_errors: PluginErrors,
}

impl Default for StepOptions {
    fn default() -> Self {
        StepOptions {
            deadline: crate::hooks::DEFAULT_DEADLINE,
            grace: Duration::from_secs(5),
            snapshots: SnapshotMode::default(),
            known_failing: None,
            plugin_errors: PluginErrors::default(),
        }
    }
}
