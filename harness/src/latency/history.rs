//! Latency over time: a directory of dated report directories (such as
//! `reports/nightly/`) read as one series per machine and call, with the
//! step changes in it found and judged.
//!
//! **Series.** A report's point for a call is the median over its rounds
//! of p50 (and of p99), and its noise the rounds' relative spread of p50
//! ((max − min) / median, as baseline comparisons use). The machine is part
//! of the series key (CPU, cores, kernel, OS, memory, build): reports from
//! different machines are separate series and are never compared.
//!
//! **Change points: binary segmentation with a separation test.** For a
//! segment of the series, every split into a left part (from the
//! segment's start) and a right part (from the split to any later point,
//! so a level that comes and goes counts) is a candidate. A candidate is a
//! step when (1) the right part's mean differs from the left's by more
//! than the noise band, the larger of the two parts' median round spreads
//! (at least [`RESOLUTION`]), and (2) the parts do not overlap: every
//! right point is above every left point (or every one below). Of the candidates that are steps, the one with the
//! largest change measured in noise bands, |ln(ratio)| / ln(1 + band), is
//! taken, and the search repeats on both sides of it until no segment has
//! a step. Noise alone rarely separates the parts *and* moves the median
//! by more than the rounds' own spread; a real step does both at once.
//!
//! A step up is a regression, down an improvement, named by the first
//! report on the new level. A regression is resolved by a later
//! improvement back to within the noise band of the level before it;
//! an unresolved regression still shows in the latest report.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Serialize;

use super::{
    baseline::{median, round_spread},
    histogram::Stat,
    report::{BenchReport, CallKey, ReportError},
};

/// A step smaller than this is within the histograms' resolution.
pub const RESOLUTION: f64 = 0.01;

/// One dated report.
#[derive(Debug, Clone)]
pub struct Dated {
    /// The directory's name (a date, a date and a run letter, a time).
    pub label: String,
    pub path: PathBuf,
    pub report: BenchReport,
}

/// A call's figures in one report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub label: String,
    pub p50_ns: f64,
    pub p99_ns: f64,
    /// The rounds' relative spread of p50.
    pub noise: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Regression,
    Improvement,
}

/// A level change in a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Index of the first point on the new level.
    pub at: usize,
    /// The first report that shows it.
    pub first_report: String,
    pub before_ns: f64,
    pub after_ns: f64,
    pub ratio: f64,
    /// The noise band it was judged against (relative).
    pub band: f64,
    pub direction: Direction,
    /// A regression undone by a later improvement.
    pub resolved: bool,
}

/// One call on one machine, over time.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub machine: String,
    pub call: String,
    pub points: Vec<Point>,
    pub steps: Vec<Step>,
}

impl Series {
    pub fn unresolved_regressions(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|step| step.direction == Direction::Regression && !step.resolved)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read the history directory {path}: {source}")]
    ReadDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no dated report directory (DIR/NAME/report.json) in it")]
    Empty { path: String },
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// Every `DIR/*/report.json`, ordered by directory name (dates sort).
pub fn load(dir: &Path) -> Result<Vec<Dated>, HistoryError> {
    let entries = std::fs::read_dir(dir).map_err(|source| HistoryError::ReadDir {
        path: dir.display().to_string(),
        source,
    })?;
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("report.json").is_file())
        .filter_map(|path| Some((path.file_name()?.to_string_lossy().into_owned(), path)))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(HistoryError::Empty {
            path: dir.display().to_string(),
        });
    }
    found
        .into_iter()
        .map(|(label, path)| {
            let report = BenchReport::load(&path.join("report.json"))?;
            Ok(Dated {
                label,
                path,
                report,
            })
        })
        .collect()
}

/// The series of every call, one per machine; steps found and judged.
pub fn series(history: &[Dated]) -> Vec<Series> {
    let mut grouped: BTreeMap<(String, CallKey), Vec<Point>> = BTreeMap::new();
    for dated in history {
        let machine = dated.report.machine.key();
        for call in &dated.report.calls {
            let rounds: Vec<_> = call.rounds.iter().filter(|r| r.count > 0).collect();
            if rounds.is_empty() {
                continue;
            }
            let stat = |stat: Stat| median(&rounds.iter().map(|r| r.get(stat)).collect::<Vec<_>>());
            grouped
                .entry((machine.clone(), call.key()))
                .or_default()
                .push(Point {
                    label: dated.label.clone(),
                    p50_ns: stat(Stat::P50),
                    p99_ns: stat(Stat::P99),
                    noise: round_spread(&call.rounds, Stat::P50).unwrap_or(0.0),
                });
        }
    }
    grouped
        .into_iter()
        .map(|((machine, key), points)| {
            let values: Vec<f64> = points.iter().map(|p| p.p50_ns).collect();
            let noise: Vec<f64> = points.iter().map(|p| p.noise).collect();
            let mut steps = change_points(&values, &noise);
            for step in &mut steps {
                step.first_report = points[step.at].label.clone();
            }
            Series {
                machine,
                call: key.to_string(),
                points,
                steps,
            }
        })
        .collect()
}

/// The steps in `values` (one per report) given each report's relative
/// round spread `noise`, by the method in the module docs; in order, with
/// regressions marked resolved when a later improvement undoes them.
pub fn change_points(values: &[f64], noise: &[f64]) -> Vec<Step> {
    let mut steps = Vec::new();
    segment(values, noise, 0, values.len(), &mut steps);
    steps.sort_by_key(|step| step.at);
    for index in 0..steps.len() {
        if steps[index].direction != Direction::Regression {
            continue;
        }
        let (before, band) = (steps[index].before_ns, steps[index].band);
        steps[index].resolved = steps[index + 1..].iter().any(|later| {
            later.direction == Direction::Improvement && later.after_ns <= before * (1.0 + band)
        });
    }
    steps
}

