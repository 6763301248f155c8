//! What gets measured: which hooks, with which requests, through which
//! client; and which Plugin API methods. Requests are the suites' (the
//! built-in ones by default: realistic payloads, as the server sends them),
//! sent round robin when a hook has several.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::Duration;

use bytes::Bytes;
use tonic::transport::Channel;

use super::{
    floor::{self, RawRequest},
    load::Caller,
};
use crate::{
    hooks::{
        self,
        http::{Ending, ExchangeOptions, GeneratedBody, HttpRequest, RequestBody, ServeHttpClient},
    },
    launch::RunningPlugin,
    suite::Suite,
    wire,
};

/// Hooks measured when none are named: a typical post, its aftermath, a
/// slash command and HTTP requests, as far as the plugin implements them.
pub const DEFAULT_HOOKS: &[&str] = &[
    "MessageWillBePosted",
    "MessageHasBeenPosted",
    "ExecuteCommand",
    "ServeHTTP",
];

/// Upstream's Plugin API benchmarks (proto/PROTOCOL.md §6): measured when no API
/// method is named, as far as the harness models them.
pub const DEFAULT_API: &[&str] = &[
    "GetServerVersion",
    "GetUser",
    "CreatePost",
    "GetChannel",
    "KVSet",
    "KVGet",
    "HasPermissionTo",
    "IsEnterpriseReady",
];

/// Never called in a loop unless named: deactivating a plugin thousands of
/// times measures nothing the server does.
const LIFECYCLE: &[&str] = &["OnActivate", "OnDeactivate"];

/// Which hooks or API methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Default,
    All,
    /// These (none: `--hooks none`).
    Named(Vec<String>),
}

impl Selection {
    /// `default`, `all`, `none`, or a comma-separated list.
    pub fn parse(text: &str) -> Selection {
        match text.trim() {
            "default" => Selection::Default,
            "all" => Selection::All,
            "none" | "" => Selection::Named(Vec::new()),
            list => Selection::Named(
                list.split(',')
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .collect(),
            ),
        }
    }
}

/// Requests for one hook.
#[derive(Debug, Clone)]
pub struct Payloads {
    pub hook: String,
    /// The hook, with the kind of request when a hook has several
    /// (`ServeHTTP (1 MiB)`).
    pub name: String,
    pub requests: Requests,
    /// Where they came from and how big they are.
    pub description: String,
}

#[derive(Debug, Clone)]
pub enum Requests {
    /// Encoded requests of a unary hook, sent round robin.
    Unary(Vec<Bytes>),
    /// One HTTP request to ServeHTTP.
    Http(HttpPayload),
}

/// An HTTP request as the server hands it to ServeHTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpPayload {
    pub label: &'static str,
    pub method: &'static str,
    pub url: &'static str,
    pub body_len: u64,
}

/// ServeHTTP is measured with a small request and with a 1 MiB upload (16
/// request messages of 64 KiB).
pub const HTTP_PAYLOADS: [HttpPayload; 2] = [
    HttpPayload {
        label: "small",
        method: "GET",
        url: "/api/hello",
        body_len: 0,
    },
    HttpPayload {
        label: "1 MiB",
        method: "POST",
        url: "/api/upload",
        body_len: 1 << 20,
    },
];

/// ServeHTTP's payloads, one per kind of request.
pub fn http_payloads() -> Vec<Payloads> {
    HTTP_PAYLOADS
        .iter()
        .map(|payload| Payloads {
            hook: "ServeHTTP".to_owned(),
            name: format!("ServeHTTP ({})", payload.label),
            requests: Requests::Http(*payload),
            description: format!(
                "{} {} with a {} B body",
                payload.method, payload.url, payload.body_len
            ),
        })
        .collect()
}

