//! Protocol plumbing at the bottom of the stack, shared by the harness and
//! its Plugin API server: a gRPC codec that moves raw message bytes, the
//! conversions between wire bytes, typed prost messages and the proto3 JSON
//! mapping suites are written in, status names as grpc-go spells them,
//! partial JSON matching, and how durations and positions are written.
//!
//! Nothing here knows about suites, plugins or reports: every other part
//! of the harness may depend on this crate, and it depends on none of them.

mod codec;
mod duration;
mod json;
mod json_match;
mod names;
mod status;

pub use codec::RawCodec;
pub use duration::{
    format_duration, serialize_duration, serialize_optional_duration, strip_serde_position,
};
pub use json::{
    JsonError, decode_to_json, encode_from_json, json_to_struct, message_descriptor, struct_to_json,
};
pub use json_match::{Mismatch, partial_match};
pub use names::{closest_api_method, closest_name, is_api_method};
pub use status::{code_from_name, code_name, code_names, status_text};
