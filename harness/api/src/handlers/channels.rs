//! Channels: create, look up, list, search, update, archive, counts, and
//! the direct and group channels the server creates on first use.

use mm_plugin_proto::pb;

use super::{
    common::{Page, contains_folded, is_active, require_channel},
    joins::TOWN_SQUARE,
};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    sha1,
    world::{SchemeRoles, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(create_channel);
    registry.add(get_channel);
    registry.add(get_channel_by_name);
    registry.add(get_channel_by_name_for_team_name);
    registry.add(get_public_channels_for_team);
    registry.add(get_channels_for_team_for_user);
    registry.add(search_channels);
    registry.add(update_channel);
    registry.add(delete_channel);
    registry.add(get_channel_stats);
    registry.add(get_direct_channel);
    registry.add(get_group_channel);
}

/// `model.ChannelGroupMinUsers` / `ChannelGroupMaxUsers`.
const GROUP_SIZE: std::ops::RangeInclusive<usize> = 3..=8;
/// `SearchChannels` answers at most this many.
const SEARCH_LIMIT: usize = 100;

fn is(channel: &pb::Channel, kind: pb::ChannelType) -> bool {
    channel.r#type == kind as i32
}

/// `model.IsValidChannelIdentifier`: 2 to 64 lowercase letters, digits,
/// dashes and underscores, starting and ending with a letter or digit.
fn is_valid_channel_name(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    (2..=64).contains(&name.len())
        && name.chars().all(|c| alnum(c) || c == '-' || c == '_')
        && name.chars().next().is_some_and(alnum)
        && name.chars().last().is_some_and(alnum)
}

/// `Channel.IsValid`, for what a plugin can get wrong.
fn check_channel(channel: &pb::Channel) -> HandlerResult<()> {
    let invalid = |id: &str, message: &str| {
        Err(ApiError::invalid("Channel.IsValid", id, message)
            .with_detail(format!("id={}", channel.id)))
    };
    if channel.display_name.chars().count() > 64 {
        return invalid(
            "model.channel.is_valid.display_name.app_error",
            "Invalid display name.",
        );
    }
    if !is_valid_channel_name(&channel.name) {
        return invalid(
            "model.channel.is_valid.2_or_more.app_error",
            "Name must be 2 or more lowercase alphanumeric characters.",
        );
    }
    if channel.r#type == pb::ChannelType::Unspecified as i32 {
        return invalid("model.channel.is_valid.type.app_error", "Invalid type.");
    }
    Ok(())
}

/// Channels for which `keep` holds, ordered by display name as the store does.
fn channels_where(world: &World, keep: impl Fn(&pb::Channel) -> bool) -> Vec<pb::Channel> {
    let mut channels: Vec<pb::Channel> = world
        .channels
        .values()
        .filter(|c| keep(c))
        .cloned()
        .collect();
    channels.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    channels
}

fn create_channel(
    world: &mut World,
    request: pb::CreateChannelRequest,
) -> HandlerResult<pb::CreateChannelResponse> {
    let mut channel = request.channel.unwrap_or_default();
    check_channel(&channel)?;
    if is(&channel, pb::ChannelType::Direct) {
        return Err(ApiError::invalid(
            "CreateChannel",
            "store.sql_channel.save.direct_channel.app_error",
            "Use SaveDirectChannel to create a direct channel.",
        ));
    }
    if !world.teams.contains_key(&channel.team_id) {
        return Err(ApiError::invalid(
            "Channel.IsValid",
            "model.channel.is_valid.team_id.app_error",
            "Invalid team id.",
        )
        .with_detail(format!("team_id={}", channel.team_id)));
    }
    if world
        .channel_by_name(&channel.team_id, &channel.name)
        .is_some()
    {
        return Err(ApiError::invalid(
            "CreateChannel",
            "store.sql_channel.save_channel.exists.app_error",
            "A channel with that name already exists on the same team.",
        ));
    }
    let now = world.now_millis();
    channel.id = world.next_id('c');
    channel.create_at = now;
    channel.update_at = now;
    channel.delete_at = 0;
    world.channels.insert(channel.id.clone(), channel.clone());
    Ok(pb::CreateChannelResponse {
        error: None,
        channel: Some(channel),
    })
}

fn get_channel(
    world: &mut World,
    request: pb::GetChannelRequest,
) -> HandlerResult<pb::GetChannelResponse> {
    let channel = require_channel(world, "GetChannel", &request.channel_id)?.clone();
    Ok(pb::GetChannelResponse {
        error: None,
        channel: Some(channel),
    })
}

