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
    harness_subcommand_with("run", args, Duration::from_secs(60), setup)
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

/// The rust-reference fixture as a launch target: its manifest (and so its
/// id), run straight from the freshly built binary.
pub fn rust_reference_target() -> harness::launch::PluginTarget {
    let mut target = harness::launch::PluginTarget::resolve(&fixture("rust-reference")).unwrap();
    let binary = rust_reference();
    target.dir = binary.parent().unwrap().to_owned();
    target.executable = PathBuf::from(binary.file_name().unwrap());
    target
}

/// `harness http` running in the background for a test: where it listens,
/// the plugin's pid, and what it prints. Dropping it kills both the
/// harness and the plugin's process group, so a failed test leaks nothing.
pub struct HttpServe {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
    pub plugin_pid: u32,
    /// Everything printed up to the "Listening" line.
    pub startup: String,
    stdout: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl HttpServe {
    /// Starts `harness http ARGS...` and waits up to a minute for it to listen.
    pub fn start(args: &[&str]) -> HttpServe {
        use std::io::{BufRead, BufReader, Read};
        let mut command = harness();
        command
            .arg("http")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the harness starts");
        let (lines, stdout) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });
        let mut serve = HttpServe {
            child,
            addr: ([127, 0, 0, 1], 0).into(),
            plugin_pid: 0,
            startup: String::new(),
            stdout,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = serve.stdout.recv_timeout(left) else {
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "harness http did not listen within a minute:\n{}{}",
                    serve.startup,
                    serve.stderr.lock().unwrap()
                );
            };
            serve.startup.push_str(&line);
            serve.startup.push('\n');
            let line = line.trim_start();
            if let Some(rest) = line.strip_prefix("Launched pid ") {
                serve.plugin_pid = rest.split_whitespace().next().unwrap().parse().unwrap();
            }
            if let Some(rest) = line.strip_prefix("Listening on http://") {
                serve.addr = rest.split('/').next().unwrap().parse().unwrap();
                return serve;
            }
        }
    }

    /// Ctrl-C, then up to 30 s to exit: the exit code and what was printed
    /// after the "Listening" line (stdout, then stderr).
    pub fn stop(&mut self) -> (i32, String) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "harness http still running 30 s after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut text = String::new();
        while let Ok(line) = self.stdout.recv_timeout(Duration::from_secs(5)) {
            text.push_str(&line);
            text.push('\n');
        }
        std::thread::sleep(Duration::from_millis(50));
        text.push_str(&self.stderr.lock().unwrap());
        (status.code().unwrap_or(-1), text)
    }
}

impl Drop for HttpServe {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if self.plugin_pid != 0 {
                let group = nix::unistd::Pid::from_raw(self.plugin_pid as i32);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `harness SUBCOMMAND ARGS...`, bounded by `limit`: exit code and output
/// (stdout, then stderr, where progress lines go).
pub fn harness_subcommand(subcommand: &str, args: &[&str], limit: Duration) -> (i32, String) {
    harness_subcommand_with(subcommand, args, limit, |_| {})
}

/// The same, with the command adjusted by `setup` first.
pub fn harness_subcommand_with(
    subcommand: &str,
    args: &[&str],
    limit: Duration,
    setup: impl FnOnce(&mut Command),
) -> (i32, String) {
    let mut command = harness();
    command.arg(subcommand).args(args);
    setup(&mut command);
    let output = run_bounded(command, limit);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// `harness bench ARGS...`, bounded to two minutes.
pub fn harness_bench(args: &[&str]) -> (i32, String) {
    harness_subcommand("bench", args, Duration::from_secs(120))
}

/// `harness report ARGS...`, bounded to a minute.
pub fn harness_report(args: &[&str]) -> (i32, String) {
    harness_subcommand("report", args, Duration::from_secs(60))
}

/// `harness fuzz ARGS...`, bounded to two minutes.
pub fn harness_fuzz(args: &[&str]) -> (i32, String) {
    harness_subcommand("fuzz", args, Duration::from_secs(120))
}

/// Live processes (zombies excluded) whose environment holds `var=value`.
/// A variable set on the harness's command is inherited by the plugin and
/// by everything the plugin starts, so this finds a run's processes
/// whether or not their pids were ever reported.
pub fn processes_with_env(var: &str, value: &str) -> Vec<u32> {
    let wanted = format!("{var}={value}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // Unreadable: another user's process, or one that just ended.
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|&byte| byte == 0)
                    .any(|entry| entry == wanted.as_bytes())
            })
        })
        .filter(|&pid| process_alive(pid))
        .collect()
}

/// Runs the suite file `suite` alone (no built-in suites) against the
/// fixture plugin `plugin`, with `setup` adjusting the command: exit code,
/// output, and the JSON report read back.
pub fn run_suite_alone(
    plugin: &str,
    suite: &str,
    setup: impl FnOnce(&mut Command),
) -> (i32, String, serde_json::Value) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let plugin = fixture(plugin);
    let args = [
        plugin.to_str().unwrap(),
        "--no-builtin",
        "--suite",
        suite,
        "--json",
        report.path().to_str().unwrap(),
    ];
    let (code, output) = harness_run_with(&args, setup);
    (code, output, read_json(report.path()))
}
