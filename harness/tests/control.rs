//! `harness serve --control stdio` driven directly, as a client in another
//! language would: the hello line, every kind of bad request answered with
//! an error and the loop going on, a plugin crashing mid-test restarted by
//! `reset`, and no process left behind.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Stdio},
    sync::mpsc::{Receiver, channel},
    time::Duration,
};

use serde_json::{Value, json};

/// Stops a wait for an answer that will not come; no timing requirement.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// A `harness serve --control stdio` child; killed if dropped while running.
struct Control {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Control {
    fn start(plugin_args: &[&str]) -> (Control, Value) {
        let mut command = common::harness();
        command
            .arg("serve")
            .arg(common::fixture("rust-reference"))
            .args(["--control", "stdio", "--grace", "10s", "--"])
            .args(plugin_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the harness starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let stdin = child.stdin.take();
        let mut control = Control {
            child,
            stdin,
            lines,
            stderr,
        };
        let hello = control.next_line();
        (control, hello)
    }

    fn next_line(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(HANG_LIMIT)
            .expect("the harness answers (or the wait hit the hang limit)");
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
    }

    fn send_raw(&mut self, line: &str) -> Value {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("the harness reads stdin");
        stdin.flush().unwrap();
        self.next_line()
    }

    fn send(&mut self, request: Value) -> Value {
        self.send_raw(&request.to_string())
    }

    /// Closes stdin (the protocol's shutdown) and returns the exit code and stderr.
    fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("the harness exits");
        let stderr = std::mem::replace(&mut self.stderr, std::thread::spawn(String::new));
        (status.code().unwrap_or(-1), stderr.join().unwrap())
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn error_of(answer: &Value) -> (&str, &str) {
    assert_eq!(answer["ok"], false, "expected an error answer: {answer}");
    (
        answer["error"]["kind"].as_str().unwrap(),
        answer["error"]["message"].as_str().unwrap(),
    )
}

fn spam_post() -> Value {
    json!({"post": {"user_id": "ualice00000000000000000000", "channel_id": "cacmetownsquare00000000000", "message": "hello"}})
}

#[test]
fn bad_requests_are_answered_with_errors_and_the_loop_goes_on() {
    let (mut control, hello) = Control::start(&[]);
    assert_eq!(hello["protocol"], "mm-plugin-harness-control", "{hello}");
    assert_eq!(hello["version"], 1, "{hello}");
    assert_eq!(hello["plugin"]["running"], true, "{hello}");
    let pid = hello["plugin"]["pid"].as_u64().unwrap() as u32;

    let answer = control.send_raw("{not json");
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "malformed");
    assert!(message.contains("not valid JSON"), "{message}");

    let answer = control.send(json!({"id": 7, "command": "frobnicate"}));
    assert_eq!(answer["id"], 7);
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "unknown_command");
    assert!(
        message.contains("\"frobnicate\"") && message.contains("call_hook"),
        "{message}"
    );

    let answer = control.send(json!({
        "command": "call_hook",
        "hook": "MessageWillBePosted",
        "request": {"post": {"mesage": "typo"}},
    }));
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "invalid");
    assert!(
        message.contains("request") && message.contains("mesage"),
        "{message}"
    );

    let answer = control.send(json!({"command": "call_hook", "hook": "NoSuchHook"}));
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "invalid");
    assert!(message.contains("NoSuchHook"), "{message}");

    let answer = control.send(json!({"command": "api_calls", "sinse": 0}));
    let (_, message) = error_of(&answer);
    assert!(message.contains("sinse"), "{message}");

    // After all that, a real call answers.
    let answer = control.send(json!({
        "command": "call_hook", "hook": "MessageWillBePosted", "request": spam_post(),
    }));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["result"]["status"], "OK", "{answer}");
    assert!(answer["result"]["response"].is_object(), "{answer}");
    assert!(answer["result"]["outcome"].is_string(), "{answer}");

    let answer = control.send(json!({"command": "shutdown"}));
    assert_eq!(answer["ok"], true, "{answer}");
    let (code, stderr) = control.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        common::gone_soon(pid),
        "the plugin (pid {pid}) outlived the harness"
    );
}

#[test]
fn a_plugin_that_dies_is_reported_and_reset_starts_a_fresh_one() {
    let (mut control, hello) = Control::start(&["--fault", "crash:MessageWillBePosted"]);
    let first_pid = hello["plugin"]["pid"].as_u64().unwrap() as u32;

    let answer = control.send(json!({
        "command": "call_hook", "hook": "MessageWillBePosted", "request": spam_post(),
    }));
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "plugin_died", "{answer}");
    assert!(
        message.contains("the plugin process exited") && message.contains("MessageWillBePosted"),
        "{message}"
    );
    assert!(message.contains("crash fault"), "its last words: {message}");
    assert!(
        common::gone_soon(first_pid),
        "the dead plugin's group was not reaped"
    );

    // The next command is answered: no plugin, and how to get one.
    let answer = control.send(json!({"command": "world_get", "parts": ["users"]}));
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "no_plugin");
    assert!(message.contains("reset"), "{message}");

    let answer = control.send(json!({"command": "reset"}));
    assert_eq!(answer["ok"], true, "{answer}");
    let second_pid = answer["result"]["plugin"]["pid"].as_u64().unwrap() as u32;
    assert_ne!(first_pid, second_pid);

    // A fresh world: seeded users are there, and OnActivate's calls are logged.
    let answer = control.send(json!({"command": "world_get", "parts": ["users", "kv"]}));
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(
        answer["result"]["users"]
            .as_array()
            .is_some_and(|users| !users.is_empty()),
        "{answer}"
    );
    let answer = control.send(json!({"command": "output"}));
    assert_eq!(answer["ok"], true, "{answer}");

    let (code, stderr) = control.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        common::gone_soon(second_pid),
        "stdin's end did not stop the plugin"
    );
}

#[test]
fn stubs_and_seeds_reach_the_plugin_api() {
    let (mut control, _) = Control::start(&[]);
    let answer =
        control.send(json!({"command": "stub", "method": "GetServerVersion", "respnd": {}}));
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "invalid");
    assert!(message.contains("respnd"), "{message}");

    let answer = control.send(json!({
        "command": "stub",
        "method": "KVGet",
        "status": {"code": "UNAVAILABLE", "message": "store down"},
    }));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["result"]["stubs"], 1);

    let answer = control.send(json!({
        "command": "world_seed",
        "seed": {"users": [{"name": "zed"}], "kv": {"greeting": "hi"}},
    }));
    assert_eq!(answer["ok"], true, "{answer}");
    let answer = control.send(json!({"command": "world_get", "parts": ["users", "kv"]}));
    let users = answer["result"]["users"].as_array().unwrap();
    assert!(
        users.iter().any(|user| user["username"] == "zed"),
        "{answer}"
    );
    assert_eq!(answer["result"]["kv"]["greeting"]["text"], "hi", "{answer}");

    let answer = control.send(json!({"command": "world_seed", "seed": {"userz": []}}));
    let (kind, message) = error_of(&answer);
    assert_eq!(kind, "invalid");
    assert!(message.contains("userz"), "{message}");

    let answer = control.send(json!({"command": "api_calls"}));
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(answer["result"]["next"].as_u64().is_some(), "{answer}");
    let (code, stderr) = control.finish();
    assert_eq!(code, 0, "{stderr}");
}
