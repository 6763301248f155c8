//! Writing findings to `--save DIR`, and showing their requests.
//!
//! A unary hook's finding becomes a suite file of one case: its shrunk
//! request in the proto3 JSON mapping, and the expectation that failed, so
//! `harness run PLUGIN --suite DIR` replays it and fails for the same
//! reason. The file is read back before it is reported as saved. ServeHTTP
//! has no suite step, so its findings are written as the raw HTTP request
//! (to send to `harness http`); raw-mode findings as the damaged bytes.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde_json::Value;

use super::runner::{Finding, Mode, Request};
use crate::suite::{
    self, Action, Activation, Case, HookStep, Location, Origin, Step, Suite, write,
};

/// Saves `finding` in `dir` and returns the file written.
/// `plugin_id` goes into the path of a saved HTTP request.
pub(super) fn save(
    dir: &Path,
    finding: &Finding,
    seed: u64,
    plugin_id: &str,
) -> Result<PathBuf, String> {
    let stem = format!(
        "{}-{}-seed{seed}-case{}",
        finding.hook,
        finding.failure.kind.slug(),
        finding.case
    );
    std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let written = |path: PathBuf, contents: &[u8]| {
        std::fs::write(&path, contents)
            .map(|()| path.clone())
            .map_err(|err| format!("cannot write {}: {err}", path.display()))
    };
    match (&finding.request, finding.mode) {
        (Request::Encoded(bytes), Mode::Unary) => {
            let path = dir.join(format!("{stem}.json"));
            let suite = finding_suite(finding, bytes, seed, &path)?;
            write::write_file(&suite, &path)
                .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            suite::load_path(&path).map_err(|err| {
                format!("the saved case does not load back, so it cannot be replayed: {err}")
            })?;
            Ok(path)
        }
        (Request::Encoded(bytes), _) => written(dir.join(format!("{stem}.bin")), bytes),
        (Request::Http(case), _) => written(dir.join(format!("{stem}.http")), &case.to_http1(plugin_id)),
    }
}

/// A suite of one case: the shrunk request and the expectation it broke.
fn finding_suite(finding: &Finding, bytes: &Bytes, seed: u64, path: &Path) -> Result<Suite, String> {
    let request_json = compact_json(&finding.hook, bytes)
        .ok_or_else(|| "the request cannot be written in the proto3 JSON mapping".to_owned())?;
    let failure = &finding.failure;
    let location = Location {
        origin: Origin::File(path.to_owned()),
        line: 1,
        column: 1,
    };
    let step = HookStep {
        hook: finding.hook.clone(),
        request: bytes.clone(),
        request_json,
        expect: failure.expect.clone().unwrap_or_default(),
        deadline: failure.deadline,
        snapshot: None,
    };
    let description = format!(
        "Found by harness fuzz with --seed {seed} (case {}, {}); shrunk from {} to {} bytes. {}",
        finding.case,
        finding.hook,
        finding.original_size,
        bytes.len(),
        failure.summary
    );
    Ok(Suite {
        name: format!("fuzz-{}-{}", finding.hook, failure.kind.slug()),
        description,
        origin: Origin::File(path.to_owned()),
        world: None,
        activation: Activation::Auto,
        redactions: Vec::new(),
        stubs: Vec::new(),
        cases: vec![Case {
            name: format!("seed{seed}-case{}", finding.case),
            stubs: Vec::new(),
            steps: vec![Step {
                action: Action::Hook(Box::new(step)),
                location: location.clone(),
            }],
            location,
        }],
    })
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
            Some(json) => write::escape_invisible(&shorten_strings(json).to_string()),
            None => hex(bytes),
        },
        (Request::Encoded(bytes), _) => hex(bytes),
        (Request::Http(case), _) => {
            let headers: Vec<String> = case
                .headers
                .iter()
                .map(|h| super::properties::shorten(&format!("{}: {}", h.name, h.values.join(", "))))
                .collect();
            let pieces = match case.pieces {
                None => String::new(),
                Some(size) => format!(" in pieces of {size}"),
            };
            write::escape_invisible(&format!(
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

fn shorten_strings(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(super::properties::shorten(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(shorten_strings).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, shorten_strings(v))).collect()),
        other => other,
    }
}

fn hex(bytes: &[u8]) -> String {
    const MOST: usize = 64;
    let shown: Vec<String> = bytes.iter().take(MOST).map(|b| format!("{b:02x}")).collect();
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
