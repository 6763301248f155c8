//! What a plugin says about itself. Many plugin failures never reach the
//! wire: an API call fails inside `OnActivate`, the plugin logs it and
//! returns normally, and every answer looks right. The server would only
//! log those lines; the harness reads them and flags them.
//!
//! Recognised, line by line:
//! - log records at ERROR or CRITICAL level, in the Python SDK's format
//!   (`2024-01-02 03:04:05 [ERROR] name: message`), Python's `logging`
//!   default (`ERROR:name:message`), the common `<date> <time> ERROR name:`
//!   shape, hclog's text (`[ERROR] message`) and go-plugin's structured
//!   JSON lines (`{"@level":"error",...}`);
//! - the first line of a Python traceback;
//! - anything on stdout after the handshake: the server only logs it, so a
//!   plugin printing there is talking to nobody.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::launch::{CapturedLine, Stream};

/// Why a line of output deserves a reader's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Concern {
    /// A log record at ERROR or CRITICAL level.
    ErrorLog,
    /// A Python traceback starts here.
    Traceback,
    /// Written to stdout after the handshake.
    Stdout,
}

impl Concern {
    pub fn describe(self) -> &'static str {
        match self {
            Concern::ErrorLog => "logged an error",
            Concern::Traceback => "printed a traceback",
            Concern::Stdout => "wrote to stdout (the server only logs it)",
        }
    }
}

static LEVELLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // Python's default format: LEVEL:name:message
        r"^(?:ERROR|CRITICAL):",
        // [LEVEL], at the start or after a timestamp (the SDK, hclog text)
        r"|^(?:\S+\s+){0,2}\[(?:ERROR|CRITICAL)\]",
        // <date> <time>[,ms] LEVEL name: message
        r"|^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\S*\s+(?:ERROR|CRITICAL)\b",
    ))
    .expect("the pattern is valid")
});

/// Whether `line`, written by the plugin, is something it reported about
/// itself, and what.
pub fn concern(line: &CapturedLine) -> Option<Concern> {
    let text = line.text.trim_start();
    if line.stream == Stream::Stdout {
        return Some(Concern::Stdout);
    }
    if text.starts_with("Traceback (most recent call last):") {
        return Some(Concern::Traceback);
    }
    if LEVELLED.is_match(text) || structured_error(text) {
        return Some(Concern::ErrorLog);
    }
    None
}

/// go-plugin's JSON log lines carry the level as `@level`.
fn structured_error(text: &str) -> bool {
    if !text.starts_with('{') {
        return false;
    }
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|record| {
        record["@level"]
            .as_str()
            .is_some_and(|level| level.eq_ignore_ascii_case("error"))
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stderr(text: &str) -> CapturedLine {
        CapturedLine {
            stream: Stream::Stderr,
            at: Duration::ZERO,
            text: text.to_owned(),
            truncated: false,
        }
    }

    #[test]
    fn error_records_are_recognised_in_every_known_format() {
        for text in [
            "2026-12-04 10:00:00 [ERROR] com.example.hello: Client is not connected",
            "2026-12-04 10:00:00 [CRITICAL] plugin: out of memory",
            "ERROR:mattermost_plugin:Client is not connected",
            "CRITICAL:root:boom",
            "2026-12-04 10:00:00,123 ERROR com.example.quiet: the call failed",
            "2026-12-04T10:00:00.123Z [ERROR] plugin: hclog text",
            r#"{"@level":"error","@message":"failed","@timestamp":"2026-12-04T10:00:00Z"}"#,
        ] {
            assert_eq!(concern(&stderr(text)), Some(Concern::ErrorLog), "{text}");
        }
    }

    #[test]
    fn other_levels_and_ordinary_text_are_not_flagged() {
        for text in [
            "2026-12-04 10:00:00 [INFO] com.example.hello: activated",
            "2026-12-04 10:00:00 [WARNING] plugin: slow",
            "INFO:root:ERROR: in the message is not a level",
            "2026-12-04 10:00:00,123 INFO plugin: no ERROR here",
            r#"{"@level":"info","@message":"fine"}"#,
            "an ERROR somewhere in the middle",
            "{not json",
        ] {
            assert_eq!(concern(&stderr(text)), None, "{text}");
        }
    }

    #[test]
    fn tracebacks_and_stdout_are_flagged() {
        assert_eq!(
            concern(&stderr("Traceback (most recent call last):")),
            Some(Concern::Traceback)
        );
        let mut printed = stderr("checking a post");
        printed.stream = Stream::Stdout;
        assert_eq!(concern(&printed), Some(Concern::Stdout));
    }
}
