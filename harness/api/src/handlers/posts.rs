//! Posts: create, read, edit, delete, list a channel's posts (by page,
//! since a time, around a post), read a thread, and search. Failures here
//! are embedded in the response (upstream's api_post.go).
//!
//! Not modelled: the `from_plugin` prop upstream adds to a plugin's post
//! (committed snapshots record posts without it), hashtags, mentions, and
//! search beyond case-insensitive word containment.

use std::collections::HashMap;

use mm_plugin_proto::pb;

use super::common::{Page, channel_missing, is_valid_id, require_post};
use crate::{
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
    registry.add(get_post_thread);
    registry.add(get_posts_since);
    registry.add(get_posts_after);
    registry.add(get_posts_before);
    registry.add(search_posts_in_team);
    registry.add(search_posts_in_team_for_user);
}

/// `model.PostMessageMaxRunesV2`.
const MAX_MESSAGE_RUNES: usize = 16_383;
/// `GetPostsSince` returns at most this many posts.
const SINCE_LIMIT: usize = 1000;
/// `SearchPostsInTeamForUser`'s page size when the request names none.
const SEARCH_DEFAULT_PER_PAGE: usize = 100;

fn invalid_post(id: &str, message: &str) -> ApiError {
    ApiError::invalid("Post.IsValid", id, message)
}

/// `CreatePostMissingChannel` → `CreatePost`: the channel must exist and
/// be live, a reply must answer a root post of the same channel, and the
/// post must pass `Post.IsValid`.
fn create_post(
    world: &mut World,
    request: pb::CreatePostRequest,
) -> HandlerResult<pb::CreatePostResponse> {
    let post = request.post.unwrap_or_default();
    let channel = world
        .channels
        .get(&post.channel_id)
        .ok_or_else(|| channel_missing("CreatePostMissingChannel", &post.channel_id))?;
    if channel.delete_at != 0 {
        return Err(ApiError::invalid(
            "createPost",
            "api.post.create_post.can_not_post_to_deleted.error",
            "Can not post to deleted channel.",
        ));
    }
    if !post.root_id.is_empty() {
        let root = world
            .posts
            .get(&post.root_id)
            .filter(|root| root.delete_at == 0 && root.root_id.is_empty());
        match root {
            None => {
                return Err(ApiError::invalid(
                    "createPost",
                    "api.post.create_post.root_id.app_error",
                    "Invalid RootId parameter.",
                ));
            }
            Some(root) if root.channel_id != post.channel_id => {
                return Err(ApiError::invalid(
                    "createPost",
                    "api.post.create_post.channel_root_id.app_error",
                    "Invalid ChannelId for RootId parameter.",
                ));
            }
            Some(_) => {}
        }
    }
    if !is_valid_id(&post.user_id) {
        return Err(invalid_post(
            "model.post.is_valid.user_id.app_error",
            "Invalid user id.",
        ));
    }
    if post.message.chars().count() > MAX_MESSAGE_RUNES {
        return Err(invalid_post(
            "model.post.is_valid.message_length.app_error",
            "Post Message property is longer than the maximum permitted length.",
        ));
    }
    let post = world.insert_post(post);
    super::files::attach_to_post(world, &post);
    Ok(pb::CreatePostResponse {
        error: None,
        post: Some(post),
    })
}

fn get_post(world: &mut World, request: pb::GetPostRequest) -> HandlerResult<pb::GetPostResponse> {
    let post = require_post(world, "GetSinglePost", &request.post_id)?.clone();
    Ok(pb::GetPostResponse {
        error: None,
        post: Some(post),
    })
}

/// Replaces the post's content; its identity, author, channel and creation
/// time stay.
fn update_post(
    world: &mut World,
    request: pb::UpdatePostRequest,
) -> HandlerResult<pb::UpdatePostResponse> {
    let mut post = request.post.unwrap_or_default();
    let existing = require_post(world, "UpdatePost", &post.id)?.clone();
    let now = world.now_millis();
    post.create_at = existing.create_at;
    post.channel_id = existing.channel_id;
    post.user_id = existing.user_id;
    post.root_id = existing.root_id;
    post.reply_count = existing.reply_count;
    post.update_at = now;
    post.edit_at = now;
    world.posts.insert(post.id.clone(), post.clone());
    Ok(pb::UpdatePostResponse {
        error: None,
        post: Some(post),
    })
}

