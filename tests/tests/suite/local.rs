//! The local server's own defences, over real TCP against a real `liveroom-local` (the same
//! `run_with` its binary runs): trickled headers or a trickled body get `408 RequestTimeout`,
//! a client that does not read its answers is dropped, connections past the cap wait while the
//! server serves the ones it holds, failed accepts back off and are logged at most once a
//! second, and the data dir is its owner's only.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveroom_local::{Accept, Limits, LocalApp};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Far more than any bound a test sets: how long a test waits for what must happen.
const PATIENCE: Duration = Duration::from_secs(30);

fn app(dir: &Path) -> Arc<LocalApp> {
    let (app, _) = liveroom_local::open_app(dir, |k| {
        (k == "JWT_PRIVATE_KEY").then(|| crate::common::EVENTS_SECRET.to_owned())
    })
    .expect("open app");
    Arc::new(app)
}

/// A server on a free loopback port within `limits`; stops when `stop` is sent or dropped.
async fn serve(dir: &Path, limits: Limits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(liveroom_local::run_with(
        listener,
        app(dir),
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop)
}

/// Reads one HTTP/1.1 answer (with a `Content-Length`) from `conn`: its status and body.
async fn read_answer(conn: &mut (impl AsyncRead + Unpin)) -> (u16, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head[9..12].parse().unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = conn.read(&mut chunk).await.unwrap();
                assert!(n > 0, "closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            return (status, buf[end + 4..end + 4 + length].to_vec());
        }
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

const HEALTH: &[u8] = b"GET /api/v1/live/health HTTP/1.1\r\nHost: local\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trickled_body_gets_408_within_the_bound_and_the_connection_closes() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, _stop) = serve(dir.path(), limits).await;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"POST /api/v1/live/login HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n\
          Content-Length: 100000\r\n\r\n{",
    )
    .await
    .unwrap();
    let (mut read, mut write) = conn.into_split();
    // One byte every 50 ms for as long as the server listens: never the whole body.
    let trickle = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if write.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let answer = tokio::time::timeout(PATIENCE, read_answer(&mut read))
        .await
        .expect("a trickled body must be answered within the body timeout");
    let (status, body) = answer;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["reason"], "RequestTimeout", "{body}");
    assert_eq!(body["code"], 113, "{body}");
    assert!(
        body["message"].is_string() && body["details"].is_object(),
        "{body}"
    );
    // The server does not wait for the rest: the trickler's writes start failing.
    tokio::time::timeout(PATIENCE, trickle)
        .await
        .expect("the connection must be closed after the 408")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn trickled_headers_get_408_within_the_bound_and_an_idle_connection_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, _stop) = serve(dir.path(), limits).await;
    let conn = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = conn.into_split();
    write
        .write_all(b"POST /api/v1/live/login HTTP/1.1\r\nHost: local\r\n")
        .await
        .unwrap();
    // One header line every 50 ms, never the blank line that ends them.
    let trickle = tokio::spawn(async move {
        for i in 0u64.. {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let line = format!("X-Slow-{i}: 1\r\n");
            if write.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let (status, body) = tokio::time::timeout(PATIENCE, read_answer(&mut read))
        .await
        .expect("trickled headers must be answered within the header timeout");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["reason"], "RequestTimeout", "{body}");
    assert!(
        body["message"].is_string() && body["details"].is_object(),
        "{body}"
    );
    tokio::time::timeout(PATIENCE, trickle)
        .await
        .expect("the connection must be closed after the 408")
        .unwrap();

    // A connection that is served and then sends nothing is closed, without an answer.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(HEALTH).await.unwrap();
    assert_eq!(read_answer(&mut idle).await.0, 200);
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, idle.read_to_end(&mut rest))
        .await
        .expect("an idle connection must be closed")
        .unwrap();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_past_the_cap_wait_while_the_held_ones_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_connections: 2,
        header_timeout: Duration::from_secs(120),
        ..Limits::default()
    };
    let (addr, _stop) = serve(dir.path(), limits).await;
    // Two connections take the two slots (the backlog is served in order).
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    // The held connections are served, again and again (keep-alive).
    for conn in [&mut first, &mut second] {
        for _ in 0..3 {
            conn.write_all(HEALTH).await.unwrap();
            let (status, _) = tokio::time::timeout(PATIENCE, read_answer(conn))
                .await
                .expect("a held connection is served");
            assert_eq!(status, 200);
        }
    }
    // The third waits: nothing comes back while both slots are held.
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut byte))
            .await
            .is_err(),
        "a connection past the cap must wait"
    );
    // One closes: the third is served.
    drop(first);
    let (status, _) = tokio::time::timeout(PATIENCE, read_answer(&mut third))
        .await
        .expect("a waiting connection is served once a slot frees");
    assert_eq!(status, 200);
    second.write_all(HEALTH).await.unwrap();
    assert_eq!(read_answer(&mut second).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_does_not_take_its_answers_does_not_keep_its_slot() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_connections: 1,
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, _stop) = serve(dir.path(), limits).await;
    // A small receive window and 100 pipelined requests for the OpenAPI document (~145 kB
    // each): far more than every buffer on the way holds, and it never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut greedy = socket.connect(addr).await.unwrap();
    let request = b"GET /openapi.json HTTP/1.1\r\nHost: local\r\n\r\n";
    greedy.write_all(&request.repeat(100)).await.unwrap();
    // The one slot is freed once the server stops waiting for it: the next client is served.
    let mut next = TcpStream::connect(addr).await.unwrap();
    next.write_all(HEALTH).await.unwrap();
    let (status, _) = tokio::time::timeout(PATIENCE, read_answer(&mut next))
        .await
        .expect("a client that does not read must not hold its slot");
    assert_eq!(status, 200);
    // And the greedy one was dropped part way.
    let mut got = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, greedy.read_to_end(&mut got))
        .await
        .expect("the greedy connection is closed");
    assert!(got.len() < 100 * 140_000, "{} bytes", got.len());
}

