//! Users: create, look up (one, many, by team or channel, by search term),
//! update, deactivate and change system roles.

use mm_plugin_proto::pb;

use super::common::{Page, contains_folded, is_active, require_user, user_missing};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    roles,
    world::{Scope, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(create_user);
    registry.add(get_user);
    registry.add(get_user_by_email);
    registry.add(get_user_by_username);
    registry.add(get_users);
    registry.add(get_users_by_ids);
    registry.add(get_users_by_usernames);
    registry.add(get_users_in_team);
    registry.add(get_users_in_channel);
    registry.add(search_users);
    registry.add(update_user);
    registry.add(update_user_active);
    registry.add(update_user_roles);
    registry.add(delete_user);
}

/// `model.UserSearchDefaultLimit`.
const SEARCH_DEFAULT_LIMIT: usize = 100;

fn check_new_username(world: &World, location: &str, user: &pb::User) -> HandlerResult<()> {
    if user.username.is_empty() {
        return Err(ApiError::invalid(
            location,
            "model.user.is_valid.username.app_error",
            "Invalid username.",
        ));
    }
    if user.email.is_empty() {
        return Err(ApiError::invalid(
            location,
            "model.user.is_valid.email.app_error",
            "Invalid email.",
        ));
    }
    let taken = |same: &dyn Fn(&pb::User) -> bool| {
        world
            .users
            .values()
            .any(|other| other.id != user.id && same(other))
    };
    if taken(&|other| other.username == user.username) {
        return Err(ApiError::invalid(
            location,
            "app.user.save.username_exists.app_error",
            "An account with that username already exists.",
        ));
    }
    if taken(&|other| other.email.eq_ignore_ascii_case(&user.email)) {
        return Err(ApiError::invalid(
            location,
            "app.user.save.email_exists.app_error",
            "An account with that email already exists.",
        ));
    }
    Ok(())
}

fn create_user(
    world: &mut World,
    request: pb::CreateUserRequest,
) -> HandlerResult<pb::CreateUserResponse> {
    let mut user = request.user.unwrap_or_default();
    user.username = user.username.to_lowercase();
    check_new_username(world, "CreateUser", &user)?;
    let now = world.now_millis();
    user.id = world.next_id('u');
    user.create_at = now;
    user.update_at = now;
    user.delete_at = 0;
    user.password.clear();
    if user.roles.is_empty() {
        user.roles = "system_user".to_owned();
    }
    world.users.insert(user.id.clone(), user.clone());
    Ok(pb::CreateUserResponse {
        error: None,
        user: Some(user),
    })
}

fn get_user(world: &mut World, request: pb::GetUserRequest) -> HandlerResult<pb::GetUserResponse> {
    let user = require_user(world, "GetUser", &request.user_id)?.clone();
    Ok(pb::GetUserResponse {
        error: None,
        user: Some(user),
    })
}

fn get_user_by_email(
    world: &mut World,
    request: pb::GetUserByEmailRequest,
) -> HandlerResult<pb::GetUserByEmailResponse> {
    let user = world
        .users
        .values()
        .find(|user| user.email.eq_ignore_ascii_case(&request.email))
        .cloned()
        .ok_or_else(|| user_missing("GetUserByEmail", &request.email))?;
    Ok(pb::GetUserByEmailResponse {
        error: None,
        user: Some(user),
    })
}

fn get_user_by_username(
    world: &mut World,
    request: pb::GetUserByUsernameRequest,
) -> HandlerResult<pb::GetUserByUsernameResponse> {
    let user = world.user_by_name(&request.name).cloned().ok_or_else(|| {
        ApiError::not_found(
            "GetUserByUsername",
            "app.user.get_by_username.app_error",
            "Unable to find an existing account matching your username for this team.",
        )
        .with_detail(format!("username={}", request.name))
    })?;
    Ok(pb::GetUserByUsernameResponse {
        error: None,
        user: Some(user),
    })
}

/// Users for whom `keep` holds, ordered by username as the store sorts
/// profiles, then paginated.
fn users_where(world: &World, page: Page, keep: impl Fn(&pb::User) -> bool) -> Vec<pb::User> {
    let mut users: Vec<&pb::User> = world.users.values().filter(|user| keep(user)).collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    page.apply(users.into_iter().cloned())
}

fn in_team(world: &World, team_id: &str, user: &pb::User) -> bool {
    world.active_team_member(team_id, &user.id).is_some()
}

fn in_channel(world: &World, channel_id: &str, user: &pb::User) -> bool {
    world.channel_member(channel_id, &user.id).is_some()
}

fn has_any_role(roles: &str, wanted: &[String]) -> bool {
    roles
        .split_whitespace()
        .any(|role| wanted.iter().any(|w| w == role))
}

