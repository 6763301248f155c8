//! Sidebar categories per user and team. The first read creates the
//! defaults as upstream does: Favorites (channels marked favourite in the
//! user's preferences), Channels (the user's other channels of the team)
//! and Direct Messages (their direct and group channels), in that order.
//! Custom categories go on top. A channel sits in one category at a time:
//! putting it in one takes it out of the others.
//!
//! The user must be a current member of the team (the harness's choice:
//! upstream's REST layer checks it, its app layer does not). Channel ids
//! the user is not a member of are dropped, as upstream's REST layer does.

use mm_plugin_proto::pb;

use super::common::{require_team, require_user};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_channel_sidebar_categories);
    registry.add(create_channel_sidebar_category);
    registry.add(update_channel_sidebar_categories);
}

const FAVORITES: &str = "favorites";
const CHANNELS: &str = "channels";
const DIRECT_MESSAGES: &str = "direct_messages";
const CUSTOM: &str = "custom";

fn check_member(world: &World, location: &str, user_id: &str, team_id: &str) -> HandlerResult<()> {
    require_user(world, location, user_id)?;
    require_team(world, location, team_id)?;
    if world.active_team_member(team_id, user_id).is_none() {
        return Err(ApiError::forbidden(
            location,
            "api.context.permissions.app_error",
            "You do not have the appropriate permissions.",
        )
        .with_detail(format!("user_id={user_id} team_id={team_id}")));
    }
    Ok(())
}

/// The user's channels a category of this team may hold: the team's
/// channels and the user's direct and group channels.
fn member_channels(world: &World, user_id: &str, team_id: &str) -> Vec<pb::Channel> {
    world
        .channels
        .values()
        .filter(|channel| channel.delete_at == 0)
        .filter(|channel| channel.team_id == team_id || channel.team_id.is_empty())
        .filter(|channel| world.channel_member(&channel.id, user_id).is_some())
        .cloned()
        .collect()
}

fn is_direct(channel: &pb::Channel) -> bool {
    channel.r#type == pb::ChannelType::Direct as i32
        || channel.r#type == pb::ChannelType::Group as i32
}

fn default_categories(
    world: &World,
    user_id: &str,
    team_id: &str,
) -> Vec<pb::SidebarCategoryWithChannels> {
    let favorite = |channel: &pb::Channel| {
        world
            .preferences
            .get(&(
                user_id.to_owned(),
                "favorite_channel".to_owned(),
                channel.id.clone(),
            ))
            .is_some_and(|value| value == "true")
    };
    let channels = member_channels(world, user_id, team_id);
    let ids = |keep: &dyn Fn(&pb::Channel) -> bool| -> Vec<String> {
        channels
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.id.clone())
            .collect()
    };
    let category =
        |kind: &str, name: &str, channel_ids: Vec<String>| pb::SidebarCategoryWithChannels {
            id: format!("{kind}_{user_id}_{team_id}"),
            user_id: user_id.to_owned(),
            team_id: team_id.to_owned(),
            display_name: name.to_owned(),
            r#type: kind.to_owned(),
            channel_ids,
            ..Default::default()
        };
    vec![
        category(FAVORITES, "Favorites", ids(&|c| favorite(c))),
        category(
            CHANNELS,
            "Channels",
            ids(&|c| !favorite(c) && !is_direct(c)),
        ),
        category(
            DIRECT_MESSAGES,
            "Direct Messages",
            ids(&|c| !favorite(c) && is_direct(c)),
        ),
    ]
}

/// The user's categories of the team, created on first use.
fn categories<'w>(
    world: &'w mut World,
    user_id: &str,
    team_id: &str,
) -> &'w mut Vec<pb::SidebarCategoryWithChannels> {
    let key = (user_id.to_owned(), team_id.to_owned());
    if !world.sidebar_categories.contains_key(&key) {
        let defaults = default_categories(world, user_id, team_id);
        world.sidebar_categories.insert(key.clone(), defaults);
    }
    world
        .sidebar_categories
        .get_mut(&key)
        .expect("inserted above")
}

/// Keeps the channel ids the user may file, and takes them out of every
/// other category.
fn file_channels(
    world: &mut World,
    user_id: &str,
    team_id: &str,
    category: &mut pb::SidebarCategoryWithChannels,
) {
    let allowed: Vec<String> = member_channels(world, user_id, team_id)
        .into_iter()
        .map(|c| c.id)
        .collect();
    category.channel_ids.retain(|id| allowed.contains(id));
    let moved = category.channel_ids.clone();
    for other in categories(world, user_id, team_id) {
        if other.id != category.id {
            other.channel_ids.retain(|id| !moved.contains(id));
        }
    }
}

fn get_channel_sidebar_categories(
    world: &mut World,
    request: pb::GetChannelSidebarCategoriesRequest,
) -> HandlerResult<pb::GetChannelSidebarCategoriesResponse> {
    check_member(
        world,
        "GetSidebarCategoriesForTeamForUser",
        &request.user_id,
        &request.team_id,
    )?;
    let categories = categories(world, &request.user_id, &request.team_id).clone();
    let order = categories
        .iter()
        .map(|category| category.id.clone())
        .collect();
    Ok(pb::GetChannelSidebarCategoriesResponse {
        error: None,
        categories: Some(pb::OrderedSidebarCategories { categories, order }),
    })
}

/// Files a new custom category first among the user's categories.
fn add_custom(
    world: &mut World,
    user_id: &str,
    team_id: &str,
    mut category: pb::SidebarCategoryWithChannels,
) -> pb::SidebarCategoryWithChannels {
    category.id = format!("{CUSTOM}_{}", world.next_id('y'));
    category.user_id = user_id.to_owned();
    category.team_id = team_id.to_owned();
    category.r#type = CUSTOM.to_owned();
    file_channels(world, user_id, team_id, &mut category);
    categories(world, user_id, team_id).insert(0, category.clone());
    category
}

