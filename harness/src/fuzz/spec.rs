//! Fuzz specs: invariants a plugin's author declares, checked on every
//! fuzzed call on top of the protocol properties.
//!
//! ```json
//! {
//!   "description": "Only messages with a blocked word are ever rejected.",
//!   "hooks": {
//!     "MessageWillBePosted": {
//!       "never": [{"outcome": "reject", "unless_message_matches": "(?i)badword"}],
//!       "always": [{"expect": {"outcome": "allow"}, "when_message_matches": "^hello$"}]
//!     }
//!   },
//!   "serve_http": {"never_status": "5xx"}
//! }
//! ```
//!
//! A rule under `always` is a suite expectation (the `expect` object of a
//! suite step, same keys, same meaning); `never` is shorthand for the
//! expectations that forbid an outcome: `reject` (the response's
//! `rejection_reason` stays empty, dismissals included), `modify` (every
//! `modified_*` field stays unset) and `fail` (no `AppError`). Either kind
//! applies to the calls whose request matches its conditions:
//! `when_message_matches` / `unless_message_matches` (a regex on the text
//! the user typed: the post's message, the command line), and `when` /
//! `unless` (objects of request field paths, `post.user_id`, to regexes;
//! all must match).
//!
//! Because every rule is an expectation, it is checked by the same code as
//! a suite step, and a violation saves as a suite case carrying that very
//! expectation: the replay fails for the same reason.

use std::{collections::BTreeMap, fmt, path::Path};

use regex::Regex;
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::{Value, value::RawValue};
use tonic::Code;

use super::strategies::message_path;
use crate::{
    hooks,
    suite::{self, HookExpect, Origin, SuiteError},
    wire,
};

/// Every rule of a spec file.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub description: String,
    /// Where the spec came from, for messages.
    pub origin: String,
    pub rules: Vec<Rule>,
    /// ServeHTTP statuses that must never be answered.
    pub never_status: Vec<StatusPattern>,
}

/// One invariant on one hook's answers.
#[derive(Debug, Clone)]
pub struct Rule {
    pub hook: String,
    /// Where it is written in the spec: `hooks.MessageWillBePosted.never[0]`.
    pub name: String,
    /// The rule as written, compact, for reports.
    pub text: String,
    /// What every call it applies to must answer.
    pub expect: HookExpect,
    when: Vec<Condition>,
    unless: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    path: Vec<String>,
    regex: Regex,
}

impl Condition {
    fn matches(&self, request: &Value) -> bool {
        let value = self
            .path
            .iter()
            .try_fold(request, |value, key| value.get(key))
            .unwrap_or(&Value::Null);
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        self.regex.is_match(&text)
    }
}

impl Rule {
    /// Whether the rule applies to a call with this request (as JSON).
    pub fn applies(&self, request: &Value) -> bool {
        let all = |conditions: &[Condition]| conditions.iter().all(|c| c.matches(request));
        all(&self.when) && (self.unless.is_empty() || !all(&self.unless))
    }
}

/// A ServeHTTP status, or a class of them (`5xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    Exact(u16),
    Class(u16),
}

impl StatusPattern {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Exact(exact) => status == exact,
            StatusPattern::Class(hundreds) => status / 100 == hundreds,
        }
    }
}

impl fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusPattern::Exact(status) => write!(f, "{status}"),
            StatusPattern::Class(hundreds) => write!(f, "{hundreds}xx"),
        }
    }
}

