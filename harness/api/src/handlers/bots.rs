//! Bots: a bot is a user with `is_bot` plus a bot record (owner, display
//! name, description). Create, patch, read, list, (de)activate, delete, and
//! `EnsureBotUser`, which is idempotent by username.

use mm_plugin_proto::pb;

use super::{
    channels::direct_channel,
    common::{Page, is_active, require_user},
    users::set_user_active,
};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{KvEntry, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(create_bot);
    registry.add(patch_bot);
    registry.add(get_bot);
    registry.add(get_bots);
    registry.add(update_bot_active);
    registry.add(permanent_delete_bot);
    registry.add(ensure_bot_user);
}

/// Where `EnsureBot` remembers the plugin's bot: a key in the plugin's own
/// KV store, visible to it through `KVGet`/`KVList` as on the server.
const BOT_USER_KEY: &str = "mmi_botid";
/// `model.BotDisplayNameMaxRunes`, `BotDescriptionMaxRunes`, `BotCreatorIdMaxRunes`.
const DISPLAY_NAME_MAX: usize = 64;
const DESCRIPTION_MAX: usize = 1024;
const OWNER_ID_MAX: usize = 190;
/// Usernames nobody may take (`model.restrictedUsernames`).
const RESTRICTED_USERNAMES: &[&str] = &["all", "channel", "matterbot", "system"];
/// What a new bot tells its owner (`api.bot.teams_channels.add_message_mobile`).
const OWNER_MESSAGE: &str = "Please add me to teams and channels you want me to interact in. \
     To do this, use the browser or Mattermost Desktop App.";

/// `model.IsValidUsername`.
fn is_valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
        && !RESTRICTED_USERNAMES.contains(&name)
}

fn bot_missing(user_id: &str) -> ApiError {
    ApiError::not_found(
        "SqlBotStore.Get",
        "store.sql_bot.get.missing.app_error",
        "Unable to find the bot.",
    )
    .with_detail(format!("user_id={user_id}"))
}

fn find_bot(world: &World, user_id: &str, include_deleted: bool) -> HandlerResult<pb::Bot> {
    world
        .bots
        .get(user_id)
        .filter(|bot| include_deleted || bot.delete_at == 0)
        .cloned()
        .ok_or_else(|| bot_missing(user_id))
}

/// `Bot.IsValidCreate`, with upstream's ids (a too-long display name is
/// reported as a bad user id).
fn check_new_bot(bot: &pb::Bot) -> HandlerResult<()> {
    let invalid = |id: &str, message: &str| {
        Err(ApiError::invalid("Bot.IsValid", id, message)
            .with_detail(format!("user_id={}", bot.user_id)))
    };
    if !is_valid_username(&bot.username) {
        return invalid("model.bot.is_valid.username.app_error", "Invalid username.");
    }
    if bot.display_name.chars().count() > DISPLAY_NAME_MAX {
        return invalid("model.bot.is_valid.user_id.app_error", "Invalid user id.");
    }
    if bot.description.chars().count() > DESCRIPTION_MAX {
        return invalid(
            "model.bot.is_valid.description.app_error",
            "Invalid description.",
        );
    }
    if bot.owner_id.is_empty() || bot.owner_id.chars().count() > OWNER_ID_MAX {
        return invalid(
            "model.bot.is_valid.creator_id.app_error",
            "Invalid creator id.",
        );
    }
    Ok(())
}

/// The uniqueness checks the user store makes when saving the bot's user.
fn check_unique(world: &World, location: &str, user_id: &str, username: &str) -> HandlerResult<()> {
    let email = format!("{username}@localhost");
    for other in world.users.values().filter(|other| other.id != user_id) {
        if other.username == username {
            return Err(ApiError::invalid(
                location,
                "app.user.save.username_exists.app_error",
                "An account with that username already exists.",
            ));
        }
        if other.email.eq_ignore_ascii_case(&email) {
            return Err(ApiError::invalid(
                location,
                "app.user.save.email_exists.app_error",
                "An account with that email already exists.",
            ));
        }
    }
    Ok(())
}

