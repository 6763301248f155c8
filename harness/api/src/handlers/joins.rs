//! What the server does when someone joins or leaves a team or a channel:
//! the membership itself, the default channels a new team member joins, and
//! the system messages everyone sees ("alice joined the channel.").

use mm_plugin_proto::pb;
use serde_json::json;

use super::common::{
    channel_member_missing, channel_missing, require_channel, require_team, require_user,
};
use crate::{
    errors::ApiError,
    registry::HandlerResult,
    world::{SchemeRoles, World},
};

/// The channel nobody may leave.
pub const TOWN_SQUARE: &str = "town-square";
/// Channels every new team member joins (`TeamSettings.ExperimentalDefaultChannels` unset).
const DEFAULT_CHANNELS: [&str; 2] = [TOWN_SQUARE, "off-topic"];

fn username(world: &World, user_id: &str) -> String {
    world
        .users
        .get(user_id)
        .map(|user| user.username.clone())
        .unwrap_or_default()
}

fn props(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("system post props are written as objects"),
    }
}

/// The message announcing `user_id` in a channel: joined by themselves, or
/// added by `requestor_id`.
fn post_arrival(
    world: &mut World,
    channel_id: &str,
    user_id: &str,
    requestor_id: &str,
    team: bool,
) {
    let name = username(world, user_id);
    if requestor_id.is_empty() || requestor_id == user_id {
        let (kind, text) = if team {
            ("system_join_team", "joined the team.")
        } else {
            ("system_join_channel", "joined the channel.")
        };
        world.system_post(
            channel_id,
            user_id,
            kind,
            format!("{name} {text}"),
            props(json!({"username": name})),
        );
    } else {
        let requestor = username(world, requestor_id);
        let (kind, text) = if team {
            ("system_add_to_team", "added to the team by")
        } else {
            ("system_add_to_channel", "added to the channel by")
        };
        world.system_post(
            channel_id,
            requestor_id,
            kind,
            format!("{name} {text} {requestor}."),
            props(json!({
                "userId": requestor_id,
                "username": requestor,
                "addedUserId": user_id,
                "addedUsername": name,
            })),
        );
    }
}

/// `AddUserToTeam` → `JoinUserToTeam`: the team and user must exist; an
/// existing member is returned as is; a new one joins the team's open
/// default channels, announced in each.
pub fn add_to_team(
    world: &mut World,
    team_id: &str,
    user_id: &str,
    requestor_id: &str,
) -> HandlerResult<pb::TeamMember> {
    require_team(world, "AddUserToTeam", team_id)?;
    require_user(world, "AddUserToTeam", user_id)?;
    if world.join_team(team_id, user_id, SchemeRoles::member()) {
        for name in DEFAULT_CHANNELS {
            let Some(channel) = world.channel_by_name(team_id, name) else {
                continue;
            };
            if channel.r#type != pb::ChannelType::Open as i32 {
                continue;
            }
            let channel_id = channel.id.clone();
            world.join_channel(&channel_id, user_id, SchemeRoles::member());
            post_arrival(
                world,
                &channel_id,
                user_id,
                requestor_id,
                name == TOWN_SQUARE,
            );
        }
    }
    Ok(world
        .team_member(team_id, user_id)
        .expect("joined above")
        .to_proto())
}

/// `RemoveUserFromTeam` → `LeaveTeam`: the user leaves the team and its
/// channels, announced in town square.
pub fn remove_from_team(
    world: &mut World,
    team_id: &str,
    user_id: &str,
    requestor_id: &str,
) -> HandlerResult<()> {
    // Upstream reports a missing team with the invite-id lookup's error.
    if !world.teams.contains_key(team_id) {
        return Err(ApiError::not_found(
            "RemoveUserFromTeam",
            "app.team.get_by_invite_id.finding.app_error",
            "Unable to find the existing team.",
        )
        .with_detail(format!("team_id={team_id}")));
    }
    require_user(world, "RemoveUserFromTeam", user_id)?;
    if world.team_member(team_id, user_id).is_none() {
        return Err(ApiError::invalid(
            "LeaveTeam",
            "api.team.remove_user_from_team.missing.app_error",
            "The user does not appear to be part of this team.",
        )
        .with_detail(format!("team_id={team_id} user_id={user_id}")));
    }
    world.leave_team(team_id, user_id);
    if let Some(town_square) = world.channel_by_name(team_id, TOWN_SQUARE) {
        let channel_id = town_square.id.clone();
        let name = username(world, user_id);
        let (kind, text) = if requestor_id == user_id {
            ("system_leave_team", "left the team.")
        } else {
            ("system_remove_from_team", "removed from the team.")
        };
        world.system_post(
            &channel_id,
            user_id,
            kind,
            format!("{name} {text}"),
            props(json!({"username": name})),
        );
    }
    Ok(())
}

