//! The subcommands. Each file parses its own flags and calls the library;
//! what several share (naming and launching a plugin, Ctrl-C) lives here.

pub mod bench;
pub mod config;
pub mod fuzz;
pub mod gate;
pub mod http;
pub mod proto;
pub mod record;
pub mod report;
pub mod run;
pub mod serve;
pub mod soak;

use std::{ffi::OsString, path::PathBuf, time::Duration};

use harness::launch::{LaunchOptions, PluginTarget};
use tokio::signal::unix::SignalKind;
use tokio_util::sync::CancellationToken;

/// Exit codes, as documented in the README; a run report carries its own.
pub use harness::run::exit;

/// The defaults of `--timeout`, `--start-timeout` and `--grace`, for
/// settings that come from `harness.toml` or the gate rather than flags.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The plugin to launch and how: shared by every subcommand that starts one.
#[derive(clap::Args, Debug, Clone)]
pub struct PluginArgs {
    /// The plugin: a directory with plugin.json or plugin.yaml, a manifest file, or an executable.
    pub plugin: PathBuf,
    /// Deadline of each hook call (upstream: 30s).
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Time allowed from spawn to the handshake line (upstream: 10s for Python plugins).
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = humantime::parse_duration)]
    pub start_timeout: Duration,
    /// Time the plugin gets to exit after SIGTERM before it is killed.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = humantime::parse_duration)]
    pub grace: Duration,
    /// Arguments passed on to the plugin executable.
    #[arg(last = true, value_name = "PLUGIN_ARGS")]
    pub plugin_args: Vec<OsString>,
}

impl PluginArgs {
    pub fn target(&self) -> anyhow::Result<PluginTarget> {
        Ok(PluginTarget::resolve(&self.plugin)?)
    }

    pub fn launch_options(&self) -> LaunchOptions {
        LaunchOptions {
            start_timeout: self.start_timeout,
            call_timeout: self.timeout,
            extra_args: self.plugin_args.clone(),
        }
    }
}

/// On Ctrl-C or SIGTERM, cancels `cancel`, so the work in progress stops
/// the plugin and returns what it has. The handlers are installed before
/// this returns, so a signal sent once anything later was printed is caught
/// rather than ending the harness with a plugin left behind.
pub fn cancel_on_interrupt(cancel: CancellationToken) {
    let signals = tokio::signal::unix::signal(SignalKind::interrupt()).and_then(|interrupt| {
        Ok((
            interrupt,
            tokio::signal::unix::signal(SignalKind::terminate())?,
        ))
    });
    let Ok((mut interrupt, mut terminate)) = signals else {
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("\ninterrupted: stopping the plugin and writing the results so far");
        cancel.cancel();
    });
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Only {
        #[command(flatten)]
        plugin: super::PluginArgs,
    }

    #[test]
    fn the_flag_defaults_are_the_constants() {
        let parsed = Only::parse_from(["harness", "plugin"]);
        assert_eq!(parsed.plugin.timeout, super::DEFAULT_TIMEOUT);
        assert_eq!(parsed.plugin.start_timeout, super::DEFAULT_START_TIMEOUT);
        assert_eq!(parsed.plugin.grace, super::DEFAULT_GRACE);
    }
}