/// Every hook's requests in `suites`, in order of first appearance.
pub fn payloads(suites: &[Suite]) -> Vec<Payloads> {
    let mut grouped: Vec<(String, Vec<Bytes>, Vec<String>)> = Vec::new();
    for suite in suites {
        for (hook, request) in crate::suite::hook_requests([suite]) {
            let origin = suite.origin.to_string();
            match grouped.iter_mut().find(|(name, ..)| *name == hook) {
                Some((_, requests, origins)) => {
                    requests.push(request);
                    if !origins.contains(&origin) {
                        origins.push(origin);
                    }
                }
                None => grouped.push((hook, vec![request], vec![origin])),
            }
        }
    }
    grouped
        .into_iter()
        .map(|(hook, requests, origins)| {
            let bytes: usize = requests.iter().map(Bytes::len).sum();
            let description = format!(
                "{} request{} from {}, {} B on average",
                requests.len(),
                if requests.len() == 1 { "" } else { "s" },
                origins.join(", "),
                bytes / requests.len().max(1)
            );
            Payloads {
                name: hook.clone(),
                hook,
                requests: Requests::Unary(requests),
                description,
            }
        })
        .collect()
}

/// The hooks to measure, with their requests: from `given` (suite files)
/// first, else from `builtin`. Notes say what was skipped and why.
pub fn select_hooks(
    selection: &Selection,
    implemented: &[String],
    given: &[Payloads],
    builtin: &[Payloads],
) -> Result<(Vec<Payloads>, Vec<String>), String> {
    let implements = |hook: &str| implemented.iter().any(|name| name == hook);
    let http = http_payloads();
    // A hook's payloads: the suites' first, else the built-in ones; for
    // ServeHTTP, its two kinds of request.
    let find = |hook: &str| -> Vec<Payloads> {
        if hook == "ServeHTTP" {
            return http.clone();
        }
        given
            .iter()
            .chain(builtin)
            .find(|payloads| payloads.hook == hook)
            .cloned()
            .into_iter()
            .collect()
    };
    let measurable = |hook: &str| implements(hook) && !LIFECYCLE.contains(&hook);
    let mut notes = Vec::new();
    let chosen: Vec<Payloads> = match selection {
        Selection::Named(names) => {
            let mut chosen = Vec::new();
            for name in names {
                if !hooks::is_known_hook(name) {
                    let hint = hooks::closest_hook(name)
                        .map(|close| format!("; did you mean {close}?"))
                        .unwrap_or_default();
                    return Err(format!("--hooks: {name} is not a hook{hint}"));
                }
                if !implements(name) {
                    return Err(format!(
                        "--hooks: the plugin does not implement {name} (the server would never call it); it implements {}",
                        implemented.join(", ")
                    ));
                }
                let payloads = find(name);
                if payloads.is_empty() {
                    return Err(format!("--hooks: no request for {name} in the suites"));
                }
                if !given.is_empty()
                    && name != "ServeHTTP"
                    && !given.iter().any(|p| p.hook == *name)
                {
                    notes.push(format!(
                        "{name}: the suites have no request for it; the built-in one is used"
                    ));
                }
                chosen.extend(payloads);
            }
            chosen
        }
        Selection::All => {
            let source = if given.is_empty() { builtin } else { given };
            let mut chosen: Vec<Payloads> = source
                .iter()
                .filter(|p| measurable(&p.hook))
                .cloned()
                .collect();
            if implements("ServeHTTP") {
                chosen.extend(http.clone());
            }
            chosen
        }
        Selection::Default if !given.is_empty() => {
            for payloads in given {
                if !implements(&payloads.hook) {
                    notes.push(format!(
                        "{}: in the suites but not implemented by the plugin; not measured",
                        payloads.hook
                    ));
                }
            }
            given
                .iter()
                .filter(|p| measurable(&p.hook))
                .cloned()
                .collect()
        }
        Selection::Default => {
            let typical: Vec<Payloads> = DEFAULT_HOOKS
                .iter()
                .filter(|hook| implements(hook))
                .flat_map(|hook| find(hook))
                .collect();
            if typical.is_empty() {
                // A plugin without the usual hooks: measure what it has.
                builtin
                    .iter()
                    .filter(|p| measurable(&p.hook))
                    .cloned()
                    .collect()
            } else {
                typical
            }
        }
    };
    Ok((chosen, notes))
}

