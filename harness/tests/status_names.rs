//! Every mode names a failed hook call as the Mattermost server's grpc-go
//! client does. The case that tells them apart: an answer over the 4 MiB a
//! server accepts is `RESOURCE_EXHAUSTED` there, `OUT_OF_RANGE` in a bare
//! tonic client. `harness run` is pinned in faults.rs; here the other modes.

mod common;

use std::io::{Read, Write};

use common::{HttpServe, fixture, harness_bench, harness_fuzz};

const GRPC_GO: &str = "RESOURCE_EXHAUSTED: grpc: received message larger than max (";

fn assert_named_as_grpc_go(output: &str) {
    assert!(output.contains(GRPC_GO), "{output}");
    assert!(!output.contains("OUT_OF_RANGE"), "{output}");
}

#[test]
fn http_names_an_oversized_answer_resource_exhausted() {
    let plugin = fixture("rust-reference").display().to_string();
    let serve = HttpServe::start(&[
        &plugin,
        "--listen",
        "127.0.0.1:0",
        "--",
        "--fault",
        "huge-response:ServeHTTP",
    ]);
    let mut stream = std::net::TcpStream::connect(serve.addr).expect("the front door listens");
    stream
        .write_all(
            b"GET /plugins/com.example.rust-reference/echo HTTP/1.1\r\n\
              Host: localhost\r\nConnection: close\r\n\r\n",
        )
        .expect("the request is sent");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("the answer is read");
    // The server answers itself when the plugin's stream fails before a response.
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    let (code, output) = serve.stop();
    assert_eq!(code, 0, "{output}");
    assert_named_as_grpc_go(&output);
}

#[test]
fn fuzz_names_an_oversized_answer_resource_exhausted() {
    let plugin = fixture("rust-reference").display().to_string();
    let (code, output) = harness_fuzz(&[
        &plugin,
        "--hooks",
        "ExecuteCommand",
        "--cases",
        "3",
        "--seed",
        "1",
        "--",
        "--fault",
        "huge-response:ExecuteCommand",
    ]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("FAIL ExecuteCommand: status RESOURCE_EXHAUSTED"),
        "{output}"
    );
    assert_named_as_grpc_go(&output);
}

#[test]
fn bench_names_an_oversized_answer_resource_exhausted() {
    let plugin = fixture("rust-reference").display().to_string();
    let out = tempfile::tempdir().expect("a temporary directory");
    let (_, output) = harness_bench(&[
        &plugin,
        "--hooks",
        "ExecuteCommand",
        "--api",
        "none",
        "--calls",
        "20",
        "--warmup",
        "0s",
        "--rounds",
        "1",
        "--out",
        out.path().to_str().expect("a UTF-8 path"),
        "--",
        "--fault",
        "huge-response:ExecuteCommand",
    ]);
    // The harness's client and the bare floors alike.
    assert!(
        output.contains("hook/ExecuteCommand (com.example.rust-reference): 20 of 20 calls failed"),
        "{output}"
    );
    assert!(output.contains("floor-raw/ExecuteCommand"), "{output}");
    assert_named_as_grpc_go(&output);
}
