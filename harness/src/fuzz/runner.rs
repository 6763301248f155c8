//! The fuzz loop: seeded cases, round robin over the hooks, each checked
//! against the live plugin; a crash relaunches the plugin and the run goes
//! on; each new failure is shrunk and saved. Bounded by a number of cases
//! and a time, stoppable with Ctrl-C, and deterministic for a seed: the
//! cases come from one ChaCha RNG seeded with it, and nothing the plugin
//! answers feeds back into generation.

use std::{
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
    live::Live,
    properties::{Failure, FailureKind},
    raw,
    report::{Finding, FuzzProgress, FuzzReport, Mode, Request},
    save,
    shrink::{self, Budget},
    size,
    spec::Spec,
    strategies::{self, Profile},
};
use crate::{
    hooks,
    launch::{LaunchOptions, PluginTarget, RunningPlugin},
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

/// A hook being fuzzed, and how.
pub(super) struct Fuzzed {
    pub(super) hook: String,
    pub(super) mode: Mode,
    strategy: BoxedStrategy<Request>,
}

/// The names the user may pass to `--hooks`: unary hooks and ServeHTTP.
pub fn check_hook_names(names: &[String]) -> Result<(), String> {
    for name in names {
        let callable =
            name == "ServeHTTP" || strategies::unary_request(name, Profile::Realistic).is_some();
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
    let mut run = Run {
        options,
        started: Instant::now(),
        live: Live::new(target, options),
        report: FuzzReport {
            seed: options.seed,
            profile: options.profile,
            raw: options.raw,
            ..Default::default()
        },
    };
    let first = tokio::select! {
        biased;
        _ = options.cancel.cancelled() => Err(None),
        first = run.live.session() => first.map(|session| &session.plugin).map_err(Some),
    };
    let plugin = match first {
        Ok(plugin) => plugin,
        Err(launch_failure) => {
            run.report.interrupted = launch_failure.is_none();
            run.report.launch_failure = launch_failure;
            return run.report;
        }
    };
    match select_targets(plugin, options, &mut run.report) {
        Ok(targets) => {
            progress.started(plugin, &run.report.hooks);
            run.cases(&targets, progress).await;
        }
        Err(message) => run.report.input_error = Some(message),
    }
    run.report.interrupted = options.cancel.is_cancelled();
    run.live.stop().await;
    run.update_stats();
    run.report
}

/// The state of one run.
struct Run<'a> {
    options: &'a FuzzOptions,
    started: Instant,
    live: Live<'a>,
    report: FuzzReport,
}

impl Run<'_> {
    /// Generates and checks cases until a bound, Ctrl-C, or a plugin that
    /// cannot be started again.
    async fn cases(&mut self, targets: &[Fuzzed], progress: &mut dyn FuzzProgress) {
        let options = self.options;
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(options.seed)),
        );
        let cases = options
            .cases
            .or(options.time.is_none().then_some(DEFAULT_CASES));
        let end = options.time.map(|time| tokio::time::Instant::now() + time);
        let mut index = 0u64;
        while cases.is_none_or(|cases| index < cases) {
            if end.is_some_and(|end| tokio::time::Instant::now() >= end) {
                break;
            }
            let fuzzed = &targets[(index % targets.len() as u64) as usize];
            let mut tree = match fuzzed.strategy.new_tree(&mut runner) {
                Ok(tree) => tree,
                Err(reason) => {
                    let hook = &fuzzed.hook;
                    self.report.input_error =
                        Some(format!("cannot generate a {hook} request: {reason}"));
                    return;
                }
            };
            let request = tree.current();
            let checked = tokio::select! {
                biased;
                _ = options.cancel.cancelled() => return,
                // A case cut off by the end of `--time` is not counted.
                _ = sleep_until(end) => return,
                checked = self.live.check(fuzzed, &request) => checked,
            };
            let outcome = match checked {
                Ok(outcome) => outcome,
                Err(message) => {
                    self.report.launch_failure = Some(message);
                    return;
                }
            };
            let stats = &mut self.report.stats;
            stats.cases += 1;
            *stats.per_hook.entry(fuzzed.hook.clone()).or_default() += 1;
            if let Err(failure) = outcome {
                stats.failing_cases += 1;
                if !self.known(fuzzed, &failure) {
                    let found = Found {
                        fuzzed,
                        case: index,
                        original_size: request.size(),
                        failure,
                    };
                    self.new_finding(found, &mut tree, progress).await;
                    if self.report.launch_failure.is_some() {
                        return;
                    }
                }
            }
            index += 1;
            self.update_stats();
            progress.tick(&self.report.stats);
        }
    }

    /// Counts `failure` against a finding already made, if there is one.
    /// A status with the same message is one bug wherever it shows (a
    /// receive limit, a broken dependency); anything else is told apart by
    /// hook.
    fn known(&mut self, fuzzed: &Fuzzed, failure: &Failure) -> bool {
        let known = self.report.findings.iter_mut().find(|f| {
            f.first_failure.kind == failure.kind
                && (f.hook == fuzzed.hook || matches!(failure.kind, FailureKind::Status(..)))
        });
        let Some(finding) = known else {
            return false;
        };
        finding.occurrences += 1;
        if finding.hook != fuzzed.hook && !finding.also_in.contains(&fuzzed.hook) {
            finding.also_in.push(fuzzed.hook.clone());
        }
        true
    }

    /// Shrinks a new failure against the live plugin, saves it, reports it.
    async fn new_finding(
        &mut self,
        found: Found<'_>,
        tree: &mut Box<dyn ValueTree<Value = Request>>,
        progress: &mut dyn FuzzProgress,
    ) {
        let Found {
            fuzzed,
            case,
            original_size,
            failure,
        } = found;
        let options = self.options;
        progress.found(&fuzzed.hook, &failure);
        let output_tail = self.live.call_output.clone();
        self.report.stats.activity = Some(format!("shrinking {} ({})", fuzzed.hook, failure.kind));
        self.update_stats();
        progress.tick(&self.report.stats);
        let started = Instant::now();
        // Stops at Ctrl-C, and when the plugin cannot be started again
        // (every candidate would wait out the start timeout for nothing).
        let stop = options.cancel.child_token();
        let mut relaunch_failed = None;
        let live = &mut self.live;
        let mut run = async |candidate: &Request| {
            let checked = tokio::select! {
                biased;
                _ = stop.cancelled() => return Ok(()),
                checked = live.check(fuzzed, candidate) => checked,
            };
            checked.unwrap_or_else(|message| {
                relaunch_failed = Some(message);
                stop.cancel();
                Ok(())
            })
        };
        // Size first: a long field is cut to its threshold before the tree
        // walk, which then runs with that field capped.
        let mut failure = failure;
        let mut cut_runs = 0;
        let cap = match (fuzzed.mode, tree.current()) {
            (Mode::Unary, Request::Encoded(bytes)) => {
                let cut = size::cut(
                    &fuzzed.hook,
                    &bytes,
                    &failure,
                    options.shrink_time / 2,
                    &stop,
                    async |candidate: &Bytes| run(&Request::Encoded(candidate.clone())).await,
                )
                .await;
                cut.map(|cut| {
                    failure = cut.failure;
                    cut_runs = cut.runs;
                    cut.cap
                })
            }
            _ => None,
        };
        let capped = |request: &Request| match (request, &cap) {
            (Request::Encoded(bytes), Some(cap)) => Request::Encoded(cap.apply(bytes, cap.length)),
            _ => request.clone(),
        };
        let mut shrunk = shrink::shrink(
            tree,
            failure.clone(),
            Budget {
                time: options.shrink_time.saturating_sub(started.elapsed()),
                runs: 10_000,
            },
            &stop,
            |request: &Request| capped(request).fingerprint(),
            async |candidate: &Request| run(&capped(candidate)).await,
        )
        .await;
        shrunk.value = capped(&shrunk.value);
        shrunk.runs += cut_runs;
        let size_cut = cap.as_ref().map(|cap| {
            format!(
                "{} cut from {} to {} bytes first (halving, then bisection to where the failure stops)",
                cap.field, cap.original, cap.length
            )
        });
        shrunk.elapsed = started.elapsed();
        self.report.stats.shrinking += started.elapsed();
        self.report.stats.activity = None;
        let mut finding = Finding {
            hook: fuzzed.hook.clone(),
            mode: fuzzed.mode,
            case,
            occurrences: 1,
            also_in: Vec::new(),
            first_failure: failure,
            original_size,
            request_text: save::request_text(&fuzzed.hook, fuzzed.mode, &shrunk.value),
            beyond_server: shrunk.value.beyond_server(&fuzzed.hook),
            size_cut,
            request: shrunk.value,
            failure: shrunk.failure,
            shrink_runs: shrunk.runs,
            shrink_steps: shrunk.steps,
            shrink_time: shrunk.elapsed,
            shrink_complete: shrunk.complete,
            saved: None,
            saved_note: None,
            save_error: None,
            output_tail,
        };
        if let Some(dir) = &options.save {
            match save::save(dir, &finding, options.seed) {
                Ok(saved) => {
                    finding.saved = Some(saved.path);
                    finding.saved_note = saved.note;
                }
                Err(message) => finding.save_error = Some(message),
            }
        }
        progress.finding(&finding);
        self.report.findings.push(finding);
        self.report.launch_failure = relaunch_failed;
        self.update_stats();
    }

    fn update_stats(&mut self) {
        let stats = &mut self.report.stats;
        stats.findings = self.report.findings.len();
        stats.crashes = self.live.crashes;
        stats.restarts = self.live.launches.saturating_sub(1);
        stats.elapsed = self.started.elapsed();
    }
}

/// A failure not seen before, as first found.
struct Found<'a> {
    fuzzed: &'a Fuzzed,
    case: u64,
    original_size: usize,
    failure: Failure,
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
            !(LIFECYCLE.contains(&hook) || options.raw && hook == "ServeHTTP")
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
                return Err(
                    "--raw mutates unary hook requests; ServeHTTP cannot be fuzzed with it"
                        .to_owned(),
                );
            }
            (
                Mode::Http,
                strategies::http_case(profile)
                    .prop_map(|case| Request::Http(Box::new(case)))
                    .boxed(),
            )
        } else {
            let valid =
                strategies::unary_request(hook, profile).expect("every unary hook has a strategy");
            if options.raw {
                (
                    Mode::Raw,
                    raw::raw_request(method.input(), valid)
                        .prop_map(Request::Encoded)
                        .boxed(),
                )
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
