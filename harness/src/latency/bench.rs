//! A bench run: launch the plugin (and the reference plugin, for the
//! floor), activate it as the server does, warm every call up, then
//! measure in rounds. Rounds interleave the calls, alternating their order,
//! so drift of the machine spreads over all of them and shows as the
//! rounds' spread, which is the noise baseline comparisons judge against.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::{
    api_bench, attribution,
    load::{self, Bounds, Measured, Mode},
    machine, overhead,
    pacing::PreciseClock,
    physical::{SocketProbe, Transport},
    report::{
        BenchReport, CallKind, CallReport, PluginInfo, Role, SCHEMA, Source, now_rfc3339,
        python_plugins,
    },
    targets::{self, Payloads, Selection},
};
use crate::{
    api::{ApiOutcome, Seed, World},
    hooks::HookClient,
    launch::{CapturedLine, LaunchOptions, PluginAddress, PluginTarget, RunningPlugin, Runtime},
    session::{Session, SessionError},
    suite::{self, Suite},
};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub launch: LaunchOptions,
    /// Deadline of each hook call.
    pub deadline: Duration,
    /// Time the plugins get to exit after SIGTERM.
    pub grace: Duration,
    pub hooks: Selection,
    pub api: Selection,
    /// Where hook requests come from; the built-in suites when empty.
    pub suites: Vec<Suite>,
    pub mode: Mode,
    /// For each call, all rounds together.
    pub bounds: Bounds,
    /// For each call, before the first round; never recorded.
    pub warmup: Duration,
    pub rounds: usize,
    /// The reference plugin for the floor; `None` skips it.
    pub floor: Option<PluginTarget>,
    /// The bare grpcio plugin, the Python gRPC floor of Python plugins;
    /// `None` skips it.
    pub python_floor: Option<PluginTarget>,
    /// The program that answers `__socket-echo` (this harness), for the
    /// physical floor; `None` skips it.
    pub echo_program: Option<PathBuf>,
    /// The harness whose `record` mode is put between the harness and a
    /// second copy of the plugin, to measure what recording costs each
    /// hook; `None` skips it.
    pub recorder_program: Option<PathBuf>,
    pub cancel: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Bad flags or files.
    #[error("{0}")]
    Input(String),
    /// The plugin under test could not be started or activated.
    #[error("{message}")]
    NotStarted {
        message: String,
        output_tail: Vec<CapturedLine>,
    },
}

/// The longest a plugin is asked to call the API in one command: its hook
/// handler has upstream's 30 s timeout.
const PLUGIN_BATCH_TIME: Duration = Duration::from_secs(20);
/// The most calls in one command (its answer lists every sample).
const PLUGIN_BATCH_CALLS: u64 = 200_000;
/// Warm-up is bounded by time; this only keeps it bounded in count too.
const WARMUP_CALLS: u64 = 10_000_000;

/// Something measured, and how.
struct Target {
    call: CallReport,
    work: Work,
}

enum Work {
    /// Calls made here, in the load loop.
    Load(load::Caller),
    /// API calls the plugin makes and times itself, on command.
    PluginSide { client: HookClient, rpc: String },
    /// Raw socket ping-pongs of `size` bytes: the physical floor.
    Socket {
        probe: Arc<Mutex<SocketProbe>>,
        size: usize,
    },
}

/// What a bench tells its reporter as it goes.
#[derive(Debug)]
pub enum BenchEvent<'a> {
    Plugin {
        target: &'a PluginTarget,
    },
    Launched {
        plugin: &'a RunningPlugin,
    },
    /// A second copy of the reference plugin, for the harness's own floor
    /// (or the bare grpcio plugin, for the Python gRPC floor).
    FloorLaunched {
        target: &'a PluginTarget,
        plugin: &'a RunningPlugin,
    },
    /// A second copy of the plugin, behind `harness record`.
    RecorderLaunched {
        plugin: &'a RunningPlugin,
    },
    /// The socket echo of the physical floor answers on `transport`.
    EchoStarted {
        transport: &'a str,
    },
    /// What will be measured: `kind/name` per call, the rounds, and the
    /// time bound when one was set.
    Plan {
        calls: &'a [String],
        rounds: usize,
        at_most: Option<Duration>,
    },
    WarmingUp {
        calls: usize,
        each: Duration,
    },
    Round {
        done: usize,
        of: usize,
        took: Duration,
    },
    Finished {
        elapsed: Duration,
    },
}

