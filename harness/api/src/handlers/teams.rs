//! Teams: create (with their default channels), look up, list, search,
//! update, archive, and the counts derived from membership.

use mm_plugin_proto::pb;

use super::common::{contains_folded, is_active, require_team};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_team);
    registry.add(get_team);
    registry.add(get_team_by_name);
    registry.add(get_teams);
    registry.add(get_teams_for_user);
    registry.add(search_teams);
    registry.add(update_team);
    registry.add(delete_team);
    registry.add(get_team_stats);
    registry.add(get_teams_unread_for_user);
}

/// Names a team URL may not start with (`model.reservedName`).
const RESERVED_TEAM_NAMES: &[&str] = &[
    "admin",
    "api",
    "channel",
    "claim",
    "error",
    "files",
    "help",
    "landing",
    "login",
    "mfa",
    "oauth",
    "plug",
    "plugins",
    "post",
    "signup",
    "boards",
    "playbooks",
];

/// `model.IsValidTeamName`: 2 to 64 lowercase letters, digits and dashes,
/// starting and ending with a letter or digit.
fn is_valid_team_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
}

/// `Team.IsValid`, in its order.
fn check_team(team: &pb::Team) -> HandlerResult<()> {
    let invalid = |id: &str, message: &str| {
        Err(ApiError::invalid("Team.IsValid", id, message).with_detail(format!("id={}", team.id)))
    };
    if team.display_name.is_empty() || team.display_name.chars().count() > 64 {
        return invalid("model.team.is_valid.name.app_error", "Invalid name.");
    }
    if team.name.len() > 64 {
        return invalid(
            "model.team.is_valid.url.app_error",
            "Invalid URL Identifier.",
        );
    }
    let lowered = team.name.to_lowercase();
    if RESERVED_TEAM_NAMES.iter().any(|r| lowered.starts_with(r)) {
        return invalid(
            "model.team.is_valid.reserved.app_error",
            "This URL is unavailable. Please try another.",
        );
    }
    if !is_valid_team_name(&team.name) {
        return invalid(
            "model.team.is_valid.characters.app_error",
            "Name must be 2 or more lowercase alphanumeric characters.",
        );
    }
    if team.r#type == pb::TeamType::Unspecified as i32 {
        return invalid("model.team.is_valid.type.app_error", "Invalid type.");
    }
    Ok(())
}

fn create_team(
    world: &mut World,
    request: pb::CreateTeamRequest,
) -> HandlerResult<pb::CreateTeamResponse> {
    let mut team = request.team.unwrap_or_default();
    check_team(&team)?;
    if world.team_by_name(&team.name).is_some() {
        return Err(ApiError::invalid(
            "SqlTeamStore.Save",
            "store.sql_team.save_team.existing.app_error",
            "A team with that name already exists.",
        ));
    }
    let now = world.now_millis();
    team.id = world.next_id('t');
    team.create_at = now;
    team.update_at = now;
    team.delete_at = 0;
    if team.invite_id.is_empty() {
        team.invite_id = world.next_id('i');
    }
    world.teams.insert(team.id.clone(), team.clone());
    // The server gives every new team its default channels.
    for (name, display_name) in [("town-square", "Town Square"), ("off-topic", "Off-Topic")] {
        let id = world.next_id('c');
        world.channels.insert(
            id.clone(),
            pb::Channel {
                id,
                create_at: now,
                update_at: now,
                team_id: team.id.clone(),
                r#type: pb::ChannelType::Open as i32,
                display_name: display_name.to_owned(),
                name: name.to_owned(),
                ..Default::default()
            },
        );
    }
    Ok(pb::CreateTeamResponse {
        error: None,
        team: Some(team),
    })
}

fn get_team(world: &mut World, request: pb::GetTeamRequest) -> HandlerResult<pb::GetTeamResponse> {
    let team = require_team(world, "GetTeam", &request.team_id)?.clone();
    Ok(pb::GetTeamResponse {
        error: None,
        team: Some(team),
    })
}

fn get_team_by_name(
    world: &mut World,
    request: pb::GetTeamByNameRequest,
) -> HandlerResult<pb::GetTeamByNameResponse> {
    let team = world.team_by_name(&request.name).cloned().ok_or_else(|| {
        ApiError::not_found(
            "GetTeamByName",
            "app.team.get_by_name.missing.app_error",
            "Unable to find the existing team.",
        )
        .with_detail(format!("name={}", request.name))
    })?;
    Ok(pb::GetTeamByNameResponse {
        error: None,
        team: Some(team),
    })
}

