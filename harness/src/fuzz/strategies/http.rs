//! ServeHTTP requests: methods, paths with percent-encoded and raw
//! characters, queries, many and huge headers, and bodies of many sizes
//! reaching the plugin in different chunkings.

use bytes::Bytes;
use mm_plugin_proto::pb;
use proptest::{collection::vec, prelude::*, sample::select, strategy::BoxedStrategy};

use super::{
    Profile,
    basics::{patterned, plugin_context},
    text::{message, pattern, short_text, w, weighted},
};
use crate::hooks::http::{Header, HttpRequest, RequestBody, canonical_header_key};

/// One generated HTTP request, kept as plain data: an `HttpRequest` is
/// consumed by the call, and shrinking replays a case many times.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCase {
    pub method: String,
    /// The path after `/plugins/{id}`, with its query.
    pub url: String,
    pub headers: Vec<Header>,
    pub body: Bytes,
    /// How the body travels. `None`: with its length known, in the
    /// server's 64 KiB chunks. `Some(n)`: as a chunked upload of unknown
    /// length arriving in pieces of `n` bytes.
    pub pieces: Option<usize>,
    pub plugin_context: Option<pb::PluginContext>,
}

impl HttpCase {
    /// The request to send; `plugin_context` is fixed so that a seed
    /// reproduces the same bytes (the server would make a fresh request id).
    pub fn request(&self) -> HttpRequest {
        let mut request = HttpRequest::new(&self.method, &self.url);
        request.headers = self.headers.clone();
        request.plugin_context = Some(self.plugin_context.clone().unwrap_or_default());
        request.body = match self.pieces {
            None => RequestBody::Full(self.body.clone()),
            Some(size) => {
                // A body dribbled in tiny pieces reaches the server's reads
                // (64 KiB at a time) in fewer, larger ones: at most 2048.
                let size = size.max(self.body.len() / 2048).max(1);
                let body = self.body.clone();
                let chunks: Vec<Result<Bytes, crate::hooks::http::BoxError>> = (0..body.len())
                    .step_by(size)
                    .map(|start| Ok(body.slice(start..(start + size).min(body.len()))))
                    .collect();
                RequestBody::Stream {
                    content_length: None,
                    chunks: Box::pin(tokio_stream::iter(chunks)),
                }
            }
        };
        request
    }
}

pub fn http_case(profile: Profile) -> BoxedStrategy<HttpCase> {
    let body = body(profile);
    (
        method(profile),
        url(profile),
        headers(profile),
        body,
        pieces(profile),
        plugin_context(profile),
    )
        .prop_map(
            |(method, url, headers, (body, content_type), pieces, plugin_context)| {
                let mut headers = within_header_limit(&method, &url, canonical(headers));
                if let Some(content_type) = content_type {
                    headers.push(Header::new("Content-Type", vec![content_type.to_owned()]));
                }
                HttpCase {
                    method,
                    url,
                    headers,
                    body: body.into(),
                    pieces,
                    plugin_context,
                }
            },
        )
        .boxed()
}

/// Headers as the server hands them over: names canonical (Go's
/// `CanonicalMIMEHeaderKey`), one entry per name with all its values.
fn canonical(headers: Vec<Header>) -> Vec<Header> {
    let mut merged: Vec<Header> = Vec::new();
    for header in headers {
        let name = canonical_header_key(&header.name);
        match merged.iter_mut().find(|known| known.name == name) {
            Some(known) => known.values.extend(header.values),
            None => merged.push(Header::new(name, header.values)),
        }
    }
    merged
}

/// Go's server refuses requests whose request line and headers pass
/// `http.DefaultMaxHeaderBytes` (1 MiB), so no plugin ever receives more:
/// headers past it are left out.
fn within_header_limit(method: &str, url: &str, headers: Vec<Header>) -> Vec<Header> {
    const MAX_HEADER_BYTES: usize = 1 << 20;
    let mut used = method.len() + url.len() + "  HTTP/1.1\r\n".len();
    headers
        .into_iter()
        .take_while(|header| {
            used += header
                .values
                .iter()
                .map(|value| header.name.len() + value.len() + 4)
                .sum::<usize>();
            used <= MAX_HEADER_BYTES
        })
        .collect()
}

fn method(profile: Profile) -> BoxedStrategy<String> {
    weighted(vec![
        (
            10,
            select(
                &[
                    "GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
                ][..],
            )
            .prop_map(str::to_owned)
            .boxed(),
        ),
        (
            w(profile, 0, 3),
            select(&["", "get", "PROPFIND", "BREW", "GET\r\n", "ÜBER"][..])
                .prop_map(str::to_owned)
                .boxed(),
        ),
        (w(profile, 0, 1), pattern("[A-Z]{100,300}")),
    ])
}

const SEGMENTS: &[&str] = &[
    "api",
    "v1",
    "hello",
    "echo",
    "users",
    "me",
    "..",
    ".",
    "%2F",
    "%2e%2e",
    "%00",
    "%ZZ",
    "%",
    "a%20b",
    "%E2%80%AE",
    "ü",
    "🙂",
    "a;b=c",
    "@",
    "~",
    "index.html",
];