/// Deletes the post and, for a root post, its replies, stamping who
/// deleted them (the plugin) as the store does.
fn delete_post(
    world: &mut World,
    request: pb::DeletePostRequest,
) -> HandlerResult<pb::DeletePostResponse> {
    let root_id = require_post(world, "DeletePost", &request.post_id)?
        .root_id
        .clone();
    let now = world.now_millis();
    let deleted_by = world.plugin_id.clone();
    for post in world.posts.values_mut() {
        if post.id == request.post_id || post.root_id == request.post_id {
            post.delete_at = now;
            post.update_at = now;
            let props = post.props.get_or_insert_with(Default::default);
            props.fields.insert(
                "deleteBy".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::StringValue(deleted_by.clone())),
                },
            );
        }
    }
    if let Some(root) = world.posts.get_mut(&root_id) {
        root.reply_count = (root.reply_count - 1).max(0);
    }
    Ok(pb::DeletePostResponse { error: None })
}

/// Newest first; ids break ties within a millisecond.
fn newest_first(a: &&pb::Post, b: &&pb::Post) -> std::cmp::Ordering {
    b.create_at.cmp(&a.create_at).then(b.id.cmp(&a.id))
}

/// A `PostList` of `ordered` posts, with the root posts of any replies
/// among them added to `posts` (not to `order`), as the store does.
fn post_list(world: &World, ordered: &[&pb::Post]) -> pb::PostList {
    let mut posts: HashMap<String, pb::Post> = ordered
        .iter()
        .map(|post| (post.id.clone(), (*post).clone()))
        .collect();
    for post in ordered {
        if let Some(root) = world.posts.get(&post.root_id) {
            posts.entry(root.id.clone()).or_insert_with(|| root.clone());
        }
    }
    pb::PostList {
        order: ordered.iter().map(|post| post.id.clone()).collect(),
        posts,
        ..Default::default()
    }
}

/// The channel's live posts, newest first.
fn channel_posts<'w>(world: &'w World, channel_id: &str) -> Vec<&'w pb::Post> {
    let mut posts: Vec<&pb::Post> = world
        .posts
        .values()
        .filter(|post| post.channel_id == channel_id && post.delete_at == 0)
        .collect();
    posts.sort_by(newest_first);
    posts
}

/// A page of the channel's posts. Like upstream's `GetPostsPage`, an
/// unknown channel simply has none, and `has_next` is never set.
fn get_posts_for_channel(
    world: &mut World,
    request: pb::GetPostsForChannelRequest,
) -> HandlerResult<pb::GetPostsForChannelResponse> {
    let page = Page::new("GetPostsPage", request.page, request.per_page)?;
    let posts = page.apply(channel_posts(world, &request.channel_id));
    Ok(pb::GetPostsForChannelResponse {
        error: None,
        post_list: Some(post_list(world, &posts)),
    })
}

/// The post first, then the rest of its thread (root and replies), newest
/// first.
fn get_post_thread(
    world: &mut World,
    request: pb::GetPostThreadRequest,
) -> HandlerResult<pb::GetPostThreadResponse> {
    let post = require_post(world, "GetPostThread", &request.post_id)?;
    let root_id = if post.root_id.is_empty() {
        post.id.as_str()
    } else {
        post.root_id.as_str()
    };
    let mut rest: Vec<&pb::Post> = world
        .posts
        .values()
        .filter(|other| {
            other.delete_at == 0
                && other.id != post.id
                && (other.id == root_id || other.root_id == root_id)
        })
        .collect();
    rest.sort_by(newest_first);
    let ordered: Vec<&pb::Post> = std::iter::once(post).chain(rest).collect();
    Ok(pb::GetPostThreadResponse {
        error: None,
        post_list: Some(post_list(world, &ordered)),
    })
}

