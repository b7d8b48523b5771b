//! Test fixtures: stores (each test on its own table or file), apps, requests.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use liveroom::store::Store;
use liveroom::store::dynamo::DynamoStore;
use liveroom::store::embedded::EmbeddedStore;
use liveroom::{App, Config, SystemClock};

/// The private key the sample events in `events/` are signed with (docs/deploying.md: local invoke only):
/// the base64 of the Ed25519 seed `liveroom-sample-events-local-key`.
pub const EVENTS_SECRET: &str = "bGl2ZXJvb20tc2FtcGxlLWV2ZW50cy1sb2NhbC1rZXk=";
/// Its public key (`JWT_PUBLIC_KEY` for the functions that only verify).
pub const EVENTS_PUBLIC_KEY: &str = "DmuygVnQJ3tDN6sHeRWxnmH9faJ4Y07IuGPt/tWcKXw=";

/// Runs an `async fn name(w: World)` of the enclosing module on each store: the module has a
/// `world(TestStore) -> World`. `both_stores!(name)` makes `name::embedded_store` and
/// `name::dynamodb_store`.
macro_rules! both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 8)]
            async fn embedded_store() {
                super::$name(super::world(crate::common::embedded())).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 8)]
            async fn dynamodb_store() {
                super::$name(super::world(crate::common::dynamodb().await)).await;
            }
        }
    };
}

/// Runs an `async fn name(shape: Shape)` of the enclosing module against each shape of the
/// server (`crate::shapes`): `both_shapes!(name)` makes `name::local` (`liveroom-local`) and
/// `name::functions` (`template.yaml` through the real function binaries).
macro_rules! both_shapes {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn local() {
                super::$name(crate::shapes::Shape::Local).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn functions() {
                super::$name(crate::shapes::Shape::Functions).await;
            }
        }
    };
}

/// An app on `store` whose time is a manual clock, starting at a fixed instant.
pub fn manual_app(store: &TestStore) -> (Arc<App>, Arc<liveroom::clock::ManualClock>) {
    let clock = Arc::new(liveroom::clock::ManualClock::new(
        chrono::DateTime::<chrono::Utc>::from_timestamp(1_900_000_000, 0).expect("an instant"),
    ));
    let app = App::new(
        config(EVENTS_SECRET),
        Arc::clone(&store.store),
        clock.clone(),
    );
    (Arc::new(app), clock)
}

/// A store for one test; keeps its temporary directory alive.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

pub fn embedded() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(&dir.path().join("test.redb")).expect("open redb");
    TestStore {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

/// The endpoint of the DynamoDB-compatible server the test run started.
pub fn dynamodb_endpoint() -> String {
    std::env::var("LIVEROOM_TEST_DYNAMODB_ENDPOINT").expect(
        "LIVEROOM_TEST_DYNAMODB_ENDPOINT is not set: run the tests with scripts/test, which starts \
         moto_server (the DynamoDB tests never skip)",
    )
}

pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(dynamodb_config().build())
}

fn dynamodb_config() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(dynamodb_endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        // The production HTTPS client (its embedded roots must parse, or this panics).
        .http_client(liveroom::store::dynamo::http_client().expect("the production HTTP client"))
        // The test server is one serialised process: under a thousand concurrent calls a
        // connection can wait longer than the SDK's default 3.1 s.
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(60))
                .build(),
        )
        // ...and a response can sit queued behind others for seconds, which the SDK's
        // stalled-stream guard would take for a dead connection.
        .stalled_stream_protection(
            aws_sdk_dynamodb::config::StalledStreamProtectionConfig::disabled(),
        )
}

/// The DynamoDB operation a request is (`X-Amz-Target`'s last part).
fn operation<'a>(
    context: &'a aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
) -> Option<&'a str> {
    context
        .request()
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
}

/// Counts the DynamoDB calls a client sends, by operation (`X-Amz-Target`, as the counting
/// proxy of `scripts/bench calls` does), retries included.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>);

impl CallCounter {
    /// The calls counted since the last take, by operation.
    pub fn take(&self) -> std::collections::BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl aws_sdk_dynamodb::config::Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let op = operation(context).unwrap_or("?").to_owned();
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(op)
            .or_default() += 1;
        Ok(())
    }
}

/// A fault injected into the next `TransactWriteItems` a client sends (one shot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails before it is sent: the server never sees it.
    Unsent,
    /// The server commits the call, and its answer is lost: the caller sees a failure.
    Unanswered,
}

