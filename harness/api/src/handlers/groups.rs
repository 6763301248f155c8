//! User groups (custom ones, and LDAP ones as a sync would create them),
//! their members, and their syncables: the teams and channels a group is
//! linked to, whose members the server keeps in line with the group's.
//! Deleting keeps the row with `delete_at`, as upstream soft-deletes.

use mm_plugin_proto::pb;

use super::{
    common::{Page, contains_folded, require_channel, require_team, require_user},
    joins::{add_to_channel, add_to_team, leave_channel, remove_from_team},
};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_group);
    registry.add(get_group_by_name);
    registry.add(get_group_by_remote_id);
    registry.add(get_groups);
    registry.add(get_groups_by_source);
    registry.add(get_groups_for_user);
    registry.add(get_group_member_users);
    registry.add(create_group);
    registry.add(update_group);
    registry.add(delete_group);
    registry.add(restore_group);
    registry.add(upsert_group_member);
    registry.add(upsert_group_members);
    registry.add(delete_group_member);
    registry.add(get_group_syncable);
    registry.add(get_group_syncables);
    registry.add(upsert_group_syncable);
    registry.add(update_group_syncable);
    registry.add(delete_group_syncable);
    registry.add(create_default_syncable_memberships);
    registry.add(delete_group_constrained_memberships);
}

pub(crate) const SOURCE_CUSTOM: &str = "custom";
const SOURCE_LDAP: &str = "ldap";
pub(crate) const SYNCABLE_TEAM: &str = "Team";
pub(crate) const SYNCABLE_CHANNEL: &str = "Channel";

fn no_rows(location: &str, detail: String) -> ApiError {
    ApiError::not_found(location, "app.group.no_rows", "No matching group found.")
        .with_detail(detail)
}

fn live_group<'w>(world: &'w World, location: &str, id: &str) -> HandlerResult<&'w pb::Group> {
    world
        .groups
        .get(id)
        .filter(|group| group.delete_at == 0)
        .ok_or_else(|| no_rows(location, format!("group_id={id}")))
}

fn live_groups(world: &World) -> impl Iterator<Item = &pb::Group> {
    world.groups.values().filter(|group| group.delete_at == 0)
}

fn answer_group(
    group: Option<&pb::Group>,
    location: &str,
    detail: String,
) -> HandlerResult<pb::Group> {
    group.cloned().ok_or_else(|| no_rows(location, detail))
}

fn is_member(world: &World, group_id: &str, user_id: &str) -> bool {
    world
        .group_members
        .get(&(group_id.to_owned(), user_id.to_owned()))
        .is_some_and(|member| member.delete_at == 0)
}

fn get_group(
    world: &mut World,
    request: pb::GetGroupRequest,
) -> HandlerResult<pb::GetGroupResponse> {
    // The store reads deleted groups too.
    let group = answer_group(
        world.groups.get(&request.group_id),
        "GetGroup",
        format!("group_id={}", request.group_id),
    )?;
    Ok(pb::GetGroupResponse {
        error: None,
        group: Some(group),
    })
}

fn get_group_by_name(
    world: &mut World,
    request: pb::GetGroupByNameRequest,
) -> HandlerResult<pb::GetGroupByNameResponse> {
    let found = live_groups(world).find(|group| group.name == request.name);
    let group = answer_group(found, "GetGroupByName", format!("name={}", request.name))?;
    Ok(pb::GetGroupByNameResponse {
        error: None,
        group: Some(group),
    })
}

fn get_group_by_remote_id(
    world: &mut World,
    request: pb::GetGroupByRemoteIdRequest,
) -> HandlerResult<pb::GetGroupByRemoteIdResponse> {
    let found = world
        .groups
        .values()
        .find(|group| group.remote_id == request.remote_id && group.source == request.group_source);
    let group = answer_group(
        found,
        "GetGroupByRemoteID",
        format!("remote_id={}", request.remote_id),
    )?;
    Ok(pb::GetGroupByRemoteIdResponse {
        error: None,
        group: Some(group),
    })
}

