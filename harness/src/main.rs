//! The `harness` command line: a thin layer over the library.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

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
    /// Serve a plugin's ServeHTTP over real HTTP at /plugins/{id}/ on a loopback address, until Ctrl-C.
    Http(cli::http::HttpArgs),
    /// Launch, call and shut a plugin down repeatedly; fail if the harness's own resources grow.
    Soak(cli::soak::SoakArgs),
    /// Fuzz a plugin's hooks with generated requests; shrink each failure and save it as a replayable suite.
    Fuzz(cli::fuzz::FuzzArgs),
    /// Measure hook and Plugin API latency in HDR histograms, against a budget, a baseline and the harness's floor.
    Bench(cli::bench::BenchArgs),
    /// Drive a live plugin from another program: `--control stdio` speaks JSON lines on stdin/stdout.
    Serve(cli::serve::ServeArgs),
    /// Stand in for a plugin a server launches, start the real one behind it, and record the traffic as a replayable suite.
    Record(cli::record::RecordArgs),
    /// Merge or compare bench reports (report.json files).
    Report(cli::report::ReportArgs),
    /// The SDK release gate, set in harness.toml: protocol drift, every plugin's suites, and the latency budget; one exit code.
    Gate(cli::gate::GateArgs),
    /// Protocol checks: `proto diff SOURCE` compares the harness's protocol with an SDK's.
    Proto(cli::proto::ProtoArgs),
    /// The echo side of bench's physical floor (a raw socket ping-pong); started by bench itself.
    #[command(name = "__socket-echo", hide = true)]
    SocketEcho(cli::bench::SocketEchoArgs),
}

fn main() -> ExitCode {
    // The matches say which flags were given, so they win over harness.toml.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    // Blocking std sockets only: no runtime may be part of the floor.
    if let Command::SocketEcho(args) = &cli.command {
        return ExitCode::from(cli::bench::socket_echo_command(args));
    }
    let subcommand_matches = matches
        .subcommand()
        .map(|(_, matches)| matches.clone())
        .unwrap_or_default();
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
            Command::Run(args) => cli::run::run_command(args, &subcommand_matches).await,
            Command::Http(args) => cli::http::http_command(args).await,
            Command::Soak(args) => cli::soak::soak_command(args).await,
            Command::Fuzz(args) => cli::fuzz::fuzz_command(args).await,
            Command::Bench(args) => cli::bench::bench_command(args).await,
            Command::Serve(args) => cli::serve::serve_command(args).await,
            Command::Record(args) => cli::record::record_command(args).await,
            Command::Report(args) => cli::report::report_command(args).await,
            Command::Gate(args) => cli::gate::gate_command(args).await,
            Command::Proto(args) => cli::proto::proto_command(args).await,
            Command::SocketEcho(_) => unreachable!("answered before the runtime started"),
        }
    });
    ExitCode::from(code)
}
