//! The suite file format as types: what `load` reads and `write` writes.
//!
//! Every type here is both `Deserialize` and `Serialize` with the same
//! attributes (or hand-written impls side by side), so a written file reads
//! back as what was written by construction. Writing keeps three
//! conventions, which the attributes carry:
//! - keys come in the order of the fields below, the order people write
//!   them (a suite's name first and cases last; a step's hook, request,
//!   expect); maps (redactions, headers, JSON values) are sorted;
//! - values at their default are left out, so a written case is as short
//!   as one written by hand;
//! - a value is written in one form only where the format takes several
//!   (a snapshot always by name, a header with one value as a string).
//!
//! Checks that need more than one field, or the position of a step in its
//! file, belong to `load`, which turns these types into the model.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use serde_json::{Value, json, value::RawValue};
use tonic::Code;

use super::model::{Activation, ErrorExpect, OutcomeExpect, PluginErrors, StatusExpect, TextMatch};
use crate::{hooks, launch::Stream, wire};

/// A part of a file that is read in a second pass: cases, steps and stubs,
/// so that each is parsed knowing its position (its errors point into the
/// file, and its steps get their `file:line:column`), and hook requests and
/// stub responses, which can only be checked once the hook or method is
/// known. Reading always gives [`Deferred::Text`]; a file made in memory
/// to be written holds [`Deferred::Value`].
#[derive(Debug, Clone)]
pub enum Deferred<'a, T> {
    /// The part's text in the file read, not parsed yet.
    Text(&'a RawValue),
    Value(T),
}

impl<'de: 'a, 'a, T> Deserialize<'de> for Deferred<'a, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(deserializer).map(Deferred::Text)
    }
}

impl<T: Serialize> Serialize for Deferred<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Deferred::Text(raw) => raw.serialize(serializer),
            Deferred::Value(value) => value.serialize(serializer),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile<'a> {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Relative to the suite's own file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Activation::is_auto")]
    pub activation: Activation,
    /// Selector → replacement.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub redactions: BTreeMap<String, String>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub stubs: Vec<Deferred<'a, StubFile<'a>>>,
    /// `"warn"` (the default) or `"fail"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_errors: Option<PluginErrors>,
    #[serde(borrow)]
    pub cases: Vec<Deferred<'a, CaseFile<'a>>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile<'a> {
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continue_on_failure: bool,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub stubs: Vec<Deferred<'a, StubFile<'a>>>,
    #[serde(borrow)]
    pub steps: Vec<Deferred<'a, StepFile<'a>>>,
}

/// A Plugin API stub; it answers with at most one of `respond`,
/// `app_error` and `status`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StubFile<'a> {
    pub method: ApiMethodName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// The method's response message, in the proto3 JSON mapping.
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub respond: Option<Deferred<'a, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_error: Option<AppErrorFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusAnswerFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<DurationText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppErrorFile {
    pub status_code: u16,
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detailed_error: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusAnswerFile {
    pub code: StatusName,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A step: exactly one of `hook` (with its own fields up to `snapshot`)
/// and the kinds after it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<UnaryHookName>,
    /// Omitted for an empty request.
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub request: Option<Deferred<'a, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DurationText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implemented: Option<ImplementedFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<ShutdownFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpFile>,
}

/// `{}`: a step kind that takes no parameters.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementedFile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace: Option<DurationText>,
}

/// What a hook call must answer; `{}` (or no `expect`) is status OK and no
/// `AppError`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusName>,
    #[serde(default, skip_serializing_if = "ErrorField::is_absent")]
    pub error: ErrorField,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeField>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_calls: Vec<CallFile>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub api_calls_in_order: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    pub method: ApiMethodName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

/// An HTTP request through `ServeHTTP`, with at most one body field.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    #[serde(default = "get", skip_serializing_if = "is_get")]
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, OneOrMany>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_json: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DurationText>,
    #[serde(default, skip_serializing_if = "HttpExpectFile::is_empty")]
    pub expect: HttpExpectFile,
}

