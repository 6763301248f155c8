//! The small things every entity is made of: ids (mostly those of the
//! default world, so a plugin that looks them up through the Plugin API
//! finds them), times, counts, the contexts that travel with a request,
//! JSON values and blobs.

use std::collections::HashMap;

use mm_plugin_proto::pb;
use proptest::{collection::vec, option, prelude::*, sample::select, strategy::BoxedStrategy};
use serde_json::{Value, json};

use super::{
    Profile,
    plain::plain_first,
    text::{message, odd_id, pattern, random_id, short_text, w, weighted},
};
use crate::wire;

pub const USERS: &[&str] = &[
    "ualice00000000000000000000",
    "ubob0000000000000000000000",
    "uadmin00000000000000000000",
    "uhelperbot0000000000000000",
];

pub const TEAMS: &[&str] = &["tacme000000000000000000000"];

pub const CHANNELS: &[&str] = &[
    "cacmetownsquare00000000000",
    "cacmeofftopic0000000000000",
    "cacmesecret000000000000000",
];

pub const POSTS: &[&str] = &[
    "p0000000000000000000000101",
    "p0000000000000000000000102",
    "p0000000000000000000000103",
];

pub(super) const FILES: &[&str] = &["f0000000000000000000000201", "f0000000000000000000000202"];

/// A fixed instant (2023-11-14), for plain values.
pub(super) const PLAIN_TIME: i64 = 1_700_000_000_000;

/// An id: mostly one the world knows, sometimes a fresh one, and in the
/// edge profile often one that is not an id at all.
pub fn id(profile: Profile, known: &'static [&'static str]) -> BoxedStrategy<String> {
    weighted(vec![
        (8, select(known).prop_map(str::to_owned).boxed()),
        (2, random_id()),
        (w(profile, 0, 4), odd_id().boxed()),
    ])
}

/// An optional id: empty (the common case) or an id.
pub(super) fn maybe_id(profile: Profile, known: &'static [&'static str]) -> BoxedStrategy<String> {
    weighted(vec![
        (3, Just(String::new()).boxed()),
        (1, id(profile, known)),
    ])
}

/// Milliseconds since the epoch, as Mattermost stores times.
pub fn timestamp(profile: Profile) -> BoxedStrategy<i64> {
    weighted(vec![
        (9, (1_600_000_000_000i64..1_800_000_000_000).boxed()),
        (1, Just(0).boxed()),
        (
            w(profile, 0, 3),
            select(&[-1, 1, i64::MIN, i64::MAX, 253_402_300_800_000][..]).boxed(),
        ),
    ])
}

/// A time that is usually unset (0): edited, deleted, last updated.
pub(super) fn rare_time(profile: Profile) -> BoxedStrategy<i64> {
    weighted(vec![(4, Just(0).boxed()), (1, timestamp(profile))])
}

pub(super) fn count(profile: Profile) -> BoxedStrategy<i64> {
    weighted(vec![
        (9, (0i64..1_000).boxed()),
        (
            w(profile, 0, 2),
            select(&[-1, i64::MIN, i64::MAX][..]).boxed(),
        ),
    ])
}

/// What upstream's server fills in from `plugin.Context`; absent when the
/// server had no context to give.
pub fn plugin_context(profile: Profile) -> BoxedStrategy<Option<pb::PluginContext>> {
    let realistic = (
        maybe_id(profile, &["s0000000000000000000000001"]),
        random_id(),
        select(
            &[
                "127.0.0.1",
                "10.0.0.5",
                "::1",
                "2001:db8::1",
                "192.168.1.20",
            ][..],
        ),
        select(&["en-US,en;q=0.9", "fr", "de-DE", "ja", ""][..]),
        select(
            &[
                "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                "Mattermost Mobile/2.20.0 (Android; 14)",
                "curl/8.5.0",
                "",
            ][..],
        ),
    )
        .prop_map(
            |(session_id, request_id, ip, language, agent)| pb::PluginContext {
                session_id,
                request_id,
                ip_address: ip.to_owned(),
                accept_language: language.to_owned(),
                user_agent: agent.to_owned(),
            },
        );
    let odd = (
        odd_id(),
        odd_id(),
        select(
            &[
                "",
                "not an ip",
                "999.999.999.999",
                "[::1]:80",
                "127.0.0.1\r\nX-Injected: 1",
            ][..],
        ),
        pattern("\\PC{0,32}"),
        pattern("[ -~]{0,512}"),
    )
        .prop_map(
            |(session_id, request_id, ip, language, agent)| pb::PluginContext {
                session_id,
                request_id,
                ip_address: ip.to_owned(),
                accept_language: language,
                user_agent: agent,
            },
        );
    let context = weighted(vec![
        (w(profile, 1, 1), Just(None).boxed()),
        (8, realistic.prop_map(Some).boxed()),
        (w(profile, 0, 4), odd.prop_map(Some).boxed()),
    ]);
    plain_first(context, Some(plain_context())).boxed()
}

