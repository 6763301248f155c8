//! The PluginAPI gRPC service: one generic tower service for all 236
//! methods. Each call is decoded by the handler registered for its method,
//! failures are delivered by the method's error convention, and every call
//! is recorded whatever its fate.

use std::{
    convert::Infallible,
    sync::{Arc, LazyLock, Mutex},
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use tonic::{Status, body::Body, server::NamedService};

use super::{
    calls::{ApiCall, ApiOutcome, CallLog},
    handlers,
    registry::{HandlerError, Registry},
    stubs::{StubAnswer, StubTable},
    world::World,
};
use wire::{RawCodec, decode_to_json};

static REGISTRY: LazyLock<Registry> = LazyLock::new(handlers::registry);

/// The modelled methods, sorted.
pub fn modelled_methods() -> Vec<&'static str> {
    REGISTRY.methods()
}

/// State behind the service: the world, the stubs and the call log.
#[derive(Debug)]
pub struct ApiState {
    pub world: Mutex<World>,
    pub stubs: StubTable,
    pub calls: CallLog,
    pub epoch: Instant,
}

impl ApiState {
    async fn handle(&self, method: &str, body: Bytes) -> Result<Bytes, Status> {
        let arrived = Instant::now();
        let descriptor = mm_plugin_proto::api_service()
            .methods()
            .find(|m| m.name() == method);
        let request = descriptor
            .as_ref()
            .and_then(|d| decode_to_json(&d.input(), &body).ok())
            .unwrap_or(serde_json::Value::Null);
        let caught = self.stubs.catch(method, &request);
        if let Some((_, Some(delay))) = &caught {
            tokio::time::sleep(*delay).await;
        }
        let stubbed = caught.is_some();
        let answer = match caught.map(|(answer, _)| answer) {
            Some(StubAnswer::Respond(response)) => Ok(response),
            Some(StubAnswer::AppError(err)) => err.deliver(method),
            Some(StubAnswer::Status(code, message)) => Err(Status::new(code, message)),
            Some(StubAnswer::World) | None => self.world_answer(method, body),
        };
        self.record(method, request, &answer, arrived, stubbed);
        answer
    }

    /// The answer of the world's handler, or "not modelled".
    fn world_answer(&self, method: &str, body: Bytes) -> Result<Bytes, Status> {
        let Some(handler) = REGISTRY.get(method) else {
            return Err(not_modelled(method));
        };
        let mut world = self.world.lock().expect("world lock");
        match handler(&mut world, body) {
            Ok(response) => Ok(response),
            Err(HandlerError::Api(err)) => err.deliver(method),
            Err(HandlerError::Decode(err)) => Err(Status::invalid_argument(format!(
                "{method}: request does not decode as {method}Request: {err}"
            ))),
        }
    }

    fn record(
        &self,
        method: &str,
        request: serde_json::Value,
        answer: &Result<Bytes, Status>,
        arrived: Instant,
        stubbed: bool,
    ) {
        let duration = arrived.elapsed();
        let descriptor = mm_plugin_proto::api_service()
            .methods()
            .find(|m| m.name() == method);
        let outcome = match answer {
            Ok(response) => ApiOutcome::Response {
                response: descriptor
                    .and_then(|d| decode_to_json(&d.output(), response).ok())
                    .unwrap_or(serde_json::Value::Null),
            },
            Err(status)
                if !stubbed
                    && status.code() == tonic::Code::Unimplemented
                    && REGISTRY.get(method).is_none() =>
            {
                ApiOutcome::NotModelled
            }
            Err(status) => ApiOutcome::Status {
                code: wire::code_name(status.code()).to_owned(),
                message: status.message().to_owned(),
            },
        };
        self.calls.push(ApiCall {
            seq: 0,
            method: method.to_owned(),
            at: arrived.saturating_duration_since(self.epoch),
            duration,
            request,
            outcome,
            stubbed,
        });
    }
}

fn not_modelled(method: &str) -> Status {
    let known = mm_plugin_proto::api_service()
        .methods()
        .any(|m| m.name() == method);
    if known {
        Status::unimplemented(format!(
            "PluginAPI.{method} is not modelled by the harness; stub it in the suite"
        ))
    } else {
        Status::unimplemented(format!("PluginAPI has no method {method:?}"))
    }
}

/// The tower service tonic's router calls for `mattermost.pluginapi.v1.PluginAPI`.
#[derive(Debug, Clone)]
pub struct ApiService {
    state: Arc<ApiState>,
}

impl ApiService {
    pub fn new(state: Arc<ApiState>) -> ApiService {
        ApiService { state }
    }
}

impl NamedService for ApiService {
    const NAME: &'static str = mm_plugin_proto::API_SERVICE;
}

impl tower::Service<http::Request<Body>> for ApiService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let method = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let unary = MethodCall {
            state: self.state.clone(),
            method,
        };
        Box::pin(async move {
            // Upstream's server is a default grpc-go server: 4 MiB receive
            // limit, which tonic's default matches.
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.unary(unary, request).await)
        })
    }
}

struct MethodCall {
    state: Arc<ApiState>,
    method: String,
}

impl tonic::server::UnaryService<Bytes> for MethodCall {
    type Response = Bytes;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<tonic::Response<Bytes>, Status>> + Send>,
    >;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let state = self.state.clone();
        let method = std::mem::take(&mut self.method);
        Box::pin(async move {
            state
                .handle(&method, request.into_inner())
                .await
                .map(tonic::Response::new)
        })
    }
}
