//! `harness http`: the plugin behind a real HTTP front door, as the server
//! puts it behind `/plugins/{id}`, until Ctrl-C or SIGTERM. With
//! `--record DIR`, every request and its answer go through `record`'s
//! ServeHTTP proxy and are written as a suite of `http` steps when the
//! door closes.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use harness::{
    front::{self, FrontDoor, FrontDoorConfig, RequestLog, RequestLogger},
    launch::{CapturedLine, PluginTarget, Stream, Termination},
    record::{Ending, HttpTap, SuiteNaming},
    session::{Session, SessionError},
    wire::format_duration,
};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::{PluginArgs, exit};

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 stopped by Ctrl-C or SIGTERM, 1 the plugin died while \
    serving (or the --record suite could not be written), 2 bad input, 3 the plugin could not be started or activated, 130 interrupted while \
    starting."
)]
pub struct HttpArgs {
    #[command(flatten)]
    plugin: PluginArgs,
    /// Loopback address to serve HTTP on; port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8065", value_parser = front::parse_listen)]
    listen: SocketAddr,
    /// Limit on each request (upstream has none: a request lasts as long as its client).
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    request_timeout: Option<Duration>,
    /// Record every request and its answer as a suite in DIR (NAME.json after the plugin id;
    /// NAME-2.json when taken), written when the front door stops.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
}

pub async fn http_command(args: HttpArgs) -> u8 {
    // First, so that no signal can end the harness with a plugin left behind.
    let mut stop = match StopSignals::new() {
        Ok(stop) => stop,
        Err(err) => {
            eprintln!("error: cannot watch for Ctrl-C and SIGTERM: {err}");
            return exit::BAD_INPUT;
        }
    };
    let target = match args.plugin.target() {
        Ok(target) => target,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    // A bad directory, like a taken port, is reported before a plugin is
    // started for nothing.
    let record_path = match &args.record {
        Some(dir) => match (SuiteNaming { name: None }).pick(dir, &target.id) {
            Ok(path) => Some(path),
            Err(err) => {
                eprintln!("error: --record {err}");
                return exit::BAD_INPUT;
            }
        },
        None => None,
    };
    let listener = match FrontDoor::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
    };
    let mut session = match start(&target, &args.plugin, &mut stop).await {
        Ok(session) => session,
        Err(code) => return code,
    };
    let plugin = &session.plugin;
    let config = FrontDoorConfig {
        plugin_id: target.id.clone(),
        serve_http: plugin.implements("ServeHTTP"),
        request_timeout: args.request_timeout,
    };
    if !config.serve_http {
        println!("        Note the plugin does not implement ServeHTTP: every request gets 404");
    }
    let log: RequestLogger = Arc::new(|line: &RequestLog| println!("{line}"));
    let tap = match &record_path {
        Some(_) => match HttpTap::start(plugin.channel.clone()).await {
            Ok(tap) => Some(tap),
            Err(err) => {
                eprintln!("error: cannot record: {err}");
                session.stop(args.plugin.grace).await;
                return exit::BAD_INPUT;
            }
        },
        None => None,
    };
    let channel = tap
        .as_ref()
        .map_or_else(|| plugin.channel.clone(), HttpTap::channel);
    let door = match FrontDoor::start(listener, channel, config, log) {
        Ok(door) => door,
        Err(err) => {
            eprintln!("error: cannot serve HTTP: {err}");
            session.stop(args.plugin.grace).await;
            return exit::BAD_INPUT;
        }
    };
    println!(
        "   Listening on http://{}/plugins/{}/ (Ctrl-C to stop)",
        door.addr(),
        target.id
    );

    let code = tokio::select! {
        name = stop.next() => {
            println!("    Stopping ({name})");
            door.stop().await;
            let written =
                write_recording(tap.as_ref(), &target, record_path.as_deref(), &Ending::Stopped);
            // The server logs a failed OnDeactivate and shuts down anyway.
            if let Err(failure) = session.deactivate(args.plugin.timeout).await {
                eprintln!("warning: OnDeactivate failed: {failure}");
            }
            if written { exit::PASSED } else { exit::FAILED }
        }
        status = session.plugin.process.wait() => {
            door.stop().await;
            let ending = Ending::PluginDied(status.to_string());
            write_recording(tap.as_ref(), &target, record_path.as_deref(), &ending);
            eprintln!("error: the plugin exited ({status}) while serving");
            session.plugin.process.settle_output().await;
            print_output_tail(&session.plugin.process.output().tail(None, 20));
            exit::FAILED
        }
    };
    let termination = session.stop(args.plugin.grace).await;
    println!("     Stopped {}", describe(&termination));
    code
}

