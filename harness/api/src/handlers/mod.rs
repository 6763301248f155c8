//! Handlers for the PluginAPI methods, one module per area of the
//! protocol. Every method of the protocol has one; a method without a
//! handler would answer "not modelled", naming the method.

mod access_tokens;
mod bots;
mod bundles;
mod channel_members;
mod channels;
mod commands;
pub(crate) mod common;
mod config;
mod emoji;
mod enterprise;
mod ephemeral;
mod files;
mod groups;
mod images;
mod inter_plugin;
mod joins;
mod kv;
mod logging;
mod member_roles;
mod oauth;
mod outbox;
mod permissions;
mod plugins;
mod posts;
mod preferences;
mod properties;
mod reactions;
mod server;
mod sessions;
mod shared_channels;
mod sidebar;
mod statuses;
mod team_members;
mod teams;
mod uploads;
mod users;

use mm_plugin_proto::pb;

use super::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn registry() -> Registry {
    let mut registry = Registry::default();
    server::register(&mut registry);
    config::register(&mut registry);
    kv::register(&mut registry);
    logging::register(&mut registry);
    users::register(&mut registry);
    statuses::register(&mut registry);
    permissions::register(&mut registry);
    sessions::register(&mut registry);
    teams::register(&mut registry);
    team_members::register(&mut registry);
    channels::register(&mut registry);
    channel_members::register(&mut registry);
    posts::register(&mut registry);
    reactions::register(&mut registry);
    ephemeral::register(&mut registry);
    emoji::register(&mut registry);
    files::register(&mut registry);
    bots::register(&mut registry);
    commands::register(&mut registry);
    preferences::register(&mut registry);
    plugins::register(&mut registry);
    outbox::register(&mut registry);
    access_tokens::register(&mut registry);
    bundles::register(&mut registry);
    enterprise::register(&mut registry);
    groups::register(&mut registry);
    images::register(&mut registry);
    inter_plugin::register(&mut registry);
    oauth::register(&mut registry);
    properties::register(&mut registry);
    shared_channels::register(&mut registry);
    sidebar::register(&mut registry);
    uploads::register(&mut registry);
    registry
}

/// Seeding goes through the handlers' own rules, so a seeded world is one
/// the plugin's calls could have made.
pub(crate) fn seed_group_member(
    world: &mut World,
    group_id: &str,
    user_id: &str,
) -> HandlerResult<()> {
    groups::upsert_member(world, "seed", group_id, user_id).map(drop)
}

/// A seeded link adds the group's members with auto-add.
pub(crate) fn seed_group_syncable(
    world: &mut World,
    group_id: &str,
    syncable_id: &str,
    kind: &str,
) -> HandlerResult<()> {
    groups::upsert_syncable(
        world,
        pb::GroupSyncable {
            group_id: group_id.to_owned(),
            syncable_id: syncable_id.to_owned(),
            syncable_type: kind.to_owned(),
            auto_add: true,
            ..Default::default()
        },
    )
    .map(drop)
}

pub(crate) fn seed_sidebar_category(
    world: &mut World,
    user_id: &str,
    team_id: &str,
    name: &str,
    channel_ids: Vec<String>,
) -> HandlerResult<()> {
    sidebar::create_custom(world, user_id, team_id, name, channel_ids).map(drop)
}

pub(crate) fn seed_property_field(
    world: &mut World,
    group_name: &str,
    mut field: pb::PropertyField,
) -> Result<(), ApiError> {
    field.group_id = properties::register_group(world, group_name)?.id;
    properties::create_field(world, field).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_of_the_protocol_has_a_handler() {
        // Building the registry asserts every handler's types against the
        // descriptor, so a handler wired to the wrong method fails here.
        let modelled = registry().methods();
        let unhandled: Vec<String> = mm_plugin_proto::api_service()
            .methods()
            .map(|method| method.name().to_owned())
            .filter(|name| !modelled.contains(&name.as_str()))
            .collect();
        assert!(unhandled.is_empty(), "not modelled: {unhandled:?}");
        assert_eq!(
            modelled.len(),
            mm_plugin_proto::api_service().methods().count()
        );
    }
}
