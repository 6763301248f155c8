//! The control mode: a live plugin driven by another program (a pytest
//! fixture, a script in any language) over JSON lines.
//!
//! The client writes one request object per line; the harness answers each
//! with one response line, in order. The first line the harness writes is a
//! hello naming the protocol and its version, and whether the plugin
//! started. The README's "Control protocol" section documents the commands.
//!
//! Nothing here starts, activates, calls or judges a plugin on its own: a
//! [`Session`] is started and wrapped in a [`SuiteExecution`], hook calls
//! and HTTP requests are that engine's steps, and requests, HTTP steps and
//! stubs are read by the suite loader, so a request that does not fit its
//! hook's schema is refused with the same message a suite file gets.

mod commands;
mod world_view;

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::{
    api::Stub,
    engine::{StepOptions, SuiteExecution},
    launch::{CapturedLine, LaunchOptions, PluginTarget},
    session::Session,
    suite::{self, Origin, Suite},
};

/// The protocol's name, in the hello line.
pub const PROTOCOL: &str = "mm-plugin-harness-control";
/// Raised when a command changes meaning or a response loses a field;
/// adding commands or fields keeps it.
pub const VERSION: u32 = 1;

/// What the control mode starts and how.
pub struct ControlConfig {
    pub target: PluginTarget,
    pub launch: LaunchOptions,
    pub steps: StepOptions,
}

/// Why a command failed: a kind a client can branch on and a message for
/// the reader.
#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The line is not a JSON object with a `command`.
    Malformed,
    UnknownCommand,
    /// The arguments (a hook request, a stub, a seed) do not fit.
    Invalid,
    /// The plugin does not implement the hook; the server would not call it.
    NotImplemented,
    /// The plugin process exited during this command.
    PluginDied,
    /// There is no running plugin (it died or could not start): `reset`.
    NoPlugin,
}

impl CommandError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> CommandError {
        CommandError {
            kind,
            message: message.into(),
        }
    }
}

/// The plugin as the control loop holds it.
enum Plugin<'s> {
    Up(Box<SuiteExecution<'s>>),
    /// Stopped (or never started): why, and its last output lines.
    Down {
        reason: String,
        output_tail: Vec<CapturedLine>,
    },
}

/// The loop's state: the plugin and what the client put in force.
struct Control<'s> {
    config: &'s ControlConfig,
    suite: &'s Suite,
    plugin: Plugin<'s>,
    /// Stubs added with `stub`, in force until `unstub` or `reset`.
    stubs: Vec<Stub>,
}

/// Serves the protocol on `input`/`output` until `shutdown`, the end of
/// `input`, or `cancel`; the plugin is stopped (its process group killed)
/// whichever comes first.
pub async fn serve<R, W>(
    config: &ControlConfig,
    input: R,
    mut output: W,
    cancel: CancellationToken,
) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let suite = control_suite();
    let mut control = Control {
        config,
        suite: &suite,
        plugin: start(config, &suite, None).await,
        stubs: Vec::new(),
    };
    let hello = serde_json::json!({
        "protocol": PROTOCOL,
        "version": VERSION,
        "harness": env!("CARGO_PKG_VERSION"),
        "plugin": control.plugin_info(),
    });
    let written = write_line(&mut output, &hello).await;
    let mut lines = input.lines();
    let result = match written {
        Err(err) => Err(err),
        Ok(()) => loop {
            let line = tokio::select! {
                line = lines.next_line() => line,
                () = cancel.cancelled() => break Ok(()),
            };
            let line = match line {
                Ok(Some(line)) => line,
                // The client is gone: stop as if it had said `shutdown`.
                Ok(None) => break Ok(()),
                Err(err) => break Err(err),
            };
            if line.trim().is_empty() {
                continue;
            }
            let (response, stop) = control.handle(&line).await;
            if let Err(err) = write_line(&mut output, &response).await {
                break Err(err);
            }
            if stop {
                break Ok(());
            }
        },
    };
    control.stop().await;
    result
}

async fn write_line<W: AsyncWrite + Unpin>(output: &mut W, value: &Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value).expect("JSON values serialize");
    line.push(b'\n');
    output.write_all(&line).await?;
    output.flush().await
}

/// The suite the control mode's steps belong to: no cases, nothing of its
/// own in force.
fn control_suite() -> Suite {
    suite::parse(
        Origin::Builtin("control"),
        r#"{"name": "control", "cases": []}"#,
    )
    .expect("the empty control suite is valid")
}

/// Starts the plugin against a world from `seed` (the default world when
/// `None`) and activates it, as every mode does.
async fn start<'s>(
    config: &'s ControlConfig,
    suite: &'s Suite,
    seed: Option<&Value>,
) -> Plugin<'s> {
    let down = |reason: String| Plugin::Down {
        reason,
        output_tail: Vec::new(),
    };
    let seed = match seed.map(parse_seed).transpose() {
        Ok(seed) => seed,
        Err(message) => return down(message),
    };
    let session = match Session::start(
        &config.target,
        seed.as_ref().map(|seed| (seed, "the seed given")),
        &config.launch,
    )
    .await
    {
        Ok(session) => session,
        Err(err) => return down(format!("the plugin could not be started: {err}")),
    };
    let execution = SuiteExecution::new(suite, session, &config.steps);
    match execution.activate().await {
        Ok(_) => Plugin::Up(Box::new(execution)),
        Err(failure) => {
            let end = execution.finish(false, false).await;
            Plugin::Down {
                reason: format!("OnActivate failed: {failure}"),
                output_tail: end.output_tail,
            }
        }
    }
}

