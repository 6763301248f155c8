//! Images: profile pictures, team icons and custom emoji images, kept as
//! bytes in the world's file store.
//!
//! Upstream decodes every image it is given (`image.DecodeConfig`) and
//! refuses what does not decode. The harness checks the magic bytes of the
//! formats the server decodes (PNG, JPEG, GIF) instead of decoding; it does
//! not resize, and a user without a picture gets a fixed 1×1 PNG where the
//! server would draw initials.

use mm_plugin_proto::pb;

use super::common::{require_team, require_user};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{DEFAULT_IMAGE, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(get_profile_image);
    registry.add(set_profile_image);
    registry.add(get_team_icon);
    registry.add(set_team_icon);
    registry.add(remove_team_icon);
    registry.add(get_emoji_image);
}

/// The format `image.DecodeConfig` would report, by magic bytes.
pub(super) fn image_format(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("gif")
    } else {
        None
    }
}

/// Upstream reads the image from the file store, generating the default
/// one the first time.
fn get_profile_image(
    world: &mut World,
    request: pb::GetProfileImageRequest,
) -> HandlerResult<pb::GetProfileImageResponse> {
    require_user(world, "GetUser", &request.user_id)?;
    let image = world
        .profile_images
        .get(&request.user_id)
        .cloned()
        .unwrap_or_else(|| DEFAULT_IMAGE.to_vec());
    Ok(pb::GetProfileImageResponse { error: None, image })
}

/// `SetProfileImageFromFile`: the data must be an image; the user's
/// `last_picture_update` moves.
fn set_profile_image(
    world: &mut World,
    request: pb::SetProfileImageRequest,
) -> HandlerResult<pb::SetProfileImageResponse> {
    require_user(world, "GetUser", &request.user_id)?;
    if image_format(&request.data).is_none() {
        return Err(ApiError::invalid(
            "SetProfileImage",
            "api.user.upload_profile_user.decode.app_error",
            "Could not decode profile image.",
        )
        .with_detail(format!("user_id={}", request.user_id)));
    }
    let now = world.now_millis();
    if let Some(user) = world.users.get_mut(&request.user_id) {
        user.last_picture_update = now;
        user.update_at = now;
    }
    world.profile_images.insert(request.user_id, request.data);
    Ok(pb::SetProfileImageResponse { error: None })
}

fn get_team_icon(
    world: &mut World,
    request: pb::GetTeamIconRequest,
) -> HandlerResult<pb::GetTeamIconResponse> {
    require_team(world, "GetTeam", &request.team_id)?;
    let icon = world
        .team_icons
        .get(&request.team_id)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "GetTeamIcon",
                "api.team.get_team_icon.read_file.app_error",
                "Unable to read the team icon file.",
            )
            .with_detail(format!("team_id={}", request.team_id))
        })?;
    Ok(pb::GetTeamIconResponse { error: None, icon })
}

/// `SetTeamIconFromFile`: the data must be an image; the team's
/// `last_team_icon_update` moves.
fn set_team_icon(
    world: &mut World,
    request: pb::SetTeamIconRequest,
) -> HandlerResult<pb::SetTeamIconResponse> {
    require_team(world, "GetTeam", &request.team_id)?;
    if image_format(&request.data).is_none() {
        return Err(ApiError::invalid(
            "SetTeamIcon",
            "api.team.set_team_icon.decode.app_error",
            "Could not decode team icon.",
        )
        .with_detail(format!("team_id={}", request.team_id)));
    }
    let now = world.now_millis();
    if let Some(team) = world.teams.get_mut(&request.team_id) {
        team.last_team_icon_update = now;
    }
    world.team_icons.insert(request.team_id, request.data);
    Ok(pb::SetTeamIconResponse { error: None })
}

/// Upstream resets `last_team_icon_update`, after which clients stop asking
/// for the icon; the harness also forgets the bytes, so `GetTeamIcon` says
/// there is none.
fn remove_team_icon(
    world: &mut World,
    request: pb::RemoveTeamIconRequest,
) -> HandlerResult<pb::RemoveTeamIconResponse> {
    require_team(world, "GetTeam", &request.team_id)?;
    if let Some(team) = world.teams.get_mut(&request.team_id) {
        team.last_team_icon_update = 0;
    }
    world.team_icons.remove(&request.team_id);
    Ok(pb::RemoveTeamIconResponse { error: None })
}

