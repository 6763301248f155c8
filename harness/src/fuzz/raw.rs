//! Wire-level fuzzing (`--raw`): valid requests, encoded, then damaged the
//! ways a broken peer or a bad proxy damages them: bit flips, truncation,
//! a field tagged with the wrong wire type, a length prefix claiming far
//! more than follows, a string field holding invalid UTF-8. The property
//! is only that the plugin's decoder and gRPC stack survive and answer
//! with some status.
//!
//! Mutations are aimed by a scan of the encoding against the request's
//! descriptor, so they land on tags, length prefixes and string payloads
//! rather than only on random bytes.

use std::ops::Range;

use bytes::Bytes;
use proptest::{collection::vec, prelude::*, sample::select, strategy::BoxedStrategy};
use prost_reflect::{Kind, MessageDescriptor};

/// Byte sequences that are not UTF-8: an invalid byte, an overlong NUL,
/// a lone continuation byte, a UTF-16 surrogate, a code point above
/// U+10FFFF, a truncated sequence.
const INVALID_UTF8: &[&[u8]] = &[
    &[0xFF],
    &[0xC0, 0x80],
    &[0x80],
    &[0xED, 0xA0, 0x80],
    &[0xF4, 0x90, 0x80, 0x80],
    &[0xE2, 0x82],
];

/// What a length prefix may claim: one byte too many, up to 2^64 - 1, and
/// an overlong 11-byte varint.
const CLAIMS: &[u64] = &[1, 1 << 16, (1 << 31) - 1, 1 << 32, 1 << 62, u64::MAX];

/// A position in whatever the mutation lands on, as a fraction of its
/// length (as `proptest::sample::Index` does): it shrinks to the start.
pub type Pick = usize;

fn pick(value: Pick, len: usize) -> usize {
    ((len as u128 * value as u128) >> usize::BITS) as usize
}

#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit of one byte.
    FlipBit { at: Pick, bit: u8 },
    /// Cut the request short.
    Truncate { at: Pick },
    /// Change a field's wire type (to another valid one, or to 6 or 7).
    WrongWireType { field: Pick, shift: u8 },
    /// Make a length prefix claim more bytes than follow (`claim` beyond
    /// the real length; `None` writes an overlong varint).
    OversizeLength { field: Pick, claim: Option<u64> },
    /// Overwrite bytes of a string field with invalid UTF-8.
    InvalidUtf8 {
        field: Pick,
        at: Pick,
        bytes: &'static [u8],
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1u8..8)
            .prop_map(|(field, shift)| Mutation::WrongWireType { field, shift }),
        (any::<usize>(), proptest::option::of(select(CLAIMS)))
            .prop_map(|(field, claim)| Mutation::OversizeLength { field, claim }),
        (any::<usize>(), any::<usize>(), select(INVALID_UTF8))
            .prop_map(|(field, at, bytes)| Mutation::InvalidUtf8 { field, at, bytes }),
    ]
}

/// `valid` requests of type `descriptor`, each damaged by one to three
/// mutations. Shrinking drops mutations and simplifies the request.
pub fn raw_request(
    descriptor: MessageDescriptor,
    valid: BoxedStrategy<Bytes>,
) -> BoxedStrategy<Bytes> {
    (valid, vec(mutation(), 1..=3))
        .prop_map(move |(bytes, mutations)| {
            let canonical = canonical(&descriptor, &bytes);
            Bytes::from(mutate(&descriptor, canonical, &mutations))
        })
        .boxed()
}

/// A field as found in the encoding.
#[derive(Debug, Clone)]
struct Site {
    /// Offset of the tag's first byte, which holds the wire type.
    tag: usize,
    /// The length prefix of a length-delimited field.
    length: Option<Range<usize>>,
    payload: Range<usize>,
    string: bool,
}

