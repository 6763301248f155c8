//! User statuses (online, away, do not disturb, offline) and custom
//! statuses.
//!
//! As on the server, a user has no status until something sets one:
//! `GetUserStatus` then fails with 404, while `GetUserStatusesByIds` reports
//! such users (even unknown ids) as offline. Statuses are not tied to an
//! existing user: upstream writes them for any id.

use mm_plugin_proto::pb;
use serde_json::json;

use super::common::require_user;
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{World, rfc3339},
};

pub fn register(registry: &mut Registry) {
    registry.add(get_user_status);
    registry.add(get_user_statuses_by_ids);
    registry.add(update_user_status);
    registry.add(set_user_status_timed_dnd);
    registry.add(update_user_custom_status);
    registry.add(remove_user_custom_status);
}

/// Where a user's custom status lives: JSON in the user's props.
const CUSTOM_STATUS_PROP: &str = "customStatus";
/// `model.DefaultCustomStatusEmoji`.
const DEFAULT_CUSTOM_STATUS_EMOJI: &str = "speech_balloon";

fn statuses_enabled(world: &World) -> bool {
    world.config_flag("ServiceSettings", "EnableUserStatuses", true)
}

/// Sets a status the way `SetStatusOnline`/`Offline`/`DoNotDisturb` do.
pub(super) fn set_status(world: &mut World, user_id: &str, status: &str, manual: bool) {
    let now = world.now_millis();
    let entry = world
        .statuses
        .entry(user_id.to_owned())
        .or_insert_with(|| pb::Status {
            user_id: user_id.to_owned(),
            ..Default::default()
        });
    entry.status = status.to_owned();
    entry.manual = manual;
    entry.last_activity_at = now;
    if status != "dnd" {
        entry.dnd_end_time = 0;
    }
}

fn status_of(world: &World, user_id: &str) -> HandlerResult<pb::Status> {
    if !statuses_enabled(world) {
        return Ok(pb::Status::default());
    }
    world.statuses.get(user_id).cloned().ok_or_else(|| {
        ApiError::not_found(
            "GetStatus",
            "app.status.get.missing.app_error",
            "Unable to find the status.",
        )
        .with_detail(format!("user_id={user_id}"))
    })
}

fn get_user_status(
    world: &mut World,
    request: pb::GetUserStatusRequest,
) -> HandlerResult<pb::GetUserStatusResponse> {
    Ok(pb::GetUserStatusResponse {
        error: None,
        status: Some(status_of(world, &request.user_id)?),
    })
}

fn get_user_statuses_by_ids(
    world: &mut World,
    request: pb::GetUserStatusesByIdsRequest,
) -> HandlerResult<pb::GetUserStatusesByIdsResponse> {
    let statuses = if statuses_enabled(world) {
        request
            .user_ids
            .iter()
            .map(|id| {
                world
                    .statuses
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| pb::Status {
                        user_id: id.clone(),
                        status: "offline".to_owned(),
                        ..Default::default()
                    })
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(pb::GetUserStatusesByIdsResponse {
        error: None,
        statuses,
    })
}

fn update_user_status(
    world: &mut World,
    request: pb::UpdateUserStatusRequest,
) -> HandlerResult<pb::UpdateUserStatusResponse> {
    if !["online", "offline", "away", "dnd"].contains(&request.status.as_str()) {
        return Err(ApiError::invalid(
            "UpdateUserStatus",
            "plugin.api.update_user_status.bad_status",
            "Unable to set the user status. Unknown user status.",
        )
        .with_detail("unrecognized status"));
    }
    set_status(world, &request.user_id, &request.status, true);
    Ok(pb::UpdateUserStatusResponse {
        error: None,
        status: Some(status_of(world, &request.user_id)?),
    })
}

/// Do not disturb until `end_time` (seconds), cut to the minute as the
/// server stores it.
fn set_user_status_timed_dnd(
    world: &mut World,
    request: pb::SetUserStatusTimedDndRequest,
) -> HandlerResult<pb::SetUserStatusTimedDndResponse> {
    set_status(world, &request.user_id, "dnd", true);
    if let Some(status) = world.statuses.get_mut(&request.user_id) {
        status.dnd_end_time = request.end_time - request.end_time.rem_euclid(60);
    }
    Ok(pb::SetUserStatusTimedDndResponse {
        error: None,
        status: Some(status_of(world, &request.user_id)?),
    })
}

fn update_user_custom_status(
    world: &mut World,
    request: pb::UpdateUserCustomStatusRequest,
) -> HandlerResult<pb::UpdateUserCustomStatusResponse> {
    let custom = request
        .custom_status
        .filter(|custom| !custom.emoji.is_empty() || !custom.text.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "SetCustomStatus",
                "api.custom_status.set_custom_statuses.update.app_error",
                "Failed to update the custom status. Please add either emoji or custom text status or both.",
            )
        })?;
    require_user(world, "SetCustomStatus", &request.user_id)?;
    let emoji = if custom.emoji.is_empty() {
        DEFAULT_CUSTOM_STATUS_EMOJI.to_owned()
    } else {
        custom.emoji
    };
    // Go marshals a zero `time.Time` as year 1.
    let expires_at = if custom.expires_at == 0 {
        "0001-01-01T00:00:00Z".to_owned()
    } else {
        rfc3339(custom.expires_at)
    };
    let value = json!({
        "emoji": emoji,
        "text": custom.text,
        "duration": custom.duration,
        "expires_at": expires_at,
    });
    let now = world.now_millis();
    let user = world
        .users
        .get_mut(&request.user_id)
        .expect("checked above");
    user.props
        .insert(CUSTOM_STATUS_PROP.to_owned(), value.to_string());
    user.update_at = now;
    Ok(pb::UpdateUserCustomStatusResponse { error: None })
}

