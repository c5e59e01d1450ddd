//! The listings of users and recordings: `GET /v2/users`, `GET /v2/users/{id}`,
//! `GET /v2/users/{id}/recordings` and the account-wide `GET /v2/accounts/{id}/recordings`
//! (every user's meetings, inactive users' included, each with its host's id and email).
//! Windows, narrowing and page tokens are [`crate::paging`]'s, the same for both recordings
//! listings.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::access::{AdminListing, listing_refusal};
use crate::account::{CloudState, SimMeeting};
use crate::meetings::meeting_json_filtered;
use crate::paging::{Window, next_page_token, page_offset, page_size};
use crate::replies::{json_response, zoom_error};
use crate::routes::query_param as q;
use crate::state::Shared;

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

/// The index of the user `who` names (`me`: the token's user `me`; else an id or an email);
/// pending users, who have no id, are nobody.
pub fn resolve_user(st: &Shared, me: usize, who: &str) -> Option<usize> {
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

/// `GET /v2/users/{id}/recordings`: the meetings `who` hosts.
pub fn list_recordings(st: &Shared, me: usize, who: &str, query: &[(String, String)]) -> Response {
    let Some(user) = resolve_user(st, me, who) else {
        return zoom_error(StatusCode::NOT_FOUND, 1001, "User does not exist.");
    };
    recordings_listing(st, query, &format!("rec:{user}"), Some(user))
}

/// `GET /v2/accounts/{id}/recordings` with `me` or the account's own id: every user's
/// meetings (zoom-api.md §2 "Account level"), unless the configuration refuses it.
pub fn list_account_recordings(st: &Shared, account: &str, query: &[(String, String)]) -> Response {
    if account != "me" && account != st.cfg.account_id {
        // The simulator has no sub-accounts.
        return zoom_error(StatusCode::NOT_FOUND, 2001, "Account does not exist.");
    }
    if let Some(refused) = listing_refusal(
        AdminListing::AccountRecordings,
        st.cfg.access.account_listing,
    ) {
        return refused;
    }
    recordings_listing(st, query, "acct", None)
}

/// One page of a recordings listing: the meetings of `host` (a user index; `None`: every
/// user, and each meeting names its host's email as the account listing does) that start in
/// the request's window and have files in the cloud (in the trash with `trash=true`).
/// `scope` is what a page token must have been issued for besides the window.
fn recordings_listing(
    st: &Shared,
    query: &[(String, String)],
    scope: &str,
    host: Option<usize>,
) -> Response {
    let w = match Window::from_query(st, query) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let trash = q(query, "trash") == Some("true");
    let key = format!("{scope}:{}:{}:{trash}:{}", w.from, w.to, w.size);
    let offset = match page_offset(st, &key, query) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(world) = st.world.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let acct = &world.account;
    let want = if trash {
        CloudState::Trashed
    } else {
        CloudState::Present
    };
    let selected: Vec<&SimMeeting> = w
        .meetings(acct)
        .iter()
        .filter(|m| host.is_none_or(|h| m.host_index == h))
        .filter(|m| m.files.iter().any(|f| f.cloud == want))
        .collect();
    let meetings: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(w.size)
        .map(|m| {
            let mut v = meeting_json_filtered(st, m, false, trash);
            if let Some(o) = v.as_object_mut() {
                o.remove("download_access_token");
                if host.is_none() {
                    let email = acct.users.get(m.host_index).map(|u| u.email.clone());
                    o.insert(
                        "host_email".into(),
                        Value::String(email.unwrap_or_default()),
                    );
                }
            }
            v
        })
        .collect();
    let total = selected.len();
    drop(world);
    let token = next_page_token(st, &key, offset, w.size, total);
    json_response(
        StatusCode::OK,
        &json!({
            "from": w.from.to_string(),
            "to": w.to.to_string(),
            "page_count": total.div_ceil(w.size),
            "page_size": w.size,
            "total_records": total,
            "next_page_token": token,
            "meetings": meetings,
        }),
    )
}
