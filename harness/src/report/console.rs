//! The console reporter: a line per case as it finishes, the details of
//! each failure (mismatches, wire transcript, plugin output), and a summary.
//! When suites run at once, each suite's lines are held and printed
//! together when it ends, in the suites' order.

use std::io::Write;

use crate::{
    launch::{CapturedLine, PluginTarget, RunningPlugin, Runtime},
    run::{CaseReport, Outcome, Progress, RunReport, StepOutcome, WireEvent},
    suite::{Origin, Suite},
};

use crate::wire::format_duration;

/// Writes human-readable progress and results to `out`.
pub struct Console<W: Write> {
    out: W,
    launched: bool,
    /// The plugin as the user named it, for replay commands.
    plugin_arg: Option<String>,
    suite_origin: Option<Origin>,
    /// The reason of the last case not run, so a streak prints it once.
    last_not_run: Option<String>,
    /// Skipped cases get a line each; otherwise only their count.
    verbose: bool,
}

impl<W: Write> Console<W> {
    /// `plugin_arg` is the plugin as the user named it; with it, each
    /// failure ends with the command that replays just that case.
    pub fn new(out: W, plugin_arg: Option<String>) -> Self {
        Console {
            out,
            launched: false,
            plugin_arg,
            suite_origin: None,
            last_not_run: None,
            verbose: false,
        }
    }

    /// A line for every case, skipped ones included.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// The summary after the run: counts, failures again, API usage, and
    /// the launch failure if there was one. Its last line is
    /// `N passed, N failed, N skipped`, the closing line CI systems read.
    pub fn summary(&mut self, report: &RunReport) {
        let out = &mut self.out;
        let passed = report.count(Outcome::is_passed);
        let failed = report.count(Outcome::is_failed);
        let skipped = report.count(Outcome::is_skipped);
        let known_failing = report.count(Outcome::is_known_failing);
        let not_run = report.count(Outcome::is_not_run);
        if report.interrupted {
            let _ = writeln!(
                out,
                "\ninterrupted: the results below stop where the run was stopped"
            );
        }
        if let Some(failure) = &report.launch_failure {
            let _ = writeln!(
                out,
                "\nerror: the plugin could not be started (suite {}):",
                failure.suite
            );
            for line in failure.message.lines() {
                let _ = writeln!(out, "  {line}");
            }
            write_output_tail(out, &failure.output_tail);
        }
        let _ = writeln!(out, "------------");
        let _ = writeln!(
            out,
            "{:>12} [{:>10}] {} cases run: {passed} passed, {failed} failed, {known_failing} known failing; {skipped} skipped, {not_run} not run",
            "Summary",
            format_duration(report.duration),
            passed + failed + known_failing,
        );
        for case in report.cases() {
            let status = match case.outcome {
                Outcome::Failed => "FAIL",
                Outcome::UnexpectedPass => "XPASS",
                Outcome::KnownFailing => "XFAIL",
                _ => continue,
            };
            let _ = writeln!(out, "{status:>12} {}", case.full_name());
        }
        // Cases not run share a few reasons (a failed activation, a dead
        // plugin): one line per reason, not one per case.
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for case in report.cases() {
            if let Outcome::NotRun { reason } = &case.outcome {
                match reasons
                    .iter_mut()
                    .find(|(known, _)| *known == reason.as_str())
                {
                    Some((_, count)) => *count += 1,
                    None => reasons.push((reason, 1)),
                }
            }
        }
        for (reason, count) in reasons {
            let _ = writeln!(out, "{:>12} {count} case(s): {reason}", "NOT RUN");
        }
        for path in &report.stale_snapshots {
            let _ = writeln!(out, "{:>12} {} (no step uses it)", "STALE", path.display());
        }
        for suite in &report.suites {
            for note in &suite.notes {
                let _ = writeln!(out, "{:>12} {}: {note}", "NOTE", suite.name);
            }
        }
        let api = &report.api;
        let mut closing = format!("{passed} passed, {failed} failed, {skipped} skipped");
        for (count, what) in [(known_failing, "known failing"), (not_run, "not run")] {
            if count > 0 {
                closing.push_str(&format!(", {count} {what}"));
            }
        }
        if report.suites.is_empty() {
            let _ = writeln!(out, "{closing}");
            return;
        }
        let _ = write!(
            out,
            "{:>12} {} calls; coverage: {} of {} methods modelled",
            "API", api.calls, api.modelled, api.total
        );
        if !api.not_modelled_calls.is_empty() {
            let list: Vec<String> = api
                .not_modelled_calls
                .iter()
                .map(|(m, n)| format!("{m} ({n})"))
                .collect();
            let _ = write!(out, "; called but not modelled: {}", list.join(", "));
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{closing}");
    }
}

impl<W: Write> Progress for Console<W> {
    fn fork(&mut self) -> Box<dyn Progress> {
        // The first suite forked tells of the launch, as the first suite
        // of a serial run does.
        let announced = std::mem::replace(&mut self.launched, true);
        Box::new(HeldSuite(Console {
            out: Vec::new(),
            launched: announced,
            plugin_arg: self.plugin_arg.clone(),
            suite_origin: None,
            last_not_run: None,
            verbose: self.verbose,
        }))
    }