/// `GetUsers` with `model.UserGetOptions`; group filters are not modelled
/// (the world has no groups) and match nobody.
fn get_users(
    world: &mut World,
    request: pb::GetUsersRequest,
) -> HandlerResult<pb::GetUsersResponse> {
    let page = Page::new("GetUsers", request.page, request.per_page)?;
    let keep = |user: &pb::User| {
        let team_roles_ok = request.team_roles.is_empty()
            || world
                .active_team_member(&request.in_team_id, &user.id)
                .is_some_and(|m| has_any_role(&m.roles.render(Scope::Team), &request.team_roles));
        let channel_roles_ok = request.channel_roles.is_empty()
            || world
                .channel_member(&request.in_channel_id, &user.id)
                .is_some_and(|m| {
                    has_any_role(&m.roles.render(Scope::Channel), &request.channel_roles)
                });
        (request.in_team_id.is_empty() || in_team(world, &request.in_team_id, user))
            && (request.not_in_team_id.is_empty() || !in_team(world, &request.not_in_team_id, user))
            && (request.in_channel_id.is_empty() || in_channel(world, &request.in_channel_id, user))
            && (request.not_in_channel_id.is_empty()
                || !in_channel(world, &request.not_in_channel_id, user))
            && request.in_group_id.is_empty()
            && (!request.without_team
                || !world
                    .team_members
                    .values()
                    .any(|m| m.user_id == user.id && m.is_active()))
            && (!request.inactive || !is_active(user))
            && (!request.active || is_active(user))
            && (request.role.is_empty()
                || has_any_role(&user.roles, std::slice::from_ref(&request.role)))
            && (request.roles.is_empty() || has_any_role(&user.roles, &request.roles))
            && team_roles_ok
            && channel_roles_ok
            && user.update_at > request.updated_after
    };
    let mut users = users_where(world, Page::all(), keep);
    if request.sort == "create_at" {
        users.sort_by_key(|user| std::cmp::Reverse(user.create_at));
    }
    Ok(pb::GetUsersResponse {
        error: None,
        users: page.apply(users),
    })
}

fn get_users_by_ids(
    world: &mut World,
    request: pb::GetUsersByIdsRequest,
) -> HandlerResult<pb::GetUsersByIdsResponse> {
    let mut ids = request.user_ids;
    ids.sort();
    ids.dedup();
    Ok(pb::GetUsersByIdsResponse {
        error: None,
        users: ids
            .iter()
            .filter_map(|id| world.users.get(id).cloned())
            .collect(),
    })
}

fn get_users_by_usernames(
    world: &mut World,
    request: pb::GetUsersByUsernamesRequest,
) -> HandlerResult<pb::GetUsersByUsernamesResponse> {
    let users = users_where(world, Page::all(), |user| {
        request.usernames.contains(&user.username)
    });
    Ok(pb::GetUsersByUsernamesResponse { error: None, users })
}

fn get_users_in_team(
    world: &mut World,
    request: pb::GetUsersInTeamRequest,
) -> HandlerResult<pb::GetUsersInTeamResponse> {
    let page = Page::new("GetUsersInTeam", request.page, request.per_page)?;
    let users = users_where(world, page, |user| in_team(world, &request.team_id, user));
    Ok(pb::GetUsersInTeamResponse { error: None, users })
}

/// Status order for `sort_by: "status"`: online first, offline last.
fn status_rank(world: &World, user_id: &str) -> u8 {
    match world.statuses.get(user_id).map(|s| s.status.as_str()) {
        Some("online") => 0,
        Some("away") => 1,
        Some("dnd") => 2,
        _ => 3,
    }
}

fn get_users_in_channel(
    world: &mut World,
    request: pb::GetUsersInChannelRequest,
) -> HandlerResult<pb::GetUsersInChannelResponse> {
    let by_status = match request.sort_by.as_str() {
        "username" => false,
        "status" => true,
        _ => {
            return Err(ApiError::invalid(
                "GetUsersInChannel",
                "plugin.api.get_users_in_channel",
                "Invalid sort option.",
            )
            .with_detail("invalid sort option"));
        }
    };
    let page = Page::new("GetUsersInChannel", request.page, request.per_page)?;
    let mut users = users_where(world, Page::all(), |user| {
        in_channel(world, &request.channel_id, user)
    });
    if by_status {
        users.sort_by_key(|user| status_rank(world, &user.id));
    }
    Ok(pb::GetUsersInChannelResponse {
        error: None,
        users: page.apply(users),
    })
}

