//! A hook call's answer against its step's expectations: status, response,
//! `AppError`, the server-side outcome, and the Plugin API calls the plugin
//! made meanwhile. Also the warnings that hold for any plugin: answers the
//! server accepts but that lose data.

use bytes::Bytes;
use prost_reflect::MessageDescriptor;
use serde_json::Value;
use tonic::Status;

use super::{
    Mismatch,
    consequence::{Consequence, consequence},
};
use crate::{
    api::ApiCall,
    hooks::Family,
    suite::{CallExpect, ErrorExpect, HookExpect, OutcomeExpect},
    wire::{self, partial_match},
};

/// The checked answer of one hook call.
#[derive(Debug, Clone)]
pub struct HookVerdict {
    pub mismatches: Vec<Mismatch>,
    /// Accepted by the server, but worth a look.
    pub warnings: Vec<String>,
    /// The response as JSON, when the call answered with one.
    pub response: Option<Value>,
    /// What the server does with the answer.
    pub consequence: Consequence,
}

/// One hook call: what was asked, what came back, what the plugin called.
pub struct HookExchange<'a> {
    pub hook: &'a str,
    pub response_type: &'a MessageDescriptor,
    /// The request as sent, decoded with every field shown.
    pub request: &'a Value,
    pub answer: &'a Result<Bytes, Status>,
    pub api_calls: &'a [ApiCall],
}

pub fn check_hook(expect: &HookExpect, exchange: &HookExchange<'_>) -> HookVerdict {
    let mut mismatches = Vec::new();
    let response = match exchange.answer {
        Ok(bytes) => match wire::decode_to_json(exchange.response_type, bytes) {
            Ok(response) => Some(response),
            Err(err) => {
                mismatches.push(Mismatch::new(
                    "response",
                    format!("a {} message", exchange.response_type.name()),
                    format!("bytes that do not decode: {err}"),
                ));
                None
            }
        },
        Err(_) => None,
    };
    check_status(expect, exchange.answer, &mut mismatches);
    let consequence = match (&response, exchange.answer) {
        (Some(response), _) => consequence(exchange.hook, Ok(response)),
        (None, Err(status)) => consequence(exchange.hook, Err(status)),
        (None, Ok(_)) => consequence(
            exchange.hook,
            Err(&Status::internal("undecodable response")),
        ),
    };
    if let Some(response) = &response {
        // An expected outcome already says whether an error is wanted.
        if expect.outcome.is_none() || expect.error != ErrorExpect::Absent {
            check_error(expect, exchange.response_type, response, &mut mismatches);
        }
        if let Some(expected) = &expect.response {
            mismatches.extend(partial_match("response", expected, response));
        }
    }
    if let Some(outcome) = &expect.outcome {
        check_outcome(outcome, &consequence, exchange, &mut mismatches);
    }
    check_api_calls(
        &expect.api_calls,
        expect.api_calls_in_order,
        exchange.api_calls,
        &mut mismatches,
    );
    HookVerdict {
        warnings: warnings(exchange, &consequence),
        mismatches,
        response,
        consequence,
    }
}

fn check_status(expect: &HookExpect, answer: &Result<Bytes, Status>, out: &mut Vec<Mismatch>) {
    let expected = expect.status();
    match answer {
        Err(status) if status.code() != expected => out.push(Mismatch::new(
            "status",
            format!(
                "{} (a suite that accepts this failure says \"status\": \"{}\")",
                wire::code_name(expected),
                wire::code_name(status.code())
            ),
            format!("{}: {}", wire::code_name(status.code()), status.message()),
        )),
        Ok(_) if expected != tonic::Code::Ok => {
            out.push(Mismatch::new("status", wire::code_name(expected), "OK"))
        }
        _ => {}
    }
}

