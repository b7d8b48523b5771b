//! `liveroom-host`: `template.yaml` served as AWS would, through the real function binaries
//! (`scripts/serve-functions`, binary `liveroom-functions`).
//!
//! - [`template`]: what the host reads of the template (functions, routes, environments).
//! - [`gateway`]: API Gateway's HTTP API (payload 2.0) in front of pools of Lambda instances,
//!   with Lambda's concurrency model and a `REPORT` line per invocation.
//! - [`payload`]: the events API Gateway builds (payload 2.0) and the responses it makes of
//!   the answers.
//! - [`emulator`]: the Lambda Runtime API one instance polls (shared with `bench/`, which
//!   depends on this crate for it).
//!
//! TODO (issue 23, next steps): the table created from the template's own definition (today
//! `liveroom-create-table`, the store's layout, which the suites hold equal to the template);
//! the table's stream delivered to `outbox` as DynamoDB Streams records (batch size, filter,
//! retries of the mapping); the schedule delivered to `sweeper` as EventBridge events at the
//! template's rate (a flag to speed it up); the HTTP suites run against this in CI as against
//! `liveroom-local`; `scripts/bench cost`.
//!
//! Never here: the app's rules (`shared/`); anything a function does (it runs as its binary).

pub mod emulator;
pub mod gateway;
pub mod payload;
pub mod template;
