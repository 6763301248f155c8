//! Executing suites against a plugin: one plugin process and one fresh
//! Plugin API world per suite, cases in order, every step checked, and a
//! time-ordered transcript of the wire for each failed case.

mod partition;
mod results;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

pub use partition::{Partition, PartitionKind};
pub use results::{
    ApiUsage, LaunchFailureReport, PluginInfo, RunReport, SuiteReport, Totals, exit,
};
// A run reports its cases in the engine's types.
pub use crate::engine::{CaseReport, HookEvent, Outcome, StepOutcome, StepReport, WireEvent};

use futures_util::{StreamExt, stream};
use tokio_util::sync::CancellationToken;

use crate::{
    api::{ApiOutcome, World},
    check,
    engine::{self, StepOptions, SuiteExecution},
    launch::{LaunchOptions, PluginTarget, RunningPlugin},
    session::{self, Session, SessionError},
    suite::{self, Activation, Case, CaseFilter, Origin, Suite},
};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub launch: LaunchOptions,
    /// How each step is called and judged.
    pub steps: StepOptions,
    pub filter: CaseFilter,
    /// Cancelled to stop the run early (Ctrl-C): the current case is cut
    /// short, the plugin is killed, and the report keeps everything so far.
    pub cancel: CancellationToken,
    /// Suites run at once. Each suite has its own plugin process and world
    /// whatever this is, so the results are those of a serial run.
    pub jobs: usize,
    /// Only this share of the selected cases: CI machines splitting a run.
    pub partition: Option<Partition>,
    /// The time every world's clock stands at, instead of the wall clock:
    /// the Plugin API's answers are then the same run after run.
    pub frozen_clock: Option<std::time::SystemTime>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            launch: LaunchOptions::default(),
            steps: StepOptions::default(),
            filter: CaseFilter::default(),
            cancel: CancellationToken::new(),
            jobs: 1,
            partition: None,
            frozen_clock: None,
        }
    }
}

/// Told about progress as it happens, so a console can print as it goes.
pub trait Progress {
    fn run_started(&mut self, _target: &PluginTarget) {}
    fn suite_started(&mut self, _suite: &Suite, _plugin: &RunningPlugin) {}
    fn case_finished(&mut self, _case: &CaseReport) {}
    /// A sink for one suite of a run with several suites at once: what it
    /// is told is held, and handed back by [`Progress::join`] when the
    /// suite ends, so each suite's lines stay together.
    fn fork(&mut self) -> Box<dyn Progress> {
        Box::new(Silent)
    }
    /// Takes back a sink made by `fork`, once its suite ended; suites are
    /// joined in run order, whatever order they finished in.
    fn join(&mut self, _forked: Box<dyn Progress>) {}
    /// What a forked sink held, for `join` (a console's bytes).
    fn take_held(&mut self) -> Vec<u8> {
        Vec::new()
    }
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
            runtime: target.runtime.name(),
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
        totals: Totals::default(),
        exit_code: exit::PASSED,
    };
    let mut not_modelled: BTreeMap<String, usize> = BTreeMap::new();
    progress.run_started(target);
    let plan = plan(suites, options);
    if options.jobs <= 1 {
        for planned in &plan {
            if options.cancel.is_cancelled() {
                report.interrupted = true;
                break;
            }
            let outcome = run_suite(target, planned, options, started, progress).await;
            if !absorb(&mut report, &mut not_modelled, planned, outcome, options) {
                break;
            }
        }
    } else {
        // Cancelled when a launch fails, so the suites still running stop:
        // a serial run would not have started them, and their results are
        // dropped.
        let abandon = options.cancel.child_token();
        let suite_options = RunOptions {
            cancel: abandon.clone(),
            ..options.clone()
        };
        let sinks: Vec<Box<dyn Progress>> = plan.iter().map(|_| progress.fork()).collect();
        let suite_options = &suite_options;
        // `buffered` runs up to `jobs` suites at once and yields their
        // outcomes in the suites' order, not in the order they finish.
        let mut outcomes = stream::iter(plan.iter().zip(sinks))
            .map(|(planned, mut sink)| async move {
                if suite_options.cancel.is_cancelled() {
                    return (None, sink);
                }
                let outcome =
                    run_suite(target, planned, suite_options, started, sink.as_mut()).await;
                (Some(outcome), sink)
            })
            .buffered(options.jobs);
        let mut planned_suites = plan.iter();
        let mut going = true;
        while let Some((outcome, sink)) = outcomes.next().await {
            let planned = planned_suites
                .next()
                .expect("the stream yields one outcome per planned suite");
            if !going {
                continue;
            }
            progress.join(sink);
            going = match outcome {
                None => {
                    report.interrupted = true;
                    false
                }
                Some(outcome) => {
                    absorb(&mut report, &mut not_modelled, planned, outcome, options)
                        && !options.cancel.is_cancelled()
                }
            };
            if !going {
                abandon.cancel();
            }
        }
    }
    report.interrupted |= options.cancel.is_cancelled();
    report.api.modelled = crate::api::modelled_methods().len();
    report.api.total = mm_plugin_proto::api_service().methods().len();
    report.api.not_modelled_calls = not_modelled.into_iter().collect();
    report.duration = started.elapsed();
    report.close();
    report
}

