//! One strategy per unary hook: its typed request message (`pb::*Request`)
//! built from the entity strategies, then encoded for the wire.

use bytes::Bytes;
use mm_plugin_proto::pb;
use proptest::{collection::vec, prelude::*, sample::select, strategy::BoxedStrategy};
use prost::Message;

use super::{
    Profile, basics, messages, people,
    text::{pattern, random_id, short_text, weighted},
};

fn encoded<M>(strategy: impl Strategy<Value = M> + 'static) -> BoxedStrategy<Bytes>
where
    M: Message + std::fmt::Debug + 'static,
{
    strategy
        .prop_map(|request| Bytes::from(request.encode_to_vec()))
        .boxed()
}

/// The strategy of `hook`'s request, encoded; `None` for a name that is
/// not a unary hook (`Implemented`, `ServeHTTP`, unknown names). The
/// realistic profile keeps to the fields the server's hook path fills
/// (`hooks::as_server_sends`); the edge profile may set any field.
pub fn unary_request(hook: &str, p: Profile) -> Option<BoxedStrategy<Bytes>> {
    let any_field = any_field_request(hook, p)?;
    if p == Profile::Edge {
        return Some(any_field);
    }
    let descriptor = crate::wire::message_descriptor(&format!("{hook}Request"))?;
    Some(
        any_field
            .prop_map(move |bytes| {
                let mut message = prost_reflect::DynamicMessage::decode(descriptor.clone(), bytes)
                    .expect("a generated request decodes as its own type");
                crate::hooks::as_server_sends(&mut message);
                Bytes::from(message.encode_to_vec())
            })
            .boxed(),
    )
}

fn any_field_request(hook: &str, p: Profile) -> Option<BoxedStrategy<Bytes>> {
    use basics::*;
    use messages::*;
    use people::*;
    let rc = || request_context(p);
    let pc = || plugin_context(p);
    Some(match hook {
        "OnActivate" => encoded(rc().prop_map(|context| pb::OnActivateRequest { context })),
        "OnDeactivate" => encoded(rc().prop_map(|context| pb::OnDeactivateRequest { context })),
        "OnConfigurationChange" => {
            encoded(rc().prop_map(|context| pb::OnConfigurationChangeRequest { context }))
        }
        "OnInstall" => encoded((rc(), pc(), id(p, USERS)).prop_map(
            |(context, plugin_context, user_id)| pb::OnInstallRequest {
                context,
                plugin_context,
                event: Some(pb::OnInstallEvent { user_id }),
            },
        )),
        "OnSendDailyTelemetry" => {
            encoded(rc().prop_map(|context| pb::OnSendDailyTelemetryRequest { context }))
        }
        "RunDataRetention" => encoded(
            (
                rc(),
                timestamp(p),
                weighted(vec![
                    (4, (1i64..10_000).boxed()),
                    (1, select(&[0, -1, i64::MAX][..]).boxed()),
                ]),
            )
                .prop_map(|(context, now_time, batch_size)| {
                    pb::RunDataRetentionRequest {
                        context,
                        now_time,
                        batch_size,
                    }
                }),
        ),
        "OnCloudLimitsUpdated" => encoded(
            (rc(), product_limits(p))
                .prop_map(|(context, limits)| pb::OnCloudLimitsUpdatedRequest { context, limits }),
        ),
        "ConfigurationWillBeSaved" => {
            encoded((rc(), json_bytes(p)).prop_map(|(context, config_json)| {
                pb::ConfigurationWillBeSavedRequest {
                    context,
                    new_config: Some(pb::ConfigJson { config_json }),
                }
            }))
        }
        "MessageWillBePosted" => encoded((rc(), pc(), post(p)).prop_map(
            |(context, plugin_context, post)| pb::MessageWillBePostedRequest {
                context,
                plugin_context,
                post: Some(post),
            },
        )),
        "MessageWillBeUpdated" => encoded((rc(), pc(), post(p), post(p)).prop_map(
            |(context, plugin_context, new_post, old_post)| pb::MessageWillBeUpdatedRequest {
                context,
                plugin_context,
                new_post: Some(new_post),
                old_post: Some(old_post),
            },
        )),
        "MessageHasBeenPosted" => encoded((rc(), pc(), post(p)).prop_map(
            |(context, plugin_context, post)| pb::MessageHasBeenPostedRequest {
                context,
                plugin_context,
                post: Some(post),
            },
        )),
        "MessageHasBeenUpdated" => encoded((rc(), pc(), post(p), post(p)).prop_map(
            |(context, plugin_context, new_post, old_post)| pb::MessageHasBeenUpdatedRequest {
                context,
                plugin_context,
                new_post: Some(new_post),
                old_post: Some(old_post),
            },
        )),
        "MessagesWillBeConsumed" => encoded(
            (rc(), vec(post(p), 0..=5))
                .prop_map(|(context, posts)| pb::MessagesWillBeConsumedRequest { context, posts }),
        ),
        "MessageHasBeenDeleted" => encoded((rc(), pc(), post(p)).prop_map(
            |(context, plugin_context, post)| pb::MessageHasBeenDeletedRequest {
                context,
                plugin_context,
                post: Some(post),
            },
        )),
        "FileWillBeUploaded" => encoded((rc(), pc(), file_info(p), blob(p)).prop_map(
            |(context, plugin_context, file_info, file_content)| pb::FileWillBeUploadedRequest {
                context,
                plugin_context,
                file_info: Some(file_info),
                file_content,
            },
        )),
        "ReactionHasBeenAdded" => encoded((rc(), pc(), reaction(p)).prop_map(
            |(context, plugin_context, reaction)| pb::ReactionHasBeenAddedRequest {
                context,
                plugin_context,
                reaction: Some(reaction),
            },
        )),
        "ReactionHasBeenRemoved" => encoded((rc(), pc(), reaction(p)).prop_map(
            |(context, plugin_context, reaction)| pb::ReactionHasBeenRemovedRequest {
                context,
                plugin_context,
                reaction: Some(reaction),
            },
        )),
        "NotificationWillBePushed" => encoded((rc(), push_notification(p), id(p, USERS)).prop_map(
            |(context, push_notification, user_id)| pb::NotificationWillBePushedRequest {
                context,
                push_notification: Some(push_notification),
                user_id,
            },
        )),
        "EmailNotificationWillBeSent" => encoded((rc(), json_bytes(p)).prop_map(
            |(context, notification_json)| pb::EmailNotificationWillBeSentRequest {
                context,
                email_notification: Some(pb::EmailNotificationJson { notification_json }),
            },
        )),
        "PreferencesHaveChanged" => encoded((rc(), pc(), vec(preference(p), 0..=5)).prop_map(
            |(context, plugin_context, preferences)| pb::PreferencesHaveChangedRequest {
                context,
                plugin_context,
                preferences,
            },
        )),
        "UserHasBeenCreated" => encoded((rc(), pc(), user(p)).prop_map(
            |(context, plugin_context, user)| pb::UserHasBeenCreatedRequest {
                context,
                plugin_context,
                user: Some(user),
            },
        )),
        "UserWillLogIn" => encoded((rc(), pc(), user(p)).prop_map(
            |(context, plugin_context, user)| pb::UserWillLogInRequest {
                context,
                plugin_context,
                user: Some(user),
            },
        )),
        "UserHasLoggedIn" => encoded((rc(), pc(), user(p)).prop_map(
            |(context, plugin_context, user)| pb::UserHasLoggedInRequest {
                context,
                plugin_context,
                user: Some(user),
            },
        )),
        "UserHasBeenDeactivated" => encoded((rc(), pc(), user(p)).prop_map(
            |(context, plugin_context, user)| pb::UserHasBeenDeactivatedRequest {
                context,
                plugin_context,
                user: Some(user),
            },
        )),
        "OnSAMLLogin" => encoded((rc(), pc(), user(p), json_bytes(p)).prop_map(
            |(context, plugin_context, user, assertion_json)| pb::OnSamlLoginRequest {
                context,
                plugin_context,
                user: Some(user),
                assertion: Some(pb::SamlAssertionInfoJson { assertion_json }),
            },
        )),
        "ChannelHasBeenCreated" => encoded((rc(), pc(), channel(p)).prop_map(
            |(context, plugin_context, channel)| pb::ChannelHasBeenCreatedRequest {
                context,
                plugin_context,
                channel: Some(channel),
            },
        )),
        "UserHasJoinedChannel" => encoded((rc(), pc(), channel_member(p), actor(p)).prop_map(
            |(context, plugin_context, member, actor)| pb::UserHasJoinedChannelRequest {
                context,
                plugin_context,
                channel_member: Some(member),
                actor,
            },
        )),
        "UserHasLeftChannel" => encoded((rc(), pc(), channel_member(p), actor(p)).prop_map(
            |(context, plugin_context, member, actor)| pb::UserHasLeftChannelRequest {
                context,
                plugin_context,
                channel_member: Some(member),
                actor,
            },
        )),
        "UserHasJoinedTeam" => encoded((rc(), pc(), team_member(p), actor(p)).prop_map(
            |(context, plugin_context, member, actor)| pb::UserHasJoinedTeamRequest {
                context,
                plugin_context,
                team_member: Some(member),
                actor,
            },
        )),
        "UserHasLeftTeam" => encoded((rc(), pc(), team_member(p), actor(p)).prop_map(
            |(context, plugin_context, member, actor)| pb::UserHasLeftTeamRequest {
                context,
                plugin_context,
                team_member: Some(member),
                actor,
            },
        )),
        "ExecuteCommand" => encoded((rc(), pc(), command_args(p)).prop_map(
            |(context, plugin_context, args)| pb::ExecuteCommandRequest {
                context,
                plugin_context,
                args: Some(args),
            },
        )),
        "OnWebSocketConnect" => encoded((rc(), random_id(), id(p, USERS)).prop_map(
            |(context, web_conn_id, user_id)| pb::OnWebSocketConnectRequest {
                context,
                web_conn_id,
                user_id,
            },
        )),
        "OnWebSocketDisconnect" => encoded((rc(), random_id(), id(p, USERS)).prop_map(
            |(context, web_conn_id, user_id)| pb::OnWebSocketDisconnectRequest {
                context,
                web_conn_id,
                user_id,
            },
        )),
        "WebSocketMessageHasBeenPosted" => {
            let request = (
                any::<i64>(),
                weighted(vec![
                    (
                        4,
                        select(&["custom_com.example_action", "user_typing", "ping"][..])
                            .prop_map(str::to_owned)
                            .boxed(),
                    ),
                    (1, short_text(p)),
                ]),
                data(p),
            )
                .prop_map(|(seq, action, data)| pb::WebSocketRequest {
                    seq,
                    action,
                    data,
                });
            encoded((rc(), random_id(), id(p, USERS), request).prop_map(
                |(context, web_conn_id, user_id, request)| {
                    pb::WebSocketMessageHasBeenPostedRequest {
                        context,
                        web_conn_id,
                        user_id,
                        request: Some(request),
                    }
                },
            ))
        }
        "OnPluginClusterEvent" => encoded((rc(), pc(), pattern("[a-z_]{1,20}"), blob(p)).prop_map(
            |(context, plugin_context, id, data)| pb::OnPluginClusterEventRequest {
                context,
                plugin_context,
                event: Some(pb::PluginClusterEvent { id, data }),
            },
        )),
        "OnSharedChannelsSyncMsg" => encoded((rc(), json_bytes(p), remote_cluster(p)).prop_map(
            |(context, sync_msg_json, remote)| pb::OnSharedChannelsSyncMsgRequest {
                context,
                sync_msg: Some(pb::SyncMsgJson { sync_msg_json }),
                remote_cluster: Some(remote),
            },
        )),
        "OnSharedChannelsPing" => {
            encoded((rc(), remote_cluster(p)).prop_map(|(context, remote)| {
                pb::OnSharedChannelsPingRequest {
                    context,
                    remote_cluster: Some(remote),
                }
            }))
        }
        "OnSharedChannelsAttachmentSyncMsg" => {
            encoded((rc(), file_info(p), post(p), remote_cluster(p)).prop_map(
                |(context, file_info, post, remote)| pb::OnSharedChannelsAttachmentSyncMsgRequest {
                    context,
                    file_info: Some(file_info),
                    post: Some(post),
                    remote_cluster: Some(remote),
                },
            ))
        }
        "OnSharedChannelsProfileImageSyncMsg" => encoded(
            (rc(), user(p), remote_cluster(p)).prop_map(|(context, user, remote)| {
                pb::OnSharedChannelsProfileImageSyncMsgRequest {
                    context,
                    user: Some(user),
                    remote_cluster: Some(remote),
                }
            }),
        ),
        "GenerateSupportData" => encoded((rc(), pc()).prop_map(|(context, plugin_context)| {
            pb::GenerateSupportDataRequest {
                context,
                plugin_context,
            }
        })),
        _ => return None,
    })
}

/// Where the text a person typed is, in a hook's request (JSON field path):
/// what a spec's `*_message_matches` conditions look at.
pub fn message_path(hook: &str) -> Option<&'static [&'static str]> {
    Some(match hook {
        "MessageWillBePosted"
        | "MessageHasBeenPosted"
        | "MessageHasBeenDeleted"
        | "OnSharedChannelsAttachmentSyncMsg" => &["post", "message"],
        "MessageWillBeUpdated" | "MessageHasBeenUpdated" => &["new_post", "message"],
        "ExecuteCommand" => &["args", "command"],
        "NotificationWillBePushed" => &["push_notification", "message"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    #[test]
    fn every_unary_hook_has_a_strategy_whose_requests_decode() {
        let mut runner = TestRunner::deterministic();
        for method in mm_plugin_proto::hooks_service().methods() {
            let hook = method.name();
            if hook == "Implemented" || method.is_client_streaming() {
                assert!(unary_request(hook, Profile::Realistic).is_none(), "{hook}");
                continue;
            }
            for profile in [Profile::Realistic, Profile::Edge] {
                let strategy = unary_request(hook, profile)
                    .unwrap_or_else(|| panic!("no strategy for {hook}"));
                for _ in 0..8 {
                    let bytes = strategy.new_tree(&mut runner).unwrap().current();
                    let decoded =
                        prost_reflect::DynamicMessage::decode(method.input(), bytes.as_ref());
                    assert!(decoded.is_ok(), "{hook}: {decoded:?}");
                    if profile == Profile::Realistic {
                        let beyond = crate::hooks::beyond_server(&decoded.unwrap());
                        assert!(beyond.is_empty(), "{hook}: {beyond:?}");
                    }
                }
            }
        }
    }
}
