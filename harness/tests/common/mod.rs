//! Shared by the integration tests: the built harness, the fixtures (built
//! or set up on first use), and a bounded way to run the harness.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures/plugins").join(name)
}

/// Builds the rust-reference fixture once per test binary and returns its path.
pub fn rust_reference() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "rust-reference"])
            .current_dir(repo_root())
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building the rust-reference fixture failed"
        );
        // It lands beside the harness binary, in the same target directory.
        let harness = Path::new(env!("CARGO_BIN_EXE_harness"));
        harness.with_file_name("rust-reference")
    })
}

/// Sets up the Python fixtures once per test binary (these tests need
/// Python 3 with pip; `fixtures/python/setup.sh` installs grpcio into a venv).
pub fn python_fixtures() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let output = Command::new(repo_root().join("fixtures/python/setup.sh"))
            .output()
            .expect("fixtures/python/setup.sh runs");
        assert!(
            output.status.success(),
            "fixtures/python/setup.sh failed (the Python tests need python3 and pip):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// The harness command, with the reference plugin's binary made known to
/// the fixtures that run it.
pub fn harness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
    command.env("RUST_REFERENCE_BIN", rust_reference());
    command
}

/// Runs `command` to completion, killing it if it takes longer than `limit`
/// (a hang is a test failure, not a stuck CI job).
pub fn run_bounded(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the harness starts");
    let started = Instant::now();
    while child.try_wait().expect("wait works").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `harness run ARGS...`, bounded to a minute.
pub fn harness_run(args: &[&str]) -> (i32, String) {
    harness_run_with(args, |_| {})
}

/// Whether a process is still alive (a zombie waiting to be reaped counts
/// as gone: it runs no code and holds no resources but its pid).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next());
            state != Some("Z")
        }
        Err(_) => false,
    }
}

/// Waits briefly for `pid` to disappear (reaping is asynchronous).
pub fn gone_soon(pid: u32) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// `harness run ARGS...`, bounded to a minute, with the command adjusted by
/// `setup` (e.g. removing `CI`, which switches snapshots to CI mode).
pub fn harness_run_with(args: &[&str], setup: impl FnOnce(&mut Command)) -> (i32, String) {
    let mut command = harness();
    command.arg("run").args(args);
    setup(&mut command);
    let output = run_bounded(command, Duration::from_secs(60));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// Writes `text` as `name` in `dir` and returns the path as a string.
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