/// A suite with the cases of it this run takes.
struct PlannedSuite<'s> {
    suite: &'s Suite,
    cases: Vec<&'s str>,
}

/// The suites with a case selected by the filter and the partition, in
/// run order.
fn plan<'s>(suites: &'s [Suite], options: &RunOptions) -> Vec<PlannedSuite<'s>> {
    let mut position = 0;
    let mut plan = Vec::new();
    for suite in suites {
        let mut cases = Vec::new();
        for case in &suite.cases {
            if !options.filter.selects(&suite.name, &case.name) {
                continue;
            }
            let taken = options
                .partition
                .is_none_or(|partition| partition.takes(position, &suite.name, &case.name));
            position += 1;
            if taken {
                cases.push(case.name.as_str());
            }
        }
        if !cases.is_empty() {
            plan.push(PlannedSuite { suite, cases });
        }
    }
    plan
}

/// Adds a suite's outcome to the report; false when the run stops there
/// (a launch failure, or an interruption).
fn absorb(
    report: &mut RunReport,
    not_modelled: &mut BTreeMap<String, usize>,
    planned: &PlannedSuite<'_>,
    outcome: Result<SuiteOutcome, LaunchFailureReport>,
    options: &RunOptions,
) -> bool {
    match outcome {
        Ok(session) => {
            if planned.cases.len() == planned.suite.cases.len()
                && let Origin::File(path) = &planned.suite.origin
            {
                report.stale_snapshots.extend(check::stale_snapshots(
                    path,
                    &planned.suite.name,
                    &session.snapshots,
                ));
            }
            if report.plugin.handshake.is_none() {
                let launched = session.launched;
                report.plugin.pid = Some(launched.pid);
                report.plugin.handshake = Some(launched.handshake);
                report.plugin.time_to_handshake = Some(launched.time_to_handshake);
                report.plugin.implemented = launched.implemented;
            }
            report.api.calls += session.api_calls;
            for method in session.not_modelled {
                *not_modelled.entry(method).or_default() += 1;
            }
            report.suites.push(session.report);
            true
        }
        Err(_) if options.cancel.is_cancelled() => false,
        Err(failure) => {
            report.launch_failure = Some(failure);
            false
        }
    }
}

/// The plugin process a suite ran against, as the report's header tells
/// of the first one.
struct Launched {
    pid: u32,
    handshake: String,
    time_to_handshake: Duration,
    implemented: Vec<String>,
}

struct SuiteOutcome {
    report: SuiteReport,
    launched: Launched,
    api_calls: usize,
    not_modelled: Vec<String>,
    /// Snapshot files the suite's steps used.
    snapshots: Vec<std::path::PathBuf>,
}

