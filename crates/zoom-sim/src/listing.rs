//! The listings: `GET /v2/users`, `GET /v2/users/{id}` and `GET /v2/users/{id}/recordings`,
//! with Zoom's page tokens (which remember their query and expire after 15 minutes) and its
//! silent narrowing of spans longer than a month.

use axum::http::StatusCode;
use axum::response::Response;
use jiff::ToSpan;
use serde_json::{Value, json};

use crate::account::{CloudState, SimMeeting};
use crate::meetings::meeting_json_filtered;
use crate::replies::{json_response, zoom_error};
use crate::routes::query_param as q;
use crate::state::{PageToken, Shared};

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

/// Where the page a request asks for starts: 0, or the offset its `next_page_token`
/// remembers. A token remembers its query and expires after 15 minutes. Pagination is in two
/// steps (this, then [`next_page_token`]) so the sessions lock is never held with the
/// account's.
#[allow(clippy::result_large_err)]
fn page_offset(st: &Shared, key: &str, query: &[(String, String)]) -> Result<usize, Response> {
    let Some(t) = q(query, "next_page_token").filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let pt = st
        .sessions
        .lock()
        .ok()
        .and_then(|s| s.page_tokens.get(t).cloned());
    match pt {
        Some(p) if p.query == key && st.now_secs() - p.created_at <= 15 * 60 => Ok(p.offset),
        _ => Err(zoom_error(
            StatusCode::BAD_REQUEST,
            300,
            "The next page token is invalid or expired.",
        )),
    }
}

/// The token of the page after the one at `offset` ("" on the last page).
fn next_page_token(st: &Shared, key: &str, offset: usize, size: usize, total: usize) -> String {
    let next = offset + size;
    if next >= total {
        return String::new();
    }
    let t = st.fresh_token("pt");
    if let Ok(mut s) = st.sessions.lock() {
        s.page_tokens.insert(
            t.clone(),
            PageToken {
                query: key.to_string(),
                offset: next,
                created_at: st.now_secs(),
            },
        );
    }
    t
}

pub fn list_users(st: &Shared, query: &[(String, String)]) -> Response {
    let status = q(query, "status").unwrap_or("active");
    if !matches!(status, "active" | "inactive" | "pending") {
        return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: status");
    }
    let size = match page_size(query) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let users: Vec<Value> = match st.world.read() {
        Ok(w) => w
            .account
            .users
            .iter()
            .filter(|u| u.status == status)
            .map(user_json)
            .collect(),
        Err(_) => return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state"),
    };
    let key = format!("users:{status}:{size}");
    let offset = match page_offset(st, &key, query) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let token = next_page_token(st, &key, offset, size, users.len());
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
    let world = st.world.read().ok()?;
    let acct = &world.account;
    if who == "me" {
        return Some(me);
    }
    acct.users
        .iter()
        .position(|u| u.id.as_deref() == Some(who) || u.email.eq_ignore_ascii_case(who))
        .filter(|i| acct.users[*i].id.is_some())
}

pub fn get_user(st: &Shared, me: usize, who: &str) -> Response {
    match resolve_user(st, me, who) {
        Some(i) => {
            let world = match st.world.read() {
                Ok(w) => w,
                Err(_) => return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state"),
            };
            json_response(StatusCode::OK, &user_json(&world.account.users[i]))
        }
        None => zoom_error(StatusCode::NOT_FOUND, 1001, "User does not exist."),
    }
}

fn parse_day(s: &str) -> Option<jiff::civil::Date> {
    s.parse::<jiff::civil::Date>().ok()
}

pub fn list_recordings(st: &Shared, me: usize, who: &str, query: &[(String, String)]) -> Response {
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
    let key = format!("rec:{user}:{from}:{to}:{trash}:{size}");
    let offset = match page_offset(st, &key, query) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(world) = st.world.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let acct = &world.account;
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
    let total = selected.len();
    drop(world);
    let token = next_page_token(st, &key, offset, size, total);
    json_response(
        StatusCode::OK,
        &json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "page_count": total.div_ceil(size),
            "page_size": size,
            "total_records": total,
            "next_page_token": token,
            "meetings": meetings,
        }),
    )
}
