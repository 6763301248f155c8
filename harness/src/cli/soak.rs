//! `harness soak`: relaunch and call, bounded, watching the harness's resources.

use harness::{
    report,
    soak::{self, GrowthBounds, SoakOptions},
};

use super::{PluginArgs, exit};

#[derive(clap::Args)]
pub struct SoakArgs {
    #[command(flatten)]
    plugin: PluginArgs,
    /// How many times to launch the plugin.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    relaunches: u64,
    /// Hook calls per launch (built-in suites' payloads, round robin over the implemented hooks).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    calls: u64,
    /// Allowed growth of open file descriptors, first launch to last.
    #[arg(long, default_value_t = GrowthBounds::default().fds)]
    max_fd_growth: i64,
    /// Allowed growth of threads, first launch to last.
    #[arg(long, default_value_t = GrowthBounds::default().threads)]
    max_thread_growth: i64,
    /// Allowed growth of resident memory in KiB, first launch to last.
    #[arg(long, default_value_t = GrowthBounds::default().rss_kib)]
    max_rss_growth_kib: i64,
    /// Also write the samples as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,
}

pub async fn soak_command(args: SoakArgs) -> u8 {
    let target = match args.plugin.target() {
        Ok(target) => target,
        Err(err) => {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    };
    let options = SoakOptions {
        launch: args.plugin.launch_options(),
        relaunches: args.relaunches as usize,
        calls: args.calls as usize,
        deadline: args.plugin.timeout,
        grace: args.plugin.grace,
        bounds: GrowthBounds {
            fds: args.max_fd_growth,
            threads: args.max_thread_growth,
            rss_kib: args.max_rss_growth_kib,
        },
    };
    // A closed stdout must not stop the soak.
    let mut stdout = std::io::stdout();
    let _ = report::soak_header(&mut stdout);
    let soaked = soak::soak(&target, &options, |sample| {
        let _ = report::soak_sample(&mut stdout, sample);
    })
    .await;
    let _ = report::soak_summary(&mut std::io::stdout(), &soaked);
    if let Some(path) = &args.json {
        let written = serde_json::to_vec_pretty(&soaked)
            .map_err(anyhow::Error::from)
            .and_then(|json| {
                std::fs::write(path, json)
                    .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))
            });
        if let Err(err) = written {
            eprintln!("error: {err:#}");
            return exit::BAD_INPUT;
        }
    }
    if soaked.passed() {
        exit::PASSED
    } else {
        exit::FAILED
    }
}