/// The faults a client injects ([`faulty_dynamodb`]).
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<std::sync::Mutex<FaultState>>);

#[derive(Debug, Default)]
pub struct FaultState {
    armed: Option<Fault>,
    /// An `Unanswered` call is on its way: fail it once it is answered.
    in_flight: bool,
    /// Faults injected so far.
    pub injected: u32,
}

impl Faults {
    pub fn arm(&self, fault: Fault) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).armed = Some(fault);
    }

    pub fn injected(&self) -> u32 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).injected
    }
}

impl aws_sdk_dynamodb::config::Intercept for Faults {
    fn name(&self) -> &'static str {
        "Faults"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let transaction = operation(context) == Some("TransactWriteItems");
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !transaction {
            return Ok(());
        }
        match state.armed.take() {
            Some(Fault::Unsent) => {
                state.injected += 1;
                Err("injected fault: the transaction was not sent".into())
            }
            Some(Fault::Unanswered) => {
                state.in_flight = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn read_after_deserialization(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::take(&mut state.in_flight) {
            state.injected += 1;
            return Err("injected fault: the transaction's answer was lost".into());
        }
        Ok(())
    }
}

/// [`dynamodb`], whose client injects the faults armed on the [`Faults`].
pub async fn faulty_dynamodb() -> (TestStore, Faults) {
    let faults = Faults::default();
    let client =
        aws_sdk_dynamodb::Client::from_conf(dynamodb_config().interceptor(faults.clone()).build());
    (table_of(client).await, faults)
}

/// A fresh table on the test server, through `client`.
async fn table_of(client: aws_sdk_dynamodb::Client) -> TestStore {
    let table = format!("liveroom-test-{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::new(client, table);
    store
        .create_table()
        .await
        .expect("create table on the test DynamoDB server");
    TestStore {
        store: Arc::new(store),
        _dir: None,
    }
}

/// [`dynamodb`], with every call it sends counted.
pub async fn counted_dynamodb() -> (TestStore, CallCounter) {
    let counter = CallCounter::default();
    let client =
        aws_sdk_dynamodb::Client::from_conf(dynamodb_config().interceptor(counter.clone()).build());
    let store = table_of(client).await;
    counter.take();
    (store, counter)
}

/// A fresh table of the production layout on the test server.
pub async fn dynamodb() -> TestStore {
    table_of(dynamodb_client()).await
}

/// The suites' configuration: tokens signed with `key` (a `JWT_PRIVATE_KEY`), the
/// registration limits and the caps on a user's rooms high (the suites register many users
/// from one address and make many rooms as one user), the rest as deployed.
pub fn config(key: &str) -> Config {
    Config::from_lookup(|k| match k {
        "JWT_PRIVATE_KEY" => Some(key.to_owned()),
        "REGISTRATIONS_PER_ADDRESS_PER_MINUTE" | "REGISTRATIONS_PER_MINUTE" => {
            Some("1000000".to_owned())
        }
        // Suites make rooms by the dozen as one user; the caps have their own suite.
        "MAX_OPEN_ROOMS_PER_USER" => Some("100".to_owned()),
        "ROOM_CREATIONS_PER_USER_PER_MINUTE" => Some("100000".to_owned()),
        _ => None,
    })
    .expect("config")
}

pub fn app(store: &TestStore) -> App {
    App::new(
        config(EVENTS_SECRET),
        Arc::clone(&store.store),
        Arc::new(SystemClock),
    )
}

/// The router's routes as `(METHOD, path)` pairs, to compare with what documents and deploys them.
pub fn routed() -> BTreeSet<(String, String)> {
    liveroom::http::routes()
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect()
}

/// An access token for `user`, valid for `ttl_secs` from the app's clock (see [`user_token`]
/// for one whose user exists).
pub fn token_for(app: &App, user: &liveroom::domain::UserId, ttl_secs: u64) -> String {
    app.tokens
        .issue(
            user,
            liveroom::auth::TokenKind::Access,
            liveroom::Clock::now(&*app.clock),
            std::time::Duration::from_secs(ttl_secs),
        )
        .expect("sign a test token")
        .token
}

/// [`token_for`] a user that exists ([`ensure_user`]).
pub async fn user_token(app: &App, user: &liveroom::domain::UserId, ttl_secs: u64) -> String {
    ensure_user(&*app.store, user).await;
    token_for(app, user, ttl_secs)
}

/// Calls `endpoint`'s handler as its Lambda would be called: POST, JSON body, bearer token,
/// and only the secrets its function reads ([`liveroom::App::scoped`]: an endpoint whose
/// declared reads miss a secret it uses fails the suites that check its answers).
pub async fn call(
    app: &App,
    endpoint: liveroom::endpoint::Endpoint,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let req = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("/api/v1/live/{}", endpoint.name()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(lambda_http::Body::Text(body.to_string()))
        .expect("a valid request");
    let response = liveroom::http::handle(&app.scoped(endpoint.secrets()), endpoint, req).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body().as_ref()).expect("a JSON body"),
    )
}

/// Whether `value` is an object present with every string in it (nested too) empty: what a
/// response says where there is nothing to give (never `null`, never absent, never a fake URL).
pub fn all_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            !map.is_empty()
                && map.values().all(|v| match v {
                    serde_json::Value::String(s) => s.is_empty(),
                    serde_json::Value::Object(_) => all_empty(v),
                    _ => false,
                })
        }
        _ => false,
    }
}

