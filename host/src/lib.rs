//! `liveroom-host`: `template.yaml` served as AWS would, through the real function binaries
//! (`scripts/serve-functions`, binary `liveroom-functions`).
//!
//! - [`template`]: what the host reads of the template (functions, routes, environments).
//! - [`gateway`]: API Gateway's HTTP API (payload 2.0, CORS) in front of pools of Lambda
//!   instances, with Lambda's concurrency model and a `REPORT` line per invocation.
//! - [`cors`]: API Gateway's answers under the API's `CorsConfiguration`.
//! - [`payload`]: the events API Gateway builds (payload 2.0) and the responses it makes of
//!   the answers.
//! - [`emulator`]: the Lambda Runtime API one instance polls (shared with `bench/`, which
//!   depends on this crate for it).
//! - [`dynamodb`]: the host's own DynamoDB calls: the table created from the template's
//!   definition, the stream read.
//! - [`stream`]: the table's stream delivered to the function the template maps it to, as
//!   Lambda's event source mapping (filters, batch size, retries).
//! - [`schedule`]: the template's schedules delivered as EventBridge events at their rate.
//! - [`serve`]: the accept loop of the runtime API (and of the benchmarks' proxies).
//!
//! Never here: the app's rules (`shared/`); anything a function does (it runs as its binary).

pub mod cors;
pub mod dynamodb;
pub mod emulator;
pub mod gateway;
pub mod payload;
pub mod schedule;
pub mod serve;
pub mod stream;
pub mod template;