/// A listener whose every accept fails with EMFILE (too many open files), counting them; it
/// fails the test if the loop spins (far more accepts than backoff allows).
struct Exhausted(Arc<AtomicU64>);

impl Accept for Exhausted {
    type Io = TcpStream;
    async fn accept(&mut self) -> std::io::Result<(TcpStream, SocketAddr)> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(n < 1_000, "the accept loop spins on a failing accept");
        Err(std::io::Error::from_raw_os_error(24))
    }
}

/// The log, as the server writes it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    /// A subscriber that writes into this log.
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ten seconds of a failing accept, on tokio's paused clock (time moves only when the loop
/// waits, so a spinning loop never reaches the end and a waiting one reaches it at once).
#[tokio::test(start_paused = true)]
async fn a_failing_accept_backs_off_and_is_logged_at_most_once_a_second() {
    let log = Log::default();
    let _guard = tracing::subscriber::set_default(log.subscriber());
    let dir = tempfile::tempdir().unwrap();
    let accepts = Arc::new(AtomicU64::new(0));
    liveroom_local::run_with(
        Exhausted(Arc::clone(&accepts)),
        app(dir.path()),
        Limits::default(),
        tokio::time::sleep(Duration::from_secs(10)),
    )
    .await;
    let accepts = accepts.load(Ordering::SeqCst);
    let log = log.text();
    let lines = log.lines().filter(|l| l.contains("accept failed")).count();
    eprintln!("{accepts} accepts, {lines} log lines in 10 s");
    // 10, 20, 40 ... 640 ms, then 1 s each: 7 + 9 accepts in 10 s, one line a second or less.
    assert!((8..=20).contains(&accepts), "{accepts} accepts in 10 s");
    assert!(
        (2..=11).contains(&lines),
        "{lines} log lines in 10 s:\n{log}"
    );
    assert!(
        log.contains("Too many open files") || log.contains("os error 24"),
        "{log}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

#[cfg(unix)]
#[test]
fn a_new_data_dir_is_its_owners_only() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let log = Log::default();
    tracing::subscriber::with_default(log.subscriber(), || drop(app(&dir)));
    let log = log.text();
    assert!(
        !log.contains("readable by others"),
        "a new data dir is made private, not tightened after the fact:\n{log}"
    );
    assert_eq!(mode(&dir), 0o700, "the data dir");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    assert!(files >= 1, "the store file is there");
    // Without JWT_PRIVATE_KEY the generated key is there too, 0600.
    let other = parent.path().join("generated");
    drop(liveroom_local::open_app(&other, |_| None).unwrap());
    assert_eq!(mode(&other), 0o700);
    assert_eq!(mode(&other.join("jwt_private_key")), 0o600);
    assert_eq!(mode(&other.join("liveroom.redb")), 0o600);
}

#[cfg(unix)]
#[test]
fn a_loose_data_dir_is_tightened_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    drop(liveroom_local::open_app(&dir, |_| None).unwrap());
    // As an older version (or a copy with a loose umask) left it.
    let nested = dir.join("backup");
    std::fs::create_dir(&nested).unwrap();
    std::fs::write(nested.join("old.redb"), b"x").unwrap();
    let set = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    set(&dir, 0o755).unwrap();
    set(&dir.join("liveroom.redb"), 0o644).unwrap();
    set(&dir.join("jwt_private_key"), 0o666).unwrap();
    set(&nested, 0o777).unwrap();
    set(&nested.join("old.redb"), 0o604).unwrap();
    let secret = std::fs::read_to_string(dir.join("jwt_private_key")).unwrap();
    let log = Log::default();
    tracing::subscriber::with_default(log.subscriber(), || {
        drop(liveroom_local::open_app(&dir, |_| None).unwrap())
    });
    let log = log.text();
    let tightened = log.lines().filter(|l| l.contains("readable by others"));
    assert_eq!(tightened.count(), 5, "each loose entry is logged:\n{log}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("liveroom.redb")), 0o600);
    assert_eq!(mode(&dir.join("jwt_private_key")), 0o600);
    assert_eq!(mode(&nested), 0o700);
    assert_eq!(mode(&nested.join("old.redb")), 0o600);
    // Tightened, not replaced.
    assert_eq!(
        std::fs::read_to_string(dir.join("jwt_private_key")).unwrap(),
        secret
    );
}

/// CORS as API Gateway applies the template's policy (`liveroom::http::CORS`; the functions'
/// suite checks the gateway side): a preflight is answered `204` without running a handler,
/// and an answer to a cross-origin request names the allowed origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_and_answers_follow_the_template_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = serve(dir.path(), Limits::default()).await;
    crate::common::assert_cors_as_the_template_says(&format!("http://{addr}")).await;
}
