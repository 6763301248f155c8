//! Where a hook's time goes. Every measured hook is set against floors
//! measured in the same run, with the same request:
//!
//! 1. the **physical floor**: a raw socket ping-pong between two processes
//!    on the plugin's transport ([`super::physical`]);
//! 2. the **Rust gRPC floor**: the same hook of the Rust reference plugin
//!    through the harness's client (the raw tonic client beside it shows
//!    what the harness's client adds to tonic);
//! 3. the **Python gRPC floor**: the same hook of a bare grpcio plugin that
//!    answers at once (`fixtures/plugins/bare-grpcio-python`), for Python
//!    plugins;
//! 4. the rest: the plugin's own dispatch (its SDK, its handler).
//!
//! The parts are differences of p50s: physical, Rust gRPC − physical,
//! Python gRPC − Rust gRPC, hook − Python gRPC. They add up to the hook's
//! p50 exactly; a negative part is a floor within the noise of the next.

use serde::{Deserialize, Serialize};

use super::report::{CallKind, CallReport};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub hook: String,
    pub plugin: String,
    /// The hook's p50 through the harness.
    pub hook_p50_ns: u64,
    /// The raw socket ping-pong's p50 with the hook's message size.
    pub physical_p50_ns: Option<u64>,
    /// The reference plugin's p50 through the bare tonic client.
    pub raw_tonic_p50_ns: Option<u64>,
    /// The reference plugin's p50 through the harness's client.
    pub rust_grpc_p50_ns: Option<u64>,
    /// The bare grpcio plugin's p50 through the harness's client (Python
    /// plugins only).
    pub python_grpc_p50_ns: Option<u64>,
    /// Hook p50 over the physical floor's.
    pub hook_ratio: Option<f64>,
    /// Raw tonic p50 over the physical floor's.
    pub raw_tonic_ratio: Option<f64>,
    /// The harness's client (on the reference plugin) over the physical floor.
    pub harness_client_ratio: Option<f64>,
    /// The four parts, when every floor was measured.
    pub parts: Option<Parts>,
}

/// A hook's p50 split into four; the parts add up to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parts {
    pub physical_ns: i64,
    pub rust_grpc_ns: i64,
    pub python_grpc_ns: i64,
    pub dispatch_ns: i64,
}

impl Parts {
    /// From the four cumulative p50s: physical ≤ Rust gRPC ≤ Python gRPC ≤
    /// hook, as far as noise lets them be ordered.
    pub fn split(physical: u64, rust: u64, python: u64, hook: u64) -> Parts {
        let [physical, rust, python, hook] = [physical, rust, python, hook].map(|ns| ns as i64);
        Parts {
            physical_ns: physical,
            rust_grpc_ns: rust - physical,
            python_grpc_ns: python - rust,
            dispatch_ns: hook - python,
        }
    }

    pub fn total_ns(&self) -> i64 {
        self.physical_ns + self.rust_grpc_ns + self.python_grpc_ns + self.dispatch_ns
    }