/// Writes the requests recorded so far, if `--record` was given, and says
/// where. False when the suite could not be written (reported; the stop
/// goes on).
fn write_recording(
    tap: Option<&HttpTap>,
    target: &PluginTarget,
    path: Option<&Path>,
    ending: &Ending,
) -> bool {
    let (Some(tap), Some(path)) = (tap, path) else {
        return true;
    };
    match tap.write(target, path, ending) {
        Ok(written) => {
            println!(
                "    Recorded {} requests to {}",
                written.cases,
                written.path.display()
            );
            true
        }
        Err(err) => {
            eprintln!("error: {err}");
            false
        }
    }
}

/// Launches the plugin against a fresh Plugin API server and activates
/// it, as the server does before it routes any request to a plugin. A
/// failure is reported and becomes the exit code.
async fn start(
    target: &PluginTarget,
    args: &PluginArgs,
    stop: &mut StopSignals,
) -> Result<Session, u8> {
    let launch_options = args.launch_options();
    let started = tokio::select! {
        started = Session::start(target, None, &launch_options) => started,
        // Dropping the start kills whatever it launched.
        name = stop.next() => {
            eprintln!("{name} while starting: plugin stopped");
            return Err(exit::INTERRUPTED);
        }
    };
    let session = match started {
        Ok(session) => session,
        Err(SessionError::Launch(failure)) => {
            eprintln!("error: the plugin could not be started: {}", failure.error);
            print_output_tail(&failure.output_tail);
            return Err(exit::NOT_STARTED);
        }
        Err(err) => {
            eprintln!("error: {err}");
            return Err(exit::NOT_STARTED);
        }
    };
    let plugin = &session.plugin;
    println!("      Plugin {} in {}", target.id, target.dir.display());
    println!(
        "    Launched pid {} in {}: {}",
        plugin.process.pid(),
        format_duration(plugin.time_to_handshake),
        plugin.handshake.line
    );
    let activated = tokio::select! {
        activated = session.activate(args.timeout) => activated,
        name = stop.next() => {
            eprintln!("{name} while activating: plugin stopped");
            session.stop(Duration::ZERO).await;
            return Err(exit::INTERRUPTED);
        }
    };
    if let Err(reason) = activated {
        eprintln!("error: OnActivate failed, so the server would not serve this plugin: {reason}");
        print_output_tail(&plugin.process.output().tail(None, 20));
        session.stop(args.grace).await;
        return Err(exit::NOT_STARTED);
    }
    Ok(session)
}

fn describe(termination: &Termination) -> String {
    match termination {
        Termination::Exited { status, after } => {
            format!(
                "the plugin exited ({status}) {} after SIGTERM",
                format_duration(*after)
            )
        }
        Termination::Killed { grace } => format!(
            "the plugin outlived its {} grace period and was killed",
            format_duration(*grace)
        ),
    }
}

fn print_output_tail(lines: &[CapturedLine]) {
    for line in lines {
        let stream = match line.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        eprintln!("      {stream} | {}", line.text);
    }
}

/// Ctrl-C and SIGTERM, the two ways to stop the command.
struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    fn new() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "interrupted",
            _ = self.terminate.recv() => "terminated",
        }
    }
}