/// The API methods to measure. Methods the harness does not model still
/// answer (UNIMPLEMENTED, quickly), so a named one is measured with a note.
pub fn select_api(
    selection: &Selection,
    modelled: &[&str],
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut notes = Vec::new();
    let chosen = match selection {
        Selection::Default => DEFAULT_API
            .iter()
            .filter(|rpc| modelled.contains(rpc))
            .map(|rpc| rpc.to_string())
            .collect(),
        Selection::All => modelled.iter().map(|rpc| rpc.to_string()).collect(),
        Selection::Named(names) => {
            for name in names {
                if !wire::is_api_method(name) {
                    let hint = wire::closest_api_method(name)
                        .map(|close| format!("; did you mean {close}?"))
                        .unwrap_or_default();
                    return Err(format!("--api: {name} is not a Plugin API method{hint}"));
                }
                if !modelled.contains(&name.as_str()) {
                    notes.push(format!(
                        "{name} is not modelled by the harness: it answers UNIMPLEMENTED, and those calls count as errors"
                    ));
                }
            }
            names.clone()
        }
    };
    Ok((chosen, notes))
}

/// The bytes a call of `payloads` puts on the wire as its request, for
/// the physical floor's ping-pong: the encoded requests' mean size (with
/// gRPC's 5-byte message prefix), or the HTTP body.
pub fn message_size(payloads: &Payloads) -> usize {
    const GRPC_PREFIX: usize = 5;
    let body = match &payloads.requests {
        Requests::Unary(requests) => {
            requests.iter().map(Bytes::len).sum::<usize>() / requests.len().max(1)
        }
        Requests::Http(http) => usize::try_from(http.body_len).unwrap_or(usize::MAX),
    };
    body.saturating_add(GRPC_PREFIX)
}

/// Calls `payloads.hook` through the harness's clients, as the server
/// does: the hook client for unary hooks, the ServeHTTP client for HTTP.
pub fn harness_caller(plugin: &RunningPlugin, payloads: &Payloads, deadline: Duration) -> Caller {
    match &payloads.requests {
        Requests::Unary(requests) => {
            let client = Arc::new(plugin.hooks.clone());
            let hook: Arc<str> = payloads.hook.as_str().into();
            let requests = round_robin(requests.clone());
            Arc::new(move || {
                let (client, hook, request) = (client.clone(), hook.clone(), requests());
                Box::pin(async move {
                    client
                        .call(&hook, request, deadline)
                        .await
                        .map(drop)
                        .map_err(|status| wire::status_text(&status))
                })
            })
        }
        Requests::Http(payload) => {
            let client = Arc::new(ServeHttpClient::new(plugin.channel.clone()));
            // The server stops reading at `body_complete`. Cutting the
            // stream off right there, though, now and then fails a call to
            // grpcio's asyncio server (seen as a 502 without a response), so
            // the call's trailers are awaited, briefly: a plugin that holds
            // its stream open past `body_complete` costs at most this.
            let options = Arc::new(ExchangeOptions {
                deadline: Some(deadline),
                keep_body: false,
                trailer_wait: Duration::from_millis(100),
                ..ExchangeOptions::default()
            });
            let payload = *payload;
            Arc::new(move || {
                let (client, options) = (client.clone(), options.clone());
                Box::pin(async move {
                    let exchange = client.exchange(http_request(payload), &options).await;
                    match exchange.ending {
                        Ending::BodyComplete | Ending::StreamEnded => Ok(()),
                        ending => Err(format!(
                            "ServeHTTP ended {ending:?} (HTTP status {:?}){}",
                            exchange.status,
                            exchange
                                .error_after_headers
                                .map(|error| format!(": {error}"))
                                .unwrap_or_default()
                        )),
                    }
                })
            })
        }
    }
}