/// Teams for which `keep` holds, ordered by display name as the store does.
fn teams_where(world: &World, keep: impl Fn(&pb::Team) -> bool) -> Vec<pb::Team> {
    let mut teams: Vec<pb::Team> = world.teams.values().filter(|t| keep(t)).cloned().collect();
    teams.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    teams
}

/// Every team, archived ones included, as `GetAllTeams` answers.
fn get_teams(world: &mut World, _: pb::GetTeamsRequest) -> HandlerResult<pb::GetTeamsResponse> {
    Ok(pb::GetTeamsResponse {
        error: None,
        teams: teams_where(world, |_| true),
    })
}

fn get_teams_for_user(
    world: &mut World,
    request: pb::GetTeamsForUserRequest,
) -> HandlerResult<pb::GetTeamsForUserResponse> {
    let teams = teams_where(world, |team| {
        team.delete_at == 0
            && world
                .active_team_member(&team.id, &request.user_id)
                .is_some()
    });
    Ok(pb::GetTeamsForUserResponse { error: None, teams })
}

/// A case-insensitive substring of the name or display name.
fn search_teams(
    world: &mut World,
    request: pb::SearchTeamsRequest,
) -> HandlerResult<pb::SearchTeamsResponse> {
    let teams = teams_where(world, |team| {
        team.delete_at == 0
            && (contains_folded(&team.name, &request.term)
                || contains_folded(&team.display_name, &request.term))
    });
    Ok(pb::SearchTeamsResponse { error: None, teams })
}

/// Only what `TeamService.UpdateTeam` copies from the request changes; the
/// name, type and ids stay.
fn update_team(
    world: &mut World,
    request: pb::UpdateTeamRequest,
) -> HandlerResult<pb::UpdateTeamResponse> {
    let update = request.team.unwrap_or_default();
    let mut team = require_team(world, "UpdateTeam", &update.id)?.clone();
    team.display_name = update.display_name;
    team.description = update.description;
    team.allow_open_invite = update.allow_open_invite;
    team.company_name = update.company_name;
    team.allowed_domains = update.allowed_domains;
    team.last_team_icon_update = update.last_team_icon_update;
    team.group_constrained = update.group_constrained;
    check_team(&team)?;
    team.update_at = world.now_millis();
    world.teams.insert(team.id.clone(), team.clone());
    Ok(pb::UpdateTeamResponse {
        error: None,
        team: Some(team),
    })
}

/// Archives the team (`SoftDeleteTeam`).
fn delete_team(
    world: &mut World,
    request: pb::DeleteTeamRequest,
) -> HandlerResult<pb::DeleteTeamResponse> {
    require_team(world, "GetTeam", &request.team_id)?;
    let now = world.now_millis();
    let team = world
        .teams
        .get_mut(&request.team_id)
        .expect("checked above");
    team.delete_at = now;
    team.update_at = now;
    Ok(pb::DeleteTeamResponse { error: None })
}

/// Member counts; like upstream, an unknown team simply counts nobody.
fn get_team_stats(
    world: &mut World,
    request: pb::GetTeamStatsRequest,
) -> HandlerResult<pb::GetTeamStatsResponse> {
    let members: Vec<&str> = world
        .team_members_of(&request.team_id)
        .map(|member| member.user_id.as_str())
        .collect();
    let active = members
        .iter()
        .filter(|id| world.users.get(**id).is_some_and(is_active))
        .count();
    Ok(pb::GetTeamStatsResponse {
        error: None,
        team_stats: Some(pb::TeamStats {
            team_id: request.team_id.clone(),
            total_member_count: members.len() as i64,
            active_member_count: active as i64,
        }),
    })
}

