//! The harness fuzzed with its own tools: the parsers of everything a user
//! hands it (suites, manifests, the plugin's handshake line) never panic,
//! whatever the input, and a suite written by `suite::write` reads back as
//! the same suite.

use std::{path::Path, time::Duration};

use bytes::Bytes;
use harness::{
    api::{ApiError, Stub, StubAnswer},
    fuzz::strategies::{Profile, unary_request},
    hooks::Family,
    launch::{PluginTarget, handshake},
    suite::{
        self, Action, Activation, CallExpect, Case, ErrorExpect, HookExpect, HookStep, HttpBody,
        HttpExpect, HttpStep, Location, Origin, OutcomeExpect, OutputExpect, Redaction,
        StatusExpect, Step, Suite, TextMatch, write,
    },
    wire,
};
use proptest::{collection::vec, option, prelude::*, sample::select};
use serde_json::{Value, json};
use tonic::Code;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are reported with their shrunk input; no files are left
        // in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Keys and values a suite file uses, so that random documents get past
/// the first checks and into the deeper ones.
const SUITE_KEYS: &[&str] = &[
    "name",
    "description",
    "world",
    "activation",
    "redactions",
    "stubs",
    "cases",
    "steps",
    "hook",
    "request",
    "expect",
    "deadline",
    "snapshot",
    "handshake",
    "health",
    "implemented",
    "includes",
    "shutdown",
    "grace",
    "output",
    "stream",
    "contains",
    "absent",
    "matches",
    "status",
    "error",
    "response",
    "outcome",
    "reject",
    "modify",
    "respond",
    "fail",
    "api_calls",
    "api_calls_in_order",
    "method",
    "count",
    "app_error",
    "status_code",
    "id",
    "message",
    "code",
    "delay",
    "times",
    "post",
    "args",
    "command",
    "http",
    "path",
    "query",
    "headers",
    "body",
    "body_base64",
    "body_json",
    "body_size",
    "cancel_after",
    "answered",
    "request_complete",
    "body_contains",
    "body_sha256",
    "messages",
    "flushes",
    "early",
];
const SUITE_WORDS: &[&str] = &[
    "MessageWillBePosted",
    "ExecuteCommand",
    "OnActivate",
    "ServeHTTP",
    "UserWillLogIn",
    "FileWillBeUploaded",
    "KVSet",
    "GetUser",
    "OK",
    "INTERNAL",
    "allow",
    "dismiss",
    "succeed",
    "any",
    "auto",
    "manual",
    "stderr",
    "stdout",
    "5s",
    "-1s",
    "1h",
    "step0",
    "..x",
    ".a[]",
    "(",
    "",
    "s/c",
    "badword",
];

