//! The bench report: what `report.json` holds (schema
//! `mm-plugin-harness/bench-report/v1`, described in `reports/README.md`),
//! loading it back, and merging several into one. Histograms travel whole,
//! so a merge adds them and every percentile of the merge is exact.

use std::{collections::BTreeMap, fmt, path::Path};

use serde::{Deserialize, Serialize};

use super::{
    attribution::{self, Attribution},
    baseline::Comparison,
    budget::BudgetVerdict,
    histogram::{Latencies, Summary},
    load::{Measured, Mode},
    machine::Machine,
    overhead::{self, Overhead},
};

pub const SCHEMA: &str = "mm-plugin-harness/bench-report/v1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    pub schema: String,
    /// When the report was made (RFC 3339, UTC).
    pub created: String,
    pub harness_version: String,
    pub machine: Machine,
    /// The runs this report is made of: one for a bench, several for a merge.
    pub sources: Vec<Source>,
    pub plugins: Vec<PluginInfo>,
    pub calls: Vec<CallReport>,
    /// The harness's own cost per hook, against the raw client's floor.
    pub overhead: Vec<Overhead>,
    /// Each hook against the physical, Rust gRPC and Python gRPC floors.
    #[serde(default)]
    pub attribution: Vec<Attribution>,
    pub budget: Option<BudgetVerdict>,
    pub baseline: Option<Comparison>,
    /// Stopped by Ctrl-C: the figures cover what ran until then.
    pub interrupted: bool,
    pub notes: Vec<String>,
}

/// One bench run's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub created: String,
    /// The plugin as given on the command line.
    pub plugin: String,
    pub mode: Mode,
    /// Bounds of each call's measurement (all rounds together).
    pub calls: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub rounds: usize,
    pub deadline_s: f64,
    /// Where hook requests came from: built-in suites or suite files.
    pub payloads: String,
    pub plugin_args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub id: String,
    pub role: Role,
    /// "python" or "native".
    pub runtime: String,
    pub dir: String,
    pub implemented: Vec<String>,
    pub time_to_handshake_s: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The plugin under test.
    Bench,
    /// The reference plugin the harness's overhead is measured against.
    Floor,
    /// The bare grpcio plugin, the Python gRPC floor.
    PythonFloor,
}

/// What a histogram measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// A hook call through the harness, as the server makes it.
    Hook,
    /// A Plugin API call timed by the plugin itself: the round trip it sees.
    ApiPlugin,
    /// A Plugin API call timed inside the harness's API server: service time.
    ApiServer,
    /// A hook of the reference plugin through the harness's hook client.
    FloorHarness,
    /// The same hook through a bare generated tonic client: the floor.
    FloorRaw,
    /// A raw socket ping-pong with the hook's message size, on the plugin's
    /// transport: the physical floor.
    FloorSocket,
    /// The same hook of a bare grpcio plugin through the harness's client:
    /// the Python gRPC floor.
    FloorPython,
    /// The same hook of a second copy of the plugin with `harness record`
    /// in front of it: what recording costs a server.
    Recorded,
}

impl CallKind {
    pub fn label(self) -> &'static str {
        match self {
            CallKind::Hook => "hook",
            CallKind::ApiPlugin => "api, plugin-observed",
            CallKind::ApiServer => "api, server-side",
            CallKind::FloorHarness => "floor, harness client",
            CallKind::FloorRaw => "floor, raw tonic client",
            CallKind::FloorSocket => "floor, raw socket",
            CallKind::FloorPython => "floor, bare grpcio",
            CallKind::Recorded => "hook, through harness record",
        }
    }

    /// A floor the plugin under test is measured against.
    pub fn is_floor(self) -> bool {
        matches!(
            self,
            CallKind::FloorHarness
                | CallKind::FloorRaw
                | CallKind::FloorSocket
                | CallKind::FloorPython
        )
    }

    /// Short, for call keys: `hook`, `api-plugin`, `floor-raw`...
    pub fn slug(self) -> &'static str {
        match self {
            CallKind::Hook => "hook",
            CallKind::ApiPlugin => "api-plugin",
            CallKind::ApiServer => "api-server",
            CallKind::FloorHarness => "floor-harness",
            CallKind::FloorRaw => "floor-raw",
            CallKind::FloorSocket => "floor-socket",
            CallKind::FloorPython => "floor-python",
            CallKind::Recorded => "hook-recorded",
        }
    }
}

