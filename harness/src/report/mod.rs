//! Turning a [`RunReport`](crate::run::RunReport) into something to read:
//! the console (as results arrive), JSON and JUnit XML.

mod console;
mod junit;

use std::time::Duration;

use serde::Serializer;

pub use console::{Console, failure_details, shell_quote};
pub use junit::junit_xml;

/// Durations are written as seconds (a float with microsecond resolution).
pub fn serialize_duration<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((duration.as_secs_f64() * 1e6).round() / 1e6)
}

pub fn serialize_optional_duration<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serialize_duration(duration, serializer),
        None => serializer.serialize_none(),
    }
}

/// Milliseconds with three decimals when short, seconds otherwise.
pub fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{:.3}ms", duration.as_secs_f64() * 1e3)
    } else {
        format!("{:.3}s", duration.as_secs_f64())
    }
}
