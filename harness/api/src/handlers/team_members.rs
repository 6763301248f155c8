//! Team membership: add (one or many, strictly or gracefully), remove, read
//! and change roles.

use mm_plugin_proto::pb;

use super::{
    common::{Page, require_team, team_member_missing},
    joins, member_roles,
};
use crate::{
    registry::{HandlerResult, Registry},
    world::{Scope, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(create_team_member);
    registry.add(create_team_members);
    registry.add(create_team_members_gracefully);
    registry.add(delete_team_member);
    registry.add(get_team_member);
    registry.add(get_team_members);
    registry.add(get_team_members_for_user);
    registry.add(update_team_member_roles);
}

fn create_team_member(
    world: &mut World,
    request: pb::CreateTeamMemberRequest,
) -> HandlerResult<pb::CreateTeamMemberResponse> {
    let member = joins::add_to_team(world, &request.team_id, &request.user_id, "")?;
    Ok(pb::CreateTeamMemberResponse {
        error: None,
        team_member: Some(member),
    })
}

/// Stops at the first failure, keeping the users added before it.
fn create_team_members(
    world: &mut World,
    request: pb::CreateTeamMembersRequest,
) -> HandlerResult<pb::CreateTeamMembersResponse> {
    let team_members = request
        .user_ids
        .iter()
        .map(|user_id| joins::add_to_team(world, &request.team_id, user_id, &request.requestor_id))
        .collect::<HandlerResult<_>>()?;
    Ok(pb::CreateTeamMembersResponse {
        error: None,
        team_members,
    })
}

/// Each user's failure is reported next to them instead of failing the call.
fn create_team_members_gracefully(
    world: &mut World,
    request: pb::CreateTeamMembersGracefullyRequest,
) -> HandlerResult<pb::CreateTeamMembersGracefullyResponse> {
    let team_members = request
        .user_ids
        .iter()
        .map(|user_id| {
            match joins::add_to_team(world, &request.team_id, user_id, &request.requestor_id) {
                Ok(member) => pb::TeamMemberWithError {
                    user_id: user_id.clone(),
                    member: Some(member),
                    error: None,
                },
                Err(err) => pb::TeamMemberWithError {
                    user_id: user_id.clone(),
                    member: None,
                    error: Some(err.to_proto()),
                },
            }
        })
        .collect();
    Ok(pb::CreateTeamMembersGracefullyResponse {
        error: None,
        team_members,
    })
}

fn delete_team_member(
    world: &mut World,
    request: pb::DeleteTeamMemberRequest,
) -> HandlerResult<pb::DeleteTeamMemberResponse> {
    joins::remove_from_team(
        world,
        &request.team_id,
        &request.user_id,
        &request.requestor_id,
    )?;
    Ok(pb::DeleteTeamMemberResponse { error: None })
}

/// The membership row, even one whose user left (it then has `delete_at`).
fn get_team_member(
    world: &mut World,
    request: pb::GetTeamMemberRequest,
) -> HandlerResult<pb::GetTeamMemberResponse> {
    let member = world
        .team_member(&request.team_id, &request.user_id)
        .ok_or_else(|| team_member_missing("GetTeamMember", &request.team_id, &request.user_id))?
        .to_proto();
    Ok(pb::GetTeamMemberResponse {
        error: None,
        team_member: Some(member),
    })
}

fn get_team_members(
    world: &mut World,
    request: pb::GetTeamMembersRequest,
) -> HandlerResult<pb::GetTeamMembersResponse> {
    let page = Page::new("GetTeamMembers", request.page, request.per_page)?;
    let team_members = page.apply(
        world
            .team_members_of(&request.team_id)
            .map(|member| member.to_proto()),
    );
    Ok(pb::GetTeamMembersResponse {
        error: None,
        team_members,
    })
}

fn get_team_members_for_user(
    world: &mut World,
    request: pb::GetTeamMembersForUserRequest,
) -> HandlerResult<pb::GetTeamMembersForUserResponse> {
    let page = Page::new("GetTeamMembersForUser", request.page, request.per_page)?;
    let team_members = page.apply(
        world
            .team_members
            .values()
            .filter(|member| member.user_id == request.user_id && member.is_active())
            .map(|member| member.to_proto()),
    );
    Ok(pb::GetTeamMembersForUserResponse {
        error: None,
        team_members,
    })
}

fn update_team_member_roles(
    world: &mut World,
    request: pb::UpdateTeamMemberRolesRequest,
) -> HandlerResult<pb::UpdateTeamMemberRolesResponse> {
    let location = "UpdateTeamMemberRoles";
    let was_guest = world
        .team_member(&request.team_id, &request.user_id)
        .ok_or_else(|| team_member_missing(location, &request.team_id, &request.user_id))?
        .roles
        .guest;
    require_team(world, "GetTeam", &request.team_id)?;
    let roles = member_roles::replace(location, &request.new_roles, Scope::Team, was_guest)?;
    let key = (request.team_id.clone(), request.user_id.clone());
    let member = world.team_members.get_mut(&key).expect("checked above");
    member.roles = roles;
    Ok(pb::UpdateTeamMemberRolesResponse {
        error: None,
        team_member: Some(member.to_proto()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: &str = "tacme000000000000000000000";
    const ALICE: &str = "ualice00000000000000000000";
    const ADMIN: &str = "uadmin00000000000000000000";

    fn world() -> World {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        let carol = pb::User {
            id: "ucarol00000000000000000000".into(),
            username: "carol".into(),
            ..Default::default()
        };
        w.users.insert(carol.id.clone(), carol);
        w
    }

    fn member_ids(w: &mut World, page: i32, per_page: i32) -> Vec<String> {
        get_team_members(
            w,
            pb::GetTeamMembersRequest {
                team_id: ACME.into(),
                page,
                per_page,
            },
        )
        .unwrap()
        .team_members
        .into_iter()
        .map(|m| m.user_id)
        .collect()
    }

    #[test]
    fn joining_adds_default_channels_and_announces_it() {
        let mut w = world();
        let carol = "ucarol00000000000000000000";
        let member = create_team_member(
            &mut w,
            pb::CreateTeamMemberRequest {
                team_id: ACME.into(),
                user_id: carol.into(),
            },
        )
        .unwrap()
        .team_member
        .unwrap();
        assert_eq!(member.roles, "team_user");
        assert!(
            w.channel_member("cacmetownsquare00000000000", carol)
                .is_some()
        );
        assert!(
            w.channel_member("cacmeofftopic0000000000000", carol)
                .is_some()
        );
        assert!(
            w.channel_member("cacmesecret000000000000000", carol)
                .is_none()
        );
        let types: Vec<_> = w.posts.values().map(|p| p.r#type.clone()).collect();
        assert_eq!(types, ["system_join_team", "system_join_channel"]);
        assert_eq!(member_ids(&mut w, 0, 10).len(), 4);
        // Adding again changes nothing.
        create_team_member(
            &mut w,
            pb::CreateTeamMemberRequest {
                team_id: ACME.into(),
                user_id: carol.into(),
            },
        )
        .unwrap();
        assert_eq!(w.posts.len(), 2);
    }

    #[test]
    fn bulk_adds_strict_or_graceful_and_pagination() {
        let mut w = world();
        let err = create_team_members(
            &mut w,
            pb::CreateTeamMembersRequest {
                team_id: ACME.into(),
                user_ids: vec!["ucarol00000000000000000000".into(), "nobody".into()],
                requestor_id: ADMIN.into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.user.missing_account.const");
        let graceful = create_team_members_gracefully(
            &mut w,
            pb::CreateTeamMembersGracefullyRequest {
                team_id: ACME.into(),
                user_ids: vec![ALICE.into(), "nobody".into()],
                requestor_id: ADMIN.into(),
            },
        )
        .unwrap()
        .team_members;
        assert!(graceful[0].member.is_some() && graceful[0].error.is_none());
        assert_eq!(graceful[1].error.as_ref().unwrap().status_code, 404);
        let all = member_ids(&mut w, 0, 10);
        assert_eq!(all.len(), 4);
        assert_eq!(member_ids(&mut w, 1, 3), all[3..]);
    }

    #[test]
    fn leaving_keeps_a_deleted_row_and_roles_are_checked() {
        let mut w = world();
        delete_team_member(
            &mut w,
            pb::DeleteTeamMemberRequest {
                team_id: ACME.into(),
                user_id: ALICE.into(),
                requestor_id: ALICE.into(),
            },
        )
        .unwrap();
        let row = get_team_member(
            &mut w,
            pb::GetTeamMemberRequest {
                team_id: ACME.into(),
                user_id: ALICE.into(),
            },
        )
        .unwrap()
        .team_member
        .unwrap();
        assert!(row.delete_at > 0);
        assert!(!member_ids(&mut w, 0, 10).contains(&ALICE.to_owned()));
        assert!(
            w.channel_member("cacmetownsquare00000000000", ALICE)
                .is_none()
        );
        let err = delete_team_member(
            &mut w,
            pb::DeleteTeamMemberRequest {
                team_id: ACME.into(),
                user_id: "ucarol00000000000000000000".into(),
                requestor_id: String::new(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "api.team.remove_user_from_team.missing.app_error");

        let update = |w: &mut World, roles: &str| {
            update_team_member_roles(
                w,
                pb::UpdateTeamMemberRolesRequest {
                    team_id: ACME.into(),
                    user_id: ADMIN.into(),
                    new_roles: roles.into(),
                },
            )
        };
        let member = update(&mut w, "team_user").unwrap().team_member.unwrap();
        assert!(!member.scheme_admin);
        assert_eq!(
            update(&mut w, "channel_user").unwrap_err().id,
            "api.channel.update_team_member_roles.scheme_role.app_error"
        );
        assert_eq!(
            update(&mut w, "team_guest").unwrap_err().id,
            "api.channel.update_team_member_roles.changing_guest_role.app_error"
        );
        assert_eq!(
            update(&mut w, "team_guest team_user").unwrap_err().id,
            "api.team.update_team_member_roles.guest_and_user.app_error"
        );
        assert_eq!(update(&mut w, "nonsense").unwrap_err().status_code, 400);
    }
}
