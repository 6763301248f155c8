//! Suites run at once (`--jobs`) give the results of a serial run, in the
//! suites' order, with each suite's console lines together; partitions
//! (`--partition`) split the cases so that together they are the full run.

mod common;

use std::{collections::BTreeSet, path::Path};

use common::{case_names, fixture, harness_run, python_fixtures, read_json};

/// hello-python through the built-in suites and its own, in CI snapshot
/// mode (its snapshots are committed), with `extra` flags; the JSON report.
fn run_hello(dir: &Path, name: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let plugin = fixture("hello-python");
    let suites = plugin.join("suites");
    let json = dir.join(name);
    let mut args = vec![
        plugin.to_str().unwrap(),
        "--suite",
        suites.to_str().unwrap(),
        "--ci",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, output) = harness_run(&args);
    assert_eq!(code, 0, "{output}");
    (read_json(&json), output)
}

/// The report without what differs from run to run: times, process ids,
/// and the numbers in texts (the plugin's port in the handshake, the
/// timestamps of its log lines, the time it took to exit).
fn normalised(mut report: serde_json::Value) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                let mut masked = String::with_capacity(text.len());
                for ch in text.chars() {
                    if !ch.is_ascii_digit() {
                        masked.push(ch);
                    } else if !masked.ends_with('#') {
                        masked.push('#');
                    }
                }
                *text = masked;
            }
            serde_json::Value::Object(map) => {
                for key in ["duration", "at", "pid", "time_to_handshake", "handshake"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut report);
    report
}

#[test]
fn four_jobs_give_the_serial_results_with_each_suite_printed_together() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let (serial, _) = run_hello(dir.path(), "serial.json", &["--jobs", "1"]);
    let (parallel, output) = run_hello(dir.path(), "parallel.json", &["--jobs", "4", "--verbose"]);
    assert!(
        serial["suites"].as_array().unwrap().len() >= 4,
        "too few suites to run at once: {serial}"
    );
    assert_eq!(normalised(serial), normalised(parallel));

    // Every case line follows the `Running` line of its own suite.
    let mut current_suite = None;
    let mut case_lines = 0;
    for line in output.lines() {
        if let Some(suite) = line.trim_start().strip_prefix("Running ") {
            current_suite = suite.split_whitespace().next().map(str::to_owned);
            continue;
        }
        let Some((status, name)) = line.rsplit_once("] ") else {
            continue;
        };
        let status = status.split_whitespace().next().unwrap_or_default();
        if ["PASS", "SKIP", "FAIL"].contains(&status) {
            let suite = name.split('/').next().unwrap();
            assert_eq!(
                current_suite.as_deref(),
                Some(suite),
                "{line:?} is not under its suite's heading:\n{output}"
            );
            case_lines += 1;
        }
    }
    assert!(case_lines > 10, "too few case lines seen:\n{output}");
}

#[test]
fn partitions_together_are_the_full_run() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let (full, _) = run_hello(dir.path(), "full.json", &[]);
    let full_names = case_names(&full);
    for kind in ["hash", "count"] {
        let mut union = BTreeSet::new();
        let mut total = 0;
        for index in 1..=3 {
            let partition = format!("{kind}:{index}/3");
            let name = format!("{kind}-{index}.json");
            let (part, _) = run_hello(dir.path(), &name, &["--partition", &partition]);
            let names = case_names(&part);
            assert!(!names.is_empty(), "{partition} took no case");
            total += names.len();
            union.extend(names);
        }
        assert_eq!(
            total,
            full_names.len(),
            "{kind}: a case ran in two partitions"
        );
        assert_eq!(
            union,
            full_names.iter().cloned().collect::<BTreeSet<_>>(),
            "{kind}: the partitions are not the full run"
        );
    }
    let (code, output) = harness_run(&[
        fixture("hello-python").to_str().unwrap(),
        "--partition",
        "hash:4/3",
    ]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("expected `hash:K/N` or `count:K/N`"),
        "{output}"
    );
}