async fn run_suite(
    target: &PluginTarget,
    planned: &PlannedSuite<'_>,
    options: &RunOptions,
    epoch: Instant,
    progress: &mut dyn Progress,
) -> Result<SuiteOutcome, LaunchFailureReport> {
    let original = planned.suite;
    let failure = |input_error: bool, message: String| LaunchFailureReport {
        suite: original.name.clone(),
        input_error,
        message,
        output_tail: Vec::new(),
    };
    let world = build_world(target, original, options.frozen_clock)
        .map_err(|message| failure(true, message))?;
    let resolved = suite::resolve_suite(original, |reference| find_in_world(&world, reference))
        .map_err(|message| failure(true, format!("{}: {message}", original.origin)))?;
    let suite = &resolved;
    let cases: Vec<&Case> = suite
        .cases
        .iter()
        .filter(|case| planned.cases.contains(&case.name.as_str()))
        .collect();
    let start = Session::start_in(target, world, suite.stubs.clone(), &options.launch, epoch);
    let started = tokio::select! {
        biased;
        _ = options.cancel.cancelled() => return Err(failure(false, "interrupted while the plugin started".to_owned())),
        started = start => started,
    };
    let session = started.map_err(|err| match err {
        SessionError::Launch(launch_failure) => LaunchFailureReport {
            suite: suite.name.clone(),
            input_error: false,
            message: launch_failure.error.to_string(),
            output_tail: launch_failure.output_tail,
        },
        other => failure(false, other.to_string()),
    })?;
    let launched = Launched {
        pid: session.plugin.process.pid(),
        handshake: session.plugin.handshake.line.clone(),
        time_to_handshake: session.plugin.time_to_handshake,
        implemented: session.plugin.implemented.clone(),
    };
    progress.suite_started(suite, &session.plugin);
    let mut execution = SuiteExecution::new(suite, session, &options.steps);
    let mut notes = Vec::new();
    // Once set, why the remaining cases cannot run.
    let mut stopped: Option<String> = None;
    if suite.activation == Activation::Auto {
        match execution.activate().await {
            Ok(reported) => notes.extend(reported),
            Err(reason) => {
                notes.push(format!("OnActivate failed: {reason}"));
                stopped = Some(format!("the plugin failed to activate: {reason}"));
            }
        }
    }
    let mut case_reports = Vec::new();
    for case in cases {
        let case_report = match &stopped {
            Some(reason) => execution.not_run(case, reason.clone()),
            None => {
                let cancel = options.cancel.clone();
                let finished = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => None,
                    case_report = execution.run_case(case) => Some(case_report),
                };
                match finished {
                    Some(case_report) => case_report,
                    None => {
                        stopped = Some("the run was interrupted".to_owned());
                        engine::not_run(suite, case, execution.interrupted_reason())
                    }
                }
            }
        };
        if stopped.is_none()
            && let Some(death) = execution.died()
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
    let deactivate = suite.activation == Activation::Auto && stopped.is_none();
    let end = execution
        .finish(deactivate, options.cancel.is_cancelled())
        .await;
    notes.extend(end.notes);
    Ok(SuiteOutcome {
        launched,
        snapshots: end.snapshots,
        api_calls: end.api_calls.len(),
        not_modelled: end
            .api_calls
            .iter()
            .filter(|call| call.outcome == ApiOutcome::NotModelled)
            .map(|call| call.method.clone())
            .collect(),
        report: SuiteReport {
            name: suite.name.clone(),
            origin: suite.origin.to_string(),
            cases: case_reports,
            exit: Some(end.exit),
            notes,
            output_tail: end.output_tail,
        },
    })
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

fn build_world(
    target: &PluginTarget,
    suite: &Suite,
    frozen_clock: Option<std::time::SystemTime>,
) -> Result<World, String> {
    let seed = match &suite.world {
        Some(path) => Some((
            World::load_seed(path).map_err(|err| err.to_string())?,
            path.display().to_string(),
        )),
        None => None,
    };
    session::world_for(
        target,
        seed.as_ref().map(|(seed, origin)| (seed, origin.as_str())),
        frozen_clock,
    )
}
