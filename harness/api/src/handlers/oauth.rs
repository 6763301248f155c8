//! OAuth 2.0 apps the server provides sign-in for. Every call needs
//! `ServiceSettings.EnableOAuthServiceProvider` (off by default), as
//! upstream's app layer checks it.

use mm_plugin_proto::pb;

use super::common::is_valid_id;
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_o_auth_app);
    registry.add(get_o_auth_app);
    registry.add(update_o_auth_app);
    registry.add(delete_o_auth_app);
}

fn check_enabled(world: &World, location: &str, id: &str) -> HandlerResult<()> {
    if world.config_flag("ServiceSettings", "EnableOAuthServiceProvider", false) {
        Ok(())
    } else {
        Err(ApiError::not_implemented(
            location,
            id,
            "The system admin has turned off OAuth2 Service Provider.",
        ))
    }
}

/// `OAuthApp.IsValid` for what a plugin sets: creator, name, callback URLs
/// and homepage.
fn check_app(app: &pb::OAuthApp) -> HandlerResult<()> {
    let invalid = |id: &str, message: &str| {
        Err(ApiError::invalid("OAuthApp.IsValid", id, message)
            .with_detail(format!("app_id={}", app.id)))
    };
    let is_url = |url: &str| url.starts_with("http://") || url.starts_with("https://");
    if !is_valid_id(&app.creator_id) {
        return invalid(
            "model.oauth.is_valid.creator_id.app_error",
            "Invalid creator id.",
        );
    }
    if app.name.is_empty() || app.name.chars().count() > 64 {
        return invalid("model.oauth.is_valid.name.app_error", "Invalid name.");
    }
    let callbacks: Vec<&str> = app.callback_urls.split_whitespace().collect();
    if callbacks.is_empty() || !callbacks.iter().all(|url| is_url(url)) {
        return invalid(
            "model.oauth.is_valid.callback.app_error",
            "Callback URL must be a valid URL and start with http:// or https://.",
        );
    }
    if !is_url(&app.homepage) {
        return invalid(
            "model.oauth.is_valid.homepage.app_error",
            "Homepage must be a valid URL and start with http:// or https://.",
        );
    }
    Ok(())
}

fn app_missing(app_id: &str) -> ApiError {
    ApiError::not_found(
        "GetOAuthApp",
        "app.oauth.get_app.find.app_error",
        "Unable to find the requested app.",
    )
    .with_detail(format!("app_id={app_id}"))
}

/// A new id and client secret; `callback_urls` is space-separated on the
/// wire.
fn create_o_auth_app(
    world: &mut World,
    request: pb::CreateOAuthAppRequest,
) -> HandlerResult<pb::CreateOAuthAppResponse> {
    let location = "CreateOAuthApp";
    check_enabled(
        world,
        location,
        "api.oauth.register_oauth_app.turn_off.app_error",
    )?;
    let mut app = request
        .app
        .ok_or_else(|| ApiError::argument(location, "app is required"))?;
    check_app(&app)?;
    let now = world.now_millis();
    app.id = world.next_id('o');
    app.client_secret = world.next_id('s');
    app.create_at = now;
    app.update_at = now;
    world.oauth_apps.insert(app.id.clone(), app.clone());
    Ok(pb::CreateOAuthAppResponse {
        error: None,
        app: Some(app),
    })
}

fn get_o_auth_app(
    world: &mut World,
    request: pb::GetOAuthAppRequest,
) -> HandlerResult<pb::GetOAuthAppResponse> {
    check_enabled(
        world,
        "GetOAuthApp",
        "api.oauth.allow_oauth.turn_off.app_error",
    )?;
    let app = world
        .oauth_apps
        .get(&request.app_id)
        .cloned()
        .ok_or_else(|| app_missing(&request.app_id))?;
    Ok(pb::GetOAuthAppResponse {
        error: None,
        app: Some(app),
    })
}

/// Id, creator, creation time and secret stay as they were.
fn update_o_auth_app(
    world: &mut World,
    request: pb::UpdateOAuthAppRequest,
) -> HandlerResult<pb::UpdateOAuthAppResponse> {
    let location = "UpdateOAuthApp";
    check_enabled(world, location, "api.oauth.allow_oauth.turn_off.app_error")?;
    let mut app = request
        .app
        .ok_or_else(|| ApiError::argument(location, "app is required"))?;
    let old = world
        .oauth_apps
        .get(&app.id)
        .cloned()
        .ok_or_else(|| app_missing(&app.id))?;
    app.creator_id = old.creator_id;
    app.create_at = old.create_at;
    app.client_secret = old.client_secret;
    app.update_at = world.now_millis();
    check_app(&app)?;
    world.oauth_apps.insert(app.id.clone(), app.clone());
    Ok(pb::UpdateOAuthAppResponse {
        error: None,
        app: Some(app),
    })
}

/// Deleting an app that does not exist succeeds, as the store's `DELETE`
/// does.
fn delete_o_auth_app(
    world: &mut World,
    request: pb::DeleteOAuthAppRequest,
) -> HandlerResult<pb::DeleteOAuthAppResponse> {
    check_enabled(
        world,
        "DeleteOAuthApp",
        "api.oauth.allow_oauth.turn_off.app_error",
    )?;
    world.oauth_apps.remove(&request.app_id);
    Ok(pb::DeleteOAuthAppResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "uadmin00000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn app(name: &str) -> pb::OAuthApp {
        pb::OAuthApp {
            creator_id: ADMIN.into(),
            name: name.into(),
            callback_urls: "https://example.com/cb".into(),
            homepage: "https://example.com".into(),
            ..Default::default()
        }
    }

    #[test]
    fn apps_need_the_provider_enabled() {
        let mut w = world();
        let err = create_o_auth_app(
            &mut w,
            pb::CreateOAuthAppRequest {
                app: Some(app("a")),
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (501, "api.oauth.register_oauth_app.turn_off.app_error")
        );
    }

    #[test]
    fn apps_are_created_validated_updated_and_deleted() {
        let mut w = world();
        w.config["ServiceSettings"]["EnableOAuthServiceProvider"] = true.into();
        let created = create_o_auth_app(
            &mut w,
            pb::CreateOAuthAppRequest {
                app: Some(app("a")),
            },
        )
        .unwrap()
        .app
        .unwrap();
        assert!(is_valid_id(&created.id) && !created.client_secret.is_empty());
        let mut bad = app("b");
        bad.homepage = "example.com".into();
        let err =
            create_o_auth_app(&mut w, pb::CreateOAuthAppRequest { app: Some(bad) }).unwrap_err();
        assert_eq!(err.id, "model.oauth.is_valid.homepage.app_error");
        let mut renamed = app("renamed");
        renamed.id = created.id.clone();
        renamed.client_secret = "changed".into();
        let updated = update_o_auth_app(&mut w, pb::UpdateOAuthAppRequest { app: Some(renamed) })
            .unwrap()
            .app
            .unwrap();
        assert_eq!(
            (updated.name.as_str(), updated.client_secret.as_str()),
            ("renamed", created.client_secret.as_str())
        );
        delete_o_auth_app(
            &mut w,
            pb::DeleteOAuthAppRequest {
                app_id: created.id.clone(),
            },
        )
        .unwrap();
        let err =
            get_o_auth_app(&mut w, pb::GetOAuthAppRequest { app_id: created.id }).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.oauth.get_app.find.app_error")
        );
    }
}
