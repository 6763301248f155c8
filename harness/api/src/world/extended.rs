//! Types of the world's state beyond users, teams and channels: group keys,
//! remotes, resumable uploads, peer plugins' HTTP answers, and the image the
//! server gives a user who never set one.

use std::collections::BTreeMap;

use mm_plugin_proto::pb;

/// (group id, user id).
pub type GroupKey = (String, String);

/// (group id, syncable id, syncable type: `Team` or `Channel`).
pub type SyncableKey = (String, String, String);

/// A remote cluster. In a one-server world the only remotes are plugins
/// registered for shared channels (`RegisterPluginForSharedChannels`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub plugin_id: String,
    pub display_name: String,
    pub description: String,
}

/// A resumable upload: the session as the server keeps it, and the bytes
/// received so far (`session.file_offset` of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub session: pb::UploadSession,
    pub data: Vec<u8>,
}

/// What a peer plugin's ServeHTTP answers to inter-plugin requests. Only
/// the plugin under test runs, so its peers answer from the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAnswer {
    pub status_code: i32,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A 1×1 grey PNG. The server draws a default avatar (initials on a
/// colour) for users without a picture; the harness answers this image
/// instead, which is a real PNG a plugin can decode.
pub const DEFAULT_IMAGE: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x04, 0x00, 0x00, 0x00, 0xb5, 0x1c, 0x0c,
    0x02, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x02, 0x30, 0x81, 0xd0, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];
