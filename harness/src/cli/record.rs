//! `harness record`: stand in for a plugin, record its traffic as a suite.

use std::{ffi::OsString, path::PathBuf, time::Duration};

use harness::{
    launch::LaunchOptions,
    record::{self, Ending, RecordError, RecordOptions, ServerEnvironment, SuiteNaming},
};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::exit;

#[derive(clap::Args)]
pub struct RecordArgs {
    /// Directory the recorded suite is written to (NAME.json; NAME-2.json when taken); with --install, the bundle to write.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write a copy of this plugin bundle to --out whose entry point runs the recorder around the original one, to install on a Mattermost server in the plugin's place.
    #[arg(long, value_name = "PLUGIN_DIR", conflicts_with = "command")]
    install: Option<PathBuf>,
    /// With --install: where the installed recorder writes its suites (a relative path is taken from the plugin's directory on the server).
    #[arg(
        long,
        value_name = "DIR",
        requires = "install",
        default_value = "recordings"
    )]
    record_to: PathBuf,
    /// With --install: the harness executable the installed bundle runs (when it does not exist there, `harness` on PATH) [default: this one].
    #[arg(long, value_name = "PATH", requires = "install")]
    harness: Option<PathBuf>,
    /// File and suite name (default: the plugin id).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Time allowed from spawn to the plugin's handshake line.
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = humantime::parse_duration)]
    start_timeout: Duration,
    /// Time the plugin gets to exit after SIGTERM before it is killed.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = humantime::parse_duration)]
    grace: Duration,
    /// The plugin: a plugin directory or manifest, or a command and its arguments.
    #[arg(
        last = true,
        required_unless_present = "install",
        value_name = "PLUGIN|COMMAND"
    )]
    command: Vec<OsString>,
}

pub async fn record_command(args: RecordArgs) -> u8 {
    if let Some(plugin) = &args.install {
        return install_command(plugin, &args);
    }
    let env = match ServerEnvironment::read(|key| std::env::var(key).ok()) {
        Ok(env) => env,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
    };
    let (target, extra_args) = match record::resolve_target(&args.command, &env) {
        Ok(resolved) => resolved,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
    };
    let options = RecordOptions {
        launch: LaunchOptions {
            start_timeout: args.start_timeout,
            extra_args,
            ..LaunchOptions::default()
        },
        grace: args.grace,
        out: args.out.clone(),
        naming: SuiteNaming { name: args.name },
    };
    // SIGTERM is how a server stops a plugin: a clean end. Ctrl-C is not.
    let stop = CancellationToken::new();
    let interrupted = CancellationToken::new();
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            let (stop, interrupted) = (stop.clone(), interrupted.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => interrupted.cancel(),
                }
                stop.cancel();
            });
        }
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("error: cannot catch signals: {err}");
            return exit::BAD_INPUT;
        }
    }
    let mut stdout = std::io::stdout();
    let recorded = match record::record(&target, &env, &options, stop, &mut stdout).await {
        Ok(recorded) => recorded,
        Err(RecordError::Launch(failure)) => {
            eprintln!("error: the plugin could not be started: {}", failure.error);
            for line in &failure.output_tail {
                eprintln!("  {}", line.text);
            }
            return exit::NOT_STARTED;
        }
        Err(err @ RecordError::Out(_)) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return exit::NOT_STARTED;
        }
    };
    match &recorded.written {
        Ok(written) => eprintln!(
            "recorded {} cases ({} Plugin API calls) to {}",
            written.cases,
            written.api_calls,
            written.path.display()
        ),
        Err(err) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
    }
    if let Ending::PluginDied(status) = &recorded.ending {
        eprintln!(
            "the plugin died during the recording ({status}); the suite holds the traffic up to then"
        );
        return exit::FAILED;
    }
    if interrupted.is_cancelled() {
        return exit::INTERRUPTED;
    }
    exit::PASSED
}

fn install_command(plugin: &std::path::Path, args: &RecordArgs) -> u8 {
    let harness = match args.harness.clone().map_or_else(std::env::current_exe, Ok) {
        Ok(harness) => harness,
        Err(err) => {
            eprintln!("error: cannot tell where this harness is (give --harness): {err}");
            return exit::BAD_INPUT;
        }
    };
    let options = record::install::InstallOptions {
        plugin: plugin.to_owned(),
        bundle: args.out.clone(),
        record_to: args.record_to.clone(),
        harness,
        name: args.name.clone(),
    };
    match record::install::install(&options) {
        Ok(installed) => {
            eprintln!(
                "wrote {} ({} plugin {}): {} runs `harness record` around {}; recordings go to {}",
                args.out.display(),
                installed.runtime.name(),
                installed.id,
                installed.entry.display(),
                installed.original.display(),
                args.record_to.display(),
            );
            exit::PASSED
        }
        Err(err) => {
            eprintln!("error: {err}");
            exit::BAD_INPUT
        }
    }
}
