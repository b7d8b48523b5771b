//! The throttling of logins and registrations (SPEC §3): attempts counted in the store (so the
//! limits hold across Lambda instances) per source address, per username from that address,
//! and per username from every address; registrations per source address and in all.
//!
//! Never here: whether an attempt succeeds (`login`), or a limit's value (`config`).

use std::net::IpAddr;

use crate::App;
use crate::domain::Username;
use crate::error::{ApiError, ErrorCode};
use crate::store::Counter;

/// Failed logins and registrations are counted in windows of this many seconds.
pub const THROTTLE_WINDOW_SECS: i64 = 60;
/// Failed logins of one username from one source address per window, before that address's
/// logins for it are refused.
pub const MAX_FAILURES_PER_USERNAME_PER_ADDRESS: u64 = 5;
/// Failed logins per source address (IPv6: per /64) per window, over every username.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 30;
/// The counters an attempt was counted on, in its window.
pub(super) struct Attempt {
    counters: Vec<Counter>,
    window: i64,
}

/// The address counter of a source address: IPv4 as is, IPv6 by its /64 (one host owns a /64).
/// A request without one (none in production: API Gateway and the local server always give
/// one) counts as one shared unknown address, so it cannot escape the address limits.
fn address_counter(source: Option<&str>) -> String {
    let Some(ip) = source.and_then(|s| s.parse::<IpAddr>().ok()) else {
        return "ip:unknown".to_owned();
    };
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The count every counter keeps: all the attempts it counted.
const ATTEMPTS: &str = "attempts";

/// A login's counters (password or signature): on its address's record, the address's
/// failures (at most [`MAX_FAILURES_PER_ADDRESS`]) and, among them, this username's (at most
/// [`MAX_FAILURES_PER_USERNAME_PER_ADDRESS`]); on the username's record, its failures from
/// every address together (at most `LOGIN_FAILURES_PER_USER_PER_MINUTE`). A flood from one
/// address uses up only its own counts and at most 5 of the username's: the same user logs in
/// from another address as before. Two records, so a login costs what it did with two
/// counters; the per-username counts sit on the address's record, which only that address's
/// own attempts make grow (many addresses cannot swell one user's record).
pub(super) fn login_counters<S: ?Sized>(
    app: &App<S>,
    username: Option<&Username>,
    source: Option<&str>,
) -> Vec<Counter> {
    let mut address = Counter {
        key: address_counter(source),
        counts: vec![(ATTEMPTS.to_owned(), MAX_FAILURES_PER_ADDRESS)],
    };
    let Some(name) = username else {
        return vec![address];
    };
    address.counts.push((
        format!("u#{}", name.key()),
        MAX_FAILURES_PER_USERNAME_PER_ADDRESS,
    ));
    let user = Counter {
        key: format!("user:{}", name.key()),
        counts: vec![(
            ATTEMPTS.to_owned(),
            app.config.throttle.login_failures_per_user,
        )],
    };
    vec![address, user]
}

/// A registration's counters: its address's (`REGISTRATIONS_PER_ADDRESS_PER_MINUTE`) and
/// everyone's (`REGISTRATIONS_PER_MINUTE`).
pub(super) fn registration_counters<S: ?Sized>(app: &App<S>, source: Option<&str>) -> Vec<Counter> {
    let limits = app.config.throttle;
    vec![
        Counter {
            key: format!("reg:{}", address_counter(source)),
            counts: vec![(ATTEMPTS.to_owned(), limits.registrations_per_address)],
        },
        Counter {
            key: "reg:all".to_owned(),
            counts: vec![(ATTEMPTS.to_owned(), limits.registrations)],
        },
    ]
}

/// Counts an attempt on its counters (one conditional atomic add per counter, at once) and
/// refuses it (429, `Retry-After`) when any counter is at its limit — before any password is
/// checked or hashed, so a correct one is refused too. Counting first is what holds the limits
/// under concurrency: of attempts at once, at most the limit are counted, and only counted
/// ones go on. A refused attempt counts nowhere (a counter that took it is given it back), so
/// a flood that is refused uses up nothing but the minute; a login that then succeeds is taken
/// back too ([`succeeded`]): only failures count against the login limits.
pub(super) async fn admit<S: crate::store::LoginThrottle + ?Sized>(
    app: &App<S>,
    counters: Vec<Counter>,
    what: &str,
) -> Result<Attempt, ApiError> {
    let now = app.clock.now().timestamp();
    let window = now.div_euclid(THROTTLE_WINDOW_SECS);
    let expires_at = (window + 2) * THROTTLE_WINDOW_SECS;
    let counted = app
        .store
        .count_attempt(&counters, window, expires_at)
        .await?;
    if counted.len() == counters.len() && counted.iter().all(|c| *c) {
        return Ok(Attempt { counters, window });
    }
    let given_back: Vec<Counter> = counters
        .into_iter()
        .zip(&counted)
        .filter_map(|(counter, counted)| counted.then_some(counter))
        .collect();
    take_back(app, &given_back, window).await;
    let retry_after = ((window + 1) * THROTTLE_WINDOW_SECS - now).max(1);
    Err(ApiError::new(
        ErrorCode::UserLoginThrottled,
        format!("too many {what}; retry in {retry_after} s"),
    )
    .with_detail("retry_after", retry_after))
}

/// Takes an attempt off `counters`. A counter that cannot be written is logged: the answer
/// stands either way.
async fn take_back<S: crate::store::LoginThrottle + ?Sized>(
    app: &App<S>,
    counters: &[Counter],
    window: i64,
) {
    if counters.is_empty() {
        return;
    }
    if let Err(e) = app.store.forgive_attempt(counters, window).await {
        tracing::warn!(error = %e, "an attempt could not be taken off its counters");
    }
}

/// A login succeeded: its counted attempt is taken back.
pub(super) async fn succeeded<S: crate::store::LoginThrottle + ?Sized>(
    app: &App<S>,
    attempt: &Attempt,
) {
    take_back(app, &attempt.counters, attempt.window).await;
}
