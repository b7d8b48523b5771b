//! Issue 24: a disabled user's (or a `logout {all}`'s) existing access tokens are 401 on every
//! authenticated route, on both stores, through the handlers as their functions call them.
//! The routes come from the endpoint table (`liveroom::http::endpoints`): every route whose
//! endpoint does not declare it tokenless ([`Endpoint::takes_token`]) is sent a valid request
//! with the dead token, so a new route is covered as soon as it exists (a route whose body
//! is not known here gets `{}`, which a route that checks the caller first answers 401 all
//! the same). An account enabled again keeps its old tokens dead; a new login works.
//!
//! Never here: what disabling does besides (its logins, its rooms: the `admin` suite), or the
//! signing endpoints' other checks (the `sessions` suite).

use std::collections::HashMap;
use std::sync::Arc;

use liveroom::admin::{AdminDisableUser, AdminEnableUser};
use liveroom::endpoint::{ANY, Endpoint, Envelope, Handler, Route};
use liveroom::{App, Config, SystemClock, accounts, presence, rooms, vendor_tokens};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore};

pub struct World {
    app: App,
    _store: TestStore,
}

fn world(store: TestStore) -> World {
    let mut vars: HashMap<String, String> = crate::credentials::aliyun_vars()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("JWT_PRIVATE_KEY", EVENTS_SECRET),
        ("ADMIN_USERS", "chief"),
        ("REGISTRATIONS_PER_ADDRESS_PER_MINUTE", "1000000"),
        ("REGISTRATIONS_PER_MINUTE", "1000000"),
        ("MAX_OPEN_ROOMS_PER_USER", "100"),
    ] {
        vars.insert(k.to_owned(), v.to_owned());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("config");
    World {
        app: App::new(config, Arc::clone(&store.store), Arc::new(SystemClock)),
        _store: store,
    }
}

/// What a user's tokens are tried on: their room (with a member in it to kick and mute) and
/// a call's channel.
struct Scene {
    user: String,
    token: String,
    room: String,
    member: String,
    channel: &'static str,
}

impl World {
    async fn call(&self, endpoint: Endpoint, token: &str, body: Value) -> (u16, Value) {
        crate::common::call(&self.app, endpoint, token, body).await
    }

    async fn ok(&self, endpoint: Endpoint, token: &str, body: Value) -> Value {
        let (status, out) = self.call(endpoint, token, body).await;
        assert_eq!(status, 200, "{endpoint:?}: {out}");
        out
    }

    /// A registered user's access token, from a real login.
    async fn login(&self, username: &str, register: bool) -> String {
        let credentials = json!({"username": username, "password": "correct horse"});
        if register {
            self.ok(accounts::Register::ENDPOINT, "", credentials.clone())
                .await;
        }
        let login = self.ok(accounts::Login::ENDPOINT, "", credentials).await;
        login["token"].as_str().unwrap().to_owned()
    }

