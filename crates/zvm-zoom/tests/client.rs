//! Integration tests of the Zoom client over real HTTP on loopback.
//!
//! The project's simulator (`zoom-sim`) had not landed when these were written, so this binary
//! runs a small in-test fake Zoom (`fake` module, axum) that plays the behaviours the client
//! must survive: month narrowing with echoed `from`, pagination, 429/503 bursts, 401 code 124,
//! refresh-token rotation, PKCE, redirects to a CDN, Range, HTML pages and stalls.
//! Once `zoom-sim` is usable these should move to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use jiff::ToSpan;
use jiff::civil::Date;
use zvm_zoom::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

mod fake {
    use super::*;

    #[derive(Default)]
    pub struct S {
        pub valid_access: Vec<String>,
        pub refresh: String,
        pub counter: u64,
        pub meetings: Vec<(Date, String)>,
        pub fail_next: Vec<u16>,
        pub requests: u64,
        pub codes: HashMap<String, String>,
        pub last_path: String,
        pub expire_page_token_once: bool,
        pub token_fail_next: u32,
    }
    pub type St = Arc<Mutex<S>>;

    fn err(status: StatusCode, code: i64, msg: &str) -> Response {
        (
            status,
            axum::Json(serde_json::json!({"code": code, "message": msg})),
        )
            .into_response()
    }

