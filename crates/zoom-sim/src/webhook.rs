//! Sends Zoom's webhooks (zoom-api.md §7) to a URL, for the daemon's tests and benchmarks:
//! Zoom's envelope (`event`, `event_ts` in milliseconds, `payload.account_id`,
//! `payload.object`; `download_token` on recording events), signed as Zoom signs
//! (`x-zm-request-timestamp` in Unix seconds of the simulator's clock, `x-zm-signature` =
//! `v0=` hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the secret token).
//!
//! Zoom's retries: a delivery that is not answered 2xx (or not answered at all) is sent
//! again after 5, 20 and 60 minutes ([`ZOOM_RETRY_DELAYS`], scaled down for tests), the
//! same body each time (the same event, the same `event_ts`) with a fresh timestamp and
//! signature. A receiver tells a retry from a new event by the body, never by the headers.
//!
//! A [`Subscription`] makes the simulator send them by itself, as Zoom does for an app's
//! event subscription: `recording.completed` (and `meeting.summary_completed` when it has a
//! summary) when a meeting is added to the live account, `recording.transcript_completed`
//! (or `recording.completed`) when its processing files finish. Each is sent in the
//! background with Zoom's retries, scaled.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::meetings::meeting_json;
use crate::state::{DownloadGrant, Shared};
use crate::{ManifestFile, ManifestMeeting};

/// Zoom's waits before each retry of a failed delivery: +5, +20 and +60 minutes.
pub const ZOOM_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(5 * 60),
    Duration::from_secs(20 * 60),
    Duration::from_secs(60 * 60),
];

/// Zoom's retry waits multiplied by `scale` (1.0: Zoom's; tests use a tiny fraction).
pub fn retry_delays(scale: f64) -> Vec<Duration> {
    ZOOM_RETRY_DELAYS
        .iter()
        .map(|d| d.mul_f64(scale.max(0.0)))
        .collect()
}

/// Which event to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WebhookEvent {
    /// `recording.completed` for the meeting with this uuid (with a `download_token`).
    RecordingCompleted { meeting_uuid: String },
    /// `recording.transcript_completed`: the meeting's transcript finished processing.
    TranscriptCompleted { meeting_uuid: String },
    /// `meeting.summary_completed`: the meeting's AI Companion summary is ready.
    SummaryCompleted { meeting_uuid: String },
    /// `recording.trashed`: the meeting's recordings went to the trash.
    RecordingTrashed { meeting_uuid: String },
    /// `recording.deleted`: the meeting's recordings were deleted for good.
    RecordingDeleted { meeting_uuid: String },
    /// `recording.recovered`: the meeting's recordings came back from the trash.
    RecordingRecovered { meeting_uuid: String },
    /// `endpoint.url_validation` with this plain token.
    UrlValidation { plain_token: String },
}

/// How long a webhook's `download_token` downloads its meeting's files: Zoom documents
/// about 24 hours (zoom-api.md §1).
pub const DOWNLOAD_TOKEN_TTL_SECS: i64 = 24 * 3600;

/// A `download_token` for one meeting's files, as a recording event carries it: accepted
/// by `download_url` (bearer or `?access_token=`) for that meeting only, until it expires
/// on the simulator's clock; refused by the API.
pub fn issue_download_token(st: &Shared, meeting_uuid: &str) -> String {
    let t = st.fresh_token("sim-dlt-");
    if let Ok(mut s) = st.sessions.lock() {
        s.download_tokens.insert(
            t.clone(),
            DownloadGrant {
                meeting_uuid: meeting_uuid.to_owned(),
                expires_at: st.now_secs() + DOWNLOAD_TOKEN_TTL_SECS,
            },
        );
    }
    t
}

/// Whether `token` is a download token for `meeting_uuid`'s files, unexpired.
pub fn download_token_grants(st: &Shared, token: &str, meeting_uuid: &str) -> bool {
    let Ok(s) = st.sessions.lock() else {
        return false;
    };
    s.download_tokens
        .get(token)
        .is_some_and(|g| g.meeting_uuid == meeting_uuid && g.expires_at > st.now_secs())
}

pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The meeting's object as recording events carry it (its files, as the API lists them).
fn recording_object(st: &Shared, uuid: &str) -> anyhow::Result<serde_json::Value> {
    let world = st
        .world
        .read()
        .map_err(|_| anyhow::anyhow!("simulator state poisoned"))?;
    let m = world
        .account
        .meetings
        .iter()
        .find(|m| m.uuid == uuid)
        .ok_or_else(|| anyhow::anyhow!("no meeting {uuid}"))?;
    Ok(meeting_json(st, m, false))
}

/// The body of one event, as Zoom would send it now. Built once per event: its retries
/// send these same bytes.
pub fn envelope(st: &Shared, event: &WebhookEvent) -> anyhow::Result<String> {
    let now = st.now().as_millisecond();
    let account = st.cfg.account_id.clone();
    let recording = |name: &str, uuid: &str, token: bool| -> anyhow::Result<serde_json::Value> {
        let mut v = serde_json::json!({
            "event": name,
            "event_ts": now,
            "payload": {"account_id": account, "object": recording_object(st, uuid)?},
        });
        if token {
            v["download_token"] = issue_download_token(st, uuid).into();
        }
        Ok(v)
    };
    let body = match event {
        WebhookEvent::RecordingCompleted { meeting_uuid } => {
            recording("recording.completed", meeting_uuid, true)?
        }
        WebhookEvent::TranscriptCompleted { meeting_uuid } => {
            recording("recording.transcript_completed", meeting_uuid, true)?
        }
        WebhookEvent::RecordingTrashed { meeting_uuid } => {
            recording("recording.trashed", meeting_uuid, false)?
        }
        WebhookEvent::RecordingDeleted { meeting_uuid } => {
            recording("recording.deleted", meeting_uuid, false)?
        }
        WebhookEvent::RecordingRecovered { meeting_uuid } => {
            recording("recording.recovered", meeting_uuid, false)?
        }
        WebhookEvent::SummaryCompleted { meeting_uuid } => {
            let object = recording_object(st, meeting_uuid)?;
            serde_json::json!({
                "event": "meeting.summary_completed",
                "event_ts": now,
                "payload": {"account_id": account, "object": {
                    "meeting_uuid": meeting_uuid,
                    "meeting_id": object["id"],
                    "meeting_host_id": object["host_id"],
                    "meeting_topic": object["topic"],
                    "meeting_start_time": object["start_time"],
                }},
            })
        }
        WebhookEvent::UrlValidation { plain_token } => serde_json::json!({
            "event": "endpoint.url_validation",
            "event_ts": now,
            "payload": {"plainToken": plain_token},
        }),
    };
    Ok(body.to_string())
}

