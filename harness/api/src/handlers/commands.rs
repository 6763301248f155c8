//! Slash commands: the ones plugins register (`RegisterCommand`), custom
//! commands stored for a team (`CreateCommand` and friends), and the
//! server's built-ins, listed together by `ListCommands`.
//!
//! Upstream reports most failures here as plain Go errors, so a store miss
//! (`GetCommand` of an unknown id) reaches the plugin as `Internal`, while
//! validation failures are `AppError`s. `ExecuteSlashCommand` checks the
//! user and the trigger; running a command that exists is not modelled
//! (it would mean calling a plugin's hook or a built-in) and answers
//! `Unimplemented`.

use mm_plugin_proto::pb;

use super::common::{is_valid_id, require_user};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{RegisteredCommand, World},
};

pub fn register(registry: &mut Registry) {
    registry.add(register_command);
    registry.add(unregister_command);
    registry.add(execute_slash_command);
    registry.add(create_command);
    registry.add(get_command);
    registry.add(update_command);
    registry.add(delete_command);
    registry.add(list_commands);
    registry.add(list_custom_commands);
    registry.add(list_plugin_commands);
    registry.add(list_built_in_commands);
}

/// The server's autocompleted built-in commands: trigger, hint, description.
const BUILT_INS: &[(&str, &str, &str)] = &[
    ("away", "", "Set your status away"),
    ("code", "[text]", "Display text as a code block"),
    ("collapse", "", "Turn on auto-collapsing of image previews"),
    (
        "dnd",
        "",
        "Do not disturb disables desktop and mobile push notifications.",
    ),
    (
        "echo",
        "'message' [delay in seconds]",
        "Echo back text from your account",
    ),
    ("expand", "", "Turn off auto-collapsing of image previews"),
    (
        "groupmsg",
        "@[username1],@[username2] 'message'",
        "Sends a Group Message to the specified users",
    ),
    ("header", "[text]", "Edit the channel header"),
    ("help", "", "Open the Mattermost help page"),
    (
        "invite",
        "@[username] ~[channel]",
        "Invite a user to a channel",
    ),
    ("join", "~[channel]", "Join the open channel"),
    ("kick", "@[username]", "Remove a member from the channel"),
    ("leave", "", "Leave the current channel"),
    ("logout", "", "Logout of Mattermost"),
    ("me", "[message]", "Do an action"),
    (
        "msg",
        "@[username] 'message'",
        "Send Direct Message to a user",
    ),
    (
        "mute",
        "~[channel]",
        "Turns off desktop, email and push notifications for the current channel or the [channel] specified.",
    ),
    ("offline", "", "Set your status offline"),
    ("online", "", "Set your status online"),
    ("purpose", "[text]", "Edit the channel purpose"),
    ("rename", "[text]", "Rename the channel"),
    ("search", "[text]", "Search text in messages"),
    ("settings", "", "Open the Settings dialog"),
    ("shortcuts", "", "Displays a list of keyboard shortcuts"),
    ("shrug", "[message]", "Adds ¯\\_(ツ)_/¯ to your message"),
];

fn built_ins() -> Vec<pb::Command> {
    BUILT_INS
        .iter()
        .map(|(trigger, hint, description)| pb::Command {
            trigger: (*trigger).to_owned(),
            display_name: (*trigger).to_owned(),
            auto_complete: true,
            auto_complete_hint: (*hint).to_owned(),
            auto_complete_desc: (*description).to_owned(),
            ..Default::default()
        })
        .collect()
}

/// `CommandsForTeam`'s plugin part: commands for every team or this one,
/// one per trigger.
fn plugin_commands(world: &World, team_id: &str) -> Vec<pb::Command> {
    let mut seen = std::collections::HashSet::new();
    world
        .plugin_commands
        .iter()
        .map(|registered| &registered.command)
        .filter(|command| command.team_id.is_empty() || command.team_id == team_id)
        .filter(|command| seen.insert(command.trigger.clone()))
        .cloned()
        .collect()
}

