//! The history's two pages: `history.html` (a trend plot per call, p50
//! and p99 over the reports with p50's noise band shaded and the steps
//! marked, hand-written SVG like [`super::plot`]) and `history.md` (the
//! steps, regressions first, with the first report that shows each).

use std::fmt::Write;

use super::{
    histogram::format_ns,
    history::{BETWEEN_RUN_MARGIN, Dated, Direction, MIN_PASSING_LEVEL, Series, machines},
    plot::{PALETTE, escape},
};

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 56.0;

/// What the pages say about how steps are found.
pub fn method() -> String {
    format!(
        "A step is found by binary segmentation: every split of a segment of the series (its right side may end early, so a level that comes and goes counts) is a candidate, and it is a step when every report on the new level (1) differs from the old level's mean by more than the rounds' noise band (the larger of the two sides' median round-to-round spread of p50), (2) lies beyond every point of the other side, and (3) differs by more than {BETWEEN_RUN_MARGIN} times the between-run noise times √(1/n_before + 1/n_after). The between-run noise σ is measured from the series itself: the median absolute difference of ln p50 between successive reports, divided by 0.954 and widened by 1 + 1/√m for m differences; it is what load between runs adds to the rounds' own spread, and with fewer than four reports it is too uncertain for any step. A level that comes and goes needs {MIN_PASSING_LEVEL} reports; only the latest report may stand alone. The largest such change, in noise bands, is taken and both sides are searched again. Series are per machine: reports from different machines are never compared."
    )
}

