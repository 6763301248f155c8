//! Plugins that cannot be started: each gets its own diagnosis and exit
//! code 3, quoting what the plugin wrote.

mod common;

use common::{fixture, harness_run};

fn misbehaving(name: &str) -> String {
    fixture("misbehaving").join(name).display().to_string()
}

#[test]
fn a_greeting_instead_of_a_handshake_is_quoted() {
    let (code, output) = harness_run(&[&misbehaving("prints-hello")]);
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("not a go-plugin handshake"), "{output}");
    assert!(output.contains("\"hello\""), "{output}");
}

#[test]
fn garbage_handshake_fields_are_explained() {
    let (code, output) = harness_run(&[&misbehaving("grandchild-garbage")]);
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("\"not a handshake\""), "{output}");
}

#[test]
fn an_early_exit_quotes_the_stderr_tail_and_status() {
    let (code, output) = harness_run(&[&misbehaving("exits-early")]);
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains("exited (exit status: 4) before writing its handshake"),
        "{output}"
    );
    assert!(
        output.contains("stderr | plugin: cannot read configuration file settings.toml"),
        "{output}"
    );
    assert!(output.contains("stderr | plugin: giving up"), "{output}");
}

#[test]
fn a_netrpc_plugin_is_named_as_such() {
    let (code, output) = harness_run(&[&misbehaving("netrpc")]);
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains("net/rpc protocol (a Go net/rpc plugin), not gRPC"),
        "{output}"
    );
}

#[test]
fn an_unsupported_protocol_version_is_named() {
    let (code, output) = harness_run(&[&misbehaving("wrong-version")]);
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains("app protocol version 2, the server only offers 1"),
        "{output}"
    );
}

#[test]
fn silence_ends_at_the_start_timeout() {
    let (code, output) = harness_run(&[&misbehaving("silent"), "--start-timeout", "300ms"]);
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains("no handshake line within the 300ms start timeout"),
        "{output}"
    );
}

#[test]
fn a_missing_executable_is_named_with_its_path() {
    let (code, output) = harness_run(&[&misbehaving("missing-executable")]);
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains("server/dist/plugin-linux-amd64 does not exist"),
        "{output}"
    );
}

#[test]
fn bad_input_exits_2() {
    let (code, output) = harness_run(&["/no/such/plugin"]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("/no/such/plugin: no such file or directory"),
        "{output}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plugin.json"),
        "{\"id\": \"x\",\n \"server\": {\"executable\": 5}}",
    )
    .unwrap();
    let (code, output) = harness_run(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("plugin.json:2:"), "{output}");
    assert!(
        output.contains("server.executable: invalid type: integer `5`"),
        "{output}"
    );

    let suite = dir.path().join("suite.json");
    std::fs::write(&suite, "{\"name\": \"s\", \"cases\": [{\"name\": \"c\",\n  \"steps\": [{\"hook\": \"OnActivte\"}]}]}").unwrap();
    let reference = fixture("rust-reference");
    let (code, output) = harness_run(&[
        reference.to_str().unwrap(),
        "--suite",
        suite.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("suite.json:2:"), "{output}");
    assert!(output.contains("did you mean `OnActivate`?"), "{output}");
}
