//! Request bodies, and how the server cuts them into the request messages'
//! chunks.

use std::{fmt, pin::Pin};

use bytes::Bytes;
use tokio_stream::{Stream, StreamExt};

use super::exchange::Digest;

/// Upstream's `serveHTTPChunkSize`: the most body bytes one request message
/// carries.
pub const CHUNK_SIZE: usize = 64 * 1024;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Body bytes as they arrive from somewhere else (an HTTP client).
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The body of a request to the plugin.
pub enum RequestBody {
    /// No body, as a GET usually has.
    Empty,
    /// All of it in memory.
    Full(Bytes),
    /// `len` bytes made up as they are sent, so large bodies cost no memory.
    Generated(GeneratedBody),
    /// Bytes from a stream; `content_length` is what the client declared
    /// (`None` for a chunked upload).
    Stream {
        content_length: Option<u64>,
        chunks: BodyStream,
    },
}

impl RequestBody {
    /// `init.content_length`: Go's `r.ContentLength`, -1 when unknown.
    pub fn content_length(&self) -> i64 {
        let known = match self {
            RequestBody::Empty => Some(0),
            RequestBody::Full(bytes) => Some(bytes.len() as u64),
            RequestBody::Generated(generated) => Some(generated.len),
            RequestBody::Stream { content_length, .. } => *content_length,
        };
        known.map_or(-1, |len| i64::try_from(len).unwrap_or(i64::MAX))
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Empty => f.write_str("Empty"),
            RequestBody::Full(bytes) => write!(f, "Full({} bytes)", bytes.len()),
            RequestBody::Generated(generated) => write!(f, "Generated({} bytes)", generated.len),
            RequestBody::Stream { content_length, .. } => {
                write!(f, "Stream(content_length: {content_length:?})")
            }
        }
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        RequestBody::Full(bytes)
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        RequestBody::Full(bytes.into())
    }
}

impl From<&'static str> for RequestBody {
    fn from(text: &'static str) -> Self {
        RequestBody::Full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<GeneratedBody> for RequestBody {
    fn from(generated: GeneratedBody) -> Self {
        RequestBody::Generated(generated)
    }
}

/// A deterministic body of `len` bytes. The pattern repeats every 251
/// bytes, a prime, so a chunk lost, repeated or shifted by a multiple of
/// 64 KiB changes the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedBody {
    pub len: u64,
}

impl GeneratedBody {
    pub fn new(len: u64) -> GeneratedBody {
        GeneratedBody { len }
    }

    /// `len` bytes starting at `offset`.
    pub fn slice(&self, offset: u64, len: usize) -> Bytes {
        (offset..offset + len as u64)
            .map(|at| (at % 251) as u8)
            .collect::<Vec<u8>>()
            .into()
    }

    /// What a faithful echo of this body digests to.
    pub fn digest(&self) -> Digest {
        let mut digest = Digest::default();
        let mut offset = 0;
        while offset < self.len {
            let len = (self.len - offset).min(CHUNK_SIZE as u64) as usize;
            digest.update(&self.slice(offset, len));
            offset += len as u64;
        }
        digest
    }
}

/// Cuts a body into the request messages' chunks and says which one is
/// the last, as Go's sender does reading `r.Body` 64 KiB at a time: with a
/// known length the last bytes come with end-of-body; otherwise the end
/// comes on its own, as an empty final chunk.
pub(super) struct Chunker {
    body: RequestBody,
    /// Body bytes handed out so far.
    offset: u64,
    /// Bytes of a stream item not handed out yet.
    pending: Bytes,
    finished: bool,
}

impl Chunker {
    pub(super) fn new(body: RequestBody) -> Chunker {
        Chunker {
            body,
            offset: 0,
            pending: Bytes::new(),
            finished: false,
        }
    }