/// Unread messages per team: what each of the user's channels in the team
/// holds beyond what their membership has seen. Mention counts stay as the
/// memberships record them (the harness does not parse mentions).
fn get_teams_unread_for_user(
    world: &mut World,
    request: pb::GetTeamsUnreadForUserRequest,
) -> HandlerResult<pb::GetTeamsUnreadForUserResponse> {
    let user_id = &request.user_id;
    let team_unreads = teams_where(world, |team| {
        world.active_team_member(&team.id, user_id).is_some()
    })
    .into_iter()
    .map(|team| {
        let mut unread = pb::TeamUnread {
            team_id: team.id.clone(),
            ..Default::default()
        };
        let channels = world.channels.values().filter(|c| c.team_id == team.id);
        for channel in channels {
            let Some(member) = world.channel_member(&channel.id, user_id) else {
                continue;
            };
            unread.mention_count += member.mention_count;
            if member.notify_props.get("mark_unread").map(String::as_str) != Some("mention") {
                unread.msg_count += (channel.total_msg_count - member.msg_count).max(0);
            }
        }
        unread
    })
    .collect();
    Ok(pb::GetTeamsUnreadForUserResponse {
        error: None,
        team_unreads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const ACME: &str = "tacme000000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn new_team(name: &str) -> pb::CreateTeamRequest {
        pb::CreateTeamRequest {
            team: Some(pb::Team {
                name: name.into(),
                display_name: "Zeta".into(),
                r#type: pb::TeamType::Open as i32,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn created_teams_get_default_channels_and_are_listed() {
        let mut w = world();
        let team = create_team(&mut w, new_team("zeta")).unwrap().team.unwrap();
        assert!(w.channel_by_name(&team.id, "town-square").is_some());
        assert!(w.channel_by_name(&team.id, "off-topic").is_some());
        let names: Vec<_> = get_teams(&mut w, pb::GetTeamsRequest {})
            .unwrap()
            .teams
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["acme", "zeta"]);
        let err = create_team(&mut w, new_team("zeta")).unwrap_err();
        assert_eq!(err.id, "store.sql_team.save_team.existing.app_error");
        let err = create_team(&mut w, new_team("API-team")).unwrap_err();
        assert_eq!(err.id, "model.team.is_valid.reserved.app_error");
        let err = create_team(&mut w, new_team("")).unwrap_err();
        assert_eq!(err.id, "model.team.is_valid.characters.app_error");
    }

    #[test]
    fn updates_keep_the_name_and_archiving_hides_from_search_and_membership() {
        let mut w = world();
        let updated = update_team(
            &mut w,
            pb::UpdateTeamRequest {
                team: Some(pb::Team {
                    id: ACME.into(),
                    name: "renamed".into(),
                    display_name: "Acme Corp".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .team
        .unwrap();
        assert_eq!(
            (updated.name.as_str(), updated.display_name.as_str()),
            ("acme", "Acme Corp")
        );
        let search = |w: &mut World, term: &str| {
            search_teams(w, pb::SearchTeamsRequest { term: term.into() })
                .unwrap()
                .teams
                .len()
        };
        assert_eq!(search(&mut w, "CORP"), 1);
        assert_eq!(
            get_teams_for_user(
                &mut w,
                pb::GetTeamsForUserRequest {
                    user_id: ALICE.into()
                }
            )
            .unwrap()
            .teams
            .len(),
            1
        );
        delete_team(
            &mut w,
            pb::DeleteTeamRequest {
                team_id: ACME.into(),
            },
        )
        .unwrap();
        assert_eq!(search(&mut w, "acme"), 0);
        let err = delete_team(
            &mut w,
            pb::DeleteTeamRequest {
                team_id: "nope".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_status().message(),
            "app.team.get.find.app_error: Unable to find the existing team."
        );
    }

    #[test]
    fn stats_and_unreads_follow_members_and_posts() {
        let mut w = world();
        let stats = get_team_stats(
            &mut w,
            pb::GetTeamStatsRequest {
                team_id: ACME.into(),
            },
        )
        .unwrap()
        .team_stats
        .unwrap();
        assert_eq!(
            (stats.total_member_count, stats.active_member_count),
            (3, 3)
        );
        w.insert_post(pb::Post {
            channel_id: "cacmetownsquare00000000000".into(),
            user_id: "ubob0000000000000000000000".into(),
            message: "hi".into(),
            ..Default::default()
        });
        let unreads = get_teams_unread_for_user(
            &mut w,
            pb::GetTeamsUnreadForUserRequest {
                user_id: ALICE.into(),
            },
        )
        .unwrap()
        .team_unreads;
        assert_eq!(unreads.len(), 1);
        assert_eq!(unreads[0].msg_count, 1);
    }
}
