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
    pub audit_records: Vec<AuditEntry>,
    /// One per mobile session the notification went to.
    pub push_notifications: Vec<PushDelivery>,
    /// Requests the plugin made to other plugins (`PluginHTTP`).
    pub plugin_requests: Vec<InterPluginRequest>,
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

/// An audit record the plugin logged, with its audit level.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub level: String,
    pub record: pb::AuditRecord,
}

/// A push notification as handed to the push proxy for one session.
#[derive(Debug, Clone, PartialEq)]
pub struct PushDelivery {
    pub user_id: String,
    pub session_id: String,
    pub notification: pb::PushNotification,
}

/// An inter-plugin HTTP request, as the destination plugin receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterPluginRequest {
    pub from_plugin_id: String,
    pub to_plugin_id: String,
    pub method: String,
    /// The path below the destination plugin, with its query.
    pub url: String,
    pub body: Vec<u8>,
}
