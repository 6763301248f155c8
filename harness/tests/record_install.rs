//! `harness record --install`: the bundle it writes is a plugin that
//! `harness run` (playing the server) accepts as it is and records
//! through, and the recordings replay against the original plugin.

mod common;

use std::{path::Path, time::Duration};

use common::{fixture, harness_run_with, python_fixtures, rust_reference};

fn install(plugin: &Path, bundle: &Path) -> (i32, String) {
    common::harness_subcommand(
        "record",
        &[
            "--install",
            plugin.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    )
}

/// Installs `plugin`, runs the bundle's built-in suites through the
/// recorder, and replays what it recorded against the original plugin.
fn installs_records_and_replays(plugin: &Path, env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let (code, output) = install(plugin, &bundle);
    assert_eq!(code, 0, "{output}");

    // The server starts the copy as it would the original: same manifest.
    assert_eq!(
        std::fs::read(plugin.join("plugin.json")).unwrap(),
        std::fs::read(bundle.join("plugin.json")).unwrap()
    );
    let with_env = |command: &mut std::process::Command| {
        for (key, value) in env {
            command.env(key, value);
        }
    };
    let (code, output) = harness_run_with(
        &[
            bundle.to_str().unwrap(),
            "--jobs",
            "1",
            "--frozen-clock",
            "2026-01-01T00:00:00Z",
        ],
        with_env,
    );
    assert_eq!(
        code, 0,
        "the run through the installed bundle failed:\n{output}"
    );
    let recordings = bundle.join("recordings");
    let recorded = std::fs::read_dir(&recordings)
        .unwrap_or_else(|err| panic!("no {}: {err}\n{output}", recordings.display()))
        .count();
    assert!(recorded > 0, "nothing recorded:\n{output}");

    let (code, output) = harness_run_with(
        &[
            plugin.to_str().unwrap(),
            "--no-builtin",
            "--suite",
            recordings.to_str().unwrap(),
        ],
        with_env,
    );
    assert_eq!(code, 0, "the recordings do not replay green:\n{output}");
    assert!(output.contains(" passed, 0 failed"), "{output}");
}

#[test]
fn a_python_plugin_installed_for_recording_runs_records_and_replays() {
    python_fixtures();
    let plugin = fixture("hello-python");
    installs_records_and_replays(&plugin, &[]);
}

#[test]
fn a_native_plugin_installed_for_recording_runs_records_and_replays() {
    let binary = rust_reference().to_str().unwrap().to_owned();
    installs_records_and_replays(
        &fixture("rust-reference"),
        &[("RUST_REFERENCE_BIN", binary.as_str())],
    );
}

#[test]
fn the_python_shim_keeps_the_original_script_and_the_bundled_venv() {
    python_fixtures();
    let plugin = fixture("hello-python");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let (code, output) = install(&plugin, &bundle);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        std::fs::read(plugin.join("server/plugin.py")).unwrap(),
        std::fs::read(bundle.join("server/plugin.original.py")).unwrap()
    );
    let shim = std::fs::read_to_string(bundle.join("server/plugin.py")).unwrap();
    assert!(shim.contains("sys.executable"), "{shim}");
    // The fixture's venv is a relative link out of the plugin: the copy's
    // link must still reach it, or the server would find no venv.
    assert!(
        bundle.join(".venv/bin/python").exists(),
        "the bundled venv is lost"
    );
}

#[test]
fn installing_needs_a_plugin_and_a_new_bundle_directory() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("something"), "").unwrap();
    let (code, output) = install(&fixture("rust-reference"), &taken);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("--out") && output.contains("already holds files"),
        "{output}"
    );

    let (code, output) = install(dir.path(), &dir.path().join("new"));
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("--install") && output.contains("no plugin manifest"),
        "{output}"
    );

    let (code, output) = install(
        &fixture("rust-reference"),
        &fixture("rust-reference").join("inside"),
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("inside the plugin"), "{output}");
    assert!(!fixture("rust-reference").join("inside").exists());
}

#[test]
fn command_and_install_are_one_or_the_other() {
    let (code, output) = common::harness_subcommand(
        "record",
        &["--out", "/tmp/never-used"],
        Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("PLUGIN|COMMAND"), "{output}");
}
