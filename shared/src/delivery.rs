//! Delivery of the outbox (issue 9): the room's IM group and the app's webhook receiver hear of
//! each change at least once, in order per room and sink, however often the far end or this
//! process fails; and the vendor calls (issue 24's moderation: a stop's stream cut, a kick's
//! removal from the RTC channel; issue 26's LiveKit egress start and stop) are made at least
//! once, each outcome in the audit log. A recording start with a stop behind it is not made
//! (the room is no longer live): audited `superseded`.
//!
//! Who delivers: in AWS the `outbox` function, fed the table's stream (so an entry goes out
//! within a second of its write), and the sweeper once a minute for whatever failed; locally a
//! task of `liveroom-local`. Any number of them may run at once: an entry is removed only
//! after it was delivered, so two deliverers may both send it (receivers dedupe on the event
//! `id`), and each sends a room's entries in order, so the first arrival of every event is in
//! order.
//!
//! A failure leaves the entry with a growing wait (5 s doubling to 10 minutes) and holds the
//! entries behind it (of a room's vendor calls, those of its lane: moderation or recording);
//! an entry nobody could deliver within `RETENTION_DAYS` expires.
//! Refusals that retrying cannot change are dropped (logged): a notification the IM API refuses
//! three times, the group of a room that is gone.
//!
//! A vendor call ([`Sink::Vendor`]) is retried the same way while the vendor answers
//! [`CallOutcome::Retry`] (unreachable, throttled, its internal error); once it answers
//! [`CallOutcome::Done`] or [`CallOutcome::Permanent`] (refused credentials, a bad parameter), or its
//! retention passes, the entry is removed together with one audit entry of the outcome
//! (`vendor.stream_cut`, `vendor.member_removed`, `vendor.recording_started`,
//! `vendor.recording_stopped`; actor `system`/`outbox`, details `{vendor,
//! api, outcome, attempts}`), in one write that finds the entry still there: a call delivered
//! twice by racing deliverers is audited once. A call whose vendor has no API credentials here
//! is not made: dropped at once with a warning and an audit entry of outcome `not_enforced`.
//!
//! With `WEBHOOK_URL`, the audit log itself is a feed ([`deliver_audit`]): every entry is sent
//! as a signed `audit` event, in order, from a cursor (the id of the last one sent) that the
//! sweeper's and `liveroom-local`'s runs move; no write of any change gains anything.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use serde::Serialize;

use crate::App;
use crate::domain::RoomId;
use crate::domain::audit::{Acting, Actor, AuditEntry, Origin, Source, Target, TargetKind};
use crate::domain::outbox::{Enforcement, Entry, EventKind, Sink};
use crate::enforce::{Enforcers, Outcome as CallOutcome};
use crate::env::{ConfigError, Secret};
use crate::error::ApiError;
use crate::im::{ImError, TencentIm};

crate::needs!(
    /// Delivery: the outbox, and the room (is it gone?) when the IM API refuses its group.
    DeliverStore,
    DELIVER_NEEDS: OutboxWork,
    RoomRead
);

/// Rooms with entries taken per run.
const ROOMS_PER_RUN: usize = 1000;
/// Rooms delivered at once.
const PARALLEL_ROOMS: usize = 8;
/// A notification the IM API refused this often is dropped.
const NOTIFY_REFUSALS_MAX: u32 = 3;
/// One webhook call's time limit.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// Audit entries read per page of the `audit` webhook's feed.
pub const AUDIT_PAGE: usize = 100;
/// Pages of the feed per delivery run, at most.
pub const AUDIT_PAGES: usize = 10;
/// How old an audit entry must be before the feed sends it and moves past it.
pub const AUDIT_SETTLE: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// The webhook receiver: `WEBHOOK_URL`, signed with `WEBHOOK_SECRET`.
pub struct Webhook {
    url: String,
    secret: Secret,
}

impl Webhook {
    pub fn new(url: &str, secret: &Secret) -> Self {
        Self {
            url: url.to_owned(),
            secret: secret.clone(),
        }
    }

    /// The `Authorization` value for `body` at `now`: LiveKit's webhook signature (an HS256
    /// JWT valid five minutes with the body's SHA-256 as claim `sha256`), issuer `liveroom`.
    pub fn token(&self, body: &[u8], now: i64) -> Result<String, String> {
        crate::credentials::livekit::webhook_token("liveroom", self.secret.expose(), body, now)
            .map_err(|e| e.to_string())
    }

