//! Shared by the integration tests: the built harness, the fixtures (built
//! or set up on first use), and a bounded way to run the harness.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
        mpsc::Receiver,
    },
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
        let setup = repo_root().join("fixtures/python/setup.sh");
        // Test binaries run at once must not build the venv or swap the
        // generated stubs under each other: one setup at a time, held on
        // the script itself.
        let lock = std::fs::File::open(&setup).expect("fixtures/python/setup.sh is readable");
        lock.lock().expect("locking fixtures/python/setup.sh works");
        let output = Command::new(&setup)
            .output()
            .expect("fixtures/python/setup.sh runs");
        drop(lock);
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

/// Set on every child a [`Watched`] starts, with a value unique to that
/// child: the processes it starts inherit it, which is how a child stopped
/// as a hang is cleaned up with everything it started.
const WATCH_MARKER: &str = "MM_HARNESS_TEST_WATCH";

/// Where a line a [`Watched`] child printed came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
    /// A FIFO added with [`Watched::watch_fifo`].
    Fifo,
}

/// A child process whose stdout and stderr are read on threads while it
/// runs (so it never blocks on a full pipe), line by line, so a test can
/// wait for a line before acting. Every wait is bounded only to stop a
/// hang; dropping it while the child runs kills the child and everything
/// it started.
pub struct Watched {
    child: Child,
    /// The command line, to name it in messages.
    what: String,
    marker: String,
    chunks: Receiver<(Stream, Option<Vec<u8>>)>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    fifo: Vec<u8>,
    /// Every complete line seen so far, from any stream, in arrival order.
    lines: Vec<String>,
    stdout_open: bool,
    stderr_open: bool,
    /// Kept to hand to readers added later.
    sender: std::sync::mpsc::Sender<(Stream, Option<Vec<u8>>)>,
}

impl Watched {
    pub fn spawn(mut command: Command) -> Watched {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let marker = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let what = format!("{command:?}");
        let mut child = command
            .env(WATCH_MARKER, &marker)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{what} does not start: {err}"));
        let (sender, chunks) = std::sync::mpsc::channel();
        read_lines(child.stdout.take().unwrap(), Stream::Stdout, sender.clone());
        read_lines(child.stderr.take().unwrap(), Stream::Stderr, sender.clone());
        Watched {
            child,
            what,
            marker,
            chunks,
            stdout: Vec::new(),
            stderr: Vec::new(),
            fifo: Vec::new(),
            lines: Vec::new(),
            stdout_open: true,
            stderr_open: true,
            sender,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The value of the marker variable this child and its descendants carry.
    pub fn marker(&self) -> (&'static str, &str) {
        (WATCH_MARKER, &self.marker)
    }

    /// Also reads the lines written into the FIFO at `path` (by something
    /// the child starts), for [`Watched::wait_for_line`]. The FIFO is
    /// opened on the reading thread: opening blocks until a writer comes.
    pub fn watch_fifo(&mut self, path: PathBuf) {
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            if let Ok(fifo) = std::fs::File::open(&path) {
                drain_lines(fifo, Stream::Fifo, &sender);
            }
        });
    }

