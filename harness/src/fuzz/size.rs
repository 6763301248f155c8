//! Size first. proptest shrinks a string by removing characters a few at a
//! time: a failure found on a 10 MiB post would spend the whole shrink
//! budget and end megabytes long. So before the tree walk, the largest text
//! or bytes field of the request is cut: halved while the failure holds,
//! then bisected between the last failing and the first passing length.
//! A failure that depends on size ends at its threshold (within 1 %); one
//! that does not ends with the field nearly empty. The walk then runs with
//! that field capped at the length found.

use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, Value};
use tokio_util::sync::CancellationToken;

use super::properties::Failure;

/// Fields shorter than this are left to the tree walk.
const WORTH_CUTTING: usize = 1024;

/// Where a field sits in a message: field numbers and list indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(u32),
    Index(usize),
}

/// The request's largest text or bytes field, and a length to cap it at.
#[derive(Debug, Clone)]
pub struct Cap {
    descriptor: MessageDescriptor,
    path: Vec<Step>,
    /// Readable path, for reports (`post.message`).
    pub field: String,
    /// The field's length in the request that first failed.
    pub original: usize,
    pub length: usize,
}

impl Cap {
    /// The largest text or bytes field of `request` (a `hook` request), if
    /// it is long enough to be worth cutting.
    pub fn largest(hook: &str, request: &Bytes) -> Option<Cap> {
        let descriptor = crate::wire::message_descriptor(&format!("{hook}Request"))?;
        let message = DynamicMessage::decode(descriptor.clone(), request.clone()).ok()?;
        let mut best: Option<(Vec<Step>, String, usize)> = None;
        visit(&message, &mut Vec::new(), "", &mut |path, name, length| {
            if best
                .as_ref()
                .is_none_or(|(_, _, longest)| length > *longest)
            {
                best = Some((path.to_vec(), name.to_owned(), length));
            }
        });
        let (path, field, length) = best.filter(|(_, _, length)| *length >= WORTH_CUTTING)?;
        Some(Cap {
            descriptor,
            path,
            field,
            original: length,
            length,
        })
    }

    /// `request` with the field cut to `length` (text at a character
    /// boundary); unchanged when it is shorter or does not decode.
    pub fn apply(&self, request: &Bytes, length: usize) -> Bytes {
        let Ok(mut message) = DynamicMessage::decode(self.descriptor.clone(), request.clone())
        else {
            return request.clone();
        };
        if let Some(value) = value_at(&mut message, &self.path) {
            match value {
                Value::String(text) if text.len() > length => {
                    let end = text.floor_char_boundary(length);
                    text.truncate(end);
                }
                Value::Bytes(bytes) if bytes.len() > length => {
                    *bytes = bytes.slice(..length);
                }
                _ => {}
            }
        }
        message.encode_to_vec().into()
    }
}

/// What cutting found: the cap to keep (the field fails at that length),
/// the failure there, and the calls it took.
pub struct Cut {
    pub cap: Cap,
    pub failure: Failure,
    pub runs: usize,
}

/// Cuts the largest field of `request`, which failed with `failure`, while
/// `test` keeps failing the same way. `None` when there is nothing worth cutting.
pub async fn cut(
    hook: &str,
    request: &Bytes,
    failure: &Failure,
    time: Duration,
    cancel: &CancellationToken,
    mut test: impl AsyncFnMut(&Bytes) -> Result<(), Failure>,
) -> Option<Cut> {
    let mut cap = Cap::largest(hook, request)?;
    let started = Instant::now();
    let out_of_time = || cancel.is_cancelled() || started.elapsed() >= time;
    // `failing` always fails; `passing`, once known, does not.
    let mut failing = (cap.length, failure.clone());
    let mut passing: Option<usize> = None;
    let mut runs = 0;
    let mut fails_at = async |length: usize, runs: &mut usize| {
        let candidate = cap.apply(request, length);
        *runs += 1;
        match test(&candidate).await {
            Err(found) if found.kind == failure.kind => Some(found),
            _ => None,
        }
    };
    // Halving.
    while failing.0 > 0 && passing.is_none() && !out_of_time() {
        let half = failing.0 / 2;
        match fails_at(half, &mut runs).await {
            Some(found) => failing = (half, found),
            None => passing = Some(half),
        }
    }
    // Bisection to the threshold, within 1 %.
    while let Some(pass) = passing {
        let gap = failing.0 - pass;
        if gap <= (failing.0 / 100).max(1) || out_of_time() {
            break;
        }
        let middle = pass + gap / 2;
        match fails_at(middle, &mut runs).await {
            Some(found) => failing = (middle, found),
            None => passing = Some(middle),
        }
    }
    cap.length = failing.0;
    Some(Cut {
        cap,
        failure: failing.1,
        runs,
    })
}

