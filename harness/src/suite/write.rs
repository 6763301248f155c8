//! Writing a [`Suite`] back out in the suite JSON format, so that cases made
//! by the harness itself (shrunk fuzz failures) are files a person can read,
//! edit and replay with `harness run --suite`.
//!
//! The writer is the loader's inverse: what [`to_json`] writes, `parse`
//! reads back into the same suite. Values left at their defaults are left
//! out, so a written case is as short as one written by hand.

use std::{
    io,
    path::{Path, PathBuf},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::{Value, json};

use super::model::{
    Action, Activation, CallExpect, Case, ErrorExpect, HookExpect, HookStep, HttpBody, HttpStep,
    Origin, OutcomeExpect, OutputExpect, StatusExpect, Step, Stub, StubAnswer, Suite, TextMatch,
};
use crate::{launch::Stream, wire};

/// JSON whose objects keep their keys in the order written (serde_json's
/// own map sorts them), so a file reads name, description, ..., cases, and
/// each step hook, request, expect, as people write them.
enum Json {
    Value(Value),
    Object(Object),
    Array(Vec<Json>),
}

#[derive(Default)]
struct Object(Vec<(&'static str, Json)>);

impl Object {
    fn put(&mut self, key: &'static str, value: impl Into<Json>) {
        self.0.push((key, value.into()));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Json {
        Json::Value(value)
    }
}

impl From<Object> for Json {
    fn from(object: Object) -> Json {
        Json::Object(object)
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Array(items)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Value(value) => value.serialize(serializer),
            Json::Array(items) => items.serialize(serializer),
            Json::Object(Object(entries)) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// The suite as a JSON value, in the format `suite::parse` reads.
pub fn to_value(suite: &Suite) -> Value {
    serde_json::to_value(Json::Object(suite_json(suite))).expect("JSON values always serialize")
}

/// A world seed is written relative to the suite's own file when it lies
/// beside or below it (the loader resolves it against that file), else as
/// it is.
fn suite_json(suite: &Suite) -> Object {
    let mut out = Object::default();
    out.put("name", json!(suite.name));
    if !suite.description.is_empty() {
        out.put("description", json!(suite.description));
    }
    if let Some(world) = &suite.world {
        let world = relative_to_suite(world, &suite.origin);
        out.put("world", json!(world.display().to_string()));
    }
    if suite.activation == Activation::Manual {
        out.put("activation", json!("manual"));
    }
    if !suite.redactions.is_empty() {
        let redactions: serde_json::Map<String, Value> = suite
            .redactions
            .iter()
            .map(|r| (r.selector.as_str().to_owned(), json!(r.replacement)))
            .collect();
        out.put("redactions", Value::Object(redactions));
    }
    if !suite.stubs.is_empty() {
        out.put("stubs", stubs_json(&suite.stubs));
    }
    let cases: Vec<Json> = suite
        .cases
        .iter()
        .map(|case| case_json(case).into())
        .collect();
    out.put("cases", cases);
    out
}

/// The suite as pretty-printed JSON text, ending in a newline. Invisible
/// and direction-changing characters are written as `\u` escapes, so the
/// file shows what its strings hold (a U+202E would otherwise reorder the
/// line it is on).
pub fn to_json(suite: &Suite) -> String {
    let text = serde_json::to_string_pretty(&Json::Object(suite_json(suite)))
        .expect("JSON values always serialize");
    let mut text = escape_invisible(&text);
    text.push('\n');
    text
}

/// `json` (JSON text) with every character that shows nothing, or changes
/// how the text around it is shown, as a `\u` escape: C1 controls, zero
/// widths, bidi controls, tags, the BOM. The text means the same: such
/// characters only occur inside JSON strings, where escapes are allowed.
pub fn escape_invisible(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_invisible(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that show nothing or change how the text around them is shown.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{e0000}'..='\u{e007f}'
    )
}

/// Writes the suite to `path`, creating its directory if needed.
pub fn write_file(suite: &Suite, path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, to_json(suite))
}

fn relative_to_suite(world: &Path, origin: &Origin) -> PathBuf {
    let Origin::File(file) = origin else {
        return world.to_owned();
    };
    let dir = file.parent().unwrap_or(Path::new(""));
    match world.strip_prefix(dir) {
        Ok(relative) if !dir.as_os_str().is_empty() => relative.to_owned(),
        _ => world.to_owned(),
    }
}

fn case_json(case: &Case) -> Object {
    let mut out = Object::default();
    out.put("name", json!(case.name));
    if !case.stubs.is_empty() {
        out.put("stubs", stubs_json(&case.stubs));
    }
    let steps: Vec<Json> = case.steps.iter().map(step_json).collect();
    out.put("steps", steps);
    out
}

fn stubs_json(stubs: &[Stub]) -> Json {
    Json::Array(stubs.iter().map(|stub| stub_json(stub).into()).collect())
}

fn stub_json(stub: &Stub) -> Object {
    let mut out = Object::default();
    out.put("method", json!(stub.method));
    if let Some(request) = &stub.request {
        out.put("request", request.clone());
    }
    match &stub.answer {
        StubAnswer::Respond(bytes) => {
            let response = mm_plugin_proto::api_service()
                .methods()
                .find(|method| method.name() == stub.method)
                .and_then(|method| message_json(&method.output(), bytes))
                .unwrap_or_else(|| json!({}));
            out.put("respond", response);
        }
        StubAnswer::AppError(error) => {
            let mut app_error = Object::default();
            app_error.put("status_code", json!(error.status_code));
            app_error.put("id", json!(error.id));
            if !error.message.is_empty() {
                app_error.put("message", json!(error.message));
            }
            if !error.detailed_error.is_empty() {
                app_error.put("detailed_error", json!(error.detailed_error));
            }
            out.put("app_error", app_error);
        }
        StubAnswer::Status(code, message) => {
            let mut status = Object::default();
            status.put("code", json!(wire::code_name(*code)));
            if !message.is_empty() {
                status.put("message", json!(message));
            }
            out.put("status", status);
        }
        StubAnswer::World => {}
    }
    if let Some(delay) = stub.delay {
        out.put("delay", json!(duration_text(delay)));
    }
    if let Some(times) = stub.times {
        out.put("times", json!(times));
    }
    out
}

/// Wire bytes of a `descriptor` message as suites write messages: the
/// proto3 JSON mapping with `.proto` field names, fields at their default
/// left out (those with presence, such as `optional` ones, kept when set),
/// so it shows what matters and encodes back to the same message.
pub fn message_json(descriptor: &MessageDescriptor, bytes: &[u8]) -> Option<Value> {
    let message = DynamicMessage::decode(descriptor.clone(), bytes).ok()?;
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(true);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .ok()
}

fn step_json(step: &Step) -> Json {
    let mut out = Object::default();
    match &step.action {
        Action::Handshake => out.put("handshake", json!({})),
        Action::Health => out.put("health", json!({})),
        Action::Implemented { includes } if includes.is_empty() => {
            out.put("implemented", json!({}))
        }
        Action::Implemented { includes } => out.put("implemented", json!({"includes": includes})),
        Action::Hook(hook) => return hook_json(hook).into(),
        Action::Shutdown { grace: None } => out.put("shutdown", json!({})),
        Action::Shutdown { grace: Some(grace) } => {
            out.put("shutdown", json!({"grace": duration_text(*grace)}))
        }
        Action::Output(output) => out.put("output", output_json(output)),
        Action::Http(http) => out.put("http", http_json(http)),
    }
    out.into()
}

/// An HTTP step. Headers are written as an object, as the loader reads
/// them: one entry per name with all its values.
fn http_json(step: &HttpStep) -> Object {
    let (path, query) = step
        .url
        .split_once('?')
        .map_or((step.url.as_str(), None), |(p, q)| (p, Some(q)));
    let mut out = Object::default();
    if step.method != "GET" {
        out.put("method", json!(step.method));
    }
    out.put("path", json!(path));
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        out.put("query", json!(query));
    }
    if !step.headers.is_empty() {
        out.put("headers", headers_value(&step.headers));
    }
    match &step.body {
        HttpBody::Empty => {}
        HttpBody::Bytes(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => out.put("body", json!(text)),
            Err(_) => out.put("body_base64", json!(BASE64.encode(bytes))),
        },
        HttpBody::Generated(size) => out.put("body_size", json!(size)),
    }
    if let Some(after) = step.cancel_after {
        out.put("cancel_after", json!(after));
    }
    if let Some(deadline) = step.deadline {
        out.put("deadline", json!(duration_text(deadline)));
    }
    let e = &step.expect;
    let mut expect = Object::default();
    if let Some(status) = e.status {
        let status = match status {
            StatusExpect::Exact(code) => json!(code),
            StatusExpect::Class(class) => json!(format!("{class}xx")),
        };
        expect.put("status", status);
    }
    let flags = [
        ("answered", e.answered),
        ("request_complete", e.request_complete),
    ];
    for (key, flag) in flags {
        if let Some(flag) = flag {
            expect.put(key, json!(flag));
        }
    }
    if !e.headers.is_empty() {
        expect.put("headers", headers_value(&e.headers));
    }
    let texts = [
        ("body", &e.body),
        ("body_contains", &e.body_contains),
        ("body_sha256", &e.body_sha256),
    ];
    for (key, text) in texts {
        if let Some(text) = text {
            expect.put(key, json!(text));
        }
    }
    if let Some(partial) = &e.body_json {
        expect.put("body_json", partial.clone());
    }
    if let Some(size) = e.body_size {
        expect.put("body_size", json!(size));
    }
    let counts = [("messages", e.messages), ("flushes", e.flushes)];
    for (key, count) in counts {
        if let Some(count) = count {
            expect.put(key, json!(count));
        }
    }
    if let Some(early) = e.early {
        expect.put("early", json!(early));
    }
    if !expect.is_empty() {
        out.put("expect", expect);
    }
    out
}

/// Headers as an object of name → values (one value written as a string).
fn headers_value(headers: &[(String, Vec<String>)]) -> Value {
    let object: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, values)| {
            let values = match values.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            (name.clone(), values)
        })
        .collect();
    Value::Object(object)
}

fn hook_json(step: &HookStep) -> Object {
    let mut out = Object::default();
    out.put("hook", json!(step.hook));
    let empty_request = step.request_json.as_object().is_some_and(|r| r.is_empty());
    if !empty_request {
        out.put("request", step.request_json.clone());
    }
    let expect = expect_json(&step.expect);
    if !expect.is_empty() {
        out.put("expect", expect);
    }
    if let Some(deadline) = step.deadline {
        out.put("deadline", json!(duration_text(deadline)));
    }
    if let Some(name) = &step.snapshot {
        // Always by name: `true` would name it after the step's position,
        // which editing the case could change.
        out.put("snapshot", json!(name));
    }
    out
}

/// An expectation as the `expect` object of a hook step; `{}` for the
/// default (status OK, no `AppError`).
pub fn expect_value(expect: &HookExpect) -> Value {
    serde_json::to_value(Json::Object(expect_json(expect))).expect("JSON values always serialize")
}

fn expect_json(expect: &HookExpect) -> Object {
    let mut out = Object::default();
    if let Some(status) = expect.status {
        out.put("status", json!(wire::code_name(status)));
    }
    match &expect.error {
        ErrorExpect::Absent => {}
        ErrorExpect::Any => out.put("error", json!("any")),
        ErrorExpect::Matches(partial) => out.put("error", partial.clone()),
    }
    if let Some(response) = &expect.response {
        out.put("response", response.clone());
    }
    if let Some(outcome) = &expect.outcome {
        out.put("outcome", outcome_value(outcome));
    }
    if !expect.api_calls.is_empty() {
        let calls: Vec<Json> = expect
            .api_calls
            .iter()
            .map(|c| call_json(c).into())
            .collect();
        out.put("api_calls", calls);
    }
    if expect.api_calls_in_order {
        out.put("api_calls_in_order", json!(true));
    }
    out
}

fn outcome_value(outcome: &OutcomeExpect) -> Value {
    match outcome {
        OutcomeExpect::Allow => json!("allow"),
        OutcomeExpect::Dismiss => json!("dismiss"),
        OutcomeExpect::Succeed => json!("succeed"),
        OutcomeExpect::Reject(reason) => json!({"reject": reason_value(reason)}),
        OutcomeExpect::Modify(partial) => json!({"modify": partial}),
        OutcomeExpect::Respond(partial) => json!({"respond": partial}),
        OutcomeExpect::Fail(partial) => json!({"fail": partial}),
    }
}

/// A rejection reason: a string is exact, `{}` is any reason.
fn reason_value(reason: &TextMatch) -> Value {
    match reason {
        TextMatch::Any => json!({}),
        TextMatch::Exact(text) => json!(text),
        TextMatch::Contains(part) => json!({"contains": part}),
        TextMatch::Regex(regex) => json!({"matches": regex.as_str()}),
    }
}

fn call_json(call: &CallExpect) -> Object {
    let mut out = Object::default();
    out.put("method", json!(call.method));
    if let Some(request) = &call.request {
        out.put("request", request.clone());
    }
    if let Some(count) = call.count {
        out.put("count", json!(count));
    }
    out
}

fn output_json(output: &OutputExpect) -> Object {
    let mut out = Object::default();
    if let Some(stream) = output.stream {
        let name = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        out.put("stream", json!(name));
    }
    for (key, patterns) in [("contains", &output.contains), ("absent", &output.absent)] {
        if !patterns.is_empty() {
            let patterns: Vec<Value> = patterns.iter().map(line_pattern_value).collect();
            out.put(key, Value::Array(patterns));
        }
    }
    out
}

/// A line pattern: a string is a text the line contains. The loader only
/// makes `Contains` and `Regex` here; the others are written as the regex
/// that means the same.
fn line_pattern_value(pattern: &TextMatch) -> Value {
    match pattern {
        TextMatch::Contains(part) => json!(part),
        TextMatch::Regex(regex) => json!({"matches": regex.as_str()}),
        TextMatch::Exact(text) => json!({"matches": format!("^{}$", regex::escape(text))}),
        TextMatch::Any => json!({"matches": ""}),
    }
}

/// A duration in the form the loader reads (`humantime`), exact to the nanosecond.
fn duration_text(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::parse;

    const SUITE: &str = r#"{
      "name": "s",
      "description": "d",
      "activation": "manual",
      "redactions": {"..create_at": "[timestamp]"},
      "stubs": [{"method": "KVGet", "request": {"key": "k"}, "respond": {"value": "aGk="}, "times": 2},
                {"method": "GetUser", "app_error": {"status_code": 404, "id": "app.user.missing", "message": "gone"}},
                {"method": "GetChannel", "status": {"code": "UNAVAILABLE", "message": "down"}, "delay": "10ms"},
                {"method": "GetTeam", "delay": "1s"}],
      "cases": [
        {"name": "c", "stubs": [{"method": "KVSet", "status": {"code": "INTERNAL"}}], "steps": [
          {"handshake": {}}, {"health": {}}, {"implemented": {"includes": ["OnActivate"]}},
          {"hook": "MessageWillBePosted", "request": {"post": {"message": "hi"}},
           "expect": {"status": "INTERNAL", "response": {"rejection_reason": ""},
                      "outcome": {"reject": {"matches": "^bad"}},
                      "api_calls": [{"method": "KVSet", "count": 0}], "api_calls_in_order": true},
           "deadline": "1s 500ms", "snapshot": true},
          {"hook": "ExecuteCommand", "expect": {"error": "any", "outcome": {"respond": {"text": "x"}}}},
          {"output": {"stream": "stderr", "contains": ["a"], "absent": [{"matches": "b+"}]}},
          {"shutdown": {"grace": "2s"}}
        ]}
      ]
    }"#;

    #[test]
    fn a_written_suite_reads_back_the_same() {
        let suite = parse(Origin::File("/x/s.json".into()), SUITE).unwrap();
        let written = to_json(&suite);
        let again = parse(Origin::File("/x/s.json".into()), &written).unwrap();
        assert_eq!(to_json(&again), written);
        let Action::Hook(hook) = &again.cases[0].steps[3].action else {
            panic!("{written}")
        };
        assert_eq!(hook.deadline, Some(Duration::from_millis(1500)));
        assert_eq!(hook.snapshot.as_deref(), Some("step3"));
        let Action::Hook(original) = &suite.cases[0].steps[3].action else {
            panic!()
        };
        assert_eq!(hook.request, original.request);
    }

    #[test]
    fn invisible_characters_are_escaped_and_read_back() {
        let text = r#"{"name": "s", "cases": [{"name": "c", "steps": [
            {"hook": "MessageWillBePosted", "request": {"post": {"message": "a\u202eb\u200d🏴\udb40\udc67"}}}]}]}"#;
        let suite = parse(Origin::File("s.json".into()), text).unwrap();
        let written = to_json(&suite);
        assert!(
            written.contains(r"a\u202eb\u200d🏴\udb40\udc67"),
            "{written}"
        );
        let again = parse(Origin::File("s.json".into()), &written).unwrap();
        let (Action::Hook(before), Action::Hook(after)) = (
            &suite.cases[0].steps[0].action,
            &again.cases[0].steps[0].action,
        ) else {
            panic!()
        };
        assert_eq!(before.request_json, after.request_json);
    }

    #[test]
    fn defaults_are_left_out() {
        let suite = parse(
            Origin::File("s.json".into()),
            r#"{"name": "s", "cases": [{"name": "c", "steps": [{"hook": "OnActivate"}]}]}"#,
        )
        .unwrap();
        let value = to_value(&suite);
        assert_eq!(
            value,
            json!({"name": "s", "cases": [{"name": "c", "steps": [{"hook": "OnActivate"}]}]})
        );
    }

    #[test]
    fn worlds_are_written_relative_to_the_suite_file() {
        let text = r#"{"name": "s", "world": "worlds/w.json", "cases": []}"#;
        let suite = parse(Origin::File("/x/s.json".into()), text).unwrap();
        assert_eq!(suite.world.as_deref(), Some(Path::new("/x/worlds/w.json")));
        assert_eq!(to_value(&suite)["world"], "worlds/w.json");
    }
}
