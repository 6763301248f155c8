//! The built-in suites send hook requests as a Mattermost server fills
//! them: no field its hook path leaves out (a post's `props`, a channel's
//! `type`, ...; the table is `hooks::NOT_SENT_BY_SERVER`).

use harness::{hooks, suite, wire};

#[test]
fn builtin_requests_carry_only_fields_the_server_sends() {
    let mut beyond = Vec::new();
    for (hook, request) in suite::hook_requests(&suite::builtin()) {
        let descriptor = wire::message_descriptor(&format!("{hook}Request"))
            .expect("every hook has a request type");
        let message = prost_reflect::DynamicMessage::decode(descriptor, request)
            .expect("built-in requests decode");
        for path in hooks::beyond_server(&message) {
            beyond.push(format!("{hook}: {path}"));
        }
    }
    assert!(
        beyond.is_empty(),
        "built-in requests the server would never send:\n{}",
        beyond.join("\n")
    );
}
