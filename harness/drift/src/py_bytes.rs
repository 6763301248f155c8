//! Reads the descriptors that protoc's Python generator embeds in `*_pb2.py` modules.
//!
//! Every generated module registers its file with a call of the form
//! `DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\n\x0c...')`: the argument is
//! the serialized `FileDescriptorProto`, written as a Python bytes literal. This module decodes
//! that literal without Python, following Python's own rules for bytes literals:
//!
//! - prefixes `b`, `B`, and raw `rb`/`br` (any case); single, double or triple quotes;
//! - escapes `\\`, `\'`, `\"`, `\a`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v`, `\xNN` (exactly two hex
//!   digits), octal `\N`, `\NN`, `\NNN` (at most `\377`), and a backslash before a newline, which
//!   continues the literal on the next line;
//! - any other escape keeps its backslash, as Python does (`\q` is two bytes);
//! - only ASCII characters may appear in the literal itself;
//! - adjacent literals inside the call's parentheses are concatenated.
//!
//! Errors carry the 1-based line of the offending character, so a report can name file and line.

/// What was wrong with a bytes literal, and on which line of the module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LiteralError {
    /// 1-based line in the module's source.
    pub line: usize,
    pub reason: String,
}

/// The call protoc's Python generator uses to register a serialized file.
const REGISTER_CALL: &str = "AddSerializedFile(";

/// Decodes the argument of every `AddSerializedFile(...)` call in a module's source, in order.
/// A module without such a call yields an empty list.
pub fn serialized_files(source: &str) -> Result<Vec<Vec<u8>>, LiteralError> {
    let mut files = Vec::new();
    let mut search_from = 0;
    while let Some(found) = source[search_from..].find(REGISTER_CALL) {
        let argument_start = search_from + found + REGISTER_CALL.len();
        let (bytes, end) = call_argument(source.as_bytes(), argument_start)?;
        files.push(bytes);
        search_from = end;
    }
    Ok(files)
}

/// Decodes the bytes literal(s) of a call's single argument starting at `start`; returns the
/// bytes and the offset just past the closing parenthesis.
fn call_argument(source: &[u8], start: usize) -> Result<(Vec<u8>, usize), LiteralError> {
    let mut bytes = Vec::new();
    let mut at = skip_whitespace(source, start);
    if !starts_literal(source, at) {
        return Err(error(
            source,
            at,
            format!(
                "the argument of {REGISTER_CALL}...) is not a bytes literal (found {})",
                describe(source, at)
            ),
        ));
    }
    while starts_literal(source, at) {
        at = bytes_literal(source, at, &mut bytes)?;
        at = skip_whitespace(source, at);
    }
    match source.get(at) {
        Some(b')') => Ok((bytes, at + 1)),
        _ => Err(error(
            source,
            at,
            format!(
                "expected ')' after the bytes literal, found {}",
                describe(source, at)
            ),
        )),
    }
}

/// Whether a string literal (of any prefix) starts at `at`.
fn starts_literal(source: &[u8], at: usize) -> bool {
    let mut index = at;
    while index < source.len() && index < at + 2 && b"bBrR".contains(&source[index]) {
        index += 1;
    }
    matches!(source.get(index), Some(b'\'' | b'"'))
}

