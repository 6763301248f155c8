//! `harness bench` and `harness report` end to end. Timings are never
//! asserted: only verdicts (exit codes, what was flagged, what was counted),
//! made unmistakable with bench-python's hook delay where a verdict needs
//! a slow plugin.

mod common;

use std::{path::Path, time::Duration};

use common::{
    fixture, harness, harness_bench, harness_report, python_fixtures, read_json, signal_after_line,
};
use serde_json::Value;

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A short bench of bench-python's MessageWillBePosted, no API, no floor.
fn quick_hook_bench(out: &Path, extra: &[&str], plugin_args: &[&str]) -> (i32, String) {
    python_fixtures();
    let plugin = fixture("bench-python");
    let mut args = vec![
        path(&plugin),
        "--hooks",
        "MessageWillBePosted",
        "--api",
        "none",
        "--floor",
        "none",
        "--calls",
        "24",
        "--rounds",
        "3",
        "--warmup",
        "0s",
        "--out",
        path(out),
    ];
    args.extend(extra);
    if !plugin_args.is_empty() {
        args.push("--");
        args.extend(plugin_args);
    }
    harness_bench(&args)
}

fn calls_of<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|call| call["kind"] == kind)
        .collect()
}

#[test]
fn a_slow_plugin_fails_the_budget_and_the_call_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = quick_hook_bench(
        dir.path(),
        &["--budget", "5ms", "--percentile", "p50"],
        &["--hook-delay", "20ms"],
    );
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("OVER BUDGET hook/MessageWillBePosted (com.example.bench-python): p50"),
        "{output}"
    );
    assert!(output.contains("over the 5.00ms budget"), "{output}");
    assert!(output.contains("budget 5.00ms at p50: FAILED"), "{output}");
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["budget"]["passed"], false);
    assert_eq!(report["budget"]["calls"][0]["passed"], false);
}

#[test]
fn a_fast_plugin_passes_a_generous_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = quick_hook_bench(dir.path(), &["--budget", "10s"], &[]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("budget 10.0s at p99: passed"), "{output}");
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["budget"]["passed"], true);
    let hook = calls_of(&report, "hook")[0];
    assert_eq!(hook["summary"]["count"], 24);
    assert_eq!(hook["rounds"].as_array().unwrap().len(), 3);
}

#[test]
fn a_planted_twofold_slowdown_is_flagged_and_identical_runs_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let (code, output) = quick_hook_bench(&base, &[], &["--hook-delay", "10ms"]);
    assert_eq!(code, 0, "{output}");
    let baseline = base.join("report.json");

    let slow = dir.path().join("slow");
    let (code, output) = quick_hook_bench(
        &slow,
        &["--baseline", path(&baseline)],
        &["--hook-delay", "20ms"],
    );
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("REGRESSION hook/MessageWillBePosted (com.example.bench-python) p50"),
        "{output}"
    );
    let report = read_json(&slow.join("report.json"));
    assert!(report["baseline"]["regressions"].as_u64().unwrap() >= 1);

    // The same measurements compared with themselves: nothing to flag.
    let (code, output) = harness_report(&[path(&baseline), path(&baseline)]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("0 regressions, 0 improvements"), "{output}");
    // And the slow run against the baseline, from the stored files.
    let (code, output) = harness_report(&[path(&baseline), path(&slow.join("report.json"))]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("REGRESSION"), "{output}");
}