fn check_error(
    expect: &HookExpect,
    response_type: &MessageDescriptor,
    response: &Value,
    out: &mut Vec<Mismatch>,
) {
    if response_type.get_field_by_name("error").is_none() {
        return;
    }
    let actual = response.get("error").unwrap_or(&Value::Null);
    match &expect.error {
        ErrorExpect::Absent if !actual.is_null() => {
            out.push(Mismatch::new(
                "response.error",
                "no AppError",
                describe_app_error(actual),
            ));
        }
        ErrorExpect::Matches(_) if actual.is_null() => {
            out.push(Mismatch::new("response.error", "an AppError", "none"));
        }
        ErrorExpect::Matches(expected) => {
            out.extend(partial_match("response.error", expected, actual))
        }
        ErrorExpect::Absent | ErrorExpect::Any => {}
    }
}

fn check_outcome(
    expected: &OutcomeExpect,
    actual: &Consequence,
    exchange: &HookExchange<'_>,
    out: &mut Vec<Mismatch>,
) {
    let wrong_kind = || Mismatch::new("outcome", expected.describe(), actual.describe());
    match (expected, actual) {
        (OutcomeExpect::Allow, Consequence::Modify(modified))
            if original_content(exchange) == Some(modified) =>
        {
            out.push(Mismatch::new(
                "outcome",
                "allow",
                "modify, with the post unchanged: the plugin handed the post back as \
                 modified_post, so the server takes the modify path and drops the post's props \
                 and metadata; to allow, return no modified_post (in the Python SDK: return \
                 None, not the post)",
            ))
        }
        (OutcomeExpect::Allow, Consequence::Allow { .. })
        | (OutcomeExpect::Dismiss, Consequence::Dismiss)
        | (OutcomeExpect::Succeed, Consequence::Succeed) => {}
        (OutcomeExpect::Reject(text), Consequence::Reject(reason)) => {
            if !text.matches(reason) {
                out.push(Mismatch::new(
                    "outcome.reject",
                    text.to_string(),
                    format!("{reason:?}"),
                ));
            }
        }
        (OutcomeExpect::Modify(partial), Consequence::Modify(modified)) => {
            out.extend(partial_match("outcome.modify", partial, modified));
            out.extend(unchanged_fields(
                partial,
                modified,
                original_content(exchange),
            ));
        }
        (OutcomeExpect::Respond(partial), Consequence::Respond(Some(response))) => {
            out.extend(partial_match("outcome.respond", partial, response));
        }
        (OutcomeExpect::Fail(partial), Consequence::Fail(error)) => {
            out.extend(partial_match("outcome.fail", partial, error));
        }
        _ => out.push(wrong_kind()),
    }
}

/// The content a modifying hook received: the post, the new post, or the file info.
fn original_content<'a>(exchange: &HookExchange<'a>) -> Option<&'a Value> {
    ["post", "new_post", "file_info"]
        .into_iter()
        .find_map(|field| exchange.request.get(field).filter(|value| !value.is_null()))
}

/// Every field the expected modification does not name must be as sent.
fn unchanged_fields(partial: &Value, modified: &Value, original: Option<&Value>) -> Vec<Mismatch> {
    let (Some(modified), Some(original)) =
        (modified.as_object(), original.and_then(Value::as_object))
    else {
        return Vec::new();
    };
    let named = partial.as_object();
    modified
        .iter()
        .filter(|(key, _)| !named.is_some_and(|named| named.contains_key(*key)))
        .flat_map(|(key, value)| {
            let sent = original.get(key).unwrap_or(&Value::Null);
            partial_match(&format!("outcome.modify.{key} (unchanged)"), sent, value)
        })
        .collect()
}