/// Posts created, edited or deleted after `time` (deleted ones included,
/// so a client learns about deletions), newest first.
fn get_posts_since(
    world: &mut World,
    request: pb::GetPostsSinceRequest,
) -> HandlerResult<pb::GetPostsSinceResponse> {
    let mut posts: Vec<&pb::Post> = world
        .posts
        .values()
        .filter(|post| post.channel_id == request.channel_id && post.update_at > request.time)
        .collect();
    posts.sort_by(newest_first);
    posts.truncate(SINCE_LIMIT);
    Ok(pb::GetPostsSinceResponse {
        error: None,
        post_list: Some(post_list(world, &posts)),
    })
}

/// Live posts of the channel created strictly after (or before) the
/// anchor post, paged outward from it and answered newest first. An
/// unknown anchor matches nothing.
fn posts_around(
    world: &World,
    location: &str,
    channel_id: &str,
    anchor_id: &str,
    after: bool,
    page: (i32, i32),
) -> HandlerResult<pb::PostList> {
    let page = Page::new(location, page.0, page.1)?;
    let Some(anchor) = world.posts.get(anchor_id) else {
        return Ok(pb::PostList::default());
    };
    let mut posts = channel_posts(world, channel_id);
    posts.retain(|post| {
        if after {
            post.create_at > anchor.create_at
        } else {
            post.create_at < anchor.create_at
        }
    });
    if after {
        // Paged from the anchor onwards: the oldest after it come first.
        posts.reverse();
        let mut window = page.apply(posts);
        window.reverse();
        Ok(post_list(world, &window))
    } else {
        Ok(post_list(world, &page.apply(posts)))
    }
}

fn get_posts_after(
    world: &mut World,
    request: pb::GetPostsAfterRequest,
) -> HandlerResult<pb::GetPostsAfterResponse> {
    let list = posts_around(
        world,
        "GetPostsAfterPost",
        &request.channel_id,
        &request.post_id,
        true,
        (request.page, request.per_page),
    )?;
    Ok(pb::GetPostsAfterResponse {
        error: None,
        post_list: Some(list),
    })
}

fn get_posts_before(
    world: &mut World,
    request: pb::GetPostsBeforeRequest,
) -> HandlerResult<pb::GetPostsBeforeResponse> {
    let list = posts_around(
        world,
        "GetPostsBeforePost",
        &request.channel_id,
        &request.post_id,
        false,
        (request.page, request.per_page),
    )?;
    Ok(pb::GetPostsBeforeResponse {
        error: None,
        post_list: Some(list),
    })
}

/// What one set of search parameters asks for.
struct Query<'a> {
    terms: &'a str,
    or_terms: bool,
    include_deleted_channels: bool,
    in_channels: &'a [String],
    excluded_channels: &'a [String],
    from_users: &'a [String],
    excluded_users: &'a [String],
}

impl Query<'_> {
    /// The words of the query found in the message; `None` when the post
    /// does not match.
    fn matches(&self, world: &World, post: &pb::Post) -> Option<Vec<String>> {
        let channel = world.channels.get(&post.channel_id)?;
        let author = world
            .users
            .get(&post.user_id)
            .map(|user| user.username.as_str())
            .unwrap_or_default();
        let named = |names: &[String], name: &str| names.iter().any(|n| n == name);
        let filters_pass = (self.include_deleted_channels || channel.delete_at == 0)
            && (self.in_channels.is_empty() || named(self.in_channels, &channel.name))
            && !named(self.excluded_channels, &channel.name)
            && (self.from_users.is_empty() || named(self.from_users, author))
            && !named(self.excluded_users, author);
        if !filters_pass {
            return None;
        }
        let message = post.message.to_lowercase();
        let words: Vec<&str> = self.terms.split_whitespace().collect();
        let found: Vec<String> = words
            .iter()
            .filter(|word| message.contains(&word.to_lowercase()))
            .map(|word| word.to_string())
            .collect();
        let matched = if self.or_terms {
            !found.is_empty() || words.is_empty()
        } else {
            found.len() == words.len()
        };
        matched.then_some(found)
    }
}

/// Live posts in `channel_ids` matching any of `queries`, newest first,
/// with the words each matched.
fn search<'w>(
    world: &'w World,
    channel_ids: &[String],
    queries: &[Query],
) -> Vec<(&'w pb::Post, Vec<String>)> {
    let mut hits: Vec<(&pb::Post, Vec<String>)> = world
        .posts
        .values()
        .filter(|post| post.delete_at == 0 && channel_ids.contains(&post.channel_id))
        .filter_map(|post| {
            queries
                .iter()
                .find_map(|query| query.matches(world, post))
                .map(|words| (post, words))
        })
        .collect();
    hits.sort_by(|a, b| newest_first(&a.0, &b.0));
    hits
}

