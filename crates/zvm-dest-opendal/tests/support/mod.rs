//! What the tests of remote destinations share: the servers that `.ci/run` starts (the
//! S3-compatible one at `ZVM_TEST_S3_ENDPOINT`; the WebDAV and SFTP ones at
//! `ZVM_TEST_WEBDAV_URL` and `ZVM_TEST_SFTP_URL`, serving the folders `ZVM_TEST_WEBDAV_DIR`
//! and `ZVM_TEST_SFTP_DIR`), a fresh bucket or folder per test, and a proxy in front of a
//! server that plays the failures a real service has (a full bucket, a busy server, a
//! stored object that is not what was sent). Also used by the zvm-cli tests (through
//! `#[path]`). Azurite's own helpers are in `azurite.rs`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;

// The zvm-cli tests include this module beside their own `common`, which loads the same
// file: one skip rule for both, loaded twice.
#[allow(clippy::duplicate_mod)]
#[path = "../../../zvm-cli/tests/common/skip.rs"]
mod skip;
pub use skip::skip_or_fail;

/// Access keys the test server accepts (moto checks no signatures; the client signs anyway).
pub const KEY_ID: &str = "zvm-test-key";
pub const SECRET: &str = "zvm-test-secret";

/// Names the variable that holds the test server's address.
pub const ENDPOINT_VAR: &str = "ZVM_TEST_S3_ENDPOINT";

/// The S3-compatible server of the tests, or `None` (after [`skip_or_fail`]) without one.
pub fn s3_endpoint(test: &str) -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(e) if !e.is_empty() => Some(e.trim_end_matches('/').to_string()),
        _ => {
            skip_or_fail(&format!(
                "{test}: no S3-compatible server ({ENDPOINT_VAR} is not set; .ci/run starts one)"
            ));
            None
        }
    }
}

static BUCKETS: AtomicU64 = AtomicU64::new(0);

/// The login the WebDAV test server takes (`.ci/run` starts it with these).
pub const WEBDAV_USER: &str = "zvm";
pub const WEBDAV_PASSWORD: &str = "zvm-test-password";

/// A file service `.ci/run` started: its URL (`webdav://127.0.0.1:PORT`,
/// `sftp://zvm@127.0.0.1:PORT`) and the folder on this machine it serves, where a test reads
/// back what the server stored.
pub struct FileServer {
    pub url: String,
    pub dir: std::path::PathBuf,
}

impl FileServer {
    /// A fresh, empty folder on the server for one test: its URL and its folder on disk.
    pub fn new_folder(&self, what: &str) -> (String, std::path::PathBuf) {
        let name = format!(
            "zvm-{what}-{}-{}",
            std::process::id(),
            BUCKETS.fetch_add(1, Ordering::Relaxed)
        );
        (format!("{}/{name}", self.url), self.dir.join(name))
    }
}

fn file_server(test: &str, url_var: &str, dir_var: &str) -> Option<FileServer> {
    match (std::env::var(url_var), std::env::var(dir_var)) {
        (Ok(url), Ok(dir)) if !url.is_empty() && !dir.is_empty() => Some(FileServer {
            url: url.trim_end_matches('/').to_string(),
            dir: dir.into(),
        }),
        _ => {
            skip_or_fail(&format!(
                "{test}: no test server ({url_var} and {dir_var} are not set; .ci/run starts one)"
            ));
            None
        }
    }
}

/// The WebDAV test server, or `None` (after [`skip_or_fail`]) without one.
pub fn webdav_server(test: &str) -> Option<FileServer> {
    file_server(test, "ZVM_TEST_WEBDAV_URL", "ZVM_TEST_WEBDAV_DIR")
}

/// The SFTP test server, or `None` (after [`skip_or_fail`]) without one. `ssh` must trust it
/// (`.ci/run` puts an `ssh` on PATH whose config holds its host key and the client key).
pub fn sftp_server(test: &str) -> Option<FileServer> {
    file_server(test, "ZVM_TEST_SFTP_URL", "ZVM_TEST_SFTP_DIR")
}

