//! Shared channels and remotes. The shared channel service runs only when
//! `ConnectedWorkspacesSettings.EnableSharedChannels` is on (off by
//! default, and licensed upstream); otherwise every call answers that it
//! is not running. The only remotes of a one-server world are plugins
//! registered for shared channels, which is what plugins use this for.

use mm_plugin_proto::pb;

use super::common::{require_channel, require_user};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{Remote, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(register_plugin_for_shared_channels);
    registry.add(unregister_plugin_for_shared_channels);
    registry.add(share_channel);
    registry.add(update_shared_channel);
    registry.add(unshare_channel);
    registry.add(update_shared_channel_cursor);
    registry.add(sync_shared_channel);
    registry.add(invite_remote_to_channel);
    registry.add(uninvite_remote_from_channel);
}

fn check_service(world: &World, location: &str) -> HandlerResult<()> {
    if world.config_flag("ConnectedWorkspacesSettings", "EnableSharedChannels", false) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            location,
            "api.command_share.service_disabled",
            "Shared Channels Service is disabled.",
        ))
    }
}

fn not_shared(location: &str, channel_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.shared_channel.get.app_error",
        "Channel is not shared.",
    )
    .with_detail(format!("channel_id={channel_id}"))
}

fn remote_missing(location: &str, remote_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "api.command_share.remote_id_invalid.error",
        "Remote id is invalid.",
    )
    .with_detail(format!("remote_id={remote_id}"))
}

/// One remote per plugin: registering again answers the same id.
fn register_plugin_for_shared_channels(
    world: &mut World,
    request: pb::RegisterPluginForSharedChannelsRequest,
) -> HandlerResult<pb::RegisterPluginForSharedChannelsResponse> {
    let location = "RegisterPluginForSharedChannels";
    check_service(world, location)?;
    let opts = request
        .opts
        .ok_or_else(|| ApiError::argument(location, "opts is required"))?;
    let existing = world
        .remotes
        .iter()
        .find(|(_, remote)| remote.plugin_id == opts.plugin_id)
        .map(|(id, _)| id.clone());
    let remote_id = match existing {
        Some(id) => id,
        None => {
            let id = world.next_id('r');
            world.remotes.insert(
                id.clone(),
                Remote {
                    plugin_id: opts.plugin_id,
                    display_name: opts.display_name,
                    description: opts.description,
                },
            );
            id
        }
    };
    Ok(pb::RegisterPluginForSharedChannelsResponse {
        error: None,
        remote_id,
    })
}

/// The plugin's remote goes, and with it its channel invitations.
fn unregister_plugin_for_shared_channels(
    world: &mut World,
    request: pb::UnregisterPluginForSharedChannelsRequest,
) -> HandlerResult<pb::UnregisterPluginForSharedChannelsResponse> {
    check_service(world, "UnregisterPluginForSharedChannels")?;
    let gone: Vec<String> = world
        .remotes
        .iter()
        .filter(|(_, remote)| remote.plugin_id == request.plugin_id)
        .map(|(id, _)| id.clone())
        .collect();
    for remote_id in &gone {
        world.remotes.remove(remote_id);
    }
    world
        .channel_remotes
        .retain(|(_, remote_id), _| !gone.contains(remote_id));
    Ok(pb::UnregisterPluginForSharedChannelsResponse { error: None })
}

fn mark_shared(world: &mut World, channel_id: &str, shared: bool) {
    if let Some(channel) = world.channels.get_mut(channel_id) {
        channel.shared = Some(shared);
    }
}

/// Shares a channel: it must exist and not be shared yet; team and type
/// come from the channel, and the share name must be set.
pub(crate) fn share(
    world: &mut World,
    mut shared: pb::SharedChannel,
) -> HandlerResult<pb::SharedChannel> {
    let location = "ShareChannel";
    let channel = require_channel(world, location, &shared.channel_id)?.clone();
    if world.shared_channels.contains_key(&channel.id) {
        return Err(ApiError::invalid(
            location,
            "api.command_share.channel_shared.error",
            "Channel is already shared.",
        )
        .with_detail(format!("channel_id={}", channel.id)));
    }
    if shared.share_name.is_empty() {
        return Err(ApiError::invalid(
            "SharedChannel.IsValid",
            "model.channel.is_valid.name.app_error",
            "Invalid channel name.",
        ));
    }
    let now = world.now_millis();
    shared.team_id = channel.team_id.clone();
    shared.r#type = match pb::ChannelType::try_from(channel.r#type) {
        Ok(pb::ChannelType::Private) => "P",
        Ok(pb::ChannelType::Direct) => "D",
        Ok(pb::ChannelType::Group) => "G",
        _ => "O",
    }
    .to_owned();
    shared.create_at = now;
    shared.update_at = now;
    world
        .shared_channels
        .insert(channel.id.clone(), shared.clone());
    mark_shared(world, &channel.id, true);
    Ok(shared)
}

