//! The `harness` command line: a thin layer over the library.

use std::{ffi::OsString, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use harness::{
    check::SnapshotMode,
    launch::{LaunchOptions, PluginTarget},
    report::Console,
    run::{self, RunOptions},
    suite::{self, CaseFilter, KnownFailing},
};
use tokio::signal::unix::SignalKind;
use tokio_util::sync::CancellationToken;

/// Exit codes, as documented in the README.
mod exit {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const NOT_STARTED: u8 = 3;
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Plays the Mattermost server against a gRPC plugin: conformance suites, fuzzing and latency",
    after_help = "Exit codes: 0 all passed, 1 some case failed, 2 bad input or usage, 3 the plugin could not be started."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Launch a plugin as the server does and run the built-in suites plus any given ones.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The plugin: a directory with plugin.json or plugin.yaml, a manifest file, or an executable.
    plugin: PathBuf,
    /// A suite file, or a directory of them (its *.json files). Repeatable.
    #[arg(long = "suite", value_name = "FILE|DIR")]
    suites: Vec<PathBuf>,
    /// Run only cases whose `suite/case` name matches this glob (a bare name matches a suite or a case). Repeatable.
    #[arg(long, value_name = "GLOB")]
    filter: Vec<String>,
    /// Skip cases whose `suite/case` name matches this glob. Repeatable.
    #[arg(long, value_name = "GLOB")]
    skip: Vec<String>,
    /// Leave out the built-in suites.
    #[arg(long)]
    no_builtin: bool,
    /// Deadline of each hook call (upstream: 30s).
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Time allowed from spawn to the handshake line (upstream: 10s for Python plugins).
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = humantime::parse_duration)]
    start_timeout: Duration,
    /// Time the plugin gets to exit after SIGTERM before it is killed.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = humantime::parse_duration)]
    grace: Duration,
    /// Also write the full results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Cases known to fail, as `suite/case` globs, one per line: they do not fail the run, and pass unexpectedly if they pass.
    #[arg(long, value_name = "FILE")]
    known_failing: Option<PathBuf>,
    /// Accept every snapshot as it is now (new and changed ones are written).
    #[arg(long, conflicts_with = "ci")]
    update_snapshots: bool,
    /// CI mode: new or changed snapshots fail (candidates go to .snap.new). Also on when CI=true.
    #[arg(long)]
    ci: bool,
    /// Arguments passed on to the plugin executable.
    #[arg(last = true, value_name = "PLUGIN_ARGS")]
    plugin_args: Vec<OsString>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run_command(args).await,
        }
    });
    ExitCode::from(code)
}

async fn run_command(args: RunArgs) -> u8 {
    let prepared = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    let (target, suites, options) = prepared;
    cancel_on_interrupt(options.cancel.clone());
    let mut console = Console::new(std::io::stdout(), Some(args.plugin.display().to_string()));
    let report = run::run(&target, &suites, &options, &mut console).await;
    console.summary(&report);
    if let Err(err) = write_outputs(&args, &report) {
        eprintln!("error: {err:#}");
        return exit::BAD_INPUT;
    }
    match &report.launch_failure {
        _ if report.interrupted => exit::INTERRUPTED,
        Some(failure) if failure.input_error => exit::BAD_INPUT,
        Some(_) => exit::NOT_STARTED,
        None if report.count(run::Outcome::is_failed) > 0 => exit::FAILED,
        None => exit::PASSED,
    }
}

/// On Ctrl-C or SIGTERM, cancels the run: it stops the plugin and returns
/// what it has, so the results are still printed and written.
fn cancel_on_interrupt(cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut terminate = match tokio::signal::unix::signal(SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(_) => return,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("\ninterrupted: stopping the plugin and writing the results so far");
        cancel.cancel();
    });
}

/// The machine-readable outputs asked for, written whatever the results.
fn write_outputs(args: &RunArgs, report: &run::RunReport) -> anyhow::Result<()> {
    let write = |path: &PathBuf, contents: Vec<u8>| {
        std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &args.json {
        write(path, serde_json::to_vec_pretty(report)?)?;
    }
    if let Some(path) = &args.junit {
        write(path, harness::report::junit_xml(report).into_bytes())?;
    }
    Ok(())
}

fn prepare(args: &RunArgs) -> anyhow::Result<(PluginTarget, Vec<suite::Suite>, RunOptions)> {
    let target = PluginTarget::resolve(&args.plugin)?;
    let mut suites = if args.no_builtin {
        Vec::new()
    } else {
        suite::builtin()
    };
    for path in &args.suites {
        suites.extend(suite::load_path(path)?);
    }
    if suites.is_empty() {
        anyhow::bail!("no suites to run: --no-builtin was given without --suite");
    }
    let filter =
        CaseFilter::new(&args.filter, &args.skip).context("invalid --filter or --skip glob")?;
    let options = RunOptions {
        launch: LaunchOptions {
            start_timeout: args.start_timeout,
            call_timeout: args.timeout,
            extra_args: args.plugin_args.clone(),
        },
        deadline: args.timeout,
        grace: args.grace,
        filter,
        snapshots: if args.update_snapshots {
            SnapshotMode::Update
        } else if args.ci || std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
        {
            SnapshotMode::Ci
        } else {
            SnapshotMode::Local
        },
        known_failing: args
            .known_failing
            .as_deref()
            .map(KnownFailing::load)
            .transpose()?,
        cancel: CancellationToken::new(),
    };
    Ok((target, suites, options))
}