/// Applies `mutations` to `bytes`: first those that keep every offset
/// (bit flips, wire types, UTF-8), then those that move bytes (lengths
/// from the back, so earlier offsets stay right), then the cut.
pub fn mutate(
    descriptor: &MessageDescriptor,
    mut bytes: Vec<u8>,
    mutations: &[Mutation],
) -> Vec<u8> {
    let mut sites = Vec::new();
    scan(descriptor, &bytes, 0, 0, &mut sites);
    for mutation in mutations {
        match mutation {
            Mutation::FlipBit { at, bit } if !bytes.is_empty() => {
                let at = pick(*at, bytes.len());
                bytes[at] ^= 1 << bit;
            }
            Mutation::WrongWireType { field, shift } if !sites.is_empty() => {
                let tag = sites[pick(*field, sites.len())].tag;
                let wire_type = (bytes[tag] & 7).wrapping_add(*shift) & 7;
                bytes[tag] = (bytes[tag] & !7) | wire_type;
            }
            Mutation::InvalidUtf8 {
                field,
                at,
                bytes: bad,
            } => {
                let strings: Vec<&Site> = sites
                    .iter()
                    .filter(|site| site.string && !site.payload.is_empty())
                    .collect();
                if strings.is_empty() {
                    continue;
                }
                let payload = strings[pick(*field, strings.len())].payload.clone();
                let start = payload.start + pick(*at, payload.len());
                let end = (start + bad.len()).min(payload.end);
                bytes[start..end].copy_from_slice(&bad[..end - start]);
            }
            _ => {}
        }
    }
    let mut lengths: Vec<(Range<usize>, Option<u64>)> = mutations
        .iter()
        .filter_map(|mutation| match mutation {
            Mutation::OversizeLength { field, claim } => {
                let prefixed: Vec<&Site> = sites.iter().filter(|s| s.length.is_some()).collect();
                (!prefixed.is_empty()).then(|| {
                    let site = prefixed[pick(*field, prefixed.len())];
                    let real = site.payload.len() as u64;
                    (
                        site.length.clone().expect("filtered"),
                        claim.map(|extra| real.saturating_add(extra)),
                    )
                })
            }
            _ => None,
        })
        .collect();
    lengths.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    lengths.dedup_by_key(|(range, _)| range.start);
    for (range, claim) in lengths {
        let varint = match claim {
            Some(claim) => encode_varint(claim),
            // 11 bytes: longer than any varint may be.
            None => [0xFF; 10].into_iter().chain([0x01]).collect(),
        };
        bytes.splice(range, varint);
    }
    if let Some(at) = mutations.iter().find_map(|mutation| match mutation {
        Mutation::Truncate { at } => Some(at),
        _ => None,
    }) && !bytes.is_empty()
    {
        bytes.truncate(pick(*at, bytes.len()));
    }
    bytes
}

/// Finds every field of `bytes`, a `descriptor` message at `base`,
/// descending into sub-messages. Stops at the first thing that does not
/// parse (there is none in a valid encoding).
fn scan(
    descriptor: &MessageDescriptor,
    bytes: &[u8],
    base: usize,
    depth: usize,
    out: &mut Vec<Site>,
) {
    if depth > 64 {
        return;
    }
    let mut at = 0;
    while at < bytes.len() {
        let tag_start = at;
        let Some((key, next)) = read_varint(bytes, at) else {
            return;
        };
        at = next;
        let number = (key >> 3) as u32;
        let field = descriptor.get_field(number);
        match key & 7 {
            0 => match read_varint(bytes, at) {
                Some((_, next)) => {
                    out.push(Site {
                        tag: base + tag_start,
                        length: None,
                        payload: base + at..base + next,
                        string: false,
                    });
                    at = next;
                }
                None => return,
            },
            1 | 5 => {
                let width = if key & 7 == 1 { 8 } else { 4 };
                if at + width > bytes.len() {
                    return;
                }
                out.push(Site {
                    tag: base + tag_start,
                    length: None,
                    payload: base + at..base + at + width,
                    string: false,
                });
                at += width;
            }
            2 => {
                let Some((len, start)) = read_varint(bytes, at) else {
                    return;
                };
                let end = start.saturating_add(len as usize);
                if end > bytes.len() {
                    return;
                }
                out.push(Site {
                    tag: base + tag_start,
                    length: Some(base + at..base + start),
                    payload: base + start..base + end,
                    string: field.as_ref().is_some_and(|f| f.kind() == Kind::String),
                });
                if let Some(Kind::Message(inner)) = field.as_ref().map(|f| f.kind()) {
                    scan(&inner, &bytes[start..end], base + start, depth + 1, out);
                }
                at = end;
            }
            _ => return,
        }
    }
}