fn get() -> String {
    "GET".to_owned()
}

fn is_get(method: &str) -> bool {
    method == "GET"
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpExpectFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<HttpStatusField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_complete: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, OneOrMany>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_json: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flushes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early: Option<bool>,
}

impl HttpExpectFile {
    fn is_empty(&self) -> bool {
        *self == HttpExpectFile::default()
    }
}

/// A header value, or several (one is written as a string).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn from_vec(mut values: Vec<String>) -> OneOrMany {
        match values.len() {
            1 => OneOrMany::One(values.remove(0)),
            _ => OneOrMany::Many(values),
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        }
    }
}

/// `200`, or a class such as `"4xx"`.
#[derive(Debug, PartialEq)]
pub struct HttpStatusField(pub StatusExpect);

impl<'de> Deserialize<'de> for HttpStatusField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = "an HTTP status (100 to 999) or a class like \"4xx\"";
        match Value::deserialize(deserializer)? {
            Value::Number(number) => number
                .as_u64()
                .filter(|status| (100..=999).contains(status))
                .map(|status| HttpStatusField(StatusExpect::Exact(status as u16)))
                .ok_or_else(|| D::Error::custom(format!("expected {expected}, found {number}"))),
            Value::String(class) => {
                let digit = class
                    .strip_suffix("xx")
                    .and_then(|d| d.parse::<u16>().ok())
                    .filter(|d| (1..=9).contains(d));
                digit
                    .map(|digit| HttpStatusField(StatusExpect::Class(digit)))
                    .ok_or_else(|| {
                        D::Error::custom(format!("expected {expected}, found {class:?}"))
                    })
            }
            other => Err(D::Error::custom(format!(
                "expected {expected}, found {other}"
            ))),
        }
    }
}

impl Serialize for HttpStatusField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            StatusExpect::Exact(status) => serializer.serialize_u16(status),
            StatusExpect::Class(_) => serializer.collect_str(&self.0),
        }
    }
}

/// What the plugin wrote: lines that must be there, lines that must not.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<LinePattern>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<LinePattern>,
}

/// `"stdout"` or `"stderr"`.
#[derive(Debug)]
pub struct StreamName(pub Stream);

impl<'de> Deserialize<'de> for StreamName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "stdout" => Ok(StreamName(Stream::Stdout)),
            "stderr" => Ok(StreamName(Stream::Stderr)),
            other => Err(D::Error::custom(format!(
                "unknown stream {other:?}, expected \"stdout\" or \"stderr\""
            ))),
        }
    }
}

impl Serialize for StreamName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match self.0 {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

/// A line of output: a string it contains, or `{"matches": REGEX}`.
#[derive(Debug)]
pub struct LinePattern(pub TextMatch);

impl<'de> Deserialize<'de> for LinePattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(part) => Ok(LinePattern(TextMatch::Contains(part))),
            object @ Value::Object(_) => {
                let pattern = object
                    .get("matches")
                    .and_then(Value::as_str)
                    .filter(|_| object.as_object().is_some_and(|o| o.len() == 1))
                    .ok_or_else(|| {
                        D::Error::custom(format!(
                            "expected a text or {{\"matches\": REGEX}}, found {object}"
                        ))
                    })?;
                regex::Regex::new(pattern)
                    .map(|regex| LinePattern(TextMatch::Regex(regex)))
                    .map_err(|err| D::Error::custom(format!("invalid regex {pattern:?}: {err}")))
            }
            other => Err(D::Error::custom(format!(
                "expected a text or {{\"matches\": REGEX}}, found {other}"
            ))),
        }
    }
}

/// Reading only makes `Contains` and `Regex`; the others are written as
/// the regex that means the same.
impl Serialize for LinePattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = match &self.0 {
            TextMatch::Contains(part) => json!(part),
            TextMatch::Regex(regex) => json!({"matches": regex.as_str()}),
            TextMatch::Exact(text) => json!({"matches": format!("^{}$", regex::escape(text))}),
            TextMatch::Any => json!({"matches": ""}),
        };
        value.serialize(serializer)
    }
}

