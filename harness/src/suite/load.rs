//! Reading suite files, with errors that point at `file:line:column`.
//!
//! Steps are kept as raw JSON slices of the file on a first pass and parsed
//! one by one on a second, because a hook request can only be checked once
//! the step's hook is known. Since each slice still points into the file's
//! text, every error, however deep, is reported at its real position.

use std::{
    collections::HashSet,
    fmt::Display,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::value::RawValue;
use tonic::Code;

use super::model::{
    Action, Activation, CallExpect, Case, ErrorExpect, HookExpect, HookStep, HttpBody, HttpExpect,
    HttpStep, Location, Origin, OutcomeExpect, OutputExpect, Redaction, Selector, StatusExpect,
    Step, Stub, StubAnswer, Suite, TextMatch,
};
use super::refs;
use crate::{
    hooks::{self, Family},
    wire,
};

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot read suite: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{0}: no suite files (*.json) in this directory")]
    NoSuites(PathBuf),
}

/// Loads a suite file, or every `*.json` file in a directory (sorted).
pub fn load_path(path: &Path) -> Result<Vec<Suite>, SuiteError> {
    let read_error = |source| SuiteError::Read {
        path: path.to_owned(),
        source,
    };
    if !path.is_dir() {
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        return Ok(vec![parse(Origin::File(path.to_owned()), &text)?]);
    }
    let mut files = Vec::new();
    collect_json_files(path, &mut files).map_err(read_error)?;
    if files.is_empty() {
        return Err(SuiteError::NoSuites(path.to_owned()));
    }
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).map_err(|source| SuiteError::Read {
                path: file.clone(),
                source,
            })?;
            parse(Origin::File(file), &text)
        })
        .collect()
}

/// The `*.json` files directly in `dir`. Not below it: a suite directory
/// keeps its world seeds and snapshots in subdirectories.
fn collect_json_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite<'a> {
    name: String,
    #[serde(default)]
    description: String,
    world: Option<PathBuf>,
    #[serde(default)]
    activation: Activation,
    #[serde(default)]
    redactions: std::collections::BTreeMap<String, String>,
    #[serde(borrow, default)]
    stubs: Vec<&'a RawValue>,
    #[serde(borrow)]
    cases: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase<'a> {
    name: String,
    #[serde(borrow, default)]
    stubs: Vec<&'a RawValue>,
    #[serde(borrow)]
    steps: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStub<'a> {
    method: ApiMethodName,
    request: Option<serde_json::Value>,
    #[serde(borrow)]
    respond: Option<&'a RawValue>,
    app_error: Option<RawAppError>,
    status: Option<RawStatusAnswer>,
    delay: Option<DurationText>,
    times: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppError {
    status_code: u16,
    id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detailed_error: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatusAnswer {
    code: StatusName,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep<'a> {
    hook: Option<UnaryHookName>,
    #[serde(borrow)]
    request: Option<&'a RawValue>,
    expect: Option<RawExpect>,
    deadline: Option<DurationText>,
    snapshot: Option<SnapshotName>,
    handshake: Option<Empty>,
    health: Option<Empty>,
    implemented: Option<RawImplemented>,
    shutdown: Option<RawShutdown>,
    output: Option<RawOutput>,
    http: Option<RawHttp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImplemented {
    #[serde(default)]
    includes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShutdown {
    grace: Option<DurationText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default = "get")]
    method: String,
    path: String,
    query: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, OneOrMany>,
    body: Option<String>,
    body_base64: Option<String>,
    body_json: Option<serde_json::Value>,
    body_size: Option<u64>,
    cancel_after: Option<u64>,
    deadline: Option<DurationText>,
    #[serde(default)]
    expect: RawHttpExpect,
}

fn get() -> String {
    "GET".to_owned()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttpExpect {
    status: Option<HttpStatusField>,
    answered: Option<bool>,
    request_complete: Option<bool>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, OneOrMany>,
    body: Option<String>,
    body_contains: Option<String>,
    body_json: Option<serde_json::Value>,
    body_size: Option<u64>,
    body_sha256: Option<String>,
    messages: Option<usize>,
    flushes: Option<usize>,
    early: Option<bool>,
}

/// A header value, or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        }
    }
}

