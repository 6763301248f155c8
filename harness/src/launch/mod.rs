//! Starting a plugin the way the Mattermost server does, and stopping it.
//!
//! [`launch`] spawns the plugin with the server's environment, waits for the
//! go-plugin handshake on stdout, connects, checks health (service
//! `plugin`) and asks `Implemented()`. Every way this can fail has its own
//! [`LaunchError`] variant, and a [`LaunchFailure`] carries the output the
//! plugin wrote before failing.

pub mod handshake;
pub mod manifest;
pub mod output;
pub mod process;
pub mod target;

use std::{ffi::OsString, process::ExitStatus, time::Duration};

use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

pub use handshake::{Handshake, HandshakeError, PluginAddress};
pub use manifest::{Manifest, ManifestError};
pub use output::{CapturedLine, OutputLog, Stream};
pub use process::{PluginProcess, Termination};
pub use target::{CommandError, CommandLine, PluginTarget, Runtime, TargetError};

use crate::hooks::HookClient;
use output::FirstLine;

/// go-plugin's magic cookie, as the Mattermost server sets it.
pub const MAGIC_COOKIE_KEY: &str = "MATTERMOST_PLUGIN";
pub const MAGIC_COOKIE_VALUE: &str = "Securely message teams, anywhere.";
/// Upstream's StartTimeout for Python plugins.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct LaunchOptions {
    pub start_timeout: Duration,
    /// Deadline of the health check and `Implemented()`.
    pub call_timeout: Duration,
    /// Appended to the plugin's command line.
    pub extra_args: Vec<OsString>,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            start_timeout: DEFAULT_START_TIMEOUT,
            call_timeout: crate::hooks::DEFAULT_DEADLINE,
            extra_args: Vec::new(),
        }
    }
}

/// A started, healthy, connected plugin.
#[derive(Debug)]
pub struct RunningPlugin {
    pub handshake: Handshake,
    pub process: PluginProcess,
    pub channel: Channel,
    pub hooks: HookClient,
    /// What `Implemented()` answered, in its order.
    pub implemented: Vec<String>,
    /// From spawn to the handshake line.
    pub time_to_handshake: Duration,
}

impl RunningPlugin {
    pub fn implements(&self, hook: &str) -> bool {
        self.implemented.iter().any(|name| name == hook)
    }

    /// `grpc.health.v1.Health/Check` for service `plugin`, as go-plugin's Ping does.
    pub async fn health(&self, deadline: Duration) -> Result<ServingStatus, tonic::Status> {
        check_health(self.channel.clone(), deadline).await
    }
}

/// Why a plugin could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("the plugin exited ({status}) before writing its handshake line{}", quote_stdout(.stdout))]
    ExitedBeforeHandshake {
        status: ExitStatus,
        stdout: Option<String>,
    },
    #[error(
        "no handshake line within the {} start timeout{}; the plugin was still running, and was killed \
         (--start-timeout sets the wait; the server allows Python plugins 10s)",
        humantime::format_duration(*.timeout),
        quote_stdout(.stdout)
    )]
    StartTimeout {
        timeout: Duration,
        stdout: Option<String>,
    },
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error(
        "the plugin wrote {first:?} to stdout before its handshake line {handshake:?}\n\
         the server takes the first stdout line as the handshake, so it would refuse this plugin; \
         write logs to stderr"
    )]
    OutputBeforeHandshake { first: String, handshake: String },
    #[error("the handshake named {address}, but connecting to it failed: {message}")]
    Connect { address: String, message: String },
    #[error(
        "the plugin exited ({status}) after its handshake line, while the server was {stage} ({error})\n\
         a plugin must keep serving until it is sent SIGTERM"
    )]
    ExitedAfterHandshake {
        status: ExitStatus,
        /// What the server was doing when it noticed: "connecting", ...
        stage: &'static str,
        error: String,
    },
    #[error(
        "the health check (grpc.health.v1.Health/Check, service \"plugin\") failed: {}",
        status_text(.0)
    )]
    HealthCall(tonic::Status),
    // go-plugin's Ping only fails on a call error, so upstream would go on
    // with a NOT_SERVING plugin; the harness stops, and says so.
    #[error(
        "the health check (grpc.health.v1.Health/Check, service \"plugin\") answered {}, not SERVING: \
         the plugin says it cannot serve, so the harness does not use it \
         (a Mattermost server would not notice: go-plugin's Ping only fails when the call fails)",
        serving_status_name(*.0)
    )]
    NotServing(ServingStatus),
    #[error("Implemented() failed: {}", status_text(.0))]
    Implemented(tonic::Status),
}