/// `AddChannelMember`: an existing member is returned as is; otherwise the
/// user must exist, be a current member of the channel's team, and the
/// channel must be public or private (not direct or group).
pub fn add_to_channel(
    world: &mut World,
    channel_id: &str,
    user_id: &str,
    requestor_id: &str,
) -> HandlerResult<pb::ChannelMember> {
    let channel = require_channel(world, "GetChannel", channel_id)?.clone();
    if let Some(member) = world.channel_member(channel_id, user_id) {
        return Ok(member.to_proto());
    }
    require_user(world, "GetUser", user_id)?;
    if !requestor_id.is_empty() {
        require_user(world, "GetUser", requestor_id)?;
    }
    match world.team_member(&channel.team_id, user_id) {
        None => {
            return Err(ApiError::not_found(
                "AddUserToChannel",
                "app.team.get_member.missing.app_error",
                "No team member found for that user ID and team ID.",
            )
            .with_detail(format!("team_id={} user_id={user_id}", channel.team_id)));
        }
        Some(member) if !member.is_active() => {
            return Err(ApiError::invalid(
                "AddUserToChannel",
                "api.channel.add_user.to.channel.failed.deleted.app_error",
                "Failed to add user to channel because they have been removed from the team.",
            ));
        }
        Some(_) => {}
    }
    let open_or_private = [
        pb::ChannelType::Open as i32,
        pb::ChannelType::Private as i32,
    ];
    if !open_or_private.contains(&channel.r#type) {
        return Err(ApiError::invalid(
            "AddUserToChannel",
            "api.channel.add_user_to_channel.type.app_error",
            "Can not add user to this channel type.",
        ));
    }
    let member = world.join_channel(channel_id, user_id, SchemeRoles::member());
    post_arrival(world, channel_id, user_id, requestor_id, false);
    Ok(member.to_proto())
}

/// `LeaveChannel`: not from direct or group channels, not the last member
/// of a private channel, never town square; announced in the channel.
pub fn leave_channel(world: &mut World, channel_id: &str, user_id: &str) -> HandlerResult<()> {
    let channel = world
        .channels
        .get(channel_id)
        .cloned()
        .ok_or_else(|| channel_missing("LeaveChannel", channel_id))?;
    require_user(world, "LeaveChannel", user_id)?;
    let direct_or_group = [
        pb::ChannelType::Direct as i32,
        pb::ChannelType::Group as i32,
    ];
    if direct_or_group.contains(&channel.r#type) {
        return Err(ApiError::invalid(
            "LeaveChannel",
            "api.channel.leave.direct.app_error",
            "Unable to leave a direct message channel.",
        ));
    }
    let members = world.channel_members_of(channel_id).count();
    if channel.r#type == pb::ChannelType::Private as i32 && members == 1 {
        return Err(ApiError::invalid(
            "LeaveChannel",
            "api.channel.leave.last_member.app_error",
            "You're the only member left, try removing the Private Channel instead of leaving.",
        )
        .with_detail(format!("userId={user_id}")));
    }
    if channel.name == TOWN_SQUARE {
        return Err(ApiError::invalid(
            "RemoveUserFromChannel",
            "api.channel.remove.default.app_error",
            "Unable to remove user from the default channel town-square.",
        ));
    }
    if world.leave_channel(channel_id, user_id).is_none() {
        return Err(channel_member_missing(
            "GetChannelMember",
            channel_id,
            user_id,
        ));
    }
    let name = username(world, user_id);
    world.system_post(
        channel_id,
        user_id,
        "system_leave_channel",
        format!("@{name} left the channel."),
        props(json!({"username": name})),
    );
    Ok(())
}
