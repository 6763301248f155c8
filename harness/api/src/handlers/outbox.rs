//! What a plugin asks the server to send out: WebSocket events, typing
//! indicators, interactive dialogs, mail, cluster events, push
//! notifications, audit records. Each is recorded in the world's outbox, in
//! order.

use mm_plugin_proto::pb;
use serde_json::json;

use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{AuditEntry, ClusterEvent, Mail, PushDelivery, WebSocketEvent, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(publish_web_socket_event);
    registry.add(publish_user_typing);
    registry.add(open_interactive_dialog);
    registry.add(send_mail);
    registry.add(publish_plugin_cluster_event);
    registry.add(register_collection_and_topic);
    registry.add(send_push_notification);
    registry.add(log_audit_rec);
    registry.add(log_audit_rec_with_level);
}

/// The level `LogAuditRec` writes at (mlog's API audit level).
const DEFAULT_AUDIT_LEVEL: &str = "audit-api";

/// `sendPushNotificationToAllSessions`: one copy, with the session's device
/// and a fresh ack id, for each unexpired session of the user that has a
/// device (a mobile app). A user without one gets nothing, without error;
/// the push proxy's answers are only logged upstream, so none can fail here.
fn send_push_notification(
    world: &mut World,
    request: pb::SendPushNotificationRequest,
) -> HandlerResult<pb::SendPushNotificationResponse> {
    let now = world.now_millis();
    let sessions: Vec<pb::Session> = world
        .sessions
        .values()
        .filter(|session| session.user_id == request.user_id && !session.device_id.is_empty())
        .filter(|session| session.expires_at == 0 || session.expires_at > now)
        .cloned()
        .collect();
    let notification = request.notification.ok_or_else(|| {
        ApiError::invalid(
            "pushNotification",
            "api.push_notifications.message.parse.app_error",
            "An error occurred building the push notification message.",
        )
    })?;
    for session in sessions {
        let mut copy = notification.clone();
        // `SetDeviceIdAndPlatform`: device ids are `<platform>:<token>`.
        match session.device_id.split_once(':') {
            Some((platform, device)) => {
                copy.platform = platform.to_owned();
                copy.device_id = device.to_owned();
            }
            None => copy.device_id = session.device_id.clone(),
        }
        copy.ack_id = world.next_id('a');
        world.sent.push_notifications.push(PushDelivery {
            user_id: request.user_id.clone(),
            session_id: session.id,
            notification: copy,
        });
    }
    Ok(pb::SendPushNotificationResponse { error: None })
}

fn audit(
    world: &mut World,
    record: Option<pb::AuditRecord>,
    level: &str,
    location: &str,
) -> HandlerResult<()> {
    let record = record.ok_or_else(|| ApiError::argument(location, "record is required"))?;
    world.sent.audit_records.push(AuditEntry {
        level: level.to_owned(),
        record,
    });
    Ok(())
}

/// Audit records go to the audit log, which cannot refuse them.
fn log_audit_rec(
    world: &mut World,
    request: pb::LogAuditRecRequest,
) -> HandlerResult<pb::LogAuditRecResponse> {
    audit(world, request.record, DEFAULT_AUDIT_LEVEL, "LogAuditRec")?;
    Ok(pb::LogAuditRecResponse { error: None })
}

/// An empty level means the default one.
fn log_audit_rec_with_level(
    world: &mut World,
    request: pb::LogAuditRecWithLevelRequest,
) -> HandlerResult<pb::LogAuditRecWithLevelResponse> {
    let level = if request.level.is_empty() {
        DEFAULT_AUDIT_LEVEL
    } else {
        &request.level
    };
    audit(world, request.record, level, "LogAuditRecWithLevel")?;
    Ok(pb::LogAuditRecWithLevelResponse { error: None })
}

/// The server renames the event after the plugin (`custom_<id>_<event>`),
/// so clients can tell whose it is. It cannot fail.
fn publish_web_socket_event(
    world: &mut World,
    request: pb::PublishWebSocketEventRequest,
) -> HandlerResult<pb::PublishWebSocketEventResponse> {
    let event = format!("custom_{}_{}", world.plugin_id, request.event);
    world.sent.websocket_events.push(WebSocketEvent {
        event,
        payload: request
            .payload
            .as_ref()
            .map(wire::struct_to_json)
            .unwrap_or_default(),
        broadcast: request.broadcast,
    });
    Ok(pb::PublishWebSocketEventResponse { error: None })
}