fn channel_by_name_missing(location: &str, team_id: &str, name: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.channel.get_by_name.missing.app_error",
        "Channel does not exist.",
    )
    .with_detail(format!("team_id={team_id} name={name}"))
}

/// A live (or, when asked, archived) channel by name.
fn find_by_name(
    world: &World,
    team_id: &str,
    name: &str,
    include_deleted: bool,
) -> Option<pb::Channel> {
    world
        .channel_by_name(team_id, name)
        .filter(|channel| include_deleted || channel.delete_at == 0)
        .cloned()
}

fn get_channel_by_name(
    world: &mut World,
    request: pb::GetChannelByNameRequest,
) -> HandlerResult<pb::GetChannelByNameResponse> {
    let channel = find_by_name(
        world,
        &request.team_id,
        &request.name,
        request.include_deleted,
    )
    .ok_or_else(|| channel_by_name_missing("GetChannelByName", &request.team_id, &request.name))?;
    Ok(pb::GetChannelByNameResponse {
        error: None,
        channel: Some(channel),
    })
}

fn get_channel_by_name_for_team_name(
    world: &mut World,
    request: pb::GetChannelByNameForTeamNameRequest,
) -> HandlerResult<pb::GetChannelByNameForTeamNameResponse> {
    let location = "GetChannelByNameForTeamName";
    let team = world.team_by_name(&request.team_name).ok_or_else(|| {
        ApiError::not_found(
            location,
            "app.team.get_by_name.missing.app_error",
            "Unable to find the existing team.",
        )
        .with_detail(format!("name={}", request.team_name))
    })?;
    let channel = find_by_name(
        world,
        &team.id,
        &request.channel_name,
        request.include_deleted,
    )
    .ok_or_else(|| channel_by_name_missing(location, &team.id, &request.channel_name))?;
    Ok(pb::GetChannelByNameForTeamNameResponse {
        error: None,
        channel: Some(channel),
    })
}

fn get_public_channels_for_team(
    world: &mut World,
    request: pb::GetPublicChannelsForTeamRequest,
) -> HandlerResult<pb::GetPublicChannelsForTeamResponse> {
    let page = Page::new("GetPublicChannelsForTeam", request.page, request.per_page)?;
    let channels = page.apply(channels_where(world, |channel| {
        channel.team_id == request.team_id
            && is(channel, pb::ChannelType::Open)
            && channel.delete_at == 0
    }));
    Ok(pb::GetPublicChannelsForTeamResponse {
        error: None,
        channels,
    })
}

/// The user's channels in the team, direct and group channels included
/// (they belong to every team). Like the store, an empty answer is a 404.
fn get_channels_for_team_for_user(
    world: &mut World,
    request: pb::GetChannelsForTeamForUserRequest,
) -> HandlerResult<pb::GetChannelsForTeamForUserResponse> {
    let channels = channels_where(world, |channel| {
        (channel.team_id == request.team_id || channel.team_id.is_empty())
            && (request.include_deleted || channel.delete_at == 0)
            && world
                .channel_member(&channel.id, &request.user_id)
                .is_some()
    });
    if channels.is_empty() {
        return Err(ApiError::not_found(
            "GetChannelsForUser",
            "app.channel.get_channels.not_found.app_error",
            "No channels were found.",
        )
        .with_detail(format!(
            "team_id={} user_id={}",
            request.team_id, request.user_id
        )));
    }
    Ok(pb::GetChannelsForTeamForUserResponse {
        error: None,
        channels,
    })
}

/// Public channels of the team whose name or display name contains the term.
fn search_channels(
    world: &mut World,
    request: pb::SearchChannelsRequest,
) -> HandlerResult<pb::SearchChannelsResponse> {
    let channels = Page::offset(0, SEARCH_LIMIT).apply(channels_where(world, |channel| {
        channel.team_id == request.team_id
            && is(channel, pb::ChannelType::Open)
            && channel.delete_at == 0
            && (contains_folded(&channel.name, &request.term)
                || contains_folded(&channel.display_name, &request.term))
    }));
    Ok(pb::SearchChannelsResponse {
        error: None,
        channels,
    })
}

