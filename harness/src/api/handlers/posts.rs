//! Posts: create, read, edit, delete, and list a channel's posts newest
//! first. Failures here are embedded in the response (upstream's api_post.go).

use mm_plugin_proto::pb;

use crate::api::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_post);
    registry.add(get_post);
    registry.add(update_post);
    registry.add(delete_post);
    registry.add(get_posts_for_channel);
}

fn post_missing(location: &str, post_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.post.get.app_error",
        format!("no post with id {post_id:?}"),
    )
}

fn channel_missing(location: &str, channel_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.channel.get.existing.app_error",
        format!("no channel with id {channel_id:?}"),
    )
}

fn live_post<'w>(
    world: &'w mut World,
    location: &str,
    post_id: &str,
) -> HandlerResult<&'w mut pb::Post> {
    world
        .posts
        .get_mut(post_id)
        .filter(|post| post.delete_at == 0)
        .ok_or_else(|| post_missing(location, post_id))
}

fn create_post(
    world: &mut World,
    request: pb::CreatePostRequest,
) -> HandlerResult<pb::CreatePostResponse> {
    let mut post = request.post.unwrap_or_default();
    if !world.channels.contains_key(&post.channel_id) {
        return Err(channel_missing("CreatePost", &post.channel_id));
    }
    let now = world.now_millis();
    post.id = world.next_id('p');
    post.create_at = now;
    post.update_at = now;
    if let Some(channel) = world.channels.get_mut(&post.channel_id) {
        channel.last_post_at = now;
        channel.total_msg_count += 1;
    }
    world.posts.insert(post.id.clone(), post.clone());
    Ok(pb::CreatePostResponse {
        error: None,
        post: Some(post),
    })
}

fn get_post(world: &mut World, request: pb::GetPostRequest) -> HandlerResult<pb::GetPostResponse> {
    let post = live_post(world, "GetPost", &request.post_id)?.clone();
    Ok(pb::GetPostResponse {
        error: None,
        post: Some(post),
    })
}

fn update_post(
    world: &mut World,
    request: pb::UpdatePostRequest,
) -> HandlerResult<pb::UpdatePostResponse> {
    let mut post = request.post.unwrap_or_default();
    let now = world.now_millis();
    let existing = live_post(world, "UpdatePost", &post.id)?;
    post.create_at = existing.create_at;
    post.channel_id = existing.channel_id.clone();
    post.update_at = now;
    post.edit_at = now;
    *existing = post.clone();
    Ok(pb::UpdatePostResponse {
        error: None,
        post: Some(post),
    })
}

fn delete_post(
    world: &mut World,
    request: pb::DeletePostRequest,
) -> HandlerResult<pb::DeletePostResponse> {
    let now = world.now_millis();
    live_post(world, "DeletePost", &request.post_id)?.delete_at = now;
    Ok(pb::DeletePostResponse { error: None })
}

fn get_posts_for_channel(
    world: &mut World,
    request: pb::GetPostsForChannelRequest,
) -> HandlerResult<pb::GetPostsForChannelResponse> {
    if !world.channels.contains_key(&request.channel_id) {
        return Err(channel_missing("GetPostsForChannel", &request.channel_id));
    }
    let (page, per_page) = (
        request.page.max(0) as usize,
        request.per_page.max(0) as usize,
    );
    let mut posts: Vec<&pb::Post> = world
        .posts
        .values()
        .filter(|post| post.channel_id == request.channel_id && post.delete_at == 0)
        .collect();
    // Newest first; ids break ties between posts of the same millisecond.
    posts.sort_by(|a, b| b.create_at.cmp(&a.create_at).then(b.id.cmp(&a.id)));
    let total = posts.len();
    let page_posts: Vec<&pb::Post> = posts
        .into_iter()
        .skip(page * per_page)
        .take(per_page)
        .collect();
    let list = pb::PostList {
        order: page_posts.iter().map(|post| post.id.clone()).collect(),
        posts: page_posts
            .iter()
            .map(|post| (post.id.clone(), (*post).clone()))
            .collect(),
        has_next: (page + 1) * per_page < total,
        ..Default::default()
    };
    Ok(pb::GetPostsForChannelResponse {
        error: None,
        post_list: Some(list),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn town_square(world: &World) -> String {
        world
            .channels
            .values()
            .find(|c| c.name == "town-square")
            .unwrap()
            .id
            .clone()
    }

    #[test]
    fn created_posts_are_listed_newest_first_and_deleted_ones_vanish() {
        let mut w = world();
        let channel_id = town_square(&w);
        let mut ids = Vec::new();
        for message in ["one", "two", "three"] {
            let post = pb::Post {
                channel_id: channel_id.clone(),
                message: message.into(),
                ..Default::default()
            };
            ids.push(
                create_post(&mut w, pb::CreatePostRequest { post: Some(post) })
                    .unwrap()
                    .post
                    .unwrap()
                    .id,
            );
        }
        let list = |w: &mut World, page, per_page| {
            get_posts_for_channel(
                w,
                pb::GetPostsForChannelRequest {
                    channel_id: channel_id.clone(),
                    page,
                    per_page,
                },
            )
            .unwrap()
            .post_list
            .unwrap()
        };
        let first = list(&mut w, 0, 2);
        assert_eq!(first.order, [ids[2].clone(), ids[1].clone()]);
        assert!(first.has_next);
        assert_eq!(list(&mut w, 1, 2).order, [ids[0].clone()]);
        delete_post(
            &mut w,
            pb::DeletePostRequest {
                post_id: ids[2].clone(),
            },
        )
        .unwrap();
        assert_eq!(list(&mut w, 0, 10).order.len(), 2);
        let err = get_post(
            &mut w,
            pb::GetPostRequest {
                post_id: ids[2].clone(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.post.get.app_error")
        );
    }

    #[test]
    fn a_post_needs_an_existing_channel_and_edits_keep_creation_time() {
        let mut w = world();
        let bad = pb::Post {
            channel_id: "nope".into(),
            ..Default::default()
        };
        assert_eq!(
            create_post(&mut w, pb::CreatePostRequest { post: Some(bad) })
                .unwrap_err()
                .status_code,
            404
        );
        let post = pb::Post {
            channel_id: town_square(&w),
            message: "a".into(),
            ..Default::default()
        };
        let created = create_post(&mut w, pb::CreatePostRequest { post: Some(post) })
            .unwrap()
            .post
            .unwrap();
        let edited = pb::Post {
            message: "b".into(),
            create_at: 1,
            ..created.clone()
        };
        let updated = update_post(&mut w, pb::UpdatePostRequest { post: Some(edited) })
            .unwrap()
            .post
            .unwrap();
        assert_eq!(updated.create_at, created.create_at);
        assert_eq!(updated.message, "b");
        assert!(updated.edit_at >= created.create_at);
    }
}
