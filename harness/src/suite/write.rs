//! Writing a [`Suite`] back out in the suite JSON format, so that cases made
//! by the harness itself (shrunk fuzz failures) are files a person can read,
//! edit and replay with `harness run --suite`.
//!
//! The writer is the loader's inverse by construction: it turns the model
//! into the file types of `super::file`, the very types the loader reads,
//! and serializes them; what [`to_json`] writes, `parse` reads back into
//! the same suite. The key order, the defaults left out and the one form
//! written where several are read are the file types' (see there); the
//! output is the same bytes for the same suite.

use std::{
    io,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use serde::Serialize;
use serde_json::{Value, json};

use super::file::{
    ApiMethodName, AppErrorFile, CallFile, CaseFile, Deferred, DurationText, Empty, ErrorField,
    ExpectFile, HttpExpectFile, HttpFile, HttpStatusField, ImplementedFile, LinePattern, OneOrMany,
    OutcomeField, OutputFile, ShutdownFile, SnapshotName, StatusAnswerFile, StatusName, StepFile,
    StreamName, StubFile, SuiteFile, UnaryHookName,
};
use super::model::{
    Action, Case, ErrorExpect, HookExpect, HookStep, HttpBody, HttpStep, Origin, OutputExpect,
    Step, Stub, StubAnswer, Suite,
};

/// The suite as a JSON value, in the format `suite::parse` reads.
pub fn to_value(suite: &Suite) -> Value {
    json_value(&suite_file(suite))
}

/// The suite as pretty-printed JSON text, ending in a newline. Invisible
/// and direction-changing characters are written as `\u` escapes, so the
/// file shows what its strings hold (a U+202E would otherwise reorder the
/// line it is on).
pub fn to_json(suite: &Suite) -> String {
    let text = serde_json::to_string_pretty(&suite_file(suite)).expect(SERIALIZES);
    let mut text = escape_invisible(&text);
    text.push('\n');
    text
}

/// An expectation as the `expect` object of a hook step; `{}` for the
/// default (status OK, no `AppError`).
pub fn expect_value(expect: &HookExpect) -> Value {
    json_value(&expect_file(expect))
}

/// Why serializing a file type cannot fail: every map key is a string and
/// every path is made text before it is written.
const SERIALIZES: &str = "suite file types always serialize to JSON";

fn json_value(file: &impl Serialize) -> Value {
    serde_json::to_value(file).expect(SERIALIZES)
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

/// A world seed is written relative to the suite's own file when it lies
/// beside or below it (the loader resolves it against that file), else as
/// it is.
fn suite_file(suite: &Suite) -> SuiteFile<'static> {
    SuiteFile {
        name: suite.name.clone(),
        description: suite.description.clone(),
        world: suite.world.as_ref().map(|world| {
            let world = relative_to_suite(world, &suite.origin);
            PathBuf::from(world.display().to_string())
        }),
        activation: suite.activation,
        redactions: suite
            .redactions
            .iter()
            .map(|r| (r.selector.as_str().to_owned(), r.replacement.clone()))
            .collect(),
        stubs: stub_files(&suite.stubs),
        plugin_errors: suite.plugin_errors,
        cases: suite
            .cases
            .iter()
            .map(|case| Deferred::Value(case_file(case)))
            .collect(),
    }
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

fn case_file(case: &Case) -> CaseFile<'static> {
    CaseFile {
        name: case.name.clone(),
        continue_on_failure: case.continue_on_failure,
        stubs: stub_files(&case.stubs),
        steps: case
            .steps
            .iter()
            .map(|step| Deferred::Value(step_file(step)))
            .collect(),
    }
}

fn stub_files(stubs: &[Stub]) -> Vec<Deferred<'static, StubFile<'static>>> {
    stubs
        .iter()
        .map(|stub| Deferred::Value(stub_file(stub)))
        .collect()
}

fn stub_file(stub: &Stub) -> StubFile<'static> {
    let mut file = StubFile {
        method: ApiMethodName(stub.method.clone()),
        request: stub.request.clone(),
        respond: None,
        app_error: None,
        status: None,
        delay: stub.delay.map(DurationText),
        times: stub.times,
    };
    match &stub.answer {
        StubAnswer::Respond(bytes) => {
            let response = mm_plugin_proto::api_service()
                .methods()
                .find(|method| method.name() == stub.method)
                .and_then(|method| message_json(&method.output(), bytes))
                .unwrap_or_else(|| json!({}));
            file.respond = Some(Deferred::Value(response));
        }
        StubAnswer::AppError(error) => {
            file.app_error = Some(AppErrorFile {
                status_code: error.status_code,
                id: error.id.clone(),
                message: error.message.clone(),
                detailed_error: error.detailed_error.clone(),
            });
        }
        StubAnswer::Status(code, message) => {
            file.status = Some(StatusAnswerFile {
                code: StatusName(*code),
                message: message.clone(),
            });
        }
        StubAnswer::World => {}
    }
    file
}

