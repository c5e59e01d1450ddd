//! Integration tests of the Zoom client against a tiny in-test fake Zoom (axum, loopback).
//!
//! Everything the simulator can play is tested against `zoom-sim` in `tests/sim.rs`. This fake
//! stays only for behaviours the simulator does not play: an echoed `from` narrower than the
//! requested window (the client never asks for more than a month, so the simulator's
//! narrowing is never triggered by default), a page token that expires mid-window (400 code
//! 300), a bare 429 mixed into a 503 burst, an exact wire-path check of the double-encoded
//! uuid, a restricted summary (403 2305) and the Free plan's (400 code 200) on one client,
//! a missing-scope delete (4711), a token endpoint that answers 503 before recovering, and
//! a download answered 503 (the simulator's CDN answers 502 or 429 only).

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
            _ => StatusCode::BAD_REQUEST.into_response(),
        }
    }

    fn gate(st: &St, h: &HeaderMap) -> Option<Response> {
        let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
        s.requests += 1;
        if let Some(code) = s.fail_next.pop() {
            return Some(match code {
                // A bare 429, as Zoom often sends it: no Retry-After, no X-RateLimit-*.
                429 => (StatusCode::TOO_MANY_REQUESTS, axum::Json(serde_json::json!({"code":429,"message":"You have reached the maximum per-second rate limit"}))).into_response(),
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
            if path.contains("freeplan") {
                return err(
                    StatusCode::BAD_REQUEST,
                    200,
                    "Meeting summary is only available for paid accounts.",
                );
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

    /// A download URL on Zoom's host: the next queued failure, else three bytes of media.
    async fn download(State(st): State<St>, h: HeaderMap) -> Response {
        if let Some(r) = gate(&st, &h) {
            return r;
        }
        ([(header::CONTENT_TYPE, "video/mp4")], "abc").into_response()
    }

    pub async fn start(st: St) -> Result<String, std::io::Error> {
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/rec/{id}", get(download))
            .route("/v2/users", get(users))
            .route("/v2/users/{user}/recordings", get(recordings))
            .route(
                "/v2/meetings/{*rest}",
                get(meeting_any).delete(meeting_delete),
            )
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
    // The Free plan's answer (400 code 200): not on the plan, and never asked again.
    assert!(!c.summaries_not_on_plan());
    assert_eq!(
        c.meeting_summary("freeplan").await?,
        Err(SummaryAbsent::NotOnPlan)
    );
    assert!(c.summaries_not_on_plan());
    let asked = st.lock().map_err(|e| e.to_string())?.requests;
    assert_eq!(
        c.meeting_summary("has").await?,
        Err(SummaryAbsent::NotOnPlan)
    );
    assert_eq!(
        st.lock().map_err(|e| e.to_string())?.requests,
        asked,
        "no summary request after the plan said no"
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

/// A download is one attempt: its failure comes back at once, classified, for the caller's
/// loop (the engine's) to retry; the client retrying as well multiplied the attempts. A 429
/// or a 503 is also counted as the server saying "too many".
#[tokio::test]
async fn a_download_is_one_attempt_and_its_failure_comes_back_classified() -> TestResult {
    let (st, base, c) = setup().await?;
    let url = format!("{base}/rec/f1");
    let requests = || st.lock().map(|s| s.requests).unwrap_or(0);
    for (status, class, throttles) in [
        (502, ErrorClass::Transient, 0),
        (503, ErrorClass::Transient, 1),
        (429, ErrorClass::RateLimited(None), 2),
        (404, ErrorClass::Fatal, 2),
    ] {
        st.lock().map_err(|e| e.to_string())?.fail_next = vec![status];
        let before = requests();
        let e = c.open_download(&url, 0).await.err().ok_or("no error")?;
        assert_eq!(e.status(), Some(status), "{e}");
        assert_eq!(e.class(), class, "{status}");
        assert_eq!(requests() - before, 1, "one request for a {status}");
        assert_eq!(c.download_throttles(), throttles, "after a {status}");
    }
    let mut d = c.open_download(&url, 0).await?;
    let mut body = Vec::new();
    while let Some(chunk) = d.stream.next().await {
        body.extend_from_slice(&chunk?);
    }
    assert_eq!(body, b"abc");
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