    async fn send(&self, entry: &Entry, now: i64) -> Result<(), String> {
        let body = serde_json::to_vec(&entry.event).map_err(|e| e.to_string())?;
        self.post(body, now).await
    }

    /// POSTs `body` (an event's JSON), signed at `now`; `Ok` on a 2xx answer.
    async fn post(&self, body: Vec<u8>, now: i64) -> Result<(), String> {
        let token = self.token(&body, now)?;
        let answer = crate::https::client()?
            .post(
                &self.url,
                &[
                    ("content-type", "application/webhook+json"),
                    ("authorization", &token),
                    ("user-agent", "liveroom"),
                ],
                body,
                WEBHOOK_TIMEOUT,
            )
            .await?;
        if (200..300).contains(&answer.status) {
            Ok(())
        } else {
            Err(format!("HTTP {}", answer.status))
        }
    }
}

/// The deliverers of the sinks that are on, built once per process.
pub struct Delivery {
    im: Option<TencentIm>,
    webhook: Option<Webhook>,
    /// The vendors' moderation APIs, whenever calls are written (the providers name a vendor
    /// and `VENDOR_ENFORCEMENT` is not `off`): with the API credentials this function holds,
    /// if any (a call to a vendor without them is dropped, audited `not_enforced`).
    vendor: Option<Enforcers>,
}

/// An `https://` URL; `http://` only to a loopback host (a local stand-in): what goes there
/// carries an administrator's UserSig or a signed event, never in the clear over a network.
fn url(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if value.len() > 2048 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(variable, "must be an https:// URL"));
    }
    if value.starts_with("https://") && value.len() > "https://".len() {
        return Ok(value.to_owned());
    }
    match value.strip_prefix("http://") {
        Some(rest) if crate::env::is_loopback(rest) => Ok(value.to_owned()),
        Some(_) => Err(ConfigError::new(
            variable,
            "must be an https:// URL (http:// only to a loopback host)",
        )),
        None => Err(ConfigError::new(variable, "must be an https:// URL")),
    }
}

impl Delivery {
    pub fn from_env(config: &crate::Config) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok(), config)
    }

    /// Reads what the sinks `config` turned on need: `TENCENT_IM_API_BASE` (default
    /// `https://console.tim.qq.com`) for the IM group (its administrator, `TENCENT_IM_ADMIN`,
    /// is the provider's); `WEBHOOK_URL` and `WEBHOOK_SECRET` (at least 32 bytes) for webhooks
    /// (the room events and the audit feed). The vendor calls are made with
    /// `config.enforcement`, whose API credentials a configuration of
    /// [`crate::env::SecretGroups::ENFORCEMENT`] holds.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        config: &crate::Config,
    ) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let im = match config.providers.im.im_groups() {
            Some((sdkappid, key, admin)) if config.outbox.im => {
                let base = match set("TENCENT_IM_API_BASE") {
                    Some(v) => url("TENCENT_IM_API_BASE", &v)?,
                    None => "https://console.tim.qq.com".to_owned(),
                };
                Some(TencentIm::new(&base, sdkappid, admin.as_str(), key.clone()))
            }
            _ => None,
        };
        let webhook = match set("WEBHOOK_URL") {
            Some(v) => {
                let url = url("WEBHOOK_URL", &v)?;
                let secret = set("WEBHOOK_SECRET").ok_or_else(|| {
                    ConfigError::new(
                        "WEBHOOK_SECRET",
                        "is required when WEBHOOK_URL is set (at least 32 bytes)",
                    )
                })?;
                Some(Webhook::new(
                    &url,
                    &Secret::parse("WEBHOOK_SECRET", &secret)?,
                ))
            }
            None => None,
        };
        let vendor = (!config.enforcement.is_off()).then(|| config.enforcement.clone());
        Ok(Self {
            im,
            webhook,
            vendor,
        })
    }

    /// Whether anything is delivered at all.
    pub fn is_off(&self) -> bool {
        self.im.is_none() && self.webhook.is_none() && self.vendor.is_none()
    }
}

/// What one delivery run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub rooms: u64,
    pub delivered: u64,
    pub failed: u64,
    pub dropped: u64,
    /// Audit entries sent as `audit` webhook events.
    pub audit: u64,
}

impl DeliveryReport {
    pub fn add(&mut self, other: DeliveryReport) {
        self.rooms += other.rooms;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.dropped += other.dropped;
        self.audit += other.audit;
    }

    pub fn log(&self) {
        if *self != Self::default() {
            tracing::info!(
                rooms = self.rooms,
                delivered = self.delivered,
                failed = self.failed,
                dropped = self.dropped,
                audit = self.audit,
                "outbox"
            );
        }
    }
}

