//! What the Mattermost server does with a hook's answer.
//!
//! A plugin's answer only matters through what the server makes of it, and
//! the server has rules of its own (proto/PROTOCOL.md §2, §3): a failed
//! `MessageWillBePosted` call lets the post through ("fail open"), a
//! rejection wins over a modified post, a special reason dismisses the post
//! silently, a failed `ExecuteCommand` call becomes a fixed `AppError`.
//! Expectations written as outcomes are checked against this, so a suite can
//! say "this plugin bug is tolerated as the server would tolerate it".

use serde_json::{Value, json};
use tonic::Status;

use crate::{hooks::Family, wire};

/// The reason that makes the server drop a post without telling the user.
pub const DISMISS_POST: &str = "plugin.message_will_be_posted.dismiss_post";

/// The server's reading of one answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Consequence {
    /// The content goes through unchanged. `fail_open` holds the RPC error
    /// the server tolerated, if that is why.
    Allow {
        fail_open: Option<String>,
    },
    Modify(Value),
    Reject(String),
    Dismiss,
    /// The command's response (`None`: the plugin gave none).
    Respond(Option<Value>),
    /// An `AppError` as the server sees it.
    Fail(Value),
    Succeed,
    /// A hook whose answer the server ignores failed: the server logs the
    /// error (held here) and goes on as if it had succeeded.
    Logged(String),
}

impl Consequence {
    pub fn kind(&self) -> &'static str {
        match self {
            Consequence::Allow { .. } => "allow",
            Consequence::Modify(_) => "modify",
            Consequence::Reject(_) => "reject",
            Consequence::Dismiss => "dismiss",
            Consequence::Respond(_) => "respond",
            Consequence::Fail(_) => "fail",
            Consequence::Succeed => "succeed",
            Consequence::Logged(_) => "logged",
        }
    }

    /// A short line for transcripts and snapshots: the kind, with the
    /// reason when there is one (the content itself is in the response).
    pub fn summary(&self) -> String {
        match self {
            Consequence::Allow {
                fail_open: Some(error),
            } => format!("allow (fail open after {error})"),
            Consequence::Reject(reason) => format!("reject with {reason:?}"),
            Consequence::Logged(_) => "logged by the server, which goes on".to_owned(),
            other => other.kind().to_owned(),
        }
    }

    /// One line for mismatches, with the content.
    pub fn describe(&self) -> String {
        match self {
            Consequence::Allow {
                fail_open: Some(error),
            } => format!("allow (fail open after {error})"),
            Consequence::Modify(value) => format!("modify to {value}"),
            Consequence::Reject(reason) => format!("reject with {reason:?}"),
            Consequence::Respond(Some(value)) => format!("respond {value}"),
            Consequence::Respond(None) => "respond with nothing".to_owned(),
            Consequence::Fail(error) => format!("fail with {error}"),
            Consequence::Logged(error) => {
                format!("the server logs {error:?} and goes on")
            }
            other => other.kind().to_owned(),
        }
    }
}

