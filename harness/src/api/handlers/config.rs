//! Server and plugin configuration, and the plugin's own identity.

use mm_plugin_proto::pb;
use serde_json::Value;

use crate::{
    api::{
        errors::ApiError,
        registry::{HandlerResult, Registry},
        world::World,
    },
    wire,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_config);
    registry.add(get_unsanitized_config);
    registry.add(save_config);
    registry.add(load_plugin_configuration);
    registry.add(get_plugin_config);
    registry.add(save_plugin_config);
    registry.add(get_plugin_id);
    registry.add(get_bundle_path);
}

fn config_bytes(world: &World) -> Vec<u8> {
    serde_json::to_vec(&world.config).expect("JSON values serialize")
}

fn get_config(world: &mut World, _: pb::GetConfigRequest) -> HandlerResult<pb::GetConfigResponse> {
    Ok(pb::GetConfigResponse {
        error: None,
        config_json: config_bytes(world),
    })
}

fn get_unsanitized_config(
    world: &mut World,
    _: pb::GetUnsanitizedConfigRequest,
) -> HandlerResult<pb::GetUnsanitizedConfigResponse> {
    Ok(pb::GetUnsanitizedConfigResponse {
        error: None,
        config_json: config_bytes(world),
    })
}

fn save_config(
    world: &mut World,
    request: pb::SaveConfigRequest,
) -> HandlerResult<pb::SaveConfigResponse> {
    let config: Value = serde_json::from_slice(&request.config_json).map_err(|err| {
        ApiError::invalid(
            "SaveConfig",
            "model.config.is_valid.app_error",
            format!("config_json is not a JSON object: {err}"),
        )
    })?;
    if !config.is_object() {
        return Err(ApiError::invalid(
            "SaveConfig",
            "model.config.is_valid.app_error",
            "config_json is not a JSON object",
        ));
    }
    world.config = config;
    Ok(pb::SaveConfigResponse { error: None })
}

fn load_plugin_configuration(
    world: &mut World,
    _: pb::LoadPluginConfigurationRequest,
) -> HandlerResult<pb::LoadPluginConfigurationResponse> {
    Ok(pb::LoadPluginConfigurationResponse {
        error: None,
        config_json: serde_json::to_vec(&world.plugin_config).expect("JSON values serialize"),
    })
}

fn get_plugin_config(
    world: &mut World,
    _: pb::GetPluginConfigRequest,
) -> HandlerResult<pb::GetPluginConfigResponse> {
    Ok(pb::GetPluginConfigResponse {
        error: None,
        config: Some(wire::json_to_struct(&world.plugin_config)),
    })
}

fn save_plugin_config(
    world: &mut World,
    request: pb::SavePluginConfigRequest,
) -> HandlerResult<pb::SavePluginConfigResponse> {
    let config = request.config.unwrap_or_default();
    world.plugin_config = wire::struct_to_json(&config);
    Ok(pb::SavePluginConfigResponse { error: None })
}

fn get_plugin_id(
    world: &mut World,
    _: pb::GetPluginIdRequest,
) -> HandlerResult<pb::GetPluginIdResponse> {
    Ok(pb::GetPluginIdResponse {
        error: None,
        plugin_id: world.plugin_id.clone(),
    })
}

fn get_bundle_path(
    world: &mut World,
    _: pb::GetBundlePathRequest,
) -> HandlerResult<pb::GetBundlePathResponse> {
    Ok(pb::GetBundlePathResponse {
        error: None,
        path: world.bundle_path.clone(),
    })
}
