//! Partial matching of JSON: the expected value names only the fields that
//! matter; everything it leaves out is accepted.

use serde::Serialize;
use serde_json::Value;

/// One failed comparison: the field, what was expected, what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What was checked: a response field path (`response.rejection_reason`),
    /// `status`, `exit`, ...
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl Mismatch {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Mismatch {
        Mismatch {
            field: field.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// Compares `expected` against `actual`, recursing into objects (only the
/// expected keys) and arrays (same length, element by element). A number
/// matches a string holding the same number, since the proto3 JSON mapping
/// writes 64-bit integers as strings.
pub fn partial_match(path: &str, expected: &Value, actual: &Value) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    walk(path, expected, actual, &mut mismatches);
    mismatches
}

fn walk(path: &str, expected: &Value, actual: &Value, out: &mut Vec<Mismatch>) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, expected_value) in expected {
                let field = format!("{path}.{key}");
                match actual.get(key) {
                    Some(actual_value) => walk(&field, expected_value, actual_value, out),
                    // An unset message field is absent from the JSON.
                    None if expected_value.is_null() => {}
                    None => out.push(Mismatch::new(field, expected_value.to_string(), "absent")),
                }
            }
        }
        (Value::Array(expected_items), Value::Array(actual_items))
            if expected_items.len() == actual_items.len() =>
        {
            for (index, (e, a)) in expected_items.iter().zip(actual_items).enumerate() {
                walk(&format!("{path}[{index}]"), e, a, out);
            }
        }
        (Value::Number(number), Value::String(text))
        | (Value::String(text), Value::Number(number))
            if text.parse::<f64>().ok() == number.as_f64() => {}
        // 1 and 1.0 are the same number (Struct values are all doubles).
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        _ if expected == actual => {}
        _ => out.push(Mismatch::new(
            path,
            expected.to_string(),
            actual.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_expected_fields_are_compared() {
        let actual = json!({"a": 1, "b": {"c": "x", "d": [1, 2]}, "e": "17"});
        assert!(partial_match("r", &json!({"b": {"c": "x"}}), &actual).is_empty());
        assert!(partial_match("r", &json!({"e": 17, "b": {"d": [1, 2]}}), &actual).is_empty());
        assert!(partial_match("r", &json!({"a": 1.0}), &actual).is_empty());
    }

    #[test]
    fn differences_name_the_field() {
        let actual = json!({"post": {"message": "hello", "props": {}}, "list": [1]});
        let mismatches = partial_match(
            "response",
            &json!({"post": {"message": "bye", "type": ""}, "list": [1, 2]}),
            &actual,
        );
        assert_eq!(
            mismatches,
            [
                Mismatch::new("response.list", "[1,2]", "[1]"),
                Mismatch::new("response.post.message", "\"bye\"", "\"hello\""),
                Mismatch::new("response.post.type", "\"\"", "absent"),
            ]
        );
    }
}
