//! What a run produces: per suite, per case, per step, with the wire
//! transcript of every failed case. Serializable as is, for `--json`.

use std::{path::PathBuf, time::Duration};

use serde::Serialize;
use serde_json::Value;

use crate::{api::ApiCall, check::Mismatch, launch::CapturedLine, wire::serialize_duration};

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Names this document's format; bumped when a field changes meaning.
    pub schema: &'static str,
    pub plugin: PluginInfo,
    pub suites: Vec<SuiteReport>,
    /// Set when a launch failed; no suite after it ran.
    pub launch_failure: Option<LaunchFailureReport>,
    /// The run was stopped early (Ctrl-C); what ran is kept.
    pub interrupted: bool,
    pub api: ApiUsage,
    /// Snapshot files no step of a fully run suite refers to any more.
    pub stale_snapshots: Vec<PathBuf>,
    #[serde(serialize_with = "serialize_duration")]
    pub duration: Duration,
}

/// The `schema` value of reports in this format.
pub const REPORT_SCHEMA: &str = "mm-plugin-harness/run-report/v1";

impl RunReport {
    pub fn cases(&self) -> impl Iterator<Item = &CaseReport> {
        self.suites.iter().flat_map(|suite| &suite.cases)
    }

    pub fn count(&self, outcome: fn(&Outcome) -> bool) -> usize {
        self.cases().filter(|case| outcome(&case.outcome)).count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    pub id: String,
    pub dir: PathBuf,
    pub runtime: &'static str,
    /// From the first successful launch: its process id (also the id of
    /// its process group) and handshake line.
    pub pid: Option<u32>,
    pub handshake: Option<String>,
    #[serde(serialize_with = "crate::wire::serialize_optional_duration")]
    pub time_to_handshake: Option<Duration>,
    pub implemented: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaunchFailureReport {
    pub suite: String,
    /// Bad input (exit 2) rather than a plugin that cannot start (exit 3).
    pub input_error: bool,
    pub message: String,
    pub output_tail: Vec<CapturedLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub name: String,
    pub origin: String,
    pub cases: Vec<CaseReport>,
    /// How the plugin process ended after the suite.
    pub exit: Option<String>,
    /// Problems around the cases (e.g. an unclean exit at teardown).
    pub notes: Vec<String>,
    /// The end of what the plugin wrote to stderr (and stdout after the handshake).
    pub output_tail: Vec<CapturedLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub suite: String,
    pub name: String,
    /// `file:line:column` of the case.
    pub location: String,
    pub outcome: Outcome,
    #[serde(serialize_with = "serialize_duration")]
    pub duration: Duration,
    pub steps: Vec<StepReport>,
    /// Every hook call and API call of the case, in time order; kept for
    /// failed cases only.
    pub transcript: Vec<WireEvent>,
    /// The plugin's last output lines when the case failed.
    pub output_tail: Vec<CapturedLine>,
}

impl CaseReport {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.suite, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Failed, and listed as known to fail: does not fail the run.
    KnownFailing,
    /// Passed although listed as known to fail: fails the run until the
    /// list is updated.
    UnexpectedPass,
    /// Every hook the case calls is missing from `Implemented()`: the
    /// server would never call them, so there is nothing to check.
    Skipped {
        reason: String,
    },
    /// Not run, and why.
    NotRun {
        reason: String,
    },
}

impl Outcome {
    pub fn is_passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }
    /// Whether this case fails the run.
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed | Outcome::UnexpectedPass)
    }
    pub fn is_known_failing(&self) -> bool {
        matches!(self, Outcome::KnownFailing)
    }
    pub fn is_skipped(&self) -> bool {
        matches!(self, Outcome::Skipped { .. })
    }
    pub fn is_not_run(&self) -> bool {
        matches!(self, Outcome::NotRun { .. })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub index: usize,
    pub label: String,
    pub location: String,
    pub outcome: StepOutcome,
    #[serde(serialize_with = "serialize_duration")]
    pub duration: Duration,
    pub mismatches: Vec<Mismatch>,
    /// Answers the server accepts but that deserve a look.
    pub warnings: Vec<String>,
    /// A line of context (e.g. the handshake line, the health status).
    pub detail: Option<String>,
    /// A snapshot's unified diff, when it changed.
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    /// The hook is not in `Implemented()`: the server would not call it.
    NotImplemented,
}

/// One message exchange on the wire, in either direction.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "direction", rename_all = "snake_case")]
pub enum WireEvent {
    /// Server → plugin.
    Hook(HookEvent),
    /// Plugin → server.
    Api(ApiCall),
}

impl WireEvent {
    pub fn at(&self) -> Duration {
        match self {
            WireEvent::Hook(event) => event.at,
            WireEvent::Api(call) => call.at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HookEvent {
    pub hook: String,
    #[serde(serialize_with = "serialize_duration")]
    pub at: Duration,
    #[serde(serialize_with = "serialize_duration")]
    pub duration: Duration,
    pub request: Value,
    /// `OK`, or the status name and message.
    pub status: String,
    pub response: Option<Value>,
    /// What the server does with the answer.
    pub outcome: String,
}

/// How the plugin used the Plugin API over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApiUsage {
    pub calls: usize,
    /// Methods the harness models, out of the protocol's total.
    pub modelled: usize,
    pub total: usize,
    /// Methods called that the harness does not model, with call counts.
    pub not_modelled_calls: Vec<(String, usize)>,
}
