//! Personal access tokens: created for a user (bots always may, people only
//! with `ServiceSettings.EnableUserAccessTokens`, off by default) and
//! revoked, which also ends the sessions they opened.

use mm_plugin_proto::pb;

use super::common::{is_valid_id, user_missing};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_user_access_token);
    registry.add(revoke_user_access_token);
}

/// The longest description `UserAccessToken.IsValid` accepts.
const MAX_DESCRIPTION: usize = 255;

fn tokens_enabled(world: &World) -> bool {
    world.config_flag("ServiceSettings", "EnableUserAccessTokens", false)
}

fn disabled(location: &str) -> ApiError {
    ApiError::not_implemented(
        location,
        "app.user_access_token.disabled",
        "User access tokens are disabled on this server. Please contact your system administrator for details.",
    )
}

/// A token's id and secret: the owner's and a count, so runs repeat.
fn create_user_access_token(
    world: &mut World,
    request: pb::CreateUserAccessTokenRequest,
) -> HandlerResult<pb::CreateUserAccessTokenResponse> {
    let location = "CreateUserAccessToken";
    let mut token = request
        .token
        .ok_or_else(|| ApiError::argument(location, "token is required"))?;
    let user = world
        .users
        .get(&token.user_id)
        .ok_or_else(|| user_missing(location, &token.user_id))?;
    if !tokens_enabled(world) && !user.is_bot {
        return Err(disabled(location));
    }
    if token.description.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::invalid(
            "UserAccessToken.IsValid",
            "model.user_access_token.is_valid.description.app_error",
            "Description must be 255 characters or less.",
        ));
    }
    token.id = world.next_id('k');
    token.token = world.next_id('x');
    token.is_active = true;
    world.access_tokens.insert(token.id.clone(), token.clone());
    Ok(pb::CreateUserAccessTokenResponse {
        error: None,
        token: Some(token),
    })
}

/// `GetUserAccessToken` then `RevokeUserAccessToken`: the token goes, and
/// so do sessions authenticated with it.
fn revoke_user_access_token(
    world: &mut World,
    request: pb::RevokeUserAccessTokenRequest,
) -> HandlerResult<pb::RevokeUserAccessTokenResponse> {
    if !tokens_enabled(world) {
        return Err(disabled("RevokeUserAccessToken"));
    }
    let missing = || {
        ApiError::not_found(
            "GetUserAccessToken",
            "app.user_access_token.get_by_id.app_error",
            "Unable to get user access token by id.",
        )
        .with_detail(format!("token_id={}", request.token_id))
    };
    if !is_valid_id(&request.token_id) {
        return Err(missing());
    }
    let token = world
        .access_tokens
        .remove(&request.token_id)
        .ok_or_else(missing)?;
    world
        .sessions
        .retain(|_, session| session.token != token.token);
    Ok(pb::RevokeUserAccessTokenResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const HELPER_BOT: &str = "uhelperbot0000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn create(w: &mut World, user_id: &str) -> HandlerResult<pb::UserAccessToken> {
        create_user_access_token(
            w,
            pb::CreateUserAccessTokenRequest {
                token: Some(pb::UserAccessToken {
                    user_id: user_id.into(),
                    description: "ci".into(),
                    ..Default::default()
                }),
            },
        )
        .map(|answer| answer.token.unwrap())
    }

    #[test]
    fn people_need_tokens_enabled_bots_do_not() {
        let mut w = world();
        let err = create(&mut w, ALICE).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (501, "app.user_access_token.disabled")
        );
        let token = create(&mut w, HELPER_BOT).unwrap();
        assert!(token.is_active && is_valid_id(&token.id) && is_valid_id(&token.token));
        w.config["ServiceSettings"]["EnableUserAccessTokens"] = true.into();
        let token = create(&mut w, ALICE).unwrap();
        assert_eq!(w.access_tokens[&token.id].user_id, ALICE);
    }

    #[test]
    fn revoking_removes_the_token_and_its_sessions() {
        let mut w = world();
        w.config["ServiceSettings"]["EnableUserAccessTokens"] = true.into();
        let token = create(&mut w, ALICE).unwrap();
        w.sessions.insert(
            "s1".into(),
            pb::Session {
                id: "s1".into(),
                token: token.token.clone(),
                ..Default::default()
            },
        );
        let revoke = |w: &mut World| {
            revoke_user_access_token(
                w,
                pb::RevokeUserAccessTokenRequest {
                    token_id: token.id.clone(),
                },
            )
        };
        revoke(&mut w).unwrap();
        assert!(w.sessions.is_empty() && w.access_tokens.is_empty());
        assert_eq!(
            revoke(&mut w).unwrap_err().id,
            "app.user_access_token.get_by_id.app_error"
        );
    }
}
