//! `harness record`: runs as the plugin process a Mattermost server
//! launches, starts the real plugin behind itself, and turns the traffic
//! between the two into a suite that replays with no server.
//!
//! The recorder reads the go-plugin environment its parent gave it
//! (proto/PROTOCOL.md §1: the magic cookie, the Plugin API target, the
//! plugin id), serves a recording Plugin API proxy on loopback, launches
//! the plugin against that proxy exactly as `harness run` launches one,
//! serves the hooks (and the health check) on a loopback port of its own
//! and writes its own handshake line for the server. Every call goes
//! through as raw bytes ([`forward`]); the [`log::Log`] keeps them, and
//! [`suite`] writes them as a suite: one case per hook call, the Plugin
//! API's answers as that case's stubs.
//!
//! The recording ends when the server deactivates the plugin (the suite is
//! written as soon as `OnDeactivate` answers, since a server may kill the
//! process right after), asks go-plugin's controller to shut down, sends
//! SIGTERM, or when the plugin dies; the suite is written in every case.

pub mod forward;
pub mod install;
pub mod log;
pub mod suite;
pub mod world;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, Server};

use crate::launch::{
    self, LaunchFailure, LaunchOptions, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, PluginTarget,
};

pub use suite::{SuiteNaming, Written, WrittenSuite};

/// What the server's environment says, as go-plugin's client sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEnvironment {
    /// The Plugin API server to forward to, `host:port`.
    pub api_target: String,
    pub plugin_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "{MAGIC_COOKIE_KEY} is not set to go-plugin's magic cookie: `harness record` runs as the plugin a \
         Mattermost server (or `harness run`) launches, not on its own; make it the plugin's executable"
    )]
    NoCookie,
    #[error(
        "MATTERMOST_PLUGIN_API_TARGET is not set: the server that launched the recorder gave no Plugin API address"
    )]
    NoApiTarget,
    #[error(
        "MATTERMOST_PLUGIN_API_TARGET={0:?} is not an address the recorder can connect to: {1}"
    )]
    BadApiTarget(String, String),
    #[error("cannot listen on loopback: {0}")]
    Listen(std::io::Error),
    #[error("cannot write the handshake line to stdout: {0}")]
    Handshake(std::io::Error),
    #[error("the plugin could not be started: {}", .0.error)]
    Launch(LaunchFailure),
    #[error("{0}")]
    Out(String),
}

impl ServerEnvironment {
    /// Reads the environment through `var`.
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Result<ServerEnvironment, RecordError> {
        if var(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(RecordError::NoCookie);
        }
        let api_target = var("MATTERMOST_PLUGIN_API_TARGET")
            .filter(|target| !target.is_empty())
            .ok_or(RecordError::NoApiTarget)?;
        Ok(ServerEnvironment {
            api_target,
            plugin_id: var("MATTERMOST_PLUGIN_ID").filter(|id| !id.is_empty()),
        })
    }
}

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub launch: LaunchOptions,
    /// Time the plugin gets to exit after SIGTERM.
    pub grace: Duration,
    pub out: PathBuf,
    pub naming: SuiteNaming,
}

/// How the recording ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Deactivated, shut down by the controller, or stopped by `stop`.
    Stopped,
    /// The plugin process exited on its own.
    PluginDied(String),
}

impl Ending {
    /// What the suite says about it, when it is worth saying.
    fn note(&self) -> Option<String> {
        match self {
            Ending::Stopped => None,
            Ending::PluginDied(status) => Some(format!(
                "The plugin died during the recording ({status}); the suite holds the traffic up to its death."
            )),
        }
    }
}

/// The outcome of a recording.
#[derive(Debug)]
pub struct Recorded {
    pub ending: Ending,
    pub written: Written,
}

