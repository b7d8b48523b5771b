//! Seed 000's dialect: the Alibaba 1v1 call server's `/app/token`, `/app/descChannelUsers`
//! and `/app/descChannelStartTime`, Bearer-authenticated.
//!
//! A channel id is the client's choice; its room is [`crate::rooms::channel_room`] (made by
//! the first `/app/token`, whose caller is its anchor). Asking for a token is joining: the
//! caller takes one of the call's two seats ([`crate::meeting::take_seat`], so both may
//! publish and a third user is refused by the server), enters the room's presence, and gets
//! an Alibaba RTC token signed over the channel id it asked for. Answers are
//! `{result, requestId, message, code: "200", data}`.

use lambda_http::Request;
use serde_json::{Value, json};

use super::Params;
use super::request;
use crate::App;
use crate::auth::Caller;
use crate::credentials::RoomCredentials;
use crate::domain::ChannelId;
use crate::endpoint::{Endpoint, Envelope, Handler, RequestId, Route, Visitor, authenticate};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::presence;
use crate::room_change::{Signer, found, found_for};
use crate::rooms;
use crate::store::Store;

pub use crate::meeting::CALL_SEATS;

crate::needs!(
    /// `/app/*`: the channel's room (made on first use), its seats, presence and members.
    CallStore,
    CALL_NEEDS: UserRead,
    SessionRead,
    RoomRead,
    RoomCreate,
    RoomView,
    MeetingWrite,
    PresenceWrite,
    PresenceRead,
    ChannelMark,
    MemberRead
);

fn done(request_id: &str, data: Value) -> Result<String, ApiError> {
    serde_json::to_string(&json!({
        "result": true,
        "requestId": request_id,
        "message": "success",
        "code": "200",
        "data": data,
    }))
    .map_err(ApiError::internal)
}

fn channel(p: &Params) -> Result<ChannelId, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    let raw = p
        .text(CODE, "channelId")?
        .ok_or_else(|| ApiError::invalid_field(CODE, "channelId", "channelId required"))?;
    ChannelId::parse("channelId", &raw).map_err(|e| ApiError::invalid(CODE, e))
}

/// `/app/{token,descChannelUsers,descChannelStartTime}`.
pub async fn call<S: CallStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    operation: &str,
    p: &Params,
    request_id: &str,
) -> Result<String, ApiError> {
    match operation {
        "token" => token(app, caller, p, request_id).await,
        "descChannelUsers" => {
            let channel = channel(p)?;
            // A call is read only by its participants: to anyone else it does not exist.
            let Some(room) = rooms::channel_room(app, caller, &channel, false)
                .await?
                .filter(|r| r.is_readable_by(&caller.user_id))
            else {
                return done(request_id, users(false, Vec::new()));
            };
            // A call has two seats; one page's worth is every participant there can be.
            let ids = presence::online_members(app, caller, &room.id, 100).await?;
            done(request_id, users(true, ids))
        }
        "descChannelStartTime" => {
            let channel = channel(p)?;
            let room = found_for(
                rooms::channel_room(app, caller, &channel, false).await?,
                caller,
            )?;
            let start = room
                .channel_started_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default();
            done(
                request_id,
                json!({"channelId": channel, "channelStartTimeUtc": start}),
            )
        }
        _ => Err(ApiError::new(ErrorCode::RouteNotFound, "no such path")
            .with_detail("operation", operation)),
    }
}

/// DescribeChannelUsers' answer: every participant may publish, so all are interactive.
fn users(exists: bool, ids: Vec<String>) -> Value {
    json!({
        "isChannelExist": exists,
        "commTotalNum": ids.len(),
        "interactiveUserNum": ids.len(),
        "liveUserNum": 0,
        "interactiveUserList": ids,
        "liveUserList": [],
        "userList": ids,
    })
}

