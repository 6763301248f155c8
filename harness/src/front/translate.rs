//! A client's HTTP request as the Mattermost server hands it to a plugin
//! (upstream's router and `servePluginRequest`): the route picks the
//! plugin, `/plugins/{id}` comes off the path, the query is re-encoded
//! without `access_token`, and the headers the server owns are dropped.

use std::net::SocketAddr;

use http::{HeaderMap, Version, request::Parts};
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};
use mm_plugin_proto::pb;
use tokio_stream::StreamExt;

use super::gourl;
use crate::hooks::http::{
    BoxError, Header, HttpRequest, RequestBody, canonical_header_key, new_id,
};

/// Where the router sends a request.
#[derive(Debug)]
pub enum Route {
    /// To the plugin, with the path it will see (`""` for `/plugins/{id}`).
    Plugin { path: Vec<u8> },
    /// Not a route of this plugin: the server's own 404.
    NotFound,
    /// A path Go's server refuses to parse (400).
    BadRequest,
}

/// Upstream's routes `/plugins/{plugin_id}` and `/plugins/{plugin_id}/…`,
/// matched on the decoded path, with the id limited to `[A-Za-z0-9_.-]`.
pub fn route(raw_path: &str, plugin_id: &str) -> Route {
    let Some(path) = gourl::unescape_path(raw_path) else {
        return Route::BadRequest;
    };
    let Some(rest) = path.strip_prefix(b"/plugins/") else {
        return Route::NotFound;
    };
    let id_end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let (id, rest) = rest.split_at(id_end);
    let id_allowed = |b: &u8| b.is_ascii_alphanumeric() || b"_-.".contains(b);
    if id.is_empty() || !id.iter().all(id_allowed) || id != plugin_id.as_bytes() {
        return Route::NotFound;
    }
    Route::Plugin {
        path: rest.to_vec(),
    }
}

/// Headers the server removes before the plugin sees the request:
/// `Mattermost-Plugin-ID` and `Mattermost-User-Id` only the server may set,
/// `Referer` it drops, `Host` Go moves to `r.Host`, `Transfer-Encoding` Go
/// keeps out of `r.Header`. `Cookie` is rebuilt (see `cookies`).
const REMOVED_HEADERS: [&str; 6] = [
    "Mattermost-Plugin-Id",
    "Mattermost-User-Id",
    "Referer",
    "Host",
    "Transfer-Encoding",
    "Cookie",
];

/// The session cookie, which the server keeps to itself.
const SESSION_COOKIE: &str = "MMAUTHTOKEN";

/// Builds what the plugin receives for a routed request.
pub fn plugin_request(parts: &Parts, path: &[u8], body: Incoming, peer: SocketAddr) -> HttpRequest {
    let query = parts.uri.query();
    let mut url = gourl::escape_path(path);
    let encoded = gourl::reencode_query(query.unwrap_or(""), &["access_token"]);
    // Go keeps a bare `?` (ForceQuery) even when the query ends up empty.
    if !encoded.is_empty() || query == Some("") {
        url.push('?');
        url.push_str(&encoded);
    }
    let content_length = body.size_hint().exact();
    let chunked = content_length.is_none();
    let (proto, major, minor) = match parts.version {
        Version::HTTP_10 => ("HTTP/1.0", 1, 0),
        Version::HTTP_2 => ("HTTP/2.0", 2, 0),
        _ => ("HTTP/1.1", 1, 1),
    };
    HttpRequest {
        method: parts.method.to_string(),
        url,
        request_uri: Some(parts.uri.to_string()),
        host: host(parts),
        proto: proto.to_owned(),
        proto_major: major,
        proto_minor: minor,
        headers: headers(&parts.headers, chunked),
        remote_addr: peer.to_string(),
        plugin_context: Some(pb::PluginContext {
            session_id: String::new(),
            request_id: new_id(),
            ip_address: peer.ip().to_string(),
            accept_language: first_value(&parts.headers, "accept-language"),
            user_agent: first_value(&parts.headers, "user-agent"),
        }),
        body: match content_length {
            Some(0) => RequestBody::Empty,
            _ => RequestBody::Stream {
                content_length,
                chunks: Box::pin(
                    body.into_data_stream()
                        .map(|chunk| chunk.map_err(|err| Box::new(err) as BoxError)),
                ),
            },
        },
    }
}

