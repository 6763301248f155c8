//! Teams and channels: create and look up by id or name.

use mm_plugin_proto::pb;

use crate::api::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_team);
    registry.add(get_team);
    registry.add(get_team_by_name);
    registry.add(create_channel);
    registry.add(get_channel);
    registry.add(get_channel_by_name);
}

fn create_team(
    world: &mut World,
    request: pb::CreateTeamRequest,
) -> HandlerResult<pb::CreateTeamResponse> {
    let mut team = request.team.unwrap_or_default();
    if team.name.is_empty() {
        return Err(ApiError::invalid(
            "CreateTeam",
            "model.team.is_valid.name.app_error",
            "a team needs a name",
        ));
    }
    if world.team_by_name(&team.name).is_some() {
        return Err(ApiError::invalid(
            "CreateTeam",
            "app.team.save.existing.app_error",
            format!("a team named {} already exists", team.name),
        ));
    }
    let now = world.now_millis();
    team.id = world.next_id('t');
    team.create_at = now;
    team.update_at = now;
    world.teams.insert(team.id.clone(), team.clone());
    Ok(pb::CreateTeamResponse {
        error: None,
        team: Some(team),
    })
}

fn get_team(world: &mut World, request: pb::GetTeamRequest) -> HandlerResult<pb::GetTeamResponse> {
    let team = world.teams.get(&request.team_id).cloned().ok_or_else(|| {
        ApiError::not_found(
            "GetTeam",
            "app.team.get.find.app_error",
            format!("no team with id {:?}", request.team_id),
        )
    })?;
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
            format!("no team named {:?}", request.name),
        )
    })?;
    Ok(pb::GetTeamByNameResponse {
        error: None,
        team: Some(team),
    })
}

fn create_channel(
    world: &mut World,
    request: pb::CreateChannelRequest,
) -> HandlerResult<pb::CreateChannelResponse> {
    let mut channel = request.channel.unwrap_or_default();
    if channel.name.is_empty() {
        return Err(ApiError::invalid(
            "CreateChannel",
            "model.channel.is_valid.name.app_error",
            "a channel needs a name",
        ));
    }
    if !world.teams.contains_key(&channel.team_id) {
        return Err(ApiError::invalid(
            "CreateChannel",
            "model.channel.is_valid.team_id.app_error",
            format!("no team with id {:?}", channel.team_id),
        ));
    }
    let taken = world
        .channels
        .values()
        .any(|c| c.team_id == channel.team_id && c.name == channel.name);
    if taken {
        return Err(ApiError::invalid(
            "CreateChannel",
            "store.sql_channel.save_channel.exists.app_error",
            format!(
                "a channel named {} already exists in this team",
                channel.name
            ),
        ));
    }
    let now = world.now_millis();
    channel.id = world.next_id('c');
    channel.create_at = now;
    channel.update_at = now;
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
    let channel = world
        .channels
        .get(&request.channel_id)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "GetChannel",
                "app.channel.get.existing.app_error",
                format!("no channel with id {:?}", request.channel_id),
            )
        })?;
    Ok(pb::GetChannelResponse {
        error: None,
        channel: Some(channel),
    })
}

fn get_channel_by_name(
    world: &mut World,
    request: pb::GetChannelByNameRequest,
) -> HandlerResult<pb::GetChannelByNameResponse> {
    let channel = world
        .channels
        .values()
        .find(|c| {
            c.team_id == request.team_id
                && c.name == request.name
                && (request.include_deleted || c.delete_at == 0)
        })
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "GetChannelByName",
                "app.channel.get_by_name.missing.app_error",
                format!(
                    "no channel named {:?} in team {:?}",
                    request.name, request.team_id
                ),
            )
        })?;
    Ok(pb::GetChannelByNameResponse {
        error: None,
        channel: Some(channel),
    })
}
