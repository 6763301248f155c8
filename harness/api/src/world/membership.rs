//! Team and channel membership: who belongs where, with which roles, and
//! the bookkeeping joining and leaving does on the server.
//!
//! Roles are kept the way the server keeps them: three scheme flags (guest,
//! user, admin) plus explicit role names; the `roles` string a plugin reads
//! is rendered from both (`"team_user team_admin"`).

use std::collections::BTreeMap;

use mm_plugin_proto::pb;

use super::World;

/// (team or channel id, user id).
pub type MemberKey = (String, String);

/// Which kind of membership a role set belongs to; scheme role names are
/// prefixed with it (`team_admin`, `channel_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Team,
    Channel,
}

impl Scope {
    pub fn prefix(self) -> &'static str {
        match self {
            Scope::Team => "team",
            Scope::Channel => "channel",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemeRoles {
    pub guest: bool,
    pub user: bool,
    pub admin: bool,
    /// Roles outside the scheme (`system_post_all`, …), in the given order.
    pub explicit: Vec<String>,
}

impl SchemeRoles {
    /// A plain member, as the server adds one.
    pub fn member() -> SchemeRoles {
        SchemeRoles {
            user: true,
            ..SchemeRoles::default()
        }
    }

    /// Role names in the server's order: scheme roles, then explicit ones.
    pub fn names(&self, scope: Scope) -> Vec<String> {
        let prefix = scope.prefix();
        [
            (self.guest, "guest"),
            (self.user, "user"),
            (self.admin, "admin"),
        ]
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, role)| format!("{prefix}_{role}"))
        .chain(self.explicit.iter().cloned())
        .collect()
    }

    pub fn render(&self, scope: Scope) -> String {
        self.names(scope).join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub team_id: String,
    pub user_id: String,
    pub roles: SchemeRoles,
    pub create_at: i64,
    /// Non-zero once the user left or was removed.
    pub delete_at: i64,
}

impl TeamMember {
    pub fn is_active(&self) -> bool {
        self.delete_at == 0
    }

