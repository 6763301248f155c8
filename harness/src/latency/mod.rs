//! Latency: how long hooks and Plugin API calls take, in HDR histograms.
//!
//! [`bench()`] launches the plugin (and the reference plugin, whose calls
//! through a bare tonic client are the floor the harness's overhead is
//! measured against), drives each call in a [`load`] loop paced by a
//! [`pacing`] clock, and gathers [`histogram`]s into a [`report`].
//! [`budget`] and [`baseline`] judge it; [`render`], [`html`] and [`plot`]
//! show it. [`targets`] decides what is measured, [`floor`] and
//! [`api_bench`] are the two other ways of calling, [`machine`] and
//! [`upstream`] give the figures their context.

pub mod api_bench;
pub mod attribution;
pub mod baseline;
pub mod bench;
pub mod budget;
pub mod floor;
pub mod histogram;
pub mod history;
pub mod history_page;
pub mod html;
pub mod load;
pub mod machine;
pub mod overhead;
pub mod pacing;
pub mod physical;
pub mod plot;
pub mod recorder;
pub mod render;
pub mod report;
pub mod targets;
pub mod upstream;

use std::path::{Path, PathBuf};

pub use bench::{BenchError, BenchEvent, BenchOptions, bench};
pub use histogram::{Latencies, Stat, Summary};
pub use report::BenchReport;

/// Writes `report.json`, `report.md` and `report.html` into `dir`
/// (created if missing) and returns their paths.
pub fn write_report(report: &BenchReport, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("report.json", report.to_json()),
        ("report.md", render::markdown(report)),
        ("report.html", html::html(report)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
