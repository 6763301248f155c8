//! Every method of the PluginAPI service is modelled: called through a real
//! gRPC client with a default (empty) request, none answers the harness's
//! "not modelled". The only `UNIMPLEMENTED` answers are upstream's own
//! `AppError`s with HTTP status 501 (a feature the default world's
//! configuration or license leaves off), and they are exactly these.

mod common;

use std::str::FromStr;

use api::ApiOutcome;
use bytes::Bytes;
use tonic::{Code, Status, transport::Channel};

/// Methods whose empty request upstream answers with a 501 `AppError`,
/// which gRPC maps to `UNIMPLEMENTED`, and the error id.
const UPSTREAM_501: &[(&str, &str)] = &[
    (
        "CreateOAuthApp",
        "api.oauth.register_oauth_app.turn_off.app_error",
    ),
    ("DeleteOAuthApp", "api.oauth.allow_oauth.turn_off.app_error"),
    ("GetLDAPUserAttributes", "ent.ldap.disabled.app_error"),
    ("GetOAuthApp", "api.oauth.allow_oauth.turn_off.app_error"),
    ("RevokeUserAccessToken", "app.user_access_token.disabled"),
    ("UpdateOAuthApp", "api.oauth.allow_oauth.turn_off.app_error"),
];

/// Calls `method` with `body` as its encoded request, as a plugin would.
async fn call_raw(channel: &Channel, method: &str, body: Bytes) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|err| Status::unavailable(err.to_string()))?;
    let path =
        http::uri::PathAndQuery::from_str(&format!("/{}/{method}", mm_plugin_proto::API_SERVICE))
            .expect("method names make valid paths");
    grpc.unary(tonic::Request::new(body), path, wire::RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

async fn connect(server: &api::ApiServer) -> Channel {
    Channel::from_shared(format!("http://{}", server.addr()))
        .expect("a loopback URL")
        .connect()
        .await
        .expect("the server accepts connections")
}

#[tokio::test]
async fn no_method_of_the_protocol_is_unimplemented() {
    let (server, _) = common::api_server_and_client("com.example.coverage").await;
    let channel = connect(&server).await;
    let mut unimplemented = Vec::new();
    let methods: Vec<String> = mm_plugin_proto::api_service()
        .methods()
        .map(|method| method.name().to_owned())
        .collect();
    assert_eq!(methods.len(), 236, "the protocol's size");
    for method in &methods {
        match call_raw(&channel, method, Bytes::new()).await {
            Err(status) if status.code() == Code::Unimplemented => {
                unimplemented.push((method.clone(), status.message().to_owned()));
            }
            Err(status) => assert_ne!(
                status.code(),
                Code::Unavailable,
                "{method}: the server must answer: {status:?}"
            ),
            Ok(_) => {}
        }
    }
    let mut answered: Vec<(&str, &str)> = unimplemented
        .iter()
        .map(|(method, message)| {
            let id = message
                .split_once(": ")
                .map_or(message.as_str(), |(id, _)| id);
            (method.as_str(), id)
        })
        .collect();
    answered.sort_unstable();
    assert_eq!(
        answered, UPSTREAM_501,
        "UNIMPLEMENTED answers: {unimplemented:#?}"
    );

    let calls = server.calls().since(0);
    assert_eq!(calls.len(), methods.len());
    let not_modelled: Vec<&str> = calls
        .iter()
        .filter(|call| call.outcome == ApiOutcome::NotModelled)
        .map(|call| call.method.as_str())
        .collect();
    assert!(not_modelled.is_empty(), "not modelled: {not_modelled:?}");
    assert_eq!(api::modelled_methods().len(), 236);
    server.stop().await;
}

#[tokio::test]
async fn a_method_outside_the_protocol_is_refused_by_name() {
    let (server, _) = common::api_server_and_client("com.example.coverage").await;
    let channel = connect(&server).await;
    let status = call_raw(&channel, "NoSuchMethod", Bytes::new())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(status.message(), "PluginAPI has no method \"NoSuchMethod\"");
    assert_eq!(server.calls().since(0)[0].outcome, ApiOutcome::NotModelled);
    server.stop().await;
}
