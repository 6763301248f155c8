//! Misbehaving plugins: the rust-reference fixture with each `--fault`
//! switch, run through `harness run` as a user would. Each test checks the
//! diagnosis's key facts (what happened, at which step, the plugin's last
//! words, what the server would do), the exit code, and that no process
//! of the plugin's group outlives it.

mod common;

use std::{
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use common::Watched;
use serde_json::Value;

/// Stops a run that hangs; far past what any of these runs needs, it is
/// no timing requirement.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// One finished `harness run`.
struct Run {
    code: i32,
    /// Stdout, then stderr.
    output: String,
    /// The `--json` report.
    report: Value,
    /// The harness's peak resident memory (VmHWM).
    peak_rss_kib: u64,
}

impl Run {
    fn assert_output(&self, fragments: &[&str]) {
        for fragment in fragments {
            assert!(
                self.output.contains(fragment),
                "missing {fragment:?} in:\n{}",
                self.output
            );
        }
    }
}

/// `harness run rust-reference ARGS -- --fault F...`, checked to leave no
/// process behind. The limits are generous (`--timeout 30s --start-timeout
/// 30s --grace 10s` unless ARGS sets them), so a loaded machine cannot turn
/// a slow start or call into a different diagnosis; the tests about a limit
/// set it short themselves.
fn run(faults: &[&str], args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut command = common::harness();
    command
        .arg("run")
        .arg(common::fixture("rust-reference"))
        .arg("--json")
        .arg(&json)
        .args(args);
    for (flag, value) in [
        ("--timeout", "30s"),
        ("--start-timeout", "30s"),
        ("--grace", "10s"),
    ] {
        if !args.contains(&flag) {
            command.args([flag, value]);
        }
    }
    command.arg("--");
    for fault in faults {
        command.args(["--fault", fault]);
    }
    let (output, peak_rss_kib, marker) = run_watched(command);
    let output_text = text(&output);
    assert_no_survivors(&marker, &output_text);
    let report = serde_json::from_slice(
        &std::fs::read(&json)
            .unwrap_or_else(|err| panic!("no JSON report ({err}):\n{output_text}")),
    )
    .unwrap_or_else(|err| panic!("the JSON report does not parse ({err}):\n{output_text}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        output: output_text,
        report,
        peak_rss_kib,
    }
}

/// Runs `command` to its end, draining its output and sampling its peak
/// memory: what it printed, VmHWM in KiB, and the marker its processes
/// carry.
fn run_watched(command: Command) -> (Output, u64, (&'static str, String)) {
    let watched = Watched::spawn(command);
    let (var, value) = watched.marker();
    let marker = (var, value.to_owned());
    let mut peak_rss_kib = 0;
    // VmHWM only grows, so the last sample before the exit is the peak.
    let output = watched.finish_watching(HANG_LIMIT, |pid| {
        peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(pid).unwrap_or(0));
    });
    (output, peak_rss_kib, marker)
}

/// Stdout, then stderr.
fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// No process of the run is left: not the plugin, not what it started.
/// Reaping is asynchronous, so this waits for them to go, and gives up
/// (killing them) only after half a minute, far past any reaping delay.
fn assert_no_survivors((var, value): &(&'static str, String), output: &str) {
    let started = std::time::Instant::now();
    loop {
        let left = common::processes_with_env(var, value);
        if left.is_empty() {
            return;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let names: Vec<String> = left
                .iter()
                .map(|pid| {
                    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    format!(
                        "{pid} {}",
                        String::from_utf8_lossy(&cmdline).replace('\0', " ")
                    )
                })
                .collect();
            for pid in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            panic!("processes outlived the run: {names:?}\n{output}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first (only) suite's cases in the JSON report, by outcome status.
fn count_cases(report: &Value, status: &str) -> usize {
    common::report_cases(report)
        .filter(|case| case["outcome"]["status"] == status)
        .count()
}

fn notes(report: &Value) -> String {
    report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|suite| suite["notes"].as_array().unwrap())
        .map(|note| note.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- Faults before or during the start sequence: exit 3 -----------------

#[test]
fn no_handshake_ends_at_the_start_timeout() {
    let run = run(&["no-handshake"], &["--start-timeout", "2s"]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "error: the plugin could not be started (suite lifecycle):",
        "no handshake line within the 2s start timeout; the plugin was still running, and was killed",
        "the server allows Python plugins 10s",
        "stderr | rust-reference: no-handshake fault: never writing the handshake line",
    ]);
    // The harness's own account of the run: it waited the timeout out.
    let duration = run.report["duration"].as_f64().unwrap();
    assert!(duration >= 2.0, "{:#}", run.report);
}

#[test]
fn a_garbage_handshake_is_quoted() {
    let run = run(&["garbage-handshake"], &[]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "the first line on stdout is not a go-plugin handshake",
        "garbage|||\"",
        "expected `1|1|tcp|127.0.0.1:PORT|grpc`",
    ]);
    assert!(
        run.report["launch_failure"]["message"]
            .as_str()
            .unwrap()
            .contains("is not a number"),
        "{:#}",
        run.report
    );
}

#[test]
fn a_netrpc_handshake_is_named_as_such() {
    let run = run(&["netrpc-handshake"], &[]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "the plugin speaks go-plugin's net/rpc protocol (a Go net/rpc plugin), not gRPC",
        "|netrpc\"",
    ]);
}

#[test]
fn a_bad_app_protocol_version_is_named() {
    let run = run(&["bad-version"], &[]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "the handshake asks for app protocol version 2, the server only offers 1",
        "\"1|2|tcp|127.0.0.1:",
    ]);
}

#[test]
fn stdout_noise_before_the_handshake_names_both_lines() {
    let run = run(&["stdout-noise"], &[]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "the plugin wrote \"rust-reference: listening on 127.0.0.1:",
        "to stdout before its handshake line \"1|1|tcp|127.0.0.1:",
        "the server takes the first stdout line as the handshake",
        "write logs to stderr",
    ]);
}

#[test]
fn an_exit_right_after_the_handshake_is_named_with_its_status() {
    let run = run(&["exit-after-handshake"], &[]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "the plugin exited (exit status: 0) after its handshake line, while the server was",
        "a plugin must keep serving until it is sent SIGTERM",
        "stderr | rust-reference: exit-after-handshake fault: exiting",
    ]);
}

#[test]
fn not_serving_health_stops_the_run() {
    let run = run(&["not-serving"], &[]);
    assert_eq!(run.code, 3, "{}", run.output);
    run.assert_output(&[
        "the health check (grpc.health.v1.Health/Check, service \"plugin\") answered NOT_SERVING",
        "the harness does not use it",
        "go-plugin's Ping only fails when the call fails",
    ]);
}

// ---- Faults in hooks: exit 1 -------------------------------------------

#[test]
fn unknown_hook_names_fail_the_implemented_case_with_suggestions() {
    let run = run(&["unknown-hooks"], &["--filter", "lifecycle/implemented"]);
    assert_eq!(run.code, 1, "{}", run.output);
    run.assert_output(&[
        "FAIL [",
        "lifecycle/implemented",
        "a hook name the server knows (the server logs and skips unknown names)",
        "\"FileWillBeDownloaded\" (did you mean `FileWillBeUploaded`?)",
        "\"OnActivte\" (did you mean `OnActivate`?)",
    ]);
}

#[test]
fn a_crash_in_a_hook_fails_open_and_stops_the_suite() {
    let run = run(&["crash:MessageWillBePosted"], &["--filter", "messages"]);
    assert_eq!(run.code, 1, "{}", run.output);
    run.assert_output(&[
        "FAIL [",
        "messages/MessageWillBePosted",
        "--- step 0: MessageWillBePosted (<built-in>/messages.json:",
        "expected: still running after the call",
        "actual: the plugin process exited (signal: 6 (SIGABRT)) during MessageWillBePosted",
        "(server outcome: allow (fail open after",
        "stderr | rust-reference: crash fault: aborting inside MessageWillBePosted",
        "NOT RUN 11 case(s): the plugin died during MessageWillBePosted",
        "restart it, at most 3 times an hour",
    ]);
    assert_eq!(count_cases(&run.report, "failed"), 1);
    assert_eq!(count_cases(&run.report, "not_run"), 11);
}

#[test]
fn a_hang_ends_at_the_run_deadline_and_fails_open() {
    let run = run(
        &["hang:MessageWillBePosted"],
        &[
            "--filter",
            "messages/MessageWillBePosted",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.output);
    run.assert_output(&[
        "actual: DEADLINE_EXCEEDED: no answer within the 1s deadline",
        "server outcome: allow (fail open after DEADLINE_EXCEEDED",
        "deadline 1s from --timeout; a Mattermost server waits 30s",
        "stderr | rust-reference: hang fault: MessageWillBePosted will never answer",
    ]);
    // The harness's own account of the case: the call lasted its deadline.
    let case = &run.report["suites"][0]["cases"][0];
    assert!(case["duration"].as_f64().unwrap() >= 1.0, "{case:#}");
    // The plugin itself is fine: the case after it in the suite would run.
    assert_eq!(count_cases(&run.report, "not_run"), 0);
}

#[test]
fn a_slow_hook_passes_within_the_deadline_and_fails_past_a_steps_own() {
    let fast_enough = run(
        &["slow:MessageWillBePosted:300ms"],
        &["--filter", "messages/MessageWillBePosted"],
    );
    assert_eq!(fast_enough.code, 0, "{}", fast_enough.output);
    let case = &fast_enough.report["suites"][0]["cases"][0];
    assert!(case["duration"].as_f64().unwrap() >= 0.3, "{case:#}");

    let dir = tempfile::tempdir().unwrap();
    let suite = common::write_file(
        dir.path(),
        "slow.json",
        r#"{"name": "slow", "cases": [{"name": "tight-deadline", "steps": [
            {"hook": "MessageWillBePosted", "request": {"post": {"message": "hi"}}, "deadline": "200ms"}
        ]}]}"#,
    );
    let too_slow = run(
        &["slow:MessageWillBePosted:2s"],
        &["--no-builtin", "--suite", &suite, "--timeout", "5s"],
    );
    assert_eq!(too_slow.code, 1, "{}", too_slow.output);
    too_slow.assert_output(&[
        "actual: DEADLINE_EXCEEDED: no answer within the 200ms deadline",
        "deadline 200ms from the step's `deadline`; a Mattermost server waits 30s",
        "stderr | rust-reference: slow fault: answering MessageWillBePosted after 2s",
    ]);
}