fn remove_user_custom_status(
    world: &mut World,
    request: pb::RemoveUserCustomStatusRequest,
) -> HandlerResult<pb::RemoveUserCustomStatusResponse> {
    require_user(world, "RemoveCustomStatus", &request.user_id)?;
    let now = world.now_millis();
    let user = world
        .users
        .get_mut(&request.user_id)
        .expect("checked above");
    user.props.remove(CUSTOM_STATUS_PROP);
    user.update_at = now;
    Ok(pb::RemoveUserCustomStatusResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn status(w: &mut World, id: &str) -> HandlerResult<String> {
        get_user_status(w, pb::GetUserStatusRequest { user_id: id.into() })
            .map(|r| r.status.unwrap().status)
    }

    #[test]
    fn statuses_change_and_unknown_ones_are_404_or_offline() {
        let mut w = world();
        assert_eq!(status(&mut w, ALICE).unwrap(), "online");
        update_user_status(
            &mut w,
            pb::UpdateUserStatusRequest {
                user_id: ALICE.into(),
                status: "dnd".into(),
            },
        )
        .unwrap();
        assert_eq!(status(&mut w, ALICE).unwrap(), "dnd");
        let err = status(&mut w, "u0000000000000000000000009").unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.status.get.missing.app_error")
        );
        let all = get_user_statuses_by_ids(
            &mut w,
            pb::GetUserStatusesByIdsRequest {
                user_ids: vec![ALICE.into(), "nobody".into()],
            },
        )
        .unwrap()
        .statuses;
        let pairs: Vec<_> = all
            .iter()
            .map(|s| (s.user_id.as_str(), s.status.as_str()))
            .collect();
        assert_eq!(pairs, [(ALICE, "dnd"), ("nobody", "offline")]);
        let err = update_user_status(
            &mut w,
            pb::UpdateUserStatusRequest {
                user_id: ALICE.into(),
                status: "busy".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "plugin.api.update_user_status.bad_status");
    }

    #[test]
    fn timed_dnd_is_cut_to_the_minute() {
        let mut w = world();
        let status = set_user_status_timed_dnd(
            &mut w,
            pb::SetUserStatusTimedDndRequest {
                user_id: ALICE.into(),
                end_time: 1_700_000_059,
            },
        )
        .unwrap()
        .status
        .unwrap();
        assert_eq!(
            (status.status.as_str(), status.dnd_end_time),
            ("dnd", 1_700_000_040)
        );
    }

    #[test]
    fn custom_status_lives_in_user_props() {
        let mut w = world();
        let set = |w: &mut World, custom: Option<pb::CustomStatus>| {
            update_user_custom_status(
                w,
                pb::UpdateUserCustomStatusRequest {
                    user_id: ALICE.into(),
                    custom_status: custom,
                },
            )
        };
        let err = set(&mut w, Some(pb::CustomStatus::default())).unwrap_err();
        assert_eq!(
            err.id,
            "api.custom_status.set_custom_statuses.update.app_error"
        );
        set(
            &mut w,
            Some(pb::CustomStatus {
                text: "In a meeting".into(),
                ..Default::default()
            }),
        )
        .unwrap();
        let stored: serde_json::Value =
            serde_json::from_str(&w.users[ALICE].props[CUSTOM_STATUS_PROP]).unwrap();
        assert_eq!(stored["text"], "In a meeting");
        assert_eq!(stored["emoji"], "speech_balloon");
        remove_user_custom_status(
            &mut w,
            pb::RemoveUserCustomStatusRequest {
                user_id: ALICE.into(),
            },
        )
        .unwrap();
        assert!(!w.users[ALICE].props.contains_key(CUSTOM_STATUS_PROP));
    }
}
