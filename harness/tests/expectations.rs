//! Every kind of expectation, passing against the fixtures' committed suites
//! and failing, with the field named, when a suite expects the wrong thing.
//! Needs Python 3 with pip (the fixtures run on grpcio).

mod common;

use common::{fixture, harness_run_with, python_fixtures, read_json, run_suite_alone, write_file};
use serde_json::Value;

fn suites_of(plugin: &str) -> String {
    fixture(plugin).join("suites").display().to_string()
}

#[test]
fn committed_example_suites_pass_in_ci_mode() {
    python_fixtures();
    for plugin in ["hello-python", "filter-python"] {
        let path = fixture(plugin);
        let (code, output) = harness_run_with(
            &[
                path.to_str().unwrap(),
                "--suite",
                &suites_of(plugin),
                "--ci",
            ],
            |_| {},
        );
        assert_eq!(code, 0, "{plugin}: {output}");
        assert!(output.contains(" 0 failed"), "{output}");
    }
}

/// A suite whose every case expects the wrong thing of filter-python.
const WRONG: &str = r#"{
  "name": "wrong",
  "cases": [
    {"name": "reject-exact", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "mallory"}},
      "expect": {"outcome": {"reject": "Nope"}}}]},
    {"name": "reject-contains", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "mallory"}},
      "expect": {"outcome": {"reject": {"contains": "banned"}}}}]},
    {"name": "reject-regex", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "mallory"}},
      "expect": {"outcome": {"reject": {"matches": "^Banned"}}}}]},
    {"name": "allow", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "mallory"}},
      "expect": {"outcome": "allow"}}]},
    {"name": "modify", "steps": [{"hook": "MessageWillBePosted", "request": {"post": {"channel_id": "cacmetownsquare00000000000", "message": "darn"}},
      "expect": {"outcome": {"modify": {"message": "d**n"}}}}]},
    {"name": "dismiss", "steps": [{"hook": "MessageWillBePosted", "request": {"post": {"message": "hello"}},
      "expect": {"outcome": "dismiss"}}]},
    {"name": "respond", "steps": [{"hook": "ExecuteCommand", "request": {"args": {"command": "/filter stats"}},
      "expect": {"outcome": {"respond": {"text": "masked 9, dismissed 9"}}}}]},
    {"name": "fail", "steps": [{"hook": "ExecuteCommand", "request": {"args": {"command": "/nope"}},
      "expect": {"outcome": {"fail": {"id": "some.other.error"}}}}]},
    {"name": "error", "steps": [{"hook": "ExecuteCommand", "request": {"args": {"command": "/nope"}},
      "expect": {"error": {"status_code": 500}}}]},
    {"name": "status", "steps": [{"hook": "MessageWillBePosted", "request": {"post": {"message": "raise-error"}},
      "expect": {"outcome": "allow"}}]},
    {"name": "response", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "alice"}},
      "expect": {"response": {"rejection_reason": "no"}}}]},
    {"name": "api-count", "steps": [{"hook": "UserHasBeenCreated", "request": {"user": {"id": "ux", "username": "x"}},
      "expect": {"api_calls": [{"method": "KVSet", "count": 2}]}}]},
    {"name": "api-order", "steps": [{"hook": "MessageWillBePosted", "request": {"post": {"channel_id": "cacmetownsquare00000000000", "message": "heck"}},
      "expect": {"api_calls": [{"method": "KVSet"}, {"method": "KVGet"}], "api_calls_in_order": true}}]},
    {"name": "api-absent", "steps": [{"hook": "UserHasJoinedTeam", "request": {"team_member": {"team_id": "t", "user_id": "u"}},
      "expect": {"api_calls": [{"method": "KVSet", "count": 0}]}}]},
    {"name": "output-contains", "steps": [{"output": {"stream": "stderr", "contains": ["a line never written"]}}]},
    {"name": "output-absent", "steps": [{"output": {"absent": [{"matches": "filter-python activ"}]}}]}
  ]
}"#;

/// The field each case of `WRONG` must fail on.
const FAILS_ON: &[(&str, &str)] = &[
    ("reject-exact", "outcome.reject"),
    ("reject-contains", "outcome.reject"),
    ("reject-regex", "outcome.reject"),
    ("allow", "outcome"),
    ("modify", "outcome.modify.message"),
    ("dismiss", "outcome"),
    ("respond", "outcome.respond.text"),
    ("fail", "outcome.fail.id"),
    ("error", "response.error.status_code"),
    ("status", "status"),
    ("response", "response.rejection_reason"),
    ("api-count", "api_calls.KVSet"),
    ("api-order", "api_calls.KVGet"),
    ("api-absent", "api_calls.KVSet"),
    ("output-contains", "stderr.contains"),
    ("output-absent", "output.absent"),
];

