//! The Mattermost plugin wire protocol, package `mattermost.pluginapi.v1`.
//!
//! Two services share one package: `PluginHooks`, served by the plugin and
//! called by the server, and `PluginAPI`, served by the server and called by
//! the plugin. The `.proto` files in this crate's folder are wire-identical
//! with upstream's: same names, field numbers and types.
//!
//! Besides the generated prost/tonic code, the crate exposes the descriptor
//! pool of the whole package, so callers can look up any RPC by name and move
//! between typed messages, wire bytes and the proto3 JSON mapping.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, ServiceDescriptor};

/// Generated messages, clients (`*_client`) and servers (`*_server`).
pub mod pb {
    tonic::include_proto!("mattermost.pluginapi.v1");
}

/// The protobuf package every message and service lives in.
pub const PACKAGE: &str = "mattermost.pluginapi.v1";
/// Fully qualified name of the service the plugin serves.
pub const HOOKS_SERVICE: &str = "mattermost.pluginapi.v1.PluginHooks";
/// Fully qualified name of the service the server serves.
pub const API_SERVICE: &str = "mattermost.pluginapi.v1.PluginAPI";

static DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor_set.bin"));

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(DESCRIPTOR_SET)
        .expect("the descriptor set was produced by this crate's build script")
});

/// Descriptors of every file of the package, including the well-known types it imports.
pub fn descriptor_pool() -> &'static DescriptorPool {
    &POOL
}

/// The `PluginHooks` service descriptor.
pub fn hooks_service() -> ServiceDescriptor {
    service(HOOKS_SERVICE)
}

/// The `PluginAPI` service descriptor.
pub fn api_service() -> ServiceDescriptor {
    service(API_SERVICE)
}

fn service(name: &str) -> ServiceDescriptor {
    POOL.get_service_by_name(name)
        .unwrap_or_else(|| panic!("service {name} is part of the compiled protocol"))
}
