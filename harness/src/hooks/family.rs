//! Hooks grouped by what the server does with their answers: which
//! outcomes a suite may expect of a hook depends on its family, and so does
//! how the server reads a failed call.

use crate::wire;

/// Hooks grouped by what the server does with their answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// MessageWillBePosted, MessageWillBeUpdated: allow, modify, reject, dismiss.
    Post,
    /// FileWillBeUploaded: allow, modify, reject.
    File,
    /// UserWillLogIn: allow or reject.
    Login,
    /// ExecuteCommand: a response or an `AppError`.
    Command,
    /// Hooks whose response carries `AppError error = 1`.
    Fallible,
    /// Hooks whose answer the server only logs when it fails.
    Void,
}

impl Family {
    pub fn of(hook: &str) -> Family {
        match hook {
            "MessageWillBePosted" | "MessageWillBeUpdated" => Family::Post,
            "FileWillBeUploaded" => Family::File,
            "UserWillLogIn" => Family::Login,
            "ExecuteCommand" => Family::Command,
            _ => {
                let has_error_field = wire::message_descriptor(&format!("{hook}Response"))
                    .is_some_and(|response| response.get_field_by_name("error").is_some());
                if has_error_field {
                    Family::Fallible
                } else {
                    Family::Void
                }
            }
        }
    }

    /// The outcome kinds a suite may expect of this family.
    pub fn outcomes(self) -> &'static [&'static str] {
        match self {
            Family::Post => &["allow", "modify", "reject", "dismiss"],
            Family::File => &["allow", "modify", "reject"],
            Family::Login => &["allow", "reject"],
            Family::Command => &["respond", "fail"],
            Family::Fallible => &["succeed", "fail"],
            Family::Void => &["succeed"],
        }
    }
}
