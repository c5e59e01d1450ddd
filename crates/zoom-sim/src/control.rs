//! The control plane under `/sim/`: manifest, stats, deletions, faults, clock, processing,
//! tokens, webhooks and changes to the live account (a new meeting, a file that finished
//! processing, a meeting deleted in the web portal), so scripts and subprocess tests can
//! drive the simulator over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::config::FaultConfig;
use crate::live::{self, NewMeeting, PortalDelete, manifest_meeting};
pub use crate::oauth::issue_token;
use crate::state::{AppState, Shared};
use crate::webhook::WebhookEvent;
use crate::{Manifest, ManifestUser};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/manifest",
            get(|State(st): State<AppState>| async move { Json(manifest(&st)) }),
        )
        .route(
            "/stats",
            get(|State(st): State<AppState>| async move { Json(st.snapshot_stats()) }),
        )
        .route(
            "/deletions",
            get(|State(st): State<AppState>| async move {
                Json(
                    st.world
                        .read()
                        .map(|w| w.deletions.clone())
                        .unwrap_or_default(),
                )
            }),
        )
        .route(
            "/faults",
            post(
                |State(st): State<AppState>, Json(f): Json<FaultConfig>| async move {
                    set_faults(&st, f);
                    StatusCode::NO_CONTENT
                },
            )
            .get(|State(st): State<AppState>| async move { Json(st.faults()) }),
        )
        .route(
            "/complete-processing",
            post(|State(st): State<AppState>| async move {
                complete_processing(&st);
                StatusCode::NO_CONTENT
            }),
        )
        .route("/advance-clock", post(advance_clock))
        .route(
            "/token",
            post(|State(st): State<AppState>| async move {
                Json(serde_json::json!({"access_token": issue_token(&st)}))
            }),
        )
        .route("/webhook", post(webhook))
        .route(
            "/webhook/subscription",
            post(
                |State(st): State<AppState>,
                 Json(sub): Json<Option<crate::webhook::Subscription>>| async move {
                    crate::webhook::subscribe(&st, sub);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route("/meetings", post(add_meeting))
        .route("/meetings/finish-processing", post(finish_processing))
        .route("/meetings/portal-delete", post(portal_delete))
}

/// A live-account change that could not be made: 400 with the reason.
fn refused(e: anyhow::Error) -> Response {
    (StatusCode::BAD_REQUEST, e.to_string()).into_response()
}

async fn add_meeting(State(st): State<AppState>, Json(new): Json<NewMeeting>) -> Response {
    match live::add_meeting(&st, &new) {
        Ok(m) => {
            crate::webhook::on_meeting_added(&st, &m);
            Json(m).into_response()
        }
        Err(e) => refused(e),
    }
}

/// A meeting named in a JSON body (uuids hold `/`, which a path would split).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishReq {
    uuid: String,
    file_id: Option<String>,
}

async fn finish_processing(State(st): State<AppState>, Json(r): Json<FinishReq>) -> Response {
    match live::finish_processing(&st, &r.uuid, r.file_id.as_deref()) {
        Ok(files) => {
            crate::webhook::on_processing_finished(&st, &r.uuid, &files);
            Json(files).into_response()
        }
        Err(e) => refused(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalDeleteReq {
    uuid: String,
    #[serde(default)]
    how: PortalDelete,
}

async fn portal_delete(State(st): State<AppState>, Json(r): Json<PortalDeleteReq>) -> Response {
    match live::delete_in_portal(&st, &r.uuid, r.how) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

#[derive(Deserialize)]
struct Secs {
    secs: i64,
}

async fn advance_clock(State(st): State<AppState>, Query(s): Query<Secs>) -> StatusCode {
    st.clock_offset
        .fetch_add(s.secs, std::sync::atomic::Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct WebhookReq {
    url: String,
    secret_token: String,
    event: WebhookEvent,
    /// With Zoom's retries, their waits (5, 20, 60 minutes) multiplied by this; the answer
    /// lists every delivery's status. Without it: one delivery.
    #[serde(default)]
    retry_scale: Option<f64>,
}

async fn webhook(State(st): State<AppState>, Json(w): Json<WebhookReq>) -> Response {
    if let Some(scale) = w.retry_scale {
        let delays = crate::webhook::retry_delays(scale);
        return match crate::webhook::send_with_retries(
            &st,
            &w.url,
            &w.secret_token,
            w.event,
            &delays,
        )
        .await
        {
            Ok(statuses) => Json(serde_json::json!({"statuses": statuses})).into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        };
    }
    match crate::webhook::send(&st, &w.url, &w.secret_token, w.event).await {
        Ok(code) => Json(serde_json::json!({"status": code})).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

pub fn set_faults(st: &Shared, f: FaultConfig) {
    st.set_faults(f);
}

pub fn complete_processing(st: &Shared) {
    if let Ok(mut w) = st.world.write() {
        for m in &mut w.account.meetings {
            for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
                f.processing = false;
            }
        }
    }
}

pub fn manifest(st: &Arc<Shared>) -> Manifest {
    let Ok(w) = st.world.read() else {
        return Manifest {
            users: vec![],
            meetings: vec![],
        };
    };
    let a = &w.account;
    Manifest {
        users: a
            .users
            .iter()
            .map(|u| ManifestUser {
                id: u.id.clone(),
                email: u.email.clone(),
                status: u.status.to_string(),
            })
            .collect(),
        meetings: a
            .meetings
            .iter()
            .map(|m| manifest_meeting(st, a, m))
            .collect(),
    }
}