fn suite_like_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e9f64..1e9).prop_map(|n| json!(n)),
        select(SUITE_WORDS).prop_map(|w| json!(w)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec(
                (
                    prop_oneof![select(SUITE_KEYS).prop_map(str::to_owned), "[a-z]{0,6}"],
                    inner
                ),
                0..6
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A suite's outline, valid down to the steps and stubs, whose contents
/// are random: the loader's checks of each step kind, expectation and
/// request get exercised, not just the top-level ones.
fn suite_skeleton() -> impl Strategy<Value = Value> {
    const STEP_KEYS: &[&str] = &[
        "hook",
        "request",
        "expect",
        "deadline",
        "snapshot",
        "handshake",
        "health",
        "implemented",
        "shutdown",
        "output",
        "http",
    ];
    const STUB_KEYS: &[&str] = &[
        "method",
        "request",
        "respond",
        "app_error",
        "status",
        "delay",
        "times",
    ];
    let entry = |keys: &'static [&'static str]| {
        (
            select(keys),
            prop_oneof![
                select(SUITE_WORDS).prop_map(|w| json!(w)),
                suite_like_json()
            ],
        )
    };
    let object = move |keys| {
        vec(entry(keys), 1..4)
            .prop_map(|e| Value::Object(e.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    };
    (vec(object(STEP_KEYS), 0..4), vec(object(STUB_KEYS), 0..2), suite_like_json())
        .prop_map(|(steps, stubs, world)| {
            json!({"name": "s", "world": world, "stubs": stubs, "cases": [{"name": "c", "steps": steps}]})
        })
}

/// A real suite's text with a few bytes changed, inserted or cut.
fn damaged_suite() -> impl Strategy<Value = String> {
    const TEXT: &str = include_str!("../../suites/messages.json");
    (
        vec(
            (
                any::<proptest::sample::Index>(),
                prop_oneof!["[{}\\[\\]\",:0-9a-z]{0,3}", "\\PC{0,3}"],
                0usize..4,
            ),
            1..4,
        ),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(edits, cut)| {
            let mut text: Vec<char> = TEXT.chars().collect();
            for (at, insert, remove) in edits {
                let at = at.index(text.len());
                let end = (at + remove).min(text.len());
                text.splice(at..end, insert.chars());
            }
            let keep = text.len() - cut.index(text.len() / 10 + 1);
            text.truncate(keep);
            text.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn the_suite_loader_never_panics_on_any_text(text in "\\PC{0,200}") {
        let _ = suite::parse(Origin::File("s.json".into()), &text);
    }

    #[test]
    fn the_suite_loader_never_panics_on_suite_shaped_json(value in suite_like_json()) {
        let _ = suite::parse(Origin::File("s.json".into()), &value.to_string());
    }

    #[test]
    fn the_suite_loader_never_panics_on_random_steps(value in suite_skeleton()) {
        let _ = suite::parse(Origin::File("s.json".into()), &value.to_string());
    }

    #[test]
    fn the_suite_loader_never_panics_on_a_damaged_suite(text in damaged_suite()) {
        let _ = suite::parse(Origin::File("s.json".into()), &text);
    }

    #[test]
    fn the_handshake_parser_never_panics(
        line in prop_oneof![
            "\\PC{0,80}",
            (
                "[0-9]{0,3}|-1|99999999999",
                "[0-9]{0,3}",
                select(&["tcp", "unix", "udp", ""][..]),
                prop_oneof!["127\\.0\\.0\\.1:[0-9]{0,6}", "\\[::1\\]:[0-9]{1,5}", "/tmp/[a-z.]{0,8}", "\\PC{0,10}"],
                select(&["grpc", "netrpc", "", "GRPC"][..]),
                "(\\|\\PC{0,10}){0,2}[\\r\\n ]{0,2}",
            )
                .prop_map(|(core, app, network, address, protocol, rest)| {
                    format!("{core}|{app}|{network}|{address}|{protocol}{rest}")
                }),
        ]
    ) {
        let _ = handshake::parse(&line);
    }
}

fn manifest_json() -> impl Strategy<Value = Value> {
    let text = || {
        prop_oneof![
            Just(String::new()),
            "[a-z./_-]{1,12}",
            select(
                &[
                    "../escape",
                    "/bin/sh",
                    "server/plugin.py",
                    "a/../../b",
                    "\u{0}",
                    "plugin.py"
                ][..]
            )
            .prop_map(str::to_owned),
            "\\PC{0,12}",
        ]
    };
    let field = |value: BoxedStrategy<Value>| option::of(value);
    (
        field(text().prop_map(Value::String).boxed()),
        field(
            (
                field(text().prop_map(Value::String).boxed()),
                field(
                    select(&["python", "go", ""][..])
                        .prop_map(|r| json!(r))
                        .boxed(),
                ),
                field(
                    vec(
                        (
                            select(&["linux-amd64", "linux-arm64", "darwin-amd64", ""][..]),
                            text(),
                        ),
                        0..3,
                    )
                    .prop_map(|entries| {
                        json!(
                            entries
                                .into_iter()
                                .collect::<std::collections::BTreeMap<_, _>>()
                        )
                    })
                    .boxed(),
                ),
                suite_like_json(),
            )
                .prop_map(|(executable, runtime, executables, extra)| {
                    let mut server = serde_json::Map::new();
                    for (key, value) in [
                        ("executable", executable),
                        ("runtime", runtime),
                        ("executables", executables),
                    ] {
                        if let Some(value) = value {
                            server.insert(key.into(), value);
                        }
                    }
                    server.insert("extra".into(), extra);
                    Value::Object(server)
                })
                .boxed(),
        ),
        suite_like_json(),
    )
        .prop_map(|(id, server, extra)| {
            let mut manifest = serde_json::Map::new();
            if let Some(id) = id {
                manifest.insert("id".into(), id);
            }
            if let Some(server) = server {
                manifest.insert("server".into(), server);
            }
            manifest.insert("name".into(), extra);
            Value::Object(manifest)
        })
}

/// Writes `text` as the manifest `name` in a fresh directory and resolves
/// the directory, then the file, as `harness run DIR` and `harness run FILE` do.
fn resolve_manifest(name: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let _ = PluginTarget::resolve(dir.path());
    let _ = PluginTarget::resolve(&dir.path().join(name));
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn manifests_never_make_the_resolver_panic(
        manifest in manifest_json(),
        text in "\\PC{0,120}",
        yaml in any::<bool>(),
    ) {
        resolve_manifest("plugin.json", &manifest.to_string());
        resolve_manifest("plugin.json", &text);
        if yaml {
            resolve_manifest("plugin.yaml", &text);
            resolve_manifest("plugin.yml", &format!("id: {text}\nserver:\n  executable: {text}\n"));
        }
    }
}

// Suites built in memory, every kind of step and expectation, for the
// round trip through the writer and the loader.

const HOOKS: &[&str] = &[
    "MessageWillBePosted",
    "MessageWillBeUpdated",
    "FileWillBeUploaded",
    "UserWillLogIn",
    "ExecuteCommand",
    "OnActivate",
    "OnInstall",
    "MessageHasBeenPosted",
    "UserHasJoinedChannel",
    "ConfigurationWillBeSaved",
];
const CODES: &[Code] = &[
    Code::Ok,
    Code::Internal,
    Code::Unknown,
    Code::DeadlineExceeded,
    Code::InvalidArgument,
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        "\\PC{0,12}",
        Just("a\u{202e}b\u{200d}\u{0}".to_owned())
    ]
}

fn small_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        vec(("[a-z_]{1,8}", inner), 0..4)
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
    })
}

fn object() -> impl Strategy<Value = Value> {
    vec(("[a-z_]{1,8}", small_json()), 0..4)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()))
}

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..100_000_000_000).prop_map(Duration::from_nanos)
}

