//! A recording written as a suite, in the format of hand-written ones and
//! through the same writer (`suite::write`), so it loads back by
//! construction.
//!
//! - one case per call the server made, in the order it made them (the
//!   suite activates manually: `OnActivate` and `OnDeactivate` are cases
//!   like the others);
//! - a hook case expects the recorded status, the recorded response, the
//!   server's outcome of it (`check::consequence`) and the Plugin API calls
//!   made during it, in order;
//! - the Plugin API's answers become that case's stubs, one per call
//!   (`times: 1`, matched by method and request), so a replay needs no
//!   server; calls made outside any hook are the suite's stubs;
//! - ServeHTTP calls are HTTP steps: method, URL, headers and body as the
//!   server sent them, status, headers, body, messages and flushes as the
//!   plugin answered.
//!
//! Values go into the suite as they went over the wire: a replay gives the
//! plugin the very answers it had, so whatever it derives from them (a
//! file path holding an upload's date, an id it was given) comes out the
//! same. What a replay cannot give back is the plugin's own clock: a
//! millisecond timestamp under a `*_at` key in what the plugin sends (a
//! hook's response, a Plugin API request) that it was never given is its
//! own, and is left out of the expectations and the stub matchers. Every
//! `*_at` key that held a timestamp gets a `[timestamp]` redaction, so a
//! snapshot added to a recorded step pins behaviour, not the clock. The
//! same traffic gives the same file (`harness run --frozen-clock` makes the
//! harness's own traffic the same run after run).
//! The users, teams and channels the traffic showed are written as the
//! suite's world ([`super::world`]), ids as the server gave them.
//! Credentials are never written: `Authorization` and `Cookie` headers
//! (and `Set-Cookie` answers), and `access_token` in a query.

use std::{
    collections::{BTreeSet, HashSet},
    path::{Path, PathBuf},
};

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::log::{Answer, ApiExchange, HttpRecord, Interaction, Log, Recorded};
use crate::{
    api::{Stub, StubAnswer},
    check::{self, Consequence},
    hooks::http::GeneratedBody,
    launch::PluginTarget,
    suite::{
        self, Action, Activation, CallExpect, Case, ErrorExpect, HookExpect, HookStep, HttpBody,
        HttpExpect, HttpStep, Location, Origin, OutcomeExpect, Redaction, Selector, StatusExpect,
        Step, Suite, TextMatch,
    },
    wire,
};

/// Where recordings go: `DIR/NAME.json`, or `NAME-2.json` and so on when
/// the name is taken (one recorder per plugin start, so a `harness run`
/// of several suites leaves one file per start).
#[derive(Debug, Clone)]
pub struct SuiteNaming {
    pub name: Option<String>,
}

impl SuiteNaming {
    /// Creates `dir` if needed and picks the file of this recording.
    pub fn pick(&self, dir: &Path, plugin_id: &str) -> Result<PathBuf, String> {
        std::fs::create_dir_all(dir).map_err(|err| {
            format!(
                "--out {}: cannot create the directory: {err}",
                dir.display()
            )
        })?;
        if !dir.is_dir() {
            return Err(format!("--out {}: not a directory", dir.display()));
        }
        let stem = self.name.clone().unwrap_or_else(|| plugin_id.to_owned());
        (1..)
            .map(|n| match n {
                1 => dir.join(format!("{stem}.json")),
                n => dir.join(format!("{stem}-{n}.json")),
            })
            .find(|path| !path.exists())
            .ok_or_else(|| format!("--out {}: no free file name", dir.display()))
    }
}

/// What was written, or why nothing could be.
pub type Written = Result<WrittenSuite, String>;

#[derive(Debug, Clone)]
pub struct WrittenSuite {
    pub path: PathBuf,
    pub cases: usize,
    pub api_calls: usize,
}

