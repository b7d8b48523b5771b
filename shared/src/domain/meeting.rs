//! A co-host room's meeting list as kept (SPEC §6). The rules of who may change it are in
//! [`crate::meeting`]; this module only holds the values.

use serde::{Deserialize, Serialize};

use super::{ImageUrl, Nick, UserId};

/// One co-host (seed 002 `models.MeetingMember`, without the computed `rtc_pull_url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    pub user_nick: Nick,
    pub user_avatar: ImageUrl,
    pub camera_opened: bool,
    pub mic_opened: bool,
}

/// A room's meeting list and its version (0 before the first write).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub members: Vec<Member>,
    pub version: u64,
}

impl Meeting {
    pub fn contains(&self, user: &UserId) -> bool {
        self.members.iter().any(|m| &m.user_id == user)
    }
}
