//! One plugin as the server holds it: a world, the Plugin API server that
//! serves it, the launched plugin process and its hook client. Every mode
//! (run, fuzz, bench, soak, http) starts, activates, deactivates and stops a
//! plugin through this type, so they all follow one set of rules.
//!
//! Activation is judged as upstream's `Environment.Activate` judges it: the
//! `OnActivate` call must succeed at the gRPC level (a transport error fails
//! activation, upstream wraps it as "gRPC OnActivate call failed") and its
//! response must decode and carry no `AppError` in field 1 (the Python SDK
//! answers OK and reports an exception there). Deactivation follows the same
//! rules but changes nothing: the server logs a failed `OnDeactivate` and
//! shuts the plugin down anyway.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mm_plugin_proto::pb;
use prost::Message;

use crate::{
    api::{ApiServer, Seed, Stub, World},
    launch::{self, LaunchFailure, LaunchOptions, PluginTarget, RunningPlugin, Termination},
    wire,
};

pub struct Session {
    pub api: ApiServer,
    pub plugin: RunningPlugin,
    /// When the session began: the zero of its transcripts and call log.
    pub epoch: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the world seed is not valid: {0}")]
    World(String),
    #[error("could not start the Plugin API server: {0}")]
    Api(std::io::Error),
    #[error("{}", .0.error)]
    Launch(LaunchFailure),
}

/// Why a lifecycle hook failed, as the server would see it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LifecycleFailure {
    /// The call itself failed (transport, deadline, a status the plugin set).
    #[error("{}", wire::status_text(.0))]
    Status(tonic::Status),
    #[error("bytes that do not decode as {hook}Response: {error}")]
    Undecodable { hook: String, error: String },
    /// The hook answered with an `AppError`.
    #[error("AppError id={id:?} message={message:?} status_code={status_code}")]
    AppError {
        id: String,
        message: String,
        status_code: i32,
    },
}

/// The world a session starts from: `seed`, or the built-in default world.
/// The error says what in the seed is wrong.
pub fn world_for(
    target: &PluginTarget,
    seed: Option<(&Seed, &str)>,
    frozen_clock: Option<std::time::SystemTime>,
) -> Result<World, String> {
    let default_seed;
    let (seed, origin) = match seed {
        Some(given) => given,
        None => {
            default_seed = World::default_seed();
            (&default_seed, "<built-in default world>")
        }
    };
    World::from_seed_at(
        seed,
        &target.id,
        &target.dir.display().to_string(),
        origin,
        frozen_clock,
    )
    .map_err(|err| err.to_string())
}

impl Session {
    /// Serves `seed` (the default world when `None`) and launches `target`
    /// against it.
    pub async fn start(
        target: &PluginTarget,
        seed: Option<(&Seed, &str)>,
        options: &LaunchOptions,
    ) -> Result<Session, SessionError> {
        let world = world_for(target, seed, None).map_err(SessionError::World)?;
        Session::start_in(target, world, Vec::new(), options, Instant::now()).await
    }

    /// Serves `world` with `stubs` in force and launches `target` against
    /// it; API call times are measured from `epoch`.
    pub async fn start_in(
        target: &PluginTarget,
        world: World,
        stubs: Vec<Stub>,
        options: &LaunchOptions,
        epoch: Instant,
    ) -> Result<Session, SessionError> {
        let api = ApiServer::start(world, epoch)
            .await
            .map_err(SessionError::Api)?;
        api.set_suite_stubs(stubs);
        let plugin = launch::launch(target, &api.addr().to_string(), options)
            .await
            .map_err(SessionError::Launch)?;
        Ok(Session { api, plugin, epoch })
    }

    /// `OnActivate`, if the plugin implements it, judged as the server
    /// judges activation.
    pub async fn activate(&self, deadline: Duration) -> Result<(), LifecycleFailure> {
        self.lifecycle("OnActivate", deadline).await
    }

    /// `OnDeactivate`, if the plugin implements it. A failure is the
    /// caller's to report; the server goes on with the shutdown.
    pub async fn deactivate(&self, deadline: Duration) -> Result<(), LifecycleFailure> {
        self.lifecycle("OnDeactivate", deadline).await
    }

    async fn lifecycle(&self, hook: &str, deadline: Duration) -> Result<(), LifecycleFailure> {
        if !self.plugin.implements(hook) {
            return Ok(());
        }
        let answer = self
            .plugin
            .hooks
            .call(hook, Bytes::new(), deadline)
            .await
            .map_err(LifecycleFailure::Status)?;
        judge_lifecycle_answer(hook, &answer)
    }

    /// SIGTERM, `grace`, SIGKILL of the plugin's group; then the API server stops.
    pub async fn stop(mut self, grace: Duration) -> Termination {
        let termination = self.plugin.process.terminate(grace).await;
        drop(self.plugin);
        self.api.stop().await;
        termination
    }
}

/// Every lifecycle response (`OnActivateResponse`, `OnDeactivateResponse`)
/// is one optional `AppError error = 1`, so one message type reads them all.
fn judge_lifecycle_answer(hook: &str, answer: &[u8]) -> Result<(), LifecycleFailure> {
    let response =
        pb::OnActivateResponse::decode(answer).map_err(|err| LifecycleFailure::Undecodable {
            hook: hook.to_owned(),
            error: err.to_string(),
        })?;
    match response.error {
        None => Ok(()),
        Some(error) => Err(LifecycleFailure::AppError {
            id: error.id,
            message: error.message,
            status_code: error.status_code,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_answer_activates() {
        assert!(judge_lifecycle_answer("OnActivate", &[]).is_ok());
    }

    #[test]
    fn an_app_error_fails_activation_with_its_id() {
        let answer = pb::OnActivateResponse {
            error: Some(pb::AppError {
                id: "plugin.on_activate.error".to_owned(),
                message: "Client is not connected".to_owned(),
                status_code: 500,
                ..Default::default()
            }),
        }
        .encode_to_vec();
        let failure = judge_lifecycle_answer("OnActivate", &answer).unwrap_err();
        assert_eq!(
            failure.to_string(),
            "AppError id=\"plugin.on_activate.error\" message=\"Client is not connected\" \
             status_code=500"
        );
    }

    #[test]
    fn undecodable_bytes_fail_with_the_hook_named() {
        let failure = judge_lifecycle_answer("OnDeactivate", &[0xff, 0xff]).unwrap_err();
        assert!(
            failure
                .to_string()
                .starts_with("bytes that do not decode as OnDeactivateResponse"),
            "{failure}"
        );
    }
}
