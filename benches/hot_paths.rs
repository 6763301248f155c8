//! The harness's own hot paths, with criterion: a hook call through the
//! harness's client against the same call through the bare generated tonic
//! client (against an in-process server that answers every hook with its
//! default response, as the reference plugin does), building a request
//! from suite JSON, and recording into a latency histogram.
//!
//! `cargo bench -p mm-plugin-harness` runs them; `cargo test --benches`
//! runs each once, as a smoke test.

use std::{convert::Infallible, hint::black_box, net::Ipv4Addr, time::Duration};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{
    hooks::HookClient,
    latency::{Latencies, floor::raw_client},
    wire::{RawCodec, encode_from_json, message_descriptor},
};
use mm_plugin_proto::pb;
use prost::Message;
use tonic::{Status, body::Body, server::NamedService, transport::Endpoint};

/// Answers every `PluginHooks` method with an empty message: each
/// response's default, like the reference plugin's trivial hooks.
#[derive(Clone)]
struct DefaultHooks;

impl NamedService for DefaultHooks {
    const NAME: &'static str = mm_plugin_proto::HOOKS_SERVICE;
}

impl tower::Service<http::Request<Body>> for DefaultHooks {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            Ok(tonic::server::Grpc::new(RawCodec)
                .unary(Empty, request)
                .await)
        })
    }
}

struct Empty;

impl tonic::server::UnaryService<Bytes> for Empty {
    type Response = Bytes;
    type Future = std::future::Ready<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, _: tonic::Request<Bytes>) -> Self::Future {
        std::future::ready(Ok(tonic::Response::new(Bytes::new())))
    }
}

/// The built-in suite's MessageWillBePosted request, as suite JSON text.
fn typical_post_json() -> String {
    let suite: serde_json::Value =
        serde_json::from_str(include_str!("../suites/messages.json")).unwrap();
    let request = &suite["cases"][0]["steps"][0]["request"];
    assert_eq!(suite["cases"][0]["steps"][0]["hook"], "MessageWillBePosted");
    request.to_string()
}

fn hook_calls(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let channel = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(DefaultHooks)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .tcp_nodelay(true)
            .connect()
            .await
            .unwrap()
    });
    let descriptor = message_descriptor("MessageWillBePostedRequest").unwrap();
    let bytes = encode_from_json(&descriptor, &typical_post_json()).unwrap();
    let typed = pb::MessageWillBePostedRequest::decode(bytes.clone()).unwrap();
    let harness_client = HookClient::new(channel.clone());
    let raw = raw_client(channel);

    let mut group = c.benchmark_group("hook call MessageWillBePosted");
    group.bench_function("harness client", |b| {
        b.iter(|| {
            runtime
                .block_on(harness_client.call(
                    "MessageWillBePosted",
                    bytes.clone(),
                    Duration::from_secs(30),
                ))
                .unwrap()
        })
    });
    group.bench_function("raw tonic client", |b| {
        b.iter(|| {
            let mut client = raw.clone();
            runtime
                .block_on(client.message_will_be_posted(typed.clone()))
                .unwrap()
        })
    });
    group.finish();
}

fn request_construction(c: &mut Criterion) {
    let descriptor = message_descriptor("MessageWillBePostedRequest").unwrap();
    let text = typical_post_json();
    c.bench_function("encode_from_json MessageWillBePosted", |b| {
        b.iter(|| encode_from_json(&descriptor, black_box(&text)).unwrap())
    });
}

fn histograms(c: &mut Criterion) {
    let mut latencies = Latencies::new();
    let mut next = 20_000u64;
    c.bench_function("histogram record", |b| {
        b.iter(|| {
            // Spread over a few buckets, as real latencies are.
            next = next.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 1_000_000 + 1_000;
            latencies.record(Duration::from_nanos(black_box(next)));
        })
    });
    c.bench_function("histogram summary", |b| {
        b.iter(|| black_box(&latencies).summary())
    });
    c.bench_function("histogram encode", |b| {
        b.iter(|| black_box(&latencies).encode())
    });
}

fn quick() -> Criterion {
    // Seconds per benchmark, not minutes: these are for spotting a change
    // of magnitude, and a 2-core machine has other work to do.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = hot_paths;
    config = quick();
    targets = hook_calls, request_construction, histograms
}
criterion_main!(hot_paths);
