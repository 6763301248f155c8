//! User preferences: (category, name) → value per user.

use mm_plugin_proto::pb;

use super::common::is_valid_id;
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_preference_for_user);
    registry.add(get_preferences_for_user);
    registry.add(update_preferences_for_user);
    registry.add(delete_preferences_for_user);
}

/// `model.PreferenceCategoryMaxBytes`, `PreferenceNameMaxBytes`,
/// `PreferenceValueMaxRunes`.
const CATEGORY_MAX: usize = 32;
const NAME_MAX: usize = 32;
const VALUE_MAX: usize = 2000;

fn key(preference: &pb::Preference) -> (String, String, String) {
    (
        preference.user_id.clone(),
        preference.category.clone(),
        preference.name.clone(),
    )
}

/// Every preference must belong to the user the call names; upstream
/// refuses the whole call otherwise.
fn check_owner(
    location: &str,
    id: &str,
    user_id: &str,
    preferences: &[pb::Preference],
) -> HandlerResult<()> {
    match preferences.iter().find(|p| p.user_id != user_id) {
        Some(other) => Err(ApiError::forbidden(
            location,
            id,
            "Unable to change preferences for another user.",
        )
        .with_detail(format!(
            "userId={user_id}, preference.UserId={}",
            other.user_id
        ))),
        None => Ok(()),
    }
}

/// `Preference.IsValid`.
fn check_preference(preference: &pb::Preference) -> HandlerResult<()> {
    let invalid =
        |id: &str, message: &str| Err(ApiError::invalid("Preference.IsValid", id, message));
    if !is_valid_id(&preference.user_id) {
        return invalid("model.preference.is_valid.id.app_error", "Invalid user id.");
    }
    if preference.category.is_empty() || preference.category.len() > CATEGORY_MAX {
        return invalid(
            "model.preference.is_valid.category.app_error",
            "Invalid category.",
        );
    }
    if preference.name.len() > NAME_MAX {
        return invalid("model.preference.is_valid.name.app_error", "Invalid name.");
    }
    if preference.value.chars().count() > VALUE_MAX {
        return invalid(
            "model.preference.is_valid.value.app_error",
            "Value is too long.",
        );
    }
    Ok(())
}

/// A missing preference is a 400 upstream, not a 404.
fn get_preference_for_user(
    world: &mut World,
    request: pb::GetPreferenceForUserRequest,
) -> HandlerResult<pb::GetPreferenceForUserResponse> {
    let wanted = pb::Preference {
        user_id: request.user_id,
        category: request.category,
        name: request.name,
        value: String::new(),
    };
    let value = world
        .preferences
        .get(&key(&wanted))
        .cloned()
        .ok_or_else(|| {
            ApiError::invalid(
                "GetPreferenceByCategoryAndNameForUser",
                "app.preference.get.app_error",
                "Unable to find preference.",
            )
            .with_detail(format!("category={} name={}", wanted.category, wanted.name))
        })?;
    Ok(pb::GetPreferenceForUserResponse {
        error: None,
        preference: Some(pb::Preference { value, ..wanted }),
    })
}

fn get_preferences_for_user(
    world: &mut World,
    request: pb::GetPreferencesForUserRequest,
) -> HandlerResult<pb::GetPreferencesForUserResponse> {
    let preferences = world
        .preferences
        .iter()
        .filter(|((user_id, _, _), _)| *user_id == request.user_id)
        .map(|((user_id, category, name), value)| pb::Preference {
            user_id: user_id.clone(),
            category: category.clone(),
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    Ok(pb::GetPreferencesForUserResponse {
        error: None,
        preferences,
    })
}

/// All or nothing: every preference is checked before any is saved.
fn update_preferences_for_user(
    world: &mut World,
    request: pb::UpdatePreferencesForUserRequest,
) -> HandlerResult<pb::UpdatePreferencesForUserResponse> {
    check_owner(
        "savePreferences",
        "api.preference.update_preferences.set.app_error",
        &request.user_id,
        &request.preferences,
    )?;
    for preference in &request.preferences {
        check_preference(preference)?;
    }
    for preference in request.preferences {
        world.preferences.insert(key(&preference), preference.value);
    }
    Ok(pb::UpdatePreferencesForUserResponse { error: None })
}

/// Deleting a preference that is not set is not an error.
fn delete_preferences_for_user(
    world: &mut World,
    request: pb::DeletePreferencesForUserRequest,
) -> HandlerResult<pb::DeletePreferencesForUserResponse> {
    check_owner(
        "DeletePreferences",
        "api.preference.delete_preferences.delete.app_error",
        &request.user_id,
        &request.preferences,
    )?;
    for preference in &request.preferences {
        world.preferences.remove(&key(preference));
    }
    Ok(pb::DeletePreferencesForUserResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";

    fn preference(user: &str, name: &str, value: &str) -> pb::Preference {
        pb::Preference {
            user_id: user.into(),
            category: "display_settings".into(),
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn preferences_are_set_read_and_deleted() {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        update_preferences_for_user(
            &mut w,
            pb::UpdatePreferencesForUserRequest {
                user_id: ALICE.into(),
                preferences: vec![
                    preference(ALICE, "use_military_time", "true"),
                    preference(ALICE, "colorize_usernames", "false"),
                ],
            },
        )
        .unwrap();
        let all = get_preferences_for_user(
            &mut w,
            pb::GetPreferencesForUserRequest {
                user_id: ALICE.into(),
            },
        )
        .unwrap()
        .preferences;
        assert_eq!(all.len(), 2);
        let one = get_preference_for_user(
            &mut w,
            pb::GetPreferenceForUserRequest {
                user_id: ALICE.into(),
                category: "display_settings".into(),
                name: "use_military_time".into(),
            },
        )
        .unwrap()
        .preference
        .unwrap();
        assert_eq!(one.value, "true");
        delete_preferences_for_user(
            &mut w,
            pb::DeletePreferencesForUserRequest {
                user_id: ALICE.into(),
                preferences: vec![preference(ALICE, "use_military_time", "")],
            },
        )
        .unwrap();
        let err = get_preference_for_user(
            &mut w,
            pb::GetPreferenceForUserRequest {
                user_id: ALICE.into(),
                category: "display_settings".into(),
                name: "use_military_time".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (400, "app.preference.get.app_error")
        );
    }

    #[test]
    fn another_users_preferences_are_refused_and_nothing_is_saved() {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        let err = update_preferences_for_user(
            &mut w,
            pb::UpdatePreferencesForUserRequest {
                user_id: ALICE.into(),
                preferences: vec![preference(ALICE, "a", "1"), preference(BOB, "b", "2")],
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_status().code(),
            tonic::Code::PermissionDenied,
            "{err:?}"
        );
        assert!(w.preferences.is_empty());
        let err = update_preferences_for_user(
            &mut w,
            pb::UpdatePreferencesForUserRequest {
                user_id: ALICE.into(),
                preferences: vec![pb::Preference {
                    category: String::new(),
                    ..preference(ALICE, "a", "1")
                }],
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "model.preference.is_valid.category.app_error");
    }
}
