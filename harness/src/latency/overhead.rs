//! The harness's own cost per hook call: the same hook of the reference
//! plugin called through the harness's hook client and through a bare
//! generated tonic client, in the same run. The difference is what the
//! harness adds; the bare client's time is the floor any client pays.

use serde::{Deserialize, Serialize};

use super::{
    baseline::{median, round_spread},
    histogram::{Stat, format_ns},
    report::{CallKind, CallReport},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overhead {
    pub hook: String,
    /// The reference plugin both clients called.
    pub plugin: String,
    /// The plugin under test in the run that measured both (see
    /// `CallReport::floor_for`); absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_for: Option<String>,
    pub harness_p50_ns: u64,
    pub harness_p99_ns: u64,
    pub raw_p50_ns: u64,
    pub raw_p99_ns: u64,
    /// Harness time over floor time (1.0: the harness adds nothing).
    pub ratio_p50: f64,
    pub ratio_p99: f64,
    /// Harness time minus floor time; negative when the harness's path is
    /// leaner than the generated client's (it sends pre-encoded bytes).
    pub overhead_p50_ns: f64,
    pub overhead_p99_ns: f64,
    /// How far the p50s of either path moved from round to round: an
    /// overhead smaller than this is not a measured difference.
    #[serde(default)]
    pub noise_p50_ns: f64,
}

impl Overhead {
    /// The p50 overhead as a reader should take it: signed when it stands
    /// out of the noise, "within noise" otherwise (never a negative cost
    /// that is only the machine's jitter).
    pub fn p50_text(&self) -> String {
        overhead_text(self.overhead_p50_ns, self.noise_p50_ns)
    }
}

/// `nanos` signed, or "within noise (±noise)" when it does not exceed the noise.
pub fn overhead_text(nanos: f64, noise_ns: f64) -> String {
    if nanos.abs() <= noise_ns {
        format!("within noise (±{})", format_ns(noise_ns))
    } else if nanos < 0.0 {
        format!("−{}", format_ns(-nanos))
    } else {
        format!("+{}", format_ns(nanos))
    }
}

/// The p50's spread over `call`'s rounds, in nanoseconds.
fn noise_ns(call: &CallReport) -> f64 {
    round_spread(&call.rounds, Stat::P50).unwrap_or(0.0) * call.summary.p50_ns as f64
}

/// One entry per hook measured both ways.
pub fn overheads(calls: &[CallReport]) -> Vec<Overhead> {
    calls
        .iter()
        .filter(|call| call.kind == CallKind::FloorHarness && call.summary.count > 0)
        .filter_map(|harness| {
            let raw = calls.iter().find(|call| {
                call.kind == CallKind::FloorRaw
                    && call.plugin == harness.plugin
                    && call.floor_for == harness.floor_for
                    && call.name == harness.name
                    && call.summary.count > 0
            })?;
            let compared = Compared::of(harness, raw);
            Some(Overhead {
                hook: harness.name.clone(),
                plugin: harness.plugin.clone(),
                floor_for: harness.floor_for.clone(),
                harness_p50_ns: harness.summary.p50_ns,
                harness_p99_ns: harness.summary.p99_ns,
                raw_p50_ns: raw.summary.p50_ns,
                raw_p99_ns: raw.summary.p99_ns,
                ratio_p50: compared.ratio_p50,
                ratio_p99: compared.ratio_p99,
                overhead_p50_ns: compared.added_p50_ns,
                overhead_p99_ns: compared.added_p99_ns,
                noise_p50_ns: compared.noise_p50_ns,
            })
        })
        .collect()
}

/// One path's call set against another's, same hook, same run: what the
/// harness adds to the raw client, or the recorder to a direct call.
pub(super) struct Compared {
    pub ratio_p50: f64,
    pub ratio_p99: f64,
    pub added_p50_ns: f64,
    pub added_p99_ns: f64,
    /// The larger of the two paths' round-to-round p50 spreads.
    pub noise_p50_ns: f64,
}

impl Compared {
    pub fn of(measured: &CallReport, against: &CallReport) -> Compared {
        let (m, a) = (&measured.summary, &against.summary);
        Compared {
            ratio_p50: ratio(m.p50_ns, a.p50_ns),
            ratio_p99: ratio(m.p99_ns, a.p99_ns),
            added_p50_ns: m.p50_ns as f64 - a.p50_ns as f64,
            added_p99_ns: m.p99_ns as f64 - a.p99_ns as f64,
            noise_p50_ns: noise_ns(measured).max(noise_ns(against)),
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    let value = numerator as f64 / denominator.max(1) as f64;
    (value * 1000.0).round() / 1000.0
}

/// The medians over hooks of the p50 ratio, the p50 overhead and its
/// noise: the figures a summary line gives.
pub fn headline(overheads: &[Overhead]) -> Option<(f64, f64, f64)> {
    if overheads.is_empty() {
        return None;
    }
    let median_of =
        |field: fn(&Overhead) -> f64| median(&overheads.iter().map(field).collect::<Vec<_>>());
    Some((
        median_of(|o| o.ratio_p50),
        median_of(|o| o.overhead_p50_ns),
        median_of(|o| o.noise_p50_ns),
    ))
}

/// The harness's p50 overhead on `hook` of `plugin` (measured in that
/// plugin's run when a merge holds several), or the median over hooks when
/// that hook was not measured both ways.
pub fn for_hook(overheads: &[Overhead], hook: &str, plugin: &str) -> Option<f64> {
    let same_hook = |overhead: &&Overhead| overhead.hook == hook;
    overheads
        .iter()
        .filter(same_hook)
        .find(|overhead| overhead.floor_for.as_deref() == Some(plugin))
        .or_else(|| overheads.iter().find(same_hook))
        .map(|overhead| overhead.overhead_p50_ns)
        .or_else(|| headline(overheads).map(|(_, nanos, _)| nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::load::Measured;
    use std::time::Duration;

    fn call(kind: CallKind, name: &str, micros: u64) -> CallReport {
        let mut call = CallReport::new("ref", kind, name, None);
        let mut measured = Measured::default();
        for _ in 0..100 {
            measured.latencies.record(Duration::from_micros(micros));
        }
        call.add_round(measured);
        call
    }

    #[test]
    fn overhead_is_the_harness_path_against_the_raw_one() {
        let calls = [
            call(CallKind::FloorHarness, "MessageWillBePosted", 60),
            call(CallKind::FloorRaw, "MessageWillBePosted", 50),
            call(CallKind::FloorHarness, "ExecuteCommand", 90),
            call(CallKind::FloorRaw, "ExecuteCommand", 60),
            call(CallKind::FloorHarness, "OnlyOneWay", 10),
        ];
        let overheads = overheads(&calls);
        assert_eq!(overheads.len(), 2);
        let posted = &overheads[0];
        assert!((posted.ratio_p50 - 1.2).abs() < 0.01, "{posted:?}");
        assert!(
            (posted.overhead_p50_ns - 10_000.0).abs() < 100.0,
            "{posted:?}"
        );
        let (ratio, nanos, _) = headline(&overheads).unwrap();
        assert!((ratio - 1.35).abs() < 0.01, "{ratio}");
        assert!((nanos - 20_000.0).abs() < 200.0, "{nanos}");
        assert!(for_hook(&overheads, "Unmeasured", "ref").is_some());
        assert_eq!(headline(&[]), None);
    }

    #[test]
    fn an_overhead_inside_the_noise_is_said_to_be_so() {
        assert_eq!(overhead_text(-4_000.0, 6_000.0), "within noise (±6.00µs)");
        assert_eq!(overhead_text(4_000.0, 6_000.0), "within noise (±6.00µs)");
        assert_eq!(overhead_text(9_000.0, 6_000.0), "+9.00µs");
        assert_eq!(overhead_text(-9_000.0, 6_000.0), "−9.00µs");
    }
}
