//! The step executor: one suite's cases against one [`Session`], every
//! step called and checked the same way whichever mode asks. `run` drives
//! it over suites; any mode that has a step (a recorded interaction, a
//! request from a control client) gets its verdict from here.

use std::time::{Duration, Instant};

use serde_json::Value;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{
    PluginErrors, StepOptions,
    verdict::{CaseReport, HookEvent, Outcome, OutputEvent, StepOutcome, StepReport, WireEvent},
};
use crate::{
    api::ApiCall,
    check::{self, HookExchange, Mismatch, SnapshotOutcome},
    launch::{self, Termination},
    session::{LifecycleFailure, Session},
    suite::{Action, Case, HookStep, Origin, Step, Suite},
    wire,
};

/// One suite's cases executing against one session: the plugin, its
/// world and API server, and what the suite's steps have done to them.
pub struct SuiteExecution<'s> {
    suite: &'s Suite,
    options: &'s StepOptions,
    session: Session,
    shut_down: bool,
    /// How the plugin process ended, when a shutdown step ended it.
    exit: Option<String>,
    /// How the plugin process died, if it did during a case.
    died: Option<String>,
    /// The last hook call failed at the transport (connection gone).
    call_broke: bool,
    /// The step running now (index, label, start), for an interruption.
    in_flight: Option<(usize, String, Instant)>,
    snapshots: Vec<std::path::PathBuf>,
}

pub fn not_run(suite: &Suite, case: &Case, reason: String) -> CaseReport {
    CaseReport {
        suite: suite.name.clone(),
        name: case.name.clone(),
        location: case.location.to_string(),
        outcome: Outcome::NotRun { reason },
        duration: Duration::ZERO,
        steps: Vec::new(),
        transcript: Vec::new(),
        output_tail: Vec::new(),
    }
}

pub fn describe_termination(termination: &Termination) -> String {
    match termination {
        launch::Termination::Exited { status, after } => {
            format!(
                "{status} {} after SIGTERM",
                humantime::format_duration(Duration::from_millis(after.as_millis() as u64))
            )
        }
        launch::Termination::Killed { grace } => {
            format!(
                "killed with SIGKILL after a {} grace period",
                humantime::format_duration(*grace)
            )
        }
    }
}

impl<'s> SuiteExecution<'s> {
    pub fn new(suite: &'s Suite, session: Session, options: &'s StepOptions) -> SuiteExecution<'s> {
        SuiteExecution {
            suite,
            options,
            session,
            shut_down: false,
            exit: None,
            died: None,
            call_broke: false,
            in_flight: None,
            snapshots: Vec::new(),
        }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to ask whether its plugin process has exited.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// How the plugin died during a case, if it did.
    pub fn died(&self) -> Option<&str> {
        self.died.as_deref()
    }

    /// `OnActivate`, as the server activates a plugin before routing
    /// anything to it. Also returns the problems the plugin reported in its
    /// output meanwhile: a plugin that logs a failure and activates anyway
    /// deserves a note.
    pub async fn activate(&self) -> Result<Vec<String>, LifecycleFailure> {
        let process = &self.session.plugin.process;
        let from = process.output().now();
        self.session.activate(self.options.deadline).await?;
        process.catch_up_output().await;
        Ok(process
            .output()
            .since(from)
            .into_iter()
            .filter_map(|line| {
                check::concern(&line).map(|concern| {
                    format!(
                        "the plugin {} during OnActivate: {}",
                        concern.describe(),
                        line.text
                    )
                })
            })
            .collect())
    }