/// [`call`] from the client address `ip` (what API Gateway's `sourceIp` and the local server's
/// TCP peer give the handlers).
pub async fn call_from(
    app: &App,
    endpoint: liveroom::endpoint::Endpoint,
    token: &str,
    body: serde_json::Value,
    ip: &str,
) -> (u16, serde_json::Value, Option<String>) {
    let mut req = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("/api/v1/live/{}", endpoint.name()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(lambda_http::Body::Text(body.to_string()))
        .expect("a valid request");
    req.extensions_mut()
        .insert(liveroom::http::PeerAddr(ip.parse().expect("an IP address")));
    let response = liveroom::http::handle(&app.scoped(endpoint.secrets()), endpoint, req).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        response.status().as_u16(),
        serde_json::from_slice(response.body().as_ref()).expect("a JSON body"),
        retry_after,
    )
}

/// Makes `user` exist (in session generation 0, as the fixtures' tokens are), unless it does:
/// every endpoint that signs a credential or URL checks the caller's session, and a token
/// names nobody once its user is gone.
pub async fn ensure_user(store: &dyn Store, user: &liveroom::domain::UserId) {
    let username =
        liveroom::domain::Username::parse(user.as_str()).expect("a user id is a username");
    let record = liveroom::domain::user::User {
        id: user.clone(),
        username,
        password_hash: String::new(),
        nick: liveroom::domain::Nick::empty(),
        avatar: liveroom::domain::ImageUrl::empty(),
        created_at: chrono::Utc::now(),
        salt: None,
        sessions: 0,
        deleted_at: None,
        roles: Default::default(),
        disabled: None,
    };
    match store.insert_user(&record).await {
        Ok(()) | Err(liveroom::store::StoreError::Conflict) => {}
        Err(e) => panic!("make the user {user}: {e}"),
    }
}

/// [`ensure_user`] from a synchronous fixture, on a multi-threaded test runtime (every
/// `both_stores!` test runs on one).
pub fn ensure_user_now(store: &dyn Store, user: &liveroom::domain::UserId) {
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(ensure_user(store, user))
    });
}

/// The API's CORS policy as API Gateway applies `template.yaml`'s `CorsConfiguration` (and
/// `liveroom::http::CORS`), checked over HTTP at `base`: a preflight is `204` with the allowed
/// origin, methods, headers and max age; an answer to a cross-origin request names the allowed
/// origin (`401` here: no token); a same-origin answer has no CORS header. The preflight, for
/// checks of its own.
pub async fn assert_cors_as_the_template_says(base: &str) -> reqwest::Response {
    let http = reqwest::Client::new();
    let url = format!("{base}/api/v1/live/get");
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    for (name, want) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET,POST"),
        ("access-control-allow-headers", "authorization,content-type"),
        ("access-control-max-age", "600"),
    ] {
        assert_eq!(header(&preflight, name), want, "{name}");
    }
    let body = serde_json::json!({"id": "x"});
    let answer = http
        .post(&url)
        .header("origin", "https://app.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(header(&answer, "access-control-allow-origin"), "*");
    let same_origin = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(header(&same_origin, "access-control-allow-origin"), "");
    preflight
}
