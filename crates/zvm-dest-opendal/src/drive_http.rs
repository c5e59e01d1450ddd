//! What the cloud drives' own uploads share ([`crate::gdrive_upload`], ...): the service's
//! addresses (injectable, so that tests reach a fake of the protocol over loopback), the
//! OAuth access token (renewed through the service's token endpoint before it expires and
//! once on a 401, when zvm holds a refresh token), and errors that never carry a token, a
//! session URL or a request's URL: only the status and the words of the service's error
//! body.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opendal::{Error, ErrorKind};
use serde::Deserialize;

use crate::drive_auth::DriveAuth;

/// Attempts of one request on a temporary error (as OpenDAL's retry layer gives its own).
pub(crate) const ATTEMPTS: u32 = crate::transport::RETRIES as u32 + 1;

/// The one chunk an upload holds: the bytes gathered since the last chunk went out, never
/// more than the chunk size, so that a file of any size costs one chunk of memory. The
/// largest ever held is noted in `peak`, shared by a destination's uploads (the tests read
/// it to show memory stays bounded).
pub(crate) struct ChunkBuffer {
    held: bytes::BytesMut,
    size: usize,
    peak: Arc<AtomicUsize>,
}

impl ChunkBuffer {
    pub(crate) fn new(size: usize, peak: Arc<AtomicUsize>) -> Self {
        Self {
            held: bytes::BytesMut::new(),
            size,
            peak,
        }
    }

    /// Moves bytes from the front of `data` into the chunk, up to its size; whether the
    /// chunk is now full (then [`Self::take`] it before filling again).
    pub(crate) fn fill(&mut self, data: &mut bytes::Bytes) -> bool {
        let room = self.size - self.held.len();
        self.held
            .extend_from_slice(&data.split_to(room.min(data.len())));
        self.peak.fetch_max(self.held.len(), Ordering::Relaxed);
        self.held.len() == self.size
    }

    /// The bytes held, leaving none.
    pub(crate) fn take(&mut self) -> bytes::Bytes {
        self.held.split().freeze()
    }

    pub(crate) fn len(&self) -> usize {
        self.held.len()
    }
}

/// Where a drive's requests go (no trailing `/`).
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    /// Metadata requests (folders, file lookups).
    pub api: String,
    /// Upload sessions.
    pub upload: String,
    /// The OAuth token endpoint (a refresh token is exchanged there).
    pub token: String,
    /// The first pause before a retry (doubled each time, up to 32 times it).
    pub retry_pause: Duration,
}

impl Endpoints {
    /// Each address checked as a service endpoint: `https://`, or `http://` to this machine
    /// only (a fake of the service in a test).
    pub(crate) fn checked(self) -> Result<Endpoints, String> {
        Ok(Endpoints {
            api: crate::url::service_endpoint(&self.api)?,
            upload: crate::url::service_endpoint(&self.upload)?,
            token: crate::url::service_endpoint(&self.token)?,
            retry_pause: self.retry_pause,
        })
    }
}

/// The default first pause before a retry.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The HTTP side of one drive destination: the client, the addresses, the access token.
pub(crate) struct DriveHttp {
    pub client: reqwest::Client,
    pub ep: Endpoints,
    auth: DriveAuth,
    /// The access token in use and when it is to be renewed (`None` before the first).
    token: tokio::sync::Mutex<Option<(String, Option<Instant>)>>,
    /// Extra fields of the token request (Microsoft wants the scope again).
    token_extra: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

impl DriveHttp {
    pub(crate) fn new(
        ep: Endpoints,
        auth: DriveAuth,
        token_extra: Vec<(&'static str, &'static str)>,
    ) -> Self {
        Self {
            client: crate::transport::part_client(),
            ep,
            auth,
            token: tokio::sync::Mutex::new(None),
            token_extra,
        }
    }

    /// The access token to send now (renewed first if it is about to expire).
    pub(crate) async fn bearer(&self) -> opendal::Result<String> {
        let mut held = self.token.lock().await;
        if let Some((t, until)) = held.as_ref()
            && until.is_none_or(|u| Instant::now() < u)
        {
            return Ok(t.clone());
        }
        let fresh = self.fetch_token().await?;
        let t = fresh.0.clone();
        *held = Some(fresh);
        Ok(t)
    }