/// Applies the server's rules to `hook`'s answer. `response` is the decoded
/// response when the call succeeded.
pub fn consequence(hook: &str, answer: Result<&Value, &Status>) -> Consequence {
    let family = Family::of(hook);
    let response = match answer {
        Ok(response) => response,
        Err(status) => return failed_call(hook, family, status),
    };
    let text = |field: &str| {
        response
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let present = |field: &str| response.get(field).is_some_and(|value| !value.is_null());
    match family {
        Family::Post | Family::File | Family::Login => {
            let reason = text("rejection_reason");
            let modified = if family == Family::File {
                "modified_file_info"
            } else {
                "modified_post"
            };
            if family == Family::Post && reason == DISMISS_POST {
                Consequence::Dismiss
            } else if !reason.is_empty() {
                // Rejection wins, even over a modified post.
                Consequence::Reject(reason)
            } else if family != Family::Login && present(modified) {
                Consequence::Modify(response[modified].clone())
            } else {
                Consequence::Allow { fail_open: None }
            }
        }
        Family::Command if present("error") => Consequence::Fail(response["error"].clone()),
        Family::Command => {
            Consequence::Respond(present("response").then(|| response["response"].clone()))
        }
        Family::Fallible if present("error") => Consequence::Fail(response["error"].clone()),
        Family::Fallible | Family::Void => Consequence::Succeed,
    }
}

fn failed_call(hook: &str, family: Family, status: &Status) -> Consequence {
    let error_text = format!("{}: {}", wire::code_name(status.code()), status.message());
    match family {
        Family::Post | Family::File | Family::Login => Consequence::Allow {
            fail_open: Some(error_text),
        },
        Family::Command => Consequence::Fail(json!({
            "id": "plugin.grpc.execute_command.error",
            "status_code": 500,
            "detailed_error": error_text,
        })),
        Family::Fallible => Consequence::Fail(json!({
            "message": format!("gRPC {hook} call failed: {error_text}"),
        })),
        Family::Void => Consequence::Logged(format!("gRPC {hook} call failed: {error_text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_follow_the_response_shapes() {
        assert_eq!(Family::of("MessageWillBeUpdated"), Family::Post);
        assert_eq!(Family::of("OnActivate"), Family::Fallible);
        assert_eq!(Family::of("OnInstall"), Family::Fallible);
        assert_eq!(Family::of("MessageHasBeenPosted"), Family::Void);
        assert_eq!(Family::of("UserWillLogIn"), Family::Login);
    }

    #[test]
    fn a_failed_void_hook_is_only_logged() {
        let failed = consequence(
            "MessageHasBeenPosted",
            Err(&Status::unavailable("connection reset")),
        );
        assert_eq!(failed.summary(), "logged by the server, which goes on");
        assert_eq!(
            failed.describe(),
            "the server logs \"gRPC MessageHasBeenPosted call failed: UNAVAILABLE: connection \
             reset\" and goes on"
        );
        let activation = consequence("OnActivate", Err(&Status::unavailable("gone")));
        assert_eq!(activation.kind(), "fail");
    }

    #[test]
    fn post_rules_rejection_wins_dismiss_is_special_errors_fail_open() {
        let post = json!({"message": "x"});
        let both = json!({"modified_post": post, "rejection_reason": "no"});
        assert_eq!(
            consequence("MessageWillBePosted", Ok(&both)),
            Consequence::Reject("no".into())
        );
        let dismissed = json!({"modified_post": null, "rejection_reason": DISMISS_POST});
        assert_eq!(
            consequence("MessageWillBePosted", Ok(&dismissed)),
            Consequence::Dismiss
        );
        let modified = json!({"modified_post": post, "rejection_reason": ""});
        assert_eq!(
            consequence("MessageWillBePosted", Ok(&modified)),
            Consequence::Modify(json!({"message": "x"}))
        );
        let empty = json!({"modified_post": null, "rejection_reason": ""});
        assert_eq!(
            consequence("MessageWillBePosted", Ok(&empty)),
            Consequence::Allow { fail_open: None }
        );
        let failed = consequence("MessageWillBePosted", Err(&Status::internal("boom")));
        assert_eq!(
            failed,
            Consequence::Allow {
                fail_open: Some("INTERNAL: boom".into())
            }
        );
        // The dismiss reason is only special for posts.
        let login = json!({"rejection_reason": DISMISS_POST});
        assert_eq!(
            consequence("UserWillLogIn", Ok(&login)),
            Consequence::Reject(DISMISS_POST.into())
        );
    }

    #[test]
    fn commands_and_fallible_hooks() {
        let answered = json!({"error": null, "response": {"text": "hi"}});
        assert_eq!(
            consequence("ExecuteCommand", Ok(&answered)),
            Consequence::Respond(Some(json!({"text": "hi"})))
        );
        let nothing = json!({"error": null, "response": null});
        assert_eq!(
            consequence("ExecuteCommand", Ok(&nothing)),
            Consequence::Respond(None)
        );
        let Consequence::Fail(error) =
            consequence("ExecuteCommand", Err(&Status::internal("boom")))
        else {
            panic!()
        };
        assert_eq!(error["id"], "plugin.grpc.execute_command.error");
        let activation = json!({"error": {"id": "plugin.on_activate.error"}});
        assert!(matches!(
            consequence("OnActivate", Ok(&activation)),
            Consequence::Fail(_)
        ));
        assert_eq!(
            consequence("OnActivate", Ok(&json!({"error": null}))),
            Consequence::Succeed
        );
        assert_eq!(
            consequence("MessageHasBeenPosted", Ok(&json!({}))),
            Consequence::Succeed
        );
    }
}