#[test]
fn each_expectation_kind_fails_naming_its_field() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(dir.path(), "wrong.json", WRONG);
    let (code, output, report) = run_suite_alone("filter-python", &suite, |command| {
        command.env_remove("CI");
    });
    assert_eq!(code, 1, "{output}");
    let cases = report["suites"][0]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), FAILS_ON.len());
    for (name, field) in FAILS_ON {
        let case = cases.iter().find(|case| case["name"] == *name).unwrap();
        assert_eq!(case["outcome"]["status"], "failed", "{name}: {case:#}");
        let fields: Vec<&str> = case["steps"][0]["mismatches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(field),
            "{name}: expected a mismatch on {field}, got {fields:?}"
        );
    }
    // The console names the field and shows expected against actual.
    assert!(output.contains("outcome.reject:\n        expected: \"Nope\"\n          actual: \"User mallory is blocked by filter-python\""), "{output}");
    // Failed cases carry the wire transcript, with the plugin's API calls.
    let order = cases
        .iter()
        .find(|case| case["name"] == "api-order")
        .unwrap();
    let directions: Vec<&str> = order["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, ["hook", "api", "api"], "{order:#}");
}

#[test]
fn a_hook_the_plugin_does_not_implement_is_skipped_not_failed() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "s.json",
        r#"{"name": "s", "cases": [{"name": "posted", "steps": [{"hook": "MessageHasBeenPosted", "request": {"post": {"message": "x"}}}]}]}"#,
    );
    let plugin = fixture("hello-python");
    // Quiet by default: the skip is counted, not listed.
    let (code, output) = harness_run_with(
        &[plugin.to_str().unwrap(), "--no-builtin", "--suite", &suite],
        |_| {},
    );
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains("SKIP"), "{output}");
    assert!(output.contains("0 passed, 0 failed, 1 skipped"), "{output}");
    let (code, output) = harness_run_with(
        &[
            plugin.to_str().unwrap(),
            "--no-builtin",
            "--suite",
            &suite,
            "--verbose",
        ],
        |_| {},
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("SKIP"), "{output}");
    assert!(
        output.contains("not implemented by the plugin: MessageHasBeenPosted"),
        "{output}"
    );
    assert!(output.contains("0 passed, 0 failed, 1 skipped"), "{output}");
}

const SNAPSHOT_SUITE: &str = r#"{
  "name": "snap",
  "cases": [{"name": "hello", "steps": [{"hook": "ExecuteCommand", "request": {"args": {"command": "/hello"}}, "snapshot": "answer"}]}]
}"#;

#[test]
fn snapshots_are_accepted_compared_updated_and_strict_in_ci() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(dir.path(), "snap.json", SNAPSHOT_SUITE);
    let snap = dir.path().join("snapshots/snap__hello__answer.snap");
    let new = dir.path().join("snapshots/snap__hello__answer.snap.new");
    let plugin = fixture("hello-python");
    let run = |extra: &[&str], ci: bool| {
        let mut args = vec![
            plugin.to_str().unwrap(),
            "--no-builtin",
            "--suite",
            suite.as_str(),
        ];
        args.extend_from_slice(extra);
        harness_run_with(&args, |command| {
            if ci {
                command.env("CI", "true");
            } else {
                command.env_remove("CI");
            }
        })
    };

    // CI accepts no new snapshot: it fails and leaves a candidate.
    let (code, output) = run(&[], true);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("CI mode accepts no new snapshots"),
        "{output}"
    );
    assert!(new.exists() && !snap.exists());

    // Locally, a new snapshot is written and accepted; then it matches.
    let (code, output) = run(&[], false);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("new snapshot written"), "{output}");
    assert!(snap.exists() && !new.exists());
    let accepted = std::fs::read_to_string(&snap).unwrap();
    assert!(
        accepted.contains("\"text\": \"Hello from Python!\""),
        "{accepted}"
    );
    assert_eq!(run(&["--ci"], false).0, 0);

    // A changed snapshot fails with a diff, locally and in CI.
    std::fs::write(
        &snap,
        accepted.replace("Hello from Python!", "Hello from Go!"),
    )
    .unwrap();
    for ci in [false, true] {
        let (code, output) = run(&[], ci);
        assert_eq!(code, 1, "{output}");
        assert!(
            output.contains("-      \"text\": \"Hello from Go!\""),
            "{output}"
        );
        assert!(
            output.contains("+      \"text\": \"Hello from Python!\""),
            "{output}"
        );
        assert!(new.exists());
    }

    // --update-snapshots accepts the current answer.
    let (code, output) = run(&["--update-snapshots"], true);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("snapshot updated"), "{output}");
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), accepted);
    assert!(!new.exists());

    // A snapshot no step uses any more is listed as stale.
    write_file(
        dir.path(),
        "snapshots/snap__gone__answer.snap",
        "---\n---\n{}\n",
    );
    let (code, output) = run(&[], false);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("STALE") && output.contains("snap__gone__answer.snap"),
        "{output}"
    );
}

