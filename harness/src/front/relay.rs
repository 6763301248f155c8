//! Hands the plugin's answer to hyper the way Go's `http.ResponseWriter`
//! writes it: nothing reaches the client until 2 KiB are buffered, a flush
//! is asked for, or the handler returns. A response that is over before
//! then goes out whole with a Content-Length; any other is streamed
//! (chunked), each flush reaching the client at once.

use std::convert::Infallible;

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tokio_util::sync::DropGuard;

use crate::hooks::http::{ClientGone, Header, ResponseHead, ResponseSink};

/// Go's `bufferBeforeChunkingSize`: what the writer holds before it
/// commits to the headers and chunked encoding.
const GO_WRITE_BUFFER: usize = 2048;

pub type ResponseBody = BoxBody<Bytes, Infallible>;

/// How the response starts, once it does.
pub enum Start {
    /// The handler finished before anything was written out.
    Whole(ResponseHead, Bytes),
    /// The rest of the body follows on the channel.
    Streaming(ResponseHead, mpsc::Receiver<Bytes>),
}

pub struct Relay {
    start: Option<oneshot::Sender<Start>>,
    head: Option<ResponseHead>,
    frames: Option<mpsc::Sender<Bytes>>,
    pending: BytesMut,
    /// Body bytes handed to hyper.
    sent: u64,
}

impl Relay {
    pub fn new() -> (Relay, oneshot::Receiver<Start>) {
        let (start, started) = oneshot::channel();
        let relay = Relay {
            start: Some(start),
            head: None,
            frames: None,
            pending: BytesMut::new(),
            sent: 0,
        };
        (relay, started)
    }

    /// The handler returned: what is held goes out and the body ends.
    /// Returns the body bytes handed to hyper.
    pub async fn finish(mut self) -> u64 {
        if self.frames.is_some() {
            let _ = self.write_out().await;
        } else if let (Some(start), Some(head)) = (self.start.take(), self.head.take()) {
            self.sent = self.pending.len() as u64;
            let _ = start.send(Start::Whole(head, self.pending.split().freeze()));
        }
        self.sent
    }

    /// Sends the head if it has not gone yet, then what is pending.
    async fn write_out(&mut self) -> Result<(), ClientGone> {
        if self.frames.is_none() {
            let (Some(start), Some(head)) = (self.start.take(), self.head.take()) else {
                return Err(ClientGone);
            };
            let (frames, receiver) = mpsc::channel(4);
            start
                .send(Start::Streaming(head, receiver))
                .map_err(|_| ClientGone)?;
            self.frames = Some(frames);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = self.pending.split().freeze();
        self.sent += chunk.len() as u64;
        let frames = self.frames.as_ref().ok_or(ClientGone)?;
        frames.send(chunk).await.map_err(|_| ClientGone)
    }
}

impl ResponseSink for Relay {
    fn head(
        &mut self,
        head: &ResponseHead,
    ) -> impl std::future::Future<Output = Result<(), ClientGone>> + Send {
        self.head = Some(head.clone());
        std::future::ready(Ok(()))
    }

    async fn body(&mut self, chunk: Bytes, flush: bool) -> Result<(), ClientGone> {
        self.pending.extend_from_slice(&chunk);
        if flush || self.pending.len() >= GO_WRITE_BUFFER {
            self.write_out().await
        } else {
            Ok(())
        }
    }
}

/// The hyper response for a start. `guard` cancels the exchange when hyper
/// drops the body: the client is gone, as upstream's request context says.
pub fn response(start: Start, guard: DropGuard) -> Response<ResponseBody> {
    match start {
        Start::Whole(head, body) => {
            drop(guard);
            build(&head, Full::new(body).boxed())
        }
        Start::Streaming(head, receiver) => {
            let frames = ReceiverStream::new(receiver).map(move |chunk| {
                let _alive = &guard;
                Ok(Frame::data(chunk))
            });
            build(&head, StreamBody::new(frames).boxed())
        }
    }
}

/// A plain answer of the front door itself (`http.Error` style).
pub fn plain(status: StatusCode, text: &str) -> Response<ResponseBody> {
    let head = ResponseHead {
        status: status.as_u16(),
        headers: vec![
            Header::new("Content-Type", vec!["text/plain; charset=utf-8".to_owned()]),
            Header::new("X-Content-Type-Options", vec!["nosniff".to_owned()]),
        ],
        interim: None,
    };
    build(&head, Full::new(Bytes::from(format!("{text}\n"))).boxed())
}

/// The names of the headers hyper cannot carry, which the response leaves
/// out.
pub fn unsendable(headers: &[Header]) -> Vec<String> {
    headers
        .iter()
        .filter(|header| {
            HeaderName::from_bytes(header.name.as_bytes()).is_err()
                || header
                    .values
                    .iter()
                    .any(|value| header_value(value).is_none())
        })
        .map(|header| header.name.clone())
        .collect()
}

/// Go's writer turns line breaks in values into spaces.
fn header_value(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&value.replace(['\r', '\n'], " ")).ok()
}

