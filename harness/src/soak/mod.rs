//! Soak: launch, call, shut down, again and again, watching the harness's
//! own file descriptors, threads and memory. A harness that leaks a little
//! per plugin launch is fine for one run and fatal for a nightly job that
//! launches thousands; this is how that is caught.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;

use crate::{
    launch::{LaunchOptions, PluginTarget},
    session::Session,
    suite,
    wire::serialize_duration,
};

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub launch: LaunchOptions,
    pub relaunches: usize,
    /// Hook calls per launch.
    pub calls: usize,
    pub deadline: Duration,
    pub grace: Duration,
    /// Allowed growth, from the first sample to the last.
    pub bounds: GrowthBounds,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct GrowthBounds {
    pub fds: i64,
    pub threads: i64,
    pub rss_kib: i64,
}

impl Default for GrowthBounds {
    fn default() -> Self {
        // The first launch warms every pool and cache up, so growth after it
        // should be noise: a few descriptors of connections still closing, a
        // runtime thread parked, allocator slack.
        GrowthBounds {
            fds: 8,
            threads: 4,
            rss_kib: 16 * 1024,
        }
    }
}

/// The harness's own resources after one launch.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub launch: usize,
    #[serde(serialize_with = "serialize_duration")]
    pub at: Duration,
    pub fds: i64,
    pub threads: i64,
    pub rss_kib: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub samples: Vec<Sample>,
    pub calls: usize,
    pub failed_calls: usize,
    pub failed_launches: Vec<String>,
    pub bounds: GrowthBounds,
    /// Each resource that grew beyond its bound, with the growth.
    pub over_bounds: Vec<String>,
}

impl SoakReport {
    pub fn passed(&self) -> bool {
        self.over_bounds.is_empty() && self.failed_launches.is_empty() && self.failed_calls == 0
    }
}

/// Relaunches `target` `options.relaunches` times, making `options.calls`
/// hook calls each time with the built-in suites' payloads, and samples the
/// harness's resources after every launch. `each` sees every sample.
pub async fn soak(
    target: &PluginTarget,
    options: &SoakOptions,
    mut each: impl FnMut(&Sample),
) -> SoakReport {
    let payloads = builtin_payloads();
    let started = Instant::now();
    let mut report = SoakReport {
        samples: Vec::new(),
        calls: 0,
        failed_calls: 0,
        failed_launches: Vec::new(),
        bounds: options.bounds,
        over_bounds: Vec::new(),
    };
    for launch_index in 0..options.relaunches {
        if let Err(message) = one_launch(target, options, &payloads, &mut report).await {
            report
                .failed_launches
                .push(format!("launch {launch_index}: {message}"));
        }
        let sample = sample(launch_index, started.elapsed());
        each(&sample);
        report.samples.push(sample);
    }
    if let (Some(first), Some(last)) = (report.samples.first(), report.samples.last()) {
        let bounds = options.bounds;
        for (name, growth, bound) in [
            ("file descriptors", last.fds - first.fds, bounds.fds),
            ("threads", last.threads - first.threads, bounds.threads),
            (
                "resident memory (KiB)",
                last.rss_kib - first.rss_kib,
                bounds.rss_kib,
            ),
        ] {
            if growth > bound {
                report.over_bounds.push(format!(
                    "{name} grew by {growth}, more than the bound of {bound}"
                ));
            }
        }
    }
    report
}

async fn one_launch(
    target: &PluginTarget,
    options: &SoakOptions,
    payloads: &[(String, Bytes)],
    report: &mut SoakReport,
) -> Result<(), String> {
    let session = Session::start(target, None, &options.launch)
        .await
        .map_err(|err| err.to_string())?;
    // As the server does: activated before any hook, deactivated before the stop.
    if let Err(failure) = session.activate(options.deadline).await {
        session.stop(Duration::ZERO).await;
        return Err(format!("OnActivate failed: {failure}"));
    }
    let plugin = &session.plugin;
    let callable: Vec<&(String, Bytes)> = payloads
        .iter()
        .filter(|(hook, _)| plugin.implements(hook))
        .collect();
    for index in 0..options.calls {
        let answer = match callable.get(index % callable.len().max(1)) {
            Some((hook, request)) => plugin
                .hooks
                .call(hook, request.clone(), options.deadline)
                .await
                .map(drop),
            // A plugin with no hook but the lifecycle ones: ping it.
            None => plugin.health(options.deadline).await.map(drop),
        };
        report.calls += 1;
        if answer.is_err() {
            report.failed_calls += 1;
        }
    }
    // A failed OnDeactivate changes nothing here, as on the server.
    let _ = session.deactivate(options.deadline).await;
    session.stop(options.grace).await;
    Ok(())
}

/// Every hook request of the built-in suites, except the lifecycle's.
fn builtin_payloads() -> Vec<(String, Bytes)> {
    let suites = suite::builtin();
    suite::hook_requests(suites.iter().filter(|suite| suite.name != "lifecycle"))
}

/// The harness's own file descriptors, threads and resident memory, from
/// /proc (0 where unavailable).
fn sample(launch: usize, at: Duration) -> Sample {
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as i64);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    Sample {
        launch,
        at,
        fds,
        threads: field("Threads:"),
        rss_kib: field("VmRSS:"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payloads_cover_every_non_lifecycle_unary_hook() {
        let payloads = builtin_payloads();
        assert!(payloads.len() >= 38, "{}", payloads.len());
        assert!(payloads.iter().all(|(hook, _)| hook != "OnActivate"));
    }

    #[test]
    fn samples_read_this_process() {
        let sample = sample(0, Duration::ZERO);
        assert!(sample.fds >= 3, "{sample:?}");
        assert!(sample.threads >= 1, "{sample:?}");
        assert!(sample.rss_kib > 0, "{sample:?}");
    }
}
