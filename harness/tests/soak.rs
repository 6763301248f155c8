//! A bounded soak run: relaunching and calling the plugin repeatedly must
//! not grow the harness's file descriptors, threads or memory.

mod common;

use common::{fixture, harness, read_json, run_bounded};
use std::time::Duration;

#[test]
fn relaunching_and_calling_does_not_grow_the_harness() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("soak.json");
    let mut command = harness();
    command
        .args([
            "soak",
            fixture("rust-reference").to_str().unwrap(),
            "--relaunches",
            "15",
            "--calls",
            "50",
            "--json",
        ])
        .arg(&json);
    let output = run_bounded(command, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_json(&json);
    assert_eq!(report["calls"], 750);
    assert_eq!(report["failed_calls"], 0);
    let samples = report["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 15);
    let growth = |key: &str| samples[14][key].as_i64().unwrap() - samples[0][key].as_i64().unwrap();
    assert!(
        growth("fds") <= report["bounds"]["fds"].as_i64().unwrap(),
        "{report:#}"
    );
    assert!(
        growth("threads") <= report["bounds"]["threads"].as_i64().unwrap(),
        "{report:#}"
    );
    assert_eq!(report["over_bounds"], serde_json::json!([]));
}

#[test]
fn a_leak_bound_of_zero_memory_growth_is_enforced() {
    // Resident memory always moves a little between launches; a bound of
    // -1 KiB cannot be met, so the verdict must be a failure that says why.
    let mut command = harness();
    command.args([
        "soak",
        fixture("rust-reference").to_str().unwrap(),
        "--relaunches",
        "2",
        "--calls",
        "5",
        "--max-rss-growth-kib=-1000000",
    ]);
    let output = run_bounded(command, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("leak: resident memory (KiB) grew by"),
        "{stdout}"
    );
}