/// The emoji must exist (deleted ones included, as the store reads them);
/// the content type is the decoded format's name (`png`), not a MIME type.
fn get_emoji_image(
    world: &mut World,
    request: pb::GetEmojiImageRequest,
) -> HandlerResult<pb::GetEmojiImageResponse> {
    if !world.emoji.contains_key(&request.emoji_id) {
        return Err(ApiError::not_found(
            "GetEmoji",
            "app.emoji.get.no_result",
            "Unable to find the emoji.",
        )
        .with_detail(format!("emoji_id={}", request.emoji_id)));
    }
    let image = world
        .emoji_images
        .get(&request.emoji_id)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "getEmojiImage",
                "api.emoji.get_image.read.app_error",
                "Unable to read image file for emoji.",
            )
        })?;
    let content_type = image_format(&image).ok_or_else(|| {
        ApiError::internal(
            "getEmojiImage",
            "api.emoji.get_image.decode.app_error",
            "Unable to decode image file for emoji.",
        )
    })?;
    Ok(pb::GetEmojiImageResponse {
        error: None,
        image,
        content_type: content_type.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const ACME: &str = "tacme000000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    #[test]
    fn magic_bytes_decide_what_is_an_image() {
        assert_eq!(image_format(DEFAULT_IMAGE), Some("png"));
        assert_eq!(image_format(&[0xff, 0xd8, 0xff, 0xe0]), Some("jpeg"));
        assert_eq!(image_format(b"GIF89a..."), Some("gif"));
        assert_eq!(image_format(b"not an image"), None);
    }

    #[test]
    fn profile_images_default_then_round_trip_and_non_images_are_refused() {
        let mut w = world();
        let get = |w: &mut World| {
            get_profile_image(
                w,
                pb::GetProfileImageRequest {
                    user_id: ALICE.into(),
                },
            )
            .unwrap()
            .image
        };
        assert_eq!(get(&mut w), DEFAULT_IMAGE);
        let gif = b"GIF89a-picture".to_vec();
        set_profile_image(
            &mut w,
            pb::SetProfileImageRequest {
                user_id: ALICE.into(),
                data: gif.clone(),
            },
        )
        .unwrap();
        assert_eq!(get(&mut w), gif);
        assert!(w.users[ALICE].last_picture_update > 0);
        let err = set_profile_image(
            &mut w,
            pb::SetProfileImageRequest {
                user_id: ALICE.into(),
                data: b"text".to_vec(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (400, "api.user.upload_profile_user.decode.app_error")
        );
        let err = get_profile_image(
            &mut w,
            pb::GetProfileImageRequest {
                user_id: "nobody".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.status_code, 404);
    }

    #[test]
    fn team_icons_are_set_read_and_removed() {
        let mut w = world();
        let get = |w: &mut World| {
            get_team_icon(
                w,
                pb::GetTeamIconRequest {
                    team_id: ACME.into(),
                },
            )
        };
        assert_eq!(
            get(&mut w).unwrap_err().id,
            "api.team.get_team_icon.read_file.app_error"
        );
        set_team_icon(
            &mut w,
            pb::SetTeamIconRequest {
                team_id: ACME.into(),
                data: DEFAULT_IMAGE.to_vec(),
            },
        )
        .unwrap();
        assert_eq!(get(&mut w).unwrap().icon, DEFAULT_IMAGE);
        assert!(w.teams[ACME].last_team_icon_update > 0);
        remove_team_icon(
            &mut w,
            pb::RemoveTeamIconRequest {
                team_id: ACME.into(),
            },
        )
        .unwrap();
        assert_eq!(w.teams[ACME].last_team_icon_update, 0);
        assert_eq!(get(&mut w).unwrap_err().status_code, 404);
    }

    #[test]
    fn seeded_emoji_have_an_image_unknown_ones_are_not_found() {
        let mut w = world();
        let answer = get_emoji_image(
            &mut w,
            pb::GetEmojiImageRequest {
                emoji_id: "epartyparrot0000000000000".into(),
            },
        );
        assert!(answer.is_err(), "ids are 26 characters");
        let parrot = "epartyparrot00000000000000".to_owned();
        let answer =
            get_emoji_image(&mut w, pb::GetEmojiImageRequest { emoji_id: parrot }).unwrap();
        assert_eq!(
            (answer.image.as_slice(), answer.content_type.as_str()),
            (DEFAULT_IMAGE, "png")
        );
    }
}
