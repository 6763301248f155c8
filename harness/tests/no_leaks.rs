//! No run leaves a process behind: not the plugin, not what it started,
//! whether the run passed or the plugin failed to start.

mod common;

use common::{fixture, gone_soon, harness, run_bounded};
use std::time::Duration;

fn run_with_pidfile(plugin: &str) -> (i32, u32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("grandchild.pid");
    let json = dir.path().join("report.json");
    let mut command = harness();
    command
        .env("HARNESS_GRANDCHILD_PIDFILE", &pidfile)
        .args([
            "run",
            &fixture("misbehaving").join(plugin).display().to_string(),
            "--json",
        ])
        .arg(&json);
    let output = run_bounded(command, Duration::from_secs(60));
    let grandchild: u32 = std::fs::read_to_string(&pidfile)
        .expect("the fixture wrote its background process's pid")
        .trim()
        .parse()
        .unwrap();
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (output.status.code().unwrap_or(-1), grandchild, report)
}

#[test]
fn a_passing_run_reaps_the_plugin_and_its_grandchildren() {
    let (code, grandchild, report) = run_with_pidfile("grandchild");
    assert_eq!(code, 0, "{report:#}");
    let plugin_pid = report["plugin"]["pid"].as_u64().unwrap() as u32;
    assert!(
        gone_soon(plugin_pid),
        "plugin process {plugin_pid} survived the run"
    );
    assert!(
        gone_soon(grandchild),
        "background process {grandchild} survived the run"
    );
}

#[test]
fn a_failed_launch_reaps_the_plugin_and_its_grandchildren() {
    let (code, grandchild, report) = run_with_pidfile("grandchild-garbage");
    assert_eq!(code, 3, "{report:#}");
    assert!(
        report["launch_failure"]["message"]
            .as_str()
            .unwrap()
            .contains("not a handshake")
    );
    assert!(
        gone_soon(grandchild),
        "background process {grandchild} survived the run"
    );
}
