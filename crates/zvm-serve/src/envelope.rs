//! What an accepted webhook asks for: Zoom's envelope (`event`, `event_ts`, `payload`) read
//! leniently, the meeting it names, the key that Zoom's retries of it share, and the work
//! it means for the daemon.

use serde::Deserialize;
use sha2::Digest;

/// The envelope; unknown fields are ignored (Zoom adds fields).
#[derive(Debug, Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    event_ts: Option<i64>,
    #[serde(default)]
    payload: Payload,
}

#[derive(Debug, Default, Deserialize)]
struct Payload {
    #[serde(default, rename = "plainToken")]
    plain_token: Option<String>,
    #[serde(default)]
    object: Option<Object>,
}

#[derive(Debug, Default, Deserialize)]
struct Object {
    /// Recording events name the meeting occurrence here.
    #[serde(default)]
    uuid: Option<String>,
    /// `meeting.summary_completed` names it here.
    #[serde(default)]
    meeting_uuid: Option<String>,
}

/// What an event asks the daemon to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Copy the meeting (what is new in it: its files, a late transcript, the summary).
    Copy { meeting_uuid: String },
    /// The meeting left the cloud (trashed or deleted in Zoom): record it.
    LeftCloud { meeting_uuid: String },
    /// The meeting came back from the trash: record it, and copy what of it is missing.
    BackInCloud { meeting_uuid: String },
}

/// The body as the queue keeps it: without `download_token` (a credential for the
/// meeting's downloads that the worker does not use), so the state file holds no secret.
pub fn body_to_store(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("download_token");
            }
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// `endpoint.url_validation`: answer with the token's HMAC.
    UrlValidation { plain_token: String },
    /// An event with work to queue.
    Event {
        event: String,
        meeting_uuid: String,
        dedup_key: String,
    },
    /// A signed event this daemon has nothing to do for (answered 200, not queued).
    Ignored { event: String },
}

/// The body is not an envelope Zoom sends.
#[derive(Debug, thiserror::Error)]
#[error("the body is not a Zoom webhook envelope: {0}")]
pub struct Malformed(String);

/// Reads a verified body.
pub fn parse(body: &[u8]) -> Result<Incoming, Malformed> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| Malformed(e.to_string()))?;
    if env.event == "endpoint.url_validation" {
        let plain_token = env
            .payload
            .plain_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Malformed("url_validation without payload.plainToken".into()))?;
        return Ok(Incoming::UrlValidation { plain_token });
    }
    if work_of(&env.event, "").is_none() {
        return Ok(Incoming::Ignored { event: env.event });
    }
    let meeting_uuid = env
        .payload
        .object
        .and_then(|o| o.uuid.or(o.meeting_uuid))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Malformed(format!("{} names no meeting uuid", env.event)))?;
    // Zoom's retries of one event carry the same name, `event_ts` and meeting; a new event
    // about the same meeting (a transcript after the recording) differs in name or time.
    let dedup_key = match env.event_ts {
        Some(ts) => format!("{}|{ts}|{meeting_uuid}", env.event),
        None => format!("sha256:{}", hex::encode(sha2::Sha256::digest(body))),
    };
    Ok(Incoming::Event {
        event: env.event,
        meeting_uuid,
        dedup_key,
    })
}

/// The work an event name means, for the meeting `meeting_uuid`.
pub fn work_of(event: &str, meeting_uuid: &str) -> Option<Work> {
    let meeting_uuid = meeting_uuid.to_owned();
    match event {
        "recording.completed" | "recording.transcript_completed" | "meeting.summary_completed" => {
            Some(Work::Copy { meeting_uuid })
        }
        "recording.trashed" | "recording.deleted" => Some(Work::LeftCloud { meeting_uuid }),
        "recording.recovered" => Some(Work::BackInCloud { meeting_uuid }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_share_a_key_and_other_events_do_not() {
        let a = br#"{"event":"recording.completed","event_ts":5,"download_token":"x","payload":{"object":{"uuid":"U=="}}}"#;
        let retry = br#"{"event":"recording.completed","event_ts":5,"download_token":"y","payload":{"object":{"uuid":"U=="}}}"#;
        let transcript = br#"{"event":"recording.transcript_completed","event_ts":9,"payload":{"object":{"uuid":"U=="}}}"#;
        let key = |b: &[u8]| match parse(b).unwrap() {
            Incoming::Event { dedup_key, .. } => dedup_key,
            other => panic!("{other:?}"),
        };
        assert_eq!(key(a), key(retry));
        assert_ne!(key(a), key(transcript));
    }

    #[test]
    fn the_stored_body_keeps_no_download_token() {
        let b = br#"{"event":"recording.completed","event_ts":5,"download_token":"SECRET-dl","payload":{"object":{"uuid":"U=="}}}"#;
        let stored = body_to_store(b);
        assert!(!stored.contains("SECRET-dl"), "{stored}");
        assert!(stored.contains("U=="), "{stored}");
    }

    #[test]
    fn summaries_name_their_meeting_in_meeting_uuid() {
        let b = br#"{"event":"meeting.summary_completed","event_ts":1,"payload":{"object":{"meeting_uuid":"M=="}}}"#;
        match parse(b).unwrap() {
            Incoming::Event { meeting_uuid, .. } => assert_eq!(meeting_uuid, "M=="),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validation_unknown_events_and_garbage() {
        let v = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}"#;
        assert_eq!(
            parse(v).unwrap(),
            Incoming::UrlValidation {
                plain_token: "abc".into()
            }
        );
        let other = br#"{"event":"meeting.started","payload":{"object":{"uuid":"U"}}}"#;
        assert!(matches!(parse(other).unwrap(), Incoming::Ignored { .. }));
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"event":"recording.completed","payload":{}}"#).is_err());
    }
}
