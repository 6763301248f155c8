//! The world a recording took place in, as far as the traffic shows it:
//! the users, teams and channels the server sent (in hook requests and
//! Plugin API answers), with the ids it gave them, and the memberships its
//! answers revealed. Written as a world seed beside the suite, so a replay
//! starts from the same people and places even where a call is not
//! stubbed (a case edited by hand, a stub removed).
//!
//! What a seed cannot hold is left out rather than guessed: bots (their
//! owner is not in the traffic), direct and group messages, channels of a
//! team that never appeared, and roles beyond `system_admin` (a real
//! server's custom roles are unknown to the harness).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use mm_plugin_proto::pb;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, Value as Field};
use serde_json::{Value, json};

/// A Mattermost id: 26 letters and digits.
fn is_id(id: &str) -> bool {
    id.len() == 26 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// What the traffic said about the world, keyed by id.
#[derive(Debug, Default)]
pub struct Observed {
    users: BTreeMap<String, pb::User>,
    teams: BTreeMap<String, pb::Team>,
    channels: BTreeMap<String, pb::Channel>,
    /// (user id, team id).
    team_members: BTreeSet<(String, String)>,
    /// (user id, channel id).
    channel_members: BTreeSet<(String, String)>,
}

impl Observed {
    /// Takes in one message the server sent; the last state seen of an
    /// entity wins.
    pub fn take_in(&mut self, descriptor: &MessageDescriptor, bytes: &Bytes) {
        if let Ok(message) = DynamicMessage::decode(descriptor.clone(), bytes.clone()) {
            self.walk(&message);
        }
    }

    /// Entities without a well-formed id (a hook request's partial user,
    /// say) are not ones the server stored: they are passed over.
    fn walk(&mut self, message: &DynamicMessage) {
        match message.descriptor().name() {
            "User" => {
                if let Ok(user) = message.transcode_to::<pb::User>()
                    && is_id(&user.id)
                {
                    self.users.insert(user.id.clone(), user);
                }
                return;
            }
            "Team" => {
                if let Ok(team) = message.transcode_to::<pb::Team>()
                    && is_id(&team.id)
                {
                    self.teams.insert(team.id.clone(), team);
                }
                return;
            }
            "Channel" => {
                if let Ok(channel) = message.transcode_to::<pb::Channel>()
                    && is_id(&channel.id)
                {
                    self.channels.insert(channel.id.clone(), channel);
                }
                return;
            }
            "TeamMember" => {
                if let Ok(member) = message.transcode_to::<pb::TeamMember>()
                    && member.delete_at == 0
                {
                    self.team_members.insert((member.user_id, member.team_id));
                }
                return;
            }
            "ChannelMember" => {
                if let Ok(member) = message.transcode_to::<pb::ChannelMember>() {
                    self.channel_members
                        .insert((member.user_id, member.channel_id));
                }
                return;
            }
            _ => {}
        }
        for (_, field) in message.fields() {
            self.walk_field(field);
        }
    }

    fn walk_field(&mut self, field: &Field) {
        match field {
            Field::Message(message) => self.walk(message),
            Field::List(items) => items.iter().for_each(|item| self.walk_field(item)),
            Field::Map(entries) => entries.values().for_each(|item| self.walk_field(item)),
            _ => {}
        }
    }

    /// The world seed, or `None` when the traffic named no user, team or
    /// channel a seed can hold.
    pub fn seed(&self) -> Option<Value> {
        let teams: BTreeMap<&str, &pb::Team> = self
            .teams
            .values()
            .filter(|team| !team.name.is_empty() && team.delete_at == 0)
            .map(|team| (team.id.as_str(), team))
            .collect();
        let channels: BTreeMap<&str, (&pb::Channel, &pb::Team)> = self
            .channels
            .values()
            .filter(|channel| {
                let kind = pb::ChannelType::try_from(channel.r#type).ok();
                matches!(kind, Some(pb::ChannelType::Open | pb::ChannelType::Private))
                    && !channel.name.is_empty()
                    && channel.delete_at == 0
            })
            .filter_map(|channel| {
                let team = teams.get(channel.team_id.as_str())?;
                Some((channel.id.as_str(), (channel, *team)))
            })
            .collect();
        let users: Vec<Value> = self
            .users
            .values()
            .filter(|user| !user.is_bot && !user.username.is_empty())
            .map(|user| {
                let mut entry = json!({"name": user.username, "id": user.id});
                for (key, value) in [
                    ("email", &user.email),
                    ("first_name", &user.first_name),
                    ("last_name", &user.last_name),
                    ("nickname", &user.nickname),
                ] {
                    if !value.is_empty() {
                        entry[key] = json!(value);
                    }
                }
                if user.roles.split_whitespace().any(|r| r == "system_admin") {
                    entry["roles"] = json!("system_user system_admin");
                }
                let mut member_of = BTreeSet::new();
                let mut in_channels = BTreeSet::new();
                for (_, channel_id) in self.channel_members.iter().filter(|(u, _)| *u == user.id) {
                    if let Some((channel, team)) = channels.get(channel_id.as_str()) {
                        member_of.insert(team.name.clone());
                        in_channels.insert(format!("{}/{}", team.name, channel.name));
                    }
                }
                for (_, team_id) in self.team_members.iter().filter(|(u, _)| *u == user.id) {
                    if let Some(team) = teams.get(team_id.as_str()) {
                        member_of.insert(team.name.clone());
                    }
                }
                if !member_of.is_empty() {
                    entry["teams"] = json!(member_of);
                }
                if !in_channels.is_empty() {
                    entry["channels"] = json!(in_channels);
                }
                entry
            })
            .collect();
        let teams_json: Vec<Value> = teams
            .values()
            .map(|team| {
                let mut entry = json!({"name": team.name, "id": team.id});
                if team.display_name != team.name && !team.display_name.is_empty() {
                    entry["display_name"] = json!(team.display_name);
                }
                if team.r#type == pb::TeamType::Invite as i32 {
                    entry["invite_only"] = json!(true);
                }
                entry
            })
            .collect();
        let channels_json: Vec<Value> = channels
            .values()
            .map(|(channel, team)| {
                let mut entry = json!({"name": channel.name, "team": team.name, "id": channel.id});
                if channel.display_name != channel.name && !channel.display_name.is_empty() {
                    entry["display_name"] = json!(channel.display_name);
                }
                if channel.r#type == pb::ChannelType::Private as i32 {
                    entry["private"] = json!(true);
                }
                entry
            })
            .collect();
        if users.is_empty() && teams_json.is_empty() {
            return None;
        }
        Some(json!({"users": users, "teams": teams_json, "channels": channels_json}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn descriptor(name: &str) -> MessageDescriptor {
        crate::wire::message_descriptor(name).expect("a message of the protocol")
    }

    #[test]
    fn users_teams_channels_and_memberships_come_from_what_the_server_sent() {
        let mut observed = Observed::default();
        let team = pb::Team {
            id: "kt4n8c2w9sbd1hx6e7yqmz3rfa".into(),
            name: "ops".into(),
            display_name: "Operations".into(),
            r#type: pb::TeamType::Invite as i32,
            ..Default::default()
        };
        let channel = pb::Channel {
            id: "c9d8e7f6a5b4c3d2e1f0a9b8c7".into(),
            team_id: team.id.clone(),
            name: "alerts".into(),
            display_name: "alerts".into(),
            r#type: pb::ChannelType::Private as i32,
            ..Default::default()
        };
        let direct = pb::Channel {
            id: "dm00000000000000000000000a".into(),
            name: "a__b".into(),
            r#type: pb::ChannelType::Direct as i32,
            ..Default::default()
        };
        let dana = pb::User {
            id: "8xq3kd9w1fbh7y5mzjnr4t6pae".into(),
            username: "dana".into(),
            roles: "system_user system_admin custom_role".into(),
            ..Default::default()
        };
        let bot = pb::User {
            id: "b0000000000000000000000001".into(),
            username: "helper".into(),
            is_bot: true,
            ..Default::default()
        };
        let answers: Vec<(&str, Vec<u8>)> = vec![
            (
                "GetTeamResponse",
                pb::GetTeamResponse {
                    team: Some(team.clone()),
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
            (
                "GetChannelsForTeamForUserResponse",
                pb::GetChannelsForTeamForUserResponse {
                    channels: vec![channel.clone(), direct],
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
            (
                "GetUsersResponse",
                pb::GetUsersResponse {
                    users: vec![dana.clone(), bot],
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
            (
                "GetChannelMemberResponse",
                pb::GetChannelMemberResponse {
                    channel_member: Some(pb::ChannelMember {
                        channel_id: channel.id.clone(),
                        user_id: dana.id.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
        ];
        for (name, bytes) in answers {
            observed.take_in(&descriptor(name), &Bytes::from(bytes));
        }
        assert_eq!(
            observed.seed().unwrap(),
            json!({
                "users": [{"name": "dana", "id": dana.id, "roles": "system_user system_admin",
                           "teams": ["ops"], "channels": ["ops/alerts"]}],
                "teams": [{"name": "ops", "id": team.id, "display_name": "Operations", "invite_only": true}],
                "channels": [{"name": "alerts", "team": "ops", "id": channel.id, "private": true}]
            })
        );
        // And it is a seed the harness can build a world from.
        let seed: crate::api::Seed = serde_json::from_value(observed.seed().unwrap()).unwrap();
        crate::api::World::from_seed(&seed, "p", "/p", "recorded").unwrap();
    }

    #[test]
    fn traffic_without_people_or_places_gives_no_world() {
        let mut observed = Observed::default();
        observed.take_in(
            &descriptor("GetServerVersionResponse"),
            &Bytes::from(
                pb::GetServerVersionResponse {
                    version: "10.11.0".into(),
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
        );
        assert_eq!(observed.seed(), None);
    }
}
