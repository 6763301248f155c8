//! Writing findings to `--save DIR`, and showing their requests.
//!
//! A finding becomes a suite file of one case, its shrunk request as a
//! step: a unary hook's request in the proto3 JSON mapping with the
//! expectation that failed, a ServeHTTP request as an HTTP step. `harness
//! run PLUGIN --suite DIR` replays it and fails for the same reason; the
//! file is read back before it is reported as saved. Raw-mode requests are
//! not messages at all, so they are written as the damaged bytes.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde_json::Value;

use super::{
    properties::FailureKind,
    report::{Finding, Mode, Request},
    strategies::HttpCase,
};
use crate::suite::{
    self, Action, Activation, Case, HookStep, HttpBody, HttpExpect, HttpStep, Location, Origin,
    Step, Suite, write,
};

/// A saved finding.
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    /// What the replay cannot show, when there is something.
    pub note: Option<String>,
}

/// Saves `finding` in `dir`.
pub(super) fn save(dir: &Path, finding: &Finding, seed: u64) -> Result<Saved, String> {
    let stem = format!(
        "{}-{}-seed{seed}-case{}",
        finding.hook,
        finding.failure.kind.slug(),
        finding.case
    );
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let (action, note) = match (&finding.request, finding.mode) {
        (Request::Encoded(bytes), Mode::Raw) => {
            let path = dir.join(format!("{stem}.bin"));
            std::fs::write(&path, bytes)
                .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            let note = format!(
                "raw bytes, not a suite: `harness fuzz --raw --seed {seed} --hooks {}` finds them again",
                finding.hook
            );
            return Ok(Saved {
                path,
                note: Some(note),
            });
        }
        (Request::Encoded(bytes), _) => (hook_step(finding, bytes)?, None),
        (Request::Http(case), _) => http_step(finding, case),
    };
    let path = dir.join(format!("{stem}.json"));
    let suite = one_case_suite(finding, seed, &path, action);
    write::write_file(&suite, &path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    suite::load_path(&path).map_err(|err| {
        format!("the saved case does not load back, so it cannot be replayed: {err}")
    })?;
    Ok(Saved { path, note })
}

/// The shrunk request with the expectation it broke.
fn hook_step(finding: &Finding, bytes: &Bytes) -> Result<Action, String> {
    let request_json = compact_json(&finding.hook, bytes)
        .ok_or_else(|| "the request cannot be written in the proto3 JSON mapping".to_owned())?;
    Ok(Action::Hook(Box::new(HookStep {
        hook: finding.hook.clone(),
        request: bytes.clone(),
        request_json,
        expect: finding
            .failure
            .expect
            .as_deref()
            .cloned()
            .unwrap_or_default(),
        deadline: finding.failure.deadline,
        snapshot: None,
    })))
}

/// The shrunk HTTP request. An HTTP step requires by default that the
/// plugin answers itself, which replays a server-made 5xx and a missed
/// deadline; other failures are only shown, and said so.
fn http_step(finding: &Finding, case: &HttpCase) -> (Action, Option<String>) {
    let kind = &finding.failure.kind;
    let server_answered = matches!(kind, FailureKind::Http(what) if what.parse::<u16>().is_ok());
    let mut notes = Vec::new();
    if !server_answered && *kind != FailureKind::Deadline {
        notes.push(format!(
            "suite HTTP steps cannot check this failure ({kind}): the replay shows the exchange"
        ));
    }
    if case.pieces.is_some() {
        notes.push(
            "the body went as a chunked upload in small pieces; the replay sends it in 64 KiB chunks"
                .to_owned(),
        );
    }
    let step = HttpStep {
        method: case.method.clone(),
        url: case.url.clone(),
        headers: case
            .headers
            .iter()
            .map(|header| (header.name.clone(), header.values.clone()))
            .collect(),
        body: if case.body.is_empty() {
            HttpBody::Empty
        } else {
            HttpBody::Bytes(case.body.clone())
        },
        cancel_after: None,
        deadline: finding.failure.deadline,
        expect: HttpExpect::default(),
    };
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    (Action::Http(Box::new(step)), note)
}

fn one_case_suite(finding: &Finding, seed: u64, path: &Path, action: Action) -> Suite {
    let failure = &finding.failure;
    let location = Location {
        origin: Origin::File(path.to_owned()),
        line: 1,
        column: 1,
    };
    let description = format!(
        "Found by harness fuzz --seed {seed} (case {}): {}. Shrunk from a {}-byte request to {} bytes.",
        finding.case,
        failure.summary,
        finding.original_size,
        finding.request.size(),
    );
    Suite {
        name: format!("fuzz-{}-{}", finding.hook, failure.kind.slug()),
        description,
        origin: Origin::File(path.to_owned()),
        world: None,
        activation: Activation::Auto,
        redactions: Vec::new(),
        stubs: Vec::new(),
        plugin_errors: None,
        cases: vec![Case {
            name: format!("seed{seed}-case{}", finding.case),
            stubs: Vec::new(),
            continue_on_failure: false,
            steps: vec![Step {
                action,
                location: location.clone(),
            }],
            location,
        }],
    }
}

/// `hook`'s request as a suite writes it (see `write::message_json`).
pub fn compact_json(hook: &str, bytes: &[u8]) -> Option<Value> {
    let descriptor = crate::wire::message_descriptor(&format!("{hook}Request"))?;
    write::message_json(&descriptor, bytes)
}

/// The request for people to read: JSON (long strings cut, invisible
/// characters escaped), an HTTP request line with its headers and body
/// size, or the first bytes in hex.
pub fn request_text(hook: &str, mode: Mode, request: &Request) -> String {
    match (request, mode) {
        (Request::Encoded(bytes), Mode::Unary) => match compact_json(hook, bytes) {
            Some(json) => {
                shorten_text(&write::escape_invisible(&shorten_strings(json).to_string()))
            }
            None => hex(bytes),
        },
        (Request::Encoded(bytes), _) => hex(bytes),
        (Request::Http(case), _) => {
            let headers: Vec<String> = case
                .headers
                .iter()
                .map(|h| {
                    super::properties::shorten(&format!("{}: {}", h.name, h.values.join(", ")))
                })
                .collect();
            let pieces = match case.pieces {
                None => String::new(),
                Some(size) => format!(" in pieces of {size}"),
            };
            super::properties::printable(&format!(
                "{} {} ({} headers{}{}; body {} bytes{pieces})",
                super::properties::shorten(&case.method),
                super::properties::shorten(&case.url),
                case.headers.len(),
                if headers.is_empty() { "" } else { ": " },
                headers.join("; "),
                case.body.len(),
            ))
        }
    }
}

/// At most 2000 characters of a whole request.
fn shorten_text(text: &str) -> String {
    const MOST: usize = 2000;
    match text.char_indices().nth(MOST) {
        Some((at, _)) => format!("{}… ({} characters)", &text[..at], text.chars().count()),
        None => text.to_owned(),
    }
}

fn shorten_strings(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(super::properties::shorten(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(shorten_strings).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, shorten_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

fn hex(bytes: &[u8]) -> String {
    const MOST: usize = 64;
    let shown: Vec<String> = bytes
        .iter()
        .take(MOST)
        .map(|b| format!("{b:02x}"))
        .collect();
    let more = if bytes.len() > MOST {
        format!(" … ({} bytes)", bytes.len())
    } else {
        format!(" ({} bytes)", bytes.len())
    };
    format!("{}{more}", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mm_plugin_proto::pb;
    use prost::Message;

    #[test]
    fn compact_json_leaves_defaults_out_and_keeps_presence() {
        let request = pb::UserHasJoinedChannelRequest {
            channel_member: Some(pb::ChannelMember {
                user_id: "ualice00000000000000000000".into(),
                ..Default::default()
            }),
            actor: Some(pb::User::default()),
            ..Default::default()
        };
        let json = compact_json("UserHasJoinedChannel", &request.encode_to_vec()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"channel_member": {"user_id": "ualice00000000000000000000"}, "actor": {}})
        );
    }
}
