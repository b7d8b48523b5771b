//! Logging: JSON lines through `tracing-subscriber`, level from `RUST_LOG` (default `info`).
//!
//! The request line is written by [`crate::http`]; nothing logs tokens, passwords or secrets.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once; later calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
}