fn team_channel_ids(world: &World, team_id: &str) -> Vec<String> {
    world
        .channels
        .values()
        .filter(|channel| channel.team_id == team_id)
        .map(|channel| channel.id.clone())
        .collect()
}

fn search_posts_in_team(
    world: &mut World,
    request: pb::SearchPostsInTeamRequest,
) -> HandlerResult<pb::SearchPostsInTeamResponse> {
    let queries: Vec<Query> = request
        .params_list
        .iter()
        .map(|params| Query {
            terms: &params.terms,
            or_terms: params.is_or_search,
            include_deleted_channels: params.include_deleted_channels,
            in_channels: &params.in_channels,
            excluded_channels: &params.excluded_channels,
            from_users: &params.from_users,
            excluded_users: &params.excluded_users,
        })
        .collect();
    let channel_ids = team_channel_ids(world, &request.team_id);
    let posts = search(world, &channel_ids, &queries)
        .into_iter()
        .map(|(post, _)| post.clone())
        .collect();
    Ok(pb::SearchPostsInTeamResponse { error: None, posts })
}

/// Searches the team's channels the user belongs to (and their direct and
/// group channels), one page at a time.
fn search_posts_in_team_for_user(
    world: &mut World,
    request: pb::SearchPostsInTeamForUserRequest,
) -> HandlerResult<pb::SearchPostsInTeamForUserResponse> {
    let params = request.search_params.unwrap_or_default();
    let per_page = if params.per_page > 0 {
        params.per_page
    } else {
        SEARCH_DEFAULT_PER_PAGE as i32
    };
    let page = Page::new("SearchPostsForUser", params.page, per_page)?;
    let query = Query {
        terms: &params.terms,
        or_terms: params.is_or_search,
        include_deleted_channels: params.include_deleted_channels,
        in_channels: &[],
        excluded_channels: &[],
        from_users: &[],
        excluded_users: &[],
    };
    let channel_ids: Vec<String> = world
        .channels
        .values()
        .filter(|channel| channel.team_id == request.team_id || channel.team_id.is_empty())
        .filter(|channel| {
            world
                .channel_member(&channel.id, &request.user_id)
                .is_some()
        })
        .map(|channel| channel.id.clone())
        .collect();
    let hits = page.apply(search(world, &channel_ids, &[query]));
    let results = pb::PostSearchResults {
        order: hits.iter().map(|(post, _)| post.id.clone()).collect(),
        posts: hits
            .iter()
            .map(|(post, _)| (post.id.clone(), (*post).clone()))
            .collect(),
        matches: hits
            .into_iter()
            .map(|(post, words)| (post.id.clone(), pb::StringList { values: words }))
            .collect(),
    };
    Ok(pb::SearchPostsInTeamForUserResponse {
        error: None,
        results: Some(results),
    })
}

