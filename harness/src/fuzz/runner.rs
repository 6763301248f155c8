//! The fuzz loop: seeded cases, round robin over the hooks, each checked
//! against the live plugin; a crash relaunches the plugin and the run goes
//! on; each new failure is shrunk and saved. Bounded by a number of cases
//! and a time, stoppable with Ctrl-C, and deterministic for a seed: the
//! cases come from one ChaCha RNG seeded with it, and nothing the plugin
//! answers feeds back into generation.

use std::{
    collections::BTreeMap,
    hash::{Hash, Hasher},
    path::PathBuf,
    time::{Duration, Instant},
};

use bytes::Bytes;
use proptest::{
    strategy::{BoxedStrategy, Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use tokio_util::sync::CancellationToken;

use super::{
    properties::{self, Checks, Failure, FailureKind},
    raw, save,
    shrink::{self, Budget},
    spec::Spec,
    strategies::{self, HttpCase, Profile},
};
use crate::{
    check::{self, HookExchange},
    hooks,
    launch::{CapturedLine, LaunchOptions, PluginTarget, RunningPlugin},
    session::Session,
    suite::HookExpect,
    wire,
};

/// Cases run when neither a number of cases nor a time is given.
pub const DEFAULT_CASES: u64 = 1000;

/// Hooks the session drives itself, as the server does: never fuzzed
/// unless named.
const LIFECYCLE: &[&str] = &["OnActivate", "OnDeactivate"];

#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub launch: LaunchOptions,
    /// Deadline of every call.
    pub deadline: Duration,
    /// Time the plugin gets to exit after SIGTERM at the end.
    pub grace: Duration,
    /// Hooks to fuzz; empty: every hook the plugin implements, but the lifecycle ones.
    pub hooks: Vec<String>,
    /// At most this many cases (default [`DEFAULT_CASES`] when `time` is not set either).
    pub cases: Option<u64>,
    /// At most this long searching (shrinking a failure found in time may add `shrink_time`).
    pub time: Option<Duration>,
    pub seed: u64,
    pub profile: Profile,
    /// Mutate the encoded requests (unary hooks only).
    pub raw: bool,
    pub spec: Spec,
    /// Where shrunk failures are saved.
    pub save: Option<PathBuf>,
    /// Time allowed to shrink each failure.
    pub shrink_time: Duration,
    pub cancel: CancellationToken,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            launch: LaunchOptions::default(),
            deadline: hooks::DEFAULT_DEADLINE,
            grace: Duration::from_secs(5),
            hooks: Vec::new(),
            cases: None,
            time: None,
            seed: 0,
            profile: Profile::Realistic,
            raw: false,
            spec: Spec::default(),
            save: None,
            shrink_time: Duration::from_secs(30),
            cancel: CancellationToken::new(),
        }
    }
}

/// How a request is sent and judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Unary,
    Raw,
    Http,
}

/// One generated request.
#[derive(Debug, Clone)]
pub enum Request {
    /// An encoded unary hook request (well formed, or damaged in raw mode).
    Encoded(Bytes),
    Http(HttpCase),
}

impl Request {
    /// Identifies a request, so shrinking runs none twice.
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        match self {
            Request::Encoded(bytes) => bytes.hash(&mut hasher),
            Request::Http(case) => {
                case.method.hash(&mut hasher);
                case.url.hash(&mut hasher);
                for header in &case.headers {
                    header.name.hash(&mut hasher);
                    header.values.hash(&mut hasher);
                }
                case.body.hash(&mut hasher);
                case.pieces.hash(&mut hasher);
                format!("{:?}", case.plugin_context).hash(&mut hasher);
            }
        }
        hasher.finish()
    }

    /// Its size in bytes, as sent.
    pub fn size(&self) -> usize {
        match self {
            Request::Encoded(bytes) => bytes.len(),
            Request::Http(case) => {
                case.method.len()
                    + case.url.len()
                    + case
                        .headers
                        .iter()
                        .map(|h| h.name.len() + h.values.iter().map(String::len).sum::<usize>())
                        .sum::<usize>()
                    + case.body.len()
            }
        }
    }
}

