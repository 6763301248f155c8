//! Facts about the server itself.

use mm_plugin_proto::pb;

use crate::api::{
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_server_version);
    registry.add(is_enterprise_ready);
}

fn get_server_version(
    world: &mut World,
    _: pb::GetServerVersionRequest,
) -> HandlerResult<pb::GetServerVersionResponse> {
    Ok(pb::GetServerVersionResponse {
        error: None,
        version: world.server_version.clone(),
    })
}

fn is_enterprise_ready(
    _: &mut World,
    _: pb::IsEnterpriseReadyRequest,
) -> HandlerResult<pb::IsEnterpriseReadyResponse> {
    Ok(pb::IsEnterpriseReadyResponse {
        error: None,
        is_enterprise_ready: false,
    })
}
