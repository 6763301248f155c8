//! The commands of the control protocol, each a thin use of the engine:
//! hook calls and HTTP requests are the engine's steps, read from the
//! client's JSON by the suite loader.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{CommandError, Control, ErrorKind, Plugin, world_view};
use crate::{
    engine::SuiteExecution,
    session,
    suite::{self, Action, Origin, Step, SuiteError},
};

/// Every command, for the message that names them.
pub(super) const NAMES: &[&str] = &[
    "call_hook",
    "http",
    "api_calls",
    "output",
    "world_get",
    "world_seed",
    "stub",
    "unstub",
    "reset",
    "shutdown",
];

/// Where the suite loader's message puts the single step or stub we gave
/// it, stripped so the client reads the field it sent (`request.post...`).
const STEP_PREFIX: &str = "cases[0].steps[0]";
const STUB_PREFIX: &str = "stubs[0]";

impl Control<'_> {
    pub(super) async fn dispatch(
        &mut self,
        command: &str,
        args: Map<String, Value>,
    ) -> Result<Value, CommandError> {
        match command {
            "call_hook" => self.call_hook(args).await,
            "http" => self.http(args).await,
            "api_calls" => {
                let args: SinceArgs = parse_args(command, args)?;
                let execution = self.running().await?;
                let calls = execution.session().api.calls();
                Ok(json!({"calls": calls.since(args.since), "next": calls.len()}))
            }
            "output" => {
                let args: SinceArgs = parse_args(command, args)?;
                let lines = match &self.plugin {
                    Plugin::Up(execution) => {
                        let process = &execution.session().plugin.process;
                        process.catch_up_output().await;
                        process.output().tail(None, usize::MAX)
                    }
                    Plugin::Down { output_tail, .. } => output_tail.clone(),
                };
                let next = lines.len();
                let lines: Vec<_> = lines.into_iter().skip(args.since).collect();
                Ok(json!({"lines": lines, "next": next}))
            }
            "world_get" => {
                let args: WorldGetArgs = parse_args(command, args)?;
                let execution = self.running().await?;
                let world = execution.session().api.world();
                world_view::view(&world, args.parts.as_deref())
                    .map_err(|message| CommandError::new(ErrorKind::Invalid, message))
            }
            "world_seed" => {
                let args: SeedArgs = parse_args(command, args)?;
                let seed = super::parse_seed(&args.seed)
                    .map_err(|message| CommandError::new(ErrorKind::Invalid, message))?;
                let target = &self.config.target;
                let world = session::world_for(target, Some((&seed, "the seed given")), None)
                    .map_err(|message| CommandError::new(ErrorKind::Invalid, message))?;
                let execution = self.running().await?;
                *execution.session().api.world() = world;
                Ok(json!({}))
            }
            "stub" => {
                let text = json!({"name": "control", "stubs": [Value::Object(args)], "cases": []})
                    .to_string();
                let mut parsed = parse_suite(&text, STUB_PREFIX)?;
                self.stubs.append(&mut parsed.stubs);
                self.set_stubs();
                Ok(json!({"stubs": self.stubs.len()}))
            }
            "unstub" => {
                let _: NoArgs = parse_args(command, args)?;
                self.stubs.clear();
                self.set_stubs();
                Ok(json!({"stubs": 0}))
            }
            "reset" => {
                let args: ResetArgs = parse_args(command, args)?;
                let stopped = self.stop().await;
                self.stubs.clear();
                self.plugin = super::start(self.config, self.suite, args.seed.as_ref()).await;
                let info = self.plugin_info();
                match &self.plugin {
                    Plugin::Up(_) => Ok(json!({"previous": stopped, "plugin": info})),
                    Plugin::Down { reason, .. } => {
                        Err(CommandError::new(ErrorKind::NoPlugin, reason.clone()))
                    }
                }
            }
            "shutdown" => {
                let _: NoArgs = parse_args(command, args)?;
                let exit = self.stop().await;
                Ok(json!({"exit": exit}))
            }
            unknown => Err(CommandError::new(
                ErrorKind::UnknownCommand,
                format!(
                    "unknown command {unknown:?}; expected one of {}",
                    NAMES.join(", ")
                ),
            )),
        }
    }

    /// `call_hook`: one hook step, as a suite file would have it (`hook`,
    /// `request`, `deadline`, optionally `expect`), through the engine.
    async fn call_hook(&mut self, args: Map<String, Value>) -> Result<Value, CommandError> {
        let step = parse_step(args)?;
        let Action::Hook(hook) = step.action else {
            unreachable!("a step with `hook` is a hook step");
        };
        let execution = self.running().await?;
        if !execution.session().plugin.implements(&hook.hook) {
            return Err(CommandError::new(
                ErrorKind::NotImplemented,
                format!(
                    "{} is not in the plugin's Implemented(); the server would not call it",
                    hook.hook
                ),
            ));
        }
        let output_from = execution.session().plugin.process.output().now();
        let call = execution.call_hook(&hook).await;
        let output = output_since(execution, output_from).await;
        self.died_during(&call.event.status, &output, &hook.hook)
            .await?;
        Ok(json!({
            "status": call.event.status,
            "response": call.verdict.response,
            "outcome": call.event.outcome,
            "api_calls": call.api_calls,
            "output": output,
            "mismatches": call.verdict.mismatches,
            "warnings": call.verdict.warnings,
            "duration_ms": call.event.duration.as_secs_f64() * 1000.0,
        }))
    }

    /// `http`: one request through ServeHTTP, as a suite's `http` step
    /// (`method`, `path`, `query`, `headers`, `body`...; `url` is taken as
    /// path and query).
    async fn http(&mut self, mut args: Map<String, Value>) -> Result<Value, CommandError> {
        if let Some(url) = args.remove("url") {
            let Value::String(url) = url else {
                return Err(CommandError::new(
                    ErrorKind::Invalid,
                    format!("url: expected a string like \"/api/hello?x=1\", got {url}"),
                ));
            };
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            args.insert("path".into(), path.into());
            if !query.is_empty() {
                args.insert("query".into(), query.into());
            }
        }
        let mut step_args = Map::new();
        step_args.insert("http".into(), Value::Object(args));
        let step = parse_step(step_args)?;
        let Action::Http(http) = step.action else {
            unreachable!("a step with `http` is an HTTP step");
        };
        let execution = self.running().await?;
        if !execution.session().plugin.implements("ServeHTTP") {
            return Err(CommandError::new(
                ErrorKind::NotImplemented,
                "ServeHTTP is not in the plugin's Implemented(); the server answers 404 itself",
            ));
        }
        let first_call = execution.session().api.calls().len();
        let output_from = execution.session().plugin.process.output().now();
        let (_, event) = execution.call_http(&http).await;
        let api_calls = execution.session().api.calls().since(first_call);
        let output = output_since(execution, output_from).await;
        self.died_during(&event.status, &output, "ServeHTTP")
            .await?;
        Ok(json!({
            "status": event.status,
            "outcome": event.outcome,
            "exchange": event.response,
            "api_calls": api_calls,
            "output": output,
            "duration_ms": event.duration.as_secs_f64() * 1000.0,
        }))
    }

    /// After a call: if the plugin process is gone, the call's answer is
    /// replaced by an error saying so, with its last words.
    async fn died_during(
        &mut self,
        status: &str,
        output: &[crate::launch::CapturedLine],
        hook: &str,
    ) -> Result<(), CommandError> {
        // A broken connection is how a crash looks from here, and the
        // process may need a moment to be reaped; an answer is an answer.
        let broken = ["UNAVAILABLE", "UNKNOWN", "CANCELLED", "(not seen)"]
            .iter()
            .any(|name| status.starts_with(name));
        let wait = if broken {
            Duration::from_millis(300)
        } else {
            Duration::ZERO
        };
        let Some(death) = self.notice_death(wait, &format!("during {hook}")).await else {
            return Ok(());
        };
        let Plugin::Down { output_tail, .. } = &self.plugin else {
            unreachable!("a noticed death leaves the plugin down");
        };
        let last_words = if output_tail.is_empty() {
            output
        } else {
            output_tail
        };
        let tail: Vec<&str> = last_words
            .iter()
            .rev()
            .take(10)
            .rev()
            .map(|line| line.text.as_str())
            .collect();
        Err(CommandError::new(
            ErrorKind::PluginDied,
            format!(
                "{death}; the call ended with {status}; send `reset` to start a fresh plugin. \
                 Its last output:\n{}",
                tail.join("\n")
            ),
        ))
    }
}

