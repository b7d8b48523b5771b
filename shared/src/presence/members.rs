//! Who is online in a room (SPEC §7): `members`, one page of one presence shard at a time
//! behind an opaque cursor, and the whole list (up to a limit) the dialects answer.
//!
//! Never here: a presence write (`join`, `leave`, `keepalive` are `presence`'s), or the
//! online count of `RoomInfo.metrics` (`metrics`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::Request;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::Caller;
use crate::domain::RoomId;
use crate::domain::presence::{Cursor, PRESENCE_SHARDS};
use crate::domain::room::Room;
use crate::endpoint::{Endpoint, Handler, Route, authenticated, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::online_since;
use crate::room_change::{account_standing, claimed_room_id, found_for};
use crate::store::Store;

crate::needs!(
    /// `members`: the room and the caller's session (one read), then one page of one
    /// presence shard.
    MembersStore,
    MEMBERS_NEEDS: MemberRead,
    PresenceRead
);

#[derive(Debug, Deserialize)]
pub struct MembersRequest {
    pub id: String,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// An online member of a room, as `members` lists it.
#[derive(Debug, Serialize)]
pub struct OnlineMember {
    pub user_id: String,
    pub joined_at: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub struct MembersResponse {
    pub members: Vec<OnlineMember>,
    /// Pass back for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The opaque page cursor: the shard, and the last member's activity key in it.
fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{:02}:{}",
        cursor.shard,
        cursor.before.as_deref().unwrap_or("")
    ))
}

fn decode_cursor(token: &str) -> Result<Cursor, ApiError> {
    let bad = || {
        ApiError::invalid_field(
            ErrorCode::RoomQueryParams,
            "next_token",
            "next_token is not one this server issued",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (shard, key) = text.split_once(':').ok_or_else(bad)?;
    let shard: u32 = match shard.parse() {
        Ok(k) if shard.len() == 2 && k < PRESENCE_SHARDS => k,
        _ => return Err(bad()),
    };
    if key.is_empty() {
        return Ok(Cursor {
            shard,
            before: None,
        });
    }
    let (ms, user) = key.split_once('#').ok_or_else(bad)?;
    let well_formed = ms.len() == 13
        && ms.bytes().all(|b| b.is_ascii_digit())
        && crate::domain::UserId::parse("next_token", user).is_ok();
    if well_formed {
        Ok(Cursor {
            shard,
            before: Some(key.to_owned()),
        })
    } else {
        Err(bad())
    }
}

/// One page of online members: the members of one presence shard (a room's members are
/// spread over up to 32; only shards someone was ever present in are read), newest activity
/// first. `next_token` continues in the same shard or moves to the next used one; a page can
/// be short, even empty, while `next_token` is present.
pub async fn members<S: MembersStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: MembersRequest,
) -> Result<MembersResponse, ApiError> {
    let id = claimed_room_id(
        caller,
        req.user_id.as_deref(),
        &req.id,
        ErrorCode::RoomQueryParams,
    )?;
    let limit = match req.limit {
        None => 20,
        Some(l @ 1..=100) => l as u32,
        Some(_) => {
            return Err(ApiError::invalid_field(
                ErrorCode::RoomQueryParams,
                "limit",
                "limit: must be 1 to 100",
            ));
        }
    };
    let cursor = cursor_of(req.next_token.as_deref())?;
    // The caller's session comes with the room, in the same one read.
    let (room, _, session) = app
        .store
        .room_member_in_session(&id, &caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, session)?;
    let room = found_for(room, caller)?;
    members_of(app, &room, limit, cursor).await
}

/// The page cursor `token` names (absent or empty: the first page).
fn cursor_of(token: Option<&str>) -> Result<Cursor, ApiError> {
    match token.filter(|t| !t.is_empty()) {
        Some(token) => decode_cursor(token),
        None => Ok(Cursor {
            shard: 0,
            before: None,
        }),
    }
}

/// Up to `limit` (1..=100) of `room`'s online members from `token` (absent: the first),
/// [`members`]' pages read until `limit` or the end (one read per presence shard in use, at
/// most 32), and the token of the rest: the admin API's view of a room.
pub async fn members_page<S: crate::store::PresenceRead + ?Sized>(
    app: &App<S>,
    room: &Room,
    limit: u32,
    token: Option<&str>,
) -> Result<MembersResponse, ApiError> {
    let limit = limit.clamp(1, 100);
    let mut cursor = cursor_of(token)?;
    let mut members = Vec::new();
    loop {
        let left = limit.saturating_sub(u32::try_from(members.len()).unwrap_or(limit));
        let page = members_of(app, room, left, cursor).await?;
        members.extend(page.members);
        match page.next_token {
            Some(next) if members.len() < limit as usize => cursor = decode_cursor(&next)?,
            next_token => {
                return Ok(MembersResponse {
                    members,
                    next_token,
                });
            }
        }
    }
}

async fn members_of<S: crate::store::PresenceRead + ?Sized>(
    app: &App<S>,
    room: &Room,
    limit: u32,
    cursor: Cursor,
) -> Result<MembersResponse, ApiError> {
    let id = &room.id;
    // Only shards someone was ever present in; a cursor past them ends the listing.
    let (shard, before) = match room.next_used_shard(cursor.shard) {
        Some(k) if k == cursor.shard => (k, cursor.before),
        Some(k) => (k, None),
        None => {
            return Ok(MembersResponse {
                members: Vec::new(),
                next_token: None,
            });
        }
    };
    let since = online_since(app, app.clock.now());
    let page = app
        .store
        .members_page(id, shard, since, limit, before.as_deref())
        .await?;
    let next = if page.more_in_shard {
        page.members.last().map(|p| Cursor {
            shard,
            before: Some(p.activity_key()),
        })
    } else {
        room.next_used_shard(shard + 1).map(|k| Cursor {
            shard: k,
            before: None,
        })
    };
    Ok(MembersResponse {
        members: page
            .members
            .into_iter()
            .map(|p| OnlineMember {
                user_id: p.user_id.to_string(),
                joined_at: crate::clock::rfc3339(&p.joined_at),
                last_seen: crate::clock::rfc3339(&p.last_seen),
            })
            .collect(),
        next_token: next.as_ref().map(encode_cursor),
    })
}

/// Up to `limit` (1 to 100) online members of room `id`, newest activity first within each
/// shard: [`members`]' pages read until `limit` or the end (the dialects' whole-list answers).
pub async fn online_members<S: MembersStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
    limit: usize,
) -> Result<Vec<String>, ApiError> {
    let limit = limit.clamp(1, 100);
    let mut ids: Vec<String> = Vec::new();
    let mut next_token = None;
    loop {
        let page = members(
            app,
            caller,
            MembersRequest {
                id: id.to_string(),
                limit: Some((limit - ids.len()) as i64),
                next_token,
                user_id: None,
            },
        )
        .await?;
        ids.extend(page.members.into_iter().map(|m| m.user_id));
        next_token = page.next_token;
        if ids.len() >= limit || next_token.is_none() {
            return Ok(ids);
        }
    }
}

/// `POST /api/v1/live/members`: a page of a room's members ([`members`]).
pub struct Members;

impl Handler for Members {
    const ENDPOINT: Endpoint = Endpoint::new("members", &[Route::post("/api/v1/live/members")])
        .with_needs(MEMBERS_NEEDS)
        .with_secrets(SecretGroups::TOKENS)
        .with_param_error(ErrorCode::RoomQueryParams);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&members(app, &caller, body).await?)
    }
}

#[cfg(test)]
#[path = "../tests/presence.rs"]
mod tests;