fn skip_whitespace(source: &[u8], mut at: usize) -> usize {
    while source.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// Decodes one literal starting at `start` (its prefix) into `out`; returns the offset just past
/// its closing quote(s).
pub(crate) fn bytes_literal(
    source: &[u8],
    start: usize,
    out: &mut Vec<u8>,
) -> Result<usize, LiteralError> {
    let mut at = start;
    let (mut is_bytes, mut is_raw) = (false, false);
    while let Some(&prefix) = source.get(at) {
        match prefix {
            b'b' | b'B' if !is_bytes => is_bytes = true,
            b'r' | b'R' if !is_raw => is_raw = true,
            _ => break,
        }
        at += 1;
    }
    let quote = match source.get(at) {
        Some(&quote @ (b'\'' | b'"')) => quote,
        _ => {
            return Err(error(
                source,
                at,
                format!("expected a quote, found {}", describe(source, at)),
            ));
        }
    };
    if !is_bytes {
        return Err(error(
            source,
            start,
            "a str literal where a bytes literal (b'...') was expected".to_owned(),
        ));
    }
    let triple = source.get(at + 1) == Some(&quote) && source.get(at + 2) == Some(&quote);
    let quote_len = if triple { 3 } else { 1 };
    at += quote_len;
    loop {
        let Some(&byte) = source.get(at) else {
            return Err(error(
                source,
                start,
                "unterminated bytes literal (the file ends before its closing quote)".to_owned(),
            ));
        };
        if byte == quote && (!triple || source[at..].starts_with(&[quote; 3])) {
            return Ok(at + quote_len);
        }
        match byte {
            b'\n' if !triple => {
                return Err(error(
                    source,
                    at,
                    "unterminated bytes literal (a line ends before its closing quote)".to_owned(),
                ));
            }
            0x80.. => {
                return Err(error(
                    source,
                    at,
                    "a non-ASCII character inside a bytes literal".to_owned(),
                ));
            }
            b'\\' => at = escape(source, at, is_raw, out)?,
            _ => {
                out.push(byte);
                at += 1;
            }
        }
    }
}

/// Decodes the escape whose backslash is at `at`; returns the offset after it.
fn escape(
    source: &[u8],
    at: usize,
    is_raw: bool,
    out: &mut Vec<u8>,
) -> Result<usize, LiteralError> {
    let Some(&escaped) = source.get(at + 1) else {
        return Err(error(
            source,
            at,
            "a backslash at the end of the file".to_owned(),
        ));
    };
    if is_raw {
        // In a raw literal a backslash only stops the next character from closing it.
        out.extend_from_slice(&[b'\\', escaped]);
        return Ok(at + 2);
    }
    let simple = match escaped {
        b'\n' => return Ok(at + 2),
        b'\\' | b'\'' | b'"' => Some(escaped),
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(byte) = simple {
        out.push(byte);
        return Ok(at + 2);
    }
    match escaped {
        b'x' => {
            let digits = source
                .get(at + 2..at + 4)
                .filter(|digits| digits.iter().all(u8::is_ascii_hexdigit));
            let Some(digits) = digits else {
                return Err(error(
                    source,
                    at,
                    format!(
                        "invalid \\x escape: expected two hex digits, found {}",
                        describe(source, at + 2)
                    ),
                ));
            };
            let text = std::str::from_utf8(digits).expect("hex digits are ASCII");
            out.push(u8::from_str_radix(text, 16).expect("two hex digits fit a byte"));
            Ok(at + 4)
        }
        b'0'..=b'7' => {
            let digits = source[at + 1..]
                .iter()
                .take(3)
                .take_while(|digit| (b'0'..=b'7').contains(digit))
                .count();
            let value = source[at + 1..at + 1 + digits]
                .iter()
                .fold(0u32, |value, digit| value * 8 + u32::from(digit - b'0'));
            let Ok(byte) = u8::try_from(value) else {
                return Err(error(
                    source,
                    at,
                    format!("octal escape \\{value:o} is out of range (at most \\377)"),
                ));
            };
            out.push(byte);
            Ok(at + 1 + digits)
        }
        // Python keeps unknown escapes as written, backslash included.
        _ => {
            out.push(b'\\');
            Ok(at + 1)
        }
    }
}

fn error(source: &[u8], at: usize, reason: String) -> LiteralError {
    let line = 1 + source[..at.min(source.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count();
    LiteralError { line, reason }
}

/// A short, printable view of what stands at `at`, for error messages.
fn describe(source: &[u8], at: usize) -> String {
    if at >= source.len() {
        return "the end of the file".to_owned();
    }
    let end = (at + 12).min(source.len());
    let shown = String::from_utf8_lossy(&source[at..end]);
    let shown = shown.lines().next().unwrap_or_default();
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(literal: &str) -> Result<Vec<u8>, LiteralError> {
        let mut out = Vec::new();
        let end = bytes_literal(literal.as_bytes(), 0, &mut out)?;
        assert_eq!(end, literal.len(), "the whole literal is consumed");
        Ok(out)
    }

    #[test]
    fn plain_and_simple_escapes() {
        assert_eq!(decode(r"b'abc'").unwrap(), b"abc");
        assert_eq!(
            decode(r#"b'\n\t\r\\\'\"\a\b\f\v'"#).unwrap(),
            b"\n\t\r\\'\"\x07\x08\x0c\x0b"
        );
        assert_eq!(decode(r#"B"it's""#).unwrap(), b"it's");
    }

    #[test]
    fn hex_escapes_take_exactly_two_digits() {
        assert_eq!(decode(r"b'\x00\xff\x4A1'").unwrap(), b"\x00\xff\x4a1");
        let err = decode(r"b'\x4'").unwrap_err();
        assert!(err.reason.contains("two hex digits"), "{err}");
        let err = decode(r"b'\xg0'").unwrap_err();
        assert!(err.reason.contains("two hex digits"), "{err}");
    }

    #[test]
    fn octal_escapes_take_one_to_three_digits() {
        assert_eq!(
            decode(r"b'\0\7\12\101\1018\377'").unwrap(),
            b"\0\x07\nAA8\xff"
        );
        // A digit 8 or 9 ends the escape.
        assert_eq!(decode(r"b'\19'").unwrap(), b"\x019");
        let err = decode(r"b'\400'").unwrap_err();
        assert!(err.reason.contains("out of range"), "{err}");
    }

    #[test]
    fn unknown_escapes_keep_their_backslash_and_newlines_continue() {
        assert_eq!(decode(r"b'\q\%'").unwrap(), br"\q\%");
        assert_eq!(decode("b'ab\\\ncd'").unwrap(), b"abcd");
    }

    #[test]
    fn raw_and_triple_quoted_literals() {
        assert_eq!(decode(r"rb'\x41\''").unwrap(), br"\x41\'");
        assert_eq!(decode(r"Br'\n'").unwrap(), br"\n");
        assert_eq!(decode("b'''a'b\"\nc'''").unwrap(), b"a'b\"\nc");
    }

    #[test]
    fn malformed_literals_name_their_line() {
        let source = "x = 1\nDESCRIPTOR = pool.AddSerializedFile(b'\\n\\x0\n')\n";
        let err = serialized_files(source).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err = serialized_files("AddSerializedFile(b'abc").unwrap_err();
        assert!(err.reason.contains("unterminated"), "{err}");
        let err = serialized_files("\n\nAddSerializedFile('abc')").unwrap_err();
        assert_eq!(
            (err.line, err.reason.contains("str literal")),
            (3, true),
            "{err}"
        );
        let err = serialized_files("AddSerializedFile(data)").unwrap_err();
        assert!(err.reason.contains("not a bytes literal"), "{err}");
        let err = serialized_files("AddSerializedFile(b'é')").unwrap_err();
        assert!(err.reason.contains("non-ASCII"), "{err}");
        let err = serialized_files("AddSerializedFile(b'a', 1)").unwrap_err();
        assert!(err.reason.contains("expected ')'"), "{err}");
    }

    #[test]
    fn finds_every_call_and_joins_adjacent_literals() {
        let source = "A = p.AddSerializedFile(b'\\x01' b\"\\x02\"\n  rb'\\3')\nB = p.AddSerializedFile( b'z' )\n";
        assert_eq!(
            serialized_files(source).unwrap(),
            vec![b"\x01\x02\\3".to_vec(), b"z".to_vec()]
        );
        assert!(serialized_files("import os\n").unwrap().is_empty());
    }
}