fn check_api_calls(
    expected: &[CallExpect],
    in_order: bool,
    calls: &[ApiCall],
    out: &mut Vec<Mismatch>,
) {
    let mut previous_first: Option<(usize, &str)> = None;
    for expectation in expected {
        let matching: Vec<usize> = calls
            .iter()
            .enumerate()
            .filter(|(_, call)| call.method == expectation.method)
            .filter(|(_, call)| {
                expectation
                    .request
                    .as_ref()
                    .is_none_or(|partial| partial_match("", partial, &call.request).is_empty())
            })
            .map(|(index, _)| index)
            .collect();
        let field = format!("api_calls.{}", expectation.method);
        let describe_expected = |count: &str| match &expectation.request {
            Some(request) => format!(
                "{count} {} call(s) with request matching {request}",
                expectation.method
            ),
            None => format!("{count} {} call(s)", expectation.method),
        };
        match expectation.count {
            Some(count) if matching.len() != count => {
                out.push(Mismatch::new(
                    &field,
                    describe_expected(&count.to_string()),
                    describe_calls(calls),
                ));
            }
            None if matching.is_empty() => {
                out.push(Mismatch::new(
                    &field,
                    describe_expected("at least 1"),
                    describe_calls(calls),
                ));
            }
            _ => {}
        }
        if in_order && let Some(&first) = matching.first() {
            if let Some((before, method)) = previous_first
                && first < before
            {
                out.push(Mismatch::new(
                    &field,
                    format!("{} after {method}", expectation.method),
                    describe_calls(calls),
                ));
            }
            previous_first = Some((first, &expectation.method));
        }
    }
}

fn describe_calls(calls: &[ApiCall]) -> String {
    if calls.is_empty() {
        return "no API calls".to_owned();
    }
    let listed: Vec<String> = calls
        .iter()
        .map(|call| format!("{} {}", call.method, call.request))
        .collect();
    format!("calls: {}", listed.join("; "))
}