/// Filtered by the search term (name or display name), source and
/// `filter_allow_reference` (`"true"`/`"false"`), sorted by display name.
fn get_groups(
    world: &mut World,
    request: pb::GetGroupsRequest,
) -> HandlerResult<pb::GetGroupsResponse> {
    let page = Page::new("GetGroups", request.page, request.per_page)?;
    let opts = request.opts.unwrap_or_default();
    let mut groups: Vec<pb::Group> = live_groups(world)
        .filter(|g| {
            opts.q.is_empty()
                || contains_folded(&g.name, &opts.q)
                || contains_folded(&g.display_name, &opts.q)
        })
        .filter(|g| opts.source.is_empty() || g.source == opts.source)
        .filter(|g| match opts.filter_allow_reference.as_str() {
            "true" => g.allow_reference,
            "false" => !g.allow_reference,
            _ => true,
        })
        .cloned()
        .collect();
    groups.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    Ok(pb::GetGroupsResponse {
        error: None,
        groups: page.apply(groups),
    })
}

fn get_groups_by_source(
    world: &mut World,
    request: pb::GetGroupsBySourceRequest,
) -> HandlerResult<pb::GetGroupsBySourceResponse> {
    let groups = live_groups(world)
        .filter(|g| g.source == request.group_source)
        .cloned()
        .collect();
    Ok(pb::GetGroupsBySourceResponse {
        error: None,
        groups,
    })
}

fn get_groups_for_user(
    world: &mut World,
    request: pb::GetGroupsForUserRequest,
) -> HandlerResult<pb::GetGroupsForUserResponse> {
    let groups = live_groups(world)
        .filter(|g| is_member(world, &g.id, &request.user_id))
        .cloned()
        .collect();
    Ok(pb::GetGroupsForUserResponse {
        error: None,
        groups,
    })
}

/// Active members' accounts, by username; an unknown group has none.
fn get_group_member_users(
    world: &mut World,
    request: pb::GetGroupMemberUsersRequest,
) -> HandlerResult<pb::GetGroupMemberUsersResponse> {
    let page = Page::new("GetGroupMemberUsers", request.page, request.per_page)?;
    let mut users: Vec<pb::User> = world
        .users
        .values()
        .filter(|user| is_member(world, &request.group_id, &user.id))
        .cloned()
        .collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(pb::GetGroupMemberUsersResponse {
        error: None,
        users: page.apply(users),
    })
}

/// `Group.IsValidForCreate` for the fields a plugin sets, and the unique
/// name among live groups.
fn check_group(world: &World, group: &pb::Group) -> HandlerResult<()> {
    let invalid =
        |id: &str, message: &str| Err(ApiError::invalid("Group.IsValidForCreate", id, message));
    if group.display_name.is_empty() || group.display_name.chars().count() > 128 {
        return invalid(
            "model.group.display_name.app_error",
            "Invalid display name.",
        );
    }
    if !matches!(group.source.as_str(), SOURCE_CUSTOM | SOURCE_LDAP) {
        return invalid("model.group.source.app_error", "Invalid source.");
    }
    if group.source == SOURCE_LDAP && group.remote_id.is_empty() {
        return invalid("model.group.remote_id.app_error", "Invalid remote id.");
    }
    let name_ok = group
        .name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if (group.allow_reference || !group.name.is_empty()) && (group.name.is_empty() || !name_ok) {
        return invalid(
            "model.group.name.invalid_chars.app_error",
            "Invalid characters in the name.",
        );
    }
    let taken = live_groups(world)
        .any(|other| other.id != group.id && !group.name.is_empty() && other.name == group.name);
    if taken {
        return Err(ApiError::invalid(
            "CreateGroup",
            "app.custom_group.unique_name",
            "group name is not unique",
        ));
    }
    Ok(())
}

fn create_group(
    world: &mut World,
    request: pb::CreateGroupRequest,
) -> HandlerResult<pb::CreateGroupResponse> {
    let mut group = request
        .group
        .ok_or_else(|| ApiError::argument("CreateGroup", "group is required"))?;
    group.id = world.next_id('g');
    check_group(world, &group)?;
    let now = world.now_millis();
    group.create_at = now;
    group.update_at = now;
    group.delete_at = 0;
    world.groups.insert(group.id.clone(), group.clone());
    Ok(pb::CreateGroupResponse {
        error: None,
        group: Some(group),
    })
}

