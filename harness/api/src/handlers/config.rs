//! Server and plugin configuration, and the plugin's own identity.

use mm_plugin_proto::pb;
use serde_json::Value;

use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
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

/// The gRPC layer refuses a missing or undecodable config itself, with
/// bare `InvalidArgument` text, before the app sees it.
fn save_config(
    world: &mut World,
    request: pb::SaveConfigRequest,
) -> HandlerResult<pb::SaveConfigResponse> {
    if request.config_json.is_empty() {
        return Err(ApiError::argument("SaveConfig", "config_json is required"));
    }
    let config: Value = serde_json::from_slice(&request.config_json)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            ApiError::argument(
                "SaveConfig",
                "failed to unmarshal config: config_json is not a JSON object",
            )
        })?;
    world.config = config;
    Ok(pb::SaveConfigResponse { error: None })
}

/// The plugin's settings as the server hands them over: keys lower-cased
/// (`LoadPluginConfiguration` folds them so they match struct fields).
fn load_plugin_configuration(
    world: &mut World,
    _: pb::LoadPluginConfigurationRequest,
) -> HandlerResult<pb::LoadPluginConfigurationResponse> {
    let folded: serde_json::Map<String, Value> = world
        .plugin_config
        .iter()
        .map(|(key, value)| (key.to_lowercase(), value.clone()))
        .collect();
    Ok(pb::LoadPluginConfigurationResponse {
        error: None,
        config_json: serde_json::to_vec(&folded).expect("JSON values serialize"),
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
    let config = request
        .config
        .ok_or_else(|| ApiError::argument("SavePluginConfig", "config is required"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    #[test]
    fn plugin_settings_reach_the_plugin_with_folded_keys() {
        let mut w = world();
        w.plugin_config
            .insert("ApiKey".into(), Value::String("k".into()));
        let json = load_plugin_configuration(&mut w, pb::LoadPluginConfigurationRequest {})
            .unwrap()
            .config_json;
        let loaded: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(loaded, serde_json::json!({"apikey": "k"}));
    }

    #[test]
    fn saving_needs_a_config_the_grpc_layer_can_read() {
        let mut w = world();
        let status = save_config(
            &mut w,
            pb::SaveConfigRequest {
                config_json: vec![],
            },
        )
        .unwrap_err()
        .to_status();
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::InvalidArgument, "config_json is required")
        );
        assert!(
            save_config(
                &mut w,
                pb::SaveConfigRequest {
                    config_json: b"[1]".to_vec()
                }
            )
            .is_err()
        );
        let status = save_plugin_config(&mut w, pb::SavePluginConfigRequest { config: None })
            .unwrap_err()
            .to_status();
        assert_eq!(status.message(), "config is required");
        save_config(
            &mut w,
            pb::SaveConfigRequest {
                config_json: br#"{"TeamSettings": {"SiteName": "X"}}"#.to_vec(),
            },
        )
        .unwrap();
        assert_eq!(w.config["TeamSettings"]["SiteName"], "X");
    }
}
