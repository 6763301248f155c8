//! `harness http` end to end: a real HTTP client against the front door,
//! with rust-reference and hello-python behind it.

mod common;

use std::{net::SocketAddr, time::Duration, time::Instant};

use bytes::Bytes;
use common::HttpServe;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::{io::AsyncWriteExt, net::TcpStream};

const REFERENCE: &str = "/plugins/com.example.rust-reference";
const HELLO: &str = "/plugins/com.example.hello-python";

/// A response as the client read it; `frames` shows how it was streamed.
struct Answer {
    status: u16,
    headers: HeaderMap,
    frames: Vec<Bytes>,
}

impl Answer {
    fn body(&self) -> Vec<u8> {
        self.frames.concat()
    }

    fn text(&self) -> String {
        String::from_utf8(self.body()).unwrap()
    }

    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect()
    }
}

/// One request on a fresh HTTP/1.1 connection, bounded to a minute.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = sender
            .send_request(request.body(Full::new(body.into())).unwrap())
            .await
            .unwrap();
        let (parts, mut body) = response.into_parts();
        let mut frames = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                frames.push(data);
            }
        }
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            frames,
        }
    };
    tokio::time::timeout(Duration::from_secs(60), exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} took over a minute"))
}

fn assert_stopped_cleanly(serve: HttpServe) -> String {
    let plugin_pid = serve.plugin_pid;
    let (code, output) = serve.stop();
    assert_eq!(code, 0, "{output}");
    assert!(
        common::gone_soon(plugin_pid),
        "the plugin outlived the harness"
    );
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_reference_behind_the_front_door() {
    let plugin = common::fixture("rust-reference").display().to_string();
    let mut serve = HttpServe::start(&[&plugin, "--listen", "127.0.0.1:0"]);
    let addr = serve.addr;

    let echo = send(
        addr,
        "POST",
        &format!("{REFERENCE}/echo?b=2&a=1&access_token=secret"),
        &[
            ("x-multi", "1"),
            ("x-multi", "2"),
            ("referer", "http://elsewhere/"),
            ("mattermost-user-id", "forged"),
            ("cookie", "MMAUTHTOKEN=session; theme=dark"),
        ],
        "hello",
    )
    .await;
    assert_eq!(echo.status, 200);
    assert_eq!(echo.text(), "hello");
    // What the plugin saw: the prefix gone, the query sorted and without
    // the token, the server-owned headers removed.
    assert_eq!(echo.header("x-echo-url"), ["/echo?a=1&b=2"]);
    assert_eq!(
        echo.header("x-echo-request-uri"),
        [format!("{REFERENCE}/echo?b=2&a=1&access_token=secret").as_str()]
    );
    assert_eq!(echo.header("x-echo-host"), [addr.to_string().as_str()]);
    assert_eq!(echo.header("x-echo-header-x-multi"), ["1", "2"]);
    assert_eq!(echo.header("x-echo-header-cookie"), ["theme=dark"]);
    assert!(echo.header("x-echo-header-referer").is_empty());
    assert!(echo.header("x-echo-header-mattermost-user-id").is_empty());
    assert_eq!(echo.header("x-echo-context-ip-address"), ["127.0.0.1"]);
    // The plugin flushed, so the answer was streamed rather than sized.
    assert_eq!(echo.header("transfer-encoding"), ["chunked"]);
    assert!(echo.header("content-length").is_empty());

    let big: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let started = Instant::now();
    let echoed = send(addr, "POST", &format!("{REFERENCE}/echo"), &[], big.clone()).await;
    let took = started.elapsed();
    assert_eq!(echoed.status, 200);
    assert!(echoed.body() == big, "the 5 MiB echo differs");
    assert!(echoed.frames.len() > 1, "not streamed");
    eprintln!(
        "5 MiB echo through harness http: {took:?} ({} frames at the client)",
        echoed.frames.len()
    );

    let early = send(
        addr,
        "PUT",
        &format!("{REFERENCE}/echo?early=1"),
        &[],
        big.clone(),
    )
    .await;
    assert_eq!(early.status, 200);
    assert!(early.body() == big, "the early echo differs");

    let elsewhere = send(addr, "GET", "/api/v4/users", &[], "").await;
    assert_eq!(
        (elsewhere.status, elsewhere.text().as_str()),
        (404, "404 page not found\n")
    );
    let other_plugin = send(addr, "GET", "/plugins/com.example.other/echo", &[], "").await;
    assert_eq!(other_plugin.status, 404);
    let unknown_path = send(addr, "GET", &format!("{REFERENCE}/missing"), &[], "").await;
    assert_eq!(unknown_path.status, 404, "the plugin's own 404");

    // A relayed answer is logged once it is done, which its client may
    // see first: the line is waited for, not assumed to be there yet.
    let post_line = format!("POST {REFERENCE}/echo 200 5 bytes ");
    serve.wait_for_output(&post_line);
    let output = assert_stopped_cleanly(serve);
    assert!(output.contains(&post_line), "{output}");
    assert!(
        !output.contains("secret"),
        "the token was logged:\n{output}"
    );
    assert!(
        output.contains("GET /api/v4/users 404 19 bytes"),
        "{output}"
    );
    assert!(output.contains("(not a route of this plugin)"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_leaving_mid_upload_does_not_stop_the_plugin() {
    let plugin = common::fixture("rust-reference").display().to_string();
    let serve = HttpServe::start(&[&plugin, "--listen", "127.0.0.1:0"]);
    let mut stream = TcpStream::connect(serve.addr).await.unwrap();
    let head =
        format!("POST {REFERENCE}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![7u8; 200 * 1024]).await.unwrap();
    drop(stream);

    let after = send(
        serve.addr,
        "POST",
        &format!("{REFERENCE}/echo"),
        &[],
        "after",
    )
    .await;
    assert_eq!((after.status, after.text().as_str()), (200, "after"));
    assert_stopped_cleanly(serve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_status_becomes_the_servers_500() {
    let plugin = common::fixture("rust-reference").display().to_string();
    let mut serve = HttpServe::start(&[
        &plugin,
        "--listen",
        "127.0.0.1:0",
        "--",
        "--fault",
        "http-bad-status",
    ]);
    let answer = send(serve.addr, "GET", &format!("{REFERENCE}/echo"), &[], "").await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.text(), "Internal Server Error\n");
    assert_eq!(answer.header("content-type"), ["text/plain; charset=utf-8"]);
    serve.wait_for_output("the server answered itself");
    let output = assert_stopped_cleanly(serve);
    assert!(output.contains("the server answered itself"), "{output}");
    assert!(output.contains("1000"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_python_behind_the_front_door() {
    common::python_fixtures();
    let plugin = common::fixture("hello-python").display().to_string();
    let mut serve = HttpServe::start(&[&plugin, "--listen", "127.0.0.1:0"]);

    let hello = send(serve.addr, "GET", &format!("{HELLO}/api/hello"), &[], "").await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.header("content-type"), ["application/json"]);
    let json: serde_json::Value = serde_json::from_slice(&hello.body()).unwrap();
    assert_eq!(json, serde_json::json!({"message": "Hello from Python!"}));
    // One unflushed message: Go sends it whole, with a length.
    assert_eq!(hello.header("content-length"), ["33"]);

    let echo = send(
        serve.addr,
        "POST",
        &format!("{HELLO}/api/echo?z=last&access_token=t&a=b%20c"),
        &[("x-multi", "1"), ("x-multi", "2"), ("referer", "http://x/")],
        "ping \u{e9}",
    )
    .await;
    assert_eq!(echo.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&echo.body()).unwrap();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["path"], "/api/echo");
    assert_eq!(json["query"], "a=b+c&z=last");
    assert_eq!(json["headers"]["X-Multi"], serde_json::json!(["1", "2"]));
    assert_eq!(json["headers"]["Content-Length"], serde_json::json!(["7"]));
    assert!(json["headers"].get("Referer").is_none(), "{json}");
    assert_eq!(json["body"], "ping \u{e9}");

    let missing = send(serve.addr, "GET", &format!("{HELLO}/api/nothing"), &[], "").await;
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (404, "Not Found")
    );

    let hello_line = format!("GET {HELLO}/api/hello 200 33 bytes ");
    serve.wait_for_output(&hello_line);
    let output = assert_stopped_cleanly(serve);
    assert!(output.contains(&hello_line), "{output}");
}

#[test]
fn only_loopback_addresses_are_served() {
    for listen in ["0.0.0.0:0", "192.0.2.1:8065", "[::]:0", "example.com:80"] {
        let mut command = common::harness();
        command.args([
            "http",
            "fixtures/plugins/rust-reference",
            "--listen",
            listen,
        ]);
        let output = common::run_bounded(command, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{listen}: {stderr}");
        let expected = if listen.starts_with("example") {
            "invalid listen address"
        } else {
            "loopback"
        };
        assert!(stderr.contains(expected), "{listen}: {stderr}");
    }
}