/// What became of one attempt.
enum Outcome {
    Delivered,
    /// Try again later (the far end is down, or said "later").
    Failed(String),
    /// Retrying cannot help: drop it.
    Dropped(String),
}

/// Delivers what is due in every room with entries.
pub async fn deliver_pending<S: DeliverStore + ?Sized>(
    app: &App<S>,
    delivery: &Delivery,
) -> Result<DeliveryReport, ApiError> {
    let mut rooms = app.store.outbox_rooms(ROOMS_PER_RUN).await?;
    // From a random room on: a run cut short (a Lambda's time limit, receivers that time out)
    // does not always leave the same rooms for last.
    let mut seed = [0u8; 8];
    if !rooms.is_empty() && getrandom::fill(&mut seed).is_ok() {
        let start = (u64::from_le_bytes(seed) % rooms.len() as u64) as usize;
        rooms.rotate_left(start);
    }
    let results: Vec<Result<DeliveryReport, ApiError>> = futures_util::stream::iter(rooms)
        .map(|room| async move { deliver_room(app, delivery, &room).await })
        .buffer_unordered(PARALLEL_ROOMS)
        .collect()
        .await;
    let mut report = DeliveryReport::default();
    for result in results {
        report.add(result?);
    }
    report.audit = deliver_audit(app, delivery).await?;
    Ok(report)
}

/// The `audit` webhook event of `entry`: `{id, event: "audit", created_at, audit}` (the id is
/// the entry's: receivers dedupe on it).
pub fn audit_event(entry: &AuditEntry) -> serde_json::Value {
    serde_json::json!({
        "id": entry.id,
        "event": "audit",
        "created_at": entry.at.timestamp(),
        "audit": entry,
    })
}

/// Sends the audit log to the webhook receiver, in order, from the feed's cursor on: each
/// entry once it is [`AUDIT_SETTLE`] old (a writer whose clock lags, or whose write took
/// long, commits an entry whose id is older than the time it appears: the cursor waits for
/// it), at most [`AUDIT_PAGES`] pages of [`AUDIT_PAGE`] per run; the cursor moves past what
/// was sent, conditionally (two deliverers at once: one moves it, the other stops). A refused
/// or failed send stops the run; the next run sends it again. Nothing without `WEBHOOK_URL`.
/// The number of entries sent.
pub async fn deliver_audit<S: DeliverStore + ?Sized>(
    app: &App<S>,
    delivery: &Delivery,
) -> Result<u64, ApiError> {
    let Some(webhook) = &delivery.webhook else {
        return Ok(0);
    };
    let mut sent = 0;
    for _ in 0..AUDIT_PAGES {
        let (cursor, entries) = app.store.audit_feed(AUDIT_PAGE).await?;
        let now = app.clock.now();
        let settled = now - AUDIT_SETTLE;
        let mut last = None;
        let mut stopped = false;
        for entry in &entries {
            if entry.at > settled {
                stopped = true;
                break;
            }
            let body = serde_json::to_vec(&audit_event(entry)).map_err(ApiError::internal)?;
            if let Err(reason) = webhook.post(body, now.timestamp()).await {
                tracing::warn!(id = %entry.id, reason, "audit webhook failed; sent again later");
                stopped = true;
                break;
            }
            last = Some(&entry.id);
        }
        let Some(last) = last else {
            break;
        };
        if !app.store.audit_feed_moved(&cursor, last).await? {
            // Another deliverer moved it: it sends the rest.
            break;
        }
        sent += entries.iter().take_while(|e| &e.id != last).count() as u64 + 1;
        if stopped || entries.len() < AUDIT_PAGE {
            break;
        }
    }
    Ok(sent)
}

