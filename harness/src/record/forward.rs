//! The two proxies: the Plugin API the recorded plugin calls, forwarded to
//! the server's, and the hooks the server calls, forwarded to the plugin.
//! Every unary call goes through as raw bytes ([`RawCodec`]), so a message
//! reaches the other side exactly as it was sent; ServeHTTP goes message by
//! message, keeping chunks, flushes, answers before the end of the upload
//! and a server that cancels.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use ::http::uri::PathAndQuery;
use bytes::Bytes;
use mm_plugin_proto::{API_SERVICE, HOOKS_SERVICE, pb};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tokio_util::sync::CancellationToken;
use tonic::{Status, body::Body, server::NamedService, transport::Channel};

use super::log::{Answer, ApiExchange, HookExchange, HttpRecord, Interaction, Log};
use crate::{hooks::HookClient, wire::RawCodec};

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// A raw unary call to `path` on `channel`, with the deadline passed on.
async fn raw_unary(
    channel: Channel,
    path: &str,
    request: Bytes,
    deadline: Option<Duration>,
) -> Result<Bytes, Status> {
    let path = PathAndQuery::try_from(path.to_owned())
        .map_err(|_| Status::unimplemented(format!("{path:?} is not a method path")))?;
    let mut grpc = tonic::client::Grpc::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    grpc.ready()
        .await
        .map_err(|err| Status::unavailable(format!("cannot reach the other side: {err}")))?;
    let mut request = tonic::Request::new(request);
    if let Some(deadline) = deadline {
        request.set_timeout(deadline);
    }
    grpc.unary(request, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

fn as_answer(result: &Result<Bytes, Status>) -> Answer {
    match result {
        Ok(bytes) => Ok(bytes.clone()),
        Err(status) => Err((status.code(), status.message().to_owned())),
    }
}

/// The `grpc-timeout` a caller sent (`10S`, `30000m`, ...).
fn grpc_timeout(headers: &::http::HeaderMap) -> Option<Duration> {
    let text = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// A unary handler over raw bytes, as tonic's server wants one.
struct Unary<F>(Option<F>);

impl<F, Fut> tonic::server::UnaryService<Bytes> for Unary<F>
where
    F: FnOnce(Bytes) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Bytes, Status>> + Send + 'static,
{
    type Response = Bytes;
    type Future = BoxFuture<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let handler = self.0.take();
        Box::pin(async move {
            let handler = handler.ok_or_else(|| Status::internal("handler called twice"))?;
            handler(request.into_inner())
                .await
                .map(tonic::Response::new)
        })
    }
}

async fn serve_unary<F, Fut>(request: ::http::Request<Body>, handler: F) -> ::http::Response<Body>
where
    F: FnOnce(Bytes) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Bytes, Status>> + Send + 'static,
{
    // The server and the plugin set their own limits; the proxy adds none.
    let mut grpc = tonic::server::Grpc::new(RawCodec)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    grpc.unary(Unary(Some(handler)), request).await
}

fn method_of(request: &::http::Request<Body>) -> String {
    request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

macro_rules! tower_service {
    ($name:ident, $service:expr, $handle:ident) => {
        impl NamedService for $name {
            const NAME: &'static str = $service;
        }

        impl tower::Service<::http::Request<Body>> for $name {
            type Response = ::http::Response<Body>;
            type Error = Infallible;
            type Future = BoxFuture<Result<Self::Response, Infallible>>;

            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: ::http::Request<Body>) -> Self::Future {
                let this = self.clone();
                Box::pin(async move { Ok(this.$handle(request).await) })
            }
        }
    };
}

/// The Plugin API the recorded plugin talks to.
#[derive(Debug, Clone)]
pub struct ApiProxy {
    pub server: Channel,
    pub log: Log,
}

tower_service!(ApiProxy, API_SERVICE, handle);

impl ApiProxy {
    async fn handle(self, request: ::http::Request<Body>) -> ::http::Response<Body> {
        let method = method_of(&request);
        let deadline = grpc_timeout(request.headers());
        serve_unary(request, move |body| async move {
            {
                let path = format!("/{API_SERVICE}/{method}");
                let answer = raw_unary(self.server, &path, body.clone(), deadline).await;
                self.log.api_call(ApiExchange {
                    method,
                    request: body,
                    answer: as_answer(&answer),
                });
                answer
            }
        })
        .await
    }
}

/// What the hook proxy tells the recorder about the server's calls.
#[derive(Debug, Clone)]
pub struct Signals {
    /// `OnDeactivate` answered: the server is about to stop the plugin.
    pub deactivated: CancellationToken,
    /// go-plugin's controller asked for a shutdown.
    pub shutdown: CancellationToken,
}

/// The hooks the server calls.
#[derive(Debug, Clone)]
pub struct HookProxy {
    pub plugin: Channel,
    pub log: Log,
    pub signals: Signals,
}

tower_service!(HookProxy, HOOKS_SERVICE, handle);

impl HookProxy {
    async fn handle(self, request: ::http::Request<Body>) -> ::http::Response<Body> {
        let hook = method_of(&request);
        if hook == "ServeHTTP" {
            return self.serve_http(request).await;
        }
        let deadline = grpc_timeout(request.headers()).unwrap_or(crate::hooks::DEFAULT_DEADLINE);
        serve_unary(request, move |body| async move {
            {
                // Implemented() is the start sequence, not an interaction.
                let recorded = (hook != "Implemented").then(|| {
                    self.log.start(Interaction::Hook(HookExchange {
                        hook: hook.clone(),
                        request: body.clone(),
                        answer: None,
                    }))
                });
                let answer = HookClient::new(self.plugin.clone())
                    .call(&hook, body, deadline)
                    .await;
                if let Some(slot) = recorded {
                    self.log.update(slot, |interaction| {
                        if let Interaction::Hook(exchange) = interaction {
                            exchange.answer = Some(as_answer(&answer));
                        }
                    });
                    self.log.finish(slot);
                }
                if hook == "OnDeactivate" {
                    self.signals.deactivated.cancel();
                }
                answer
            }
        })
        .await
    }

    /// ServeHTTP, forwarded message by message in both directions, each
    /// message as the raw bytes it came as. The server's request messages
    /// are pumped to the plugin as they come and the plugin's answers back
    /// as they come, so an early answer, a flush and a server that cancels
    /// all reach the other side as they happen.
    async fn serve_http(self, request: ::http::Request<Body>) -> ::http::Response<Body> {
        let mut grpc = tonic::server::Grpc::new(RawCodec)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        grpc.streaming(ServeHttp(Some(self)), request).await
    }
}

struct ServeHttp(Option<HookProxy>);

type ResponseStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<Bytes, Status>> + Send>>;

impl tonic::server::StreamingService<Bytes> for ServeHttp {
    type Response = Bytes;
    type ResponseStream = ResponseStream;
    type Future = BoxFuture<Result<tonic::Response<ResponseStream>, Status>>;

    fn call(&mut self, request: tonic::Request<tonic::Streaming<Bytes>>) -> Self::Future {
        let proxy = self.0.take();
        Box::pin(async move {
            let proxy = proxy.ok_or_else(|| Status::internal("handler called twice"))?;
            Ok(tonic::Response::new(relay_http(
                proxy,
                request.into_inner(),
            )))
        })
    }
}

/// Records one ServeHTTP message of either direction.
fn note_request(http: &mut HttpRecord, bytes: &[u8]) {
    let Ok(message) = pb::ServeHttpRequest::decode(bytes) else {
        return;
    };
    if let Some(init) = message.init {
        http.init = Some(init);
    }
    http.body.extend_from_slice(&message.body_chunk);
    http.request_complete |= message.body_complete;
}

fn note_response(http: &mut HttpRecord, bytes: &[u8]) {
    let Ok(message) = pb::ServeHttpResponse::decode(bytes) else {
        return;
    };
    if http.responses.is_empty() {
        http.body_at_first_response = (!http.request_complete).then_some(http.body.len());
    }
    http.responses.push(message);
}

fn relay_http(proxy: HookProxy, mut from_server: tonic::Streaming<Bytes>) -> ResponseStream {
    let log = proxy.log.clone();
    let slot = log.start(Interaction::Http(Box::default()));
    let (to_plugin, plugin_requests) = mpsc::channel::<Bytes>(4);
    let (to_server, server_answers) = mpsc::channel::<Result<Bytes, Status>>(4);
    let record = {
        let log = log.clone();
        move |change: &dyn Fn(&mut HttpRecord)| {
            log.update(slot, |interaction| {
                if let Interaction::Http(http) = interaction {
                    change(http);
                }
            })
        }
    };
    let record_upload = record.clone();
    // Server → plugin. Ends when the server's stream does: after
    // `body_complete`, or cut off (the HTTP client left).
    let upload = tokio::spawn(async move {
        loop {
            match from_server.next().await {
                Some(Ok(message)) => {
                    record_upload(&|http| note_request(http, &message));
                    if to_plugin.send(message).await.is_err() {
                        return;
                    }
                }
                Some(Err(_)) => {
                    record_upload(&|http| http.cancelled = true);
                    return;
                }
                None => return,
            }
        }
    });
    tokio::spawn(async move {
        let failed = |status: &Status| {
            let failure = (status.code(), status.message().to_owned());
            move |http: &mut HttpRecord| http.status = Some(failure.clone())
        };
        let mut from_plugin = match open_serve_http(proxy.plugin, plugin_requests).await {
            Ok(stream) => stream,
            Err(status) => {
                record(&failed(&status));
                let _ = to_server.send(Err(status)).await;
                upload.abort();
                log.finish(slot);
                return;
            }
        };
        loop {
            tokio::select! {
                // The server dropped its side: dropping ours cancels the
                // plugin's call as well.
                _ = to_server.closed() => {
                    record(&|http| http.cancelled = true);
                    break;
                }
                message = from_plugin.next() => match message {
                    Some(Ok(message)) => {
                        record(&|http| note_response(http, &message));
                        if to_server.send(Ok(message)).await.is_err() {
                            record(&|http| http.cancelled = true);
                            break;
                        }
                    }
                    Some(Err(status)) => {
                        record(&failed(&status));
                        let _ = to_server.send(Err(status)).await;
                        break;
                    }
                    None => break,
                }
            }
        }
        // The server's last messages may still be on their way (a plugin
        // can answer before reading the upload): let the upload record
        // them, for a moment, before the call counts as over.
        let mut upload = upload;
        if tokio::time::timeout(UPLOAD_DRAIN, &mut upload)
            .await
            .is_err()
        {
            upload.abort();
        }
        log.finish(slot);
    });
    Box::pin(ReceiverStream::new(server_answers))
}

async fn open_serve_http(
    plugin: Channel,
    requests: mpsc::Receiver<Bytes>,
) -> Result<tonic::Streaming<Bytes>, Status> {
    let path = PathAndQuery::from_static(SERVE_HTTP_PATH);
    let mut grpc = tonic::client::Grpc::new(plugin)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    grpc.ready().await.map_err(|err| {
        Status::unavailable(format!("the plugin's connection is not usable: {err}"))
    })?;
    let request = tonic::Request::new(ReceiverStream::new(requests));
    grpc.streaming(request, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

/// How long the request side of a finished ServeHTTP call is still read.
const UPLOAD_DRAIN: Duration = Duration::from_secs(1);

const SERVE_HTTP_PATH: &str = "/mattermost.pluginapi.v1.PluginHooks/ServeHTTP";

/// `grpc.health.v1.Health`, asked of the plugin itself.
#[derive(Debug, Clone)]
pub struct HealthProxy {
    pub plugin: Channel,
}

tower_service!(HealthProxy, "grpc.health.v1.Health", handle);

impl HealthProxy {
    async fn handle(self, request: ::http::Request<Body>) -> ::http::Response<Body> {
        let method = method_of(&request);
        let deadline = grpc_timeout(request.headers());
        serve_unary(request, move |body| async move {
            {
                let path = format!("/grpc.health.v1.Health/{method}");
                raw_unary(self.plugin, &path, body, deadline).await
            }
        })
        .await
    }
}

/// go-plugin's `GRPCController`: its `Shutdown` is how a Go server's
/// client asks a plugin to exit before it kills it. Answering it lets the
/// recorder stop the plugin and write the suite instead of being killed.
#[derive(Debug, Clone)]
pub struct ControllerProxy {
    pub shutdown: CancellationToken,
}

tower_service!(ControllerProxy, "plugin.GRPCController", handle);

impl ControllerProxy {
    async fn handle(self, request: ::http::Request<Body>) -> ::http::Response<Body> {
        let method = method_of(&request);
        serve_unary(request, move |_| async move {
            {
                if method != "Shutdown" {
                    return Err(Status::unimplemented(format!(
                        "GRPCController has no {method}"
                    )));
                }
                self.shutdown.cancel();
                // An encoded `Empty`.
                Ok(Bytes::new())
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_read_in_every_unit() {
        let mut headers = ::http::HeaderMap::new();
        for (text, expected) in [
            ("30S", Duration::from_secs(30)),
            ("29999m", Duration::from_millis(29_999)),
            ("2M", Duration::from_secs(120)),
            ("5u", Duration::from_micros(5)),
        ] {
            headers.insert("grpc-timeout", text.parse().unwrap());
            assert_eq!(grpc_timeout(&headers), Some(expected), "{text}");
        }
        headers.insert("grpc-timeout", "12x".parse().unwrap());
        assert_eq!(grpc_timeout(&headers), None);
    }
}
