//! Redactions: volatile values (ids, timestamps) replaced by stable text
//! before a snapshot is compared, so snapshots pin behaviour, not the clock.
//!
//! Selectors, in the spirit of insta's: `.response.post.id` (a path),
//! `.api_calls[].request` (`[]` is every element of an array, `[2]` one of
//! them), `.response.*` (every key), and `..create_at` (that key at any
//! depth).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// As written in the suite, so a suite can be written back unchanged.
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    AnyKey,
    Index(usize),
    AnyIndex,
    /// The key, at this level or any depth below.
    Deep(String),
}

impl Selector {
    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn parse(text: &str) -> Result<Selector, String> {
        let invalid = |why: &str| format!("invalid redaction selector {text:?}: {why}");
        if !text.starts_with('.') {
            return Err(invalid(
                "a selector starts with `.`, like `.response.post.id` or `..create_at`",
            ));
        }
        let mut segments = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("..") {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                if end == 0 {
                    return Err(invalid("`..` must be followed by a key"));
                }
                segments.push(Segment::Deep(after[..end].to_owned()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                match &after[..end] {
                    "" => return Err(invalid("empty key")),
                    "*" => segments.push(Segment::AnyKey),
                    key => segments.push(Segment::Key(key.to_owned())),
                }
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').ok_or_else(|| invalid("`[` without `]`"))?;
                match &after[..end] {
                    "" => segments.push(Segment::AnyIndex),
                    index => segments.push(Segment::Index(
                        index
                            .parse()
                            .map_err(|_| invalid("an index is a number, or empty for all"))?,
                    )),
                }
                rest = &after[end + 1..];
            } else {
                return Err(invalid("expected `.` or `[` here"));
            }
        }
        Ok(Selector {
            text: text.to_owned(),
            segments,
        })
    }

    /// Replaces every value this selector reaches in `value` with `replacement`.
    /// Returns how many were replaced.
    pub fn redact(&self, value: &mut Value, replacement: &str) -> usize {
        apply(&self.segments, value, replacement)
    }
}

fn apply(segments: &[Segment], value: &mut Value, replacement: &str) -> usize {
    let Some((first, rest)) = segments.split_first() else {
        *value = Value::String(replacement.to_owned());
        return 1;
    };
    match (first, value) {
        (Segment::Key(key), Value::Object(map)) => {
            map.get_mut(key).map_or(0, |v| apply(rest, v, replacement))
        }
        (Segment::AnyKey, Value::Object(map)) => {
            map.values_mut().map(|v| apply(rest, v, replacement)).sum()
        }
        (Segment::Index(index), Value::Array(items)) => items
            .get_mut(*index)
            .map_or(0, |v| apply(rest, v, replacement)),
        (Segment::AnyIndex, Value::Array(items)) => {
            items.iter_mut().map(|v| apply(rest, v, replacement)).sum()
        }
        (Segment::Deep(key), value) => deep(key, rest, value, replacement),
        _ => 0,
    }
}

fn deep(key: &str, rest: &[Segment], value: &mut Value, replacement: &str) -> usize {
    match value {
        Value::Object(map) => map
            .iter_mut()
            .map(|(k, v)| {
                if k == key {
                    apply(rest, v, replacement)
                } else {
                    deep(key, rest, v, replacement)
                }
            })
            .sum(),
        Value::Array(items) => items
            .iter_mut()
            .map(|v| deep(key, rest, v, replacement))
            .sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redacted(selector: &str, mut value: Value) -> Value {
        Selector::parse(selector).unwrap().redact(&mut value, "[r]");
        value
    }

    #[test]
    fn paths_wildcards_indexes_and_deep_keys() {
        let value = json!({"response": {"post": {"id": "p1", "create_at": "17"}},
                           "api_calls": [{"request": {"create_at": 1}}, {"request": {"x": 2}}]});
        assert_eq!(
            redacted(".response.post.id", value.clone())["response"]["post"]["id"],
            "[r]"
        );
        let all = redacted("..create_at", value.clone());
        assert_eq!(all["response"]["post"]["create_at"], "[r]");
        assert_eq!(all["api_calls"][0]["request"]["create_at"], "[r]");
        let requests = redacted(".api_calls[].request", value.clone());
        assert_eq!(requests["api_calls"][1]["request"], "[r]");
        let one = redacted(".api_calls[1].request.*", value.clone());
        assert_eq!(one["api_calls"][1]["request"]["x"], "[r]");
        assert_eq!(one["api_calls"][0]["request"]["create_at"], 1);
        // Selecting nothing changes nothing.
        assert_eq!(redacted(".nope.deeper", value.clone()), value);
    }

    #[test]
    fn bad_selectors_say_why() {
        for (text, why) in [
            ("response.id", "starts with `.`"),
            ("..", "followed by a key"),
            (".a[x]", "an index is a number"),
            (".a[", "without `]`"),
            (".a..", "followed by a key"),
        ] {
            let err = Selector::parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
