//! The Plugin API server as a plugin sees it: a real gRPC client against
//! the harness's server, checking state, both error conventions, the
//! "not modelled" answer and the call log.

mod common;

use api::{ApiOutcome, ApiServer};
use mm_plugin_proto::pb::{self, plugin_api_client::PluginApiClient};
use tonic::{Code, transport::Channel};

async fn start() -> (ApiServer, PluginApiClient<Channel>) {
    common::api_server_and_client("com.example.test").await
}

#[tokio::test]
async fn status_convention_for_users_with_upstream_ids() {
    let (server, mut client) = start().await;
    let alice = client
        .get_user(pb::GetUserRequest {
            user_id: "ualice00000000000000000000".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(alice.user.unwrap().username, "alice");

    let missing = client
        .get_user(pb::GetUserRequest {
            user_id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing
            .message()
            .starts_with("app.user.missing_account.const: "),
        "{}",
        missing.message()
    );

    let duplicate = pb::User {
        username: "alice".into(),
        email: "a2@example.com".into(),
        ..Default::default()
    };
    let refused = client
        .create_user(pb::CreateUserRequest {
            user: Some(duplicate),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    server.stop().await;
}

#[tokio::test]
async fn embedded_convention_for_kv_and_posts() {
    let (server, mut client) = start().await;
    let bad_key = client
        .kv_set(pb::KvSetRequest {
            key: String::new(),
            value: b"x".to_vec(),
        })
        .await
        .expect("KV failures come back with status OK")
        .into_inner();
    assert_eq!(bad_key.error.unwrap().status_code, 400);

    let missing = client
        .get_post(pb::GetPostRequest {
            post_id: "nope".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let error = missing.error.unwrap();
    assert_eq!(
        (error.id.as_str(), error.status_code),
        ("app.post.get.app_error", 404)
    );
    assert!(missing.post.is_none());
    server.stop().await;
}

#[tokio::test]
async fn state_is_consistent_across_calls() {
    let (server, mut client) = start().await;
    client
        .kv_set(pb::KvSetRequest {
            key: "greeting".into(),
            value: b"hi".to_vec(),
        })
        .await
        .unwrap();
    let value = client
        .kv_get(pb::KvGetRequest {
            key: "greeting".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .value;
    assert_eq!(value, b"hi");

    let channel_id = "cacmetownsquare00000000000".to_owned();
    let post = pb::Post {
        channel_id: channel_id.clone(),
        user_id: "ualice00000000000000000000".into(),
        message: "hello".into(),
        ..Default::default()
    };
    let created = client
        .create_post(pb::CreatePostRequest { post: Some(post) })
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(created.id.len(), 26);
    let listed = client
        .get_posts_for_channel(pb::GetPostsForChannelRequest {
            channel_id,
            page: 0,
            per_page: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .post_list
        .unwrap();
    assert_eq!(listed.order, std::slice::from_ref(&created.id));
    assert_eq!(listed.posts[&created.id].message, "hello");
    assert_eq!(server.world().posts.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn calls_are_logged_with_their_outcome() {
    let (server, mut client) = start().await;
    let status = client
        .get_team_icon(pb::GetTeamIconRequest {
            team_id: "tacme000000000000000000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    client
        .get_server_version(pb::GetServerVersionRequest {})
        .await
        .unwrap();
    let calls = server.calls().since(0);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].method, "GetTeamIcon");
    assert_eq!(
        calls[0].outcome,
        ApiOutcome::Status {
            code: "NOT_FOUND".into(),
            message:
                "api.team.get_team_icon.read_file.app_error: Unable to read the team icon file."
                    .into()
        }
    );
    assert_eq!(calls[0].request["team_id"], "tacme000000000000000000000");
    assert_eq!(calls[1].method, "GetServerVersion");
    let ApiOutcome::Response { response } = &calls[1].outcome else {
        panic!("{:?}", calls[1].outcome)
    };
    assert_eq!(response["version"], "10.11.0");
    assert!(calls[1].at >= calls[0].at);
    server.stop().await;
}

#[tokio::test]
async fn plugin_config_round_trips_as_a_struct() {
    let (server, mut client) = start().await;
    let config: prost_types::Struct = wire::json_to_struct(
        serde_json::json!({"api_key": "k", "features": ["a", "b"]})
            .as_object()
            .unwrap(),
    );
    client
        .save_plugin_config(pb::SavePluginConfigRequest {
            config: Some(config.clone()),
        })
        .await
        .unwrap();
    let read = client
        .get_plugin_config(pb::GetPluginConfigRequest {})
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();
    assert_eq!(read, config);
    server.stop().await;
}