    fn join(&mut self, mut forked: Box<dyn Progress>) {
        let _ = self.out.write_all(&forked.take_held());
        let _ = self.out.flush();
    }

    fn run_started(&mut self, target: &PluginTarget) {
        let runtime = match target.runtime {
            Runtime::Python => "Python",
            Runtime::Native => "native",
        };
        let _ = writeln!(
            self.out,
            "{:>12} {} ({runtime}, {}) in {}",
            "Plugin",
            target.id,
            target.executable.display(),
            target.dir.display()
        );
    }

    fn suite_started(&mut self, suite: &Suite, plugin: &RunningPlugin) {
        if !self.launched {
            self.launched = true;
            let _ = writeln!(
                self.out,
                "{:>12} pid {} in {}: {}",
                "Launched",
                plugin.process.pid(),
                format_duration(plugin.time_to_handshake),
                plugin.handshake.line
            );
            let _ = writeln!(
                self.out,
                "{:>12} {} hooks: {}",
                "Implements",
                plugin.implemented.len(),
                plugin.implemented.join(", ")
            );
        }
        self.suite_origin = Some(suite.origin.clone());
        let _ = writeln!(
            self.out,
            "{:>12} {} ({} cases) from {}",
            "Running",
            suite.name,
            suite.cases.len(),
            suite.origin
        );
    }

    fn case_finished(&mut self, case: &CaseReport) {
        // A plugin implements a few of the 42 hooks: the rest would bury
        // what happened. The summary counts them.
        if case.outcome.is_skipped() && !self.verbose {
            return;
        }
        let previous_not_run = std::mem::take(&mut self.last_not_run);
        if let Outcome::NotRun { reason } = &case.outcome {
            self.last_not_run = Some(reason.clone());
        }
        let out = &mut self.out;
        let status = match &case.outcome {
            Outcome::Passed => "PASS",
            Outcome::Failed => "FAIL",
            Outcome::KnownFailing => "XFAIL",
            Outcome::UnexpectedPass => "XPASS",
            Outcome::Skipped { .. } => "SKIP",
            Outcome::NotRun { .. } => "NOT RUN",
        };
        let _ = writeln!(
            out,
            "{status:>12} [{:>10}] {}",
            format_duration(case.duration),
            case.full_name()
        );
        match &case.outcome {
            Outcome::Skipped { reason } => {
                let _ = writeln!(out, "{:>12} {reason}", "");
            }
            Outcome::NotRun { reason } if previous_not_run.as_ref() != Some(reason) => {
                let _ = writeln!(out, "{:>12} {reason}", "");
            }
            Outcome::UnexpectedPass => {
                let _ = writeln!(
                    out,
                    "{:>12} listed as known to fail, but passed: remove it from the list",
                    ""
                );
            }
            _ => {}
        }
        let skipped = matches!(case.outcome, Outcome::Skipped { .. });
        for step in &case.steps {
            if step.outcome == StepOutcome::NotImplemented && !skipped {
                let _ = writeln!(
                    out,
                    "{:>12} step {} skipped: {}",
                    "",
                    step.index,
                    step.detail.as_deref().unwrap_or("")
                );
            }
            for warning in &step.warnings {
                let _ = writeln!(
                    out,
                    "{:>12} step {} ({}): {warning}",
                    "WARN", step.index, step.label
                );
            }
        }
        if case.transcript.is_empty()
            && !case
                .steps
                .iter()
                .any(|step| step.outcome == StepOutcome::Failed)
        {
            return;
        }
        let replay = self.replay_command(case);
        let out = &mut self.out;
        let _ = write!(out, "{}", failure_details(case));
        if let Some(replay) = replay {
            let _ = writeln!(out, "  --- replay only this case:\n      {replay}");
        }
        let _ = writeln!(out);
    }
}

/// One suite's console while other suites run too: it writes into a
/// buffer that [`Progress::join`] prints in one piece.
struct HeldSuite(Console<Vec<u8>>);

impl Progress for HeldSuite {
    fn suite_started(&mut self, suite: &Suite, plugin: &RunningPlugin) {
        self.0.suite_started(suite, plugin);
    }

