//! The HTTP request handed to a plugin, and its `ServeHTTPRequestInit`.

use std::hash::{BuildHasher, RandomState};

use mm_plugin_proto::pb;
use serde::Serialize;

use super::body::RequestBody;

/// One header name with all its values, as `HTTPHeader` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub name: String,
    pub values: Vec<String>,
}

impl Header {
    pub fn new(name: impl Into<String>, values: Vec<String>) -> Header {
        Header {
            name: name.into(),
            values,
        }
    }
}

/// A request as the server hands it to `ServeHTTP`: after its router has
/// taken `/plugins/{id}` off the path.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: String,
    /// `init.url`: what Go's `r.URL.String()` gives, normally the path
    /// after `/plugins/{id}` and the query (`/api/hello?x=1`).
    pub url: String,
    /// `init.request_uri`: the request target as the client sent it, prefix
    /// included. `None` sends `url`.
    pub request_uri: Option<String>,
    pub host: String,
    pub proto: String,
    pub proto_major: i32,
    pub proto_minor: i32,
    /// In order; names are sent as written (the front door canonicalises
    /// them as Go's server does).
    pub headers: Vec<Header>,
    pub remote_addr: String,
    /// `None`: made as the server makes it for plugin requests (a fresh
    /// request id, the client's IP, its Accept-Language and User-Agent).
    pub plugin_context: Option<pb::PluginContext>,
    pub body: RequestBody,
}

impl HttpRequest {
    /// A request with no headers and no body, from a loopback client to
    /// the server's default address.
    pub fn new(method: &str, url: &str) -> HttpRequest {
        HttpRequest {
            method: method.to_owned(),
            url: url.to_owned(),
            request_uri: None,
            host: "localhost:8065".to_owned(),
            proto: "HTTP/1.1".to_owned(),
            proto_major: 1,
            proto_minor: 1,
            headers: Vec::new(),
            remote_addr: "127.0.0.1:50000".to_owned(),
            plugin_context: None,
            body: RequestBody::Empty,
        }
    }

    pub fn get(url: &str) -> HttpRequest {
        HttpRequest::new("GET", url)
    }

    pub fn post(url: &str, body: impl Into<RequestBody>) -> HttpRequest {
        HttpRequest::new("POST", url).with_body(body)
    }

    /// Adds a value, to the header of that exact name if there is one.
    pub fn header(mut self, name: &str, value: &str) -> HttpRequest {
        match self.headers.iter_mut().find(|header| header.name == name) {
            Some(header) => header.values.push(value.to_owned()),
            None => self.headers.push(Header::new(name, vec![value.to_owned()])),
        }
        self
    }

    pub fn with_body(mut self, body: impl Into<RequestBody>) -> HttpRequest {
        self.body = body.into();
        self
    }

    /// The first value of a header, by name in any case.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .and_then(|header| header.values.first())
            .map(String::as_str)
    }

    /// The first message's `init`, and the body still to send.
    pub(super) fn into_wire(self) -> (pb::ServeHttpRequestInit, RequestBody) {
        let plugin_context = self
            .plugin_context
            .clone()
            .unwrap_or_else(|| server_context(&self));
        let init = pb::ServeHttpRequestInit {
            plugin_context: Some(plugin_context),
            request_uri: self.request_uri.unwrap_or_else(|| self.url.clone()),
            method: self.method,
            url: self.url,
            proto: self.proto,
            proto_major: self.proto_major,
            proto_minor: self.proto_minor,
            headers: self
                .headers
                .into_iter()
                .map(|header| pb::HttpHeader {
                    key: header.name,
                    values: header.values,
                })
                .collect(),
            host: self.host,
            remote_addr: self.remote_addr,
            content_length: self.body.content_length(),
        };
        (init, self.body)
    }
}

/// The `plugin.Context` upstream's `servePluginRequest` builds: a new
/// request id, the client IP (no trusted proxy header is configured by
/// default), Accept-Language and User-Agent; no session, as the harness
/// has none to resolve a token against.
fn server_context(request: &HttpRequest) -> pb::PluginContext {
    let ip = request
        .remote_addr
        .rsplit_once(':')
        .map_or(request.remote_addr.as_str(), |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    pb::PluginContext {
        session_id: String::new(),
        request_id: new_id(),
        ip_address: ip.to_owned(),
        accept_language: request
            .header_value("Accept-Language")
            .unwrap_or_default()
            .to_owned(),
        user_agent: request
            .header_value("User-Agent")
            .unwrap_or_default()
            .to_owned(),
    }
}

/// A fresh id in Mattermost's format (`model.NewId`): 128 random bits in
/// 26 characters of its base32 alphabet.
pub fn new_id() -> String {
    const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";
    // Every `RandomState` is keyed differently, which is all the
    // randomness an id needs; no cryptographic strength is expected.
    let random = |salt: u64| u128::from(RandomState::new().hash_one(salt));
    let mut bits = (random(1) << 64) | random(2);
    (0..26)
        .map(|_| {
            let char = ALPHABET[(bits & 31) as usize] as char;
            bits >>= 5;
            char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_mattermost_ids_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 26);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn the_init_carries_the_request_and_a_server_made_context() {
        let request = HttpRequest::post("/echo?x=1", "hello")
            .header("User-Agent", "test/1")
            .header("X-Multi", "a")
            .header("X-Multi", "b");
        let (init, _) = request.into_wire();
        assert_eq!(init.method, "POST");
        assert_eq!(init.url, "/echo?x=1");
        assert_eq!(init.request_uri, "/echo?x=1");
        assert_eq!(init.content_length, 5);
        assert_eq!(init.proto, "HTTP/1.1");
        assert_eq!(init.headers[1].values, ["a", "b"]);
        let context = init.plugin_context.unwrap();
        assert_eq!(context.ip_address, "127.0.0.1");
        assert_eq!(context.user_agent, "test/1");
        assert_eq!(context.request_id.len(), 26);
    }

    #[test]
    fn ipv6_clients_get_a_bare_address_in_the_context() {
        let mut request = HttpRequest::get("/");
        request.remote_addr = "[::1]:4000".to_owned();
        assert_eq!(server_context(&request).ip_address, "::1");
    }
}