/// One measured call: a hook, an API method, a floor path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallReport {
    /// The plugin id.
    pub plugin: String,
    /// For a floor measured on another plugin (the reference or the bare
    /// grpcio plugin): the plugin under test in the run that measured it.
    /// Part of the key, so a merge of several runs keeps each run's floors
    /// apart and every hook is set against the floors of its own run.
    /// Absent in reports written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_for: Option<String>,
    pub kind: CallKind,
    /// Hook or RPC name, with the payload's label when a hook is measured
    /// with several kinds of payload (`ServeHTTP (1 MiB)`).
    pub name: String,
    /// What was sent.
    pub payload: Option<String>,
    pub summary: Summary,
    /// Calls that failed (gRPC status other than OK); not in the histogram.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Open loop: calls due that were never sent (the plugin fell behind).
    pub missed: u64,
    /// Each round's figures, the spread of which is the run's noise.
    pub rounds: Vec<Summary>,
    /// All rounds, HdrHistogram V2 compressed, base64. In an open loop,
    /// corrected for coordinated omission.
    pub histogram: Latencies,
    /// Open loop only: the same calls timed from when they were sent.
    pub uncorrected: Option<Uncorrected>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Uncorrected {
    pub summary: Summary,
    pub histogram: Latencies,
}

impl CallReport {
    pub fn new(plugin: &str, kind: CallKind, name: &str, payload: Option<String>) -> CallReport {
        CallReport {
            plugin: plugin.to_owned(),
            floor_for: None,
            kind,
            name: name.to_owned(),
            payload,
            summary: Latencies::new().summary(),
            errors: 0,
            first_error: None,
            missed: 0,
            rounds: Vec::new(),
            histogram: Latencies::new(),
            uncorrected: None,
        }
    }

    /// Identifies the call across reports: plugin, kind, name and, for a
    /// floor, the run's plugin under test.
    pub fn key(&self) -> CallKey {
        CallKey {
            plugin: self.plugin.clone(),
            floor_for: self.floor_for.clone(),
            kind: self.kind,
            name: self.name.clone(),
        }
    }

    /// Adds one measured round.
    pub fn add_round(&mut self, measured: Measured) {
        self.rounds.push(measured.latencies.summary());
        self.absorb_totals(measured);
    }

    /// Adds measurements that are not a round of their own (warm-up is
    /// never added; server-side API calls, which arrive in every round).
    pub fn absorb_totals(&mut self, measured: Measured) {
        self.histogram.merge(&measured.latencies);
        if let Some(uncorrected) = measured.uncorrected {
            let mine = self.uncorrected.get_or_insert_with(|| Uncorrected {
                summary: Latencies::new().summary(),
                histogram: Latencies::new(),
            });
            mine.histogram.merge(&uncorrected);
        }
        self.errors += measured.errors;
        self.missed += measured.missed;
        if self.first_error.is_none() {
            self.first_error = measured.first_error;
        }
        self.refresh();
    }

    fn merge(&mut self, other: &CallReport) {
        self.histogram.merge(&other.histogram);
        match (&mut self.uncorrected, &other.uncorrected) {
            (Some(mine), Some(theirs)) => mine.histogram.merge(&theirs.histogram),
            (None, Some(theirs)) => self.uncorrected = Some(theirs.clone()),
            _ => {}
        }
        self.rounds.extend(other.rounds.iter().copied());
        self.errors += other.errors;
        self.missed += other.missed;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        if self.payload != other.payload {
            self.payload = Some("several (merged reports)".to_owned());
        }
        self.refresh();
    }

