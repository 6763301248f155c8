//! `report.html`: the report's tables and a percentile plot per call, in
//! one self-contained file (inline SVG and CSS, nothing fetched).

use std::fmt::Write;

use super::{
    plot::{self, PALETTE, Series, escape},
    render::{self, Table},
    report::{BenchReport, CallKind, CallReport},
    upstream,
};

pub fn html(report: &BenchReport) -> String {
    let mut out = String::new();
    let title = render::title(report);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<ul>",
        escape(&title),
        escape(&title)
    );
    for line in render::context_lines(report) {
        let _ = write!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n");
    for (title, about, table) in render::sections(report) {
        let _ = write!(out, "<h2>{}</h2><p>{}</p>", escape(&title), escape(&about));
        out.push_str(&html_table(&table));
    }
    if let Some(line) = render::overhead_line(report) {
        let _ = write!(out, "<p><strong>Overall:</strong> {}.</p>", escape(&line));
    }
    if let Some(line) = render::client_line(report) {
        let _ = write!(out, "<p><strong>Client:</strong> {}.</p>", escape(&line));
    }
    if report.attribution.iter().any(|a| a.parts.is_some()) {
        out.push_str("<h2>Where the time goes, per hook</h2><figure>");
        out.push_str(&plot::attribution_svg(&report.attribution));
        out.push_str("</figure>\n");
    }
    let _ = write!(
        out,
        "<h2>Compared with upstream</h2><p>{}</p><ul>",
        escape(upstream::SUMMARY)
    );
    for line in upstream::comparisons(report) {
        let _ = write!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n");
    let verdicts = render::verdict_lines(report);
    if !verdicts.is_empty() {
        out.push_str("<h2>Verdicts</h2><ul>");
        for line in verdicts {
            let class = if line.contains("OVER BUDGET")
                || line.contains("REGRESSION")
                || line.ends_with("FAILED")
            {
                " class=\"bad\""
            } else {
                ""
            };
            let _ = write!(out, "<li{class}>{}</li>", escape(&line));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Percentile distributions</h2><div class=\"plots\">");
    for call in report
        .calls
        .iter()
        .filter(|call| !matches!(call.kind, CallKind::FloorRaw | CallKind::FloorSocket))
    {
        out.push_str("<figure>");
        out.push_str(&plot::percentile_svg(
            &plot_title(call),
            &series_for(report, call),
        ));
        out.push_str("</figure>");
    }
    out.push_str("</div>\n");
    if !report.notes.is_empty() {
        out.push_str("<h2>Notes</h2><ul>");
        for note in &report.notes {
            let _ = write!(out, "<li>{}</li>", escape(note));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn plot_title(call: &CallReport) -> String {
    match &call.floor_for {
        Some(bench) => format!(
            "{} — {} ({}, run of {bench})",
            call.name,
            call.kind.label(),
            call.plugin
        ),
        None => format!("{} — {} ({})", call.name, call.kind.label(), call.plugin),
    }
}

/// The call's distribution, its uncorrected twin in an open loop, and for
/// hooks the floor's for the same hook.
fn series_for(report: &BenchReport, call: &CallReport) -> Vec<Series> {
    let mut series = vec![Series {
        label: if call.uncorrected.is_some() {
            "corrected".to_owned()
        } else {
            call.kind.label().to_owned()
        },
        points: call.histogram.quantile_curve(),
        color: PALETTE[0],
        dashed: false,
    }];
    if let Some(uncorrected) = &call.uncorrected {
        series.push(Series {
            label: "uncorrected".to_owned(),
            points: uncorrected.histogram.quantile_curve(),
            color: PALETTE[1],
            dashed: true,
        });
    }
    if matches!(call.kind, CallKind::Hook | CallKind::FloorHarness) {
        // The floor of the same run when a merge holds several.
        let run = match call.kind {
            CallKind::Hook => Some(call.plugin.as_str()),
            _ => call.floor_for.as_deref(),
        };
        let raw_floor =
            |other: &&CallReport| other.kind == CallKind::FloorRaw && other.name == call.name;
        let floor = report
            .calls
            .iter()
            .filter(raw_floor)
            .find(|other| other.floor_for.as_deref() == run)
            .or_else(|| report.calls.iter().find(raw_floor));
        if let Some(floor) = floor {
            series.push(Series {
                label: "floor (raw tonic)".to_owned(),
                points: floor.histogram.quantile_curve(),
                color: PALETTE[2],
                dashed: true,
            });
        }
    }
    series
}

fn html_table(table: &Table) -> String {
    let mut out = String::from("<table><thead><tr>");
    for cell in &table.header {
        let _ = write!(out, "<th>{}</th>", escape(cell));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}\
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}\
.plots{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}.bad{color:#b00;font-weight:bold}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::report::tests::synthetic;

    #[test]
    fn the_page_is_well_formed_and_has_a_plot_per_call() {
        let report = synthetic("MessageWillBePosted", 50, 1.0, 2);
        let page = html(&report);
        // XHTML-compatible apart from the doctype, so an XML parser checks it.
        let body = page.trim_start_matches("<!DOCTYPE html>\n");
        let document = roxmltree::Document::parse(body).expect("well-formed");
        let svgs = document
            .descendants()
            .filter(|node| node.tag_name().name() == "svg")
            .count();
        assert_eq!(svgs, 1);
        assert!(page.contains("MessageWillBePosted"));
    }
}
