//! Protocol rules that hold for every plugin.

use std::{os::unix::process::ExitStatusExt, time::Duration};

use super::Mismatch;
use crate::{hooks, launch::Termination};

/// `Implemented()` names only hooks the server knows, each once, and
/// includes every name in `includes`.
pub fn check_implemented(names: &[String], includes: &[String]) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    for (index, name) in names.iter().enumerate() {
        if !hooks::is_known_hook(name) {
            let hint = hooks::closest_hook(name)
                .map(|close| format!(" (did you mean `{close}`?)"))
                .unwrap_or_default();
            mismatches.push(Mismatch::new(
                format!("Implemented[{index}]"),
                "a hook name the server knows (the server logs and skips unknown names)",
                format!("{name:?}{hint}"),
            ));
        }
        if names[..index].contains(name) {
            mismatches.push(Mismatch::new(
                format!("Implemented[{index}]"),
                "each name once",
                format!("{name:?} again"),
            ));
        }
    }
    for wanted in includes {
        if !names.contains(wanted) {
            mismatches.push(Mismatch::new(
                "Implemented",
                format!("to include {wanted:?}"),
                format!("{names:?}"),
            ));
        }
    }
    mismatches
}

/// After SIGTERM the plugin exits by itself within the grace period, with
/// status 0 or by the signal's default action.
pub fn check_termination(termination: &Termination) -> Vec<Mismatch> {
    let expected = "a clean exit (status 0, or ended by SIGTERM) within the grace period";
    match termination {
        Termination::Exited { status, .. }
            if status.success() || status.signal() == Some(libc_sigterm()) =>
        {
            Vec::new()
        }
        Termination::Exited { status, after } => vec![Mismatch::new(
            "exit",
            expected,
            format!(
                "{status} after {}",
                humantime::format_duration(round_ms(*after))
            ),
        )],
        Termination::Killed { grace } => vec![Mismatch::new(
            "exit",
            expected,
            format!(
                "still running {} after SIGTERM; killed with SIGKILL",
                humantime::format_duration(*grace)
            ),
        )],
    }
}

fn libc_sigterm() -> i32 {
    nix::sys::signal::Signal::SIGTERM as i32
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::ExitStatus;

    #[test]
    fn unknown_and_repeated_names_are_flagged() {
        let names: Vec<String> = ["OnActivate", "OnActivte", "OnActivate", "ServeMetrics"]
            .map(String::from)
            .into();
        let mismatches = check_implemented(&names, &["ExecuteCommand".into()]);
        assert_eq!(mismatches.len(), 3, "{mismatches:?}");
        assert!(mismatches[0].actual.contains("did you mean `OnActivate`"));
        assert_eq!(mismatches[1].actual, "\"OnActivate\" again");
        assert!(mismatches[2].expected.contains("ExecuteCommand"));
    }

    #[test]
    fn clean_exits_pass_and_the_rest_is_described() {
        let exited = |raw: i32| Termination::Exited {
            status: ExitStatus::from_raw(raw),
            after: Duration::from_millis(12),
        };
        assert!(check_termination(&exited(0)).is_empty());
        assert!(check_termination(&exited(libc_sigterm())).is_empty());
        let failed = check_termination(&exited(1 << 8));
        assert!(failed[0].actual.contains("exit status: 1"), "{failed:?}");
        let killed = check_termination(&Termination::Killed {
            grace: Duration::from_secs(5),
        });
        assert!(killed[0].actual.contains("SIGKILL"));
    }
}