    fn authed(s: &S, h: &HeaderMap) -> bool {
        h.get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| s.valid_access.iter().any(|a| a == t))
    }

    fn new_access(s: &mut S) -> String {
        s.counter += 1;
        let a = format!("AT-{}", s.counter);
        s.valid_access.push(a.clone());
        a
    }

    async fn token(
        State(st): State<St>,
        Query(_q): Query<HashMap<String, String>>,
        body: String,
    ) -> Response {
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
        if s.token_fail_next > 0 {
            s.token_fail_next -= 1;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        match form.get("grant_type").map(String::as_str) {
            Some("account_credentials") => {
                let a = new_access(&mut s);
                axum::Json(serde_json::json!({"access_token": a, "token_type": "bearer", "expires_in": 3599, "scope": "x"})).into_response()
            }
            Some("refresh_token") => {
                if form.get("refresh_token") != Some(&s.refresh) {
                    return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"reason": "Invalid Token!", "error": "invalid_grant"}))).into_response();
                }
                s.counter += 1;
                s.refresh = format!("RT-{}", s.counter);
                let a = new_access(&mut s);
                axum::Json(serde_json::json!({"access_token": a, "refresh_token": s.refresh, "expires_in": 3599, "scope": "a b"})).into_response()
            }
            Some("authorization_code") => {
                let code = form.get("code").cloned().unwrap_or_default();
                let Some(challenge) = s.codes.remove(&code) else {
                    return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"reason": "Invalid authorization code", "error": "invalid_grant"}))).into_response();
                };
                let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                if zvm_zoom::auth::pkce_challenge(&verifier) != challenge
                    || !form.contains_key("client_id")
                {
                    return (
                        StatusCode::BAD_REQUEST,
                        axum::Json(
                            serde_json::json!({"reason": "bad verifier", "error": "invalid_grant"}),
                        ),
                    )
                        .into_response();
                }
                s.refresh = "RT-login".into();
                let a = new_access(&mut s);
                axum::Json(serde_json::json!({"access_token": a, "refresh_token": "RT-login", "expires_in": 3599, "scope": "a b"})).into_response()
            }
            _ => StatusCode::BAD_REQUEST.into_response(),
        }
    }

    async fn authorize(State(st): State<St>, Query(q): Query<HashMap<String, String>>) -> Response {
        let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
        let code = format!("CODE-{}", s.codes.len());
        s.codes.insert(
            code.clone(),
            q.get("code_challenge").cloned().unwrap_or_default(),
        );
        let loc = format!(
            "{}?code={code}&state={}",
            q.get("redirect_uri").cloned().unwrap_or_default(),
            q.get("state").cloned().unwrap_or_default()
        );
        (StatusCode::FOUND, [(header::LOCATION, loc)]).into_response()
    }

    fn gate(st: &St, h: &HeaderMap) -> Option<Response> {
        let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
        s.requests += 1;
        if let Some(code) = s.fail_next.pop() {
            return Some(match code {
                429 => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], axum::Json(serde_json::json!({"code":429,"message":"You have reached the maximum per-second rate limit"}))).into_response(),
                c => StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR).into_response(),
            });
        }
        if !authed(&s, h) {
            return Some(err(StatusCode::UNAUTHORIZED, 124, "Invalid access token."));
        }
        None
    }

    async fn users(
        State(st): State<St>,
        h: HeaderMap,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        if let Some(r) = gate(&st, &h) {
            return r;
        }
        let users = if q.get("status").map(String::as_str) == Some("inactive") {
            serde_json::json!([{"id":"u2","email":"old@x","status":"inactive","type":1}])
        } else {
            serde_json::json!([{"id":"u1","email":"a@x","status":"active","type":"2"},{"email":"pending@x","status":"pending"}])
        };
        axum::Json(serde_json::json!({"users": users, "next_page_token": ""})).into_response()
    }

    async fn recordings(
        State(st): State<St>,
        h: HeaderMap,
        Path(_user): Path<String>,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        if let Some(r) = gate(&st, &h) {
            return r;
        }
        let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
        if s.expire_page_token_once && q.contains_key("next_page_token") {
            s.expire_page_token_once = false;
            return err(
                StatusCode::BAD_REQUEST,
                300,
                "The next page token is invalid or expired.",
            );
        }
        let parse = |k: &str| q.get(k).and_then(|v| v.parse::<Date>().ok());
        let (Some(mut from), Some(to)) = (parse("from"), parse("to")) else {
            return err(StatusCode::BAD_REQUEST, 300, "bad date");
        };
        // Zoom silently narrows spans longer than a month to the month ending at `to`,
        // here more aggressively (15 days) to exercise the client's split.
        if let Ok(min) = to.checked_sub(15.days())
            && from < min
        {
            from = min;
        }
        let mut ms: Vec<&(Date, String)> = s
            .meetings
            .iter()
            .filter(|(d, _)| *d >= from && *d <= to)
            .collect();
        ms.sort_by_key(|m| std::cmp::Reverse(m.0));
        let page_size = 2usize;
        let start: usize = q
            .get("next_page_token")
            .and_then(|t| t.strip_prefix("p"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let page: Vec<_> = ms.iter().skip(start).take(page_size).map(|(d, u)| serde_json::json!({
            "uuid": u, "id": 1, "topic": "t", "type": 8, "start_time": format!("{d}T10:00:00Z"),
            "recording_files": [{"id":"f1","file_type":"MP4","file_size":3,"status":"completed","recording_type":"active_speaker"}]
        })).collect();
        let next = if start + page_size < ms.len() {
            format!("p{}", start + page_size)
        } else {
            String::new()
        };
        axum::Json(serde_json::json!({"from": from.to_string(), "to": to.to_string(), "total_records": ms.len(), "next_page_token": next, "meetings": page})).into_response()
    }

    async fn meeting_any(
        State(st): State<St>,
        h: HeaderMap,
        axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    ) -> Response {
        if let Some(r) = gate(&st, &h) {
            return r;
        }
        let path = uri.path().to_owned();
        st.lock().unwrap_or_else(|e| e.into_inner()).last_path = path.clone();
        if path.ends_with("/meeting_summary") {
            if path.contains("nosummary") {
                return err(StatusCode::NOT_FOUND, 3001, "Meeting summary not found");
            }
            if path.contains("restricted") {
                return err(StatusCode::FORBIDDEN, 2305, "restricted");
            }
            return axum::Json(serde_json::json!({"meeting_uuid":"x","summary_title":"T","summary_content":"# hi"})).into_response();
        }
        axum::Json(serde_json::json!({"uuid":"x","recording_files":[],"participant_audio_files":[{"id":"p1","file_size":5}]})).into_response()
    }

    async fn meeting_delete(
        State(st): State<St>,
        h: HeaderMap,
        axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    ) -> Response {
        if let Some(r) = gate(&st, &h) {
            return r;
        }
        let p = uri.path();
        if p.contains("gone") {
            return err(StatusCode::NOT_FOUND, 3301, "no recording");
        }
        if p.contains("live") {
            return err(StatusCode::BAD_REQUEST, 3303, "in progress");
        }
        if p.contains("scope") {
            return err(
                StatusCode::FORBIDDEN,
                4711,
                "Invalid access token, does not contain scopes",
            );
        }
        StatusCode::NO_CONTENT.into_response()
    }

    pub const BODY: &[u8] = b"0123456789abcdefghij";

    async fn web_download(
        State(st): State<St>,
        h: HeaderMap,
        Path(kind): Path<String>,
    ) -> Response {
        let s = st.lock().unwrap_or_else(|e| e.into_inner());
        if !authed(&s, &h) || kind == "html" {
            return (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<html>Only the host can download</html>",
            )
                .into_response();
        }
        // The CDN is another host name (as in Zoom), so the client must drop Authorization.
        let port = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(':').next())
            .unwrap_or("0")
            .to_owned();
        (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("http://localhost:{port}/cdn/{kind}?Signature=SIG"),
            )],
        )
            .into_response()
    }

    async fn cdn(h: HeaderMap, Path(kind): Path<String>) -> Response {
        if h.contains_key(header::AUTHORIZATION) && kind != "any" {
            return StatusCode::FORBIDDEN.into_response();
        }
        if kind == "stall" {
            let s = futures::stream::once(async {
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"01"))
            })
            .chain(futures::stream::pending());
            return (
                [(header::CONTENT_TYPE, "video/mp4")],
                axum::body::Body::from_stream(s),
            )
                .into_response();
        }
        let range = h
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes="))
            .and_then(|v| v.trim_end_matches('-').parse::<usize>().ok());
        match range {
            Some(start) if kind != "norange" => {
                if start >= BODY.len() {
                    return StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                }
                (
                    StatusCode::PARTIAL_CONTENT,
                    [
                        (header::CONTENT_TYPE, "video/mp4".to_owned()),
                        (
                            header::CONTENT_RANGE,
                            format!("bytes {start}-{}/{}", BODY.len() - 1, BODY.len()),
                        ),
                    ],
                    &BODY[start..],
                )
                    .into_response()
            }
            _ => ([(header::CONTENT_TYPE, "video/mp4")], BODY).into_response(),
        }
    }

    pub async fn start(st: St) -> Result<String, std::io::Error> {
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/oauth/authorize", get(authorize))
            .route("/v2/users", get(users))
            .route("/v2/users/{user}/recordings", get(recordings))
            .route(
                "/v2/meetings/{*rest}",
                get(meeting_any).delete(meeting_delete),
            )
            .route("/rec/download/{kind}", get(web_download))
            .route("/cdn/{kind}", get(cdn))
            .with_state(st);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        Ok(format!("http://{addr}"))
    }
}

