//! The `/v2` REST API, answering as Zoom does (zoom-api.md §2, §4–6).
//!
//! The API is routed by hand from the raw request path so that uuid encoding behaves like
//! Zoom's: a uuid containing `/` must arrive double-encoded; a single-encoded one is split
//! by the router and is not found.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use jiff::ToSpan;
use serde_json::{Value, json};

use crate::account::{CloudState, SimFile, SimMeeting};
use crate::config::{Category, HostileJson};
use crate::oauth::{bearer, check_token};
use crate::replies::{json_response, no_recording, zoom_error};
use crate::state::{AppState, DeletionRecord, PageToken, Shared};

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Decodes a uuid path segment (already decoded once with the whole path): a double-encoded
/// uuid still holds `%2F`/`%2B`/`%3D` here.
fn decode_uuid_segment(seg: &str) -> String {
    if seg.contains('%') {
        percent_decode(seg)
    } else {
        seg.to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Rate limits

fn category(method: &Method, route: &str) -> Category {
    match (method.as_str(), route) {
        ("GET", "/v2/users") | ("GET", "/v2/users/{id}/recordings") => Category::Medium,
        _ => Category::Light,
    }
}

fn rate_limit(st: &Shared, cat: Category) -> Option<Response> {
    let rl = &st.cfg.rate_limits;
    if !rl.enabled {
        return None;
    }
    let now = st.now();
    let sec = now.as_second();
    let day = sec.div_euclid(86_400);
    let mut r = st.rate.lock().ok()?;
    if let Some(limit) = rl.daily_limit {
        let e = r.daily.entry(cat).or_insert((day, 0));
        if e.0 != day {
            *e = (day, 0);
        }
        if e.1 >= limit {
            let reset = (day + 1) * 86_400;
            let ts = jiff::Timestamp::from_second(reset).unwrap_or(now);
            let mut resp = zoom_error(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.",
            );
            let h = resp.headers_mut();
            if rl.send_headers {
                insert(h, "X-RateLimit-Category", cat.name());
                insert(h, "X-RateLimit-Type", "Daily-limit");
                insert(h, "X-RateLimit-Limit", &limit.to_string());
                insert(h, "X-RateLimit-Remaining", "0");
            }
            insert(
                h,
                "Retry-After",
                &ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            );
            return Some(resp);
        }
        e.1 += 1;
    }
    let limit = rl.per_sec(st.cfg.plan, cat);
    let e = r.second.entry(cat).or_insert((sec, 0));
    if e.0 != sec {
        *e = (sec, 0);
    }
    if e.1 >= limit {
        let mut resp = zoom_error(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            "You have reached the maximum per-second rate limit for this API. Try again later.",
        );
        if rl.send_headers {
            let h = resp.headers_mut();
            insert(h, "X-RateLimit-Category", cat.name());
            insert(h, "X-RateLimit-Type", "QPS");
            insert(h, "X-RateLimit-Limit", &limit.to_string());
            insert(h, "X-RateLimit-Remaining", "0");
            insert(h, "X-RateLimit-Reset", &(sec + 1).to_string());
        }
        return Some(resp);
    }
    e.1 += 1;
    None
}

fn insert(h: &mut HeaderMap, k: &'static str, v: &str) {
    if let Ok(v) = header::HeaderValue::from_str(v) {
        h.insert(k, v);
    }
}

// ---------------------------------------------------------------------------------------
// The /v2 API

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
    // Zoom's gateway decodes the path once before routing: a single-encoded `/` inside a
    // uuid splits the path (and the meeting is not found); a double-encoded one survives
    // as `%2F` and is decoded again as the uuid.
    let decoded_path = percent_decode(&raw_path);
    let segs: Vec<&str> = decoded_path.trim_start_matches('/').split('/').collect();
    let (route, params) = route_of(&method, &segs);

    let in_flight = st.api_request_started();
    st.injected_latency().await;
    let mut resp = api_inner(&st, &method, route, &params, &query, &headers, &body);
    drop(in_flight);
    if method == Method::GET
        && resp.status() == StatusCode::OK
        && let Some(kind) = st.faults().hostile_json
    {
        resp = hostile(resp, kind).await;
    }
    st.record(
        &format!("{} {route}", method.as_str()),
        resp.status().as_u16(),
    );
    resp
}

/// Replaces a good answer by hostile JSON derived from it (see [`HostileJson`]).
async fn hostile(resp: Response, kind: HostileJson) -> Response {
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let real: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let body: Vec<u8> = match kind {
        HostileJson::WrongTypes => transform(real, &|v| match v {
            Value::String(s) => json!(s.len()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            other => other,
        })
        .to_string()
        .into_bytes(),
        HostileJson::HugeNumbers => {
            // serde_json cannot build such a Number, so substitute a marker textually.
            const MARKER: &str = "__sim_huge_number__";
            let v = transform(real, &|v| match v {
                Value::Number(_) => Value::String(MARKER.into()),
                other => other,
            });
            v.to_string()
                .replace(&format!("\"{MARKER}\""), "184467440737095516160000e999")
                .into_bytes()
        }
        HostileJson::GiganticStrings => {
            // One 8 MiB topic per answer (a whole page of them would be an oversized answer).
            let big = Value::String("\u{30bc}".repeat((8 << 20) / 3));
            let mut v = real;
            if let Some(t) = v.pointer_mut("/meetings/0/topic") {
                *t = big;
            } else if let Some(t) = v.pointer_mut("/topic") {
                *t = big;
            } else if let Some(t) = v.pointer_mut("/users/0/email") {
                *t = big;
            }
            v.to_string().into_bytes()
        }
        HostileJson::DeepNesting => {
            // 100,000 nested arrays where the answer's lists belong.
            let depth = 100_000;
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            format!(
                r#"{{"users":{deep},"meetings":{deep},"recording_files":{deep},"page_size":30}}"#
            )
            .into_bytes()
        }
        HostileJson::Truncated => {
            let mut b = bytes.to_vec();
            b.truncate(b.len() / 2);
            b
        }
        HostileJson::Oversized => {
            let mut b = Vec::with_capacity(48 << 20);
            b.push(b'{');
            b.resize(48 << 20, b' ');
            b.extend_from_slice(b"}");
            b
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Applies `f` to every value of a JSON tree, leaves first.
fn transform(v: Value, f: &dyn Fn(Value) -> Value) -> Value {
    let v = match v {
        Value::Array(a) => Value::Array(a.into_iter().map(|x| transform(x, f)).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, x)| (k, transform(x, f))).collect())
        }
        other => other,
    };
    f(v)
}

/// Maps a raw path to a route name and its raw parameters.
fn route_of<'a>(method: &Method, segs: &[&'a str]) -> (&'static str, Vec<&'a str>) {
    let m = method.as_str();
    match segs {
        ["v2", "users"] if m == "GET" => ("/v2/users", vec![]),
        ["v2", "users", u] if m == "GET" => ("/v2/users/{id}", vec![u]),
        ["v2", "users", u, "recordings"] if m == "GET" => ("/v2/users/{id}/recordings", vec![u]),
        ["v2", "meetings", u, "recordings"] if m == "GET" => {
            ("/v2/meetings/{uuid}/recordings", vec![u])
        }
        ["v2", "meetings", u, "recordings"] if m == "DELETE" => {
            ("/v2/meetings/{uuid}/recordings", vec![u])
        }
        ["v2", "meetings", u, "recordings", "status"] if m == "PUT" => {
            ("/v2/meetings/{uuid}/recordings/status", vec![u])
        }
        ["v2", "meetings", u, "recordings", f] if m == "DELETE" => {
            ("/v2/meetings/{uuid}/recordings/{file_id}", vec![u, f])
        }
        ["v2", "meetings", u, "recordings", f, "status"] if m == "PUT" => (
            "/v2/meetings/{uuid}/recordings/{file_id}/status",
            vec![u, f],
        ),
        ["v2", "meetings", u, "meeting_summary"] if m == "GET" => {
            ("/v2/meetings/{uuid}/meeting_summary", vec![u])
        }
        _ => ("unknown", vec![]),
    }
}