/// The encoding with the entries of every map field in byte order.
/// prost writes maps in hash order, which differs from run to run; raw
/// mutations aim at byte offsets, so without this a seed would not
/// reproduce its cases.
pub fn canonical(descriptor: &MessageDescriptor, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    // Entries of the map field being collected, and its number.
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut map_field = None;
    let flush = |entries: &mut Vec<Vec<u8>>, out: &mut Vec<u8>| {
        entries.sort();
        for entry in entries.drain(..) {
            out.extend_from_slice(&entry);
        }
    };
    while at < bytes.len() {
        let Some((key, next)) = read_varint(bytes, at) else {
            break;
        };
        let number = (key >> 3) as u32;
        let field = descriptor.get_field(number);
        let end = match key & 7 {
            0 => read_varint(bytes, next).map(|(_, end)| end),
            1 => Some(next + 8),
            5 => Some(next + 4),
            2 => read_varint(bytes, next).map(|(len, start)| start.saturating_add(len as usize)),
            _ => None,
        };
        let Some(end) = end.filter(|&end| end <= bytes.len()) else {
            break;
        };
        let mut encoded = bytes[at..end].to_vec();
        if key & 7 == 2
            && let Some(Kind::Message(inner)) = field.as_ref().map(|f| f.kind())
        {
            let (_, start) = read_varint(bytes, next).expect("read above");
            let canonical_inner = canonical(&inner, &bytes[start..end]);
            encoded = bytes[at..start].to_vec();
            encoded.extend_from_slice(&canonical_inner);
        }
        let is_map = field.as_ref().is_some_and(|f| f.is_map());
        if map_field != Some(number) || !is_map {
            flush(&mut entries, &mut out);
            map_field = None;
        }
        if is_map {
            map_field = Some(number);
            entries.push(encoded);
        } else {
            out.extend_from_slice(&encoded);
        }
        at = end;
    }
    flush(&mut entries, &mut out);
    out.extend_from_slice(&bytes[at.min(bytes.len())..]);
    out
}

fn read_varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

fn encode_varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mm_plugin_proto::pb;
    use prost::Message;

    fn descriptor(name: &str) -> MessageDescriptor {
        crate::wire::message_descriptor(name).unwrap()
    }

    fn request() -> (MessageDescriptor, Vec<u8>) {
        let user = pb::User {
            id: "ualice00000000000000000000".into(),
            username: "alice".into(),
            notify_props: [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..Default::default()
        };
        let request = pb::UserHasBeenCreatedRequest {
            user: Some(user),
            ..Default::default()
        };
        (
            descriptor("UserHasBeenCreatedRequest"),
            request.encode_to_vec(),
        )
    }

    #[test]
    fn canonical_encodings_sort_map_entries_and_keep_the_message() {
        let (descriptor, bytes) = request();
        let canonical = canonical(&descriptor, &bytes);
        assert_eq!(canonical.len(), bytes.len());
        let decoded = pb::UserHasBeenCreatedRequest::decode(canonical.as_slice()).unwrap();
        assert_eq!(
            decoded,
            pb::UserHasBeenCreatedRequest::decode(bytes.as_slice()).unwrap()
        );
        // Whatever order prost wrote, the canonical form is one.
        let again = pb::UserHasBeenCreatedRequest::decode(bytes.as_slice())
            .unwrap()
            .encode_to_vec();
        assert_eq!(super::canonical(&descriptor, &again), canonical);
    }

    #[test]
    fn the_scan_finds_nested_strings_and_length_prefixes() {
        let (descriptor, bytes) = request();
        let mut sites = Vec::new();
        scan(&descriptor, &bytes, 0, 0, &mut sites);
        let strings: Vec<&[u8]> = sites
            .iter()
            .filter(|s| s.string)
            .map(|s| &bytes[s.payload.clone()])
            .collect();
        assert!(strings.contains(&&b"alice"[..]), "{strings:?}");
        assert!(sites.iter().filter(|s| s.length.is_some()).count() >= 6);
    }

    #[test]
    fn each_mutation_breaks_what_it_aims_at() {
        let (descriptor, bytes) = request();
        let decode = |bytes: &[u8]| pb::UserHasBeenCreatedRequest::decode(bytes);
        let utf8 = mutate(
            &descriptor,
            bytes.clone(),
            &[Mutation::InvalidUtf8 {
                field: 0,
                at: 0,
                bytes: &[0xFF],
            }],
        );
        assert_eq!(utf8.len(), bytes.len());
        assert!(decode(&utf8).is_err(), "invalid UTF-8 is refused by prost");
        let oversized = mutate(
            &descriptor,
            bytes.clone(),
            &[Mutation::OversizeLength {
                field: 0,
                claim: Some(1 << 32),
            }],
        );
        assert!(decode(&oversized).is_err());
        let wrong = mutate(
            &descriptor,
            bytes.clone(),
            &[Mutation::WrongWireType { field: 0, shift: 4 }],
        );
        assert!(decode(&wrong).is_err());
        let cut = mutate(&descriptor, bytes.clone(), &[Mutation::Truncate { at: 0 }]);
        assert!(cut.is_empty());
    }
}