/// `"error"`: absent or `null` (no AppError), `"any"`, or an object to match.
#[derive(Debug, Default)]
pub struct ErrorField(pub ErrorExpect);

impl ErrorField {
    fn is_absent(&self) -> bool {
        self.0 == ErrorExpect::Absent
    }
}

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(ErrorField(ErrorExpect::Absent)),
            Value::String(text) if text == "any" => Ok(ErrorField(ErrorExpect::Any)),
            object @ Value::Object(_) => Ok(ErrorField(ErrorExpect::Matches(object))),
            other => Err(D::Error::custom(format!(
                "expected null (no AppError), \"any\", or an object of AppError fields to match, found {other}"
            ))),
        }
    }
}

impl Serialize for ErrorField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            ErrorExpect::Absent => serializer.serialize_unit(),
            ErrorExpect::Any => serializer.serialize_str("any"),
            ErrorExpect::Matches(partial) => partial.serialize(serializer),
        }
    }
}

/// `"outcome"`: `"allow"`, `"dismiss"`, `"succeed"`, or one of
/// `{"reject": ...}`, `{"modify": {...}}`, `{"respond": {...}}`, `{"fail": {...}}`.
#[derive(Debug)]
pub struct OutcomeField(pub OutcomeExpect);

impl<'de> Deserialize<'de> for OutcomeField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = "expected \"allow\", \"dismiss\", \"succeed\", or an object with one key: reject, modify, respond or fail";
        let value = Value::deserialize(deserializer)?;
        let outcome = match value {
            Value::String(kind) => match kind.as_str() {
                "allow" => OutcomeExpect::Allow,
                "dismiss" => OutcomeExpect::Dismiss,
                "succeed" => OutcomeExpect::Succeed,
                other => {
                    return Err(D::Error::custom(format!(
                        "unknown outcome {other:?}; {expected}"
                    )));
                }
            },
            Value::Object(map) if map.len() == 1 => {
                let (kind, detail) = map.into_iter().next().expect("one entry");
                match (kind.as_str(), detail) {
                    ("reject", detail) => {
                        OutcomeExpect::Reject(read_reason(detail).map_err(D::Error::custom)?)
                    }
                    ("modify", detail @ Value::Object(_)) => OutcomeExpect::Modify(detail),
                    ("respond", detail @ Value::Object(_)) => OutcomeExpect::Respond(detail),
                    ("fail", detail @ Value::Object(_)) => OutcomeExpect::Fail(detail),
                    ("modify" | "respond" | "fail", other) => {
                        return Err(D::Error::custom(format!(
                            "`{kind}` takes an object of fields to match, found {other}"
                        )));
                    }
                    (other, _) => {
                        return Err(D::Error::custom(format!(
                            "unknown outcome `{other}`; {expected}"
                        )));
                    }
                }
            }
            other => return Err(D::Error::custom(format!("{expected}; found {other}"))),
        };
        Ok(OutcomeField(outcome))
    }
}

impl Serialize for OutcomeField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = match &self.0 {
            OutcomeExpect::Reject(reason) => json!({"reject": reason_value(reason)}),
            OutcomeExpect::Modify(partial) => json!({"modify": partial}),
            OutcomeExpect::Respond(partial) => json!({"respond": partial}),
            OutcomeExpect::Fail(partial) => json!({"fail": partial}),
            other => json!(other.kind()),
        };
        value.serialize(serializer)
    }
}

/// A rejection reason: a string (exact), `{"contains": ...}`,
/// `{"matches": REGEX}`, or `{}` (any reason).
fn read_reason(value: Value) -> Result<TextMatch, String> {
    match value {
        Value::String(text) => Ok(TextMatch::Exact(text)),
        Value::Object(map) if map.is_empty() => Ok(TextMatch::Any),
        Value::Object(map) if map.len() == 1 => match map.into_iter().next().expect("one entry") {
            (key, Value::String(text)) if key == "contains" => Ok(TextMatch::Contains(text)),
            (key, Value::String(pattern)) if key == "matches" => regex::Regex::new(&pattern)
                .map(TextMatch::Regex)
                .map_err(|err| format!("invalid regex {pattern:?}: {err}")),
            (key, value) => Err(format!(
                "expected {{\"contains\": TEXT}} or {{\"matches\": REGEX}}, found {{{key:?}: {value}}}"
            )),
        },
        other => Err(format!(
            "a reason is a string (exact), {{\"contains\": TEXT}}, {{\"matches\": REGEX}} or {{}} (any), found {other}"
        )),
    }
}

