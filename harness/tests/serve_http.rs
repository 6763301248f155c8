//! ServeHTTP as the server drives it, against the rust-reference plugin's
//! echo: chunking at the 64 KiB boundaries, early answers, cancellation,
//! the server's rule for invalid statuses, and headers both ways.

mod common;

use std::time::Duration;

use bytes::Bytes;
use harness::{
    hooks::http::{
        CHUNK_SIZE, Ending, ExchangeOptions, GeneratedBody, HttpExchange, HttpRequest,
        ServeHttpClient,
    },
    launch::LaunchOptions,
    session::Session,
};

/// What the echo puts in one response message at most.
const ECHO_CHUNK: usize = 16 * 1024;
const MIB: usize = 1024 * 1024;

async fn start(args: &[&str]) -> (Session, ServeHttpClient) {
    let options = LaunchOptions {
        extra_args: args.iter().map(Into::into).collect(),
        ..Default::default()
    };
    let session = Session::start(&common::rust_reference_target(), None, &options)
        .await
        .unwrap_or_else(|err| panic!("rust-reference did not start: {err}"));
    assert!(session.plugin.implements("ServeHTTP"));
    let client = ServeHttpClient::new(session.plugin.channel.clone());
    (session, client)
}

fn options() -> ExchangeOptions {
    ExchangeOptions::with_deadline(Duration::from_secs(30))
}

