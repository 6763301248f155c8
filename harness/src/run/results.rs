//! What a run produces: per suite, per case, per step, with the wire
//! transcript of every failed case. Serializable as is, for `--json`.

use std::{path::PathBuf, time::Duration};

use crate::{
    engine::{CaseReport, Outcome},
    launch::CapturedLine,
    wire::serialize_duration,
};
use serde::Serialize;

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
    /// The counts a CI consumer wants without walking the cases.
    pub totals: Totals,
    /// The exit code `harness run` ends with for this report.
    pub exit_code: u8,
}

/// The `schema` value of reports in this format. v2 added `totals` and
/// `exit_code`, and `output` events in transcripts.
pub const REPORT_SCHEMA: &str = "mm-plugin-harness/run-report/v2";

/// Exit codes of `harness` (run and every other subcommand).
pub mod exit {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const NOT_STARTED: u8 = 3;
    pub const INTERRUPTED: u8 = 130;
}

/// Cases by outcome, and the warnings of all their steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    /// Known failing, and failed.
    pub xfail: usize,
    /// Known failing, but passed.
    pub xpass: usize,
    pub skipped: usize,
    pub not_run: usize,
    pub warnings: usize,
}

impl RunReport {
    /// Fills `totals` and `exit_code` from the cases; the run calls it last.
    pub fn close(&mut self) {
        self.totals = Totals {
            passed: self.count(Outcome::is_passed),
            failed: self.count(|outcome| *outcome == Outcome::Failed),
            xfail: self.count(Outcome::is_known_failing),
            xpass: self.count(|outcome| *outcome == Outcome::UnexpectedPass),
            skipped: self.count(Outcome::is_skipped),
            not_run: self.count(Outcome::is_not_run),
            warnings: self
                .cases()
                .flat_map(|case| &case.steps)
                .map(|step| step.warnings.len())
                .sum(),
        };
        self.exit_code = match &self.launch_failure {
            _ if self.interrupted => exit::INTERRUPTED,
            Some(failure) if failure.input_error => exit::BAD_INPUT,
            Some(_) => exit::NOT_STARTED,
            None if self.count(Outcome::is_failed) > 0 => exit::FAILED,
            None => exit::PASSED,
        };
    }

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
