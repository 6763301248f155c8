//! Protocol plumbing shared by the hook client and the API server: a gRPC
//! codec that moves raw message bytes, and the conversions between wire
//! bytes, typed prost messages and the proto3 JSON mapping suites are
//! written in.

mod codec;
mod json;
mod names;
mod status;

pub use codec::RawCodec;
pub use json::{
    JsonError, decode_to_json, encode_from_json, json_to_struct, message_descriptor, struct_to_json,
};
pub use names::{closest_api_method, closest_name, is_api_method};
pub use status::{code_from_name, code_name, code_names};
