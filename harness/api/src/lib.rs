//! The server side of the Plugin API: what the plugin calls back into.
//!
//! [`ApiServer`] listens on loopback before the plugin starts (its address
//! becomes `MATTERMOST_PLUGIN_API_TARGET`), answers from an in-memory
//! [`World`], follows upstream's error conventions per RPC, and records
//! every call in a [`CallLog`].

mod calls;
mod errors;
mod handlers;
mod registry;
mod roles;
mod service;
mod sha1;
mod stubs;
mod world;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::transport::server::TcpIncoming;

pub use calls::{ApiCall, ApiOutcome, CallLog};
pub use errors::{ApiError, ErrorConvention, convention};
pub use service::modelled_methods;
pub use stubs::{Stub, StubAnswer};
pub use world::{
    AuditEntry, ChannelMember, ClusterEvent, EphemeralAction, EphemeralPost, InterPluginRequest,
    KvEntry, Mail, Outbox, PeerAnswer, PluginLog, PushDelivery, Remote, SchemeRoles, Seed,
    SeedError, StoredFile, TeamMember, Upload, WebSocketEvent, World,
};

use service::{ApiService, ApiState};
use stubs::StubTable;

/// A running PluginAPI server.
pub struct ApiServer {
    addr: SocketAddr,
    state: Arc<ApiState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ApiServer {
    /// Serves `world` on an ephemeral loopback port. Call times in the log
    /// are measured from `epoch`.
    pub async fn start(world: World, epoch: Instant) -> std::io::Result<ApiServer> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ApiState {
            world: Mutex::new(world),
            stubs: StubTable::default(),
            calls: CallLog::default(),
            epoch,
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let router =
            tonic::transport::Server::builder().add_service(ApiService::new(state.clone()));
        let task = tokio::spawn(async move {
            // Nagle off, as on the plugin's side: a small answer is sent
            // at once, not held back for an acknowledgement.
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            let stop = async {
                let _ = stopped.await;
            };
            // Serving only ends with an I/O error of the listener itself;
            // calls made after that fail on the plugin's side and are its
            // to report.
            let _ = router.serve_with_incoming_shutdown(incoming, stop).await;
        });
        Ok(ApiServer {
            addr,
            state,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// The address to give the plugin, as `host:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn calls(&self) -> &CallLog {
        &self.state.calls
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.state.world.lock().expect("world lock")
    }

    /// Stubs in force for the whole suite.
    pub fn set_suite_stubs(&self, stubs: Vec<Stub>) {
        self.state.stubs.set_suite(stubs);
    }

    /// Stubs in force for the current case, checked before the suite's.
    pub fn set_case_stubs(&self, stubs: Vec<Stub>) {
        self.state.stubs.set_case(stubs);
    }

    /// Stops serving: upstream stops its API server after the plugin is gone.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Graceful stop waits for open connections; a plugin that is already
        // dead has none, a live one is cut off after a short wait.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), &mut self.task).await;
        self.task.abort();
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
