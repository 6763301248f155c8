//! What the server actually puts in a hook request. Its hook path converts
//! model objects to protobuf with hand-written functions that leave some
//! fields out, so a plugin never sees them filled — whatever the `.proto`
//! allows. Requests the harness makes up (built-in suites, the default fuzz
//! profile) keep to what the server sends; anything beyond is marked.
//!
//! The table mirrors the conversions in upstream's
//! `server/public/plugin/hooks_grpc_client.go` (see proto/PROTOCOL.md §2):
//! - `postToProto` carries a post's fields 1–13, 15–21 and 23: no `props`,
//!   `participants` or `metadata`;
//! - `channelToProto` leaves `type` unset (0 on the wire), and sets none of
//!   `props`, `banner_info`, `auto_translation`, `policy_enforced`,
//!   `policy_is_active` or `default_category_name`.

use prost_reflect::{DynamicMessage, ReflectMessage, Value};

/// Per message type (full name), the fields the server's hook path never fills.
pub const NOT_SENT_BY_SERVER: &[(&str, &[&str])] = &[
    (
        "mattermost.pluginapi.v1.Post",
        &["props", "participants", "metadata"],
    ),
    (
        "mattermost.pluginapi.v1.Channel",
        &[
            "type",
            "props",
            "banner_info",
            "auto_translation",
            "policy_enforced",
            "policy_is_active",
            "default_category_name",
        ],
    ),
];

fn not_sent(message: &DynamicMessage) -> &'static [&'static str] {
    let name = message.descriptor().full_name().to_owned();
    NOT_SENT_BY_SERVER
        .iter()
        .find(|(type_name, _)| *type_name == name)
        .map_or(&[], |(_, fields)| fields)
}

/// The paths (`post.props`, `channel.type`) of fields set in `message`, at
/// any depth, that the server would not have sent.
pub fn beyond_server(message: &DynamicMessage) -> Vec<String> {
    let mut paths = Vec::new();
    walk(message, "", &mut |path, _| paths.push(path.to_owned()));
    paths
}

/// Clears, at any depth, every field of `message` the server would not
/// have sent.
pub fn as_server_sends(message: &mut DynamicMessage) {
    for name in not_sent(message) {
        message.clear_field_by_name(name);
    }
    for field in message.descriptor().fields() {
        if !message.has_field(&field) {
            continue;
        }
        match message.get_field_mut(&field) {
            Value::Message(inner) => as_server_sends(inner),
            Value::List(items) => {
                for item in items {
                    if let Value::Message(inner) = item {
                        as_server_sends(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

fn walk(message: &DynamicMessage, prefix: &str, found: &mut dyn FnMut(&str, &str)) {
    let unsent = not_sent(message);
    for (field, value) in message.fields() {
        let path = if prefix.is_empty() {
            field.name().to_owned()
        } else {
            format!("{prefix}.{}", field.name())
        };
        if unsent.contains(&field.name()) {
            found(&path, field.name());
            continue;
        }
        match value {
            Value::Message(inner) => walk(inner, &path, found),
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Value::Message(inner) = item {
                        walk(inner, &format!("{path}[{index}]"), found);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use mm_plugin_proto::pb;
    use prost::Message;

    use super::*;

    fn request(post: pb::Post) -> DynamicMessage {
        let bytes = pb::MessageWillBePostedRequest {
            post: Some(post),
            ..Default::default()
        }
        .encode_to_vec();
        let descriptor = crate::wire::message_descriptor("MessageWillBePostedRequest")
            .expect("the hook's request type exists");
        DynamicMessage::decode(descriptor, bytes.as_slice()).expect("it decodes")
    }

    #[test]
    fn props_of_a_post_are_beyond_what_the_server_sends_and_can_be_cleared() {
        let props = crate::wire::json_to_struct(
            serde_json::json!({"from_bot": "false"})
                .as_object()
                .expect("an object"),
        );
        let mut message = request(pb::Post {
            message: "hi".into(),
            props: Some(props),
            ..Default::default()
        });
        assert_eq!(beyond_server(&message), ["post.props"]);
        as_server_sends(&mut message);
        assert!(beyond_server(&message).is_empty());
        let post = message.get_field_by_name("post").expect("post is set");
        let post = post.as_message().expect("a message");
        assert_eq!(
            post.get_field_by_name("message").expect("message").as_str(),
            Some("hi")
        );
    }

    #[test]
    fn a_post_as_the_server_sends_it_passes() {
        let message = request(pb::Post {
            id: "p".into(),
            message: "hi".into(),
            ..Default::default()
        });
        assert!(beyond_server(&message).is_empty());
    }
}
