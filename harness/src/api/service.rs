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
    errors::{ErrorConvention, convention},
    handlers,
    registry::{HandlerError, Registry},
    world::World,
};
use crate::wire::{RawCodec, decode_to_json};

static REGISTRY: LazyLock<Registry> = LazyLock::new(handlers::registry);

/// The modelled methods, sorted.
pub fn modelled_methods() -> Vec<&'static str> {
    REGISTRY.methods()
}

/// State behind the service: the world and the call log.
#[derive(Debug)]
pub struct ApiState {
    pub world: Mutex<World>,
    pub calls: CallLog,
    pub epoch: Instant,
}

impl ApiState {
    fn handle(&self, method: &str, body: Bytes) -> Result<Bytes, Status> {
        let arrived = Instant::now();
        let answer = match REGISTRY.get(method) {
            Some(handler) => {
                let mut world = self.world.lock().expect("world lock");
                match handler(&mut world, body.clone()) {
                    Ok(response) => Ok(response),
                    Err(HandlerError::Api(err)) => match convention(method) {
                        ErrorConvention::Embedded => Ok(err.to_embedded_response()),
                        ErrorConvention::Status => Err(err.to_status()),
                    },
                    Err(HandlerError::Decode(err)) => Err(Status::invalid_argument(format!(
                        "{method}: request does not decode as {method}Request: {err}"
                    ))),
                }
            }
            None => Err(not_modelled(method)),
        };
        let duration = arrived.elapsed();
        self.record(method, &body, &answer, arrived, duration);
        answer
    }

    fn record(
        &self,
        method: &str,
        body: &[u8],
        answer: &Result<Bytes, Status>,
        arrived: Instant,
        duration: std::time::Duration,
    ) {
        let descriptor = mm_plugin_proto::api_service()
            .methods()
            .find(|m| m.name() == method);
        let as_json = |bytes: &[u8], input: bool| {
            descriptor
                .as_ref()
                .and_then(|d| {
                    let message = if input { d.input() } else { d.output() };
                    decode_to_json(&message, bytes).ok()
                })
                .unwrap_or(serde_json::Value::Null)
        };
        let outcome = match answer {
            Ok(response) => ApiOutcome::Response {
                response: as_json(response, false),
            },
            Err(status) if REGISTRY.get(method).is_none() && descriptor.is_some() => {
                debug_assert_eq!(status.code(), tonic::Code::Unimplemented);
                ApiOutcome::NotModelled
            }
            Err(status) => ApiOutcome::Status {
                code: format!("{:?}", status.code()),
                message: status.message().to_owned(),
            },
        };
        self.calls.push(ApiCall {
            seq: 0,
            method: method.to_owned(),
            at: arrived.saturating_duration_since(self.epoch),
            duration,
            request: as_json(body, true),
            outcome,
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
    type Future = std::future::Ready<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        std::future::ready(
            self.state
                .handle(&self.method, request.into_inner())
                .map(tonic::Response::new),
        )
    }
}