    pub fn to_proto(&self) -> pb::TeamMember {
        pb::TeamMember {
            team_id: self.team_id.clone(),
            user_id: self.user_id.clone(),
            roles: self.roles.render(Scope::Team),
            delete_at: self.delete_at,
            scheme_guest: self.roles.guest,
            scheme_user: self.roles.user,
            scheme_admin: self.roles.admin,
            create_at: self.create_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMember {
    pub channel_id: String,
    pub user_id: String,
    pub roles: SchemeRoles,
    pub notify_props: BTreeMap<String, String>,
    pub last_viewed_at: i64,
    /// Messages the member has seen; the channel's total minus this is
    /// their unread count.
    pub msg_count: i64,
    /// The same, counting root posts only (threads collapsed).
    pub msg_count_root: i64,
    pub mention_count: i64,
    pub last_update_at: i64,
}

impl ChannelMember {
    pub fn to_proto(&self) -> pb::ChannelMember {
        pb::ChannelMember {
            channel_id: self.channel_id.clone(),
            user_id: self.user_id.clone(),
            roles: self.roles.render(Scope::Channel),
            last_viewed_at: self.last_viewed_at,
            msg_count: self.msg_count,
            msg_count_root: self.msg_count_root,
            mention_count: self.mention_count,
            notify_props: self.notify_props.clone().into_iter().collect(),
            last_update_at: self.last_update_at,
            scheme_guest: self.roles.guest,
            scheme_user: self.roles.user,
            scheme_admin: self.roles.admin,
            ..Default::default()
        }
    }
}

/// `model.GetDefaultChannelNotifyProps`.
pub fn default_channel_notify_props() -> BTreeMap<String, String> {
    [
        ("desktop", "default"),
        ("desktop_threads", "all"),
        ("email", "default"),
        ("ignore_channel_mentions", "default"),
        ("mark_unread", "all"),
        ("push", "default"),
        ("push_threads", "all"),
        ("channel_auto_follow_threads", "off"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect()
}

fn key(scope_id: &str, user_id: &str) -> MemberKey {
    (scope_id.to_owned(), user_id.to_owned())
}

impl World {
    /// The user's membership of the team, current or past.
    pub fn team_member(&self, team_id: &str, user_id: &str) -> Option<&TeamMember> {
        self.team_members.get(&key(team_id, user_id))
    }

    pub fn active_team_member(&self, team_id: &str, user_id: &str) -> Option<&TeamMember> {
        self.team_member(team_id, user_id)
            .filter(|member| member.is_active())
    }

    /// Current members of a team, ordered by user id.
    pub fn team_members_of(&self, team_id: &str) -> impl Iterator<Item = &TeamMember> {
        self.team_members
            .values()
            .filter(move |member| member.team_id == team_id && member.is_active())
    }

    /// Adds the user to the team with `roles` (a returning member comes back
    /// with them); `false` when they already were a member.
    pub fn join_team(&mut self, team_id: &str, user_id: &str, roles: SchemeRoles) -> bool {
        let now = self.now_millis();
        match self.team_members.get_mut(&key(team_id, user_id)) {
            Some(member) if member.is_active() => false,
            Some(member) => {
                member.roles = roles;
                member.delete_at = 0;
                true
            }
            None => {
                let member = TeamMember {
                    team_id: team_id.to_owned(),
                    user_id: user_id.to_owned(),
                    roles,
                    create_at: now,
                    delete_at: 0,
                };
                self.team_members.insert(key(team_id, user_id), member);
                true
            }
        }
    }

    /// Marks the user's team membership as left and takes them out of the
    /// team's channels (direct and group channels have no team and stay).
    pub fn leave_team(&mut self, team_id: &str, user_id: &str) {
        let now = self.now_millis();
        if let Some(member) = self.team_members.get_mut(&key(team_id, user_id)) {
            member.delete_at = now;
        }
        let channel_ids: Vec<String> = self
            .channels
            .values()
            .filter(|channel| channel.team_id == team_id)
            .map(|channel| channel.id.clone())
            .collect();
        for channel_id in channel_ids {
            self.channel_members.remove(&key(&channel_id, user_id));
        }
    }

    pub fn channel_member(&self, channel_id: &str, user_id: &str) -> Option<&ChannelMember> {
        self.channel_members.get(&key(channel_id, user_id))
    }

    pub fn channel_member_mut(
        &mut self,
        channel_id: &str,
        user_id: &str,
    ) -> Option<&mut ChannelMember> {
        self.channel_members.get_mut(&key(channel_id, user_id))
    }

    /// Members of a channel, ordered by user id.
    pub fn channel_members_of(&self, channel_id: &str) -> impl Iterator<Item = &ChannelMember> {
        self.channel_members
            .range(key(channel_id, "")..)
            .take_while(move |((id, _), _)| id == channel_id)
            .map(|(_, member)| member)
    }

    /// Adds the user to the channel with `roles` unless already a member;
    /// returns the membership either way.
    pub fn join_channel(
        &mut self,
        channel_id: &str,
        user_id: &str,
        roles: SchemeRoles,
    ) -> ChannelMember {
        let now = self.now_millis();
        self.channel_members
            .entry(key(channel_id, user_id))
            .or_insert_with(|| ChannelMember {
                channel_id: channel_id.to_owned(),
                user_id: user_id.to_owned(),
                roles,
                notify_props: default_channel_notify_props(),
                last_viewed_at: 0,
                msg_count: 0,
                msg_count_root: 0,
                mention_count: 0,
                last_update_at: now,
            })
            .clone()
    }

    pub fn leave_channel(&mut self, channel_id: &str, user_id: &str) -> Option<ChannelMember> {
        self.channel_members.remove(&key(channel_id, user_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_render_scheme_roles_first() {
        let roles = SchemeRoles {
            admin: true,
            explicit: vec!["system_post_all".into()],
            ..SchemeRoles::member()
        };
        assert_eq!(
            roles.render(Scope::Team),
            "team_user team_admin system_post_all"
        );
        assert_eq!(SchemeRoles::member().render(Scope::Channel), "channel_user");
    }

    #[test]
    fn leaving_a_team_leaves_its_channels_and_rejoining_restores_membership() {
        let mut world = World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap();
        let (team, alice) = ("tacme000000000000000000000", "ualice00000000000000000000");
        assert!(
            world
                .channel_member("cacmetownsquare00000000000", alice)
                .is_some()
        );
        world.leave_team(team, alice);
        assert!(world.active_team_member(team, alice).is_none());
        assert!(world.team_member(team, alice).is_some());
        assert!(
            world
                .channel_member("cacmetownsquare00000000000", alice)
                .is_none()
        );
        assert!(world.join_team(team, alice, SchemeRoles::member()));
        assert!(!world.join_team(team, alice, SchemeRoles::member()));
        assert!(world.active_team_member(team, alice).is_some());
    }
}
