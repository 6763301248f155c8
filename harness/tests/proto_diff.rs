//! `harness proto diff`: exit codes and output of the protocol drift check.

mod common;

use std::time::Duration;

use common::{harness_subcommand, read_json, repo_root, write_file};

fn proto_diff(args: &[&str]) -> (i32, String) {
    let args: Vec<&str> = ["diff"].iter().chain(args).copied().collect();
    harness_subcommand("proto", &args, Duration::from_secs(60))
}

#[test]
fn the_harness_protocol_matches_itself_and_drift_is_reported() {
    let proto = repo_root().join("proto");
    let (code, output) = proto_diff(&[proto.to_str().unwrap()]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("0 differences: 0 wire-incompatible, 0 compatible"),
        "{output}"
    );

    // A copy whose RequestContext.request_id moved from number 2 to 9.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&proto).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            let text = std::fs::read_to_string(&path).unwrap().replace(
                "string plugin_id = 1;\n  string request_id = 2;",
                "string plugin_id = 1;\n  string request_id = 9;",
            );
            let name = path.file_name().unwrap().to_str().unwrap();
            write_file(copy.path(), name, &text);
        }
    }
    let json = copy.path().join("drift.json");
    let (code, output) = proto_diff(&[
        copy.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("message mattermost.pluginapi.v1.RequestContext\n  field request_id: harness `string request_id = 2`, sdk `string request_id = 9` -> wire-incompatible (FIELD_SAME_NUMBER"),
        "{output}"
    );
    assert!(
        output.contains("1 difference: 1 wire-incompatible, 0 compatible"),
        "{output}"
    );
    let report = read_json(&json);
    assert_eq!(report["source_kind"], "proto_files");
    assert_eq!(report["summary"]["wire_incompatible"], 1);
    assert_eq!(report["differences"][0]["rule"], "FIELD_SAME_NUMBER");
    assert_eq!(
        report["differences"][0]["compatibility"],
        "wire-incompatible"
    );
}

#[test]
fn bad_sources_exit_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "sdk/api_pb2.py",
        "# generated\nDESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\\n\\x0c\\q\\400')\n",
    );
    let (code, output) = proto_diff(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("sdk/api_pb2.py:2: malformed bytes literal"),
        "{output}"
    );

    let missing = dir.path().join("nowhere");
    let (code, output) = proto_diff(&[missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("cannot read"), "{output}");
}
