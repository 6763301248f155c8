//! The LogX RPCs: kept as the plugin's log lines in the world.

use mm_plugin_proto::pb;

use crate::{
    registry::{HandlerResult, Registry},
    world::{PluginLog, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(log_debug);
    registry.add(log_info);
    registry.add(log_warn);
    registry.add(log_error);
}

fn keep(world: &mut World, level: &'static str, message: String, pairs: Vec<pb::KeyValuePair>) {
    let fields = pairs
        .into_iter()
        .map(|pair| {
            let value = pair
                .value
                .map(|value| {
                    let wrapped = prost_types::Struct {
                        fields: [("v".to_owned(), value)].into(),
                    };
                    wire::struct_to_json(&wrapped)
                        .remove("v")
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            (pair.key, value)
        })
        .collect();
    world.logs.push(PluginLog {
        level,
        message,
        fields,
    });
}

fn log_debug(
    world: &mut World,
    request: pb::LogDebugRequest,
) -> HandlerResult<pb::LogDebugResponse> {
    keep(world, "debug", request.msg, request.key_value_pairs);
    Ok(pb::LogDebugResponse { error: None })
}

fn log_info(world: &mut World, request: pb::LogInfoRequest) -> HandlerResult<pb::LogInfoResponse> {
    keep(world, "info", request.msg, request.key_value_pairs);
    Ok(pb::LogInfoResponse { error: None })
}

fn log_warn(world: &mut World, request: pb::LogWarnRequest) -> HandlerResult<pb::LogWarnResponse> {
    keep(world, "warn", request.msg, request.key_value_pairs);
    Ok(pb::LogWarnResponse { error: None })
}

fn log_error(
    world: &mut World,
    request: pb::LogErrorRequest,
) -> HandlerResult<pb::LogErrorResponse> {
    keep(world, "error", request.msg, request.key_value_pairs);
    Ok(pb::LogErrorResponse { error: None })
}