/// `SearchUsers` as the plugin API runs it (as an admin): the term matches
/// a case-insensitive substring of username, names, nickname or email.
fn search_users(
    world: &mut World,
    request: pb::SearchUsersRequest,
) -> HandlerResult<pb::SearchUsersResponse> {
    let term = request.term.trim().trim_start_matches('@');
    let limit = match request.limit {
        limit if limit > 0 => limit as usize,
        _ => SEARCH_DEFAULT_LIMIT,
    };
    let users = users_where(world, Page::offset(0, limit), |user| {
        let matches = term.is_empty()
            || [
                &user.username,
                &user.first_name,
                &user.last_name,
                &user.nickname,
                &user.email,
            ]
            .iter()
            .any(|field| contains_folded(field, term));
        matches
            && (request.allow_inactive || is_active(user))
            && (request.team_id.is_empty() || in_team(world, &request.team_id, user))
            && (request.not_in_team_id.is_empty() || !in_team(world, &request.not_in_team_id, user))
            && (request.in_channel_id.is_empty() || in_channel(world, &request.in_channel_id, user))
            && (request.not_in_channel_id.is_empty()
                || !in_channel(world, &request.not_in_channel_id, user))
            && (request.role.is_empty()
                || has_any_role(&user.roles, std::slice::from_ref(&request.role)))
            && (request.roles.is_empty() || has_any_role(&user.roles, &request.roles))
            && request.in_group_id.is_empty()
    });
    Ok(pb::SearchUsersResponse { error: None, users })
}

fn update_user(
    world: &mut World,
    request: pb::UpdateUserRequest,
) -> HandlerResult<pb::UpdateUserResponse> {
    let mut user = request.user.unwrap_or_default();
    let existing = require_user(world, "UpdateUser", &user.id)?.clone();
    check_new_username(world, "UpdateUser", &user)?;
    // The store keeps what an update may not change.
    user.create_at = existing.create_at;
    user.password = existing.password;
    user.is_bot = existing.is_bot;
    user.update_at = world.now_millis();
    world.users.insert(user.id.clone(), user.clone());
    Ok(pb::UpdateUserResponse {
        error: None,
        user: Some(user),
    })
}

/// `App.UpdateActive`: deactivation stamps `delete_at` and takes the user
/// offline; reactivation clears it.
pub(super) fn set_user_active(
    world: &mut World,
    location: &str,
    user_id: &str,
    active: bool,
) -> HandlerResult<()> {
    let now = world.now_millis();
    require_user(world, location, user_id)?;
    let user = world.users.get_mut(user_id).expect("checked above");
    user.update_at = now;
    user.delete_at = if active { 0 } else { now };
    if !active {
        super::statuses::set_status(world, user_id, "offline", false);
    }
    Ok(())
}

fn update_user_active(
    world: &mut World,
    request: pb::UpdateUserActiveRequest,
) -> HandlerResult<pb::UpdateUserActiveResponse> {
    set_user_active(world, "UpdateUserActive", &request.user_id, request.active)?;
    Ok(pb::UpdateUserActiveResponse { error: None })
}

fn delete_user(
    world: &mut World,
    request: pb::DeleteUserRequest,
) -> HandlerResult<pb::DeleteUserResponse> {
    set_user_active(world, "DeleteUser", &request.user_id, false)?;
    Ok(pb::DeleteUserResponse { error: None })
}