/// Records `target` for the server described by `env`, until `stop` is
/// cancelled, the server deactivates or shuts the plugin down, or the
/// plugin dies. The handshake line goes to `handshake_out` (stdout).
pub async fn record(
    target: &PluginTarget,
    env: &ServerEnvironment,
    options: &RecordOptions,
    stop: CancellationToken,
    handshake_out: &mut (dyn std::io::Write + Send),
) -> Result<Recorded, RecordError> {
    let path = options
        .naming
        .pick(&options.out, &target.id)
        .map_err(RecordError::Out)?;
    let server_api = Endpoint::from_shared(format!("http://{}", env.api_target))
        .map_err(|err| RecordError::BadApiTarget(env.api_target.clone(), err.to_string()))?
        .tcp_nodelay(true)
        .connect_lazy();
    let log = log::Log::default();
    let api_listener = loopback_listener().await?;
    let api_addr = api_listener.local_addr().map_err(RecordError::Listen)?;
    let servers = CancellationToken::new();
    tokio::spawn(
        Server::builder()
            .add_service(forward::ApiProxy {
                server: server_api,
                log: log.clone(),
            })
            .serve_with_incoming_shutdown(
                incoming(api_listener),
                servers.clone().cancelled_owned(),
            ),
    );
    let mut plugin = launch::launch(target, &api_addr.to_string(), &options.launch)
        .await
        .map_err(|failure| {
            servers.cancel();
            RecordError::Launch(failure)
        })?;
    let signals = forward::Signals {
        deactivated: CancellationToken::new(),
        shutdown: CancellationToken::new(),
    };
    let hooks_listener = loopback_listener().await?;
    let hooks_addr = hooks_listener.local_addr().map_err(RecordError::Listen)?;
    tokio::spawn(
        Server::builder()
            .add_service(forward::HookProxy {
                plugin: plugin.channel.clone(),
                log: log.clone(),
                signals: signals.clone(),
            })
            .add_service(forward::HealthProxy {
                plugin: plugin.channel.clone(),
            })
            .add_service(forward::ControllerProxy {
                shutdown: signals.shutdown.clone(),
            })
            .serve_with_incoming_shutdown(
                incoming(hooks_listener),
                servers.clone().cancelled_owned(),
            ),
    );
    let line = format!("1|1|tcp|{hooks_addr}|grpc\n");
    let announced = handshake_out
        .write_all(line.as_bytes())
        .and_then(|()| handshake_out.flush());
    if let Err(err) = announced {
        plugin.process.terminate(Duration::ZERO).await;
        servers.cancel();
        return Err(RecordError::Handshake(err));
    }
    let relay_done = CancellationToken::new();
    let relay = tokio::spawn(relay_output(
        plugin.process.output().clone(),
        relay_done.clone(),
    ));
    let mut written = None;
    let ending = loop {
        tokio::select! {
            _ = stop.cancelled() => break Ending::Stopped,
            _ = signals.shutdown.cancelled() => break Ending::Stopped,
            status = plugin.process.wait() => break Ending::PluginDied(status.to_string()),
            // Written now, in case the server kills the process next;
            // written again at the end if more traffic came.
            _ = signals.deactivated.cancelled(), if written.is_none() => {
                written = Some(suite::write(&log, target, &path, None));
            }
        }
    };
    plugin.process.terminate(options.grace).await;
    plugin.process.settle_output().await;
    relay_done.cancel();
    let _ = relay.await;
    servers.cancel();
    let written = suite::write(&log, target, &path, ending.note());
    Ok(Recorded { ending, written })
}

/// ServeHTTP calls recorded on their way to a plugin the harness serves
/// itself (`harness http --record`): `record`'s hook proxy on a loopback
/// port of its own, in front of the plugin's channel, so the same log and
/// the same suite writer see every message as it went.
pub struct HttpTap {
    log: log::Log,
    channel: Channel,
    stop: CancellationToken,
}

