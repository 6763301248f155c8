//! Ephemeral posts: shown to one user and never stored, so they are only
//! recorded in the world's outbox. Upstream's API cannot fail for them
//! (its responses never carry an error).

use mm_plugin_proto::pb;

use crate::{
    registry::{HandlerResult, Registry},
    world::{EphemeralAction, EphemeralPost, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(send_ephemeral_post);
    registry.add(update_ephemeral_post);
    registry.add(delete_ephemeral_post);
}

/// `model.PostTypeEphemeral`.
const EPHEMERAL: &str = "system_ephemeral";

fn record(world: &mut World, action: EphemeralAction, user_id: String, post: pb::Post) {
    world.sent.ephemeral_posts.push(EphemeralPost {
        action,
        user_id,
        post,
    });
}

/// Gives the post an id and creation time when it has none, as
/// `App.SendEphemeralPost` does.
fn send_ephemeral_post(
    world: &mut World,
    request: pb::SendEphemeralPostRequest,
) -> HandlerResult<pb::SendEphemeralPostResponse> {
    let mut post = request.post.unwrap_or_default();
    post.r#type = EPHEMERAL.to_owned();
    if post.id.is_empty() {
        post.id = world.next_id('e');
    }
    if post.create_at == 0 {
        post.create_at = world.now_millis();
    }
    record(world, EphemeralAction::Sent, request.user_id, post.clone());
    Ok(pb::SendEphemeralPostResponse {
        error: None,
        post: Some(post),
    })
}

fn update_ephemeral_post(
    world: &mut World,
    request: pb::UpdateEphemeralPostRequest,
) -> HandlerResult<pb::UpdateEphemeralPostResponse> {
    let mut post = request.post.unwrap_or_default();
    post.r#type = EPHEMERAL.to_owned();
    post.update_at = world.now_millis();
    record(
        world,
        EphemeralAction::Updated,
        request.user_id,
        post.clone(),
    );
    Ok(pb::UpdateEphemeralPostResponse {
        error: None,
        post: Some(post),
    })
}

fn delete_ephemeral_post(
    world: &mut World,
    request: pb::DeleteEphemeralPostRequest,
) -> HandlerResult<pb::DeleteEphemeralPostResponse> {
    let post = pb::Post {
        id: request.post_id,
        r#type: EPHEMERAL.to_owned(),
        ..Default::default()
    };
    record(world, EphemeralAction::Deleted, request.user_id, post);
    Ok(pb::DeleteEphemeralPostResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_posts_are_recorded_not_stored() {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        let sent = send_ephemeral_post(
            &mut w,
            pb::SendEphemeralPostRequest {
                user_id: "ualice00000000000000000000".into(),
                post: Some(pb::Post {
                    channel_id: "cacmetownsquare00000000000".into(),
                    message: "only you can see this".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .post
        .unwrap();
        assert_eq!(sent.r#type, "system_ephemeral");
        assert_eq!(sent.id.len(), 26);
        update_ephemeral_post(
            &mut w,
            pb::UpdateEphemeralPostRequest {
                user_id: "ualice00000000000000000000".into(),
                post: Some(pb::Post {
                    message: "changed".into(),
                    ..sent.clone()
                }),
            },
        )
        .unwrap();
        delete_ephemeral_post(
            &mut w,
            pb::DeleteEphemeralPostRequest {
                user_id: "ualice00000000000000000000".into(),
                post_id: sent.id.clone(),
            },
        )
        .unwrap();
        assert!(w.posts.is_empty());
        let actions: Vec<_> = w.sent.ephemeral_posts.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            [
                EphemeralAction::Sent,
                EphemeralAction::Updated,
                EphemeralAction::Deleted
            ]
        );
        assert_eq!(w.sent.ephemeral_posts[1].post.message, "changed");
    }
}