/// Answers the server takes but that lose data or are ignored.
fn warnings(exchange: &HookExchange<'_>, consequence: &Consequence) -> Vec<String> {
    let mut warnings = Vec::new();
    let family = Family::of(exchange.hook);
    if family == Family::Post
        && let Consequence::Modify(modified) = consequence
    {
        let original = original_content(exchange);
        let has_props = |post: Option<&Value>| {
            post.and_then(|p| p.get("props"))
                .is_some_and(|props| props.as_object().is_some_and(|o| !o.is_empty()))
        };
        if original == Some(modified) {
            warnings.push(
                "modified_post is the unchanged post: the server then rebuilds the post from the plugin's copy, \
                 which drops props and metadata; leave modified_post unset to allow a post"
                    .to_owned(),
            );
        } else if has_props(original) {
            warnings.push(
                "the post had props, and the server does not carry props (nor metadata) through a modified post: \
                 they would be lost"
                    .to_owned(),
            );
        }
    }
    if let Consequence::Respond(None) = consequence {
        warnings.push(
            "ExecuteCommand answered neither a response nor an error: the server shows the user nothing".to_owned(),
        );
    }
    if let Consequence::Respond(Some(response)) = consequence {
        let set = |field: &str| {
            response.get(field).is_some_and(|value| match value {
                Value::String(text) => !text.is_empty(),
                Value::Array(items) => !items.is_empty(),
                Value::Null => false,
                _ => true,
            })
        };
        for field in ["type", "attachments"]
            .into_iter()
            .filter(|field| set(field))
        {
            warnings.push(format!(
                "CommandResponse.{field} is set, but the server ignores it"
            ));
        }
    }
    warnings
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
    use crate::{api::ApiOutcome, suite::TextMatch};
    use mm_plugin_proto::pb;
    use prost::Message;
    use serde_json::json;
    use std::time::Duration;
    use tonic::Code;

    fn check(
        hook: &str,
        expect: &HookExpect,
        request: Value,
        answer: Result<Bytes, Status>,
        calls: &[ApiCall],
    ) -> HookVerdict {
        let response_type = wire::message_descriptor(&format!("{hook}Response")).unwrap();
        let exchange = HookExchange {
            hook,
            response_type: &response_type,
            request: &request,
            answer: &answer,
            api_calls: calls,
        };
        check_hook(expect, &exchange)
    }

    fn ok(message: impl Message) -> Result<Bytes, Status> {
        Ok(message.encode_to_vec().into())
    }

    fn call(method: &str, request: Value) -> ApiCall {
        ApiCall {
            seq: 0,
            method: method.into(),
            at: Duration::ZERO,
            duration: Duration::ZERO,
            request,
            outcome: ApiOutcome::Response {
                response: json!({}),
            },
            stubbed: false,
        }
    }

    fn post(message: &str) -> pb::Post {
        pb::Post {
            id: "p1".into(),
            message: message.into(),
            channel_id: "c1".into(),
            ..Default::default()
        }
    }

    fn request_with(post: &pb::Post) -> Value {
        let descriptor = wire::message_descriptor("MessageWillBePostedRequest").unwrap();
        let request = pb::MessageWillBePostedRequest {
            post: Some(post.clone()),
            ..Default::default()
        };
        wire::decode_to_json(&descriptor, &request.encode_to_vec()).unwrap()
    }

    fn expecting(outcome: OutcomeExpect) -> HookExpect {
        HookExpect {
            outcome: Some(outcome),
            ..Default::default()
        }
    }

    #[test]
    fn default_expectation_passes_clean_answers_and_names_app_errors() {
        let clean = check(
            "OnActivate",
            &HookExpect::default(),
            json!({}),
            ok(pb::OnActivateResponse::default()),
            &[],
        );
        assert!(clean.mismatches.is_empty(), "{:?}", clean.mismatches);
        let error = pb::AppError {
            id: "plugin.on_activate.error".into(),
            message: "boom".into(),
            status_code: 500,
            ..Default::default()
        };
        let failed = check(
            "OnActivate",
            &HookExpect::default(),
            json!({}),
            ok(pb::OnActivateResponse { error: Some(error) }),
            &[],
        );
        assert_eq!(failed.mismatches[0].field, "response.error");
        assert!(
            failed.mismatches[0]
                .actual
                .contains("plugin.on_activate.error")
        );
        let any = HookExpect {
            error: ErrorExpect::Any,
            ..Default::default()
        };
        let error = pb::AppError {
            id: "x".into(),
            ..Default::default()
        };
        assert!(
            check(
                "OnActivate",
                &any,
                json!({}),
                ok(pb::OnActivateResponse { error: Some(error) }),
                &[]
            )
            .mismatches
            .is_empty()
        );
    }

    #[test]
    fn statuses_and_fail_open() {
        let failed = Err(Status::internal("Hook execution failed: boom"));
        let verdict = check(
            "MessageWillBePosted",
            &HookExpect::default(),
            json!({}),
            failed.clone(),
            &[],
        );
        assert_eq!(
            verdict.mismatches[0].actual,
            "INTERNAL: Hook execution failed: boom"
        );
        let tolerated = HookExpect {
            status: Some(Code::Internal),
            outcome: Some(OutcomeExpect::Allow),
            ..Default::default()
        };
        assert!(
            check("MessageWillBePosted", &tolerated, json!({}), failed, &[])
                .mismatches
                .is_empty()
        );
        let verdict = check(
            "MessageWillBePosted",
            &tolerated,
            json!({}),
            ok(pb::MessageWillBePostedResponse::default()),
            &[],
        );
        assert_eq!(verdict.mismatches.len(), 1);
        assert_eq!(verdict.mismatches[0].field, "status");
    }

    #[test]
    fn reject_and_dismiss() {
        let rejected = ok(pb::MessageWillBePostedResponse {
            modified_post: Some(post("x")),
            rejection_reason: "Message blocked".into(),
        });
        let exact = expecting(OutcomeExpect::Reject(TextMatch::Exact(
            "Message blocked".into(),
        )));
        assert!(
            check(
                "MessageWillBePosted",
                &exact,
                json!({}),
                rejected.clone(),
                &[]
            )
            .mismatches
            .is_empty()
        );
        let contains = expecting(OutcomeExpect::Reject(TextMatch::Contains("blocked".into())));
        assert!(
            check(
                "MessageWillBePosted",
                &contains,
                json!({}),
                rejected.clone(),
                &[]
            )
            .mismatches
            .is_empty()
        );
        let regex = expecting(OutcomeExpect::Reject(TextMatch::Regex(
            regex::Regex::new("^Mess.*ed$").unwrap(),
        )));
        assert!(
            check(
                "MessageWillBePosted",
                &regex,
                json!({}),
                rejected.clone(),
                &[]
            )
            .mismatches
            .is_empty()
        );
        let other = expecting(OutcomeExpect::Reject(TextMatch::Exact("spam".into())));
        let verdict = check(
            "MessageWillBePosted",
            &other,
            json!({}),
            rejected.clone(),
            &[],
        );
        assert_eq!(verdict.mismatches[0].actual, "\"Message blocked\"");
        let allow = check(
            "MessageWillBePosted",
            &expecting(OutcomeExpect::Allow),
            json!({}),
            rejected,
            &[],
        );
        assert_eq!(allow.mismatches[0].expected, "allow");
        assert!(allow.mismatches[0].actual.starts_with("reject"));

        let dismissed = ok(pb::MessageWillBePostedResponse {
            modified_post: None,
            rejection_reason: crate::check::DISMISS_POST.into(),
        });
        assert!(
            check(
                "MessageWillBePosted",
                &expecting(OutcomeExpect::Dismiss),
                json!({}),
                dismissed,
                &[]
            )
            .mismatches
            .is_empty()
        );
    }

    #[test]
    fn modify_checks_named_fields_and_that_the_rest_is_unchanged() {
        let original = post("darn it");
        let request = request_with(&original);
        let masked = pb::Post {
            message: "**** it".into(),
            ..original.clone()
        };
        let answer = ok(pb::MessageWillBePostedResponse {
            modified_post: Some(masked),
            rejection_reason: String::new(),
        });
        let expect = expecting(OutcomeExpect::Modify(json!({"message": "**** it"})));
        assert!(
            check("MessageWillBePosted", &expect, request.clone(), answer, &[])
                .mismatches
                .is_empty()
        );

        let sneaky = pb::Post {
            message: "**** it".into(),
            channel_id: "elsewhere".into(),
            ..original.clone()
        };
        let answer = ok(pb::MessageWillBePostedResponse {
            modified_post: Some(sneaky),
            rejection_reason: String::new(),
        });
        let verdict = check("MessageWillBePosted", &expect, request, answer, &[]);
        assert_eq!(verdict.mismatches.len(), 1, "{:?}", verdict.mismatches);
        assert_eq!(
            verdict.mismatches[0].field,
            "outcome.modify.channel_id (unchanged)"
        );
    }

    #[test]
    fn an_echoed_post_against_allow_fails_in_one_line_that_says_why() {
        let original = post("hello");
        let request = request_with(&original);
        let echoed = ok(pb::MessageWillBePostedResponse {
            modified_post: Some(original),
            rejection_reason: String::new(),
        });
        let verdict = check(
            "MessageWillBePosted",
            &expecting(OutcomeExpect::Allow),
            request,
            echoed,
            &[],
        );
        assert_eq!(verdict.mismatches.len(), 1, "{:?}", verdict.mismatches);
        let mismatch = &verdict.mismatches[0];
        assert_eq!(
            (mismatch.field.as_str(), mismatch.expected.as_str()),
            ("outcome", "allow")
        );
        assert!(
            mismatch
                .actual
                .starts_with("modify, with the post unchanged")
                && mismatch.actual.contains("return no modified_post")
                && !mismatch.actual.contains('\n'),
            "{}",
            mismatch.actual
        );
    }

    #[test]
    fn echoing_the_post_or_dropping_props_warns() {
        let mut original = post("hello");
        original.props = Some(wire::json_to_struct(json!({"k": "v"}).as_object().unwrap()));
        let request = request_with(&original);
        let echoed = ok(pb::MessageWillBePostedResponse {
            modified_post: Some(original.clone()),
            rejection_reason: String::new(),
        });
        let verdict = check(
            "MessageWillBePosted",
            &HookExpect::default(),
            request.clone(),
            echoed,
            &[],
        );
        assert!(
            verdict.warnings[0].contains("unchanged post"),
            "{:?}",
            verdict.warnings
        );
        let changed = pb::Post {
            message: "HELLO".into(),
            ..original
        };
        let answer = ok(pb::MessageWillBePostedResponse {
            modified_post: Some(changed),
            rejection_reason: String::new(),
        });
        let verdict = check(
            "MessageWillBePosted",
            &HookExpect::default(),
            request,
            answer,
            &[],
        );
        assert!(
            verdict.warnings[0].contains("props"),
            "{:?}",
            verdict.warnings
        );
    }

    #[test]
    fn commands_respond_or_fail() {
        let response = pb::CommandResponse {
            response_type: "ephemeral".into(),
            text: "Hello from Python!".into(),
            r#type: "custom".into(),
            ..Default::default()
        };
        let answer = ok(pb::ExecuteCommandResponse {
            error: None,
            response: Some(response),
        });
        let expect = expecting(OutcomeExpect::Respond(
            json!({"text": "Hello from Python!"}),
        ));
        let verdict = check("ExecuteCommand", &expect, json!({}), answer.clone(), &[]);
        assert!(verdict.mismatches.is_empty(), "{:?}", verdict.mismatches);
        assert!(verdict.warnings[0].contains("CommandResponse.type"));
        let wrong = expecting(OutcomeExpect::Respond(json!({"text": "Bye"})));
        assert_eq!(
            check("ExecuteCommand", &wrong, json!({}), answer, &[]).mismatches[0].field,
            "outcome.respond.text"
        );

        let fail = expecting(OutcomeExpect::Fail(
            json!({"id": "plugin.grpc.execute_command.error"}),
        ));
        let verdict = check(
            "ExecuteCommand",
            &HookExpect {
                status: Some(Code::Internal),
                ..fail
            },
            json!({}),
            Err(Status::internal("x")),
            &[],
        );
        assert!(verdict.mismatches.is_empty(), "{:?}", verdict.mismatches);
    }

    #[test]
    fn api_call_counts_partial_requests_and_order() {
        let calls = [
            call("KVGet", json!({"key": "stats"})),
            call("KVSet", json!({"key": "stats", "value": "MQ=="})),
        ];
        let expect = |api_calls: Vec<CallExpect>, in_order: bool| HookExpect {
            api_calls,
            api_calls_in_order: in_order,
            ..Default::default()
        };
        let kv_set = CallExpect {
            method: "KVSet".into(),
            request: Some(json!({"key": "stats"})),
            count: Some(1),
        };
        let kv_get = CallExpect {
            method: "KVGet".into(),
            request: None,
            count: None,
        };
        let ok_answer = || ok(pb::UserHasBeenCreatedResponse::default());
        assert!(
            check(
                "UserHasBeenCreated",
                &expect(vec![kv_get.clone(), kv_set.clone()], true),
                json!({}),
                ok_answer(),
                &calls
            )
            .mismatches
            .is_empty()
        );
        let reversed = check(
            "UserHasBeenCreated",
            &expect(vec![kv_set.clone(), kv_get], true),
            json!({}),
            ok_answer(),
            &calls,
        );
        assert_eq!(reversed.mismatches[0].expected, "KVGet after KVSet");
        let never = CallExpect {
            method: "CreatePost".into(),
            request: None,
            count: Some(0),
        };
        assert!(
            check(
                "UserHasBeenCreated",
                &expect(vec![never], false),
                json!({}),
                ok_answer(),
                &calls
            )
            .mismatches
            .is_empty()
        );
        let other_key = CallExpect {
            request: Some(json!({"key": "other"})),
            ..kv_set
        };
        let verdict = check(
            "UserHasBeenCreated",
            &expect(vec![other_key], false),
            json!({}),
            ok_answer(),
            &calls,
        );
        assert!(
            verdict.mismatches[0]
                .actual
                .contains("KVSet {\"key\":\"stats\""),
            "{:?}",
            verdict.mismatches
        );
    }
}