/// What the plugin wrote since `from`, once the readers have caught up.
async fn output_since(
    execution: &SuiteExecution<'_>,
    from: Duration,
) -> Vec<crate::launch::CapturedLine> {
    let process = &execution.session().plugin.process;
    process.catch_up_output().await;
    process.output().since(from)
}

/// Reads one step (the client's fields) as a suite file's step.
fn parse_step(args: Map<String, Value>) -> Result<Step, CommandError> {
    let text = json!({
        "name": "control",
        "cases": [{"name": "call", "steps": [Value::Object(args)]}],
    })
    .to_string();
    let mut parsed = parse_suite(&text, STEP_PREFIX)?;
    Ok(parsed.cases.remove(0).steps.remove(0))
}

/// Parses `text` with the suite loader; its message, with the position in
/// our synthetic file and the path to the one element we put there
/// (`prefix`) removed, names the field the client sent.
fn parse_suite(text: &str, prefix: &str) -> Result<suite::Suite, CommandError> {
    suite::parse(Origin::Builtin("control"), text).map_err(|err| {
        let message = match err {
            SuiteError::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        let message = message
            .strip_prefix(prefix)
            .map(|rest| rest.trim_start_matches(['.', ':', ' ']).to_owned())
            .unwrap_or(message);
        CommandError::new(ErrorKind::Invalid, message)
    })
}

/// A command's arguments, read strictly, errors naming the field.
fn parse_args<T: for<'de> Deserialize<'de>>(
    command: &str,
    args: Map<String, Value>,
) -> Result<T, CommandError> {
    serde_path_to_error::deserialize(Value::Object(args)).map_err(|err| {
        let field = err.path().to_string();
        let field = if field == "." {
            String::new()
        } else {
            format!("{field}: ")
        };
        CommandError::new(
            ErrorKind::Invalid,
            format!("{command}: {field}{}", err.into_inner()),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// Items from this position on (a `next` from an earlier answer).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinceArgs {
    #[serde(default)]
    since: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldGetArgs {
    parts: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedArgs {
    seed: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetArgs {
    seed: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_off_its_schema_is_refused_naming_the_field() {
        let args = json!({"hook": "MessageWillBePosted", "request": {"post": {"mesage": "hi"}}});
        let Value::Object(args) = args else {
            unreachable!("a json! object")
        };
        let err = parse_step(args).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(err.message.contains("mesage"), "{}", err.message);
        assert!(!err.message.starts_with("cases["), "{}", err.message);
    }

    #[test]
    fn arguments_are_read_strictly() {
        let Value::Object(args) = json!({"sinse": 3}) else {
            unreachable!()
        };
        let err = parse_args::<SinceArgs>("api_calls", args).unwrap_err();
        assert!(err.message.contains("sinse"), "{}", err.message);
    }
}