#[test]
fn json_and_junit_outputs_parse_back() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "mixed.json",
        r#"{"name": "mixed", "cases": [
             {"name": "passes", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "alice"}}, "expect": {"outcome": "allow"}}]},
             {"name": "fails", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "mallory"}}, "expect": {"outcome": "allow"}}]}
           ]}"#,
    );
    let json = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let plugin = fixture("filter-python");
    let (code, output) = harness_run_with(
        &[
            plugin.to_str().unwrap(),
            "--suite",
            &suite,
            "--filter",
            "lifecycle",
            "--filter",
            "mixed",
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        |command| {
            command.env_remove("CI");
        },
    );
    assert_eq!(code, 1, "{output}");

    let report = read_json(&json);
    assert_eq!(report["schema"], "mm-plugin-harness/run-report/v2");
    assert_eq!(report["exit_code"], 1);
    assert!(
        report["totals"]["failed"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    assert_eq!(report["plugin"]["id"], "com.example.filter-python");
    assert!(report["duration"].as_f64().unwrap() > 0.0);
    let suites: Vec<&str> = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(suites, ["lifecycle", "mixed"]);
    let failed = &report["suites"][1]["cases"][1];
    assert_eq!(failed["outcome"]["status"], "failed");
    assert_eq!(failed["steps"][0]["mismatches"][0]["field"], "outcome");
    assert!(
        failed["steps"][0]["location"]
            .as_str()
            .unwrap()
            .contains("mixed.json:3:")
    );
    assert!(
        failed["transcript"]
            .as_array()
            .is_some_and(|events| !events.is_empty())
    );
    assert_eq!(
        report["suites"][1]["cases"][0]["transcript"],
        Value::Array(vec![])
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("JUnit output is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let testsuites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(testsuites.len(), 2);
    let mixed = testsuites
        .iter()
        .find(|s| s.attribute("name") == Some("mixed"))
        .unwrap();
    assert_eq!(mixed.attribute("tests"), Some("2"));
    assert_eq!(mixed.attribute("failures"), Some("1"));
    let failing = mixed
        .children()
        .find(|n| n.attribute("name") == Some("fails"))
        .unwrap();
    assert_eq!(failing.attribute("classname"), Some("mixed"));
    let failure = failing
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("outcome: expected allow")
    );
    assert!(failure.text().unwrap().contains("wire transcript"));
}

#[test]
fn known_failing_cases_pass_the_run_until_they_pass() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "k.json",
        r#"{"name": "k", "cases": [
             {"name": "broken", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "mallory"}}, "expect": {"outcome": "allow"}}]},
             {"name": "fine", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"username": "alice"}}, "expect": {"outcome": "allow"}}]}
           ]}"#,
    );
    let plugin = fixture("filter-python");
    let run = |list: &str| {
        let known = write_file(dir.path(), "known-failing.txt", list);
        harness_run_with(
            &[
                plugin.to_str().unwrap(),
                "--no-builtin",
                "--suite",
                &suite,
                "--known-failing",
                &known,
            ],
            |_| {},
        )
    };
    let (code, output) = run("# mallory's login is rejected on purpose\nk/broken\n");
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("XFAIL"), "{output}");
    assert!(
        output.contains("1 passed, 0 failed, 0 skipped, 1 known failing"),
        "{output}"
    );

    let (code, output) = run("k/*\n");
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("XPASS") && output.contains("k/fine"),
        "{output}"
    );
    assert!(output.contains("remove it from the list"), "{output}");
}

#[test]
fn references_name_world_entities_and_unknown_ones_are_input_errors() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "refs.json",
        r#"{"name": "refs", "cases": [{"name": "welcome", "steps": [{
             "hook": "UserHasJoinedChannel",
             "request": {"channel_member": {"channel_id": {"$ref": "channel:acme/off-topic"}, "user_id": {"$ref": "user:bob"}}},
             "expect": {"api_calls": [{"method": "CreatePost", "request": {"post": {"channel_id": {"$ref": "channel:acme/off-topic"}, "user_id": {"$ref": "user:bob"}}}, "count": 1}]}
           }]}]}"#,
    );
    let plugin = fixture("filter-python");
    let (code, output) = harness_run_with(
        &[plugin.to_str().unwrap(), "--no-builtin", "--suite", &suite],
        |_| {},
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("1 passed, 0 failed"), "{output}");

    let unknown = write_file(
        dir.path(),
        "unknown.json",
        r#"{"name": "unknown", "cases": [{"name": "c", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"id": {"$ref": "user:zed"}}}}]}]}"#,
    );
    let (code, output) = harness_run_with(
        &[
            plugin.to_str().unwrap(),
            "--no-builtin",
            "--suite",
            &unknown,
        ],
        |_| {},
    );
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("$ref user:zed names nothing in the suite's world"),
        "{output}"
    );

    let malformed = write_file(
        dir.path(),
        "malformed.json",
        r#"{"name": "malformed", "cases": [{"name": "c", "steps": [{"hook": "UserWillLogIn", "request": {"user": {"id": {"$ref": "person:zed"}}}}]}]}"#,
    );
    let (code, output) =
        harness_run_with(&[plugin.to_str().unwrap(), "--suite", &malformed], |_| {});
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("malformed.json:1:") && output.contains("unknown kind \"person\""),
        "{output}"
    );
}
