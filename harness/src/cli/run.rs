//! `harness run`: suites against a plugin.

use std::path::PathBuf;

use anyhow::Context;
use harness::{
    check::SnapshotMode,
    engine::{PluginErrors, StepOptions},
    report::Console,
    run::{self, RunOptions},
    suite::{self, CaseFilter, KnownFailing},
};
use tokio_util::sync::CancellationToken;

use super::{PluginArgs, cancel_on_interrupt, exit};

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    plugin: PluginArgs,
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
    /// Also write the full results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Cases known to fail, as `suite/case` globs, one per line: they do not fail the run, and fail it if they pass.
    #[arg(long, value_name = "FILE")]
    known_failing: Option<PathBuf>,
    /// Accept every snapshot as it is now (new and changed ones are written).
    #[arg(long, conflicts_with = "ci")]
    update_snapshots: bool,
    /// CI mode: new or changed snapshots fail (candidates go to .snap.new). Also on when CI=true.
    #[arg(long)]
    ci: bool,
    /// Print a line for every case, skipped ones (hooks the plugin does not implement) included.
    #[arg(long, short)]
    verbose: bool,
    /// Fail a step during which the plugin logged an error, printed a traceback or wrote to stdout (a warning otherwise).
    #[arg(long)]
    fail_on_plugin_errors: bool,
}

pub async fn run_command(args: RunArgs) -> u8 {
    let (target, suites, options) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    cancel_on_interrupt(options.cancel.clone());
    let mut console = Console::new(
        std::io::stdout(),
        Some(args.plugin.plugin.display().to_string()),
    )
    .verbose(args.verbose);
    let report = run::run(&target, &suites, &options, &mut console).await;
    console.summary(&report);
    if let Err(err) = write_outputs(&args, &report) {
        eprintln!("error: {err:#}");
        return exit::BAD_INPUT;
    }
    report.exit_code
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

fn prepare(
    args: &RunArgs,
) -> anyhow::Result<(harness::launch::PluginTarget, Vec<suite::Suite>, RunOptions)> {
    let target = args.plugin.target()?;
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
    let ci = args.ci || std::env::var("CI").is_ok_and(|value| value == "true" || value == "1");
    let options = RunOptions {
        launch: args.plugin.launch_options(),
        steps: StepOptions {
            deadline: args.plugin.timeout,
            grace: args.plugin.grace,
            snapshots: match (args.update_snapshots, ci) {
                (true, _) => SnapshotMode::Update,
                (false, true) => SnapshotMode::Ci,
                (false, false) => SnapshotMode::Local,
            },
            known_failing: args
                .known_failing
                .as_deref()
                .map(KnownFailing::load)
                .transpose()?,
            plugin_errors: if args.fail_on_plugin_errors {
                PluginErrors::Fail
            } else {
                PluginErrors::Warn
            },
        },
        filter,
        cancel: CancellationToken::new(),
    };
    Ok((target, suites, options))
}