fn http_request(payload: HttpPayload) -> HttpRequest {
    let request = HttpRequest::new(payload.method, payload.url);
    if payload.body_len == 0 {
        return request;
    }
    request
        .header("Content-Type", "application/octet-stream")
        .with_body(RequestBody::Generated(GeneratedBody::new(payload.body_len)))
}

/// Calls `payloads.hook` through the bare generated client.
pub fn raw_caller(
    channel: Channel,
    payloads: &Payloads,
    bound: Duration,
) -> Result<Caller, String> {
    let client = floor::raw_client(channel);
    let requests = match &payloads.requests {
        Requests::Unary(requests) => requests
            .iter()
            .map(|bytes| match RawRequest::decode(&payloads.hook, bytes) {
                Some(Ok(request)) => Ok(RawCall::Unary(request)),
                Some(Err(err)) => Err(format!(
                    "{}: a request does not decode: {err}",
                    payloads.hook
                )),
                None => Err(format!("{} has no unary client method", payloads.hook)),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Requests::Http(payload) => vec![RawCall::Http(floor::http_messages(
            payload.method,
            payload.url,
            payload.body_len,
        ))],
    };
    let requests = round_robin(requests);
    Ok(Arc::new(move || {
        let (mut client, request) = (client.clone(), requests());
        Box::pin(async move {
            let answer = match request {
                RawCall::Unary(request) => floor::bounded(request.send(&mut client), bound).await,
                RawCall::Http(messages) => {
                    floor::bounded(floor::serve_http(messages, &mut client), bound).await
                }
            };
            // Timed bare, but named as the server's grpc-go client names it.
            answer.map_err(|status| wire::status_text(&hooks::as_grpc_go_reports(status, bound)))
        })
    }))
}

/// What the bare client sends: a typed request, or ServeHTTP's messages.
#[derive(Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "cloned for every call of the floor, where a box would add an allocation to what is measured"
)]
enum RawCall {
    Unary(RawRequest),
    Http(Vec<mm_plugin_proto::pb::ServeHttpRequest>),
}