fn share_channel(
    world: &mut World,
    request: pb::ShareChannelRequest,
) -> HandlerResult<pb::ShareChannelResponse> {
    check_service(world, "ShareChannel")?;
    let shared = request
        .shared_channel
        .ok_or_else(|| ApiError::argument("ShareChannel", "shared_channel is required"))?;
    let shared = share(world, shared)?;
    Ok(pb::ShareChannelResponse {
        error: None,
        shared_channel: Some(shared),
    })
}

/// Share name, display name, purpose, header and read-only change.
fn update_shared_channel(
    world: &mut World,
    request: pb::UpdateSharedChannelRequest,
) -> HandlerResult<pb::UpdateSharedChannelResponse> {
    let location = "UpdateSharedChannel";
    check_service(world, location)?;
    let change = request
        .shared_channel
        .ok_or_else(|| ApiError::argument(location, "shared_channel is required"))?;
    let now = world.now_millis();
    let shared = world
        .shared_channels
        .get_mut(&change.channel_id)
        .ok_or_else(|| not_shared(location, &change.channel_id))?;
    shared.share_name = change.share_name;
    shared.share_display_name = change.share_display_name;
    shared.share_purpose = change.share_purpose;
    shared.share_header = change.share_header;
    shared.read_only = change.read_only;
    shared.update_at = now;
    Ok(pb::UpdateSharedChannelResponse {
        error: None,
        shared_channel: Some(shared.clone()),
    })
}

/// `false`, not an error, when the channel was not shared.
fn unshare_channel(
    world: &mut World,
    request: pb::UnshareChannelRequest,
) -> HandlerResult<pb::UnshareChannelResponse> {
    check_service(world, "UnshareChannel")?;
    let unshared = world.shared_channels.remove(&request.channel_id).is_some();
    if unshared {
        world
            .channel_remotes
            .retain(|(channel_id, _), _| *channel_id != request.channel_id);
        mark_shared(world, &request.channel_id, false);
    }
    Ok(pb::UnshareChannelResponse {
        error: None,
        unshared,
    })
}

fn update_shared_channel_cursor(
    world: &mut World,
    request: pb::UpdateSharedChannelCursorRequest,
) -> HandlerResult<pb::UpdateSharedChannelCursorResponse> {
    let location = "UpdateSharedChannelCursor";
    check_service(world, location)?;
    let cursor = world
        .channel_remotes
        .get_mut(&(request.channel_id.clone(), request.remote_id.clone()))
        .ok_or_else(|| {
            ApiError::not_found(
                location,
                "app.shared_channel.get_remote.app_error",
                "The remote is not invited to this channel.",
            )
            .with_detail(format!(
                "channel_id={} remote_id={}",
                request.channel_id, request.remote_id
            ))
        })?;
    *cursor = request.cursor.unwrap_or_default();
    Ok(pb::UpdateSharedChannelCursorResponse { error: None })
}

/// Nothing to sync with in one world; the channel must be shared.
fn sync_shared_channel(
    world: &mut World,
    request: pb::SyncSharedChannelRequest,
) -> HandlerResult<pb::SyncSharedChannelResponse> {
    check_service(world, "SyncSharedChannel")?;
    if !world.shared_channels.contains_key(&request.channel_id) {
        return Err(not_shared("SyncSharedChannel", &request.channel_id));
    }
    Ok(pb::SyncSharedChannelResponse { error: None })
}

