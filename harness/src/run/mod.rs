//! Executing suites against a plugin: one plugin process and one fresh
//! Plugin API world per suite, cases in order, every step checked, and a
//! time-ordered transcript of the wire for each failed case.

mod results;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use tonic_health::pb::health_check_response::ServingStatus;

pub use results::{
    ApiUsage, CaseReport, HookEvent, LaunchFailureReport, Outcome, PluginInfo, RunReport,
    StepOutcome, StepReport, SuiteReport, WireEvent,
};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    api::{ApiCall, ApiOutcome, ApiServer, Seed, World},
    check::{self, HookExchange, Mismatch, SnapshotMode, SnapshotOutcome},
    launch::{self, LaunchOptions, PluginTarget, RunningPlugin, Runtime},
    suite::{
        self, Action, Activation, Case, CaseFilter, HookStep, KnownFailing, Origin, Step, Suite,
    },
    wire,
};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub launch: LaunchOptions,
    /// Deadline of each hook call unless a step sets its own.
    pub deadline: Duration,
    /// Time the plugin gets to exit after SIGTERM.
    pub grace: Duration,
    pub filter: CaseFilter,
    pub snapshots: SnapshotMode,
    pub known_failing: Option<KnownFailing>,
    /// Cancelled to stop the run early (Ctrl-C): the current case is cut
    /// short, the plugin is killed, and the report keeps everything so far.
    pub cancel: CancellationToken,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            launch: LaunchOptions::default(),
            deadline: crate::hooks::DEFAULT_DEADLINE,
            grace: Duration::from_secs(5),
            filter: CaseFilter::default(),
            snapshots: SnapshotMode::default(),
            known_failing: None,
            cancel: CancellationToken::new(),
        }
    }
}

/// Told about progress as it happens, so a console can print as it goes.
pub trait Progress {
    fn run_started(&mut self, _target: &PluginTarget) {}
    fn suite_started(&mut self, _suite: &Suite, _plugin: &RunningPlugin) {}
    fn case_finished(&mut self, _case: &CaseReport) {}
}

/// A progress sink that ignores everything.
pub struct Silent;
impl Progress for Silent {}

/// Runs `suites` against the plugin at `target`. Never fails: a plugin
/// that cannot start ends the run with `launch_failure` set and every
/// result gathered until then kept.
pub async fn run(
    target: &PluginTarget,
    suites: &[Suite],
    options: &RunOptions,
    progress: &mut dyn Progress,
) -> RunReport {
    let started = Instant::now();
    let mut report = RunReport {
        schema: results::REPORT_SCHEMA,
        plugin: PluginInfo {
            id: target.id.clone(),
            dir: target.dir.clone(),
            runtime: match target.runtime {
                Runtime::Python => "python",
                Runtime::Native => "native",
            },
            pid: None,
            handshake: None,
            time_to_handshake: None,
            implemented: Vec::new(),
        },
        suites: Vec::new(),
        launch_failure: None,
        interrupted: false,
        api: ApiUsage::default(),
        stale_snapshots: Vec::new(),
        duration: Duration::ZERO,
    };
    let mut not_modelled: BTreeMap<String, usize> = BTreeMap::new();
    progress.run_started(target);
    for suite in suites {
        let cases: Vec<&Case> = suite
            .cases
            .iter()
            .filter(|case| options.filter.selects(&suite.name, &case.name))
            .collect();
        if cases.is_empty() {
            continue;
        }
        if options.cancel.is_cancelled() {
            report.interrupted = true;
            break;
        }
        match run_suite(target, suite, options, started, progress, &mut report).await {
            Ok(session) => {
                if cases.len() == suite.cases.len()
                    && let Origin::File(path) = &suite.origin
                {
                    report.stale_snapshots.extend(check::stale_snapshots(
                        path,
                        &suite.name,
                        &session.snapshots,
                    ));
                }
                report.api.calls += session.api_calls;
                for method in session.not_modelled {
                    *not_modelled.entry(method).or_default() += 1;
                }
                report.suites.push(session.report);
            }
            Err(_) if options.cancel.is_cancelled() => break,
            Err(failure) => {
                report.launch_failure = Some(failure);
                break;
            }
        }
    }
    report.interrupted |= options.cancel.is_cancelled();
    report.api.modelled = crate::api::modelled_methods().len();
    report.api.total = mm_plugin_proto::api_service().methods().len();
    report.api.not_modelled_calls = not_modelled.into_iter().collect();
    report.duration = started.elapsed();
    report
}

struct SuiteOutcome {
    report: SuiteReport,
    api_calls: usize,
    not_modelled: Vec<String>,
    /// Snapshot files the suite's steps used.
    snapshots: Vec<std::path::PathBuf>,
}

