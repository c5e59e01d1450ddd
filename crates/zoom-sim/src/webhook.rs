//! Sends Zoom-style signed webhooks (zoom-api.md §7) to a URL, for the daemon's tests.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::meetings::meeting_json;
use crate::oauth::issue_token;
use crate::state::Shared;

/// Which event to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WebhookEvent {
    /// `recording.completed` for the meeting with this uuid (with a `download_token`).
    RecordingCompleted { meeting_uuid: String },
    /// `endpoint.url_validation` with this plain token.
    UrlValidation { plain_token: String },
}

pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn send(
    st: &Shared,
    url: &str,
    secret: &str,
    event: WebhookEvent,
) -> anyhow::Result<u16> {
    let now = st.now();
    let body = match event {
        WebhookEvent::RecordingCompleted { meeting_uuid } => {
            let object = {
                let world = st
                    .world
                    .read()
                    .map_err(|_| anyhow::anyhow!("simulator state poisoned"))?;
                let m = world
                    .account
                    .meetings
                    .iter()
                    .find(|m| m.uuid == meeting_uuid)
                    .ok_or_else(|| anyhow::anyhow!("no meeting {meeting_uuid}"))?;
                meeting_json(st, m, false)
            };
            serde_json::json!({
                "event": "recording.completed",
                "event_ts": now.as_millisecond(),
                "download_token": issue_token(st),
                "payload": {"account_id": st.cfg.account_id, "object": object},
            })
        }
        WebhookEvent::UrlValidation { plain_token } => serde_json::json!({
            "event": "endpoint.url_validation",
            "event_ts": now.as_millisecond(),
            "payload": {"plainToken": plain_token},
        }),
    };
    let body = body.to_string();
    let ts = now.as_second().to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-zm-request-timestamp", &ts)
        .header("x-zm-signature", signature(secret, &ts, &body))
        .body(body)
        .send()
        .await?;
    Ok(resp.status().as_u16())
}