/// `App.CreateBot`: the bot's user, the bot record, and, when the owner is
/// a user, a direct message from the bot asking to be added to teams.
fn save_bot(world: &mut World, mut bot: pb::Bot) -> HandlerResult<pb::Bot> {
    check_new_bot(&bot)?;
    check_unique(world, "CreateBot", "", &bot.username)?;
    let now = world.now_millis();
    bot.user_id = world.next_id('u');
    bot.create_at = now;
    bot.update_at = now;
    bot.delete_at = 0;
    let user = pb::User {
        id: bot.user_id.clone(),
        create_at: now,
        update_at: now,
        username: bot.username.clone(),
        email: format!("{}@localhost", bot.username),
        first_name: bot.display_name.clone(),
        roles: "system_user".to_owned(),
        locale: "en".to_owned(),
        is_bot: true,
        bot_description: bot.description.clone(),
        ..Default::default()
    };
    world.users.insert(user.id.clone(), user);
    world.bots.insert(bot.user_id.clone(), bot.clone());
    if world.users.contains_key(&bot.owner_id) {
        let channel = direct_channel(world, &bot.user_id, &bot.owner_id)?;
        world.system_post(
            &channel.id,
            &bot.user_id,
            "add_bot_teams_channels",
            OWNER_MESSAGE.to_owned(),
            Default::default(),
        );
    }
    Ok(bot)
}

fn create_bot(
    world: &mut World,
    request: pb::CreateBotRequest,
) -> HandlerResult<pb::CreateBotResponse> {
    let mut bot = request
        .bot
        .ok_or_else(|| ApiError::argument("CreateBot", "bot is required"))?;
    // A plugin's bot belongs to the plugin unless it names an owner.
    if bot.owner_id.is_empty() {
        bot.owner_id = world.plugin_id.clone();
    }
    if world
        .users
        .get(&bot.owner_id)
        .is_some_and(|owner| owner.is_bot)
    {
        return Err(ApiError::invalid(
            "CreateBot",
            "plugin_api.bot_cant_create_bot",
            "A bot cannot create another bot.",
        ));
    }
    let bot = save_bot(world, bot)?;
    Ok(pb::CreateBotResponse {
        error: None,
        bot: Some(bot),
    })
}

/// `App.PatchBot`: applies the set fields to the bot and its user.
fn apply_patch(world: &mut World, user_id: &str, patch: &pb::BotPatch) -> HandlerResult<pb::Bot> {
    let mut bot = find_bot(world, user_id, true)?;
    let unchanged = patch.username.as_ref().is_none_or(|v| *v == bot.username)
        && patch
            .display_name
            .as_ref()
            .is_none_or(|v| *v == bot.display_name)
        && patch
            .description
            .as_ref()
            .is_none_or(|v| *v == bot.description);
    if unchanged {
        return Ok(bot);
    }
    if let Some(username) = &patch.username {
        bot.username = username.clone();
    }
    if let Some(display_name) = &patch.display_name {
        bot.display_name = display_name.clone();
    }
    if let Some(description) = &patch.description {
        bot.description = description.clone();
    }
    require_user(world, "PatchBot", user_id)?;
    if !is_valid_username(&bot.username) {
        return Err(ApiError::invalid(
            "User.IsValid",
            "model.user.is_valid.username.app_error",
            "Invalid username.",
        )
        .with_detail(format!("user_id={user_id}")));
    }
    check_unique(world, "PatchBot", user_id, &bot.username)?;
    let now = world.now_millis();
    let user = world.users.get_mut(user_id).expect("checked above");
    user.username = bot.username.clone();
    user.email = format!("{}@localhost", bot.username);
    user.first_name = bot.display_name.clone();
    user.bot_description = bot.description.clone();
    user.update_at = now;
    bot.update_at = now;
    world.bots.insert(user_id.to_owned(), bot.clone());
    Ok(bot)
}

fn patch_bot(
    world: &mut World,
    request: pb::PatchBotRequest,
) -> HandlerResult<pb::PatchBotResponse> {
    let patch = request
        .bot_patch
        .ok_or_else(|| ApiError::argument("PatchBot", "patch is required"))?;
    let bot = apply_patch(world, &request.bot_user_id, &patch)?;
    Ok(pb::PatchBotResponse {
        error: None,
        bot: Some(bot),
    })
}

fn get_bot(world: &mut World, request: pb::GetBotRequest) -> HandlerResult<pb::GetBotResponse> {
    let bot = find_bot(world, &request.bot_user_id, request.include_deleted)?;
    Ok(pb::GetBotResponse {
        error: None,
        bot: Some(bot),
    })
}