impl Spec {
    /// The rules that apply to a call of `hook` with `request`.
    pub fn rules_for<'a>(
        &'a self,
        hook: &'a str,
        request: &'a Value,
    ) -> impl Iterator<Item = (usize, &'a Rule)> + 'a {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, rule)| rule.hook == hook && rule.applies(request))
    }

    /// The hooks the spec has rules for.
    pub fn hooks(&self) -> Vec<&str> {
        let mut hooks: Vec<&str> = self.rules.iter().map(|rule| rule.hook.as_str()).collect();
        hooks.dedup();
        hooks
    }

    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Spec::parse(&path.display().to_string(), &text)
    }

    /// Parses a spec; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Spec, SpecError> {
        let source = Source { origin, text };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let raw: RawSpec = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let field = err.path().to_string();
            let inner = err.into_inner();
            let message = suite_message(&inner.to_string());
            SpecError::Invalid {
                location: format!("{origin}:{}:{}", inner.line(), inner.column()),
                message: if field == "." {
                    message
                } else {
                    format!("{field}: {message}")
                },
            }
        })?;
        let mut rules = Vec::new();
        for (HookKey(hook), raw_hook) in &raw.hooks {
            for (index, rule) in raw_hook.never.iter().enumerate() {
                let name = format!("hooks.{hook}.never[{index}]");
                rules.push(source.never_rule(hook, name, rule)?);
            }
            for (index, rule) in raw_hook.always.iter().enumerate() {
                let name = format!("hooks.{hook}.always[{index}]");
                rules.push(source.always_rule(hook, name, rule)?);
            }
        }
        Ok(Spec {
            description: raw.description,
            origin: origin.to_owned(),
            rules,
            never_status: raw
                .serve_http
                .map(|http| http.never_status.0)
                .unwrap_or_default(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read the fuzz spec: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{location}: invalid fuzz spec: {message}")]
    Invalid { location: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec<'a> {
    #[serde(default)]
    description: String,
    #[serde(default, borrow)]
    hooks: BTreeMap<HookKey, RawHook<'a>>,
    serve_http: Option<RawHttp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook<'a> {
    #[serde(default, borrow)]
    never: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    always: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    never_status: StatusList,
}

/// A rule of either list; which keys it must have depends on the list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule<'a> {
    outcome: Option<String>,
    #[serde(borrow)]
    expect: Option<&'a RawValue>,
    when_message_matches: Option<String>,
    unless_message_matches: Option<String>,
    #[serde(default)]
    when: BTreeMap<String, String>,
    #[serde(default)]
    unless: BTreeMap<String, String>,
}

/// A unary hook name, checked where it is written.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct HookKey(String);

impl<'de> Deserialize<'de> for HookKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name == "ServeHTTP" {
            return Err(D::Error::custom(
                "ServeHTTP's rules go under \"serve_http\", not \"hooks\"",
            ));
        }
        if name == "Implemented" || !hooks::is_known_hook(&name) {
            let hint = hooks::closest_hook(&name)
                .map(|close| format!(", did you mean `{close}`?"))
                .unwrap_or_default();
            return Err(D::Error::custom(format!("unknown hook `{name}`{hint}")));
        }
        Ok(HookKey(name))
    }
}

/// `"5xx"`, `503`, or a list of them.
#[derive(Default)]
struct StatusList(Vec<StatusPattern>);

impl<'de> Deserialize<'de> for StatusList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let one = |value: &Value| -> Result<StatusPattern, D::Error> {
            let bad = || {
                D::Error::custom(format!(
                    "expected a status (503), a class (\"5xx\") or a list of them, found {value}"
                ))
            };
            match value {
                Value::Number(number) => number
                    .as_u64()
                    .filter(|status| (100..=999).contains(status))
                    .map(|status| StatusPattern::Exact(status as u16))
                    .ok_or_else(bad),
                Value::String(text) => match text.as_bytes() {
                    [digit @ b'1'..=b'9', b'x' | b'X', b'x' | b'X'] => {
                        Ok(StatusPattern::Class(u16::from(digit - b'0')))
                    }
                    _ => text
                        .parse::<u16>()
                        .ok()
                        .filter(|status| (100..=999).contains(status))
                        .map(StatusPattern::Exact)
                        .ok_or_else(bad),
                },
                _ => Err(bad()),
            }
        };
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items
                .iter()
                .map(one)
                .collect::<Result<_, _>>()
                .map(StatusList),
            value => one(&value).map(|pattern| StatusList(vec![pattern])),
        }
    }
}

struct Source<'t> {
    origin: &'t str,
    text: &'t str,
}

