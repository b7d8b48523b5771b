//! Presence and metrics (SPEC §7): join, leave, keepalive, members, likes.
//!
//! A member is online while its last keepalive is younger than `HEARTBEAT_TIMEOUT_SECONDS`.
//! Every read filters on that, so correctness never waits for the sweeper (which only tidies up)
//! or for DynamoDB's TTL. The anchor's keepalive is the room's liveness: the sweeper pauses a
//! live room whose anchor fell silent. Presence and counters are write-sharded in the store, so
//! a popular room spreads its writes over many keys; reads sum the shards.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::Caller;
use crate::domain::presence::{Cursor, PRESENCE_SHARDS, Visit};
use crate::domain::room::{Counters, Mark, Room};
use crate::domain::{RoomId, RoomStatus};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::{self, online_since};
use crate::room_change::{
    RoomTarget, check_claimed_identity, claimed_room_id, expiry, found, found_for, found_view,
    parse_room_id, refuse_if_banned,
};
use crate::rooms::{RoomInfo, info, readable_view_for, view_for};
use crate::store::{StoreError, Touch};

crate::needs!(
    /// `join`: the room, its counters and the caller's session in one read, the presence and
    /// the visit in one transaction, and the channel's start when none is running.
    JoinStore,
    JOIN_NEEDS: RoomView,
    PresenceWrite,
    ChannelMark,
    MemberRead
);
crate::needs!(
    /// `leave`: the room, its counters and the caller's ban and session, then the presence.
    LeaveStore,
    LEAVE_NEEDS: RoomView,
    PresenceWrite
);
crate::needs!(
    /// `keepalive`: the room, then the presence (and the anchor's mark, in one transaction).
    KeepaliveStore,
    KEEPALIVE_NEEDS: RoomRead,
    PresenceWrite,
    MemberRead
);
crate::needs!(
    /// `members`: the room, then one page of one presence shard.
    MembersStore,
    MEMBERS_NEEDS: RoomRead,
    PresenceRead
);
crate::needs!(
    /// `like`: the room and its counters, then one counter shard.
    LikeStore,
    LIKE_NEEDS: RoomView,
    CounterWrite
);

#[derive(Debug, Deserialize)]
pub struct KeepaliveRequest {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

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

#[derive(Debug, Deserialize)]
pub struct LikeRequest {
    pub id: String,
    pub count: i64,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeepaliveResponse {
    pub server_time: String,
    /// How often clients should call keepalive (seed 004: every 10 s).
    pub interval_seconds: u64,
    pub timeout_seconds: u64,
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

#[derive(Debug, Serialize)]
pub struct LikeResponse {
    pub like_count: u64,
}

/// A room one can be in: it exists and has not ended.
fn not_ended(room: Room) -> Result<Room, ApiError> {
    if room.status == RoomStatus::Ended {
        return Err(
            ApiError::new(ErrorCode::RoomStateConflict, "the room has ended")
                .with_detail("status", room.status.as_i64()),
        );
    }
    Ok(room)
}

/// A room `caller` may enter: not ended, and, for a call (a channel's room), one the caller
/// holds a seat in — nobody else enters a 1v1 call, through any API (`404`, as for no room).
fn open(room: Room, caller: &Caller) -> Result<Room, ApiError> {
    // Nobody else enters a 1v1 call; to them it does not exist (ended or not).
    not_ended(found_for(Some(room), caller)?)
}

/// Why a presence write failed its condition: the member is banned, or the room is gone
/// (deleted since it was read). One more read, on this path only.
async fn refused<S: crate::store::MemberRead + ?Sized>(
    app: &App<S>,
    room: &RoomId,
    user: &crate::domain::UserId,
    e: StoreError,
) -> ApiError {
    if !matches!(e, StoreError::Conflict) {
        return e.into();
    }
    match app.store.room_member(room, user).await {
        Ok((_, until)) => refuse_if_banned(until, app.clock.now())
            .err()
            .unwrap_or_else(ApiError::room_not_found),
        Err(e) => e.into(),
    }
}

pub async fn join<S: JoinStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<RoomInfo, ApiError> {
    enter(app, caller, req, true).await
}

/// A join into a call (a channel's room) by a caller about to take a seat in it
/// ([`crate::meeting::take_seat`]): presence comes first, so that a seat is only ever held by
/// someone who came (a seat whose holder is not on the online list is free), and a presence
/// that takes no seat lapses by itself.
pub(crate) async fn join_call<S: JoinStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    room: &RoomId,
) -> Result<RoomInfo, ApiError> {
    enter(app, caller, RoomTarget::of(room), false).await
}

async fn enter<S: JoinStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
    seat_needed: bool,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::SystemVerifyError)?;
    let (room, counters, signer) = view_for(app, caller, &id).await?;
    let mut room = if seat_needed {
        open(room, caller)?
    } else {
        not_ended(room)?
    };
    let now = app.clock.now();
    let anchor = room.anchor_id == caller.user_id;
    let visit = match app
        .store
        .join(Touch {
            room: &id,
            user: &caller.user_id,
            now,
            expires_at: expiry(app, now),
            anchor,
            record_shard: !room.uses_shard_of(&caller.user_id),
        })
        .await
    {
        Ok(visit) => visit,
        Err(e) => return Err(refused(app, &id, &caller.user_id, e).await),
    };
    // Seed 000: the channel starts when a member enters while none is running.
    if room.channel_started_at.is_none()
        && app
            .store
            .mark_room(&id, Mark::ChannelStarted { at: now })
            .await?
    {
        room.channel_started_at = Some(now);
    }
    if anchor {
        room.anchor_seen_at = Some(now);
    }
    let counters = Counters {
        pv: counters.pv + 1,
        uv: counters.uv + u64::from(visit == Visit::First),
        likes: counters.likes,
    };
    Ok(info(
        &room,
        caller,
        &signer,
        metrics::with_counters(&room, counters),
    ))
}

