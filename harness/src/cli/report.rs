//! `harness report`: merge or compare existing bench reports.

use std::path::{Path, PathBuf};

use harness::latency::{
    self, BenchReport, Stat, history, history_page, render, report::now_rfc3339,
};

use super::{bench, exit};

#[derive(clap::Args)]
pub struct ReportArgs {
    /// report.json files written by `harness bench --out`.
    #[arg(value_name = "REPORT.json", required_unless_present = "history")]
    reports: Vec<PathBuf>,
    /// Trends instead: DIR holds dated report directories (DIR/NAME/report.json, names sorting by date, e.g. reports/nightly). Writes history.html and history.md (into --out, else DIR), marks steps beyond the measured noise, exits 1 on a regression the latest report still shows.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["reports", "merge", "budget"])]
    history: Option<PathBuf>,
    /// With --history: a remark printed at the top of both pages (how the runs were made).
    #[arg(long, value_name = "TEXT", requires = "history")]
    note: Option<String>,
    /// Merge them into one report (histograms added, rounds pooled). Without it, every report after the first is compared with the first.
    #[arg(long)]
    merge: bool,
    /// Judge the (merged) report against this budget, as `harness bench --budget` does.
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    budget: Option<std::time::Duration>,
    /// The statistic --budget and comparisons judge: p50, p90, p99, p99.9, p99.99, max or mean.
    #[arg(long, value_name = "STAT", default_value = "p99")]
    percentile: Stat,
    /// Write report.json, report.md and report.html here: the merged report, or the last one with its comparison against the first.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub async fn report_command(args: ReportArgs) -> u8 {
    if let Some(dir) = &args.history {
        return history_command(dir, args.out.as_deref(), args.note.as_deref());
    }
    let mut reports = Vec::new();
    for path in &args.reports {
        match BenchReport::load(path) {
            Ok(report) => reports.push(report),
            Err(err) => {
                eprintln!("error: {err}");
                return exit::BAD_INPUT;
            }
        }
    }
    let mut regressed = false;
    let mut result = if args.merge || reports.len() == 1 {
        match BenchReport::merge(&reports, now_rfc3339()) {
            Ok(merged) => merged,
            Err(err) => {
                eprintln!("error: {err}");
                return exit::BAD_INPUT;
            }
        }
    } else {
        let baseline = (reports[0].clone(), args.reports[0].display().to_string());
        let mut last = None;
        for (report, path) in reports.iter().zip(&args.reports).skip(1) {
            let mut report = report.clone();
            bench::judge(&mut report, None, args.percentile, Some(&baseline));
            println!("{}:", path.display());
            for line in render::verdict_lines(&report) {
                println!("  {line}");
            }
            regressed |= report.baseline.as_ref().is_some_and(|c| c.regressions > 0);
            last = Some(report);
        }
        last.expect("two or more reports")
    };
    if args.merge || args.reports.len() == 1 {
        bench::judge(&mut result, args.budget, args.percentile, None);
        print!("{}", render::console(&result));
    } else if args.budget.is_some() {
        bench::judge(&mut result, args.budget, args.percentile, None);
        for line in render::verdict_lines(&result) {
            println!("{line}");
        }
    }
    if let Some(dir) = &args.out {
        match latency::write_report(&result, dir) {
            Ok(paths) => {
                for path in paths {
                    println!("{:>12} {}", "Wrote", path.display());
                }
            }
            Err(err) => {
                eprintln!("error: cannot write into {}: {err}", dir.display());
                return exit::BAD_INPUT;
            }
        }
    }
    // A stored report that was interrupted is still a result to judge.
    result.interrupted = false;
    if regressed {
        exit::FAILED
    } else {
        bench::verdict(&result)
    }
}

/// `--history DIR`: the trend pages, and exit 1 on an unresolved regression.
fn history_command(dir: &Path, out: Option<&Path>, note: Option<&str>) -> u8 {
    let dated = match history::load(dir) {
        Ok(dated) => dated,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
    };
    let series = history::series(&dated);
    for line in history_page::step_lines(&series) {
        println!("{line}");
    }
    let out = out.unwrap_or(dir);
    let pages = [
        ("history.html", history_page::html(&dated, &series, note)),
        ("history.md", history_page::markdown(&dated, &series, note)),
    ];
    for (name, text) in pages {
        let path = out.join(name);
        let written = std::fs::create_dir_all(out).and_then(|()| std::fs::write(&path, text));
        if let Err(err) = written {
            eprintln!("error: cannot write {}: {err}", path.display());
            return exit::BAD_INPUT;
        }
        println!("{:>12} {}", "Wrote", path.display());
    }
    let unresolved = series
        .iter()
        .flat_map(|one| one.unresolved_regressions())
        .count();
    println!(
        "{} reports, {} series, {unresolved} unresolved regression{}",
        dated.len(),
        series.len(),
        if unresolved == 1 { "" } else { "s" }
    );
    if unresolved > 0 {
        exit::FAILED
    } else {
        exit::PASSED
    }
}