impl Source<'_> {
    /// `file:line:column` of `raw`, a slice of this text.
    fn location(&self, raw: &RawValue) -> String {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
        format!("{}:{line}:{column}", self.origin)
    }

    fn invalid(&self, raw: &RawValue, name: &str, message: impl fmt::Display) -> SpecError {
        SpecError::Invalid {
            location: self.location(raw),
            message: format!("{name}: {message}"),
        }
    }

    fn parse_raw<'a, T: Deserialize<'a>>(
        &self,
        raw: &'a RawValue,
        name: &str,
    ) -> Result<T, SpecError> {
        serde_json::from_str(raw.get())
            .map_err(|err| self.invalid(raw, name, suite_message(&err.to_string())))
    }

    fn never_rule(&self, hook: &str, name: String, raw: &RawValue) -> Result<Rule, SpecError> {
        let rule: RawRule = self.parse_raw(raw, &name)?;
        let outcome = match (&rule.outcome, rule.expect) {
            (Some(outcome), None) => outcome,
            _ => {
                return Err(self.invalid(
                    raw,
                    &name,
                    "a `never` rule names an \"outcome\" (and no \"expect\")",
                ));
            }
        };
        let expect = forbidding(hook, outcome).map_err(|m| self.invalid(raw, &name, m))?;
        self.rule(hook, name, raw, &expect.to_string(), &rule)
    }

    fn always_rule(&self, hook: &str, name: String, raw: &RawValue) -> Result<Rule, SpecError> {
        let rule: RawRule = self.parse_raw(raw, &name)?;
        let expect = match (&rule.outcome, rule.expect) {
            (None, Some(expect)) => expect,
            _ => {
                return Err(self.invalid(
                    raw,
                    &name,
                    "an `always` rule has an \"expect\" object (and no \"outcome\")",
                ));
            }
        };
        self.rule(hook, name, raw, expect.get(), &rule)
    }

    fn rule(
        &self,
        hook: &str,
        name: String,
        raw: &RawValue,
        expect: &str,
        conditions: &RawRule<'_>,
    ) -> Result<Rule, SpecError> {
        let expect = parse_expect(hook, expect).map_err(|m| self.invalid(raw, &name, m))?;
        if expect.status() != Code::Ok {
            return Err(self.invalid(
                raw,
                &name,
                "expect.status: every fuzzed call must answer OK, so a spec cannot expect another status",
            ));
        }
        let condition = |path: &str, pattern: &str| -> Result<Condition, SpecError> {
            let regex = Regex::new(pattern).map_err(|err| {
                self.invalid(raw, &name, format!("invalid regex {pattern:?}: {err}"))
            })?;
            Ok(Condition {
                path: path.split('.').map(str::to_owned).collect(),
                regex,
            })
        };
        let message = |pattern: &str| -> Result<Condition, SpecError> {
            let path = message_path(hook).ok_or_else(|| {
                self.invalid(
                    raw,
                    &name,
                    format!("{hook} has no message to match; use `when`/`unless` with a request field path"),
                )
            })?;
            condition(&path.join("."), pattern)
        };
        let mut when = Vec::new();
        let mut unless = Vec::new();
        if let Some(pattern) = &conditions.when_message_matches {
            when.push(message(pattern)?);
        }
        if let Some(pattern) = &conditions.unless_message_matches {
            unless.push(message(pattern)?);
        }
        for (path, pattern) in &conditions.when {
            when.push(condition(path, pattern)?);
        }
        for (path, pattern) in &conditions.unless {
            unless.push(condition(path, pattern)?);
        }
        let text = serde_json::from_str::<Value>(raw.get())
            .map(|value| value.to_string())
            .unwrap_or_else(|_| raw.get().to_owned());
        Ok(Rule {
            hook: hook.to_owned(),
            name,
            text,
            expect,
            when,
            unless,
        })
    }
}

/// The expectation that forbids `outcome` for `hook` (see the module docs).
fn forbidding(hook: &str, outcome: &str) -> Result<Value, String> {
    let response = wire::message_descriptor(&format!("{hook}Response"))
        .ok_or_else(|| format!("{hook} has no response message"))?;
    let has = |field: &str| response.get_field_by_name(field).is_some();
    match outcome {
        "reject" if has("rejection_reason") => {
            Ok(serde_json::json!({"response": {"rejection_reason": ""}}))
        }
        "modify" => {
            let unset: serde_json::Map<String, Value> = response
                .fields()
                .filter(|field| field.name().starts_with("modified_"))
                .map(|field| {
                    let empty = match field.kind() {
                        prost_reflect::Kind::Message(_) => Value::Null,
                        _ => Value::String(String::new()),
                    };
                    (field.name().to_owned(), empty)
                })
                .collect();
            if unset.is_empty() {
                return Err(format!(
                    "{hook} cannot modify anything: its response has no modified_* field"
                ));
            }
            Ok(serde_json::json!({"response": unset}))
        }
        "fail" if has("error") => Ok(serde_json::json!({"error": null})),
        "fail" => Err(format!(
            "{hook}'s response has no AppError; a call that fails with a gRPC status already breaks the fuzz properties"
        )),
        "reject" => Err(format!(
            "{hook} cannot reject: its response has no rejection_reason"
        )),
        other => Err(format!(
            "`never` takes \"reject\", \"modify\" or \"fail\", found {other:?}; for other outcomes write the one expected: \
             \"always\": [{{\"expect\": {{\"outcome\": ...}}}}]"
        )),
    }
}

