//! What needs an Enterprise license or a Mattermost service the harness's
//! server does not have: LDAP, changing how a user signs in, and trial
//! licenses. They answer as a server without a license answers: LDAP is not
//! available, and a trial license cannot be fetched because the license
//! server cannot be reached (the harness never leaves loopback).

use mm_plugin_proto::pb;

use super::common::{require_user, user_missing};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_ldap_user_attributes);
    registry.add(update_user_auth);
    registry.add(request_trial_license);
}

/// Without a license the server has no LDAP interface, and upstream answers
/// 501 before looking at the user.
fn get_ldap_user_attributes(
    _: &mut World,
    _: pb::GetLdapUserAttributesRequest,
) -> HandlerResult<pb::GetLdapUserAttributesResponse> {
    Err(ApiError::not_implemented(
        "GetLdapUserAttributes",
        "ent.ldap.disabled.app_error",
        "AD/LDAP disabled or licence does not support AD/LDAP.",
    ))
}

/// `App.UpdateUserAuth`: sets the user's auth service and data (the
/// password is cleared); auth data another account already has is refused
/// as the store's unique index refuses it.
fn update_user_auth(
    world: &mut World,
    request: pb::UpdateUserAuthRequest,
) -> HandlerResult<pb::UpdateUserAuthResponse> {
    let location = "UpdateUserAuth";
    let auth = request
        .user_auth
        .ok_or_else(|| ApiError::argument(location, "user_auth is required"))?;
    if !world.users.contains_key(&request.user_id) {
        return Err(ApiError::internal(
            location,
            "app.user.update_auth_data.app_error",
            "Unable to update the auth data.",
        )
        .with_detail(user_missing(location, &request.user_id).detailed_error));
    }
    let taken = auth.auth_data.as_ref().is_some_and(|data| {
        world.users.values().any(|user| {
            user.id != request.user_id
                && user.auth_service == auth.auth_service
                && user.auth_data.as_ref() == Some(data)
        })
    });
    if taken {
        return Err(ApiError::invalid(
            location,
            "app.user.update_auth_data.email_exists.app_error",
            "Unable to switch account to this sign-in method. An account using that auth data already exists.",
        ));
    }
    let now = world.now_millis();
    let user = world
        .users
        .get_mut(&request.user_id)
        .expect("checked above");
    user.auth_service = auth.auth_service.clone();
    user.auth_data = auth.auth_data.clone();
    user.password.clear();
    user.update_at = now;
    Ok(pb::UpdateUserAuthResponse {
        error: None,
        user_auth: Some(auth),
    })
}

/// `ExperimentalSettings.RestrictSystemAdmin` forbids it; terms must be
/// accepted and a user count given; the requester must exist; then the
/// license server is asked, which a harness cannot reach.
fn request_trial_license(
    world: &mut World,
    request: pb::RequestTrialLicenseRequest,
) -> HandlerResult<pb::RequestTrialLicenseResponse> {
    let location = "RequestTrialLicense";
    if world.config_flag("ExperimentalSettings", "RestrictSystemAdmin", false) {
        return Err(ApiError::forbidden(
            location,
            "api.restricted_system_admin",
            "This action is forbidden to a restricted system admin.",
        ));
    }
    if !request.terms_accepted {
        return Err(ApiError::invalid(
            location,
            "api.license.request-trial.bad-request.terms-not-accepted",
            "You must accept the Mattermost Software Evaluation Agreement and Privacy Policy before requesting a license.",
        ));
    }
    if request.users <= 0 {
        return Err(ApiError::invalid(
            location,
            "api.license.request-trial.bad-request",
            "The number of users requested is not correct.",
        ));
    }
    require_user(world, location, &request.requester_id)?;
    Err(ApiError::invalid(
        location,
        "api.license.request_trial_license.app_error",
        "Unable to get a trial license, please try again or contact with support@mattermost.com.",
    )
    .with_detail("the license server is not reachable from the harness"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    #[test]
    fn ldap_is_not_available_without_a_license() {
        let err = get_ldap_user_attributes(&mut world(), Default::default()).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (501, "ent.ldap.disabled.app_error")
        );
    }

    #[test]
    fn auth_data_is_set_and_unique_per_service() {
        let mut w = world();
        let auth = |user: &str| pb::UpdateUserAuthRequest {
            user_id: user.into(),
            user_auth: Some(pb::UserAuth {
                auth_data: Some("alice@idp".into()),
                auth_service: "saml".into(),
            }),
        };
        update_user_auth(&mut w, auth(ALICE)).unwrap();
        assert_eq!(w.users[ALICE].auth_service, "saml");
        let err = update_user_auth(&mut w, auth(BOB)).unwrap_err();
        assert_eq!(err.id, "app.user.update_auth_data.email_exists.app_error");
        let err = update_user_auth(&mut w, auth("nobody")).unwrap_err();
        assert_eq!(err.status_code, 500);
    }

    #[test]
    fn trial_licenses_fail_in_upstream_order() {
        let mut w = world();
        let ask = |w: &mut World, terms, users| {
            request_trial_license(
                w,
                pb::RequestTrialLicenseRequest {
                    requester_id: ALICE.into(),
                    users,
                    terms_accepted: terms,
                    receive_emails_accepted: false,
                },
            )
            .unwrap_err()
            .id
        };
        assert_eq!(
            ask(&mut w, false, 10),
            "api.license.request-trial.bad-request.terms-not-accepted"
        );
        assert_eq!(
            ask(&mut w, true, 0),
            "api.license.request-trial.bad-request"
        );
        assert_eq!(
            ask(&mut w, true, 10),
            "api.license.request_trial_license.app_error"
        );
        w.config["ExperimentalSettings"] = serde_json::json!({"RestrictSystemAdmin": true});
        assert_eq!(ask(&mut w, true, 10), "api.restricted_system_admin");
    }
}
