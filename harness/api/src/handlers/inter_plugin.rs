//! `PluginHTTP`: a plugin's HTTP request to another plugin's ServeHTTP, at
//! `/<plugin id>/<path>`. Only the plugin under test runs, so a peer
//! answers from the world: the answer its seed gives it (`"http"` in the
//! world's `plugins`), or, as a plugin without ServeHTTP does, Go's
//! `404 page not found`. A suite stub on `PluginHTTP` answers anything
//! else. Every delivered request is recorded in the outbox.
//!
//! Failures are HTTP answers, never errors, as upstream builds them.

use std::collections::HashMap;

use mm_plugin_proto::pb;

use crate::{
    registry::{HandlerResult, Registry},
    world::{InterPluginRequest, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(plugin_http);
}

fn text_answer(
    status_code: i32,
    body: &str,
    headers: HashMap<String, String>,
) -> pb::PluginHttpResponse {
    pb::PluginHttpResponse {
        error: None,
        status_code,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

/// What Go's `http.NotFound` writes.
fn not_found() -> pb::PluginHttpResponse {
    let headers = HashMap::from([
        (
            "Content-Type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        ),
        ("X-Content-Type-Options".to_owned(), "nosniff".to_owned()),
    ]);
    text_answer(404, "404 page not found\n", headers)
}

fn plugin_http(
    world: &mut World,
    request: pb::PluginHttpRequest,
) -> HandlerResult<pb::PluginHttpResponse> {
    // Only the URL's path and query count; a scheme and host are ignored.
    let path_and_query = match request.url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |at| &rest[at..]),
        None => request.url.as_str(),
    };
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let parts: Vec<&str> = path.splitn(3, '/').collect();
    let [_, destination, rest] = parts[..] else {
        return Ok(text_answer(
            400,
            "Not enough URL. Form of URL should be /<pluginid>/*",
            HashMap::new(),
        ));
    };
    if destination.is_empty() {
        return Ok(text_answer(
            400,
            "No plugin specified. Form of URL should be /<pluginid>/*",
            HashMap::new(),
        ));
    }
    let active = world
        .plugins
        .get(destination)
        .is_some_and(|plugin| plugin.enabled);
    if !active {
        return Ok(not_found());
    }
    let url = if query.is_empty() {
        format!("/{rest}")
    } else {
        format!("/{rest}?{query}")
    };
    world.sent.plugin_requests.push(InterPluginRequest {
        from_plugin_id: world.plugin_id.clone(),
        to_plugin_id: destination.to_owned(),
        method: request.method,
        url,
        body: request.body,
    });
    Ok(match world.peer_answers.get(destination) {
        Some(answer) => pb::PluginHttpResponse {
            error: None,
            status_code: answer.status_code,
            headers: answer.headers.clone().into_iter().collect(),
            body: answer.body.clone(),
        },
        None => not_found(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::world::PeerAnswer;

    fn world() -> World {
        World::from_seed(&World::default_seed(), "com.example.p", "/p", "default").unwrap()
    }

    fn call(w: &mut World, url: &str) -> pb::PluginHttpResponse {
        plugin_http(
            w,
            pb::PluginHttpRequest {
                method: "POST".into(),
                url: url.into(),
                headers: HashMap::new(),
                body: b"ping".to_vec(),
            },
        )
        .unwrap()
    }

    #[test]
    fn malformed_urls_and_inactive_peers_get_upstream_answers() {
        let mut w = world();
        assert_eq!(call(&mut w, "").status_code, 400);
        assert_eq!(call(&mut w, "//x").status_code, 400);
        let answer = call(&mut w, "/com.example.other/api");
        assert_eq!(
            (answer.status_code, answer.body.as_slice()),
            (404, &b"404 page not found\n"[..])
        );
        assert!(
            w.sent.plugin_requests.is_empty(),
            "a disabled plugin receives nothing"
        );
    }

    #[test]
    fn active_peers_answer_what_the_world_says() {
        let mut w = world();
        w.plugins.get_mut("com.example.other").unwrap().enabled = true;
        w.peer_answers.insert(
            "com.example.other".into(),
            PeerAnswer {
                status_code: 200,
                headers: BTreeMap::from([("Content-Type".into(), "application/json".into())]),
                body: b"{\"ok\":true}".to_vec(),
            },
        );
        let answer = call(&mut w, "http://localhost/com.example.other/api/v1?x=1");
        assert_eq!(
            (answer.status_code, answer.body.as_slice()),
            (200, &b"{\"ok\":true}"[..])
        );
        let sent = &w.sent.plugin_requests[0];
        assert_eq!(
            (
                sent.from_plugin_id.as_str(),
                sent.to_plugin_id.as_str(),
                sent.url.as_str()
            ),
            ("com.example.p", "com.example.other", "/api/v1?x=1")
        );
    }
}