fn cfg(base: &str) -> ClientConfig {
    ClientConfig {
        api_base: format!("{base}/v2"),
        oauth_base: base.to_owned(),
        plan: Plan::Unlimited,
        retry: RetryPolicy::fast(),
        stall_timeout: Duration::from_millis(300),
        ..ClientConfig::default()
    }
}

fn s2s() -> Credentials {
    Credentials::ServerToServer {
        account_id: "acc".into(),
        client_id: "cid".into(),
        client_secret: Secret::new("csecret"),
    }
}

async fn setup() -> Result<(fake::St, String, ZoomClient), Box<dyn std::error::Error>> {
    let st: fake::St = Arc::default();
    let base = fake::start(st.clone()).await?;
    let c = ZoomClient::new(cfg(&base), s2s())?;
    Ok((st, base, c))
}

#[tokio::test]
async fn listing_three_years_windows_pages_retries() -> TestResult {
    let (st, _base, c) = setup().await?;
    let start: Date = "2023-01-01".parse()?;
    let mut expect = Vec::new();
    {
        let mut s = st.lock().map_err(|e| e.to_string())?;
        let mut d = start;
        let mut i = 0;
        while d < "2026-01-01".parse()? {
            let u = format!("/uu{i}+x==");
            s.meetings.push((d, u.clone()));
            expect.push(u);
            d = d.checked_add(4.days())?;
            i += 1;
        }
        // A 503 burst and a bare 429, then the 401 code 124 of a revoked token.
        s.fail_next = vec![429, 503, 503];
        // And one page token that expires mid-window: the window restarts.
        s.expire_page_token_once = true;
    }
    let mut got: Vec<String> = c
        .list_meetings("a@x", start, "2025-12-31".parse()?)
        .map(|m| m.map(|m| m.uuid))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    assert_eq!(got.len(), expect.len(), "no meeting lost or duplicated");
    got.sort();
    expect.sort();
    assert_eq!(got, expect);

    // Token revoked mid-run: one transparent refresh.
    st.lock().map_err(|e| e.to_string())?.valid_access.clear();
    let users = c.list_users(UserStatusFilter::Active).await?;
    assert_eq!(users.len(), 1, "pending user without id skipped");
    let inactive = c.list_users(UserStatusFilter::Inactive).await?;
    assert_eq!(inactive[0].id, "u2");
    Ok(())
}