/// `200`, or a class such as `"4xx"`.
struct HttpStatusField(StatusExpect);

impl<'de> Deserialize<'de> for HttpStatusField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = "an HTTP status (100 to 999) or a class like \"4xx\"";
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(number) => number
                .as_u64()
                .filter(|status| (100..=999).contains(status))
                .map(|status| HttpStatusField(StatusExpect::Exact(status as u16)))
                .ok_or_else(|| D::Error::custom(format!("expected {expected}, found {number}"))),
            serde_json::Value::String(class) => {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    stream: Option<StreamName>,
    #[serde(default)]
    contains: Vec<LinePattern>,
    #[serde(default)]
    absent: Vec<LinePattern>,
}

struct StreamName(crate::launch::Stream);

impl<'de> Deserialize<'de> for StreamName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "stdout" => Ok(StreamName(crate::launch::Stream::Stdout)),
            "stderr" => Ok(StreamName(crate::launch::Stream::Stderr)),
            other => Err(D::Error::custom(format!(
                "unknown stream {other:?}, expected \"stdout\" or \"stderr\""
            ))),
        }
    }
}

/// A line of output: a string it contains, or `{"matches": REGEX}`.
struct LinePattern(TextMatch);

impl<'de> Deserialize<'de> for LinePattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(part) => Ok(LinePattern(TextMatch::Contains(part))),
            object @ serde_json::Value::Object(_) => {
                let pattern = object
                    .get("matches")
                    .and_then(serde_json::Value::as_str)
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<StatusName>,
    #[serde(default)]
    error: ErrorField,
    response: Option<serde_json::Value>,
    outcome: Option<OutcomeField>,
    #[serde(default)]
    api_calls: Vec<RawCall>,
    #[serde(default)]
    api_calls_in_order: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    method: ApiMethodName,
    request: Option<serde_json::Value>,
    count: Option<usize>,
}

/// `"error"`: absent or `null` (no AppError), `"any"`, or an object to match.
#[derive(Default)]
struct ErrorField(ErrorExpect);

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Null => Ok(ErrorField(ErrorExpect::Absent)),
            serde_json::Value::String(text) if text == "any" => Ok(ErrorField(ErrorExpect::Any)),
            object @ serde_json::Value::Object(_) => Ok(ErrorField(ErrorExpect::Matches(object))),
            other => Err(D::Error::custom(format!(
                "expected null (no AppError), \"any\", or an object of AppError fields to match, found {other}"
            ))),
        }
    }
}

/// `"outcome"`: `"allow"`, `"dismiss"`, `"succeed"`, or one of
/// `{"reject": ...}`, `{"modify": {...}}`, `{"respond": {...}}`, `{"fail": {...}}`.
struct OutcomeField(OutcomeExpect);

impl<'de> Deserialize<'de> for OutcomeField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value;
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
                        OutcomeExpect::Reject(text_match(detail).map_err(D::Error::custom)?)
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

/// A rejection reason: a string (exact), `{"contains": ...}`,
/// `{"matches": REGEX}`, or `{}` (any reason).
fn text_match(value: serde_json::Value) -> Result<TextMatch, String> {
    use serde_json::Value;
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

/// A PluginAPI method, checked while parsing.
struct ApiMethodName(String);

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
enum SnapshotName {
    Positional,
    Named(String),
}

impl<'de> Deserialize<'de> for SnapshotName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Bool(true) => Ok(SnapshotName::Positional),
            serde_json::Value::String(name) if valid_file_part(&name) => {
                Ok(SnapshotName::Named(name))
            }
            other => Err(D::Error::custom(format!(
                "expected true or a snapshot name (letters, digits, `-`, `_`, `.`), found {other}"
            ))),
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
struct UnaryHookName(String);

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

struct StatusName(Code);

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

struct DurationText(Duration);

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

/// The text of one suite file, for turning offsets into positions.
struct Source<'t> {
    origin: Origin,
    text: &'t str,
}

