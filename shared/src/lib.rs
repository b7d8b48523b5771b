//! liveroom: the core of a serverless live-room app server.
//!
//! Every Lambda function and the local server are thin shells around this crate: they build an
//! [`App`] once and pass each request to their endpoint's handler (`lambda`) or to the router
//! (`http`).
//!
//! Dependencies point one way: a module imports only from its own layer and the layers below
//! it, and no file imports itself back through others. The layers, bottom first (the suite's
//! `layers` test reads this block, and checks every `crate::` path of `shared/src` and this
//! crate's modules against it; `local/`, `bench/` and `functions/` sit above it all):
//!
//! ```text
//! base:     clock env telemetry https
//! domain:   domain
//! state:    store credentials
//! context:  error config im enforce app auth
//! shared:   endpoint room_change operator
//! features: admin accounts rooms meeting moderation presence metrics reclaim delivery callbacks
//!           vendor_tokens service
//! dialects: dialects
//! edge:     http
//! entry:    lambda
//! ```
//!
//! The modules, in that order (the spec's sections in brackets):
//!
//! - `clock`: time, injectable, so that tests move it instead of sleeping.
//! - `env`: environment parsing, `Secret`, `ConfigError` and the secret groups of a function.
//! - `telemetry`: the JSON log lines.
//! - `https`: the outbox's HTTP client (feature `delivery`).
//! - `domain`: the values parsed from input and the room's state machine; no I/O.
//! - `store`: the state, one small trait per capability, on DynamoDB or the embedded store.
//! - `credentials`: the vendors' signers and providers, and the grants the server decides (§4).
//! - `error`: the one error type of the API, and its table of codes and statuses (§2).
//! - `config`: the configuration, read from the environment once and validated.
//! - `im`: the Tencent IM REST API, as the app's administrator (feature `delivery`).
//! - `enforce`: moderation that reaches the vendors: the calls that cut a stream or remove an
//!   RTC member, their settings, and their clients (feature `delivery`).
//! - `app`: the [`App`], what every request needs, built once per process.
//! - `auth`: our sessions: EdDSA JWTs and the caller they prove.
//! - `endpoint`: what an endpoint declares (route, methods, needs, secret groups, envelope) and
//!   the handler trait.
//! - `operator`: who is operating (an API key or an account's roles) and what it may do.
//! - `room_change`: what every room feature shares: room-or-404, expiry, the outbox report,
//!   the retry on conflict.
//! - `admin`: the admin API: every anchor's rooms, stops, kicks, mutes, accounts, roles, API
//!   keys and the audit log (issue 24).
//! - `accounts`: register, login, refresh, logout, the user's own profile (§3) and the desktop
//!   pusher's sign-in link (issue 26).
//! - `rooms`: the rooms' life cycle, listings and read model (§5).
//! - `meeting`: co-hosting (§6).
//! - `moderation`: kick (with its ban) and mute.
//! - `presence`: join, leave, keepalive, members and likes (§7).
//! - `metrics`: a room's metrics and the snapshot that keeps reads cheap (§7).
//! - `reclaim`: the scheduled sweeper (§7).
//! - `delivery`: the outbox, to the room's IM group and the webhook receiver (feature `delivery`).
//! - `callbacks`: the vendors' inbound callbacks (CDN stream events, LiveKit webhooks).
//! - `vendor_tokens`: the vendor-credential endpoints `token` and `rtcToken` (§4).
//! - `service`: the service's own endpoints, `health` and `openapi`.
//! - `dialects`: seed 004's and seed 000's wire formats, as mappings onto the features (§11).
//! - `http`: the generic edge: parse, respond, resolve a route over the endpoints.
//! - `lambda`: the Lambda entry: the production app from the environment, one endpoint served.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod auth;
pub mod callbacks;
pub mod clock;
pub mod config;
pub mod credentials;
#[cfg(feature = "delivery")]
pub mod delivery;
pub mod dialects;
pub mod domain;
pub mod endpoint;
pub mod enforce;
pub mod env;
pub mod error;
pub mod http;
#[cfg(feature = "delivery")]
pub mod https;
#[cfg(feature = "delivery")]
pub mod im;
pub mod lambda;
pub mod meeting;
pub mod metrics;
pub mod moderation;
pub mod operator;
pub mod presence;
pub mod reclaim;
pub mod room_change;
pub mod rooms;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod vendor_tokens;

pub use app::{App, Stats};
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use error::{ApiError, ErrorCode};
pub use service::OPENAPI;
pub use store::Store;