    /// After a 401 answered to `stale`: a new token if zvm can get one (a refresh token),
    /// else the refusal. A token renewed meanwhile by another request counts.
    pub(crate) async fn renew(&self, stale: &str) -> opendal::Result<()> {
        let mut held = self.token.lock().await;
        if held.as_ref().is_some_and(|(t, _)| t != stale) {
            return Ok(());
        }
        match self.auth {
            DriveAuth::AccessToken(_) => Err(Error::new(
                ErrorKind::PermissionDenied,
                "the access token was refused (status: 401; it may have expired): set a refresh token with its client id and secret, which zvm renews as needed",
            )),
            DriveAuth::Refresh { .. } => {
                *held = Some(self.fetch_token().await?);
                Ok(())
            }
        }
    }

    async fn fetch_token(&self) -> opendal::Result<(String, Option<Instant>)> {
        let DriveAuth::Refresh {
            refresh_token,
            client_id,
            client_secret,
        } = &self.auth
        else {
            let DriveAuth::AccessToken(t) = &self.auth else {
                unreachable!()
            };
            return Ok((t.clone(), None));
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ];
        form.extend(self.token_extra.iter().copied());
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            self.pause(attempt).await;
            let resp = match self.client.post(&self.ep.token).form(&form).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = Some(transport_error("renew the access token", e));
                    continue;
                }
            };
            let status = resp.status();
            let body = resp.bytes().await.unwrap_or_default();
            if status.is_success() {
                let t: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
                    Error::new(
                        ErrorKind::Unexpected,
                        format!("the token endpoint's answer does not read: {e}"),
                    )
                })?;
                let until = t.expires_in.map(|s| {
                    // Renewed ahead of time: two minutes early, or halfway for short ones.
                    let early = (s / 2).min(120);
                    Instant::now() + Duration::from_secs(s - early)
                });
                return Ok((t.access_token, until));
            }
            let e = status_error("renew the access token", status.as_u16(), &body);
            if status.is_client_error() && status.as_u16() != 429 {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "{} (the refresh token or its client was refused: authorise zvm again to get a new refresh token)",
                        e.message()
                    ),
                ));
            }
            if !e.is_temporary() {
                return Err(e);
            }
            last = Some(e);
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Unexpected, "no attempt was made")))
    }

    /// Waits before attempt `attempt` (none before the first).
    pub(crate) async fn pause(&self, attempt: u32) {
        if attempt > 0 {
            tokio::time::sleep(self.ep.retry_pause * (1 << (attempt - 1).min(5))).await;
        }
    }

    /// Sends the request `build` makes with the current token (`Authorization: Bearer`),
    /// once more with a renewed token after a 401. Transport errors are temporary and carry
    /// no URL; every status is returned to the caller.
    pub(crate) async fn send_authorised(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> opendal::Result<reqwest::Response> {
        let mut renewed = false;
        loop {
            let token = self.bearer().await?;
            let resp = build()
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| transport_error(what, e))?;
            if resp.status().as_u16() == 401 && !renewed {
                renewed = true;
                self.renew(&token).await?;
                continue;
            }
            return Ok(resp);
        }
    }

    /// [`Self::call_once`] retried on temporary errors (transport, 429, 5xx); an error
    /// status after that is an error, a success is returned with its body.
    pub(crate) async fn call(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> opendal::Result<(reqwest::header::HeaderMap, bytes::Bytes)> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            self.pause(attempt).await;
            match self.call_once(what, &build).await {
                Ok(answer) => return Ok(answer),
                Err(e) if e.is_temporary() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Unexpected, "no attempt was made")))
    }

    /// One [`Self::send_authorised`] request and its whole answer: a success with its
    /// headers and body, else an error that is temporary where a retry may help (no answer,
    /// a body cut off, 429, 5xx). For callers whose retries need more than the request
    /// again (Drive looks for a folder again before it retries creating it).
    pub(crate) async fn call_once(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> opendal::Result<(reqwest::header::HeaderMap, bytes::Bytes)> {
        let resp = self.send_authorised(what, build).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| transport_error(what, e))?;
        if status.is_success() {
            Ok((headers, body))
        } else {
            Err(status_error(what, status.as_u16(), &body))
        }
    }
}

