//! An HTTP exchange through `ServeHTTP` against its step's expectations,
//! judged on what the HTTP client gets (the server's rules applied).

use sha2::{Digest, Sha256};

use super::Mismatch;
use crate::wire::partial_match;
use crate::{
    hooks::http::{Ending, HttpExchange},
    suite::HttpExpect,
};

/// `cut_off`: the step cancels the request on purpose, so an answer is not
/// required unless the suite asks for one.
pub fn check_http(expect: &HttpExpect, exchange: &HttpExchange, cut_off: bool) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let status = exchange.status;
    let answered = exchange.server_answer.is_none() && status.is_some();
    let wanted = expect.answered.or((!cut_off).then_some(true));
    if let Some(wanted) = wanted
        && wanted != answered
    {
        let actual = match (&exchange.server_answer, status) {
            (Some(server), _) => format!(
                "the server answered {} itself: {}",
                server.status, server.reason
            ),
            (None, None) => format!("no status ({:?})", exchange.ending),
            (None, Some(status)) => format!("the plugin answered {status}"),
        };
        let wanted = if wanted {
            "the plugin's own answer"
        } else {
            "no answer from the plugin"
        };
        out.push(Mismatch::new("http.answered", wanted, actual));
    }
    if let Some(wanted) = expect.request_complete
        && wanted != exchange.request.body_complete_sent
    {
        out.push(Mismatch::new(
            "http.request_complete",
            wanted.to_string(),
            format!(
                "{} after {} body bytes in {} messages{}",
                exchange.request.body_complete_sent,
                exchange.request.body_bytes,
                exchange.request.messages,
                exchange
                    .request
                    .send_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        ));
    }
    if let Some(wanted) = expect.status
        && !status.is_some_and(|status| wanted.matches(status))
    {
        out.push(Mismatch::new(
            "http.status",
            wanted.to_string(),
            status.map_or("none".to_owned(), |s| s.to_string()),
        ));
    }
    for (name, values) in &expect.headers {
        let actual = exchange.header(name).unwrap_or_default();
        if !values.iter().all(|value| actual.contains(value)) {
            out.push(Mismatch::new(
                format!("http.headers.{name}"),
                format!("{values:?}"),
                format!("{actual:?}"),
            ));
        }
    }
    let body = exchange.body.as_deref().unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    if let Some(wanted) = &expect.body
        && *wanted != text
    {
        out.push(Mismatch::new(
            "http.body",
            format!("{wanted:?}"),
            format!("{:?}", abbreviate(&text)),
        ));
    }
    if let Some(part) = &expect.body_contains
        && !text.contains(part.as_str())
    {
        out.push(Mismatch::new(
            "http.body",
            format!("a body containing {part:?}"),
            format!("{:?}", abbreviate(&text)),
        ));
    }
    if let Some(partial) = &expect.body_json {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(json) => out.extend(partial_match("http.body_json", partial, &json)),
            Err(err) => out.push(Mismatch::new(
                "http.body_json",
                partial.to_string(),
                format!("not JSON ({err}): {:?}", abbreviate(&text)),
            )),
        }
    }
    if let Some(size) = expect.body_size
        && size != exchange.body_len
    {
        out.push(Mismatch::new(
            "http.body_size",
            size.to_string(),
            exchange.body_len.to_string(),
        ));
    }
    if let Some(digest) = &expect.body_sha256 {
        let actual: String = Sha256::digest(body)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        if *digest != actual {
            out.push(Mismatch::new("http.body_sha256", digest, actual));
        }
    }
    if let Some(messages) = expect.messages
        && messages != exchange.response.messages
    {
        out.push(Mismatch::new(
            "http.messages",
            messages.to_string(),
            exchange.response.messages.to_string(),
        ));
    }
    if let Some(flushes) = expect.flushes
        && flushes != exchange.response.flushes.len()
    {
        out.push(Mismatch::new(
            "http.flushes",
            flushes.to_string(),
            exchange.response.flushes.len().to_string(),
        ));
    }
    if let Some(early) = expect.early
        && early != exchange.early_response
    {
        out.push(Mismatch::new(
            "http.early",
            early.to_string(),
            exchange.early_response.to_string(),
        ));
    }
    if exchange.ending == Ending::DeadlineExceeded && out.is_empty() {
        out.push(Mismatch::new(
            "http",
            "an exchange within the deadline",
            "the deadline passed",
        ));
    }
    out
}

fn abbreviate(text: &str) -> String {
    if text.len() > 300 {
        format!("{}…", &text[..text.floor_char_boundary(300)])
    } else {
        text.to_owned()
    }
}
