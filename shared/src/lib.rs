//! liveroom: the core of a serverless live-room app server.
//!
//! Every Lambda function and the local server are thin shells around this crate: they build an
//! [`App`] once and pass each request to the handler of their endpoint ([`lambda::serve`]) or
//! to the router ([`http::serve`]). The modules follow the spec's sections: [`accounts`] (§3),
//! [`credentials`] (§4: the providers) and [`tokens`] (§4: the endpoints), [`rooms`] (§5), [`meeting`] (§6), [`presence`], [`metrics`] and
//! [`reclaim`] (§7); [`domain`] holds the parsed values and the room's state machine,
//! [`store`] the state, [`http`] the edge, [`auth`] the sessions.
//!
//! Dependencies point one way: domain ← store ← features ← http ← lambda / the local server.

pub mod accounts;
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
pub mod presence;
pub mod reclaim;
pub mod rooms;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tokens;

pub use app::{App, Stats};
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use error::{ApiError, ErrorCode};
pub use service::OPENAPI;
pub use store::Store;