/// `CODE: message`, with the transport error behind the status if any:
/// "UNKNOWN: transport error" alone does not say the connection was reset.
fn status_text(status: &tonic::Status) -> String {
    let code = crate::wire::code_name(status.code());
    let message = status.message();
    match std::error::Error::source(status).map(error_chain) {
        // tonic repeats its message as the source's text: say it once.
        Some(chain) if chain.starts_with(message) => format!("{code}: {chain}"),
        Some(chain) => format!("{code}: {message}: {chain}"),
        None => format!("{code}: {message}"),
    }
}

/// The name the health protocol gives a status.
fn serving_status_name(status: ServingStatus) -> &'static str {
    match status {
        ServingStatus::Unknown => "UNKNOWN",
        ServingStatus::Serving => "SERVING",
        ServingStatus::NotServing => "NOT_SERVING",
        ServingStatus::ServiceUnknown => "SERVICE_UNKNOWN",
    }
}

fn quote_stdout(stdout: &Option<String>) -> String {
    match stdout {
        Some(text) => format!("; stdout had only {text:?} (no line ending)"),
        None => String::new(),
    }
}

/// A failed launch and what the plugin wrote meanwhile.
#[derive(Debug)]
pub struct LaunchFailure {
    pub error: LaunchError,
    /// The last lines of stderr (and stdout after the first line).
    pub output_tail: Vec<CapturedLine>,
}

impl From<CommandError> for LaunchFailure {
    fn from(error: CommandError) -> Self {
        LaunchFailure {
            error: error.into(),
            output_tail: Vec::new(),
        }
    }
}

/// The environment the server gives a plugin, on top of its own.
pub fn plugin_environment(target: &PluginTarget, api_target: &str) -> Vec<(String, String)> {
    vec![
        ("MATTERMOST_PLUGIN_API_TARGET".into(), api_target.into()),
        (MAGIC_COOKIE_KEY.into(), MAGIC_COOKIE_VALUE.into()),
        ("PLUGIN_MIN_PORT".into(), "10000".into()),
        ("PLUGIN_MAX_PORT".into(), "25000".into()),
        ("PLUGIN_PROTOCOL_VERSIONS".into(), "1".into()),
        ("MATTERMOST_PLUGIN_ID".into(), target.id.clone()),
        (
            "MATTERMOST_PLUGIN_PATH".into(),
            target.dir.display().to_string(),
        ),
    ]
}

/// Starts `target`, pointing it at the Plugin API server at `api_target`.
pub async fn launch(
    target: &PluginTarget,
    api_target: &str,
    options: &LaunchOptions,
) -> Result<RunningPlugin, LaunchFailure> {
    let command = target.command_line(&options.extra_args, std::env::var_os("PATH").as_deref())?;
    let env = plugin_environment(target, api_target);
    let (mut process, first_line) =
        PluginProcess::spawn(&command, &env).map_err(|source| LaunchFailure {
            error: LaunchError::Spawn {
                program: command.program.display().to_string(),
                source,
            },
            output_tail: Vec::new(),
        })?;
    match connect(&mut process, first_line, options).await {
        Ok(connected) => Ok(RunningPlugin {
            handshake: connected.handshake,
            hooks: HookClient::new(connected.channel.clone()),
            channel: connected.channel,
            implemented: connected.implemented,
            time_to_handshake: connected.time_to_handshake,
            process,
        }),
        Err(error) => {
            let error = match error {
                LaunchError::Handshake(HandshakeError::Malformed { line, reason }) => {
                    handshake_after_output(&mut process, line, reason, options.start_timeout).await
                }
                error => error,
            };
            // Kill first: a diagnosis must never leave the plugin behind.
            process.terminate(Duration::ZERO).await;
            process.settle_output().await;
            Err(LaunchFailure {
                error,
                output_tail: process.output().tail(None, 20),
            })
        }
    }
}