/// Delivers what is due of one room's entries, each sink in order, stopping a sink at its
/// first failure.
pub async fn deliver_room<S: DeliverStore + ?Sized>(
    app: &App<S>,
    delivery: &Delivery,
    room: &RoomId,
) -> Result<DeliveryReport, ApiError> {
    let entries = app.store.outbox(room).await?;
    let mut report = DeliveryReport {
        rooms: u64::from(!entries.is_empty()),
        ..DeliveryReport::default()
    };
    for sink in Sink::ALL {
        let queue: Vec<&Entry> = entries.iter().filter(|e| e.sink == sink).collect();
        // Whether a lane is held (by an entry not yet due, or one that failed): a vendor
        // sink's moderation calls and its recording calls are two lanes (a start retried
        // until someone joins the LiveKit room must not hold a kick); another sink is one.
        let mut held = [false; 2];
        for (i, entry) in queue.iter().copied().enumerate() {
            let lane = usize::from(entry.call.as_ref().is_some_and(Enforcement::is_recording));
            if held[lane] {
                continue;
            }
            let now = app.clock.now();
            if !entry.due(now) {
                held[lane] = true;
                continue;
            }
            // Past its retention: DynamoDB's TTL removes it some time after; the embedded
            // store has no TTL. Either way it is given up now.
            let expired = entry.expires_at <= now.timestamp();
            let (outcome, audit) = match sink {
                Sink::Vendor => match &delivery.vendor {
                    Some(vendor) => {
                        let superseded = superseded(entry, &queue[i + 1..]);
                        vendor_send(app, vendor, entry, now, expired, superseded).await
                    }
                    None => break,
                },
                _ if expired => (
                    Outcome::Dropped("undelivered within RETENTION_DAYS".to_owned()),
                    None,
                ),
                Sink::Im => match &delivery.im {
                    Some(im) => (im_send(app, im, entry, now).await?, None),
                    None => break,
                },
                Sink::Webhook => match &delivery.webhook {
                    Some(webhook) => match webhook.send(entry, now.timestamp()).await {
                        Ok(()) => (Outcome::Delivered, None),
                        Err(e) => (Outcome::Failed(e), None),
                    },
                    None => break,
                },
            };
            match outcome {
                Outcome::Delivered => {
                    done(app, entry, audit.as_ref()).await?;
                    report.delivered += 1;
                }
                Outcome::Dropped(reason) => {
                    tracing::error!(room = %entry.room, sink = sink.as_str(), event = entry.event.event.as_str(), id = %entry.event.id, reason, "outbox entry dropped");
                    done(app, entry, audit.as_ref()).await?;
                    report.dropped += 1;
                }
                Outcome::Failed(reason) => {
                    let attempts = entry.attempts.saturating_add(1);
                    let next = now + Entry::backoff(attempts);
                    tracing::warn!(room = %entry.room, sink = sink.as_str(), event = entry.event.event.as_str(), attempts, reason, "outbox delivery failed; retried later");
                    app.store
                        .outbox_later(entry, attempts, next.timestamp_millis())
                        .await?;
                    report.failed += 1;
                    held[lane] = true;
                }
            }
        }
    }
    Ok(report)
}

/// Whether vendor entry `entry` is a recording start that a stop `behind` it (the room's later
/// vendor entries) makes pointless: the room has left live since, so there is nothing to
/// record now (and a start retried because nobody joined the LiveKit room does not retry
/// forever).
fn superseded(entry: &Entry, behind: &[&Entry]) -> bool {
    matches!(entry.call, Some(Enforcement::StartRecording { .. }))
        && behind
            .iter()
            .any(|e| matches!(e.call, Some(Enforcement::StopRecording { .. })))
}

/// Removes `entry`, with `audit` (the outcome of a vendor call) in the same write if any.
async fn done<S: DeliverStore + ?Sized>(
    app: &App<S>,
    entry: &Entry,
    audit: Option<&AuditEntry>,
) -> Result<(), ApiError> {
    match audit {
        Some(audit) => {
            app.store.outbox_done_audited(entry, audit).await?;
        }
        None => app.store.outbox_done(entry).await?,
    }
    Ok(())
}

/// The audit log's record of vendor call `call` (of `entry`) ending in `outcome` after
/// `attempts` calls, at `now`: by the system's outbox, on the room (a stream cut) or the kicked
/// member (a removal), in the room.
fn call_audit<S: ?Sized>(
    app: &App<S>,
    entry: &Entry,
    call: &Enforcement,
    now: DateTime<Utc>,
    outcome: &str,
    attempts: u32,
    reason: Option<&str>,
) -> AuditEntry {
    let by = Acting {
        actor: Actor::system("outbox"),
        source: Source::Outbox,
        origin: Origin::default(),
    };
    let target = match (call, &entry.event.member) {
        (Enforcement::RemoveMember { .. }, Some(member)) => Target {
            kind: TargetKind::User,
            id: member.user_id.clone(),
        },
        _ => Target::room(&entry.room),
    };
    let mut audit = AuditEntry::new(
        now,
        app.config.audit_retention_days,
        &by,
        call.audit_action(),
        target,
    )
    .in_room(&entry.room)
    .detail("vendor", call.vendor().as_str())
    .detail("api", call.api())
    .detail("outcome", outcome)
    .detail("attempts", attempts)
    .detail("event", entry.event.event.as_str())
    .detail("event_id", entry.event.id.as_str());
    if let Some(reason) = reason {
        audit = audit.detail("error", reason);
    }
    audit
}