fn text_match() -> impl Strategy<Value = TextMatch> {
    prop_oneof![
        Just(TextMatch::Any),
        text().prop_map(TextMatch::Exact),
        text().prop_map(TextMatch::Contains),
        text().prop_map(|t| TextMatch::Regex(regex::Regex::new(&regex::escape(&t)).unwrap())),
    ]
}

fn outcome(hook: &str) -> BoxedStrategy<Option<OutcomeExpect>> {
    let kinds: Vec<&'static str> = Family::of(hook).outcomes().to_vec();
    option::of(
        select(kinds).prop_flat_map(|kind| -> BoxedStrategy<OutcomeExpect> {
            match kind {
                "allow" => Just(OutcomeExpect::Allow).boxed(),
                "dismiss" => Just(OutcomeExpect::Dismiss).boxed(),
                "succeed" => Just(OutcomeExpect::Succeed).boxed(),
                "reject" => text_match().prop_map(OutcomeExpect::Reject).boxed(),
                "modify" => object().prop_map(OutcomeExpect::Modify).boxed(),
                "respond" => object().prop_map(OutcomeExpect::Respond).boxed(),
                _ => object().prop_map(OutcomeExpect::Fail).boxed(),
            }
        }),
    )
    .boxed()
}

fn expect(hook: &'static str) -> impl Strategy<Value = HookExpect> {
    let has_error = wire::message_descriptor(&format!("{hook}Response"))
        .is_some_and(|response| response.get_field_by_name("error").is_some());
    let error = if has_error {
        prop_oneof![
            Just(ErrorExpect::Absent),
            Just(ErrorExpect::Any),
            object().prop_map(ErrorExpect::Matches),
        ]
        .boxed()
    } else {
        Just(ErrorExpect::Absent).boxed()
    };
    let call = (
        select(&["KVSet", "GetUser", "CreatePost", "LogInfo"][..]),
        option::of(object()),
        option::of(0usize..4),
    )
        .prop_map(|(method, request, count)| CallExpect {
            method: method.to_owned(),
            request,
            count,
        });
    (
        option::of(select(CODES)),
        error,
        option::of(object()),
        outcome(hook),
        vec(call, 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(status, error, response, outcome, api_calls, api_calls_in_order)| HookExpect {
                status,
                error,
                response,
                outcome,
                api_calls,
                api_calls_in_order,
            },
        )
}

fn hook_step() -> impl Strategy<Value = HookStep> {
    select(HOOKS).prop_flat_map(|hook| {
        let request = unary_request(hook, Profile::Realistic).unwrap();
        (
            request,
            expect(hook),
            option::of(duration()),
            option::of("[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,8}"),
        )
            .prop_map(move |(request, expect, deadline, snapshot)| {
                let input = wire::message_descriptor(&format!("{hook}Request")).unwrap();
                HookStep {
                    hook: hook.to_owned(),
                    request_json: write::message_json(&input, &request).unwrap(),
                    request,
                    expect,
                    deadline,
                    snapshot,
                }
            })
    })
}

fn action() -> impl Strategy<Value = Action> {
    let output = (
        option::of(prop_oneof![
            Just(harness::launch::Stream::Stdout),
            Just(harness::launch::Stream::Stderr)
        ]),
        vec(text().prop_map(TextMatch::Contains), 0..3),
        vec(
            text().prop_map(|t| TextMatch::Regex(regex::Regex::new(&regex::escape(&t)).unwrap())),
            0..3,
        ),
    )
        .prop_map(|(stream, contains, absent)| OutputExpect {
            stream,
            contains,
            absent,
        });
    prop_oneof![
        4 => hook_step().prop_map(|step| Action::Hook(Box::new(step))),
        1 => Just(Action::Handshake),
        1 => Just(Action::Health),
        1 => vec(select(HOOKS).prop_map(str::to_owned), 0..3).prop_map(|includes| Action::Implemented { includes }),
        1 => option::of(duration()).prop_map(|grace| Action::Shutdown { grace }),
        1 => output.prop_map(Action::Output),
        2 => http_step().prop_map(|step| Action::Http(Box::new(step))),
    ]
}

/// HTTP steps as the loader makes them: methods upper case, paths from
/// `/`, one header entry per name.
fn http_step() -> impl Strategy<Value = HttpStep> {
    let headers = vec(("X-[A-Z][a-z]{0,6}", vec(text(), 1..3)), 0..3).prop_map(|headers| {
        let merged: std::collections::BTreeMap<String, Vec<String>> = headers.into_iter().collect();
        merged.into_iter().collect::<Vec<_>>()
    });
    let body = prop_oneof![
        Just(HttpBody::Empty),
        text().prop_map(|t| HttpBody::Bytes(t.into_bytes().into())),
        vec(any::<u8>(), 1..16).prop_map(|b| HttpBody::Bytes(b.into())),
        (0u64..1 << 20).prop_map(HttpBody::Generated),
    ];
    let expect = (
        option::of(prop_oneof![
            (100u16..1000).prop_map(StatusExpect::Exact),
            (1u16..10).prop_map(StatusExpect::Class)
        ]),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(text()),
        option::of(object()),
        option::of(any::<u64>()),
        option::of("[0-9a-f]{64}"),
        option::of(0usize..9),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(
                status,
                answered,
                early,
                body,
                body_json,
                body_size,
                body_sha256,
                messages,
                request_complete,
            )| HttpExpect {
                status,
                answered,
                request_complete,
                body_contains: body.clone(),
                body,
                body_json,
                body_size,
                body_sha256,
                messages,
                flushes: messages,
                early,
                ..HttpExpect::default()
            },
        );
    (
        select(&["GET", "POST", "PUT", "PROPFIND"][..]),
        "/[a-z%0-9/]{0,12}",
        option::of("[a-z]=[0-9%]{1,4}"),
        headers,
        body,
        option::of(0u64..100),
        option::of(duration()),
        expect,
    )
        .prop_map(
            |(method, path, query, headers, body, cancel_after, deadline, expect)| HttpStep {
                method: method.to_owned(),
                url: match query {
                    Some(query) => format!("{path}?{query}"),
                    None => path,
                },
                headers,
                body,
                cancel_after,
                deadline,
                expect,
            },
        )
}

fn stub() -> impl Strategy<Value = Stub> {
    let method = select(&["KVGet", "GetUser", "CreatePost"][..]).prop_map(str::to_owned);
    (
        method,
        option::of(object()),
        0usize..4,
        option::of(duration()),
        option::of(1usize..5),
        text(),
        text(),
    )
        .prop_map(|(method, request, answer, delay, times, id, message)| {
            let answer = match answer {
                0 => StubAnswer::Respond(Bytes::new()),
                1 => {
                    let mut error =
                        ApiError::new(404, &method, &format!("app.{}", id.len()), message);
                    error.detailed_error = id;
                    StubAnswer::AppError(error)
                }
                2 => StubAnswer::Status(Code::Unavailable, message),
                _ => StubAnswer::World,
            };
            // A stub that only passes the call on must at least delay it.
            let delay = match answer {
                StubAnswer::World => Some(delay.unwrap_or(Duration::from_millis(5))),
                _ => delay,
            };
            Stub {
                method,
                request,
                answer,
                delay,
                times,
            }
        })
}

fn suite_model() -> impl Strategy<Value = Suite> {
    let origin = Origin::File("/suites/s.json".into());
    let location = Location {
        origin: origin.clone(),
        line: 1,
        column: 1,
    };
    let step_location = location.clone();
    let case = (
        text(),
        vec(action(), 0..5),
        vec(stub(), 0..2),
        any::<bool>(),
    )
        .prop_map(move |(name, actions, stubs, continue_on_failure)| Case {
            name,
            continue_on_failure,
            steps: actions
                .into_iter()
                .map(|action| Step {
                    action,
                    location: step_location.clone(),
                })
                .collect(),
            stubs,
            location: location.clone(),
        });
    let redaction = (
        select(
            &[
                "..create_at",
                ".response.post.id",
                ".api_calls[].response.post.create_at",
                ".a.b[2]",
            ][..],
        ),
        text(),
    )
        .prop_map(|(selector, replacement)| Redaction {
            selector: suite::Selector::parse(selector).expect("a valid selector"),
            replacement,
        });
    (
        "[a-z][a-z0-9 é-]{0,10}",
        text(),
        option::of(select(&["/suites/worlds/w.json", "/elsewhere/w.json"][..])),
        any::<bool>(),
        vec(redaction, 0..3),
        vec(stub(), 0..3),
        vec(case, 0..4),
        option::of(select(
            &[suite::PluginErrors::Warn, suite::PluginErrors::Fail][..],
        )),
    )
        .prop_map(
            move |(name, description, world, manual, redactions, stubs, cases, plugin_errors)| {
                Suite {
                    plugin_errors,
                    name,
                    description,
                    origin: origin.clone(),
                    world: world.map(Into::into),
                    activation: if manual {
                        Activation::Manual
                    } else {
                        Activation::Auto
                    },
                    redactions,
                    stubs,
                    cases: cases
                        .into_iter()
                        .enumerate()
                        .map(|(index, case)| Case {
                            // Case names are unique and never hold `/`.
                            name: format!("c{index}-{}", case.name.replace('/', "|")),
                            ..case
                        })
                        .collect(),
                }
            },
        )
}

fn hook_steps(suite: &Suite) -> Vec<&HookStep> {
    suite
        .cases
        .iter()
        .flat_map(|case| &case.steps)
        .filter_map(|step| match &step.action {
            Action::Hook(hook) => Some(hook.as_ref()),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn a_written_suite_reads_back_identical(suite in suite_model()) {
        let text = write::to_json(&suite);
        let parsed = suite::parse(suite.origin.clone(), &text)
            .unwrap_or_else(|err| panic!("a written suite must load: {err}\n{text}"));
        prop_assert_eq!(write::to_value(&parsed), write::to_value(&suite));
        prop_assert_eq!(write::to_json(&parsed), text);
        prop_assert_eq!(parsed.world.as_deref(), suite.world.as_deref().map(Path::new));
        let (before, after) = (hook_steps(&suite), hook_steps(&parsed));
        prop_assert_eq!(before.len(), after.len());
        for (before, after) in before.into_iter().zip(after) {
            let input = wire::message_descriptor(&format!("{}Request", before.hook)).unwrap();
            let decode = |bytes: &Bytes| {
                prost_reflect::DynamicMessage::decode(input.clone(), bytes.as_ref()).unwrap()
            };
            prop_assert_eq!(decode(&before.request), decode(&after.request));
            prop_assert_eq!(before.deadline, after.deadline);
            prop_assert_eq!(&before.snapshot, &after.snapshot);
        }
    }
}
