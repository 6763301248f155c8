//! Replacing a team or channel member's roles (`UpdateTeamMemberRoles`,
//! `UpdateChannelMemberRoles`): the scope's scheme roles become flags, any
//! other existing role stays explicit, and a guest can neither become a
//! user nor stop being a guest this way.

use crate::{
    errors::ApiError,
    registry::HandlerResult,
    roles::{self, RoleProblem},
    world::{SchemeRoles, Scope},
};

/// The error ids upstream uses, which differ by scope (and, for teams, by
/// package: some are filed under `api.channel`).
struct Ids {
    scheme_role: &'static str,
    guest_and_user: &'static str,
    changing_guest: &'static str,
}

fn ids(scope: Scope) -> Ids {
    match scope {
        Scope::Team => Ids {
            scheme_role: "api.channel.update_team_member_roles.scheme_role.app_error",
            guest_and_user: "api.team.update_team_member_roles.guest_and_user.app_error",
            changing_guest: "api.channel.update_team_member_roles.changing_guest_role.app_error",
        },
        Scope::Channel => Ids {
            scheme_role: "api.channel.update_channel_member_roles.scheme_role.app_error",
            guest_and_user: "api.channel.update_channel_member_roles.guest_and_user.app_error",
            changing_guest: "api.channel.update_channel_member_roles.changing_guest_role.app_error",
        },
    }
}

/// The new roles for a member who `was_guest`, or upstream's refusal.
pub fn replace(
    location: &str,
    new_roles: &str,
    scope: Scope,
    was_guest: bool,
) -> HandlerResult<SchemeRoles> {
    let ids = ids(scope);
    let roles = roles::parse_member_roles(new_roles, scope).map_err(|problem| match problem {
        // `GetRoleByName`'s 404, which the caller turns into a 400.
        RoleProblem::Unknown(name) => ApiError::invalid(
            "GetRoleByName",
            "app.role.get_by_name.app_error",
            "Unable to get role.",
        )
        .with_detail(format!("role_name={name}")),
        RoleProblem::OtherScheme(name) => ApiError::invalid(
            location,
            ids.scheme_role,
            "The provided role is managed by a Scheme and therefore cannot be applied directly.",
        )
        .with_detail(format!("role_name={name}")),
    })?;
    if roles.guest && roles.user {
        return Err(ApiError::invalid(
            location,
            ids.guest_and_user,
            "Invalid member update: A user must be a guest or a user but not both.",
        ));
    }
    if roles.guest != was_guest {
        return Err(ApiError::invalid(
            location,
            ids.changing_guest,
            "Invalid member update: You can't add or remove the guest role manually.",
        ));
    }
    Ok(roles)
}
