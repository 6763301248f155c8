//! Permission checks: `HasPermissionTo`, `HasPermissionToTeam`,
//! `HasPermissionToChannel` and `RolesGrantPermission`, answered from the
//! roles in the world (see `api::roles` for what is modelled). None of them
//! can fail upstream: an unknown user or permission is simply `false`.

use mm_plugin_proto::pb;

use crate::{
    registry::{HandlerResult, Registry},
    roles,
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(has_permission_to);
    registry.add(has_permission_to_team);
    registry.add(has_permission_to_channel);
    registry.add(roles_grant_permission);
}

fn has_permission_to(
    world: &mut World,
    request: pb::HasPermissionToRequest,
) -> HandlerResult<pb::HasPermissionToResponse> {
    Ok(pb::HasPermissionToResponse {
        error: None,
        has_permission: roles::has_permission(world, &request.user_id, &request.permission_id),
    })
}

fn has_permission_to_team(
    world: &mut World,
    request: pb::HasPermissionToTeamRequest,
) -> HandlerResult<pb::HasPermissionToTeamResponse> {
    Ok(pb::HasPermissionToTeamResponse {
        error: None,
        has_permission: roles::has_team_permission(
            world,
            &request.user_id,
            &request.team_id,
            &request.permission_id,
        ),
    })
}

fn has_permission_to_channel(
    world: &mut World,
    request: pb::HasPermissionToChannelRequest,
) -> HandlerResult<pb::HasPermissionToChannelResponse> {
    Ok(pb::HasPermissionToChannelResponse {
        error: None,
        has_permission: roles::has_channel_permission(
            world,
            &request.user_id,
            &request.channel_id,
            &request.permission_id,
        ),
    })
}

fn roles_grant_permission(
    _: &mut World,
    request: pb::RolesGrantPermissionRequest,
) -> HandlerResult<pb::RolesGrantPermissionResponse> {
    Ok(pb::RolesGrantPermissionResponse {
        error: None,
        has_permission: roles::grant(
            request.role_names.iter().map(String::as_str),
            &request.permission_id,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "uadmin00000000000000000000";
    const ALICE: &str = "ualice00000000000000000000";
    const TEAM: &str = "tacme000000000000000000000";
    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";
    const SECRET: &str = "cacmesecret000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn system(w: &mut World, user: &str, permission: &str) -> bool {
        has_permission_to(
            w,
            pb::HasPermissionToRequest {
                user_id: user.into(),
                permission_id: permission.into(),
            },
        )
        .unwrap()
        .has_permission
    }

    fn team(w: &mut World, user: &str, permission: &str) -> bool {
        has_permission_to_team(
            w,
            pb::HasPermissionToTeamRequest {
                user_id: user.into(),
                team_id: TEAM.into(),
                permission_id: permission.into(),
            },
        )
        .unwrap()
        .has_permission
    }

    fn channel(w: &mut World, user: &str, channel_id: &str, permission: &str) -> bool {
        has_permission_to_channel(
            w,
            pb::HasPermissionToChannelRequest {
                user_id: user.into(),
                channel_id: channel_id.into(),
                permission_id: permission.into(),
            },
        )
        .unwrap()
        .has_permission
    }

    #[test]
    fn system_admin_has_everything() {
        let mut w = world();
        assert!(system(&mut w, ADMIN, "manage_system"));
        assert!(!system(&mut w, ALICE, "manage_system"));
        assert!(team(&mut w, ADMIN, "manage_team"));
        assert!(channel(&mut w, ADMIN, TOWN_SQUARE, "manage_channel_roles"));
        assert!(!system(&mut w, "nobody", "create_team"));
    }

    #[test]
    fn membership_roles_decide_team_and_channel_permissions() {
        let mut w = world();
        assert!(team(&mut w, ALICE, "view_team"));
        assert!(!team(&mut w, ALICE, "manage_team"));
        assert!(channel(&mut w, ALICE, TOWN_SQUARE, "create_post"));
        assert!(!channel(&mut w, ALICE, SECRET, "read_channel"));
        assert!(!channel(&mut w, ALICE, TOWN_SQUARE, "manage_channel_roles"));
        // Becoming a channel admin grants the channel-scoped permission.
        w.channel_member_mut(TOWN_SQUARE, ALICE)
            .unwrap()
            .roles
            .admin = true;
        assert!(channel(&mut w, ALICE, TOWN_SQUARE, "manage_channel_roles"));
        // A team admin's team roles apply in the team's channels.
        w.team_members
            .get_mut(&(TEAM.to_owned(), ALICE.to_owned()))
            .unwrap()
            .roles
            .admin = true;
        assert!(channel(
            &mut w,
            ALICE,
            SECRET,
            "manage_private_channel_members"
        ));
    }

    #[test]
    fn roles_grant_permission_reads_the_table() {
        let mut w = world();
        let grant = |w: &mut World, roles: &[&str], permission: &str| {
            roles_grant_permission(
                w,
                pb::RolesGrantPermissionRequest {
                    role_names: roles.iter().map(|r| r.to_string()).collect(),
                    permission_id: permission.into(),
                },
            )
            .unwrap()
            .has_permission
        };
        assert!(grant(
            &mut w,
            &["system_user", "system_admin"],
            "manage_system"
        ));
        assert!(!grant(&mut w, &["system_user"], "manage_system"));
        assert!(grant(&mut w, &["channel_user"], "create_post"));
    }
}