/// One delivery of `body`, signed now (the simulator's clock). `Ok(status)`, or `Err` when
/// nothing answered.
pub async fn deliver(st: &Shared, url: &str, secret: &str, body: &str) -> anyhow::Result<u16> {
    deliver_at(url, secret, body, st.now().as_second()).await
}

/// One delivery of `body` signed with the timestamp `ts_secs`.
async fn deliver_at(url: &str, secret: &str, body: &str, ts_secs: i64) -> anyhow::Result<u16> {
    let ts = ts_secs.to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        // Zoom counts an answer slower than 3 s as failed.
        .timeout(Duration::from_secs(3))
        .build()?;
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Zoom Marketplace/1.0a")
        .header("x-zm-request-timestamp", &ts)
        .header("x-zm-signature", signature(secret, &ts, body))
        .body(body.to_owned())
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

/// Sends `event` once; the answer's status.
pub async fn send(
    st: &Shared,
    url: &str,
    secret: &str,
    event: WebhookEvent,
) -> anyhow::Result<u16> {
    let body = envelope(st, &event)?;
    deliver(st, url, secret, &body).await
}

/// Sends `event` as Zoom does: again after each of `delays` while the answer is not 2xx
/// (or there is none), the same body re-signed. Returns each delivery's status (0: no
/// answer).
pub async fn send_with_retries(
    st: &Shared,
    url: &str,
    secret: &str,
    event: WebhookEvent,
    delays: &[Duration],
) -> anyhow::Result<Vec<u16>> {
    let body = envelope(st, &event)?;
    let mut statuses = Vec::new();
    let mut waits = delays.iter();
    loop {
        let status = deliver(st, url, secret, &body).await.unwrap_or(0);
        statuses.push(status);
        if (200..300).contains(&status) {
            return Ok(statuses);
        }
        match waits.next() {
            Some(d) => tokio::time::sleep(*d).await,
            None => return Ok(statuses),
        }
    }
}

/// Where the simulator sends its webhooks by itself (defined with the configuration, so
/// that the shared state can hold one without importing this module).
pub use crate::config::WebhookSubscription as Subscription;

/// Starts (`Some`) or stops (`None`) sending the account's webhooks by itself.
pub fn subscribe(st: &Shared, sub: Option<Subscription>) {
    if let Ok(mut w) = st.webhooks.lock() {
        *w = sub;
    }
}

/// Sends `event` to the subscription, if any, in the background with Zoom's retries. The
/// body is made now (the meeting as it is now); the deliveries are signed when they go.
fn notify(st: &Shared, event: WebhookEvent) {
    let Some(sub) = st.webhooks.lock().ok().and_then(|w| w.clone()) else {
        return;
    };
    let body = match envelope(st, &event) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "webhook not sent");
            return;
        }
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("webhook not sent: no async runtime to send it from");
        return;
    };
    let offset = st.clock_offset.load(std::sync::atomic::Ordering::Relaxed);
    runtime.spawn(async move {
        let mut waits = retry_delays(sub.retry_scale).into_iter();
        loop {
            let ts = jiff::Timestamp::now().as_second() + offset;
            let status = deliver_at(&sub.url, &sub.secret_token, &body, ts)
                .await
                .unwrap_or(0);
            if (200..300).contains(&status) {
                return;
            }
            match waits.next() {
                Some(d) => tokio::time::sleep(d).await,
                None => {
                    tracing::warn!(status, "webhook given up after Zoom's retries");
                    return;
                }
            }
        }
    });
}

/// A meeting was added to the live account: its recording is complete (a transcript may
/// still be processing), and its summary is ready if it has one.
pub fn on_meeting_added(st: &Shared, m: &ManifestMeeting) {
    notify(
        st,
        WebhookEvent::RecordingCompleted {
            meeting_uuid: m.uuid.clone(),
        },
    );
    if m.has_summary {
        notify(
            st,
            WebhookEvent::SummaryCompleted {
                meeting_uuid: m.uuid.clone(),
            },
        );
    }
}

/// Files of a meeting finished processing: a transcript is told as
/// `recording.transcript_completed`, anything else as `recording.completed`.
pub fn on_processing_finished(st: &Shared, meeting_uuid: &str, finished: &[ManifestFile]) {
    let transcript = finished
        .iter()
        .any(|f| f.file_type.eq_ignore_ascii_case("TRANSCRIPT"));
    let meeting_uuid = meeting_uuid.to_owned();
    notify(
        st,
        if transcript {
            WebhookEvent::TranscriptCompleted { meeting_uuid }
        } else {
            WebhookEvent::RecordingCompleted { meeting_uuid }
        },
    );
}