/// Writes what `log` holds so far to `path`, then reads it back.
pub fn write(log: &Log, target: &PluginTarget, path: &Path, note: Option<String>) -> Written {
    let (recorded, unattached) = log.snapshot();
    let api_calls = recorded.iter().map(|r| r.api_calls.len()).sum::<usize>() + unattached.len();
    let mut built = build(&recorded, &unattached, target, path, note);
    built.world = write_world(&recorded, &unattached, target, path)?;
    let cases = built.cases.len();
    suite::write::write_file(&built, path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    suite::load_path(path).map_err(|err| {
        format!("the recorded suite does not load back, so it cannot be replayed: {err}")
    })?;
    Ok(WrittenSuite {
        path: path.to_owned(),
        cases,
        api_calls,
    })
}

/// Writes the world the traffic shows (see [`super::world`]) to
/// `worlds/NAME.json` beside the suite; `None` when it shows none.
fn write_world(
    recorded: &[Recorded],
    unattached: &[ApiExchange],
    target: &PluginTarget,
    path: &Path,
) -> Result<Option<PathBuf>, String> {
    let mut observed = super::world::Observed::default();
    let take_in_answers = |observed: &mut super::world::Observed, calls: &[ApiExchange]| {
        for call in calls {
            if let (Some(method), Ok(bytes)) = (api_method(&call.method), &call.answer) {
                observed.take_in(&method.output(), bytes);
            }
        }
    };
    take_in_answers(&mut observed, unattached);
    for one in recorded {
        take_in_answers(&mut observed, &one.api_calls);
        if let Interaction::Hook(exchange) = &one.interaction
            && let Some(input) = wire::message_descriptor(&format!("{}Request", exchange.hook))
        {
            observed.take_in(&input, &exchange.request);
        }
    }
    // A seed the harness could not build a world from would stop the
    // replay: the suite then keeps the default world.
    let Some(seed) = observed.seed().filter(|seed| {
        serde_json::from_value::<crate::api::Seed>(seed.clone()).is_ok_and(|seed| {
            crate::api::World::from_seed(&seed, &target.id, "", "recorded").is_ok()
        })
    }) else {
        return Ok(None);
    };
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| target.id.clone());
    let world = path
        .parent()
        .unwrap_or(Path::new("."))
        .join("worlds")
        .join(format!("{stem}.json"));
    let text = serde_json::to_string_pretty(&seed).expect("JSON values serialize") + "\n";
    std::fs::create_dir_all(world.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(&world, text))
        .map_err(|err| format!("cannot write {}: {err}", world.display()))?;
    Ok(Some(world))
}

fn build(
    recorded: &[Recorded],
    unattached: &[ApiExchange],
    target: &PluginTarget,
    path: &Path,
    note: Option<String>,
) -> Suite {
    let origin = Origin::File(path.to_owned());
    let location = Location {
        origin: origin.clone(),
        line: 1,
        column: 1,
    };
    let mut given = Given::default();
    let stubs = stubs_of(unattached, &mut given);
    let mut cases = Vec::new();
    let (mut hooks, mut http) = (0, 0);
    for (index, one) in recorded.iter().enumerate() {
        // Taken in the order they went over the wire (the request, each API
        // call and its answer, then the response), so a timestamp counts as
        // given only once the plugin had it.
        let (label, action, case_stubs) = match &one.interaction {
            Interaction::Hook(exchange) => {
                let Some(answer) = &exchange.answer else {
                    continue;
                };
                let Some(input) = wire::message_descriptor(&format!("{}Request", exchange.hook))
                else {
                    continue;
                };
                let Some(request_json) = suite::write::message_json(&input, &exchange.request)
                else {
                    continue;
                };
                given.take_in(&request_json);
                let request = (request_json, exchange.request.clone());
                let case_stubs = stubs_of(&one.api_calls, &mut given);
                let Some(step) =
                    hook_step(&exchange.hook, request, answer, &case_stubs, &mut given)
                else {
                    continue;
                };
                hooks += 1;
                let action = Action::Hook(Box::new(step));
                (exchange.hook.clone(), action, case_stubs)
            }
            Interaction::Http(record) => {
                let Some(step) = http_step(record) else {
                    continue;
                };
                http += 1;
                let case_stubs = stubs_of(&one.api_calls, &mut given);
                (
                    "ServeHTTP".to_owned(),
                    Action::Http(Box::new(step)),
                    case_stubs,
                )
            }
        };
        cases.push(Case {
            name: format!("{:03}-{label}", index + 1),
            steps: vec![Step {
                action,
                location: location.clone(),
            }],
            stubs: case_stubs,
            continue_on_failure: false,
            location: location.clone(),
        });
    }
    let name = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| target.id.clone());
    let mut description = format!(
        "Recorded by harness record from plugin {}: {hooks} hook calls and {http} ServeHTTP calls, \
         the Plugin API's answers as stubs.",
        target.id
    );
    if let Some(note) = note {
        description.push(' ');
        description.push_str(&note);
    }
    // A recording that saw the plugin activated replays the activation as
    // one of its cases; one that started later (the front door's) lets the
    // replay activate the plugin as the server did.
    let saw_activation = recorded.iter().any(|one| {
        matches!(&one.interaction, Interaction::Hook(exchange) if exchange.hook == "OnActivate")
    });
    Suite {
        name,
        description,
        origin,
        world: None,
        activation: if saw_activation {
            Activation::Manual
        } else {
            Activation::Auto
        },
        redactions: given.redactions(),
        stubs,
        plugin_errors: None,
        cases,
    }
}