/// Name, display name, description, remote id and `allow_reference`
/// change; source and times stay.
fn update_group(
    world: &mut World,
    request: pb::UpdateGroupRequest,
) -> HandlerResult<pb::UpdateGroupResponse> {
    let mut group = request
        .group
        .ok_or_else(|| ApiError::argument("UpdateGroup", "group is required"))?;
    let old = live_group(world, "UpdateGroup", &group.id)?.clone();
    group.source = old.source;
    group.create_at = old.create_at;
    group.delete_at = 0;
    check_group(world, &group)?;
    group.update_at = world.now_millis();
    world.groups.insert(group.id.clone(), group.clone());
    Ok(pb::UpdateGroupResponse {
        error: None,
        group: Some(group),
    })
}

fn delete_group(
    world: &mut World,
    request: pb::DeleteGroupRequest,
) -> HandlerResult<pb::DeleteGroupResponse> {
    live_group(world, "DeleteGroup", &request.group_id)?;
    let now = world.now_millis();
    let group = world
        .groups
        .get_mut(&request.group_id)
        .expect("checked above");
    group.delete_at = now;
    group.update_at = now;
    Ok(pb::DeleteGroupResponse {
        error: None,
        group: Some(group.clone()),
    })
}

fn restore_group(
    world: &mut World,
    request: pb::RestoreGroupRequest,
) -> HandlerResult<pb::RestoreGroupResponse> {
    let now = world.now_millis();
    let group = world
        .groups
        .get_mut(&request.group_id)
        .filter(|group| group.delete_at != 0)
        .ok_or_else(|| no_rows("RestoreGroup", format!("group_id={}", request.group_id)))?;
    group.delete_at = 0;
    group.update_at = now;
    Ok(pb::RestoreGroupResponse {
        error: None,
        group: Some(group.clone()),
    })
}

/// Adds (or brings back) a member; the group and the user must exist.
pub(crate) fn upsert_member(
    world: &mut World,
    location: &str,
    group_id: &str,
    user_id: &str,
) -> HandlerResult<pb::GroupMember> {
    live_group(world, location, group_id)?;
    require_user(world, location, user_id)?;
    let now = world.now_millis();
    let member = world
        .group_members
        .entry((group_id.to_owned(), user_id.to_owned()))
        .or_insert_with(|| pb::GroupMember {
            group_id: group_id.to_owned(),
            user_id: user_id.to_owned(),
            create_at: now,
            delete_at: 0,
        });
    member.delete_at = 0;
    Ok(member.clone())
}

fn upsert_group_member(
    world: &mut World,
    request: pb::UpsertGroupMemberRequest,
) -> HandlerResult<pb::UpsertGroupMemberResponse> {
    let member = upsert_member(
        world,
        "UpsertGroupMember",
        &request.group_id,
        &request.user_id,
    )?;
    Ok(pb::UpsertGroupMemberResponse {
        error: None,
        group_member: Some(member),
    })
}

/// All or nothing: every user is checked before any joins.
fn upsert_group_members(
    world: &mut World,
    request: pb::UpsertGroupMembersRequest,
) -> HandlerResult<pb::UpsertGroupMembersResponse> {
    let location = "UpsertGroupMembers";
    live_group(world, location, &request.group_id)?;
    for user_id in &request.user_ids {
        require_user(world, location, user_id)?;
    }
    let group_members = request
        .user_ids
        .iter()
        .map(|user_id| upsert_member(world, location, &request.group_id, user_id))
        .collect::<HandlerResult<_>>()?;
    Ok(pb::UpsertGroupMembersResponse {
        error: None,
        group_members,
    })
}