/// The remote must exist; an unshared channel is shared first when asked
/// (by `user_id`), else refused. Inviting twice is harmless.
fn invite_remote_to_channel(
    world: &mut World,
    request: pb::InviteRemoteToChannelRequest,
) -> HandlerResult<pb::InviteRemoteToChannelResponse> {
    let location = "InviteRemoteToChannel";
    check_service(world, location)?;
    if !world.remotes.contains_key(&request.remote_id) {
        return Err(remote_missing(location, &request.remote_id));
    }
    let channel = require_channel(world, location, &request.channel_id)?.clone();
    if !world.shared_channels.contains_key(&channel.id) {
        if !request.share_if_not_shared {
            return Err(not_shared(location, &channel.id));
        }
        require_user(world, location, &request.user_id)?;
        share(
            world,
            pb::SharedChannel {
                channel_id: channel.id.clone(),
                share_name: channel.name.clone(),
                share_display_name: channel.display_name.clone(),
                share_purpose: channel.purpose.clone(),
                share_header: channel.header.clone(),
                creator_id: request.user_id.clone(),
                ..Default::default()
            },
        )?;
    }
    world
        .channel_remotes
        .entry((channel.id, request.remote_id))
        .or_default();
    Ok(pb::InviteRemoteToChannelResponse { error: None })
}

fn uninvite_remote_from_channel(
    world: &mut World,
    request: pb::UninviteRemoteFromChannelRequest,
) -> HandlerResult<pb::UninviteRemoteFromChannelResponse> {
    let location = "UninviteRemoteFromChannel";
    check_service(world, location)?;
    world
        .channel_remotes
        .remove(&(request.channel_id.clone(), request.remote_id.clone()))
        .ok_or_else(|| {
            ApiError::invalid(
                location,
                "api.command_share.channel_remote_id_not_exists",
                "Shared channel remote does not exist for this channel.",
            )
            .with_detail(format!("remote_id={}", request.remote_id))
        })?;
    Ok(pb::UninviteRemoteFromChannelResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const OFF_TOPIC: &str = "cacmeofftopic0000000000000";

    fn world() -> World {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        w.config["ConnectedWorkspacesSettings"] = serde_json::json!({"EnableSharedChannels": true});
        w
    }

    fn register(w: &mut World) -> String {
        register_plugin_for_shared_channels(
            w,
            pb::RegisterPluginForSharedChannelsRequest {
                opts: Some(pb::RegisterPluginOpts {
                    plugin_id: "p".into(),
                    display_name: "P".into(),
                    description: String::new(),
                }),
            },
        )
        .unwrap()
        .remote_id
    }

    #[test]
    fn the_service_must_be_enabled() {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        let err = sync_shared_channel(&mut w, Default::default()).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (400, "api.command_share.service_disabled")
        );
    }

    #[test]
    fn remotes_are_invited_to_channels_shared_on_demand() {
        let mut w = world();
        let remote = register(&mut w);
        assert_eq!(register(&mut w), remote, "one remote per plugin");
        let invite = |w: &mut World, share_if_not_shared| {
            invite_remote_to_channel(
                w,
                pb::InviteRemoteToChannelRequest {
                    channel_id: OFF_TOPIC.into(),
                    remote_id: remote.clone(),
                    user_id: ALICE.into(),
                    share_if_not_shared,
                },
            )
        };
        assert_eq!(
            invite(&mut w, false).unwrap_err().id,
            "app.shared_channel.get.app_error"
        );
        invite(&mut w, true).unwrap();
        assert_eq!(w.channels[OFF_TOPIC].shared, Some(true));
        assert_eq!(w.shared_channels[OFF_TOPIC].creator_id, ALICE);
        update_shared_channel_cursor(
            &mut w,
            pb::UpdateSharedChannelCursorRequest {
                channel_id: OFF_TOPIC.into(),
                remote_id: remote.clone(),
                cursor: Some(pb::GetPostsSinceForSyncCursor {
                    last_post_update_at: 7,
                    last_post_id: "x".into(),
                }),
            },
        )
        .unwrap();
        assert_eq!(
            w.channel_remotes[&(OFF_TOPIC.to_owned(), remote.clone())].last_post_update_at,
            7
        );
        sync_shared_channel(
            &mut w,
            pb::SyncSharedChannelRequest {
                channel_id: OFF_TOPIC.into(),
            },
        )
        .unwrap();
        uninvite_remote_from_channel(
            &mut w,
            pb::UninviteRemoteFromChannelRequest {
                channel_id: OFF_TOPIC.into(),
                remote_id: remote.clone(),
            },
        )
        .unwrap();
        let unshare = |w: &mut World| {
            unshare_channel(
                w,
                pb::UnshareChannelRequest {
                    channel_id: OFF_TOPIC.into(),
                },
            )
            .unwrap()
            .unshared
        };
        assert!(unshare(&mut w));
        assert!(!unshare(&mut w));
        assert_eq!(w.channels[OFF_TOPIC].shared, Some(false));
    }
}
