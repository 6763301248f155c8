//! `harness bench --through-recorder`: each hook measured directly and
//! through `harness record` in front of a second copy of the plugin, in
//! one run. Timings are never asserted: only that both were measured, set
//! against each other, and that nothing was left running.

mod common;

use std::time::Duration;

use common::{fixture, harness_subcommand_with, processes_with_env, read_json};

#[test]
fn a_bench_sets_each_hook_through_the_recorder_against_the_same_hook_direct() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    // Tags every process of this run, the recorder's plugin included, so
    // what is left afterwards can be found.
    let tag = format!("record-bench-{}", std::process::id());
    let hooks = ["OnConfigurationChange", "MessageWillBePosted"];
    let plugin = fixture("rust-reference");
    let hook_list = hooks.join(",");
    let args = [
        plugin.to_str().unwrap(),
        "--through-recorder",
        "--hooks",
        &hook_list,
        "--api",
        "none",
        "--floor",
        "none",
        "--no-socket-floor",
        "--calls",
        "60",
        "--rounds",
        "2",
        "--warmup",
        "0s",
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, output) =
        harness_subcommand_with("bench", &args, Duration::from_secs(300), |command| {
            command.env("MM_HARNESS_TEST_TAG", &tag);
        });
    assert_eq!(code, 0, "{output}");
    let report = read_json(&out.join("report.json"));
    for hook in hooks {
        for kind in ["hook", "recorded"] {
            let call = report["calls"]
                .as_array()
                .unwrap()
                .iter()
                .find(|call| call["kind"] == kind && call["name"] == hook)
                .unwrap_or_else(|| panic!("no {kind} {hook} in {report:#}"));
            assert_eq!(call["summary"]["count"], 60, "{kind} {hook}: {call:#}");
            assert_eq!(call["errors"], 0, "{kind} {hook}: {call:#}");
        }
    }
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(markdown.contains("Through harness record"), "{markdown}");
    for hook in hooks {
        assert!(
            markdown
                .lines()
                .any(|line| line.starts_with(&format!("| {hook} |")) && line.contains('×')),
            "no ratio for {hook}:\n{markdown}"
        );
    }
    assert!(
        output.contains("harness record in front of the plugin:"),
        "{output}"
    );
    assert_eq!(
        processes_with_env("MM_HARNESS_TEST_TAG", &tag),
        Vec::<u32>::new(),
        "processes left behind"
    );
}
