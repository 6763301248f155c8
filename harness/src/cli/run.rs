//! `harness run`: suites against a plugin. Its settings come from the
//! flags over `harness.toml` (see `config`), several suites at once.

use std::{ffi::OsString, path::PathBuf};

use anyhow::Context;
use clap::{ArgMatches, parser::ValueSource};
use harness::{
    check::SnapshotMode,
    engine::{PluginErrors, StepOptions},
    launch::{LaunchOptions, PluginTarget},
    report::Console,
    run::{self, Partition, RunOptions},
    suite::{self, CaseFilter, KnownFailing},
};
use tokio_util::sync::CancellationToken;

use super::{
    PluginArgs, cancel_on_interrupt,
    config::{Config, PluginEntry, RunSettings, Settings},
    exit,
};

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    plugin: PluginArgs,
    #[command(flatten)]
    config: ConfigArgs,
    /// Suites run at once, each with its own plugin process [default: the number of CPUs].
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// Run only this share of the cases, to split a run across CI machines: `hash:K/N` (by name) or `count:K/N` (round robin).
    #[arg(long, value_name = "KIND:K/N")]
    partition: Option<Partition>,
    /// Stop the served world's clock at this time (RFC 3339, e.g. 2026-01-01T00:00:00Z): the Plugin API then answers the same timestamps run after run, so recordings and snapshots of the run are reproducible.
    #[arg(long, value_name = "TIME", value_parser = humantime::parse_rfc3339_weak)]
    frozen_clock: Option<std::time::SystemTime>,
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

/// Where the settings file is and which of its profiles to use.
#[derive(clap::Args)]
pub struct ConfigArgs {
    /// The settings file [default: harness.toml here or in a parent directory].
    #[arg(long = "config", value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Use the file's `[profile.NAME]` over its defaults.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl ConfigArgs {
    pub fn load(&self) -> anyhow::Result<Config> {
        Config::find(self.path.as_deref(), self.profile.as_deref())
    }
}

pub async fn run_command(args: RunArgs, matches: &ArgMatches) -> u8 {
    let prepared = args.config.load().and_then(|config| {
        let settings = settings(&args, matches, &config);
        let entry = config.plugin_entry(&args.plugin.plugin);
        let plan = plan(
            &args.plugin.plugin,
            &args.plugin.plugin_args,
            &args.suites,
            &settings,
            entry,
        )?;
        Ok((plan, settings))
    });
    let (plan, settings) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    cancel_on_interrupt(plan.options.cancel.clone());
    let report = execute(&plan, &args.plugin.plugin.display().to_string()).await;
    if let Err(err) = write_outputs(&settings, &plan.target, &report) {
        eprintln!("error: {err:#}");
        return exit::BAD_INPUT;
    }
    report.exit_code
}

/// A run ready to start: the plugin, its suites and how to run them.
pub struct RunPlan {
    pub target: PluginTarget,
    pub suites: Vec<suite::Suite>,
    pub options: RunOptions,
    pub verbose: bool,
}

/// Runs `plan` with the console reporter, which names the plugin as
/// `plugin_arg` in replay commands.
pub async fn execute(plan: &RunPlan, plugin_arg: &str) -> run::RunReport {
    let mut console =
        Console::new(std::io::stdout(), Some(plugin_arg.to_owned())).verbose(plan.verbose);
    let report = run::run(&plan.target, &plan.suites, &plan.options, &mut console).await;
    console.summary(&report);
    report
}