/// A custom category for a seed: the user must be a member of the team.
pub(crate) fn create_custom(
    world: &mut World,
    user_id: &str,
    team_id: &str,
    name: &str,
    channel_ids: Vec<String>,
) -> HandlerResult<pb::SidebarCategoryWithChannels> {
    check_member(world, "CreateSidebarCategory", user_id, team_id)?;
    let category = pb::SidebarCategoryWithChannels {
        display_name: name.to_owned(),
        channel_ids,
        ..Default::default()
    };
    Ok(add_custom(world, user_id, team_id, category))
}

/// A custom category with a new id, placed first.
fn create_channel_sidebar_category(
    world: &mut World,
    request: pb::CreateChannelSidebarCategoryRequest,
) -> HandlerResult<pb::CreateChannelSidebarCategoryResponse> {
    let location = "CreateSidebarCategory";
    check_member(world, location, &request.user_id, &request.team_id)?;
    let category = request
        .new_category
        .ok_or_else(|| ApiError::argument(location, "new_category is required"))?;
    if category.display_name.is_empty() {
        return Err(ApiError::invalid(
            location,
            "app.channel.sidebar_categories.app_error",
            "Category name cannot be empty.",
        ));
    }
    let category = add_custom(world, &request.user_id, &request.team_id, category);
    Ok(pb::CreateChannelSidebarCategoryResponse {
        error: None,
        category: Some(category),
    })
}

/// Each category must be one of the user's in the team; its name (custom
/// ones only), sorting, muting, collapsing and channels change.
fn update_channel_sidebar_categories(
    world: &mut World,
    request: pb::UpdateChannelSidebarCategoriesRequest,
) -> HandlerResult<pb::UpdateChannelSidebarCategoriesResponse> {
    let location = "UpdateSidebarCategories";
    check_member(world, location, &request.user_id, &request.team_id)?;
    let mut updated = Vec::new();
    for mut change in request.categories {
        let existing = categories(world, &request.user_id, &request.team_id)
            .iter()
            .find(|category| category.id == change.id)
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(
                    location,
                    "app.channel.sidebar_categories.app_error",
                    "Unable to find the sidebar category.",
                )
                .with_detail(format!("category_id={}", change.id))
            })?;
        if existing.r#type != CUSTOM {
            change.display_name = existing.display_name.clone();
        }
        change.user_id = existing.user_id;
        change.team_id = existing.team_id;
        change.r#type = existing.r#type;
        file_channels(world, &request.user_id, &request.team_id, &mut change);
        let all = categories(world, &request.user_id, &request.team_id);
        if let Some(slot) = all.iter_mut().find(|category| category.id == change.id) {
            *slot = change.clone();
        }
        updated.push(change);
    }
    Ok(pb::UpdateChannelSidebarCategoriesResponse {
        error: None,
        categories: updated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const ACME: &str = "tacme000000000000000000000";
    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";
    const OFF_TOPIC: &str = "cacmeofftopic0000000000000";
    const SECRET: &str = "cacmesecret000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn read(w: &mut World, user: &str) -> HandlerResult<pb::OrderedSidebarCategories> {
        get_channel_sidebar_categories(
            w,
            pb::GetChannelSidebarCategoriesRequest {
                user_id: user.into(),
                team_id: ACME.into(),
            },
        )
        .map(|answer| answer.categories.unwrap())
    }

    #[test]
    fn defaults_hold_the_users_channels() {
        let mut w = world();
        let sidebar = read(&mut w, ALICE).unwrap();
        let kinds: Vec<&str> = sidebar
            .categories
            .iter()
            .map(|c| c.r#type.as_str())
            .collect();
        assert_eq!(kinds, [FAVORITES, CHANNELS, DIRECT_MESSAGES]);
        assert_eq!(sidebar.order[0], format!("favorites_{ALICE}_{ACME}"));
        assert_eq!(sidebar.categories[1].channel_ids, [OFF_TOPIC, TOWN_SQUARE]);
        let err = read(&mut w, "uhelperbot0000000000000000").unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (403, "api.context.permissions.app_error")
        );
    }

    #[test]
    fn custom_categories_go_first_and_take_their_channels() {
        let mut w = world();
        let created = create_channel_sidebar_category(
            &mut w,
            pb::CreateChannelSidebarCategoryRequest {
                user_id: ALICE.into(),
                team_id: ACME.into(),
                new_category: Some(pb::SidebarCategoryWithChannels {
                    display_name: "Work".into(),
                    channel_ids: vec![OFF_TOPIC.into(), SECRET.into()],
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .category
        .unwrap();
        assert_eq!(created.channel_ids, [OFF_TOPIC], "alice is not in secret");
        let sidebar = read(&mut w, ALICE).unwrap();
        assert_eq!(sidebar.order[0], created.id);
        assert_eq!(sidebar.categories[2].channel_ids, [TOWN_SQUARE]);
        let mut favorites = sidebar.categories[1].clone();
        favorites.channel_ids = vec![OFF_TOPIC.into()];
        favorites.display_name = "Renamed".into();
        let updated = update_channel_sidebar_categories(
            &mut w,
            pb::UpdateChannelSidebarCategoriesRequest {
                user_id: ALICE.into(),
                team_id: ACME.into(),
                categories: vec![favorites],
            },
        )
        .unwrap()
        .categories;
        assert_eq!(updated[0].display_name, "Favorites", "built-in names stay");
        let sidebar = read(&mut w, ALICE).unwrap();
        assert!(sidebar.categories[0].channel_ids.is_empty());
        assert_eq!(sidebar.categories[1].channel_ids, [OFF_TOPIC]);
    }
}
