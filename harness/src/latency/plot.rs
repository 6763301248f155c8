//! Percentile distribution plots as standalone SVG, written by hand: the
//! HdrHistogram way, latency against percentile on a log scale of
//! 1 / (1 − q), so the tail (99 %, 99.9 %, 99.99 %) gets as much room as
//! the median. No plotting library, no fonts to find, nothing to install.

use std::fmt::Write;

use super::{attribution::Attribution, histogram::format_ns};

/// One line on a plot.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// (quantile, nanoseconds), quantiles ascending.
    pub points: Vec<(f64, u64)>,
    pub color: &'static str,
    pub dashed: bool,
}

/// Colours that stay apart for the colour-blind (Okabe–Ito).
pub const PALETTE: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 36.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 70.0;
/// The x axis ends at 99.9999 %.
const MAX_NINES: f64 = 6.0;

/// One horizontal stacked bar per hook with a four-part split: physical
/// floor, Rust gRPC, Python gRPC, plugin/SDK dispatch, on a shared linear
/// scale, each segment labelled with its time. A negative part (a floor
/// within the noise of the next) draws as nothing and is named in the
/// bar's label.
pub fn attribution_svg(attributions: &[Attribution]) -> String {
    const BAR: f64 = 22.0;
    const GAP: f64 = 14.0;
    const LABEL: f64 = 260.0;
    let rows: Vec<_> = attributions
        .iter()
        .filter_map(|a| Some((a, a.parts?)))
        .collect();
    let legend_y = TOP;
    let first_bar = TOP + 24.0;
    let height = first_bar + rows.len() as f64 * (BAR + GAP) + 10.0;
    let plot_width = WIDTH + 200.0 - LABEL - RIGHT;
    let longest = rows
        .iter()
        .map(|(a, _)| a.hook_p50_ns as f64)
        .fold(1.0f64, f64::max);
    let scale = plot_width / longest;
    let total_width = WIDTH + 200.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_width} {height}" width="{total_width}" height="{height}" font-family="sans-serif" font-size="11"><title>Where the time goes</title><rect width="100%" height="100%" fill="white"/><text x="10" y="18" font-size="13" font-weight="bold">Where each hook's p50 goes</text>"#
    );
    let names = [
        "physical floor",
        "Rust gRPC",
        "Python gRPC",
        "plugin/SDK dispatch",
    ];
    for (index, name) in names.iter().enumerate() {
        let x = LABEL + index as f64 * 150.0;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{name}</text>"#,
            legend_y - 10.0,
            PALETTE[index],
            x + 16.0,
            legend_y
        );
    }
    for (row, (attribution, parts)) in rows.iter().enumerate() {
        let y = first_bar + row as f64 * (BAR + GAP);
        let negative: Vec<&str> = parts
            .named()
            .iter()
            .filter(|(_, nanos)| *nanos < 0)
            .map(|(name, _)| *name)
            .collect();
        let note = if negative.is_empty() {
            String::new()
        } else {
            format!(" ({} within noise)", negative.join(", "))
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{} · {}{}</text>"#,
            LABEL - 8.0,
            y + BAR / 2.0 + 4.0,
            escape(&attribution.hook),
            format_ns(attribution.hook_p50_ns as f64),
            escape(&note)
        );
        let mut x = LABEL;
        for (index, (name, nanos)) in parts.named().iter().enumerate() {
            let width = (*nanos).max(0) as f64 * scale;
            if width <= 0.0 {
                continue;
            }
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{BAR}" fill="{}"><title>{name}: {}</title></rect>"#,
                PALETTE[index],
                format_ns(*nanos as f64)
            );
            if width > 44.0 {
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" fill="white" text-anchor="middle">{}</text>"#,
                    x + width / 2.0,
                    y + BAR / 2.0 + 4.0,
                    format_ns(*nanos as f64)
                );
            }
            x += width;
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A plot of `series` titled `title`; empty series are left out.
pub fn percentile_svg(title: &str, series: &[Series]) -> String {
    let series: Vec<&Series> = series.iter().filter(|s| !s.points.is_empty()).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        svg,
        r#"<title>{}</title><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="18" font-size="13" font-weight="bold">{}</text>"#,
        escape(title),
        escape(title)
    );
    if series.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="{}">no data</text></svg>"#,
            HEIGHT / 2.0
        );
        return svg;
    }
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(_, v)| v.max(1) as f64));
    let (low, high) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let axis = YAxis::new(low, high);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |quantile: f64| LEFT + nines(quantile) / MAX_NINES * plot_w;
    let y_of = |nanos: f64| TOP + plot_h * (1.0 - axis.fraction(nanos));

    // Grid and ticks.
    for tick in 0..=MAX_NINES as usize {
        let x = LEFT + tick as f64 / MAX_NINES * plot_w;
        let label = match tick {
            0 => "0%".to_owned(),
            1 => "90%".to_owned(),
            n => format!("99.{}%", "9".repeat(n - 2)).replace("99.%", "99%"),
        };
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 14.0
        );
    }
    for tick in axis.ticks() {
        let y = y_of(tick);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            format_ns(tick)
        );
    }
    let _ = write!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/><text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"##,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 30.0
    );

    // Lines and legend.
    for (index, line) in series.iter().enumerate() {
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(quantile, nanos)| {
                format!("{:.1},{:.1}", x_of(quantile), y_of(nanos.max(1) as f64))
            })
            .collect();
        let dash = if line.dashed {
            r#" stroke-dasharray="5,3""#
        } else {
            ""
        };
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="1.6"{dash}/>"#,
            points.join(" "),
            line.color
        );
        let legend_x = LEFT + (index % 3) as f64 * plot_w / 3.0;
        let legend_y = HEIGHT - 22.0 + (index / 3) as f64 * 13.0;
        let _ = write!(
            svg,
            r#"<line x1="{legend_x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{legend_y:.1}">{}</text>"#,
            legend_y - 4.0,
            legend_x + 18.0,
            legend_y - 4.0,
            line.color,
            legend_x + 22.0,
            escape(&line.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// How many nines `quantile` has: 0.9 → 1, 0.99 → 2; capped at the axis end.
fn nines(quantile: f64) -> f64 {
    let rest = (1.0 - quantile).max(10f64.powf(-MAX_NINES));
    (-rest.log10()).clamp(0.0, MAX_NINES)
}

/// Linear when the values span less than a decade, else logarithmic.
struct YAxis {
    low: f64,
    high: f64,
    log: bool,
}

impl YAxis {
    fn new(low: f64, high: f64) -> YAxis {
        let log = high / low.max(1.0) >= 10.0;
        if log {
            YAxis {
                low: low.max(1.0).log10().floor(),
                high: high.max(10.0).log10().ceil(),
                log,
            }
        } else {
            let step = nice_step((high - low).max(high * 0.05) / 5.0);
            YAxis {
                low: ((low / step).floor() * step - step).max(0.0),
                high: (high / step).ceil() * step + step,
                log,
            }
        }
    }

    fn fraction(&self, nanos: f64) -> f64 {
        let value = if self.log {
            nanos.max(1.0).log10()
        } else {
            nanos
        };
        ((value - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut ticks = Vec::new();
            let decades = (self.high - self.low) as i32;
            for exponent in self.low as i32..=self.high as i32 {
                for mantissa in [1.0, 2.0, 5.0] {
                    // Few decades: 1-2-5 in each; many: powers of ten only.
                    if mantissa > 1.0 && decades > 3 {
                        continue;
                    }
                    let tick = mantissa * 10f64.powi(exponent);
                    if tick.log10() <= self.high + 1e-9 {
                        ticks.push(tick);
                    }
                }
            }
            ticks
        } else {
            let step = nice_step((self.high - self.low) / 5.0);
            let mut ticks = Vec::new();
            let mut tick = (self.low / step).ceil() * step;
            while tick <= self.high + step * 1e-9 {
                ticks.push(tick);
                tick += step;
            }
            ticks
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let rough = rough.max(1.0);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|mantissa| mantissa * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: Vec<(f64, u64)>) -> Series {
        Series {
            label: "hook <MessageWillBePosted>".to_owned(),
            points,
            color: PALETTE[0],
            dashed: false,
        }
    }

    #[test]
    fn a_plot_is_one_well_formed_svg_with_a_line_per_series() {
        let narrow = series(vec![
            (0.0, 30_000),
            (0.5, 35_000),
            (0.99, 41_000),
            (0.9999, 44_000),
        ]);
        let mut wide = series(vec![(0.0, 1_000), (0.9, 50_000), (0.999, 20_000_000)]);
        wide.dashed = true;
        for plot in [
            percentile_svg("narrow", std::slice::from_ref(&narrow)),
            percentile_svg("wide & tall", &[narrow, wide]),
        ] {
            let document = roxmltree::Document::parse(&plot).expect("valid XML");
            let root = document.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            assert!(plot.contains("99.99%"), "{plot}");
            assert!(plot.contains("&lt;MessageWillBePosted&gt;"));
        }
        let empty = percentile_svg("nothing", &[series(vec![])]);
        assert!(empty.contains("no data"));
    }

    #[test]
    fn the_x_axis_counts_nines() {
        assert!((nines(0.0) - 0.0).abs() < 1e-9);
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert!((nines(1.0) - MAX_NINES).abs() < 1e-9);
    }

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(1_200.0), 2_000.0);
        assert_eq!(nice_step(0.1), 1.0);
        let axis = YAxis::new(30_000.0, 45_000.0);
        assert!(!axis.log);
        assert!(axis.ticks().len() >= 3);
        let axis = YAxis::new(1_000.0, 20_000_000.0);
        assert!(axis.log);
        assert!(axis.ticks().contains(&1_000_000.0));
    }
}
