//! Users: create, look up by id, email or username, update, delete.

use mm_plugin_proto::pb;

use crate::api::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_user);
    registry.add(get_user);
    registry.add(get_user_by_email);
    registry.add(get_user_by_username);
    registry.add(update_user);
    registry.add(delete_user);
}

fn missing(location: &str, what: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.user.missing_account.const",
        format!("could not find the user {what}"),
    )
}

fn create_user(
    world: &mut World,
    request: pb::CreateUserRequest,
) -> HandlerResult<pb::CreateUserResponse> {
    let mut user = request.user.unwrap_or_default();
    if user.username.is_empty() || user.email.is_empty() {
        return Err(ApiError::invalid(
            "CreateUser",
            "model.user.is_valid.username.app_error",
            "a user needs a username and an email",
        ));
    }
    if world.user_by_name(&user.username).is_some() {
        return Err(ApiError::invalid(
            "CreateUser",
            "app.user.save.username_exists.app_error",
            format!("an account with username {} already exists", user.username),
        ));
    }
    let now = world.now_millis();
    user.id = world.next_id('u');
    user.create_at = now;
    user.update_at = now;
    user.password.clear();
    if user.roles.is_empty() {
        user.roles = "system_user".to_owned();
    }
    world.users.insert(user.id.clone(), user.clone());
    Ok(pb::CreateUserResponse {
        error: None,
        user: Some(user),
    })
}

fn get_user(world: &mut World, request: pb::GetUserRequest) -> HandlerResult<pb::GetUserResponse> {
    let user = world
        .users
        .get(&request.user_id)
        .cloned()
        .ok_or_else(|| missing("GetUser", &format!("with id {:?}", request.user_id)))?;
    Ok(pb::GetUserResponse {
        error: None,
        user: Some(user),
    })
}

fn get_user_by_email(
    world: &mut World,
    request: pb::GetUserByEmailRequest,
) -> HandlerResult<pb::GetUserByEmailResponse> {
    let user = world
        .users
        .values()
        .find(|user| user.email.eq_ignore_ascii_case(&request.email))
        .cloned()
        .ok_or_else(|| missing("GetUserByEmail", &format!("with email {:?}", request.email)))?;
    Ok(pb::GetUserByEmailResponse {
        error: None,
        user: Some(user),
    })
}

fn get_user_by_username(
    world: &mut World,
    request: pb::GetUserByUsernameRequest,
) -> HandlerResult<pb::GetUserByUsernameResponse> {
    let user = world.user_by_name(&request.name).cloned().ok_or_else(|| {
        ApiError::not_found(
            "GetUserByUsername",
            "app.user.get_by_username.app_error",
            format!("could not find the user with username {:?}", request.name),
        )
    })?;
    Ok(pb::GetUserByUsernameResponse {
        error: None,
        user: Some(user),
    })
}

fn update_user(
    world: &mut World,
    request: pb::UpdateUserRequest,
) -> HandlerResult<pb::UpdateUserResponse> {
    let mut user = request.user.unwrap_or_default();
    let now = world.now_millis();
    let existing = world
        .users
        .get_mut(&user.id)
        .ok_or_else(|| missing("UpdateUser", &format!("with id {:?}", user.id)))?;
    user.create_at = existing.create_at;
    user.update_at = now;
    *existing = user.clone();
    Ok(pb::UpdateUserResponse {
        error: None,
        user: Some(user),
    })
}

fn delete_user(
    world: &mut World,
    request: pb::DeleteUserRequest,
) -> HandlerResult<pb::DeleteUserResponse> {
    let now = world.now_millis();
    let user = world
        .users
        .get_mut(&request.user_id)
        .ok_or_else(|| missing("DeleteUser", &format!("with id {:?}", request.user_id)))?;
    user.delete_at = now;
    Ok(pb::DeleteUserResponse { error: None })
}