impl HttpTap {
    /// Starts the proxy in front of `plugin`.
    pub async fn start(plugin: Channel) -> Result<HttpTap, RecordError> {
        let listener = loopback_listener().await?;
        let addr = listener.local_addr().map_err(RecordError::Listen)?;
        let log = log::Log::default();
        let stop = CancellationToken::new();
        tokio::spawn(
            Server::builder()
                .add_service(forward::HookProxy {
                    plugin,
                    log: log.clone(),
                    // Nothing but ServeHTTP goes through: no one to signal.
                    signals: forward::Signals {
                        deactivated: CancellationToken::new(),
                        shutdown: CancellationToken::new(),
                    },
                })
                .serve_with_incoming_shutdown(incoming(listener), stop.clone().cancelled_owned()),
        );
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|err| RecordError::BadApiTarget(addr.to_string(), err.to_string()))?
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(HttpTap { log, channel, stop })
    }

    /// Where ServeHTTP calls go to be recorded.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Writes what went through so far to `path` as a suite.
    pub fn write(&self, target: &PluginTarget, path: &Path, ending: &Ending) -> Written {
        suite::write(&self.log, target, path, ending.note())
    }
}

impl Drop for HttpTap {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Passes the plugin's output on as the recorder's own, so the server
/// logs it (and a suite's output steps see it) as it would the plugin's:
/// stdout after the handshake to stdout, stderr to stderr.
async fn relay_output(output: launch::OutputLog, done: CancellationToken) {
    use std::io::Write;
    // Lines are told apart by capture time, and by order among lines of
    // the same time.
    let mut last_at = Duration::ZERO;
    let mut printed_at_last = 0;
    loop {
        let finishing = done.is_cancelled();
        let mut same_time = 0;
        for line in output.since(last_at) {
            if line.at == last_at {
                same_time += 1;
                if same_time <= printed_at_last {
                    continue;
                }
            } else {
                last_at = line.at;
                same_time = 1;
            }
            printed_at_last = same_time;
            let _ = match line.stream {
                launch::Stream::Stdout => writeln!(std::io::stdout(), "{}", line.text),
                launch::Stream::Stderr => writeln!(std::io::stderr(), "{}", line.text),
            };
        }
        if finishing {
            return;
        }
        tokio::select! {
            _ = done.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
}

async fn loopback_listener() -> Result<tokio::net::TcpListener, RecordError> {
    tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(RecordError::Listen)
}

/// Accepted connections with Nagle off: a proxy in the hot path must not
/// hold back a small answer waiting for an acknowledgement.
fn incoming(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// The plugin to record: a plugin directory or manifest as `harness run`
/// resolves it, or a command (its program found as a path, else on
/// `PATH`) run as it is from the current directory. A command has no
/// manifest: its id is the one the server gave.
pub fn resolve_target(
    command: &[std::ffi::OsString],
    env: &ServerEnvironment,
) -> Result<(PluginTarget, Vec<std::ffi::OsString>), launch::TargetError> {
    let (first, rest) = command
        .split_first()
        .ok_or_else(|| launch::TargetError::NotFound(PathBuf::new()))?;
    let path = Path::new(first);
    let mut target = if path.is_dir()
        || path
            .extension()
            .is_some_and(|ext| ext == "json" || ext == "yaml" || ext == "yml")
    {
        PluginTarget::resolve(path)?
    } else {
        let program = if path.components().count() > 1 || path.exists() {
            std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
        } else {
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
                .map(|dir| dir.join(path))
                .find(|candidate| candidate.is_file())
                .ok_or_else(|| launch::TargetError::NotFound(path.to_owned()))?
        };
        let mut target = PluginTarget::resolve(&program)?;
        // Run from where the recorder was started, as the command was written.
        if let Ok(cwd) = std::env::current_dir() {
            target.executable = program;
            target.dir = cwd;
        }
        target
    };
    if target.manifest.is_none()
        && let Some(id) = &env.plugin_id
    {
        target.id = id.clone();
    }
    Ok((target, rest.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_needs_the_cookie_and_an_api_target() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(matches!(
            ServerEnvironment::read(env(&[])),
            Err(RecordError::NoCookie)
        ));
        assert!(matches!(
            ServerEnvironment::read(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)])),
            Err(RecordError::NoApiTarget)
        ));
        let read = ServerEnvironment::read(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("MATTERMOST_PLUGIN_API_TARGET", "127.0.0.1:1234"),
            ("MATTERMOST_PLUGIN_ID", "com.x"),
        ]))
        .unwrap();
        assert_eq!(read.api_target, "127.0.0.1:1234");
        assert_eq!(read.plugin_id.as_deref(), Some("com.x"));
    }
}
