//! Channel membership: add (by oneself or on someone's behalf), remove,
//! read, roles and notification preferences.

use std::collections::HashMap;

use mm_plugin_proto::pb;

use super::{
    common::{Page, channel_member_missing, require_channel},
    joins, member_roles,
};
use crate::{
    registry::{HandlerResult, Registry},
    world::{Scope, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(add_channel_member);
    registry.add(add_user_to_channel);
    registry.add(delete_channel_member);
    registry.add(get_channel_member);
    registry.add(get_channel_members);
    registry.add(get_channel_members_by_ids);
    registry.add(get_channel_members_for_user);
    registry.add(update_channel_member_roles);
    registry.add(update_channel_member_notifications);
    registry.add(patch_channel_members_notifications);
}

/// The notification settings a member update may change
/// (`UpdateChannelMemberNotifyProps`); anything else is ignored.
const NOTIFY_PROPS: &[&str] = &[
    "mark_unread",
    "desktop",
    "desktop_threads",
    "email",
    "push",
    "push_threads",
    "ignore_channel_mentions",
];

fn add_channel_member(
    world: &mut World,
    request: pb::AddChannelMemberRequest,
) -> HandlerResult<pb::AddChannelMemberResponse> {
    let member = joins::add_to_channel(world, &request.channel_id, &request.user_id, "")?;
    Ok(pb::AddChannelMemberResponse {
        error: None,
        channel_member: Some(member),
    })
}

/// Like `AddChannelMember`, announced as added by `as_user_id`.
fn add_user_to_channel(
    world: &mut World,
    request: pb::AddUserToChannelRequest,
) -> HandlerResult<pb::AddUserToChannelResponse> {
    let member = joins::add_to_channel(
        world,
        &request.channel_id,
        &request.user_id,
        &request.as_user_id,
    )?;
    Ok(pb::AddUserToChannelResponse {
        error: None,
        channel_member: Some(member),
    })
}

/// The member leaves the channel (`LeaveChannel`).
fn delete_channel_member(
    world: &mut World,
    request: pb::DeleteChannelMemberRequest,
) -> HandlerResult<pb::DeleteChannelMemberResponse> {
    joins::leave_channel(world, &request.channel_id, &request.user_id)?;
    Ok(pb::DeleteChannelMemberResponse { error: None })
}

fn get_channel_member(
    world: &mut World,
    request: pb::GetChannelMemberRequest,
) -> HandlerResult<pb::GetChannelMemberResponse> {
    let member = world
        .channel_member(&request.channel_id, &request.user_id)
        .ok_or_else(|| {
            channel_member_missing("GetChannelMember", &request.channel_id, &request.user_id)
        })?
        .to_proto();
    Ok(pb::GetChannelMemberResponse {
        error: None,
        channel_member: Some(member),
    })
}

fn get_channel_members(
    world: &mut World,
    request: pb::GetChannelMembersRequest,
) -> HandlerResult<pb::GetChannelMembersResponse> {
    let page = Page::new("GetChannelMembers", request.page, request.per_page)?;
    let channel_members = page.apply(
        world
            .channel_members_of(&request.channel_id)
            .map(|member| member.to_proto()),
    );
    Ok(pb::GetChannelMembersResponse {
        error: None,
        channel_members,
    })
}

/// The members among the given users; others are left out.
fn get_channel_members_by_ids(
    world: &mut World,
    request: pb::GetChannelMembersByIdsRequest,
) -> HandlerResult<pb::GetChannelMembersByIdsResponse> {
    let channel_members = world
        .channel_members_of(&request.channel_id)
        .filter(|member| request.user_ids.contains(&member.user_id))
        .map(|member| member.to_proto())
        .collect();
    Ok(pb::GetChannelMembersByIdsResponse {
        error: None,
        channel_members,
    })
}

/// Every channel membership of the user. The team id is accepted and, as
/// upstream, ignored.
fn get_channel_members_for_user(
    world: &mut World,
    request: pb::GetChannelMembersForUserRequest,
) -> HandlerResult<pb::GetChannelMembersForUserResponse> {
    let page = Page::new("GetChannelMembersForUser", request.page, request.per_page)?;
    let channel_members = page.apply(
        world
            .channel_members
            .values()
            .filter(|member| member.user_id == request.user_id)
            .map(|member| member.to_proto()),
    );
    Ok(pb::GetChannelMembersForUserResponse {
        error: None,
        channel_members,
    })
}

fn update_channel_member_roles(
    world: &mut World,
    request: pb::UpdateChannelMemberRolesRequest,
) -> HandlerResult<pb::UpdateChannelMemberRolesResponse> {
    let location = "UpdateChannelMemberRoles";
    let was_guest = world
        .channel_member(&request.channel_id, &request.user_id)
        .ok_or_else(|| {
            channel_member_missing("GetChannelMember", &request.channel_id, &request.user_id)
        })?
        .roles
        .guest;
    require_channel(world, "GetChannel", &request.channel_id)?;
    let roles = member_roles::replace(location, &request.new_roles, Scope::Channel, was_guest)?;
    let now = world.now_millis();
    let member = world
        .channel_member_mut(&request.channel_id, &request.user_id)
        .expect("checked above");
    member.roles = roles;
    member.last_update_at = now;
    Ok(pb::UpdateChannelMemberRolesResponse {
        error: None,
        channel_member: Some(member.to_proto()),
    })
}

/// Merges the recognised notification settings into the member's.
fn merge_notify_props(
    world: &mut World,
    location: &str,
    channel_id: &str,
    user_id: &str,
    props: &HashMap<String, String>,
) -> HandlerResult<pb::ChannelMember> {
    let now = world.now_millis();
    let member = world
        .channel_member_mut(channel_id, user_id)
        .ok_or_else(|| channel_member_missing(location, channel_id, user_id))?;
    for (key, value) in props {
        if NOTIFY_PROPS.contains(&key.as_str()) {
            member.notify_props.insert(key.clone(), value.clone());
        }
    }
    member.last_update_at = now;
    Ok(member.to_proto())
}

fn update_channel_member_notifications(
    world: &mut World,
    request: pb::UpdateChannelMemberNotificationsRequest,
) -> HandlerResult<pb::UpdateChannelMemberNotificationsResponse> {
    let member = merge_notify_props(
        world,
        "updateMemberNotifyProps",
        &request.channel_id,
        &request.user_id,
        &request.notifications,
    )?;
    Ok(pb::UpdateChannelMemberNotificationsResponse {
        error: None,
        channel_member: Some(member),
    })
}

/// The same settings for several memberships; all must exist, and nothing
/// changes unless they do.
fn patch_channel_members_notifications(
    world: &mut World,
    request: pb::PatchChannelMembersNotificationsRequest,
) -> HandlerResult<pb::PatchChannelMembersNotificationsResponse> {
    let location = "PatchChannelMembersNotifications";
    for member in &request.members {
        if world
            .channel_member(&member.channel_id, &member.user_id)
            .is_none()
        {
            return Err(channel_member_missing(
                location,
                &member.channel_id,
                &member.user_id,
            ));
        }
    }
    for member in &request.members {
        merge_notify_props(
            world,
            location,
            &member.channel_id,
            &member.user_id,
            &request.notify_props,
        )?;
    }
    Ok(pb::PatchChannelMembersNotificationsResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";
    const ADMIN: &str = "uadmin00000000000000000000";
    const SECRET: &str = "cacmesecret000000000000000";
    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn members(w: &mut World, channel: &str, page: i32, per_page: i32) -> Vec<String> {
        get_channel_members(
            w,
            pb::GetChannelMembersRequest {
                channel_id: channel.into(),
                page,
                per_page,
            },
        )
        .unwrap()
        .channel_members
        .into_iter()
        .map(|m| m.user_id)
        .collect()
    }

    #[test]
    fn adding_and_removing_show_in_listings_and_posts() {
        let mut w = world();
        assert_eq!(members(&mut w, SECRET, 0, 10), [ADMIN]);
        let member = add_user_to_channel(
            &mut w,
            pb::AddUserToChannelRequest {
                channel_id: SECRET.into(),
                user_id: ALICE.into(),
                as_user_id: ADMIN.into(),
            },
        )
        .unwrap()
        .channel_member
        .unwrap();
        assert_eq!(member.roles, "channel_user");
        assert_eq!(members(&mut w, SECRET, 0, 10), [ADMIN, ALICE]);
        assert_eq!(members(&mut w, SECRET, 1, 1), [ALICE]);
        let post = w.posts.values().last().unwrap();
        assert_eq!(post.r#type, "system_add_to_channel");
        assert_eq!(post.message, "alice added to the channel by admin.");
        // Adding again returns the membership and posts nothing more.
        add_channel_member(
            &mut w,
            pb::AddChannelMemberRequest {
                channel_id: SECRET.into(),
                user_id: ALICE.into(),
            },
        )
        .unwrap();
        assert_eq!(w.posts.len(), 1);
        delete_channel_member(
            &mut w,
            pb::DeleteChannelMemberRequest {
                channel_id: SECRET.into(),
                user_id: ALICE.into(),
            },
        )
        .unwrap();
        assert_eq!(members(&mut w, SECRET, 0, 10), [ADMIN]);
        assert_eq!(
            w.posts.values().last().unwrap().r#type,
            "system_leave_channel"
        );
    }

    #[test]
    fn joining_needs_the_team_and_leaving_has_rules() {
        let mut w = world();
        let carol = pb::User {
            id: "ucarol00000000000000000000".into(),
            username: "carol".into(),
            ..Default::default()
        };
        w.users.insert(carol.id.clone(), carol.clone());
        let err = add_channel_member(
            &mut w,
            pb::AddChannelMemberRequest {
                channel_id: TOWN_SQUARE.into(),
                user_id: carol.id.clone(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.team.get_member.missing.app_error")
        );
        let err = delete_channel_member(
            &mut w,
            pb::DeleteChannelMemberRequest {
                channel_id: TOWN_SQUARE.into(),
                user_id: ALICE.into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "api.channel.remove.default.app_error");
        let err = delete_channel_member(
            &mut w,
            pb::DeleteChannelMemberRequest {
                channel_id: SECRET.into(),
                user_id: ADMIN.into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "api.channel.leave.last_member.app_error");
        let err = get_channel_member(
            &mut w,
            pb::GetChannelMemberRequest {
                channel_id: SECRET.into(),
                user_id: BOB.into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_status().message(),
            "app.channel.get_member.missing.app_error: No channel member found for that user ID and channel ID."
        );
    }

    #[test]
    fn roles_and_notifications_update_the_membership() {
        let mut w = world();
        let member = update_channel_member_roles(
            &mut w,
            pb::UpdateChannelMemberRolesRequest {
                channel_id: TOWN_SQUARE.into(),
                user_id: ALICE.into(),
                new_roles: "channel_user channel_admin".into(),
            },
        )
        .unwrap()
        .channel_member
        .unwrap();
        assert!(member.scheme_admin);
        assert_eq!(member.roles, "channel_user channel_admin");
        let err = update_channel_member_roles(
            &mut w,
            pb::UpdateChannelMemberRolesRequest {
                channel_id: TOWN_SQUARE.into(),
                user_id: ALICE.into(),
                new_roles: "team_admin".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err.id,
            "api.channel.update_channel_member_roles.scheme_role.app_error"
        );
        let member = update_channel_member_notifications(
            &mut w,
            pb::UpdateChannelMemberNotificationsRequest {
                channel_id: TOWN_SQUARE.into(),
                user_id: ALICE.into(),
                notifications: [
                    ("desktop".to_owned(), "none".to_owned()),
                    ("bogus".to_owned(), "x".to_owned()),
                ]
                .into(),
            },
        )
        .unwrap()
        .channel_member
        .unwrap();
        assert_eq!(member.notify_props["desktop"], "none");
        assert!(!member.notify_props.contains_key("bogus"));
        patch_channel_members_notifications(
            &mut w,
            pb::PatchChannelMembersNotificationsRequest {
                members: vec![pb::ChannelMemberIdentifier {
                    channel_id: TOWN_SQUARE.into(),
                    user_id: BOB.into(),
                }],
                notify_props: [("push".to_owned(), "none".to_owned())].into(),
            },
        )
        .unwrap();
        assert_eq!(
            w.channel_member(TOWN_SQUARE, BOB).unwrap().notify_props["push"],
            "none"
        );
        let mine = get_channel_members_for_user(
            &mut w,
            pb::GetChannelMembersForUserRequest {
                team_id: String::new(),
                user_id: ALICE.into(),
                page: 0,
                per_page: 10,
            },
        )
        .unwrap()
        .channel_members;
        assert_eq!(mine.len(), 2);
    }
}