fn plain_context() -> pb::PluginContext {
    pb::PluginContext {
        request_id: "r0000000000000000000000001".into(),
        ip_address: "127.0.0.1".into(),
        ..Default::default()
    }
}

/// Field 1 of every request: the Go client never fills it, so only the
/// edge profile sends one.
pub fn request_context(profile: Profile) -> BoxedStrategy<Option<pb::RequestContext>> {
    match profile {
        Profile::Realistic => Just(None).boxed(),
        Profile::Edge => option::weighted(
            0.5,
            (odd_id(), odd_id(), odd_id(), id(profile, USERS)).prop_map(
                |(plugin_id, request_id, session_id, user_id)| pb::RequestContext {
                    plugin_id,
                    request_id,
                    session_id,
                    user_id,
                },
            ),
        )
        .boxed(),
    }
}

const KNOWN_PROP_KEYS: &[&str] = &[
    "from_webhook",
    "override_username",
    "override_icon_url",
    "disable_group_highlight",
    "mentionHighlightDisabled",
    "from_bot",
    "card",
    "channel_mentions",
];

/// Keys people would not use: empty, dotted, prototype-polluting, control
/// characters, very long.
const ODD_KEYS: &[&str] = &[
    "",
    " ",
    ".",
    "a.b.c",
    "$ref",
    "__proto__",
    "constructor",
    "🙂",
    "\u{0}",
    "key\nwith newline",
    "\u{202E}yek",
    "attachments",
];

pub(super) fn key(profile: Profile) -> BoxedStrategy<String> {
    weighted(vec![
        (4, select(KNOWN_PROP_KEYS).prop_map(str::to_owned).boxed()),
        (4, pattern("[a-z_]{1,16}")),
        (
            w(profile, 0, 4),
            select(ODD_KEYS).prop_map(str::to_owned).boxed(),
        ),
        (w(profile, 0, 1), pattern("[a-z]{256,1024}")),
    ])
}

/// A JSON value with finite numbers only: the proto3 JSON mapping (and so
/// a saved suite) cannot carry NaN or infinities.
pub(super) fn json_value(profile: Profile) -> BoxedStrategy<Value> {
    let number = prop_oneof![
        (-1e6f64..1e6).prop_map(|n| json!(n)),
        select(
            &[
                0.0,
                -0.0,
                1e300,
                -1e300,
                f64::MIN_POSITIVE,
                9_007_199_254_740_993.0
            ][..]
        )
        .prop_map(|n| json!(n)),
    ];
    let leaf = weighted(vec![
        (1, Just(Value::Null).boxed()),
        (2, any::<bool>().prop_map(Value::Bool).boxed()),
        (2, number.boxed()),
        (4, short_text(profile).prop_map(Value::String).boxed()),
    ]);
    let (depth, size) = match profile {
        Profile::Realistic => (3, 24),
        Profile::Edge => (6, 96),
    };
    leaf.prop_recursive(depth, size, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..=6).prop_map(Value::Array),
            vec((key(profile), inner), 0..=6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A string map (`map<string, string>`) from a few key/value choices.
pub(super) fn string_map(
    profile: Profile,
    keys: &'static [&'static str],
    values: &'static [&'static str],
    most: usize,
) -> BoxedStrategy<HashMap<String, String>> {
    let entry = (
        weighted(vec![
            (4, select(keys).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 2), key(profile)),
        ]),
        weighted(vec![
            (4, select(values).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 2), short_text(profile)),
        ]),
    );
    vec(entry, 0..=most)
        .prop_map(|entries| entries.into_iter().collect())
        .boxed()
}

