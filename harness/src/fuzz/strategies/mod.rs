//! proptest strategies for everything the server sends a plugin: every
//! unary hook's request (built as typed `pb` messages, then encoded), and
//! ServeHTTP requests.
//!
//! Two profiles share one set of strategies: [`Profile::Realistic`] weights
//! values as a busy server would see them (mostly plain chat, now and then
//! an emoji sequence, a right-to-left override, a 10 000-character paste);
//! [`Profile::Edge`] turns the weights towards what breaks decoders and
//! handlers (control characters, odd ids, deep nesting, several MiB).

mod basics;
mod hooks;
mod http;
mod messages;
mod people;
mod plain;
mod text;

pub use hooks::{message_path, unary_request};
pub use http::{HttpCase, http_case};
pub use plain::{PlainFirst, plain_first};

/// How values are distributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// As a busy server would send them (the default).
    #[default]
    Realistic,
    /// Heavy on edge cases (`--edge`).
    Edge,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Realistic => "realistic",
            Profile::Edge => "edge-heavy",
        }
    }
}