/// Saves the channel as sent. As upstream's store, an update naming no
/// existing channel changes nothing and still answers with the channel.
fn update_channel(
    world: &mut World,
    request: pb::UpdateChannelRequest,
) -> HandlerResult<pb::UpdateChannelResponse> {
    let mut channel = request.channel.unwrap_or_default();
    if channel.delete_at != 0 {
        return Err(ApiError::invalid(
            "UpdateChannel",
            "app.channel.update.bad_id",
            "Unable to update the channel.",
        )
        .with_detail("archived channels cannot be updated"));
    }
    check_channel(&channel)?;
    channel.update_at = world.now_millis();
    if world.channels.contains_key(&channel.id) {
        world.channels.insert(channel.id.clone(), channel.clone());
    }
    Ok(pb::UpdateChannelResponse {
        error: None,
        channel: Some(channel),
    })
}

/// Archives the channel. Upstream also posts "… archived the channel." as
/// its system bot; the harness has no system bot and posts nothing.
fn delete_channel(
    world: &mut World,
    request: pb::DeleteChannelRequest,
) -> HandlerResult<pb::DeleteChannelResponse> {
    let channel = require_channel(world, "GetChannel", &request.channel_id)?;
    if channel.delete_at > 0 {
        return Err(ApiError::invalid(
            "deleteChannel",
            "api.channel.delete_channel.deleted.app_error",
            "The channel has been archived or deleted.",
        ));
    }
    if channel.name == TOWN_SQUARE {
        return Err(ApiError::invalid(
            "deleteChannel",
            "api.channel.delete_channel.cannot.app_error",
            "Unable to delete the default channel town-square.",
        ));
    }
    let now = world.now_millis();
    let channel = world
        .channels
        .get_mut(&request.channel_id)
        .expect("checked above");
    channel.delete_at = now;
    channel.update_at = now;
    Ok(pb::DeleteChannelResponse { error: None })
}

/// Member counts. Upstream fills the guest count with the member count too
/// (it calls the same counter twice), and leaves pinned posts and files at 0.
fn get_channel_stats(
    world: &mut World,
    request: pb::GetChannelStatsRequest,
) -> HandlerResult<pb::GetChannelStatsResponse> {
    let members = world
        .channel_members_of(&request.channel_id)
        .filter(|member| world.users.get(&member.user_id).is_some_and(is_active))
        .count() as i64;
    Ok(pb::GetChannelStatsResponse {
        error: None,
        channel_stats: Some(pb::ChannelStats {
            channel_id: request.channel_id.clone(),
            member_count: members,
            guest_count: members,
            ..Default::default()
        }),
    })
}

/// `model.GetDMNameFromIds`: the two ids, smaller first, joined by `__`.
fn direct_channel_name(a: &str, b: &str) -> String {
    if a > b {
        format!("{b}__{a}")
    } else {
        format!("{a}__{b}")
    }
}

/// Adds a team-less channel with its members, as the store's direct and
/// group channel creation does.
fn create_teamless_channel(
    world: &mut World,
    kind: pb::ChannelType,
    name: String,
    display_name: String,
    members: &[String],
) -> pb::Channel {
    let now = world.now_millis();
    let channel = pb::Channel {
        id: world.next_id('c'),
        create_at: now,
        update_at: now,
        r#type: kind as i32,
        name,
        display_name,
        ..Default::default()
    };
    world.channels.insert(channel.id.clone(), channel.clone());
    for user_id in members {
        world.join_channel(&channel.id, user_id, SchemeRoles::member());
    }
    channel
}

/// The direct channel of two users (or of a user with themselves), created
/// on first use; the same pair always gets the same channel.
pub(super) fn direct_channel(
    world: &mut World,
    user_a: &str,
    user_b: &str,
) -> HandlerResult<pb::Channel> {
    let name = direct_channel_name(user_a, user_b);
    if let Some(existing) = world.channel_by_name("", &name) {
        return Ok(existing.clone());
    }
    let mut members = vec![user_a.to_owned(), user_b.to_owned()];
    members.dedup();
    if members.iter().any(|id| !world.users.contains_key(id)) {
        return Err(ApiError::invalid(
            "CreateDirectChannel",
            "api.channel.create_direct_channel.invalid_user.app_error",
            "Invalid user ID for direct channel creation.",
        )
        .with_detail(format!("No users found for ids: {user_a}. {user_b}")));
    }
    Ok(create_teamless_channel(
        world,
        pb::ChannelType::Direct,
        name,
        String::new(),
        &members,
    ))
}