/// A suite step's expectation for `hook`, parsed by the suite loader
/// itself (as a one-step suite), so a spec means exactly what a suite does.
fn parse_expect(hook: &str, expect: &str) -> Result<HookExpect, String> {
    let hook_json = serde_json::to_string(hook).expect("strings serialize");
    let text = format!(
        r#"{{"name": "spec", "activation": "manual", "cases": [{{"name": "rule", "steps": [{{"hook": {hook_json}, "expect": {expect}}}]}}]}}"#
    );
    match suite::parse(Origin::Builtin("fuzz-spec"), &text) {
        Ok(parsed) => match &parsed.cases[0].steps[0].action {
            suite::Action::Hook(step) => Ok(step.expect.clone()),
            _ => unreachable!("the step is a hook step"),
        },
        Err(SuiteError::Invalid { message, .. }) => Err(message
            .strip_prefix("cases[0].steps[0].")
            .unwrap_or(&message)
            .to_owned()),
        Err(other) => Err(other.to_string()),
    }
}

/// serde's messages without their " at line L column C" suffix.
fn suite_message(message: &str) -> String {
    crate::wire::strip_serde_position(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(text: &str) -> String {
        Spec::parse("spec.json", text).unwrap_err().to_string()
    }

    #[test]
    fn never_rules_become_expectations_with_conditions() {
        let spec = Spec::parse(
            "spec.json",
            r#"{"hooks": {"MessageWillBePosted": {"never": [
                 {"outcome": "reject", "unless_message_matches": "badword"},
                 {"outcome": "modify", "when": {"post.user_id": "^ubob"}}]},
               "ExecuteCommand": {"never": [{"outcome": "fail"}],
                                  "always": [{"expect": {"outcome": {"respond": {"text": "hi"}}}, "when_message_matches": "^/hello$"}]}},
               "serve_http": {"never_status": ["5xx", 404]}}"#,
        )
        .unwrap();
        assert_eq!(spec.rules.len(), 4);
        let reject = &spec.rules[2];
        assert_eq!(reject.name, "hooks.MessageWillBePosted.never[0]");
        assert_eq!(
            reject.expect.response,
            Some(json!({"rejection_reason": ""}))
        );
        let plain = json!({"post": {"message": "hello", "user_id": "ualice"}});
        let bad = json!({"post": {"message": "a badword", "user_id": "ubob0"}});
        assert!(reject.applies(&plain));
        assert!(!reject.applies(&bad));
        let modify = &spec.rules[3];
        assert_eq!(modify.expect.response, Some(json!({"modified_post": null})));
        assert!(!modify.applies(&plain));
        assert!(modify.applies(&bad));
        assert_eq!(spec.rules_for("MessageWillBePosted", &plain).count(), 1);
        assert_eq!(
            spec.never_status,
            [StatusPattern::Class(5), StatusPattern::Exact(404)]
        );
        assert!(spec.never_status[0].matches(502));
    }

    #[test]
    fn mistakes_are_positioned_and_explained() {
        let message = error(r#"{"hooks": {"MessageWillBePostd": {}}}"#);
        assert!(message.contains("spec.json:1:"), "{message}");
        assert!(
            message.contains("did you mean `MessageWillBePosted`"),
            "{message}"
        );
        let message = error(
            "{\"hooks\": {\"MessageWillBePosted\": {\"never\": [\n  {\"outcome\": \"dismiss\"}]}}}",
        );
        assert!(message.starts_with("spec.json:2:3:"), "{message}");
        assert!(
            message.contains("hooks.MessageWillBePosted.never[0]"),
            "{message}"
        );
        let message =
            error(r#"{"hooks": {"OnActivate": {"always": [{"expect": {"outcome": "allow"}}]}}}"#);
        assert!(
            message.contains("expect.outcome: `allow` does not apply to OnActivate"),
            "{message}"
        );
        let message = error(
            r#"{"hooks": {"OnActivate": {"never": [{"outcome": "fail", "when_message_matches": "x"}]}}}"#,
        );
        assert!(message.contains("has no message to match"), "{message}");
        let message = error(
            r#"{"hooks": {"ExecuteCommand": {"never": [{"outcome": "fail", "unless_message_matches": "("}]}}}"#,
        );
        assert!(message.contains("invalid regex"), "{message}");
        let message = error(r#"{"serve_http": {"never_status": "6yy"}}"#);
        assert!(message.contains("expected a status"), "{message}");
        let message = error(r#"{"hooks": {"ServeHTTP": {}}}"#);
        assert!(message.contains("serve_http"), "{message}");
        let message =
            error(r#"{"hooks": {"OnActivate": {"always": [{"expect": {"status": "INTERNAL"}}]}}}"#);
        assert!(message.contains("must answer OK"), "{message}");
        let message = error(r#"{"hook": {}}"#);
        assert!(message.contains("unknown field `hook`"), "{message}");
    }
}
