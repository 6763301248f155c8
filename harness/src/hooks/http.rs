//! ServeHTTP, the one bidirectional-streaming hook, driven the way upstream's
//! `hooksGRPCClient.ServeHTTP` drives it:
//!
//! - the request goes out as `ServeHTTPRequest` messages: `init` with the
//!   first chunk, then the body in 64 KiB chunks, `body_complete` on the
//!   last one (an empty body is the single message `{init, body_complete}`);
//! - the response is read while the request is still being sent, so a
//!   plugin may answer early; the first message decides the status (no
//!   `init` or 0 → 200, outside 100–999 → the server answers 500 itself),
//!   later ones add body bytes and flush marks until `body_complete` or the
//!   end of the stream.
//!
//! [`ServeHttpClient::exchange`] collects the whole answer into an
//! [`HttpExchange`] that checks can assert on; [`ServeHttpClient::serve`]
//! hands the response to a [`ResponseSink`] as it arrives, which is how the
//! HTTP front door streams it on to a real client.

mod body;
mod call;
mod exchange;
mod request;
mod rules;
mod send;

use std::{future::Future, time::Duration};

use bytes::{Bytes, BytesMut};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

pub use body::{BodyStream, BoxError, CHUNK_SIZE, GeneratedBody, RequestBody};
pub use exchange::{Digest, Ending, GrpcOutcome, HttpExchange, RequestSide, ResponseSide, Timing};
pub use request::{Header, HttpRequest, new_id};
pub use rules::{ResponseHead, ServerAnswer, canonical_header_key, head_for};

/// How one exchange is bounded and what it keeps.
#[derive(Debug, Clone)]
pub struct ExchangeOptions {
    /// Limit on the whole exchange. Upstream has none (the call lives as
    /// long as the HTTP request), so `None` is faithful; tests set one.
    pub deadline: Option<Duration>,
    /// Cancel the call once at least this many request body bytes were
    /// sent, as a client disconnecting mid-upload does.
    pub cancel_after: Option<u64>,
    /// Keep the response body in [`HttpExchange::body`]; without it only
    /// its length and digest are kept.
    pub keep_body: bool,
    /// After `body_complete`, how long to keep reading to learn how the
    /// call ends. The server stops reading there; this only feeds the
    /// report (the gRPC status, messages the server ignores).
    pub trailer_wait: Duration,
    /// Cancelled from outside: the client went away, or the harness stops.
    pub cancel: Option<CancellationToken>,
}

impl Default for ExchangeOptions {
    fn default() -> Self {
        ExchangeOptions {
            deadline: None,
            cancel_after: None,
            keep_body: true,
            trailer_wait: Duration::from_secs(1),
            cancel: None,
        }
    }
}

impl ExchangeOptions {
    /// Defaults with a deadline: what tests want.
    pub fn with_deadline(deadline: Duration) -> Self {
        ExchangeOptions {
            deadline: Some(deadline),
            ..Default::default()
        }
    }
}

/// The HTTP client's side of the server: what the server writes, as it
/// writes it. An error means the client is gone, which cancels the call as
/// the end of the request's context does upstream.
pub trait ResponseSink: Send {
    /// The status line and headers, once, before any body.
    fn head(&mut self, head: &ResponseHead) -> impl Future<Output = Result<(), ClientGone>> + Send;
    /// Body bytes; `flush` asks for them to reach the client now.
    fn body(
        &mut self,
        chunk: Bytes,
        flush: bool,
    ) -> impl Future<Output = Result<(), ClientGone>> + Send;
}

/// The HTTP client went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientGone;

/// Calls ServeHTTP on one plugin connection.
#[derive(Debug, Clone)]
pub struct ServeHttpClient {
    channel: Channel,
}

impl ServeHttpClient {
    pub fn new(channel: Channel) -> ServeHttpClient {
        ServeHttpClient { channel }
    }

    /// Sends `request` and collects the answer.
    pub async fn exchange(&self, request: HttpRequest, options: &ExchangeOptions) -> HttpExchange {
        let mut collector = Collector {
            keep: options.keep_body,
            body: BytesMut::new(),
        };
        let mut exchange = call::run(&self.channel, request, options, &mut collector).await;
        if options.keep_body {
            exchange.body = Some(collector.body.freeze());
        }
        exchange
    }

    /// Sends `request` and hands the answer to `sink` as it arrives. The
    /// returned exchange has everything but the body bytes.
    pub async fn serve<S: ResponseSink>(
        &self,
        request: HttpRequest,
        options: &ExchangeOptions,
        sink: &mut S,
    ) -> HttpExchange {
        call::run(&self.channel, request, options, sink).await
    }
}

/// The sink behind [`ServeHttpClient::exchange`].
struct Collector {
    keep: bool,
    body: BytesMut,
}

impl ResponseSink for Collector {
    fn head(&mut self, _: &ResponseHead) -> impl Future<Output = Result<(), ClientGone>> + Send {
        std::future::ready(Ok(()))
    }

    fn body(
        &mut self,
        chunk: Bytes,
        _flush: bool,
    ) -> impl Future<Output = Result<(), ClientGone>> + Send {
        if self.keep {
            self.body.extend_from_slice(&chunk);
        }
        std::future::ready(Ok(()))
    }
}