    /// The parts with their names, in order.
    pub fn named(&self) -> [(&'static str, i64); 4] {
        [
            ("physical floor", self.physical_ns),
            ("Rust gRPC", self.rust_grpc_ns),
            ("Python gRPC", self.python_grpc_ns),
            ("plugin/SDK dispatch", self.dispatch_ns),
        ]
    }
}

/// One attribution per measured hook; the four-part split for the plugins
/// in `python` (ids of Python plugins) only.
pub fn attribute(calls: &[CallReport], python: &[&str]) -> Vec<Attribution> {
    // A hook's floors are the ones its own run measured: the physical floor
    // carries the hook's plugin id, the others name it in `floor_for`. A
    // report from before `floor_for` holds one run's floors, taken as they
    // are.
    let p50 = |kind: CallKind, name: &str, of_run: &dyn Fn(&CallReport) -> bool| {
        let measured =
            |call: &&CallReport| call.kind == kind && call.name == name && call.summary.count > 0;
        calls
            .iter()
            .filter(measured)
            .find(|call| of_run(call))
            .or_else(|| {
                calls
                    .iter()
                    .filter(measured)
                    .find(|call| call.floor_for.is_none())
            })
            .map(|call| call.summary.p50_ns)
    };
    calls
        .iter()
        .filter(|call| call.kind == CallKind::Hook && call.summary.count > 0)
        .map(|hook| {
            let socket_of_run = |call: &CallReport| call.plugin == hook.plugin;
            let floor_of_run =
                |call: &CallReport| call.floor_for.as_deref() == Some(hook.plugin.as_str());
            let physical = p50(CallKind::FloorSocket, &hook.name, &socket_of_run);
            let raw_tonic = p50(CallKind::FloorRaw, &hook.name, &floor_of_run);
            let rust = p50(CallKind::FloorHarness, &hook.name, &floor_of_run);
            let python = python
                .contains(&hook.plugin.as_str())
                .then(|| p50(CallKind::FloorPython, &hook.name, &floor_of_run))
                .flatten();
            let over_physical = |value: Option<u64>| Some(ratio(value?, physical?));
            Attribution {
                hook: hook.name.clone(),
                plugin: hook.plugin.clone(),
                hook_p50_ns: hook.summary.p50_ns,
                physical_p50_ns: physical,
                raw_tonic_p50_ns: raw_tonic,
                rust_grpc_p50_ns: rust,
                python_grpc_p50_ns: python,
                hook_ratio: over_physical(Some(hook.summary.p50_ns)),
                raw_tonic_ratio: over_physical(raw_tonic),
                harness_client_ratio: over_physical(rust),
                parts: match (physical, rust, python) {
                    (Some(physical), Some(rust), Some(python)) => {
                        Some(Parts::split(physical, rust, python, hook.summary.p50_ns))
                    }
                    _ => None,
                },
            }
        })
        .collect()
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    let value = numerator as f64 / denominator.max(1) as f64;
    (value * 1000.0).round() / 1000.0
}

/// The median over hooks of the harness client's ratio to the physical
/// floor: the one figure the client's tuning aims at.
pub fn client_ratio(attributions: &[Attribution]) -> Option<f64> {
    let ratios: Vec<f64> = attributions
        .iter()
        .filter_map(|a| a.harness_client_ratio)
        .collect();
    (!ratios.is_empty()).then(|| super::baseline::median(&ratios))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::load::Measured;

    /// A call recorded at `micros`, its p50 set to exactly that (the
    /// histogram's own is only good to 3 significant digits).
    fn call(plugin: &str, kind: CallKind, name: &str, micros: u64) -> CallReport {
        let mut call = CallReport::new(plugin, kind, name, None);
        let mut measured = Measured::default();
        for _ in 0..200 {
            measured.latencies.record_ns(micros * 1000);
        }
        call.add_round(measured);
        call.summary.p50_ns = micros * 1000;
        call
    }

    #[test]
    fn a_python_hook_splits_into_four_parts_that_add_up() {
        let calls = [
            call("py", CallKind::Hook, "MessageWillBePosted", 500),
            call("py", CallKind::FloorSocket, "MessageWillBePosted", 20),
            call("ref", CallKind::FloorHarness, "MessageWillBePosted", 60),
            call("ref", CallKind::FloorRaw, "MessageWillBePosted", 50),
            call("bare", CallKind::FloorPython, "MessageWillBePosted", 300),
        ];
        let [attribution] = attribute(&calls, &["py"]).try_into().expect("one hook");
        let parts = attribution.parts.expect("every floor measured");
        assert_eq!(parts.physical_ns, 20_000);
        assert_eq!(parts.rust_grpc_ns, 40_000);
        assert_eq!(parts.python_grpc_ns, 240_000);
        assert_eq!(parts.dispatch_ns, 200_000);
        assert_eq!(parts.total_ns(), attribution.hook_p50_ns as i64);
        assert_eq!(attribution.hook_ratio, Some(25.0));
        assert_eq!(attribution.raw_tonic_ratio, Some(2.5));
        assert_eq!(attribution.harness_client_ratio, Some(3.0));
        assert_eq!(client_ratio(&[attribution]), Some(3.0));
    }

    #[test]
    fn without_the_python_floor_only_the_ratios_are_given() {
        let calls = [
            call("ref", CallKind::Hook, "ExecuteCommand", 70),
            call("ref", CallKind::FloorSocket, "ExecuteCommand", 35),
            call("ref", CallKind::FloorHarness, "ExecuteCommand", 70),
        ];
        let [attribution] = attribute(&calls, &[]).try_into().expect("one hook");
        assert_eq!(attribution.parts, None);
        assert_eq!(attribution.hook_ratio, Some(2.0));
        assert_eq!(attribution.raw_tonic_ratio, None);
    }

    #[test]
    fn the_hooks_own_plugin_floor_is_preferred_in_a_merge() {
        let calls = [
            call("a", CallKind::Hook, "ExecuteCommand", 100),
            call("b", CallKind::FloorSocket, "ExecuteCommand", 50),
            call("a", CallKind::FloorSocket, "ExecuteCommand", 25),
        ];
        assert_eq!(attribute(&calls, &[])[0].physical_p50_ns, Some(25_000));
    }

    #[test]
    fn a_floor_slower_than_the_next_gives_a_negative_part_and_still_adds_up() {
        let parts = Parts::split(30_000, 25_000, 200_000, 180_000);
        assert_eq!(parts.rust_grpc_ns, -5_000);
        assert_eq!(parts.dispatch_ns, -20_000);
        assert_eq!(parts.total_ns(), 180_000);
    }
}
