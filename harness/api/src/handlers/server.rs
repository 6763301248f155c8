//! Facts about the server itself: version, edition, license, install date,
//! telemetry id, cloud limits.

use mm_plugin_proto::pb;

use crate::{
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(get_server_version);
    registry.add(is_enterprise_ready);
    registry.add(get_license);
    registry.add(get_system_install_date);
    registry.add(get_diagnostic_id);
    registry.add(get_telemetry_id);
    registry.add(get_cloud_limits);
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

/// The harness is an unlicensed server: no license, so no JSON.
fn get_license(_: &mut World, _: pb::GetLicenseRequest) -> HandlerResult<pb::GetLicenseResponse> {
    Ok(pb::GetLicenseResponse {
        error: None,
        license_json: Vec::new(),
    })
}

fn get_system_install_date(
    world: &mut World,
    _: pb::GetSystemInstallDateRequest,
) -> HandlerResult<pb::GetSystemInstallDateResponse> {
    Ok(pb::GetSystemInstallDateResponse {
        error: None,
        install_date: world.install_date,
    })
}

/// Upstream answers the telemetry id for both.
fn get_diagnostic_id(
    world: &mut World,
    _: pb::GetDiagnosticIdRequest,
) -> HandlerResult<pb::GetDiagnosticIdResponse> {
    Ok(pb::GetDiagnosticIdResponse {
        error: None,
        diagnostic_id: world.telemetry_id.clone(),
    })
}

fn get_telemetry_id(
    world: &mut World,
    _: pb::GetTelemetryIdRequest,
) -> HandlerResult<pb::GetTelemetryIdResponse> {
    Ok(pb::GetTelemetryIdResponse {
        error: None,
        telemetry_id: world.telemetry_id.clone(),
    })
}

/// Not a cloud server: empty `ProductLimits`.
fn get_cloud_limits(
    _: &mut World,
    _: pb::GetCloudLimitsRequest,
) -> HandlerResult<pb::GetCloudLimitsResponse> {
    Ok(pb::GetCloudLimitsResponse {
        error: None,
        limits_json: b"{}".to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_facts_come_from_the_world() {
        let mut w = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        assert_eq!(
            get_system_install_date(&mut w, pb::GetSystemInstallDateRequest {})
                .unwrap()
                .install_date,
            1_704_067_200_000
        );
        let diagnostic = get_diagnostic_id(&mut w, pb::GetDiagnosticIdRequest {})
            .unwrap()
            .diagnostic_id;
        let telemetry = get_telemetry_id(&mut w, pb::GetTelemetryIdRequest {})
            .unwrap()
            .telemetry_id;
        assert_eq!((diagnostic.len(), &diagnostic), (26, &telemetry));
        assert!(
            get_license(&mut w, pb::GetLicenseRequest {})
                .unwrap()
                .license_json
                .is_empty()
        );
    }
}
