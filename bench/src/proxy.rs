//! A counting proxy in front of the DynamoDB-compatible server: every request the functions
//! make passes through it and is counted by its operation (`X-Amz-Target`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;

pub type Counts = BTreeMap<String, u64>;

pub struct Proxy {
    pub addr: SocketAddr,
    upstream: Arc<Upstream>,
}

/// Where requests go, and what was counted on the way.
struct Upstream {
    client: reqwest::Client,
    url: String,
    counts: Mutex<Counts>,
}

async fn forward(upstream: Arc<Upstream>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let Upstream {
        client,
        url: upstream,
        counts,
    } = &*upstream;
    let (parts, body) = req.into_parts();
    let op = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('.').next())
        .unwrap_or("?")
        .to_owned();
    *counts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(op)
        .or_default() += 1;
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut out = client.request(
        reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::POST),
        format!("{upstream}{}", parts.uri),
    );
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    match out.body(body.to_vec()).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers: Vec<(String, Vec<u8>)> = resp
                .headers()
                .iter()
                .filter(|(n, _)| {
                    !matches!(
                        n.as_str(),
                        "content-length" | "connection" | "transfer-encoding"
                    )
                })
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect();
            let bytes = resp.bytes().await.unwrap_or_default();
            let mut r = Response::new(Full::new(bytes));
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            for (n, v) in headers {
                if let (Ok(n), Ok(v)) = (
                    hyper::header::HeaderName::from_bytes(n.as_bytes()),
                    hyper::header::HeaderValue::from_bytes(&v),
                ) {
                    r.headers_mut().append(n, v);
                }
            }
            r
        }
        Err(_) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            r
        }
    }
}

impl Proxy {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream = Arc::new(Upstream {
            client: reqwest::Client::new(),
            url: upstream.trim_end_matches('/').to_owned(),
            counts: Mutex::new(Counts::new()),
        });
        liveroom_host::serve::spawn(listener, Arc::clone(&upstream), forward);
        Ok(Self { addr, upstream })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The calls counted since the last take, by operation.
    pub fn take(&self) -> Counts {
        std::mem::take(
            &mut *self
                .upstream
                .counts
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }
}
