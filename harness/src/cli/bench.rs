//! `harness bench`: hook and Plugin API latency, against a budget, a
//! baseline and the harness's own floor.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use harness::{
    latency::{
        self, BenchError, BenchOptions, BenchReport, Stat, baseline,
        budget::{self, Budget},
        load::{Bounds, Mode},
        physical::{self, Transport},
        render,
        targets::Selection,
    },
    launch::PluginTarget,
    suite,
};
use tokio_util::sync::CancellationToken;

use super::{PluginArgs, cancel_on_interrupt, exit};

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    plugin: PluginArgs,
    /// Hooks to measure: a comma-separated list, `all` (every implemented hook but OnActivate and OnDeactivate), `none`, or `default` (MessageWillBePosted, MessageHasBeenPosted, ExecuteCommand, and ServeHTTP with a small and a 1 MiB request, as far as implemented; with --suite, the suites' hooks).
    #[arg(long, value_name = "LIST", default_value = "default")]
    hooks: String,
    /// Plugin API methods the plugin times itself (it must answer /mm-harness-bench, as fixtures/plugins/bench-python does): a comma-separated list, `all`, `none`, or `default` (upstream's benchmarked methods the harness models).
    #[arg(long, value_name = "LIST", default_value = "default")]
    api: String,
    /// Take hook requests from this suite file or directory (its hook steps) instead of the built-in suites. Repeatable.
    #[arg(long = "suite", value_name = "FILE|DIR")]
    suites: Vec<PathBuf>,
    /// Calls per hook or API method, all rounds together; the run stops at this or --duration, whichever comes first [default: no count bound but 100 000 000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    calls: Option<u64>,
    /// Measuring time per hook or API method, all rounds together [default: 3s, or 10min with --calls].
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Warm-up per hook or API method before measuring; never recorded.
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Rounds the measurement is split into, interleaved over the calls; their spread is the noise baselines are judged against.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    rounds: u64,
    /// Calls in flight at once.
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    /// Open loop: send this many calls per second whatever the answers do, and report latencies corrected for coordinated omission (and uncorrected). Without it, the loop is closed: each call as soon as the last answered.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Fail (exit 1) when the --percentile of any hook or plugin-observed API call is over this, e.g. 40us.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    budget: Option<Duration>,
    /// The statistic --budget and --baseline judge: p50, p90, p99, p99.9, p99.99, max or mean.
    #[arg(long, value_name = "STAT", default_value = "p99")]
    percentile: Stat,
    /// Compare with an earlier report.json: exit 1 on regressions beyond the measured noise.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write report.json, report.md and report.html into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The reference plugin the harness's overhead is measured against, or `none` [default: fixtures/plugins/rust-reference of this checkout].
    #[arg(long, value_name = "PLUGIN|none")]
    floor: Option<String>,
    /// For Python plugins: the bare grpcio plugin whose hooks answer at once (the Python gRPC floor), or `none` [default: fixtures/plugins/bare-grpcio-python of this checkout].
    #[arg(long, value_name = "PLUGIN|none")]
    python_floor: Option<String>,
    /// Skip the physical floor (a raw socket ping-pong with a child process, on the plugin's transport).
    #[arg(long)]
    no_socket_floor: bool,
    /// Also measure each hook through `harness record` in front of a second copy of the plugin, against the same hook called directly.
    #[arg(long)]
    through_recorder: bool,
}

#[derive(clap::Args)]
pub struct SocketEchoArgs {
    /// `tcp` or `unix`.
    transport: String,
}

/// The echo side of the physical floor: announces its address on stdout
/// and echoes one connection's frames (see `latency::physical`).
pub fn socket_echo_command(args: &SocketEchoArgs) -> u8 {
    let Some(transport) = Transport::parse(&args.transport) else {
        eprintln!(
            "error: transport {:?} is neither tcp nor unix",
            args.transport
        );
        return exit::BAD_INPUT;
    };
    match physical::serve_echo(transport, &mut std::io::stdout()) {
        Ok(()) => exit::PASSED,
        Err(err) => {
            eprintln!("error: the socket echo failed: {err}");
            exit::FAILED
        }
    }
}

/// An earlier report and how to name it (its path).
pub type Baseline = (BenchReport, String);

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate between 0 and 10 000 000 calls per second"
        )),
    }
}

pub async fn bench_command(args: BenchArgs) -> u8 {
    let prepared = prepare(&args);
    let (target, options, baseline) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    cancel_on_interrupt(options.cancel.clone());
    let mut report = match measure_on_own_runtime(target, options.clone()).await {
        Ok(report) => report,
        Err(BenchError::Input(message)) => {
            eprintln!("error: {message}");
            return exit::BAD_INPUT;
        }
        Err(BenchError::NotStarted {
            message,
            output_tail,
        }) => {
            eprintln!("error: the plugin could not be started: {message}");
            for line in output_tail {
                eprintln!("  | {}", line.text);
            }
            return if options.cancel.is_cancelled() {
                exit::INTERRUPTED
            } else {
                exit::NOT_STARTED
            };
        }
    };
    judge(&mut report, args.budget, args.percentile, baseline.as_ref());
    print!("{}", render::console(&report));
    if let Some(dir) = &args.out {
        match latency::write_report(&report, dir) {
            Ok(paths) => {
                for path in paths {
                    println!("{:>12} {}", "Wrote", path.display());
                }
            }
            Err(err) => {
                eprintln!(
                    "error: cannot write the report into {}: {err}",
                    dir.display()
                );
                return exit::BAD_INPUT;
            }
        }
    }
    verdict(&report)
}

