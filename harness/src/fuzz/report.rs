//! What a fuzz run reports: its requests, counters and findings, as they
//! come ([`FuzzProgress`]) and at the end ([`FuzzReport`]).

use std::{
    collections::BTreeMap,
    hash::{Hash, Hasher},
    path::PathBuf,
    time::Duration,
};

use bytes::Bytes;

use super::{
    properties::{Failure, FailureKind},
    strategies::{HttpCase, Profile},
};
use crate::launch::{CapturedLine, RunningPlugin};

/// How a request is sent and judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Unary,
    Raw,
    Http,
}

/// One generated request.
#[derive(Debug, Clone)]
pub enum Request {
    /// An encoded unary hook request (well formed, or damaged in raw mode).
    Encoded(Bytes),
    Http(Box<HttpCase>),
}

impl Request {
    /// The fields of a well-formed unary request that a Mattermost server
    /// would never have filled.
    pub fn beyond_server(&self, hook: &str) -> Vec<String> {
        let Request::Encoded(bytes) = self else {
            return Vec::new();
        };
        crate::wire::message_descriptor(&format!("{hook}Request"))
            .and_then(|descriptor| {
                prost_reflect::DynamicMessage::decode(descriptor, bytes.clone()).ok()
            })
            .map(|message| crate::hooks::beyond_server(&message))
            .unwrap_or_default()
    }

    /// Identifies a request, so shrinking runs none twice.
    pub(super) fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        match self {
            Request::Encoded(bytes) => bytes.hash(&mut hasher),
            Request::Http(case) => {
                case.method.hash(&mut hasher);
                case.url.hash(&mut hasher);
                for header in &case.headers {
                    header.name.hash(&mut hasher);
                    header.values.hash(&mut hasher);
                }
                case.body.hash(&mut hasher);
                case.pieces.hash(&mut hasher);
                format!("{:?}", case.plugin_context).hash(&mut hasher);
            }
        }
        hasher.finish()
    }

    /// Its size in bytes, as sent.
    pub fn size(&self) -> usize {
        match self {
            Request::Encoded(bytes) => bytes.len(),
            Request::Http(case) => {
                case.method.len()
                    + case.url.len()
                    + case
                        .headers
                        .iter()
                        .map(|h| h.name.len() + h.values.iter().map(String::len).sum::<usize>())
                        .sum::<usize>()
                    + case.body.len()
            }
        }
    }
}

/// Counters, as the run goes.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub cases: u64,
    /// Cases that failed, the repeats of a known failure included.
    pub failing_cases: u64,
    /// Distinct failures (hook and reason).
    pub findings: usize,
    pub crashes: u64,
    /// Launches after the first one.
    pub restarts: u64,
    pub elapsed: Duration,
    /// Time spent shrinking, not counted in the case rate.
    pub shrinking: Duration,
    pub per_hook: BTreeMap<String, u64>,
    /// What is happening now, for a progress line (`shrinking MessageWillBePosted`).
    pub activity: Option<String>,
}

impl Stats {
    /// Cases per second of searching (shrinking left out).
    pub fn cases_per_second(&self) -> f64 {
        let searching = self.elapsed.saturating_sub(self.shrinking).as_secs_f64();
        if searching > 0.0 {
            self.cases as f64 / searching
        } else {
            0.0
        }
    }
}

/// A distinct failure: where it was found, and its shrunk case.
#[derive(Debug, Clone)]
pub struct Finding {
    pub hook: String,
    pub mode: Mode,
    /// Index of the case that first failed this way (0-based).
    pub case: u64,
    /// How many cases failed this way.
    pub occurrences: u64,
    /// Other hooks that failed the same way (statuses only).
    pub also_in: Vec<String>,
    /// The failure of the first case, before shrinking.
    pub first_failure: Failure,
    /// The failure of the shrunk case.
    pub failure: Failure,
    pub original_size: usize,
    pub request: Request,
    /// The shrunk request, readable: JSON in the suite format, an HTTP
    /// request line, or hex for raw bytes.
    pub request_text: String,
    pub shrink_runs: usize,
    pub shrink_steps: usize,
    pub shrink_time: Duration,
    /// Shrinking reached a minimum (not a budget or Ctrl-C).
    pub shrink_complete: bool,
    pub saved: Option<PathBuf>,
    /// What the saved case's replay cannot show.
    pub saved_note: Option<String>,
    pub save_error: Option<String>,
    /// Fields of the request the server's hook path never fills (only the
    /// edge profile sets them): the failure is beyond what a server sends.
    pub beyond_server: Vec<String>,
    /// How size-first shrinking cut the request's largest field, if it did.
    pub size_cut: Option<String>,
    /// What the plugin wrote last, when the failure happened.
    pub output_tail: Vec<CapturedLine>,
}

impl Finding {
    pub fn kind(&self) -> &FailureKind {
        &self.failure.kind
    }
}

#[derive(Debug, Clone, Default)]
pub struct FuzzReport {
    pub seed: u64,
    pub profile: Profile,
    pub raw: bool,
    /// The hooks fuzzed, in order.
    pub hooks: Vec<String>,
    /// Hooks asked for that the plugin does not implement (not called, as upstream would not).
    pub not_implemented: Vec<String>,
    /// Hooks the spec has rules for that were not fuzzed.
    pub spec_unused: Vec<String>,
    pub stats: Stats,
    pub findings: Vec<Finding>,
    /// The plugin could not be started, or restarted, or activated.
    pub launch_failure: Option<String>,
    /// Bad input found once the plugin's hooks were known.
    pub input_error: Option<String>,
    pub interrupted: bool,
}

/// Told about the run as it goes.
pub trait FuzzProgress {
    fn started(&mut self, _plugin: &RunningPlugin, _hooks: &[String]) {}
    fn tick(&mut self, _stats: &Stats) {}
    /// A new failure, before it is shrunk.
    fn found(&mut self, _hook: &str, _failure: &Failure) {}
    /// A new failure, shrunk and saved.
    fn finding(&mut self, _finding: &Finding) {}
}

#[cfg(test)]
mod tests {
    use mm_plugin_proto::pb;
    use prost::Message;

    use super::*;

    #[test]
    fn an_edge_request_says_which_fields_the_server_never_sends() {
        let channel = pb::Channel {
            id: "c".into(),
            r#type: pb::ChannelType::Private as i32,
            ..Default::default()
        };
        let request = Request::Encoded(
            pb::ChannelHasBeenCreatedRequest {
                channel: Some(channel),
                ..Default::default()
            }
            .encode_to_vec()
            .into(),
        );
        assert_eq!(
            request.beyond_server("ChannelHasBeenCreated"),
            ["channel.type"]
        );
        let plain = Request::Encoded(
            pb::ChannelHasBeenCreatedRequest::default()
                .encode_to_vec()
                .into(),
        );
        assert!(plain.beyond_server("ChannelHasBeenCreated").is_empty());
    }
}
