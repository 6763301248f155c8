//! How durations are written: seconds with microsecond resolution in JSON
//! reports, milliseconds or seconds for people.

use std::time::Duration;

use serde::Serializer;

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

/// serde's messages end in " at line L column C"; positions are printed
/// separately, in `file:line:column` form.
pub fn strip_serde_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}