/// A request that got no answer: temporary, and without its URL (a session URL is a
/// credential).
pub(crate) fn transport_error(what: &str, e: reqwest::Error) -> Error {
    let e = e.without_url();
    let mut text = format!("{what}: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let s = c.to_string();
        if !s.contains("://") {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    Error::new(ErrorKind::Unexpected, text).set_temporary()
}

/// An error answer, in OpenDAL's terms: 401/403 a refusal, 404 not found, 429 and 5xx
/// (but 507) temporary. The message is the status and the words of the service's error
/// (its `message`, `code` or `error_summary`), never the request's URL.
pub(crate) fn status_error(what: &str, status: u16, body: &[u8]) -> Error {
    let message = format!("{what}: status: {status} {}", error_words(body));
    let kind = match status {
        401 | 403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        _ => ErrorKind::Unexpected,
    };
    let e = Error::new(kind, message.trim_end().to_string());
    if (status >= 500 && status != 507) || status == 429 {
        e.set_temporary()
    } else {
        e
    }
}

/// What an error body says: the JSON error's message and code (Google, Microsoft), or
/// Dropbox's `error_summary`, else the start of the body; at most 200 characters, words
/// that look like URLs left out.
fn error_words(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let pick = |v: &serde_json::Value, k: &str| {
                v.get(k).and_then(|x| x.as_str()).map(str::to_string)
            };
            let mut words = Vec::new();
            if let Some(err) = v.get("error") {
                if let Some(s) = err.as_str() {
                    words.push(s.to_string());
                }
                // Google's reason is in errors[0].reason.
                if let Some(r) = err
                    .get("errors")
                    .and_then(|e| e.get(0))
                    .and_then(|e| pick(e, "reason"))
                {
                    words.push(r);
                }
                words.extend(pick(err, "code"));
                words.extend(pick(err, "message"));
            }
            words.extend(pick(&v, "error_summary"));
            words.extend(pick(&v, "error_description"));
            words.join(" ")
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    text.split_whitespace()
        .filter(|w| !w.contains("://"))
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The start of the message of a stored file that is not what was sent ([`crate::errors`]
/// reports it as a mismatch).
pub(crate) const MISMATCH: &str = "the stored file differs from what was sent";

pub(crate) fn mismatch(detail: String) -> Error {
    Error::new(ErrorKind::Unexpected, format!("{MISMATCH}: {detail}"))
}

/// A session URL the service gave: `https://`, or `http://` to this machine only.
#[cfg(any(feature = "gdrive", feature = "onedrive"))]
pub(crate) fn check_session_url(u: &str) -> opendal::Result<reqwest::Url> {
    let bad = |why: &str| {
        // Not the URL itself: it is a credential.
        Error::new(
            ErrorKind::Unexpected,
            format!("the service gave an upload session address that {why}"),
        )
    };
    let url = reqwest::Url::parse(u).map_err(|_| bad("does not parse"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if url.host().is_some_and(|h| crate::url::is_loopback(&h)) => Ok(url),
        _ => Err(bad("is not https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_words_keep_the_service_words_and_drop_urls() {
        let google = br#"{"error":{"code":403,"message":"The user's Drive storage quota has been exceeded. See https://x/y?token=abc","errors":[{"reason":"storageQuotaExceeded"}]}}"#;
        let w = error_words(google);
        assert!(
            w.starts_with("storageQuotaExceeded The user's Drive"),
            "{w}"
        );
        assert!(!w.contains("abc"), "{w}");
        let dropbox = br#"{"error_summary":"path/insufficient_space/..","error":{".tag":"path"}}"#;
        assert_eq!(error_words(dropbox), "path/insufficient_space/..");
        let e = status_error("upload", 503, b"busy");
        assert!(e.is_temporary());
        assert!(!status_error("upload", 507, b"").is_temporary());
    }
}
