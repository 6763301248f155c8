//! The Plugin API server across its areas, through a real gRPC client as a
//! plugin would call it: state stays consistent from one call to the next,
//! and both error conventions (an `AppError` embedded in an OK response, a
//! gRPC status) reach the client as upstream sends them.

mod common;

use api::{ApiServer, EphemeralAction};
use mm_plugin_proto::pb::{self, plugin_api_client::PluginApiClient};
use tonic::{Code, transport::Channel};

const ADMIN: &str = "uadmin00000000000000000000";
const ALICE: &str = "ualice00000000000000000000";
const BOB: &str = "ubob0000000000000000000000";
const ACME: &str = "tacme000000000000000000000";
const TOWN_SQUARE: &str = "cacmetownsquare00000000000";
const SECRET: &str = "cacmesecret000000000000000";
const PLUGIN: &str = "com.example.areas";

async fn start() -> (ApiServer, PluginApiClient<Channel>) {
    common::api_server_and_client(PLUGIN).await
}

fn usernames(users: &[pb::User]) -> Vec<&str> {
    users.iter().map(|user| user.username.as_str()).collect()
}

#[tokio::test]
async fn the_whole_protocol_is_modelled() {
    let modelled = api::modelled_methods();
    assert_eq!(modelled.len(), 236);
    for method in [
        "EnsureBotUser",
        "GetDirectChannel",
        "UploadFile",
        "HasPermissionToChannel",
    ] {
        assert!(modelled.contains(&method), "{method}");
    }
}

