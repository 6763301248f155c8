//! Upstream's published Plugin API figures (proto/PROTOCOL.md §6), for comparison.
//! They were measured Go client → Go server in one process over bufconn
//! (an in-memory pipe): no Python, no socket, no process boundary, API
//! calls only. A plugin-observed figure here crosses all of those, so the
//! comparison says what the real path costs on top of that best case.

use super::{
    histogram::format_ns,
    report::{BenchReport, CallKind},
};

/// Upstream's per-RPC times in microseconds ("~36 µs" and so on).
pub const API_MICROS: &[(&str, f64)] = &[
    ("GetServerVersion", 36.0),
    ("GetUser", 38.0),
    ("CreatePost", 41.0),
    ("GetChannel", 37.0),
    ("KVSet", 38.0),
    ("KVGet", 37.0),
    ("HasPermissionTo", 37.0),
    ("IsEnterpriseReady", 36.0),
];

pub const SUMMARY: &str = "Upstream's \"~35–40 µs per call\" was measured Go → Go in one process over \
    bufconn (an in-memory pipe), PluginAPI calls only; no hook was ever measured.";

/// One line per plugin-observed API call upstream also measured.
pub fn comparisons(report: &BenchReport) -> Vec<String> {
    report
        .calls
        .iter()
        .filter(|call| call.kind == CallKind::ApiPlugin && call.summary.count > 0)
        .filter_map(|call| {
            let &(_, micros) = API_MICROS.iter().find(|(name, _)| *name == call.name)?;
            let p50 = call.summary.p50_ns as f64;
            Some(format!(
                "{}: p50 {} as the plugin sees it vs ~{micros:.0} µs upstream ({:.1}×); p99 {}",
                call.name,
                format_ns(p50),
                p50 / (micros * 1e3),
                format_ns(call.summary.p99_ns as f64)
            ))
        })
        .collect()
}
