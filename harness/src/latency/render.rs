//! A bench report for people: the console summary and `report.md`. Both
//! are built from the same tables, so they never disagree.

use std::fmt::Write;

use super::{
    attribution,
    baseline::{self, Verdict},
    histogram::{Stat, Summary, format_ns},
    load::Mode,
    overhead, recorder,
    report::{BenchReport, CallKind, CallReport},
    upstream,
};

/// A table: header and rows of cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The sections of a report: title, what the figures mean, the table.
pub fn sections(report: &BenchReport) -> Vec<(String, String, Table)> {
    let mut sections = Vec::new();
    let of_kind = |kind: CallKind| -> Vec<&CallReport> {
        report
            .calls
            .iter()
            .filter(|call| call.kind == kind)
            .collect()
    };
    let hooks = of_kind(CallKind::Hook);
    if !hooks.is_empty() {
        let open = matches!(
            report.sources.first().map(|s| s.mode),
            Some(Mode::Open { .. })
        );
        sections.push((
            "Hooks".to_owned(),
            if open {
                "Round trip of each hook call through the harness, from its scheduled send time (corrected for coordinated omission).".to_owned()
            } else {
                "Round trip of each hook call through the harness, as the server makes it.".to_owned()
            },
            latency_table(&hooks, Some(report)),
        ));
        if open {
            sections.push((
                "Open loop: corrected and uncorrected".to_owned(),
                "Corrected latencies count from when each call was due; uncorrected ones from when it was actually sent, hiding the queueing behind slow calls.".to_owned(),
                open_loop_table(&hooks),
            ));
        }
    }
    let plugin_side = of_kind(CallKind::ApiPlugin);
    if !plugin_side.is_empty() {
        sections.push((
            "Plugin API, as the plugin sees it".to_owned(),
            "Timed by the plugin around each call (time.perf_counter_ns): its client stubs, the loopback socket both ways, the harness's API server.".to_owned(),
            latency_table(&plugin_side, None),
        ));
    }
    let server_side = of_kind(CallKind::ApiServer);
    if !server_side.is_empty() {
        sections.push((
            "Plugin API, server-side service time".to_owned(),
            "Time inside the harness's API server for each call, from the call log.".to_owned(),
            latency_table(&server_side, None),
        ));
    }
    if !report.overhead.is_empty() {
        sections.push((
            "Harness overhead".to_owned(),
            format!(
                "The same hooks of the reference plugin ({}), same run, through the harness's hook client and through a bare generated tonic client (the floor).",
                report.overhead[0].plugin
            ),
            overhead_table(report),
        ));
    }
    let recorder_costs = recorder::costs(&report.calls);
    if !recorder_costs.is_empty() {
        sections.push((
            "Through harness record".to_owned(),
            "The same hooks of a second copy of the plugin with `harness record` in front of it (as a bundle installed for recording runs on a server), same run, same client: what recording adds to each call the server makes.".to_owned(),
            recorder_table(&recorder_costs),
        ));
    }
    if report
        .attribution
        .iter()
        .any(|a| a.physical_p50_ns.is_some())
    {
        sections.push((
            "Physical floor".to_owned(),
            "Each hook's p50 as a multiple of a raw socket ping-pong between two processes on the plugin's transport, same run, same message size: nothing that talks to the plugin over that socket can be faster. Beside it, the reference plugin's same hook through the bare tonic client and through the harness's client.".to_owned(),
            physical_table(report),
        ));
    }
    if report.attribution.iter().any(|a| a.parts.is_some()) {
        sections.push((
            "Where the time goes".to_owned(),
            "Each hook's p50 split at the floors measured in the same run: the physical floor (raw socket), the Rust gRPC floor (the reference plugin through the harness's client) minus it, the Python gRPC floor (a bare grpcio plugin answering at once) minus that, and the rest: the plugin's own dispatch and handler. Differences of p50s; they add up to the hook's p50, and a negative part is within the noise of its neighbour.".to_owned(),
            attribution_table(report),
        ));
    }
    sections
}

fn ratio_text(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "–".to_owned(), |ratio| format!("{ratio:.2}×"))
}

fn optional_ns(nanos: Option<u64>) -> String {
    nanos.map_or_else(|| "–".to_owned(), |nanos| format_ns(nanos as f64))
}

