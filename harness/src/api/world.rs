//! The in-memory server a plugin talks to: users, teams, channels, posts,
//! the plugin's KV store, configuration, and the log lines it sent.
//!
//! A world starts from a seed (JSON, `fixtures/worlds/default.json` unless a
//! suite names another). Seeded entities get readable, stable ids derived
//! from their names (`alice` → `ualice00000000000000000000`), so transcripts
//! and snapshots say who is who; entities the plugin creates get numbered
//! ids in creation order, so runs are reproducible.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use mm_plugin_proto::pb;
use serde::Deserialize;
use serde_json::Value;

/// Mattermost ids are 26 lowercase alphanumeric characters.
pub const ID_LEN: usize = 26;

static DEFAULT_SEED: &str = include_str!("../../../fixtures/worlds/default.json");

#[derive(Debug, Clone)]
pub struct World {
    pub plugin_id: String,
    pub bundle_path: String,
    pub server_version: String,
    /// `model.Config` as JSON.
    pub config: Value,
    /// The plugin's own settings (`PluginSettings.Plugins[id]`).
    pub plugin_config: serde_json::Map<String, Value>,
    pub users: BTreeMap<String, pb::User>,
    pub teams: BTreeMap<String, pb::Team>,
    pub channels: BTreeMap<String, pb::Channel>,
    pub posts: BTreeMap<String, pb::Post>,
    pub kv: BTreeMap<String, KvEntry>,
    pub logs: Vec<PluginLog>,
    /// Added to the wall clock, so a suite can move time forward (KV expiry).
    pub clock_offset: Duration,
    created: HashMap<char, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    pub value: Vec<u8>,
    /// Milliseconds since the epoch, in world time.
    pub expires_at: Option<i64>,
}

/// A line the plugin logged through the LogX RPCs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PluginLog {
    pub level: &'static str,
    pub message: String,
    pub fields: serde_json::Map<String, Value>,
}