fn step_file(step: &Step) -> StepFile<'static> {
    let empty = StepFile::default();
    match &step.action {
        Action::Handshake => StepFile {
            handshake: Some(Empty {}),
            ..empty
        },
        Action::Health => StepFile {
            health: Some(Empty {}),
            ..empty
        },
        Action::Implemented { includes } => StepFile {
            implemented: Some(ImplementedFile {
                includes: includes.clone(),
            }),
            ..empty
        },
        Action::Hook(hook) => hook_step_file(hook),
        Action::Shutdown { grace } => StepFile {
            shutdown: Some(ShutdownFile {
                grace: grace.map(DurationText),
            }),
            ..empty
        },
        Action::Output(output) => StepFile {
            output: Some(output_file(output)),
            ..empty
        },
        Action::Http(http) => StepFile {
            http: Some(http_file(http)),
            ..empty
        },
    }
}

fn hook_step_file(step: &HookStep) -> StepFile<'static> {
    let empty_request = step.request_json.as_object().is_some_and(|r| r.is_empty());
    let expect = &step.expect;
    let default_expect = expect.status.is_none()
        && expect.error == ErrorExpect::Absent
        && expect.response.is_none()
        && expect.outcome.is_none()
        && expect.api_calls.is_empty()
        && !expect.api_calls_in_order;
    StepFile {
        hook: Some(UnaryHookName(step.hook.clone())),
        request: (!empty_request).then(|| Deferred::Value(step.request_json.clone())),
        expect: (!default_expect).then(|| expect_file(expect)),
        deadline: step.deadline.map(DurationText),
        // Always by name: `true` would name it after the step's position,
        // which editing the case could change.
        snapshot: step.snapshot.clone().map(SnapshotName::Named),
        ..StepFile::default()
    }
}

fn expect_file(expect: &HookExpect) -> ExpectFile {
    ExpectFile {
        status: expect.status.map(StatusName),
        error: ErrorField(expect.error.clone()),
        response: expect.response.clone(),
        outcome: expect.outcome.clone().map(OutcomeField),
        api_calls: expect
            .api_calls
            .iter()
            .map(|call| CallFile {
                method: ApiMethodName(call.method.clone()),
                request: call.request.clone(),
                count: call.count,
            })
            .collect(),
        api_calls_in_order: expect.api_calls_in_order,
    }
}

/// An HTTP step. A body that is text is written as `body`, any other as
/// `body_base64`.
fn http_file(step: &HttpStep) -> HttpFile {
    let (path, query) = step
        .url
        .split_once('?')
        .map_or((step.url.as_str(), None), |(p, q)| (p, Some(q)));
    let (body, body_base64, body_size) = match &step.body {
        HttpBody::Empty => (None, None, None),
        HttpBody::Bytes(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => (Some(text.to_owned()), None, None),
            Err(_) => (None, Some(BASE64.encode(bytes)), None),
        },
        HttpBody::Generated(size) => (None, None, Some(*size)),
    };
    let e = &step.expect;
    HttpFile {
        method: step.method.clone(),
        path: path.to_owned(),
        query: query.filter(|query| !query.is_empty()).map(str::to_owned),
        headers: header_files(&step.headers),
        body,
        body_base64,
        body_json: None,
        body_size,
        cancel_after: step.cancel_after,
        deadline: step.deadline.map(DurationText),
        expect: HttpExpectFile {
            status: e.status.map(HttpStatusField),
            answered: e.answered,
            request_complete: e.request_complete,
            headers: header_files(&e.headers),
            body: e.body.clone(),
            body_contains: e.body_contains.clone(),
            body_sha256: e.body_sha256.clone(),
            body_json: e.body_json.clone(),
            body_size: e.body_size,
            messages: e.messages,
            flushes: e.flushes,
            early: e.early,
        },
    }
}

