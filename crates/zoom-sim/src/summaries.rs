//! The admin listing of AI Companion summaries, `GET /v2/meetings/meeting_summaries`
//! (zoom-api.md §4): which meetings of the account have a summary, in the same one-month
//! windows, narrowing and page tokens as the recordings listings, so a client asks
//! `meeting_summary` only for those.
//!
//! It lists exactly the meetings whose `meeting_summary` answers 200 (the rule is
//! [`serves_summary`]), newest first by meeting start. On the Free plan, where AI Companion
//! is not available, it answers what `meeting_summary` answers there: 400 code 200 (Zoom's
//! answer to a paid-only feature; the simulator's choice, as Zoom documents no other).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::access::{AdminListing, listing_refusal};
use crate::meetings::{serves_summary, summary_json};
use crate::paging::{Window, next_page_token, page_offset};
use crate::replies::{json_response, zoom_error};
use crate::state::Shared;

/// The fields of a summary a listing entry carries (a part of what `meeting_summary` serves).
const ENTRY_FIELDS: &[&str] = &[
    "meeting_uuid",
    "meeting_id",
    "meeting_topic",
    "meeting_start_time",
    "meeting_end_time",
    "summary_created_time",
    "summary_last_modified_time",
];

/// `GET /v2/meetings/meeting_summaries`.
pub fn list_summaries(st: &Shared, query: &[(String, String)]) -> Response {
    if let Some(refused) = listing_refusal(AdminListing::Summaries, st.cfg.access.summary_listing) {
        return refused;
    }
    if !st.cfg.summaries_available() {
        return zoom_error(
            StatusCode::BAD_REQUEST,
            200,
            "Meeting summary is only available for paid accounts.",
        );
    }
    let w = match Window::from_query(st, query) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let key = format!("summaries:{}:{}:{}", w.from, w.to, w.size);
    let offset = match page_offset(st, &key, query) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(world) = st.world.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let acct = &world.account;
    let listed: Vec<_> = w
        .meetings(acct)
        .iter()
        .filter(|m| serves_summary(st, m))
        .collect();
    let summaries: Vec<Value> = listed
        .iter()
        .skip(offset)
        .take(w.size)
        .map(|m| {
            let full = summary_json(m);
            let mut entry = serde_json::Map::new();
            for k in ENTRY_FIELDS {
                if let Some(v) = full.get(*k) {
                    entry.insert((*k).to_string(), v.clone());
                }
            }
            let host = acct.users.get(m.host_index);
            entry.insert("meeting_host_id".into(), json!(m.host_id));
            entry.insert(
                "meeting_host_email".into(),
                json!(host.map(|u| u.email.as_str()).unwrap_or_default()),
            );
            Value::Object(entry)
        })
        .collect();
    let total = listed.len();
    drop(world);
    let token = next_page_token(st, &key, offset, w.size, total);
    json_response(
        StatusCode::OK,
        &json!({
            "from": w.from.to_string(),
            "to": w.to.to_string(),
            "page_size": w.size,
            "next_page_token": token,
            "summaries": summaries,
        }),
    )
}
