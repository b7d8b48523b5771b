//! The black-box suites, one binary (one link of the SDK):
//!
//! - `contract`: the store contract, run unchanged on the embedded store and on DynamoDB
//!   (a real DynamoDB-compatible server; `scripts/test` starts `moto_server` and sets
//!   `LIVEROOM_TEST_DYNAMODB_ENDPOINT`; without it the DynamoDB tests fail, never skip).
//! - `events`: the handlers driven with the API Gateway v2 events in `events/`.
//! - `api`: the API over real HTTP against both shapes: the walkthrough, bad input of
//!   every kind, restart persistence.
//! - `shapes`: the two shapes the HTTP suites (`api`, `aui`, `dialects`) run against, each test
//!   twice (`both_shapes!`): `liveroom-local` in-process, and `template.yaml` served through the
//!   real function binaries over a table of the test DynamoDB server, the suite's settings given
//!   as the template's parameters (a setting no parameter carries fails the setup).
//! - `callbacks`: the inbound vendor callbacks (Alibaba, Tencent CSS, LiveKit) accepted when
//!   valid and refused when unsigned, mis-signed, stale or replayed, on both stores.
//! - `concurrency`: racing life-cycle calls on both stores.
//! - `credentials`: every signer against the vendors' own libraries (`tests/oracle`) or the
//!   published formulas, and the grants the server decides.
//! - `meeting`: co-hosting rules and the versioned-write races, on both stores.
//! - `presence`: presence, exact metrics under concurrency, the sweeper's rules and races,
//!   with a manual clock, on both stores.
//! - `openapi`: the OpenAPI document, the router, the error table and `docs/errors.md` agree.
//! - `docs`: every relative link of the README and `docs/*.md` resolves, anchors included.
//! - `outbox`: the room's IM group against the IM API stand-in and signed webhooks against a
//!   verifying receiver, with far ends that fail, on both stores.
//! - `local`: the local server's limits (body timeout, connection cap, accept backoff) over
//!   real TCP, and its data dir's modes.
//! - `functions`: `template.yaml` served through the real function binaries (`liveroom-host`,
//!   `scripts/serve-functions`): every sample event's route reaches the function its file names,
//!   which starts and answers; a route mis-pointed or a variable removed in a copy is caught.
//! - `template`: `template.yaml` deploys the router's routes, one function per crate.
//! - `keys`: each endpoint declares exactly the key purposes its answers use (issue 21, 8).
//! - `layers`: the core crate's imports point down the layer table of `shared/src/lib.rs`,
//!   with no cycle between files, and the table lists exactly the crate's modules (issue 22, 7).
//! - `series`: the sweeper's sample of every open room and the stats of its run (issue 24),
//!   read back through the store on both stores; their DynamoDB calls counted.
//! - `enforce`: the vendors' enforcement APIs (Alibaba, Tencent, LiveKit) against local
//!   stand-ins that check each request's signature as the vendor does (recomputed here from the
//!   documented algorithm), its freshness and grants, and answer in the vendor's formats.
//! - `upstream`: the upstream AUI AppServer's endpoints beyond seed 002 (issue 26): their
//!   answers' fields and types as the upstream's sources declare them, the desktop pusher's
//!   single-use link token, and the new routes' DynamoDB calls, on both stores.
//! - `recordings`: recordings and replay (issue 26): `vod_info` from the vendors' signed
//!   recording callbacks and the sweeper's timeout, on both stores.
//! - `listings`: room listings and the caps on creating rooms on both stores, and their
//!   DynamoDB calls counted (at most two per listing whatever the table holds).

#[macro_use]
mod common;

mod accounts;
mod admin;
mod api;
mod aui;
mod callbacks;
mod calls;
mod concurrency;
mod contract;
mod credentials;
mod dialects;
mod disabled;
mod docs;
mod drift;
mod enforce;
mod events;
mod functions;
mod im;
mod keys;
mod layers;
mod listings;
mod local;
mod meeting;
mod moderation;
mod openapi;
mod outbox;
mod presence;
mod recordings;
mod series;
mod sessions;
mod shapes;
mod template;
mod upstream;
