//! The result of one ServeHTTP call: what the HTTP client would get, and
//! how both streams looked on the wire, for checks to assert on.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use bytes::Bytes;
use serde::{Serialize, Serializer};

use super::request::Header;
use super::rules::ServerAnswer;
use crate::wire::{serialize_duration, serialize_optional_duration};

#[derive(Debug, Clone, Serialize)]
pub struct HttpExchange {
    pub method: String,
    pub url: String,
    /// The status the HTTP client gets; `None` when the exchange ended
    /// before the server wrote one (cancelled, or the harness's deadline).
    pub status: Option<u16>,
    /// The headers the client gets (canonical names, merged values).
    pub headers: Vec<Header>,
    /// The body the client gets, when kept. JSON shows it as text, or as
    /// `{"base64": ...}` when it is not UTF-8.
    #[serde(serialize_with = "serialize_body")]
    pub body: Option<Bytes>,
    pub body_len: u64,
    pub body_digest: Digest,
    /// Set when the server answered by itself (500, 502, 503), with why.
    pub server_answer: Option<ServerAnswer>,
    /// The `status_code` of the plugin's first message; `None` without `init`.
    pub plugin_status: Option<i32>,
    /// A 1xx the plugin asked for, sent as an interim response before 200.
    pub interim_status: Option<u16>,
    pub response: ResponseSide,
    pub request: RequestSide,
    pub ending: Ending,
    /// A failure of the stream after the headers went out: the client gets
    /// a truncated body that otherwise ends normally.
    pub error_after_headers: Option<String>,
    /// How the call ended, when that was seen (not after a cancellation,
    /// nor when the plugin kept the call open past `body_complete`).
    pub grpc_status: Option<GrpcOutcome>,
    /// The first response message arrived before the request's last one
    /// was sent.
    pub early_response: bool,
    pub timing: Timing,
}

impl HttpExchange {
    pub(super) fn new(method: &str, url: &str) -> HttpExchange {
        HttpExchange {
            method: method.to_owned(),
            url: url.to_owned(),
            status: None,
            headers: Vec::new(),
            body: None,
            body_len: 0,
            body_digest: Digest::default(),
            server_answer: None,
            plugin_status: None,
            interim_status: None,
            response: ResponseSide::default(),
            request: RequestSide::default(),
            ending: Ending::Cancelled,
            error_after_headers: None,
            grpc_status: None,
            early_response: false,
            timing: Timing::default(),
        }
    }

    /// The values of a response header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&[String]> {
        self.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.values.as_slice())
    }

    /// The first value of a response header.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

/// The plugin's response messages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponseSide {
    /// Messages the server read (those after `body_complete` not counted).
    pub messages: usize,
    /// Body bytes of each of those messages.
    pub chunk_sizes: Vec<usize>,
    /// Indexes of the messages that asked for a flush.
    pub flushes: Vec<usize>,
    pub body_complete: bool,
    /// Messages after the first that carried an `init` again (ignored).
    pub repeated_inits: usize,
    /// Messages after `body_complete`, which the server never reads.
    pub after_complete: usize,
}

/// The request messages as the transport took them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestSide {
    pub messages: usize,
    pub body_bytes: u64,
    /// The message with `body_complete` was sent.
    pub body_complete_sent: bool,
    /// `init.content_length`.
    pub content_length: i64,
    /// Why sending stopped early, if it did.
    pub send_error: Option<String>,
}

/// Why the exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The plugin's message with `body_complete`.
    BodyComplete,
    /// The plugin ended the call without `body_complete` (accepted).
    StreamEnded,
    /// The call failed after the headers.
    StreamError,
    /// The call failed or ended before any response message (502).
    NoResponse,
    /// The first message had a status outside 100–999 (500).
    InvalidStatus,
    /// The stream could not be opened (503).
    Unavailable,
    /// The harness cancelled the call (`cancel_after`, or from outside).
    Cancelled,
    /// The HTTP client stopped taking the response.
    ClientGone,
    /// The harness's deadline passed.
    DeadlineExceeded,
}

/// A gRPC status by name, with its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrpcOutcome {
    pub code: String,
    pub message: String,
}

impl GrpcOutcome {
    pub fn ok() -> GrpcOutcome {
        GrpcOutcome {
            code: "OK".to_owned(),
            message: String::new(),
        }
    }

    pub fn from_status(status: &tonic::Status) -> GrpcOutcome {
        GrpcOutcome {
            code: crate::wire::code_name(status.code()).to_owned(),
            message: status.message().to_owned(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.code == "OK"
    }
}

/// Times from the start of the exchange.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    #[serde(serialize_with = "serialize_optional_duration")]
    pub first_response: Option<Duration>,
    /// When the transport took the request's last message.
    #[serde(serialize_with = "serialize_optional_duration")]
    pub request_sent: Option<Duration>,
    #[serde(serialize_with = "serialize_duration")]
    pub total: Duration,
}

/// FNV-1a (64 bits) of a body: cheap, streaming, and enough to tell two
/// bodies apart without keeping either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn of(bytes: &[u8]) -> Digest {
        let mut digest = Digest::default();
        digest.update(bytes);
        digest
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fnv1a64:{:016x}", self.0)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn serialize_body<S: Serializer>(body: &Option<Bytes>, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match body {
        None => serializer.serialize_none(),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("base64", &BASE64.encode(bytes))?;
                map.end()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_fnv1a() {
        assert_eq!(Digest::of(b"").to_string(), "fnv1a64:cbf29ce484222325");
        assert_eq!(Digest::of(b"a").to_string(), "fnv1a64:af63dc4c8601ec8c");
    }

    #[test]
    fn bodies_serialise_as_text_or_base64() {
        let mut exchange = HttpExchange::new("GET", "/");
        exchange.body = Some(Bytes::from_static(b"hi"));
        assert_eq!(serde_json::to_value(&exchange).unwrap()["body"], "hi");
        exchange.body = Some(Bytes::from_static(&[0xff, 0x00]));
        assert_eq!(
            serde_json::to_value(&exchange).unwrap()["body"],
            serde_json::json!({"base64": "/wA="})
        );
    }
}
