//! Reactions on posts. Failures are embedded in the response (upstream's
//! api_post.go).
//!
//! The system emoji set is not enumerated: any well-formed emoji name that
//! is not a custom emoji counts as a system emoji.

use mm_plugin_proto::pb;

use super::{
    common::{is_valid_id, require_post},
    emoji,
};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(add_reaction);
    registry.add(remove_reaction);
    registry.add(get_reactions);
}

/// `ServiceSettings.UniqueEmojiReactionLimitPerPost`'s default.
const UNIQUE_EMOJI_PER_POST: usize = 50;

/// `model.Reaction.IsValid`'s emoji name rule.
fn is_valid_emoji_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '_'))
}

fn reaction_key(reaction: &pb::Reaction) -> (String, String, String) {
    (
        reaction.post_id.clone(),
        reaction.user_id.clone(),
        reaction.emoji_name.clone(),
    )
}

fn reactions_on<'w>(world: &'w World, post_id: &str) -> impl Iterator<Item = &'w pb::Reaction> {
    world
        .reactions
        .values()
        .filter(move |reaction| reaction.post_id == post_id)
}

/// Keeps the post's `has_reactions` true to its reactions, and marks it
/// updated, as the store does on every reaction change.
fn touch_post(world: &mut World, post_id: &str) {
    let has_reactions = reactions_on(world, post_id).next().is_some();
    let now = world.now_millis();
    if let Some(post) = world.posts.get_mut(post_id) {
        post.has_reactions = has_reactions;
        post.update_at = now;
    }
}

/// The channel of a live post, refusing archived channels with `id`.
fn live_channel_of(
    world: &World,
    location: &str,
    post_id: &str,
    id: &str,
) -> HandlerResult<String> {
    let post = require_post(world, "GetSinglePost", post_id)?;
    let archived = world
        .channels
        .get(&post.channel_id)
        .is_some_and(|channel| channel.delete_at > 0);
    if archived {
        return Err(ApiError::forbidden(
            location,
            id,
            "Unable to react in an archived channel.",
        ));
    }
    Ok(post.channel_id.clone())
}