fn delete_group_member(
    world: &mut World,
    request: pb::DeleteGroupMemberRequest,
) -> HandlerResult<pb::DeleteGroupMemberResponse> {
    let now = world.now_millis();
    let member = world
        .group_members
        .get_mut(&(request.group_id.clone(), request.user_id.clone()))
        .filter(|member| member.delete_at == 0)
        .ok_or_else(|| {
            no_rows(
                "DeleteGroupMember",
                format!("group_id={} user_id={}", request.group_id, request.user_id),
            )
        })?;
    member.delete_at = now;
    Ok(pb::DeleteGroupMemberResponse {
        error: None,
        group_member: Some(member.clone()),
    })
}

fn syncable_key(group_id: &str, syncable_id: &str, kind: &str) -> (String, String, String) {
    (group_id.to_owned(), syncable_id.to_owned(), kind.to_owned())
}

fn live_syncable<'w>(
    world: &'w World,
    location: &str,
    group_id: &str,
    syncable_id: &str,
    kind: &str,
) -> HandlerResult<&'w pb::GroupSyncable> {
    world
        .group_syncables
        .get(&syncable_key(group_id, syncable_id, kind))
        .filter(|syncable| syncable.delete_at == 0)
        .ok_or_else(|| {
            no_rows(
                location,
                format!("group_id={group_id} syncable_id={syncable_id} type={kind}"),
            )
        })
}

fn check_syncable_type(location: &str, kind: &str) -> HandlerResult<()> {
    if matches!(kind, SYNCABLE_TEAM | SYNCABLE_CHANNEL) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            location,
            "app.group.invalid_syncable_type",
            "Invalid group syncable type.",
        )
        .with_detail(format!("type={kind}")))
    }
}

fn get_group_syncable(
    world: &mut World,
    request: pb::GetGroupSyncableRequest,
) -> HandlerResult<pb::GetGroupSyncableResponse> {
    let syncable = live_syncable(
        world,
        "GetGroupSyncable",
        &request.group_id,
        &request.syncable_id,
        &request.syncable_type,
    )?
    .clone();
    Ok(pb::GetGroupSyncableResponse {
        error: None,
        group_syncable: Some(syncable),
    })
}

fn get_group_syncables(
    world: &mut World,
    request: pb::GetGroupSyncablesRequest,
) -> HandlerResult<pb::GetGroupSyncablesResponse> {
    check_syncable_type("GetGroupSyncables", &request.syncable_type)?;
    let group_syncables = world
        .group_syncables
        .values()
        .filter(|s| {
            s.group_id == request.group_id
                && s.syncable_type == request.syncable_type
                && s.delete_at == 0
        })
        .cloned()
        .collect();
    Ok(pb::GetGroupSyncablesResponse {
        error: None,
        group_syncables,
    })
}

/// Links a group to a team or channel (bringing back a deleted link). A
/// channel link also links the channel's team, without auto-add, as
/// upstream does.
pub(crate) fn upsert_syncable(
    world: &mut World,
    mut syncable: pb::GroupSyncable,
) -> HandlerResult<pb::GroupSyncable> {
    let location = "UpsertGroupSyncable";
    live_group(world, location, &syncable.group_id)?;
    check_syncable_type(location, &syncable.syncable_type)?;
    if syncable.syncable_type == SYNCABLE_TEAM {
        require_team(world, location, &syncable.syncable_id)?;
    } else {
        let team_id = require_channel(world, location, &syncable.syncable_id)?
            .team_id
            .clone();
        let team_key = syncable_key(&syncable.group_id, &team_id, SYNCABLE_TEAM);
        let linked = world
            .group_syncables
            .get(&team_key)
            .is_some_and(|s| s.delete_at == 0);
        if !team_id.is_empty() && !linked {
            upsert_syncable(
                world,
                pb::GroupSyncable {
                    group_id: syncable.group_id.clone(),
                    syncable_id: team_id,
                    syncable_type: SYNCABLE_TEAM.to_owned(),
                    ..Default::default()
                },
            )?;
        }
    }
    let now = world.now_millis();
    let key = syncable_key(
        &syncable.group_id,
        &syncable.syncable_id,
        &syncable.syncable_type,
    );
    syncable.create_at = world
        .group_syncables
        .get(&key)
        .map_or(now, |old| old.create_at);
    syncable.update_at = now;
    syncable.delete_at = 0;
    world.group_syncables.insert(key, syncable.clone());
    Ok(syncable)
}