fn physical_table(report: &BenchReport) -> Table {
    let header = [
        "hook",
        "physical p50",
        "hook p50",
        "hook ×physical",
        "raw tonic p50",
        "raw tonic ×physical",
        "harness client p50",
        "harness client ×physical",
    ]
    .map(str::to_owned)
    .to_vec();
    let mixed = report
        .attribution
        .iter()
        .any(|a| a.plugin != report.attribution[0].plugin);
    let rows = report
        .attribution
        .iter()
        .map(|a| {
            vec![
                if mixed {
                    format!("{} ({})", a.hook, a.plugin)
                } else {
                    a.hook.clone()
                },
                optional_ns(a.physical_p50_ns),
                format_ns(a.hook_p50_ns as f64),
                ratio_text(a.hook_ratio),
                optional_ns(a.raw_tonic_p50_ns),
                ratio_text(a.raw_tonic_ratio),
                optional_ns(a.rust_grpc_p50_ns),
                ratio_text(a.harness_client_ratio),
            ]
        })
        .collect();
    Table { header, rows }
}

fn attribution_table(report: &BenchReport) -> Table {
    let header = [
        "hook",
        "p50",
        "physical floor",
        "+ Rust gRPC",
        "+ Python gRPC",
        "+ plugin/SDK dispatch",
    ]
    .map(str::to_owned)
    .to_vec();
    let rows = report
        .attribution
        .iter()
        .filter_map(|a| {
            let parts = a.parts?;
            let share = |nanos: i64| {
                format!(
                    "{} ({:.0}%)",
                    signed_ns(nanos as f64).trim_start_matches('+'),
                    100.0 * nanos as f64 / a.hook_p50_ns.max(1) as f64
                )
            };
            Some(vec![
                format!("{} ({})", a.hook, a.plugin),
                format_ns(a.hook_p50_ns as f64),
                share(parts.physical_ns),
                share(parts.rust_grpc_ns),
                share(parts.python_grpc_ns),
                share(parts.dispatch_ns),
            ])
        })
        .collect();
    Table { header, rows }
}

/// One line on the harness client against the physical floor.
pub fn client_line(report: &BenchReport) -> Option<String> {
    let ratio = attribution::client_ratio(&report.attribution)?;
    Some(format!(
        "harness client {ratio:.2}× the physical floor at p50 (reference plugin, median over hooks)"
    ))
}

/// The call's name, with its plugin (and a floor's run) when the table
/// mixes plugins or runs (a merged report).
fn labeller(calls: &[&CallReport]) -> impl Fn(&CallReport) -> String {
    let mixed = calls
        .iter()
        .any(|call| call.plugin != calls[0].plugin || call.floor_for != calls[0].floor_for);
    move |call| match &call.floor_for {
        Some(bench) if mixed => format!("{} ({}, run of {bench})", call.name, call.plugin),
        _ if mixed => format!("{} ({})", call.name, call.plugin),
        _ => call.name.clone(),
    }
}

fn latency_table(calls: &[&CallReport], net_of: Option<&BenchReport>) -> Table {
    let label = labeller(calls);
    let mut header: Vec<String> = [
        "call", "count", "errors", "p50", "p90", "p99", "p99.9", "p99.99", "max", "mean", "stdev",
        "noise",
    ]
    .map(str::to_owned)
    .to_vec();
    let net = net_of.filter(|report| !report.overhead.is_empty());
    if net.is_some() {
        header.push("p50 − harness".to_owned());
    }
    let rows = calls
        .iter()
        .map(|call| {
            let s = &call.summary;
            let mut row = vec![label(call), s.count.to_string(), call.errors.to_string()];
            row.extend(figures(s));
            row.push(format_ns(s.stdev_ns));
            row.push(noise(call));
            if let Some(report) = net {
                // A negative overhead (the harness's path leaner than the
                // floor's) is no time to take off.
                row.push(
                    match overhead::for_hook(&report.overhead, &call.name, &call.plugin) {
                        Some(overhead) if s.count > 0 => {
                            format_ns((s.p50_ns as f64 - overhead.max(0.0)).max(0.0))
                        }
                        _ => "–".to_owned(),
                    },
                );
            }
            row
        })
        .collect();
    Table { header, rows }
}

/// p50, p90, p99, p99.9, p99.99, max, mean.
fn figures(summary: &Summary) -> Vec<String> {
    if summary.count == 0 {
        return vec!["–".to_owned(); 7];
    }
    [
        Stat::P50,
        Stat::P90,
        Stat::P99,
        Stat::P999,
        Stat::P9999,
        Stat::Max,
        Stat::Mean,
    ]
    .iter()
    .map(|&stat| format_ns(summary.get(stat)))
    .collect()
}

/// How far apart the rounds' medians landed.
fn noise(call: &CallReport) -> String {
    match baseline::round_spread(&call.rounds, Stat::P50) {
        Some(spread) => format!("±{:.1}%", spread * 50.0),
        None => "–".to_owned(),
    }
}