#[tokio::test]
async fn hostile_uuid_double_encoded_summary_and_delete() -> TestResult {
    let (st, _base, c) = setup().await?;
    let m = c.get_meeting_recordings("/ab//c+d==").await?;
    assert_eq!(m.participant_audio_files.len(), 1);
    let path = st.lock().map_err(|e| e.to_string())?.last_path.clone();
    assert_eq!(
        path,
        "/v2/meetings/%252Fab%252F%252Fc%252Bd%253D%253D/recordings"
    );
    assert!(c.meeting_summary("has").await?.is_ok());
    assert_eq!(
        c.meeting_summary("nosummary").await?,
        Err(SummaryAbsent::NotFound)
    );
    assert_eq!(
        c.meeting_summary("restricted").await?,
        Err(SummaryAbsent::Restricted)
    );
    assert_eq!(
        c.delete_meeting_recordings("ok", DeleteAction::Trash)
            .await?,
        DeleteOutcome::Deleted
    );
    assert_eq!(
        c.delete_meeting_recordings("gone", DeleteAction::Trash)
            .await?,
        DeleteOutcome::AlreadyGone
    );
    assert_eq!(
        c.delete_recording_file("live", "f", DeleteAction::Delete)
            .await?,
        DeleteOutcome::InProgress
    );
    let e = c
        .delete_meeting_recordings("scope", DeleteAction::Trash)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("4711") && e.contains("cloud_recording:delete"),
        "{e}"
    );
    Ok(())
}

#[tokio::test]
async fn retries_are_bounded() -> TestResult {
    let (st, _base, c) = setup().await?;
    st.lock().map_err(|e| e.to_string())?.fail_next = vec![500; 10];
    let e = c.list_users(UserStatusFilter::Active).await.err();
    assert_eq!(e.and_then(|e| e.status()), Some(500));
    assert_eq!(
        st.lock().map_err(|e| e.to_string())?.requests,
        6,
        "max_attempts respected"
    );
    Ok(())
}

#[tokio::test]
async fn downloads() -> TestResult {
    let (_st, base, c) = setup().await?;
    let collect = |d: Download| async move {
        let v: Vec<_> = d.stream.collect().await;
        v.into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(|c| c.concat())
    };
    let d = c
        .open_download(&format!("{base}/rec/download/f"), 0)
        .await?;
    assert_eq!(d.status, DownloadStatus::Full);
    assert_eq!(collect(d).await?, fake::BODY);
    let d = c
        .open_download(&format!("{base}/rec/download/f"), 5)
        .await?;
    assert_eq!(d.status, DownloadStatus::Partial { start: 5 });
    assert_eq!(collect(d).await?, &fake::BODY[5..]);
    let d = c
        .open_download(&format!("{base}/rec/download/norange"), 5)
        .await?;
    assert_eq!(d.status, DownloadStatus::Full, "ignored Range detected");
    let e = c
        .open_download(&format!("{base}/rec/download/f"), 99)
        .await
        .err();
    assert!(matches!(
        e,
        Some(ZoomError::RangeNotSatisfiable { offset: 99 })
    ));
    let e = c
        .open_download(&format!("{base}/rec/download/html?access_token=SECRET"), 0)
        .await
        .err();
    assert!(matches!(e, Some(ZoomError::HtmlInsteadOfMedia)));
    let d = c
        .open_download(&format!("{base}/rec/download/stall"), 0)
        .await?;
    let items: Vec<_> = d.stream.collect().await;
    assert!(
        matches!(items.last(), Some(Err(ZoomError::Stalled(_)))),
        "stall timeout fires"
    );
    Ok(())
}

#[tokio::test]
async fn user_refresh_rotation_persists_newest() -> TestResult {
    let st: fake::St = Arc::default();
    let base = fake::start(st.clone()).await?;
    st.lock().map_err(|e| e.to_string())?.refresh = "RT-0".into();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(FileTokenStore::new(dir.path()));
    store.save(&StoredToken {
        access_token: Secret::new("stale"),
        refresh_token: Some(Secret::new("RT-0")),
        expires_at: 0,
        issued_at: 0,
        scope: String::new(),
        client_id: "cid".into(),
    })?;
    let creds = Credentials::User {
        client_id: "cid".into(),
        client_secret: Some(Secret::new("cs")),
        store: store.clone(),
    };
    let c = ZoomClient::new(cfg(&base), creds)?;
    // Many workers at once: exactly one refresh (a second would present a dead token).
    let jobs: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.list_users(UserStatusFilter::Active).await })
        })
        .collect();
    for j in jobs {
        j.await??;
    }
    let saved = store.load()?.ok_or("no token saved")?;
    let rt = saved.refresh_token.clone().ok_or("no refresh token")?;
    assert_eq!(rt.expose(), st.lock().map_err(|e| e.to_string())?.refresh);
    assert_ne!(rt.expose(), "RT-0");
    // Revoked access mid-run: refresh again, rotation again, persisted again.
    st.lock().map_err(|e| e.to_string())?.valid_access.clear();
    c.list_users(UserStatusFilter::Active).await?;
    let rt2 = store.load()?.and_then(|t| t.refresh_token).ok_or("none")?;
    assert_ne!(rt2, rt);
    let status = c.tokens().status().await?;
    assert!(status.logged_in && status.has_refresh_token);
    assert!(!format!("{status:?}{saved:?}").contains("RT-"));
    Ok(())
}

