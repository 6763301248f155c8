//! Upstream's two ways of reporting a Plugin API failure (proto/PROTOCOL.md §5),
//! chosen per RPC the way the Mattermost server does:
//!
//! - KV, post and file RPCs embed an `AppError` in the response's field 1
//!   and answer with gRPC status OK;
//! - every other RPC answers with a gRPC status whose message is
//!   `"<id>: <message>"` and no body.
//!
//! A few failures of the second kind are not `AppError`s at all: a plain Go
//! error becomes `Internal` with `"internal error: <text>"` (upstream's
//! `ErrorToStatus`), and the gRPC layer itself refuses a missing message
//! with `InvalidArgument` and bare text (`"bot is required"`).
//!
//! An SDK maps both to its exceptions; answering the way upstream does is
//! what lets a harness exercise that mapping for real.

use bytes::Bytes;
use mm_plugin_proto::pb;
use tonic::{Code, Status};

/// A failure in Mattermost's terms: an `AppError` id, text and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub id: String,
    pub message: String,
    pub detailed_error: String,
    pub status_code: u16,
    /// The server function that failed (`where` on the wire).
    pub location: String,
    pub kind: ErrorKind,
}

/// What upstream had in hand when it failed, which decides the status text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A `*model.AppError`: `"<id>: <message>"`, code from its HTTP status.
    App,
    /// A plain Go error: `Internal`, `"internal error: <message>"`.
    Plain,
    /// A status with this code and the bare message: the gRPC layer's own
    /// refusals (`InvalidArgument`), or what the harness cannot do.
    Bare(Code),
}

impl ApiError {
    pub fn new(status_code: u16, location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            id: id.to_owned(),
            message: message.into(),
            detailed_error: String::new(),
            status_code,
            location: location.to_owned(),
            kind: ErrorKind::App,
        }
    }

    /// A plain Go error (`errors.New`, `fmt.Errorf`, a store error), which
    /// upstream cannot map to an HTTP status and reports as `Internal`.
    pub fn plain(location: &str, text: impl Into<String>) -> ApiError {
        ApiError {
            kind: ErrorKind::Plain,
            ..ApiError::new(500, location, "", text)
        }
    }

    /// A request the gRPC layer refuses before calling the app, typically a
    /// required message left unset.
    pub fn argument(location: &str, text: impl Into<String>) -> ApiError {
        ApiError {
            kind: ErrorKind::Bare(Code::InvalidArgument),
            ..ApiError::new(400, location, "", text)
        }
    }

    /// Something upstream would do that the harness cannot (run a slash
    /// command): `Unimplemented`, saying so.
    pub fn unsupported(location: &str, text: impl Into<String>) -> ApiError {
        ApiError {
            kind: ErrorKind::Bare(Code::Unimplemented),
            ..ApiError::new(501, location, "", text)
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> ApiError {
        self.detailed_error = detail.into();
        self
    }

    /// Go's `AppError.Error()`, for upstream paths that wrap an `AppError`
    /// into a plain error (`fmt.Errorf("failed to create bot: %w", err)`).
    pub fn go_text(&self) -> String {
        let mut text = format!("{}: {}", self.location, self.message);
        if !self.detailed_error.is_empty() {
            text.push_str(", ");
            text.push_str(&self.detailed_error);
        }
        text
    }

    pub fn not_found(location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(404, location, id, message)
    }

    pub fn invalid(location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, location, id, message)
    }

    pub fn forbidden(location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(403, location, id, message)
    }

    pub fn conflict(location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(409, location, id, message)
    }

    pub fn internal(location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(500, location, id, message)
    }

    pub fn not_implemented(location: &str, id: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(501, location, id, message)
    }

    pub fn to_proto(&self) -> pb::AppError {
        pb::AppError {
            id: self.id.clone(),
            message: self.message.clone(),
            detailed_error: self.detailed_error.clone(),
            status_code: i32::from(self.status_code),
            r#where: self.location.clone(),
            ..Default::default()
        }
    }

    /// The gRPC status upstream's `AppErrorToStatus` / `ErrorToStatus`
    /// would send.
    pub fn to_status(&self) -> Status {
        match self.kind {
            ErrorKind::App => Status::new(
                grpc_code_for_http(self.status_code),
                format!("{}: {}", self.id, self.message),
            ),
            ErrorKind::Plain => {
                Status::new(Code::Internal, format!("internal error: {}", self.message))
            }
            ErrorKind::Bare(code) => Status::new(code, self.message.clone()),
        }
    }

    /// A response of any PluginAPI method carrying only this error: every
    /// response message has `AppError error = 1`, so the bytes are the same
    /// whatever the method.
    /// This error as `method` delivers it: in the response, or as a status.
    pub fn deliver(&self, method: &str) -> Result<Bytes, Status> {
        match convention(method) {
            ErrorConvention::Embedded => Ok(self.to_embedded_response()),
            ErrorConvention::Status => Err(self.to_status()),
        }
    }

    pub fn to_embedded_response(&self) -> Bytes {
        let mut buf = Vec::new();
        prost::encoding::message::encode(1, &self.to_proto(), &mut buf);
        buf.into()
    }
}

