//! What executing a case produces: per case, per step, with the wire
//! transcript of every failed case. Serializable as is; every mode that
//! runs steps reports them in these types.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::{
    api::ApiCall,
    check::{Concern, Mismatch},
    launch::{CapturedLine, Stream},
    wire::serialize_duration,
};

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
    /// A line the plugin wrote, where it fell among the calls.
    Output(OutputEvent),
}

impl WireEvent {
    pub fn at(&self) -> Duration {
        match self {
            WireEvent::Hook(event) => event.at,
            WireEvent::Api(call) => call.at,
            WireEvent::Output(line) => line.at,
        }
    }
}

/// A line of the plugin's output in a transcript, on the transcript's clock.
#[derive(Debug, Clone, Serialize)]
pub struct OutputEvent {
    #[serde(serialize_with = "serialize_duration")]
    pub at: Duration,
    pub stream: Stream,
    pub text: String,
    /// Set when the line reports a problem (an error record, a traceback,
    /// stdout after the handshake).
    pub concern: Option<Concern>,
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