/// The step lines of the summary, regressions first.
pub fn step_lines(series: &[Series]) -> Vec<String> {
    let mut lines = Vec::new();
    for wanted in [Direction::Regression, Direction::Improvement] {
        for one in series {
            for step in one.steps.iter().filter(|step| step.direction == wanted) {
                lines.push(format!(
                    "{} {}: p50 {} → {} ({:.2}×, noise band ±{:.1}%), first in {}{}",
                    match wanted {
                        Direction::Regression => "REGRESSION",
                        Direction::Improvement => "improvement",
                    },
                    one.call,
                    format_ns(step.before_ns),
                    format_ns(step.after_ns),
                    step.ratio,
                    step.band * 100.0,
                    step.first_report,
                    if step.resolved {
                        " (resolved later)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    lines
}

pub fn markdown(history: &[Dated], series: &[Series], note: Option<&str>) -> String {
    let mut out = String::from("# Latency history\n\n");
    let _ = writeln!(
        out,
        "{} reports, {} to {}.\n",
        history.len(),
        history.first().map_or("", |d| d.label.as_str()),
        history.last().map_or("", |d| d.label.as_str())
    );
    if let Some(note) = note {
        let _ = writeln!(out, "{note}\n");
    }
    let _ = writeln!(out, "{}\n", method());
    for (key, description) in machines(history) {
        let _ = writeln!(out, "## Machine: {description}\n");
        let mine: Vec<&Series> = series.iter().filter(|s| s.machine == key).collect();
        let owned: Vec<Series> = mine.iter().map(|s| (*s).clone()).collect();
        let steps = step_lines(&owned);
        if steps.is_empty() {
            out.push_str("No step beyond the noise.\n\n");
        } else {
            for line in steps {
                let _ = writeln!(out, "- {line}");
            }
            out.push('\n');
        }
        out.push_str("| call | reports | first p50 | latest p50 | latest p99 | latest noise | between-run noise σ |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for one in mine {
            let (Some(first), Some(last)) = (one.points.first(), one.points.last()) else {
                continue;
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | ±{:.1}% | {} |",
                one.call,
                one.points.len(),
                format_ns(first.p50_ns),
                format_ns(last.p50_ns),
                format_ns(last.p99_ns),
                last.noise * 50.0,
                one.between_run_noise
                    .map_or_else(|| "–".to_owned(), |sigma| format!("{:.1}%", sigma * 100.0))
            );
        }
        out.push('\n');
    }
    out
}

pub fn html(history: &[Dated], series: &[Series], note: Option<&str>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Latency history</title><style>{STYLE}</style></head><body>\n<h1>Latency history</h1><p>{} reports, {} to {}.</p>",
        history.len(),
        escape(history.first().map_or("", |d| d.label.as_str())),
        escape(history.last().map_or("", |d| d.label.as_str()))
    );
    if let Some(note) = note {
        let _ = write!(out, "<p>{}</p>", escape(note));
    }
    let _ = write!(out, "<p>{}</p>", escape(&method()));
    for (key, description) in machines(history) {
        let _ = write!(out, "<h2>Machine: {}</h2>", escape(&description));
        let mine: Vec<Series> = series
            .iter()
            .filter(|s| s.machine == key)
            .cloned()
            .collect();
        let steps = step_lines(&mine);
        if steps.is_empty() {
            out.push_str("<p>No step beyond the noise.</p>");
        } else {
            out.push_str("<ul>");
            for line in steps {
                let class = if line.starts_with("REGRESSION") && !line.ends_with("(resolved later)")
                {
                    " class=\"bad\""
                } else {
                    ""
                };
                let _ = write!(out, "<li{class}>{}</li>", escape(&line));
            }
            out.push_str("</ul>");
        }
        out.push_str("<div class=\"plots\">");
        for one in &mine {
            let between = one.between_run_noise.map_or_else(
                || "between-run noise: not measured (one report)".to_owned(),
                |sigma| format!("between-run noise σ {:.1}%", sigma * 100.0),
            );
            let _ = write!(
                out,
                "<figure>{}<figcaption>{between}</figcaption></figure>",
                trend_svg(one)
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// p50 and p99 against the reports, log scale, p50's noise band shaded,
/// a dashed line before each step's first report.
pub fn trend_svg(series: &Series) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="10"><title>{}</title><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="16" font-size="12" font-weight="bold">{}</text>"#,
        escape(&series.call),
        escape(&series.call)
    );
    let points = &series.points;
    let band = |p: &super::history::Point| {
        let half = p.noise / 2.0;
        (p.p50_ns * (1.0 - half), p.p50_ns * (1.0 + half))
    };
    let low = points
        .iter()
        .map(|p| band(p).0.min(p.p50_ns))
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let high = points
        .iter()
        .map(|p| p.p99_ns.max(band(p).1))
        .fold(1.0f64, f64::max);
    let (log_low, log_high) = ((low * 0.9).log10(), (high * 1.1).log10());
    let span = (log_high - log_low).max(1e-9);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |index: usize| {
        LEFT + if points.len() > 1 {
            plot_w * index as f64 / (points.len() - 1) as f64
        } else {
            plot_w / 2.0
        }
    };
    let y = |nanos: f64| TOP + plot_h * (1.0 - (nanos.max(1.0).log10() - log_low) / span);
    // Axis labels: bottom and top of the scale, and the report names.
    for nanos in [low * 0.9, high * 1.1] {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text><line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            LEFT - 4.0,
            y(nanos) + 3.0,
            format_ns(nanos),
            WIDTH - RIGHT,
            y(nanos),
            y(nanos)
        );
    }
    for (index, point) in points.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" transform="rotate(-35 {:.1} {:.1})">{}</text>"#,
            x(index),
            HEIGHT - BOTTOM + 14.0,
            x(index),
            HEIGHT - BOTTOM + 14.0,
            escape(&point.label)
        );
    }
    // The noise band around p50.
    let upper: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(band(p).1)))
        .collect();
    let lower: Vec<String> = points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(band(p).0)))
        .collect();
    let _ = write!(
        svg,
        r#"<polygon points="{} {}" fill="{}" fill-opacity="0.2"><title>p50 noise band (round-to-round spread)</title></polygon>"#,
        upper.join(" "),
        lower.join(" "),
        PALETTE[0]
    );
    for (stat, color, pick) in [
        (
            "p50",
            PALETTE[0],
            (|p: &super::history::Point| p.p50_ns) as fn(&_) -> f64,
        ),
        ("p99", PALETTE[1], |p| p.p99_ns),
    ] {
        let line: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(pick(p))))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            line.join(" ")
        );
        for (i, p) in points.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{} {stat} {}</title></circle>"#,
                x(i),
                y(pick(p)),
                escape(&p.label),
                format_ns(pick(p))
            );
        }
    }
    for step in &series.steps {
        let at = (x(step.at - 1) + x(step.at)) / 2.0;
        let color = match step.direction {
            Direction::Regression => "#b00",
            Direction::Improvement => "#080",
        };
        let _ = write!(
            svg,
            r#"<line x1="{at:.1}" x2="{at:.1}" y1="{TOP}" y2="{}" stroke="{color}" stroke-dasharray="4 3"><title>{:.2}× from {}</title></line>"#,
            HEIGHT - BOTTOM,
            step.ratio,
            escape(&step.first_report)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="16" fill="{}">p50 (band: noise)</text><text x="{}" y="16" fill="{}">p99</text></svg>"#,
        WIDTH - 180.0,
        PALETTE[0],
        WIDTH - 60.0,
        PALETTE[1]
    );
    svg
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}\
table{border-collapse:collapse}.plots{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}\
.bad{color:#b00;font-weight:bold}";