fn open_loop_table(calls: &[&CallReport]) -> Table {
    let label = labeller(calls);
    let header = [
        "call",
        "corrected p50",
        "uncorrected p50",
        "corrected p99",
        "uncorrected p99",
        "corrected max",
        "uncorrected max",
        "missed",
    ]
    .map(str::to_owned)
    .to_vec();
    let rows = calls
        .iter()
        .filter_map(|call| {
            let uncorrected = call.uncorrected.as_ref()?;
            let (c, u) = (&call.summary, &uncorrected.summary);
            Some(vec![
                label(call),
                format_ns(c.p50_ns as f64),
                format_ns(u.p50_ns as f64),
                format_ns(c.p99_ns as f64),
                format_ns(u.p99_ns as f64),
                format_ns(c.max_ns as f64),
                format_ns(u.max_ns as f64),
                call.missed.to_string(),
            ])
        })
        .collect();
    Table { header, rows }
}

fn overhead_table(report: &BenchReport) -> Table {
    let header = [
        "hook",
        "harness p50",
        "floor p50",
        "ratio",
        "overhead p50",
        "harness p99",
        "floor p99",
        "ratio p99",
        "overhead p99",
    ]
    .map(str::to_owned)
    .to_vec();
    // A merge of several runs has each run's pair: say whose.
    let runs = report
        .overhead
        .iter()
        .any(|o| o.floor_for != report.overhead[0].floor_for);
    let rows = report
        .overhead
        .iter()
        .map(|o| {
            vec![
                match &o.floor_for {
                    Some(bench) if runs => format!("{} (run of {bench})", o.hook),
                    _ => o.hook.clone(),
                },
                format_ns(o.harness_p50_ns as f64),
                format_ns(o.raw_p50_ns as f64),
                format!("{:.2}×", o.ratio_p50),
                o.p50_text(),
                format_ns(o.harness_p99_ns as f64),
                format_ns(o.raw_p99_ns as f64),
                format!("{:.2}×", o.ratio_p99),
                signed_ns(o.overhead_p99_ns),
            ]
        })
        .collect();
    Table { header, rows }
}

fn recorder_table(costs: &[recorder::RecorderCost]) -> Table {
    let header = [
        "hook",
        "direct p50",
        "recorded p50",
        "ratio",
        "added p50",
        "direct p99",
        "recorded p99",
        "ratio p99",
        "added p99",
    ]
    .map(str::to_owned)
    .to_vec();
    let rows = costs
        .iter()
        .map(|c| {
            vec![
                c.hook.clone(),
                format_ns(c.direct_p50_ns as f64),
                format_ns(c.recorded_p50_ns as f64),
                format!("{:.2}×", c.ratio_p50),
                c.added_p50_text(),
                format_ns(c.direct_p99_ns as f64),
                format_ns(c.recorded_p99_ns as f64),
                format!("{:.2}×", c.ratio_p99),
                signed_ns(c.added_p99_ns),
            ]
        })
        .collect();
    Table { header, rows }
}

pub fn signed_ns(nanos: f64) -> String {
    if nanos < 0.0 {
        format!("−{}", format_ns(-nanos))
    } else {
        format!("+{}", format_ns(nanos))
    }
}

/// One line on the harness's overhead, if the floor was measured.
pub fn overhead_line(report: &BenchReport) -> Option<String> {
    let (ratio, nanos, noise) = overhead::headline(&report.overhead)?;
    Some(format!(
        "harness overhead {ratio:.2}× the raw tonic floor ({} per call, median over {} hook{})",
        overhead::overhead_text(nanos, noise),
        report.overhead.len(),
        if report.overhead.len() == 1 { "" } else { "s" }
    ))
}

/// The budget's and the baseline's verdicts, one line each for failures.
pub fn verdict_lines(report: &BenchReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(budget) = &report.budget {
        let limit = format_ns(budget.limit_ns as f64);
        for verdict in &budget.calls {
            match &verdict.reason {
                Some(reason) => lines.push(format!("OVER BUDGET {}: {reason}", verdict.call)),
                None => lines.push(format!(
                    "within budget {}: {} {} ≤ {limit}",
                    verdict.call,
                    budget.stat,
                    format_ns(verdict.value_ns)
                )),
            }
        }
        lines.push(format!(
            "budget {limit} at {}: {}",
            budget.stat,
            if budget.passed { "passed" } else { "FAILED" }
        ));
    }
    if let Some(comparison) = &report.baseline {
        for call in &comparison.calls {
            let word = match call.verdict {
                Verdict::Regression => "REGRESSION",
                Verdict::Improvement => "improvement",
                Verdict::Unchanged | Verdict::Unjudged => continue,
            };
            lines.push(format!(
                "{word} {} {}: {} → {} ({:.2}×, noise ±{:.1}%)",
                call.call,
                call.stat,
                format_ns(call.baseline_ns),
                format_ns(call.current_ns),
                call.ratio,
                call.noise * 100.0
            ));
        }
        lines.push(format!(
            "against {}: {} regression{}, {} improvement{}, {} within the noise",
            comparison.baseline,
            comparison.regressions,
            if comparison.regressions == 1 { "" } else { "s" },
            comparison.improvements,
            if comparison.improvements == 1 {
                ""
            } else {
                "s"
            },
            comparison
                .calls
                .iter()
                .filter(|c| c.verdict == Verdict::Unchanged)
                .count()
        ));
    }
    lines
}