    /// Ends the suite as the server ends a plugin: `OnDeactivate` when the
    /// plugin was activated and is still up, SIGTERM, the grace period,
    /// SIGKILL. `interrupted` skips the courtesy calls: the user is waiting.
    pub async fn finish(mut self, deactivate: bool, interrupted: bool) -> SuiteEnd {
        let mut notes = Vec::new();
        let exit = if let Some(death) = &self.died {
            death.clone()
        } else if let Some(exit) = &self.exit {
            exit.clone()
        } else if interrupted {
            describe_termination(&self.session.plugin.process.terminate(Duration::ZERO).await)
        } else {
            if deactivate && let Err(failure) = self.session.deactivate(self.options.deadline).await
            {
                notes.push(format!("OnDeactivate failed: {failure}"));
            }
            let termination = self
                .session
                .plugin
                .process
                .terminate(self.options.grace)
                .await;
            notes.extend(
                check::check_termination(&termination)
                    .into_iter()
                    .map(|m| format!("at teardown the plugin did not exit cleanly: {}", m.actual)),
            );
            describe_termination(&termination)
        };
        let process = &mut self.session.plugin.process;
        process.settle_output().await;
        let (dropped, total) = process.output().dropped_and_total();
        if dropped > 0 {
            // The tails in this report are then the very end of a long output.
            notes.push(format!(
                "the plugin wrote {:.1} MiB of output; the harness kept its last {} lines and \
                 dropped {dropped} earlier ones",
                total as f64 / (1024.0 * 1024.0),
                launch::output::KEPT_LINES
            ));
        }
        let output_tail = process.output().tail(None, 40);
        let api_calls = self.session.api.calls().since(0);
        self.session.api.stop().await;
        SuiteEnd {
            exit,
            notes,
            output_tail,
            api_calls,
            snapshots: self.snapshots,
        }
    }
}

/// What is left of a suite's session once it has ended.
pub struct SuiteEnd {
    /// How the plugin process ended.
    pub exit: String,
    /// Problems at teardown.
    pub notes: Vec<String>,
    pub output_tail: Vec<launch::CapturedLine>,
    /// Every Plugin API call of the suite.
    pub api_calls: Vec<ApiCall>,
    /// Snapshot files the suite's steps used.
    pub snapshots: Vec<std::path::PathBuf>,
}

