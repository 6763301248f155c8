//! What people post and type: posts (with their `props`), slash commands,
//! reactions, files, and the push notifications made of them. Each
//! shrinks first to a plain version of itself (see `plain`), except the
//! text people type, which is where failures usually live.

use mm_plugin_proto::pb;
use proptest::{collection::vec, option, prelude::*, sample::select, strategy::BoxedStrategy};

use super::{
    Profile,
    basics::*,
    plain::plain_first,
    text::{message, pattern, random_id, short_text, w, weighted},
};
/// A post: its message as typed, everything else shrinking to a plain post.
pub fn post(profile: Profile) -> BoxedStrategy<pb::Post> {
    (
        message(profile),
        plain_first(post_fields(profile), plain_post()),
    )
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
            select(
                &[
                    "system_join_channel",
                    "system_header_change",
                    "custom_poll",
                    "slack_attachment",
                ][..],
            )
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
                (
                    kind,
                    props,
                    hashtags,
                    file_ids,
                    (is_pinned, has_reactions, reply_count),
                    remote_id,
                    is_following,
                ),
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

/// A slash command line: a trigger and arguments, quoted, empty, or huge.
pub fn command_line(profile: Profile) -> BoxedStrategy<String> {
    let trigger = weighted(vec![
        (
            6,
            select(&["/hello", "/echo", "/weather", "/jira", "/unknown"][..])
                .prop_map(str::to_owned)
                .boxed(),
        ),
        (
            w(profile, 1, 2),
            select(&["/", "/héllo", "/😀", "//", "/HELLO"][..])
                .prop_map(str::to_owned)
                .boxed(),
        ),
    ]);
    let argument = weighted(vec![
        (6, short_text(profile)),
        (2, pattern("\"[a-z ]{0,12}\"")),
        (1, pattern("'[a-z ]{0,12}'")),
        (
            1,
            select(
                &[
                    "\"unterminated",
                    "\"\"",
                    "''",
                    "\\\"escaped\\\"",
                    "--flag=value",
                    "-x",
                    "\"a \\\" b\"",
                ][..],
            )
            .prop_map(str::to_owned)
            .boxed(),
        ),
        (w(profile, 1, 3), message(profile)),
    ]);
    weighted(vec![
        (
            12,
            (trigger, vec(argument, 0..=4))
                .prop_map(|(trigger, arguments)| {
                    std::iter::once(trigger)
                        .chain(arguments)
                        .collect::<Vec<_>>()
                        .join(" ")
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
            |(
                user_id,
                channel_id,
                team_id,
                root_id,
                trigger_id,
                site_url,
                user_mention,
                channel_mention,
            )| {
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
            (
                6,
                select(
                    &[
                        "smile",
                        "+1",
                        "-1",
                        "party-parrot",
                        "white_check_mark",
                        "flag-fr",
                    ][..],
                )
                .prop_map(str::to_owned)
                .boxed(),
            ),
            (w(profile, 0, 2), short_text(profile)),
        ]),
        (timestamp(profile), timestamp(profile), rare_time(profile)),
        option::weighted(0.1, random_id()),
        option::weighted(0.3, id(profile, CHANNELS)),
    )
        .prop_map(
            |(
                user_id,
                post_id,
                emoji_name,
                (create_at, update_at, delete_at),
                remote_id,
                channel_id,
            )| {
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
            },
        );
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
        (
            6,
            select(
                &[
                    "report.pdf",
                    "photo.jpg",
                    "notes.txt",
                    "archive.tar.gz",
                    "ファイル.png",
                    "no-extension",
                ][..],
            )
            .prop_map(str::to_owned)
            .boxed(),
        ),
        (
            w(profile, 1, 4),
            select(
                &[
                    "invoice\u{202E}fdp.exe",
                    "../../etc/passwd",
                    "",
                    ".hidden",
                    "a\u{0}b.txt",
                    "CON",
                    "x.x.x.x.x",
                ][..],
            )
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
        select(
            &[
                "image/png",
                "application/pdf",
                "text/plain",
                "application/octet-stream",
                "",
            ][..],
        ),
        (0i64..10_000_000, 0i32..4096, 0i32..4096, any::<bool>()),
        option::weighted(0.1, vec(any::<u8>(), 0..64)),
    )
        .prop_map(
            |(
                id,
                creator_id,
                post_id,
                channel_id,
                (create_at, update_at, delete_at),
                name,
                mime,
                (size, width, height, has_preview_image),
                mini_preview,
            )| {
                pb::FileInfo {
                    extension: name
                        .rsplit_once('.')
                        .map(|(_, ext)| ext.to_owned())
                        .unwrap_or_default(),
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

pub fn push_notification(profile: Profile) -> BoxedStrategy<pb::PushNotification> {
    (
        (
            id(profile, POSTS),
            id(profile, CHANNELS),
            id(profile, TEAMS),
            maybe_id(profile, POSTS),
        ),
        (id(profile, USERS), short_text(profile), short_text(profile)),
        message(profile),
        select(&["android", "apple", "apple_rn", ""][..]),
        select(&["message", "clear", "update_badge", "session", ""][..]),
        any::<bool>(),
    )
        .prop_map(
            |(
                (post_id, channel_id, team_id, root_id),
                (sender_id, sender_name, channel_name),
                message,
                platform,
                kind,
                is_crt,
            )| {
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