#[test]
fn reports_round_trip_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (code, output) = harness_bench(&[
        path(&fixture("rust-reference")),
        "--hooks",
        "MessageWillBePosted,ServeHTTP",
        "--calls",
        "40",
        "--rounds",
        "2",
        "--warmup",
        "0s",
        "--out",
        path(&run),
    ]);
    assert_eq!(code, 0, "{output}");
    for file in ["report.json", "report.md", "report.html"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let report = read_json(&run.join("report.json"));
    assert_eq!(report["schema"], "mm-plugin-harness/bench-report/v1");
    for call in report["calls"].as_array().unwrap() {
        // HdrHistogram V2 compressed, base64: the cookie reads "HISTF".
        assert!(
            call["histogram"].as_str().unwrap().starts_with("HISTF"),
            "{call}"
        );
    }
    // The floor ran beside it: the overhead of each hook (and of both
    // kinds of HTTP request) is stated.
    assert_eq!(calls_of(&report, "floor_raw").len(), 3);
    let overheads: Vec<&str> = report["overhead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|overhead| overhead["hook"].as_str().unwrap())
        .collect();
    assert_eq!(
        overheads,
        [
            "MessageWillBePosted",
            "ServeHTTP (small)",
            "ServeHTTP (1 MiB)"
        ]
    );
    assert!(report["machine"]["cpu_model"].as_str().is_some());

    // A report read back and written again is the same report.
    let again = dir.path().join("again");
    let (code, output) = harness_report(&[path(&run.join("report.json")), "--out", path(&again)]);
    assert_eq!(code, 0, "{output}");
    let reread = read_json(&again.join("report.json"));
    assert_eq!(reread["calls"], report["calls"]);

    // Merged with itself: every count doubles, rounds pool, percentiles hold.
    let merged_dir = dir.path().join("merged");
    let file = path(&run.join("report.json")).to_owned();
    let (code, output) = harness_report(&[&file, &file, "--merge", "--out", path(&merged_dir)]);
    assert_eq!(code, 0, "{output}");
    let merged = read_json(&merged_dir.join("report.json"));
    assert_eq!(merged["sources"].as_array().unwrap().len(), 2);
    for (one, two) in report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .zip(merged["calls"].as_array().unwrap())
    {
        assert_eq!(
            two["summary"]["count"],
            one["summary"]["count"].as_u64().unwrap() * 2
        );
        assert_eq!(two["summary"]["p50_ns"], one["summary"]["p50_ns"]);
        assert_eq!(two["rounds"].as_array().unwrap().len(), 4);
    }
}

#[test]
fn the_plugin_observed_api_round_trip_is_measured_with_the_server_side_time() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = harness_bench(&[
        path(&fixture("bench-python")),
        "--hooks",
        "none",
        "--api",
        "GetServerVersion,KVSet",
        "--calls",
        "50",
        "--rounds",
        "2",
        "--warmup",
        "0s",
        "--out",
        path(dir.path()),
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("GetServerVersion: p50"), "{output}");
    assert!(output.contains("upstream"), "{output}");
    let report = read_json(&dir.path().join("report.json"));
    let plugin_side = calls_of(&report, "api_plugin");
    let server_side = calls_of(&report, "api_server");
    assert_eq!(plugin_side.len(), 2);
    for call in plugin_side {
        assert_eq!(call["summary"]["count"], 50, "{call}");
        assert_eq!(call["errors"], 0, "{call}");
        // Every call the plugin timed was served, and timed, by the server.
        let served = server_side
            .iter()
            .find(|s| s["name"] == call["name"])
            .unwrap();
        assert_eq!(served["summary"]["count"], 50, "{served}");
    }
    assert_eq!(
        report["machine"]["grpcio"].as_str().map(str::is_empty),
        Some(false)
    );
}

#[test]
fn a_plugin_without_the_api_protocol_gets_hooks_and_a_note() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = harness_bench(&[
        path(&fixture("hello-python")),
        "--calls",
        "20",
        "--rounds",
        "2",
        "--warmup",
        "0s",
        "--floor",
        "none",
        "--out",
        path(dir.path()),
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("does not speak the /mm-harness-bench protocol"),
        "{output}"
    );
    let report = read_json(&dir.path().join("report.json"));
    let hooks: Vec<&str> = calls_of(&report, "hook")
        .iter()
        .map(|call| call["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        hooks,
        [
            "MessageWillBePosted",
            "ExecuteCommand",
            "ServeHTTP (small)",
            "ServeHTTP (1 MiB)"
        ]
    );
    for call in calls_of(&report, "hook") {
        assert_eq!(call["summary"]["count"], 20, "{call}");
        assert_eq!(call["errors"], 0, "{call}");
    }
    // OnActivate asked for the server version: outside the rounds, so not counted.
    assert!(calls_of(&report, "api_server").is_empty(), "{report:#}");
}

#[test]
fn an_open_loop_reports_corrected_and_uncorrected_latencies() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = harness_bench(&[
        path(&fixture("rust-reference")),
        "--hooks",
        "MessageWillBePosted",
        "--rate",
        "400",
        "--concurrency",
        "2",
        "--calls",
        "60",
        "--rounds",
        "2",
        "--warmup",
        "0s",
        "--floor",
        "none",
        "--out",
        path(dir.path()),
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("Open loop: corrected and uncorrected"),
        "{output}"
    );
    let report = read_json(&dir.path().join("report.json"));
    let hook = calls_of(&report, "hook")[0];
    assert_eq!(hook["summary"]["count"], 60);
    assert_eq!(hook["uncorrected"]["summary"]["count"], 60);
    assert_eq!(report["sources"][0]["mode"]["kind"], "open");
}

#[test]
fn bad_flags_and_files_are_input_errors() {
    let reference = fixture("rust-reference");
    let (code, output) = harness_bench(&[
        path(&reference),
        "--hooks",
        "MessageWillBePostd",
        "--floor",
        "none",
    ]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("did you mean MessageWillBePosted?"),
        "{output}"
    );
    let (code, output) =
        harness_bench(&[path(&reference), "--baseline", "/nonexistent/report.json"]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("/nonexistent/report.json"), "{output}");
    let (code, output) = harness_bench(&[path(&reference), "--percentile", "p42"]);
    assert_eq!(code, 2, "{output}");
    let (code, output) = harness_report(&["/nonexistent/report.json"]);
    assert_eq!(code, 2, "{output}");
}

#[test]
fn ctrl_c_stops_the_bench_and_still_writes_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = harness();
    // Ten minutes in 300 rounds of 2 s: the end of round 1 comes soon and
    // says calls were measured, with most of the run still ahead.
    command.args([
        "bench",
        path(&fixture("rust-reference")),
        "--hooks",
        "MessageWillBePosted",
        "--duration",
        "10min",
        "--rounds",
        "300",
        "--warmup",
        "0s",
        "--floor",
        "none",
        "--out",
        path(dir.path()),
    ]);
    let output = signal_after_line(
        command,
        "\"Round 1/300\" line",
        |line| line.trim_start().starts_with("Round 1/300 "),
        nix::sys::signal::Signal::SIGINT,
        Duration::from_secs(120),
    );
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["interrupted"], true);
    assert!(
        calls_of(&report, "hook")[0]["summary"]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
}
