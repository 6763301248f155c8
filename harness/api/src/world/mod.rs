//! The in-memory server a plugin talks to: users and bots, teams, channels
//! and their members, posts with reactions, files, emoji, preferences and
//! statuses, commands, installed plugins, the plugin's KV store and
//! configuration, groups with their members and syncables, OAuth apps,
//! access tokens, sidebar categories, property fields and values, shared
//! channels and remotes, upload sessions, stored images, and a record of everything the server sent on the
//! plugin's behalf (WebSocket events, ephemeral posts, dialogs, mail).
//!
//! A world starts from a seed (JSON, `fixtures/worlds/default.json` unless a
//! suite names another; see [`seed`]). Seeded entities get readable, stable
//! ids derived from their names (`alice` → `ualice00000000000000000000`), so
//! transcripts and snapshots say who is who; entities the plugin creates get
//! numbered ids in creation order, so runs are reproducible.

mod clock;
mod extended;
mod membership;
mod outbox;
mod posts;
mod seed;

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use mm_plugin_proto::pb;
use serde_json::Value;

pub use clock::{date_stamp, rfc3339};
pub use extended::{DEFAULT_IMAGE, GroupKey, PeerAnswer, Remote, SyncableKey, Upload};
pub use membership::{ChannelMember, MemberKey, SchemeRoles, Scope, TeamMember};
pub use outbox::{
    AuditEntry, ClusterEvent, EphemeralAction, EphemeralPost, InterPluginRequest, Mail, Outbox,
    PushDelivery, WebSocketEvent,
};
pub use seed::{Seed, SeedError};

/// Mattermost ids are 26 lowercase alphanumeric characters.
pub const ID_LEN: usize = 26;

#[derive(Debug, Clone, Default)]
pub struct World {
    pub plugin_id: String,
    pub bundle_path: String,
    pub server_version: String,
    /// Milliseconds since the epoch (`GetSystemInstallDate`).
    pub install_date: i64,
    /// The server's telemetry id, which is also its diagnostic id.
    pub telemetry_id: String,
    /// `model.Config` as JSON.
    pub config: Value,
    /// The plugin's own settings (`PluginSettings.Plugins[id]`).
    pub plugin_config: serde_json::Map<String, Value>,
    /// Every account, bots included (a bot is a user with `is_bot`).
    pub users: BTreeMap<String, pb::User>,
    /// Bot records by their user id.
    pub bots: BTreeMap<String, pb::Bot>,
    pub teams: BTreeMap<String, pb::Team>,
    pub channels: BTreeMap<String, pb::Channel>,
    /// By (team id, user id); a member who left keeps a row with `delete_at`.
    pub team_members: BTreeMap<MemberKey, TeamMember>,
    /// By (channel id, user id); leaving a channel removes the row.
    pub channel_members: BTreeMap<MemberKey, ChannelMember>,
    pub posts: BTreeMap<String, pb::Post>,
    /// By (post id, user id, emoji name).
    pub reactions: BTreeMap<(String, String, String), pb::Reaction>,
    /// Only users who ever had a status have one, as on the server.
    pub statuses: BTreeMap<String, pb::Status>,
    /// By (user id, category, name), the value.
    pub preferences: BTreeMap<(String, String, String), String>,
    pub files: BTreeMap<String, StoredFile>,
    /// Custom emoji by id.
    pub emoji: BTreeMap<String, pb::Emoji>,
    /// Commands made with `CreateCommand`, by id.
    pub commands: BTreeMap<String, pb::Command>,
    /// Commands plugins registered with `RegisterCommand`, in order.
    pub plugin_commands: Vec<RegisteredCommand>,
    /// Installed plugins by id, the plugin under test among them.
    pub plugins: BTreeMap<String, InstalledPlugin>,
    pub sessions: BTreeMap<String, pb::Session>,
    /// Personal access tokens by token id.
    pub access_tokens: BTreeMap<String, pb::UserAccessToken>,
    /// User groups by id (deleted ones keep `delete_at`).
    pub groups: BTreeMap<String, pb::Group>,
    /// By (group id, user id); a removed member keeps a row with `delete_at`.
    pub group_members: BTreeMap<GroupKey, pb::GroupMember>,
    /// By (group id, syncable id, syncable type).
    pub group_syncables: BTreeMap<SyncableKey, pb::GroupSyncable>,
    pub oauth_apps: BTreeMap<String, pb::OAuthApp>,
    /// Sidebar categories by (user id, team id), in display order; created
    /// on first use as the server does.
    pub sidebar_categories: BTreeMap<(String, String), Vec<pb::SidebarCategoryWithChannels>>,
    /// Property groups by name.
    pub property_groups: BTreeMap<String, pb::PropertyGroup>,
    pub property_fields: BTreeMap<String, pb::PropertyField>,
    pub property_values: BTreeMap<String, pb::PropertyValue>,
    /// Shared channels by channel id.
    pub shared_channels: BTreeMap<String, pb::SharedChannel>,
    /// Remote clusters (here: plugins registered for shared channels) by id.
    pub remotes: BTreeMap<String, Remote>,
    /// Remotes invited to shared channels, by (channel id, remote id), with
    /// their sync cursor.
    pub channel_remotes: BTreeMap<(String, String), pb::GetPostsSinceForSyncCursor>,
    /// Resumable uploads in progress, by upload id.
    pub uploads: BTreeMap<String, Upload>,
    /// Images the file store holds: profile pictures by user id, team
    /// icons by team id, custom emoji images by emoji id.
    pub profile_images: BTreeMap<String, Vec<u8>>,
    pub team_icons: BTreeMap<String, Vec<u8>>,
    pub emoji_images: BTreeMap<String, Vec<u8>>,
    /// What other plugins answer to inter-plugin HTTP requests, by plugin id.
    pub peer_answers: BTreeMap<String, PeerAnswer>,
    pub kv: BTreeMap<String, KvEntry>,
    pub logs: Vec<PluginLog>,
    /// What the server sent out on the plugin's behalf.
    pub sent: Outbox,
    /// Added to the clock, so a suite can move time forward (KV expiry).
    pub clock_offset: Duration,
    /// The time the world's clock stands at instead of following the wall
    /// clock: every timestamp it hands out is then the same run after run.
    pub frozen_clock: Option<SystemTime>,
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

/// An uploaded file: its info, where the file store keeps it, its bytes,
/// and the text search indexes for it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    pub info: pb::FileInfo,
    pub path: String,
    pub data: Vec<u8>,
    pub searchable_content: String,
}

