//! The server's side of `PluginHooks`: calling the plugin.
//!
//! Every unary hook goes through one path, [`HookClient::call`], with the
//! request as wire bytes and the hook named by string. Suites use it with
//! JSON-built requests, typed callers through [`HookClient::call_typed`];
//! either way the deadline is sent as `grpc-timeout` (upstream sends 30 s)
//! and enforced on this side too, so a hung plugin costs one deadline.
//! ServeHTTP, the streaming hook, has its own client in [`http`].

mod family;
mod grpc_go;
pub mod http;
mod server_fields;

pub use family::Family;
pub use grpc_go::{as_grpc_go_reports, deadline_missed};
pub use server_fields::{NOT_SENT_BY_SERVER, as_server_sends, beyond_server};

use std::time::Duration;

use ::http::uri::PathAndQuery;
use bytes::Bytes;
use mm_plugin_proto::{HOOKS_SERVICE, pb};
use prost::{Message, Name};
use tonic::{Status, transport::Channel};

use crate::wire::RawCodec;

/// Upstream's deadline for every unary hook call (`defaultGRPCTimeout`).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct HookClient {
    grpc: tonic::client::Grpc<Channel>,
}

impl HookClient {
    pub fn new(channel: Channel) -> HookClient {
        // Upstream's client keeps grpc-go's defaults: no limit on what it
        // sends, 4 MiB on what it accepts.
        let grpc = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(4 * 1024 * 1024)
            .max_encoding_message_size(usize::MAX);
        HookClient { grpc }
    }

    /// Calls unary hook `hook` with an encoded request.
    pub async fn call(
        &self,
        hook: &str,
        request: Bytes,
        deadline: Duration,
    ) -> Result<Bytes, Status> {
        let path = PathAndQuery::try_from(format!("/{HOOKS_SERVICE}/{hook}")).map_err(|_| {
            Status::invalid_argument(format!("{hook:?} is not a valid method name"))
        })?;
        let mut grpc = self.grpc.clone();
        let exchange = async move {
            grpc.ready().await.map_err(|err| {
                Status::unavailable(format!("the plugin's connection is not usable: {err}"))
            })?;
            let mut request = tonic::Request::new(request);
            request.set_timeout(deadline);
            grpc.unary(request, path, RawCodec).await
        };
        match tokio::time::timeout(deadline, exchange).await {
            Ok(answer) => answer
                .map(tonic::Response::into_inner)
                .map_err(|status| as_grpc_go_reports(status, deadline)),
            Err(_) => Err(deadline_missed(deadline)),
        }
    }

    /// Calls the hook `Req` belongs to (`OnActivateRequest` → `OnActivate`).
    pub async fn call_typed<Req, Resp>(
        &self,
        request: Req,
        deadline: Duration,
    ) -> Result<Resp, Status>
    where
        Req: Message + Name,
        Resp: Message + Default,
    {
        let hook = Req::NAME.strip_suffix("Request").unwrap_or(Req::NAME);
        let bytes = self
            .call(hook, request.encode_to_vec().into(), deadline)
            .await?;
        Resp::decode(bytes).map_err(|err| {
            Status::internal(format!(
                "the plugin's {hook} response does not decode: {err}"
            ))
        })
    }

    /// `Implemented()`: the hook names the plugin claims. An `AppError` in
    /// the response fails the call, as it fails plugin start upstream.
    pub async fn implemented(&self, deadline: Duration) -> Result<Vec<String>, Status> {
        let response: pb::ImplementedResponse = self
            .call_typed(pb::ImplementedRequest::default(), deadline)
            .await?;
        match response.error {
            Some(error) => Err(Status::internal(format!(
                "Implemented returned an AppError: {} {}",
                error.id, error.message
            ))),
            None => Ok(response.hooks),
        }
    }
}

/// Names of every hook in the protocol, in service order.
pub fn hook_names() -> Vec<String> {
    mm_plugin_proto::hooks_service()
        .methods()
        .map(|method| method.name().to_owned())
        .collect()
}

/// Upstream's server also accepts `ServeMetrics` in `Implemented()`: it has
/// no RPC (the server answers 501 itself), but it is a known name.
pub const KNOWN_NAMES_WITHOUT_RPC: &[&str] = &["ServeMetrics"];

/// Whether the server recognises `name` as a hook. `Implemented` is an RPC
/// of the service but not a hook a plugin can claim.
pub fn is_known_hook(name: &str) -> bool {
    KNOWN_NAMES_WITHOUT_RPC.contains(&name)
        || (name != "Implemented"
            && mm_plugin_proto::hooks_service()
                .methods()
                .any(|m| m.name() == name))
}

/// The closest hook name to a misspelt one, for "did you mean".
pub fn closest_hook(name: &str) -> Option<String> {
    crate::wire::closest_name(name, hook_names())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_has_42_hooks_and_servemetrics_is_known_without_one() {
        assert_eq!(hook_names().len(), 42);
        assert!(is_known_hook("ServeHTTP"));
        assert!(is_known_hook("ServeMetrics"));
        assert!(!is_known_hook("FileWillBeDownloaded"));
        assert!(!is_known_hook("Implemented"));
    }

    #[test]
    fn misspelt_hooks_get_a_suggestion() {
        assert_eq!(closest_hook("OnActivte").as_deref(), Some("OnActivate"));
        assert_eq!(
            closest_hook("messagewillbeposted").as_deref(),
            Some("MessageWillBePosted")
        );
        assert_eq!(closest_hook("Completely different"), None);
    }
}
