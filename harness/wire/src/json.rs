//! Wire bytes <-> the proto3 JSON mapping, by message descriptor.
//!
//! Output uses the `.proto` field names (`rejection_reason`, as plugin
//! authors see them in the SDK); input accepts those and the lowerCamelCase
//! JSON names alike, as the proto3 mapping requires.

use bytes::Bytes;
use prost::Message;
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::Value;

/// A JSON payload that does not fit its message type.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    pub message: String,
    /// 1-based position inside the JSON text, when parsed from text.
    pub line: usize,
    pub column: usize,
}

/// The descriptor of `mattermost.pluginapi.v1.<name>` (or a fully qualified name).
pub fn message_descriptor(name: &str) -> Option<MessageDescriptor> {
    let pool = mm_plugin_proto::descriptor_pool();
    pool.get_message_by_name(name)
        .or_else(|| pool.get_message_by_name(&format!("{}.{name}", mm_plugin_proto::PACKAGE)))
}

/// Decodes wire bytes into JSON. Fields at their default value are shown
/// too, so a reader (and a partial match) sees `"rejection_reason": ""`
/// rather than nothing.
pub fn decode_to_json(
    descriptor: &MessageDescriptor,
    bytes: &[u8],
) -> Result<Value, prost::DecodeError> {
    let message = DynamicMessage::decode(descriptor.clone(), bytes)?;
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false);
    Ok(message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .expect("a decoded message always serializes to JSON"))
}

/// Encodes JSON text (a suite's request) into wire bytes, refusing unknown
/// fields and wrong types with the position of the offending token.
pub fn encode_from_json(descriptor: &MessageDescriptor, text: &str) -> Result<Bytes, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let message = DynamicMessage::deserialize_with_options(
        descriptor.clone(),
        &mut deserializer,
        &DeserializeOptions::new(),
    )
    .and_then(|message| deserializer.end().map(|()| message))
    .map_err(|err| JsonError {
        message: crate::strip_serde_position(&err.to_string()),
        line: err.line(),
        column: err.column(),
    })?;
    Ok(message.encode_to_vec().into())
}

/// A JSON object as a `google.protobuf.Struct` (the plugin config's type).
pub fn json_to_struct(object: &serde_json::Map<String, Value>) -> prost_types::Struct {
    let descriptor = message_descriptor("google.protobuf.Struct").expect("Struct is imported");
    let message = DynamicMessage::deserialize(descriptor, Value::Object(object.clone()))
        .expect("every JSON object is a valid Struct");
    prost_types::Struct::decode(message.encode_to_vec().as_slice())
        .expect("a Struct's bytes decode as a Struct")
}

/// A `google.protobuf.Struct` as a JSON object.
pub fn struct_to_json(value: &prost_types::Struct) -> serde_json::Map<String, Value> {
    let descriptor = message_descriptor("google.protobuf.Struct").expect("Struct is imported");
    match decode_to_json(&descriptor, &value.encode_to_vec()) {
        Ok(Value::Object(object)) => object,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mm_plugin_proto::pb;

    #[test]
    fn json_round_trips_through_wire_bytes() {
        let descriptor = message_descriptor("MessageWillBePostedRequest").unwrap();
        let bytes = encode_from_json(
            &descriptor,
            r#"{"post": {"message": "hi", "channelId": "c1", "createAt": "17"}}"#,
        )
        .unwrap();
        let typed = pb::MessageWillBePostedRequest::decode(bytes.as_ref()).unwrap();
        let post = typed.post.as_ref().unwrap();
        assert_eq!(
            (
                post.message.as_str(),
                post.channel_id.as_str(),
                post.create_at
            ),
            ("hi", "c1", 17)
        );
        let json = decode_to_json(&descriptor, &bytes).unwrap();
        assert_eq!(json["post"]["channel_id"], "c1");
        assert_eq!(json["post"]["message"], "hi");
        // Default-valued fields are shown, with proto field names.
        assert_eq!(json["post"]["root_id"], "");
    }

    #[test]
    fn structs_and_json_objects_convert_both_ways() {
        let object = serde_json::json!({"a": 1.5, "b": ["x", true, null], "c": {"d": "e"}});
        let object = object.as_object().unwrap();
        let converted = json_to_struct(object);
        assert_eq!(converted.fields.len(), 3);
        assert_eq!(&struct_to_json(&converted), object);
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_positioned() {
        let descriptor = message_descriptor("MessageWillBePostedRequest").unwrap();
        let err = encode_from_json(&descriptor, "{\n  \"post\": {\"mesage\": \"x\"}}").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("mesage"), "{}", err.message);
        let err = encode_from_json(&descriptor, r#"{"post": {"message": 5}}"#).unwrap_err();
        assert!(err.message.contains("string"), "{}", err.message);
    }
}