/// Used by tests of other areas that need a post to exist.
#[cfg(test)]
pub(super) fn post_in(
    world: &mut World,
    channel_id: &str,
    user_id: &str,
    message: &str,
) -> pb::Post {
    create_post(
        world,
        pb::CreatePostRequest {
            post: Some(pb::Post {
                channel_id: channel_id.into(),
                user_id: user_id.into(),
                message: message.into(),
                ..Default::default()
            }),
        },
    )
    .unwrap()
    .post
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::post_missing;

    const TOWN_SQUARE: &str = "cacmetownsquare00000000000";
    const OFF_TOPIC: &str = "cacmeofftopic0000000000000";
    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";
    const ACME: &str = "tacme000000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    /// Posts one message per millisecond, so ordering by time is exact.
    fn post_at(w: &mut World, channel: &str, message: &str, create_at: i64, root: &str) -> String {
        let post = pb::Post {
            channel_id: channel.into(),
            user_id: ALICE.into(),
            message: message.into(),
            create_at,
            root_id: root.into(),
            ..Default::default()
        };
        create_post(w, pb::CreatePostRequest { post: Some(post) })
            .unwrap()
            .post
            .unwrap()
            .id
    }

    fn list(w: &mut World, page: i32, per_page: i32) -> pb::PostList {
        get_posts_for_channel(
            w,
            pb::GetPostsForChannelRequest {
                channel_id: TOWN_SQUARE.into(),
                page,
                per_page,
            },
        )
        .unwrap()
        .post_list
        .unwrap()
    }

    #[test]
    fn created_posts_are_listed_newest_first_and_deleted_ones_vanish() {
        let mut w = world();
        let ids: Vec<String> = ["one", "two", "three"]
            .iter()
            .enumerate()
            .map(|(i, m)| post_at(&mut w, TOWN_SQUARE, m, 1000 + i as i64, ""))
            .collect();
        let first = list(&mut w, 0, 2);
        assert_eq!(first.order, [ids[2].clone(), ids[1].clone()]);
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
        assert!(
            get_posts_for_channel(
                &mut w,
                pb::GetPostsForChannelRequest {
                    channel_id: TOWN_SQUARE.into(),
                    page: -1,
                    per_page: 2,
                },
            )
            .is_err()
        );
    }

    #[test]
    fn a_post_needs_a_live_channel_a_valid_author_and_a_real_root() {
        let mut w = world();
        let create = |w: &mut World, channel: &str, user: &str, root: &str| {
            create_post(
                w,
                pb::CreatePostRequest {
                    post: Some(pb::Post {
                        channel_id: channel.into(),
                        user_id: user.into(),
                        root_id: root.into(),
                        message: "m".into(),
                        ..Default::default()
                    }),
                },
            )
        };
        let err = create(&mut w, "nope", ALICE, "").unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.channel.get.existing.app_error")
        );
        let err = create(&mut w, TOWN_SQUARE, "", "").unwrap_err();
        assert_eq!(err.id, "model.post.is_valid.user_id.app_error");
        let err = create(&mut w, TOWN_SQUARE, ALICE, "p0000000000000000000000099").unwrap_err();
        assert_eq!(err.id, "api.post.create_post.root_id.app_error");
        let root = create(&mut w, OFF_TOPIC, ALICE, "").unwrap().post.unwrap();
        let err = create(&mut w, TOWN_SQUARE, ALICE, &root.id).unwrap_err();
        assert_eq!(err.id, "api.post.create_post.channel_root_id.app_error");
    }

    #[test]
    fn edits_keep_creation_time_and_author() {
        let mut w = world();
        let created = post_in(&mut w, TOWN_SQUARE, ALICE, "a");
        let edited = pb::Post {
            message: "b".into(),
            create_at: 1,
            user_id: BOB.into(),
            ..created.clone()
        };
        let updated = update_post(&mut w, pb::UpdatePostRequest { post: Some(edited) })
            .unwrap()
            .post
            .unwrap();
        assert_eq!(updated.create_at, created.create_at);
        assert_eq!(updated.user_id, ALICE);
        assert_eq!(updated.message, "b");
        assert!(updated.edit_at >= created.create_at);
    }

    #[test]
    fn threads_hold_root_and_replies_and_count_them() {
        let mut w = world();
        let root = post_at(&mut w, TOWN_SQUARE, "root", 1000, "");
        let reply = post_at(&mut w, TOWN_SQUARE, "reply", 1001, &root);
        let other = post_at(&mut w, TOWN_SQUARE, "other", 1002, "");
        assert_eq!(w.posts[&root].reply_count, 1);
        let thread = get_post_thread(
            &mut w,
            pb::GetPostThreadRequest {
                post_id: reply.clone(),
            },
        )
        .unwrap()
        .post_list
        .unwrap();
        assert_eq!(thread.order, [reply.clone(), root.clone()]);
        assert!(!thread.posts.contains_key(&other));
        // A page holding only the reply still carries its root post.
        let page = list(&mut w, 1, 1);
        assert_eq!(page.order, std::slice::from_ref(&reply));
        assert!(page.posts.contains_key(&root));
        // Deleting the root deletes the thread.
        delete_post(
            &mut w,
            pb::DeletePostRequest {
                post_id: root.clone(),
            },
        )
        .unwrap();
        assert!(w.posts[&reply].delete_at > 0);
        let missing =
            get_post_thread(&mut w, pb::GetPostThreadRequest { post_id: root }).unwrap_err();
        assert_eq!(missing.id, "app.post.get.app_error");
    }

    #[test]
    fn since_after_and_before_page_around_posts() {
        let mut w = world();
        let ids: Vec<String> = (0..5)
            .map(|i| post_at(&mut w, TOWN_SQUARE, &format!("m{i}"), 1000 + i, ""))
            .collect();
        let since = get_posts_since(
            &mut w,
            pb::GetPostsSinceRequest {
                channel_id: TOWN_SQUARE.into(),
                time: 1002,
            },
        )
        .unwrap()
        .post_list
        .unwrap();
        assert_eq!(since.order, [ids[4].clone(), ids[3].clone()]);
        let after = |w: &mut World, page, per_page| {
            get_posts_after(
                w,
                pb::GetPostsAfterRequest {
                    channel_id: TOWN_SQUARE.into(),
                    post_id: ids[1].clone(),
                    page,
                    per_page,
                },
            )
            .unwrap()
            .post_list
            .unwrap()
            .order
        };
        assert_eq!(after(&mut w, 0, 2), [ids[3].clone(), ids[2].clone()]);
        assert_eq!(after(&mut w, 1, 2), [ids[4].clone()]);
        let before = get_posts_before(
            &mut w,
            pb::GetPostsBeforeRequest {
                channel_id: TOWN_SQUARE.into(),
                post_id: ids[3].clone(),
                page: 0,
                per_page: 2,
            },
        )
        .unwrap()
        .post_list
        .unwrap();
        assert_eq!(before.order, [ids[2].clone(), ids[1].clone()]);
    }

    #[test]
    fn search_finds_words_in_the_team_and_the_users_channels() {
        let mut w = world();
        let hello = post_in(&mut w, TOWN_SQUARE, ALICE, "Hello brave new world");
        post_in(&mut w, OFF_TOPIC, BOB, "hello there");
        let found = search_posts_in_team(
            &mut w,
            pb::SearchPostsInTeamRequest {
                team_id: ACME.into(),
                params_list: vec![pb::SearchParams {
                    terms: "hello world".into(),
                    ..Default::default()
                }],
            },
        )
        .unwrap()
        .posts;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, hello.id);
        let from_bob = search_posts_in_team(
            &mut w,
            pb::SearchPostsInTeamRequest {
                team_id: ACME.into(),
                params_list: vec![pb::SearchParams {
                    terms: "hello".into(),
                    from_users: vec!["bob".into()],
                    ..Default::default()
                }],
            },
        )
        .unwrap()
        .posts;
        assert_eq!(from_bob.len(), 1);
        let results = search_posts_in_team_for_user(
            &mut w,
            pb::SearchPostsInTeamForUserRequest {
                team_id: ACME.into(),
                user_id: "uadmin00000000000000000000".into(),
                search_params: Some(pb::SearchParameter {
                    terms: "hello".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .results
        .unwrap();
        assert!(results.order.is_empty(), "admin is in neither channel");
        let results = search_posts_in_team_for_user(
            &mut w,
            pb::SearchPostsInTeamForUserRequest {
                team_id: ACME.into(),
                user_id: ALICE.into(),
                search_params: Some(pb::SearchParameter {
                    terms: "hello".into(),
                    per_page: 1,
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .results
        .unwrap();
        assert_eq!(results.order.len(), 1);
        assert_eq!(results.matches[&results.order[0]].values, ["hello"]);
    }

    #[test]
    fn missing_posts_are_reported_in_the_response() {
        let mut w = world();
        let err = require_post(&w, "GetSinglePost", "nope").unwrap_err();
        assert_eq!(err, post_missing("GetSinglePost", "nope"));
        let embedded = err.to_embedded_response();
        let response = <pb::GetPostResponse as prost::Message>::decode(embedded).unwrap();
        assert_eq!(response.error.unwrap().r#where, "GetSinglePost");
        assert!(
            delete_post(
                &mut w,
                pb::DeletePostRequest {
                    post_id: "nope".into()
                }
            )
            .is_err()
        );
    }
}