impl Source<'_> {
    /// Position of the first character of `raw`, a slice of this text.
    fn start_of(&self, raw: &RawValue) -> Location {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
        self.location(line, column)
    }

    /// Turns a position relative to `raw` into one in the file.
    fn within(&self, raw: &RawValue, line: usize, column: usize) -> Location {
        let start = self.start_of(raw);
        if line <= 1 {
            self.location(start.line, start.column + column.saturating_sub(1))
        } else {
            self.location(start.line + line - 1, column)
        }
    }

    fn location(&self, line: usize, column: usize) -> Location {
        Location {
            origin: self.origin.clone(),
            line,
            column,
        }
    }

    fn invalid(&self, location: Location, message: impl Display) -> SuiteError {
        SuiteError::Invalid {
            location,
            message: message.to_string(),
        }
    }

    /// Parses `text` (all of the file, or the slice `raw` of it) as `T`,
    /// reporting errors with their field path and real position.
    fn parse<'a, T: Deserialize<'a>>(
        &self,
        text: &'a str,
        raw: Option<&RawValue>,
        path_prefix: &str,
    ) -> Result<T, SuiteError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let field = err.path().to_string();
            let inner = err.into_inner();
            let (line, column) = (inner.line(), inner.column());
            let location = match raw {
                Some(raw) => self.within(raw, line, column),
                None => self.location(line, column),
            };
            let path = match (path_prefix.is_empty(), field.as_str()) {
                (true, ".") => String::new(),
                (true, field) => format!("{field}: "),
                (false, ".") => format!("{path_prefix}: "),
                (false, field) => format!("{path_prefix}.{field}: "),
            };
            self.invalid(
                location,
                format!(
                    "{path}{}",
                    crate::wire::strip_serde_position(&inner.to_string())
                ),
            )
        })
    }
}

