//! The world as `world_get` shows it: each part as JSON, messages in the
//! proto3 JSON mapping the suites use.

use base64::Engine as _;
use prost::Message;
use serde_json::{Map, Value, json};

use crate::{api::World, wire};

/// The parts a client can ask for.
const PARTS: &[&str] = &[
    "users",
    "bots",
    "teams",
    "channels",
    "posts",
    "kv",
    "config",
    "plugin_config",
    "logs",
];

/// `parts` of `world` (all of them when `None`), each by name.
pub fn view(world: &World, parts: Option<&[String]>) -> Result<Value, String> {
    let all: Vec<String> = PARTS.iter().map(|part| (*part).to_owned()).collect();
    let mut shown = Map::new();
    for part in parts.unwrap_or(&all) {
        let value = match part.as_str() {
            "users" => messages("User", world.users.values()),
            "bots" => messages("Bot", world.bots.values()),
            "teams" => messages("Team", world.teams.values()),
            "channels" => messages("Channel", world.channels.values()),
            "posts" => messages("Post", world.posts.values()),
            "kv" => Value::Object(
                world
                    .kv
                    .iter()
                    .map(|(key, entry)| (key.clone(), kv_value(&entry.value, entry.expires_at)))
                    .collect(),
            ),
            "config" => world.config.clone(),
            "plugin_config" => Value::Object(world.plugin_config.clone()),
            "logs" => serde_json::to_value(&world.logs).expect("log records serialize"),
            unknown => {
                return Err(format!(
                    "parts: unknown part {unknown:?}; expected some of {}",
                    PARTS.join(", ")
                ));
            }
        };
        shown.insert(part.clone(), value);
    }
    Ok(Value::Object(shown))
}

/// Messages of `mattermost.pluginapi.v1.<type_name>` as a JSON list.
fn messages<'a, M: Message + 'a>(type_name: &str, items: impl Iterator<Item = &'a M>) -> Value {
    let descriptor =
        wire::message_descriptor(type_name).expect("world parts are messages of the protocol");
    items
        .map(|item| {
            wire::decode_to_json(&descriptor, &item.encode_to_vec())
                .expect("a message just encoded decodes")
        })
        .collect()
}

/// A KV value: its text when it is UTF-8, its base64 always.
fn kv_value(bytes: &[u8], expires_at: Option<i64>) -> Value {
    json!({
        "text": std::str::from_utf8(bytes).ok(),
        "base64": base64::engine::general_purpose::STANDARD.encode(bytes),
        "expires_at": expires_at,
    })
}
