//! A hook call's answer against its step's expectations.

use bytes::Bytes;
use prost_reflect::MessageDescriptor;
use serde_json::Value;
use tonic::Status;

use super::{Mismatch, partial_match};
use crate::{suite::HookExpect, wire};

/// The checked answer of one hook call.
#[derive(Debug, Clone)]
pub struct HookVerdict {
    pub mismatches: Vec<Mismatch>,
    /// The response as JSON, when the call answered with one.
    pub response: Option<Value>,
}

pub fn check_hook(
    expect: &HookExpect,
    response_type: &MessageDescriptor,
    answer: &Result<Bytes, Status>,
) -> HookVerdict {
    let bytes = match answer {
        Err(status) => {
            let mismatches = if status.code() == expect.status {
                Vec::new()
            } else {
                vec![Mismatch::new(
                    "status",
                    wire::code_name(expect.status),
                    format!("{}: {}", wire::code_name(status.code()), status.message()),
                )]
            };
            return HookVerdict {
                mismatches,
                response: None,
            };
        }
        Ok(bytes) => bytes,
    };
    let response = match wire::decode_to_json(response_type, bytes) {
        Ok(response) => response,
        Err(err) => {
            return HookVerdict {
                mismatches: vec![Mismatch::new(
                    "response",
                    format!("a {} message", response_type.name()),
                    format!("bytes that do not decode: {err}"),
                )],
                response: None,
            };
        }
    };
    let mut mismatches = Vec::new();
    if expect.status != tonic::Code::Ok {
        mismatches.push(Mismatch::new(
            "status",
            wire::code_name(expect.status),
            "OK",
        ));
    }
    if response_type.get_field_by_name("error").is_some() {
        let actual = response.get("error").unwrap_or(&Value::Null);
        match &expect.error {
            None if !actual.is_null() => mismatches.push(Mismatch::new(
                "response.error",
                "no AppError",
                describe_app_error(actual),
            )),
            None => {}
            Some(_) if actual.is_null() => {
                mismatches.push(Mismatch::new("response.error", "an AppError", "none"))
            }
            Some(expected) => mismatches.extend(partial_match("response.error", expected, actual)),
        }
    }
    if let Some(expected) = &expect.response {
        mismatches.extend(partial_match("response", expected, &response));
    }
    HookVerdict {
        mismatches,
        response: Some(response),
    }
}

fn describe_app_error(error: &Value) -> String {
    let text = |key: &str| {
        error
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    format!(
        "AppError id={:?} message={:?} status_code={}",
        text("id"),
        text("message"),
        error.get("status_code").unwrap_or(&Value::Null)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mm_plugin_proto::pb;
    use prost::Message;
    use serde_json::json;
    use tonic::Code;

    fn descriptor(name: &str) -> MessageDescriptor {
        wire::message_descriptor(name).unwrap()
    }

    fn ok(message: impl Message) -> Result<Bytes, Status> {
        Ok(message.encode_to_vec().into())
    }

    #[test]
    fn a_clean_answer_passes_the_default_expectation() {
        let verdict = check_hook(
            &HookExpect::default(),
            &descriptor("OnActivateResponse"),
            &ok(pb::OnActivateResponse::default()),
        );
        assert!(verdict.mismatches.is_empty(), "{:?}", verdict.mismatches);
        assert!(verdict.response.unwrap()["error"].is_null());
    }

    #[test]
    fn an_app_error_fails_the_default_expectation_and_is_described() {
        let response = pb::OnActivateResponse {
            error: Some(pb::AppError {
                id: "plugin.on_activate.error".into(),
                message: "boom".into(),
                status_code: 500,
                ..Default::default()
            }),
        };
        let verdict = check_hook(
            &HookExpect::default(),
            &descriptor("OnActivateResponse"),
            &ok(response.clone()),
        );
        assert_eq!(verdict.mismatches.len(), 1);
        assert_eq!(verdict.mismatches[0].field, "response.error");
        assert!(
            verdict.mismatches[0]
                .actual
                .contains("plugin.on_activate.error")
        );
        assert!(verdict.mismatches[0].actual.contains("boom"));

        let expect = HookExpect {
            error: Some(json!({"id": "plugin.on_activate.error"})),
            ..Default::default()
        };
        assert!(
            check_hook(&expect, &descriptor("OnActivateResponse"), &ok(response))
                .mismatches
                .is_empty()
        );
    }

    #[test]
    fn statuses_are_compared_by_code() {
        let failed = Err(Status::internal("Hook execution failed: boom"));
        let verdict = check_hook(
            &HookExpect::default(),
            &descriptor("MessageWillBePostedResponse"),
            &failed,
        );
        assert_eq!(verdict.mismatches[0].expected, "OK");
        assert_eq!(
            verdict.mismatches[0].actual,
            "INTERNAL: Hook execution failed: boom"
        );
        let expect = HookExpect {
            status: Code::Internal,
            ..Default::default()
        };
        assert!(
            check_hook(&expect, &descriptor("MessageWillBePostedResponse"), &failed)
                .mismatches
                .is_empty()
        );
        let verdict = check_hook(
            &expect,
            &descriptor("MessageWillBePostedResponse"),
            &ok(pb::MessageWillBePostedResponse::default()),
        );
        assert_eq!(verdict.mismatches[0].actual, "OK");
    }

    #[test]
    fn responses_match_partially() {
        let response = pb::MessageWillBePostedResponse {
            modified_post: None,
            rejection_reason: "Message blocked".into(),
        };
        let expect = HookExpect {
            response: Some(json!({"rejection_reason": "Message blocked"})),
            ..Default::default()
        };
        assert!(
            check_hook(
                &expect,
                &descriptor("MessageWillBePostedResponse"),
                &ok(response.clone())
            )
            .mismatches
            .is_empty()
        );
        let expect = HookExpect {
            response: Some(json!({"rejection_reason": ""})),
            ..Default::default()
        };
        let verdict = check_hook(
            &expect,
            &descriptor("MessageWillBePostedResponse"),
            &ok(response),
        );
        assert_eq!(verdict.mismatches[0].field, "response.rejection_reason");
    }
}
