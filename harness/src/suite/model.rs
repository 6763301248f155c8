//! What a loaded suite is: validated, with every hook request already
//! encoded for the wire and every step's position in its file.

use std::{fmt, path::PathBuf, time::Duration};

use bytes::Bytes;
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
    pub cases: Vec<Case>,
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
    Hook(HookStep),
    /// SIGTERM, and expect a clean exit within `grace`.
    Shutdown { grace: Option<Duration> },
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
}

/// What a hook call must answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HookExpect {
    /// The gRPC status of the call.
    pub status: Code,
    /// The response's `error` field: `None` means no `AppError`; a value is
    /// matched partially (only the fields written are compared).
    pub error: Option<Value>,
    /// A partial match of the whole response.
    pub response: Option<Value>,
}

impl Default for HookExpect {
    fn default() -> Self {
        HookExpect {
            status: Code::Ok,
            error: None,
            response: None,
        }
    }
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
