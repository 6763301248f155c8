//! Roles and the permissions they grant, for `HasPermissionTo*`,
//! `RolesGrantPermission` and role validation.
//!
//! Modelled: the built-in roles of the default permission scheme and, for
//! each, an explicit subset of its permissions — the ones plugins commonly
//! check (`manage_system`, `manage_team`, `create_post`, `read_channel`,
//! `manage_channel_roles`, …). `system_admin` holds every permission, named
//! here or not. Resolution follows the server: a channel check tries the
//! channel membership's roles, then the channel's team, then the user's
//! system roles; a team check tries the team membership, then the system
//! roles. Custom schemes and permission edits in the System Console are not
//! modelled.

use super::world::{SchemeRoles, Scope, World};

pub const SYSTEM_ADMIN: &str = "system_admin";

struct Role {
    name: &'static str,
    /// Scheme-managed roles are granted through membership flags, never as
    /// explicit role names.
    scheme_managed: bool,
    permissions: &'static [&'static str],
}

const TEAM_USER: &[&str] = &[
    "view_team",
    "list_team_channels",
    "join_public_channels",
    "read_public_channel",
    "create_public_channel",
    "create_private_channel",
    "invite_user",
    "add_user_to_team",
];

const TEAM_ADMIN: &[&str] = &[
    "manage_team",
    "manage_team_roles",
    "remove_user_from_team",
    "manage_channel_roles",
    "manage_public_channel_members",
    "manage_private_channel_members",
    "manage_public_channel_properties",
    "manage_private_channel_properties",
    "delete_public_channel",
    "delete_private_channel",
    "convert_public_channel_to_private",
    "convert_private_channel_to_public",
    "delete_post",
    "delete_others_posts",
    "edit_others_posts",
    "manage_slash_commands",
    "manage_others_slash_commands",
    "manage_incoming_webhooks",
    "manage_outgoing_webhooks",
    "import_team",
];

const CHANNEL_GUEST: &[&str] = &[
    "read_channel",
    "read_channel_content",
    "add_reaction",
    "remove_reaction",
    "create_post",
    "edit_post",
    "upload_file",
    "use_channel_mentions",
];

const CHANNEL_USER: &[&str] = &[
    "read_channel",
    "read_channel_content",
    "add_reaction",
    "remove_reaction",
    "create_post",
    "edit_post",
    "delete_post",
    "upload_file",
    "get_public_link",
    "use_channel_mentions",
    "use_group_mentions",
    "manage_public_channel_properties",
    "manage_private_channel_properties",
    "manage_public_channel_members",
    "manage_private_channel_members",
    "delete_public_channel",
    "delete_private_channel",
];

const CHANNEL_ADMIN: &[&str] = &["manage_channel_roles"];

const ROLES: &[Role] = &[
    Role {
        name: SYSTEM_ADMIN,
        scheme_managed: true,
        permissions: &["manage_system"],
    },
    Role {
        name: "system_user",
        scheme_managed: true,
        permissions: &[
            "create_direct_channel",
            "create_group_channel",
            "create_team",
            "list_public_teams",
            "join_public_teams",
            "view_members",
            "create_emojis",
            "delete_emojis",
        ],
    },
    Role {
        name: "system_guest",
        scheme_managed: true,
        permissions: &["create_direct_channel", "create_group_channel"],
    },
    Role {
        name: "system_user_access_token",
        scheme_managed: false,
        permissions: &[
            "create_user_access_token",
            "read_user_access_token",
            "revoke_user_access_token",
        ],
    },
    Role {
        name: "system_post_all",
        scheme_managed: false,
        permissions: &["create_post"],
    },
    Role {
        name: "system_post_all_public",
        scheme_managed: false,
        permissions: &["create_post_public"],
    },
    Role {
        name: "system_read_only_admin",
        scheme_managed: false,
        permissions: &[
            "read_public_channel",
            "read_channel",
            "view_team",
            "list_public_teams",
        ],
    },
    Role {
        name: "system_user_manager",
        scheme_managed: false,
        permissions: &[
            "read_public_channel",
            "view_team",
            "list_public_teams",
            "manage_team",
        ],
    },
    Role {
        name: "system_manager",
        scheme_managed: false,
        permissions: &[
            "read_public_channel",
            "read_channel",
            "view_team",
            "list_public_teams",
            "manage_team",
            "manage_team_roles",
            "manage_channel_roles",
        ],
    },
    Role {
        name: "team_user",
        scheme_managed: true,
        permissions: TEAM_USER,
    },
    Role {
        name: "team_admin",
        scheme_managed: true,
        permissions: TEAM_ADMIN,
    },
    Role {
        name: "team_guest",
        scheme_managed: true,
        permissions: &["view_team"],
    },
    Role {
        name: "team_post_all",
        scheme_managed: false,
        permissions: &["create_post"],
    },
    Role {
        name: "team_post_all_public",
        scheme_managed: false,
        permissions: &["create_post_public"],
    },
    Role {
        name: "channel_user",
        scheme_managed: true,
        permissions: CHANNEL_USER,
    },
    Role {
        name: "channel_admin",
        scheme_managed: true,
        permissions: CHANNEL_ADMIN,
    },
    Role {
        name: "channel_guest",
        scheme_managed: true,
        permissions: CHANNEL_GUEST,
    },
];

