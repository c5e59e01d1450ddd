//! The daemon's HTTP side: the webhook endpoint (signature, replay, durable queue, then
//! 200), `/metrics`, `/status`, `/healthz` and `/readyz`.
//!
//! The webhook handler does no work beyond storing the event in the state's queue, through
//! the group commit (`group_commit`: the events arriving together share one transaction):
//! Zoom counts an answer slower than 3 s as failed and retries, so the work is the workers'
//! (see `worker`). An event not committed within [`ENQUEUE_DEADLINE`] is answered 503 and
//! Zoom retries; the retry is harmless whether or not the slow insert landed (the queue's
//! key).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Notify;
use zvm_state::{Enqueued, NewWebhookEvent, WebhookQueue};
use zvm_zoom::ZoomClient;

use crate::group_commit::QueueWriter;

use crate::envelope::{self, Incoming};
use crate::observe::{Metrics, WebhookResult};
use crate::replay::ReplayGuard;
use crate::signature::{self, Refusal, SecretToken};
use crate::state_gauges::StateGauges;
use crate::status::StatusSource;

/// The longest a webhook's insert may take before the answer is 503 (Zoom allows 3 s).
pub const ENQUEUE_DEADLINE: Duration = Duration::from_millis(2500);

/// Zoom's webhook bodies are a few KiB; anything far larger is not one.
const MAX_BODY: usize = 1 << 20;

/// What the handlers share.
pub struct Intake {
    pub secret: SecretToken,
    pub replay: ReplayGuard,
    /// The state's queue (SQLite, or a fleet's PostgreSQL).
    pub state: Arc<dyn WebhookQueue>,
    /// Stores accepted events (in `state`), many per commit.
    pub queue: QueueWriter,
    /// Wakes the workers when an event is queued.
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// The engine's Zoom client: an event's download token is handed to it.
    pub zoom: ZoomClient,
    /// False once the daemon is stopping: `/readyz` says so and no event is taken.
    pub accepting: AtomicBool,
    pub status: StatusSource,
    /// The state's gauges for `/metrics`, shared by concurrent scrapes.
    pub gauges: StateGauges,
    /// Our clock in Unix seconds (tests move it).
    pub clock: fn() -> i64,
}

impl Intake {
    /// The webhook side of a daemon, lone or in a fleet: accepting, with a fresh replay
    /// guard, its writer storing events in `queue`, and the system clock.
    pub fn new(
        secret: SecretToken,
        queue: Arc<dyn WebhookQueue>,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
        zoom: ZoomClient,
        status: StatusSource,
    ) -> Arc<Intake> {
        Arc::new(Intake {
            secret,
            replay: ReplayGuard::default(),
            queue: QueueWriter::start(queue.clone()),
            state: queue,
            wake,
            metrics,
            zoom,
            accepting: AtomicBool::new(true),
            status,
            gauges: StateGauges::default(),
            clock: system_clock,
        })
    }
}