#[test]
fn a_huge_answer_is_resource_exhausted_as_grpc_go_sees_it() {
    let run = run(
        &["huge-response:ExecuteCommand"],
        &["--filter", "commands/ExecuteCommand"],
    );
    assert_eq!(run.code, 1, "{}", run.output);
    run.assert_output(&[
        "actual: RESOURCE_EXHAUSTED: grpc: received message larger than max (52429",
        " vs. 4194304): the answer is over the 4 MiB a Mattermost server's gRPC client accepts",
        "(server outcome: fail)",
        "stderr | rust-reference: huge-response fault: ExecuteCommand answers 5242880 bytes",
    ]);
    let event = &run.report["suites"][0]["cases"][0]["transcript"][0];
    assert_eq!(event["outcome"], "fail", "{event:#}");
    // The plugin survives its oversized answer.
    assert_eq!(count_cases(&run.report, "not_run"), 0);
}

#[test]
fn an_invalid_http_status_becomes_the_servers_500() {
    let run = run(
        &["http-bad-status"],
        &["--filter", "serve-http/unknown-path-is-a-4xx"],
    );
    assert_eq!(run.code, 1, "{}", run.output);
    run.assert_output(&[
        "--- step 0: ServeHTTP (<built-in>/serve-http.json:",
        "the server answered 500 itself: the plugin sent status code 1000, outside 100-999",
    ]);
}