fn role(name: &str) -> Option<&'static Role> {
    ROLES.iter().find(|role| role.name == name)
}

pub fn exists(name: &str) -> bool {
    role(name).is_some()
}

/// `RolesGrantPermission`: whether any of `names` grants `permission`.
pub fn grant<'a>(names: impl IntoIterator<Item = &'a str>, permission: &str) -> bool {
    names
        .into_iter()
        .filter_map(role)
        .any(|role| role.name == SYSTEM_ADMIN || role.permissions.contains(&permission))
}

/// Why a role list was refused for a membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleProblem {
    /// No such role.
    Unknown(String),
    /// A scheme role of another scope (`channel_admin` for a team member).
    OtherScheme(String),
}

/// Reads a membership's roles (`"team_user team_admin"`) the way
/// `UpdateTeamMemberRoles` / `UpdateChannelMemberRoles` do: the scope's
/// scheme roles become flags, other existing roles stay explicit.
pub fn parse_member_roles(roles: &str, scope: Scope) -> Result<SchemeRoles, RoleProblem> {
    let mut parsed = SchemeRoles::default();
    for name in roles.split_whitespace() {
        let role = role(name).ok_or_else(|| RoleProblem::Unknown(name.to_owned()))?;
        if !role.scheme_managed {
            parsed.explicit.push(name.to_owned());
            continue;
        }
        match name.strip_prefix(scope.prefix()) {
            Some("_guest") => parsed.guest = true,
            Some("_user") => parsed.user = true,
            Some("_admin") => parsed.admin = true,
            _ => return Err(RoleProblem::OtherScheme(name.to_owned())),
        }
    }
    Ok(parsed)
}

/// `HasPermissionTo`: the user's system roles.
pub fn has_permission(world: &World, user_id: &str, permission: &str) -> bool {
    world
        .users
        .get(user_id)
        .is_some_and(|user| grant(user.roles.split_whitespace(), permission))
}

/// `HasPermissionToTeam`: the team membership's roles, then the system roles.
pub fn has_team_permission(world: &World, user_id: &str, team_id: &str, permission: &str) -> bool {
    if user_id.is_empty() || team_id.is_empty() {
        return false;
    }
    let by_membership = world
        .active_team_member(team_id, user_id)
        .is_some_and(|member| {
            let names = member.roles.names(Scope::Team);
            grant(names.iter().map(String::as_str), permission)
        });
    by_membership || has_permission(world, user_id, permission)
}

/// `HasPermissionToChannel`: the channel membership's roles, then the
/// channel's team, then the system roles.
pub fn has_channel_permission(
    world: &World,
    user_id: &str,
    channel_id: &str,
    permission: &str,
) -> bool {
    if user_id.is_empty() || channel_id.is_empty() {
        return false;
    }
    let by_membership = world
        .channel_member(channel_id, user_id)
        .is_some_and(|member| {
            let names = member.roles.names(Scope::Channel);
            grant(names.iter().map(String::as_str), permission)
        });
    if by_membership {
        return true;
    }
    match world.channels.get(channel_id) {
        Some(channel) if !channel.team_id.is_empty() => {
            has_team_permission(world, user_id, &channel.team_id, permission)
        }
        _ => has_permission(world, user_id, permission),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_admin_grants_everything_other_roles_their_table() {
        assert!(grant(["system_admin"], "anything_at_all"));
        assert!(!grant(["system_user"], "manage_system"));
        assert!(grant(["team_user", "team_admin"], "manage_team"));
        assert!(!grant(["team_user"], "manage_team"));
        assert!(grant(["channel_user"], "create_post"));
        assert!(!grant(["channel_user"], "manage_channel_roles"));
        assert!(!grant(["no_such_role"], "create_post"));
    }

    #[test]
    fn member_roles_split_into_scheme_flags_and_explicit_roles() {
        let roles = parse_member_roles("team_user team_admin team_post_all", Scope::Team).unwrap();
        assert!(roles.user && roles.admin && !roles.guest);
        assert_eq!(roles.explicit, ["team_post_all"]);
        assert_eq!(
            parse_member_roles("channel_admin", Scope::Team),
            Err(RoleProblem::OtherScheme("channel_admin".into()))
        );
        assert_eq!(
            parse_member_roles("team_wizard", Scope::Team),
            Err(RoleProblem::Unknown("team_wizard".into()))
        );
    }
}
