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
//! **Two kinds of noise.** The rounds' spread only measures how steady the
//! machine was *during* one run. Between runs the load moves too (other
//! work on a shared machine, another CPU frequency, another placement), and
//! a whole run can sit 10–30 % above or below the last one while its own
//! rounds agree within a few per cent. That between-run noise is estimated
//! from the series itself, robustly: the median absolute successive
//! difference of ln p50 (MASD), divided by 0.954 (the MASD of Gaussian noise
//! of standard deviation σ is 0.954 σ), so a few genuine steps among the
//! differences do not inflate it. A median of few differences is itself
//! uncertain, so σ is widened by 1 + 1/√m for m differences (×1.58 with
//! four reports, ×1.3 with twelve).
//!
//! **Change points: binary segmentation with three tests.** For a
//! segment of the series, every split into a left part (from the
//! segment's start) and a right part (from the split to any later point,
//! so a level that comes and goes counts) is a candidate. A candidate is a
//! step when
//!
//! 1. every report of the right part differs from the left part's mean
//!    by more than the rounds' noise band, the larger of the two parts'
//!    median round spreads (at least [`RESOLUTION`]);
//! 2. the parts do not overlap: every right point is above every left
//!    point (or every one below); and
//! 3. every report of the right part is beyond the between-run noise by
//!    a clear margin: |ln(report / before)| > [`BETWEEN_RUN_MARGIN`] · σ ·
//!    √(1/n_left + 1/n_right), σ the between-run noise above. The square root is the
//!    standard error of a difference of two means, so a level confirmed
//!    by several reports needs less than one resting on a single report;
//!    the margin pays for trying every split.
//!
//! And one rule of evidence: a level that comes and goes needs
//! [`MIN_PASSING_LEVEL`] reports; one report out of line between steady
//! neighbours is a slow (or quiet) run, not a step. Only the latest
//! report may stand alone, since nothing after it can confirm it yet.
//!
//! Of the candidates that are steps, the one with the largest change of
//! the means measured in its band (the larger of tests 1 and 3, as a
//! ratio) is taken, and the search repeats on both sides of it until no
//! segment has a step.
//!
//! A step in the latest report rests on one report, so test 3 asks it for
//! the most: about 5 σ. On a steady machine (runs within ±2 %) a 1.5×
//! step in the latest report is found at once, which is what makes the
//! exit code useful; on a machine whose runs wander by ±25 % it takes
//! several reports on the new level. σ needs differences that are not the
//! step itself: with fewer than four reports (three differences) the
//! step is half of them, σ is as large as the step, and nothing is found.
//!
//! What it costs, measured on simulated series of independent uniform
//! load noise of ±25 % between runs (the tests hold fixed seeds of it): a
//! false step in about one series in a hundred (6 to 24 reports), where
//! chance made a level shift (several slow runs in a row) that no test on
//! one series can tell from a real step; the rounds' band alone finds one
//! in most of them.
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

/// How many standard errors of between-run noise a step must exceed
/// (test 3 in the module docs). Every split of the series is tried, so a
/// margin of two or three would let the largest of many noise differences
/// through; five keeps ±25 % load noise to about one false step in a
/// hundred series (four doubles that) and still finds a 1.5× step in the
/// latest report on a machine whose runs agree within ±2 %.
pub const BETWEEN_RUN_MARGIN: f64 = 5.0;

/// Reports a level that comes and goes needs (the rule of evidence in the
/// module docs).
pub const MIN_PASSING_LEVEL: usize = 2;

/// The median absolute difference of two independent draws of unit
/// Gaussian noise (0.6745 · √2): MASD / this estimates σ.
const MASD_PER_SIGMA: f64 = 0.954;

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
    /// The noise band it was judged against (relative): the larger of the
    /// rounds' band and the between-run band for its two parts' sizes.
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
    /// The between-run noise σ of ln p50 (relative, see the module docs);
    /// `None` with fewer than two reports.
    pub between_run_noise: Option<f64>,
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
                between_run_noise: between_run_noise(&values),
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
    let between = between_run_noise(values).unwrap_or(0.0);
    segment(values, noise, between, 0, values.len(), &mut steps);
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

