//! What an accepted webhook asks for: Zoom's envelope (`event`, `event_ts`, `payload`) read
//! leniently, the meeting it names, the key that Zoom's retries of it share, the work it
//! means for the daemon, and the `download_token` it may carry for its meeting's files.

use std::time::Duration;

use serde::Deserialize;
use sha2::Digest;
use zvm_zoom::Secret;

/// How long a webhook's `download_token` downloads, from the event's time: Zoom documents
/// about 24 hours (zoom-api.md §1).
pub const DOWNLOAD_TOKEN_LIFE: Duration = Duration::from_secs(24 * 3600);

/// The envelope; unknown fields are ignored (Zoom adds fields).
#[derive(Debug, Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    event_ts: Option<i64>,
    #[serde(default)]
    download_token: Option<String>,
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
    /// Recording events list the meeting's files, each with its `download_url`.
    #[serde(default)]
    recording_files: Vec<FileUrl>,
    #[serde(default)]
    participant_audio_files: Vec<FileUrl>,
}

#[derive(Debug, Default, Deserialize)]
struct FileUrl {
    #[serde(default)]
    download_url: Option<String>,
}

/// A webhook's `download_token` and the download URLs of its meeting's files, which it
/// downloads until `valid_for` has passed (from now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadToken {
    pub token: Secret,
    pub urls: Vec<String>,
    pub valid_for: Duration,
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
        Ok(mut v) => stored_form(&mut v, body),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// [`body_to_store`] of `body`, already read as `value`: written anew only when it held a
/// download token, else kept byte for byte.
fn stored_form(value: &mut serde_json::Value, body: &[u8]) -> String {
    let had_token = value
        .as_object_mut()
        .is_some_and(|o| o.remove("download_token").is_some());
    if had_token {
        value.to_string()
    } else {
        String::from_utf8_lossy(body).into_owned()
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
        /// The event's `download_token` for its meeting's files, when it has one and it is
        /// still valid (never stored: see [`body_to_store`]).
        download: Option<DownloadToken>,
        /// The body as the queue keeps it ([`body_to_store`]).
        stored_body: String,
    },
    /// A signed event this daemon has nothing to do for (answered 200, not queued).
    Ignored { event: String },
}

/// The body is not an envelope Zoom sends.
#[derive(Debug, thiserror::Error)]
#[error("the body is not a Zoom webhook envelope: {0}")]
pub struct Malformed(String);

/// Reads a verified body (a download token's life counted to now).
pub fn parse(body: &[u8]) -> Result<Incoming, Malformed> {
    parse_at(body, jiff::Timestamp::now().as_millisecond())
}

/// [`parse`] at the time `now_ms` (Unix milliseconds).
pub fn parse_at(body: &[u8], now_ms: i64) -> Result<Incoming, Malformed> {
    // Read once: the typed envelope comes from the same tree that, less its download
    // token, is stored (a second parse of the body for the stored form cost 5 % of the
    // daemon's CPU in a burst).
    let mut value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Malformed(e.to_string()))?;
    let env = Envelope::deserialize(&value).map_err(|e| Malformed(e.to_string()))?;
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
    let object = env.payload.object.unwrap_or_default();
    let download = download_token(env.download_token, &object, env.event_ts, now_ms);
    let meeting_uuid = object
        .uuid
        .or(object.meeting_uuid)
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
        download,
        stored_body: stored_form(&mut value, body),
    })
}

/// The event's download token with its files' URLs, if it has both and time is left on it
/// (counted from `event_ts`, or from now when the event has none).
fn download_token(
    token: Option<String>,
    object: &Object,
    event_ts_ms: Option<i64>,
    now_ms: i64,
) -> Option<DownloadToken> {
    let token = token.filter(|t| !t.is_empty())?;
    let urls: Vec<String> = object
        .recording_files
        .iter()
        .chain(&object.participant_audio_files)
        .filter_map(|f| f.download_url.clone())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return None;
    }
    let age_ms = u64::try_from(now_ms.saturating_sub(event_ts_ms.unwrap_or(now_ms))).unwrap_or(0);
    let valid_for = DOWNLOAD_TOKEN_LIFE
        .checked_sub(Duration::from_millis(age_ms))
        .filter(|left| !left.is_zero())?;
    Some(DownloadToken {
        token: Secret::new(token),
        urls,
        valid_for,
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
        // What the handler stores is that same form, from its one read of the body.
        let Incoming::Event { stored_body, .. } = parse(b).unwrap() else {
            panic!("an event")
        };
        assert_eq!(stored_body, stored);
        // Without a token the body is kept as it came, byte for byte.
        let plain =
            br#"{"event":"recording.completed", "event_ts":5,"payload":{"object":{"uuid":"U=="}}}"#;
        let Incoming::Event { stored_body, .. } = parse(plain).unwrap() else {
            panic!("an event")
        };
        assert_eq!(stored_body.as_bytes(), plain);
    }

    #[test]
    fn a_download_token_comes_with_its_files_urls_and_what_is_left_of_its_day() {
        let hour_ms = 3_600_000;
        let b = br#"{"event":"recording.completed","event_ts":1000,"download_token":"DL","payload":{"object":{"uuid":"U==","recording_files":[{"download_url":"https://z/rec/download/a"},{"id":"x"}],"participant_audio_files":[{"download_url":"https://z/rec/download/p"}]}}}"#;
        let Incoming::Event { download, .. } = parse_at(b, 1000 + 2 * hour_ms).unwrap() else {
            panic!("an event")
        };
        let d = download.expect("a download token");
        assert_eq!(d.token.expose(), "DL");
        assert_eq!(
            d.urls,
            ["https://z/rec/download/a", "https://z/rec/download/p"]
        );
        assert_eq!(d.valid_for, Duration::from_secs(22 * 3600));
        // A day after the event: nothing left of it.
        let Incoming::Event { download, .. } = parse_at(b, 1000 + 24 * hour_ms).unwrap() else {
            panic!("an event")
        };
        assert_eq!(download, None);
        // No token, or no file to download: none.
        let none = br#"{"event":"recording.completed","event_ts":1,"payload":{"object":{"uuid":"U==","recording_files":[{"download_url":"https://z/a"}]}}}"#;
        assert!(matches!(
            parse(none).unwrap(),
            Incoming::Event { download: None, .. }
        ));
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
