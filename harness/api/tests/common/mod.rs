//! What the API server's tests share: a server on the default world and a
//! client connected to it the way a plugin connects.

use std::time::Instant;

use api::{ApiServer, World};
use mm_plugin_proto::pb::plugin_api_client::PluginApiClient;
use tonic::transport::Channel;

pub async fn api_server_and_client(plugin_id: &str) -> (ApiServer, PluginApiClient<Channel>) {
    let bundle = format!("/plugins/{plugin_id}");
    let world = World::from_seed(&World::default_seed(), plugin_id, &bundle, "default")
        .expect("the default world seeds");
    let server = ApiServer::start(world, Instant::now())
        .await
        .expect("a loopback port is free");
    let client = PluginApiClient::connect(format!("http://{}", server.addr()))
        .await
        .expect("the server accepts connections");
    (server, client)
}