    /// Recomputes the summaries from the histograms.
    fn refresh(&mut self) {
        self.summary = self.histogram.summary();
        if let Some(uncorrected) = &mut self.uncorrected {
            uncorrected.summary = uncorrected.histogram.summary();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallKey {
    pub plugin: String,
    pub floor_for: Option<String>,
    pub kind: CallKind,
    pub name: String,
}

impl fmt::Display for CallKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({}", self.kind.slug(), self.name, self.plugin)?;
        match &self.floor_for {
            Some(bench) if *bench != self.plugin => write!(f, ", for {bench})"),
            _ => write!(f, ")"),
        }
    }
}

/// A report file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: not a bench report: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: schema {found:?} is not {SCHEMA:?}")]
    Schema { path: String, found: String },
    #[error("nothing to merge")]
    Empty,
}

impl BenchReport {
    /// Reads and checks a `report.json`.
    pub fn load(path: &Path) -> Result<BenchReport, ReportError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ReportError::Read {
            path: shown.clone(),
            message: err.to_string(),
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|err| ReportError::Invalid {
                path: shown.clone(),
                message: err.to_string(),
            })?;
        let schema = value.get("schema").and_then(|schema| schema.as_str());
        if schema != Some(SCHEMA) {
            return Err(ReportError::Schema {
                path: shown,
                found: schema.unwrap_or("(none)").to_owned(),
            });
        }
        let mut report: BenchReport =
            serde_path_to_error::deserialize(value).map_err(|err| ReportError::Invalid {
                path: shown,
                message: format!("{}: {}", err.path(), err.inner()),
            })?;
        // Derived from the calls: recomputed, so reports written before
        // the attribution existed (or by an older harness) get it too.
        report.attribution =
            attribution::attribute(&report.calls, &python_plugins(&report.plugins));
        Ok(report)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The ids of the plugins under test, comma-separated.
    pub fn bench_plugins(&self) -> String {
        let ids: Vec<&str> = self
            .plugins
            .iter()
            .filter(|plugin| plugin.role == Role::Bench)
            .map(|plugin| plugin.id.as_str())
            .collect();
        ids.join(", ")
    }

    pub fn call(&self, key: &CallKey) -> Option<&CallReport> {
        self.calls.iter().find(|call| &call.key() == key)
    }

    /// One report of everything in `reports`: the same call's histograms
    /// added, rounds pooled, other calls side by side. Verdicts are left
    /// for the caller to judge again.
    pub fn merge(reports: &[BenchReport], created: String) -> Result<BenchReport, ReportError> {
        let first = reports.first().ok_or(ReportError::Empty)?;
        let mut calls: Vec<CallReport> = Vec::new();
        let mut index: BTreeMap<CallKey, usize> = BTreeMap::new();
        let mut notes = Vec::new();
        let mut plugins: Vec<PluginInfo> = Vec::new();
        for report in reports {
            for call in &report.calls {
                match index.get(&call.key()) {
                    Some(&at) => calls[at].merge(call),
                    None => {
                        index.insert(call.key(), calls.len());
                        calls.push(call.clone());
                    }
                }
            }
            for plugin in &report.plugins {
                if !plugins
                    .iter()
                    .any(|p| p.id == plugin.id && p.role == plugin.role)
                {
                    plugins.push(plugin.clone());
                }
            }
            if !report.machine.same_host(&first.machine) {
                notes.push(format!(
                    "the report of {} was made on another machine: {}",
                    report.created,
                    report.machine.one_line()
                ));
            }
            // Notes speak of their run's plugin; a merge says which.
            let plugins = report.bench_plugins();
            for note in &report.notes {
                let note = if plugins.is_empty() || reports.len() == 1 || note.starts_with(&plugins)
                {
                    note.clone()
                } else {
                    format!("{plugins}: {note}")
                };
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        // The versions of the Python that ran a Python plugin, if any did.
        let mut machine = first.machine.clone();
        if let Some(with_grpcio) = reports.iter().find(|r| r.machine.grpcio.is_some()) {
            machine.python.clone_from(&with_grpcio.machine.python);
            machine.grpcio.clone_from(&with_grpcio.machine.grpcio);
        }
        Ok(BenchReport {
            schema: SCHEMA.to_owned(),
            created,
            harness_version: env!("CARGO_PKG_VERSION").to_owned(),
            machine,
            sources: reports.iter().flat_map(|r| r.sources.clone()).collect(),
            overhead: overhead::overheads(&calls),
            attribution: attribution::attribute(&calls, &python_plugins(&plugins)),
            plugins,
            calls,
            budget: None,
            baseline: None,
            interrupted: reports.iter().any(|report| report.interrupted),
            notes,
        })
    }
}

/// The ids of the Python plugins under test: the ones a hook's time is
/// split for at the Python gRPC floor.
pub fn python_plugins(plugins: &[PluginInfo]) -> Vec<&str> {
    plugins
        .iter()
        .filter(|plugin| plugin.role == Role::Bench && plugin.runtime == "python")
        .map(|plugin| plugin.id.as_str())
        .collect()
}

/// Now, as RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::latency::machine::Machine;
    use std::time::Duration;

    /// A report with one hook measured in `rounds` rounds of 1000 calls,
    /// uniform over `[base, 2·base)` µs times `scale`.
    pub fn synthetic(name: &str, base_micros: u64, scale: f64, rounds: usize) -> BenchReport {
        let mut call = CallReport::new("com.example.p", CallKind::Hook, name, None);
        for round in 0..rounds {
            let mut measured = Measured::default();
            for index in 0..1000u64 {
                // Rounds differ a little, as real ones do.
                let micros = base_micros + (index * base_micros) / 1000 + round as u64;
                measured.latencies.record(Duration::from_nanos(
                    (micros as f64 * 1000.0 * scale) as u64,
                ));
            }
            call.add_round(measured);
        }
        // What loading derives, so a round trip is exact.
        let attribution = attribution::attribute(std::slice::from_ref(&call), &[]);
        BenchReport {
            schema: SCHEMA.to_owned(),
            created: "2025-01-01T00:00:00Z".to_owned(),
            harness_version: "0".to_owned(),
            machine: Machine::default(),
            sources: Vec::new(),
            plugins: Vec::new(),
            calls: vec![call],
            overhead: Vec::new(),
            attribution,
            budget: None,
            baseline: None,
            interrupted: false,
            notes: Vec::new(),
        }
    }

    #[test]
    fn json_round_trips() {
        let report = synthetic("MessageWillBePosted", 50, 1.0, 3);
        let text = report.to_json();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, &text).unwrap();
        let loaded = BenchReport::load(&path).unwrap();
        assert_eq!(loaded.to_json(), text);
        assert_eq!(loaded.calls[0].histogram, report.calls[0].histogram);
        assert_eq!(loaded.calls[0].rounds.len(), 3);
    }

