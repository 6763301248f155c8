//! The `harness` command line: a thin layer over the library.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Plays the Mattermost server against a gRPC plugin: conformance suites, fuzzing and latency",
    after_help = "Exit codes: 0 all passed, 1 some case failed, 2 bad input or usage, 3 the plugin could not be started, 130 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Launch a plugin as the server does and run the built-in suites plus any given ones.
    Run(cli::run::RunArgs),
    /// Launch, call and shut a plugin down repeatedly; fail if the harness's own resources grow.
    Soak(cli::soak::SoakArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(cli::exit::BAD_INPUT);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => cli::run::run_command(args).await,
            Command::Soak(args) => cli::soak::soak_command(args).await,
        }
    });
    ExitCode::from(code)
}
