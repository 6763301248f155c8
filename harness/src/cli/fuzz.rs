//! `harness fuzz`: generated requests against a plugin; each failure shrunk
//! to a minimal case and saved as a suite `harness run` replays.

use std::{
    hash::{BuildHasher, RandomState},
    io::{IsTerminal, Write},
    path::PathBuf,
    time::{Duration, Instant},
};

use harness::{
    fuzz::{
        self, Failure, Finding, FuzzOptions, FuzzProgress, FuzzReport, Profile, Spec, Stats,
        properties::printable,
    },
    launch::{PluginTarget, RunningPlugin, Runtime},
    report::shell_quote,
    wire::format_duration,
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
    console.summary(&report, &args);
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

/// Results on stdout; the progress line on stderr, rewritten in place on
/// a terminal and printed every few seconds otherwise.
struct FuzzConsole {
    tty: bool,
    /// A progress line is on the terminal and must be cleared first.
    line_shown: bool,
    last_tick: Option<Instant>,
}

impl FuzzConsole {
    fn new(target: &PluginTarget, options: &FuzzOptions) -> FuzzConsole {
        let runtime = match target.runtime {
            Runtime::Python => "Python",
            Runtime::Native => "native",
        };
        println!(
            "{:>12} {} ({runtime}, {}) in {}",
            "Plugin",
            target.id,
            target.executable.display(),
            target.dir.display()
        );
        if !options.spec.rules.is_empty() || !options.spec.never_status.is_empty() {
            let rules =
                options.spec.rules.len() + usize::from(!options.spec.never_status.is_empty());
            println!("{:>12} {} ({rules} rules)", "Spec", options.spec.origin);
        }
        FuzzConsole {
            tty: std::io::stderr().is_terminal(),
            line_shown: false,
            last_tick: None,
        }
    }

    fn clear_line(&mut self) {
        if self.line_shown {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
            self.line_shown = false;
        }
    }

    fn summary(&mut self, report: &FuzzReport, args: &FuzzArgs) {
        self.clear_line();
        let stats = &report.stats;
        if report.interrupted {
            println!("\ninterrupted: the results below stop where the run was stopped");
        }
        if let Some(error) = &report.input_error {
            println!("\nerror: {error}");
        }
        if let Some(failure) = &report.launch_failure {
            println!("\nerror: the plugin could not be started:");
            for line in failure.lines() {
                println!("  {}", printable(line));
            }
        }
        if !report.not_implemented.is_empty() {
            println!(
                "{:>12} not implemented by the plugin, not called (the server would not): {}",
                "NOTE",
                report.not_implemented.join(", ")
            );
        }
        if !report.spec_unused.is_empty() {
            println!(
                "{:>12} the spec has rules for hooks not fuzzed: {}",
                "NOTE",
                report.spec_unused.join(", ")
            );
        }
        println!("------------");
        println!(
            "{:>12} [{:>10}] {}, {:.1} cases/s: {} ({}), {}, {}",
            "Summary",
            format_duration(stats.elapsed),
            counted(stats.cases, "case"),
            stats.cases_per_second(),
            counted(report.findings.len() as u64, "failure"),
            counted(stats.failing_cases, "failing case"),
            counted(stats.crashes, "crash"),
            counted(stats.restarts, "restart"),
        );
        let counts: Vec<u64> = stats.per_hook.values().copied().collect();
        match (counts.iter().min(), counts.iter().max()) {
            (Some(least), Some(most)) if report.hooks.len() > 6 => {
                println!("{:>12} {least} to {most} per hook", "Cases");
            }
            _ if !counts.is_empty() => {
                let per_hook: Vec<String> = report
                    .hooks
                    .iter()
                    .filter_map(|hook| stats.per_hook.get(hook).map(|n| format!("{hook} {n}")))
                    .collect();
                println!("{:>12} {}", "Cases", per_hook.join(", "));
            }
            _ => {}
        }
        for finding in &report.findings {
            let saved = match (&finding.saved, &finding.save_error) {
                (Some(path), _) => format!(", saved to {}", path.display()),
                (None, Some(error)) => format!(", not saved: {error}"),
                (None, None) => String::new(),
            };
            let also = if finding.also_in.is_empty() {
                String::new()
            } else {
                format!(", also in {}", finding.also_in.join(", "))
            };
            println!(
                "{:>12} {}: {} (seen {}{also}){saved}",
                "FAIL",
                finding.hook,
                finding.kind(),
                counted(finding.occurrences, "time"),
            );
        }
        if stats.cases > 0 {
            println!("{:>12} {}", "Reproduce", reproduce_command(report, args));
        }
        let saved: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.saved.is_some())
            .collect();
        if let (Some(dir), false) = (&args.save, saved.is_empty()) {
            let mut words = vec![
                "harness run".to_owned(),
                shell_quote(&args.plugin.plugin.display().to_string()),
                format!("--suite {}", shell_quote(&dir.display().to_string())),
            ];
            words.extend(plugin_args(args));
            println!("{:>12} {}", "Replay", words.join(" "));
        }
        println!(
            "{} passed, {} failed",
            stats.cases - stats.failing_cases,
            stats.failing_cases
        );
    }
}