    /// Sends `signal` to the child (not to what it started).
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal)
            .unwrap_or_else(|err| panic!("cannot send {signal} to {}: {err}", self.what));
    }

    /// Waits until a line `wanted` describes (and `matches` accepts) has
    /// been printed, and returns it: the first such line, even if it came
    /// before this call. A child that ends first fails the test; one that
    /// prints nothing matching within `hang_limit` is stopped as hung.
    pub fn wait_for_line(
        &mut self,
        wanted: &str,
        matches: impl Fn(&str) -> bool,
        hang_limit: Duration,
    ) -> String {
        let deadline = Instant::now() + hang_limit;
        let mut checked = 0;
        loop {
            if let Some(line) = self.lines[checked..].iter().find(|line| matches(line)) {
                return line.clone();
            }
            checked = self.lines.len();
            if !self.stdout_open && !self.stderr_open {
                let status = self.wait_for_exit(deadline);
                panic!(
                    "{} ended ({status}) without printing {wanted}:\n{}",
                    self.what,
                    self.output_text()
                );
            }
            if !self.receive(deadline) {
                self.stop_hang(&format!("printed no {wanted} within {hang_limit:?}"));
            }
        }
    }

    /// Reads everything until the child exits and returns what it printed.
    pub fn finish(self, hang_limit: Duration) -> Output {
        self.finish_watching(hang_limit, |_| {})
    }

    /// The same, calling `sample` with the child's pid every few
    /// milliseconds while it runs (to watch its memory, say).
    pub fn finish_watching(mut self, hang_limit: Duration, mut sample: impl FnMut(u32)) -> Output {
        let deadline = Instant::now() + hang_limit;
        let pid = self.child.id();
        let step = Duration::from_millis(10);
        while self.stdout_open || self.stderr_open {
            sample(pid);
            let until = (Instant::now() + step).min(deadline);
            if !self.receive(until) && Instant::now() >= deadline {
                self.stop_hang(&format!("still running after {hang_limit:?}"));
            }
        }
        let status = loop {
            sample(pid);
            if let Some(status) = self.child.try_wait().expect("waiting for a child works") {
                break status;
            }
            if Instant::now() >= deadline {
                self.stop_hang(&format!(
                    "still running after {hang_limit:?}, its output closed"
                ));
            }
            std::thread::sleep(step);
        };
        // Lines a FIFO reader still had are kept too.
        while self.receive(Instant::now()) {}
        Output {
            status,
            stdout: std::mem::take(&mut self.stdout),
            stderr: std::mem::take(&mut self.stderr),
        }
    }

    /// Stdout, then stderr, then any FIFO, as text.
    fn output_text(&self) -> String {
        format!(
            "{}{}{}",
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr),
            String::from_utf8_lossy(&self.fifo)
        )
    }

    /// Takes the next chunk read, waiting until `deadline` at most;
    /// false when none came.
    fn receive(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((stream, chunk)) = self.chunks.recv_timeout(left) else {
            return false;
        };
        let Some(bytes) = chunk else {
            match stream {
                Stream::Stdout => self.stdout_open = false,
                Stream::Stderr => self.stderr_open = false,
                Stream::Fifo => {}
            }
            return true;
        };
        let text = String::from_utf8_lossy(&bytes);
        self.lines
            .push(text.trim_end_matches(['\n', '\r']).to_owned());
        match stream {
            Stream::Stdout => self.stdout.extend(bytes),
            Stream::Stderr => self.stderr.extend(bytes),
            Stream::Fifo => self.fifo.extend(bytes),
        }
        true
    }

    fn wait_for_exit(&mut self, deadline: Instant) -> std::process::ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for a child works") {
                return status;
            }
            if Instant::now() >= deadline {
                self.stop_hang("closed its output but did not exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the child and what it started, then fails the test, saying
    /// that a hang was stopped.
    fn stop_hang(&mut self, what_happened: &str) -> ! {
        self.kill_all();
        // What was read until now; the readers may still hold a little more.
        while self.receive(Instant::now() + Duration::from_millis(100)) {}
        panic!(
            "hang stopped: {} {what_happened}; it was killed (the limit only stops a hang, \
             it is no timing requirement). Output so far:\n{}",
            self.what,
            self.output_text()
        );
    }

    /// SIGKILL to the child and to every process carrying its marker.
    fn kill_all(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in processes_with_env(WATCH_MARKER, &self.marker) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // Only a test that failed half-way leaves its child running.
        if let Ok(None) = self.child.try_wait() {
            self.kill_all();
        }
    }
}

/// Reads `pipe` line by line on a thread of its own until it closes.
fn read_lines(
    pipe: impl Read + Send + 'static,
    stream: Stream,
    sender: std::sync::mpsc::Sender<(Stream, Option<Vec<u8>>)>,
) {
    std::thread::spawn(move || drain_lines(pipe, stream, &sender));
}

/// Sends each line of `source` (bytes as written, newline kept), then
/// `None` at its end. Reading goes on after the receiver is gone, so the
/// writer is never blocked, nor killed by SIGPIPE.
fn drain_lines(
    source: impl Read,
    stream: Stream,
    sender: &std::sync::mpsc::Sender<(Stream, Option<Vec<u8>>)>,
) {
    let mut reader = BufReader::new(source);
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let _ = sender.send((stream, Some(line)));
            }
        }
    }
    let _ = sender.send((stream, None));
}

/// Runs `command` to completion, draining its output as it runs; a run
/// still going after `hang_limit` is killed as a hang (a stuck test is a
/// failure, not a stuck CI job).
pub fn run_bounded(command: Command, hang_limit: Duration) -> Output {
    Watched::spawn(command).finish(hang_limit)
}

