//! The sending half of a call: the request as messages, pushed into the
//! call's outbound stream while the response is being read, as upstream's
//! sender goroutine does.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use mm_plugin_proto::pb;
use tokio::sync::mpsc;

use super::body::Chunker;

/// What the transport has taken of the request, shared with the receiver
/// (which asks whether the request was complete when the answer came).
#[derive(Debug)]
pub(super) struct Progress {
    started: Instant,
    messages: AtomicUsize,
    body_bytes: AtomicU64,
    complete_at: OnceLock<Duration>,
}

impl Progress {
    pub(super) fn new(started: Instant) -> Arc<Progress> {
        Arc::new(Progress {
            started,
            messages: AtomicUsize::new(0),
            body_bytes: AtomicU64::new(0),
            complete_at: OnceLock::new(),
        })
    }

    /// Called as the transport takes each message off the outbound stream.
    pub(super) fn taken(&self, message: &pb::ServeHttpRequest) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.body_bytes
            .fetch_add(message.body_chunk.len() as u64, Ordering::Relaxed);
        if message.body_complete {
            let _ = self.complete_at.set(self.started.elapsed());
        }
    }

    pub(super) fn messages(&self) -> usize {
        self.messages.load(Ordering::Relaxed)
    }

    pub(super) fn body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }

    /// When the message with `body_complete` was taken.
    pub(super) fn complete_at(&self) -> Option<Duration> {
        self.complete_at.get().copied()
    }
}

/// How the sender stopped.
#[derive(Debug)]
pub(super) enum SendEnd {
    /// The message with `body_complete` went out.
    Complete,
    /// The outbound stream is gone: the call ended first.
    StreamClosed,
    /// Reading the body failed. Like Go's sender, it stops there and the
    /// request stream just ends (upstream's deferred `CloseSend`).
    SourceFailed(String),
    /// `cancel_after` was reached after this many body bytes. The sending
    /// half comes back so the caller decides how the stream dies.
    Cancelled(mpsc::Sender<pb::ServeHttpRequest>, u64),
}

/// Sends `init` with the first chunk, then the rest; the last message has
/// `body_complete`.
pub(super) async fn send(
    tx: mpsc::Sender<pb::ServeHttpRequest>,
    init: pb::ServeHttpRequestInit,
    mut chunks: Chunker,
    cancel_after: Option<u64>,
) -> SendEnd {
    let mut init = Some(init);
    let mut sent = 0u64;
    loop {
        let (chunk, last) = match chunks.next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return SendEnd::Complete,
            Err(reason) => return SendEnd::SourceFailed(reason),
        };
        sent += chunk.len() as u64;
        let message = pb::ServeHttpRequest {
            init: init.take(),
            body_chunk: chunk.into(),
            body_complete: last,
        };
        if tx.send(message).await.is_err() {
            return SendEnd::StreamClosed;
        }
        if last {
            return SendEnd::Complete;
        }
        if cancel_after.is_some_and(|limit| sent >= limit) {
            return SendEnd::Cancelled(tx, sent);
        }
    }
}