/// A plugin the server knows about.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledPlugin {
    pub manifest: pb::Manifest,
    pub enabled: bool,
}

/// A slash command a plugin registered, and which plugin did.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredCommand {
    pub plugin_id: String,
    pub command: pb::Command,
}

impl World {
    /// World time: the wall clock (or the frozen time) plus whatever a suite
    /// moved it forward.
    pub fn now_millis(&self) -> i64 {
        let now = self
            .frozen_clock
            .unwrap_or_else(SystemTime::now)
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

    /// The channel called `name` in `team_id` (`""` for direct and group
    /// channels, which belong to no team).
    pub fn channel_by_name(&self, team_id: &str, name: &str) -> Option<&pb::Channel> {
        self.channels
            .values()
            .find(|channel| channel.team_id == team_id && channel.name == name)
    }

    /// A live (not expired) KV value.
    pub fn kv_get(&self, key: &str) -> Option<&[u8]> {
        let now = self.now_millis();
        self.kv
            .get(key)
            .filter(|entry| entry.expires_at.is_none_or(|at| at > now))
            .map(|entry| entry.value.as_slice())
    }

    /// Boolean settings are pointers in `model.Config`; a missing one takes
    /// the server's default.
    pub fn config_flag(&self, section: &str, key: &str, default: bool) -> bool {
        self.config
            .get(section)
            .and_then(|section| section.get(key))
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    pub fn config_str(&self, section: &str, key: &str) -> Option<&str> {
        self.config
            .get(section)
            .and_then(|section| section.get(key))
            .and_then(Value::as_str)
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
    fn a_frozen_clock_stands_still_until_a_suite_moves_it() {
        let mut world = default_world();
        world.frozen_clock = Some(UNIX_EPOCH + Duration::from_millis(1_767_225_600_000));
        assert_eq!(world.now_millis(), 1_767_225_600_000);
        assert_eq!(world.now_millis(), 1_767_225_600_000);
        world.clock_offset = Duration::from_secs(2);
        assert_eq!(world.now_millis(), 1_767_225_602_000);
    }

    #[test]
    fn config_flags_fall_back_to_defaults() {
        let world = default_world();
        assert!(world.config_flag("ServiceSettings", "EnableCommands", false));
        assert!(!world.config_flag("FileSettings", "EnablePublicLink", false));
        assert_eq!(
            world.config_str("ServiceSettings", "SiteURL"),
            Some("http://localhost:8065")
        );
    }
}