/// Each call's request (the plugin's own timestamps left out) and answer,
/// as stubs, taken in the order they went over the wire.
fn stubs_of(calls: &[ApiExchange], given: &mut Given) -> Vec<Stub> {
    calls.iter().filter_map(|call| stub(call, given)).collect()
}

/// `request`: as decoded, and as sent.
fn hook_step(
    hook: &str,
    (request_json, request): (Value, Bytes),
    answer: &Answer,
    api_calls: &[Stub],
    given: &mut Given,
) -> Option<HookStep> {
    let output = wire::message_descriptor(&format!("{hook}Response"))?;
    let mut expect = HookExpect {
        api_calls_in_order: true,
        ..HookExpect::default()
    };
    for call in api_calls {
        let Some(json) = call.request.clone() else {
            continue;
        };
        // A request is matched partially, so a count could take in other
        // calls with more fields set: each expectation is "at least one".
        // The same call made again is one expectation, and the order of
        // first calls is then all an order check could hold.
        if expect
            .api_calls
            .iter()
            .any(|seen| seen.method == call.method && seen.request.as_ref() == Some(&json))
        {
            expect.api_calls_in_order = false;
        } else {
            expect.api_calls.push(CallExpect {
                method: call.method.clone(),
                request: Some(json),
                count: None,
            });
        }
    }
    match answer {
        Ok(bytes) => {
            let mut response = suite::write::message_json(&output, bytes)?;
            given.leave_out_own_times(&mut response);
            if let Some(error) = response.get("error") {
                expect.error = ErrorExpect::Matches(error.clone());
            }
            expect.outcome = outcome(check::consequence(hook, Ok(&response)));
            expect.response = Some(response);
        }
        Err((code, message)) => {
            let status = tonic::Status::new(*code, message.clone());
            expect.status = Some(status.code());
            if output.get_field_by_name("error").is_some() {
                expect.error = ErrorExpect::Any;
            }
            expect.outcome = outcome(check::consequence(hook, Err(&status)));
        }
    }
    Some(HookStep {
        hook: hook.to_owned(),
        request,
        request_json,
        expect,
        deadline: None,
        snapshot: None,
    })
}

/// The recorded consequence as an expectation; what the server only logs
/// has none beyond the status.
fn outcome(consequence: Consequence) -> Option<OutcomeExpect> {
    Some(match consequence {
        Consequence::Allow { .. } => OutcomeExpect::Allow,
        Consequence::Modify(value) => OutcomeExpect::Modify(value),
        Consequence::Reject(reason) => OutcomeExpect::Reject(TextMatch::Exact(reason)),
        Consequence::Dismiss => OutcomeExpect::Dismiss,
        Consequence::Respond(Some(value)) => OutcomeExpect::Respond(value),
        Consequence::Fail(value) => OutcomeExpect::Fail(value),
        Consequence::Succeed => OutcomeExpect::Succeed,
        Consequence::Respond(None) | Consequence::Logged(_) => return None,
    })
}

fn api_method(method: &str) -> Option<prost_reflect::MethodDescriptor> {
    mm_plugin_proto::api_service()
        .methods()
        .find(|m| m.name() == method)
}

/// The API's answer to one call, for the case's stubs.
fn stub(call: &ApiExchange, given: &mut Given) -> Option<Stub> {
    let method = api_method(&call.method)?;
    let mut request = suite::write::message_json(&method.input(), &call.request)?;
    given.leave_out_own_times(&mut request);
    let answer = match &call.answer {
        Ok(bytes) => {
            given.take_in(&suite::write::message_json(&method.output(), bytes)?);
            StubAnswer::Respond(bytes.clone())
        }
        Err((code, message)) => StubAnswer::Status(*code, message.clone()),
    };
    Some(Stub {
        method: call.method.clone(),
        request: Some(request),
        answer,
        delay: None,
        times: Some(1),
    })
}

