//! The api-python fixture through every one of its suites, snapshots
//! checked as CI checks them: each area of the Plugin API answers through
//! a real Python client, and the run covers the whole protocol. Needs
//! Python 3 with pip.

mod common;

use common::{fixture, harness_run, python_fixtures};

/// The fixture's suites, one per area of the Plugin API it exercises.
const SUITES: &[&str] = &[
    "api-access",
    "api-access-enabled",
    "api-bots",
    "api-channels",
    "api-commands",
    "api-config",
    "api-events",
    "api-faults",
    "api-files",
    "api-groups",
    "api-images",
    "api-kv",
    "api-outbound",
    "api-outbound-peers",
    "api-posts",
    "api-properties",
    "api-sharing",
    "api-sharing-enabled",
    "api-sidebar",
    "api-uploads",
    "api-users",
];

#[test]
fn every_api_python_suite_passes_and_the_protocol_is_covered() {
    python_fixtures();
    let plugin = fixture("api-python");
    let suites = plugin.join("suites");
    let on_disk = std::fs::read_dir(&suites)
        .expect("the fixture has suites")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        on_disk.iter().map(String::as_str).collect::<Vec<_>>(),
        SUITES,
        "a suite was added or removed: update SUITES"
    );
    let (code, output) = harness_run(&[
        plugin.to_str().expect("a UTF-8 path"),
        "--suite",
        suites.to_str().expect("a UTF-8 path"),
        "--ci",
    ]);
    assert_eq!(code, 0, "{output}");
    for suite in SUITES {
        assert!(
            output.contains(&format!("Running {suite} (")),
            "{suite} did not run:\n{output}"
        );
    }
    assert!(output.contains(" 0 failed"), "{output}");
    assert!(
        output.contains("coverage: 236 of 236 methods modelled"),
        "{output}"
    );
}
