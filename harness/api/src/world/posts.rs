//! Storing a new post, shared by `CreatePost` and the system messages the
//! server writes itself ("alice joined the channel.").

use mm_plugin_proto::pb;
use serde_json::Value;

use super::World;

impl World {
    /// Stores `post` as the server's `CreatePost` does: a fresh id, its
    /// timestamps, the channel's counters, the thread's reply count, and the
    /// author's membership marked as read up to it.
    pub fn insert_post(&mut self, mut post: pb::Post) -> pb::Post {
        let now = self.now_millis();
        post.id = self.next_id('p');
        if post.create_at == 0 {
            post.create_at = now;
        }
        post.update_at = post.create_at;
        post.edit_at = 0;
        post.delete_at = 0;
        let is_root = post.root_id.is_empty();
        let (mut total, mut total_root) = (0, 0);
        if let Some(channel) = self.channels.get_mut(&post.channel_id) {
            channel.last_post_at = channel.last_post_at.max(post.create_at);
            channel.total_msg_count += 1;
            if is_root {
                channel.last_root_post_at = channel.last_root_post_at.max(post.create_at);
                channel.total_msg_count_root += 1;
            }
            total = channel.total_msg_count;
            total_root = channel.total_msg_count_root;
        }
        if let Some(root) = self.posts.get_mut(&post.root_id) {
            root.reply_count += 1;
            root.last_reply_at = post.create_at;
        }
        if let Some(member) = self.channel_member_mut(&post.channel_id, &post.user_id) {
            // The author has seen their channel up to their own post: both
            // counters move together, as when a member marks it viewed.
            member.msg_count = total;
            member.msg_count_root = total_root;
            member.last_viewed_at = now;
        }
        self.posts.insert(post.id.clone(), post.clone());
        post
    }

    /// A message the server posts itself, typed (`system_join_channel`) and
    /// with the props its clients render it from.
    pub fn system_post(
        &mut self,
        channel_id: &str,
        user_id: &str,
        post_type: &str,
        message: String,
        props: serde_json::Map<String, Value>,
    ) -> pb::Post {
        self.insert_post(pb::Post {
            channel_id: channel_id.to_owned(),
            user_id: user_id.to_owned(),
            r#type: post_type.to_owned(),
            message,
            props: Some(wire::json_to_struct(&props)),
            ..Default::default()
        })
    }
}