#[test]
fn a_stream_dropped_mid_response_is_a_death_during_serve_http() {
    let run = run(&["drop-mid-stream"], &["--filter", "serve-http"]);
    assert_eq!(run.code, 1, "{}", run.output);
    run.assert_output(&[
        "--- step 0: ServeHTTP (<built-in>/serve-http.json:",
        "ending \"stream_error\"",
        "actual: the plugin process exited (signal: 6 (SIGABRT)) during ServeHTTP",
        "stderr | rust-reference: drop-mid-stream fault: aborting with the ServeHTTP response half sent",
        "case(s): the plugin died during unknown-path-is-a-4xx",
    ]);
    let exchange = &run.report["suites"][0]["cases"][0]["transcript"][0]["response"];
    assert_eq!(exchange["status"], 200, "{exchange:#}");
    assert_eq!(exchange["body"], "the first part of the body\n");
    assert!(count_cases(&run.report, "not_run") > 0);
}

// ---- Faults at shutdown, in output, in children ------------------------

#[test]
fn a_plugin_ignoring_sigterm_is_killed_after_the_grace_period() {
    let shutdown_step = run(
        &["ignore-sigterm"],
        &["--filter", "lifecycle/shutdown", "--grace", "1s"],
    );
    assert_eq!(shutdown_step.code, 1, "{}", shutdown_step.output);
    shutdown_step.assert_output(&[
        "--- step 0: shutdown (<built-in>/lifecycle.json:",
        "expected: a clean exit (status 0, or ended by SIGTERM) within the grace period",
        "actual: still running 1s after SIGTERM; killed with SIGKILL",
        "stderr | rust-reference: ignore-sigterm fault: ignoring SIGTERM",
    ]);

    // Outside a shutdown step it is the teardown that notices: a note, and
    // the cases' results stand.
    let teardown = run(
        &["ignore-sigterm"],
        &["--filter", "messages/MessageWillBePosted", "--grace", "1s"],
    );
    assert_eq!(teardown.code, 0, "{}", teardown.output);
    teardown.assert_output(&[
        "NOTE messages: at teardown the plugin did not exit cleanly: still running 1s after SIGTERM; killed with SIGKILL",
    ]);
    assert_eq!(
        teardown.report["suites"][0]["exit"],
        "killed with SIGKILL after a 1s grace period"
    );
}