/// Unix seconds now.
pub fn system_clock() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The router: the webhook at `webhook_path`, and the observability endpoints.
pub fn router(intake: Arc<Intake>, webhook_path: &str) -> Router {
    Router::new()
        .route(webhook_path, post(webhook))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(intake)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refuse(intake: &Intake, why: &Refusal) -> Response {
    intake.metrics.webhook(WebhookResult::Refused);
    tracing::warn!(reason = %why, "webhook refused");
    (StatusCode::UNAUTHORIZED, "unauthorized\n").into_response()
}

async fn webhook(State(intake): State<Arc<Intake>>, headers: HeaderMap, body: Bytes) -> Response {
    if !intake.accepting.load(Ordering::Acquire) {
        // Stopping: Zoom retries later, and the next start takes it.
        intake.metrics.webhook(WebhookResult::Unavailable);
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response();
    }
    let now = (intake.clock)();
    let sig = header_str(&headers, "x-zm-signature");
    let ts = match signature::verify(
        &intake.secret,
        header_str(&headers, "x-zm-request-timestamp"),
        sig,
        &body,
        now,
    ) {
        Ok(ts) => ts,
        Err(why) => return refuse(&intake, &why),
    };
    if !intake.replay.first_time(sig.unwrap_or_default(), ts, now) {
        return refuse(&intake, &Refusal::Replay);
    }
    let incoming = match envelope::parse_at(&body, now.saturating_mul(1000)) {
        Ok(i) => i,
        Err(e) => {
            intake.metrics.webhook(WebhookResult::Malformed);
            tracing::warn!(error = %e, "signed webhook with a body we cannot read");
            return (StatusCode::BAD_REQUEST, "not a Zoom webhook envelope\n").into_response();
        }
    };
    match incoming {
        Incoming::UrlValidation { plain_token } => {
            intake.metrics.webhook(WebhookResult::Validation);
            let answer = serde_json::json!({
                "plainToken": plain_token,
                "encryptedToken": signature::encrypted_token(&intake.secret, &plain_token),
            });
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Incoming::Ignored { event } => {
            intake.metrics.webhook(WebhookResult::Ignored);
            tracing::debug!(%event, "webhook event not used by zvm");
            StatusCode::OK.into_response()
        }
        Incoming::Event {
            event,
            meeting_uuid,
            dedup_key,
            download,
            stored_body,
        } => {
            let row = NewWebhookEvent {
                dedup_key,
                event: event.clone(),
                meeting_uuid: Some(meeting_uuid.clone()),
                body: stored_body,
            };
            let queued = tokio::time::timeout(ENQUEUE_DEADLINE, intake.queue.enqueue(row)).await;
            if let (Ok(Ok(_)), Some(d)) = (&queued, download) {
                // The meeting's downloads may use it (kept in memory only: the queue
                // stores no secret; after a restart the OAuth token is used).
                for url in &d.urls {
                    intake
                        .zoom
                        .grant_download_token(url, d.token.clone(), d.valid_for);
                }
            }
            match queued {
                Ok(Ok(Enqueued::New(id))) => {
                    intake.metrics.webhook(WebhookResult::Queued);
                    // Per event at debug: the group commit logs each batch at info (a line
                    // per event written to stderr cost 5 % of the daemon's CPU in a burst).
                    tracing::debug!(id, %event, meeting = %meeting_uuid, "webhook event queued");
                    intake.wake.notify_one();
                    StatusCode::OK.into_response()
                }
                Ok(Ok(Enqueued::Duplicate)) => {
                    intake.metrics.webhook(WebhookResult::Duplicate);
                    tracing::debug!(%event, meeting = %meeting_uuid, "webhook event delivered again; queued already");
                    StatusCode::OK.into_response()
                }
                Ok(Err(e)) => {
                    intake.metrics.webhook(WebhookResult::Unavailable);
                    tracing::error!(error = %e, "cannot queue a webhook event; Zoom will retry");
                    (StatusCode::SERVICE_UNAVAILABLE, "cannot queue\n").into_response()
                }
                Err(_) => {
                    intake.metrics.webhook(WebhookResult::Unavailable);
                    tracing::error!("queuing a webhook event took too long; Zoom will retry");
                    (StatusCode::SERVICE_UNAVAILABLE, "busy\n").into_response()
                }
            }
        }
    }
}

async fn metrics(State(intake): State<Arc<Intake>>) -> Response {
    let now = intake.gauges.snapshot(&intake.status, &*intake.state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        intake.metrics.render(now),
    )
        .into_response()
}

async fn status(State(intake): State<Arc<Intake>>) -> Response {
    match intake.status.report(&*intake.state).await {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read the state: {e}\n"),
        )
            .into_response(),
    }
}

async fn ready(State(intake): State<Arc<Intake>>) -> Response {
    if !intake.accepting.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response();
    }
    match intake.state.webhook_counts().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("state unusable: {e}\n"),
        )
            .into_response(),
    }
}