/// Whether a request matches one of `failing_routes` (see [`crate::FaultConfig`]): an entry
/// names the route, or the route with its parameters filled in, optionally after a method.
fn route_is_down(entries: &[String], method: &Method, route: &str, params: &[&str]) -> bool {
    if entries.is_empty() {
        return false;
    }
    // The route with each `{...}` segment replaced by its parameter, decoded as a uuid is.
    let mut params = params.iter();
    let filled: Vec<String> = route
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                params
                    .next()
                    .map(|p| decode_uuid_segment(p))
                    .unwrap_or_default()
            } else {
                seg.to_string()
            }
        })
        .collect();
    let filled = filled.join("/");
    entries.iter().any(|e| {
        let path = match e.split_once(' ') {
            Some((m, path)) if m == method.as_str() => path,
            Some(_) => return false, // another method's route
            None => e.as_str(),
        };
        path == route || path == filled
    })
}

fn q<'a>(query: &'a [(String, String)], k: &str) -> Option<&'a str> {
    query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[allow(clippy::too_many_arguments)]
fn api_inner(
    st: &Shared,
    method: &Method,
    route: &'static str,
    params: &[&str],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if route == "unknown" {
        return zoom_error(StatusCode::NOT_FOUND, 404, "Not found");
    }
    // Since 2023 the API takes the token only in the Authorization header.
    if q(query, "access_token").is_some() {
        return zoom_error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.");
    }
    let Some(me) = bearer(headers).and_then(|t| check_token(st, &t)) else {
        return zoom_error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.");
    };
    if let Some(r) = rate_limit(st, category(method, route)) {
        return r;
    }
    let f = st.faults();
    // A route that is down answers every request alike, so no retry gets past it.
    if route_is_down(&f.failing_routes, method, route, params) {
        return zoom_error(StatusCode::SERVICE_UNAVAILABLE, 503, "Service Unavailable");
    }
    // Injected server errors, after auth and rate limits like a real overloaded backend.
    if st
        .burst_left
        .fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |n| n.checked_sub(1),
        )
        .is_ok()
    {
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
    match route {
        "/v2/users" => list_users(st, query),
        "/v2/users/{id}" => get_user(st, me, params[0]),
        "/v2/users/{id}/recordings" => list_recordings(st, me, params[0], query),
        "/v2/meetings/{uuid}/recordings" if method == Method::GET => {
            with_meeting(st, params[0], |st, m| {
                json_response(StatusCode::OK, &meeting_json(st, m, true))
            })
        }
        "/v2/meetings/{uuid}/meeting_summary" => with_meeting(st, params[0], |st, m| {
            if !st.cfg.summaries_available() {
                // What Zoom answers an account whose plan has no AI Companion.
                zoom_error(
                    StatusCode::BAD_REQUEST,
                    200,
                    "Meeting summary is only available for paid accounts.",
                )
            } else if m.has_summary {
                json_response(StatusCode::OK, &summary_json(m))
            } else {
                zoom_error(
                    StatusCode::NOT_FOUND,
                    3001,
                    "Meeting summary does not exist.",
                )
            }
        }),
        "/v2/meetings/{uuid}/recordings" => delete(st, params[0], None, q(query, "action")),
        "/v2/meetings/{uuid}/recordings/{file_id}" => delete(
            st,
            params[0],
            Some(&percent_decode(params[1])),
            q(query, "action"),
        ),
        "/v2/meetings/{uuid}/recordings/status" => recover(st, params[0], None, body),
        "/v2/meetings/{uuid}/recordings/{file_id}/status" => {
            recover(st, params[0], Some(params[1]), body)
        }
        _ => zoom_error(StatusCode::NOT_FOUND, 404, "Not found"),
    }
}

