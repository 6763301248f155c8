//! `harness fuzz` against the fixtures: planted bugs are found, shrunk to
//! minimal cases, saved, and fail again on replay; well-behaved plugins
//! pass bounded runs, raw mutations included.

mod common;

use std::{path::Path, time::Duration};

use common::{
    fixture, harness, harness_fuzz, harness_run, python_fixtures, read_json, rust_reference,
    signal_after_line,
};

/// The one saved suite file in `dir` whose name contains `kind`.
fn saved(dir: &Path, kind: &str) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap().to_string_lossy().contains(kind))
        .collect();
    assert_eq!(files.len(), 1, "{kind} in {files:?}");
    files[0].clone()
}

/// The message of the saved case's single MessageWillBePosted step.
fn saved_message(path: &Path) -> String {
    let suite = read_json(path);
    let step = &suite["cases"][0]["steps"][0];
    assert_eq!(step["hook"], "MessageWillBePosted", "{suite:#}");
    step["request"]["post"]["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn planted_bugs_are_found_shrunk_saved_and_fail_on_replay() {
    python_fixtures();
    let plugin = fixture("fragile-python");
    let spec = plugin.join("fuzz-spec.json");
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = harness_fuzz(&[
        plugin.to_str().unwrap(),
        "--hooks",
        "MessageWillBePosted",
        "--cases",
        "120",
        "--seed",
        "1",
        "--spec",
        spec.to_str().unwrap(),
        "--save",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("cases/s"), "{output}");
    assert!(output.contains("--seed 1 --cases 120"), "{output}");

    // The crash on U+202E: restarted after, shrunk to the character alone.
    assert!(output.contains("crash (exit status 3)"), "{output}");
    let crash = saved(dir.path(), "crash");
    let message = saved_message(&crash);
    assert!(message.contains('\u{202E}'), "{message:?}");
    assert!(message.chars().count() <= 4, "{message:?}");
    // Written escaped, so the file shows the override instead of obeying it.
    assert!(std::fs::read_to_string(&crash).unwrap().contains("\\u202e"));

    // The 4000-character limit breaks the spec; shrunk to the first length over it.
    assert!(
        output.contains("hooks.MessageWillBePosted.never[0]"),
        "{output}"
    );
    let long = saved(dir.path(), "spec-rule0");
    let message = saved_message(&long);
    assert_eq!(message.chars().count(), 4001);
    assert!(!message.to_lowercase().contains("badword"));

    // Each saved case fails again, for the same reason.
    let (code, replay) = harness_run(&[
        plugin.to_str().unwrap(),
        "--no-builtin",
        "--suite",
        crash.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{replay}");
    assert!(
        replay.contains("the plugin process exited (exit status: 3)"),
        "{replay}"
    );
    let (code, replay) = harness_run(&[
        plugin.to_str().unwrap(),
        "--no-builtin",
        "--suite",
        long.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{replay}");
    assert!(replay.contains("response.rejection_reason"), "{replay}");
    assert!(replay.contains("\"too long\""), "{replay}");
}

#[test]
fn a_well_behaved_plugin_passes_a_bounded_run_on_every_hook() {
    let (code, output) = harness_fuzz(&[
        fixture("rust-reference").to_str().unwrap(),
        "--cases",
        "400",
        "--seed",
        "5",
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("Fuzzing 39 hooks"), "{output}");
    assert!(output.contains("400 cases"), "{output}");
    assert!(output.contains("cases/s"), "{output}");
    assert!(output.contains("400 passed, 0 failed"), "{output}");
}

#[test]
fn a_servehttp_failure_is_saved_as_an_http_step_that_fails_on_replay() {
    // With this fault every ServeHTTP answer has a status the server refuses.
    let plugin = fixture("rust-reference");
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = harness_fuzz(&[
        plugin.to_str().unwrap(),
        "--hooks",
        "ServeHTTP",
        "--cases",
        "10",
        "--seed",
        "1",
        "--save",
        dir.path().to_str().unwrap(),
        "--",
        "--fault",
        "http-bad-status",
    ]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("the server answers 500 itself"), "{output}");
    assert!(output.contains("-- --fault http-bad-status"), "{output}");
    let saved = saved(dir.path(), "http-500");
    let suite = read_json(&saved);
    let step = &suite["cases"][0]["steps"][0]["http"];
    // Shrunk to a plain GET: no headers, no body.
    assert!(
        step.get("headers").is_none() && step.get("body").is_none(),
        "{suite:#}"
    );
    let (code, replay) = harness_run(&[
        plugin.to_str().unwrap(),
        "--no-builtin",
        "--suite",
        saved.to_str().unwrap(),
        "--",
        "--fault",
        "http-bad-status",
    ]);
    assert_eq!(code, 1, "{replay}");
    assert!(replay.contains("http.answered"), "{replay}");
}

#[test]
fn the_hello_example_passes_a_bounded_run_servehttp_included() {
    python_fixtures();
    let (code, output) = harness_fuzz(&[
        fixture("hello-python").to_str().unwrap(),
        "--cases",
        "300",
        "--seed",
        "1",
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("ServeHTTP"), "{output}");
    assert!(output.contains("300 passed, 0 failed"), "{output}");
}

#[test]
fn raw_mutations_do_not_bring_the_reference_plugin_down() {
    let (code, output) = harness_fuzz(&[
        fixture("rust-reference").to_str().unwrap(),
        "--raw",
        "--cases",
        "400",
        "--seed",
        "9",
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(
        !output.contains("ServeHTTP"),
        "raw mode leaves ServeHTTP out: {output}"
    );
    assert!(output.contains("0 crashes"), "{output}");
}

#[test]
fn the_same_seed_finds_and_shrinks_the_same_case() {
    // rust-reference allows every post; a spec demanding a rejection of
    // messages with an "o" makes every such post a failure to shrink.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        r#"{"hooks": {"MessageWillBePosted": {"always": [
             {"expect": {"outcome": {"reject": {}}}, "when_message_matches": "o"}]}}}"#,
    )
    .unwrap();
    let run = |save: &Path| {
        let (code, output) = harness_fuzz(&[
            fixture("rust-reference").to_str().unwrap(),
            "--hooks",
            "MessageWillBePosted,ExecuteCommand",
            "--cases",
            "60",
            "--seed",
            "42",
            "--spec",
            spec.to_str().unwrap(),
            "--save",
            save.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{output}");
        std::fs::read_to_string(saved(save, "spec-rule0")).unwrap()
    };
    let first = run(&dir.path().join("a"));
    let second = run(&dir.path().join("b"));
    assert_eq!(first, second);
    let suite: serde_json::Value = serde_json::from_str(&first).unwrap();
    let message = suite["cases"][0]["steps"][0]["request"]["post"]["message"]
        .as_str()
        .unwrap();
    // Shrunk to a segment holding the "o" (a word, and what it came with).
    assert!(
        message.contains('o') && message.chars().count() <= 8,
        "{first}"
    );
}

#[test]
fn ctrl_c_stops_the_run_and_still_reports() {
    let mut command = harness();
    command
        .args(["fuzz", fixture("rust-reference").to_str().unwrap()])
        .args(["--time", "60s", "--seed", "3"])
        .args(["--hooks", "MessageWillBePosted,ExecuteCommand"])
        .args(["--", "--fault", "huge-response:ExecuteCommand"]);
    // Progress lines are drawn on terminals only; a finding is printed
    // wherever the output goes, and means cases have run.
    let output = signal_after_line(
        command,
        "a finding",
        |line| line.trim_start().starts_with("FOUND ExecuteCommand"),
        nix::sys::signal::Signal::SIGINT,
        Duration::from_secs(120),
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted"), "{text}");
    assert!(text.contains("Reproduce"), "{text}");
    assert!(
        text.contains("FAIL ExecuteCommand: status RESOURCE_EXHAUSTED"),
        "{text}"
    );
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let plugin = fixture("rust-reference");
    let (code, output) = harness_fuzz(&[plugin.to_str().unwrap(), "--hooks", "MessageWillBePostd"]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("did you mean `MessageWillBePosted`"),
        "{output}"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        "{\"hooks\": {\"ExecuteCommand\": {\"never\": [\n  {\"outcome\": \"reject\"}]}}}",
    )
    .unwrap();
    let (code, output) =
        harness_fuzz(&[plugin.to_str().unwrap(), "--spec", spec.to_str().unwrap()]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("spec.json:2:3"), "{output}");
    assert!(output.contains("ExecuteCommand cannot reject"), "{output}");
    // The reference plugin is built for the other tests; this one must not need it.
    let _ = rust_reference;
}
