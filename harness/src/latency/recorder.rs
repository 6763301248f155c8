//! What `harness record` costs a server: each hook of the plugin called
//! directly and through a second copy of the plugin with the recorder in
//! front of it, in the same run, by the same client.

use super::{
    baseline::median,
    overhead::{Compared, overhead_text},
    report::{CallKind, CallReport},
};

#[derive(Debug, Clone, PartialEq)]
pub struct RecorderCost {
    pub hook: String,
    pub direct_p50_ns: u64,
    pub direct_p99_ns: u64,
    pub recorded_p50_ns: u64,
    pub recorded_p99_ns: u64,
    /// Through the recorder over direct (1.0: recording costs nothing).
    pub ratio_p50: f64,
    pub ratio_p99: f64,
    /// What the recorder adds to each call.
    pub added_p50_ns: f64,
    pub added_p99_ns: f64,
    /// How far either path's p50 moved from round to round.
    pub noise_p50_ns: f64,
}

/// One entry per hook measured both ways.
pub fn costs(calls: &[CallReport]) -> Vec<RecorderCost> {
    calls
        .iter()
        .filter(|call| call.kind == CallKind::Recorded && call.summary.count > 0)
        .filter_map(|recorded| {
            let direct = calls.iter().find(|call| {
                call.kind == CallKind::Hook
                    && call.plugin == recorded.plugin
                    && call.name == recorded.name
                    && call.summary.count > 0
            })?;
            let compared = Compared::of(recorded, direct);
            Some(RecorderCost {
                hook: recorded.name.clone(),
                direct_p50_ns: direct.summary.p50_ns,
                direct_p99_ns: direct.summary.p99_ns,
                recorded_p50_ns: recorded.summary.p50_ns,
                recorded_p99_ns: recorded.summary.p99_ns,
                ratio_p50: compared.ratio_p50,
                ratio_p99: compared.ratio_p99,
                added_p50_ns: compared.added_p50_ns,
                added_p99_ns: compared.added_p99_ns,
                noise_p50_ns: compared.noise_p50_ns,
            })
        })
        .collect()
}

impl RecorderCost {
    pub fn added_p50_text(&self) -> String {
        overhead_text(self.added_p50_ns, self.noise_p50_ns)
    }
}

/// One line: the medians over hooks of the p50 ratio and of what is added
/// at p50 and p99.
pub fn headline(costs: &[RecorderCost]) -> Option<String> {
    if costs.is_empty() {
        return None;
    }
    let median_of =
        |field: fn(&RecorderCost) -> f64| median(&costs.iter().map(field).collect::<Vec<_>>());
    let (ratio, added_p50, added_p99, noise) = (
        median_of(|c| c.ratio_p50),
        median_of(|c| c.added_p50_ns),
        median_of(|c| c.added_p99_ns),
        median_of(|c| c.noise_p50_ns),
    );
    Some(format!(
        "harness record in front of the plugin: {ratio:.2}× direct at p50 ({} per call), {} at p99 (median over {} hook{})",
        overhead_text(added_p50, noise),
        super::render::signed_ns(added_p99),
        costs.len(),
        if costs.len() == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::load::Measured;

    fn call(kind: CallKind, name: &str, nanos: &[u64]) -> CallReport {
        let mut call = CallReport::new("p", kind, name, None);
        let mut measured = Measured::default();
        for &n in nanos {
            measured.latencies.record_ns(n);
        }
        call.add_round(measured);
        call
    }

    #[test]
    fn the_recorder_is_set_against_the_same_hook_called_directly() {
        let direct: Vec<u64> = (0..100).map(|i| 100_000 + i * 100).collect();
        let recorded: Vec<u64> = direct.iter().map(|n| n + 20_000).collect();
        let calls = vec![
            call(CallKind::Hook, "OnConfigurationChange", &direct),
            call(CallKind::Recorded, "OnConfigurationChange", &recorded),
            call(CallKind::Hook, "ExecuteCommand", &direct),
        ];
        let costs = costs(&calls);
        assert_eq!(costs.len(), 1, "only hooks measured both ways: {costs:?}");
        let cost = &costs[0];
        assert_eq!(cost.hook, "OnConfigurationChange");
        let added = cost.recorded_p50_ns as f64 - cost.direct_p50_ns as f64;
        assert_eq!(cost.added_p50_ns, added);
        assert!((cost.added_p50_ns - 20_000.0).abs() < 1_000.0, "{cost:?}");
        assert!(cost.ratio_p50 > 1.15 && cost.ratio_p50 < 1.25, "{cost:?}");
        let line = headline(&costs).unwrap();
        assert!(line.contains("1 hook)"), "{line}");
    }
}
