//! Plugin-observed Plugin API latency. Only the plugin can time an API
//! call the way it experiences it (client stubs, serialization, its
//! runtime's scheduling, the loopback hop both ways), so a plugin that
//! speaks this small protocol does it on request: the slash command
//! `/mm-harness-bench api RPC COUNT MILLIS` makes up to COUNT calls of RPC
//! for at most MILLIS and answers, as the command response's text, a JSON
//! object with its own timings (`fixtures/plugins/bench-python` does).
//! `/mm-harness-bench probe` says whether a plugin speaks it at all.

use std::time::Duration;

use bytes::Bytes;
use mm_plugin_proto::pb;
use prost::Message;
use serde::Deserialize;

use crate::hooks::HookClient;

pub const TRIGGER: &str = "/mm-harness-bench";
pub const SCHEMA: &str = "mm-plugin-harness/api-bench/v1";

/// What `probe` answers.
#[derive(Debug, Clone, Deserialize)]
pub struct Probe {
    pub python: Option<String>,
    pub grpcio: Option<String>,
    /// The RPCs the plugin knows how to call with a realistic request.
    pub rpcs: Vec<String>,
}

/// One batch of API calls, timed by the plugin.
#[derive(Debug, Clone, Deserialize)]
pub struct Timings {
    pub rpc: String,
    pub count: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Every successful call's round trip in nanoseconds.
    pub samples_ns: Vec<u64>,
    /// The plugin's own summary, kept to cross-check the histogram.
    pub p50_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub mean_ns: Option<f64>,
}

#[derive(Deserialize)]
struct Envelope {
    schema: String,
}

/// An `ExecuteCommand` request for `command`, as a user in the default
/// world's town square would type it.
pub fn command_request(command: &str) -> Bytes {
    pb::ExecuteCommandRequest {
        args: Some(pb::CommandArgs {
            user_id: "ualice00000000000000000000".to_owned(),
            channel_id: "cacmetownsquare00000000000".to_owned(),
            team_id: "tacme000000000000000000000".to_owned(),
            command: command.to_owned(),
            site_url: "http://localhost:8065".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
    .into()
}

/// Whether the plugin speaks the protocol, and what it can call.
pub async fn probe(hooks: &HookClient, deadline: Duration) -> Result<Probe, String> {
    let text = exchange(hooks, &format!("{TRIGGER} probe"), deadline).await?;
    parse(&text)
}

/// Has the plugin make up to `count` calls of `rpc` for at most `duration`.
pub async fn measure(
    hooks: &HookClient,
    rpc: &str,
    count: u64,
    duration: Duration,
    deadline: Duration,
) -> Result<Timings, String> {
    let command = format!(
        "{TRIGGER} api {rpc} {count} {}",
        duration.as_millis().max(1)
    );
    // The plugin stops at `duration`; the hook gets that and the usual deadline.
    let text = exchange(hooks, &command, duration + deadline).await?;
    parse(&text)
}

async fn exchange(hooks: &HookClient, command: &str, deadline: Duration) -> Result<String, String> {
    let answer = hooks
        .call("ExecuteCommand", command_request(command), deadline)
        .await
        .map_err(|status| format!("{TRIGGER} failed: {}", status.message()))?;
    let response = pb::ExecuteCommandResponse::decode(answer)
        .map_err(|err| format!("the {TRIGGER} response does not decode: {err}"))?;
    if let Some(error) = response.error.filter(|error| !error.id.is_empty()) {
        return Err(format!(
            "{TRIGGER} answered an error: {} {}",
            error.id, error.message
        ));
    }
    Ok(response.response.unwrap_or_default().text)
}

/// Parses an answer, refusing anything not in the protocol's schema (a
/// plugin that does not speak it answers the command some other way).
pub fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    let not_spoken = || {
        let shown: String = text.chars().take(80).collect();
        format!("the plugin does not speak the {TRIGGER} protocol (it answered {shown:?})")
    };
    let envelope: Envelope = serde_json::from_str(text).map_err(|_| not_spoken())?;
    if envelope.schema != SCHEMA {
        return Err(not_spoken());
    }
    serde_json::from_str(text).map_err(|err| format!("a malformed {TRIGGER} answer: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_foreign_ones_are_told_apart() {
        let text = format!(
            r#"{{"schema": "{SCHEMA}", "rpc": "GetUser", "count": 3, "errors": 1,
                "first_error": "boom", "samples_ns": [30000, 31000], "p50_ns": 30000,
                "p99_ns": 31000, "mean_ns": 30500.0}}"#
        );
        let timings: Timings = parse(&text).unwrap();
        assert_eq!(
            (timings.count, timings.errors, timings.samples_ns.len()),
            (3, 1, 2)
        );
        let foreign = parse::<Probe>("Unknown command: /mm-harness-bench").unwrap_err();
        assert!(foreign.contains("does not speak"), "{foreign}");
        let other_schema = parse::<Probe>(r#"{"schema": "x/v9", "rpcs": []}"#).unwrap_err();
        assert!(other_schema.contains("does not speak"), "{other_schema}");
        let malformed = parse::<Timings>(&format!(r#"{{"schema": "{SCHEMA}"}}"#)).unwrap_err();
        assert!(malformed.contains("malformed"), "{malformed}");
    }

    #[test]
    fn the_command_travels_in_a_realistic_request() {
        let bytes = command_request("/mm-harness-bench probe");
        let request = pb::ExecuteCommandRequest::decode(bytes).unwrap();
        let args = request.args.unwrap();
        assert_eq!(args.command, "/mm-harness-bench probe");
        assert_eq!(args.channel_id, "cacmetownsquare00000000000");
    }
}