/// The inverse of [`read_reason`].
fn reason_value(reason: &TextMatch) -> Value {
    match reason {
        TextMatch::Any => json!({}),
        TextMatch::Exact(text) => json!(text),
        TextMatch::Contains(part) => json!({"contains": part}),
        TextMatch::Regex(regex) => json!({"matches": regex.as_str()}),
    }
}

/// A PluginAPI method, checked while parsing.
#[derive(Debug, Serialize)]
pub struct ApiMethodName(pub String);

impl<'de> Deserialize<'de> for ApiMethodName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if wire::is_api_method(&name) {
            return Ok(ApiMethodName(name));
        }
        let hint = wire::closest_api_method(&name)
            .map(|close| format!(", did you mean `{close}`?"))
            .unwrap_or_default();
        Err(D::Error::custom(format!(
            "unknown PluginAPI method `{name}`{hint}"
        )))
    }
}

/// `"snapshot"`: `true` (named after the step's position) or a name.
#[derive(Debug)]
pub enum SnapshotName {
    Positional,
    Named(String),
}

impl<'de> Deserialize<'de> for SnapshotName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Bool(true) => Ok(SnapshotName::Positional),
            Value::String(name) if valid_file_part(&name) => Ok(SnapshotName::Named(name)),
            other => Err(D::Error::custom(format!(
                "expected true or a snapshot name (letters, digits, `-`, `_`, `.`), found {other}"
            ))),
        }
    }
}

impl Serialize for SnapshotName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SnapshotName::Positional => serializer.serialize_bool(true),
            SnapshotName::Named(name) => serializer.serialize_str(name),
        }
    }
}

fn valid_file_part(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A unary hook of the protocol, checked while parsing so that the error
/// points at the name.
#[derive(Debug, Serialize)]
pub struct UnaryHookName(pub String);

impl<'de> Deserialize<'de> for UnaryHookName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let method = mm_plugin_proto::hooks_service()
            .methods()
            .find(|m| m.name() == name);
        match method {
            Some(method) if method.is_client_streaming() || method.is_server_streaming() => {
                Err(D::Error::custom(format!(
                    "{name} is a streaming hook and cannot be called as a unary step"
                )))
            }
            Some(_) => Ok(UnaryHookName(name)),
            None => {
                let hint = hooks::closest_hook(&name)
                    .map(|close| format!(", did you mean `{close}`?"))
                    .unwrap_or_else(|| "; hook names are the PluginHooks RPC names (OnActivate, MessageWillBePosted, ...)".to_owned());
                Err(D::Error::custom(format!("unknown hook `{name}`{hint}")))
            }
        }
    }
}

/// A gRPC status by its name (`"OK"`, `"INTERNAL"`, ...).
#[derive(Debug)]
pub struct StatusName(pub Code);

impl<'de> Deserialize<'de> for StatusName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        wire::code_from_name(&name).map(StatusName).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown gRPC status `{name}`, expected one of {}",
                wire::code_names().collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

impl Serialize for StatusName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(wire::code_name(self.0))
    }
}

/// A duration as `humantime` reads and writes it (`"500ms"`, `"1s 500ms"`),
/// exact to the nanosecond.
#[derive(Debug)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(DurationText)
            .map_err(|err| {
                D::Error::custom(format!(
                    "invalid duration {text:?} ({err}), expected e.g. \"500ms\" or \"5s\""
                ))
            })
    }
}

impl Serialize for DurationText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(self.0))
    }
}