fn user_json(u: &crate::account::SimUser) -> Value {
    let mut v = json!({
        "email": u.email, "first_name": u.first_name, "last_name": u.last_name,
        "type": 2, "status": u.status, "timezone": u.timezone,
    });
    if let Some(id) = &u.id {
        v["id"] = Value::String(id.clone());
    }
    v
}

#[allow(clippy::result_large_err)]
fn page_size(query: &[(String, String)]) -> Result<usize, Response> {
    match q(query, "page_size") {
        None => Ok(30),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(300)),
            _ => Err(zoom_error(
                StatusCode::BAD_REQUEST,
                300,
                "Invalid field: page_size",
            )),
        },
    }
}

/// Pagination shared by users and recordings: the token remembers the query and offset and
/// expires after 15 minutes.
#[allow(clippy::result_large_err)]
fn paginate(
    st: &Shared,
    key: &str,
    query: &[(String, String)],
    total: usize,
    size: usize,
) -> Result<(usize, String), Response> {
    let offset = match q(query, "next_page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => {
            let pt = st.page_tokens.lock().ok().and_then(|p| p.get(t).cloned());
            match pt {
                Some(p) if p.query == key && st.now_secs() - p.created_at <= 15 * 60 => p.offset,
                _ => {
                    return Err(zoom_error(
                        StatusCode::BAD_REQUEST,
                        300,
                        "The next page token is invalid or expired.",
                    ));
                }
            }
        }
    };
    let next = offset + size;
    let token = if next < total {
        let t = st.fresh_token("pt");
        if let Ok(mut p) = st.page_tokens.lock() {
            p.insert(
                t.clone(),
                PageToken {
                    query: key.to_string(),
                    offset: next,
                    created_at: st.now_secs(),
                },
            );
        }
        t
    } else {
        String::new()
    };
    Ok((offset, token))
}