fn visit(
    message: &DynamicMessage,
    path: &mut Vec<Step>,
    prefix: &str,
    found: &mut dyn FnMut(&[Step], &str, usize),
) {
    for (field, value) in message.fields() {
        let name = if prefix.is_empty() {
            field.name().to_owned()
        } else {
            format!("{prefix}.{}", field.name())
        };
        path.push(Step::Field(field.number()));
        match value {
            Value::String(text) => found(path, &name, text.len()),
            Value::Bytes(bytes) => found(path, &name, bytes.len()),
            Value::Message(inner) => visit(inner, path, &name, found),
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(Step::Index(index));
                    let item_name = format!("{name}[{index}]");
                    match item {
                        Value::String(text) => found(path, &item_name, text.len()),
                        Value::Bytes(bytes) => found(path, &item_name, bytes.len()),
                        Value::Message(inner) => visit(inner, path, &item_name, found),
                        _ => {}
                    }
                    path.pop();
                }
            }
            _ => {}
        }
        path.pop();
    }
}

fn value_at<'m>(message: &'m mut DynamicMessage, path: &[Step]) -> Option<&'m mut Value> {
    let (Step::Field(number), rest) = path.split_first()? else {
        return None;
    };
    let field = message.descriptor().get_field(*number)?;
    let mut value = message.get_field_mut(&field);
    let mut rest = rest;
    loop {
        match (rest.split_first(), value) {
            (None, value) => return Some(value),
            (Some((Step::Index(index), tail)), Value::List(items)) => {
                value = items.get_mut(*index)?;
                rest = tail;
            }
            (Some((Step::Field(_), _)), Value::Message(inner)) => return value_at(inner, rest),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use mm_plugin_proto::pb;

    use super::*;
    use crate::fuzz::properties::FailureKind;

    fn request(message: String) -> Bytes {
        pb::MessageWillBePostedRequest {
            post: Some(pb::Post {
                id: "p".into(),
                message,
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
        .into()
    }

    fn message_len(bytes: &Bytes) -> usize {
        pb::MessageWillBePostedRequest::decode(bytes.clone())
            .expect("a request")
            .post
            .expect("a post")
            .message
            .len()
    }

    fn failure() -> Failure {
        Failure {
            kind: FailureKind::Status("INTERNAL".into(), "too long".into()),
            summary: String::new(),
            details: Vec::new(),
            expect: None,
            deadline: None,
        }
    }

    /// The cut, and the request cut to its cap.
    async fn cut_with(threshold: usize, size: usize) -> (Cut, Bytes) {
        let original = request("x".repeat(size));
        let cut = cut(
            "MessageWillBePosted",
            &original,
            &failure(),
            Duration::from_secs(60),
            &CancellationToken::new(),
            async |candidate: &Bytes| {
                if message_len(candidate) >= threshold {
                    Err(failure())
                } else {
                    Ok(())
                }
            },
        )
        .await
        .expect("a 10 MiB message is worth cutting");
        let cut_request = cut.cap.apply(&original, cut.cap.length);
        (cut, cut_request)
    }

    #[tokio::test]
    async fn a_size_dependent_failure_ends_at_its_threshold() {
        let threshold = 4_000_001;
        let (cut, request) = cut_with(threshold, 10 * 1024 * 1024).await;
        let length = message_len(&request);
        assert!(length >= threshold, "{length}");
        assert!(length <= threshold + threshold / 100, "{length}");
        assert_eq!(cut.cap.field, "post.message");
        assert!(cut.runs < 40, "{} runs", cut.runs);
    }

    #[tokio::test]
    async fn a_size_independent_failure_ends_small() {
        let (_, request) = cut_with(0, 10 * 1024 * 1024).await;
        assert_eq!(message_len(&request), 0);
    }

    #[test]
    fn short_requests_are_left_to_the_tree() {
        assert!(Cap::largest("MessageWillBePosted", &request("short".into())).is_none());
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let original = request("é".repeat(2000));
        let cap = Cap::largest("MessageWillBePosted", &original).expect("worth cutting");
        assert_eq!(message_len(&cap.apply(&original, 3)), 2);
    }
}
