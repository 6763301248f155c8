//! `InstallPlugin`: a plugin bundle (a gzipped tar with a `plugin.json`
//! manifest) uploaded by the plugin. The bundle is read for its manifest
//! and the plugin is installed, not enabled, as upstream installs it;
//! nothing is unpacked or started.

use std::io::Read;

use mm_plugin_proto::pb;
use serde::Deserialize;

use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{InstalledPlugin, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(install_plugin);
}

/// A tar archive is a sequence of 512-byte blocks: a header (name in bytes
/// 0..100, size in octal in bytes 124..136), then the file's blocks.
const TAR_BLOCK: usize = 512;

/// The manifest fields the protocol carries.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ManifestFile {
    id: String,
    name: String,
    description: String,
    homepage_url: String,
    support_url: String,
    release_notes_url: String,
    icon_path: String,
    version: String,
    min_server_version: String,
}

fn extract_error(detail: impl Into<String>) -> ApiError {
    ApiError::invalid(
        "extractPlugin",
        "app.plugin.extract.app_error",
        "Encountered error extracting plugin.",
    )
    .with_detail(detail)
}

/// The bytes of the bundle's `plugin.json` (at the top or one directory
/// down, as bundles are usually made), if any.
fn find_manifest(bundle: &[u8]) -> HandlerResult<Option<Vec<u8>>> {
    let mut archive = Vec::new();
    flate2::read::GzDecoder::new(bundle)
        .read_to_end(&mut archive)
        .map_err(|err| extract_error(err.to_string()))?;
    let mut offset = 0;
    while offset + TAR_BLOCK <= archive.len() {
        let header = &archive[offset..offset + TAR_BLOCK];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let field = |range: std::ops::Range<usize>| {
            let bytes = &header[range];
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            String::from_utf8_lossy(&bytes[..end]).trim().to_owned()
        };
        let name = field(0..100);
        let size = usize::from_str_radix(&field(124..136), 8)
            .map_err(|_| extract_error(format!("bad tar header for {name:?}")))?;
        let start = offset + TAR_BLOCK;
        let data = archive
            .get(start..start + size)
            .ok_or_else(|| extract_error(format!("{name:?} is cut short")))?;
        let name = name.trim_start_matches("./");
        let one_down = name.matches('/').count() == 1 && name.ends_with("/plugin.json");
        if name == "plugin.json" || one_down {
            return Ok(Some(data.to_vec()));
        }
        offset = start + size.div_ceil(TAR_BLOCK) * TAR_BLOCK;
    }
    Ok(None)
}

