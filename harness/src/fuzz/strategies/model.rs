//! Mattermost entities as the server hands them to hooks: posts, users,
//! channels, memberships, command arguments, files, reactions, and the
//! contexts that travel with them.
//!
//! Realistic values point at the default world (ids of alice, town-square,
//! acme), so a plugin that looks them up through the Plugin API finds them;
//! the edge profile adds ids and numbers nobody validated. Each entity
//! shrinks first to a plain version of itself (see `plain`), except the
//! text people type, which is where failures usually live.

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
const FILES: &[&str] = &["f0000000000000000000000201", "f0000000000000000000000202"];

/// A fixed instant (2023-11-14), for plain values.
const PLAIN_TIME: i64 = 1_700_000_000_000;

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
fn maybe_id(profile: Profile, known: &'static [&'static str]) -> BoxedStrategy<String> {
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
fn rare_time(profile: Profile) -> BoxedStrategy<i64> {
    weighted(vec![(4, Just(0).boxed()), (1, timestamp(profile))])
}

fn count(profile: Profile) -> BoxedStrategy<i64> {
    weighted(vec![
        (9, (0i64..1_000).boxed()),
        (w(profile, 0, 2), select(&[-1, i64::MIN, i64::MAX][..]).boxed()),
    ])
}

/// What upstream's server fills in from `plugin.Context`; absent when the
/// server had no context to give.
pub fn plugin_context(profile: Profile) -> BoxedStrategy<Option<pb::PluginContext>> {
    let realistic = (
        maybe_id(profile, &["s0000000000000000000000001"]),
        random_id(),
        select(&["127.0.0.1", "10.0.0.5", "::1", "2001:db8::1", "192.168.1.20"][..]),
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
        .prop_map(|(session_id, request_id, ip, language, agent)| {
            pb::PluginContext {
                session_id,
                request_id,
                ip_address: ip.to_owned(),
                accept_language: language.to_owned(),
                user_agent: agent.to_owned(),
            }
        });
    let odd = (
        odd_id(),
        odd_id(),
        select(&["", "not an ip", "999.999.999.999", "[::1]:80", "127.0.0.1\r\nX-Injected: 1"][..]),
        pattern("\\PC{0,32}"),
        pattern("[ -~]{0,512}"),
    )
        .prop_map(|(session_id, request_id, ip, language, agent)| pb::PluginContext {
            session_id,
            request_id,
            ip_address: ip.to_owned(),
            accept_language: language,
            user_agent: agent,
        });
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

fn key(profile: Profile) -> BoxedStrategy<String> {
    weighted(vec![
        (4, select(KNOWN_PROP_KEYS).prop_map(str::to_owned).boxed()),
        (4, pattern("[a-z_]{1,16}")),
        (w(profile, 0, 4), select(ODD_KEYS).prop_map(str::to_owned).boxed()),
        (w(profile, 0, 1), pattern("[a-z]{256,1024}")),
    ])
}

/// A JSON value with finite numbers only: the proto3 JSON mapping (and so
/// a saved suite) cannot carry NaN or infinities.
fn json_value(profile: Profile) -> BoxedStrategy<Value> {
    let number = prop_oneof![
        (-1e6f64..1e6).prop_map(|n| json!(n)),
        select(&[0.0, -0.0, 1e300, -1e300, f64::MIN_POSITIVE, 9_007_199_254_740_993.0][..])
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

/// A post's `props`: usually none (upstream's server does not even send
/// them to these hooks today), sometimes what webhooks and integrations
/// set, and in the edge profile deep nesting and odd keys. Nesting stops at
/// 30 levels, which keeps the request within protobuf decoders' recursion
/// limit of 100 (a level of Struct is three levels of message).
pub fn props(profile: Profile) -> BoxedStrategy<Option<prost_types::Struct>> {
    let webhook = (short_text(profile), message(profile), any::<bool>()).prop_map(
        |(title, text, short)| {
            json!({
                "from_webhook": "true",
                "override_username": "ci-bot",
                "attachments": [{
                    "fallback": title, "color": "#FF8000", "title": title, "text": text,
                    "fields": [{"title": "Status", "value": "failed", "short": short}],
                }],
            })
        },
    );
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

/// A post: its message as typed, everything else shrinking to a plain post.
pub fn post(profile: Profile) -> BoxedStrategy<pb::Post> {
    (message(profile), plain_first(post_fields(profile), plain_post()))
        .prop_map(|(message, post)| pb::Post { message, ..post })
        .boxed()
}

pub fn plain_post() -> pb::Post {
    pb::Post {
        id: POSTS[0].into(),
        create_at: PLAIN_TIME,
        update_at: PLAIN_TIME,
        user_id: USERS[0].into(),
        channel_id: CHANNELS[0].into(),
        ..Default::default()
    }
}

fn post_fields(profile: Profile) -> BoxedStrategy<pb::Post> {
    let ids = (
        id(profile, POSTS),
        id(profile, USERS),
        id(profile, CHANNELS),
        maybe_id(profile, POSTS),
        maybe_id(profile, POSTS),
    );
    let times = (
        timestamp(profile),
        timestamp(profile),
        rare_time(profile),
        rare_time(profile),
        rare_time(profile),
    );
    let kind = weighted(vec![
        (8, Just(String::new()).boxed()),
        (
            2,
            select(&["system_join_channel", "system_header_change", "custom_poll", "slack_attachment"][..])
                .prop_map(str::to_owned)
                .boxed(),
        ),
        (w(profile, 0, 2), pattern("\\PC{0,40}")),
    ]);
    let files = match profile {
        Profile::Realistic => vec(id(profile, FILES), 0..=3).boxed(),
        Profile::Edge => vec(id(profile, FILES), 0..=64).boxed(),
    };
    let extra = (
        kind,
        props(profile),
        weighted(vec![
            (4, Just(String::new()).boxed()),
            (1, Just("#release #deploy".to_owned()).boxed()),
        ]),
        files,
        (any::<bool>(), any::<bool>(), count(profile)),
        option::weighted(0.1, id(profile, &["r0000000000000000000000001"])),
        option::weighted(0.1, any::<bool>()),
    );
    (ids, times, extra)
        .prop_map(
            |(
                (id, user_id, channel_id, root_id, original_id),
                (create_at, update_at, edit_at, delete_at, last_reply_at),
                (kind, props, hashtags, file_ids, (is_pinned, has_reactions, reply_count), remote_id, is_following),
            )| {
                pb::Post {
                    pending_post_id: if root_id.is_empty() {
                        String::new()
                    } else {
                        format!("{user_id}:{create_at}")
                    },
                    id,
                    create_at,
                    update_at,
                    edit_at,
                    delete_at,
                    is_pinned,
                    user_id,
                    channel_id,
                    root_id,
                    original_id,
                    r#type: kind,
                    props,
                    hashtags,
                    file_ids,
                    has_reactions,
                    remote_id,
                    reply_count,
                    last_reply_at,
                    is_following,
                    ..Default::default()
                }
            },
        )
        .boxed()
}

/// A string map (`map<string, string>`) from a few key/value choices.
fn string_map(
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

const NOTIFY_KEYS: &[&str] = &[
    "desktop",
    "email",
    "push",
    "channel",
    "comments",
    "first_name",
    "mention_keys",
    "mark_unread",
    "ignore_channel_mentions",
];
const NOTIFY_VALUES: &[&str] = &["mention", "all", "none", "default", "true", "false", "never", ""];

pub fn user(profile: Profile) -> BoxedStrategy<pb::User> {
    plain_first(user_fields(profile), plain_user()).boxed()
}

pub fn plain_user() -> pb::User {
    pb::User {
        id: USERS[0].into(),
        create_at: PLAIN_TIME,
        update_at: PLAIN_TIME,
        username: "alice".into(),
        email: "alice@example.com".into(),
        roles: "system_user".into(),
        locale: "en".into(),
        ..Default::default()
    }
}

fn user_fields(profile: Profile) -> BoxedStrategy<pb::User> {
    let names = (
        id(profile, USERS),
        weighted(vec![
            (4, select(&["alice", "bob", "admin", "helper-bot"][..]).prop_map(str::to_owned).boxed()),
            (2, pattern("[a-z][a-z0-9._-]{2,21}")),
            (w(profile, 0, 2), short_text(profile)),
        ]),
        weighted(vec![
            (4, pattern("[a-z]{1,10}@example\\.com")),
            (w(profile, 0, 1), select(&["", "not-an-email", "a@b", "ünï@例え.jp"][..]).prop_map(str::to_owned).boxed()),
        ]),
        short_text(profile),
        short_text(profile),
        short_text(profile),
        short_text(profile),
    );
    let roles = (
        weighted(vec![
            (6, select(&["system_user", "system_admin system_user", "system_guest", "system_user system_post_all"][..]).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 1), pattern("\\PC{0,40}")),
        ]),
        weighted(vec![
            (6, select(&["en", "fr", "de", "ja", "zh-CN", "pt-BR"][..]).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 1), pattern("\\PC{0,10}")),
        ]),
        select(&["", "gitlab", "saml", "ldap", "office365"][..]),
        option::weighted(0.1, pattern("[a-z0-9=]{1,40}")),
    );
    let maps = (
        string_map(profile, NOTIFY_KEYS, NOTIFY_VALUES, 7),
        string_map(profile, &["customStatus", "last_search_pointer", "show_last_active"], &["", "true", "{\"emoji\":\"calendar\",\"text\":\"In a meeting\"}"], 3),
        string_map(profile, &["automaticTimezone", "manualTimezone", "useAutomaticTimezone"], &["Europe/Paris", "America/New_York", "", "true", "false"], 3),
    );
    let times = (
        timestamp(profile),
        timestamp(profile),
        rare_time(profile),
        rare_time(profile),
        (0i32..10),
    );
    let flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    (names, roles, maps, times, flags)
        .prop_map(
            |(
                (id, username, email, nickname, first_name, last_name, position),
                (roles, locale, auth_service, auth_data),
                (notify_props, props, timezone),
                (create_at, update_at, delete_at, last_activity_at, failed_attempts),
                (is_bot, email_verified, mfa_active, allow_marketing),
            )| pb::User {
                id,
                create_at,
                update_at,
                delete_at,
                username,
                auth_data,
                auth_service: auth_service.to_owned(),
                email,
                email_verified,
                nickname,
                first_name,
                last_name,
                position,
                roles,
                allow_marketing,
                props,
                notify_props,
                failed_attempts,
                locale,
                timezone,
                mfa_active,
                last_activity_at,
                is_bot,
                ..Default::default()
            },
        )
        .boxed()
}

/// The user who made a membership change: absent means the member themself.
pub fn actor(profile: Profile) -> BoxedStrategy<Option<pb::User>> {
    option::weighted(0.3, user(profile)).boxed()
}

pub fn channel(profile: Profile) -> BoxedStrategy<pb::Channel> {
    plain_first(channel_fields(profile), plain_channel()).boxed()
}

fn plain_channel() -> pb::Channel {
    pb::Channel {
        id: CHANNELS[0].into(),
        create_at: PLAIN_TIME,
        update_at: PLAIN_TIME,
        team_id: TEAMS[0].into(),
        r#type: pb::ChannelType::Open as i32,
        display_name: "Town Square".into(),
        name: "town-square".into(),
        ..Default::default()
    }
}

fn channel_fields(profile: Profile) -> BoxedStrategy<pb::Channel> {
    let kind = weighted(vec![
        (8, (1i32..=4).boxed()),
        // Values outside the enum: a proto3 decoder must keep them.
        (w(profile, 0, 2), select(&[0, 5, -1, i32::MAX][..]).boxed()),
    ]);
    let names = (
        id(profile, CHANNELS),
        id(profile, TEAMS),
        kind,
        short_text(profile),
        weighted(vec![
            (4, pattern("[a-z0-9][a-z0-9-]{0,63}")),
            (w(profile, 0, 1), short_text(profile)),
        ]),
        message(profile),
        short_text(profile),
        id(profile, USERS),
    );
    let times = (
        timestamp(profile),
        timestamp(profile),
        rare_time(profile),
        timestamp(profile),
        count(profile),
    );
    let optional = (
        props(profile),
        option::weighted(0.1, any::<bool>()),
        option::weighted(0.1, any::<bool>()),
        option::weighted(
            0.1,
            (option::of(any::<bool>()), option::of(short_text(profile))).prop_map(|(enabled, text)| {
                pb::ChannelBannerInfo {
                    enabled,
                    text,
                    background_color: Some("#DDDDDD".into()),
                }
            }),
        ),
    );
    (names, times, optional)
        .prop_map(
            |(
                (id, team_id, kind, display_name, name, header, purpose, creator_id),
                (create_at, update_at, delete_at, last_post_at, total_msg_count),
                (props, group_constrained, shared, banner_info),
            )| pb::Channel {
                id,
                create_at,
                update_at,
                delete_at,
                team_id,
                r#type: kind,
                display_name,
                name,
                header,
                purpose,
                last_post_at,
                total_msg_count,
                creator_id,
                props,
                group_constrained,
                shared,
                banner_info,
                ..Default::default()
            },
        )
        .boxed()
}

pub fn channel_member(profile: Profile) -> BoxedStrategy<pb::ChannelMember> {
    let fields = (
        id(profile, CHANNELS),
        id(profile, USERS),
        weighted(vec![
            (6, select(&["channel_user", "channel_user channel_admin", "channel_guest"][..]).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 1), short_text(profile)),
        ]),
        (timestamp(profile), count(profile), count(profile), timestamp(profile)),
        string_map(profile, NOTIFY_KEYS, NOTIFY_VALUES, 5),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(channel_id, user_id, roles, (last_viewed_at, msg_count, mention_count, last_update_at), notify_props, (scheme_guest, scheme_user, scheme_admin))| {
                pb::ChannelMember {
                    channel_id,
                    user_id,
                    roles,
                    last_viewed_at,
                    msg_count,
                    mention_count,
                    notify_props,
                    last_update_at,
                    scheme_guest,
                    scheme_user,
                    scheme_admin,
                    ..Default::default()
                }
            },
        );
    let plain = pb::ChannelMember {
        channel_id: CHANNELS[0].into(),
        user_id: USERS[0].into(),
        roles: "channel_user".into(),
        scheme_user: true,
        ..Default::default()
    };
    plain_first(fields, plain).boxed()
}

pub fn team_member(profile: Profile) -> BoxedStrategy<pb::TeamMember> {
    let fields = (
        id(profile, TEAMS),
        id(profile, USERS),
        weighted(vec![
            (6, select(&["team_user", "team_user team_admin", "team_guest"][..]).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 1), short_text(profile)),
        ]),
        rare_time(profile),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        timestamp(profile),
    )
        .prop_map(
            |(team_id, user_id, roles, delete_at, (scheme_guest, scheme_user, scheme_admin), create_at)| {
                pb::TeamMember {
                    team_id,
                    user_id,
                    roles,
                    delete_at,
                    scheme_guest,
                    scheme_user,
                    scheme_admin,
                    create_at,
                }
            },
        );
    let plain = pb::TeamMember {
        team_id: TEAMS[0].into(),
        user_id: USERS[0].into(),
        roles: "team_user".into(),
        scheme_user: true,
        create_at: PLAIN_TIME,
        ..Default::default()
    };
    plain_first(fields, plain).boxed()
}

/// A slash command line: a trigger and arguments, quoted, empty, or huge.
pub fn command_line(profile: Profile) -> BoxedStrategy<String> {
    let trigger = weighted(vec![
        (6, select(&["/hello", "/echo", "/weather", "/jira", "/unknown"][..]).prop_map(str::to_owned).boxed()),
        (w(profile, 1, 2), select(&["/", "/héllo", "/😀", "//", "/HELLO"][..]).prop_map(str::to_owned).boxed()),
    ]);
    let argument = weighted(vec![
        (6, short_text(profile)),
        (2, pattern("\"[a-z ]{0,12}\"")),
        (1, pattern("'[a-z ]{0,12}'")),
        (1, select(&["\"unterminated", "\"\"", "''", "\\\"escaped\\\"", "--flag=value", "-x", "\"a \\\" b\""][..]).prop_map(str::to_owned).boxed()),
        (w(profile, 1, 3), message(profile)),
    ]);
    weighted(vec![
        (
            12,
            (trigger, vec(argument, 0..=4))
                .prop_map(|(trigger, arguments)| {
                    std::iter::once(trigger).chain(arguments).collect::<Vec<_>>().join(" ")
                })
                .boxed(),
        ),
        (1, Just(String::new()).boxed()),
        (w(profile, 0, 2), message(profile)),
    ])
}

pub fn command_args(profile: Profile) -> BoxedStrategy<pb::CommandArgs> {
    let fields = (
        id(profile, USERS),
        id(profile, CHANNELS),
        id(profile, TEAMS),
        maybe_id(profile, POSTS),
        random_id(),
        select(&["http://localhost:8065", "https://chat.example.com", ""][..]),
        select(&["", "@alice", "@bob"][..]),
        select(&["", "~town-square", "~off-topic"][..]),
    )
        .prop_map(
            |(user_id, channel_id, team_id, root_id, trigger_id, site_url, user_mention, channel_mention)| {
                pb::CommandArgs {
                    user_id,
                    channel_id,
                    team_id,
                    parent_id: root_id.clone(),
                    root_id,
                    trigger_id,
                    site_url: site_url.to_owned(),
                    user_mention: user_mention.to_owned(),
                    channel_mention: channel_mention.to_owned(),
                    ..Default::default()
                }
            },
        );
    let plain = pb::CommandArgs {
        user_id: USERS[0].into(),
        channel_id: CHANNELS[0].into(),
        team_id: TEAMS[0].into(),
        site_url: "http://localhost:8065".into(),
        ..Default::default()
    };
    (command_line(profile), plain_first(fields, plain))
        .prop_map(|(command, args)| pb::CommandArgs { command, ..args })
        .boxed()
}

pub fn reaction(profile: Profile) -> BoxedStrategy<pb::Reaction> {
    let fields = (
        id(profile, USERS),
        id(profile, POSTS),
        weighted(vec![
            (6, select(&["smile", "+1", "-1", "party-parrot", "white_check_mark", "flag-fr"][..]).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 2), short_text(profile)),
        ]),
        (timestamp(profile), timestamp(profile), rare_time(profile)),
        option::weighted(0.1, random_id()),
        option::weighted(0.3, id(profile, CHANNELS)),
    )
        .prop_map(|(user_id, post_id, emoji_name, (create_at, update_at, delete_at), remote_id, channel_id)| {
            pb::Reaction {
                user_id,
                post_id,
                emoji_name,
                create_at,
                update_at,
                delete_at,
                remote_id,
                channel_id,
            }
        });
    let plain = pb::Reaction {
        user_id: USERS[0].into(),
        post_id: POSTS[0].into(),
        emoji_name: "smile".into(),
        create_at: PLAIN_TIME,
        ..Default::default()
    };
    plain_first(fields, plain).boxed()
}

pub fn file_info(profile: Profile) -> BoxedStrategy<pb::FileInfo> {
    let name = weighted(vec![
        (6, select(&["report.pdf", "photo.jpg", "notes.txt", "archive.tar.gz", "ファイル.png", "no-extension"][..]).prop_map(str::to_owned).boxed()),
        (
            w(profile, 1, 4),
            select(&["invoice\u{202E}fdp.exe", "../../etc/passwd", "", ".hidden", "a\u{0}b.txt", "CON", "x.x.x.x.x"][..])
                .prop_map(str::to_owned)
                .boxed(),
        ),
        (w(profile, 0, 1), pattern("[a-z]{200,300}\\.txt")),
    ]);
    let fields = (
        id(profile, FILES),
        id(profile, USERS),
        maybe_id(profile, POSTS),
        id(profile, CHANNELS),
        (timestamp(profile), timestamp(profile), rare_time(profile)),
        name,
        select(&["image/png", "application/pdf", "text/plain", "application/octet-stream", ""][..]),
        (0i64..10_000_000, 0i32..4096, 0i32..4096, any::<bool>()),
        option::weighted(0.1, vec(any::<u8>(), 0..64)),
    )
        .prop_map(
            |(id, creator_id, post_id, channel_id, (create_at, update_at, delete_at), name, mime, (size, width, height, has_preview_image), mini_preview)| {
                pb::FileInfo {
                    extension: name.rsplit_once('.').map(|(_, ext)| ext.to_owned()).unwrap_or_default(),
                    id,
                    creator_id,
                    post_id,
                    channel_id,
                    create_at,
                    update_at,
                    delete_at,
                    name,
                    size,
                    mime_type: mime.to_owned(),
                    width,
                    height,
                    has_preview_image,
                    mini_preview,
                    ..Default::default()
                }
            },
        );
    let plain = pb::FileInfo {
        id: FILES[0].into(),
        creator_id: USERS[0].into(),
        channel_id: CHANNELS[0].into(),
        create_at: PLAIN_TIME,
        name: "notes.txt".into(),
        extension: "txt".into(),
        mime_type: "text/plain".into(),
        ..Default::default()
    };
    plain_first(fields, plain).boxed()
}

/// Bytes of `len` made from `seed`: large payloads cost no generation
/// time and shrink by length alone.
pub fn patterned(len: usize, seed: u8) -> Vec<u8> {
    let block: Vec<u8> = (0..=255u8).map(|at| at.wrapping_mul(31).wrapping_add(seed)).collect();
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
        (2, (0usize..=64 << 10, any::<u8>()).prop_map(|(len, seed)| patterned(len, seed)).boxed()),
        (1, (64usize << 10..=1 << 20, any::<u8>()).prop_map(|(len, seed)| patterned(len, seed)).boxed()),
        (w(profile, 0, 1), (1usize << 20..=6 << 20, any::<u8>()).prop_map(|(len, seed)| patterned(len, seed)).boxed()),
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

pub fn preference(profile: Profile) -> BoxedStrategy<pb::Preference> {
    (
        id(profile, USERS),
        select(&["display_settings", "theme", "flagged_post", "direct_channel_show", "notifications"][..]),
        weighted(vec![
            (4, select(&["use_military_time", "collapse_previews", "", "name"][..]).prop_map(str::to_owned).boxed()),
            (1, id(profile, POSTS)),
        ]),
        weighted(vec![
            (4, select(&["true", "false", "{\"type\":\"Onyx\"}", ""][..]).prop_map(str::to_owned).boxed()),
            (w(profile, 0, 2), short_text(profile)),
        ]),
    )
        .prop_map(|(user_id, category, name, value)| pb::Preference {
            user_id,
            category: category.to_owned(),
            name,
            value,
        })
        .boxed()
}

pub fn push_notification(profile: Profile) -> BoxedStrategy<pb::PushNotification> {
    (
        (id(profile, POSTS), id(profile, CHANNELS), id(profile, TEAMS), maybe_id(profile, POSTS)),
        (id(profile, USERS), short_text(profile), short_text(profile)),
        message(profile),
        select(&["android", "apple", "apple_rn", ""][..]),
        select(&["message", "clear", "update_badge", "session", ""][..]),
        any::<bool>(),
    )
        .prop_map(
            |((post_id, channel_id, team_id, root_id), (sender_id, sender_name, channel_name), message, platform, kind, is_crt)| {
                pb::PushNotification {
                    platform: platform.to_owned(),
                    server_id: "d0000000000000000000000001".into(),
                    device_id: "android:0123456789".into(),
                    post_id,
                    category: "CAN_REPLY".into(),
                    message,
                    badge: "1".into(),
                    team_id,
                    channel_id,
                    root_id,
                    sender_id,
                    sender_name,
                    channel_name,
                    r#type: kind.to_owned(),
                    is_crt,
                    ..Default::default()
                }
            },
        )
        .boxed()
}

pub fn remote_cluster(profile: Profile) -> BoxedStrategy<pb::RemoteCluster> {
    let fields = (
        (random_id(), id(profile, TEAMS), short_text(profile), short_text(profile)),
        select(&["https://remote.example.com", "http://10.0.0.9:8065", ""][..]),
        (timestamp(profile), rare_time(profile), timestamp(profile)),
        (random_id(), random_id(), id(profile, USERS)),
        weighted(vec![
            (3, Just(String::new()).boxed()),
            (1, Just("share incident".to_owned()).boxed()),
        ]),
        any::<u32>(),
    )
        .prop_map(
            |((remote_id, remote_team_id, name, display_name), site_url, (create_at, delete_at, last_ping_at), (token, remote_token, creator_id), topics, options)| {
                pb::RemoteCluster {
                    remote_id,
                    remote_team_id,
                    name,
                    display_name,
                    site_url: site_url.to_owned(),
                    create_at,
                    delete_at,
                    last_ping_at,
                    token,
                    remote_token,
                    topics,
                    creator_id,
                    options,
                    ..Default::default()
                }
            },
        );
    let plain = pb::RemoteCluster {
        remote_id: "r0000000000000000000000001".into(),
        name: "remote".into(),
        site_url: "https://remote.example.com".into(),
        create_at: PLAIN_TIME,
        ..Default::default()
    };
    plain_first(fields, plain).boxed()
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