    #[test]
    fn merging_adds_histograms_and_pools_rounds() {
        let a = synthetic("MessageWillBePosted", 50, 1.0, 3);
        let mut b = synthetic("MessageWillBePosted", 50, 1.0, 2);
        b.calls
            .push(synthetic("ExecuteCommand", 80, 1.0, 2).calls.remove(0));
        let merged = BenchReport::merge(&[a.clone(), b], now_rfc3339()).unwrap();
        assert_eq!(merged.calls.len(), 2);
        let posted = &merged.calls[0];
        assert_eq!(posted.summary.count, 5000);
        assert_eq!(posted.rounds.len(), 5);
        assert_eq!(merged.calls[1].summary.count, 2000);
        // Same distribution, more of it: the percentiles stay put.
        let alone = a.calls[0].summary;
        assert!(posted.summary.p50_ns.abs_diff(alone.p50_ns) <= alone.p50_ns / 50);
        assert!(BenchReport::merge(&[], now_rfc3339()).is_err());
    }

    #[test]
    fn a_merge_says_whose_notes_and_keeps_the_python_a_plugin_ran_on() {
        let with_plugin = |id: &str, grpcio: Option<&str>| {
            let mut report = synthetic("MessageWillBePosted", 50, 1.0, 1);
            report.plugins.push(PluginInfo {
                id: id.to_owned(),
                role: Role::Bench,
                runtime: "python".to_owned(),
                dir: String::new(),
                implemented: Vec::new(),
                time_to_handshake_s: 0.0,
            });
            report.notes.push("something was skipped".to_owned());
            report.machine.python = Some("3.11.7".to_owned());
            report.machine.grpcio = grpcio.map(str::to_owned);
            report
        };
        let native = with_plugin("rust-reference", None);
        let python = with_plugin("hello-python", Some("1.85.1"));
        let merged = BenchReport::merge(&[native, python], now_rfc3339()).unwrap();
        assert_eq!(merged.machine.grpcio.as_deref(), Some("1.85.1"));
        assert_eq!(
            merged.notes,
            [
                "rust-reference: something was skipped",
                "hello-python: something was skipped"
            ]
        );
        assert_eq!(merged.bench_plugins(), "rust-reference, hello-python");
    }