fn upsert_group_syncable(
    world: &mut World,
    request: pb::UpsertGroupSyncableRequest,
) -> HandlerResult<pb::UpsertGroupSyncableResponse> {
    let syncable = request
        .group_syncable
        .ok_or_else(|| ApiError::argument("UpsertGroupSyncable", "group_syncable is required"))?;
    let syncable = upsert_syncable(world, syncable)?;
    Ok(pb::UpsertGroupSyncableResponse {
        error: None,
        group_syncable: Some(syncable),
    })
}

/// `auto_add` and `scheme_admin` change on a live link.
fn update_group_syncable(
    world: &mut World,
    request: pb::UpdateGroupSyncableRequest,
) -> HandlerResult<pb::UpdateGroupSyncableResponse> {
    let change = request
        .group_syncable
        .ok_or_else(|| ApiError::argument("UpdateGroupSyncable", "group_syncable is required"))?;
    live_syncable(
        world,
        "UpdateGroupSyncable",
        &change.group_id,
        &change.syncable_id,
        &change.syncable_type,
    )?;
    let now = world.now_millis();
    let key = syncable_key(&change.group_id, &change.syncable_id, &change.syncable_type);
    let syncable = world.group_syncables.get_mut(&key).expect("checked above");
    syncable.auto_add = change.auto_add;
    syncable.scheme_admin = change.scheme_admin;
    syncable.update_at = now;
    Ok(pb::UpdateGroupSyncableResponse {
        error: None,
        group_syncable: Some(syncable.clone()),
    })
}

/// Unlinking a team also unlinks the group from the team's channels.
fn delete_group_syncable(
    world: &mut World,
    request: pb::DeleteGroupSyncableRequest,
) -> HandlerResult<pb::DeleteGroupSyncableResponse> {
    let location = "DeleteGroupSyncable";
    check_syncable_type(location, &request.syncable_type)?;
    let key = syncable_key(
        &request.group_id,
        &request.syncable_id,
        &request.syncable_type,
    );
    match world.group_syncables.get(&key) {
        None => {
            return Err(no_rows(
                location,
                format!(
                    "group_id={} syncable_id={}",
                    request.group_id, request.syncable_id
                ),
            ));
        }
        Some(syncable) if syncable.delete_at != 0 => {
            return Err(ApiError::invalid(
                location,
                "app.group.group_syncable_already_deleted",
                "group syncable was already deleted",
            ));
        }
        Some(_) => {}
    }
    let now = world.now_millis();
    if request.syncable_type == SYNCABLE_TEAM {
        let team_channels: Vec<String> = world
            .channels
            .values()
            .filter(|channel| channel.team_id == request.syncable_id)
            .map(|channel| channel.id.clone())
            .collect();
        for syncable in world.group_syncables.values_mut() {
            if syncable.group_id == request.group_id
                && syncable.syncable_type == SYNCABLE_CHANNEL
                && team_channels.contains(&syncable.syncable_id)
                && syncable.delete_at == 0
            {
                syncable.delete_at = now;
            }
        }
    }
    let syncable = world.group_syncables.get_mut(&key).expect("checked above");
    syncable.delete_at = now;
    syncable.update_at = now;
    Ok(pb::DeleteGroupSyncableResponse {
        error: None,
        group_syncable: Some(syncable.clone()),
    })
}