fn list_users(st: &Shared, query: &[(String, String)]) -> Response {
    let status = q(query, "status").unwrap_or("active");
    if !matches!(status, "active" | "inactive" | "pending") {
        return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: status");
    }
    let size = match page_size(query) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(acct) = st.account.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let users: Vec<Value> = acct
        .users
        .iter()
        .filter(|u| u.status == status)
        .map(user_json)
        .collect();
    let (offset, token) = match paginate(
        st,
        &format!("users:{status}:{size}"),
        query,
        users.len(),
        size,
    ) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page: Vec<Value> = users.iter().skip(offset).take(size).cloned().collect();
    json_response(
        StatusCode::OK,
        &json!({
            "page_count": users.len().div_ceil(size),
            "page_number": offset / size + 1,
            "page_size": size,
            "total_records": users.len(),
            "next_page_token": token,
            "users": page,
        }),
    )
}

fn resolve_user(st: &Shared, me: usize, who: &str) -> Option<usize> {
    let acct = st.account.read().ok()?;
    if who == "me" {
        return Some(me);
    }
    acct.users
        .iter()
        .position(|u| u.id.as_deref() == Some(who) || u.email.eq_ignore_ascii_case(who))
        .filter(|i| acct.users[*i].id.is_some())
}

fn get_user(st: &Shared, me: usize, who: &str) -> Response {
    match resolve_user(st, me, who) {
        Some(i) => {
            let acct = match st.account.read() {
                Ok(a) => a,
                Err(_) => return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state"),
            };
            json_response(StatusCode::OK, &user_json(&acct.users[i]))
        }
        None => zoom_error(StatusCode::NOT_FOUND, 1001, "User does not exist."),
    }
}

fn parse_day(s: &str) -> Option<jiff::civil::Date> {
    s.parse::<jiff::civil::Date>().ok()
}

