//! Failures a plugin reports only in its own output: an API call failing
//! inside OnActivate and logged, a traceback logged from a command, lines
//! printed to stdout. Warnings by default, failures with
//! `--fail-on-plugin-errors`, and placed in the transcript among the calls.

mod common;

use common::{fixture, harness_run_with, python_fixtures, read_json};

fn run(extra: &[&str]) -> (i32, String, serde_json::Value) {
    python_fixtures();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let json = dir.path().join("report.json");
    let plugin = fixture("quiet-failure-python");
    let mut args = vec![
        plugin.to_str().expect("a UTF-8 path"),
        "--json",
        json.to_str().expect("a UTF-8 path"),
    ];
    args.extend_from_slice(extra);
    let (code, output) = harness_run_with(&args, |command| {
        command.env_remove("CI");
    });
    (code, output, read_json(&json))
}

fn case<'a>(report: &'a serde_json::Value, suite: &str, name: &str) -> &'a serde_json::Value {
    report["suites"]
        .as_array()
        .expect("suites")
        .iter()
        .filter(|s| s["name"] == suite)
        .flat_map(|s| s["cases"].as_array().expect("cases"))
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {suite}/{name} in {report:#}"))
}

#[test]
fn self_reported_failures_are_warnings_by_default() {
    let (code, output, report) = run(&[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("WARN step 0 (OnActivate): the plugin logged an error during this step:"),
        "{output}"
    );
    assert!(output.contains("Failed to get the owner"), "{output}");
    assert!(
        output.contains(
            "the plugin wrote to stdout (the server only logs it) during this step: checking a post"
        ),
        "{output}"
    );
    assert!(
        output.contains("the plugin printed a traceback during this step"),
        "{output}"
    );
    let activate = case(&report, "lifecycle", "activate");
    assert_eq!(activate["outcome"]["status"], "passed");
    let warnings = activate["steps"][0]["warnings"]
        .as_array()
        .expect("warnings");
    assert_eq!(warnings.len(), 1, "{activate:#}");
    assert!(
        report["totals"]["warnings"].as_u64().expect("a count") >= 3,
        "{:#}",
        report["totals"]
    );
    assert_eq!(report["totals"]["failed"], 0);
}

#[test]
fn the_strict_flag_fails_the_step_and_places_the_line_in_the_transcript() {
    let (code, output, report) =
        run(&["--filter", "lifecycle/activate", "--fail-on-plugin-errors"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("FAIL"), "{output}");
    assert!(output.contains("plugin output:"), "{output}");
    let activate = case(&report, "lifecycle", "activate");
    assert_eq!(activate["outcome"]["status"], "failed");
    assert_eq!(
        activate["steps"][0]["mismatches"][0]["field"],
        "plugin output"
    );
    // The wire in order: OnActivate goes out, the plugin's GetUser fails,
    // then the plugin logs it.
    let transcript = activate["transcript"].as_array().expect("a transcript");
    let position = |predicate: &dyn Fn(&serde_json::Value) -> bool| {
        transcript
            .iter()
            .position(predicate)
            .unwrap_or_else(|| panic!("not in {transcript:#?}"))
    };
    let api = position(&|event| event["direction"] == "api" && event["method"] == "GetUser");
    let logged =
        position(&|event| event["direction"] == "output" && event["concern"] == "error_log");
    assert!(api < logged, "{transcript:#?}");
    // Causally after the failed call; the read time says nothing finer.
    assert!(position(&|event| event["direction"] == "hook") < logged);
    assert_eq!(report["exit_code"], 1);
}

#[test]
fn a_suite_can_ask_for_failures_itself() {
    python_fixtures();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = common::write_file(
        dir.path(),
        "strict.json",
        r#"{"name": "strict", "plugin_errors": "fail", "cases": [
            {"name": "command", "steps": [{"hook": "ExecuteCommand",
              "request": {"args": {"command": "/quiet"}}}]}
        ]}"#,
    );
    let plugin = fixture("quiet-failure-python");
    let (code, output) = harness_run_with(
        &[
            plugin.to_str().expect("a UTF-8 path"),
            "--no-builtin",
            "--suite",
            &suite,
        ],
        |command| {
            command.env_remove("CI");
        },
    );
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("FAIL"), "{output}");
    assert!(
        output.contains("the plugin printed a traceback during this step"),
        "{output}"
    );
}
