//! Custom emoji: list, look up by id or name. Upstream refuses the lookups
//! (not the list) with 403 when `ServiceSettings.EnableCustomEmoji` is off;
//! the harness treats a missing setting as on. Emoji images are not kept.

use mm_plugin_proto::pb;

use super::common::Page;
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_emoji_list);
    registry.add(get_emoji);
    registry.add(get_emoji_by_name);
}

fn check_enabled(world: &World, location: &str) -> HandlerResult<()> {
    if world.config_flag("ServiceSettings", "EnableCustomEmoji", true) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            location,
            "api.emoji.disabled.app_error",
            "Custom emoji have been disabled by the system admin.",
        ))
    }
}

/// A live custom emoji by name, as `GetEmojiByName` finds it.
pub(super) fn find_by_name<'w>(world: &'w World, name: &str) -> HandlerResult<&'w pb::Emoji> {
    check_enabled(world, "GetEmojiByName")?;
    world
        .emoji
        .values()
        .find(|emoji| emoji.name == name && emoji.delete_at == 0)
        .ok_or_else(|| {
            ApiError::not_found(
                "GetEmojiByName",
                "app.emoji.get_by_name.no_result",
                "Unable to find the emoji.",
            )
            .with_detail(format!("name={name}"))
        })
}

/// Sorted by name when asked (`sort_by: "name"`), else in creation order.
fn get_emoji_list(
    world: &mut World,
    request: pb::GetEmojiListRequest,
) -> HandlerResult<pb::GetEmojiListResponse> {
    let page = Page::new("GetEmojiList", request.page, request.per_page)?;
    let mut emojis: Vec<pb::Emoji> = world
        .emoji
        .values()
        .filter(|emoji| emoji.delete_at == 0)
        .cloned()
        .collect();
    if request.sort_by == "name" {
        emojis.sort_by(|a, b| a.name.cmp(&b.name));
    } else {
        emojis.sort_by(|a, b| a.create_at.cmp(&b.create_at).then(a.id.cmp(&b.id)));
    }
    Ok(pb::GetEmojiListResponse {
        error: None,
        emojis: page.apply(emojis),
    })
}

fn get_emoji(
    world: &mut World,
    request: pb::GetEmojiRequest,
) -> HandlerResult<pb::GetEmojiResponse> {
    check_enabled(world, "GetEmoji")?;
    let emoji = world.emoji.get(&request.emoji_id).cloned().ok_or_else(|| {
        ApiError::not_found(
            "GetEmoji",
            "app.emoji.get.no_result",
            "Unable to find the emoji.",
        )
        .with_detail(format!("emoji_id={}", request.emoji_id))
    })?;
    Ok(pb::GetEmojiResponse {
        error: None,
        emoji: Some(emoji),
    })
}

fn get_emoji_by_name(
    world: &mut World,
    request: pb::GetEmojiByNameRequest,
) -> HandlerResult<pb::GetEmojiByNameResponse> {
    let emoji = find_by_name(world, &request.name)?.clone();
    Ok(pb::GetEmojiByNameResponse {
        error: None,
        emoji: Some(emoji),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    #[test]
    fn seeded_emoji_are_found_by_id_and_name_and_listed() {
        let mut w = world();
        let parrot = get_emoji_by_name(
            &mut w,
            pb::GetEmojiByNameRequest {
                name: "party-parrot".into(),
            },
        )
        .unwrap()
        .emoji
        .unwrap();
        assert_eq!(parrot.creator_id, "uadmin00000000000000000000");
        let by_id = get_emoji(
            &mut w,
            pb::GetEmojiRequest {
                emoji_id: parrot.id.clone(),
            },
        )
        .unwrap()
        .emoji
        .unwrap();
        assert_eq!(by_id, parrot);
        let list = |w: &mut World, page, per_page| {
            get_emoji_list(
                w,
                pb::GetEmojiListRequest {
                    sort_by: "name".into(),
                    page,
                    per_page,
                },
            )
            .unwrap()
            .emojis
        };
        assert_eq!(list(&mut w, 0, 10).len(), 1);
        assert!(list(&mut w, 1, 10).is_empty());
    }

    #[test]
    fn unknown_or_disabled_emoji_are_refused() {
        let mut w = world();
        let err = get_emoji(
            &mut w,
            pb::GetEmojiRequest {
                emoji_id: "nope".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.emoji.get.no_result")
        );
        w.config["ServiceSettings"]["EnableCustomEmoji"] = false.into();
        let err = get_emoji_by_name(
            &mut w,
            pb::GetEmojiByNameRequest {
                name: "party-parrot".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_status().code(),
            tonic::Code::PermissionDenied,
            "{err:?}"
        );
    }
}
