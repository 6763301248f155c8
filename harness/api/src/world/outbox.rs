//! What the server sent out on the plugin's behalf. None of it changes the
//! world's state (an ephemeral post is shown to one user and never stored),
//! so it is only recorded, in order, for checks and transcripts.

use mm_plugin_proto::pb;
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    pub websocket_events: Vec<WebSocketEvent>,
    pub ephemeral_posts: Vec<EphemeralPost>,
    pub dialogs: Vec<pb::OpenDialogRequest>,
    pub mails: Vec<Mail>,
    pub cluster_events: Vec<ClusterEvent>,
}

/// A WebSocket event as the server publishes it: plugin events are renamed
/// `custom_<plugin id>_<event>`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketEvent {
    pub event: String,
    pub payload: serde_json::Map<String, Value>,
    pub broadcast: Option<pb::WebsocketBroadcast>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EphemeralAction {
    Sent,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EphemeralPost {
    pub action: EphemeralAction,
    /// The one user who sees it.
    pub user_id: String,
    pub post: pb::Post,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub html_body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEvent {
    pub id: String,
    pub data: Vec<u8>,
    pub send_type: String,
    pub target_id: String,
}