/// The plugin and API server of one suite.
struct Session<'s> {
    suite: &'s Suite,
    options: &'s RunOptions,
    plugin: RunningPlugin,
    api: ApiServer,
    epoch: Instant,
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

async fn run_suite(
    target: &PluginTarget,
    original: &Suite,
    options: &RunOptions,
    epoch: Instant,
    progress: &mut dyn Progress,
    report: &mut RunReport,
) -> Result<SuiteOutcome, LaunchFailureReport> {
    let failure = |input_error: bool, message: String| LaunchFailureReport {
        suite: original.name.clone(),
        input_error,
        message,
        output_tail: Vec::new(),
    };
    let world = build_world(target, original).map_err(|message| failure(true, message))?;
    let resolved = suite::resolve_suite(original, |reference| find_in_world(&world, reference))
        .map_err(|message| failure(true, format!("{}: {message}", original.origin)))?;
    let suite = &resolved;
    let cases: Vec<&Case> = suite
        .cases
        .iter()
        .filter(|case| options.filter.selects(&suite.name, &case.name))
        .collect();
    let api = ApiServer::start(world, epoch).await.map_err(|err| {
        failure(
            false,
            format!("could not start the Plugin API server: {err}"),
        )
    })?;
    api.set_suite_stubs(suite.stubs.clone());
    let api_target = api.addr().to_string();
    let launched = tokio::select! {
        biased;
        _ = options.cancel.cancelled() => return Err(failure(false, "interrupted while the plugin started".to_owned())),
        launched = launch::launch(target, &api_target, &options.launch) => launched,
    };
    let plugin = launched.map_err(|launch_failure| LaunchFailureReport {
        suite: suite.name.clone(),
        input_error: false,
        message: launch_failure.error.to_string(),
        output_tail: launch_failure.output_tail,
    })?;
    if report.plugin.handshake.is_none() {
        report.plugin.pid = Some(plugin.process.pid());
        report.plugin.handshake = Some(plugin.handshake.line.clone());
        report.plugin.time_to_handshake = Some(plugin.time_to_handshake);
        report.plugin.implemented = plugin.implemented.clone();
    }
    progress.suite_started(suite, &plugin);
    let mut session = Session {
        suite,
        options,
        plugin,
        api,
        epoch,
        shut_down: false,
        exit: None,
        died: None,
        call_broke: false,
        in_flight: None,
        snapshots: Vec::new(),
    };
    let mut notes = Vec::new();
    // Once set, why the remaining cases cannot run.
    let mut stopped: Option<String> = None;
    if suite.activation == Activation::Auto
        && let Err(reason) = session.lifecycle_hook("OnActivate").await
    {
        notes.push(format!("OnActivate failed: {reason}"));
        stopped = Some(format!("the plugin failed to activate: {reason}"));
    }
    let mut case_reports = Vec::new();
    for case in cases {
        let case_report = match &stopped {
            Some(reason) => session.not_run(case, reason.clone()),
            None => {
                let cancel = options.cancel.clone();
                let finished = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => None,
                    case_report = session.run_case(case) => Some(case_report),
                };
                match finished {
                    Some(case_report) => case_report,
                    None => {
                        stopped = Some("the run was interrupted".to_owned());
                        not_run(suite, case, session.interrupted_reason())
                    }
                }
            }
        };
        if stopped.is_none()
            && let Some(death) = &session.died
        {
            notes.push(format!(
                "the plugin died during {}/{}: {death}; a Mattermost server would find it \
                 at its next health check (every 30s) and restart it, at most 3 times an hour",
                suite.name, case.name
            ));
            stopped = Some(format!("the plugin died during {}: {death}", case.name));
        }
        progress.case_finished(&case_report);
        case_reports.push(case_report);
    }
    let exit = if let Some(death) = &session.died {
        Some(death.clone())
    } else if let Some(exit) = &session.exit {
        Some(exit.clone())
    } else if options.cancel.is_cancelled() {
        // Interrupted: no courtesy calls, the user is waiting.
        Some(describe_termination(
            &session.plugin.process.terminate(Duration::ZERO).await,
        ))
    } else {
        if suite.activation == Activation::Auto
            && stopped.is_none()
            && let Err(reason) = session.lifecycle_hook("OnDeactivate").await
        {
            notes.push(format!("OnDeactivate failed: {reason}"));
        }
        let termination = session.plugin.process.terminate(options.grace).await;
        notes.extend(
            check::check_termination(&termination)
                .into_iter()
                .map(|m| format!("at teardown the plugin did not exit cleanly: {}", m.actual)),
        );
        Some(describe_termination(&termination))
    };
    session.plugin.process.settle_output().await;
    let (dropped, total) = session.plugin.process.output().dropped_and_total();
    if dropped > 0 {
        // The tails in this report are then the very end of a long output.
        notes.push(format!(
            "the plugin wrote {:.1} MiB of output; the harness kept its last {} lines and dropped \
             {dropped} earlier ones",
            total as f64 / (1024.0 * 1024.0),
            launch::output::KEPT_LINES
        ));
    }
    let calls = session.api.calls().since(0);
    let outcome = SuiteOutcome {
        snapshots: std::mem::take(&mut session.snapshots),
        api_calls: calls.len(),
        not_modelled: calls
            .iter()
            .filter(|call| call.outcome == ApiOutcome::NotModelled)
            .map(|call| call.method.clone())
            .collect(),
        report: SuiteReport {
            name: suite.name.clone(),
            origin: suite.origin.to_string(),
            cases: case_reports,
            exit,
            notes,
            output_tail: session.plugin.process.output().tail(None, 40),
        },
    };
    session.api.stop().await;
    Ok(outcome)
}