/// A hook being fuzzed, and how.
struct Fuzzed {
    hook: String,
    mode: Mode,
    strategy: BoxedStrategy<Request>,
}

/// Counters, as the run goes.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub cases: u64,
    /// Cases that failed, the repeats of a known failure included.
    pub failing_cases: u64,
    /// Distinct failures (hook and reason).
    pub findings: usize,
    pub crashes: u64,
    /// Launches after the first one.
    pub restarts: u64,
    pub elapsed: Duration,
    /// Time spent shrinking, not counted in the case rate.
    pub shrinking: Duration,
    pub per_hook: BTreeMap<String, u64>,
    /// What is happening now, for a progress line (`shrinking MessageWillBePosted`).
    pub activity: Option<String>,
}

impl Stats {
    /// Cases per second of searching (shrinking left out).
    pub fn cases_per_second(&self) -> f64 {
        let searching = self.elapsed.saturating_sub(self.shrinking).as_secs_f64();
        if searching > 0.0 {
            self.cases as f64 / searching
        } else {
            0.0
        }
    }
}

/// A distinct failure: where it was found, and its shrunk case.
#[derive(Debug, Clone)]
pub struct Finding {
    pub hook: String,
    pub mode: Mode,
    /// Index of the case that first failed this way (0-based).
    pub case: u64,
    /// How many cases failed this way.
    pub occurrences: u64,
    /// The failure of the first case, before shrinking.
    pub first_failure: Failure,
    /// The failure of the shrunk case.
    pub failure: Failure,
    pub original_size: usize,
    pub request: Request,
    /// The shrunk request, readable: JSON in the suite format, an HTTP
    /// request line, or hex for raw bytes.
    pub request_text: String,
    pub shrink_runs: usize,
    pub shrink_steps: usize,
    pub shrink_time: Duration,
    /// Shrinking reached a minimum (not a budget or Ctrl-C).
    pub shrink_complete: bool,
    pub saved: Option<PathBuf>,
    pub save_error: Option<String>,
    /// What the plugin wrote last, when the failure happened.
    pub output_tail: Vec<CapturedLine>,
}

impl Finding {
    pub fn kind(&self) -> &FailureKind {
        &self.failure.kind
    }
}

#[derive(Debug, Clone, Default)]
pub struct FuzzReport {
    pub seed: u64,
    pub profile: Profile,
    pub raw: bool,
    /// The hooks fuzzed, in order.
    pub hooks: Vec<String>,
    /// Hooks asked for that the plugin does not implement (not called, as upstream would not).
    pub not_implemented: Vec<String>,
    /// Hooks the spec has rules for that were not fuzzed.
    pub spec_unused: Vec<String>,
    pub stats: Stats,
    pub findings: Vec<Finding>,
    /// The plugin could not be started, or restarted, or activated.
    pub launch_failure: Option<String>,
    /// Bad input found once the plugin's hooks were known.
    pub input_error: Option<String>,
    pub interrupted: bool,
}

/// Told about the run as it goes.
pub trait FuzzProgress {
    fn started(&mut self, _plugin: &RunningPlugin, _hooks: &[String]) {}
    fn tick(&mut self, _stats: &Stats) {}
    /// A new failure, before it is shrunk.
    fn found(&mut self, _hook: &str, _failure: &Failure) {}
    /// A new failure, shrunk and saved.
    fn finding(&mut self, _finding: &Finding) {}
}

/// A progress sink that ignores everything.
pub struct Quiet;
impl FuzzProgress for Quiet {}

/// The names the user may pass to `--hooks`: unary hooks and ServeHTTP.
pub fn check_hook_names(names: &[String]) -> Result<(), String> {
    for name in names {
        let callable = name == "ServeHTTP" || strategies::unary_request(name, Profile::Realistic).is_some();
        if !callable {
            let hint = hooks::closest_hook(name)
                .map(|close| format!(", did you mean `{close}`?"))
                .unwrap_or_default();
            return Err(format!("--hooks: unknown hook `{name}`{hint}"));
        }
    }
    Ok(())
}

