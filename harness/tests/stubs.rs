//! Suite stubs and faults in front of the Plugin API world: a fixed
//! response, an AppError by the method's convention, a gRPC status, a
//! delay, and "fail N times, then succeed". Needs Python 3 with pip.

mod common;

use common::{fixture, harness_run_with, python_fixtures, run_suite_alone, write_file};

#[test]
fn stubs_answer_fail_delay_and_run_out() {
    python_fixtures();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "stubbed.json",
        r#"{
  "name": "stubbed",
  "activation": "manual",
  "cases": [
    {"name": "stubbed-version", "stubs": [{"method": "GetServerVersion", "respond": {"version": "9.9.9"}}],
     "steps": [{"hook": "OnActivate", "expect": {"outcome": "succeed"}},
               {"output": {"contains": ["Server version: 9.9.9"]}}]},
    {"name": "server-down", "stubs": [{"method": "GetServerVersion", "status": {"code": "UNAVAILABLE", "message": "maintenance"}}],
     "steps": [{"hook": "OnActivate", "expect": {"outcome": {"fail": {"id": "plugin.on_activate.error"}}}}]},
    {"name": "case-stubs-end-with-the-case",
     "steps": [{"hook": "OnActivate", "expect": {"outcome": "succeed"}},
               {"output": {"contains": ["Server version: 10.11.0"]}}]}
  ]
}"#,
    );
    let (code, output, _) = run_suite_alone("hello-python", &suite, |_| {});
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("3 passed, 0 failed"), "{output}");

    let suite = write_file(
        dir.path(),
        "faults.json",
        r#"{
  "name": "faults",
  "stubs": [
    {"method": "KVGet", "request": {"key": "stats:masked"}, "app_error": {"status_code": 503, "id": "app.plugin_store.get.app_error", "message": "store down"}, "times": 1},
    {"method": "KVGet", "request": {"key": "stats:dismissed"}, "delay": "2s"}
  ],
  "cases": [
    {"name": "first-call-fails-and-the-server-fails-open", "steps": [
      {"hook": "MessageWillBePosted", "request": {"post": {"message": "darn"}}, "expect": {"status": "INTERNAL", "outcome": "allow"}}]},
    {"name": "then-the-store-is-back", "steps": [
      {"hook": "MessageWillBePosted", "request": {"post": {"message": "darn"}}, "expect": {"outcome": {"modify": {"message": "****"}}}}]},
    {"name": "a-slow-store-meets-the-deadline", "steps": [
      {"hook": "MessageWillBePosted", "request": {"post": {"message": "spam"}}, "deadline": "300ms", "expect": {"status": "DEADLINE_EXCEEDED", "outcome": "allow"}}]}
  ]
}"#,
    );
    let (code, output, report) = run_suite_alone("filter-python", &suite, |_| {});
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("3 passed, 0 failed"), "{output}");
    // The wire transcript is kept for failed cases only; the JSON report's
    // API totals still show the stubbed calls were made.
    assert!(report["api"]["calls"].as_u64().unwrap() >= 4, "{report:#}");
}

#[test]
fn a_stub_that_does_not_fit_its_method_is_positioned() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "bad.json",
        "{\"name\": \"bad\", \"stubs\": [\n  {\"method\": \"GetServerVersion\", \"respond\": {\"versoin\": \"1\"}}],\n \"cases\": []}",
    );
    let plugin = fixture("rust-reference");
    let (code, output) = harness_run_with(&[plugin.to_str().unwrap(), "--suite", &suite], |_| {});
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("bad.json:2:"), "{output}");
    assert!(
        output.contains("stubs[0].respond: not a valid GetServerVersionResponse"),
        "{output}"
    );

    let suite = write_file(
        dir.path(),
        "bad2.json",
        r#"{"name": "bad2", "stubs": [{"method": "GetServerVersoin", "status": {"code": "UNAVAILABLE"}}], "cases": []}"#,
    );
    let (code, output) = harness_run_with(&[plugin.to_str().unwrap(), "--suite", &suite], |_| {});
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("did you mean `GetServerVersion`?"),
        "{output}"
    );
}
