//! What every fuzzed call must satisfy.
//!
//! 1. The plugin stays alive: its process has not exited after the call.
//! 2. The call completes within its deadline.
//! 3. The answer is well formed by the protocol rules: checked by
//!    `check::check_hook`, the same code that judges suite steps, with an
//!    expectation that accepts any outcome but requires status OK and a
//!    response that decodes ([`well_formed`]).
//! 4. Every rule of the fuzz spec that applies to the request holds (each
//!    rule is a suite expectation, checked the same way).
//!
//! In raw mode, where the request is deliberately malformed, only 1 and 2
//! apply: any status is an answer. ServeHTTP has its own form of 3: the
//! server must be able to relay the plugin's answer.

use std::{fmt, process::ExitStatus, time::Duration};

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;
use tonic::{Code, Status};

use super::{spec::Spec, strategies::HttpCase};
use crate::{
    check::{self, HookExchange},
    hooks::http::{Ending, ExchangeOptions, ServeHttpClient},
    launch::RunningPlugin,
    session::Session,
    suite::{ErrorExpect, HookExpect},
    wire,
};

/// Why a case failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    /// One line: what went wrong.
    pub summary: String,
    /// The mismatches or diagnostics behind it, one per line.
    pub details: Vec<String>,
    /// What a saved case of this failure expects of the hook (unary hooks):
    /// the expectation that failed, so the replay fails the same way.
    pub expect: Option<Box<HookExpect>>,
    /// The deadline a saved case should call with, when it matters.
    pub deadline: Option<Duration>,
}

/// The reason a case failed, as far as shrinking is concerned: a smaller
/// case only counts if it fails for the same reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The plugin process exited; how it ended.
    Crashed(String),
    /// No answer within the deadline.
    Deadline,
    /// A gRPC status other than OK (unary hooks), with its message, numbers
    /// blanked ("found 4194309 bytes" and "found 5000000 bytes" are one
    /// bug). The same status from several hooks is one failure.
    Status(String, String),
    /// A response that does not decode as the hook's response message.
    Undecodable,
    /// A spec rule, by index and name.
    Spec(usize, String),
    /// ServeHTTP: an answer the server cannot relay, or one the spec forbids.
    Http(String),
}

impl FailureKind {
    /// A short name for file names: `crash`, `status-internal`, ...
    pub fn slug(&self) -> String {
        let slug = match self {
            FailureKind::Crashed(_) => "crash".to_owned(),
            FailureKind::Deadline => "deadline".to_owned(),
            FailureKind::Status(code, _) => format!("status-{code}"),
            FailureKind::Undecodable => "undecodable".to_owned(),
            FailureKind::Spec(index, _) => format!("spec-rule{index}"),
            FailureKind::Http(what) => format!("http-{what}"),
        };
        slug.to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Crashed(exit) => write!(f, "crash ({exit})"),
            FailureKind::Deadline => write!(f, "no answer within the deadline"),
            FailureKind::Status(code, _) => write!(f, "status {code}"),
            FailureKind::Undecodable => write!(f, "undecodable response"),
            FailureKind::Spec(_, name) => write!(f, "spec rule {name}"),
            FailureKind::Http(what) => write!(f, "ServeHTTP {what}"),
        }
    }
}

/// What the checks need besides the call.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub spec: &'a Spec,
    pub deadline: Duration,
}

/// The expectation every unary answer must meet: status OK and a response
/// that decodes, with any outcome (an `AppError` included).
pub fn well_formed(hook: &str) -> HookExpect {
    let has_error = wire::message_descriptor(&format!("{hook}Response"))
        .is_some_and(|response| response.get_field_by_name("error").is_some());
    HookExpect {
        status: Some(Code::Ok),
        error: if has_error {
            ErrorExpect::Any
        } else {
            ErrorExpect::Absent
        },
        ..Default::default()
    }
}

