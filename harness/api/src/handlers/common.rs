//! What many handlers need the same way: id validation, pagination, and
//! finding the entity a request names, failing with the server's own
//! not-found error when it is not there.

use mm_plugin_proto::pb;

use crate::{
    errors::ApiError,
    registry::HandlerResult,
    world::{ID_LEN, World},
};

/// `model.IsValidId`: 26 letters or digits.
pub fn is_valid_id(id: &str) -> bool {
    id.len() == ID_LEN && id.chars().all(char::is_alphanumeric)
}

/// `page`/`per_page` as the store applies them: `OFFSET page*per_page
/// LIMIT per_page`, so `per_page` 0 is an empty page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    offset: usize,
    limit: usize,
}

impl Page {
    /// Negative values reach the database as huge unsigned numbers upstream;
    /// here they are refused up front, as the REST layer does.
    pub fn new(location: &str, page: i32, per_page: i32) -> HandlerResult<Page> {
        if page < 0 || per_page < 0 {
            return Err(ApiError::invalid(
                location,
                "api.context.invalid_param.app_error",
                "Invalid page or per_page parameter.",
            )
            .with_detail(format!("page={page} per_page={per_page}")));
        }
        let (page, per_page) = (page as usize, per_page as usize);
        Ok(Page {
            offset: page.saturating_mul(per_page),
            limit: per_page,
        })
    }

    /// An offset/limit pair as some store calls take it.
    pub fn offset(offset: usize, limit: usize) -> Page {
        Page { offset, limit }
    }

    /// Everything, for calls without pagination.
    pub fn all() -> Page {
        Page::offset(0, usize::MAX)
    }

    pub fn apply<T>(self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

pub fn user_missing(location: &str, user_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.user.missing_account.const",
        "Unable to find the user.",
    )
    .with_detail(format!("user_id={user_id}"))
}

pub fn team_missing(location: &str, team_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.team.get.find.app_error",
        "Unable to find the existing team.",
    )
    .with_detail(format!("team_id={team_id}"))
}

pub fn channel_missing(location: &str, channel_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.channel.get.existing.app_error",
        "Unable to find the existing channel.",
    )
    .with_detail(format!("channel_id={channel_id}"))
}

pub fn post_missing(location: &str, post_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.post.get.app_error",
        "Unable to get the post.",
    )
    .with_detail(format!("post_id={post_id}"))
}

pub fn team_member_missing(location: &str, team_id: &str, user_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.team.get_member.missing.app_error",
        "No team member found for that user ID and team ID.",
    )
    .with_detail(format!("team_id={team_id} user_id={user_id}"))
}

pub fn channel_member_missing(location: &str, channel_id: &str, user_id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.channel.get_member.missing.app_error",
        "No channel member found for that user ID and channel ID.",
    )
    .with_detail(format!("channel_id={channel_id} user_id={user_id}"))
}

pub fn require_user<'w>(world: &'w World, location: &str, id: &str) -> HandlerResult<&'w pb::User> {
    world
        .users
        .get(id)
        .ok_or_else(|| user_missing(location, id))
}

pub fn require_team<'w>(world: &'w World, location: &str, id: &str) -> HandlerResult<&'w pb::Team> {
    world
        .teams
        .get(id)
        .ok_or_else(|| team_missing(location, id))
}

pub fn require_channel<'w>(
    world: &'w World,
    location: &str,
    id: &str,
) -> HandlerResult<&'w pb::Channel> {
    world
        .channels
        .get(id)
        .ok_or_else(|| channel_missing(location, id))
}

/// A post that exists and is not deleted.
pub fn require_post<'w>(world: &'w World, location: &str, id: &str) -> HandlerResult<&'w pb::Post> {
    world
        .posts
        .get(id)
        .filter(|post| post.delete_at == 0)
        .ok_or_else(|| post_missing(location, id))
}

/// Whether a user is active (not deactivated).
pub fn is_active(user: &pb::User) -> bool {
    user.delete_at == 0
}

/// Lower-cased containment, the harness's stand-in for the server's
/// full-text and `LIKE` searches.
pub fn contains_folded(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_letters_or_digits() {
        assert!(is_valid_id("ualice00000000000000000000"));
        assert!(!is_valid_id("ualice"));
        assert!(!is_valid_id("ualice0000000000000000000-"));
    }

    #[test]
    fn pages_follow_offset_and_limit() {
        let page = Page::new("X", 1, 2).unwrap();
        assert_eq!(page.apply(1..=5), [3, 4]);
        assert!(Page::new("X", 0, 0).unwrap().apply(1..=5).is_empty());
        let err = Page::new("X", -1, 10).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (400, "api.context.invalid_param.app_error")
        );
    }
}