/// The id a suite's `$ref` names, in this world.
fn find_in_world(world: &World, reference: &suite::Ref<'_>) -> Result<String, String> {
    let found = match reference {
        suite::Ref::User(name) | suite::Ref::Bot(name) => {
            world.user_by_name(name).map(|user| user.id.clone())
        }
        suite::Ref::Team(name) => world.team_by_name(name).map(|team| team.id.clone()),
        suite::Ref::Channel { team, name } => world
            .team_by_name(team)
            .and_then(|team| world.channel_by_name(&team.id, name))
            .map(|channel| channel.id.clone()),
    };
    found.ok_or_else(|| format!("$ref {reference} names nothing in the suite's world"))
}

fn build_world(target: &PluginTarget, suite: &Suite) -> Result<World, String> {
    let (seed, origin): (Seed, String) = match &suite.world {
        Some(path) => (
            World::load_seed(path).map_err(|err| err.to_string())?,
            path.display().to_string(),
        ),
        None => (World::default_seed(), "<built-in default world>".to_owned()),
    };
    World::from_seed(
        &seed,
        &target.id,
        &target.dir.display().to_string(),
        &origin,
    )
    .map_err(|err| err.to_string())
}

fn not_run(suite: &Suite, case: &Case, reason: String) -> CaseReport {
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

fn describe_termination(termination: &launch::Termination) -> String {
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

impl Session<'_> {
    /// Calls a lifecycle hook if the plugin implements it; an error status
    /// or an `AppError` is an error.
    async fn lifecycle_hook(&mut self, hook: &str) -> Result<(), String> {
        if !self.plugin.implements(hook) {
            return Ok(());
        }
        let step = HookStep {
            hook: hook.to_owned(),
            request: bytes::Bytes::new(),
            request_json: serde_json::json!({}),
            expect: Default::default(),
            deadline: None,
            snapshot: None,
        };
        let call = self.call_hook(&step).await;
        match call.verdict.mismatches.first() {
            None => Ok(()),
            Some(mismatch) => Err(mismatch.actual.clone()),
        }
    }

    async fn run_case(&mut self, case: &Case) -> CaseReport {
        let started = Instant::now();
        self.api.set_case_stubs(case.stubs.clone());
        let first_call = self.api.calls().len();
        let mut hook_events = Vec::new();
        let mut steps = Vec::new();
        for (index, step) in case.steps.iter().enumerate() {
            let step_report = self.run_step(case, index, step, &mut hook_events).await;
            let mut step_report = step_report;
            let failed = step_report.outcome == StepOutcome::Failed;
            if failed && !self.shut_down {
                self.note_death(&mut step_report).await;
            }
            steps.push(step_report);
            if failed {
                break;
            }
        }
        self.api.set_case_stubs(Vec::new());
        let failed = steps.iter().any(|step| step.outcome == StepOutcome::Failed);
        let (transcript, output_tail) = if failed {
            let mut events: Vec<WireEvent> = hook_events.into_iter().map(WireEvent::Hook).collect();
            events.extend(
                self.api
                    .calls()
                    .since(first_call)
                    .into_iter()
                    .map(WireEvent::Api),
            );
            events.sort_by_key(WireEvent::at);
            (events, self.plugin.process.output().tail(None, 10))
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

    /// A case that cannot run: skipped if the plugin implements none of its
    /// hooks anyway (it would be skipped on a healthy run too), not run otherwise.
    fn not_run(&self, case: &Case, reason: String) -> CaseReport {
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
        if hooks.len() == case.steps.len() && hooks.iter().all(|hook| !self.plugin.implements(hook))
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
        let Some(status) = self.plugin.process.exited_within(wait).await else {
            return;
        };
        // Its last words (a panic, a traceback) are what the reader needs.
        self.plugin.process.settle_output().await;
        let death = format!("the plugin process exited ({status}) during {}", step.label);
        step.mismatches.push(Mismatch::new(
            "plugin",
            "still running after the call",
            death.clone(),
        ));
        self.died = Some(death);
    }

    /// Why the case cut short by an interruption did not finish.
    fn interrupted_reason(&self) -> String {
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
                let handshake = &self.plugin.handshake;
                report.detail = Some(format!("{:?} at {}", handshake.line, handshake.address));
            }
            Action::Health => match self.plugin.health(deadline).await {
                Ok(ServingStatus::Serving) => {}
                Ok(status) => report.mismatches.push(Mismatch::new(
                    "health",
                    "SERVING",
                    format!("{status:?}"),
                )),
                Err(status) => {
                    report
                        .mismatches
                        .push(Mismatch::new("health", "SERVING", status_text(&status)))
                }
            },
            Action::Implemented { includes } => {
                match self.plugin.hooks.implemented(deadline).await {
                    Ok(names) => report
                        .mismatches
                        .extend(check::check_implemented(&names, includes)),
                    Err(status) => {
                        report.mismatches.push(Mismatch::new(
                            "Implemented",
                            "a list of hook names",
                            status_text(&status),
                        ));
                    }
                }
                report.detail = Some(format!(
                    "{} hooks: {}",
                    self.plugin.implemented.len(),
                    self.plugin.implemented.join(", ")
                ));
            }
            Action::Http(_) if !self.plugin.implements("ServeHTTP") => {
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
            Action::Hook(hook) if !self.plugin.implements(&hook.hook) => {
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
            let lines = self.plugin.process.output().tail(None, usize::MAX);
            let mismatches = check::check_output(expect, &lines);
            if mismatches.is_empty() || Instant::now() >= deadline {
                return mismatches;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// One request through ServeHTTP, checked; its event for the transcript.
    async fn call_http(&mut self, step: &crate::suite::HttpStep) -> (Vec<Mismatch>, HookEvent) {
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
        let at = self.epoch.elapsed();
        let exchange = ServeHttpClient::new(self.plugin.channel.clone())
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
            duration: self.epoch.elapsed().saturating_sub(at),
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

    async fn call_hook(&mut self, step: &HookStep) -> HookCall {
        let method = mm_plugin_proto::hooks_service()
            .methods()
            .find(|m| m.name() == step.hook)
            .expect("suites only name hooks of the protocol");
        let deadline = step.deadline.unwrap_or(self.options.deadline);
        let first_call = self.api.calls().len();
        let at = self.epoch.elapsed();
        let started = Instant::now();
        let answer = self
            .plugin
            .hooks
            .call(&step.hook, step.request.clone(), deadline)
            .await
            .map_err(as_grpc_go_reports);
        self.call_broke = answer.as_ref().is_err_and(|status| {
            matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
            )
        });
        let duration = started.elapsed();
        let api_calls = self.api.calls().since(first_call);
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
                Err(status) => status_text(status),
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
struct HookCall {
    verdict: check::HookVerdict,
    event: HookEvent,
    api_calls: Vec<ApiCall>,
}

/// An API call as a snapshot shows it: what was asked and answered, not when.
fn snapshot_call(call: &ApiCall) -> Value {
    serde_json::json!({
        "method": call.method,
        "request": call.request,
        "outcome": call.outcome,
    })
}

/// tonic reports an answer over the size limit as OUT_OF_RANGE; grpc-go,
/// which the Mattermost server uses, as RESOURCE_EXHAUSTED. Suites and
/// outcomes follow upstream, so the status is given as grpc-go gives it.
fn as_grpc_go_reports(status: tonic::Status) -> tonic::Status {
    let message = status.message();
    if status.code() != tonic::Code::OutOfRange
        || !message.contains("decoded message length too large")
    {
        return status;
    }
    let numbers: Vec<&str> = message
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .collect();
    let (found, limit) = match numbers[..] {
        [found, limit] => (found, limit),
        _ => return status,
    };
    tonic::Status::resource_exhausted(format!(
        "grpc: received message larger than max ({found} vs. {limit}): the answer is over the \
         4 MiB a Mattermost server's gRPC client accepts"
    ))
}

fn status_text(status: &tonic::Status) -> String {
    format!("{}: {}", wire::code_name(status.code()), status.message())
}