fn custom_commands(world: &World, team_id: &str) -> Vec<pb::Command> {
    world
        .commands
        .values()
        .filter(|command| command.team_id == team_id && command.delete_at == 0)
        .cloned()
        .collect()
}

/// What `RegisterPluginCommand` keeps of a command: the trigger (lower
/// case), the team, and how it autocompletes. Registering a trigger the
/// plugin already has for that team replaces it.
fn register_command(
    world: &mut World,
    request: pb::RegisterCommandRequest,
) -> HandlerResult<pb::RegisterCommandResponse> {
    let command = request
        .command
        .ok_or_else(|| ApiError::argument("RegisterCommand", "command is required"))?;
    if command.trigger.is_empty() {
        return Err(ApiError::plain("RegisterCommand", "invalid command"));
    }
    let kept = pb::Command {
        trigger: command.trigger.to_lowercase(),
        team_id: command.team_id,
        auto_complete: command.auto_complete,
        auto_complete_desc: command.auto_complete_desc,
        auto_complete_hint: command.auto_complete_hint,
        display_name: command.display_name,
        ..Default::default()
    };
    let plugin_id = world.plugin_id.clone();
    let existing = world.plugin_commands.iter_mut().find(|registered| {
        registered.plugin_id == plugin_id
            && registered.command.trigger == kept.trigger
            && registered.command.team_id == kept.team_id
    });
    match existing {
        Some(registered) => registered.command = kept,
        None => world.plugin_commands.push(RegisteredCommand {
            plugin_id,
            command: kept,
        }),
    }
    Ok(pb::RegisterCommandResponse { error: None })
}

/// Never fails, whether or not the command was registered.
fn unregister_command(
    world: &mut World,
    request: pb::UnregisterCommandRequest,
) -> HandlerResult<pb::UnregisterCommandResponse> {
    let trigger = request.trigger.to_lowercase();
    let plugin_id = world.plugin_id.clone();
    world.plugin_commands.retain(|registered| {
        !(registered.plugin_id == plugin_id
            && registered.command.trigger == trigger
            && registered.command.team_id == request.team_id)
    });
    Ok(pb::UnregisterCommandResponse { error: None })
}