/// A `typing` event for the channel (or the thread, with a parent id).
fn publish_user_typing(
    world: &mut World,
    request: pb::PublishUserTypingRequest,
) -> HandlerResult<pb::PublishUserTypingResponse> {
    let payload = json!({"parent_id": request.parent_id, "user_id": request.user_id});
    world.sent.websocket_events.push(WebSocketEvent {
        event: "typing".to_owned(),
        payload: payload.as_object().cloned().unwrap_or_default(),
        broadcast: Some(pb::WebsocketBroadcast {
            channel_id: request.channel_id,
            omit_users: vec![request.user_id],
            ..Default::default()
        }),
    });
    Ok(pb::PublishUserTypingResponse { error: None })
}

/// The trigger id must be present; its signature is not checked (the
/// harness did not issue it).
fn open_interactive_dialog(
    world: &mut World,
    request: pb::OpenInteractiveDialogRequest,
) -> HandlerResult<pb::OpenInteractiveDialogResponse> {
    let dialog = request.dialog.unwrap_or_default();
    if dialog.trigger_id.is_empty() {
        return Err(ApiError::invalid(
            "DecodeAndVerifyTriggerId",
            "interactive_message.decode_trigger_id.missing_data",
            "Trigger ID missing required data.",
        ));
    }
    world.sent.dialogs.push(dialog);
    Ok(pb::OpenInteractiveDialogResponse { error: None })
}

/// Recipient, subject and body are all required.
fn send_mail(
    world: &mut World,
    request: pb::SendMailRequest,
) -> HandlerResult<pb::SendMailResponse> {
    let missing = [
        (
            &request.to,
            "plugin_api.send_mail.missing_to",
            "Missing TO address.",
        ),
        (
            &request.subject,
            "plugin_api.send_mail.missing_subject",
            "Missing email subject.",
        ),
        (
            &request.html_body,
            "plugin_api.send_mail.missing_htmlbody",
            "Missing HTML Body.",
        ),
    ];
    if let Some((_, id, message)) = missing.iter().find(|(value, ..)| value.is_empty()) {
        return Err(ApiError::invalid("SendMail", id, *message));
    }
    world.sent.mails.push(Mail {
        to: request.to,
        subject: request.subject,
        html_body: request.html_body,
    });
    Ok(pb::SendMailResponse { error: None })
}

/// Recorded as sent; a single server has no other nodes to reach.
fn publish_plugin_cluster_event(
    world: &mut World,
    request: pb::PublishPluginClusterEventRequest,
) -> HandlerResult<pb::PublishPluginClusterEventResponse> {
    let event = request.event.unwrap_or_default();
    let options = request.opts.unwrap_or_default();
    world.sent.cluster_events.push(ClusterEvent {
        id: event.id,
        data: event.data,
        send_type: options.send_type,
        target_id: options.target_id,
    });
    Ok(pb::PublishPluginClusterEventResponse { error: None })
}

