//! `harness.toml` and `harness gate`: flags over the file, profiles over
//! its defaults, positioned errors, and the committed example gate.

mod common;

use std::time::Duration;

use common::{
    case_names, fixture, harness_run, harness_subcommand, harness_subcommand_with, python_fixtures,
    read_json, repo_root, rust_reference, write_file,
};

/// The cases a run's JSON report holds, as `suite/case`.
fn cases_run(json: &std::path::Path) -> Vec<String> {
    case_names(&read_json(json))
}

#[test]
fn flags_win_over_the_file_and_a_profile_over_its_defaults() {
    rust_reference();
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "harness.toml",
        "[run]\nfilter = [\"lifecycle/health\"]\n\n[output]\njson = \"from-file.json\"\n\n\
         [profile.narrow.run]\nfilter = [\"lifecycle/implemented\"]\n",
    );
    let plugin = fixture("rust-reference");
    let plugin = plugin.to_str().unwrap();

    // The file alone: its filter, its output path (relative to the file).
    let (code, output) = harness_run(&[plugin, "--config", &config]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        cases_run(&dir.path().join("from-file.json")),
        ["lifecycle/health"]
    );

    // Its profile over its defaults.
    let (code, output) = harness_run(&[plugin, "--config", &config, "--profile", "narrow"]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        cases_run(&dir.path().join("from-file.json")),
        ["lifecycle/implemented"]
    );

    // Flags over both.
    let flag_json = dir.path().join("from-flag.json");
    let (code, output) = harness_run(&[
        plugin,
        "--config",
        &config,
        "--profile",
        "narrow",
        "--filter",
        "lifecycle/handshake",
        "--json",
        flag_json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(cases_run(&flag_json), ["lifecycle/handshake"]);

    // A profile the file does not have.
    let (code, output) = harness_run(&[plugin, "--config", &config, "--profile", "narow"]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("no profile `narow`, did you mean `narrow`?"),
        "{output}"
    );
}

#[test]
fn a_bad_key_in_a_file_found_upward_is_positioned_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "harness.toml",
        "[run]\njobs = 2\nfail-on-plugin-error = true\n",
    );
    let below = dir.path().join("sdk/plugin");
    std::fs::create_dir_all(&below).unwrap();
    let plugin = fixture("rust-reference");
    let (code, output) = harness_subcommand_with(
        "run",
        &[plugin.to_str().unwrap()],
        Duration::from_secs(60),
        |command| {
            command.current_dir(&below);
        },
    );
    assert_eq!(code, 2, "{output}");
    let expected = format!(
        "{}:3:1: unknown field `fail-on-plugin-error`",
        dir.path().join("harness.toml").display()
    );
    assert!(output.contains(&expected), "{output}");
    assert!(
        output.contains("did you mean `fail-on-plugin-errors`?"),
        "{output}"
    );
}

#[test]
fn the_example_gate_passes_and_writes_its_outputs() {
    python_fixtures();
    rust_reference();
    let out = tempfile::tempdir().unwrap();
    let config = repo_root().join("fixtures/gate/harness.toml");
    let (code, output) = harness_subcommand(
        "gate",
        &[
            "--config",
            config.to_str().unwrap(),
            "--output-dir",
            out.path().to_str().unwrap(),
        ],
        Duration::from_secs(300),
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("4 steps, 0 failed: exit 0"), "{output}");
    for plugin in ["com.example.hello-python", "com.example.rust-reference"] {
        let report = read_json(&out.path().join(format!("{plugin}.json")));
        assert_eq!(report["exit_code"], 0, "{plugin}");
        assert!(report["totals"]["passed"].as_u64().unwrap() > 0, "{plugin}");
        let junit =
            std::fs::read_to_string(out.path().join(format!("{plugin}.junit.xml"))).unwrap();
        assert!(junit.contains("<testsuite name=\"lifecycle\""), "{junit}");
    }
    assert_eq!(
        read_json(&out.path().join("drift.json"))["summary"]["differences"],
        0
    );
    let bench = read_json(&out.path().join("bench/report.json"));
    assert_eq!(bench["budget"]["passed"], true, "{bench}");
}

#[test]
fn a_planted_drift_fails_the_gate() {
    rust_reference();
    // The harness's protos with RequestContext.request_id moved from number 2 to 9.
    let dir = tempfile::tempdir().unwrap();
    let sdk = dir.path().join("sdk-proto");
    for entry in std::fs::read_dir(repo_root().join("proto")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            let text = std::fs::read_to_string(&path).unwrap().replace(
                "string plugin_id = 1;\n  string request_id = 2;",
                "string plugin_id = 1;\n  string request_id = 9;",
            );
            write_file(&sdk, path.file_name().unwrap().to_str().unwrap(), &text);
        }
    }
    let config = write_file(
        dir.path(),
        "harness.toml",
        &format!(
            "[drift]\nsource = \"sdk-proto\"\n\n[[plugin]]\npath = {:?}\n\n[run]\nfilter = [\"lifecycle/handshake\"]\n",
            fixture("rust-reference").display().to_string()
        ),
    );
    let (code, output) = harness_subcommand(
        "gate",
        &["--config", &config, "--no-bench"],
        Duration::from_secs(120),
    );
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("request_id"), "{output}");
    assert!(
        output.contains("FAIL [") && output.contains("drift ("),
        "{output}"
    );
    assert!(output.contains("2 steps, 1 failed: exit 1"), "{output}");
}
