//! `harness fuzz`: generated requests against a plugin; each failure shrunk
//! to a minimal case and saved as a suite `harness run` replays.

use std::{
    hash::{BuildHasher, RandomState},
    path::PathBuf,
    time::{Duration, Instant},
};

use harness::{
    fuzz::{self, FuzzOptions, FuzzReport, Profile, Spec},
    launch::PluginTarget,
    report::{FuzzCommands, FuzzConsole, shell_quote},
};
use tokio_util::sync::CancellationToken;

use super::{PluginArgs, cancel_on_interrupt, exit};

#[derive(clap::Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    plugin: PluginArgs,
    /// Hooks to fuzz, comma-separated [default: every hook the plugin implements but OnActivate and OnDeactivate, ServeHTTP included].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    hooks: Vec<String>,
    /// Run at most this many cases [default: 1000, or no bound with --time].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    cases: Option<u64>,
    /// Search for at most this long; shrinking a failure found in time may add up to --shrink-time.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    time: Option<Duration>,
    /// Seed of the case generator: the same seed, plugin and flags give the same cases [default: random, printed].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Invariants checked on top of the protocol properties (a JSON fuzz spec; see the README).
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// Save each shrunk failure here, as a suite file that `harness run PLUGIN --suite DIR` replays.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    /// Edge-heavy payloads (control characters, odd ids, deep nesting, several MiB) instead of realistic ones.
    #[arg(long)]
    edge: bool,
    /// Damage the encoded requests (bit flips, truncation, wrong wire types, oversized lengths, invalid UTF-8): the plugin must survive and answer, with any status.
    #[arg(long)]
    raw: bool,
    /// Time allowed to shrink each failure.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = humantime::parse_duration)]
    shrink_time: Duration,
}

pub async fn fuzz_command(args: FuzzArgs) -> u8 {
    let (target, options) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    cancel_on_interrupt(options.cancel.clone());
    let mut console = FuzzConsole::new(&target, &options);
    let report = fuzz::fuzz(&target, &options, &mut console).await;
    let commands = FuzzCommands {
        reproduce: reproduce_command(&report, &args),
        replay: args.save.as_ref().map(|dir| {
            let mut words = vec![
                "harness run".to_owned(),
                shell_quote(&args.plugin.plugin.display().to_string()),
                format!("--suite {}", shell_quote(&dir.display().to_string())),
            ];
            words.extend(plugin_args(&args));
            words.join(" ")
        }),
    };
    console.summary(&report, &commands);
    if report.interrupted {
        exit::INTERRUPTED
    } else if report.input_error.is_some() {
        exit::BAD_INPUT
    } else if report.launch_failure.is_some() {
        exit::NOT_STARTED
    } else if report.findings.is_empty() {
        exit::PASSED
    } else {
        exit::FAILED
    }
}

fn prepare(args: &FuzzArgs) -> anyhow::Result<(PluginTarget, FuzzOptions)> {
    let target = args.plugin.target()?;
    fuzz::runner::check_hook_names(&args.hooks).map_err(anyhow::Error::msg)?;
    if args.raw && args.hooks.iter().any(|hook| hook == "ServeHTTP") {
        anyhow::bail!("--raw damages unary hook requests; ServeHTTP cannot be fuzzed with it");
    }
    let spec = match &args.spec {
        Some(path) => Spec::load(path)?,
        None => Spec::default(),
    };
    let options = FuzzOptions {
        launch: args.plugin.launch_options(),
        deadline: args.plugin.timeout,
        grace: args.plugin.grace,
        hooks: args.hooks.clone(),
        cases: args.cases,
        time: args.time,
        seed: args
            .seed
            .unwrap_or_else(|| RandomState::new().hash_one(Instant::now())),
        profile: if args.edge {
            Profile::Edge
        } else {
            Profile::Realistic
        },
        raw: args.raw,
        spec,
        save: args.save.clone(),
        shrink_time: args.shrink_time,
        cancel: CancellationToken::new(),
    };
    Ok((target, options))
}

/// `-- PLUGIN_ARGS...`, when there are any.
fn plugin_args(args: &FuzzArgs) -> Vec<String> {
    if args.plugin.plugin_args.is_empty() {
        return Vec::new();
    }
    std::iter::once("--".to_owned())
        .chain(
            args.plugin
                .plugin_args
                .iter()
                .map(|arg| shell_quote(&arg.to_string_lossy())),
        )
        .collect()
}

/// The command that runs the same cases again.
fn reproduce_command(report: &FuzzReport, args: &FuzzArgs) -> String {
    let mut words = vec![
        "harness".to_owned(),
        "fuzz".to_owned(),
        shell_quote(&args.plugin.plugin.display().to_string()),
        format!("--seed {}", report.seed),
        format!("--cases {}", report.stats.cases),
    ];
    if !args.hooks.is_empty() {
        words.push(format!("--hooks {}", shell_quote(&args.hooks.join(","))));
    }
    if let Some(spec) = &args.spec {
        words.push(format!(
            "--spec {}",
            shell_quote(&spec.display().to_string())
        ));
    }
    if report.profile == Profile::Edge {
        words.push("--edge".to_owned());
    }
    if report.raw {
        words.push("--raw".to_owned());
    }
    words.extend(plugin_args(args));
    words.join(" ")
}
