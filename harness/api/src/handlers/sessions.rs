//! Sessions a plugin creates, reads, extends and revokes. Sessions do not
//! authenticate anything in the harness; they are kept so these calls are
//! consistent with each other.

use mm_plugin_proto::pb;

use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(create_session);
    registry.add(get_session);
    registry.add(extend_session_expiry);
    registry.add(revoke_session);
}

fn session_missing(location: &str, session_id: &str) -> ApiError {
    ApiError::invalid(
        location,
        "app.session.get.app_error",
        "Unable to get the session.",
    )
    .with_detail(format!("session_id={session_id}"))
}

fn create_session(
    world: &mut World,
    request: pb::CreateSessionRequest,
) -> HandlerResult<pb::CreateSessionResponse> {
    let mut session = request.session.unwrap_or_default();
    let now = world.now_millis();
    session.id = world.next_id('s');
    if session.token.is_empty() {
        session.token = world.next_id('k');
    }
    session.create_at = now;
    session.last_activity_at = now;
    world.sessions.insert(session.id.clone(), session.clone());
    Ok(pb::CreateSessionResponse {
        error: None,
        session: Some(session),
    })
}

fn get_session(
    world: &mut World,
    request: pb::GetSessionRequest,
) -> HandlerResult<pb::GetSessionResponse> {
    let session = world
        .sessions
        .get(&request.session_id)
        .cloned()
        .ok_or_else(|| session_missing("GetSessionById", &request.session_id))?;
    Ok(pb::GetSessionResponse {
        error: None,
        session: Some(session),
    })
}

fn extend_session_expiry(
    world: &mut World,
    request: pb::ExtendSessionExpiryRequest,
) -> HandlerResult<pb::ExtendSessionExpiryResponse> {
    let session = world.sessions.get_mut(&request.session_id).ok_or_else(|| {
        ApiError::internal(
            "extendSessionExpiry",
            "app.session.get_sessions.app_error",
            "We encountered an error while finding user sessions.",
        )
        .with_detail(format!("session_id={}", request.session_id))
    })?;
    session.expires_at = request.new_expiry;
    Ok(pb::ExtendSessionExpiryResponse { error: None })
}

fn revoke_session(
    world: &mut World,
    request: pb::RevokeSessionRequest,
) -> HandlerResult<pb::RevokeSessionResponse> {
    world
        .sessions
        .remove(&request.session_id)
        .ok_or_else(|| session_missing("RevokeSessionById", &request.session_id))?;
    Ok(pb::RevokeSessionResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_and_revoked_ones_are_gone() {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        let session = create_session(
            &mut w,
            pb::CreateSessionRequest {
                session: Some(pb::Session {
                    user_id: "ualice00000000000000000000".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .session
        .unwrap();
        assert_eq!(session.id.len(), 26);
        assert!(!session.token.is_empty());
        extend_session_expiry(
            &mut w,
            pb::ExtendSessionExpiryRequest {
                session_id: session.id.clone(),
                new_expiry: 42,
            },
        )
        .unwrap();
        let read = get_session(
            &mut w,
            pb::GetSessionRequest {
                session_id: session.id.clone(),
            },
        )
        .unwrap()
        .session
        .unwrap();
        assert_eq!(read.expires_at, 42);
        revoke_session(
            &mut w,
            pb::RevokeSessionRequest {
                session_id: session.id.clone(),
            },
        )
        .unwrap();
        let err = get_session(
            &mut w,
            pb::GetSessionRequest {
                session_id: session.id,
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (400, "app.session.get.app_error")
        );
    }
}
