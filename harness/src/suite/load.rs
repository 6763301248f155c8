//! Reading suite files into the model, with errors that point at
//! `file:line:column`.
//!
//! The text is read as the file types of `super::file`, whose cases, steps,
//! stubs, hook requests and stub responses are kept as slices of the text
//! on a first pass and parsed one by one on a second: a step's position is
//! part of the model, and a hook request can only be checked once the
//! step's hook is known. Since each slice still points into the file's
//! text, every error, however deep, is reported at its real position.
//! What one field cannot check alone (a step does one thing, names are
//! unique, requests encode) is checked here.

use std::{
    collections::HashSet,
    fmt::Display,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::file::{
    CaseFile, Deferred, ExpectFile, HttpFile, SnapshotName, StepFile, StubFile, SuiteFile,
    UnaryHookName,
};
use super::model::{
    Action, CallExpect, Case, ErrorExpect, HookExpect, HookStep, HttpBody, HttpExpect, HttpStep,
    Location, Origin, OutputExpect, Redaction, Selector, Step, Stub, StubAnswer, Suite,
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

/// The text of one suite file, for turning offsets into positions.
struct Source<'t> {
    origin: Origin,
    text: &'t str,
}

/// The text of a part of a file read by [`Source::parse`].
fn text_of<'t, T>(part: &Deferred<'t, T>) -> &'t RawValue {
    match part {
        Deferred::Text(raw) => raw,
        Deferred::Value(_) => unreachable!("reading a file gives every deferred part as its text"),
    }
}

impl<'t> Source<'t> {
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

    /// Parses a deferred part of this file, returning it with its position.
    fn parse_part<T: Deserialize<'t>>(
        &self,
        part: &Deferred<'t, T>,
        prefix: &str,
    ) -> Result<(T, Location), SuiteError> {
        let raw = text_of(part);
        let parsed = self.parse(raw.get(), Some(raw), prefix)?;
        Ok((parsed, self.start_of(raw)))
    }
}

/// Parses one suite from its text.
pub fn parse(origin: Origin, text: &str) -> Result<Suite, SuiteError> {
    let source = Source { origin, text };
    let file: SuiteFile = source.parse(text, None, "")?;
    if file.name.is_empty() || file.name.contains('/') {
        return Err(source.invalid(
            source.location(1, 1),
            format!(
                "name: {:?} is not a valid suite name; expected a non-empty name without `/`",
                file.name
            ),
        ));
    }
    let redactions = file
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
    let suite_stubs = parse_stubs(&source, &file.stubs, "stubs")?;
    let world = file.world.map(|world| match &source.origin {
        Origin::File(path) => path.parent().unwrap_or(Path::new(".")).join(world),
        Origin::Builtin(_) => world,
    });
    let mut names = HashSet::new();
    let mut cases = Vec::with_capacity(file.cases.len());
    for (case_index, part) in file.cases.iter().enumerate() {
        let prefix = format!("cases[{case_index}]");
        let (case, location): (CaseFile, _) = source.parse_part(part, &prefix)?;
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
            .map(|(step_index, part)| {
                parse_step(
                    &source,
                    part,
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
            continue_on_failure: case.continue_on_failure,
            location,
        });
    }
    Ok(Suite {
        name: file.name,
        description: file.description,
        origin: source.origin.clone(),
        world,
        activation: file.activation,
        redactions,
        stubs: suite_stubs,
        plugin_errors: file.plugin_errors,
        cases,
    })
}

fn parse_stubs<'t>(
    source: &Source<'t>,
    parts: &[Deferred<'t, StubFile<'t>>],
    prefix: &str,
) -> Result<Vec<Stub>, SuiteError> {
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| parse_stub(source, part, &format!("{prefix}[{index}]")))
        .collect()
}

fn parse_stub<'t>(
    source: &Source<'t>,
    part: &Deferred<'t, StubFile<'t>>,
    prefix: &str,
) -> Result<Stub, SuiteError> {
    let (stub, location) = source.parse_part(part, prefix)?;
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
    let answer = if let Some(respond) = &stub.respond {
        let respond = text_of(respond);
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

fn parse_step<'t>(
    source: &Source<'t>,
    part: &Deferred<'t, StepFile<'t>>,
    prefix: &str,
    index: usize,
) -> Result<Step, SuiteError> {
    let (step, location) = source.parse_part(part, prefix)?;
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
            deadline: step.deadline.map(|d| d.0),
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

fn http_step(raw: HttpFile) -> Result<HttpStep, String> {
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

struct HookParts<'t> {
    hook: String,
    request: Option<Deferred<'t, serde_json::Value>>,
    expect: Option<ExpectFile>,
    deadline: Option<std::time::Duration>,
    snapshot: Option<String>,
}

fn hook_step<'t>(
    source: &Source<'t>,
    parts: HookParts<'t>,
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
        Some(part) => {
            let raw = text_of(&part);
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
        deadline,
        snapshot,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::suite::Activation;

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