/// The next item each time, cycling; clones are cheap (`Bytes`) or are the
/// price every typed client pays (messages are sent by value).
fn round_robin<T: Clone + Send + Sync + 'static>(items: Vec<T>) -> impl Fn() -> T + Send + Sync {
    let next = AtomicUsize::new(0);
    move || items[next.fetch_add(1, Ordering::Relaxed) % items.len()].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Vec<Payloads> {
        payloads(&crate::suite::builtin())
    }

    fn names(chosen: &[Payloads]) -> Vec<&str> {
        chosen.iter().map(|p| p.name.as_str()).collect()
    }

    fn implemented(hooks: &[&str]) -> Vec<String> {
        hooks.iter().map(|hook| hook.to_string()).collect()
    }

    #[test]
    fn built_in_payloads_cover_the_unary_hooks() {
        let builtin = builtin();
        assert!(builtin.len() >= 40, "{}", builtin.len());
        let joined = builtin
            .iter()
            .find(|p| p.hook == "UserHasJoinedChannel")
            .unwrap();
        assert!(matches!(&joined.requests, Requests::Unary(r) if r.len() == 2));
        assert!(
            joined
                .description
                .starts_with("2 requests from <built-in>/"),
            "{}",
            joined.description
        );
    }

    #[test]
    fn defaults_are_the_typical_hooks_the_plugin_has() {
        let hello = implemented(&[
            "ExecuteCommand",
            "MessageWillBePosted",
            "OnActivate",
            "ServeHTTP",
        ]);
        let (chosen, _) = select_hooks(&Selection::Default, &hello, &[], &builtin()).unwrap();
        assert_eq!(
            names(&chosen),
            [
                "MessageWillBePosted",
                "ExecuteCommand",
                "ServeHTTP (small)",
                "ServeHTTP (1 MiB)"
            ]
        );
        let odd = implemented(&["OnActivate", "UserHasLeftTeam"]);
        let (chosen, _) = select_hooks(&Selection::Default, &odd, &[], &builtin()).unwrap();
        assert_eq!(names(&chosen), ["UserHasLeftTeam"]);
        let (chosen, _) = select_hooks(&Selection::All, &odd, &[], &builtin()).unwrap();
        assert_eq!(names(&chosen), ["UserHasLeftTeam"]);
    }

    #[test]
    fn named_hooks_must_exist_and_be_implemented() {
        let hello = implemented(&["ExecuteCommand", "MessageWillBePosted"]);
        let err = select_hooks(
            &Selection::parse("MessageWillBePostd"),
            &hello,
            &[],
            &builtin(),
        )
        .unwrap_err();
        assert!(err.contains("did you mean MessageWillBePosted?"), "{err}");
        let err = select_hooks(
            &Selection::parse("UserHasLeftTeam"),
            &hello,
            &[],
            &builtin(),
        )
        .unwrap_err();
        assert!(err.contains("does not implement UserHasLeftTeam"), "{err}");
        let (chosen, _) = select_hooks(&Selection::parse("none"), &hello, &[], &builtin()).unwrap();
        assert!(chosen.is_empty());
    }

    #[test]
    fn suite_requests_come_first_and_fall_back_to_built_in_ones() {
        let suite = crate::suite::parse(
            crate::suite::Origin::File("mine.json".into()),
            r#"{"name": "mine", "cases": [{"name": "a", "steps": [
                {"hook": "MessageWillBePosted", "request": {"post": {"message": "one"}}},
                {"hook": "MessageWillBePosted", "request": {"post": {"message": "two"}}},
                {"hook": "UserHasLeftTeam", "request": {}}]}]}"#,
        )
        .unwrap();
        let given = payloads(&[suite]);
        let hooks = implemented(&["ExecuteCommand", "MessageWillBePosted"]);
        let (chosen, notes) =
            select_hooks(&Selection::Default, &hooks, &given, &builtin()).unwrap();
        assert_eq!(names(&chosen), ["MessageWillBePosted"]);
        assert!(matches!(&chosen[0].requests, Requests::Unary(r) if r.len() == 2));
        assert!(notes[0].contains("UserHasLeftTeam"), "{notes:?}");
        let (chosen, notes) = select_hooks(
            &Selection::parse("ExecuteCommand"),
            &hooks,
            &given,
            &builtin(),
        )
        .unwrap();
        assert!(
            chosen[0].description.contains("<built-in>"),
            "{}",
            chosen[0].description
        );
        assert!(notes[0].contains("built-in one is used"), "{notes:?}");
    }

    #[test]
    fn api_selection_defaults_to_upstreams_benchmarks_that_are_modelled() {
        let modelled = ["GetServerVersion", "GetUser", "KVGet", "LogInfo"];
        let (chosen, _) = select_api(&Selection::Default, &modelled).unwrap();
        assert_eq!(chosen, ["GetServerVersion", "GetUser", "KVGet"]);
        let err = select_api(&Selection::parse("GetUsr"), &modelled).unwrap_err();
        assert!(err.contains("did you mean GetUser?"), "{err}");
        let (chosen, notes) = select_api(&Selection::parse("GetTeam"), &modelled).unwrap();
        assert_eq!((chosen.len(), notes.len()), (1, 1));
    }

    #[test]
    fn round_robin_cycles() {
        let next = round_robin(vec![1, 2, 3]);
        let taken: Vec<i32> = (0..5).map(|_| next()).collect();
        assert_eq!(taken, [1, 2, 3, 1, 2]);
    }
}