#[tokio::test]
async fn membership_changes_show_in_user_and_member_listings() {
    let (server, mut client) = start().await;
    let carol = client
        .create_user(pb::CreateUserRequest {
            user: Some(pb::User {
                username: "carol".into(),
                email: "carol@example.com".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    client
        .create_team_member(pb::CreateTeamMemberRequest {
            team_id: ACME.into(),
            user_id: carol.id.clone(),
        })
        .await
        .unwrap();
    let in_team = client
        .get_users_in_team(pb::GetUsersInTeamRequest {
            team_id: ACME.into(),
            page: 0,
            per_page: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(usernames(&in_team), ["admin", "alice", "bob", "carol"]);

    // Joining the team joined its default channels.
    let in_town_square = client
        .get_users_in_channel(pb::GetUsersInChannelRequest {
            channel_id: TOWN_SQUARE.into(),
            sort_by: "username".into(),
            page: 0,
            per_page: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(usernames(&in_town_square), ["alice", "bob", "carol"]);

    client
        .add_channel_member(pb::AddChannelMemberRequest {
            channel_id: SECRET.into(),
            user_id: carol.id.clone(),
        })
        .await
        .unwrap();
    let members = client
        .get_channel_members(pb::GetChannelMembersRequest {
            channel_id: SECRET.into(),
            page: 0,
            per_page: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .channel_members;
    // Members come ordered by user id; created ids sort before seeded ones.
    let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
    assert_eq!(ids, [carol.id.as_str(), ADMIN]);

    client
        .delete_channel_member(pb::DeleteChannelMemberRequest {
            channel_id: SECRET.into(),
            user_id: carol.id.clone(),
        })
        .await
        .unwrap();
    let missing = client
        .get_channel_member(pb::GetChannelMemberRequest {
            channel_id: SECRET.into(),
            user_id: carol.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing
            .message()
            .starts_with("app.channel.get_member.missing.app_error: "),
        "{}",
        missing.message()
    );

    // The join, and the leave, were announced.
    let posts = client
        .get_posts_for_channel(pb::GetPostsForChannelRequest {
            channel_id: SECRET.into(),
            page: 0,
            per_page: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .post_list
        .unwrap();
    let kinds: Vec<&str> = posts
        .order
        .iter()
        .map(|id| posts.posts[id].r#type.as_str())
        .collect();
    assert_eq!(kinds, ["system_leave_channel", "system_join_channel"]);
    server.stop().await;
}

#[tokio::test]
async fn direct_channels_bots_and_commands_are_idempotent() {
    let (server, mut client) = start().await;
    let dm = |a: &str, b: &str| pb::GetDirectChannelRequest {
        user_id_1: a.into(),
        user_id_2: b.into(),
    };
    let first = client.get_direct_channel(dm(ALICE, BOB)).await.unwrap();
    let second = client.get_direct_channel(dm(BOB, ALICE)).await.unwrap();
    assert_eq!(
        first.into_inner().channel.unwrap().id,
        second.into_inner().channel.unwrap().id
    );

    let ensure = |display_name: &str| pb::EnsureBotUserRequest {
        bot: Some(pb::Bot {
            username: "areas-bot".into(),
            display_name: display_name.into(),
            ..Default::default()
        }),
    };
    let bot_id = client
        .ensure_bot_user(ensure("Areas"))
        .await
        .unwrap()
        .into_inner()
        .bot_user_id;
    let again = client
        .ensure_bot_user(ensure("Areas Bot"))
        .await
        .unwrap()
        .into_inner()
        .bot_user_id;
    assert_eq!(bot_id, again);
    let bot = client
        .get_bot(pb::GetBotRequest {
            bot_user_id: bot_id.clone(),
            include_deleted: false,
        })
        .await
        .unwrap()
        .into_inner()
        .bot
        .unwrap();
    assert_eq!(
        (bot.display_name.as_str(), bot.owner_id.as_str()),
        ("Areas Bot", PLUGIN)
    );
    // Upstream's EnsureBot fails with plain Go errors: Internal, "internal error: …".
    let refused = client
        .ensure_bot_user(pb::EnsureBotUserRequest {
            bot: Some(pb::Bot::default()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), refused.message()),
        (
            Code::Internal,
            "internal error: passed a bot with no username"
        )
    );

    client
        .register_command(pb::RegisterCommandRequest {
            command: Some(pb::Command {
                trigger: "Areas".into(),
                auto_complete: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let listed = client
        .list_plugin_commands(pb::ListPluginCommandsRequest {
            team_id: ACME.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .commands;
    let triggers: Vec<&str> = listed.iter().map(|c| c.trigger.as_str()).collect();
    assert_eq!(triggers, ["areas"]);
    server.stop().await;
}

#[tokio::test]
async fn posts_threads_and_reactions_embed_their_errors() {
    let (server, mut client) = start().await;
    let post = |message: &str, root_id: &str| pb::CreatePostRequest {
        post: Some(pb::Post {
            channel_id: TOWN_SQUARE.into(),
            user_id: ALICE.into(),
            message: message.into(),
            root_id: root_id.into(),
            ..Default::default()
        }),
    };
    let root = client
        .create_post(post("root", ""))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    let reply = client
        .create_post(post("reply", &root.id))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    let thread = client
        .get_post_thread(pb::GetPostThreadRequest {
            post_id: root.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .post_list
        .unwrap();
    assert_eq!(thread.order, [root.id.clone(), reply.id.clone()]);

    let reaction = pb::Reaction {
        user_id: BOB.into(),
        post_id: root.id.clone(),
        emoji_name: "+1".into(),
        ..Default::default()
    };
    client
        .add_reaction(pb::AddReactionRequest {
            reaction: Some(reaction),
        })
        .await
        .unwrap();
    let reactions = client
        .get_reactions(pb::GetReactionsRequest {
            post_id: root.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .reactions;
    assert_eq!(reactions.len(), 1);

    // Post failures come back with status OK and the AppError in field 1.
    let refused = client
        .add_reaction(pb::AddReactionRequest {
            reaction: Some(pb::Reaction {
                user_id: BOB.into(),
                post_id: "p0000000000000000000000099".into(),
                emoji_name: "+1".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("post failures are embedded")
        .into_inner();
    let error = refused.error.unwrap();
    assert_eq!(
        (error.id.as_str(), error.status_code),
        ("app.post.get.app_error", 404)
    );
    assert!(refused.reaction.is_none());
    let bad_root = client
        .create_post(post("orphan", "p0000000000000000000000099"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        bad_root.error.unwrap().id,
        "api.post.create_post.root_id.app_error"
    );

    client
        .send_ephemeral_post(pb::SendEphemeralPostRequest {
            user_id: ALICE.into(),
            post: Some(pb::Post {
                channel_id: TOWN_SQUARE.into(),
                message: "psst".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    {
        let world = server.world();
        assert_eq!(world.posts.len(), 2, "ephemeral posts are not stored");
        assert_eq!(world.sent.ephemeral_posts[0].action, EphemeralAction::Sent);
    }
    server.stop().await;
}

#[tokio::test]
async fn files_embed_errors_and_preferences_use_status() {
    let (server, mut client) = start().await;
    let info = client
        .upload_file(pb::UploadFileRequest {
            data: b"report".to_vec(),
            channel_id: TOWN_SQUARE.into(),
            filename: "report.txt".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .file_info
        .unwrap();
    let data = client
        .get_file(pb::GetFileRequest {
            file_id: info.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(data, b"report");
    let missing = client
        .get_file_info(pb::GetFileInfoRequest {
            file_id: "nope".into(),
        })
        .await
        .expect("file failures are embedded")
        .into_inner();
    assert_eq!(missing.error.unwrap().id, "app.file_info.get.app_error");

    let foreign = client
        .update_preferences_for_user(pb::UpdatePreferencesForUserRequest {
            user_id: ALICE.into(),
            preferences: vec![pb::Preference {
                user_id: BOB.into(),
                category: "display_settings".into(),
                name: "use_military_time".into(),
                value: "true".into(),
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::PermissionDenied);
    assert!(
        foreign
            .message()
            .starts_with("api.preference.update_preferences.set.app_error: "),
        "{}",
        foreign.message()
    );
    server.stop().await;
}

#[tokio::test]
async fn permissions_follow_roles_and_pagination_is_honoured() {
    let (server, mut client) = start().await;
    let can = |user: &str, permission: &str| pb::HasPermissionToChannelRequest {
        user_id: user.into(),
        channel_id: SECRET.into(),
        permission_id: permission.into(),
    };
    let granted = |response: tonic::Response<pb::HasPermissionToChannelResponse>| {
        response.into_inner().has_permission
    };
    assert!(granted(
        client
            .has_permission_to_channel(can(ADMIN, "manage_channel_roles"))
            .await
            .unwrap()
    ));
    assert!(!granted(
        client
            .has_permission_to_channel(can(ALICE, "read_channel"))
            .await
            .unwrap()
    ));
    client
        .update_user_roles(pb::UpdateUserRolesRequest {
            user_id: ALICE.into(),
            new_roles: "system_user system_admin".into(),
        })
        .await
        .unwrap();
    assert!(granted(
        client
            .has_permission_to_channel(can(ALICE, "read_channel"))
            .await
            .unwrap()
    ));

    let page = |page: i32| pb::GetUsersRequest {
        page,
        per_page: 2,
        ..Default::default()
    };
    let first = client.get_users(page(0)).await.unwrap().into_inner().users;
    let second = client.get_users(page(1)).await.unwrap().into_inner().users;
    assert_eq!(usernames(&first), ["admin", "alice"]);
    assert_eq!(usernames(&second), ["bob", "helper-bot"]);
    let negative = client.get_users(page(-1)).await.unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    server.stop().await;
}
