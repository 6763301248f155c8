//! Users, channels, team and channel memberships, preferences and remote
//! clusters, each shrinking first to a plain version of itself (see
//! `plain`).

use mm_plugin_proto::pb;
use proptest::{option, prelude::*, sample::select, strategy::BoxedStrategy};

use super::{
    Profile,
    basics::*,
    plain::plain_first,
    text::{message, pattern, random_id, short_text, w, weighted},
};

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

const NOTIFY_VALUES: &[&str] = &[
    "mention", "all", "none", "default", "true", "false", "never", "",
];

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
            (
                4,
                select(&["alice", "bob", "admin", "helper-bot"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            (2, pattern("[a-z][a-z0-9._-]{2,21}")),
            (w(profile, 0, 2), short_text(profile)),
        ]),
        weighted(vec![
            (4, pattern("[a-z]{1,10}@example\\.com")),
            (
                w(profile, 0, 1),
                select(&["", "not-an-email", "a@b", "ünï@例え.jp"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
        ]),
        short_text(profile),
        short_text(profile),
        short_text(profile),
        short_text(profile),
    );
    let roles = (
        weighted(vec![
            (
                6,
                select(
                    &[
                        "system_user",
                        "system_admin system_user",
                        "system_guest",
                        "system_user system_post_all",
                    ][..],
                )
                .prop_map(str::to_owned)
                .boxed(),
            ),
            (w(profile, 0, 1), pattern("\\PC{0,40}")),
        ]),
        weighted(vec![
            (
                6,
                select(&["en", "fr", "de", "ja", "zh-CN", "pt-BR"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            (w(profile, 0, 1), pattern("\\PC{0,10}")),
        ]),
        select(&["", "gitlab", "saml", "ldap", "office365"][..]),
        option::weighted(0.1, pattern("[a-z0-9=]{1,40}")),
    );
    let maps = (
        string_map(profile, NOTIFY_KEYS, NOTIFY_VALUES, 7),
        string_map(
            profile,
            &["customStatus", "last_search_pointer", "show_last_active"],
            &[
                "",
                "true",
                "{\"emoji\":\"calendar\",\"text\":\"In a meeting\"}",
            ],
            3,
        ),
        string_map(
            profile,
            &[
                "automaticTimezone",
                "manualTimezone",
                "useAutomaticTimezone",
            ],
            &["Europe/Paris", "America/New_York", "", "true", "false"],
            3,
        ),
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
            (option::of(any::<bool>()), option::of(short_text(profile))).prop_map(
                |(enabled, text)| pb::ChannelBannerInfo {
                    enabled,
                    text,
                    background_color: Some("#DDDDDD".into()),
                },
            ),
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
            (
                6,
                select(
                    &[
                        "channel_user",
                        "channel_user channel_admin",
                        "channel_guest",
                    ][..],
                )
                .prop_map(str::to_owned)
                .boxed(),
            ),
            (w(profile, 0, 1), short_text(profile)),
        ]),
        (
            timestamp(profile),
            count(profile),
            count(profile),
            timestamp(profile),
        ),
        string_map(profile, NOTIFY_KEYS, NOTIFY_VALUES, 5),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                channel_id,
                user_id,
                roles,
                (last_viewed_at, msg_count, mention_count, last_update_at),
                notify_props,
                (scheme_guest, scheme_user, scheme_admin),
            )| {
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
            (
                6,
                select(&["team_user", "team_user team_admin", "team_guest"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            (w(profile, 0, 1), short_text(profile)),
        ]),
        rare_time(profile),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        timestamp(profile),
    )
        .prop_map(
            |(
                team_id,
                user_id,
                roles,
                delete_at,
                (scheme_guest, scheme_user, scheme_admin),
                create_at,
            )| {
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

pub fn preference(profile: Profile) -> BoxedStrategy<pb::Preference> {
    (
        id(profile, USERS),
        select(
            &[
                "display_settings",
                "theme",
                "flagged_post",
                "direct_channel_show",
                "notifications",
            ][..],
        ),
        weighted(vec![
            (
                4,
                select(&["use_military_time", "collapse_previews", "", "name"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            (1, id(profile, POSTS)),
        ]),
        weighted(vec![
            (
                4,
                select(&["true", "false", "{\"type\":\"Onyx\"}", ""][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
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

pub fn remote_cluster(profile: Profile) -> BoxedStrategy<pb::RemoteCluster> {
    let fields = (
        (
            random_id(),
            id(profile, TEAMS),
            short_text(profile),
            short_text(profile),
        ),
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
            |(
                (remote_id, remote_team_id, name, display_name),
                site_url,
                (create_at, delete_at, last_ping_at),
                (token, remote_token, creator_id),
                topics,
                options,
            )| {
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
