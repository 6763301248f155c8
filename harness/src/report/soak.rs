//! `harness soak` on the console: a table row per launch, then the verdict.

use std::io::Write;

use crate::soak::{Sample, SoakReport};

pub fn soak_header(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>8} {:>10} {:>6} {:>8} {:>10}",
        "launch", "time", "fds", "threads", "rss KiB"
    )
}

pub fn soak_sample(out: &mut impl Write, sample: &Sample) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>8} {:>9.2}s {:>6} {:>8} {:>10}",
        sample.launch,
        sample.at.as_secs_f64(),
        sample.fds,
        sample.threads,
        sample.rss_kib
    )
}

pub fn soak_summary(out: &mut impl Write, report: &SoakReport) -> std::io::Result<()> {
    writeln!(
        out,
        "{} hook calls, {} failed",
        report.calls, report.failed_calls
    )?;
    for failure in &report.failed_launches {
        writeln!(out, "launch failed: {failure}")?;
    }
    for over in &report.over_bounds {
        writeln!(out, "leak: {over}")?;
    }
    Ok(())
}
