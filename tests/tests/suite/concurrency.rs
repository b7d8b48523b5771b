//! Two rounds of 50 concurrent start/pause(/stop) calls on one room, on both stores, through
//! the handlers.
//!
//! Each applied change bumps the version by one under a conditional write, so the successful
//! responses must account for every version 1..=final exactly once, each version must have one
//! status, and consecutive versions must be edges the state machine allows.

use std::collections::BTreeMap;
use std::sync::Arc;

use lambda_http::http::{Method, Request};
use lambda_http::{Body, Request as LambdaRequest};
use liveroom::App;
use liveroom::auth::TokenKind;
use liveroom::domain::UserId;
use liveroom::endpoint::{Endpoint, Handler};
use liveroom::http::handle;
use liveroom::rooms;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::common::{TestStore, app, dynamodb, embedded};

fn request(path: &str, token: &str, body: Value) -> LambdaRequest {
    Request::builder()
        .method(Method::POST)
        .uri(format!("https://api.example.com{path}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::Text(body.to_string()))
        .unwrap()
}

async fn call(app: &App, endpoint: Endpoint, token: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/live/{}", endpoint.name());
    let response = handle(app, endpoint, request(&path, token, body)).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body().as_ref()).unwrap(),
    )
}

async fn fifty_racing_life_cycle_calls_leave_a_history_the_machine_allows(store: TestStore) {
    let app = Arc::new(app(&store));
    let anchor = UserId::generate();
    crate::common::ensure_user(&*app.store, &anchor).await;
    let token = app
        .tokens
        .issue(
            &anchor,
            TokenKind::Access,
            app.clock.now(),
            std::time::Duration::from_secs(600),
        )
        .unwrap()
        .token;
    let (status, room) = call(
        &app,
        rooms::Create::ENDPOINT,
        &token,
        json!({"title": "race"}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let id = room["id"].clone();

    // Round one races start against pause, so the room flips many times; round two adds
    // stops, so it ends somewhere in the middle of the race.
    let mut status_at: BTreeMap<u64, i64> = BTreeMap::from([(0, 0)]);
    for round in 0..2 {
        let barrier = Arc::new(Barrier::new(50));
        let mut tasks = Vec::new();
        for i in 0..50 {
            let endpoint = match i % 10 {
                9 if round == 1 => rooms::Stop::ENDPOINT,
                n if n % 2 == 0 => rooms::Start::ENDPOINT,
                _ => rooms::Pause::ENDPOINT,
            };
            let (app, token, id, barrier) = (
                Arc::clone(&app),
                token.clone(),
                id.clone(),
                Arc::clone(&barrier),
            );
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                (
                    endpoint,
                    call(&app, endpoint, &token, json!({ "id": id })).await,
                )
            }));
        }
        for task in tasks {
            let (endpoint, (status, body)) = task.await.unwrap();
            match status {
                200 => {
                    let version = body["version"].as_u64().unwrap();
                    let s = body["status"].as_i64().unwrap();
                    let previous = status_at.insert(version, s);
                    assert!(
                        previous.is_none_or(|p| p == s),
                        "version {version} seen with two statuses: lost update"
                    );
                }
                409 => {
                    assert_eq!(body["reason"], "RoomStateConflict", "{body}");
                    assert_ne!(endpoint, rooms::Stop::ENDPOINT, "stop never conflicts");
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
    }

    let (_, last) = call(&app, rooms::Get::ENDPOINT, &token, json!({ "id": id })).await;
    let final_version = last["version"].as_u64().unwrap();
    let versions: Vec<u64> = status_at.keys().copied().collect();
    assert_eq!(
        versions,
        (0..=final_version).collect::<Vec<_>>(),
        "every applied change was reported exactly once"
    );
    assert_eq!(status_at[&final_version], last["status"].as_i64().unwrap());
    for (v, pair) in status_at
        .values()
        .collect::<Vec<_>>()
        .windows(2)
        .enumerate()
    {
        let allowed = matches!((*pair[0], *pair[1]), (0, 1) | (1, 0) | (0, 2) | (1, 2));
        assert!(
            allowed,
            "version {} → {}: {} → {} is not a transition",
            v,
            v + 1,
            pair[0],
            pair[1]
        );
    }
    assert_eq!(last["status"], 2, "round two's stops end the room");
    eprintln!("2 x 50 racing calls applied {final_version} changes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_racing_life_cycle_calls_on_the_embedded_store() {
    fifty_racing_life_cycle_calls_leave_a_history_the_machine_allows(embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_racing_life_cycle_calls_on_dynamodb() {
    fifty_racing_life_cycle_calls_leave_a_history_the_machine_allows(dynamodb().await).await;
}