/// One vendor call, and the audit entry of its outcome once it has one (none while it is
/// retried).
async fn vendor_send<S: DeliverStore + ?Sized>(
    app: &App<S>,
    vendor: &Enforcers,
    entry: &Entry,
    now: DateTime<Utc>,
    expired: bool,
    superseded: bool,
) -> (Outcome, Option<AuditEntry>) {
    let Some(call) = &entry.call else {
        return (
            Outcome::Dropped("a vendor entry without a call".to_owned()),
            None,
        );
    };
    let audited = |outcome: &str, attempts: u32, reason: Option<&str>| {
        Some(call_audit(app, entry, call, now, outcome, attempts, reason))
    };
    if expired {
        let reason = "not done within RETENTION_DAYS";
        return (
            Outcome::Dropped(reason.to_owned()),
            audited("expired", entry.attempts, Some(reason)),
        );
    }
    if superseded {
        let reason = "the room left live since: a later stop supersedes the start";
        return (
            Outcome::Dropped(reason.to_owned()),
            audited("superseded", entry.attempts, Some(reason)),
        );
    }
    if !vendor.sends(call) {
        let reason = format!(
            "{} {}: no API credentials configured; not enforced",
            call.vendor().as_str(),
            call.api()
        );
        tracing::warn!(room = %entry.room, vendor = call.vendor().as_str(), api = call.api(), "vendor call not made: no API credentials configured");
        let audit = audited("not_enforced", 0, Some(&reason));
        return (Outcome::Dropped(reason), audit);
    }
    let attempts = entry.attempts.saturating_add(1);
    let outcome = match crate::https::client() {
        Ok(https) => vendor.send(https, call, now.timestamp()).await,
        Err(e) => CallOutcome::Retry(e),
    };
    match outcome {
        CallOutcome::Done => (Outcome::Delivered, audited("done", attempts, None)),
        CallOutcome::Retry(reason) => (Outcome::Failed(reason), None),
        CallOutcome::Permanent(reason) => {
            let audit = audited("permanent", attempts, Some(&reason));
            (Outcome::Dropped(reason), audit)
        }
    }
}

/// One entry to the room's IM group.
async fn im_send<S: DeliverStore + ?Sized>(
    app: &App<S>,
    im: &TencentIm,
    entry: &Entry,
    now: DateTime<Utc>,
) -> Result<Outcome, ApiError> {
    let group = entry.room.as_str();
    let at = now.timestamp();
    let event = &entry.event;
    let outcome = match event.event {
        EventKind::RoomCreated => match im.create_group(group, &event.room.title, at).await {
            Ok(()) => {
                app.store.set_chat_ready(&entry.room, true).await?;
                Outcome::Delivered
            }
            Err(ImError::Refused { code, info }) => {
                let gone =
                    app.store.room(&entry.room).await?.is_none_or(|r| {
                        r.is_deleted() || r.status == crate::domain::RoomStatus::Ended
                    });
                if gone {
                    Outcome::Dropped(format!("the room is gone; refused ({code}): {info}"))
                } else {
                    Outcome::Failed(format!("refused ({code}): {info}"))
                }
            }
            Err(e) => Outcome::Failed(e.to_string()),
        },
        EventKind::RoomEnded | EventKind::RoomDeleted => {
            if event.event == EventKind::RoomEnded
                && let Err(e) = im.notify(group, &event.im_notification(), at).await
            {
                // The group is dissolved next: a lost goodbye is not worth holding that up.
                tracing::warn!(room = group, error = %e, "room_ended notification not sent");
            }
            match im.destroy_group(group, at).await {
                Ok(()) => {
                    app.store.set_chat_ready(&entry.room, false).await?;
                    Outcome::Delivered
                }
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
        EventKind::RoomStarted | EventKind::RoomPaused | EventKind::CohostsChanged => {
            match im.notify(group, &event.im_notification(), at).await {
                Ok(()) => Outcome::Delivered,
                Err(ImError::Refused { code, info })
                    if entry.attempts + 1 >= NOTIFY_REFUSALS_MAX =>
                {
                    Outcome::Dropped(format!("refused ({code}): {info}"))
                }
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
        EventKind::MemberKicked | EventKind::RoomRecorded => {
            Outcome::Dropped("not an IM event".to_owned())
        }
    };
    Ok(outcome)
}