fn is_secret_header(name: &str) -> bool {
    ["authorization", "cookie", "set-cookie", "access_token"]
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
}

/// The URL without any `access_token` query parameter.
fn without_token(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !name.eq_ignore_ascii_case("access_token")
        })
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

fn headers_of(headers: &[mm_plugin_proto::pb::HttpHeader]) -> Vec<(String, Vec<String>)> {
    headers
        .iter()
        .filter(|header| !is_secret_header(&header.key))
        .map(|header| (header.key.clone(), header.values.clone()))
        .collect()
}

/// A body as the suite writes it: the generated pattern when it is one
/// (`content_length` long), else its bytes.
fn body_of(record: &HttpRecord, content_length: i64) -> HttpBody {
    let received = record.body.len() as u64;
    let declared = u64::try_from(content_length)
        .unwrap_or(received)
        .max(received);
    let generated = GeneratedBody::new(declared);
    if received > 0 && generated.slice(0, record.body.len()) == record.body {
        return HttpBody::Generated(declared);
    }
    if record.body.is_empty() {
        HttpBody::Empty
    } else {
        HttpBody::Bytes(Bytes::from(record.body.clone()))
    }
}

/// What a replayed `http` step cannot send again: what the server made up
/// for this request (its request id, the client's address, the `Host`, the
/// request target as the client wrote it) and the credentials, which are
/// never written. A response header that carries one (an echo) is not
/// expected, and so no credential reaches the file that way either.
fn unreplayable_values(init: &mm_plugin_proto::pb::ServeHttpRequestInit) -> Vec<&str> {
    let request_id = init.plugin_context.as_ref().map(|c| c.request_id.as_str());
    let request_uri = (init.request_uri != init.url).then_some(init.request_uri.as_str());
    let credentials = init
        .headers
        .iter()
        .filter(|header| is_secret_header(&header.key))
        .flat_map(|header| header.values.iter().map(String::as_str));
    [
        request_id,
        Some(init.remote_addr.as_str()),
        Some(init.host.as_str()),
        request_uri,
    ]
    .into_iter()
    .flatten()
    .chain(credentials)
    .filter(|value| !value.is_empty())
    .collect()
}

fn http_step(record: &HttpRecord) -> Option<HttpStep> {
    let init = record.init.as_ref()?;
    let cut_off = !record.request_complete;
    let first = record.responses.first();
    let status_code = first.and_then(|m| m.init.as_ref()).map(|i| i.status_code);
    let answered =
        first.is_some() && status_code.is_none_or(|code| code == 0 || (100..=999).contains(&code));
    let mut body = Vec::new();
    for message in &record.responses {
        body.extend_from_slice(&message.body_chunk);
    }
    let mut expect = HttpExpect {
        answered: (!cut_off).then_some(answered),
        request_complete: Some(record.request_complete),
        ..HttpExpect::default()
    };
    // Whether a plugin answers before the client leaves is a race: a
    // cut-off request expects only that it was cut off.
    if answered && !cut_off {
        expect.status = Some(StatusExpect::Exact(match status_code {
            None | Some(0) => 200,
            Some(code) => u16::try_from(code).unwrap_or(500),
        }));
        expect.headers = first
            .and_then(|m| m.init.as_ref())
            .map(|init| headers_of(&init.headers))
            .unwrap_or_default();
        let unreplayable = unreplayable_values(init);
        expect.headers.retain(|(_, values)| {
            !values
                .iter()
                .any(|value| unreplayable.iter().any(|made| value.contains(made)))
        });
        match std::str::from_utf8(&body) {
            Ok(text) if body.len() <= 64 * 1024 => expect.body = Some(text.to_owned()),
            _ => {
                expect.body_size = Some(body.len() as u64);
                expect.body_sha256 = Some(
                    Sha256::digest(&body)
                        .iter()
                        .map(|byte| format!("{byte:02x}"))
                        .collect(),
                );
            }
        }
        {
            expect.messages = Some(record.responses.len());
            expect.flushes = Some(record.responses.iter().filter(|m| m.flush).count());
        }
        if record.body_at_first_response.is_some() {
            expect.early = Some(true);
        }
    }
    Some(HttpStep {
        method: init.method.clone(),
        url: without_token(&init.url),
        headers: headers_of(&init.headers),
        body: body_of(record, init.content_length),
        cancel_after: cut_off.then_some(record.body.len() as u64),
        deadline: None,
        expect,
    })
}

