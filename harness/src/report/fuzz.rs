//! `harness fuzz` on the console: the plugin and plan, each failure as it
//! is found and once shrunk, a live progress line, and the summary.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    fuzz::{Failure, Finding, FuzzOptions, FuzzProgress, FuzzReport, Stats, properties::printable},
    launch::{PluginTarget, RunningPlugin, Runtime},
    wire::format_duration,
};

/// Results on stdout; progress as a spinner line on stderr, drawn only
/// when stderr is a terminal.
pub struct FuzzConsole {
    progress: ProgressBar,
}

/// The commands a summary offers: the same cases again, and the saved
/// findings replayed by `harness run`.
pub struct FuzzCommands {
    pub reproduce: String,
    pub replay: Option<String>,
}

impl FuzzConsole {
    pub fn new(target: &PluginTarget, options: &FuzzOptions) -> FuzzConsole {
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
        let progress = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        progress.set_style(
            ProgressStyle::with_template("{prefix:>12.cyan.bold} [{elapsed_precise}] {wide_msg}")
                .expect("the template is valid"),
        );
        progress.set_prefix("Progress");
        FuzzConsole { progress }
    }

    pub fn summary(&mut self, report: &FuzzReport, commands: &FuzzCommands) {
        self.progress.finish_and_clear();
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
            println!("{:>12} {}", "Reproduce", commands.reproduce);
        }
        if let Some(replay) = &commands.replay
            && report.findings.iter().any(|f| f.saved.is_some())
        {
            println!("{:>12} {replay}", "Replay");
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
        // indicatif limits how often it draws, and draws nothing off a terminal.
        self.progress.set_message(format!(
            "{}, {:.1} cases/s, {}, {}{}",
            counted(stats.cases, "case"),
            stats.cases_per_second(),
            counted(stats.findings as u64, "failure"),
            counted(stats.crashes, "crash"),
            stats
                .activity
                .as_deref()
                .map(|activity| format!("; {activity}"))
                .unwrap_or_default()
        ));
    }

    fn found(&mut self, hook: &str, failure: &Failure) {
        self.progress
            .suspend(|| println!("{:>12} {hook}: {}; shrinking", "FOUND", failure.kind));
    }

    fn finding(&mut self, finding: &Finding) {
        self.progress.suspend(|| print_finding(finding));
    }
}

/// A shrunk failure: what failed, the minimal request, where it was saved,
/// and what the plugin wrote meanwhile.
fn print_finding(finding: &Finding) {
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
    if let Some(cut) = &finding.size_cut {
        println!("{:>12} {cut}", "");
    }
    if !finding.beyond_server.is_empty() {
        println!(
            "{:>12} note: beyond what a Mattermost server sends ({} never filled by its hook path)",
            "",
            finding.beyond_server.join(", ")
        );
    }
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

/// `n` and the noun, plural unless `n` is 1 ("crash" → "crashes").
fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ if noun.ends_with("sh") => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}