/// Go's `r.Host`: the authority of an absolute-form target, else `Host`.
fn host(parts: &Parts) -> String {
    match parts.uri.authority() {
        Some(authority) => authority.to_string(),
        None => first_value(&parts.headers, "host"),
    }
}

/// `r.Header` after the server is done with it: canonical names, values of
/// a name together, in the order names first appeared.
fn headers(map: &HeaderMap, chunked: bool) -> Vec<Header> {
    let mut headers: Vec<Header> = map
        .keys()
        .map(|name| {
            let values = map
                .get_all(name)
                .iter()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .collect();
            Header::new(canonical_header_key(name.as_str()), values)
        })
        .filter(|header| !REMOVED_HEADERS.contains(&header.name.as_str()))
        // A chunked body has no length; Go drops a Content-Length sent with one.
        .filter(|header| !(chunked && header.name == "Content-Length"))
        .collect();
    if let Some(cookie) = cookies(map) {
        headers.push(Header::new("Cookie", vec![cookie]));
    }
    headers
}

/// The request's cookies without the session cookie, in one `Cookie`
/// header, as the server's `r.AddCookie` loop leaves them.
fn cookies(map: &HeaderMap) -> Option<String> {
    let kept: Vec<&str> = map
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|pair| match pair.split_once('=') {
            Some((name, _)) => is_cookie_name(name) && name != SESSION_COOKIE,
            None => false,
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn first_value(map: &HeaderMap, name: &str) -> String {
    map.get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "com.example.plugin";

    fn routed(path: &str) -> Option<String> {
        match route(path, ID) {
            Route::Plugin { path } => Some(String::from_utf8(path).unwrap()),
            Route::NotFound => None,
            Route::BadRequest => Some("<400>".to_owned()),
        }
    }

    #[test]
    fn only_this_plugins_routes_reach_it() {
        assert_eq!(
            routed("/plugins/com.example.plugin/api/x").as_deref(),
            Some("/api/x")
        );
        assert_eq!(routed("/plugins/com.example.plugin").as_deref(), Some(""));
        assert_eq!(routed("/plugins/com.example.plugin/").as_deref(), Some("/"));
        assert_eq!(
            routed("/plugins/com%2Eexample.plugin/a%2Fb").as_deref(),
            Some("/a/b")
        );
        assert_eq!(routed("/plugins/com.example.pluginx/a"), None);
        assert_eq!(routed("/plugins/other/a"), None);
        assert_eq!(routed("/api/v4/users"), None);
        assert_eq!(routed("/plugins/"), None);
        assert_eq!(routed("/plugins/x%zz").as_deref(), Some("<400>"));
    }

    fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn server_owned_headers_go_and_the_rest_are_canonical() {
        let map = header_map(&[
            ("host", "localhost:8065"),
            ("x-multi", "1"),
            ("mattermost-user-id", "forged"),
            ("Mattermost-Plugin-ID", "forged"),
            ("referer", "http://elsewhere"),
            ("x-multi", "2"),
            ("content-length", "3"),
            ("cookie", "a=1; MMAUTHTOKEN=secret"),
            ("cookie", "b=2"),
            ("authorization", "Bearer token"),
        ]);
        assert_eq!(
            headers(&map, false),
            [
                Header::new("X-Multi", vec!["1".into(), "2".into()]),
                Header::new("Content-Length", vec!["3".into()]),
                Header::new("Authorization", vec!["Bearer token".into()]),
                Header::new("Cookie", vec!["a=1; b=2".into()]),
            ]
        );
        let chunked = headers(&map, true);
        assert!(!chunked.iter().any(|h| h.name == "Content-Length"));
    }

    #[test]
    fn a_session_cookie_alone_leaves_no_cookie_header() {
        let map = header_map(&[("cookie", "MMAUTHTOKEN=secret")]);
        assert_eq!(headers(&map, false), []);
    }
}