/// Parses one suite from its text.
pub fn parse(origin: Origin, text: &str) -> Result<Suite, SuiteError> {
    let source = Source { origin, text };
    let raw: RawSuite = source.parse(text, None, "")?;
    if raw.name.is_empty() || raw.name.contains('/') {
        return Err(source.invalid(
            source.location(1, 1),
            format!(
                "name: {:?} is not a valid suite name; expected a non-empty name without `/`",
                raw.name
            ),
        ));
    }
    let redactions = raw
        .redactions
        .into_iter()
        .map(|(selector, replacement)| {
            Selector::parse(&selector)
                .map(|selector| Redaction {
                    selector,
                    replacement,
                })
                .map_err(|err| source.invalid(source.location(1, 1), format!("redactions: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let suite_stubs = parse_stubs(&source, &raw.stubs, "stubs")?;
    let world = raw.world.map(|world| match &source.origin {
        Origin::File(path) => path.parent().unwrap_or(Path::new(".")).join(world),
        Origin::Builtin(_) => world,
    });
    let mut names = HashSet::new();
    let mut cases = Vec::with_capacity(raw.cases.len());
    for (case_index, case_raw) in raw.cases.iter().enumerate() {
        let prefix = format!("cases[{case_index}]");
        let case: RawCase = source.parse(case_raw.get(), Some(case_raw), &prefix)?;
        let location = source.start_of(case_raw);
        if case.name.is_empty() || case.name.contains('/') {
            return Err(source.invalid(location, format!("{prefix}.name: {:?} is not a valid case name; expected a non-empty name without `/`", case.name)));
        }
        if !names.insert(case.name.clone()) {
            return Err(source.invalid(
                location,
                format!(
                    "{prefix}.name: a case named {:?} is already defined in this suite",
                    case.name
                ),
            ));
        }
        let steps = case
            .steps
            .iter()
            .enumerate()
            .map(|(step_index, step_raw)| {
                parse_step(
                    &source,
                    step_raw,
                    &format!("{prefix}.steps[{step_index}]"),
                    step_index,
                )
            })
            .collect::<Result<_, _>>()?;
        let stubs = parse_stubs(&source, &case.stubs, &format!("{prefix}.stubs"))?;
        cases.push(Case {
            name: case.name,
            steps,
            stubs,
            location,
        });
    }
    Ok(Suite {
        name: raw.name,
        description: raw.description,
        origin: source.origin.clone(),
        world,
        activation: raw.activation,
        redactions,
        stubs: suite_stubs,
        cases,
    })
}

fn parse_stubs(
    source: &Source<'_>,
    raws: &[&RawValue],
    prefix: &str,
) -> Result<Vec<Stub>, SuiteError> {
    raws.iter()
        .enumerate()
        .map(|(index, raw)| parse_stub(source, raw, &format!("{prefix}[{index}]")))
        .collect()
}

fn parse_stub(source: &Source<'_>, raw: &RawValue, prefix: &str) -> Result<Stub, SuiteError> {
    let stub: RawStub = source.parse(raw.get(), Some(raw), prefix)?;
    let location = source.start_of(raw);
    let method = stub.method.0;
    let answers = [
        stub.respond.is_some(),
        stub.app_error.is_some(),
        stub.status.is_some(),
    ];
    if answers.iter().filter(|given| **given).count() > 1 {
        return Err(source.invalid(
            location,
            format!("{prefix}: a stub answers with one of respond, app_error, status"),
        ));
    }
    if !answers.contains(&true) && stub.delay.is_none() {
        return Err(source.invalid(
            location,
            format!("{prefix}: a stub needs respond, app_error, status, or at least a delay"),
        ));
    }
    let answer = if let Some(respond) = stub.respond {
        let descriptor = mm_plugin_proto::api_service()
            .methods()
            .find(|m| m.name() == method)
            .expect("the method was validated while parsing")
            .output();
        let bytes = wire::encode_from_json(&descriptor, respond.get()).map_err(|err| {
            source.invalid(
                source.within(respond, err.line, err.column),
                format!(
                    "{prefix}.respond: not a valid {}: {}",
                    descriptor.name(),
                    err.message
                ),
            )
        })?;
        StubAnswer::Respond(bytes)
    } else if let Some(error) = stub.app_error {
        let mut app_error =
            crate::api::ApiError::new(error.status_code, &method, &error.id, error.message);
        app_error.detailed_error = error.detailed_error;
        StubAnswer::AppError(app_error)
    } else if let Some(status) = stub.status {
        StubAnswer::Status(status.code.0, status.message)
    } else {
        StubAnswer::World
    };
    Ok(Stub {
        method,
        request: stub.request,
        answer,
        delay: stub.delay.map(|d| d.0),
        times: stub.times,
    })
}

fn parse_step(
    source: &Source<'_>,
    raw: &RawValue,
    prefix: &str,
    index: usize,
) -> Result<Step, SuiteError> {
    let step: RawStep = source.parse(raw.get(), Some(raw), prefix)?;
    let location = source.start_of(raw);
    let actions = [
        step.hook.is_some().then_some("hook"),
        step.handshake.is_some().then_some("handshake"),
        step.health.is_some().then_some("health"),
        step.implemented.is_some().then_some("implemented"),
        step.shutdown.is_some().then_some("shutdown"),
        step.output.is_some().then_some("output"),
        step.http.is_some().then_some("http"),
    ];
    let named: Vec<&str> = actions.into_iter().flatten().collect();
    if named.len() != 1 {
        let found = if named.is_empty() {
            "none".to_owned()
        } else {
            named.join(", ")
        };
        return Err(source.invalid(
            location,
            format!("{prefix}: a step does exactly one of hook, http, handshake, health, implemented, shutdown, output; found {found}"),
        ));
    }
    let only_for_hooks = [
        step.request.is_some().then_some("request"),
        step.expect.is_some().then_some("expect"),
        step.deadline.is_some().then_some("deadline"),
        step.snapshot.is_some().then_some("snapshot"),
    ];
    if step.hook.is_none()
        && let Some(field) = only_for_hooks.into_iter().flatten().next()
    {
        return Err(source.invalid(
            location,
            format!("{prefix}.{field}: only hook steps take `{field}`"),
        ));
    }
    let action = if let Some(UnaryHookName(hook)) = step.hook {
        let snapshot = step.snapshot.map(|name| match name {
            SnapshotName::Positional => format!("step{index}"),
            SnapshotName::Named(name) => name,
        });
        let parts = HookParts {
            hook,
            request: step.request,
            expect: step.expect,
            deadline: step.deadline,
            snapshot,
        };
        Action::Hook(Box::new(hook_step(source, parts, prefix, &location)?))
    } else if let Some(implemented) = step.implemented {
        if let Some(unknown) = implemented
            .includes
            .iter()
            .find(|name| !hooks::is_known_hook(name))
        {
            return Err(source.invalid(
                location,
                format!("{prefix}.implemented.includes: unknown hook `{unknown}`"),
            ));
        }
        Action::Implemented {
            includes: implemented.includes,
        }
    } else if let Some(shutdown) = step.shutdown {
        Action::Shutdown {
            grace: shutdown.grace.map(|g| g.0),
        }
    } else if let Some(http) = step.http {
        Action::Http(Box::new(http_step(http).map_err(|message| {
            source.invalid(location.clone(), format!("{prefix}.http: {message}"))
        })?))
    } else if let Some(output) = step.output {
        Action::Output(OutputExpect {
            stream: output.stream.map(|s| s.0),
            contains: output.contains.into_iter().map(|p| p.0).collect(),
            absent: output.absent.into_iter().map(|p| p.0).collect(),
        })
    } else if step.health.is_some() {
        Action::Health
    } else {
        Action::Handshake
    };
    Ok(Step { action, location })
}

fn http_step(raw: RawHttp) -> Result<HttpStep, String> {
    use base64::Engine;
    if !raw.path.starts_with('/') {
        return Err(format!(
            "path {:?} must start with `/` (it is the part after /plugins/{{id}})",
            raw.path
        ));
    }
    let bodies = [
        raw.body.is_some(),
        raw.body_base64.is_some(),
        raw.body_json.is_some(),
        raw.body_size.is_some(),
    ];
    if bodies.iter().filter(|given| **given).count() > 1 {
        return Err("give one of body, body_base64, body_json, body_size".to_owned());
    }
    let body = if let Some(text) = raw.body {
        HttpBody::Bytes(text.into_bytes().into())
    } else if let Some(encoded) = raw.body_base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map_err(|err| format!("body_base64 is not base64: {err}"))?;
        HttpBody::Bytes(bytes.into())
    } else if let Some(json) = raw.body_json {
        HttpBody::Bytes(json.to_string().into_bytes().into())
    } else if let Some(size) = raw.body_size {
        HttpBody::Generated(size)
    } else {
        HttpBody::Empty
    };
    let url = match raw.query {
        Some(query) if !query.is_empty() => format!("{}?{query}", raw.path),
        _ => raw.path,
    };
    let expect = raw.expect;
    if let Some(digest) = &expect.body_sha256
        && (digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(format!(
            "expect.body_sha256 {digest:?} is not 64 hex digits"
        ));
    }
    Ok(HttpStep {
        method: raw.method.to_ascii_uppercase(),
        url,
        headers: raw
            .headers
            .into_iter()
            .map(|(name, values)| (name, values.into_vec()))
            .collect(),
        body,
        cancel_after: raw.cancel_after,
        deadline: raw.deadline.map(|d| d.0),
        expect: HttpExpect {
            status: expect.status.map(|s| s.0),
            answered: expect.answered,
            request_complete: expect.request_complete,
            headers: expect
                .headers
                .into_iter()
                .map(|(name, values)| (name, values.into_vec()))
                .collect(),
            body: expect.body,
            body_contains: expect.body_contains,
            body_json: expect.body_json,
            body_size: expect.body_size,
            body_sha256: expect.body_sha256.map(|d| d.to_ascii_lowercase()),
            messages: expect.messages,
            flushes: expect.flushes,
            early: expect.early,
        },
    })
}

struct HookParts<'a> {
    hook: String,
    request: Option<&'a RawValue>,
    expect: Option<RawExpect>,
    deadline: Option<DurationText>,
    snapshot: Option<String>,
}

fn hook_step(
    source: &Source<'_>,
    parts: HookParts<'_>,
    prefix: &str,
    location: &Location,
) -> Result<HookStep, SuiteError> {
    let HookParts {
        hook,
        request,
        expect,
        deadline,
        snapshot,
    } = parts;
    let method = mm_plugin_proto::hooks_service()
        .methods()
        .find(|m| m.name() == hook)
        .expect("the hook name was validated while parsing");
    let (bytes, request_json) = match request {
        None => (bytes::Bytes::new(), serde_json::json!({})),
        Some(raw) => {
            let json: serde_json::Value =
                serde_json::from_str(raw.get()).expect("the request parsed as JSON already");
            let bytes = if refs::has_refs(&json) {
                // Ids come from the world at run time; placeholders check the
                // rest of the request now.
                let placeholders = refs::with_placeholders(&json).map_err(|err| {
                    source.invalid(location.clone(), format!("{prefix}.request: {err}"))
                })?;
                wire::encode_from_json(&method.input(), &placeholders.to_string()).map_err(
                    |err| {
                        source.invalid(
                            location.clone(),
                            format!(
                                "{prefix}.request: not a valid {}: {}",
                                method.input().name(),
                                err.message
                            ),
                        )
                    },
                )?
            } else {
                wire::encode_from_json(&method.input(), raw.get()).map_err(|err| {
                    source.invalid(
                        source.within(raw, err.line, err.column),
                        format!(
                            "{prefix}.request: not a valid {}: {}",
                            method.input().name(),
                            err.message
                        ),
                    )
                })?
            };
            (bytes, json)
        }
    };
    let expect = match expect {
        None => HookExpect::default(),
        Some(raw) => HookExpect {
            status: raw.status.map(|s| s.0),
            error: raw.error.0,
            response: raw.response,
            outcome: raw.outcome.map(|o| o.0),
            api_calls: raw
                .api_calls
                .into_iter()
                .map(|call| CallExpect {
                    method: call.method.0,
                    request: call.request,
                    count: call.count,
                })
                .collect(),
            api_calls_in_order: raw.api_calls_in_order,
        },
    };
    let partials = [expect.response.as_ref()].into_iter().flatten().chain(
        expect
            .api_calls
            .iter()
            .filter_map(|call| call.request.as_ref()),
    );
    for partial in partials {
        refs::with_placeholders(partial)
            .map_err(|err| source.invalid(location.clone(), format!("{prefix}.expect: {err}")))?;
    }
    if let Some(outcome) = &expect.outcome {
        let family = Family::of(&hook);
        if !family.outcomes().contains(&outcome.kind()) {
            return Err(source.invalid(
                location.clone(),
                format!(
                    "{prefix}.expect.outcome: `{}` does not apply to {hook}, which can expect: {}",
                    outcome.kind(),
                    family.outcomes().join(", ")
                ),
            ));
        }
    }
    if expect.error != ErrorExpect::Absent && method.output().get_field_by_name("error").is_none() {
        return Err(source.invalid(
            location.clone(),
            format!("{prefix}.expect.error: {}Response has no error field", hook),
        ));
    }
    Ok(HookStep {
        hook,
        request: bytes,
        request_json,
        expect,
        deadline: deadline.map(|d| d.0),
        snapshot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Suite, SuiteError> {
        parse(Origin::File("s.json".into()), text)
    }

    fn error_of(text: &str) -> (usize, usize, String) {
        match parse_text(text).unwrap_err() {
            SuiteError::Invalid { location, message } => (location.line, location.column, message),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_full_suite_loads_with_encoded_requests() {
        let suite = parse_text(
            r#"{"name": "s", "activation": "manual", "cases": [
                 {"name": "c", "steps": [
                   {"hook": "MessageWillBePosted", "request": {"post": {"message": "hi"}},
                    "expect": {"status": "OK", "response": {"rejection_reason": ""}}, "deadline": "2s"},
                   {"health": {}}, {"implemented": {"includes": ["OnActivate"]}}, {"shutdown": {"grace": "1s"}}
                 ]}]}"#,
        )
        .unwrap();
        assert_eq!(suite.activation, Activation::Manual);
        let steps = &suite.cases[0].steps;
        let Action::Hook(hook) = &steps[0].action else {
            panic!()
        };
        assert_eq!(hook.hook, "MessageWillBePosted");
        assert!(!hook.request.is_empty());
        assert_eq!(hook.deadline, Some(Duration::from_secs(2)));
        assert_eq!((steps[0].location.line, steps[0].location.column), (3, 20));
        assert!(
            matches!(steps[3].action, Action::Shutdown { grace: Some(g) } if g == Duration::from_secs(1))
        );
    }

    #[test]
    fn a_misspelt_hook_is_positioned_with_a_suggestion() {
        let (line, column, message) = error_of(
            "{\"name\": \"s\", \"cases\": [\n  {\"name\": \"c\", \"steps\": [\n    {\"hook\": \"OnActivte\"}]}]}",
        );
        // serde_json points just past the offending string.
        assert_eq!((line, column), (3, 25), "{message}");
        assert!(
            message.contains(
                "cases[0].steps[0].hook: unknown hook `OnActivte`, did you mean `OnActivate`?"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_bad_request_field_points_inside_the_request() {
        let (line, column, message) = error_of(
            "{\"name\": \"s\", \"cases\": [{\"name\": \"c\", \"steps\": [\n  {\"hook\": \"MessageWillBePosted\",\n   \"request\": {\"post\": {\"mesage\": \"x\"}}}]}]}",
        );
        assert_eq!(line, 3, "{message}");
        assert!(column > 15, "{column}");
        assert!(
            message.contains("cases[0].steps[0].request: not a valid MessageWillBePostedRequest"),
            "{message}"
        );
        assert!(message.contains("mesage"), "{message}");
    }

    #[test]
    fn structural_mistakes_are_named() {
        let (_, _, message) = error_of(r#"{"name": "s", "cases": [{"name": "c", "steps": [{}]}]}"#);
        assert!(message.contains("found none"), "{message}");
        let (_, _, message) = error_of(
            r#"{"name": "s", "cases": [{"name": "c", "steps": [{"health": {}, "shutdown": {}}]}]}"#,
        );
        assert!(message.contains("found health, shutdown"), "{message}");
        let (_, _, message) = error_of(
            r#"{"name": "s", "cases": [{"name": "c", "steps": [{"health": {}, "expect": {}}]}]}"#,
        );
        assert!(
            message.contains("only hook steps take `expect`"),
            "{message}"
        );
        let (_, _, message) = error_of(
            r#"{"name": "s", "cases": [{"name": "c", "steps": []}, {"name": "c", "steps": []}]}"#,
        );
        assert!(message.contains("already defined"), "{message}");
        let (_, _, message) = error_of(r#"{"name": "s", "cases": [], "extra": 1}"#);
        assert!(message.contains("unknown field `extra`"), "{message}");
        let (line, _, message) = error_of(
            "{\"name\": \"s\",\n \"cases\": [{\"name\": \"c\", \"steps\": [{\"hook\": \"OnActivate\", \"expect\": {\"status\": \"OKAY\"}}]}]}",
        );
        assert_eq!(line, 2);
        assert!(
            message.contains("cases[0].steps[0].expect.status: unknown gRPC status `OKAY`"),
            "{message}"
        );
        let (line, column, message) = error_of("{\"name\": \"s\", \"cases\": [\n");
        assert_eq!((line, column), (2, 0), "{message}");
        let (_, _, message) = error_of(
            r#"{"name": "s", "cases": [{"name": "c", "steps": [{"hook": "ServeHTTP"}]}]}"#,
        );
        assert!(message.contains("streaming hook"), "{message}");
    }
}