#[tokio::test]
async fn pkce_login_over_loopback() -> TestResult {
    let st: fake::St = Arc::default();
    let base = fake::start(st.clone()).await?;
    let dir = tempfile::tempdir()?;
    let store = FileTokenStore::new(dir.path());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cfg = LoginConfig::new(base.clone(), "cid");
    let browser = http.clone();
    let tok = login_pkce(&http, &cfg, &store, move |url| {
        let url = url.to_owned();
        // Play the browser: follow the authorize redirect to our loopback listener.
        tokio::spawn(async move {
            let r = browser.get(&url).send().await.ok()?;
            let loc = r.headers().get("location")?.to_str().ok()?.to_owned();
            assert!(loc.starts_with("http://127.0.0.1:"));
            browser.get(&loc).send().await.ok()
        });
    })
    .await?;
    assert_eq!(
        tok.refresh_token.as_ref().map(|s| s.expose().to_owned()),
        Some("RT-login".into())
    );
    assert!(store.load()?.is_some());

    // A redirect with a forged state is refused.
    let cfg = LoginConfig {
        timeout: Duration::from_secs(20),
        ..LoginConfig::new(base.clone(), "cid")
    };
    let browser = http.clone();
    let r = login_pkce(&http, &cfg, &store, move |url| {
        let url = url::Url::parse(url).ok();
        tokio::spawn(async move {
            let url = url?;
            let redirect = url
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")?
                .1
                .into_owned();
            browser
                .get(format!("{redirect}?code=CODE-9&state=forged"))
                .send()
                .await
                .ok()
        });
    })
    .await;
    assert!(matches!(r, Err(ZoomError::StateMismatch)));
    Ok(())
}

#[tokio::test]
async fn plain_http_remote_refused_and_errors_redacted() -> TestResult {
    let mut c = cfg("http://127.0.0.1:1");
    c.api_base = "http://api.example.com/v2".into();
    let e = ZoomClient::new(c, s2s())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("plain http"), "{e}");
    // Connection refused on a URL carrying a token: the error must not show it.
    let mut c2 = cfg("http://127.0.0.1:1");
    c2.retry.max_attempts = 2;
    let client = ZoomClient::new(c2, s2s())?;
    let e = client
        .open_download("http://127.0.0.1:1/rec?access_token=TOPSECRET", 0)
        .await
        .err()
        .ok_or("no error")?;
    assert!(!format!("{e} {e:?}").contains("TOPSECRET"));
    assert!(!format!("{client:?}").contains("csecret"));
    Ok(())
}

#[tokio::test]
async fn token_endpoint_outage_is_retried_but_bad_credentials_are_not() -> TestResult {
    let (st, base, c) = setup().await?;
    st.lock().map_err(|e| e.to_string())?.token_fail_next = 2;
    assert_eq!(c.list_users(UserStatusFilter::Active).await?.len(), 1);
    // A user client whose refresh token is dead: an auth error saying what to do, no loop.
    let dir = tempfile::tempdir()?;
    let store = Arc::new(FileTokenStore::new(dir.path()));
    store.save(&StoredToken {
        access_token: Secret::new("stale"),
        refresh_token: Some(Secret::new("RT-dead")),
        expires_at: 0,
        issued_at: 0,
        scope: String::new(),
        client_id: "cid".into(),
    })?;
    let creds = Credentials::User {
        client_id: "cid".into(),
        client_secret: None,
        store,
    };
    let u = ZoomClient::new(cfg(&base), creds)?;
    let before = st.lock().map_err(|e| e.to_string())?.requests;
    let e = u
        .list_users(UserStatusFilter::Active)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("zvm auth login") && !e.contains("RT-dead"),
        "{e}"
    );
    assert_eq!(
        st.lock().map_err(|e| e.to_string())?.requests,
        before,
        "no API call without a token"
    );
    Ok(())
}