/// Every file under `dir`, as `/`-separated paths relative to it, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).expect("under the base");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// reqwest is built without a TLS provider of its own (the workspace's rustls with ring).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Creates an empty bucket with a name no other test uses, and returns its name.
pub async fn new_bucket(endpoint: &str, what: &str) -> String {
    let name = format!(
        "zvm-{what}-{}-{}",
        std::process::id(),
        BUCKETS.fetch_add(1, Ordering::Relaxed)
    );
    let resp = client()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .expect("create a bucket on the test server");
    assert!(
        resp.status().is_success(),
        "creating bucket {name}: {}",
        resp.status()
    );
    name
}

/// Keys in a bucket (the first 1000), read with a plain ListObjectsV2.
pub async fn keys(endpoint: &str, bucket: &str) -> Vec<String> {
    let body = client()
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .expect("list the bucket")
        .text()
        .await
        .expect("listing body");
    let mut out = Vec::new();
    let mut rest = body.as_str();
    while let Some(i) = rest.find("<Key>") {
        let after = &rest[i + 5..];
        let end = after.find("</Key>").expect("closed <Key>");
        out.push(after[..end].replace("&amp;", "&"));
        rest = &after[end..];
    }
    out.sort();
    out
}

/// A key as it goes in a plain request's path: each segment percent-encoded, the `/`
/// between them kept (the names zvm makes hold spaces and Japanese).
pub fn encoded_key(key: &str) -> String {
    key.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Bytes of an object, read with a plain GET.
pub async fn object(endpoint: &str, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let resp = client()
        .get(format!("{endpoint}/{bucket}/{key}"))
        .send()
        .await
        .expect("get an object");
    resp.status()
        .is_success()
        .then_some(resp.bytes().await.expect("object body").to_vec())
}

/// What the proxy does to the traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Passes everything on.
    Pass,
    /// Once this many bytes of uploads went through, answers every upload with 507 and
    /// MinIO's "storage full" error (what a full MinIO or a quota says).
    FullAfter(u64),
    /// Answers every n-th upload request with 503 SlowDown (a busy server).
    BusyEvery(u64),
    /// Reports a wrong ETag when an object is asked about (HEAD), as if the server had stored
    /// other bytes; uploads themselves go through untouched.
    WrongEtag,
    /// Reports a wrong Content-MD5 when an object is asked about (HEAD), as if an Azure
    /// service had stored other bytes.
    WrongContentMd5,
    /// Holds every multipart part (a PUT with `partNumber=`) unanswered until
    /// [`Proxy::release_parts`]: a service that takes parts in but never finishes one, so
    /// that what an upload holds in memory meanwhile can be seen (see [`Proxy::parts_held`]).
    HoldParts,
}

struct ProxyState {
    upstream: String,
    /// The proxy's own address: WebDAV's `Destination` header (MOVE) names it, and the
    /// server must be given its own address there instead.
    own: String,
    mode: Mutex<Mode>,
    upload_bytes: AtomicU64,
    uploads: AtomicU64,
    refused: AtomicU64,
    /// Parts held now and the most held at once (`Mode::HoldParts`).
    parts_held: AtomicU64,
    most_parts_held: AtomicU64,
    /// Set once the held parts may go on.
    parts_released: tokio::sync::watch::Sender<bool>,
    client: reqwest::Client,
}

/// A proxy in front of the test server, on its own port.
pub struct Proxy {
    pub endpoint: String,
    state: Arc<ProxyState>,
}