fn get_direct_channel(
    world: &mut World,
    request: pb::GetDirectChannelRequest,
) -> HandlerResult<pb::GetDirectChannelResponse> {
    let channel = direct_channel(world, &request.user_id_1, &request.user_id_2)?;
    Ok(pb::GetDirectChannelResponse {
        error: None,
        channel: Some(channel),
    })
}

/// The group channel of 3 to 8 users, created on first use and named, as
/// upstream does, by the SHA-1 of the sorted member ids.
fn get_group_channel(
    world: &mut World,
    request: pb::GetGroupChannelRequest,
) -> HandlerResult<pb::GetGroupChannelResponse> {
    let mut ids = request.user_ids;
    if !GROUP_SIZE.contains(&ids.len()) {
        return Err(ApiError::invalid(
            "CreateGroupChannel",
            "api.channel.create_group.bad_size.app_error",
            "Group message channels must contain at least 3 and no more than 8 users.",
        ));
    }
    ids.sort();
    // Upstream compares the number of users found with the number of ids,
    // so a repeated id fails like an unknown one.
    let usernames: Option<Vec<String>> = ids
        .iter()
        .map(|id| world.users.get(id).map(|user| user.username.clone()))
        .collect();
    let repeated = ids.windows(2).any(|pair| pair[0] == pair[1]);
    let Some(mut usernames) = usernames.filter(|_| !repeated) else {
        return Err(ApiError::invalid(
            "CreateGroupChannel",
            "api.channel.create_group.bad_user.app_error",
            "One of the provided users does not exist.",
        )
        .with_detail(format!("user_ids={ids:?}")));
    };
    let name = sha1::hex_digest(ids.concat().as_bytes());
    let channel = match world.channel_by_name("", &name) {
        Some(existing) => existing.clone(),
        None => {
            usernames.sort();
            let display_name = usernames.join(", ");
            create_teamless_channel(world, pb::ChannelType::Group, name, display_name, &ids)
        }
    };
    Ok(pb::GetGroupChannelResponse {
        error: None,
        channel: Some(channel),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: &str = "tacme000000000000000000000";
    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";
    const ADMIN: &str = "uadmin00000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn names(channels: &[pb::Channel]) -> Vec<&str> {
        channels.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn direct_channels_are_created_once_for_the_pair() {
        let mut w = world();
        let dm = |w: &mut World, a: &str, b: &str| {
            get_direct_channel(
                w,
                pb::GetDirectChannelRequest {
                    user_id_1: a.into(),
                    user_id_2: b.into(),
                },
            )
        };
        let first = dm(&mut w, BOB, ALICE).unwrap().channel.unwrap();
        assert_eq!(first.name, format!("{ALICE}__{BOB}"));
        assert_eq!(first.r#type, pb::ChannelType::Direct as i32);
        let second = dm(&mut w, ALICE, BOB).unwrap().channel.unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(w.channel_members_of(&first.id).count(), 2);
        let own = dm(&mut w, ALICE, ALICE).unwrap().channel.unwrap();
        assert_eq!(w.channel_members_of(&own.id).count(), 1);
        let err = dm(&mut w, ALICE, "nobody").unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (
                400,
                "api.channel.create_direct_channel.invalid_user.app_error"
            )
        );
        // Direct channels count among the user's channels in any team.
        let mine = get_channels_for_team_for_user(
            &mut w,
            pb::GetChannelsForTeamForUserRequest {
                team_id: ACME.into(),
                user_id: ALICE.into(),
                include_deleted: false,
            },
        )
        .unwrap()
        .channels;
        assert_eq!(mine.len(), 4);
    }

    #[test]
    fn group_channels_are_named_by_their_members() {
        let mut w = world();
        let gm = |w: &mut World, ids: &[&str]| {
            get_group_channel(
                w,
                pb::GetGroupChannelRequest {
                    user_ids: ids.iter().map(|id| id.to_string()).collect(),
                },
            )
        };
        let channel = gm(&mut w, &[BOB, ALICE, ADMIN]).unwrap().channel.unwrap();
        assert_eq!(channel.display_name, "admin, alice, bob");
        assert_eq!(channel.name.len(), 40);
        let again = gm(&mut w, &[ADMIN, BOB, ALICE]).unwrap().channel.unwrap();
        assert_eq!(channel.id, again.id);
        assert_eq!(
            gm(&mut w, &[BOB, ALICE]).unwrap_err().id,
            "api.channel.create_group.bad_size.app_error"
        );
        assert_eq!(
            gm(&mut w, &[BOB, ALICE, "nobody"]).unwrap_err().id,
            "api.channel.create_group.bad_user.app_error"
        );
    }

    #[test]
    fn listing_searching_and_lookup_by_names() {
        let mut w = world();
        let public = get_public_channels_for_team(
            &mut w,
            pb::GetPublicChannelsForTeamRequest {
                team_id: ACME.into(),
                page: 0,
                per_page: 1,
            },
        )
        .unwrap()
        .channels;
        assert_eq!(names(&public), ["off-topic"]);
        let found = search_channels(
            &mut w,
            pb::SearchChannelsRequest {
                team_id: ACME.into(),
                term: "TOWN".into(),
            },
        )
        .unwrap()
        .channels;
        assert_eq!(names(&found), ["town-square"]);
        let secret = search_channels(
            &mut w,
            pb::SearchChannelsRequest {
                team_id: ACME.into(),
                term: "secret".into(),
            },
        )
        .unwrap()
        .channels;
        assert!(secret.is_empty(), "private channels are not searched");
        let by_team_name = get_channel_by_name_for_team_name(
            &mut w,
            pb::GetChannelByNameForTeamNameRequest {
                team_name: "acme".into(),
                channel_name: "off-topic".into(),
                include_deleted: false,
            },
        )
        .unwrap()
        .channel
        .unwrap();
        assert_eq!(by_team_name.id, "cacmeofftopic0000000000000");
        let err = get_channel_by_name_for_team_name(
            &mut w,
            pb::GetChannelByNameForTeamNameRequest {
                team_name: "nope".into(),
                channel_name: "off-topic".into(),
                include_deleted: false,
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.team.get_by_name.missing.app_error");
        let err = get_channels_for_team_for_user(
            &mut w,
            pb::GetChannelsForTeamForUserRequest {
                team_id: ACME.into(),
                user_id: "nobody".into(),
                include_deleted: false,
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.channel.get_channels.not_found.app_error")
        );
    }

    #[test]
    fn updates_archives_and_stats() {
        let mut w = world();
        let mut off_topic = w.channels["cacmeofftopic0000000000000"].clone();
        off_topic.header = "new header".into();
        update_channel(
            &mut w,
            pb::UpdateChannelRequest {
                channel: Some(off_topic.clone()),
            },
        )
        .unwrap();
        assert_eq!(w.channels[&off_topic.id].header, "new header");
        off_topic.name = "Bad Name".into();
        let err = update_channel(
            &mut w,
            pb::UpdateChannelRequest {
                channel: Some(off_topic.clone()),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "model.channel.is_valid.2_or_more.app_error");
        delete_channel(
            &mut w,
            pb::DeleteChannelRequest {
                channel_id: off_topic.id.clone(),
            },
        )
        .unwrap();
        let err = delete_channel(
            &mut w,
            pb::DeleteChannelRequest {
                channel_id: off_topic.id.clone(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "api.channel.delete_channel.deleted.app_error");
        let err = delete_channel(
            &mut w,
            pb::DeleteChannelRequest {
                channel_id: "cacmetownsquare00000000000".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "api.channel.delete_channel.cannot.app_error");
        let stats = get_channel_stats(
            &mut w,
            pb::GetChannelStatsRequest {
                channel_id: "cacmetownsquare00000000000".into(),
            },
        )
        .unwrap()
        .channel_stats
        .unwrap();
        assert_eq!((stats.member_count, stats.guest_count), (2, 2));
    }

    #[test]
    fn created_channels_are_validated_and_unique_per_team() {
        let mut w = world();
        let create = |w: &mut World, name: &str, kind: pb::ChannelType| {
            create_channel(
                w,
                pb::CreateChannelRequest {
                    channel: Some(pb::Channel {
                        team_id: ACME.into(),
                        name: name.into(),
                        display_name: name.into(),
                        r#type: kind as i32,
                        ..Default::default()
                    }),
                },
            )
        };
        assert!(create(&mut w, "general", pb::ChannelType::Open).is_ok());
        assert_eq!(
            create(&mut w, "general", pb::ChannelType::Open)
                .unwrap_err()
                .id,
            "store.sql_channel.save_channel.exists.app_error"
        );
        assert_eq!(
            create(&mut w, "other", pb::ChannelType::Unspecified)
                .unwrap_err()
                .id,
            "model.channel.is_valid.type.app_error"
        );
        assert_eq!(
            create(&mut w, "dm", pb::ChannelType::Direct)
                .unwrap_err()
                .id,
            "store.sql_channel.save.direct_channel.app_error"
        );
    }
}
