//! The `/v2` REST API's front door (zoom-api.md §1–6): it reads the request, parses its
//! [`Route`], checks the bearer token, its scopes, the rate limits and the injected faults
//! in Zoom's order, hands the request to the handler of its route, and counts the answer in
//! the stats. Nothing else imports this module; the handlers live in `listing`,
//! `summaries`, `meetings` and `deletion`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::Response;

use crate::access::check_scopes;
use crate::deletion::{delete, recover};
use crate::hostile::hostile;
use crate::listing::{
    get_user, list_account_recordings, list_recordings, list_users, resolve_user,
};
use crate::meetings::{meeting_recordings, meeting_summary};
use crate::oauth::{bearer, check_token};
use crate::ratelimit::rate_limit;
use crate::replies::zoom_error;
use crate::routes::{Route, percent_decode, query_param};
use crate::state::{AppState, Shared};
use crate::summaries::list_summaries;

/// Entry point for everything under `/v2`.
pub async fn api(State(st): State<AppState>, req: Request<Body>) -> Response {
    let method = req.method().clone();
    let raw_path = req.uri().path().to_string();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    // Zoom's gateway decodes the path once before routing (see `routes`).
    let decoded_path = percent_decode(&raw_path);
    let segs: Vec<&str> = decoded_path.trim_start_matches('/').split('/').collect();
    let route = Route::parse(&method, &segs);

    let in_flight = st.api_request_started();
    st.injected_latency().await;
    let mut resp = answer(&st, &method, route, &query, &headers, &body);
    drop(in_flight);
    if method == Method::GET
        && resp.status() == StatusCode::OK
        && let Some(kind) = st.faults().hostile_json
    {
        resp = hostile(resp, kind).await;
    }
    st.record(
        &format!("{} {}", method.as_str(), route.name()),
        resp.status().as_u16(),
    );
    resp
}

/// The answer to one request: the checks every route shares, then its handler.
fn answer(
    st: &Shared,
    method: &Method,
    route: Route<'_>,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if route == Route::Unknown {
        return zoom_error(StatusCode::NOT_FOUND, 404, "Not found");
    }
    // Since 2023 the API takes the token only in the Authorization header.
    if query_param(query, "access_token").is_some() {
        return zoom_error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.");
    }
    let Some(grant) = bearer(headers).and_then(|t| check_token(st, &t)) else {
        return zoom_error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.");
    };
    let me = grant.user_index;
    // The scope check is the gateway's, before the rate limits: a request the token may not
    // make never reaches the API, so it spends none of the account's quota.
    let for_self = match route {
        Route::GetUser { user } | Route::ListRecordings { user } => {
            user == "me" || resolve_user(st, me, user) == Some(me)
        }
        _ => false,
    };
    if let Some(r) = check_scopes(&route, for_self, &grant.scopes) {
        return r;
    }
    if let Some(r) = rate_limit(st, route.category()) {
        return r;
    }
    let f = st.faults();
    // A route that is down answers every request alike, so no retry gets past it.
    if route.is_down(&f.failing_routes, method) {
        return zoom_error(StatusCode::SERVICE_UNAVAILABLE, 503, "Service Unavailable");
    }
    // Injected server errors, after auth and rate limits like a real overloaded backend.
    if st.take_burst() {
        return zoom_error(StatusCode::SERVICE_UNAVAILABLE, 503, "Service Unavailable");
    }
    if st.roll(f.api_5xx_prob) {
        let codes = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        let c = codes[(st.counter.load(std::sync::atomic::Ordering::Relaxed) % 3) as usize];
        return zoom_error(c, i64::from(c.as_u16()), "Internal server error");
    }
    let action = query_param(query, "action");
    match route {
        Route::ListUsers => list_users(st, query),
        Route::GetUser { user } => get_user(st, me, user),
        Route::ListRecordings { user } => list_recordings(st, me, user, query),
        Route::ListAccountRecordings { account } => list_account_recordings(st, account, query),
        Route::ListSummaries => list_summaries(st, query),
        Route::GetMeetingRecordings { uuid } => meeting_recordings(st, uuid),
        Route::MeetingSummary { uuid } => meeting_summary(st, uuid),
        Route::DeleteMeetingRecordings { uuid } => delete(st, uuid, None, action),
        Route::DeleteRecordingFile { uuid, file_id } => {
            delete(st, uuid, Some(&percent_decode(file_id)), action)
        }
        Route::RecoverMeetingRecordings { uuid } => recover(st, uuid, None, body),
        Route::RecoverRecordingFile { uuid, file_id } => recover(st, uuid, Some(file_id), body),
        Route::Unknown => zoom_error(StatusCode::NOT_FOUND, 404, "Not found"),
    }
}
