//! The parts of Go's `net/url` that decide which URL a plugin sees: the
//! server decodes the path, trims the plugin prefix, and re-encodes both
//! the path (`URL.EscapedPath`) and the query (`Values.Encode`, which sorts
//! the keys).

/// Percent-decodes a path. `None` for a malformed escape, which Go's
/// server refuses with 400 before any handler runs.
pub fn unescape_path(raw: &str) -> Option<Vec<u8>> {
    unescape(raw.as_bytes(), false)
}

/// Escapes a decoded path as `url.URL.EscapedPath` does when the raw path
/// no longer applies.
pub fn escape_path(path: &[u8]) -> String {
    escape(path, |byte| b"$&+,/:;=@".contains(&byte))
}

/// `url.ParseQuery` then `Values.Encode` without the keys in `drop`: pairs
/// Go cannot parse (a `;`, a bad escape) are left out, keys come sorted,
/// values keep their order, and everything is re-escaped.
pub fn reencode_query(raw: &str, drop: &[&str]) -> String {
    let mut values: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    for pair in raw.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(key), Some(value)) = (
            unescape(key.as_bytes(), true),
            unescape(value.as_bytes(), true),
        ) else {
            continue;
        };
        if drop.iter().any(|dropped| dropped.as_bytes() == key) {
            continue;
        }
        match values.iter_mut().find(|(known, _)| *known == key) {
            Some((_, list)) => list.push(value),
            None => values.push((key, vec![value])),
        }
    }
    values.sort_by(|a, b| a.0.cmp(&b.0));
    let mut encoded = Vec::new();
    for (key, list) in &values {
        for value in list {
            encoded.push(format!("{}={}", escape_query(key), escape_query(value)));
        }
    }
    encoded.join("&")
}

/// `url.QueryEscape`: only unreserved bytes stay, a space becomes `+`.
fn escape_query(component: &[u8]) -> String {
    escape(component, |_| false).replace("%20", "+")
}

/// Escapes every byte that is not unreserved and not allowed by `keep`.
fn escape(bytes: &[u8], keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) || keep(byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decoding; in a query component `+` is a space.
fn unescape(bytes: &[u8], query: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 3;
            }
            b'+' if query => {
                out.push(b' ');
                index += 1;
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_go_escaping() {
        let decoded = unescape_path("/a%2Fb/c%20d/%7Ex!").unwrap();
        assert_eq!(decoded, b"/a/b/c d/~x!");
        assert_eq!(escape_path(&decoded), "/a/b/c%20d/~x%21");
        assert_eq!(escape_path(b"/k=v;p@h:1+$,&"), "/k=v;p@h:1+$,&");
        assert_eq!(escape_path("/é".as_bytes()), "/%C3%A9");
        assert_eq!(unescape_path("/bad%zz"), None);
        assert_eq!(unescape_path("/short%4"), None);
    }

    #[test]
    fn queries_are_sorted_and_reencoded() {
        assert_eq!(reencode_query("b=2&a=1&b=1", &[]), "a=1&b=2&b=1");
        assert_eq!(reencode_query("q=a+b%21&flag", &[]), "flag=&q=a+b%21");
        assert_eq!(reencode_query("x=%2F/", &[]), "x=%2F%2F");
    }

    #[test]
    fn unparsable_pairs_and_dropped_keys_go() {
        assert_eq!(reencode_query("a=1;b=2&c=3", &[]), "c=3");
        assert_eq!(reencode_query("a=%zz&c=3&&", &[]), "c=3");
        assert_eq!(
            reencode_query("access_token=secret&x=1", &["access_token"]),
            "x=1"
        );
        assert_eq!(reencode_query("access_token=secret", &["access_token"]), "");
    }
}