/// Bots ordered by username; `only_orphaned` keeps bots whose owner is a
/// deactivated user.
fn get_bots(world: &mut World, request: pb::GetBotsRequest) -> HandlerResult<pb::GetBotsResponse> {
    let options = request.options.unwrap_or_default();
    let page = Page::new("GetBots", options.page, options.per_page)?;
    let mut bots: Vec<pb::Bot> = world
        .bots
        .values()
        .filter(|bot| options.include_deleted || bot.delete_at == 0)
        .filter(|bot| options.owner_id.is_empty() || bot.owner_id == options.owner_id)
        .filter(|bot| {
            !options.only_orphaned
                || world
                    .users
                    .get(&bot.owner_id)
                    .is_some_and(|owner| !is_active(owner))
        })
        .cloned()
        .collect();
    bots.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(pb::GetBotsResponse {
        error: None,
        bots: page.apply(bots),
    })
}

fn update_bot_active(
    world: &mut World,
    request: pb::UpdateBotActiveRequest,
) -> HandlerResult<pb::UpdateBotActiveResponse> {
    let user_id = &request.bot_user_id;
    set_user_active(world, "PatchBot", user_id, request.active)?;
    find_bot(world, user_id, true)?;
    let now = world.now_millis();
    let bot = world.bots.get_mut(user_id).expect("checked above");
    let delete_at = if request.active { 0 } else { now };
    if (bot.delete_at == 0) != (delete_at == 0) {
        bot.delete_at = delete_at;
        bot.update_at = now;
    }
    Ok(pb::UpdateBotActiveResponse {
        error: None,
        bot: Some(bot.clone()),
    })
}

/// Removes the bot and its user (their memberships and posts stay, as the
/// store leaves them).
fn permanent_delete_bot(
    world: &mut World,
    request: pb::PermanentDeleteBotRequest,
) -> HandlerResult<pb::PermanentDeleteBotResponse> {
    if world.bots.remove(&request.bot_user_id).is_none() {
        return Err(ApiError::invalid(
            "PermanentDeleteBot",
            "app.bot.permenent_delete.bad_id",
            "Unable to delete the bot.",
        )
        .with_detail(format!("user_id={}", request.bot_user_id)));
    }
    world.users.remove(&request.bot_user_id);
    Ok(pb::PermanentDeleteBotResponse { error: None })
}

/// `App.EnsureBot`: the bot remembered under the plugin's KV key is synced
/// with the request and reused; else a user with that username is reused
/// (adopted when it is a bot, returned as is when not, as upstream does);
/// else a bot owned by the plugin is created and remembered. Its failures
/// are plain Go errors, so they reach the plugin as `Internal`.
fn ensure_bot_user(
    world: &mut World,
    request: pb::EnsureBotUserRequest,
) -> HandlerResult<pb::EnsureBotUserResponse> {
    let location = "EnsureBotUser";
    let mut bot = request
        .bot
        .ok_or_else(|| ApiError::argument(location, "bot is required"))?;
    bot.owner_id = world.plugin_id.clone();
    if bot.username.is_empty() {
        return Err(ApiError::plain(location, "passed a bot with no username"));
    }
    let remembered = world
        .kv_get(BOT_USER_KEY)
        .map(|id| String::from_utf8_lossy(id).into_owned())
        .filter(|id| world.bots.contains_key(id));
    let bot_user_id = if let Some(id) = remembered {
        let patch = pb::BotPatch {
            username: Some(bot.username),
            display_name: Some(bot.display_name),
            description: Some(bot.description),
        };
        apply_patch(world, &id, &patch).map_err(|err| {
            ApiError::plain(location, format!("failed to patch bot: {}", err.go_text()))
        })?;
        id
    } else if let Some(user) = world.user_by_name(&bot.username) {
        let (id, is_bot) = (user.id.clone(), user.is_bot);
        if is_bot {
            remember(world, &id);
        }
        id
    } else {
        let created = save_bot(world, bot).map_err(|err| {
            ApiError::plain(location, format!("failed to create bot: {}", err.go_text()))
        })?;
        remember(world, &created.user_id);
        created.user_id
    };
    Ok(pb::EnsureBotUserResponse {
        error: None,
        bot_user_id,
    })
}

