//! `harness record` in the chain it is made for: `harness run` plays the
//! server and launches a wrapper that execs `harness record` around the
//! real plugin; the recorded suites then replay against the plugin alone.

mod common;

use std::path::{Path, PathBuf};

use common::{
    fixture, harness_run, python_fixtures, recorded_files, recording_bundle, rust_reference,
};

/// Records `plugin` driven by `harness run` with `run_args`; returns the
/// recorded files, sorted, with their contents.
fn record(plugin: &Path, run_args: &[&str]) -> (tempfile::TempDir, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recorded");
    let bundle = recording_bundle(dir.path(), plugin, &out);
    // One suite at a time, as a server runs one plugin process: the
    // recordings are numbered in the order the recorder is launched. The
    // world's clock stands still, so two runs are the same traffic.
    let mut args = vec![
        bundle.to_str().unwrap(),
        "--jobs",
        "1",
        "--frozen-clock",
        "2026-01-01T00:00:00Z",
    ];
    args.extend_from_slice(run_args);
    let (code, output) = harness_run(&args);
    assert_eq!(code, 0, "the run through the recorder failed:\n{output}");
    let files = recorded_files(&out);
    assert!(
        !files.is_empty(),
        "nothing recorded in {}:\n{output}",
        out.display()
    );
    (dir, files)
}

/// Records, replays against the plugin alone (stubs only), and records
/// again to compare.
fn records_replays_and_is_stable(plugin: &Path, run_args: &[&str]) {
    // Whether any of an upload cut off by its client reaches the recorder
    // before the reset is a race (a reset drops what was not read yet), so
    // that case is left out where the files must be the same.
    let mut run_args = run_args.to_vec();
    run_args.extend(["--skip", "client-leaves-mid-upload*"]);
    let run_args = run_args.as_slice();
    let (dir, mut first) = record(plugin, run_args);
    let out = dir.path().join("recorded");
    first.extend(recorded_files(&out.join("worlds")));
    common::replays_green(plugin, &out);
    let (again, mut second) = record(plugin, run_args);
    second.extend(recorded_files(&again.path().join("recorded/worlds")));
    assert_eq!(
        first.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        second.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in first.iter().zip(&second) {
        assert_eq!(
            a, b,
            "{name} differs between two recordings of the same traffic"
        );
    }
}

#[test]
fn rust_reference_records_replays_and_is_byte_stable() {
    records_replays_and_is_stable(rust_reference(), &[]);
}

#[test]
fn hello_python_records_replays_and_is_byte_stable() {
    python_fixtures();
    records_replays_and_is_stable(&fixture("hello-python"), &[]);
}

#[test]
fn filter_python_records_replays_and_is_byte_stable() {
    python_fixtures();
    let suites = fixture("filter-python").join("suites");
    records_replays_and_is_stable(
        &fixture("filter-python"),
        &["--suite", suites.to_str().unwrap()],
    );
}

#[test]
fn api_python_records_replays_and_is_byte_stable() {
    python_fixtures();
    let suites = fixture("api-python").join("suites");
    let run_args = ["--no-builtin", "--suite", suites.to_str().unwrap(), "--ci"];
    records_replays_and_is_stable(&fixture("api-python"), &run_args);
}

#[test]
fn a_recording_seeds_its_world_with_the_users_teams_and_channels_it_saw() {
    python_fixtures();
    let suites = fixture("api-python").join("suites");
    let (dir, files) = record(
        &fixture("api-python"),
        &[
            "--no-builtin",
            "--suite",
            suites.join("api-users.json").to_str().unwrap(),
        ],
    );
    let seeds: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, suite)| {
            let suite: serde_json::Value = serde_json::from_str(suite).unwrap();
            let world = suite["world"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no world"));
            common::read_json(&dir.path().join("recorded").join(world))
        })
        .collect();
    let named = |kind: &str, name: &str| {
        seeds
            .iter()
            .flat_map(|seed| seed[kind].as_array().cloned().unwrap_or_default())
            .find(|entry| entry["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} named {name} in {seeds:#?}"))
    };
    // Ids are the ones the server gave, not ones made from the names
    // (teams and channels: see the unit tests, this traffic shows none).
    assert_eq!(named("users", "alice")["id"], "ualice00000000000000000000");
    assert_eq!(named("users", "bob")["id"], "ubob0000000000000000000000");
}

/// A copy of filter-python that no longer masks "heck".
fn changed_filter(dir: &Path) -> PathBuf {
    let original = fixture("filter-python");
    let copy = dir.join("filter-changed");
    std::fs::create_dir_all(copy.join("server")).unwrap();
    std::fs::copy(original.join("plugin.json"), copy.join("plugin.json")).unwrap();
    let code = std::fs::read_to_string(original.join("server/plugin.py")).unwrap();
    let changed = code.replace(
        r#""masked_words": ["darn", "heck"]"#,
        r#""masked_words": ["darn"]"#,
    );
    assert_ne!(code, changed, "filter-python's default masked words moved");
    std::fs::write(copy.join("server/plugin.py"), changed).unwrap();
    let venv = std::fs::canonicalize(original.join(".venv")).unwrap();
    std::os::unix::fs::symlink(venv, copy.join(".venv")).unwrap();
    copy
}

#[test]
fn a_recording_replayed_against_a_changed_plugin_names_the_field() {
    python_fixtures();
    let suites = fixture("filter-python").join("suites");
    let (dir, _) = record(
        &fixture("filter-python"),
        &["--suite", suites.to_str().unwrap()],
    );
    let changed = changed_filter(dir.path());
    let out = dir.path().join("recorded");
    let (code, output) = harness_run(&[
        changed.to_str().unwrap(),
        "--no-builtin",
        "--suite",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 1,
        "the changed plugin passed the recording:\n{output}"
    );
    assert!(output.contains("MessageWillBePosted"), "{output}");
    assert!(
        output.contains("response.modified_post.message") || output.contains("outcome"),
        "no field named:\n{output}"
    );
}

#[test]
fn recording_needs_a_server_and_a_usable_out_dir() {
    let (code, output) = common::harness_subcommand(
        "record",
        &["--out", "/tmp/never-used", "--", "/bin/true"],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("MATTERMOST_PLUGIN"), "{output}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let (code, output) = common::harness_subcommand_with(
        "record",
        &["--out", file.to_str().unwrap(), "--", "/bin/true"],
        std::time::Duration::from_secs(60),
        |command| {
            command
                .env("MATTERMOST_PLUGIN", "Securely message teams, anywhere.")
                .env("MATTERMOST_PLUGIN_API_TARGET", "127.0.0.1:1");
        },
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("--out"), "{output}");
}

#[test]
fn a_plugin_that_never_handshakes_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = common::harness_subcommand_with(
        "record",
        &[
            "--out",
            dir.path().to_str().unwrap(),
            "--start-timeout",
            "300ms",
            "--",
            "/bin/sleep",
            "30",
        ],
        std::time::Duration::from_secs(60),
        |command| {
            command
                .env("MATTERMOST_PLUGIN", "Securely message teams, anywhere.")
                .env("MATTERMOST_PLUGIN_API_TARGET", "127.0.0.1:1");
        },
    );
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("no handshake line"), "{output}");
}