/// Runs the bench; `progress` sees an event at each stage.
pub async fn bench(
    target: &PluginTarget,
    options: &BenchOptions,
    progress: &mut dyn FnMut(BenchEvent<'_>),
) -> Result<BenchReport, BenchError> {
    let created = now_rfc3339();
    let seed = world_seed(&options.suites)?;
    progress(BenchEvent::Plugin { target });
    let started = Instant::now();
    let launch = Session::start(
        target,
        seed.as_ref().map(|(s, o)| (s, o.as_str())),
        &options.launch,
    );
    // Dropping a half-started session kills the plugin's group.
    let mut session = tokio::select! {
        biased;
        () = options.cancel.cancelled() => return Err(BenchError::NotStarted {
            message: "interrupted while the plugin started".to_owned(),
            output_tail: Vec::new(),
        }),
        session = launch => session.map_err(not_started)?,
    };
    progress(BenchEvent::Launched {
        plugin: &session.plugin,
    });
    let mut floors = Vec::new();
    // Where the recorder writes what it recorded: nobody reads it.
    let recordings = match &options.recorder_program {
        Some(_) => Some(tempfile::tempdir().map_err(|err| {
            BenchError::Input(format!("cannot make a directory for the recorder: {err}"))
        })?),
        None => None,
    };
    let recorded_world = seed.as_ref().map(|(s, o)| (s, o.as_str()));
    let recorder = recordings.as_ref().map(|dir| (dir.path(), recorded_world));
    let outcome = measure(
        target,
        options,
        &mut session,
        &mut floors,
        recorder,
        progress,
    )
    .await;
    let cancelled = options.cancel.is_cancelled();
    let grace = if cancelled {
        Duration::ZERO
    } else {
        options.grace
    };
    for floor in floors {
        floor.stop(grace).await;
    }
    drop(recordings);
    if !cancelled {
        // The server logs a failed OnDeactivate and stops the plugin anyway.
        let _ = session.deactivate(options.deadline).await;
    }
    let exited_early = session.plugin.process.try_exit();
    let tail = session.plugin.process.output().tail(None, 10);
    session.stop(grace).await;
    let (mut report, versions) = outcome?;
    if let Some(status) = exited_early {
        report.notes.push(format!(
            "the plugin exited during the bench ({status}); its last output: {}",
            tail.iter()
                .map(|line| line.text.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    report.created = created;
    report.sources[0].created = report.created.clone();
    report.interrupted = cancelled;
    report.machine = machine::describe(&python_for(target)).await;
    if let Some(python) = versions.python {
        // The plugin's own word beats asking an interpreter it may not use.
        report.machine.python = Some(python);
        report.machine.grpcio = versions.grpcio;
    }
    progress(BenchEvent::Finished {
        elapsed: started.elapsed(),
    });
    Ok(report)
}

/// The Python and grpcio versions a plugin reported about itself.
#[derive(Debug, Default)]
struct Versions {
    python: Option<String>,
    grpcio: Option<String>,
}

/// Everything between launch and teardown. `recorder`: where the
/// recorded copy of the plugin writes, and the world it is served.
async fn measure(
    target: &PluginTarget,
    options: &BenchOptions,
    session: &mut Session,
    floors: &mut Vec<Session>,
    recorder: Option<(&std::path::Path, Option<(&Seed, &str)>)>,
    progress: &mut dyn FnMut(BenchEvent<'_>),
) -> Result<(BenchReport, Versions), BenchError> {
    let mut notes = Vec::new();
    // The server activates a plugin before any other hook reaches it.
    if let Err(reason) = session.activate(options.deadline).await {
        return Err(BenchError::NotStarted {
            message: format!("OnActivate failed, so the server would not use the plugin: {reason}"),
            output_tail: session.plugin.process.output().tail(None, 20),
        });
    }
    let builtin = targets::payloads(&suite::builtin());
    let given = targets::payloads(&options.suites);
    let (hooks, hook_notes) = targets::select_hooks(
        &options.hooks,
        &session.plugin.implemented,
        &given,
        &builtin,
    )
    .map_err(BenchError::Input)?;
    notes.extend(hook_notes);
    let modelled = crate::api::modelled_methods();
    let (api, api_notes) =
        targets::select_api(&options.api, &modelled).map_err(BenchError::Input)?;
    let id = target.id.clone();
    let mut list = harness_client_targets(
        &session.plugin,
        &id,
        CallKind::Hook,
        &hooks,
        options.deadline,
    );
    let mut versions = Versions::default();
    if !api.is_empty()
        && let Some((targets, reported)) =
            plugin_side_targets(session, &id, &api, options, &mut notes).await
    {
        notes.extend(api_notes);
        list.extend(targets);
        versions = reported;
    }
    let mut floor_plugins = Vec::new();
    if !hooks.is_empty() {
        if let Some(floor_target) = &options.floor {
            let started = start_floor(floor_target, options, &mut notes, progress).await;
            if let Some(started) = started {
                list.extend(floor_targets(
                    &started,
                    floor_target,
                    &hooks,
                    options,
                    &mut notes,
                ));
                floor_plugins.push((floor_target, Role::Floor));
                floors.push(started);
            }
        }
        if let (Some(python_floor), Runtime::Python) = (&options.python_floor, target.runtime) {
            let started = start_floor(python_floor, options, &mut notes, progress).await;
            if let Some(started) = started {
                list.extend(harness_client_targets(
                    &started.plugin,
                    &python_floor.id,
                    CallKind::FloorPython,
                    &hooks,
                    options.deadline,
                ));
                floor_plugins.push((python_floor, Role::PythonFloor));
                floors.push(started);
            }
        }
        if let (Some(program), Some((out, world))) = (&options.recorder_program, recorder)
            && let Some(recorded) =
                start_recorded(program, out, world, target, options, &mut notes, progress).await
        {
            list.extend(harness_client_targets(
                &recorded.plugin,
                &id,
                CallKind::Recorded,
                &hooks,
                options.deadline,
            ));
            floors.push(recorded);
        }
        if let Some(program) = &options.echo_program {
            list.extend(socket_targets(
                program,
                &session.plugin.handshake.address,
                &id,
                &hooks,
                &mut notes,
                progress,
            ));
        }
    }
    if list.is_empty() {
        return Err(BenchError::Input(
            "nothing to measure: no hook selected and no API method the plugin can call".to_owned(),
        ));
    }
    let names: Vec<String> = list
        .iter()
        .map(|target| format!("{}/{}", target.call.kind.slug(), target.call.name))
        .collect();
    progress(BenchEvent::Plan {
        calls: &names,
        rounds: options.rounds.max(1),
        // The time bound is worth announcing when it is the one that was
        // set, not the safety cap of a count-bound run.
        at_most: (options.bounds.duration < Duration::from_secs(600))
            .then(|| (options.warmup + options.bounds.duration) * list.len() as u32),
    });
    let server_side = run_rounds(&mut list, options, session, &id, progress).await;

    let mut calls: Vec<CallReport> = list.into_iter().map(|target| target.call).collect();
    calls.extend(server_side.into_values());
    // Floors measured on another plugin name this run's plugin, so merged
    // runs keep them apart (the physical floor already carries its id).
    for call in calls.iter_mut().filter(|call| call.plugin != id) {
        call.floor_for = Some(id.clone());
    }
    // Hooks, API (plugin-side, server-side), then the floor; stable, so the
    // order of selection holds within each kind.
    calls.sort_by_key(|call| call.kind);
    notes.extend(call_notes(&calls, options.mode));
    let mut plugins = vec![plugin_info(session, target, Role::Bench)];
    for (floor, (floor_target, role)) in floors.iter().zip(floor_plugins) {
        plugins.push(plugin_info(floor, floor_target, role));
    }
    let attribution = attribution::attribute(&calls, &python_plugins(&plugins));
    let report = BenchReport {
        schema: SCHEMA.to_owned(),
        created: String::new(),
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        // Described after teardown, so asking Python for its version does
        // not compete with the measurements.
        machine: machine::Machine::default(),
        sources: vec![source(target, options)],
        plugins,
        overhead: overhead::overheads(&calls),
        attribution,
        calls,
        budget: None,
        baseline: None,
        interrupted: false,
        notes,
    };
    Ok((report, versions))
}

/// What is about to be measured, and for about how long when time bounds it.
/// Warm-up, then the rounds. Returns the server-side API histograms.
async fn run_rounds(
    list: &mut [Target],
    options: &BenchOptions,
    session: &Session,
    id: &str,
    progress: &mut dyn FnMut(BenchEvent<'_>),
) -> BTreeMap<String, CallReport> {
    let cancel = &options.cancel;
    if !options.warmup.is_zero() {
        progress(BenchEvent::WarmingUp {
            calls: list.len(),
            each: options.warmup,
        });
        let warmup = Bounds {
            calls: WARMUP_CALLS.min(options.bounds.calls.max(1) * 10),
            duration: options.warmup,
        };
        for target in list.iter() {
            if cancel.is_cancelled() {
                break;
            }
            drop(run_target(target, warmup, options).await);
        }
    }
    let rounds = options.rounds.max(1);
    let per_round = load::per_round(options.bounds, rounds);
    let mut server_side: BTreeMap<String, CallReport> = BTreeMap::new();
    for round in 0..rounds {
        if cancel.is_cancelled() {
            break;
        }
        let round_started = Instant::now();
        let log_start = session.api.calls().len();
        let mut order: Vec<usize> = (0..list.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            if cancel.is_cancelled() {
                break;
            }
            let measured = run_target(&list[index], per_round, options).await;
            list[index].call.add_round(measured);
        }
        for (method, measured) in server_times(session, log_start) {
            server_side
                .entry(method.clone())
                .or_insert_with(|| CallReport::new(id, CallKind::ApiServer, &method, None))
                .add_round(measured);
        }
        progress(BenchEvent::Round {
            done: round + 1,
            of: rounds,
            took: round_started.elapsed(),
        });
    }
    server_side
}

async fn run_target(target: &Target, bounds: Bounds, options: &BenchOptions) -> Measured {
    match &target.work {
        Work::Load(caller) => {
            load::run(caller, options.mode, bounds, &PreciseClock, &options.cancel).await
        }
        Work::Socket { probe, size } => {
            let (probe, size, cancel) = (probe.clone(), *size, options.cancel.clone());
            // Blocking reads and writes, on a thread of their own: no
            // runtime wake-up is part of the physical floor.
            let measured = tokio::task::spawn_blocking(move || {
                let mut probe = probe.lock().unwrap_or_else(PoisonError::into_inner);
                probe.measure(size, bounds, &cancel)
            })
            .await;
            measured.unwrap_or_else(|err| Measured {
                errors: 1,
                first_error: Some(format!("the socket probe's thread failed: {err}")),
                ..Measured::default()
            })
        }
        Work::PluginSide { client, rpc } => {
            tokio::select! {
                biased;
                () = options.cancel.cancelled() => Measured::default(),
                measured = plugin_side(client, rpc, bounds, options.deadline) => measured,
            }
        }
    }
}

/// Has the plugin call `rpc` within `bounds`, in commands short enough for
/// its hook timeout.
async fn plugin_side(
    client: &HookClient,
    rpc: &str,
    bounds: Bounds,
    deadline: Duration,
) -> Measured {
    let started = Instant::now();
    let mut measured = Measured::default();
    while measured.calls() < bounds.calls && started.elapsed() < bounds.duration {
        let count = (bounds.calls - measured.calls()).min(PLUGIN_BATCH_CALLS);
        let time = (bounds.duration - started.elapsed()).min(PLUGIN_BATCH_TIME);
        match api_bench::measure(client, rpc, count, time, deadline).await {
            Ok(timings) => {
                let mut batch = Measured {
                    errors: timings.errors,
                    first_error: timings.first_error,
                    ..Measured::default()
                };
                for nanos in &timings.samples_ns {
                    batch.latencies.record_ns(*nanos);
                }
                let made = batch.calls();
                measured.absorb(batch);
                if made == 0 {
                    break;
                }
            }
            Err(message) => {
                measured.errors += 1;
                measured.first_error.get_or_insert(message);
                break;
            }
        }
    }
    measured
}

/// Probes the plugin for the API bench protocol and makes a target per
/// method it can call. `None` (with a note) if it cannot.
async fn plugin_side_targets(
    session: &Session,
    id: &str,
    api: &[String],
    options: &BenchOptions,
    notes: &mut Vec<String>,
) -> Option<(Vec<Target>, Versions)> {
    let unavailable = "plugin-observed API latency needs a plugin that answers /mm-harness-bench \
                       (as fixtures/plugins/bench-python does); only server-side API times are reported";
    if !session.plugin.implements("ExecuteCommand") {
        notes.push(unavailable.to_owned());
        return None;
    }
    let probe = match api_bench::probe(&session.plugin.hooks, options.deadline).await {
        Ok(probe) => probe,
        Err(reason) => {
            notes.push(format!("{unavailable}: {reason}"));
            return None;
        }
    };
    let mut list = Vec::new();
    for rpc in api {
        if !probe.rpcs.contains(rpc) {
            notes.push(format!(
                "{rpc}: the plugin has no request to call it with; not measured"
            ));
            continue;
        }
        list.push(Target {
            call: CallReport::new(
                id,
                CallKind::ApiPlugin,
                rpc,
                Some(
                    "timed by the plugin (time.perf_counter_ns), closed loop, 1 in flight"
                        .to_owned(),
                ),
            ),
            work: Work::PluginSide {
                client: session.plugin.hooks.clone(),
                rpc: rpc.clone(),
            },
        });
    }
    let versions = Versions {
        python: probe.python,
        grpcio: probe.grpcio,
    };
    Some((list, versions))
}

/// The selected hooks against the reference plugin, through both clients.
fn floor_targets(
    floor: &Session,
    floor_target: &PluginTarget,
    hooks: &[Payloads],
    options: &BenchOptions,
    notes: &mut Vec<String>,
) -> Vec<Target> {
    let id = &floor_target.id;
    let mut list = Vec::new();
    for payloads in hooks.iter().filter(|p| floor.plugin.implements(&p.hook)) {
        let raw =
            match targets::raw_caller(floor.plugin.channel.clone(), payloads, options.deadline) {
                Ok(raw) => raw,
                Err(reason) => {
                    notes.push(format!("no floor for {}: {reason}", payloads.name));
                    continue;
                }
            };
        let description = Some(payloads.description.clone());
        list.push(Target {
            call: CallReport::new(
                id,
                CallKind::FloorHarness,
                &payloads.name,
                description.clone(),
            ),
            work: Work::Load(targets::harness_caller(
                &floor.plugin,
                payloads,
                options.deadline,
            )),
        });
        list.push(Target {
            call: CallReport::new(id, CallKind::FloorRaw, &payloads.name, description),
            work: Work::Load(raw),
        });
    }
    list
}

/// Starts a floor plugin; a note says why when it does not start.
async fn start_floor(
    floor_target: &PluginTarget,
    options: &BenchOptions,
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(BenchEvent<'_>),
) -> Option<Session> {
    match Session::start(floor_target, None, &options.launch).await {
        Ok(started) => {
            progress(BenchEvent::FloorLaunched {
                target: floor_target,
                plugin: &started.plugin,
            });
            Some(started)
        }
        Err(err) => {
            notes.push(format!(
                "the floor was not measured: {} did not start: {err}",
                floor_target.dir.display()
            ));
            None
        }
    }
}

/// A second copy of the plugin with `harness record` in front of it, as a
/// server would start a bundle installed for recording, activated; a note
/// says why when it does not start.
async fn start_recorded(
    program: &std::path::Path,
    out: &std::path::Path,
    world: Option<(&Seed, &str)>,
    target: &PluginTarget,
    options: &BenchOptions,
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(BenchEvent<'_>),
) -> Option<Session> {
    let plugin = match target.manifest {
        Some(_) => target.dir.clone(),
        None => target.dir.join(&target.executable),
    };
    let mut args: Vec<std::ffi::OsString> = vec![
        "record".into(),
        "--out".into(),
        out.into(),
        "--name".into(),
        "bench".into(),
        "--".into(),
        plugin.into(),
    ];
    args.extend(options.launch.extra_args.iter().cloned());
    let launch = LaunchOptions {
        extra_args: args,
        ..options.launch.clone()
    };
    let recorded = PluginTarget {
        id: target.id.clone(),
        dir: target.dir.clone(),
        executable: program.to_owned(),
        runtime: Runtime::Native,
        manifest: None,
    };
    let session = match Session::start(&recorded, world, &launch).await {
        Ok(session) => session,
        Err(err) => {
            notes.push(format!(
                "the recorder was not measured: it did not start: {err}"
            ));
            return None;
        }
    };
    if let Err(reason) = session.activate(options.deadline).await {
        notes.push(format!(
            "the recorder was not measured: OnActivate through it failed: {reason}"
        ));
        session.stop(options.grace).await;
        return None;
    }
    progress(BenchEvent::RecorderLaunched {
        plugin: &session.plugin,
    });
    Some(session)
}

/// The selected hooks `plugin` implements, each called through the
/// harness's hook client and reported as `kind` of plugin `id`: the plugin
/// under test, the bare grpcio plugin (the Python gRPC floor), or the
/// plugin behind the recorder.
fn harness_client_targets(
    plugin: &RunningPlugin,
    id: &str,
    kind: CallKind,
    hooks: &[Payloads],
    deadline: Duration,
) -> Vec<Target> {
    hooks
        .iter()
        .filter(|payloads| plugin.implements(&payloads.hook))
        .map(|payloads| Target {
            call: CallReport::new(id, kind, &payloads.name, Some(payloads.description.clone())),
            work: Work::Load(targets::harness_caller(plugin, payloads, deadline)),
        })
        .collect()
}

/// One socket echo on the plugin's transport, and a ping-pong target per
/// hook with that hook's message size.
fn socket_targets(
    program: &std::path::Path,
    address: &PluginAddress,
    id: &str,
    hooks: &[Payloads],
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(BenchEvent<'_>),
) -> Vec<Target> {
    let transport = Transport::of(address);
    let probe = match SocketProbe::spawn(program, transport) {
        Ok(probe) => Arc::new(Mutex::new(probe)),
        Err(err) => {
            notes.push(format!("the physical floor was not measured: {err}"));
            return Vec::new();
        }
    };
    progress(BenchEvent::EchoStarted {
        transport: transport.name(),
    });
    hooks
        .iter()
        .map(|payloads| {
            let size = targets::message_size(payloads);
            Target {
                call: CallReport::new(
                    id,
                    CallKind::FloorSocket,
                    &payloads.name,
                    Some(format!(
                        "{size} B each way over a {} socket, blocking, between two processes",
                        transport.name()
                    )),
                ),
                work: Work::Socket {
                    probe: probe.clone(),
                    size,
                },
            }
        })
        .collect()
}

/// Each API method's server-side service times since `start` in the log.
fn server_times(session: &Session, start: usize) -> BTreeMap<String, Measured> {
    let mut by_method: BTreeMap<String, Measured> = BTreeMap::new();
    for call in session.api.calls().since(start) {
        let measured = by_method.entry(call.method.clone()).or_default();
        match &call.outcome {
            ApiOutcome::Response { .. } => measured.latencies.record(call.duration),
            ApiOutcome::Status { code, message } => {
                measured.errors += 1;
                measured
                    .first_error
                    .get_or_insert_with(|| format!("{code}: {message}"));
            }
            ApiOutcome::NotModelled => {
                measured.errors += 1;
                measured
                    .first_error
                    .get_or_insert_with(|| "not modelled by the harness".to_owned());
            }
        }
    }
    by_method
}

/// Notes on calls that failed or fell behind the schedule.
fn call_notes(calls: &[CallReport], mode: Mode) -> Vec<String> {
    let mut notes = Vec::new();
    for call in calls {
        if call.errors > 0 {
            notes.push(format!(
                "{}: {} of {} calls failed; the first: {}",
                call.key(),
                call.errors,
                call.errors + call.summary.count,
                call.first_error.as_deref().unwrap_or("?")
            ));
        }
        if let (Mode::Open { rate, .. }, true) = (mode, call.missed > 0) {
            notes.push(format!(
                "{}: {} calls due were never sent: the plugin could not keep up with {rate}/s",
                call.key(),
                call.missed
            ));
        }
    }
    notes
}

fn world_seed(suites: &[Suite]) -> Result<Option<(Seed, String)>, BenchError> {
    let Some(path) = suites.iter().find_map(|suite| suite.world.clone()) else {
        return Ok(None);
    };
    let seed = World::load_seed(&path).map_err(|err| BenchError::Input(err.to_string()))?;
    Ok(Some((seed, path.display().to_string())))
}

fn not_started(err: SessionError) -> BenchError {
    match err {
        SessionError::Launch(failure) => BenchError::NotStarted {
            message: failure.error.to_string(),
            output_tail: failure.output_tail,
        },
        SessionError::World(message) => BenchError::Input(message),
        other => BenchError::NotStarted {
            message: other.to_string(),
            output_tail: Vec::new(),
        },
    }
}

fn plugin_info(session: &Session, target: &PluginTarget, role: Role) -> PluginInfo {
    PluginInfo {
        id: target.id.clone(),
        role,
        runtime: target.runtime.name().to_owned(),
        dir: target.dir.display().to_string(),
        implemented: session.plugin.implemented.clone(),
        time_to_handshake_s: (session.plugin.time_to_handshake.as_secs_f64() * 1e6).round() / 1e6,
    }
}

fn source(target: &PluginTarget, options: &BenchOptions) -> Source {
    let origins: Vec<String> = options
        .suites
        .iter()
        .map(|s| s.origin.to_string())
        .collect();
    Source {
        created: String::new(),
        plugin: target.dir.display().to_string(),
        mode: options.mode,
        calls: options.bounds.calls,
        duration_s: options.bounds.duration.as_secs_f64(),
        warmup_s: options.warmup.as_secs_f64(),
        rounds: options.rounds.max(1),
        deadline_s: options.deadline.as_secs_f64(),
        payloads: if origins.is_empty() {
            "built-in suites".to_owned()
        } else {
            origins.join(", ")
        },
        plugin_args: options
            .launch
            .extra_args
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect(),
    }
}

/// The interpreter a Python plugin runs on, or `python3` for the record.
fn python_for(target: &PluginTarget) -> PathBuf {
    let path = std::env::var_os("PATH");
    match (target.runtime, target.command_line(&[], path.as_deref())) {
        (Runtime::Python, Ok(command)) => command.program,
        _ => PathBuf::from("python3"),
    }
}
