//! `harness record` when things go wrong: the plugin dies mid-recording,
//! or the recorder gets Ctrl-C. Either way the suite so far is written, the
//! server side sees what it would see without the recorder, and no process
//! of the plugin is left.

mod common;

use std::{path::Path, process::Command, time::Duration};

use common::{Watched, fixture, recorded_files, recording_bundle};
use serde_json::Value;

/// Stops a run that hangs; no timing requirement.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// Waits until no process carrying the marker `(var, value)` is left
/// (reaping is asynchronous); fails after half a minute, a bound that only
/// stops the wait.
fn assert_no_survivors((var, value): (&str, &str), what: &str) {
    let started = std::time::Instant::now();
    while !common::processes_with_env(var, value).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "processes outlived {what}: {:?}",
            common::processes_with_env(var, value)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `harness run PLUGIN --filter messages --json REPORT -- --fault
/// crash:MessageWillBePosted`: exit code, report, output; checked to leave
/// no process behind.
fn run_crashing(plugin: &Path, dir: &Path) -> (i32, Value, String) {
    let json = dir.join("report.json");
    let mut command = common::harness();
    command
        .arg("run")
        .arg(plugin)
        .args(["--filter", "messages", "--json"])
        .arg(&json)
        .args(["--", "--fault", "crash:MessageWillBePosted"]);
    let watched = Watched::spawn(command);
    let (var, value) = watched.marker();
    let marker = (var, value.to_owned());
    let output = watched.finish(HANG_LIMIT);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_no_survivors((marker.0, &marker.1), "the run");
    let report = common::read_json(&json);
    (output.status.code().unwrap_or(-1), report, printed)
}

/// A case's name, status, and its steps' mismatches as (field, actual).
type Verdict = (String, String, Vec<(String, String)>);

/// What the server side concluded about each case that ran: its status,
/// and each mismatch's field and actual value, with the way the process
/// ended left out (the recorder exits 1 where the plugin aborted).
fn verdicts(report: &Value) -> Vec<Verdict> {
    common::report_cases(report)
        .map(|case| {
            let mismatches = case["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|step| step["mismatches"].as_array().unwrap())
                .map(|mismatch| {
                    let actual = mismatch["actual"].as_str().unwrap_or_default();
                    let actual = match actual.split_once(" exited (") {
                        Some((before, after)) => match after.rsplit_once(" during ") {
                            Some((_, hook)) => format!("{before} exited during {hook}"),
                            None => format!("{before} exited"),
                        },
                        None => actual.to_owned(),
                    };
                    (mismatch["field"].as_str().unwrap().to_owned(), actual)
                })
                .collect();
            (
                case["name"].as_str().unwrap().to_owned(),
                case["outcome"]["status"].as_str().unwrap().to_owned(),
                mismatches,
            )
        })
        .collect()
}

#[test]
fn a_plugin_dying_mid_recording_leaves_a_partial_suite_and_the_same_failure() {
    let plugin = fixture("rust-reference");
    let direct_dir = tempfile::tempdir().unwrap();
    let (direct_code, direct, direct_output) = run_crashing(&plugin, direct_dir.path());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recorded");
    let bundle = recording_bundle(dir.path(), &plugin, &out);
    let (code, through, output) = run_crashing(&bundle, dir.path());

    assert_eq!(code, direct_code, "{output}\n---- direct:\n{direct_output}");
    let expected = verdicts(&direct);
    assert!(
        expected.iter().any(|(_, status, _)| status == "failed"),
        "the crash fault did not fail a case:\n{direct_output}"
    );
    assert_eq!(
        verdicts(&through),
        expected,
        "{output}\n---- direct:\n{direct_output}"
    );
    assert!(
        output.contains("the plugin process exited (exit status: 1) during MessageWillBePosted"),
        "{output}"
    );

    let files = recorded_files(&out);
    assert_eq!(files.len(), 1, "{output}");
    let suite: Value = serde_json::from_str(&files[0].1).unwrap();
    let description = suite["description"].as_str().unwrap();
    assert!(
        description.contains("The plugin died during the recording (signal: 6 (SIGABRT))"),
        "{description}"
    );
    let cases: Vec<&str> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| case["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        cases,
        ["001-OnActivate", "002-MessageWillBePosted"],
        "{suite:#}"
    );
}

/// `harness record` as a server would start it, with a Plugin API target
/// nobody listens on (the plugin makes no call in this test).
fn recorder(out: &Path) -> Command {
    let mut command = common::harness();
    command
        .env("MATTERMOST_PLUGIN", "Securely message teams, anywhere.")
        .env("MATTERMOST_PLUGIN_API_TARGET", "127.0.0.1:1")
        .arg("record")
        .arg("--out")
        .arg(out)
        .args(["--name", "rec", "--"])
        .arg(fixture("rust-reference"));
    command
}

/// Calls `OnActivate` on the hooks behind the handshake line `line`.
fn activate_through(line: &str) {
    let addr = line.split('|').nth(3).expect("a go-plugin handshake line");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap_or_else(|err| panic!("cannot connect to the recorder at {addr}: {err}"));
        harness::hooks::HookClient::new(channel)
            .call("OnActivate", bytes::Bytes::new(), Duration::from_secs(30))
            .await
            .expect("OnActivate answers through the recorder");
    });
}

#[test]
fn ctrl_c_writes_the_partial_suite_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recorded");
    let mut watched = Watched::spawn(recorder(&out));
    let handshake = watched.wait_for_line(
        "the recorder's handshake line",
        |line| line.starts_with("1|1|tcp|"),
        HANG_LIMIT,
    );
    activate_through(&handshake);
    let (var, value) = watched.marker();
    let marker = (var, value.to_owned());
    assert!(
        common::processes_with_env(var, value).len() >= 2,
        "the recorder and the plugin should both be running"
    );
    watched.signal(nix::sys::signal::Signal::SIGINT);
    let output = watched.finish(HANG_LIMIT);
    let printed = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(130), "{printed}");
    assert!(printed.contains("recorded 1 cases"), "{printed}");
    assert_no_survivors((marker.0, &marker.1), "the recorder");

    let files = recorded_files(&out);
    assert_eq!(files.len(), 1, "{printed}");
    let suite: Value = serde_json::from_str(&files[0].1).unwrap();
    assert_eq!(suite["cases"][0]["name"], "001-OnActivate", "{suite:#}");
}