/// Members of groups linked with `auto_add` join the linked teams and
/// channels (teams first, so channel joins find their team membership).
/// Without a scope both are done.
fn create_default_syncable_memberships(
    world: &mut World,
    request: pb::CreateDefaultSyncableMembershipsRequest,
) -> HandlerResult<pb::CreateDefaultSyncableMembershipsResponse> {
    let params = request.params.ok_or_else(|| {
        ApiError::argument("CreateDefaultSyncableMemberships", "params is required")
    })?;
    let both = !params.scope_teams && !params.scope_channels;
    let links: Vec<pb::GroupSyncable> = world
        .group_syncables
        .values()
        .filter(|s| s.auto_add && s.delete_at == 0 && s.update_at >= params.since)
        .filter(|s| live_group(world, "", &s.group_id).is_ok())
        .cloned()
        .collect();
    for kind in [SYNCABLE_TEAM, SYNCABLE_CHANNEL] {
        let wanted = both
            || if kind == SYNCABLE_TEAM {
                params.scope_teams
            } else {
                params.scope_channels
            };
        if !wanted {
            continue;
        }
        for link in links.iter().filter(|s| s.syncable_type == kind) {
            let members: Vec<String> = world
                .group_members
                .values()
                .filter(|m| m.group_id == link.group_id && m.delete_at == 0)
                .map(|m| m.user_id.clone())
                .collect();
            for user_id in members {
                // A user who cannot join (not in the channel's team) is
                // skipped, as upstream logs and goes on.
                let _ = if kind == SYNCABLE_TEAM {
                    add_to_team(world, &link.syncable_id, &user_id, "").map(drop)
                } else {
                    add_to_channel(world, &link.syncable_id, &user_id, "").map(drop)
                };
            }
        }
    }
    Ok(pb::CreateDefaultSyncableMembershipsResponse { error: None })
}