pub async fn leave<S: LeaveStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::SystemVerifyError)?;
    let (room, counters, signer) = readable_view_for(app, caller, &id).await?;
    app.store.leave(&id, &caller.user_id).await?;
    Ok(info(
        &room,
        caller,
        &signer,
        metrics::with_counters(&room, counters),
    ))
}

pub async fn keepalive<S: KeepaliveStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: KeepaliveRequest,
) -> Result<KeepaliveResponse, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let now = app.clock.now();
    if let Some(raw) = req.id.as_deref() {
        let id = parse_room_id(ErrorCode::SystemVerifyError, raw)?;
        let room = open(found(app.store.room(&id).await?)?, caller)?;
        // A keepalive after a lapse brings the member back (without counting a new visit),
        // unless the anchor banned them.
        if let Err(e) = app
            .store
            .keepalive(Touch {
                room: &id,
                user: &caller.user_id,
                now,
                expires_at: expiry(app, now),
                anchor: room.anchor_id == caller.user_id,
                record_shard: !room.uses_shard_of(&caller.user_id),
            })
            .await
        {
            return Err(refused(app, &id, &caller.user_id, e).await);
        }
    }
    Ok(KeepaliveResponse {
        server_time: crate::clock::rfc3339(&now),
        interval_seconds: 10,
        timeout_seconds: app.config.heartbeat_timeout.as_secs(),
    })
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
    let cursor = match req.next_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => decode_cursor(token)?,
        None => Cursor {
            shard: 0,
            before: None,
        },
    };
    let room = found_for(app.store.room(&id).await?, caller)?;
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
        .members_page(&id, shard, since, limit, before.as_deref())
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

pub async fn like<S: LikeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: LikeRequest,
) -> Result<LikeResponse, ApiError> {
    let id = claimed_room_id(
        caller,
        req.user_id.as_deref(),
        &req.id,
        ErrorCode::SystemVerifyError,
    )?;
    if !(1..=100).contains(&req.count) {
        return Err(ApiError::invalid_field(
            ErrorCode::SystemVerifyError,
            "count",
            "count: must be 1 to 100",
        ));
    }
    let (room, counters) = found_view(app.store.room_view(&id).await?)?;
    open(room, caller)?;
    let count = req.count as u64;
    let now = app.clock.now();
    app.store
        .add_likes(&id, &caller.user_id, count, expiry(app, now))
        .await?;
    // The total as read plus ours: exact unless others liked in between (then one of their
    // likes may show a moment later).
    Ok(LikeResponse {
        like_count: counters.likes + count,
    })
}

#[cfg(test)]
#[path = "tests/presence.rs"]
mod tests;