impl SuiteExecution<'_> {
    /// Runs `case`: its stubs in force, its steps in order until the first
    /// failing one, the transcript kept when it fails.
    pub async fn run_case(&mut self, case: &Case) -> CaseReport {
        let started = Instant::now();
        self.session.api.set_case_stubs(case.stubs.clone());
        let first_call = self.session.api.calls().len();
        let mut hook_events = Vec::new();
        let mut steps = Vec::new();
        // Where each step began on the output's clock, to tell which step a
        // line the plugin wrote belongs to.
        let mut step_starts = Vec::new();
        for (index, step) in case.steps.iter().enumerate() {
            step_starts.push(self.session.plugin.process.output().now());
            let step_report = self.run_step(case, index, step, &mut hook_events).await;
            let mut step_report = step_report;
            let failed = step_report.outcome == StepOutcome::Failed;
            if failed && !self.shut_down {
                self.note_death(&mut step_report).await;
            }
            steps.push(step_report);
            if failed && (!case.continue_on_failure || self.died.is_some()) {
                break;
            }
        }
        self.session.api.set_case_stubs(Vec::new());
        let output = self.attribute_output(&step_starts, &mut steps).await;
        let failed = steps.iter().any(|step| step.outcome == StepOutcome::Failed);
        let (transcript, output_tail) = if failed {
            let mut events: Vec<WireEvent> = hook_events.into_iter().map(WireEvent::Hook).collect();
            events.extend(output.into_iter().map(WireEvent::Output));
            events.extend(
                self.session
                    .api
                    .calls()
                    .since(first_call)
                    .into_iter()
                    .map(WireEvent::Api),
            );
            events.sort_by_key(WireEvent::at);
            (events, self.session.plugin.process.output().tail(None, 10))
        } else {
            (Vec::new(), Vec::new())
        };
        let listed = self
            .options
            .known_failing
            .as_ref()
            .is_some_and(|list| list.lists(&self.suite.name, &case.name));
        let mut not_implemented: Vec<&str> = steps
            .iter()
            .filter(|step| step.outcome == StepOutcome::NotImplemented)
            .map(|step| step.label.as_str())
            .collect();
        let all_not_implemented = !steps.is_empty() && not_implemented.len() == steps.len();
        not_implemented.dedup();
        let outcome = match (failed, listed) {
            (false, _) if all_not_implemented => Outcome::Skipped {
                reason: format!(
                    "not implemented by the plugin: {}",
                    not_implemented.join(", ")
                ),
            },
            (false, false) => Outcome::Passed,
            (true, false) => Outcome::Failed,
            (true, true) => Outcome::KnownFailing,
            (false, true) => Outcome::UnexpectedPass,
        };
        CaseReport {
            suite: self.suite.name.clone(),
            name: case.name.clone(),
            location: case.location.to_string(),
            outcome,
            duration: started.elapsed(),
            steps,
            transcript,
            output_tail,
        }
    }

    /// Reads what the plugin wrote while the case's steps ran and puts each
    /// line it reported a problem in on the step during which it was
    /// written: a warning, or a failure when the options say so. Returns
    /// every line, on the transcript's clock, for the transcript.
    async fn attribute_output(
        &self,
        step_starts: &[Duration],
        steps: &mut [StepReport],
    ) -> Vec<OutputEvent> {
        let Some(&case_start) = step_starts.first() else {
            return Vec::new();
        };
        let process = &self.session.plugin.process;
        process.catch_up_output().await;
        // Output is timed from the spawn, transcripts from the session's start.
        let offset = process
            .spawned_at()
            .saturating_duration_since(self.session.epoch);
        let mut events = Vec::new();
        for line in process.output().since(case_start) {
            let concern = check::concern(&line);
            if let Some(concern) = concern {
                let index = step_starts
                    .iter()
                    .rposition(|start| *start <= line.at)
                    .unwrap_or(0);
                if let Some(step) = steps.get_mut(index) {
                    let said = format!(
                        "the plugin {} during this step: {}",
                        concern.describe(),
                        line.text
                    );
                    // The suite or the command line may ask for failures.
                    let strict = self.suite.plugin_errors.unwrap_or_default();
                    match strict.max(self.options.plugin_errors) {
                        PluginErrors::Warn => step.warnings.push(said),
                        PluginErrors::Fail => {
                            step.mismatches.push(Mismatch::new(
                                "plugin output",
                                "no problem reported by the plugin (--fail-on-plugin-errors)",
                                said,
                            ));
                            step.outcome = StepOutcome::Failed;
                        }
                    }
                }
            }
            events.push(OutputEvent {
                at: line.at + offset,
                stream: line.stream,
                text: line.text,
                concern,
            });
        }
        events
    }

    /// A case that cannot run: skipped if the plugin implements none of its
    /// hooks anyway (it would be skipped on a healthy run too), not run otherwise.
    pub fn not_run(&self, case: &Case, reason: String) -> CaseReport {
        let mut report = not_run(self.suite, case, reason);
        let mut hooks: Vec<&str> = case
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                Action::Hook(hook) => Some(hook.hook.as_str()),
                Action::Http(_) => Some("ServeHTTP"),
                _ => None,
            })
            .collect();
        if hooks.len() == case.steps.len()
            && hooks
                .iter()
                .all(|hook| !self.session.plugin.implements(hook))
        {
            hooks.dedup();
            report.outcome = Outcome::Skipped {
                reason: format!("not implemented by the plugin: {}", hooks.join(", ")),
            };
        }
        report
    }

    /// After a failed step: if the plugin process is gone, says so on the
    /// step and remembers it, so the suite's remaining cases are not run.
    async fn note_death(&mut self, step: &mut StepReport) {
        // A call broken at the transport is how a crash looks from here; the
        // process may need a moment to be reaped. Any other failure is an
        // answer, and only an already-exited process counts.
        let wait = if self.call_broke {
            Duration::from_millis(300)
        } else {
            Duration::ZERO
        };
        let Some(status) = self.session.plugin.process.exited_within(wait).await else {
            return;
        };
        // Its last words (a panic, a traceback) are what the reader needs.
        self.session.plugin.process.settle_output().await;
        let death = format!("the plugin process exited ({status}) during {}", step.label);
        step.mismatches.push(Mismatch::new(
            "plugin",
            "still running after the call",
            death.clone(),
        ));
        self.died = Some(death);
    }

    /// Why the case cut short by an interruption did not finish.
    pub fn interrupted_reason(&self) -> String {
        match &self.in_flight {
            Some((index, label, since)) => format!(
                "interrupted while step {index} ({label}) had been running for {}",
                humantime::format_duration(Duration::from_millis(
                    since.elapsed().as_millis() as u64
                ))
            ),
            None => "interrupted while this case ran".to_owned(),
        }
    }

    async fn run_step(
        &mut self,
        case: &Case,
        index: usize,
        step: &Step,
        hook_events: &mut Vec<HookEvent>,
    ) -> StepReport {
        let started = Instant::now();
        self.in_flight = Some((index, step.action.label().to_owned(), started));
        let deadline = self.options.deadline;
        let mut report = StepReport {
            index,
            label: step.action.label().to_owned(),
            location: step.location.to_string(),
            outcome: StepOutcome::Passed,
            duration: Duration::ZERO,
            mismatches: Vec::new(),
            warnings: Vec::new(),
            detail: None,
            diff: None,
        };
        match &step.action {
            Action::Output(expect) => report.mismatches = self.check_output(expect).await,
            _ if self.shut_down => {
                report.mismatches.push(Mismatch::new(
                    "plugin",
                    "a running plugin",
                    "shut down by an earlier step",
                ));
            }
            Action::Handshake => {
                let handshake = &self.session.plugin.handshake;
                report.detail = Some(format!("{:?} at {}", handshake.line, handshake.address));
            }
            Action::Health => match self.session.plugin.health(deadline).await {
                Ok(ServingStatus::Serving) => {}
                Ok(status) => report.mismatches.push(Mismatch::new(
                    "health",
                    "SERVING",
                    format!("{status:?}"),
                )),
                Err(status) => report.mismatches.push(Mismatch::new(
                    "health",
                    "SERVING",
                    wire::status_text(&status),
                )),
            },
            Action::Implemented { includes } => {
                match self.session.plugin.hooks.implemented(deadline).await {
                    Ok(names) => report
                        .mismatches
                        .extend(check::check_implemented(&names, includes)),
                    Err(status) => {
                        report.mismatches.push(Mismatch::new(
                            "Implemented",
                            "a list of hook names",
                            wire::status_text(&status),
                        ));
                    }
                }
                report.detail = Some(format!(
                    "{} hooks: {}",
                    self.session.plugin.implemented.len(),
                    self.session.plugin.implemented.join(", ")
                ));
            }
            Action::Http(_) if !self.session.plugin.implements("ServeHTTP") => {
                report.outcome = StepOutcome::NotImplemented;
                report.detail = Some(
                    "ServeHTTP is not in Implemented(); the server answers 404 itself".to_owned(),
                );
            }
            Action::Http(http) => {
                let (mismatches, event) = self.call_http(http).await;
                report.mismatches = mismatches;
                report.detail = event.response.as_ref().map(|exchange| {
                    format!(
                        "status {} after {} response messages, ending {}",
                        exchange["status"], exchange["response"]["messages"], exchange["ending"]
                    )
                });
                hook_events.push(event);
            }
            Action::Hook(hook) if !self.session.plugin.implements(&hook.hook) => {
                report.outcome = StepOutcome::NotImplemented;
                report.detail = Some(format!(
                    "{} is not in Implemented(); the server would not call it",
                    hook.hook
                ));
            }
            Action::Hook(hook) => {
                let call = self.call_hook(hook).await;
                let mut detail = format!("server outcome: {}", call.verdict.consequence.summary());
                if call.event.status.starts_with("DEADLINE_EXCEEDED") {
                    // Say which deadline it was, and how it compares with the server's.
                    let (deadline, source) = match hook.deadline {
                        Some(deadline) => (deadline, "the step's `deadline`"),
                        None => (self.options.deadline, "--timeout"),
                    };
                    detail.push_str(&format!(
                        "; deadline {} from {source}; a Mattermost server waits {}",
                        humantime::format_duration(deadline),
                        humantime::format_duration(crate::hooks::DEFAULT_DEADLINE)
                    ));
                }
                report.detail = Some(detail);
                report.mismatches = call.verdict.mismatches.clone();
                report.warnings = call.verdict.warnings.clone();
                if let Some(name) = &hook.snapshot {
                    self.check_snapshot(case, index, name, &call, &mut report);
                }
                hook_events.push(call.event);
            }
            Action::Shutdown { grace } => {
                let termination = self
                    .session
                    .plugin
                    .process
                    .terminate(grace.unwrap_or(self.options.grace))
                    .await;
                self.shut_down = true;
                self.exit = Some(describe_termination(&termination));
                report.mismatches = check::check_termination(&termination);
                report.detail = self.exit.clone();
            }
        }
        if report.outcome == StepOutcome::Passed && !report.mismatches.is_empty() {
            report.outcome = StepOutcome::Failed;
        }
        report.duration = started.elapsed();
        self.in_flight = None;
        report
    }

    /// Output arrives through pipes, a little after the calls that caused
    /// it: a missing line gets half a second to show up.
    async fn check_output(&self, expect: &crate::suite::OutputExpect) -> Vec<Mismatch> {
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            let lines = self.session.plugin.process.output().tail(None, usize::MAX);
            let mismatches = check::check_output(expect, &lines);
            if mismatches.is_empty() || Instant::now() >= deadline {
                return mismatches;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// One request through ServeHTTP, checked; its event for the transcript.
    pub async fn call_http(&mut self, step: &crate::suite::HttpStep) -> (Vec<Mismatch>, HookEvent) {
        use crate::hooks::http::{
            ExchangeOptions, GeneratedBody, Header, HttpRequest, RequestBody, ServeHttpClient,
        };
        let mut request = HttpRequest::new(&step.method, &step.url);
        request.headers = step
            .headers
            .iter()
            .map(|(name, values)| Header::new(name.clone(), values.clone()))
            .collect();
        request.body = match &step.body {
            crate::suite::HttpBody::Empty => RequestBody::Empty,
            crate::suite::HttpBody::Bytes(bytes) => RequestBody::Full(bytes.clone()),
            crate::suite::HttpBody::Generated(size) => {
                RequestBody::Generated(GeneratedBody::new(*size))
            }
        };
        let options = ExchangeOptions {
            deadline: Some(step.deadline.unwrap_or(self.options.deadline)),
            cancel_after: step.cancel_after,
            ..ExchangeOptions::default()
        };
        let at = self.session.epoch.elapsed();
        let exchange = ServeHttpClient::new(self.session.plugin.channel.clone())
            .exchange(request, &options)
            .await;
        // A stream that broke or never answered is how a crash looks here.
        self.call_broke = matches!(
            exchange.ending,
            crate::hooks::http::Ending::StreamError | crate::hooks::http::Ending::NoResponse
        );
        let mismatches = check::check_http(&step.expect, &exchange, step.cancel_after.is_some());
        let event = HookEvent {
            hook: "ServeHTTP".to_owned(),
            at,
            duration: self.session.epoch.elapsed().saturating_sub(at),
            request: serde_json::json!({
                "method": step.method,
                "url": step.url,
                "headers": step.headers,
                "body_bytes": exchange.request.body_bytes,
            }),
            status: exchange
                .grpc_status
                .as_ref()
                .map_or("(not seen)".to_owned(), |status| {
                    if status.is_ok() {
                        "OK".to_owned()
                    } else {
                        format!("{}: {}", status.code, status.message)
                    }
                }),
            response: serde_json::to_value(&exchange).ok(),
            outcome: exchange
                .status
                .map_or("no answer".to_owned(), |status| format!("HTTP {status}")),
        };
        (mismatches, event)
    }

    /// Calls one hook step and checks its answer.
    pub async fn call_hook(&mut self, step: &HookStep) -> HookCall {
        let method = mm_plugin_proto::hooks_service()
            .methods()
            .find(|m| m.name() == step.hook)
            .expect("suites only name hooks of the protocol");
        let deadline = step.deadline.unwrap_or(self.options.deadline);
        let first_call = self.session.api.calls().len();
        let at = self.session.epoch.elapsed();
        let started = Instant::now();
        let answer = self
            .session
            .plugin
            .hooks
            .call(&step.hook, step.request.clone(), deadline)
            .await;
        self.call_broke = answer.as_ref().is_err_and(|status| {
            matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
            )
        });
        let duration = started.elapsed();
        let api_calls = self.session.api.calls().since(first_call);
        let request = wire::decode_to_json(&method.input(), &step.request).unwrap_or(Value::Null);
        let exchange = HookExchange {
            hook: &step.hook,
            response_type: &method.output(),
            request: &request,
            answer: &answer,
            api_calls: &api_calls,
        };
        let verdict = check::check_hook(&step.expect, &exchange);
        let event = HookEvent {
            hook: step.hook.clone(),
            at,
            duration,
            request: step.request_json.clone(),
            status: match &answer {
                Ok(_) => "OK".to_owned(),
                Err(status) => wire::status_text(status),
            },
            response: verdict.response.clone(),
            outcome: verdict.consequence.summary(),
        };
        HookCall {
            verdict,
            event,
            api_calls,
        }
    }

    /// Compares the step's answer and API calls with its snapshot file.
    fn check_snapshot(
        &mut self,
        case: &Case,
        index: usize,
        name: &str,
        call: &HookCall,
        report: &mut StepReport,
    ) {
        let Origin::File(suite_file) = &self.suite.origin else {
            report.mismatches.push(Mismatch::new(
                "snapshot",
                "a suite read from a file",
                "a built-in suite",
            ));
            return;
        };
        let path = check::snapshot_path(suite_file, &self.suite.name, &case.name, name);
        self.snapshots.push(path.clone());
        let mut content = serde_json::json!({
            "hook": call.event.hook,
            "status": call.event.status,
            "response": call.event.response,
            "outcome": call.event.outcome,
            "api_calls": call.api_calls.iter().map(snapshot_call).collect::<Vec<_>>(),
        });
        for redaction in &self.suite.redactions {
            redaction
                .selector
                .redact(&mut content, &redaction.replacement);
        }
        let text = serde_json::to_string_pretty(&content).expect("JSON values serialize");
        let expression = format!(
            "{}/{} step {index}: {}",
            self.suite.name, case.name, call.event.hook
        );
        let source = suite_file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match check::check_snapshot(&path, &source, &expression, &text, self.options.snapshots) {
            Ok(SnapshotOutcome::Matched) => {}
            Ok(SnapshotOutcome::Created) => report
                .warnings
                .push(format!("new snapshot written: {}", path.display())),
            Ok(SnapshotOutcome::Updated) => report
                .warnings
                .push(format!("snapshot updated: {}", path.display())),
            Ok(SnapshotOutcome::Missing { new_path }) => report.mismatches.push(Mismatch::new(
                "snapshot",
                format!("an accepted snapshot at {}", path.display()),
                format!(
                    "none (CI mode accepts no new snapshots); candidate written to {}",
                    new_path.display()
                ),
            )),
            Ok(SnapshotOutcome::Changed { diff, new_path }) => {
                report.mismatches.push(Mismatch::new(
                    "snapshot",
                    format!("the content of {}", path.display()),
                    format!(
                        "different (diff below); new version written to {}",
                        new_path.display()
                    ),
                ));
                report.diff = Some(diff);
            }
            Err(err) => report.mismatches.push(Mismatch::new(
                "snapshot",
                format!("a readable, writable {}", path.display()),
                err.to_string(),
            )),
        }
    }
}

/// One hook call and what it produced.
pub struct HookCall {
    pub verdict: check::HookVerdict,
    pub event: HookEvent,
    pub api_calls: Vec<ApiCall>,
}

/// An API call as a snapshot shows it: what was asked and answered, not when.
fn snapshot_call(call: &ApiCall) -> Value {
    serde_json::json!({
        "method": call.method,
        "request": call.request,
        "outcome": call.outcome,
    })
}