fn list_recordings(st: &Shared, me: usize, who: &str, query: &[(String, String)]) -> Response {
    let Some(user) = resolve_user(st, me, who) else {
        return zoom_error(StatusCode::NOT_FOUND, 1001, "User does not exist.");
    };
    let today = st.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let to = match q(query, "to") {
        None => today.tomorrow().unwrap_or(today),
        Some(s) => match parse_day(s) {
            Some(d) => d,
            None => return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: to"),
        },
    };
    let mut from = match q(query, "from") {
        None => today,
        Some(s) => match parse_day(s) {
            Some(d) => d,
            None => return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: from"),
        },
    };
    if from > to {
        return zoom_error(
            StatusCode::BAD_REQUEST,
            300,
            "The from date must be before the to date.",
        );
    }
    // Zoom's silent narrowing: a span longer than a month becomes the month ending at `to`
    // (or the configured number of days, to make it fire on a client's one-month windows).
    let floor = match st.cfg.narrowing_days {
        None => to.checked_sub(1.month()),
        Some(days) => to.checked_sub(i64::from(days).days()),
    }
    .unwrap_or(to);
    if from < floor {
        from = floor;
    }
    let trash = q(query, "trash") == Some("true");
    let size = match page_size(query) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(acct) = st.account.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    // Meetings are sorted newest first: binary-search the days [from, to] (UTC) instead of
    // converting every meeting's start to a date (with 100,000 meetings, a request for a
    // one-day window took about 3 ms, nearly all of it that scan).
    let day_start = |d: jiff::civil::Date| {
        d.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(jiff::Timestamp::MAX)
    };
    let lo = day_start(from);
    let hi = to.tomorrow().map(day_start).unwrap_or(jiff::Timestamp::MAX);
    let first = acct.meetings.partition_point(|m| m.start >= hi);
    let end = acct.meetings.partition_point(|m| m.start >= lo).max(first);
    let selected: Vec<&SimMeeting> = acct.meetings[first..end]
        .iter()
        .filter(|m| m.host_index == user)
        .filter(|m| {
            let want = if trash {
                CloudState::Trashed
            } else {
                CloudState::Present
            };
            m.files.iter().any(|f| f.cloud == want)
        })
        .collect();
    let key = format!("rec:{user}:{from}:{to}:{trash}:{size}");
    let (offset, token) = match paginate(st, &key, query, selected.len(), size) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let meetings: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(size)
        .map(|m| {
            let mut v = meeting_json_filtered(st, m, false, trash);
            if let Some(o) = v.as_object_mut() {
                o.remove("download_access_token");
            }
            v
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "page_count": selected.len().div_ceil(size),
            "page_size": size,
            "total_records": selected.len(),
            "next_page_token": token,
            "meetings": meetings,
        }),
    )
}

fn file_json(st: &Shared, m: &SimMeeting, f: &SimFile) -> Value {
    let base = st.base_url.read().map(|b| b.clone()).unwrap_or_default();
    if f.processing {
        // What Zoom sends while a file is processing.
        return json!({
            "id": f.id, "meeting_id": m.uuid,
            "recording_start": f.recording_start, "recording_end": "",
            "file_type": "", "file_size": 0, "status": "processing",
        });
    }
    let mut v = json!({
        "id": f.id,
        "meeting_id": m.uuid,
        "recording_start": f.recording_start,
        "recording_end": f.recording_end,
        "file_type": f.file_type,
        "file_extension": f.file_extension,
        "file_size": f.size,
        "download_url": format!("{base}/rec/download/{}", f.id),
        "status": "completed",
    });
    if let Some(rt) = &f.recording_type {
        v["recording_type"] = Value::String(rt.clone());
    }
    if f.has_play_url {
        v["play_url"] = Value::String(format!("{base}/rec/play/{}", f.id));
    }
    if let Some(n) = &f.file_name {
        v["file_name"] = Value::String(n.clone());
    }
    v
}

pub fn meeting_json(st: &Shared, m: &SimMeeting, details: bool) -> Value {
    meeting_json_filtered(st, m, details, false)
}

fn meeting_json_filtered(st: &Shared, m: &SimMeeting, details: bool, trash: bool) -> Value {
    let want = if trash {
        CloudState::Trashed
    } else {
        CloudState::Present
    };
    let files: Vec<Value> = m
        .files
        .iter()
        .filter(|f| f.cloud == want)
        .map(|f| file_json(st, m, f))
        .collect();
    let total: u64 = m
        .files
        .iter()
        .filter(|f| f.cloud == want && !f.processing)
        .map(|f| f.size)
        .sum();
    let host_id = m.host_id.clone();
    let mut v = json!({
        "uuid": m.uuid,
        "id": m.id,
        "account_id": st.cfg.account_id,
        "host_id": host_id,
        "topic": m.topic,
        "type": 2,
        "start_time": m.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "timezone": m.timezone,
        "duration": m.duration,
        "total_size": total,
        "recording_count": files.len(),
        "share_url": format!("https://example.invalid/rec/share/{}", m.id),
        "recording_files": files,
    });
    if details {
        let pa: Vec<Value> = m
            .participant_audio
            .iter()
            .filter(|f| f.cloud == CloudState::Present)
            .map(|f| file_json(st, m, f))
            .collect();
        v["participant_audio_files"] = Value::Array(pa);
        v["download_access_token"] = Value::String("sim-dat-not-a-real-token".into());
        v["recording_play_passcode"] = Value::String("sim-passcode".into());
    }
    v
}

