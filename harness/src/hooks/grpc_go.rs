//! Statuses as the Mattermost server's gRPC client (grpc-go) reports them.
//!
//! The harness calls plugins with tonic, and tonic names some failures
//! differently from grpc-go. Suites, outcomes and reports follow upstream,
//! so every status a hook call produces passes through [`as_grpc_go_reports`]
//! before anyone sees it: one table, used by every mode.
//!
//! | what happened                       | tonic says                                   | grpc-go says |
//! |-------------------------------------|----------------------------------------------|--------------|
//! | answer over the 4 MiB receive limit | `OUT_OF_RANGE` "decoded message length too large" | `RESOURCE_EXHAUSTED` "grpc: received message larger than max (N vs. M)" |
//! | the call's deadline passed          | `CANCELLED` "Timeout expired"                 | `DEADLINE_EXCEEDED` |
//! | connection lost or refused          | `UNKNOWN` / `UNAVAILABLE` "transport error"   | `UNAVAILABLE` |
//!
//! Codes carried in the plugin's own `grpc-status` trailer pass unchanged:
//! both stacks read them the same way. HTTP/2 stream resets map alike in both
//! (`REFUSED_STREAM` → `UNAVAILABLE`, `CANCEL` → `CANCELLED`,
//! `ENHANCE_YOUR_CALM` → `RESOURCE_EXHAUSTED`, the rest → `INTERNAL`).

use std::time::Duration;

use tonic::{Code, Status};

/// What tonic's client says when its own `grpc-timeout` fires.
const TONIC_TIMEOUT: &str = "Timeout expired";

/// `status` as grpc-go would have reported the same failure. `deadline` is
/// the call's, for the message of a missed one.
pub fn as_grpc_go_reports(status: Status, deadline: Duration) -> Status {
    match status.code() {
        Code::OutOfRange => oversized_answer(&status).unwrap_or(status),
        Code::Cancelled if status.message() == TONIC_TIMEOUT => deadline_missed(deadline),
        Code::Unknown if is_transport_failure(&status) => {
            Status::unavailable(format!("connection error: {}", status.message()))
        }
        _ => status,
    }
}

/// The status of a call that got no answer within `deadline`.
pub fn deadline_missed(deadline: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "no answer within the {} deadline",
        humantime::format_duration(deadline)
    ))
}

/// tonic: "decoded message length too large: found N bytes, the limit is: M bytes".
fn oversized_answer(status: &Status) -> Option<Status> {
    let message = status.message();
    if !message.contains("decoded message length too large") {
        return None;
    }
    let numbers: Vec<&str> = message
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .collect();
    let [found, limit] = numbers[..] else {
        return None;
    };
    Some(Status::resource_exhausted(format!(
        "grpc: received message larger than max ({found} vs. {limit}): the answer is over the \
         4 MiB a Mattermost server's gRPC client accepts"
    )))
}

/// tonic reports a broken connection (the plugin died mid-call) as
/// `UNKNOWN` carrying the local I/O or HTTP/2 error as its source; grpc-go
/// as `UNAVAILABLE`. A status the plugin sent has no source.
fn is_transport_failure(status: &Status) -> bool {
    std::error::Error::source(status).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEADLINE: Duration = Duration::from_secs(30);

    #[test]
    fn an_oversized_answer_is_resource_exhausted() {
        let tonic = Status::out_of_range(
            "Error, decoded message length too large: found 5242890 bytes, the limit is: 4194304 bytes",
        );
        let go = as_grpc_go_reports(tonic, DEADLINE);
        assert_eq!(go.code(), Code::ResourceExhausted);
        assert!(
            go.message()
                .starts_with("grpc: received message larger than max (5242890 vs. 4194304)"),
            "{}",
            go.message()
        );
    }

    #[test]
    fn tonics_own_timeout_is_deadline_exceeded() {
        let go = as_grpc_go_reports(Status::cancelled(TONIC_TIMEOUT), DEADLINE);
        assert_eq!(go.code(), Code::DeadlineExceeded);
        assert_eq!(go.message(), "no answer within the 30s deadline");
    }

    #[test]
    fn a_lost_connection_is_unavailable() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        let tonic = Status::from_error(Box::new(reset));
        assert_eq!(tonic.code(), Code::Unknown);
        let go = as_grpc_go_reports(tonic, DEADLINE);
        assert_eq!(go.code(), Code::Unavailable);
        assert!(go.message().contains("connection reset"));
    }

    #[test]
    fn the_plugins_own_codes_pass_unchanged() {
        for code in [
            Code::Cancelled,
            Code::Unknown,
            Code::OutOfRange,
            Code::Internal,
            Code::Unavailable,
            Code::InvalidArgument,
        ] {
            let status = Status::new(code, "said by the plugin");
            let go = as_grpc_go_reports(status, DEADLINE);
            assert_eq!(go.code(), code);
            assert_eq!(go.message(), "said by the plugin");
        }
    }
}
