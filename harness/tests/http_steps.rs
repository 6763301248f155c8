//! ServeHTTP as suite steps: requests of every body size, the stream's
//! shape, the server's rules (an invalid status becomes its own 500), and
//! each HTTP expectation failing with the field named.

mod common;

use common::{fixture, harness_run_with, run_suite_alone, write_file};

const ECHO: &str = r#"{
  "name": "echo",
  "cases": [
    {"name": "small", "steps": [{"http": {"method": "POST", "path": "/echo", "headers": {"X-Twice": ["1", "2"]}, "body": "hello",
      "expect": {"status": 200, "body": "hello", "headers": {"X-Echo-Header-X-Twice": ["1", "2"]}, "request_complete": true}}}]},
    {"name": "chunk-boundary", "steps": [{"http": {"method": "POST", "path": "/echo", "body_size": 65537,
      "expect": {"status": 200, "body_size": 65537, "flushes": 5, "messages": 5}}}]},
    {"name": "early", "steps": [{"http": {"method": "POST", "path": "/echo", "query": "early=1", "body_size": 1048576,
      "expect": {"status": 200, "early": true, "body_size": 1048576}}}]},
    {"name": "sha256", "steps": [{"http": {"method": "POST", "path": "/echo", "body": "abc",
      "expect": {"body_sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}}]}
  ]
}"#;

#[test]
fn http_steps_check_bodies_headers_and_the_stream_shape() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(dir.path(), "echo.json", ECHO);
    let plugin = fixture("rust-reference");
    let (code, output) = harness_run_with(
        &[plugin.to_str().unwrap(), "--no-builtin", "--suite", &suite],
        |_| {},
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("4 passed, 0 failed"), "{output}");
}

#[test]
fn each_http_expectation_fails_naming_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_file(
        dir.path(),
        "wrong.json",
        r#"{"name": "wrong", "cases": [
          {"name": "status", "steps": [{"http": {"path": "/nope", "expect": {"status": "2xx"}}}]},
          {"name": "body", "steps": [{"http": {"method": "POST", "path": "/echo", "body": "a", "expect": {"body": "b"}}}]},
          {"name": "header", "steps": [{"http": {"method": "POST", "path": "/echo", "expect": {"headers": {"X-Missing": "x"}}}}]},
          {"name": "json", "steps": [{"http": {"method": "POST", "path": "/echo", "body": "{\"a\": 1}", "expect": {"body_json": {"a": 2}}}}]},
          {"name": "size", "steps": [{"http": {"method": "POST", "path": "/echo", "body_size": 10, "expect": {"body_size": 11}}}]},
          {"name": "messages", "steps": [{"http": {"method": "POST", "path": "/echo", "body": "a", "expect": {"messages": 7}}}]}
        ]}"#,
    );
    let (code, output, report) = run_suite_alone("rust-reference", &suite, |_| {});
    assert_eq!(code, 1, "{output}");
    for (name, field) in [
        ("status", "http.status"),
        ("body", "http.body"),
        ("header", "http.headers.X-Missing"),
        ("json", "http.body_json.a"),
        ("size", "http.body_size"),
        ("messages", "http.messages"),
    ] {
        let case = report["suites"][0]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert_eq!(
            case["steps"][0]["mismatches"][0]["field"], field,
            "{case:#}"
        );
    }
}

#[test]
fn an_invalid_status_is_the_servers_500_and_fails_the_built_in_rules() {
    let plugin = fixture("rust-reference");
    let (code, output) = harness_run_with(
        &[
            plugin.to_str().unwrap(),
            "--filter",
            "serve-http/unknown-path-is-a-4xx",
            "--",
            "--fault",
            "http-bad-status",
        ],
        |_| {},
    );
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("http.answered"), "{output}");
    assert!(
        output.contains("the server answered 500 itself"),
        "{output}"
    );
}
