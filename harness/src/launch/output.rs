//! Capture of what a plugin writes besides the handshake: later stdout lines
//! (the upstream SDK prints debug lines there) and all of stderr.
//!
//! Memory is bounded whatever the plugin writes: the last lines are kept,
//! over-long lines are cut, and everything dropped is counted, so a report
//! can say how much it is not showing.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::io::{AsyncRead, AsyncReadExt};

/// Lines kept per plugin (both streams together).
pub const KEPT_LINES: usize = 400;
/// Bytes kept of a single line.
const KEPT_LINE_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CapturedLine {
    pub stream: Stream,
    /// Time since the plugin was spawned.
    #[serde(serialize_with = "crate::wire::serialize_duration")]
    pub at: Duration,
    pub text: String,
    /// The line was longer than the kept length and was cut.
    pub truncated: bool,
}

/// The bounded tail of a plugin's output, shared with the reader tasks.
#[derive(Debug, Clone)]
pub struct OutputLog {
    inner: Arc<Mutex<Tail>>,
    spawned_at: Instant,
}

#[derive(Debug, Default)]
struct Tail {
    lines: VecDeque<CapturedLine>,
    dropped_lines: u64,
    total_bytes: u64,
}

impl OutputLog {
    pub fn new(spawned_at: Instant) -> OutputLog {
        OutputLog {
            inner: Arc::default(),
            spawned_at,
        }
    }

    fn push(&self, stream: Stream, bytes: &[u8], truncated: bool) {
        let line = CapturedLine {
            stream,
            at: self.spawned_at.elapsed(),
            text: String::from_utf8_lossy(bytes).into_owned(),
            truncated,
        };
        let mut tail = self.inner.lock().expect("output log lock");
        if tail.lines.len() == KEPT_LINES {
            tail.lines.pop_front();
            tail.dropped_lines += 1;
        }
        tail.lines.push_back(line);
    }

    fn count_bytes(&self, n: usize) {
        self.inner.lock().expect("output log lock").total_bytes += n as u64;
    }

    /// The last `n` kept lines of `stream` (both streams when `None`).
    pub fn tail(&self, stream: Option<Stream>, n: usize) -> Vec<CapturedLine> {
        let tail = self.inner.lock().expect("output log lock");
        let mut lines: Vec<CapturedLine> = tail
            .lines
            .iter()
            .rev()
            .filter(|line| stream.is_none_or(|s| s == line.stream))
            .take(n)
            .cloned()
            .collect();
        lines.reverse();
        lines
    }

    /// The kept lines captured at or after `at` (time since spawn).
    pub fn since(&self, at: Duration) -> Vec<CapturedLine> {
        let tail = self.inner.lock().expect("output log lock");
        tail.lines
            .iter()
            .filter(|line| line.at >= at)
            .cloned()
            .collect()
    }

    /// Bytes taken in from both streams so far.
    pub fn bytes_seen(&self) -> u64 {
        self.inner.lock().expect("output log lock").total_bytes
    }

    /// Time since the plugin was spawned: the clock of `CapturedLine::at`.
    pub fn now(&self) -> Duration {
        self.spawned_at.elapsed()
    }

    /// Lines no longer kept, and bytes seen in all.
    pub fn dropped_and_total(&self) -> (u64, u64) {
        let tail = self.inner.lock().expect("output log lock");
        (tail.dropped_lines, tail.total_bytes)
    }

    /// Reads `reader` to its end, one line at a time, into the log. The
    /// first line of stdout is handed to `first_line` instead (the handshake).
    pub async fn capture(
        self,
        stream: Stream,
        mut reader: impl AsyncRead + Unpin,
        mut first_line: Option<tokio::sync::oneshot::Sender<FirstLine>>,
    ) {
        let mut chunk = vec![0u8; 16 * 1024];
        let mut line = Vec::new();
        let mut truncated = false;
        loop {
            let n = match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut rest = &chunk[..n];
            while let Some(end) = rest.iter().position(|&b| b == b'\n') {
                append_bounded(&mut line, &rest[..end], &mut truncated);
                self.finish_line(stream, &mut line, &mut truncated, &mut first_line, true);
                rest = &rest[end + 1..];
            }
            append_bounded(&mut line, rest, &mut truncated);
            // Counted once its lines are in the log: a reader of `bytes_seen`
            // then also sees the lines.
            self.count_bytes(n);
        }
        if !line.is_empty() {
            self.finish_line(stream, &mut line, &mut truncated, &mut first_line, false);
        }
        if let Some(sender) = first_line.take() {
            let _ = sender.send(FirstLine::Eof);
        }
    }

    fn finish_line(
        &self,
        stream: Stream,
        line: &mut Vec<u8>,
        truncated: &mut bool,
        first_line: &mut Option<tokio::sync::oneshot::Sender<FirstLine>>,
        complete: bool,
    ) {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        match first_line.take() {
            Some(sender) => {
                let text = String::from_utf8_lossy(line).into_owned();
                let _ = sender.send(if complete {
                    FirstLine::Line(text)
                } else {
                    FirstLine::Unterminated(text)
                });
            }
            None => self.push(stream, line, *truncated),
        }
        line.clear();
        *truncated = false;
    }
}

/// What came first on stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstLine {
    Line(String),
    /// Stdout ended with this text and no line ending.
    Unterminated(String),
    /// Stdout ended before anything was written.
    Eof,
}

fn append_bounded(line: &mut Vec<u8>, bytes: &[u8], truncated: &mut bool) {
    let room = KEPT_LINE_BYTES.saturating_sub(line.len());
    if bytes.len() > room {
        *truncated = true;
    }
    line.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn capture(input: &[u8], with_first_line: bool) -> (OutputLog, Option<FirstLine>) {
        let log = OutputLog::new(Instant::now());
        let (tx, rx) = tokio::sync::oneshot::channel();
        log.clone()
            .capture(Stream::Stdout, input, with_first_line.then_some(tx))
            .await;
        (log, rx.await.ok())
    }

    #[tokio::test]
    async fn the_first_line_is_handed_over_and_the_rest_is_kept() {
        let (log, first) = capture(b"1|1|tcp|127.0.0.1:1|grpc\r\ndebug one\ndebug two", true).await;
        assert_eq!(
            first,
            Some(FirstLine::Line("1|1|tcp|127.0.0.1:1|grpc".into()))
        );
        let texts: Vec<_> = log.tail(None, 10).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["debug one", "debug two"]);
    }

    #[tokio::test]
    async fn an_unterminated_or_missing_first_line_is_reported_as_such() {
        assert_eq!(
            capture(b"partial", true).await.1,
            Some(FirstLine::Unterminated("partial".into()))
        );
        assert_eq!(capture(b"", true).await.1, Some(FirstLine::Eof));
    }

    #[tokio::test]
    async fn memory_stays_bounded_and_what_is_dropped_is_counted() {
        let mut input = Vec::new();
        for i in 0..(KEPT_LINES + 50) {
            input.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        input.extend(std::iter::repeat_n(b'x', KEPT_LINE_BYTES * 3));
        input.push(b'\n');
        let (log, _) = capture(&input, false).await;
        let lines = log.tail(None, usize::MAX);
        assert_eq!(lines.len(), KEPT_LINES);
        let last = lines.last().unwrap();
        assert!(last.truncated);
        assert_eq!(last.text.len(), KEPT_LINE_BYTES);
        let (dropped, total) = log.dropped_and_total();
        assert_eq!(dropped, 51);
        assert_eq!(total, input.len() as u64);
    }
}
