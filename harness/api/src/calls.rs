//! The record of every Plugin API call a plugin made: method, request,
//! what it got back, when, and how long the server took. Checks assert on
//! it; the transcript interleaves it with hook calls.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct ApiCall {
    /// 0-based position in the run's sequence of API calls.
    pub seq: usize,
    pub method: String,
    /// Time since the run's epoch when the call arrived.
    #[serde(serialize_with = "wire::serialize_duration")]
    pub at: Duration,
    /// Server-side service time.
    #[serde(serialize_with = "wire::serialize_duration")]
    pub duration: Duration,
    pub request: Value,
    pub outcome: ApiOutcome,
    /// A suite stub answered (or delayed) this call.
    pub stubbed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiOutcome {
    /// A response message (which may embed an `AppError`).
    Response { response: Value },
    /// A gRPC status error.
    Status { code: String, message: String },
    /// The harness does not model this RPC and no stub answered it.
    NotModelled,
}

/// Shared, append-only call log.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<ApiCall>>>,
}

impl CallLog {
    pub(crate) fn push(&self, mut call: ApiCall) {
        let mut calls = self.calls.lock().expect("call log lock");
        call.seq = calls.len();
        calls.push(call);
    }

    pub fn len(&self) -> usize {
        self.calls.lock().expect("call log lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls from position `start` on.
    pub fn since(&self, start: usize) -> Vec<ApiCall> {
        let calls = self.calls.lock().expect("call log lock");
        calls
            .get(start..)
            .map(<[ApiCall]>::to_vec)
            .unwrap_or_default()
    }
}