impl FuzzProgress for FuzzConsole {
    fn started(&mut self, plugin: &RunningPlugin, hooks: &[String]) {
        println!(
            "{:>12} pid {} in {}: {}",
            "Launched",
            plugin.process.pid(),
            format_duration(plugin.time_to_handshake),
            plugin.handshake.line
        );
        println!(
            "{:>12} {} hooks: {}",
            "Fuzzing",
            hooks.len(),
            hooks.join(", ")
        );
    }

    fn tick(&mut self, stats: &Stats) {
        let interval = if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        let last = *self.last_tick.get_or_insert_with(Instant::now);
        if last.elapsed() < interval && stats.activity.is_none() {
            return;
        }
        self.last_tick = Some(Instant::now());
        let line = format!(
            "{:>12} [{:>10}] {}, {:.1} cases/s, {}, {}{}",
            "Progress",
            format_duration(stats.elapsed),
            counted(stats.cases, "case"),
            stats.cases_per_second(),
            counted(stats.findings as u64, "failure"),
            counted(stats.crashes, "crash"),
            stats
                .activity
                .as_deref()
                .map(|activity| format!("; {activity}"))
                .unwrap_or_default()
        );
        if self.tty {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
            self.line_shown = true;
        } else {
            eprintln!("{line}");
        }
    }

    fn found(&mut self, hook: &str, failure: &Failure) {
        self.clear_line();
        println!("{:>12} {hook}: {}; shrinking", "FOUND", failure.kind);
    }

    fn finding(&mut self, finding: &Finding) {
        self.clear_line();
        let failure = &finding.failure;
        println!("{:>12} {}: {}", "FAIL", finding.hook, failure.kind);
        println!("{:>12} {}", "", printable(&failure.summary));
        for detail in &failure.details {
            println!("{:>12}   {}", "", printable(detail));
        }
        let completeness = if finding.shrink_complete {
            ""
        } else {
            " (stopped early: budget or Ctrl-C)"
        };
        println!(
            "{:>12} case {}; shrunk in {} steps ({} runs, {}){completeness} from {} to {} bytes:",
            "",
            finding.case,
            finding.shrink_steps,
            finding.shrink_runs,
            format_duration(finding.shrink_time),
            finding.original_size,
            finding.request.size()
        );
        println!("{:>12} {}", "", finding.request_text);
        if let Some(note) = &finding.saved_note {
            println!("{:>12} note: {note}", "");
        }
        match (&finding.saved, &finding.save_error) {
            (Some(path), _) => println!("{:>12} saved to {}", "", path.display()),
            (None, Some(error)) => println!("{:>12} not saved: {error}", ""),
            (None, None) => {}
        }
        if !finding.output_tail.is_empty() {
            println!("  --- plugin output (last lines):");
            for line in &finding.output_tail {
                println!("      {}", printable(&line.text));
            }
        }
        println!();
    }
}

/// `n` and the noun, plural unless `n` is 1 ("crash" → "crashes").
fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ if noun.ends_with("sh") => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
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