fn parse_seed(seed: &Value) -> Result<crate::api::Seed, String> {
    crate::api::World::parse_seed("the seed given", &seed.to_string()).map_err(|e| e.to_string())
}

impl<'s> Control<'s> {
    /// Answers one request line; `true` when the loop should end.
    async fn handle(&mut self, line: &str) -> (Value, bool) {
        let mut id = Value::Null;
        let mut stop = false;
        let result = match parse_request(line) {
            Err(err) => Err(err),
            Ok((request_id, command, args)) => {
                id = request_id;
                stop = command == "shutdown";
                self.dispatch(&command, args).await
            }
        };
        let response = match result {
            Ok(result) => serde_json::json!({"id": id, "ok": true, "result": result}),
            Err(error) => serde_json::json!({"id": id, "ok": false, "error": error}),
        };
        (response, stop)
    }

    /// What the hello and `reset` say about the plugin.
    fn plugin_info(&self) -> Value {
        match &self.plugin {
            Plugin::Up(execution) => {
                let plugin = &execution.session().plugin;
                serde_json::json!({
                    "running": true,
                    "id": self.config.target.id,
                    "pid": plugin.process.pid(),
                    "implements": plugin.implemented,
                })
            }
            Plugin::Down {
                reason,
                output_tail,
            } => serde_json::json!({
                "running": false,
                "id": self.config.target.id,
                "error": reason,
                "output_tail": output_tail,
            }),
        }
    }

    /// Stops the plugin, if it runs, as the server does: `OnDeactivate`,
    /// SIGTERM, grace, SIGKILL of its group. Returns how it ended.
    async fn stop(&mut self) -> Option<String> {
        let down = Plugin::Down {
            reason: "stopped".to_owned(),
            output_tail: Vec::new(),
        };
        match std::mem::replace(&mut self.plugin, down) {
            Plugin::Up(execution) => {
                let end = execution.finish(true, false).await;
                let exit = end.exit.clone();
                self.plugin = Plugin::Down {
                    reason: format!("stopped ({})", end.exit),
                    output_tail: end.output_tail,
                };
                Some(exit)
            }
            previous => {
                self.plugin = previous;
                None
            }
        }
    }

    /// The running plugin, or why there is none. A plugin that exited
    /// since the last command is noticed here and its group reaped.
    async fn running(&mut self) -> Result<&mut SuiteExecution<'s>, CommandError> {
        self.notice_death(Duration::ZERO, "between commands").await;
        match &mut self.plugin {
            Plugin::Up(execution) => Ok(execution),
            Plugin::Down { reason, .. } => Err(CommandError::new(
                ErrorKind::NoPlugin,
                format!("no plugin is running ({reason}); send `reset` to start it again"),
            )),
        }
    }

    /// If the plugin process has exited (waiting up to `wait` for it to be
    /// reaped), stops what is left of it and returns how it died.
    async fn notice_death(&mut self, wait: Duration, during: &str) -> Option<String> {
        let Plugin::Up(execution) = &mut self.plugin else {
            return None;
        };
        let status = execution
            .session_mut()
            .plugin
            .process
            .exited_within(wait)
            .await?;
        let death = format!("the plugin process exited ({status}) {during}");
        let Plugin::Up(execution) = std::mem::replace(
            &mut self.plugin,
            Plugin::Down {
                reason: String::new(),
                output_tail: Vec::new(),
            },
        ) else {
            unreachable!("the plugin was matched as running above");
        };
        let end = execution.finish(false, false).await;
        self.plugin = Plugin::Down {
            reason: death.clone(),
            output_tail: end.output_tail,
        };
        Some(death)
    }

    fn set_stubs(&mut self) {
        if let Plugin::Up(execution) = &self.plugin {
            execution.session().api.set_suite_stubs(self.stubs.clone());
        }
    }
}

/// Splits a request line into its `id` (echoed back), `command` and the
/// remaining fields, the command's arguments.
fn parse_request(line: &str) -> Result<(Value, String, Map<String, Value>), CommandError> {
    let value: Value = serde_json::from_str(line).map_err(|err| {
        CommandError::new(
            ErrorKind::Malformed,
            format!("the line is not valid JSON: {err}"),
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err(CommandError::new(
            ErrorKind::Malformed,
            format!("expected a JSON object with a \"command\" field, got {value}"),
        ));
    };
    let id = fields.remove("id").unwrap_or(Value::Null);
    match fields.remove("command") {
        Some(Value::String(command)) => Ok((id, command, fields)),
        Some(other) => Err(CommandError::new(
            ErrorKind::Malformed,
            format!("\"command\" must be a string naming a command, got {other}"),
        )),
        None => Err(CommandError::new(
            ErrorKind::Malformed,
            format!(
                "the request has no \"command\" field; expected one of {}",
                commands::NAMES.join(", ")
            ),
        )),
    }
}
