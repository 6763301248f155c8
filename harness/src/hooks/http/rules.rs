//! What the Mattermost server makes of a plugin's first response message
//! (upstream's `writeHTTPResponseHeaders`), and the answers it writes by
//! itself when the plugin's cannot be relayed.

use bytes::Bytes;
use mm_plugin_proto::pb;
use serde::Serialize;

use super::request::Header;

/// The status and headers the server writes to the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseHead {
    pub status: u16,
    /// Canonical names, values of equal names merged, in first-seen order:
    /// what `w.Header().Add` makes of the plugin's list.
    pub headers: Vec<Header>,
    /// A 1xx status (other than 101) the plugin asked for: Go's writer
    /// sends it at once as an interim response and the final status is 200.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interim: Option<u16>,
}

/// The server answering by itself because the plugin's answer cannot be
/// relayed (`http.Error` upstream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerAnswer {
    pub status: u16,
    pub reason: String,
}

impl ServerAnswer {
    /// The stream could not be opened.
    pub fn unavailable(reason: String) -> ServerAnswer {
        ServerAnswer {
            status: 503,
            reason,
        }
    }

    /// The stream failed or ended before its first message.
    pub fn bad_gateway(reason: String) -> ServerAnswer {
        ServerAnswer {
            status: 502,
            reason,
        }
    }

    pub fn invalid_status(status: i32) -> ServerAnswer {
        ServerAnswer {
            status: 500,
            reason: format!(
                "the plugin sent status code {status}, outside 100-999; the server logs \
                 \"Plugin tried to write invalid HTTP status code\" and answers 500"
            ),
        }
    }

    /// What `http.Error` writes before the text.
    pub fn head(&self) -> ResponseHead {
        ResponseHead {
            status: self.status,
            headers: vec![
                Header::new("Content-Type", vec!["text/plain; charset=utf-8".to_owned()]),
                Header::new("X-Content-Type-Options", vec!["nosniff".to_owned()]),
            ],
            interim: None,
        }
    }

    /// The text, as `http.Error(w, http.StatusText(code), code)` writes it.
    pub fn body(&self) -> Bytes {
        let text = match self.status {
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Error",
        };
        Bytes::from(format!("{text}\n"))
    }
}

/// The head the server writes for the plugin's first message `init`.
pub fn head_for(init: Option<&pb::ServeHttpResponseInit>) -> Result<ResponseHead, ServerAnswer> {
    let Some(init) = init else {
        return Ok(ResponseHead {
            status: 200,
            headers: Vec::new(),
            interim: None,
        });
    };
    let status = if init.status_code == 0 {
        200
    } else {
        init.status_code
    };
    // Checked before any header is copied, so a refused answer keeps none.
    if !(100..=999).contains(&status) {
        return Err(ServerAnswer::invalid_status(status));
    }
    let status = status as u16;
    let (status, interim) = if (100..200).contains(&status) && status != 101 {
        (200, Some(status))
    } else {
        (status, None)
    };
    Ok(ResponseHead {
        status,
        headers: merge_headers(init.headers.iter().map(|h| (h.key.as_str(), &h.values))),
        interim,
    })
}

/// Adds every value under its canonical name, as `http.Header.Add` does.
fn merge_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a Vec<String>)>) -> Vec<Header> {
    let mut merged: Vec<Header> = Vec::new();
    for (name, values) in headers {
        let name = canonical_header_key(name);
        match merged.iter_mut().find(|header| header.name == name) {
            Some(header) => header.values.extend(values.iter().cloned()),
            None => merged.push(Header::new(name, values.clone())),
        }
    }
    merged.retain(|header| !header.values.is_empty());
    merged
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` →
/// `Content-Type`. A name with a byte that is not a token character is left
/// as it is.
pub fn canonical_header_key(name: &str) -> String {
    if !name.bytes().all(is_token_byte) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(status_code: i32, headers: &[(&str, &[&str])]) -> pb::ServeHttpResponseInit {
        pb::ServeHttpResponseInit {
            status_code,
            headers: headers
                .iter()
                .map(|(key, values)| pb::HttpHeader {
                    key: (*key).to_owned(),
                    values: values.iter().map(|v| (*v).to_owned()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn no_init_or_zero_means_200() {
        assert_eq!(head_for(None).unwrap().status, 200);
        assert_eq!(head_for(Some(&init(0, &[]))).unwrap().status, 200);
    }

    #[test]
    fn statuses_outside_100_to_999_make_the_server_answer_500() {
        for status in [-1, 1, 99, 1000] {
            let answer = head_for(Some(&init(status, &[("X", &["y"])]))).unwrap_err();
            assert_eq!(answer.status, 500);
            assert!(answer.reason.contains(&status.to_string()));
        }
        assert_eq!(head_for(Some(&init(999, &[]))).unwrap().status, 999);
        assert_eq!(head_for(Some(&init(101, &[]))).unwrap().status, 101);
    }

    #[test]
    fn informational_statuses_are_interim() {
        let head = head_for(Some(&init(103, &[]))).unwrap();
        assert_eq!((head.status, head.interim), (200, Some(103)));
    }

    #[test]
    fn headers_are_canonicalised_and_merged_in_order() {
        let head = head_for(Some(&init(
            201,
            &[
                ("x-multi", &["a"]),
                ("Content-Type", &["text/plain"]),
                ("X-MULTI", &["b", "c"]),
                ("x-empty", &[]),
            ],
        )))
        .unwrap();
        assert_eq!(
            head.headers,
            [
                Header::new("X-Multi", vec!["a".into(), "b".into(), "c".into()]),
                Header::new("Content-Type", vec!["text/plain".into()]),
            ]
        );
    }

    #[test]
    fn canonical_keys_follow_go() {
        assert_eq!(canonical_header_key("content-type"), "Content-Type");
        assert_eq!(canonical_header_key("X-ECHO-url"), "X-Echo-Url");
        assert_eq!(
            canonical_header_key("mattermost-plugin-id"),
            "Mattermost-Plugin-Id"
        );
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }

    #[test]
    fn server_answers_are_http_error_texts() {
        let answer = ServerAnswer::bad_gateway("x".into());
        assert_eq!(answer.body(), "Bad Gateway\n");
        assert_eq!(
            answer.head().headers[0].values,
            ["text/plain; charset=utf-8"]
        );
    }
}
