//! Executing suites against a plugin: one plugin process and one fresh
//! Plugin API world per suite, cases in order, every step checked, and a
//! time-ordered transcript of the wire for each failed case.

mod results;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

pub use results::{
    ApiUsage, LaunchFailureReport, PluginInfo, RunReport, SuiteReport, Totals, exit,
};
// A run reports its cases in the engine's types.
pub use crate::engine::{CaseReport, HookEvent, Outcome, StepOutcome, StepReport, WireEvent};

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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            launch: LaunchOptions::default(),
            steps: StepOptions::default(),
            filter: CaseFilter::default(),
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
    report.close();
    report
}

struct SuiteOutcome {
    report: SuiteReport,
    api_calls: usize,
    not_modelled: Vec<String>,
    /// Snapshot files the suite's steps used.
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
    if report.plugin.handshake.is_none() {
        let plugin = &session.plugin;
        report.plugin.pid = Some(plugin.process.pid());
        report.plugin.handshake = Some(plugin.handshake.line.clone());
        report.plugin.time_to_handshake = Some(plugin.time_to_handshake);
        report.plugin.implemented = plugin.implemented.clone();
    }
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

fn build_world(target: &PluginTarget, suite: &Suite) -> Result<World, String> {
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
    )
}
