//! Pins names and numbers of the wire protocol that upstream peers rely on,
//! so that an accidental rename or renumbering fails here, loudly.

use mm_plugin_proto::{api_service, descriptor_pool, hooks_service};
use prost_reflect::Kind;

fn field_number(message: &str, field: &str) -> u32 {
    let message = descriptor_pool()
        .get_message_by_name(&format!("mattermost.pluginapi.v1.{message}"))
        .unwrap_or_else(|| panic!("no message {message}"));
    message
        .get_field_by_name(field)
        .unwrap_or_else(|| panic!("no field {message:?}.{field}"))
        .number()
}

#[test]
fn service_sizes_and_method_paths() {
    assert_eq!(hooks_service().methods().count(), 42);
    assert_eq!(api_service().methods().count(), 236);
    let path = |service: &prost_reflect::ServiceDescriptor, name: &str| {
        let method = service.methods().find(|m| m.name() == name).unwrap();
        format!("/{}/{}", service.full_name(), method.name())
    };
    assert_eq!(
        path(&hooks_service(), "MessageWillBePosted"),
        "/mattermost.pluginapi.v1.PluginHooks/MessageWillBePosted"
    );
    assert_eq!(
        path(&api_service(), "GetServerVersion"),
        "/mattermost.pluginapi.v1.PluginAPI/GetServerVersion"
    );
}

#[test]
fn serve_http_is_the_only_streaming_hook_and_is_bidirectional() {
    let streaming: Vec<_> = hooks_service()
        .methods()
        .filter(|m| m.is_client_streaming() || m.is_server_streaming())
        .collect();
    assert_eq!(streaming.len(), 1);
    assert_eq!(streaming[0].name(), "ServeHTTP");
    assert!(streaming[0].is_client_streaming() && streaming[0].is_server_streaming());
    assert!(
        api_service()
            .methods()
            .all(|m| !m.is_client_streaming() && !m.is_server_streaming())
    );
}

#[test]
fn field_numbers_upstream_peers_depend_on() {
    let facts = [
        ("MessageWillBePostedResponse", "modified_post", 1),
        ("MessageWillBePostedResponse", "rejection_reason", 2),
        ("MessageWillBePostedRequest", "context", 1),
        ("MessageWillBePostedRequest", "plugin_context", 2),
        ("MessageWillBePostedRequest", "post", 3),
        ("AppError", "id", 1),
        ("AppError", "message", 2),
        ("AppError", "detailed_error", 3),
        ("AppError", "request_id", 4),
        ("AppError", "status_code", 5),
        ("AppError", "where", 6),
        ("ImplementedResponse", "error", 1),
        ("ImplementedResponse", "hooks", 2),
        ("ServeHTTPRequest", "init", 1),
        ("ServeHTTPRequest", "body_chunk", 2),
        ("ServeHTTPRequest", "body_complete", 3),
        ("ServeHTTPResponse", "flush", 4),
        ("ServeHTTPRequestInit", "content_length", 11),
        ("ExecuteCommandResponse", "response", 2),
        ("UserWillLogInResponse", "rejection_reason", 1),
        ("GetUserResponse", "error", 1),
        ("GetUserResponse", "user", 2),
        ("KVCompareAndSetResponse", "success", 2),
        ("Post", "props", 14),
        ("Post", "metadata", 24),
        ("User", "is_bot", 28),
        ("Channel", "type", 6),
        ("CommandArgs", "channel_mention", 11),
        ("PluginContext", "user_agent", 5),
        ("RequestContext", "user_id", 4),
    ];
    for (message, field, number) in facts {
        assert_eq!(field_number(message, field), number, "{message}.{field}");
    }
}

#[test]
fn types_that_look_wrong_but_are_upstream() {
    // PostList.first_inaccessible_post_time is a bool on the wire.
    let post_list = descriptor_pool()
        .get_message_by_name("mattermost.pluginapi.v1.PostList")
        .unwrap();
    let field = post_list
        .get_field_by_name("first_inaccessible_post_time")
        .unwrap();
    assert_eq!(field.kind(), Kind::Bool);
    // CommandResponse.attachments repeats CommandResponse itself.
    let response = descriptor_pool()
        .get_message_by_name("mattermost.pluginapi.v1.CommandResponse")
        .unwrap();
    let attachments = response.get_field_by_name("attachments").unwrap();
    assert!(attachments.is_list());
    assert!(matches!(attachments.kind(), Kind::Message(m) if m.name() == "CommandResponse"));
}
