//! `harness bench` on the console: a line per stage, in the column layout
//! every console reporter of the harness shares.

use std::io::Write;

use crate::latency::{BenchEvent, histogram::format_ns};

/// Writes each event as one line to `out`.
pub fn bench_line(out: &mut impl Write, event: &BenchEvent<'_>) -> std::io::Result<()> {
    match event {
        BenchEvent::Plugin { target } => writeln!(
            out,
            "{:>12} {} ({}) in {}",
            "Plugin",
            target.id,
            target.runtime.name(),
            target.dir.display()
        ),
        BenchEvent::Launched { plugin } => writeln!(
            out,
            "{:>12} pid {} in {}: {}",
            "Launched",
            plugin.process.pid(),
            format_ns(plugin.time_to_handshake.as_nanos() as f64),
            plugin.handshake.line
        ),
        BenchEvent::FloorLaunched { target, plugin } => writeln!(
            out,
            "{:>12} {} (floor) pid {}",
            "Launched",
            target.id,
            plugin.process.pid()
        ),
        BenchEvent::RecorderLaunched { plugin } => writeln!(
            out,
            "{:>12} harness record in front of a second copy, pid {}",
            "Launched",
            plugin.process.pid()
        ),
        BenchEvent::EchoStarted { transport } => writeln!(
            out,
            "{:>12} socket echo on {transport} (the physical floor)",
            "Started"
        ),
        BenchEvent::Plan {
            calls,
            rounds,
            at_most,
        } => {
            let time = at_most.map_or_else(String::new, |bound| {
                format!(", at most {:.0}s", bound.as_secs_f64())
            });
            writeln!(
                out,
                "{:>12} {} calls in {rounds} rounds{time}: {}",
                "Measuring",
                calls.len(),
                calls.join(", ")
            )
        }
        BenchEvent::WarmingUp { calls, each } => writeln!(
            out,
            "{:>12} {calls} measured calls for {} each",
            "Warming up",
            humantime::format_duration(*each)
        ),
        BenchEvent::Round { done, of, took } => writeln!(
            out,
            "{:>12} {done}/{of} in {:.1}s",
            "Round",
            took.as_secs_f64()
        ),
        BenchEvent::Finished { elapsed } => {
            writeln!(out, "{:>12} in {:.1}s", "Finished", elapsed.as_secs_f64())
        }
    }
}
