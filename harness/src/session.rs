//! A plugin launched against its own fresh Plugin API server, and torn
//! down with it: what soak and bench do for every plugin they start.

use std::time::{Duration, Instant};

use crate::{
    api::{ApiServer, Seed, World},
    launch::{self, LaunchFailure, LaunchOptions, PluginTarget, RunningPlugin, Termination},
};

pub struct Session {
    pub api: ApiServer,
    pub plugin: RunningPlugin,
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

impl Session {
    /// Serves `seed` (the default world when `None`) and launches `target`
    /// against it.
    pub async fn start(
        target: &PluginTarget,
        seed: Option<(&Seed, &str)>,
        options: &LaunchOptions,
    ) -> Result<Session, SessionError> {
        let default_seed;
        let (seed, origin) = match seed {
            Some(given) => given,
            None => {
                default_seed = World::default_seed();
                (&default_seed, "<built-in default world>")
            }
        };
        let world = World::from_seed(seed, &target.id, &target.dir.display().to_string(), origin)
            .map_err(|err| SessionError::World(err.to_string()))?;
        let api = ApiServer::start(world, Instant::now())
            .await
            .map_err(SessionError::Api)?;
        let plugin = launch::launch(target, &api.addr().to_string(), options)
            .await
            .map_err(SessionError::Launch)?;
        Ok(Session { api, plugin })
    }

    /// SIGTERM, `grace`, SIGKILL of the plugin's group; then the API server stops.
    pub async fn stop(mut self, grace: Duration) -> Termination {
        let termination = self.plugin.process.terminate(grace).await;
        drop(self.plugin);
        self.api.stop().await;
        termination
    }
}