#[test]
fn a_grandchild_does_not_outlive_the_run() {
    let run = run(&["grandchild"], &["--filter", "lifecycle"]);
    assert_eq!(run.code, 0, "{}", run.output);
    let tail = &run.report["suites"][0]["output_tail"];
    let grandchild: u32 = tail
        .as_array()
        .unwrap()
        .iter()
        .find_map(|line| {
            line["text"]
                .as_str()?
                .strip_prefix("rust-reference: grandchild pid ")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no grandchild pid in {tail:#}"));
    assert!(
        common::gone_soon(grandchild),
        "grandchild {grandchild} survived"
    );
}

#[test]
fn a_stderr_flood_keeps_memory_bounded_and_says_what_was_dropped() {
    // The slow hook keeps the plugin flooding for a while mid-suite.
    let run = run(
        &["stderr-flood", "slow:OnConfigurationChange:600ms"],
        &["--filter", "lifecycle"],
    );
    assert_eq!(run.code, 0, "{}", run.output);
    run.assert_output(&[
        "NOTE lifecycle: the plugin wrote ",
        " MiB of output; the harness kept its last 400 lines and dropped ",
    ]);
    let notes = notes(&run.report);
    let dropped: u64 = notes
        .split(" and dropped ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no dropped count in {notes}"));
    assert!(dropped > 10_000, "{notes}");
    let tail = run.report["suites"][0]["output_tail"].as_array().unwrap();
    assert_eq!(tail.len(), 40);
    assert!(
        tail.iter()
            .any(|line| line["text"].as_str().unwrap().contains("stderr flood line")),
        "{tail:#?}"
    );
    assert!(
        run.peak_rss_kib < 200 * 1024,
        "the harness peaked at {} KiB",
        run.peak_rss_kib
    );
}

// ---- Ctrl-C ------------------------------------------------------------

/// A stand-in for the rust-reference binary that runs it with its stderr
/// also copied into `fifo`: the harness prints nothing when a step starts,
/// but the plugin says so on stderr the moment a faulty hook is called.
/// (`tee` writes the harness's copy first, so the line is in the harness's
/// pipe by the time the test reads it.)
fn reference_with_stderr_copied_to(dir: &Path, fifo: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let status = Command::new("mkfifo")
        .arg(fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {} failed", fifo.display());
    let script = format!(
        "#!/usr/bin/env bash\nexec 2> >(exec tee '{}' >&2)\nexec '{}' \"$@\"\n",
        fifo.display(),
        common::rust_reference().display()
    );
    let path = common::write_file(dir, "rust-reference-tee", &script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn ctrl_c_during_a_hung_hook_writes_the_report_and_kills_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let fifo = dir.path().join("plugin-stderr");
    let wrapper = reference_with_stderr_copied_to(dir.path(), &fifo);
    let mut command = common::harness();
    command
        .env("RUST_REFERENCE_BIN", &wrapper)
        .arg("run")
        .arg(common::fixture("rust-reference"))
        .args(["--filter", "messages/MessageWillBePosted", "--json"])
        .arg(&json)
        .args(["--", "--fault", "hang:MessageWillBePosted"]);
    let mut watched = Watched::spawn(command);
    watched.watch_fifo(fifo);
    // OnActivate answers at once; then the case's hook hangs (for the
    // default 30 s deadline, far longer than this test waits), and the
    // plugin says so as the call arrives.
    watched.wait_for_line(
        "hang-fault line from the plugin",
        |line| line.contains("hang fault: MessageWillBePosted will never answer"),
        HANG_LIMIT,
    );
    let (var, value) = watched.marker();
    let marker = (var, value.to_owned());
    let running = common::processes_with_env(var, value);
    assert!(
        running.len() >= 2,
        "the harness and the plugin should both be running: {running:?}"
    );
    watched.signal(nix::sys::signal::Signal::SIGINT);
    let output = watched.finish(HANG_LIMIT);
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(130), "{printed}");
    assert!(
        printed.contains("interrupted: the results below stop where the run was stopped"),
        "{printed}"
    );
    assert_no_survivors(&marker, &printed);

    let report = common::read_json(Path::new(&json));
    assert_eq!(report["schema"], "mm-plugin-harness/run-report/v2");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["exit_code"], 130);
    assert!(report["launch_failure"].is_null(), "{report:#}");
    let plugin_pid = report["plugin"]["pid"].as_u64().unwrap() as u32;
    assert!(
        common::gone_soon(plugin_pid),
        "plugin {plugin_pid} survived"
    );
    let suite = &report["suites"][0];
    assert_eq!(suite["name"], "messages");
    let case = &suite["cases"][0];
    assert_eq!(case["name"], "MessageWillBePosted");
    assert_eq!(case["outcome"]["status"], "not_run");
    let reason = case["outcome"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("interrupted while step 0 (MessageWillBePosted) had been running for "),
        "{reason}"
    );
    assert!(
        suite["output_tail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line["text"]
                == "rust-reference: hang fault: MessageWillBePosted will never answer"),
        "{suite:#}"
    );
}