fn header_files(
    headers: &[(String, Vec<String>)],
) -> std::collections::BTreeMap<String, OneOrMany> {
    headers
        .iter()
        .map(|(name, values)| (name.clone(), OneOrMany::from_vec(values.clone())))
        .collect()
}

fn output_file(output: &OutputExpect) -> OutputFile {
    let patterns =
        |patterns: &[super::model::TextMatch]| patterns.iter().cloned().map(LinePattern).collect();
    OutputFile {
        stream: output.stream.map(StreamName),
        contains: patterns(&output.contains),
        absent: patterns(&output.absent),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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

    /// Every suite directory of the repository: the built-in suites and
    /// each fixture plugin's.
    fn repository_suite_dirs() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dirs = vec![root.join("suites")];
        let plugins = std::fs::read_dir(root.join("fixtures/plugins")).unwrap();
        for plugin in plugins {
            let dir = plugin.unwrap().path().join("suites");
            if dir.is_dir() {
                dirs.push(dir);
            }
        }
        dirs.sort();
        dirs
    }

    /// The suite with what may differ between two loads of the same
    /// content cleared: positions (the written file is laid out anew) and
    /// encoded messages (map fields encode in no fixed order), which
    /// [`messages`] compares decoded.
    fn without_positions_and_bytes(suite: &Suite) -> String {
        let mut suite = suite.clone();
        let nowhere = super::super::Location {
            origin: suite.origin.clone(),
            line: 0,
            column: 0,
        };
        let clear_stubs = |stubs: &mut Vec<Stub>| {
            for stub in stubs {
                if let StubAnswer::Respond(bytes) = &mut stub.answer {
                    *bytes = bytes::Bytes::new();
                }
            }
        };
        clear_stubs(&mut suite.stubs);
        for case in &mut suite.cases {
            case.location = nowhere.clone();
            clear_stubs(&mut case.stubs);
            for step in &mut case.steps {
                step.location = nowhere.clone();
                if let Action::Hook(hook) = &mut step.action {
                    hook.request = bytes::Bytes::new();
                }
            }
        }
        format!("{suite:?}")
    }

    /// Every hook request and stub response, decoded.
    fn messages(suite: &Suite) -> Vec<DynamicMessage> {
        let decode = |descriptor, bytes: &[u8]| DynamicMessage::decode(descriptor, bytes).unwrap();
        let response_of = |stub: &Stub| match &stub.answer {
            StubAnswer::Respond(bytes) => {
                let method = mm_plugin_proto::api_service()
                    .methods()
                    .find(|method| method.name() == stub.method)
                    .unwrap();
                Some(decode(method.output(), bytes))
            }
            _ => None,
        };
        let cases = suite.cases.iter();
        let stubs = suite
            .stubs
            .iter()
            .chain(cases.clone().flat_map(|c| &c.stubs));
        let requests = cases
            .flat_map(|case| &case.steps)
            .filter_map(|step| match &step.action {
                Action::Hook(hook) => {
                    let input = crate::wire::message_descriptor(&format!("{}Request", hook.hook));
                    Some(decode(input.unwrap(), &hook.request))
                }
                _ => None,
            });
        stubs.filter_map(response_of).chain(requests).collect()
    }

    #[test]
    fn every_suite_in_the_repository_round_trips() {
        let mut checked = 0;
        for dir in repository_suite_dirs() {
            for loaded in crate::suite::load_path(&dir).unwrap() {
                let file = loaded.origin.to_string();
                let written = to_json(&loaded);
                let reloaded = parse(loaded.origin.clone(), &written)
                    .unwrap_or_else(|err| panic!("{file} written does not load: {err}\n{written}"));
                assert_eq!(
                    without_positions_and_bytes(&reloaded),
                    without_positions_and_bytes(&loaded),
                    "{file}"
                );
                assert_eq!(messages(&reloaded), messages(&loaded), "{file}");
                assert_eq!(to_json(&reloaded), written, "{file} written twice differs");
                checked += 1;
            }
        }
        // The built-in suites alone are six; fixtures add more.
        assert!(checked > 6, "only {checked} suite files found");
    }
}