/// Runs the bench on a runtime of its own, with one worker per concurrent
/// caller (at most one per core), and waits for it without blocking this
/// runtime. With a worker per core, the caller, tonic's buffer task and the
/// HTTP/2 connection task of one call land on different threads and each
/// call pays cross-thread wake-ups: on the 2-core machine one worker took
/// the harness client from 3.8–4.0× to 3.0–3.3× the physical floor at p50
/// (`harness/src/latency/mod.rs`, "Where the client's time goes").
async fn measure_on_own_runtime(
    target: PluginTarget,
    options: BenchOptions,
) -> Result<BenchReport, BenchError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = options.mode.concurrency().min(cores);
    let (done, outcome) = tokio::sync::oneshot::channel();
    let measuring = std::thread::Builder::new()
        .name("bench".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build();
            let result = match runtime {
                Ok(runtime) => {
                    let mut stdout = std::io::stdout();
                    runtime.block_on(latency::bench(&target, &options, &mut |event| {
                        // A closed stdout must not stop the measurement.
                        let _ = harness::report::bench_line(&mut stdout, &event);
                    }))
                }
                Err(err) => Err(BenchError::Input(format!(
                    "cannot start the measuring runtime: {err}"
                ))),
            };
            // The receiver only goes away if the command itself is gone.
            let _ = done.send(result);
        });
    if let Err(err) = measuring {
        return Err(BenchError::Input(format!(
            "cannot start the measuring thread: {err}"
        )));
    }
    outcome.await.unwrap_or_else(|_| {
        Err(BenchError::Input(
            "the measuring thread ended without a result".to_owned(),
        ))
    })
}

/// Flags into options; the baseline is read now, so a bad path fails
/// before minutes of measuring.
fn prepare(args: &BenchArgs) -> anyhow::Result<(PluginTarget, BenchOptions, Option<Baseline>)> {
    let target = args.plugin.target()?;
    let mut suites = Vec::new();
    for path in &args.suites {
        suites.extend(suite::load_path(path)?);
    }
    let baseline = match &args.baseline {
        Some(path) => Some((BenchReport::load(path)?, path.display().to_string())),
        None => None,
    };
    let floor = floor_plugin(args.floor.as_deref(), "rust-reference")?;
    let python_floor = floor_plugin(args.python_floor.as_deref(), "bare-grpcio-python")?;
    let concurrency = args.concurrency as usize;
    let mode = match args.rate {
        Some(rate) => Mode::Open { rate, concurrency },
        None => Mode::Closed { concurrency },
    };
    let bounds = match (args.calls, args.duration) {
        (None, None) => Bounds {
            calls: 100_000_000,
            duration: Duration::from_secs(3),
        },
        (Some(calls), None) => Bounds {
            calls,
            duration: Duration::from_secs(600),
        },
        (calls, Some(duration)) => Bounds {
            calls: calls.unwrap_or(100_000_000),
            duration,
        },
    };
    if bounds.duration.is_zero() {
        anyhow::bail!("--duration must be more than 0");
    }
    let options = BenchOptions {
        launch: args.plugin.launch_options(),
        deadline: args.plugin.timeout,
        grace: args.plugin.grace,
        hooks: Selection::parse(&args.hooks),
        api: Selection::parse(&args.api),
        suites,
        mode,
        bounds,
        warmup: args.warmup,
        rounds: args.rounds as usize,
        floor,
        python_floor,
        echo_program: if args.no_socket_floor {
            None
        } else {
            physical::echo_program()
        },
        recorder_program: if args.through_recorder {
            Some(std::env::current_exe().map_err(|err| {
                anyhow::anyhow!("--through-recorder: cannot tell where this harness is: {err}")
            })?)
        } else {
            None
        },
        cancel: CancellationToken::new(),
    };
    Ok((target, options, baseline))
}

/// A floor plugin: the one given, none for `none`, or the fixture `name`.
fn floor_plugin(given: Option<&str>, name: &str) -> anyhow::Result<Option<PluginTarget>> {
    Ok(match given {
        Some("none") => None,
        Some(path) => Some(PluginTarget::resolve(Path::new(path))?),
        None => default_floor(name),
    })
}

/// `fixtures/plugins/NAME` of the checkout this harness was built from
/// (or run in), if there is one.
fn default_floor(name: &str) -> Option<PluginTarget> {
    let relative = Path::new("fixtures/plugins").join(name);
    let from_exe = std::env::current_exe().ok();
    let from_cwd = std::env::current_dir().ok();
    [from_exe, from_cwd]
        .into_iter()
        .flatten()
        .flat_map(|start| start.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .map(|dir| dir.join(&relative))
        .find(|dir| dir.join("plugin.json").is_file())
        .and_then(|dir| PluginTarget::resolve(&dir).ok())
}

/// Attaches the budget's and the baseline's verdicts to `report`.
pub fn judge(
    report: &mut BenchReport,
    limit: Option<Duration>,
    stat: Stat,
    baseline: Option<&Baseline>,
) {
    if let Some(limit) = limit {
        report.budget = Some(budget::judge(report, Budget { limit, stat }));
    }
    if let Some((before, label)) = baseline {
        let mut stats = vec![Stat::P50];
        if stat != Stat::P50 {
            stats.push(stat);
        }
        report.baseline = Some(baseline::compare(before, report, &stats, label));
    }
}

/// The exit code a judged report earns.
pub fn verdict(report: &BenchReport) -> u8 {
    let failed_calls = report
        .calls
        .iter()
        .any(|call| call.errors > 0 && (budget::is_gated(call.kind) || call.kind.is_floor()));
    let over_budget = report.budget.as_ref().is_some_and(|budget| !budget.passed);
    let regressed = report.baseline.as_ref().is_some_and(|c| c.regressions > 0);
    if report.interrupted {
        exit::INTERRUPTED
    } else if failed_calls || over_budget || regressed {
        exit::FAILED
    } else {
        exit::PASSED
    }
}