fn update_user_roles(
    world: &mut World,
    request: pb::UpdateUserRolesRequest,
) -> HandlerResult<pb::UpdateUserRolesResponse> {
    require_user(world, "UpdateUserRoles", &request.user_id)?;
    if let Some(unknown) = request
        .new_roles
        .split_whitespace()
        .find(|role| !roles::exists(role))
    {
        return Err(ApiError::invalid(
            "CheckRolesExist",
            "app.role.check_roles_exist.role_not_found",
            "The provided role does not exist",
        )
        .with_detail(format!("role={unknown}")));
    }
    let now = world.now_millis();
    let user = world
        .users
        .get_mut(&request.user_id)
        .expect("checked above");
    user.roles = request.new_roles;
    user.update_at = now;
    Ok(pb::UpdateUserRolesResponse {
        error: None,
        user: Some(user.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    const ALICE: &str = "ualice00000000000000000000";
    const TEAM: &str = "tacme000000000000000000000";
    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";

    fn names(users: &[pb::User]) -> Vec<&str> {
        users.iter().map(|u| u.username.as_str()).collect()
    }

    #[test]
    fn listing_is_sorted_filtered_and_paginated() {
        let mut w = world();
        let all = get_users(
            &mut w,
            pb::GetUsersRequest {
                per_page: 10,
                ..Default::default()
            },
        )
        .unwrap()
        .users;
        assert_eq!(names(&all), ["admin", "alice", "bob", "helper-bot"]);
        let second = get_users(
            &mut w,
            pb::GetUsersRequest {
                page: 1,
                per_page: 2,
                ..Default::default()
            },
        )
        .unwrap()
        .users;
        assert_eq!(names(&second), ["bob", "helper-bot"]);
        let admins = get_users(
            &mut w,
            pb::GetUsersRequest {
                in_team_id: TEAM.into(),
                team_roles: vec!["team_admin".into()],
                per_page: 10,
                ..Default::default()
            },
        )
        .unwrap()
        .users;
        assert_eq!(names(&admins), ["admin"]);
        let in_team = get_users_in_team(
            &mut w,
            pb::GetUsersInTeamRequest {
                team_id: TEAM.into(),
                page: 0,
                per_page: 2,
            },
        )
        .unwrap()
        .users;
        assert_eq!(names(&in_team), ["admin", "alice"]);
    }

    #[test]
    fn users_in_channel_need_a_known_sort_and_follow_status() {
        let mut w = world();
        let request = |sort: &str| pb::GetUsersInChannelRequest {
            channel_id: TOWN_SQUARE.into(),
            sort_by: sort.into(),
            page: 0,
            per_page: 10,
        };
        let by_name = get_users_in_channel(&mut w, request("username"))
            .unwrap()
            .users;
        assert_eq!(names(&by_name), ["alice", "bob"]);
        super::super::statuses::set_status(&mut w, ALICE, "offline", true);
        let by_status = get_users_in_channel(&mut w, request("status"))
            .unwrap()
            .users;
        assert_eq!(names(&by_status), ["bob", "alice"]);
        let err = get_users_in_channel(&mut w, request("")).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (400, "plugin.api.get_users_in_channel")
        );
    }

    #[test]
    fn search_matches_names_and_respects_limits_and_activity() {
        let mut w = world();
        let search = |w: &mut World, term: &str, limit| {
            search_users(
                w,
                pb::SearchUsersRequest {
                    term: term.into(),
                    limit,
                    ..Default::default()
                },
            )
            .unwrap()
            .users
        };
        assert_eq!(names(&search(&mut w, "LIDD", 0)), ["alice"]);
        assert_eq!(search(&mut w, "", 2).len(), 2);
        update_user_active(
            &mut w,
            pb::UpdateUserActiveRequest {
                user_id: ALICE.into(),
                active: false,
            },
        )
        .unwrap();
        assert!(search(&mut w, "alice", 0).is_empty());
        assert_eq!(w.statuses[ALICE].status, "offline");
        assert!(w.users[ALICE].delete_at > 0);
    }

    #[test]
    fn roles_must_exist_and_bulk_lookups_skip_unknowns() {
        let mut w = world();
        let err = update_user_roles(
            &mut w,
            pb::UpdateUserRolesRequest {
                user_id: ALICE.into(),
                new_roles: "system_user wizard".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.role.check_roles_exist.role_not_found");
        let updated = update_user_roles(
            &mut w,
            pb::UpdateUserRolesRequest {
                user_id: ALICE.into(),
                new_roles: "system_user system_admin".into(),
            },
        )
        .unwrap()
        .user
        .unwrap();
        assert_eq!(updated.roles, "system_user system_admin");
        let found = get_users_by_ids(
            &mut w,
            pb::GetUsersByIdsRequest {
                user_ids: vec![ALICE.into(), "nobody".into()],
            },
        )
        .unwrap()
        .users;
        assert_eq!(names(&found), ["alice"]);
        let err = get_user(
            &mut w,
            pb::GetUserRequest {
                user_id: "nobody".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_status().message(),
            "app.user.missing_account.const: Unable to find the user."
        );
    }

    #[test]
    fn created_users_are_unique_by_name_and_email() {
        let mut w = world();
        let create = |w: &mut World, username: &str, email: &str| {
            create_user(
                w,
                pb::CreateUserRequest {
                    user: Some(pb::User {
                        username: username.into(),
                        email: email.into(),
                        ..Default::default()
                    }),
                },
            )
        };
        let carol = create(&mut w, "Carol", "carol@example.com")
            .unwrap()
            .user
            .unwrap();
        assert_eq!(carol.username, "carol");
        assert_eq!(carol.roles, "system_user");
        let err = create(&mut w, "carol", "c2@example.com").unwrap_err();
        assert_eq!(err.id, "app.user.save.username_exists.app_error");
        let err = create(&mut w, "carol2", "ALICE@example.com").unwrap_err();
        assert_eq!(err.id, "app.user.save.email_exists.app_error");
    }
}