/// Calls unary hook `hook` with `request` and checks properties 1–4.
pub async fn check_unary(
    session: &mut Session,
    hook: &str,
    request: &Bytes,
    checks: Checks<'_>,
) -> Result<(), Failure> {
    let method = mm_plugin_proto::hooks_service()
        .methods()
        .find(|m| m.name() == hook)
        .expect("only hooks of the protocol are fuzzed");
    let first_call = session.api.calls().len();
    let started = Instant::now();
    let answer = session
        .plugin
        .hooks
        .call(hook, request.clone(), checks.deadline)
        .await;
    let elapsed = started.elapsed();
    let base = well_formed(hook);
    survived(&mut session.plugin, hook, answer.as_ref().err(), &base).await?;
    within_deadline(answer.as_ref().err(), elapsed, checks.deadline, &base)?;
    let api_calls = session.api.calls().since(first_call);
    // The request as JSON only matters to spec conditions; decoding every
    // request would cost more than many plugins take to answer.
    let mut rules = checks
        .spec
        .rules
        .iter()
        .filter(|rule| rule.hook == hook)
        .peekable();
    let request_json = match rules.peek() {
        Some(_) => wire::decode_to_json(&method.input(), request).unwrap_or(Value::Null),
        None => Value::Null,
    };
    let exchange = HookExchange {
        hook,
        response_type: &method.output(),
        request: &request_json,
        answer: &answer,
        api_calls: &api_calls,
    };
    let verdict = check::check_hook(&base, &exchange);
    if !verdict.mismatches.is_empty() {
        let failure = match &answer {
            // The summary says it all; the mismatch would repeat it.
            Err(status) => Failure {
                kind: FailureKind::Status(
                    wire::code_name(status.code()).to_owned(),
                    blank_numbers(status.message()),
                ),
                summary: format!("{hook} answered {}", wire::status_text(status)),
                details: Vec::new(),
                expect: Some(Box::new(base.clone())),
                deadline: None,
            },
            Ok(_) => Failure {
                kind: FailureKind::Undecodable,
                summary: format!("{hook}'s response does not decode"),
                details: describe(&verdict.mismatches),
                expect: Some(Box::new(base.clone())),
                deadline: None,
            },
        };
        return Err(failure);
    }
    for (index, rule) in checks.spec.rules_for(hook, &request_json) {
        let verdict = check::check_hook(&rule.expect, &exchange);
        if !verdict.mismatches.is_empty() {
            return Err(Failure {
                kind: FailureKind::Spec(index, rule.name.clone()),
                summary: format!(
                    "{hook} broke spec rule {} {} (server outcome: {})",
                    rule.name,
                    rule.text,
                    verdict.consequence.summary()
                ),
                details: describe(&verdict.mismatches),
                expect: Some(Box::new(rule.expect.clone())),
                deadline: None,
            });
        }
    }
    Ok(())
}

/// Raw mode: any status is an answer; only a crash or silence fails.
pub async fn check_raw(
    session: &mut Session,
    hook: &str,
    request: &Bytes,
    checks: Checks<'_>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let answer = session
        .plugin
        .hooks
        .call(hook, request.clone(), checks.deadline)
        .await;
    let base = well_formed(hook);
    survived(&mut session.plugin, hook, answer.as_ref().err(), &base).await?;
    within_deadline(
        answer.as_ref().err(),
        started.elapsed(),
        checks.deadline,
        &base,
    )
}

/// ServeHTTP: alive, within the deadline, an answer the server can relay
/// (no 502/500/503 of its own, no stream failure, the call ending OK), and
/// no status the spec forbids.
pub async fn check_http(
    session: &mut Session,
    case: &HttpCase,
    checks: Checks<'_>,
) -> Result<(), Failure> {
    let options = ExchangeOptions {
        keep_body: false,
        ..ExchangeOptions::with_deadline(checks.deadline)
    };
    let exchange = ServeHttpClient::new(session.plugin.channel.clone())
        .exchange(case.request(), &options)
        .await;
    let failed_call = !matches!(exchange.ending, Ending::BodyComplete | Ending::StreamEnded)
        || exchange.grpc_status.as_ref().is_some_and(|s| !s.is_ok());
    let broken = failed_call.then(|| Status::unavailable("the ServeHTTP call failed"));
    let no_expect = HookExpect::default();
    survived(
        &mut session.plugin,
        "ServeHTTP",
        broken.as_ref(),
        &no_expect,
    )
    .await
    .map_err(|failure| Failure {
        expect: None,
        ..failure
    })?;
    let http = |what: &str, summary: String, details: Vec<String>| Failure {
        kind: FailureKind::Http(what.to_owned()),
        summary,
        details,
        expect: None,
        deadline: None,
    };
    let request_line = format!("{} {}", case.method, case.url);
    if exchange.ending == Ending::DeadlineExceeded {
        return Err(Failure {
            kind: FailureKind::Deadline,
            summary: format!(
                "ServeHTTP {request_line}: no complete answer within the {} deadline",
                humantime::format_duration(checks.deadline)
            ),
            details: Vec::new(),
            expect: None,
            deadline: Some(checks.deadline),
        });
    }
    if let Some(answer) = &exchange.server_answer {
        return Err(http(
            &answer.status.to_string(),
            format!(
                "ServeHTTP {request_line}: the server answers {} itself",
                answer.status
            ),
            vec![answer.reason.clone()],
        ));
    }
    if exchange.ending == Ending::StreamError {
        return Err(http(
            "stream-error",
            format!("ServeHTTP {request_line}: the response stream failed after the headers"),
            exchange.error_after_headers.iter().cloned().collect(),
        ));
    }
    if let Some(grpc) = exchange.grpc_status.as_ref().filter(|s| !s.is_ok()) {
        return Err(http(
            &grpc.code,
            format!(
                "ServeHTTP {request_line}: the call ended with {}",
                grpc.code
            ),
            vec![grpc.message.clone()],
        ));
    }
    if let Some(status) = exchange.status
        && let Some(pattern) = checks
            .spec
            .never_status
            .iter()
            .find(|pattern| pattern.matches(status))
    {
        return Err(http(
            &format!("status-{pattern}"),
            format!(
                "ServeHTTP {request_line}: status {status}, which spec serve_http.never_status forbids ({pattern})"
            ),
            Vec::new(),
        ));
    }
    Ok(())
}