/// The flags given on the command line, over the file's settings.
fn settings(args: &RunArgs, matches: &ArgMatches, config: &Config) -> Settings {
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let flag = |on: bool| on.then_some(true);
    let globs = |globs: &Vec<String>| (!globs.is_empty()).then(|| globs.clone());
    let mut settings = config.settings.clone();
    if let Some(entry) = config.plugin_entry(&args.plugin.plugin)
        && entry.known_failing.is_some()
    {
        settings.run.known_failing = entry.known_failing.clone();
    }
    settings.overlay(Settings {
        run: RunSettings {
            jobs: args.jobs.map(|jobs| jobs as usize),
            timeout: given("timeout").then_some(args.plugin.timeout),
            start_timeout: given("start_timeout").then_some(args.plugin.start_timeout),
            grace: given("grace").then_some(args.plugin.grace),
            no_builtin: flag(args.no_builtin),
            filter: globs(&args.filter),
            skip: globs(&args.skip),
            known_failing: args.known_failing.clone(),
            fail_on_plugin_errors: flag(args.fail_on_plugin_errors),
            // --update-snapshots turns CI mode off, whatever the file says.
            ci: if args.update_snapshots {
                Some(false)
            } else {
                flag(args.ci)
            },
            verbose: flag(args.verbose),
            update_snapshots: args.update_snapshots,
            partition: args.partition,
            frozen_clock: args.frozen_clock,
        },
        output: super::config::OutputSettings {
            json: args.json.clone(),
            junit: args.junit.clone(),
            bench_dir: None,
        },
        ..Settings::default()
    });
    settings
}

/// The machine-readable outputs asked for, written whatever the results;
/// `{plugin}` in a path is the plugin's id.
pub fn write_outputs(
    settings: &Settings,
    target: &PluginTarget,
    report: &run::RunReport,
) -> anyhow::Result<()> {
    let write = |path: &PathBuf, contents: Vec<u8>| {
        let path = PathBuf::from(path.display().to_string().replace("{plugin}", &target.id));
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &settings.output.json {
        write(path, serde_json::to_vec_pretty(report)?)?;
    }
    if let Some(path) = &settings.output.junit {
        write(path, harness::report::junit_xml(report).into_bytes())?;
    }
    Ok(())
}

/// The plugin at `plugin` with the built-in suites (unless left out) and
/// `suites`, or its `[[plugin]]` entry's when none is given; arguments
/// likewise.
pub fn plan(
    plugin: &std::path::Path,
    plugin_args: &[OsString],
    suites: &[PathBuf],
    settings: &Settings,
    entry: Option<&PluginEntry>,
) -> anyhow::Result<RunPlan> {
    let target = PluginTarget::resolve(plugin)?;
    let run = &settings.run;
    let mut loaded = if run.no_builtin == Some(true) {
        Vec::new()
    } else {
        suite::builtin()
    };
    let suite_paths = match entry {
        Some(entry) if suites.is_empty() => &entry.suites,
        _ => suites,
    };
    for path in suite_paths {
        loaded.extend(suite::load_path(path)?);
    }
    if loaded.is_empty() {
        anyhow::bail!("no suites to run: the built-in suites are left out and no suite is given");
    }
    let extra_args = match entry {
        Some(entry) if plugin_args.is_empty() => entry.args.iter().map(OsString::from).collect(),
        _ => plugin_args.to_vec(),
    };
    let filter = CaseFilter::new(
        run.filter.as_deref().unwrap_or_default(),
        run.skip.as_deref().unwrap_or_default(),
    )
    .context("invalid filter or skip glob")?;
    let ci = run
        .ci
        .unwrap_or_else(|| std::env::var("CI").is_ok_and(|value| value == "true" || value == "1"));
    let deadline = run.timeout.unwrap_or(super::DEFAULT_TIMEOUT);
    let options = RunOptions {
        launch: LaunchOptions {
            start_timeout: run.start_timeout.unwrap_or(super::DEFAULT_START_TIMEOUT),
            call_timeout: deadline,
            extra_args,
        },
        steps: StepOptions {
            deadline,
            grace: run.grace.unwrap_or(super::DEFAULT_GRACE),
            snapshots: match (run.update_snapshots, ci) {
                (true, _) => SnapshotMode::Update,
                (false, true) => SnapshotMode::Ci,
                (false, false) => SnapshotMode::Local,
            },
            known_failing: run
                .known_failing
                .as_deref()
                .map(KnownFailing::load)
                .transpose()?,
            plugin_errors: if run.fail_on_plugin_errors == Some(true) {
                PluginErrors::Fail
            } else {
                PluginErrors::Warn
            },
        },
        filter,
        cancel: CancellationToken::new(),
        jobs: run
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        partition: run.partition,
        frozen_clock: run.frozen_clock,
    };
    Ok(RunPlan {
        target,
        suites: loaded,
        options,
        verbose: run.verbose == Some(true),
    })
}
