//! One line per request, written when its response has ended.

use std::{fmt, sync::Arc, time::Duration};

/// What the front door did with one request.
#[derive(Debug, Clone)]
pub struct RequestLog {
    pub method: String,
    /// The path as the client sent it (no query: it may carry a token).
    pub path: String,
    /// `None` when no response was started (the exchange was cut short).
    pub status: Option<u16>,
    /// Body bytes handed to the client.
    pub bytes: u64,
    pub latency: Duration,
    /// Why the answer is not simply the plugin's, if it is not.
    pub note: Option<String>,
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .status
            .map_or_else(|| "---".to_owned(), |status| status.to_string());
        write!(
            f,
            "{:>7} {} {} {} bytes {}",
            self.method,
            self.path,
            status,
            self.bytes,
            crate::wire::format_duration(self.latency)
        )?;
        if let Some(note) = &self.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

/// Where request lines go; the command writes them to stdout.
pub type RequestLogger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_method_path_status_bytes_and_latency() {
        let line = RequestLog {
            method: "POST".into(),
            path: "/plugins/p/echo".into(),
            status: Some(200),
            bytes: 5,
            latency: Duration::from_micros(1500),
            note: None,
        }
        .to_string();
        assert!(
            line.starts_with("   POST /plugins/p/echo 200 5 bytes "),
            "{line}"
        );
        assert!(line.ends_with("ms"), "{line}");
    }
}
