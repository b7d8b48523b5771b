//! The outbox's HTTP client (feature `delivery`): POSTs to the Tencent IM REST API and to the
//! webhook receiver over rustls with the system's roots.
//!
//! Built from the stack the DynamoDB client already links (hyper-util's client, hyper-rustls,
//! rustls with ring), with exactly the features it already enables, so that building the
//! delivering functions beside the others changes no feature of a shared dependency — and so
//! nothing in the other functions' binaries or cold starts. (reqwest, tried first, turned on
//! webpki roots and a second TLS setup in the shared crates: every function's init grew.)

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The largest answer read (the IM API's envelopes are small; a receiver's body is ignored).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// An HTTPS (and plain HTTP, for local stand-ins) client.
pub struct Https {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// The process's client, shared by the IM and webhook deliveries (one connection pool), built
/// on first use: loading the system's roots stays out of the cold start.
pub fn client() -> Result<&'static Https, String> {
    static CLIENT: OnceLock<Result<Https, String>> = OnceLock::new();
    CLIENT
        .get_or_init(Https::new)
        .as_ref()
        .map_err(Clone::clone)
}

/// A call's answer: the status and at most [`MAX_ANSWER_BYTES`] of the body.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Https {
    /// A client trusting the system's CA roots.
    fn new() -> Result<Self, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("no CA roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// POSTs `body` to `url` with `headers`; the call, connection included, ends within
    /// `timeout`. Errors name no URL (a query string may carry a credential, e.g. the IM API's
    /// `usersig`).
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        let mut request = lambda_http::http::Request::post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| "not a valid URL or header".to_owned())?;
        let call = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("unreachable: {}", connect_error(&e)))?;
            let status = response.status().as_u16();
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|_| "the answer could not be read".to_owned())?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
    }
}

/// What went wrong, without the URL.
fn connect_error(e: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut text = String::from(if e.is_connect() { "connect" } else { "request" });
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