/// No longer supported upstream, which accepts and ignores it.
fn register_collection_and_topic(
    _: &mut World,
    _: pb::RegisterCollectionAndTopicRequest,
) -> HandlerResult<pb::RegisterCollectionAndTopicResponse> {
    Ok(pb::RegisterCollectionAndTopicResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_seed(&World::default_seed(), "com.example.p", "/p", "default").unwrap()
    }

    #[test]
    fn events_are_renamed_for_the_plugin_and_recorded() {
        let mut w = world();
        let payload = wire::json_to_struct(json!({"count": 2}).as_object().unwrap());
        publish_web_socket_event(
            &mut w,
            pb::PublishWebSocketEventRequest {
                event: "refresh".into(),
                payload: Some(payload),
                broadcast: Some(pb::WebsocketBroadcast {
                    user_id: "ualice00000000000000000000".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap();
        publish_user_typing(
            &mut w,
            pb::PublishUserTypingRequest {
                user_id: "ubob0000000000000000000000".into(),
                channel_id: "cacmetownsquare00000000000".into(),
                parent_id: String::new(),
            },
        )
        .unwrap();
        let events: Vec<_> = w
            .sent
            .websocket_events
            .iter()
            .map(|e| e.event.as_str())
            .collect();
        assert_eq!(events, ["custom_com.example.p_refresh", "typing"]);
        assert_eq!(w.sent.websocket_events[0].payload["count"], json!(2.0));
    }

    #[test]
    fn mail_dialogs_and_cluster_events_are_checked_and_recorded() {
        let mut w = world();
        let err = send_mail(
            &mut w,
            pb::SendMailRequest {
                to: "a@example.com".into(),
                subject: String::new(),
                html_body: "<p>x</p>".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_status().message(),
            "plugin_api.send_mail.missing_subject: Missing email subject."
        );
        send_mail(
            &mut w,
            pb::SendMailRequest {
                to: "a@example.com".into(),
                subject: "Hi".into(),
                html_body: "<p>x</p>".into(),
            },
        )
        .unwrap();
        assert_eq!(w.sent.mails.len(), 1);
        let err =
            open_interactive_dialog(&mut w, pb::OpenInteractiveDialogRequest { dialog: None })
                .unwrap_err();
        assert_eq!(err.status_code, 400);
        open_interactive_dialog(
            &mut w,
            pb::OpenInteractiveDialogRequest {
                dialog: Some(pb::OpenDialogRequest {
                    trigger_id: "trigger".into(),
                    url: "/plugins/p/dialog".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap();
        assert_eq!(w.sent.dialogs[0].trigger_id, "trigger");
        publish_plugin_cluster_event(
            &mut w,
            pb::PublishPluginClusterEventRequest {
                event: Some(pb::PluginClusterEvent {
                    id: "sync".into(),
                    data: b"x".to_vec(),
                }),
                opts: None,
            },
        )
        .unwrap();
        assert_eq!(w.sent.cluster_events[0].id, "sync");
    }

    #[test]
    fn push_notifications_go_to_each_mobile_session() {
        let mut w = world();
        for (id, device) in [("s1", "apple:tok1"), ("s2", ""), ("s3", "android:tok3")] {
            w.sessions.insert(
                id.into(),
                pb::Session {
                    id: id.into(),
                    user_id: "ualice00000000000000000000".into(),
                    device_id: device.into(),
                    ..Default::default()
                },
            );
        }
        send_push_notification(
            &mut w,
            pb::SendPushNotificationRequest {
                notification: Some(pb::PushNotification {
                    message: "hi".into(),
                    ..Default::default()
                }),
                user_id: "ualice00000000000000000000".into(),
            },
        )
        .unwrap();
        let sent: Vec<(&str, &str)> = w
            .sent
            .push_notifications
            .iter()
            .map(|p| {
                (
                    p.notification.platform.as_str(),
                    p.notification.device_id.as_str(),
                )
            })
            .collect();
        assert_eq!(sent, [("apple", "tok1"), ("android", "tok3")]);
        let err = send_push_notification(&mut w, Default::default()).unwrap_err();
        assert_eq!(err.id, "api.push_notifications.message.parse.app_error");
    }

    #[test]
    fn audit_records_keep_their_level() {
        let mut w = world();
        let record = || {
            Some(pb::AuditRecord {
                event: "e".into(),
                ..Default::default()
            })
        };
        log_audit_rec(&mut w, pb::LogAuditRecRequest { record: record() }).unwrap();
        log_audit_rec_with_level(
            &mut w,
            pb::LogAuditRecWithLevelRequest {
                record: record(),
                level: "audit-perms".into(),
            },
        )
        .unwrap();
        let levels: Vec<&str> = w
            .sent
            .audit_records
            .iter()
            .map(|a| a.level.as_str())
            .collect();
        assert_eq!(levels, ["audit-api", "audit-perms"]);
        assert_eq!(
            log_audit_rec(&mut w, Default::default())
                .unwrap_err()
                .to_status()
                .code(),
            tonic::Code::InvalidArgument
        );
    }
}
