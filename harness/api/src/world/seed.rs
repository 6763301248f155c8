//! The seed file format and building a world from it.
//!
//! ```json
//! {
//!   "users": [{"name": "alice", "teams": ["acme"], "channels": {"acme/town-square": "channel_user channel_admin"}, "status": "online"}],
//!   "bots": [{"name": "helper-bot", "owner": "admin"}],
//!   "teams": [{"name": "acme"}],
//!   "channels": [{"name": "town-square", "team": "acme"}],
//!   "emoji": [{"name": "party-parrot", "creator": "admin"}],
//!   "plugins": [{"id": "com.example.other", "enabled": false}],
//!   "preferences": [{"user": "alice", "category": "display_settings", "name": "use_military_time", "value": "true"}],
//!   "groups": [{"name": "devs", "members": ["alice"], "teams": ["acme"], "channels": ["acme/off-topic"]}],
//!   "sidebar_categories": [{"user": "alice", "team": "acme", "name": "Work", "channels": ["acme/off-topic"]}],
//!   "access_tokens": [{"user": "alice", "description": "ci"}],
//!   "property_fields": [{"group": "custom_profile_attributes", "name": "Department", "type": "text"}]
//! }
//! ```
//!
//! A plugin entry may carry `"http": {"status": 200, "headers": {...},
//! "body": "..."}`: what that plugin answers to inter-plugin requests.
//! Groups link their teams and channels with auto-add.
//!
//! Memberships are a list of names (plain members) or a map from name to
//! roles; channels are named `team/channel`. A seeded membership is the
//! state the world starts in: it posts no "joined" messages.

use std::{collections::BTreeMap, path::Path};

use mm_plugin_proto::pb;
use serde::Deserialize;
use serde_json::Value;

use super::{
    DEFAULT_IMAGE, ID_LEN, InstalledPlugin, KvEntry, PeerAnswer, SchemeRoles, Scope, World,
};
use crate::roles;

static DEFAULT_SEED: &str = include_str!("../../../../fixtures/worlds/default.json");