/// A first stdout line that is no handshake is often a log line printed
/// before it: gives the plugin a moment to write the real handshake, and
/// names both if it does. The wait ends early if the plugin exits.
async fn handshake_after_output(
    process: &mut PluginProcess,
    line: String,
    reason: String,
    start_timeout: Duration,
) -> LaunchError {
    let deadline = tokio::time::Instant::now() + start_timeout.min(Duration::from_secs(1));
    loop {
        let later = process.output().tail(Some(Stream::Stdout), usize::MAX);
        if let Some(handshake) = later
            .into_iter()
            .find(|captured| handshake::parse(&captured.text).is_ok())
        {
            return LaunchError::OutputBeforeHandshake {
                first: line,
                handshake: handshake.text,
            };
        }
        if tokio::time::Instant::now() >= deadline || process.try_exit().is_some() {
            return HandshakeError::Malformed { line, reason }.into();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Connected {
    handshake: Handshake,
    time_to_handshake: Duration,
    channel: Channel,
    implemented: Vec<String>,
}

/// Handshake, connection, health, `Implemented()`: the server's start sequence.
async fn connect(
    process: &mut PluginProcess,
    first_line: tokio::sync::oneshot::Receiver<FirstLine>,
    options: &LaunchOptions,
) -> Result<Connected, LaunchError> {
    let handshake = wait_for_handshake(process, first_line, options.start_timeout).await?;
    let time_to_handshake = process.spawned_at().elapsed();
    let channel = match open_channel(&handshake.address).await {
        Ok(channel) => channel,
        Err(error) => return Err(exited_or(process, "connecting", error).await),
    };
    match check_health(channel.clone(), options.call_timeout).await {
        Ok(ServingStatus::Serving) => {}
        Ok(status) => return Err(LaunchError::NotServing(status)),
        Err(status) => {
            let error = LaunchError::HealthCall(status);
            return Err(exited_or(process, "checking its health", error).await);
        }
    }
    let implemented = match HookClient::new(channel.clone())
        .implemented(options.call_timeout)
        .await
    {
        Ok(implemented) => implemented,
        Err(status) => {
            let error = LaunchError::Implemented(status);
            return Err(exited_or(process, "calling Implemented()", error).await);
        }
    };
    Ok(Connected {
        handshake,
        time_to_handshake,
        channel,
        implemented,
    })
}

/// A failed call after the handshake is, more often than not, a plugin
/// that exited: say that rather than the transport error it caused. The
/// process may need a moment to be reaped after its sockets closed.
async fn exited_or(
    process: &mut PluginProcess,
    stage: &'static str,
    error: LaunchError,
) -> LaunchError {
    match process.exited_within(Duration::from_millis(300)).await {
        Some(status) => LaunchError::ExitedAfterHandshake {
            status,
            stage,
            error: match &error {
                LaunchError::HealthCall(status) | LaunchError::Implemented(status) => {
                    status_text(status)
                }
                LaunchError::Connect { message, .. } => message.clone(),
                other => other.to_string(),
            },
        },
        None => error,
    }
}

async fn wait_for_handshake(
    process: &mut PluginProcess,
    first_line: tokio::sync::oneshot::Receiver<FirstLine>,
    timeout: Duration,
) -> Result<Handshake, LaunchError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let first = tokio::select! {
        first = first_line => first.unwrap_or(FirstLine::Eof),
        _ = tokio::time::sleep_until(deadline) => {
            return Err(LaunchError::StartTimeout { timeout, stdout: None });
        }
    };
    match first {
        FirstLine::Line(line) => Ok(handshake::parse(&line)?),
        // Stdout closed: either the plugin exited, or it closed stdout and
        // lives on; wait out the start timeout to tell which.
        FirstLine::Unterminated(text) => {
            Err(exited_or_timed_out(process, deadline, timeout, Some(text)).await)
        }
        FirstLine::Eof => Err(exited_or_timed_out(process, deadline, timeout, None).await),
    }
}

async fn exited_or_timed_out(
    process: &mut PluginProcess,
    deadline: tokio::time::Instant,
    timeout: Duration,
    stdout: Option<String>,
) -> LaunchError {
    match tokio::time::timeout_at(deadline, process.wait()).await {
        Ok(status) => LaunchError::ExitedBeforeHandshake { status, stdout },
        Err(_) => LaunchError::StartTimeout { timeout, stdout },
    }
}

async fn open_channel(address: &PluginAddress) -> Result<Channel, LaunchError> {
    let failed = |message: String| LaunchError::Connect {
        address: address.to_string(),
        message,
    };
    let connect_timeout = Duration::from_secs(5);
    match address {
        PluginAddress::Tcp(addr) => Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|err| failed(err.to_string()))?
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|err| failed(error_chain(&err))),
        PluginAddress::Unix(path) => {
            let path = path.clone();
            // The URI is required by the API but unused: the connector dials the socket.
            Endpoint::from_static("http://plugin.invalid")
                .connect_timeout(connect_timeout)
                .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                    let path = path.clone();
                    async move {
                        let stream = tokio::net::UnixStream::connect(path).await?;
                        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                    }
                }))
                .await
                .map_err(|err| failed(error_chain(&err)))
        }
    }
}

async fn check_health(
    channel: Channel,
    deadline: Duration,
) -> Result<ServingStatus, tonic::Status> {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: "plugin".to_owned(),
    });
    request.set_timeout(deadline);
    let response = tokio::time::timeout(deadline, HealthClient::new(channel).check(request))
        .await
        .map_err(|_| tonic::Status::deadline_exceeded("no answer within the deadline"))??;
    Ok(ServingStatus::try_from(response.into_inner().status).unwrap_or(ServingStatus::Unknown))
}

/// An error and its sources on one line: transport errors hide the useful
/// part ("connection refused") in their source chain.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
