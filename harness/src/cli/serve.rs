//! `harness serve --control stdio`: a live plugin driven by another
//! program over JSON lines on stdin and stdout (see `harness::control`).

use harness::{
    control::{self, ControlConfig},
    engine::StepOptions,
};
use tokio::io::BufReader;
use tokio_util::sync::CancellationToken;

use super::{PluginArgs, cancel_on_interrupt, exit};

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 after `shutdown` or the end of stdin, 2 bad input or a broken \
    stdin/stdout. The plugin failing to start is reported in the hello line, not by the exit code."
)]
pub struct ServeArgs {
    #[command(flatten)]
    plugin: PluginArgs,
    /// How the plugin is driven: `stdio` is the JSON-lines protocol on stdin and stdout.
    #[arg(long, value_enum, value_name = "CHANNEL")]
    control: ControlChannel,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum ControlChannel {
    Stdio,
}

pub async fn serve_command(args: ServeArgs) -> u8 {
    let target = match args.plugin.target() {
        Ok(target) => target,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    let config = ControlConfig {
        target,
        launch: args.plugin.launch_options(),
        steps: StepOptions {
            deadline: args.plugin.timeout,
            grace: args.plugin.grace,
            ..StepOptions::default()
        },
    };
    let cancel = CancellationToken::new();
    cancel_on_interrupt(cancel.clone());
    let ControlChannel::Stdio = args.control;
    let input = BufReader::new(tokio::io::stdin());
    match control::serve(&config, input, tokio::io::stdout(), cancel).await {
        Ok(()) => exit::PASSED,
        Err(err) => {
            eprintln!("error: the control channel broke: {err}");
            exit::BAD_INPUT
        }
    }
}