/// Starts `command`, waits until it prints a line `wanted` describes (and
/// `matches` accepts), sends it `signal`, and reads the rest to its exit:
/// how a test interrupts a run at a known moment, with no sleep.
pub fn signal_after_line(
    command: Command,
    wanted: &str,
    matches: impl Fn(&str) -> bool,
    signal: nix::sys::signal::Signal,
    hang_limit: Duration,
) -> Output {
    let mut watched = Watched::spawn(command);
    watched.wait_for_line(wanted, matches, hang_limit);
    watched.signal(signal);
    watched.finish(hang_limit)
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

/// Waits for `pid` to disappear (reaping is asynchronous): true as soon
/// as it is gone, false if it is still there after half a minute (a bound
/// that only stops the wait, far past any reaping delay).
pub fn gone_soon(pid: u32) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
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
/// the plugin's pid, and what it prints. Dropping it kills the harness and
/// everything it started, so a failed test leaks nothing.
pub struct HttpServe {
    watched: Watched,
    pub addr: std::net::SocketAddr,
    pub plugin_pid: u32,
    /// The length of stdout up to the "Listening" line.
    startup_len: usize,
}

impl HttpServe {
    /// Starts `harness http ARGS...` and waits for it to listen (stopped
    /// as a hang after a minute).
    pub fn start(args: &[&str]) -> HttpServe {
        let mut command = harness();
        command.arg("http").args(args);
        let mut watched = Watched::spawn(command);
        let listening = watched.wait_for_line(
            "\"Listening on\" line",
            |line| line.trim_start().starts_with("Listening on http://"),
            Duration::from_secs(60),
        );
        let addr = listening
            .trim_start()
            .strip_prefix("Listening on http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {listening:?}"));
        // Printed before the "Listening" line, on the same stream.
        let plugin_pid = watched
            .lines
            .iter()
            .find_map(|line| line.trim_start().strip_prefix("Launched pid "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no \"Launched pid\" line in:\n{}", watched.output_text()));
        let startup_len = watched.stdout.len();
        HttpServe {
            watched,
            addr,
            plugin_pid,
            startup_len,
        }
    }

    /// Waits until a line containing `fragment` was printed (the request
    /// log is written once a response is done, which its client may see
    /// first); stopped as a hang after a minute.
    pub fn wait_for_output(&mut self, fragment: &str) {
        self.watched.wait_for_line(
            &format!("line containing {fragment:?}"),
            |line| line.contains(fragment),
            Duration::from_secs(60),
        );
    }

    /// Ctrl-C, then reads to the exit (stopped as a hang after 30 s): the
    /// exit code and what was printed after the "Listening" line (stdout,
    /// then stderr).
    pub fn stop(self) -> (i32, String) {
        let startup_len = self.startup_len;
        self.watched.signal(nix::sys::signal::Signal::SIGINT);
        let output = self.watched.finish(Duration::from_secs(30));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout[startup_len..]),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
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

/// Every case a run report holds, suite after suite.
pub fn report_cases(report: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    report["suites"]
        .as_array()
        .expect("a run report lists its suites")
        .iter()
        .flat_map(|suite| suite["cases"].as_array().expect("a suite lists its cases"))
}

/// `suite/case` of every case the report holds.
pub fn case_names(report: &serde_json::Value) -> Vec<String> {
    report_cases(report)
        .map(|case| {
            format!(
                "{}/{}",
                case["suite"].as_str().unwrap(),
                case["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// A plugin bundle whose entry point is `harness record` around `plugin`:
/// the same manifest (so the same id and settings), a shell script as the
/// executable.
pub fn recording_bundle(dir: &Path, plugin: &Path, out: &Path) -> PathBuf {
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    let mut manifest = match plugin.join("plugin.json").is_file() {
        true => read_json(&plugin.join("plugin.json")),
        false => serde_json::json!({"id": plugin.file_stem().unwrap().to_string_lossy()}),
    };
    manifest["server"] = serde_json::json!({"executable": "record.sh"});
    std::fs::write(bundle.join("plugin.json"), manifest.to_string()).unwrap();
    let script = format!(
        "#!/bin/sh\nexec '{}' record --out '{}' --name rec -- '{}' \"$@\"\n",
        env!("CARGO_BIN_EXE_harness"),
        out.display(),
        plugin.display()
    );
    let entry = bundle.join("record.sh");
    std::fs::write(&entry, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755)).unwrap();
    bundle
}

/// The recorded suites in `out`, sorted by file name, with their contents.
pub fn recorded_files(out: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(out)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .map(|path| {
                    (
                        path.file_name().unwrap().to_string_lossy().into_owned(),
                        std::fs::read_to_string(&path).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Replays the suites in `suites` against `plugin` alone (no built-in
/// suites, no server behind it) and asserts every case passed; returns
/// the run's output.
pub fn replays_green(plugin: &Path, suites: &Path) -> String {
    let (code, output) = harness_run(&[
        plugin.to_str().expect("a UTF-8 path"),
        "--no-builtin",
        "--suite",
        suites.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(
        code, 0,
        "the recorded suites do not replay green:\n{output}"
    );
    assert!(output.contains(" passed, 0 failed"), "{output}");
    output
}