/// In group-constrained teams and channels, members who are in none of
/// the linked groups are removed.
fn delete_group_constrained_memberships(
    world: &mut World,
    _: pb::DeleteGroupConstrainedMembershipsRequest,
) -> HandlerResult<pb::DeleteGroupConstrainedMembershipsResponse> {
    let allowed = |world: &World, kind: &str, syncable_id: &str, user_id: &str| {
        world.group_syncables.values().any(|s| {
            s.syncable_type == kind
                && s.syncable_id == syncable_id
                && s.delete_at == 0
                && is_member(world, &s.group_id, user_id)
        })
    };
    let teams: Vec<String> = world
        .teams
        .values()
        .filter(|t| t.group_constrained == Some(true))
        .map(|t| t.id.clone())
        .collect();
    for team_id in teams {
        let outsiders: Vec<String> = world
            .team_members_of(&team_id)
            .map(|m| m.user_id.clone())
            .filter(|user_id| !allowed(world, SYNCABLE_TEAM, &team_id, user_id))
            .collect();
        for user_id in outsiders {
            // Upstream logs a removal that fails and goes on.
            let _ = remove_from_team(world, &team_id, &user_id, "");
        }
    }
    let channels: Vec<String> = world
        .channels
        .values()
        .filter(|c| c.group_constrained == Some(true))
        .map(|c| c.id.clone())
        .collect();
    for channel_id in channels {
        let outsiders: Vec<String> = world
            .channel_members
            .keys()
            .filter(|(channel, _)| *channel == channel_id)
            .map(|(_, user_id)| user_id.clone())
            .filter(|user_id| !allowed(world, SYNCABLE_CHANNEL, &channel_id, user_id))
            .collect();
        for user_id in outsiders {
            let _ = leave_channel(world, &channel_id, &user_id);
        }
    }
    Ok(pb::DeleteGroupConstrainedMembershipsResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::is_valid_id;

    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";
    const ADMIN: &str = "uadmin00000000000000000000";
    const ACME: &str = "tacme000000000000000000000";
    const SECRET: &str = "cacmesecret000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn create(w: &mut World, name: &str) -> HandlerResult<pb::Group> {
        create_group(
            w,
            pb::CreateGroupRequest {
                group: Some(pb::Group {
                    name: name.into(),
                    display_name: name.to_uppercase(),
                    source: SOURCE_CUSTOM.into(),
                    allow_reference: true,
                    ..Default::default()
                }),
            },
        )
        .map(|answer| answer.group.unwrap())
    }

    #[test]
    fn groups_are_created_found_deleted_and_restored() {
        let mut w = world();
        let group = create(&mut w, "devs").unwrap();
        assert!(is_valid_id(&group.id));
        assert_eq!(
            create(&mut w, "devs").unwrap_err().id,
            "app.custom_group.unique_name"
        );
        assert_eq!(
            create(&mut w, "Bad Name").unwrap_err().id,
            "model.group.name.invalid_chars.app_error"
        );
        let by_name = get_group_by_name(
            &mut w,
            pb::GetGroupByNameRequest {
                name: "devs".into(),
            },
        )
        .unwrap();
        assert_eq!(by_name.group.unwrap().id, group.id);
        delete_group(
            &mut w,
            pb::DeleteGroupRequest {
                group_id: group.id.clone(),
            },
        )
        .unwrap();
        let err = get_group_by_name(
            &mut w,
            pb::GetGroupByNameRequest {
                name: "devs".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.group.no_rows")
        );
        restore_group(
            &mut w,
            pb::RestoreGroupRequest {
                group_id: group.id.clone(),
            },
        )
        .unwrap();
        let all = get_groups(
            &mut w,
            pb::GetGroupsRequest {
                page: 0,
                per_page: 10,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(all.groups.len(), 1);
    }

    #[test]
    fn members_and_syncables_drive_memberships() {
        let mut w = world();
        let group = create(&mut w, "ops").unwrap();
        upsert_group_members(
            &mut w,
            pb::UpsertGroupMembersRequest {
                group_id: group.id.clone(),
                user_ids: vec![ALICE.into(), BOB.into()],
            },
        )
        .unwrap();
        let err = upsert_group_member(
            &mut w,
            pb::UpsertGroupMemberRequest {
                group_id: group.id.clone(),
                user_id: "nobody".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.status_code, 404);
        delete_group_member(
            &mut w,
            pb::DeleteGroupMemberRequest {
                group_id: group.id.clone(),
                user_id: BOB.into(),
            },
        )
        .unwrap();
        let users = get_group_member_users(
            &mut w,
            pb::GetGroupMemberUsersRequest {
                group_id: group.id.clone(),
                page: 0,
                per_page: 10,
            },
        )
        .unwrap()
        .users;
        assert_eq!(users.len(), 1);
        let for_alice = get_groups_for_user(
            &mut w,
            pb::GetGroupsForUserRequest {
                user_id: ALICE.into(),
            },
        )
        .unwrap();
        assert_eq!(for_alice.groups.len(), 1);

        upsert_group_syncable(
            &mut w,
            pb::UpsertGroupSyncableRequest {
                group_syncable: Some(pb::GroupSyncable {
                    group_id: group.id.clone(),
                    syncable_id: SECRET.into(),
                    syncable_type: SYNCABLE_CHANNEL.into(),
                    auto_add: true,
                    ..Default::default()
                }),
            },
        )
        .unwrap();
        let teams = get_group_syncables(
            &mut w,
            pb::GetGroupSyncablesRequest {
                group_id: group.id.clone(),
                syncable_type: SYNCABLE_TEAM.into(),
            },
        )
        .unwrap();
        assert_eq!(
            teams.group_syncables[0].syncable_id, ACME,
            "the channel's team is linked too"
        );
        assert!(w.channel_member(SECRET, ALICE).is_none());
        create_default_syncable_memberships(
            &mut w,
            pb::CreateDefaultSyncableMembershipsRequest {
                params: Some(Default::default()),
            },
        )
        .unwrap();
        assert!(w.channel_member(SECRET, ALICE).is_some());

        w.channels.get_mut(SECRET).unwrap().group_constrained = Some(true);
        delete_group_constrained_memberships(&mut w, Default::default()).unwrap();
        assert!(w.channel_member(SECRET, ALICE).is_some());
        assert!(
            w.channel_member(SECRET, ADMIN).is_none(),
            "admin is in no linked group"
        );

        delete_group_syncable(
            &mut w,
            pb::DeleteGroupSyncableRequest {
                group_id: group.id.clone(),
                syncable_id: ACME.into(),
                syncable_type: SYNCABLE_TEAM.into(),
            },
        )
        .unwrap();
        let err = get_group_syncable(
            &mut w,
            pb::GetGroupSyncableRequest {
                group_id: group.id.clone(),
                syncable_id: SECRET.into(),
                syncable_type: SYNCABLE_CHANNEL.into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.group.no_rows");
    }
}