fn remember(world: &mut World, bot_user_id: &str) {
    world.kv.insert(
        BOT_USER_KEY.to_owned(),
        KvEntry {
            value: bot_user_id.as_bytes().to_vec(),
            expires_at: None,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "uadmin00000000000000000000";
    const HELPER: &str = "uhelperbot0000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "com.example.p", "/p", "default").unwrap()
    }

    fn ensure(w: &mut World, username: &str, display_name: &str) -> HandlerResult<String> {
        ensure_bot_user(
            w,
            pb::EnsureBotUserRequest {
                bot: Some(pb::Bot {
                    username: username.into(),
                    display_name: display_name.into(),
                    ..Default::default()
                }),
            },
        )
        .map(|r| r.bot_user_id)
    }

    #[test]
    fn ensure_bot_user_is_idempotent_and_syncs_the_bot() {
        let mut w = world();
        let first = ensure(&mut w, "reminder", "Reminder").unwrap();
        let second = ensure(&mut w, "reminder", "Reminder Bot").unwrap();
        assert_eq!(first, second);
        assert_eq!(w.bots[&first].display_name, "Reminder Bot");
        assert_eq!(w.bots[&first].owner_id, "com.example.p");
        assert!(w.users[&first].is_bot);
        assert_eq!(w.kv_get(BOT_USER_KEY), Some(first.as_bytes()));
        // An existing bot user is adopted by username.
        w.kv.clear();
        assert_eq!(ensure(&mut w, "helper-bot", "Helper").unwrap(), HELPER);
        assert_eq!(w.kv_get(BOT_USER_KEY), Some(HELPER.as_bytes()));
    }

    #[test]
    fn ensure_bot_user_failures_are_plain_internal_errors() {
        let mut w = world();
        let status = ensure(&mut w, "", "x").unwrap_err().to_status();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(
            status.message(),
            "internal error: passed a bot with no username"
        );
        let status = ensure(&mut w, "Bad Name", "x").unwrap_err().to_status();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(
            status
                .message()
                .starts_with("internal error: failed to create bot: Bot.IsValid: "),
            "{}",
            status.message()
        );
        let status = ensure_bot_user(&mut w, pb::EnsureBotUserRequest { bot: None })
            .unwrap_err()
            .to_status();
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::InvalidArgument, "bot is required")
        );
    }

    #[test]
    fn created_bots_greet_their_owner_and_are_listed() {
        let mut w = world();
        let bot = create_bot(
            &mut w,
            pb::CreateBotRequest {
                bot: Some(pb::Bot {
                    username: "greeter".into(),
                    owner_id: ADMIN.into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .bot
        .unwrap();
        let greeting = w.posts.values().next().unwrap();
        assert_eq!(greeting.user_id, bot.user_id);
        assert_eq!(greeting.r#type, "add_bot_teams_channels");
        let err = create_bot(
            &mut w,
            pb::CreateBotRequest {
                bot: Some(pb::Bot {
                    username: "greeter".into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.user.save.username_exists.app_error");
        let err = create_bot(
            &mut w,
            pb::CreateBotRequest {
                bot: Some(pb::Bot {
                    username: "bot-of-bot".into(),
                    owner_id: HELPER.into(),
                    ..Default::default()
                }),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "plugin_api.bot_cant_create_bot");
        let list = |w: &mut World, owner: &str, page, per_page| {
            get_bots(
                w,
                pb::GetBotsRequest {
                    options: Some(pb::BotGetOptions {
                        owner_id: owner.into(),
                        page,
                        per_page,
                        ..Default::default()
                    }),
                },
            )
            .unwrap()
            .bots
            .into_iter()
            .map(|b| b.username)
            .collect::<Vec<_>>()
        };
        assert_eq!(list(&mut w, ADMIN, 0, 10), ["greeter", "helper-bot"]);
        assert_eq!(list(&mut w, ADMIN, 1, 1), ["helper-bot"]);
    }

    #[test]
    fn bots_are_patched_deactivated_and_deleted() {
        let mut w = world();
        let patched = patch_bot(
            &mut w,
            pb::PatchBotRequest {
                bot_user_id: HELPER.into(),
                bot_patch: Some(pb::BotPatch {
                    display_name: Some("Helpful".into()),
                    ..Default::default()
                }),
            },
        )
        .unwrap()
        .bot
        .unwrap();
        assert_eq!(patched.display_name, "Helpful");
        assert_eq!(w.users[HELPER].first_name, "Helpful");
        let bot = update_bot_active(
            &mut w,
            pb::UpdateBotActiveRequest {
                bot_user_id: HELPER.into(),
                active: false,
            },
        )
        .unwrap()
        .bot
        .unwrap();
        assert!(bot.delete_at > 0);
        let err = get_bot(
            &mut w,
            pb::GetBotRequest {
                bot_user_id: HELPER.into(),
                include_deleted: false,
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "store.sql_bot.get.missing.app_error")
        );
        permanent_delete_bot(
            &mut w,
            pb::PermanentDeleteBotRequest {
                bot_user_id: HELPER.into(),
            },
        )
        .unwrap();
        assert!(!w.users.contains_key(HELPER));
        let err = permanent_delete_bot(
            &mut w,
            pb::PermanentDeleteBotRequest {
                bot_user_id: HELPER.into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.bot.permenent_delete.bad_id");
    }
}