/// A path and query as the server passes them (`r.URL.String()` after the
/// `/plugins/{id}` prefix): known routes, then anything a client can send.
fn url(profile: Profile) -> BoxedStrategy<String> {
    let segment = weighted(vec![
        (3, select(SEGMENTS).prop_map(str::to_owned).boxed()),
        (2, pattern("[a-zA-Z0-9._~-]{1,12}")),
        (w(profile, 0, 1), short_text(profile)),
    ]);
    let path = weighted(vec![
        (
            4,
            select(&["/api/hello", "/api/echo", "/echo", "/", "/api/hello/"][..])
                .prop_map(str::to_owned)
                .boxed(),
        ),
        (
            4,
            vec(segment, 0..=6)
                .prop_map(|segments| format!("/{}", segments.join("/")))
                .boxed(),
        ),
        (
            w(profile, 0, 1),
            (1usize..=65_536)
                .prop_map(|len| format!("/{}", "a".repeat(len)))
                .boxed(),
        ),
    ]);
    let pair = (pattern("[a-z%0-9+]{0,8}"), pattern("[a-zA-Z0-9%+&=]{0,16}"))
        .prop_map(|(key, value)| format!("{key}={value}"));
    let most_pairs = match profile {
        Profile::Realistic => 4,
        Profile::Edge => 1_000,
    };
    let query = weighted(vec![
        (4, Just(String::new()).boxed()),
        (
            2,
            vec(pair, 1..=most_pairs)
                .prop_map(|pairs| format!("?{}", pairs.join("&")))
                .boxed(),
        ),
        (1, Just("?".to_owned()).boxed()),
    ]);
    (path, query)
        .prop_map(|(path, query)| format!("{path}{query}"))
        .boxed()
}

const HEADERS: &[(&str, &str)] = &[
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    ),
    ("Accept", "application/json"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Authorization", "Bearer 0123456789abcdefghijklmnop"),
    (
        "Cookie",
        "MMAUTHTOKEN=abc; MMUSERID=ualice00000000000000000000",
    ),
    ("X-Requested-With", "XMLHttpRequest"),
    ("Mattermost-User-Id", "ualice00000000000000000000"),
    ("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),
    ("Referer", "http://localhost:8065/acme/channels/town-square"),
    ("If-None-Match", "\"etag\""),
];

fn headers(profile: Profile) -> BoxedStrategy<Vec<Header>> {
    let known = select(HEADERS).prop_map(|(name, value)| Header::new(name, vec![value.to_owned()]));
    let most_values = match profile {
        Profile::Realistic => 2,
        Profile::Edge => 8,
    };
    let name = weighted(vec![
        (4, pattern("X-[A-Z][a-z]{1,10}")),
        (
            w(profile, 0, 2),
            select(
                &[
                    "",
                    "x-lower-case",
                    "X Space",
                    "X-Ünïcode",
                    "X-Nul\u{0}",
                    ":authority",
                    "Content-Length",
                ][..],
            )
            .prop_map(str::to_owned)
            .boxed(),
        ),
    ]);
    let value = weighted(vec![
        (4, pattern("[ -~]{0,40}")),
        (w(profile, 0, 2), short_text(profile)),
        (
            w(profile, 0, 1),
            (1usize..=256 << 10).prop_map(|len| "v".repeat(len)).boxed(),
        ),
    ]);
    let custom =
        (name, vec(value, 1..=most_values)).prop_map(|(name, values)| Header::new(name, values));
    let most = match profile {
        Profile::Realistic => 8,
        Profile::Edge => 200,
    };
    vec(
        weighted(vec![(3, known.boxed()), (1, custom.boxed())]),
        0..=most,
    )
    .boxed()
}

/// A body and the content type that goes with it.
fn body(profile: Profile) -> BoxedStrategy<(Vec<u8>, Option<&'static str>)> {
    let largest = match profile {
        Profile::Realistic => 1 << 20,
        Profile::Edge => 8 << 20,
    };
    weighted(vec![
        (4, Just((Vec::new(), None)).boxed()),
        (
            3,
            message(profile)
                .prop_map(|text| {
                    let json = serde_json::json!({"message": text});
                    (json.to_string().into_bytes(), Some("application/json"))
                })
                .boxed(),
        ),
        (
            1,
            pattern("[a-z]{1,8}=[a-zA-Z0-9%+]{0,16}(&[a-z]{1,8}=[a-zA-Z0-9%+]{0,16}){0,4}")
                .prop_map(|form| (form.into_bytes(), Some("application/x-www-form-urlencoded")))
                .boxed(),
        ),
        (
            1,
            vec(any::<u8>(), 0..=512)
                .prop_map(|bytes| (bytes, Some("application/octet-stream")))
                .boxed(),
        ),
        // Around the server's 64 KiB chunk size, where off-by-ones live.
        (
            1,
            (
                select(&[65_535usize, 65_536, 65_537, 131_072][..]),
                any::<u8>(),
            )
                .prop_map(|(len, seed)| (patterned(len, seed), Some("application/octet-stream")))
                .boxed(),
        ),
        (
            1,
            (0usize..=largest, any::<u8>())
                .prop_map(|(len, seed)| (patterned(len, seed), Some("application/octet-stream")))
                .boxed(),
        ),
    ])
}

fn pieces(profile: Profile) -> BoxedStrategy<Option<usize>> {
    weighted(vec![
        (4, Just(None).boxed()),
        (1, (1usize..=70_000).prop_map(Some).boxed()),
        (w(profile, 0, 1), Just(Some(1)).boxed()),
    ])
}