fn add_reaction(
    world: &mut World,
    request: pb::AddReactionRequest,
) -> HandlerResult<pb::AddReactionResponse> {
    let mut reaction = request.reaction.unwrap_or_default();
    require_post(world, "GetSinglePost", &reaction.post_id)?;
    if !is_valid_emoji_name(&reaction.emoji_name) {
        // Not a system emoji, so the server looks for a custom one.
        emoji::find_by_name(world, &reaction.emoji_name)?;
    }
    let known = reactions_on(world, &reaction.post_id)
        .any(|existing| existing.emoji_name == reaction.emoji_name);
    if !known {
        let mut names: Vec<&str> = reactions_on(world, &reaction.post_id)
            .map(|existing| existing.emoji_name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.len() >= UNIQUE_EMOJI_PER_POST {
            return Err(ApiError::invalid(
                "SaveReactionForPost",
                "app.reaction.save.save.too_many_reactions",
                "Reaction limit has been reached for this post.",
            ));
        }
    }
    let channel_id = live_channel_of(
        world,
        "SaveReactionForPost",
        &reaction.post_id,
        "api.reaction.save.archived_channel.app_error",
    )?;
    if !is_valid_id(&reaction.user_id) {
        return Err(ApiError::invalid(
            "Reaction.IsValid",
            "model.reaction.is_valid.user_id.app_error",
            "Invalid user id.",
        )
        .with_detail(format!("user_id={}", reaction.user_id)));
    }
    let now = world.now_millis();
    reaction.create_at = now;
    reaction.update_at = now;
    reaction.delete_at = 0;
    reaction.channel_id = Some(channel_id);
    world
        .reactions
        .insert(reaction_key(&reaction), reaction.clone());
    touch_post(world, &reaction.post_id);
    Ok(pb::AddReactionResponse {
        error: None,
        reaction: Some(reaction),
    })
}

/// Removing a reaction that is not there is not an error.
fn remove_reaction(
    world: &mut World,
    request: pb::RemoveReactionRequest,
) -> HandlerResult<pb::RemoveReactionResponse> {
    let reaction = request.reaction.unwrap_or_default();
    live_channel_of(
        world,
        "DeleteReactionForPost",
        &reaction.post_id,
        "api.reaction.delete.archived_channel.app_error",
    )?;
    world.reactions.remove(&reaction_key(&reaction));
    touch_post(world, &reaction.post_id);
    Ok(pb::RemoveReactionResponse { error: None })
}

/// Oldest first; an unknown post simply has none.
fn get_reactions(
    world: &mut World,
    request: pb::GetReactionsRequest,
) -> HandlerResult<pb::GetReactionsResponse> {
    let mut reactions: Vec<pb::Reaction> = reactions_on(world, &request.post_id).cloned().collect();
    reactions.sort_by_key(|reaction| reaction.create_at);
    Ok(pb::GetReactionsResponse {
        error: None,
        reactions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::posts::post_in;

    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";
    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn reaction(post: &str, user: &str, emoji: &str) -> pb::Reaction {
        pb::Reaction {
            post_id: post.into(),
            user_id: user.into(),
            emoji_name: emoji.into(),
            ..Default::default()
        }
    }

    fn names(w: &mut World, post: &str) -> Vec<String> {
        get_reactions(
            w,
            pb::GetReactionsRequest {
                post_id: post.into(),
            },
        )
        .unwrap()
        .reactions
        .into_iter()
        .map(|r| format!("{}:{}", r.user_id.chars().nth(1).unwrap(), r.emoji_name))
        .collect()
    }

    #[test]
    fn reactions_are_added_listed_and_removed() {
        let mut w = world();
        let post = post_in(&mut w, TOWN_SQUARE, ALICE, "hi").id;
        for (user, emoji) in [(ALICE, "+1"), (BOB, "+1"), (BOB, "party-parrot")] {
            let added = add_reaction(
                &mut w,
                pb::AddReactionRequest {
                    reaction: Some(reaction(&post, user, emoji)),
                },
            )
            .unwrap()
            .reaction
            .unwrap();
            assert_eq!(added.channel_id.as_deref(), Some(TOWN_SQUARE));
        }
        assert!(w.posts[&post].has_reactions);
        assert_eq!(names(&mut w, &post).len(), 3);
        for (user, emoji) in [(ALICE, "+1"), (BOB, "+1"), (BOB, "party-parrot")] {
            remove_reaction(
                &mut w,
                pb::RemoveReactionRequest {
                    reaction: Some(reaction(&post, user, emoji)),
                },
            )
            .unwrap();
        }
        assert!(names(&mut w, &post).is_empty());
        assert!(!w.posts[&post].has_reactions);
    }

    #[test]
    fn reactions_need_a_post_a_known_emoji_and_an_open_channel() {
        let mut w = world();
        let post = post_in(&mut w, TOWN_SQUARE, ALICE, "hi").id;
        let add = |w: &mut World, r: pb::Reaction| {
            add_reaction(w, pb::AddReactionRequest { reaction: Some(r) })
        };
        let err = add(&mut w, reaction("nope", ALICE, "smile")).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.post.get.app_error")
        );
        let err = add(&mut w, reaction(&post, ALICE, "not an emoji")).unwrap_err();
        assert_eq!(err.id, "app.emoji.get_by_name.no_result");
        let err = add(&mut w, reaction(&post, "bad", "smile")).unwrap_err();
        assert_eq!(err.id, "model.reaction.is_valid.user_id.app_error");
        w.channels.get_mut(TOWN_SQUARE).unwrap().delete_at = 1;
        let err = add(&mut w, reaction(&post, ALICE, "smile")).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (403, "api.reaction.save.archived_channel.app_error")
        );
    }
}