/// Property 1. A failed call is how a crash looks from here, and the
/// process may still be going down when the call fails; an answered call
/// only needs a look.
async fn survived(
    plugin: &mut RunningPlugin,
    hook: &str,
    failed: Option<&Status>,
    expect: &HookExpect,
) -> Result<(), Failure> {
    let maybe_transport = failed.is_some_and(|status| {
        matches!(
            status.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
        )
    });
    // A plugin whose handler failed answers a health check at once; one
    // that is going down does not, and is given a moment to be reaped.
    // (Waiting after every INTERNAL would make a plugin that fails often
    // slow to fuzz.)
    let wait = if maybe_transport
        && plugin.process.try_exit().is_none()
        && plugin.health(Duration::from_millis(300)).await.is_err()
    {
        Duration::from_millis(300)
    } else {
        Duration::ZERO
    };
    // A zero wait would still cost a timer tick (a millisecond) per call.
    let exit = if wait.is_zero() {
        plugin.process.try_exit()
    } else {
        plugin.process.exited_within(wait).await
    };
    match exit {
        None => Ok(()),
        Some(status) => Err(Failure {
            kind: FailureKind::Crashed(exit_text(status)),
            summary: format!(
                "the plugin process exited ({}) during {hook}",
                exit_text(status)
            ),
            details: failed
                .map(|status| format!("the call failed: {}", wire::status_text(status)))
                .into_iter()
                .collect(),
            expect: Some(Box::new(expect.clone())),
            deadline: None,
        }),
    }
}

/// Property 2: the harness's own deadline fired (a plugin answering
/// DEADLINE_EXCEEDED early is an answer, judged as a status).
fn within_deadline(
    failed: Option<&Status>,
    elapsed: Duration,
    deadline: Duration,
    expect: &HookExpect,
) -> Result<(), Failure> {
    match failed {
        Some(status) if status.code() == Code::DeadlineExceeded && elapsed >= deadline => {
            Err(Failure {
                kind: FailureKind::Deadline,
                summary: format!(
                    "no answer within the {} deadline",
                    humantime::format_duration(deadline)
                ),
                details: vec![wire::status_text(status)],
                expect: Some(Box::new(expect.clone())),
                deadline: Some(deadline),
            })
        }
        _ => Ok(()),
    }
}

/// `text` with every run of digits as `N`, at most 200 characters.
fn blank_numbers(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().take(200) {
        if c.is_ascii_digit() {
            if !out.ends_with('N') {
                out.push('N');
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

fn describe(mismatches: &[check::Mismatch]) -> Vec<String> {
    mismatches
        .iter()
        .map(|m| {
            format!(
                "{}: expected {}, got {}",
                m.field,
                shorten(&m.expected),
                shorten(&m.actual)
            )
        })
        .collect()
}

/// Long texts (a 4 MiB message echoed back) cut for display.
pub fn shorten(text: &str) -> String {
    const MOST: usize = 300;
    if text.chars().count() <= MOST {
        return text.to_owned();
    }
    let head: String = text.chars().take(MOST).collect();
    format!("{head}… ({} characters)", text.chars().count())
}

/// A text for a terminal: cut to 1000 characters, and control, invisible
/// and direction-changing characters shown as `\u{...}` (fuzzed input is
/// full of them, and a terminal would act on them).
pub fn printable(text: &str) -> String {
    const MOST: usize = 1000;
    let mut out = String::new();
    for (index, c) in text.chars().enumerate() {
        if index == MOST {
            out.push_str(&format!("… ({} characters)", text.chars().count()));
            break;
        }
        if c.is_control() || crate::suite::write::is_invisible(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_accepts_app_errors_only_where_responses_have_them() {
        assert_eq!(well_formed("ExecuteCommand").error, ErrorExpect::Any);
        assert_eq!(
            well_formed("MessageWillBePosted").error,
            ErrorExpect::Absent
        );
        assert_eq!(well_formed("OnActivate").status, Some(Code::Ok));
    }

    #[test]
    fn printable_text_escapes_what_a_terminal_would_act_on() {
        assert_eq!(
            printable("a\u{202e}b\u{0}\u{1b}[2Jc"),
            "a\\u{202e}b\\u{0}\\u{1b}[2Jc"
        );
        assert!(printable(&"x".repeat(2000)).ends_with("… (2000 characters)"));
    }

    #[test]
    fn kinds_name_files_safely() {
        assert_eq!(FailureKind::Crashed("exit status 3".into()).slug(), "crash");
        assert_eq!(
            FailureKind::Status("INTERNAL".into(), String::new()).slug(),
            "status-internal"
        );
        assert_eq!(
            FailureKind::Http("status-5xx".into()).slug(),
            "http-status-5xx"
        );
        assert_eq!(
            FailureKind::Spec(2, "hooks.X.never[0]".into()).slug(),
            "spec-rule2"
        );
    }
}