    /// One bench run of `bench`, as `harness bench` writes it: its hook,
    /// its physical floor, and the reference plugin's hook through the
    /// harness's and the raw client, each at a fixed time in µs.
    fn bench_run(bench: &str, [hook, socket, harness, raw]: [u64; 4]) -> BenchReport {
        let at = |plugin: &str, kind: CallKind, micros: u64| {
            let mut call = CallReport::new(plugin, kind, "ExecuteCommand", None);
            let mut measured = Measured::default();
            for _ in 0..100 {
                measured.latencies.record(Duration::from_micros(micros));
            }
            call.add_round(measured);
            if plugin != bench {
                call.floor_for = Some(bench.to_owned());
            }
            call
        };
        let mut report = synthetic("ExecuteCommand", 1, 1.0, 1);
        report.calls = vec![
            at(bench, CallKind::Hook, hook),
            at(bench, CallKind::FloorSocket, socket),
            at("rust-reference", CallKind::FloorHarness, harness),
            at("rust-reference", CallKind::FloorRaw, raw),
        ];
        report.attribution = attribution::attribute(&report.calls, &[]);
        report.overhead = overhead::overheads(&report.calls);
        report
    }

    #[test]
    fn a_merge_sets_each_hook_against_the_floors_of_its_own_run() {
        // The runs were made under different load: b's floors are 3× a's.
        let a = bench_run("a", [100, 20, 40, 30]);
        let b = bench_run("b", [300, 60, 120, 90]);
        let dir = tempfile::tempdir().unwrap();
        for order in [[a.clone(), b.clone()], [b.clone(), a.clone()]] {
            let merged = BenchReport::merge(&order, now_rfc3339()).unwrap();
            // Each run's floors stay apart instead of being pooled.
            assert_eq!(merged.calls.len(), 8, "{:?}", merged.calls);
            // Loading derives the attribution again from the calls.
            let path = dir.path().join("merged.json");
            std::fs::write(&path, merged.to_json()).unwrap();
            let loaded = BenchReport::load(&path).unwrap();
            for report in [&merged, &loaded] {
                for run in [&a, &b] {
                    let own = &run.attribution[0];
                    let found = report
                        .attribution
                        .iter()
                        .find(|one| one.plugin == own.plugin)
                        .expect("every hook is attributed");
                    assert_eq!(found, own, "{}", own.plugin);
                    // Same-run floors: the client is 2× the socket and the
                    // hook 5× in both runs (to the histograms' resolution).
                    let near = |ratio: Option<f64>, expected: f64| {
                        ratio.is_some_and(|ratio| (ratio - expected).abs() < 0.01)
                    };
                    assert!(near(found.harness_client_ratio, 2.0), "{found:?}");
                    assert!(near(found.hook_ratio, 5.0), "{found:?}");
                    let pair = report
                        .overhead
                        .iter()
                        .find(|o| o.floor_for.as_deref() == Some(own.plugin.as_str()))
                        .expect("each run's overhead");
                    assert_eq!(pair, &run.overhead[0]);
                }
                assert_eq!(report.overhead.len(), 2);
            }
        }
    }

    #[test]
    fn a_floor_key_names_the_run_it_was_measured_for() {
        let run = bench_run("com.example.p", [100, 20, 40, 30]);
        let keys: Vec<String> = run
            .calls
            .iter()
            .map(|call| call.key().to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "hook/ExecuteCommand (com.example.p)",
                "floor-socket/ExecuteCommand (com.example.p)",
                "floor-harness/ExecuteCommand (rust-reference, for com.example.p)",
                "floor-raw/ExecuteCommand (rust-reference, for com.example.p)",
            ]
        );
    }

    #[test]
    fn files_of_another_kind_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        std::fs::write(&path, r#"{"schema": "mm-plugin-harness/run-report/v1"}"#).unwrap();
        let err = BenchReport::load(&path).unwrap_err().to_string();
        assert!(err.contains("run-report/v1"), "{err}");
        std::fs::write(&path, format!(r#"{{"schema": "{SCHEMA}", "calls": 3}}"#)).unwrap();
        let err = BenchReport::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a bench report"), "{err}");
    }
}
