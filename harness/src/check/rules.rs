//! Protocol rules that hold for every plugin.

use std::{os::unix::process::ExitStatusExt, time::Duration};

use super::Mismatch;
use crate::{
    hooks,
    launch::{CapturedLine, Termination},
    suite::OutputExpect,
};

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

/// The plugin's captured output holds every `contains` pattern and none of
/// the `absent` ones.
pub fn check_output(expect: &OutputExpect, lines: &[CapturedLine]) -> Vec<Mismatch> {
    let selected: Vec<&CapturedLine> = lines
        .iter()
        .filter(|line| expect.stream.is_none_or(|stream| stream == line.stream))
        .collect();
    let stream = match expect.stream {
        Some(crate::launch::Stream::Stdout) => "stdout",
        Some(crate::launch::Stream::Stderr) => "stderr",
        None => "output",
    };
    let mut mismatches = Vec::new();
    for pattern in &expect.contains {
        if !selected.iter().any(|line| pattern.matches(&line.text)) {
            mismatches.push(Mismatch::new(
                format!("{stream}.contains"),
                format!("a line with {pattern}"),
                format!("none among the last {} lines", selected.len()),
            ));
        }
    }
    for pattern in &expect.absent {
        if let Some(line) = selected.iter().find(|line| pattern.matches(&line.text)) {
            mismatches.push(Mismatch::new(
                format!("{stream}.absent"),
                format!("no line with {pattern}"),
                format!("{:?}", line.text),
            ));
        }
    }
    mismatches
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
    fn output_lines_are_looked_up_by_stream_and_pattern() {
        use crate::{launch::Stream, suite::TextMatch};
        let line = |stream, text: &str| CapturedLine {
            stream,
            at: Duration::ZERO,
            text: text.into(),
            truncated: false,
        };
        let lines = [
            line(Stream::Stderr, "INFO activated"),
            line(Stream::Stdout, "debug: x"),
        ];
        let expect = |stream, contains: Vec<TextMatch>, absent: Vec<TextMatch>| OutputExpect {
            stream,
            contains,
            absent,
        };
        let found = expect(
            Some(Stream::Stderr),
            vec![TextMatch::Contains("activated".into())],
            vec![],
        );
        assert!(check_output(&found, &lines).is_empty());
        let wrong_stream = expect(
            Some(Stream::Stdout),
            vec![TextMatch::Contains("activated".into())],
            vec![],
        );
        assert_eq!(
            check_output(&wrong_stream, &lines)[0].field,
            "stdout.contains"
        );
        let regex = regex::Regex::new("^debug").unwrap();
        let absent = expect(None, vec![], vec![TextMatch::Regex(regex)]);
        let mismatches = check_output(&absent, &lines);
        assert_eq!(mismatches[0].field, "output.absent");
        assert_eq!(mismatches[0].actual, "\"debug: x\"");
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
