//! Stubs and faults: answers a suite puts in front of the world, per method
//! and optionally per request, to play a server that is down, slow, or
//! answers something the world would not.

use std::{sync::Mutex, time::Duration};

use bytes::Bytes;
use serde_json::Value;
use tonic::Code;

use super::errors::ApiError;
use wire::partial_match;

/// One stub: which calls it catches and what they get.
#[derive(Debug, Clone)]
pub struct Stub {
    pub method: String,
    /// Only calls whose request matches this partially.
    pub request: Option<Value>,
    pub answer: StubAnswer,
    /// Added before the answer (or before the world answers).
    pub delay: Option<Duration>,
    /// Only the first N matching calls are caught; later ones go on to the
    /// next stub or the world ("fail twice, then succeed").
    pub times: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum StubAnswer {
    /// This response message, encoded.
    Respond(Bytes),
    /// This error, delivered by the method's error convention.
    AppError(ApiError),
    /// This gRPC status.
    Status(Code, String),
    /// The world answers (the stub only delays).
    World,
}

/// The stubs in force: the case's first, then the suite's.
#[derive(Debug, Default)]
pub struct StubTable {
    layers: Mutex<[Vec<Active>; 2]>,
}

#[derive(Debug)]
struct Active {
    stub: Stub,
    caught: usize,
}

/// Index of the layer for the current case, and for the whole suite.
const CASE: usize = 0;
const SUITE: usize = 1;

impl StubTable {
    pub fn set_suite(&self, stubs: Vec<Stub>) {
        self.set(SUITE, stubs);
    }

    pub fn set_case(&self, stubs: Vec<Stub>) {
        self.set(CASE, stubs);
    }

    fn set(&self, layer: usize, stubs: Vec<Stub>) {
        self.layers.lock().expect("stub lock")[layer] = stubs
            .into_iter()
            .map(|stub| Active { stub, caught: 0 })
            .collect();
    }

    /// The stub that catches this call, counting the catch.
    pub fn catch(&self, method: &str, request: &Value) -> Option<(StubAnswer, Option<Duration>)> {
        let mut layers = self.layers.lock().expect("stub lock");
        layers.iter_mut().flatten().find_map(|active| {
            let stub = &active.stub;
            let applies = stub.method == method
                && stub.times.is_none_or(|times| active.caught < times)
                && stub
                    .request
                    .as_ref()
                    .is_none_or(|partial| partial_match("", partial, request).is_empty());
            applies.then(|| {
                active.caught += 1;
                (stub.answer.clone(), stub.delay)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stub(method: &str, request: Option<Value>, times: Option<usize>) -> Stub {
        Stub {
            method: method.into(),
            request,
            answer: StubAnswer::Status(Code::Unavailable, "down".into()),
            delay: None,
            times,
        }
    }

    #[test]
    fn stubs_match_by_method_and_partial_request_case_first() {
        let table = StubTable::default();
        table.set_suite(vec![stub("GetUser", None, None)]);
        table.set_case(vec![Stub {
            answer: StubAnswer::World,
            ..stub("GetUser", Some(json!({"user_id": "u1"})), None)
        }]);
        assert!(matches!(
            table.catch("GetUser", &json!({"user_id": "u1"})),
            Some((StubAnswer::World, _))
        ));
        assert!(matches!(
            table.catch("GetUser", &json!({"user_id": "u2"})),
            Some((StubAnswer::Status(..), _))
        ));
        assert!(table.catch("GetChannel", &json!({})).is_none());
        table.set_case(Vec::new());
        assert!(matches!(
            table.catch("GetUser", &json!({"user_id": "u1"})),
            Some((StubAnswer::Status(..), _))
        ));
    }

    #[test]
    fn times_limits_the_catches_then_calls_fall_through() {
        let table = StubTable::default();
        table.set_suite(vec![stub("KVGet", None, Some(2))]);
        assert!(table.catch("KVGet", &json!({})).is_some());
        assert!(table.catch("KVGet", &json!({})).is_some());
        assert!(table.catch("KVGet", &json!({})).is_none());
    }
}