/// 2024-01-01T00:00:00Z: a fixed install date keeps answers reproducible.
const DEFAULT_INSTALL_DATE: i64 = 1_704_067_200_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub server_version: Option<String>,
    pub install_date: Option<i64>,
    pub config: Option<Value>,
    #[serde(default)]
    pub plugin_config: serde_json::Map<String, Value>,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub bots: Vec<SeedBot>,
    #[serde(default)]
    pub teams: Vec<SeedTeam>,
    #[serde(default)]
    pub channels: Vec<SeedChannel>,
    #[serde(default)]
    pub emoji: Vec<SeedEmoji>,
    /// Other installed plugins; the plugin under test is always installed.
    #[serde(default)]
    pub plugins: Vec<SeedPlugin>,
    #[serde(default)]
    pub preferences: Vec<SeedPreference>,
    /// KV values as text.
    #[serde(default)]
    pub kv: BTreeMap<String, String>,
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    /// Custom sidebar categories, on top of the defaults.
    #[serde(default)]
    pub sidebar_categories: Vec<SeedSidebarCategory>,
    #[serde(default)]
    pub access_tokens: Vec<SeedAccessToken>,
    #[serde(default)]
    pub property_fields: Vec<SeedPropertyField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    pub name: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: String,
    /// `custom` (the default) or `ldap`, which needs a `remote_id`.
    pub source: Option<String>,
    #[serde(default)]
    pub remote_id: String,
    /// Usernames.
    #[serde(default)]
    pub members: Vec<String>,
    /// Team names and `team/channel` names the group is linked to.
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSidebarCategory {
    pub user: String,
    pub team: String,
    pub name: String,
    /// `team/channel` names, taken out of the default categories.
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccessToken {
    pub user: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPropertyField {
    /// The property group's name, registered if new.
    pub group: String,
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub target_type: String,
    #[serde(default)]
    pub target_id: String,
}

/// What a seeded plugin answers to inter-plugin HTTP requests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPeerAnswer {
    #[serde(default = "http_ok")]
    pub status: i32,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
}

fn http_ok() -> i32 {
    200
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub name: String,
    /// The id a real server gave the user (a recording keeps it); by
    /// default one is made from the name.
    pub id: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub nickname: String,
    pub roles: Option<String>,
    /// `online`, `away`, `dnd` or `offline`; without one the user has never
    /// had a status, as on a fresh server.
    pub status: Option<String>,
    #[serde(default)]
    pub teams: Memberships,
    #[serde(default)]
    pub channels: Memberships,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedBot {
    pub name: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The owner's username; without one the plugin under test owns it.
    pub owner: Option<String>,
    #[serde(default)]
    pub teams: Memberships,
    #[serde(default)]
    pub channels: Memberships,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTeam {
    pub name: String,
    /// As a user's `id`.
    pub id: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub invite_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedChannel {
    pub name: String,
    /// As a user's `id`.
    pub id: Option<String>,
    pub team: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedEmoji {
    pub name: String,
    /// The creator's username.
    pub creator: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlugin {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub http: Option<SeedPeerAnswer>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPreference {
    /// The username.
    pub user: String,
    pub category: String,
    pub name: String,
    pub value: String,
}

/// Memberships: `["acme"]` for plain members, `{"acme": "team_user
/// team_admin"}` to give roles.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Memberships {
    Names(Vec<String>),
    WithRoles(BTreeMap<String, String>),
}

impl Default for Memberships {
    fn default() -> Memberships {
        Memberships::Names(Vec::new())
    }
}

impl Memberships {
    /// (name, roles) pairs; no roles means a plain member.
    fn entries(&self) -> Vec<(&str, &str)> {
        match self {
            Memberships::Names(names) => names.iter().map(|name| (name.as_str(), "")).collect(),
            Memberships::WithRoles(map) => map
                .iter()
                .map(|(name, roles)| (name.as_str(), roles.as_str()))
                .collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{path}:{line}:{column}: invalid world seed: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: invalid world seed: {message}")]
    Invalid { path: String, message: String },
}

/// A readable id for a seeded entity: the kind's letter and the name's
/// letters and digits, padded with zeros to 26 characters.
pub(crate) fn seeded_id(kind: char, name: &str) -> String {
    let mut id: String = std::iter::once(kind)
        .chain(
            name.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase()),
        )
        .take(ID_LEN)
        .collect();
    while id.len() < ID_LEN {
        id.push('0');
    }
    id
}

impl World {
    /// The built-in default world.
    pub fn default_seed() -> Seed {
        serde_json::from_str(DEFAULT_SEED).expect("the built-in default world is valid")
    }

    /// Parses a seed from JSON text; `origin` names it in errors.
    pub fn parse_seed(origin: &str, text: &str) -> Result<Seed, SeedError> {
        serde_json::from_str(text).map_err(|err| SeedError::Syntax {
            path: origin.to_owned(),
            line: err.line(),
            column: err.column(),
            message: wire::strip_serde_position(&err.to_string()),
        })
    }

    pub fn load_seed(path: &Path) -> Result<Seed, SeedError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| SeedError::Invalid {
            path: origin.clone(),
            message: err.to_string(),
        })?;
        Self::parse_seed(&origin, &text)
    }

    /// Builds a world for `plugin_id` from a seed.
    pub fn from_seed(
        seed: &Seed,
        plugin_id: &str,
        bundle_path: &str,
        origin: &str,
    ) -> Result<World, SeedError> {
        World::from_seed_at(seed, plugin_id, bundle_path, origin, None)
    }

    /// [`World::from_seed`], with the world's clock frozen at
    /// `frozen_clock` from the start, so the seeded entities' timestamps
    /// are the same run after run too.
    pub fn from_seed_at(
        seed: &Seed,
        plugin_id: &str,
        bundle_path: &str,
        origin: &str,
        frozen_clock: Option<std::time::SystemTime>,
    ) -> Result<World, SeedError> {
        let mut world = World {
            frozen_clock,
            plugin_id: plugin_id.to_owned(),
            bundle_path: bundle_path.to_owned(),
            server_version: seed
                .server_version
                .clone()
                .unwrap_or_else(|| "10.11.0".to_owned()),
            install_date: seed.install_date.unwrap_or(DEFAULT_INSTALL_DATE),
            telemetry_id: seeded_id('d', "diagnostic"),
            config: seed
                .config
                .clone()
                .unwrap_or_else(|| Value::Object(Default::default())),
            plugin_config: seed.plugin_config.clone(),
            ..World::default()
        };
        let mut builder = Builder {
            world: &mut world,
            origin,
        };
        builder.install_plugins(&seed.plugins)?;
        builder.users(&seed.users)?;
        builder.bots(&seed.bots)?;
        builder.teams(&seed.teams)?;
        builder.channels(&seed.channels)?;
        for user in &seed.users {
            builder.memberships(&user.name, &user.teams, &user.channels)?;
        }
        for bot in &seed.bots {
            builder.memberships(&bot.name, &bot.teams, &bot.channels)?;
        }
        builder.emoji(&seed.emoji)?;
        builder.preferences(&seed.preferences)?;
        builder.groups(&seed.groups)?;
        builder.sidebar_categories(&seed.sidebar_categories)?;
        builder.access_tokens(&seed.access_tokens)?;
        builder.property_fields(&seed.property_fields)?;
        for (key, value) in &seed.kv {
            world.kv.insert(
                key.clone(),
                KvEntry {
                    value: value.clone().into_bytes(),
                    expires_at: None,
                },
            );
        }
        Ok(world)
    }
}

/// Fills a world from a seed section by section, reporting problems with
/// the seed's origin.
struct Builder<'w> {
    world: &'w mut World,
    origin: &'w str,
}

impl Builder<'_> {
    fn invalid(&self, message: String) -> SeedError {
        SeedError::Invalid {
            path: self.origin.to_owned(),
            message,
        }
    }

    /// The id the seed gives an entity, checked as the server checks ids;
    /// else one made from its name.
    fn given_id(&self, given: Option<&str>, kind: char, name: &str) -> Result<String, SeedError> {
        match given {
            None => Ok(seeded_id(kind, name)),
            Some(id) if crate::handlers::common::is_valid_id(id) => Ok(id.to_owned()),
            Some(id) => Err(self.invalid(format!(
                "`{name}` has the id {id:?}; expected {ID_LEN} letters and digits"
            ))),
        }
    }

    fn user_id(&self, username: &str, what: &str) -> Result<String, SeedError> {
        self.world
            .user_by_name(username)
            .map(|user| user.id.clone())
            .ok_or_else(|| {
                self.invalid(format!(
                    "{what} names user `{username}`, which the seed does not define"
                ))
            })
    }

    fn add_user(&mut self, user: pb::User) -> Result<(), SeedError> {
        if self.world.users.contains_key(&user.id) {
            return Err(self.invalid(format!(
                "two users share the id {} (`{}`)",
                user.id, user.username
            )));
        }
        self.world.users.insert(user.id.clone(), user);
        Ok(())
    }

    fn install_plugins(&mut self, plugins: &[SeedPlugin]) -> Result<(), SeedError> {
        let under_test = SeedPlugin {
            id: self.world.plugin_id.clone(),
            name: None,
            version: String::new(),
            description: String::new(),
            enabled: true,
            http: None,
        };
        for plugin in std::iter::once(&under_test).chain(plugins) {
            let manifest = pb::Manifest {
                id: plugin.id.clone(),
                name: plugin.name.clone().unwrap_or_else(|| plugin.id.clone()),
                description: plugin.description.clone(),
                version: plugin.version.clone(),
                ..Default::default()
            };
            let installed = InstalledPlugin {
                manifest,
                enabled: plugin.enabled,
            };
            if let Some(http) = &plugin.http {
                self.world.peer_answers.insert(
                    plugin.id.clone(),
                    PeerAnswer {
                        status_code: http.status,
                        headers: http.headers.clone(),
                        body: http.body.clone().into_bytes(),
                    },
                );
            }
            if self
                .world
                .plugins
                .insert(plugin.id.clone(), installed)
                .is_some()
            {
                return Err(self.invalid(format!("plugin `{}` is installed twice", plugin.id)));
            }
        }
        Ok(())
    }

    fn users(&mut self, users: &[SeedUser]) -> Result<(), SeedError> {
        let now = self.world.now_millis();
        for seed in users {
            let id = self.given_id(seed.id.as_deref(), 'u', &seed.name)?;
            let roles = seed
                .roles
                .clone()
                .unwrap_or_else(|| "system_user".to_owned());
            if let Some(unknown) = roles.split_whitespace().find(|role| !roles::exists(role)) {
                return Err(self.invalid(format!(
                    "user `{}` has the unknown role `{unknown}`",
                    seed.name
                )));
            }
            if let Some(status) = &seed.status {
                if !["online", "away", "dnd", "offline"].contains(&status.as_str()) {
                    return Err(self.invalid(format!(
                        "user `{}` has status `{status}`; expected online, away, dnd or offline",
                        seed.name
                    )));
                }
                self.world.statuses.insert(
                    id.clone(),
                    pb::Status {
                        user_id: id.clone(),
                        status: status.clone(),
                        manual: true,
                        last_activity_at: now,
                        dnd_end_time: 0,
                    },
                );
            }
            self.add_user(pb::User {
                id,
                create_at: now,
                update_at: now,
                username: seed.name.clone(),
                email: seed
                    .email
                    .clone()
                    .unwrap_or_else(|| format!("{}@example.com", seed.name)),
                first_name: seed.first_name.clone(),
                last_name: seed.last_name.clone(),
                nickname: seed.nickname.clone(),
                roles,
                locale: "en".to_owned(),
                ..Default::default()
            })?;
        }
        Ok(())
    }

    fn bots(&mut self, bots: &[SeedBot]) -> Result<(), SeedError> {
        let now = self.world.now_millis();
        for seed in bots {
            let owner_id = match &seed.owner {
                Some(owner) => self.user_id(owner, &format!("bot `{}`", seed.name))?,
                None => self.world.plugin_id.clone(),
            };
            let id = seeded_id('u', &seed.name);
            let display_name = seed.display_name.clone().unwrap_or_default();
            self.add_user(pb::User {
                id: id.clone(),
                create_at: now,
                update_at: now,
                username: seed.name.clone(),
                email: format!("{}@localhost", seed.name),
                first_name: display_name.clone(),
                roles: "system_user".to_owned(),
                locale: "en".to_owned(),
                is_bot: true,
                bot_description: seed.description.clone(),
                ..Default::default()
            })?;
            self.world.bots.insert(
                id.clone(),
                pb::Bot {
                    user_id: id,
                    username: seed.name.clone(),
                    display_name,
                    description: seed.description.clone(),
                    owner_id,
                    create_at: now,
                    update_at: now,
                    ..Default::default()
                },
            );
        }
        Ok(())
    }

    fn teams(&mut self, teams: &[SeedTeam]) -> Result<(), SeedError> {
        let now = self.world.now_millis();
        for team in teams {
            let id = self.given_id(team.id.as_deref(), 't', &team.name)?;
            if self.world.teams.contains_key(&id) {
                return Err(self.invalid(format!("two teams share the id {id} (`{}`)", team.name)));
            }
            let team_type = if team.invite_only {
                pb::TeamType::Invite
            } else {
                pb::TeamType::Open
            };
            self.world.teams.insert(
                id.clone(),
                pb::Team {
                    id,
                    create_at: now,
                    update_at: now,
                    display_name: team
                        .display_name
                        .clone()
                        .unwrap_or_else(|| team.name.clone()),
                    name: team.name.clone(),
                    r#type: team_type as i32,
                    allow_open_invite: !team.invite_only,
                    ..Default::default()
                },
            );
        }
        Ok(())
    }

    fn channels(&mut self, channels: &[SeedChannel]) -> Result<(), SeedError> {
        let now = self.world.now_millis();
        for channel in channels {
            let team_id = self
                .world
                .team_by_name(&channel.team)
                .map(|team| team.id.clone())
                .ok_or_else(|| {
                    self.invalid(format!(
                        "channel `{}` names team `{}`, which the seed does not define",
                        channel.name, channel.team
                    ))
                })?;
            let id = self.given_id(
                channel.id.as_deref(),
                'c',
                &format!("{}{}", channel.team, channel.name),
            )?;
            if self.world.channels.contains_key(&id) {
                return Err(self.invalid(format!(
                    "two channels share the id {id} (`{}`)",
                    channel.name
                )));
            }
            let channel_type = if channel.private {
                pb::ChannelType::Private
            } else {
                pb::ChannelType::Open
            };
            self.world.channels.insert(
                id.clone(),
                pb::Channel {
                    id,
                    create_at: now,
                    update_at: now,
                    team_id,
                    r#type: channel_type as i32,
                    display_name: channel
                        .display_name
                        .clone()
                        .unwrap_or_else(|| channel.name.clone()),
                    name: channel.name.clone(),
                    ..Default::default()
                },
            );
        }
        Ok(())
    }

    fn roles(&self, who: &str, roles: &str, scope: Scope) -> Result<SchemeRoles, SeedError> {
        if roles.trim().is_empty() {
            return Ok(SchemeRoles::member());
        }
        roles::parse_member_roles(roles, scope).map_err(|problem| {
            self.invalid(format!(
                "{who}: roles `{roles}` are not valid {} roles ({problem:?})",
                scope.prefix()
            ))
        })
    }

    fn memberships(
        &mut self,
        username: &str,
        teams: &Memberships,
        channels: &Memberships,
    ) -> Result<(), SeedError> {
        let user_id = self.user_id(username, "a membership")?;
        for (team_name, roles) in teams.entries() {
            let who = format!("user `{username}` in team `{team_name}`");
            let team_id = self
                .world
                .team_by_name(team_name)
                .map(|team| team.id.clone())
                .ok_or_else(|| self.invalid(format!("{who}: the seed defines no such team")))?;
            let roles = self.roles(&who, roles, Scope::Team)?;
            self.world.join_team(&team_id, &user_id, roles);
        }
        for (path, roles) in channels.entries() {
            let who = format!("user `{username}` in channel `{path}`");
            let (team_name, channel_name) = path
                .split_once('/')
                .ok_or_else(|| self.invalid(format!("{who}: write channels as `team/channel`")))?;
            let channel = self
                .world
                .team_by_name(team_name)
                .and_then(|team| self.world.channel_by_name(&team.id, channel_name))
                .map(|channel| (channel.id.clone(), channel.team_id.clone()))
                .ok_or_else(|| self.invalid(format!("{who}: the seed defines no such channel")))?;
            if self
                .world
                .active_team_member(&channel.1, &user_id)
                .is_none()
            {
                return Err(self.invalid(format!(
                    "{who}: the user must be a member of team `{team_name}` too"
                )));
            }
            let roles = self.roles(&who, roles, Scope::Channel)?;
            self.world.join_channel(&channel.0, &user_id, roles);
        }
        Ok(())
    }

    fn emoji(&mut self, emoji: &[SeedEmoji]) -> Result<(), SeedError> {
        let now = self.world.now_millis();
        for seed in emoji {
            let creator_id = self.user_id(&seed.creator, &format!("emoji `{}`", seed.name))?;
            let id = seeded_id('e', &seed.name);
            self.world
                .emoji_images
                .insert(id.clone(), DEFAULT_IMAGE.to_vec());
            self.world.emoji.insert(
                id.clone(),
                pb::Emoji {
                    id,
                    create_at: now,
                    update_at: now,
                    delete_at: 0,
                    creator_id,
                    name: seed.name.clone(),
                },
            );
        }
        Ok(())
    }

    fn preferences(&mut self, preferences: &[SeedPreference]) -> Result<(), SeedError> {
        for preference in preferences {
            let user_id = self.user_id(&preference.user, "a preference")?;
            self.world.preferences.insert(
                (
                    user_id,
                    preference.category.clone(),
                    preference.name.clone(),
                ),
                preference.value.clone(),
            );
        }
        Ok(())
    }

    fn channel_id(&self, name: &str, what: &str) -> Result<String, SeedError> {
        let id = seeded_id('c', name);
        if self.world.channels.contains_key(&id) {
            Ok(id)
        } else {
            Err(self.invalid(format!("{what} names channel `{name}`, which the seed does not define (expected `team/channel`)")))
        }
    }

    fn team_id(&self, name: &str, what: &str) -> Result<String, SeedError> {
        self.world
            .team_by_name(name)
            .map(|team| team.id.clone())
            .ok_or_else(|| {
                self.invalid(format!(
                    "{what} names team `{name}`, which the seed does not define"
                ))
            })
    }

    /// Groups through the same code as the plugin's calls, so seeded ones
    /// are checked the same way.
    fn groups(&mut self, groups: &[SeedGroup]) -> Result<(), SeedError> {
        for seed in groups {
            let what = format!("group `{}`", seed.name);
            let id = seeded_id('g', &seed.name);
            let now = self.world.now_millis();
            let group = pb::Group {
                id: id.clone(),
                name: seed.name.clone(),
                display_name: seed
                    .display_name
                    .clone()
                    .unwrap_or_else(|| seed.name.clone()),
                description: seed.description.clone(),
                source: seed.source.clone().unwrap_or_else(|| "custom".to_owned()),
                remote_id: seed.remote_id.clone(),
                create_at: now,
                update_at: now,
                delete_at: 0,
                allow_reference: true,
            };
            self.world.groups.insert(id.clone(), group);
            for member in &seed.members {
                let user_id = self.user_id(member, &what)?;
                crate::handlers::seed_group_member(self.world, &id, &user_id)
                    .map_err(|err| self.invalid(format!("{what}: {}", err.message)))?;
            }
            let teams = seed
                .teams
                .iter()
                .map(|name| Ok((self.team_id(name, &what)?, "Team")));
            let channels = seed
                .channels
                .iter()
                .map(|name| Ok((self.channel_id(name, &what)?, "Channel")));
            let links = teams
                .chain(channels)
                .collect::<Result<Vec<_>, SeedError>>()?;
            for (syncable_id, kind) in links {
                crate::handlers::seed_group_syncable(self.world, &id, &syncable_id, kind)
                    .map_err(|err| self.invalid(format!("{what}: {}", err.message)))?;
            }
        }
        Ok(())
    }

    fn sidebar_categories(&mut self, categories: &[SeedSidebarCategory]) -> Result<(), SeedError> {
        for seed in categories {
            let what = format!("sidebar category `{}`", seed.name);
            let user_id = self.user_id(&seed.user, &what)?;
            let team_id = self.team_id(&seed.team, &what)?;
            let channel_ids = seed
                .channels
                .iter()
                .map(|name| self.channel_id(name, &what))
                .collect::<Result<Vec<_>, _>>()?;
            crate::handlers::seed_sidebar_category(
                self.world,
                &user_id,
                &team_id,
                &seed.name,
                channel_ids,
            )
            .map_err(|err| self.invalid(format!("{what}: {}", err.message)))?;
        }
        Ok(())
    }

    fn access_tokens(&mut self, tokens: &[SeedAccessToken]) -> Result<(), SeedError> {
        for (n, seed) in tokens.iter().enumerate() {
            let user_id = self.user_id(&seed.user, "an access token")?;
            let id = seeded_id('k', &format!("{}{n}", seed.user));
            let token = pb::UserAccessToken {
                id: id.clone(),
                token: seeded_id('x', &format!("{}{n}", seed.user)),
                user_id,
                description: seed.description.clone(),
                is_active: true,
            };
            self.world.access_tokens.insert(id, token);
        }
        Ok(())
    }

    fn property_fields(&mut self, fields: &[SeedPropertyField]) -> Result<(), SeedError> {
        for seed in fields {
            crate::handlers::seed_property_field(
                self.world,
                &seed.group,
                pb::PropertyField {
                    name: seed.name.clone(),
                    r#type: seed.field_type.clone(),
                    target_type: seed.target_type.clone(),
                    target_id: seed.target_id.clone(),
                    ..Default::default()
                },
            )
            .map_err(|err| {
                self.invalid(format!("property field `{}`: {}", seed.name, err.message))
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_world() -> World {
        World::from_seed(
            &World::default_seed(),
            "com.example.p",
            "/plugins/p",
            "default",
        )
        .unwrap()
    }

    #[test]
    fn seeded_ids_are_readable_valid_and_stable() {
        assert_eq!(seeded_id('u', "alice"), "ualice00000000000000000000");
        assert_eq!(
            seeded_id('c', "acme/town-square"),
            "cacmetownsquare00000000000"
        );
        assert_eq!(seeded_id('u', &"x".repeat(40)).len(), ID_LEN);
        let world = default_world();
        let alice = world.user_by_name("alice").unwrap();
        assert_eq!(alice.id, "ualice00000000000000000000");
        assert!(
            world
                .channels
                .values()
                .all(|c| c.id.len() == ID_LEN && !c.team_id.is_empty())
        );
    }

    #[test]
    fn a_seed_can_keep_the_ids_a_real_server_gave() {
        let seed: Seed = serde_json::from_str(
            r#"{"users": [{"name": "dana", "id": "8xq3kd9w1fbh7y5mzjnr4t6pae", "teams": ["ops"],
                           "channels": ["ops/alerts"]}],
                "teams": [{"name": "ops", "id": "kt4n8c2w9sbd1hx6e7yqmz3rfa"}],
                "channels": [{"name": "alerts", "team": "ops", "id": "c9d8e7f6a5b4c3d2e1f0a9b8c7"}]}"#,
        )
        .unwrap();
        let world = World::from_seed(&seed, "com.example.p", "/plugins/p", "seed").unwrap();
        let dana = world.user_by_name("dana").unwrap();
        assert_eq!(dana.id, "8xq3kd9w1fbh7y5mzjnr4t6pae");
        let channel = &world.channels["c9d8e7f6a5b4c3d2e1f0a9b8c7"];
        assert_eq!(channel.team_id, "kt4n8c2w9sbd1hx6e7yqmz3rfa");
        assert!(
            world
                .active_team_member("kt4n8c2w9sbd1hx6e7yqmz3rfa", &dana.id)
                .is_some()
        );

        let bad: Seed =
            serde_json::from_str(r#"{"teams": [{"name": "ops", "id": "short"}]}"#).unwrap();
        let err = World::from_seed(&bad, "com.example.p", "/plugins/p", "seed.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("seed.json") && err.contains("\"short\""),
            "{err}"
        );
    }

    #[test]
    fn the_default_world_has_members_a_bot_and_the_plugin() {
        let world = default_world();
        let team = world.team_by_name("acme").unwrap().id.clone();
        for name in ["admin", "alice", "bob"] {
            let id = &world.user_by_name(name).unwrap().id;
            assert!(world.active_team_member(&team, id).is_some(), "{name}");
        }
        let admin = world.user_by_name("admin").unwrap();
        assert!(world.team_member(&team, &admin.id).unwrap().roles.admin);
        let secret = world.channel_by_name(&team, "secret").unwrap();
        let members: Vec<_> = world
            .channel_members_of(&secret.id)
            .map(|m| m.user_id.clone())
            .collect();
        assert_eq!(members, std::slice::from_ref(&admin.id));
        let bot = world.user_by_name("helper-bot").unwrap();
        assert!(bot.is_bot);
        assert_eq!(world.bots[&bot.id].owner_id, admin.id);
        assert!(world.plugins["com.example.p"].enabled);
    }

    #[test]
    fn seed_errors_name_the_problem() {
        let err = World::parse_seed("w.json", "{\"users\": [{\"nam\": \"x\"}]}").unwrap_err();
        assert!(err.to_string().starts_with("w.json:1:"), "{err}");
        assert!(err.to_string().contains("nam"), "{err}");
        let invalid = |text: &str| {
            let seed = World::parse_seed("w.json", text).unwrap();
            World::from_seed(&seed, "p", "/p", "w.json")
                .unwrap_err()
                .to_string()
        };
        let err = invalid(r#"{"channels": [{"name": "general", "team": "nope"}]}"#);
        assert!(err.contains("team `nope`"), "{err}");
        let err = invalid(
            r#"{"users": [{"name": "a", "channels": ["t/c"]}], "teams": [{"name": "t"}],
                "channels": [{"name": "c", "team": "t"}]}"#,
        );
        assert!(err.contains("member of team `t` too"), "{err}");
        let err = invalid(
            r#"{"users": [{"name": "a", "teams": {"t": "channel_admin"}}], "teams": [{"name": "t"}]}"#,
        );
        assert!(err.contains("not valid team roles"), "{err}");
        let err = invalid(r#"{"users": [{"name": "a", "status": "busy"}]}"#);
        assert!(err.contains("status `busy`"), "{err}");
    }

    #[test]
    fn groups_sidebars_tokens_property_fields_and_peers_are_seeded() {
        let mut seed = World::default_seed();
        let extra: Seed = World::parse_seed(
            "extra",
            r#"{
                "groups": [{"name": "devs", "members": ["alice"], "channels": ["acme/off-topic"]}],
                "sidebar_categories": [{"user": "alice", "team": "acme", "name": "Work", "channels": ["acme/off-topic"]}],
                "access_tokens": [{"user": "bob", "description": "ci"}],
                "property_fields": [{"group": "cpa", "name": "Department", "type": "text"}],
                "plugins": [{"id": "com.example.peer", "http": {"body": "pong"}}]
            }"#,
        )
        .unwrap();
        seed.groups = extra.groups;
        seed.sidebar_categories = extra.sidebar_categories;
        seed.access_tokens = extra.access_tokens;
        seed.property_fields = extra.property_fields;
        seed.plugins.extend(extra.plugins);
        let world = World::from_seed(&seed, "p", "/p", "extra").unwrap();
        let devs = seeded_id('g', "devs");
        assert_eq!(world.groups[&devs].source, "custom");
        let linked: Vec<&str> = world
            .group_syncables
            .keys()
            .map(|(_, id, kind)| kind.as_str().max(id))
            .collect();
        assert_eq!(linked.len(), 2, "the channel and its team: {linked:?}");
        let sidebar = &world.sidebar_categories[&(
            "ualice00000000000000000000".to_owned(),
            "tacme000000000000000000000".to_owned(),
        )];
        assert_eq!(sidebar[0].display_name, "Work");
        assert_eq!(
            world.access_tokens.values().next().unwrap().user_id,
            "ubob0000000000000000000000"
        );
        assert_eq!(
            world.property_fields.values().next().unwrap().name,
            "Department"
        );
        assert_eq!(world.peer_answers["com.example.peer"].body, b"pong");

        let bad = World::parse_seed(
            "bad",
            r#"{"groups": [{"name": "g", "channels": ["nowhere"]}]}"#,
        )
        .unwrap();
        let err = World::from_seed(&bad, "p", "/p", "bad")
            .unwrap_err()
            .to_string();
        assert!(err.contains("group `g` names channel `nowhere`"), "{err}");
    }
}