fn segment(values: &[f64], noise: &[f64], lo: usize, hi: usize, steps: &mut Vec<Step>) {
    if hi - lo < 2 {
        return;
    }
    let mut best: Option<(f64, Step)> = None;
    // The right side may end before the segment does, so a level that
    // comes and goes (a regression later fixed) is a step too.
    let candidates = (lo + 1..hi).flat_map(|split| (split + 1..=hi).map(move |end| (split, end)));
    for (split, end) in candidates {
        let (left, right) = (&values[lo..split], &values[split..end]);
        let (before, after) = (mean(left), mean(right));
        if before <= 0.0 || after <= 0.0 {
            continue;
        }
        let band = median(&noise[lo..split])
            .max(median(&noise[split..end]))
            .max(RESOLUTION);
        let ratio = after / before;
        let direction = if ratio > 1.0 + band && low(right) > high(left) {
            Direction::Regression
        } else if ratio < 1.0 / (1.0 + band) && high(right) < low(left) {
            Direction::Improvement
        } else {
            continue;
        };
        let score = ratio.ln().abs() / (1.0 + band).ln();
        if best.as_ref().is_none_or(|(top, _)| score > *top) {
            best = Some((
                score,
                Step {
                    at: split,
                    first_report: String::new(),
                    before_ns: before,
                    after_ns: after,
                    ratio: (ratio * 1000.0).round() / 1000.0,
                    band: (band * 1000.0).round() / 1000.0,
                    direction,
                    resolved: false,
                },
            ));
        }
    }
    if let Some((_, step)) = best {
        let at = step.at;
        steps.push(step);
        segment(values, noise, lo, at, steps);
        segment(values, noise, at, hi, steps);
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn low(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn high(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The machines of `history`, each with its one-line description, in
/// order of first appearance.
pub fn machines(history: &[Dated]) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for dated in history {
        let key = dated.report.machine.key();
        if !seen.iter().any(|(known, _)| *known == key) {
            seen.push((key, dated.report.machine.one_line()));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [−1, 1] (a linear congruential generator).
    fn jitter(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    /// `len` reports around 100 µs, each moved by up to ±1.5 % (a median
    /// over rounds moves less than the 4 % range of its rounds),
    /// times `factor` from report `step_at` on.
    fn series_with_step(len: usize, step_at: Option<usize>, factor: f64, seed: u64) -> Vec<f64> {
        let mut seed = seed;
        (0..len)
            .map(|index| {
                let level = if step_at.is_some_and(|at| index >= at) {
                    factor
                } else {
                    1.0
                };
                100_000.0 * level * (1.0 + 0.015 * jitter(&mut seed))
            })
            .collect()
    }

    #[test]
    fn a_planted_one_and_a_half_step_is_found_at_its_report() {
        for seed in 1..20 {
            let values = series_with_step(12, Some(7), 1.5, seed);
            let steps = change_points(&values, &[0.04; 12]);
            assert_eq!(steps.len(), 1, "seed {seed}: {steps:?}");
            assert_eq!(steps[0].at, 7, "seed {seed}");
            assert_eq!(steps[0].direction, Direction::Regression);
            assert!(!steps[0].resolved);
        }
    }

    #[test]
    fn noise_alone_finds_nothing() {
        for seed in 1..200 {
            let values = series_with_step(12, None, 1.0, seed);
            assert_eq!(change_points(&values, &[0.04; 12]), [], "seed {seed}");
        }
    }

    #[test]
    fn a_step_in_the_latest_report_is_found_and_a_later_recovery_resolves_one() {
        let mut values = series_with_step(6, Some(5), 1.5, 3);
        let steps = change_points(&values, &[0.04; 6]);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].at, 5);
        values.extend(series_with_step(3, None, 1.0, 4));
        let steps = change_points(&values, &[0.04; 9]);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(steps[1].direction, Direction::Improvement);
        assert_eq!(steps[1].at, 6);
        assert!(steps[0].resolved);
    }

    fn dated(label: &str, cpu: &str, scale: f64) -> Dated {
        let mut report = crate::latency::report::tests::synthetic("ExecuteCommand", 100, scale, 5);
        report.machine.cpu_model = cpu.to_owned();
        Dated {
            label: label.to_owned(),
            path: PathBuf::from(label),
            report,
        }
    }

    #[test]
    fn reports_from_different_machines_are_never_one_series() {
        // Machine B is 1.5× slower: taken as one series, that would be a step.
        let history = [
            dated("2026-12-01", "cpu A", 1.0),
            dated("2026-12-02", "cpu A", 1.0),
            dated("2026-12-03", "cpu B", 1.5),
            dated("2026-12-04", "cpu B", 1.5),
        ];
        let all = series(&history);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_ne!(all[0].machine, all[1].machine);
        for one in &all {
            assert_eq!(one.points.len(), 2, "{}", one.machine);
            assert!(one.steps.is_empty(), "{:?}", one.steps);
        }
        assert_eq!(machines(&history).len(), 2);
        // The same reports on one machine do show the step.
        let same: Vec<Dated> = history
            .iter()
            .cloned()
            .map(|mut dated| {
                dated.report.machine.cpu_model = "cpu A".to_owned();
                dated
            })
            .collect();
        let one = series(&same);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].steps.len(), 1, "{:?}", one[0].points);
        assert_eq!(one[0].steps[0].first_report, "2026-12-03");
    }

    #[test]
    fn a_step_inside_the_rounds_noise_is_not_one() {
        // 1.5× apart, but every report's rounds spread over 80 %.
        let values = series_with_step(8, Some(4), 1.5, 5);
        assert_eq!(change_points(&values, &[0.8; 8]), []);
    }
}