/// Timestamps the plugin has been given so far (in hook requests and
/// Plugin API answers), and the keys timestamps were seen under.
#[derive(Debug, Default)]
struct Given {
    times: HashSet<i64>,
    timestamp_keys: BTreeSet<String>,
}

/// Anything under `*_at` from 1973 on is a millisecond timestamp.
const TIMESTAMP_FLOOR: i64 = 100_000_000_000;

/// The timestamp `value` holds under `key`, if it is one (proto3 JSON
/// writes 64-bit integers as strings).
fn timestamp(key: &str, value: &Value) -> Option<i64> {
    if !key.ends_with("_at") {
        return None;
    }
    let time = match value {
        Value::String(text) => text.parse::<i64>().ok()?,
        Value::Number(number) => number.as_i64()?,
        _ => return None,
    };
    (time >= TIMESTAMP_FLOOR).then_some(time)
}

impl Given {
    /// The plugin received `value`.
    fn take_in(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match timestamp(key, value) {
                        Some(time) => {
                            self.times.insert(time);
                            self.timestamp_keys.insert(key.clone());
                        }
                        None => self.take_in(value),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.take_in(item)),
            _ => {}
        }
    }

    /// Drops from `value`, which the plugin sent, the timestamps it was not
    /// given: they come from its own clock.
    fn leave_out_own_times(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|key, value| match timestamp(key, value) {
                    Some(time) => {
                        self.timestamp_keys.insert(key.clone());
                        self.times.contains(&time)
                    }
                    None => true,
                });
                map.values_mut()
                    .for_each(|value| self.leave_out_own_times(value));
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|item| self.leave_out_own_times(item)),
            _ => {}
        }
    }

    /// A `[timestamp]` redaction for every key a timestamp was seen under.
    fn redactions(&self) -> Vec<Redaction> {
        self.timestamp_keys
            .iter()
            .filter_map(|key| {
                Some(Redaction {
                    selector: Selector::parse(&format!("..{key}")).ok()?,
                    replacement: "[timestamp]".to_owned(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_timestamps_the_plugin_was_not_given_are_left_out() {
        let mut given = Given::default();
        given.take_in(&json!({"post": {"id": "p1", "create_at": "1712345678901"}}));
        let mut sent = json!({
            "post": {"create_at": "1712345678901", "update_at": 1712345679999i64, "message": "hi"},
            "items": [{"edit_at": "1712345670000", "expires_at": "5"}]
        });
        given.leave_out_own_times(&mut sent);
        assert_eq!(
            sent,
            json!({"post": {"create_at": "1712345678901", "message": "hi"}, "items": [{"expires_at": "5"}]})
        );
        let selectors: Vec<String> = given
            .redactions()
            .iter()
            .map(|r| r.selector.as_str().to_owned())
            .collect();
        assert_eq!(selectors, ["..create_at", "..edit_at", "..update_at"]);
    }

    #[test]
    fn a_request_its_client_left_is_written_as_cut_off_where_it_was() {
        let record = HttpRecord {
            init: Some(mm_plugin_proto::pb::ServeHttpRequestInit {
                method: "PUT".into(),
                url: "/echo?access_token=secret".into(),
                content_length: 1_000_000,
                ..Default::default()
            }),
            body: vec![7; 131_072],
            request_complete: false,
            cancelled: true,
            ..Default::default()
        };
        let step = http_step(&record).expect("a request with its init is a step");
        assert_eq!(step.cancel_after, Some(131_072));
        assert_eq!(step.url, "/echo");
        assert_eq!(step.expect.request_complete, Some(false));
        // Whether the plugin answered before the client left is a race.
        assert_eq!(step.expect.answered, None);
        assert_eq!(step.expect.status, None);
        // Never seen: nothing to replay.
        assert!(http_step(&HttpRecord::default()).is_none());
    }

    #[test]
    fn credentials_are_left_out() {
        assert_eq!(without_token("/a?access_token=x&b=1"), "/a?b=1");
        assert_eq!(without_token("/a?access_token=x"), "/a");
        assert!(is_secret_header("Authorization"));
        assert!(is_secret_header("cookie"));
        assert!(!is_secret_header("Content-Type"));
    }
}