/// Fuzzes the plugin at `target`. Never fails: what goes wrong is in the
/// report, with every finding made until then.
pub async fn fuzz(
    target: &PluginTarget,
    options: &FuzzOptions,
    progress: &mut dyn FuzzProgress,
) -> FuzzReport {
    let started = Instant::now();
    let mut report = FuzzReport {
        seed: options.seed,
        profile: options.profile,
        raw: options.raw,
        ..Default::default()
    };
    let mut live = Live {
        target,
        options,
        session: None,
        launches: 0,
        crashes: 0,
        crash_output: Vec::new(),
    };
    let first = tokio::select! {
        biased;
        _ = options.cancel.cancelled() => {
            report.interrupted = true;
            return report;
        }
        first = live.session() => first.map(|session| &session.plugin),
    };
    let plugin = match first {
        Ok(plugin) => plugin,
        Err(message) => {
            report.launch_failure = Some(message);
            return report;
        }
    };
    let targets = match select_targets(plugin, options, &mut report) {
        Ok(targets) => targets,
        Err(message) => {
            report.input_error = Some(message);
            live.stop().await;
            return report;
        }
    };
    progress.started(plugin, &report.hooks);
    let seed = seed_bytes(options.seed);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let cases = options
        .cases
        .or(options.time.is_none().then_some(DEFAULT_CASES));
    let end = options.time.map(|time| tokio::time::Instant::now() + time);
    let mut findings: Vec<Finding> = Vec::new();
    let mut index = 0u64;
    while cases.is_none_or(|cases| index < cases) {
        if end.is_some_and(|end| tokio::time::Instant::now() >= end) {
            break;
        }
        let fuzzed = &targets[(index % targets.len() as u64) as usize];
        let mut tree = match fuzzed.strategy.new_tree(&mut runner) {
            Ok(tree) => tree,
            Err(reason) => {
                report.input_error = Some(format!("cannot generate a {} request: {reason}", fuzzed.hook));
                break;
            }
        };
        let request = tree.current();
        let checked = tokio::select! {
            biased;
            _ = options.cancel.cancelled() => break,
            // A case cut off by the end of `--time` is not counted.
            _ = sleep_until(end) => break,
            checked = live.check(fuzzed, &request) => checked,
        };
        let outcome = match checked {
            Ok(outcome) => outcome,
            Err(message) => {
                report.launch_failure = Some(message);
                break;
            }
        };
        report.stats.cases += 1;
        *report.stats.per_hook.entry(fuzzed.hook.clone()).or_default() += 1;
        if let Err(failure) = outcome {
            report.stats.failing_cases += 1;
            let known = findings
                .iter_mut()
                .find(|f| f.hook == fuzzed.hook && f.first_failure.kind == failure.kind);
            match known {
                Some(finding) => finding.occurrences += 1,
                None => {
                    progress.found(&fuzzed.hook, &failure);
                    let output_tail = live.output_tail(&failure);
                    report.stats.activity = Some(format!("shrinking {} ({})", fuzzed.hook, failure.kind));
                    report.stats.elapsed = started.elapsed();
                    progress.tick(&report.stats);
                    let shrink_started = Instant::now();
                    let mut relaunch_failed = None;
                    let shrunk = shrink::shrink(
                        &mut tree,
                        failure.clone(),
                        Budget {
                            time: options.shrink_time,
                            runs: 10_000,
                        },
                        &options.cancel,
                        Request::fingerprint,
                        async |candidate: &Request| match live.check(fuzzed, candidate).await {
                            Ok(outcome) => outcome,
                            Err(message) => {
                                relaunch_failed = Some(message);
                                Ok(())
                            }
                        },
                    )
                    .await;
                    report.stats.shrinking += shrink_started.elapsed();
                    report.stats.activity = None;
                    let mut finding = Finding {
                        hook: fuzzed.hook.clone(),
                        mode: fuzzed.mode,
                        case: index,
                        occurrences: 1,
                        first_failure: failure,
                        original_size: request.size(),
                        request_text: save::request_text(&fuzzed.hook, fuzzed.mode, &shrunk.value),
                        request: shrunk.value,
                        failure: shrunk.failure,
                        shrink_runs: shrunk.runs,
                        shrink_steps: shrunk.steps,
                        shrink_time: shrunk.elapsed,
                        shrink_complete: shrunk.complete,
                        saved: None,
                        save_error: None,
                        output_tail,
                    };
                    if let Some(dir) = &options.save {
                        match save::save(dir, &finding, options.seed, &target.id) {
                            Ok(path) => finding.saved = Some(path),
                            Err(message) => finding.save_error = Some(message),
                        }
                    }
                    progress.finding(&finding);
                    findings.push(finding);
                    report.stats.findings = findings.len();
                    if let Some(message) = relaunch_failed {
                        report.launch_failure = Some(message);
                        break;
                    }
                }
            }
        }
        index += 1;
        report.stats.crashes = live.crashes;
        report.stats.restarts = live.launches.saturating_sub(1);
        report.stats.elapsed = started.elapsed();
        progress.tick(&report.stats);
    }
    report.interrupted = options.cancel.is_cancelled();
    report.findings = findings;
    live.stop().await;
    report.stats.crashes = live.crashes;
    report.stats.restarts = live.launches.saturating_sub(1);
    report.stats.elapsed = started.elapsed();
    report
}