    fn case_finished(&mut self, case: &CaseReport) {
        self.0.case_finished(case);
    }

    fn take_held(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0.out)
    }
}

impl<W: Write> Console<W> {
    fn replay_command(&self, case: &CaseReport) -> Option<String> {
        let plugin = self.plugin_arg.as_deref()?;
        let suite = match &self.suite_origin {
            Some(Origin::File(path)) => {
                format!(" --suite {}", shell_quote(&path.display().to_string()))
            }
            _ => String::new(),
        };
        Some(format!(
            "harness run {}{suite} --filter {}",
            shell_quote(plugin),
            shell_quote(&case.full_name())
        ))
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Everything a reader needs to understand a failed case: the failing step
/// and where it is written, each mismatch, a snapshot diff, the wire
/// transcript and the plugin's last output.
pub fn failure_details(case: &CaseReport) -> String {
    let mut out = Vec::new();
    for step in case
        .steps
        .iter()
        .filter(|step| step.outcome == StepOutcome::Failed)
    {
        let _ = writeln!(
            out,
            "  --- step {}: {} ({})",
            step.index, step.label, step.location
        );
        for mismatch in &step.mismatches {
            let _ = writeln!(out, "      {}:", mismatch.field);
            let _ = writeln!(out, "        expected: {}", mismatch.expected);
            let _ = writeln!(out, "          actual: {}", mismatch.actual);
        }
        if let Some(diff) = &step.diff {
            for line in diff.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
        if let Some(detail) = &step.detail {
            let _ = writeln!(out, "      ({detail})");
        }
    }
    if !case.transcript.is_empty() {
        let _ = writeln!(out, "  --- wire transcript (time since run start)");
        for (at, line) in transcript_lines(&case.transcript) {
            let _ = writeln!(out, "      {:>10}  {line}", format_duration(at));
        }
    }
    write_output_tail(&mut out, &case.output_tail);
    String::from_utf8(out).expect("the details are written as UTF-8")
}

/// The transcript as lines in time order: a hook call is two lines (out
/// and back), and the API calls the plugin made meanwhile fall in between.
fn transcript_lines(events: &[WireEvent]) -> Vec<(std::time::Duration, String)> {
    let compact = |value: &serde_json::Value| {
        let text = value.to_string();
        if text.len() > 400 {
            format!("{}…", &text[..text.floor_char_boundary(400)])
        } else {
            text
        }
    };
    let mut lines = Vec::new();
    for event in events {
        match event {
            WireEvent::Hook(hook) => {
                lines.push((
                    hook.at,
                    format!("server → plugin  {} {}", hook.hook, compact(&hook.request)),
                ));
                let response = hook.response.as_ref().map(compact).unwrap_or_default();
                lines.push((
                    hook.at + hook.duration,
                    format!("server ← plugin  {} {} {response}", hook.hook, hook.status),
                ));
            }
            WireEvent::Api(call) => {
                let answer = match &call.outcome {
                    crate::api::ApiOutcome::Response { response } => compact(response),
                    crate::api::ApiOutcome::Status { code, message } => {
                        format!("{code}: {message}")
                    }
                    crate::api::ApiOutcome::NotModelled => "not modelled by the harness".to_owned(),
                };
                let stub = if call.stubbed { " (stub)" } else { "" };
                lines.push((
                    call.at,
                    format!(
                        "plugin → API     {} {} → {answer}{stub}",
                        call.method,
                        compact(&call.request)
                    ),
                ));
            }
            WireEvent::Output(line) => {
                let stream = match line.stream {
                    crate::launch::Stream::Stdout => "stdout",
                    crate::launch::Stream::Stderr => "stderr",
                };
                let marker = if line.concern.is_some() { "  ◀" } else { "" };
                lines.push((line.at, format!("plugin {stream:<9} {}{marker}", line.text)));
            }
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    lines
}

fn write_output_tail(out: &mut impl Write, lines: &[CapturedLine]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "  --- plugin output (last {} lines)", lines.len());
    for line in lines {
        let stream = match line.stream {
            crate::launch::Stream::Stdout => "stdout",
            crate::launch::Stream::Stderr => "stderr",
        };
        let cut = if line.truncated { " [line cut]" } else { "" };
        let _ = writeln!(out, "      {stream} | {}{cut}", line.text);
    }
}
