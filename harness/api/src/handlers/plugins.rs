//! Installed plugins: list, status, enable, disable, remove. The plugin
//! under test is always installed and running; the world's seed may add
//! others. Enabling or disabling records the choice (and the server's
//! `PluginSettings.PluginStates`) but starts or stops nothing.

use mm_plugin_proto::pb;
use serde_json::json;

use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{InstalledPlugin, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(get_plugins);
    registry.add(get_plugin_status);
    registry.add(enable_plugin);
    registry.add(disable_plugin);
    registry.add(remove_plugin);
}

/// `model.PluginStateNotRunning` and `PluginStateRunning`.
const NOT_RUNNING: i32 = 0;
const RUNNING: i32 = 2;

fn not_installed(location: &str, id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.plugin.not_installed.app_error",
        "Plugin is not installed.",
    )
    .with_detail(format!("plugin_id={id}"))
}

fn installed<'w>(
    world: &'w mut World,
    location: &str,
    id: &str,
) -> HandlerResult<&'w mut InstalledPlugin> {
    world
        .plugins
        .get_mut(id)
        .ok_or_else(|| not_installed(location, id))
}

/// Active plugins first, then inactive ones, as upstream lists them.
fn get_plugins(
    world: &mut World,
    _: pb::GetPluginsRequest,
) -> HandlerResult<pb::GetPluginsResponse> {
    let (active, inactive): (Vec<&InstalledPlugin>, Vec<&InstalledPlugin>) =
        world.plugins.values().partition(|plugin| plugin.enabled);
    let manifests = active
        .into_iter()
        .chain(inactive)
        .map(|plugin| plugin.manifest.clone())
        .collect();
    Ok(pb::GetPluginsResponse {
        error: None,
        manifests,
    })
}

fn get_plugin_status(
    world: &mut World,
    request: pb::GetPluginStatusRequest,
) -> HandlerResult<pb::GetPluginStatusResponse> {
    let bundle_path = world.bundle_path.clone();
    let under_test = request.id == world.plugin_id;
    let plugin = installed(world, "GetPluginStatus", &request.id)?;
    let plugin_path = if under_test {
        bundle_path
    } else {
        format!("plugins/{}", request.id)
    };
    let status = pb::PluginStatus {
        plugin_id: request.id.clone(),
        plugin_path,
        state: if plugin.enabled { RUNNING } else { NOT_RUNNING },
        name: plugin.manifest.name.clone(),
        description: plugin.manifest.description.clone(),
        version: plugin.manifest.version.clone(),
    };
    Ok(pb::GetPluginStatusResponse {
        error: None,
        status: Some(status),
    })
}

/// Records the choice where the server keeps it in its configuration.
fn set_enabled(world: &mut World, location: &str, id: &str, enabled: bool) -> HandlerResult<()> {
    installed(world, location, id)?.enabled = enabled;
    let mut section = &mut world.config;
    for key in ["PluginSettings", "PluginStates"] {
        if !section.is_object() {
            *section = json!({});
        }
        section = &mut section[key];
    }
    if !section.is_object() {
        *section = json!({});
    }
    section[id] = json!({ "Enable": enabled });
    Ok(())
}

fn enable_plugin(
    world: &mut World,
    request: pb::EnablePluginRequest,
) -> HandlerResult<pb::EnablePluginResponse> {
    set_enabled(world, "EnablePlugin", &request.id, true)?;
    Ok(pb::EnablePluginResponse { error: None })
}

fn disable_plugin(
    world: &mut World,
    request: pb::DisablePluginRequest,
) -> HandlerResult<pb::DisablePluginResponse> {
    set_enabled(world, "DisablePlugin", &request.id, false)?;
    Ok(pb::DisablePluginResponse { error: None })
}

/// Uninstalls the plugin and drops the slash commands it registered.
fn remove_plugin(
    world: &mut World,
    request: pb::RemovePluginRequest,
) -> HandlerResult<pb::RemovePluginResponse> {
    world
        .plugins
        .remove(&request.id)
        .ok_or_else(|| not_installed("removePlugin", &request.id))?;
    world
        .plugin_commands
        .retain(|registered| registered.plugin_id != request.id);
    Ok(pb::RemovePluginResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHER: &str = "com.example.other";

    fn world() -> World {
        World::from_seed(
            &World::default_seed(),
            "com.example.p",
            "/plugins/p",
            "default",
        )
        .unwrap()
    }

    fn state(w: &mut World, id: &str) -> HandlerResult<i32> {
        get_plugin_status(w, pb::GetPluginStatusRequest { id: id.into() })
            .map(|r| r.status.unwrap().state)
    }

    #[test]
    fn plugins_are_listed_and_toggled() {
        let mut w = world();
        let ids: Vec<_> = get_plugins(&mut w, pb::GetPluginsRequest {})
            .unwrap()
            .manifests
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, ["com.example.p", OTHER]);
        assert_eq!(state(&mut w, "com.example.p").unwrap(), RUNNING);
        assert_eq!(state(&mut w, OTHER).unwrap(), NOT_RUNNING);
        enable_plugin(&mut w, pb::EnablePluginRequest { id: OTHER.into() }).unwrap();
        assert_eq!(state(&mut w, OTHER).unwrap(), RUNNING);
        assert_eq!(
            w.config["PluginSettings"]["PluginStates"][OTHER]["Enable"],
            json!(true)
        );
        disable_plugin(&mut w, pb::DisablePluginRequest { id: OTHER.into() }).unwrap();
        assert_eq!(state(&mut w, OTHER).unwrap(), NOT_RUNNING);
    }

    #[test]
    fn unknown_plugins_are_not_installed() {
        let mut w = world();
        let err = state(&mut w, "nope").unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.plugin.not_installed.app_error")
        );
        remove_plugin(&mut w, pb::RemovePluginRequest { id: OTHER.into() }).unwrap();
        let err = remove_plugin(&mut w, pb::RemovePluginRequest { id: OTHER.into() }).unwrap_err();
        assert_eq!(err.id, "app.plugin.not_installed.app_error");
    }
}
