//! What the fakes of the cloud drives (fake_gdrive.rs, fake_onedrive.rs, fake_dropbox.rs)
//! share: a loopback HTTP server around the fake's state, the OAuth refresh-token grant
//! with the client the tests know, the faults a test sets and the way they strike, and the
//! small pieces of HTTP they all answer with. What each service's protocol says (routes,
//! ranges, offsets, checksums) stays in its own fake.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// What every secret of the fakes contains, so that a test can look for it in error texts.
pub const SECRET_MARK: &str = "Zq9s3cr3t";
pub const REFRESH_TOKEN: &str = "refresh-Zq9s3cr3t-r1";
pub const CLIENT_ID: &str = "client-1";
pub const CLIENT_SECRET: &str = "client-Zq9s3cr3t-s1";

/// A fake's state: how it answers, and what it shows its tests whatever the service.
pub trait DriveState: Send + 'static {
    /// A fresh state for the server at `base` (a fake that hands out URLs of its own needs
    /// it).
    fn new(base: String) -> Self;
    /// Answers one request: its head and whole body, the state locked for the whole
    /// request (so that a test sees each request's effect entire).
    fn handle(&mut self, parts: &Parts, body: Bytes) -> Response;
    fn faults_mut(&mut self) -> &mut Faults;
    /// Every rule of the protocol a request broke (a test asserts there are none).
    fn violations(&self) -> &[String];
    /// Access tokens issued by the token endpoint.
    fn refreshes(&self) -> usize;
    /// The bytes of the file stored at `path` (`Zoom/Rec/f.mp4`), if there is one.
    fn stored(&self, path: &str) -> Option<Vec<u8>>;
}

/// Faults the next requests meet. "Chunk requests" are counted as each fake says (the PUTs
/// with bytes, the PUTs to the upload URL, the appends and the finish), from 1.
#[derive(Default, Clone, Debug)]
pub struct Faults {
    /// The n-th chunk request answers 503 without storing.
    pub fail_chunk: Option<usize>,
    /// The n-th chunk request is stored, but its answer is lost (the connection breaks off).
    pub lose_answer_of_chunk: Option<usize>,
    /// The n-th chunk request is stored only in part (how much, and what the answer says,
    /// is the protocol's: see each fake).
    pub partial_chunk: Option<usize>,
    /// Before the n-th chunk request, every session is forgotten.
    pub expire_sessions_at_chunk: Option<usize>,
    /// Before the n-th chunk request, the access token in use stops being valid (401).
    pub revoke_token_at_chunk: Option<usize>,
    /// From the n-th chunk request on, every answer is lost (a service gone away).
    pub lose_all_answers_from: Option<usize>,
    /// The answer that completes a file reports a wrong checksum (MD5, quickXorHash,
    /// content_hash).
    pub wrong_hash: bool,
}

impl Faults {
    /// Plays what is set to happen before the `nth` chunk request is looked at: the access
    /// token revoked, every session forgotten.
    pub fn strike_before_chunk<S>(
        &self,
        nth: usize,
        valid_tokens: &mut Vec<String>,
        sessions: &mut HashMap<String, S>,
    ) {
        if self.revoke_token_at_chunk == Some(nth) {
            valid_tokens.clear();
        }
        if self.expire_sessions_at_chunk == Some(nth) {
            sessions.clear();
        }
    }
}

/// A fake service on a loopback port: its state behind a lock, and its address. The
/// server stops when this is dropped.
pub struct FakeServer<S> {
    pub state: Arc<Mutex<S>>,
    pub base: String,
    server: tokio::task::JoinHandle<()>,
}

impl<S> Drop for FakeServer<S> {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl<S: DriveState> FakeServer<S> {
    /// Starts a server on a free loopback port.
    pub async fn start() -> FakeServer<S> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let state = Arc::new(Mutex::new(S::new(base.clone())));
        let app = axum::Router::new()
            .fallback(dispatch)
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeServer {
            state,
            base,
            server,
        }
    }

    /// The state, even after a test's panic poisoned the lock.
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn dispatch<S: DriveState>(State(state): State<Arc<Mutex<S>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 1 << 30).await.unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    state.handle(&parts, body)
}

/// A JSON answer.
pub fn reply(status: u16, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("a status"))
        .header("content-type", "application/json")
        .body(body.into())
        .expect("a response")
}

/// An answer with `status` whose body breaks off: the client gets no whole answer.
pub fn lost(status: u16) -> Response {
    let stream = futures::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from_static(b"{\"partial")),
        Err(std::io::Error::other("connection lost")),
    ]);
    Response::builder()
        .status(status)
        .header("content-length", "1000")
        .body(Body::from_stream(stream))
        .expect("a response")
}

/// A header's text, or "" without it.
pub fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The access token of `Authorization: Bearer …`.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
}

/// The fields of a form body (`a=1&b=2`).
pub fn form_of(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// How a service's token endpoint words its answers.
pub struct TokenAnswers {
    /// `error_description` of a refused grant.
    pub refused: &'static str,
    pub expires_in: u64,
    pub token_type: &'static str,
}

/// The OAuth refresh-token grant: with the refresh token and client the tests know, a new
/// access token that is from then on the only valid one; anything else `invalid_grant`.
pub fn refresh_grant(
    form: &HashMap<String, String>,
    valid_tokens: &mut Vec<String>,
    refreshes: &mut usize,
    answers: &TokenAnswers,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str);
    let ok = field("grant_type") == Some("refresh_token")
        && field("refresh_token") == Some(REFRESH_TOKEN)
        && field("client_id") == Some(CLIENT_ID)
        && field("client_secret") == Some(CLIENT_SECRET);
    if !ok {
        return reply(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": answers.refused})
                .to_string(),
        );
    }
    *refreshes += 1;
    let t = format!("tok-{SECRET_MARK}-{refreshes}");
    *valid_tokens = vec![t.clone()];
    reply(
        200,
        serde_json::json!({
            "access_token": t,
            "expires_in": answers.expires_in,
            "token_type": answers.token_type,
        })
        .to_string(),
    )
}