async fn sleep_until(end: Option<tokio::time::Instant>) {
    match end {
        Some(end) => tokio::time::sleep_until(end).await,
        None => std::future::pending().await,
    }
}

/// The 32-byte ChaCha key of a seed: its little-endian bytes, then zeros.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key
}

/// The hooks to fuzz, in the protocol's order, each with its strategy.
fn select_targets(
    plugin: &RunningPlugin,
    options: &FuzzOptions,
    report: &mut FuzzReport,
) -> Result<Vec<Fuzzed>, String> {
    check_hook_names(&options.hooks)?;
    let wanted = |hook: &str| {
        if options.hooks.is_empty() {
            !LIFECYCLE.contains(&hook) && !(options.raw && hook == "ServeHTTP")
        } else {
            options.hooks.iter().any(|name| name == hook)
        }
    };
    let mut targets = Vec::new();
    for method in mm_plugin_proto::hooks_service().methods() {
        let hook = method.name();
        if hook == "Implemented" || !wanted(hook) {
            continue;
        }
        if !plugin.implements(hook) {
            if !options.hooks.is_empty() {
                report.not_implemented.push(hook.to_owned());
            }
            continue;
        }
        let profile = options.profile;
        let (mode, strategy) = if hook == "ServeHTTP" {
            if options.raw {
                return Err("--raw mutates unary hook requests; ServeHTTP cannot be fuzzed with it".to_owned());
            }
            (Mode::Http, strategies::http_case(profile).prop_map(Request::Http).boxed())
        } else {
            let valid = strategies::unary_request(hook, profile).expect("every unary hook has a strategy");
            if options.raw {
                (Mode::Raw, raw::raw_request(method.input(), valid).prop_map(Request::Encoded).boxed())
            } else {
                (Mode::Unary, valid.prop_map(Request::Encoded).boxed())
            }
        };
        targets.push(Fuzzed {
            hook: hook.to_owned(),
            mode,
            strategy,
        });
    }
    report.hooks = targets.iter().map(|t| t.hook.clone()).collect();
    report.spec_unused = options
        .spec
        .hooks()
        .into_iter()
        .filter(|hook| !report.hooks.iter().any(|fuzzed| fuzzed == hook))
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        let implemented = plugin.implemented.join(", ");
        return Err(if options.hooks.is_empty() {
            format!("the plugin implements no hook to fuzz (Implemented: {implemented})")
        } else {
            format!(
                "the plugin implements none of the hooks asked for ({}); it implements: {implemented}",
                options.hooks.join(", ")
            )
        });
    }
    Ok(targets)
}

/// The plugin as the run sees it: launched on first use, relaunched on
/// the next call after a crash.
struct Live<'a> {
    target: &'a PluginTarget,
    options: &'a FuzzOptions,
    session: Option<Session>,
    launches: u64,
    crashes: u64,
    /// What the plugin wrote last before its latest crash.
    crash_output: Vec<CapturedLine>,
}