/// The series' between-run noise σ (relative): the median absolute
/// successive difference of ln `values`, scaled to a standard deviation
/// and widened for the few differences it rests on;
/// `None` when there is no difference to take (fewer than two positive
/// values).
pub fn between_run_noise(values: &[f64]) -> Option<f64> {
    let differences: Vec<f64> = values
        .windows(2)
        .filter(|pair| pair[0] > 0.0 && pair[1] > 0.0)
        .map(|pair| (pair[1] / pair[0]).ln().abs())
        .collect();
    let uncertainty = 1.0 + 1.0 / (differences.len() as f64).sqrt();
    (!differences.is_empty()).then(|| median(&differences) / MASD_PER_SIGMA * uncertainty)
}

fn segment(
    values: &[f64],
    noise: &[f64],
    between: f64,
    lo: usize,
    hi: usize,
    steps: &mut Vec<Step>,
) {
    if hi - lo < 2 {
        return;
    }
    let mut best: Option<(f64, Step)> = None;
    // The right side may end before the segment does, so a level that
    // comes and goes (a regression later fixed) is a step too.
    let candidates = (lo + 1..hi).flat_map(|split| (split + 1..=hi).map(move |end| (split, end)));
    for (split, end) in candidates {
        let (left, right) = (&values[lo..split], &values[split..end]);
        if end < values.len() && right.len() < MIN_PASSING_LEVEL {
            continue;
        }
        let (before, after) = (mean(left), mean(right));
        if before <= 0.0 || after <= 0.0 {
            continue;
        }
        let rounds_band = median(&noise[lo..split])
            .max(median(&noise[split..end]))
            .max(RESOLUTION);
        let standard_error = (1.0 / left.len() as f64 + 1.0 / right.len() as f64).sqrt();
        let between_band = (BETWEEN_RUN_MARGIN * between * standard_error).exp_m1();
        let band = rounds_band.max(between_band);
        let ratio = after / before;
        // Every report on the new level must show the change, so one
        // outlier cannot carry a level of two.
        let direction = if low(right) > before * (1.0 + band) && low(right) > high(left) {
            Direction::Regression
        } else if high(right) < before / (1.0 + band) && high(right) < low(left) {
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
        segment(values, noise, between, lo, at, steps);
        segment(values, noise, between, at, hi, steps);
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

    /// `len` reports around 100 µs, each moved by up to ±`spread` (the
    /// load between runs), times `factor` from report `step_at` on.
    fn series_with_noise(
        len: usize,
        step_at: Option<usize>,
        factor: f64,
        spread: f64,
        seed: u64,
    ) -> Vec<f64> {
        let mut seed = seed;
        (0..len)
            .map(|index| {
                let level = if step_at.is_some_and(|at| index >= at) {
                    factor
                } else {
                    1.0
                };
                100_000.0 * level * (1.0 + spread * jitter(&mut seed))
            })
            .collect()
    }

    /// A quiet machine: each report moved by up to ±1.5 % (a median over
    /// rounds moves less than the 4 % range of its rounds).
    fn series_with_step(len: usize, step_at: Option<usize>, factor: f64, seed: u64) -> Vec<f64> {
        series_with_noise(len, step_at, factor, 0.015, seed)
    }

    #[test]
    fn a_planted_one_and_a_half_step_is_found_at_its_report() {
        for seed in 1..200 {
            let values = series_with_step(12, Some(7), 1.5, seed);
            let steps = change_points(&values, &[0.04; 12]);
            assert_eq!(steps.len(), 1, "seed {seed}: {steps:?}");
            assert_eq!(steps[0].at, 7, "seed {seed}");
            assert_eq!(steps[0].direction, Direction::Regression);
            assert!(!steps[0].resolved);
        }
    }

    #[test]
    fn a_planted_step_is_found_through_between_run_load_noise() {
        // Runs wander by ±5 % while each run's rounds agree within 4 %.
        for seed in 1..200 {
            let values = series_with_noise(12, Some(7), 1.5, 0.05, seed);
            let steps = change_points(&values, &[0.04; 12]);
            assert_eq!(steps.len(), 1, "seed {seed}: {values:?} {steps:?}");
            assert_eq!(steps[0].at, 7, "seed {seed}");
            assert_eq!(steps[0].direction, Direction::Regression);
        }
    }

    #[test]
    fn noise_alone_finds_nothing() {
        for seed in 1..500 {
            let values = series_with_step(12, None, 1.0, seed);
            assert_eq!(change_points(&values, &[0.04; 12]), [], "seed {seed}");
        }
    }

    #[test]
    fn load_noise_between_runs_of_a_quarter_finds_nothing() {
        // The rounds of each run agree within 4 %, the runs by ±25 %: the
        // rounds' band alone calls many of these splits steps. Chance does
        // make a real-looking level shift now and then (several slow runs
        // in a row), so the measure is a rate: under 1 % of the series.
        let (mut series, mut false_steps, mut rounds_band_alone) = (0, 0, 0);
        for seed in 1..500 {
            for len in [6, 12, 24] {
                let values = series_with_noise(len, None, 1.0, 0.25, seed);
                let noise = vec![0.04; len];
                series += 1;
                false_steps += usize::from(!change_points(&values, &noise).is_empty());
                let mut without = Vec::new();
                segment(&values, &noise, 0.0, 0, len, &mut without);
                rounds_band_alone += usize::from(!without.is_empty());
            }
        }
        assert!(
            false_steps * 100 < series,
            "{false_steps} of {series} series"
        );
        assert!(
            rounds_band_alone * 2 > series,
            "{rounds_band_alone} of {series}"
        );
    }

    #[test]
    fn three_reports_of_load_noise_find_nothing() {
        // The committed same-day runs: 2026-12-04a, b and c.
        for values in [[21.1, 16.7, 22.0], [31.1, 32.9, 37.6], [9.66, 4.36, 6.68]] {
            assert_eq!(change_points(&values, &[0.1; 3]), [], "{values:?}");
        }
    }

    #[test]
    fn a_one_and_a_half_step_in_the_latest_report_is_found() {
        for seed in 1..200 {
            for len in [8, 12] {
                let values = series_with_noise(len, Some(len - 1), 1.5, 0.02, seed);
                let steps = change_points(&values, &vec![0.04; len]);
                assert_eq!(steps.len(), 1, "seed {seed}, {len} reports: {values:?}");
                assert_eq!(steps[0].at, len - 1);
                assert_eq!(steps[0].direction, Direction::Regression);
                assert!(!steps[0].resolved);
            }
        }
    }

    #[test]
    fn a_step_in_the_latest_report_is_found_and_a_later_recovery_resolves_one() {
        let mut values = series_with_step(6, Some(5), 1.5, 3);
        let steps = change_points(&values, &[0.04; 6]);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].at, 5);
        // A second report confirms the level, then it goes back.
        values.extend(series_with_step(1, Some(0), 1.5, 5));
        values.extend(series_with_step(3, None, 1.0, 4));
        let steps = change_points(&values, &[0.04; 10]);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(steps[1].direction, Direction::Improvement);
        assert_eq!(steps[1].at, 7);
        assert!(steps[0].resolved);
    }

    #[test]
    fn one_report_out_of_line_between_steady_neighbours_is_not_a_step() {
        let mut values = series_with_step(6, None, 1.0, 6);
        values[3] *= 1.5;
        assert_eq!(change_points(&values, &[0.04; 6]), []);
    }

    #[test]
    fn between_run_noise_is_the_scaled_median_successive_difference() {
        assert_eq!(between_run_noise(&[100.0]), None);
        // Differences ln 1.1, ln 1.1, ln 2: the step does not move the median.
        let sigma = between_run_noise(&[100.0, 110.0, 100.0, 200.0]).expect("three differences");
        let expected = 1.1f64.ln() / MASD_PER_SIGMA * (1.0 + 1.0 / 3f64.sqrt());
        assert!((sigma - expected).abs() < 1e-12, "{sigma}");
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
