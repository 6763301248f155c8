//! The floor: hook calls through the bare generated tonic client
//! (`PluginHooksClient`), with nothing of the harness in the way: no
//! deadline, no raw codec, no method lookup. The same hooks through the
//! harness's client, against the same reference plugin in the same run,
//! give the harness's overhead.

use std::{future::Future, time::Duration};

use mm_plugin_proto::pb::{self, plugin_hooks_client::PluginHooksClient};
use prost::Message;
use tonic::{Status, transport::Channel};

/// Writes [`RawRequest`]: one variant per unary hook, named after its
/// request message, and the generated client method that sends it.
macro_rules! raw_hooks {
    ($($hook:literal => $method:ident($request:ident)),* $(,)?) => {
        /// A hook request decoded for the generated client.
        #[derive(Debug, Clone)]
        pub enum RawRequest {
            $($request(pb::$request),)*
        }

        impl RawRequest {
            /// Decodes the wire bytes of a `hook` request; `None` for a hook
            /// that is not unary (ServeHTTP) or not known.
            pub fn decode(hook: &str, bytes: &[u8]) -> Option<Result<RawRequest, prost::DecodeError>> {
                match hook {
                    $($hook => Some(pb::$request::decode(bytes).map(RawRequest::$request)),)*
                    _ => None,
                }
            }

            /// Sends the request as a typed client would: by value, the
            /// response decoded into its message.
            pub async fn send(self, client: &mut PluginHooksClient<Channel>) -> Result<(), Status> {
                match self {
                    $(RawRequest::$request(request) => client.$method(request).await.map(drop),)*
                }
            }
        }
    };
}

raw_hooks! {
    "OnActivate" => on_activate(OnActivateRequest),
    "OnDeactivate" => on_deactivate(OnDeactivateRequest),
    "OnConfigurationChange" => on_configuration_change(OnConfigurationChangeRequest),
    "OnInstall" => on_install(OnInstallRequest),
    "OnSendDailyTelemetry" => on_send_daily_telemetry(OnSendDailyTelemetryRequest),
    "RunDataRetention" => run_data_retention(RunDataRetentionRequest),
    "OnCloudLimitsUpdated" => on_cloud_limits_updated(OnCloudLimitsUpdatedRequest),
    "ConfigurationWillBeSaved" => configuration_will_be_saved(ConfigurationWillBeSavedRequest),
    "MessageWillBePosted" => message_will_be_posted(MessageWillBePostedRequest),
    "MessageWillBeUpdated" => message_will_be_updated(MessageWillBeUpdatedRequest),
    "MessageHasBeenPosted" => message_has_been_posted(MessageHasBeenPostedRequest),
    "MessageHasBeenUpdated" => message_has_been_updated(MessageHasBeenUpdatedRequest),
    "MessagesWillBeConsumed" => messages_will_be_consumed(MessagesWillBeConsumedRequest),
    "MessageHasBeenDeleted" => message_has_been_deleted(MessageHasBeenDeletedRequest),
    "FileWillBeUploaded" => file_will_be_uploaded(FileWillBeUploadedRequest),
    "ReactionHasBeenAdded" => reaction_has_been_added(ReactionHasBeenAddedRequest),
    "ReactionHasBeenRemoved" => reaction_has_been_removed(ReactionHasBeenRemovedRequest),
    "NotificationWillBePushed" => notification_will_be_pushed(NotificationWillBePushedRequest),
    "EmailNotificationWillBeSent" => email_notification_will_be_sent(EmailNotificationWillBeSentRequest),
    "PreferencesHaveChanged" => preferences_have_changed(PreferencesHaveChangedRequest),
    "UserHasBeenCreated" => user_has_been_created(UserHasBeenCreatedRequest),
    "UserWillLogIn" => user_will_log_in(UserWillLogInRequest),
    "UserHasLoggedIn" => user_has_logged_in(UserHasLoggedInRequest),
    "UserHasBeenDeactivated" => user_has_been_deactivated(UserHasBeenDeactivatedRequest),
    "OnSAMLLogin" => on_saml_login(OnSamlLoginRequest),
    "ChannelHasBeenCreated" => channel_has_been_created(ChannelHasBeenCreatedRequest),
    "UserHasJoinedChannel" => user_has_joined_channel(UserHasJoinedChannelRequest),
    "UserHasLeftChannel" => user_has_left_channel(UserHasLeftChannelRequest),
    "UserHasJoinedTeam" => user_has_joined_team(UserHasJoinedTeamRequest),
    "UserHasLeftTeam" => user_has_left_team(UserHasLeftTeamRequest),
    "ExecuteCommand" => execute_command(ExecuteCommandRequest),
    "OnWebSocketConnect" => on_web_socket_connect(OnWebSocketConnectRequest),
    "OnWebSocketDisconnect" => on_web_socket_disconnect(OnWebSocketDisconnectRequest),
    "WebSocketMessageHasBeenPosted" => web_socket_message_has_been_posted(WebSocketMessageHasBeenPostedRequest),
    "OnPluginClusterEvent" => on_plugin_cluster_event(OnPluginClusterEventRequest),
    "OnSharedChannelsSyncMsg" => on_shared_channels_sync_msg(OnSharedChannelsSyncMsgRequest),
    "OnSharedChannelsPing" => on_shared_channels_ping(OnSharedChannelsPingRequest),
    "OnSharedChannelsAttachmentSyncMsg" => on_shared_channels_attachment_sync_msg(OnSharedChannelsAttachmentSyncMsgRequest),
    "OnSharedChannelsProfileImageSyncMsg" => on_shared_channels_profile_image_sync_msg(OnSharedChannelsProfileImageSyncMsgRequest),
    "GenerateSupportData" => generate_support_data(GenerateSupportDataRequest),
}