    /// The next chunk and whether it is the last; `None` once the last
    /// was handed out. An error is a failed read of the body's source.
    pub(super) async fn next(&mut self) -> Result<Option<(Bytes, bool)>, String> {
        if self.finished {
            return Ok(None);
        }
        let chunk = match &mut self.body {
            RequestBody::Empty => (Bytes::new(), true),
            RequestBody::Full(bytes) => {
                let start = self.offset as usize;
                let end = bytes.len().min(start + CHUNK_SIZE);
                (bytes.slice(start..end), end == bytes.len())
            }
            RequestBody::Generated(generated) => {
                let len = (generated.len - self.offset).min(CHUNK_SIZE as u64);
                let chunk = generated.slice(self.offset, len as usize);
                (chunk, self.offset + len == generated.len)
            }
            RequestBody::Stream {
                content_length,
                chunks,
            } => next_from_stream(&mut self.pending, self.offset, *content_length, chunks).await?,
        };
        self.offset += chunk.0.len() as u64;
        self.finished = chunk.1;
        Ok(Some(chunk))
    }
}

async fn next_from_stream(
    pending: &mut Bytes,
    offset: u64,
    content_length: Option<u64>,
    chunks: &mut BodyStream,
) -> Result<(Bytes, bool), String> {
    loop {
        if !pending.is_empty() {
            let piece = pending.split_to(pending.len().min(CHUNK_SIZE));
            let end = offset + piece.len() as u64;
            return Ok((piece, content_length == Some(end)));
        }
        if content_length == Some(offset) {
            return Ok((Bytes::new(), true));
        }
        match chunks.next().await {
            Some(Ok(bytes)) => *pending = bytes,
            Some(Err(err)) => return Err(format!("reading the request body failed: {err}")),
            None => {
                return match content_length {
                    Some(declared) => Err(format!(
                        "the request body ended after {offset} of its {declared} bytes"
                    )),
                    None => Ok((Bytes::new(), true)),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn chunk_sizes(body: RequestBody) -> Vec<(usize, bool)> {
        let mut chunker = Chunker::new(body);
        let mut sizes = Vec::new();
        while let Some((chunk, last)) = chunker.next().await.unwrap() {
            sizes.push((chunk.len(), last));
        }
        sizes
    }

    #[tokio::test]
    async fn known_lengths_end_with_their_last_bytes() {
        assert_eq!(chunk_sizes(RequestBody::Empty).await, [(0, true)]);
        assert_eq!(chunk_sizes(vec![1u8; 1].into()).await, [(1, true)]);
        assert_eq!(
            chunk_sizes(vec![1u8; CHUNK_SIZE].into()).await,
            [(CHUNK_SIZE, true)]
        );
        assert_eq!(
            chunk_sizes(GeneratedBody::new(CHUNK_SIZE as u64 + 1).into()).await,
            [(CHUNK_SIZE, false), (1, true)]
        );
    }

    #[tokio::test]
    async fn unknown_lengths_end_with_an_empty_chunk() {
        let items: Vec<Result<Bytes, BoxError>> = vec![
            Ok(Bytes::from(vec![0u8; CHUNK_SIZE + 10])),
            Ok(Bytes::from_static(b"abc")),
        ];
        let body = RequestBody::Stream {
            content_length: None,
            chunks: Box::pin(tokio_stream::iter(items)),
        };
        assert_eq!(
            chunk_sizes(body).await,
            [(CHUNK_SIZE, false), (10, false), (3, false), (0, true)]
        );
    }

    #[tokio::test]
    async fn a_stream_shorter_than_declared_is_a_failed_read() {
        let items: Vec<Result<Bytes, BoxError>> = vec![Ok(Bytes::from_static(b"abc"))];
        let mut chunker = Chunker::new(RequestBody::Stream {
            content_length: Some(10),
            chunks: Box::pin(tokio_stream::iter(items)),
        });
        assert_eq!(
            chunker.next().await.unwrap(),
            Some((Bytes::from_static(b"abc"), false))
        );
        assert_eq!(
            chunker.next().await.unwrap_err(),
            "the request body ended after 3 of its 10 bytes"
        );
    }

    #[test]
    fn generated_bodies_digest_like_their_bytes() {
        let generated = GeneratedBody::new(200_000);
        let mut digest = Digest::default();
        digest.update(&generated.slice(0, 200_000));
        assert_eq!(generated.digest(), digest);
    }
}
