//! References to world entities by name: `{"$ref": "user:alice"}` stands
//! for alice's id wherever a suite would otherwise paste it (requests,
//! expectations, stub matches). Kinds: `user:NAME`, `bot:NAME`,
//! `team:NAME`, `channel:TEAM/NAME`.
//!
//! A suite is checked for well-formed references when it loads; they are
//! replaced by ids once its world exists, just before it runs, so one suite
//! works with any world that has the entities it names.

use serde_json::Value;

use super::model::{Action, Suite};
use crate::wire;

const KINDS: [&str; 4] = ["user", "bot", "team", "channel"];

/// A reference's target, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref<'a> {
    User(&'a str),
    Bot(&'a str),
    Team(&'a str),
    Channel { team: &'a str, name: &'a str },
}

impl std::fmt::Display for Ref<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::User(name) => write!(f, "user:{name}"),
            Ref::Bot(name) => write!(f, "bot:{name}"),
            Ref::Team(name) => write!(f, "team:{name}"),
            Ref::Channel { team, name } => write!(f, "channel:{team}/{name}"),
        }
    }
}

impl<'a> Ref<'a> {
    pub fn parse(text: &'a str) -> Result<Ref<'a>, String> {
        let (kind, name) = text
            .split_once(':')
            .filter(|(_, name)| !name.is_empty())
            .ok_or_else(|| {
                format!(
                    "$ref {text:?}: expected KIND:NAME with KIND one of {}",
                    KINDS.join(", ")
                )
            })?;
        match kind {
            "user" => Ok(Ref::User(name)),
            "bot" => Ok(Ref::Bot(name)),
            "team" => Ok(Ref::Team(name)),
            "channel" => name
                .split_once('/')
                .filter(|(team, name)| !team.is_empty() && !name.is_empty())
                .map(|(team, name)| Ref::Channel { team, name })
                .ok_or_else(|| format!("$ref {text:?}: a channel is named TEAM/CHANNEL")),
            other => Err(format!(
                "$ref {text:?}: unknown kind {other:?}, expected one of {}",
                KINDS.join(", ")
            )),
        }
    }
}

/// The text of `value` if it is a reference object.
fn as_ref(value: &Value) -> Option<&Value> {
    value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("$ref"))
}

/// Replaces every reference in `value` with what `resolve` returns for it.
pub fn substitute(
    value: &Value,
    resolve: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<Value, String> {
    if let Some(target) = as_ref(value) {
        let text = target
            .as_str()
            .ok_or_else(|| format!("$ref takes a string, found {target}"))?;
        return resolve(text).map(Value::String);
    }
    Ok(match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| substitute(item, resolve))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), substitute(item, resolve)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Checks the syntax of every reference, replacing each by a placeholder
/// id so the shape of the message around it can be checked too.
pub fn with_placeholders(value: &Value) -> Result<Value, String> {
    substitute(value, &mut |text| Ref::parse(text).map(|_| "r".repeat(26)))
}

/// Whether a JSON value holds any reference.
pub fn has_refs(value: &Value) -> bool {
    as_ref(value).is_some()
        || match value {
            Value::Array(items) => items.iter().any(has_refs),
            Value::Object(map) => map.values().any(has_refs),
            _ => false,
        }
}

/// A copy of `suite` with every reference resolved by `resolve`, hook
/// requests re-encoded. Errors name the case and the reference.
pub fn resolve_suite(
    suite: &Suite,
    mut resolve: impl FnMut(&Ref<'_>) -> Result<String, String>,
) -> Result<Suite, String> {
    let mut by_text = |text: &str| Ref::parse(text).and_then(|target| resolve(&target));
    let mut resolved = suite.clone();
    for stub in &mut resolved.stubs {
        if let Some(request) = &stub.request {
            stub.request = Some(substitute(request, &mut by_text)?);
        }
    }
    for case in &mut resolved.cases {
        let in_case = |err: String| format!("case {}: {err}", case.name);
        for stub in &mut case.stubs {
            if let Some(request) = &stub.request {
                stub.request = Some(substitute(request, &mut by_text).map_err(in_case)?);
            }
        }
        for step in &mut case.steps {
            let Action::Hook(hook) = &mut step.action else {
                continue;
            };
            if has_refs(&hook.request_json) {
                let json = substitute(&hook.request_json, &mut by_text).map_err(in_case)?;
                let descriptor = wire::message_descriptor(&format!("{}Request", hook.hook))
                    .expect("hooks have request types");
                hook.request =
                    wire::encode_from_json(&descriptor, &json.to_string()).map_err(|err| {
                        in_case(format!(
                            "{} request after resolving references: {}",
                            hook.hook, err.message
                        ))
                    })?;
                hook.request_json = json;
            }
            let expect = &mut hook.expect;
            for partial in [expect.response.as_mut()].into_iter().flatten().chain(
                expect
                    .api_calls
                    .iter_mut()
                    .filter_map(|call| call.request.as_mut()),
            ) {
                *partial = substitute(partial, &mut by_text).map_err(in_case)?;
            }
            if let super::ErrorExpect::Matches(partial) = &mut expect.error {
                *partial = substitute(partial, &mut by_text).map_err(in_case)?;
            }
            if let Some(outcome) = &mut expect.outcome {
                use super::OutcomeExpect::{Fail, Modify, Respond};
                if let Modify(partial) | Respond(partial) | Fail(partial) = outcome {
                    *partial = substitute(partial, &mut by_text).map_err(in_case)?;
                }
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_parse_by_kind() {
        assert_eq!(Ref::parse("user:alice"), Ok(Ref::User("alice")));
        assert_eq!(
            Ref::parse("channel:acme/town-square"),
            Ok(Ref::Channel {
                team: "acme",
                name: "town-square"
            })
        );
        assert!(
            Ref::parse("channel:town-square")
                .unwrap_err()
                .contains("TEAM/CHANNEL")
        );
        assert!(Ref::parse("emoji:x").unwrap_err().contains("unknown kind"));
        assert!(Ref::parse("alice").unwrap_err().contains("KIND:NAME"));
    }

    #[test]
    fn substitution_reaches_nested_values_and_reports_failures() {
        let value = json!({"post": {"user_id": {"$ref": "user:alice"}, "file_ids": [{"$ref": "team:acme"}], "message": "hi"}});
        assert!(has_refs(&value));
        let resolved = substitute(&value, &mut |text| Ok(format!("id-of-{text}"))).unwrap();
        assert_eq!(resolved["post"]["user_id"], "id-of-user:alice");
        assert_eq!(resolved["post"]["file_ids"][0], "id-of-team:acme");
        assert_eq!(resolved["post"]["message"], "hi");
        assert!(!has_refs(&resolved));
        let failed = substitute(&value, &mut |text| Err(format!("no {text}")));
        assert!(failed.unwrap_err().starts_with("no "));
        assert_eq!(
            with_placeholders(&value).unwrap()["post"]["user_id"],
            "r".repeat(26)
        );
    }
}
