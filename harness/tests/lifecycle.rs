//! The built-in suites against the fixtures, through the real launcher and
//! the `harness` binary.

mod common;

use common::{fixture, harness_run, python_fixtures};

#[test]
fn rust_reference_passes_every_built_in_suite() {
    let plugin = fixture("rust-reference");
    let (code, output) = harness_run(&[plugin.to_str().unwrap()]);
    assert_eq!(code, 0, "{output}");
    // It implements every hook, so no built-in case is skipped.
    assert!(
        output.contains("56 passed, 0 failed, 0 skipped"),
        "{output}"
    );
    assert!(output.contains("Implements 41 hooks"), "{output}");
    for case in [
        "handshake",
        "health",
        "implemented",
        "activate",
        "configuration-change",
        "deactivate",
        "shutdown",
    ] {
        let passed = output.lines().any(|line| {
            line.trim_start().starts_with("PASS") && line.ends_with(&format!(" lifecycle/{case}"))
        });
        assert!(passed, "{case}: {output}");
    }
}

/// Needs Python 3 with pip: the fixture runs on grpcio in a venv.
#[test]
fn hello_python_passes_the_lifecycle_suite() {
    python_fixtures();
    let plugin = fixture("hello-python");
    let json = tempfile::NamedTempFile::new().unwrap();
    let (code, output) = harness_run(&[
        plugin.to_str().unwrap(),
        "--filter",
        "lifecycle",
        "--json",
        json.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("7 passed, 0 failed, 0 skipped"), "{output}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(json.path()).unwrap()).unwrap();
    assert_eq!(report["plugin"]["runtime"], "python");
    assert_eq!(report["plugin"]["id"], "com.example.hello-python");
    let implemented = report["plugin"]["implemented"].as_array().unwrap();
    assert!(implemented.contains(&"MessageWillBePosted".into()));
    // OnActivate asked the server its version through the API target.
    assert_eq!(report["api"]["calls"], 1, "{report:#}");
    assert!(
        report["plugin"]["handshake"]
            .as_str()
            .unwrap()
            .starts_with("1|1|tcp|127.0.0.1:")
    );
}

#[test]
fn a_filter_selects_cases_and_plugin_arguments_reach_the_plugin() {
    let plugin = fixture("rust-reference");
    let (code, output) = harness_run(&[plugin.to_str().unwrap(), "--filter", "lifecycle/h*"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("2 passed, 0 failed"), "{output}");
    // rust-reference refuses unknown faults: the argument got through.
    let (code, output) = harness_run(&[plugin.to_str().unwrap(), "--", "--fault", "no-such-fault"]);
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("unknown fault no-such-fault"), "{output}");
}