/// `model.IsValidPluginId`: 3 to 190 letters, digits, `-`, `_` or `.`.
fn is_valid_plugin_id(id: &str) -> bool {
    (3..=190).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn install_plugin(
    world: &mut World,
    request: pb::InstallPluginRequest,
) -> HandlerResult<pb::InstallPluginResponse> {
    let enabled = world.config_flag("PluginSettings", "Enable", true)
        && world.config_flag("PluginSettings", "EnableUploads", false);
    if !enabled {
        return Err(ApiError::not_implemented(
            "installPlugin",
            "app.plugin.upload_disabled.app_error",
            "Plugins and/or plugin uploads have been disabled.",
        ));
    }
    let manifest_missing = || {
        ApiError::invalid(
            "installExtractedPlugin",
            "app.plugin.manifest.app_error",
            "Unable to find manifest for extracted plugin.",
        )
    };
    let manifest_bytes = find_manifest(&request.file_data)?.ok_or_else(manifest_missing)?;
    let file: ManifestFile = serde_json::from_slice(&manifest_bytes)
        .map_err(|err| manifest_missing().with_detail(err.to_string()))?;
    if !is_valid_plugin_id(&file.id) {
        return Err(ApiError::invalid(
            "installExtractedPlugin",
            "app.plugin.invalid_id.app_error",
            "Plugin Id must be at least 3 characters, at most 190 characters and match ^[a-zA-Z0-9-_\\.]+$.",
        )
        .with_detail(format!("plugin_id={}", file.id)));
    }
    if world.plugins.contains_key(&file.id) && !request.replace {
        return Err(ApiError::invalid(
            "installExtractedPlugin",
            "app.plugin.install_id.app_error",
            "Unable to install plugin. A plugin with the same ID is already installed.",
        )
        .with_detail(format!("plugin_id={}", file.id)));
    }
    let manifest = pb::Manifest {
        id: file.id,
        name: file.name,
        description: file.description,
        homepage_url: file.homepage_url,
        support_url: file.support_url,
        release_notes_url: file.release_notes_url,
        icon_path: file.icon_path,
        version: file.version,
        min_server_version: file.min_server_version,
    };
    let was_enabled = world
        .plugins
        .get(&manifest.id)
        .is_some_and(|plugin| plugin.enabled);
    world.plugins.insert(
        manifest.id.clone(),
        InstalledPlugin {
            manifest: manifest.clone(),
            enabled: was_enabled,
        },
    );
    Ok(pb::InstallPluginResponse {
        error: None,
        manifest: Some(manifest),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// A gzipped tar with the given files, as `tar czf` makes one.
    pub(crate) fn bundle(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = Vec::new();
        for (name, data) in files {
            let mut header = [0u8; TAR_BLOCK];
            header[..name.len()].copy_from_slice(name.as_bytes());
            let size = format!("{:011o}\0", data.len());
            header[124..136].copy_from_slice(size.as_bytes());
            tar.extend_from_slice(&header);
            tar.extend_from_slice(data);
            tar.resize(tar.len().div_ceil(TAR_BLOCK) * TAR_BLOCK, 0);
        }
        tar.resize(tar.len() + 2 * TAR_BLOCK, 0);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn world() -> World {
        World::from_seed(&World::default_seed(), "com.example.p", "/p", "default").unwrap()
    }

    fn install(w: &mut World, data: Vec<u8>, replace: bool) -> HandlerResult<pb::Manifest> {
        install_plugin(
            w,
            pb::InstallPluginRequest {
                file_data: data,
                replace,
            },
        )
        .map(|answer| answer.manifest.unwrap())
    }

    #[test]
    fn bundles_install_their_manifest_disabled() {
        let mut w = world();
        let manifest = br#"{"id": "com.example.new", "name": "New", "version": "0.1.0"}"#;
        let data = bundle(&[
            ("com.example.new/README", b"hi"),
            ("com.example.new/plugin.json", manifest),
        ]);
        let installed = install(&mut w, data.clone(), false).unwrap();
        assert_eq!(
            (installed.id.as_str(), installed.version.as_str()),
            ("com.example.new", "0.1.0")
        );
        assert!(!w.plugins["com.example.new"].enabled);
        let err = install(&mut w, data.clone(), false).unwrap_err();
        assert_eq!(err.id, "app.plugin.install_id.app_error");
        install(&mut w, data, true).unwrap();
    }

    #[test]
    fn broken_bundles_and_disabled_uploads_are_refused() {
        let mut w = world();
        assert_eq!(
            install(&mut w, b"plain".to_vec(), false).unwrap_err().id,
            "app.plugin.extract.app_error"
        );
        let no_manifest = bundle(&[("x/README", b"hi")]);
        assert_eq!(
            install(&mut w, no_manifest, false).unwrap_err().id,
            "app.plugin.manifest.app_error"
        );
        let bad_id = bundle(&[("plugin.json", br#"{"id": "a b"}"#)]);
        assert_eq!(
            install(&mut w, bad_id, false).unwrap_err().id,
            "app.plugin.invalid_id.app_error"
        );
        w.config["PluginSettings"]["EnableUploads"] = false.into();
        let err = install(&mut w, Vec::new(), false).unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (501, "app.plugin.upload_disabled.app_error")
        );
    }
}