/// The response with the head's status and the headers it can carry.
fn build(head: &ResponseHead, body: ResponseBody) -> Response<ResponseBody> {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(head.status).unwrap_or(StatusCode::OK);
    for header in &head.headers {
        let Ok(name) = HeaderName::from_bytes(header.name.as_bytes()) else {
            continue;
        };
        for value in header.values.iter().filter_map(|value| header_value(value)) {
            response.headers_mut().append(name.clone(), value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> ResponseHead {
        ResponseHead {
            status: 200,
            headers: vec![],
            interim: None,
        }
    }

    #[tokio::test]
    async fn a_short_unflushed_response_goes_out_whole() {
        let (mut relay, started) = Relay::new();
        relay.head(&head()).await.unwrap();
        relay
            .body(Bytes::from_static(b"hello"), false)
            .await
            .unwrap();
        assert_eq!(relay.finish().await, 5);
        match started.await.unwrap() {
            Start::Whole(_, body) => assert_eq!(body, "hello"),
            Start::Streaming(..) => panic!("streamed"),
        }
    }

    #[tokio::test]
    async fn a_flush_starts_streaming_at_once() {
        let (mut relay, started) = Relay::new();
        relay.head(&head()).await.unwrap();
        let writer = tokio::spawn(async move {
            relay.body(Bytes::from_static(b"a"), true).await.unwrap();
            relay.body(Bytes::from_static(b"b"), false).await.unwrap();
            relay.finish().await
        });
        let Start::Streaming(_, mut frames) = started.await.unwrap() else {
            panic!("not streamed");
        };
        assert_eq!(frames.recv().await.unwrap(), "a");
        assert_eq!(frames.recv().await.unwrap(), "b");
        assert_eq!(frames.recv().await, None);
        assert_eq!(writer.await.unwrap(), 2);
    }

    #[tokio::test]
    async fn unflushed_bytes_are_held_until_go_would_write_them() {
        let (mut relay, mut started) = Relay::new();
        relay.head(&head()).await.unwrap();
        relay.body(Bytes::from(vec![0; 100]), false).await.unwrap();
        assert!(started.try_recv().is_err(), "nothing goes out yet");
        let writer = tokio::spawn(async move {
            relay.body(Bytes::from(vec![0; 4000]), false).await.unwrap();
            relay.finish().await
        });
        let Start::Streaming(_, mut frames) = started.await.unwrap() else {
            panic!("not streamed");
        };
        assert_eq!(frames.recv().await.unwrap().len(), 4100);
        assert_eq!(writer.await.unwrap(), 4100);
    }

    #[test]
    fn headers_hyper_cannot_carry_are_named() {
        let head = ResponseHead {
            status: 299,
            headers: vec![
                Header::new("X-Ok", vec!["a\r\nb".into()]),
                Header::new("bad name", vec!["x".into()]),
            ],
            interim: None,
        };
        let response = build(&head, Full::new(Bytes::new()).boxed());
        assert_eq!(response.status().as_u16(), 299);
        assert_eq!(response.headers()["x-ok"], "a  b");
        assert_eq!(unsendable(&head.headers), ["bad name"]);
    }
}