/// The console summary, printed after a run.
pub fn console(report: &BenchReport) -> String {
    let mut out = String::new();
    for (title, _, table) in sections(report) {
        let _ = writeln!(out, "\n{title}");
        out.push_str(&text_table(&table));
    }
    let mut tail = Vec::new();
    tail.extend(overhead_line(report));
    tail.extend(client_line(report));
    tail.extend(recorder::headline(&recorder::costs(&report.calls)));
    tail.extend(upstream::comparisons(report));
    tail.extend(report.notes.iter().map(|note| format!("note: {note}")));
    tail.extend(verdict_lines(report));
    if !tail.is_empty() {
        out.push('\n');
    }
    for line in tail {
        let _ = writeln!(out, "{line}");
    }
    out
}

fn text_table(table: &Table) -> String {
    let columns = table.header.len();
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            std::iter::once(&table.header)
                .chain(&table.rows)
                .map(|row| row.get(column).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&table.header).chain(&table.rows) {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let pad = widths[column].saturating_sub(cell.chars().count());
                // Names to the left, figures to the right.
                if column == 0 {
                    format!("  {cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  "));
    }
    out
}

pub fn markdown_table(table: &Table) -> String {
    let mut out = String::new();
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | ").replace('\n', " "));
    out.push_str(&line(&table.header));
    let rule: Vec<String> = (0..table.header.len())
        .map(|column| {
            if column == 0 {
                "---".to_owned()
            } else {
                "---:".to_owned()
            }
        })
        .collect();
    out.push_str(&line(&rule));
    for row in &table.rows {
        out.push_str(&line(row));
    }
    out
}

/// The lines that say what was measured, where, and how.
pub fn context_lines(report: &BenchReport) -> Vec<String> {
    let mut lines = vec![format!("Machine: {}", report.machine.one_line())];
    for source in &report.sources {
        let mode = match source.mode {
            Mode::Closed { concurrency } => format!("closed loop, {concurrency} in flight"),
            Mode::Open { rate, concurrency } => {
                format!("open loop at {rate}/s, up to {concurrency} in flight")
            }
        };
        // The bound the user set; the other one is a safety cap.
        let bound = match (source.calls < 100_000_000, source.duration_s < 600.0) {
            (true, true) => format!("up to {} calls or {:.1}s", source.calls, source.duration_s),
            (true, false) => format!("{} calls", source.calls),
            _ => format!("{:.1}s", source.duration_s),
        };
        lines.push(format!(
            "Run {}: {} — {mode}; per call {bound} in {} rounds after {:.1}s of warm-up; requests from {}{}",
            source.created,
            source.plugin,
            source.rounds,
            source.warmup_s,
            source.payloads,
            if source.plugin_args.is_empty() {
                String::new()
            } else {
                format!("; plugin arguments {}", source.plugin_args.join(" "))
            }
        ));
    }
    if report.interrupted {
        lines.push("Interrupted: the figures cover what ran until Ctrl-C.".to_owned());
    }
    lines
}

/// "Latency: " and the plugins under test.
pub fn title(report: &BenchReport) -> String {
    format!("Latency: {}", report.bench_plugins())
}

/// `report.md`.
pub fn markdown(report: &BenchReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", title(report));
    let _ = writeln!(
        out,
        "Report `{}` of {}, harness {}.\n",
        report.schema, report.created, report.harness_version
    );
    for line in context_lines(report) {
        let _ = writeln!(out, "- {line}");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Figures are per call; `noise` is how far apart the rounds' medians landed (± half their range, relative to the median).\n"
    );
    for (title, about, table) in sections(report) {
        let _ = writeln!(out, "## {title}\n\n{about}\n");
        out.push_str(&markdown_table(&table));
        out.push('\n');
    }
    if let Some(line) = overhead_line(report) {
        let _ = writeln!(out, "Overall: {line}.\n");
    }
    let comparisons = upstream::comparisons(report);
    let _ = writeln!(out, "## Compared with upstream\n\n{}\n", upstream::SUMMARY);
    if comparisons.is_empty() {
        let _ = writeln!(
            out,
            "This run has no plugin-observed API figure to compare.\n"
        );
    }
    for line in comparisons {
        let _ = writeln!(out, "- {line}");
    }
    out.push('\n');
    let verdicts = verdict_lines(report);
    if !verdicts.is_empty() {
        let _ = writeln!(out, "## Verdicts\n");
        for line in verdicts {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
        out.push('\n');
    }
    out
}