fn header_number(exchange: &HttpExchange, name: &str) -> usize {
    exchange
        .header_value(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", exchange.headers))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_at_the_chunk_boundaries_come_back_whole() {
    let (session, client) = start(&[]).await;
    for size in [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 5 * MIB] {
        let body = GeneratedBody::new(size as u64).slice(0, size);
        let request = HttpRequest::post("/echo", body.clone());
        let exchange = client.exchange(request, &options()).await;
        let context = format!("{size}-byte body: {exchange:?}");

        assert_eq!(exchange.ending, Ending::BodyComplete, "{context}");
        assert_eq!(exchange.status, Some(200), "{context}");
        assert!(
            exchange.grpc_status.as_ref().is_some_and(|s| s.is_ok()),
            "{context}"
        );
        assert!(!exchange.early_response, "{context}");

        let request_messages = size.div_ceil(CHUNK_SIZE).max(1);
        assert_eq!(exchange.request.messages, request_messages, "{context}");
        assert_eq!(exchange.request.body_bytes, size as u64);
        assert!(exchange.request.body_complete_sent);
        assert_eq!(exchange.request.content_length, size as i64);
        assert_eq!(
            header_number(&exchange, "X-Echo-Request-Messages"),
            request_messages
        );
        assert_eq!(header_number(&exchange, "X-Echo-Content-Length"), size);

        let response_messages = size.div_ceil(ECHO_CHUNK).max(1);
        assert_eq!(exchange.response.messages, response_messages, "{context}");
        assert!(
            exchange
                .response
                .chunk_sizes
                .iter()
                .all(|&n| n <= ECHO_CHUNK)
        );
        let flushed = if size == 0 { 0 } else { response_messages };
        assert_eq!(exchange.response.flushes.len(), flushed);
        assert!(exchange.response.body_complete);

        assert_eq!(exchange.body_len, size as u64);
        assert!(
            exchange.body.as_ref() == Some(&body),
            "the echo of {size} bytes differs"
        );
        if size == 5 * MIB {
            eprintln!(
                "5 MiB echo through ServeHTTP: {:?} ({} request and {} response messages)",
                exchange.timing.total, exchange.request.messages, exchange.response.messages
            );
        }
    }
    session.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_body_is_checked_without_being_kept() {
    let (session, client) = start(&[]).await;
    let generated = GeneratedBody::new(5 * MIB as u64 + 7);
    let digest_only = ExchangeOptions {
        keep_body: false,
        ..options()
    };
    let exchange = client
        .exchange(HttpRequest::post("/echo", generated), &digest_only)
        .await;
    assert_eq!(exchange.ending, Ending::BodyComplete, "{exchange:?}");
    assert_eq!(exchange.body, None);
    assert_eq!(exchange.body_len, generated.len);
    assert_eq!(exchange.body_digest, generated.digest());
    session.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_answer_arrives_before_the_body_is_sent() {
    let (session, client) = start(&[]).await;
    let body = GeneratedBody::new(4 * MIB as u64).slice(0, 4 * MIB);
    let exchange = client
        .exchange(HttpRequest::post("/echo?early=1", body.clone()), &options())
        .await;
    assert_eq!(exchange.ending, Ending::BodyComplete, "{exchange:?}");
    assert!(exchange.early_response, "{exchange:?}");
    let (first, sent) = (exchange.timing.first_response, exchange.timing.request_sent);
    assert!(first.unwrap() < sent.unwrap(), "{first:?} vs {sent:?}");
    // The answer started before the plugin could count the request messages.
    assert_eq!(exchange.header("X-Echo-Request-Messages"), None);
    assert!(
        exchange.body.as_ref() == Some(&body),
        "the early echo differs"
    );
    eprintln!("early echo of 4 MiB: first response after {first:?}, request sent after {sent:?}");
    session.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_mid_body_leaves_the_plugin_serving() {
    let (mut session, client) = start(&[]).await;
    // Before the plugin's headers (it reads everything first), and after
    // them (the early echo has answered already).
    for url in ["/echo", "/echo?early=1"] {
        // No deadline: the plugin never completes a body it has not fully
        // read, so only the cancellation can end this exchange (the
        // timeout around it only stops a hang).
        let cancelling = ExchangeOptions {
            cancel_after: Some(128 * 1024),
            deadline: None,
            ..options()
        };
        let body = GeneratedBody::new(MIB as u64);
        let exchange = tokio::time::timeout(
            Duration::from_secs(60),
            client.exchange(HttpRequest::post(url, body), &cancelling),
        )
        .await
        .unwrap_or_else(|_| panic!("hang stopped: {url}: the cancelled exchange never ended"));
        assert_eq!(exchange.ending, Ending::Cancelled, "{url}: {exchange:?}");
        assert!(!exchange.request.body_complete_sent);
        // The transport may or may not have taken the last chunk sent.
        assert!(exchange.request.body_bytes >= CHUNK_SIZE as u64);
        assert!(exchange.request.body_bytes < MIB as u64);
        let why = exchange.request.send_error.as_deref().unwrap_or_default();
        assert!(why.contains("after sending 131072 body bytes"), "{why}");
        // It ended at the cancellation, without waiting to learn how the
        // call ends.
        assert_eq!(exchange.grpc_status, None, "{url}: {exchange:?}");

        let after = client
            .exchange(HttpRequest::post("/echo", "still here"), &options())
            .await;
        assert_eq!(after.status, Some(200), "{url}: {after:?}");
        assert_eq!(after.body.as_deref(), Some(&b"still here"[..]));
    }
    assert!(
        session.plugin.process.try_exit().is_none(),
        "the plugin died"
    );
    session.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_status_makes_the_server_answer_500() {
    let (session, client) = start(&["--fault", "http-bad-status"]).await;
    let exchange = client
        .exchange(HttpRequest::post("/anything", "x"), &options())
        .await;
    assert_eq!(exchange.ending, Ending::InvalidStatus, "{exchange:?}");
    assert_eq!(exchange.plugin_status, Some(1000));
    assert_eq!(exchange.status, Some(500));
    let answer = exchange.server_answer.as_ref().unwrap();
    assert_eq!(answer.status, 500);
    assert!(answer.reason.contains("1000"), "{}", answer.reason);
    assert_eq!(
        exchange.body.as_deref(),
        Some(&b"Internal Server Error\n"[..])
    );
    assert_eq!(
        exchange.header_value("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    session.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_round_trip_with_repeated_values() {
    let (session, client) = start(&[]).await;
    let mut request = HttpRequest::get("/echo?x=1")
        .header("X-Multi", "a")
        .header("X-Multi", "b")
        .header("X-Single", "one")
        .header("Accept-Language", "fr");
    // A second entry under another spelling: the plugin echoes both, the
    // server merges them under the canonical name.
    request = request.header("x-multi", "c");
    let exchange = client.exchange(request, &options()).await;
    assert_eq!(exchange.status, Some(200), "{exchange:?}");
    assert_eq!(
        exchange.header("X-Echo-Header-X-Multi").unwrap(),
        ["a", "b", "c"]
    );
    assert_eq!(exchange.header("X-Echo-Header-X-Single").unwrap(), ["one"]);
    assert_eq!(exchange.header_value("X-Echo-Method"), Some("GET"));
    assert_eq!(exchange.header_value("X-Echo-Url"), Some("/echo?x=1"));
    assert_eq!(exchange.header_value("X-Echo-Content-Length"), Some("0"));
    assert_eq!(
        exchange.header_value("X-Echo-Context-Accept-Language"),
        Some("fr")
    );
    assert_eq!(
        exchange
            .header_value("X-Echo-Context-Request-Id")
            .map(str::len),
        Some(26)
    );
    session.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_paths_get_the_plugins_404_and_the_exchange_serialises() {
    let (session, client) = start(&[]).await;
    let exchange = client.exchange(HttpRequest::get("/nope"), &options()).await;
    assert_eq!(exchange.status, Some(404));
    assert_eq!(
        exchange.body,
        Some(Bytes::from_static(b"404 page not found\n"))
    );
    let json = serde_json::to_value(&exchange).unwrap();
    assert_eq!(json["ending"], "body_complete");
    assert_eq!(json["status"], 404);
    assert_eq!(json["body"], "404 page not found\n");
    assert_eq!(json["grpc_status"]["code"], "OK");
    assert_eq!(json["response"]["messages"], 1);
    assert_eq!(json["request"]["messages"], 1);
    session.stop(Duration::from_secs(5)).await;
}