    /// `username`, registered and logged in, with a live room a member is in, and a call of
    /// theirs (seed 000).
    async fn scene(&self, username: &str) -> Scene {
        let token = self.login(username, true).await;
        let room = self
            .ok(rooms::Create::ENDPOINT, &token, json!({"title": "mine"}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.ok(rooms::Start::ENDPOINT, &token, json!({"id": room}))
            .await;
        let member = format!("{username}-fan");
        let fan = self.login(&member, true).await;
        self.ok(presence::Join::ENDPOINT, &fan, json!({"id": room}))
            .await;
        let channel = "disabled-call";
        let (status, out) = self
            .route(&route("/app/token"), &token, channel, json!({}))
            .await;
        assert!(status == 200 || status == 409, "{out}");
        Scene {
            user: username.to_owned(),
            token,
            room,
            member,
            channel,
        }
    }

    /// Sends `route` a request with `token`, as its envelope's clients send it: our API's
    /// and the admin API's a JSON body with a Bearer token, seed 004's its token and user in
    /// the body, seed 000's a GET with the channel in the query and a Bearer token.
    async fn route(
        &self,
        (endpoint, route): &(Endpoint, Route),
        token: &str,
        channel: &str,
        body: Value,
    ) -> (u16, Value) {
        let method = if route.method == ANY {
            "POST"
        } else {
            route.method
        };
        let builder = lambda_http::http::Request::builder()
            .method(method)
            .header("content-type", "application/json");
        let req = match endpoint.envelope() {
            Envelope::Aui => builder
                .uri(route.path)
                .header("authorization", format!("Bearer {token}"))
                .body(lambda_http::Body::Text(body.to_string()))
                .unwrap(),
            Envelope::Tencent => builder
                .uri(route.path)
                .body(lambda_http::Body::Text(body.to_string()))
                .unwrap(),
            Envelope::Aliyun => {
                let req = lambda_http::http::Request::builder()
                    .method("GET")
                    .uri(format!("{}?channelId={channel}", route.path))
                    .header("authorization", format!("Bearer {token}"))
                    .body(lambda_http::Body::Empty)
                    .unwrap();
                lambda_http::RequestExt::with_query_string_parameters(
                    req,
                    HashMap::from([("channelId".to_owned(), channel.to_owned())]),
                )
            }
        };
        let response =
            liveroom::http::handle(&self.app.scoped(endpoint.secrets()), *endpoint, req).await;
        (
            response.status().as_u16(),
            serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null),
        )
    }

    /// Every route that takes an access token refuses `scene`'s token: 401.
    async fn every_route_refuses(&self, scene: &Scene, why: &str) {
        let routes = token_routes();
        assert!(routes.len() > 40, "{}", routes.len());
        for r in &routes {
            let body = body_for(r, scene);
            let (status, out) = self.route(r, &scene.token, scene.channel, body).await;
            assert_eq!(status, 401, "{why}: {} {}: {out}", r.0.name(), r.1.path);
        }
    }
}

/// The endpoint and route of `path`.
fn route(path: &str) -> (Endpoint, Route) {
    token_routes()
        .into_iter()
        .find(|(_, r)| r.path == path)
        .unwrap_or_else(|| panic!("no route {path}"))
}

/// Every route that takes an access token, with its endpoint, from the endpoint table.
fn token_routes() -> Vec<(Endpoint, Route)> {
    liveroom::http::endpoints()
        .into_iter()
        .flat_map(|e| {
            e.routes()
                .iter()
                .filter(move |r| e.takes_token(r))
                .map(move |r| (e, *r))
        })
        .collect()
}

/// A valid request's body for `route`, in `scene` (`{}` where none is known: the admin API
/// reads its caller before its body).
fn body_for((endpoint, route): &(Endpoint, Route), s: &Scene) -> Value {
    let (room, member) = (s.room.as_str(), s.member.as_str());
    let mut body = match endpoint.envelope() {
        Envelope::Tencent => {
            let operation = route.path.rsplit('/').next().unwrap_or_default();
            match operation {
                "user_update" => json!({"name": "renamed"}),
                "user_keepalive" | "enter_room" | "leave_room" | "destroy_room" | "room_detail"
                | "list_users" => json!({"roomId": room}),
                "update_room" => json!({"roomId": room, "title": "renamed"}),
                _ => json!({}),
            }
        }
        Envelope::Aliyun => json!({}),
        Envelope::Aui if route.path == vendor_tokens::RTC_AUTH_TOKEN_PATH => {
            json!({"room_id": room})
        }
        Envelope::Aui => match endpoint.name() {
            "create" => json!({"title": "another"}),
            "list" => json!({"page_num": 1, "page_size": 10}),
            "update" => json!({"id": room, "title": "renamed"}),
            "like" => json!({"id": room, "count": 1}),
            "kick" => json!({"id": room, "user_id": member}),
            "mute" => json!({"id": room, "user_id": member, "mute": true}),
            "update-meeting-info" => json!({"id": room, "members": [{"user_id": s.user}]}),
            "token" => json!({"device_id": "D1", "device_type": "web"}),
            "update-user" => json!({"nick": "renamed"}),
            "live-jump" => json!({"user_id": s.user, "live_id": room}),
            "logout" | "delete-user" | "user" => json!({}),
            name if name.starts_with("admin-") => json!({}),
            _ => json!({"id": room}),
        },
    };
    if endpoint.envelope() == Envelope::Tencent {
        body["userId"] = json!(s.user);
        body["token"] = json!(s.token);
    }
    body
}

both_stores!(a_disabled_users_tokens_are_refused_on_every_route);
both_stores!(tokens_ended_by_logout_all_are_refused_on_every_route);
both_stores!(an_account_enabled_again_keeps_its_old_tokens_dead);

async fn disable(w: &World, chief: &str, user: &str) {
    w.ok(
        AdminDisableUser::ENDPOINT,
        chief,
        json!({"user_id": user, "reason": "spam"}),
    )
    .await;
}

async fn a_disabled_users_tokens_are_refused_on_every_route(w: World) {
    let chief = w.login("chief", true).await;
    let scene = w.scene("dave").await;
    // The token works before.
    w.ok(accounts::User::ENDPOINT, &scene.token, json!({}))
        .await;
    disable(&w, &chief, "dave").await;
    w.every_route_refuses(&scene, "disabled").await;
    // Nothing of theirs changed: the member is neither kicked nor muted, the account is open.
    let room = w
        .ok(rooms::Get::ENDPOINT, &chief, json!({"id": scene.room}))
        .await;
    assert_eq!(room["title"], "mine", "{room}");
    let members = w
        .ok(
            presence::Members::ENDPOINT,
            &chief,
            json!({"id": scene.room}),
        )
        .await;
    assert!(members.to_string().contains(&scene.member), "{members}");
}

async fn tokens_ended_by_logout_all_are_refused_on_every_route(w: World) {
    let scene = w.scene("erin").await;
    // Another session of theirs ends them all.
    let other = w.login("erin", false).await;
    w.ok(accounts::Logout::ENDPOINT, &other, json!({"all": true}))
        .await;
    w.every_route_refuses(&scene, "logout all").await;
    // Even the session that ended them all.
    let (status, _) = w.call(accounts::User::ENDPOINT, &other, json!({})).await;
    assert_eq!(status, 401);
}

async fn an_account_enabled_again_keeps_its_old_tokens_dead(w: World) {
    let chief = w.login("chief", true).await;
    let scene = w.scene("fred").await;
    disable(&w, &chief, "fred").await;
    w.ok(
        AdminEnableUser::ENDPOINT,
        &chief,
        json!({"user_id": "fred"}),
    )
    .await;
    w.every_route_refuses(&scene, "enabled again").await;
    // A new login works, on routes that read and that write.
    let fresh = w.login("fred", false).await;
    let me = w.ok(accounts::User::ENDPOINT, &fresh, json!({})).await;
    assert_eq!(me["username"], "fred");
    w.ok(
        rooms::List::ENDPOINT,
        &fresh,
        json!({"page_num": 1, "page_size": 10}),
    )
    .await;
    w.ok(
        accounts::UpdateUser::ENDPOINT,
        &fresh,
        json!({"nick": "fred again"}),
    )
    .await;
    // (Its room ended when it was disabled; it is still its anchor's to moderate.)
    w.ok(
        liveroom::moderation::Mute::ENDPOINT,
        &fresh,
        json!({"id": scene.room, "user_id": scene.member, "mute": true}),
    )
    .await;
}