/// Bytes of `len` made from `seed`: large payloads cost no generation
/// time and shrink by length alone.
pub fn patterned(len: usize, seed: u8) -> Vec<u8> {
    let block: Vec<u8> = (0..=255u8)
        .map(|at| at.wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut bytes = block.repeat(len / block.len() + 1);
    bytes.truncate(len);
    bytes
}

/// A blob (file content, a cluster event's data): small and random, text,
/// or a patterned run of any size up to 1 MiB (6 MiB in the edge profile).
pub fn blob(profile: Profile) -> BoxedStrategy<Vec<u8>> {
    weighted(vec![
        (3, vec(any::<u8>(), 0..=256).boxed()),
        (2, message(profile).prop_map(String::into_bytes).boxed()),
        (
            2,
            (0usize..=64 << 10, any::<u8>())
                .prop_map(|(len, seed)| patterned(len, seed))
                .boxed(),
        ),
        (
            1,
            (64usize << 10..=1 << 20, any::<u8>())
                .prop_map(|(len, seed)| patterned(len, seed))
                .boxed(),
        ),
        (
            w(profile, 0, 1),
            (1usize << 20..=6 << 20, any::<u8>())
                .prop_map(|(len, seed)| patterned(len, seed))
                .boxed(),
        ),
    ])
}

/// A JSON document as bytes (the server passes config, notifications and
/// sync messages as JSON text); the edge profile adds text that is not JSON.
pub fn json_bytes(profile: Profile) -> BoxedStrategy<Vec<u8>> {
    weighted(vec![
        (
            6,
            vec((key(profile), json_value(profile)), 0..=6)
                .prop_map(|entries| {
                    serde_json::to_vec(&Value::Object(entries.into_iter().collect()))
                        .expect("JSON values serialize")
                })
                .boxed(),
        ),
        (w(profile, 1, 1), Just(Vec::new()).boxed()),
        (w(profile, 0, 3), blob(profile)),
    ])
}

/// A JSON object as a `Struct` (WebSocket message data).
pub fn data(profile: Profile) -> BoxedStrategy<Option<prost_types::Struct>> {
    option::weighted(
        0.8,
        vec((key(profile), json_value(profile)), 0..=6)
            .prop_map(|entries| wire::json_to_struct(&entries.into_iter().collect())),
    )
    .boxed()
}

/// Upstream sends only empty limits; the edge profile fills them.
pub fn product_limits(profile: Profile) -> BoxedStrategy<Option<pb::ProductLimits>> {
    let empty = pb::ProductLimits {
        files: Some(pb::FilesLimits::default()),
        messages: Some(pb::MessagesLimits::default()),
        teams: Some(pb::TeamsLimits::default()),
    };
    match profile {
        Profile::Realistic => Just(Some(empty)).boxed(),
        Profile::Edge => (any::<i64>(), any::<i32>(), any::<i32>())
            .prop_map(|(storage, history, active)| {
                Some(pb::ProductLimits {
                    files: Some(pb::FilesLimits {
                        total_storage: Some(storage),
                    }),
                    messages: Some(pb::MessagesLimits {
                        history: Some(history),
                    }),
                    teams: Some(pb::TeamsLimits {
                        active: Some(active),
                    }),
                })
            })
            .boxed(),
    }
}

/// A post's or channel's `props`: usually none (upstream's server does
/// not even send a post's to these hooks today), sometimes what webhooks and integrations
/// set, and in the edge profile deep nesting and odd keys. Nesting stops at
/// 30 levels, which keeps the request within protobuf decoders' recursion
/// limit of 100 (a level of Struct is three levels of message).
pub fn props(profile: Profile) -> BoxedStrategy<Option<prost_types::Struct>> {
    let webhook =
        (short_text(profile), message(profile), any::<bool>()).prop_map(|(title, text, short)| {
            json!({
                "from_webhook": "true",
                "override_username": "ci-bot",
                "attachments": [{
                    "fallback": title, "color": "#FF8000", "title": title, "text": text,
                    "fields": [{"title": "Status", "value": "failed", "short": short}],
                }],
            })
        });
    let random = vec((key(profile), json_value(profile)), 0..=8)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()));
    let deep = (1usize..=30, key(profile), json_value(profile)).prop_map(|(depth, key, leaf)| {
        (0..depth).fold(leaf, |inner, _| json!({ key.clone(): inner }))
    });
    let as_struct = |value: Value| match value {
        Value::Object(object) => Some(wire::json_to_struct(&object)),
        _ => None,
    };
    weighted(vec![
        (w(profile, 12, 2), Just(None).boxed()),
        (w(profile, 3, 2), webhook.prop_map(as_struct).boxed()),
        (w(profile, 1, 4), random.prop_map(as_struct).boxed()),
        (w(profile, 0, 2), deep.prop_map(as_struct).boxed()),
    ])
}