/// A generated client on `channel`, with upstream's message limits (as the
/// harness's own client has them).
pub fn raw_client(channel: Channel) -> PluginHooksClient<Channel> {
    PluginHooksClient::new(channel)
        .max_decoding_message_size(4 * 1024 * 1024)
        .max_encoding_message_size(usize::MAX)
}

/// `call` with a local bound only, so a hung reference plugin cannot hang
/// the run; nothing goes on the wire for it.
pub async fn bounded(
    call: impl Future<Output = Result<(), Status>>,
    bound: Duration,
) -> Result<(), Status> {
    match tokio::time::timeout(bound, call).await {
        Ok(answer) => answer,
        Err(_) => Err(Status::deadline_exceeded("no answer within the bound")),
    }
}

/// An HTTP request as ServeHTTP's request messages: `init` with the first
/// body chunk, then 64 KiB chunks, `body_complete` on the last.
pub fn http_messages(method: &str, url: &str, body_len: u64) -> Vec<pb::ServeHttpRequest> {
    const CHUNK: u64 = 64 * 1024;
    let chunks = body_len.div_ceil(CHUNK).max(1);
    (0..chunks)
        .map(|index| {
            let len = (body_len - index * CHUNK).min(CHUNK) as usize;
            pb::ServeHttpRequest {
                init: (index == 0).then(|| pb::ServeHttpRequestInit {
                    method: method.to_owned(),
                    url: url.to_owned(),
                    request_uri: url.to_owned(),
                    proto: "HTTP/1.1".to_owned(),
                    proto_major: 1,
                    proto_minor: 1,
                    host: "localhost:8065".to_owned(),
                    remote_addr: "127.0.0.1:50000".to_owned(),
                    content_length: i64::try_from(body_len).unwrap_or(i64::MAX),
                    ..Default::default()
                }),
                body_chunk: vec![b'x'; len],
                body_complete: index == chunks - 1,
            }
        })
        .collect()
}

/// Sends ServeHTTP's request messages and reads the answer up to
/// `body_complete` (or the end of the stream), as the server does.
pub async fn serve_http(
    messages: Vec<pb::ServeHttpRequest>,
    client: &mut PluginHooksClient<Channel>,
) -> Result<(), Status> {
    let mut responses = client
        .serve_http(tokio_stream::iter(messages))
        .await?
        .into_inner();
    while let Some(message) = responses.message().await? {
        if message.body_complete {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unary_hook_has_a_raw_request() {
        for hook in crate::hooks::hook_names() {
            let decoded = RawRequest::decode(&hook, &[]);
            match hook.as_str() {
                "Implemented" | "ServeHTTP" => assert!(decoded.is_none(), "{hook}"),
                _ => assert!(matches!(decoded, Some(Ok(_))), "{hook} has no raw request"),
            }
        }
        assert!(RawRequest::decode("NoSuchHook", &[]).is_none());
    }

    #[test]
    fn http_requests_are_cut_into_64_kib_chunks() {
        let small = http_messages("GET", "/api/hello", 0);
        assert_eq!(small.len(), 1);
        assert!(small[0].init.is_some() && small[0].body_complete);
        let upload = http_messages("POST", "/api/upload", (1 << 20) + 1);
        assert_eq!(upload.len(), 17);
        assert_eq!(upload[16].body_chunk.len(), 1);
        assert!(upload[1..].iter().all(|message| message.init.is_none()));
        assert_eq!(
            upload
                .iter()
                .filter(|message| message.body_complete)
                .count(),
            1
        );
    }
}