fn summary_json(m: &SimMeeting) -> Value {
    let start = m.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({
        "meeting_uuid": m.uuid,
        "meeting_id": m.id,
        "meeting_topic": m.topic,
        "meeting_start_time": start,
        "meeting_end_time": start,
        "summary_title": format!("Meeting summary for {}", m.topic),
        "summary_created_time": start,
        "summary_last_modified_time": start,
        "summary_overview": "The team reviewed progress and agreed on next steps.",
        "summary_details": [
            {"label": "Progress", "summary": "Most items are on track."},
            {"label": "議題", "summary": "予算の確認と次回の日程。"}
        ],
        "next_steps": ["Send the minutes", "Book the next session"],
        "summary_content": "## Summary\n\n- Progress reviewed\n- Next steps agreed\n",
    })
}

/// Finds a meeting by its uuid path segment, Zoom-style.
fn with_meeting(
    st: &Shared,
    raw: &str,
    f: impl FnOnce(&Shared, &SimMeeting) -> Response,
) -> Response {
    let uuid = decode_uuid_segment(raw);
    let Ok(acct) = st.account.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    match acct
        .meetings
        .iter()
        .find(|m| m.uuid == uuid && m.files.iter().any(|f| f.cloud != CloudState::Deleted))
    {
        Some(m) => f(st, m),
        None => no_recording(),
    }
}

fn delete(st: &Shared, raw: &str, file_id: Option<&str>, action: Option<&str>) -> Response {
    let action = action.unwrap_or("trash");
    let target = match action {
        "trash" => CloudState::Trashed,
        "delete" => CloudState::Deleted,
        _ => return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: action"),
    };
    let uuid = decode_uuid_segment(raw);
    let Ok(mut acct) = st.account.write() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let Some(m) = acct.meetings.iter_mut().find(|m| m.uuid == uuid) else {
        return no_recording();
    };
    if m.in_progress {
        return zoom_error(
            StatusCode::BAD_REQUEST,
            3303,
            "The meeting is in progress, recordings cannot be deleted.",
        );
    }
    // What can still be acted on: present files (and trashed ones, for a permanent delete).
    let eligible = |f: &SimFile| match target {
        CloudState::Trashed => f.cloud == CloudState::Present,
        _ => f.cloud != CloudState::Deleted,
    };
    let mut changed = false;
    match file_id {
        None => {
            for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
                if eligible(f) {
                    f.cloud = target;
                    changed = true;
                }
            }
        }
        Some(id) => {
            if let Some(f) = m
                .files
                .iter_mut()
                .chain(m.participant_audio.iter_mut())
                .find(|f| f.id == id)
                && eligible(f)
            {
                f.cloud = target;
                changed = true;
            }
        }
    }
    if !changed {
        return no_recording();
    }
    let uuid = m.uuid.clone();
    drop(acct);
    record_change(st, uuid, file_id, action)
}

fn recover(st: &Shared, raw: &str, file_id: Option<&str>, body: &[u8]) -> Response {
    let action = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_string));
    if action.as_deref() != Some("recover") {
        return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: action");
    }
    let uuid = decode_uuid_segment(raw);
    let Ok(mut acct) = st.account.write() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let Some(m) = acct.meetings.iter_mut().find(|m| m.uuid == uuid) else {
        return no_recording();
    };
    let mut changed = false;
    for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
        if f.cloud == CloudState::Trashed && file_id.is_none_or(|id| id == f.id) {
            f.cloud = CloudState::Present;
            changed = true;
        }
    }
    if !changed {
        return no_recording();
    }
    let uuid = m.uuid.clone();
    drop(acct);
    record_change(st, uuid, file_id, "recover")
}

/// Records a successful DELETE or recover for tests to read, and answers 204.
fn record_change(
    st: &Shared,
    meeting_uuid: String,
    file_id: Option<&str>,
    action: &str,
) -> Response {
    if let Ok(mut d) = st.deletions.lock() {
        d.push(DeletionRecord {
            at: st.now().to_string(),
            meeting_uuid,
            file_id: file_id.map(str::to_string),
            action: action.to_string(),
        });
    }
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default()
}
