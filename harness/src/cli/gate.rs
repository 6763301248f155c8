//! `harness gate`: the release gate an SDK's CI calls, in one command and
//! one exit code, all of it set in `harness.toml`:
//!
//! 1. drift: `proto diff` of the harness's protocol against the SDK's
//!    (`[drift] source`);
//! 2. every `[[plugin]]` through the built-in suites and its own, as
//!    `harness run` runs them (`[run]`), writing `[output] json`/`junit`;
//! 3. the latency budget and baseline of one plugin, as `harness bench`
//!    measures them (`[bench]`), writing its report into `[output] bench-dir`.
//!
//! Every step runs even when an earlier one failed, so one CI run shows
//! everything wrong; the exit code is the worst of the steps'.

use std::{ffi::OsString, path::PathBuf, time::Instant};

use clap::Parser;
use harness::wire::format_duration;

use super::{
    bench::{BenchArgs, bench_command},
    cancel_on_interrupt,
    config::{BenchSettings, Config, RunSettings, Settings},
    exit, proto,
    run::{ConfigArgs, execute, plan, write_outputs},
};

#[derive(clap::Args)]
pub struct GateArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Suites run at once, each with its own plugin process [default: the file's, or the number of CPUs].
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// Leave the latency check out.
    #[arg(long)]
    no_bench: bool,
    /// Write every output into this directory instead, under the file names the file gives them (a CI artifacts directory).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

/// One step's name and exit code, for the summary.
struct StepResult {
    name: String,
    code: u8,
    took: std::time::Duration,
}

pub async fn gate_command(args: GateArgs) -> u8 {
    let config = match load(&args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    let started = Instant::now();
    let settings = &config.settings;
    if let Some(path) = &config.path {
        let profile = config
            .profile
            .as_deref()
            .map(|name| format!(" (profile {name})"))
            .unwrap_or_default();
        println!("{:>12} {}{profile}", "Config", path.display());
    }
    let mut steps = Vec::new();
    // One Ctrl-C handler for every suite run: the run in progress stops
    // and writes what it has, and the gate stops after it.
    let cancel = tokio_util::sync::CancellationToken::new();
    cancel_on_interrupt(cancel.clone());
    if let Some(source) = &settings.drift.source {
        heading(&format!("drift against {}", source.display()));
        let step_start = Instant::now();
        let json = settings.drift.json.as_deref();
        let parent = json.and_then(std::path::Path::parent);
        let code = match parent.map(std::fs::create_dir_all).transpose() {
            Ok(_) => proto::diff(source, json),
            Err(err) => {
                eprintln!(
                    "error: cannot create the directory of {}: {err}",
                    json.unwrap_or(source).display()
                );
                exit::BAD_INPUT
            }
        };
        steps.push(StepResult {
            name: format!("drift ({})", source.display()),
            code,
            took: step_start.elapsed(),
        });
    }
    for entry in &config.plugins {
        heading(&format!("suites of {}", entry.path.display()));
        let step_start = Instant::now();
        let mut plugin_settings = settings.clone();
        if entry.known_failing.is_some() {
            plugin_settings.run.known_failing = entry.known_failing.clone();
        }
        let code = match plan(&entry.path, &[], &[], &plugin_settings, Some(entry)) {
            Ok(mut run_plan) => {
                run_plan.options.cancel = cancel.clone();
                let report = execute(&run_plan, &entry.path.display().to_string()).await;
                match write_outputs(&plugin_settings, &run_plan.target, &report) {
                    Ok(()) => report.exit_code,
                    Err(err) => {
                        eprintln!("error: {err:#}");
                        exit::BAD_INPUT
                    }
                }
            }
            Err(err) => {
                eprintln!("error: {}: {err:#}", entry.path.display());
                exit::BAD_INPUT
            }
        };
        steps.push(StepResult {
            name: format!("suites ({})", entry.path.display()),
            code,
            took: step_start.elapsed(),
        });
        if code == exit::INTERRUPTED {
            break;
        }
    }
    let interrupted = cancel.is_cancelled();
    if !args.no_bench && settings.bench.skip != Some(true) && !interrupted {
        let step_start = Instant::now();
        let code = match bench_args(&config) {
            Ok((plugin, bench)) => {
                heading(&format!("latency of {plugin}"));
                bench_command(bench).await
            }
            Err(err) => {
                eprintln!("error: {err:#}");
                exit::BAD_INPUT
            }
        };
        steps.push(StepResult {
            name: "bench".to_owned(),
            code,
            took: step_start.elapsed(),
        });
    }
    summary(&steps, started.elapsed())
}

/// The file (which the gate cannot do without), with `--jobs` over it.
fn load(args: &GateArgs) -> anyhow::Result<Config> {
    let mut config = args.config.load()?;
    if config.path.is_none() {
        anyhow::bail!(
            "harness gate needs a {}: none was found here or above; name one with --config",
            super::config::FILE_NAME
        );
    }
    if config.plugins.is_empty() && config.settings.drift.source.is_none() {
        anyhow::bail!(
            "the gate has nothing to do: the file names no [[plugin]] and no [drift] source"
        );
    }
    let output = &config.settings.output;
    if config.plugins.len() > 1 {
        for path in [&output.json, &output.junit].into_iter().flatten() {
            if !path.to_string_lossy().contains("{plugin}") {
                anyhow::bail!(
                    "[output] {}: with several plugins, the path needs `{{plugin}}` (the plugin's id) so each plugin has its own file",
                    path.display()
                );
            }
        }
    }
    if let Some(dir) = &args.output_dir {
        let settings = &mut config.settings;
        for path in [
            &mut settings.output.json,
            &mut settings.output.junit,
            &mut settings.output.bench_dir,
            &mut settings.drift.json,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(name) = path.file_name() {
                *path = dir.join(name);
            }
        }
    }
    config.settings.overlay(Settings {
        run: RunSettings {
            jobs: args.jobs.map(|jobs| jobs as usize),
            ..RunSettings::default()
        },
        ..Settings::default()
    });
    Ok(config)
}

/// The `harness bench` flags the file's `[bench]` (and `[run]` timeouts)
/// stand for, parsed as the command line would be, so defaults and checks
/// are bench's own.
fn bench_args(config: &Config) -> anyhow::Result<(String, BenchArgs)> {
    #[derive(clap::Parser)]
    struct Bench {
        #[command(flatten)]
        args: BenchArgs,
    }
    let BenchSettings {
        plugin,
        skip: _,
        hooks,
        api,
        calls,
        duration,
        warmup,
        rounds,
        budget,
        percentile,
        baseline,
        floor,
    } = &config.settings.bench;
    let plugin = plugin
        .clone()
        .or_else(|| config.plugins.first().map(|entry| entry.path.clone()))
        .ok_or_else(|| anyhow::anyhow!("[bench] names no plugin and there is no [[plugin]]"))?;
    let mut argv: Vec<OsString> = vec!["bench".into(), plugin.clone().into()];
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            argv.push(format!("--{name}").into());
            argv.push(value.into());
        }
    };
    let text = |duration: &Option<std::time::Duration>| {
        duration.map(|duration| humantime::format_duration(duration).to_string())
    };
    let run = &config.settings.run;
    flag("timeout", text(&run.timeout));
    flag("start-timeout", text(&run.start_timeout));
    flag("grace", text(&run.grace));
    flag("hooks", hooks.clone());
    flag("api", api.clone());
    flag("calls", calls.map(|calls| calls.to_string()));
    flag("duration", text(duration));
    flag("warmup", text(warmup));
    flag("rounds", rounds.map(|rounds| rounds.to_string()));
    flag("budget", text(budget));
    flag("percentile", percentile.map(|stat| stat.to_string()));
    flag(
        "baseline",
        baseline.as_ref().map(|path| path.display().to_string()),
    );
    flag("floor", floor.clone());
    let out = config.settings.output.bench_dir.as_ref();
    flag("out", out.map(|dir| dir.display().to_string()));
    let entry = config.plugin_entry(&plugin);
    if let Some(entry) = entry.filter(|entry| !entry.args.is_empty()) {
        argv.push("--".into());
        argv.extend(entry.args.iter().map(OsString::from));
    }
    let parsed = Bench::try_parse_from(argv)
        .map_err(|err| anyhow::anyhow!("[bench]: {}", err.render().to_string().trim_end()))?;
    Ok((plugin.display().to_string(), parsed.args))
}

fn heading(what: &str) {
    println!("\n==== gate: {what}");
}

/// One line per step and the gate's exit code: the worst of the steps'
/// (interrupted over bad input over not started over failed).
fn summary(steps: &[StepResult], took: std::time::Duration) -> u8 {
    println!("\n==== gate summary");
    for step in steps {
        let verdict = match step.code {
            exit::PASSED => "PASS",
            exit::FAILED => "FAIL",
            exit::BAD_INPUT => "BAD INPUT",
            exit::NOT_STARTED => "NOT STARTED",
            exit::INTERRUPTED => "INTERRUPTED",
            _ => "ERROR",
        };
        println!(
            "{verdict:>12} [{:>10}] {}",
            format_duration(step.took),
            step.name
        );
    }
    let code = steps
        .iter()
        .map(|step| step.code)
        .max()
        .unwrap_or(exit::PASSED);
    let failed = steps
        .iter()
        .filter(|step| step.code != exit::PASSED)
        .count();
    println!(
        "{:>12} [{:>10}] {} steps, {failed} failed: exit {code}",
        "Gate",
        format_duration(took),
        steps.len()
    );
    code
}