impl Live<'_> {
    /// The running session, launched (and activated, as the server does)
    /// if there is none.
    async fn session(&mut self) -> Result<&mut Session, String> {
        if self.session.is_none() {
            let mut session = Session::start(self.target, None, &self.options.launch)
                .await
                .map_err(|err| match &err {
                    crate::session::SessionError::Launch(failure) => {
                        let output: Vec<String> = failure
                            .output_tail
                            .iter()
                            .map(|line| format!("  | {}", line.text))
                            .collect();
                        format!("{err}\n{}", output.join("\n")).trim_end().to_owned()
                    }
                    _ => err.to_string(),
                })?;
            self.launches += 1;
            if let Err(message) = activate(&mut session, self.options.deadline).await {
                session.stop(Duration::ZERO).await;
                return Err(format!("the plugin failed to activate: {message}"));
            }
            self.session = Some(session);
        }
        Ok(self.session.as_mut().expect("set above"))
    }

    /// Runs one request; the outer error means the plugin could not be
    /// (re)started.
    async fn check(&mut self, fuzzed: &Fuzzed, request: &Request) -> Result<Result<(), Failure>, String> {
        let checks = Checks {
            spec: &self.options.spec,
            deadline: self.options.deadline,
        };
        let session = self.session().await?;
        let outcome = match (fuzzed.mode, request) {
            (Mode::Unary, Request::Encoded(bytes)) => {
                properties::check_unary(session, &fuzzed.hook, bytes, checks).await
            }
            (Mode::Raw, Request::Encoded(bytes)) => {
                properties::check_raw(session, &fuzzed.hook, bytes, checks).await
            }
            (Mode::Http, Request::Http(case)) => properties::check_http(session, case, checks).await,
            _ => unreachable!("each mode generates its own kind of request"),
        };
        if matches!(&outcome, Err(failure) if matches!(failure.kind, FailureKind::Crashed(_))) {
            self.crashes += 1;
            let mut dead = self.session.take().expect("the call ran in it");
            dead.plugin.process.settle_output().await;
            self.crash_output = dead.plugin.process.output().tail(None, 12);
            dead.stop(Duration::ZERO).await;
        }
        Ok(outcome)
    }

    fn output_tail(&self, failure: &Failure) -> Vec<CapturedLine> {
        match (&failure.kind, &self.session) {
            (FailureKind::Crashed(_), _) | (_, None) => self.crash_output.clone(),
            (_, Some(session)) => session.plugin.process.output().tail(None, 12),
        }
    }

    /// `OnDeactivate`, as the server calls it, then SIGTERM and the grace period.
    async fn stop(&mut self) {
        if let Some(mut session) = self.session.take() {
            if session.plugin.implements("OnDeactivate") {
                let _ = call_lifecycle(&mut session, "OnDeactivate", self.options.deadline).await;
            }
            session.stop(self.options.grace).await;
        }
    }
}

async fn activate(session: &mut Session, deadline: Duration) -> Result<(), String> {
    if !session.plugin.implements("OnActivate") {
        return Ok(());
    }
    call_lifecycle(session, "OnActivate", deadline).await
}

/// A lifecycle hook, judged as `harness run` judges it: OK and no `AppError`.
async fn call_lifecycle(session: &mut Session, hook: &str, deadline: Duration) -> Result<(), String> {
    let response_type = wire::message_descriptor(&format!("{hook}Response")).expect("lifecycle hooks have responses");
    let answer = session.plugin.hooks.call(hook, Bytes::new(), deadline).await;
    let request = serde_json::json!({});
    let exchange = HookExchange {
        hook,
        response_type: &response_type,
        request: &request,
        answer: &answer,
        api_calls: &[],
    };
    let verdict = check::check_hook(&HookExpect::default(), &exchange);
    match verdict.mismatches.first() {
        None => Ok(()),
        Some(mismatch) => Err(mismatch.actual.clone()),
    }
}