fn execute_slash_command(
    world: &mut World,
    request: pb::ExecuteSlashCommandRequest,
) -> HandlerResult<pb::ExecuteSlashCommandResponse> {
    let location = "ExecuteSlashCommand";
    let args = request
        .command_args
        .ok_or_else(|| ApiError::argument(location, "command_args is required"))?;
    require_user(world, "GetUser", &args.user_id)?;
    let first = args
        .command
        .split([' ', '\n'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let Some(trigger) = first.strip_prefix('/') else {
        return Err(ApiError::invalid(
            "command",
            "api.command.execute_command.format.app_error",
            "Command trigger is missing the leading slash character",
        )
        .with_detail(format!("trigger={first}")));
    };
    let known = built_ins()
        .into_iter()
        .chain(plugin_commands(world, &args.team_id))
        .chain(custom_commands(world, &args.team_id))
        .any(|command| command.trigger == trigger);
    if !known {
        return Err(ApiError::not_found(
            "ExecuteCommand",
            "api.command.execute_command.not_found.app_error",
            format!("Command with a trigger of '{trigger}' not found."),
        ));
    }
    Err(ApiError::unsupported(
        location,
        format!(
            "the harness does not run slash commands: /{trigger} exists but running it is not modelled; stub ExecuteSlashCommand in the suite"
        ),
    ))
}

/// `Command.IsValid`, for the fields a plugin sets.
fn check_command(command: &pb::Command) -> HandlerResult<()> {
    let invalid = |id: &str, message: &str| Err(ApiError::invalid("Command.IsValid", id, message));
    if !is_valid_id(&command.team_id) {
        return invalid(
            "model.command.is_valid.team_id.app_error",
            "Invalid team ID.",
        );
    }
    let trigger = &command.trigger;
    if !(1..=128).contains(&trigger.len()) || trigger.starts_with('/') || trigger.contains(' ') {
        return invalid(
            "model.command.is_valid.trigger.app_error",
            "Invalid trigger.",
        );
    }
    if command.url.is_empty() || command.url.len() > 1024 {
        return invalid("model.command.is_valid.url.app_error", "Invalid URL.");
    }
    if !command.url.starts_with("http://") && !command.url.starts_with("https://") {
        return invalid(
            "model.command.is_valid.url_http.app_error",
            "Invalid URL. Must be a valid URL and start with http:// or https://.",
        );
    }
    if command.method != "P" && command.method != "G" {
        return invalid("model.command.is_valid.method.app_error", "Invalid Method.");
    }
    if command.display_name.len() > 64 {
        return invalid(
            "model.command.is_valid.display_name.app_error",
            "Invalid title.",
        );
    }
    if command.description.len() > 128 {
        return invalid(
            "model.command.is_valid.description.app_error",
            "Invalid description.",
        );
    }
    Ok(())
}

/// A custom command owned by the plugin (no creator), unique by trigger in
/// its team and among the built-ins.
fn create_command(
    world: &mut World,
    request: pb::CreateCommandRequest,
) -> HandlerResult<pb::CreateCommandResponse> {
    let mut command = request
        .cmd
        .ok_or_else(|| ApiError::argument("CreateCommand", "command is required"))?;
    command.creator_id.clear();
    command.plugin_id = world.plugin_id.clone();
    command.trigger = command.trigger.to_lowercase();
    let taken = custom_commands(world, &command.team_id)
        .into_iter()
        .chain(built_ins())
        .any(|other| other.trigger == command.trigger);
    if taken {
        return Err(ApiError::invalid(
            "CreateCommand",
            "api.command.duplicate_trigger.app_error",
            "This trigger word is already in use. Please choose another word.",
        ));
    }
    check_command(&command)?;
    let now = world.now_millis();
    command.id = world.next_id('m');
    if command.token.is_empty() {
        command.token = world.next_id('k');
    }
    command.create_at = now;
    command.update_at = now;
    command.delete_at = 0;
    world.commands.insert(command.id.clone(), command.clone());
    Ok(pb::CreateCommandResponse {
        error: None,
        command: Some(command),
    })
}

/// The store's `Get`, whose miss is a plain error.
fn find_command(world: &World, location: &str, id: &str) -> HandlerResult<pb::Command> {
    world
        .commands
        .get(id)
        .filter(|command| command.delete_at == 0)
        .cloned()
        .ok_or_else(|| {
            ApiError::plain(
                location,
                format!("resource \"Command\" not found, id: {id}"),
            )
        })
}

fn get_command(
    world: &mut World,
    request: pb::GetCommandRequest,
) -> HandlerResult<pb::GetCommandResponse> {
    let command = find_command(world, "GetCommand", &request.command_id)?;
    Ok(pb::GetCommandResponse {
        error: None,
        command: Some(command),
    })
}

/// Replaces the command's settings; its identity, token and creation time
/// stay, and it keeps its team unless the update names one.
fn update_command(
    world: &mut World,
    request: pb::UpdateCommandRequest,
) -> HandlerResult<pb::UpdateCommandResponse> {
    let mut updated = request
        .updated_cmd
        .ok_or_else(|| ApiError::argument("UpdateCommand", "command is required"))?;
    let old = find_command(world, "UpdateCommand", &request.command_id)?;
    updated.trigger = updated.trigger.to_lowercase();
    updated.id = old.id;
    updated.token = old.token;
    updated.create_at = old.create_at;
    updated.delete_at = old.delete_at;
    updated.update_at = world.now_millis();
    updated.plugin_id = world.plugin_id.clone();
    if updated.team_id.is_empty() {
        updated.team_id = old.team_id;
    }
    check_command(&updated)?;
    world.commands.insert(updated.id.clone(), updated.clone());
    Ok(pb::UpdateCommandResponse {
        error: None,
        command: Some(updated),
    })
}

/// Marks the command deleted; an unknown id is not an error.
fn delete_command(
    world: &mut World,
    request: pb::DeleteCommandRequest,
) -> HandlerResult<pb::DeleteCommandResponse> {
    let now = world.now_millis();
    if let Some(command) = world.commands.get_mut(&request.command_id) {
        command.delete_at = now;
        command.update_at = now;
    }
    Ok(pb::DeleteCommandResponse { error: None })
}

fn list_commands(
    world: &mut World,
    request: pb::ListCommandsRequest,
) -> HandlerResult<pb::ListCommandsResponse> {
    let commands = plugin_commands(world, &request.team_id)
        .into_iter()
        .chain(built_ins())
        .chain(custom_commands(world, &request.team_id))
        .collect();
    Ok(pb::ListCommandsResponse {
        error: None,
        commands,
    })
}

fn list_custom_commands(
    world: &mut World,
    request: pb::ListCustomCommandsRequest,
) -> HandlerResult<pb::ListCustomCommandsResponse> {
    Ok(pb::ListCustomCommandsResponse {
        error: None,
        commands: custom_commands(world, &request.team_id),
    })
}

fn list_plugin_commands(
    world: &mut World,
    request: pb::ListPluginCommandsRequest,
) -> HandlerResult<pb::ListPluginCommandsResponse> {
    Ok(pb::ListPluginCommandsResponse {
        error: None,
        commands: plugin_commands(world, &request.team_id),
    })
}

fn list_built_in_commands(
    _: &mut World,
    _: pb::ListBuiltInCommandsRequest,
) -> HandlerResult<pb::ListBuiltInCommandsResponse> {
    Ok(pb::ListBuiltInCommandsResponse {
        error: None,
        commands: built_ins(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: &str = "tacme000000000000000000000";
    const ALICE: &str = "ualice00000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "com.example.p", "/p", "default").unwrap()
    }

    fn plugin_triggers(w: &mut World, team: &str) -> Vec<String> {
        list_plugin_commands(
            w,
            pb::ListPluginCommandsRequest {
                team_id: team.into(),
            },
        )
        .unwrap()
        .commands
        .into_iter()
        .map(|c| c.trigger)
        .collect()
    }

    fn register(
        w: &mut World,
        trigger: &str,
        team: &str,
    ) -> HandlerResult<pb::RegisterCommandResponse> {
        register_command(
            w,
            pb::RegisterCommandRequest {
                command: Some(pb::Command {
                    trigger: trigger.into(),
                    team_id: team.into(),
                    auto_complete: true,
                    url: "https://dropped.example".into(),
                    ..Default::default()
                }),
            },
        )
    }

    #[test]
    fn registered_commands_are_listed_until_unregistered() {
        let mut w = world();
        register(&mut w, "Hello", "").unwrap();
        register(&mut w, "acme-only", ACME).unwrap();
        register(&mut w, "hello", "").unwrap();
        assert_eq!(plugin_triggers(&mut w, ACME), ["hello", "acme-only"]);
        assert_eq!(plugin_triggers(&mut w, "other"), ["hello"]);
        assert!(
            w.plugin_commands[0].command.url.is_empty(),
            "only autocomplete data is kept"
        );
        let all = list_commands(
            &mut w,
            pb::ListCommandsRequest {
                team_id: ACME.into(),
            },
        )
        .unwrap()
        .commands;
        assert!(all.iter().any(|c| c.trigger == "hello"));
        assert!(all.iter().any(|c| c.trigger == "away"));
        unregister_command(
            &mut w,
            pb::UnregisterCommandRequest {
                team_id: String::new(),
                trigger: "HELLO".into(),
            },
        )
        .unwrap();
        assert_eq!(plugin_triggers(&mut w, ACME), ["acme-only"]);
        let status = register(&mut w, "", "").unwrap_err().to_status();
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::Internal, "internal error: invalid command")
        );
    }

    #[test]
    fn custom_commands_are_validated_stored_and_deleted() {
        let mut w = world();
        let command = |trigger: &str| pb::Command {
            team_id: ACME.into(),
            trigger: trigger.into(),
            method: "P".into(),
            url: "https://example.com/hook".into(),
            ..Default::default()
        };
        let created = create_command(
            &mut w,
            pb::CreateCommandRequest {
                cmd: Some(command("Deploy")),
            },
        )
        .unwrap()
        .command
        .unwrap();
        assert_eq!(created.trigger, "deploy");
        assert_eq!(created.plugin_id, "com.example.p");
        let dup = create_command(
            &mut w,
            pb::CreateCommandRequest {
                cmd: Some(command("deploy")),
            },
        )
        .unwrap_err();
        assert_eq!(dup.id, "api.command.duplicate_trigger.app_error");
        let builtin = create_command(
            &mut w,
            pb::CreateCommandRequest {
                cmd: Some(command("away")),
            },
        )
        .unwrap_err();
        assert_eq!(builtin.id, "api.command.duplicate_trigger.app_error");
        let bad_url = create_command(
            &mut w,
            pb::CreateCommandRequest {
                cmd: Some(pb::Command {
                    url: "ftp://x".into(),
                    ..command("other")
                }),
            },
        )
        .unwrap_err();
        assert_eq!(bad_url.id, "model.command.is_valid.url_http.app_error");
        let updated = update_command(
            &mut w,
            pb::UpdateCommandRequest {
                command_id: created.id.clone(),
                updated_cmd: Some(pb::Command {
                    team_id: String::new(),
                    description: "ship it".into(),
                    ..command("deploy")
                }),
            },
        )
        .unwrap()
        .command
        .unwrap();
        assert_eq!(
            (updated.id.as_str(), updated.team_id.as_str()),
            (created.id.as_str(), ACME)
        );
        assert_eq!(
            list_custom_commands(
                &mut w,
                pb::ListCustomCommandsRequest {
                    team_id: ACME.into()
                }
            )
            .unwrap()
            .commands
            .len(),
            1
        );
        delete_command(
            &mut w,
            pb::DeleteCommandRequest {
                command_id: created.id.clone(),
            },
        )
        .unwrap();
        let status = get_command(
            &mut w,
            pb::GetCommandRequest {
                command_id: created.id.clone(),
            },
        )
        .unwrap_err()
        .to_status();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(
            status.message(),
            format!(
                "internal error: resource \"Command\" not found, id: {}",
                created.id
            )
        );
    }

    #[test]
    fn executing_checks_user_and_trigger_then_admits_it_is_not_modelled() {
        let mut w = world();
        let execute = |w: &mut World, user: &str, command: &str| {
            execute_slash_command(
                w,
                pb::ExecuteSlashCommandRequest {
                    command_args: Some(pb::CommandArgs {
                        user_id: user.into(),
                        team_id: ACME.into(),
                        command: command.into(),
                        ..Default::default()
                    }),
                },
            )
        };
        assert_eq!(
            execute(&mut w, "nobody", "/away").unwrap_err().id,
            "app.user.missing_account.const"
        );
        let err = execute(&mut w, ALICE, "/nothing here").unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "api.command.execute_command.not_found.app_error")
        );
        assert_eq!(
            execute(&mut w, ALICE, "away").unwrap_err().id,
            "api.command.execute_command.format.app_error"
        );
        let status = execute(&mut w, ALICE, "/away now").unwrap_err().to_status();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
        assert!(status.message().contains("/away"), "{}", status.message());
    }
}