async fn token<S: CallStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    p: &Params,
    request_id: &str,
) -> Result<String, ApiError> {
    let providers = &app.config.providers;
    if providers.rtc.name() != "aliyun" {
        return Err(ApiError::new(
            ErrorCode::DialectNotConfigured,
            "/app/token issues Alibaba RTC tokens: this server's RTC_PROVIDER is not aliyun",
        ));
    }
    let channel = channel(p)?;
    // The seat's lease starts no later than the sighting the presence write below records, and
    // the credential ends with it: a seat whose holder is silent past the heartbeat timeout is
    // free (`take_seat`), and by then every credential issued for it has expired.
    let leased_at = app.clock.now().timestamp();
    let lease = i64::try_from(app.config.heartbeat_timeout.as_secs()).unwrap_or(i64::MAX);
    let room = rooms::channel_room(app, caller, &channel, true)
        .await?
        .ok_or_else(ApiError::room_not_found)?;
    // A participant the anchor muted publishes nothing: no seat, no token.
    if room.is_muted(&caller.user_id) {
        return Err(ApiError::new(
            ErrorCode::RtcGrantUnavailable,
            "you are muted in this call: no RTC token can be issued for you",
        ));
    }
    // On the call's online list first, then a seat (a seat is free while its holder is not
    // on the list); a newcomer refused a seat leaves again (or lapses, if that fails too).
    presence::join_call(app, caller, &room.id).await?;
    let id = room.id.clone();
    // Whether the caller holds a seat is read after its lease was renewed: a seat given away
    // before the renewal shows here, one given away after it cannot be (`replace_seats`).
    let room = found(app.store.room(&id).await?)?;
    let room = match crate::meeting::take_seat(app, room, caller).await {
        Ok(room) => room,
        Err(e) => {
            if let Err(left) = app.store.leave(&id, &caller.user_id).await {
                tracing::warn!(error = %left, "a caller refused a seat stays listed until it lapses");
            }
            return Err(e);
        }
    };
    // Signed as every answer is (`join_call` above checked the caller's session and ban).
    let signer = Signer::for_viewer(app, caller, None);
    match signer.providers.call_credentials(
        &room,
        channel.as_str(),
        &caller.user_id,
        leased_at,
        lease,
    ) {
        RoomCredentials::Issued(_, c) => done(
            request_id,
            json!({
                "appid": c.fields["app_id"],
                // The id the token names (the vendor's form of the caller's id).
                "userid": c.fields["user_id"],
                "channelId": channel,
                "gslb": c.fields["gslb"],
                "token": c.fields["token"],
                "nonce": c.fields["nonce"],
                "timestamp": c.fields["timestamp"],
            }),
        ),
        RoomCredentials::Ended => Err(ApiError::new(
            ErrorCode::RoomStateConflict,
            "the room has ended",
        )),
        // A participant the anchor muted, or an RTC app not configured.
        RoomCredentials::NoProvider(_) | RoomCredentials::Unavailable(_) => Err(ApiError::new(
            ErrorCode::RtcGrantUnavailable,
            "no RTC token can be issued for you in this call",
        )),
    }
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<AliyunCall>();
}

/// Seed 000's 1v1 calls (`/app/token`, `/app/descChannelUsers`, `/app/descChannelStartTime`;
/// [`call`]).
pub struct AliyunCall;

impl Handler for AliyunCall {
    const ENDPOINT: Endpoint = Endpoint::new(
        "aliyun-call",
        &[
            Route::any("/app/token"),
            Route::any("/app/descChannelUsers"),
            Route::any("/app/descChannelStartTime"),
        ],
    )
    .with_needs(CALL_NEEDS)
    .with_secrets(SecretGroups {
        rtc_room_aliyun: true,
        ..SecretGroups::TOKENS
    })
    .with_envelope(Envelope::Aliyun);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let caller = authenticate(app, &req)?;
        let (operation, params) = request(app, &req)?;
        call(app, &caller, &operation, &params, &RequestId::of(&req)).await
    }
}
