//! Comparing a run against an earlier report. Each report keeps its calls'
//! figures per round (rounds interleave over the run, so they see the
//! machine's drift), and the spread of those rounds is the noise: a call
//! has regressed when its median round is slower than the baseline's by
//! more than that spread, and every one of its rounds is slower than every
//! baseline round. No fixed percentage: a quiet machine catches small
//! regressions, a noisy one does not cry wolf.

use serde::{Deserialize, Serialize};

use super::{
    histogram::{Stat, Summary},
    report::BenchReport,
};

/// Below this relative spread, differences are within the histograms'
/// own resolution (3 significant digits) and mean nothing.
const RESOLUTION: f64 = 0.002;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline report's file (or creation time).
    pub baseline: String,
    pub calls: Vec<CallComparison>,
    pub regressions: usize,
    pub improvements: usize,
    /// Calls measured in only one of the two reports.
    pub only_in_baseline: Vec<String>,
    pub only_in_current: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallComparison {
    pub call: String,
    pub stat: Stat,
    /// Median over rounds.
    pub baseline_ns: f64,
    pub current_ns: f64,
    pub ratio: f64,
    /// The relative spread of rounds, the larger of the two reports'.
    pub noise: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regression,
    Improvement,
    /// Within the noise.
    Unchanged,
    /// Fewer than two rounds on a side: no noise to judge against.
    Unjudged,
}

/// Compares `current` with `baseline` on each of `stats`.
pub fn compare(
    baseline: &BenchReport,
    current: &BenchReport,
    stats: &[Stat],
    label: &str,
) -> Comparison {
    let mut calls = Vec::new();
    let mut only_in_current = Vec::new();
    for call in &current.calls {
        let Some(before) = baseline.call(&call.key()) else {
            only_in_current.push(call.key().to_string());
            continue;
        };
        for &stat in stats {
            calls.push(judge(
                call.key().to_string(),
                stat,
                &before.rounds,
                &call.rounds,
            ));
        }
    }
    let only_in_baseline = baseline
        .calls
        .iter()
        .filter(|call| current.call(&call.key()).is_none())
        .map(|call| call.key().to_string())
        .collect();
    let count = |verdict| {
        calls
            .iter()
            .filter(|c: &&CallComparison| c.verdict == verdict)
            .count()
    };
    Comparison {
        baseline: label.to_owned(),
        regressions: count(Verdict::Regression),
        improvements: count(Verdict::Improvement),
        calls,
        only_in_baseline,
        only_in_current,
    }
}

/// The spread of `stat` over `rounds` relative to its median (the noise a
/// report shows per call); `None` with fewer than two rounds.
pub fn round_spread(rounds: &[Summary], stat: Stat) -> Option<f64> {
    let values = round_values(rounds, stat);
    (values.len() >= 2).then(|| spread(&values))
}

fn round_values(rounds: &[Summary], stat: Stat) -> Vec<f64> {
    rounds
        .iter()
        .filter(|round| round.count > 0)
        .map(|round| round.get(stat))
        .collect()
}

fn judge(call: String, stat: Stat, before: &[Summary], after: &[Summary]) -> CallComparison {
    let (before, after) = (round_values(before, stat), round_values(after, stat));
    let (baseline_ns, current_ns) = (median(&before), median(&after));
    let ratio = if baseline_ns > 0.0 {
        current_ns / baseline_ns
    } else {
        0.0
    };
    let noise = spread(&before).max(spread(&after)).max(RESOLUTION);
    let verdict = if before.len() < 2 || after.len() < 2 || baseline_ns <= 0.0 {
        Verdict::Unjudged
    } else if ratio > 1.0 + noise && min(&after) > max(&before) {
        Verdict::Regression
    } else if ratio < 1.0 / (1.0 + noise) && max(&after) < min(&before) {
        Verdict::Improvement
    } else {
        Verdict::Unchanged
    };
    CallComparison {
        call,
        stat,
        baseline_ns,
        current_ns,
        ratio: (ratio * 1000.0).round() / 1000.0,
        noise: (noise * 1000.0).round() / 1000.0,
        verdict,
    }
}

/// The median (0 for none).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// (max − min) / median: how far apart rounds of the same run land.
fn spread(values: &[f64]) -> f64 {
    let middle = median(values);
    if values.len() < 2 || middle <= 0.0 {
        return 0.0;
    }
    (max(values) - min(values)) / middle
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::report::tests::synthetic;

    const STATS: [Stat; 2] = [Stat::P50, Stat::P99];

    #[test]
    fn a_planted_twofold_slowdown_is_a_regression() {
        let baseline = synthetic("MessageWillBePosted", 50, 1.0, 5);
        let slower = synthetic("MessageWillBePosted", 50, 2.0, 5);
        let comparison = compare(&baseline, &slower, &STATS, "base.json");
        assert_eq!(comparison.regressions, 2, "{comparison:#?}");
        assert!(
            comparison
                .calls
                .iter()
                .all(|c| (c.ratio - 2.0).abs() < 0.05)
        );
        // And the other way round, an improvement.
        let back = compare(&slower, &baseline, &STATS, "slow.json");
        assert_eq!((back.regressions, back.improvements), (0, 2));
    }

    #[test]
    fn identical_runs_are_unchanged() {
        let baseline = synthetic("MessageWillBePosted", 50, 1.0, 5);
        let comparison = compare(&baseline, &baseline.clone(), &STATS, "base.json");
        assert_eq!((comparison.regressions, comparison.improvements), (0, 0));
        assert!(
            comparison
                .calls
                .iter()
                .all(|c| c.verdict == Verdict::Unchanged)
        );
    }

    #[test]
    fn a_shift_within_the_rounds_spread_is_noise() {
        // Rounds 1 µs apart around a 75 µs median (a spread of about 5 %):
        // 3 % slower is not a regression.
        let baseline = synthetic("MessageWillBePosted", 50, 1.0, 5);
        let noisy = synthetic("MessageWillBePosted", 50, 1.03, 5);
        let comparison = compare(&baseline, &noisy, &STATS, "base.json");
        assert_eq!(comparison.regressions, 0, "{comparison:#?}");
    }

    #[test]
    fn single_rounds_cannot_be_judged_and_missing_calls_are_listed() {
        let baseline = synthetic("MessageWillBePosted", 50, 1.0, 1);
        let current = synthetic("ExecuteCommand", 50, 2.0, 1);
        let comparison = compare(&baseline, &current, &STATS, "base.json");
        assert!(comparison.calls.is_empty());
        assert_eq!(comparison.only_in_current.len(), 1);
        assert_eq!(comparison.only_in_baseline.len(), 1);
        let same = synthetic("MessageWillBePosted", 50, 2.0, 1);
        let comparison = compare(&baseline, &same, &STATS, "base.json");
        assert!(
            comparison
                .calls
                .iter()
                .all(|c| c.verdict == Verdict::Unjudged)
        );
    }
}