/// How an RPC reports failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorConvention {
    /// `AppError` in field 1, status OK.
    Embedded,
    /// A gRPC status error, no body.
    Status,
}

/// The RPCs of upstream's api_post.go and api_file.go, which embed their
/// errors (every other handler file returns a status). Upload sessions are
/// file RPCs in the protocol but live in handlers_remaining.go.
const EMBEDDING_METHODS: &[&str] = &[
    "CreatePost",
    "AddReaction",
    "RemoveReaction",
    "GetReactions",
    "SendEphemeralPost",
    "UpdateEphemeralPost",
    "DeleteEphemeralPost",
    "DeletePost",
    "GetPostThread",
    "GetPost",
    "GetPostsSince",
    "GetPostsAfter",
    "GetPostsBefore",
    "GetPostsForChannel",
    "UpdatePost",
    "SearchPostsInTeam",
    "SearchPostsInTeamForUser",
    "CopyFileInfos",
    "GetFileInfo",
    "SetFileSearchableContent",
    "GetFileInfos",
    "GetFile",
    "GetFileLink",
    "ReadFile",
    "UploadFile",
];

pub fn convention(method: &str) -> ErrorConvention {
    // Every KV RPC lives in upstream's api_kv.go; PublishWebSocketEvent
    // shares the KV area in the protocol but not that file.
    let kv = method.starts_with("KV");
    if kv || EMBEDDING_METHODS.contains(&method) {
        ErrorConvention::Embedded
    } else {
        ErrorConvention::Status
    }
}

/// Upstream's mapping from an `AppError`'s HTTP status to a gRPC code.
pub fn grpc_code_for_http(status: u16) -> Code {
    match status {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        409 => Code::AlreadyExists,
        413 | 429 => Code::ResourceExhausted,
        501 => Code::Unimplemented,
        503 => Code::Unavailable,
        _ => Code::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn kv_post_and_file_rpcs_embed_the_rest_use_status() {
        assert_eq!(convention("KVGet"), ErrorConvention::Embedded);
        assert_eq!(convention("KVCompareAndSet"), ErrorConvention::Embedded);
        assert_eq!(convention("GetPost"), ErrorConvention::Embedded);
        assert_eq!(convention("UploadFile"), ErrorConvention::Embedded);
        assert_eq!(convention("GetFileInfo"), ErrorConvention::Embedded);
        assert_eq!(convention("UploadData"), ErrorConvention::Status);
        assert_eq!(convention("GetUser"), ErrorConvention::Status);
        assert_eq!(convention("SaveConfig"), ErrorConvention::Status);
        assert_eq!(convention("PublishWebSocketEvent"), ErrorConvention::Status);
    }

    #[test]
    fn status_text_and_code_follow_upstream() {
        let err = ApiError::not_found(
            "GetUser",
            "app.user.missing_account.const",
            "user not found",
        );
        let status = err.to_status();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status.message(),
            "app.user.missing_account.const: user not found"
        );
        assert_eq!(grpc_code_for_http(429), Code::ResourceExhausted);
        assert_eq!(grpc_code_for_http(500), Code::Internal);
        assert_eq!(grpc_code_for_http(418), Code::Internal);
    }

    #[test]
    fn plain_go_errors_and_refused_arguments_have_their_own_text() {
        let plain = ApiError::plain("EnsureBotUser", "passed a bot with no username").to_status();
        assert_eq!(plain.code(), Code::Internal);
        assert_eq!(
            plain.message(),
            "internal error: passed a bot with no username"
        );
        let refused = ApiError::argument("CreateBot", "bot is required").to_status();
        assert_eq!(
            (refused.code(), refused.message()),
            (Code::InvalidArgument, "bot is required")
        );
        let wrapped = ApiError::invalid(
            "Bot.IsValid",
            "model.bot.is_valid.username.app_error",
            "Invalid username.",
        )
        .with_detail("user_id=x");
        assert_eq!(
            wrapped.go_text(),
            "Bot.IsValid: Invalid username., user_id=x"
        );
    }

    #[test]
    fn an_embedded_error_decodes_as_any_response_type() {
        let err = ApiError::not_found("GetPost", "app.post.get.app_error", "missing");
        let bytes = err.to_embedded_response();
        let get_post = pb::GetPostResponse::decode(bytes.clone()).unwrap();
        assert_eq!(get_post.error.unwrap().id, "app.post.get.app_error");
        assert!(get_post.post.is_none());
        let kv = pb::KvGetResponse::decode(bytes).unwrap();
        assert_eq!(kv.error.unwrap().status_code, 404);
    }
}