/// The seed file format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub server_version: Option<String>,
    pub config: Option<Value>,
    #[serde(default)]
    pub plugin_config: serde_json::Map<String, Value>,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub teams: Vec<SeedTeam>,
    #[serde(default)]
    pub channels: Vec<SeedChannel>,
    /// KV values as text.
    #[serde(default)]
    pub kv: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub name: String,
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    pub roles: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTeam {
    pub name: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub invite_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedChannel {
    pub name: String,
    pub team: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub private: bool,
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
            message: crate::suite::strip_serde_position(&err.to_string()),
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
        let invalid = |message: String| SeedError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let mut world = World {
            plugin_id: plugin_id.to_owned(),
            bundle_path: bundle_path.to_owned(),
            server_version: seed
                .server_version
                .clone()
                .unwrap_or_else(|| "10.11.0".to_owned()),
            config: seed
                .config
                .clone()
                .unwrap_or_else(|| Value::Object(Default::default())),
            plugin_config: seed.plugin_config.clone(),
            users: BTreeMap::new(),
            teams: BTreeMap::new(),
            channels: BTreeMap::new(),
            posts: BTreeMap::new(),
            kv: BTreeMap::new(),
            logs: Vec::new(),
            clock_offset: Duration::ZERO,
            created: HashMap::new(),
        };
        let now = world.now_millis();
        for user in &seed.users {
            let id = seeded_id('u', &user.name);
            if world.users.contains_key(&id) {
                return Err(invalid(format!(
                    "two users share the id {id} (`{}`)",
                    user.name
                )));
            }
            world.users.insert(
                id.clone(),
                pb::User {
                    id,
                    create_at: now,
                    update_at: now,
                    username: user.name.clone(),
                    email: user
                        .email
                        .clone()
                        .unwrap_or_else(|| format!("{}@example.com", user.name)),
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    roles: user
                        .roles
                        .clone()
                        .unwrap_or_else(|| "system_user".to_owned()),
                    is_bot: user.is_bot,
                    locale: "en".to_owned(),
                    ..Default::default()
                },
            );
        }
        for team in &seed.teams {
            let id = seeded_id('t', &team.name);
            if world.teams.contains_key(&id) {
                return Err(invalid(format!(
                    "two teams share the id {id} (`{}`)",
                    team.name
                )));
            }
            let team_type = if team.invite_only {
                pb::TeamType::Invite
            } else {
                pb::TeamType::Open
            };
            world.teams.insert(
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
                    ..Default::default()
                },
            );
        }
        for channel in &seed.channels {
            let team_id = world
                .team_by_name(&channel.team)
                .map(|team| team.id.clone())
                .ok_or_else(|| {
                    invalid(format!(
                        "channel `{}` names team `{}`, which the seed does not define",
                        channel.name, channel.team
                    ))
                })?;
            let id = seeded_id('c', &format!("{}{}", channel.team, channel.name));
            if world.channels.contains_key(&id) {
                return Err(invalid(format!(
                    "two channels share the id {id} (`{}`)",
                    channel.name
                )));
            }
            let channel_type = if channel.private {
                pb::ChannelType::Private
            } else {
                pb::ChannelType::Open
            };
            world.channels.insert(
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

    /// World time: the wall clock plus whatever a suite moved it forward.
    pub fn now_millis(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.clock_offset;
        now.as_millis() as i64
    }

    /// A fresh id for an entity the plugin creates: the kind's letter, then
    /// the creation count (`p0000000000000000000000001`).
    pub fn next_id(&mut self, kind: char) -> String {
        let count = self.created.entry(kind).or_default();
        *count += 1;
        format!("{kind}{:0>width$}", *count, width = ID_LEN - 1)
    }

    pub fn user_by_name(&self, username: &str) -> Option<&pb::User> {
        self.users.values().find(|user| user.username == username)
    }

    pub fn team_by_name(&self, name: &str) -> Option<&pb::Team> {
        self.teams.values().find(|team| team.name == name)
    }

    /// A live (not expired) KV value.
    pub fn kv_get(&self, key: &str) -> Option<&[u8]> {
        let now = self.now_millis();
        self.kv
            .get(key)
            .filter(|entry| entry.expires_at.is_none_or(|at| at > now))
            .map(|entry| entry.value.as_slice())
    }
}

/// A readable id for a seeded entity: the kind's letter and the name's
/// letters and digits, padded with zeros to 26 characters.
fn seeded_id(kind: char, name: &str) -> String {
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
    fn created_ids_count_per_kind() {
        let mut world = default_world();
        assert_eq!(world.next_id('p'), "p0000000000000000000000001");
        assert_eq!(world.next_id('p'), "p0000000000000000000000002");
        assert_eq!(world.next_id('u'), "u0000000000000000000000001");
    }

    #[test]
    fn expired_kv_values_are_gone_once_the_clock_moves() {
        let mut world = default_world();
        let now = world.now_millis();
        world.kv.insert(
            "k".into(),
            KvEntry {
                value: b"v".to_vec(),
                expires_at: Some(now + 60_000),
            },
        );
        assert_eq!(world.kv_get("k"), Some(&b"v"[..]));
        world.clock_offset = Duration::from_secs(61);
        assert_eq!(world.kv_get("k"), None);
    }

    #[test]
    fn seed_errors_name_the_problem() {
        let err = World::parse_seed("w.json", "{\"users\": [{\"nam\": \"x\"}]}").unwrap_err();
        assert!(err.to_string().starts_with("w.json:1:"), "{err}");
        assert!(err.to_string().contains("nam"), "{err}");
        let seed = World::parse_seed(
            "w.json",
            r#"{"channels": [{"name": "general", "team": "nope"}]}"#,
        )
        .unwrap();
        let err = World::from_seed(&seed, "p", "/p", "w.json").unwrap_err();
        assert!(err.to_string().contains("team `nope`"), "{err}");
    }
}
