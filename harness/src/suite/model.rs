//! What a loaded suite is: validated, with every hook request already
//! encoded for the wire and every step's position in its file.

use std::{fmt, path::PathBuf, time::Duration};

use bytes::Bytes;

pub use crate::api::{Stub, StubAnswer};
use serde_json::Value;
use tonic::Code;

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub description: String,
    pub origin: Origin,
    /// A world seed to start from instead of the default one.
    pub world: Option<PathBuf>,
    pub activation: Activation,
    /// Replacements applied to volatile values before snapshots compare.
    pub redactions: Vec<Redaction>,
    /// Plugin API stubs in force for the whole suite.
    pub stubs: Vec<Stub>,
    pub cases: Vec<Case>,
}

/// A selector (`.response.post.id`, `.api_calls[].response.post.create_at`,
/// `..create_at` for that key at any depth) and the text that replaces
/// what it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub selector: String,
    pub replacement: String,
}

/// Where a suite came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the harness.
    Builtin(&'static str),
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin(name) => write!(f, "<built-in>/{name}.json"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Whether the runner activates and deactivates the plugin around the cases
/// (as the server does), or leaves that to the suite's own steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Auto,
    Manual,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub steps: Vec<Step>,
    /// Plugin API stubs in force during this case, before the suite's.
    pub stubs: Vec<Stub>,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Check facts of the handshake the plugin made at launch.
    Handshake,
    /// `grpc.health.v1.Health/Check` for service `plugin`.
    Health,
    /// `Implemented()`: every name known, and `includes` all present.
    Implemented { includes: Vec<String> },
    /// Call a hook.
    Hook(Box<HookStep>),
    /// SIGTERM, and expect a clean exit within `grace`.
    Shutdown { grace: Option<Duration> },
    /// What the plugin wrote so far (stderr, and stdout after the
    /// handshake): lines that must be there, lines that must not.
    Output(OutputExpect),
}

#[derive(Debug, Clone)]
pub struct OutputExpect {
    /// Only this stream; both when `None`.
    pub stream: Option<crate::launch::Stream>,
    /// Each must match some line.
    pub contains: Vec<TextMatch>,
    /// None may match any line.
    pub absent: Vec<TextMatch>,
}

impl Action {
    /// A short label for reports: the hook name, or the step kind.
    pub fn label(&self) -> &str {
        match self {
            Action::Handshake => "handshake",
            Action::Health => "health",
            Action::Implemented { .. } => "Implemented",
            Action::Hook(step) => &step.hook,
            Action::Shutdown { .. } => "shutdown",
            Action::Output(_) => "output",
        }
    }
}

#[derive(Debug, Clone)]
pub struct HookStep {
    pub hook: String,
    /// The request, encoded.
    pub request: Bytes,
    /// The request as the suite wrote it, for transcripts.
    pub request_json: Value,
    pub expect: HookExpect,
    /// Overrides the run's per-call deadline.
    pub deadline: Option<Duration>,
    /// Name of the snapshot of this step's answer and API calls, if taken.
    pub snapshot: Option<String>,
}

/// What a hook call must answer.
#[derive(Debug, Clone, Default)]
pub struct HookExpect {
    /// The gRPC status of the call (default `OK`).
    pub status: Option<Code>,
    /// The response's `AppError`, for responses that have one.
    pub error: ErrorExpect,
    /// A partial match of the whole response.
    pub response: Option<Value>,
    /// What the server does with the answer.
    pub outcome: Option<OutcomeExpect>,
    /// Plugin API calls the plugin makes while the hook runs.
    pub api_calls: Vec<CallExpect>,
    /// The expected calls happen in the order listed.
    pub api_calls_in_order: bool,
}

impl HookExpect {
    pub fn status(&self) -> Code {
        self.status.unwrap_or(Code::Ok)
    }
}

/// Expectation on a response's `error` field.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ErrorExpect {
    /// No `AppError` (the default).
    #[default]
    Absent,
    /// Anything, error or not.
    Any,
    /// An `AppError` matching these fields.
    Matches(Value),
}

/// What the server does with the answer (see `check::consequence`).
#[derive(Debug, Clone)]
pub enum OutcomeExpect {
    Allow,
    Dismiss,
    Reject(TextMatch),
    /// The modified content matches this partially, and every field it
    /// does not name is unchanged from the request.
    Modify(Value),
    /// The command's response matches this partially.
    Respond(Value),
    /// The `AppError` the server sees matches this partially.
    Fail(Value),
    Succeed,
}

impl OutcomeExpect {
    pub fn kind(&self) -> &'static str {
        match self {
            OutcomeExpect::Allow => "allow",
            OutcomeExpect::Dismiss => "dismiss",
            OutcomeExpect::Reject(_) => "reject",
            OutcomeExpect::Modify(_) => "modify",
            OutcomeExpect::Respond(_) => "respond",
            OutcomeExpect::Fail(_) => "fail",
            OutcomeExpect::Succeed => "succeed",
        }
    }

    /// The expectation as one line, with what it matches.
    pub fn describe(&self) -> String {
        match self {
            OutcomeExpect::Reject(text) => format!("reject with {text}"),
            OutcomeExpect::Modify(partial) => format!("modify to match {partial}"),
            OutcomeExpect::Respond(partial) => format!("respond matching {partial}"),
            OutcomeExpect::Fail(partial) => format!("fail with an AppError matching {partial}"),
            other => other.kind().to_owned(),
        }
    }
}

/// How a text (a rejection reason) is matched.
#[derive(Debug, Clone)]
pub enum TextMatch {
    Any,
    Exact(String),
    Contains(String),
    Regex(regex::Regex),
}

impl TextMatch {
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(expected) => text == expected,
            TextMatch::Contains(part) => text.contains(part.as_str()),
            TextMatch::Regex(regex) => regex.is_match(text),
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Any => write!(f, "any text"),
            TextMatch::Exact(text) => write!(f, "{text:?}"),
            TextMatch::Contains(part) => write!(f, "text containing {part:?}"),
            TextMatch::Regex(regex) => write!(f, "text matching /{regex}/"),
        }
    }
}

/// Plugin API calls a step must (or must not) cause.
#[derive(Debug, Clone, PartialEq)]
pub struct CallExpect {
    pub method: String,
    /// A partial match of the request.
    pub request: Option<Value>,
    /// Exactly this many matching calls; at least one when `None`.
    pub count: Option<usize>,
}

/// `file:line:column` of something in a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub origin: Origin,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.origin, self.line, self.column)
    }
}