impl Proxy {
    pub async fn start(upstream: &str, mode: Mode) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr: SocketAddr = listener.local_addr().expect("proxy address");
        let state = Arc::new(ProxyState {
            upstream: upstream.to_string(),
            own: format!("http://{addr}"),
            mode: Mutex::new(mode),
            upload_bytes: AtomicU64::new(0),
            uploads: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            parts_held: AtomicU64::new(0),
            most_parts_held: AtomicU64::new(0),
            parts_released: tokio::sync::watch::Sender::new(false),
            client: client(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy {
            endpoint: format!("http://{addr}"),
            state,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    /// Upload requests the proxy answered with an error itself.
    pub fn refused(&self) -> u64 {
        self.state.refused.load(Ordering::Relaxed)
    }

    /// Bytes of upload request bodies seen.
    pub fn upload_bytes(&self) -> u64 {
        self.state.upload_bytes.load(Ordering::Relaxed)
    }

    /// Upload requests seen (PUT and POST).
    pub fn uploads(&self) -> u64 {
        self.state.uploads.load(Ordering::Relaxed)
    }

    /// Parts held unanswered now (`Mode::HoldParts`).
    pub fn parts_held(&self) -> u64 {
        self.state.parts_held.load(Ordering::Acquire)
    }

    /// The most parts held unanswered at once.
    pub fn most_parts_held(&self) -> u64 {
        self.state.most_parts_held.load(Ordering::Acquire)
    }

    /// Lets every held part, and every later one, through to the server.
    pub fn release_parts(&self) {
        self.state.parts_released.send_replace(true);
    }
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><Resource>/</Resource><RequestId>zvm-test</RequestId></Error>"
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    r
}

async fn forward(State(st): State<Arc<ProxyState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // A body broken off (the client died mid-upload) is refused, as S3 refuses one shorter
    // than its Content-Length (moto answers 400 and stores nothing): forwarding what arrived,
    // or nothing, would store a short or empty object the client never completed.
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "The request body ended before its Content-Length.",
        );
    };
    let is_upload = parts.method == Method::PUT || parts.method == Method::POST;
    let mode = *st.mode.lock().unwrap();
    if is_upload {
        let n = st.uploads.fetch_add(1, Ordering::Relaxed) + 1;
        let sent = st
            .upload_bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed)
            + body.len() as u64;
        match mode {
            Mode::FullAfter(limit) if sent > limit => {
                st.refused.fetch_add(1, Ordering::Relaxed);
                return error_response(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "XMinioStorageFull",
                    "Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.",
                );
            }
            Mode::BusyEvery(every) if n % every == 0 => {
                st.refused.fetch_add(1, Ordering::Relaxed);
                return error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SlowDown",
                    "Please reduce your request rate.",
                );
            }
            Mode::HoldParts
                if parts.method == Method::PUT
                    && parts.uri.query().is_some_and(|q| q.contains("partNumber=")) =>
            {
                let now = st.parts_held.fetch_add(1, Ordering::AcqRel) + 1;
                st.most_parts_held.fetch_max(now, Ordering::AcqRel);
                let mut released = st.parts_released.subscribe();
                let _ = released.wait_for(|r| *r).await;
                st.parts_held.fetch_sub(1, Ordering::AcqRel);
            }
            _ => {}
        }
    }
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut out = st
        .client
        .request(parts.method.clone(), format!("{}{path}", st.upstream));
    for (k, v) in &parts.headers {
        if k == "destination" {
            let to = v.to_str().unwrap_or("").replacen(&st.own, &st.upstream, 1);
            out = out.header(k, to);
        } else if k != "host" && k != "content-length" && k != "transfer-encoding" {
            out = out.header(k, v);
        }
    }
    if is_upload {
        // Objects readable without signing, so that tests can read the bucket back with
        // plain GETs (moto refuses unsigned reads of private objects).
        out = out.header("x-amz-acl", "public-read");
    }
    let resp = match out.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            return error_response(StatusCode::BAD_GATEWAY, "ProxyError", &e.to_string());
        }
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    for (k, v) in &headers {
        if k == "transfer-encoding" || k == "connection" {
            continue;
        }
        if k == "etag" && mode == Mode::WrongEtag && parts.method == Method::HEAD {
            r.headers_mut().insert(
                k,
                HeaderValue::from_static("\"0123456789abcdef0123456789abcdef\""),
            );
            continue;
        }
        if k == "content-md5" && mode == Mode::WrongContentMd5 && parts.method == Method::HEAD {
            continue;
        }
        r.headers_mut().insert(k, v.clone());
    }
    if mode == Mode::WrongContentMd5 && parts.method == Method::HEAD && status.is_success() {
        // The MD5 of "not these bytes", whatever the object holds.
        r.headers_mut().insert(
            "content-md5",
            HeaderValue::from_static("q2LHrUhmJAHnNcPSNaE1tg=="),
        );
    }
    r
}
