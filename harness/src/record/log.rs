//! What a recording holds: every hook interaction in the order the server
//! started them, and every Plugin API call with the interaction it
//! happened during.
//!
//! The Plugin API carries nothing that ties a call to a hook, so a call is
//! put with the interaction in flight when it arrived; with several in
//! flight at once (a real server calls hooks concurrently) it goes with the
//! one that started first. A call with none in flight (the plugin's own
//! background work, or its start-up before `OnActivate`) is kept apart.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use mm_plugin_proto::pb;
use tonic::Code;

/// A gRPC call's answer: the response bytes, or the status it failed with.
pub type Answer = Result<Bytes, (Code, String)>;

/// One Plugin API call, as forwarded.
#[derive(Debug, Clone)]
pub struct ApiExchange {
    pub method: String,
    pub request: Bytes,
    pub answer: Answer,
}

/// One call the server made to the plugin.
#[derive(Debug, Clone)]
pub enum Interaction {
    Hook(HookExchange),
    Http(Box<HttpRecord>),
}

#[derive(Debug, Clone)]
pub struct HookExchange {
    pub hook: String,
    pub request: Bytes,
    /// `None` while the plugin has not answered.
    pub answer: Option<Answer>,
}

/// A ServeHTTP call, message by message.
#[derive(Debug, Clone, Default)]
pub struct HttpRecord {
    pub init: Option<pb::ServeHttpRequestInit>,
    /// The request body as the server sent it.
    pub body: Vec<u8>,
    /// The server sent `body_complete`.
    pub request_complete: bool,
    /// The server went away (the HTTP client left) before the call ended.
    pub cancelled: bool,
    /// The plugin's messages, as it sent them.
    pub responses: Vec<pb::ServeHttpResponse>,
    /// Request body bytes the server had sent when the first response
    /// message arrived (an answer before `body_complete` is early).
    pub body_at_first_response: Option<usize>,
    /// The call failed with this status (not the server cancelling it).
    pub status: Option<(Code, String)>,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub interaction: Interaction,
    /// Plugin API calls made while it was in flight, in arrival order.
    pub api_calls: Vec<ApiExchange>,
}

#[derive(Debug, Default)]
struct State {
    recorded: Vec<Recorded>,
    /// Indexes into `recorded` of interactions still in flight, oldest first.
    in_flight: Vec<usize>,
    /// Plugin API calls made with no interaction in flight.
    unattached: Vec<ApiExchange>,
}

/// The recording, shared by the two proxies.
#[derive(Debug, Clone, Default)]
pub struct Log {
    state: Arc<Mutex<State>>,
}

/// A handle on one interaction in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

impl Log {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would be a bug in this module;
        // the data itself stays consistent, so go on with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the start of an interaction.
    pub fn start(&self, interaction: Interaction) -> Slot {
        let mut state = self.lock();
        let index = state.recorded.len();
        state.recorded.push(Recorded {
            interaction,
            api_calls: Vec::new(),
        });
        state.in_flight.push(index);
        Slot(index)
    }

    /// Changes an interaction in flight (or just finished).
    pub fn update(&self, slot: Slot, change: impl FnOnce(&mut Interaction)) {
        if let Some(recorded) = self.lock().recorded.get_mut(slot.0) {
            change(&mut recorded.interaction);
        }
    }

    /// The interaction is over: later API calls are not its own.
    pub fn finish(&self, slot: Slot) {
        self.lock().in_flight.retain(|index| *index != slot.0);
    }

    pub fn api_call(&self, call: ApiExchange) {
        let mut state = self.lock();
        match state.in_flight.first().copied() {
            Some(index) => state.recorded[index].api_calls.push(call),
            None => state.unattached.push(call),
        }
    }

    /// Everything so far.
    pub fn snapshot(&self) -> (Vec<Recorded>, Vec<ApiExchange>) {
        let state = self.lock();
        (state.recorded.clone(), state.unattached.clone())
    }
}
