//! The crate's one error type, [`ZoomError`], and its single classifier
//! ([`ZoomError::class`]): every retry decision in the crate is made from it, so a status code
//! or an I/O failure is judged the same way in listing, auth and downloads. It also tells a
//! refused admin listing ([`ZoomError::is_refused`]) from other failures, with the scope to
//! tell the admin about.

use std::error::Error as StdError;
use std::time::Duration;

/// How an error should be handled by a retrying caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Worth another attempt after a backoff (5xx, connection reset, stall).
    Transient,
    /// Rate limited; wait at least this long if Zoom said so (`None`: use the backoff).
    RateLimited(Option<Duration>),
    /// Retrying will not help.
    Fatal,
}

/// Zoom's JSON error body: `{"code":int,"message":str}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ApiErrorBody {
    /// Zoom's error code (not the HTTP status).
    #[serde(default)]
    pub code: Option<i64>,
    /// Zoom's message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The admin listings that an account, an app's scopes or a plan may refuse, each with a
/// slower way to the same facts (zoom-api.md §2 "Account level", §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminListing {
    /// `GET /accounts/me/recordings` (instead: list the users, then each user's recordings).
    AccountRecordings,
    /// `GET /meetings/meeting_summaries` (instead: ask each meeting for its summary).
    MeetingSummaries,
}

impl AdminListing {
    /// The granular scope the app needs for the listing, as Zoom documents it.
    pub fn scope(self) -> &'static str {
        match self {
            AdminListing::AccountRecordings => "cloud_recording:read:list_account_recordings:admin",
            AdminListing::MeetingSummaries => "meeting_summary:read:list_summaries:admin",
        }
    }

    /// The classic scope that also grants it (apps made before granular scopes).
    pub fn classic_scope(self) -> &'static str {
        match self {
            AdminListing::AccountRecordings => "account:read:admin",
            AdminListing::MeetingSummaries => "meeting_summary:read:admin",
        }
    }

    /// What the listing is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            AdminListing::AccountRecordings => "the account-wide recordings listing",
            AdminListing::MeetingSummaries => "the AI Companion summary listing",
        }
    }

    fn hint(self, scope: &str) -> String {
        let what = match self {
            AdminListing::AccountRecordings => {
                "lists every user's recordings with one request per month instead of one per \
                 user per month"
            }
            AdminListing::MeetingSummaries => {
                "tells which meetings have a summary instead of asking each meeting"
            }
        };
        format!(
            "Zoom refused {} to this app or plan; it {what}. To use it, add the scope {scope} \
             (classic apps: {}) in the Zoom Marketplace app, or check that the account's plan \
             and the admin's role allow it",
            self.describe(),
            self.classic_scope()
        )
    }
}

/// Every failure this crate reports. Messages never contain tokens or query strings.
#[derive(Debug, thiserror::Error)]
pub enum ZoomError {
    /// Configuration refused before any request (e.g. plain http to a remote host).
    #[error("configuration error: {0}")]
    Config(String),
    /// An HTTP answer Zoom considers an error.
    #[error("Zoom API error: HTTP {status}{} {}{}", code_str(*.code), .message, hint_str(.hint))]
    Api {
        /// HTTP status.
        status: u16,
        /// Zoom error code, if the body had one.
        code: Option<i64>,
        /// Zoom message or a short body excerpt.
        message: String,
        /// What the user should do.
        hint: Option<String>,
        /// Delay Zoom asked for (429/503).
        retry_after: Option<Duration>,
        /// Set when this is Zoom refusing one of the admin listings to this app or plan
        /// (see [`ZoomError::is_refused`]): the caller can fall back to the per-user or
        /// per-meeting calls.
        refused: Option<AdminListing>,
    },
    /// Transport failure (connection, TLS, body read). The URL is stripped.
    #[error("HTTP transport error: {0}")]
    Http(#[source] reqwest::Error),
    /// The answer could not be understood.
    #[error(
        "could not parse Zoom's answer from {what}: {detail} (the answer is malformed: Zoom or a proxy between you and Zoom sent it; nothing was changed, try again later and report it if it persists)"
    )]
    Parse {
        /// Which endpoint.
        what: String,
        /// serde's message.
        detail: String,
    },
    /// OAuth failure (token endpoint, login flow).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A user OAuth login whose `state` did not match (possible CSRF).
    #[error("OAuth state mismatch: the redirect did not come from our login request")]
    StateMismatch,
    /// No stored token / not logged in.
    #[error("not logged in: run `zvm auth login` (or configure Server-to-Server credentials)")]
    NotLoggedIn,
    /// Token storage failure.
    #[error("token store: {0}")]
    TokenStore(String),
    /// A download answered with an HTML page (Zoom's "Only the host can download" page).
    #[error("download answered with an HTML page instead of media (token not accepted)")]
    HtmlInsteadOfMedia,
    /// 416: the resume offset is past the end of the file.
    #[error("requested range not satisfiable (resume offset {offset} past the end)")]
    RangeNotSatisfiable {
        /// The offset asked for.
        offset: u64,
    },
    /// A download redirect that is not followed (plain http to a remote host, too many
    /// hops, an unusable Location).
    #[error("download redirect refused: {0}")]
    Redirect(String),
    /// No bytes arrived for the stall timeout.
    #[error("download stalled: no data for {0:?}")]
    Stalled(Duration),
    /// Local I/O (token file, listener).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

fn code_str(code: Option<i64>) -> String {
    code.map(|c| format!(" (Zoom code {c}):"))
        .unwrap_or_else(|| ":".into())
}
fn hint_str(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" — {h}")).unwrap_or_default()
}

impl From<reqwest::Error> for ZoomError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest errors embed the URL, which may carry a signature or token.
        ZoomError::Http(e.without_url())
    }
}

/// What to tell the user for a given status and Zoom code.
pub fn hint_for(status: u16, code: Option<i64>) -> Option<String> {
    let h = match (status, code) {
        (403, Some(4711 | 4700)) => {
            "the app lacks a scope: listing needs cloud_recording:read:list_user_recordings \
             (:admin for other users), deleting cloud_recording:delete:meeting_recording / \
             cloud_recording:delete:recording_file, summaries meeting:read:summary, users \
             user:read:list_users:admin; add it in the Zoom Marketplace app and log in again"
        }
        (401, _) => {
            "the token was refused even after a refresh: run `zvm auth login` again, or check \
             the Server-to-Server account_id/client_id/client_secret"
        }
        (404, Some(1001)) => "no such user in this account: check the user id or email",
        (404, Some(3001)) => "no such meeting",
        (404, Some(3301)) => "the meeting has no cloud recording (already deleted?)",
        (400, Some(300)) => "a parameter or page token was refused",
        (400, Some(3303)) => "the meeting is still in progress; try again after it ends",
        (429, _) => "Zoom's rate limit was hit; lower concurrency or wait for the daily quota",
        _ => return None,
    };
    Some(h.to_owned())
}

impl ZoomError {
    /// Builds an API error from a status and raw body (JSON or not).
    pub fn api(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let parsed: ApiErrorBody = serde_json::from_str(body).unwrap_or_default();
        // Token endpoint errors use {"reason","error"}.
        let message = parsed.message.clone().unwrap_or_else(|| {
            serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| {
                    v.get("reason")
                        .or_else(|| v.get("error"))
                        .and_then(|m| m.as_str().map(str::to_owned))
                })
                .unwrap_or_else(|| body.chars().take(200).collect())
        });
        ZoomError::Api {
            status,
            code: parsed.code,
            hint: hint_for(status, parsed.code),
            message,
            retry_after,
            refused: None,
        }
    }

    /// Marks this error as Zoom refusing `listing` when it is one of the refusals
    /// zoom-api.md lists for it: 403 with code 4711 or 4700 (a missing scope, not allowed),
    /// 400 (not on the plan; but not code 300, a refused parameter or page token, which the
    /// slower calls would meet as well) or 404. Any other error is returned unchanged.
    pub fn refusing(self, listing: AdminListing) -> Self {
        match self {
            ZoomError::Api {
                status,
                code,
                message,
                retry_after,
                ..
            } if matches!(
                (status, code),
                (403, Some(4711 | 4700)) | (400, _) | (404, _)
            ) && code != Some(300) =>
            {
                let scope = named_scopes(&message)
                    .into_iter()
                    .find(|s| s.ends_with(":admin"))
                    .unwrap_or_else(|| listing.scope().to_owned());
                ZoomError::Api {
                    status,
                    code,
                    hint: Some(listing.hint(&scope)),
                    message,
                    retry_after,
                    refused: Some(listing),
                }
            }
            other => other,
        }
    }

    /// True when Zoom refused an admin listing to this app or plan (see
    /// [`ZoomError::refusing`]): fall back to the per-user or per-meeting calls. Other
    /// failures (5xx, network, a bad page token) are not refusals.
    pub fn is_refused(&self) -> bool {
        self.refused_listing().is_some()
    }

    /// Which admin listing Zoom refused, if this is such a refusal.
    pub fn refused_listing(&self) -> Option<AdminListing> {
        match self {
            ZoomError::Api { refused, .. } => *refused,
            _ => None,
        }
    }

    /// The scope to tell the admin about: for a refused admin listing, the `:admin` scope
    /// Zoom's 4711 message names, else the listing's documented scope; for any other missing
    /// scope (403 code 4711), the first scope the message names. `None` otherwise.
    pub fn scope_to_grant(&self) -> Option<String> {
        let ZoomError::Api {
            code,
            message,
            refused,
            ..
        } = self
        else {
            return None;
        };
        let named = named_scopes(message);
        match refused {
            Some(listing) => Some(
                named
                    .iter()
                    .find(|s| s.ends_with(":admin"))
                    .cloned()
                    .unwrap_or_else(|| listing.scope().to_owned()),
            ),
            None if *code == Some(4711) => named.into_iter().next(),
            None => None,
        }
    }

    /// HTTP status if this is an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ZoomError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Zoom error code if this is an API error with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            ZoomError::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// The one classifier: transient, rate-limited or fatal.
    pub fn class(&self) -> ErrorClass {
        match self {
            ZoomError::Api {
                status,
                retry_after,
                ..
            } => classify_status(*status, *retry_after),
            ZoomError::Http(e) => classify_transport(e),
            ZoomError::Stalled(_) | ZoomError::HtmlInsteadOfMedia => ErrorClass::Transient,
            ZoomError::Io(e) => classify_io(e.kind()),
            _ => ErrorClass::Fatal,
        }
    }
}

/// The scopes a 4711 message names: `...does not contain scopes:[a, b].` -> `[a, b]`. Only
/// words shaped like scopes are kept, so nothing else from the message is repeated.
fn named_scopes(message: &str) -> Vec<String> {
    let Some((_, rest)) = message.split_once("scopes:[") else {
        return Vec::new();
    };
    let Some((list, _)) = rest.split_once(']') else {
        return Vec::new();
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 100
                && s.contains(':')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'))
        })
        .map(str::to_owned)
        .collect()
}

/// Classifies an HTTP status. 408/429/5xx retry; everything else (incl. 401, which the auth
/// layer handles by refreshing once) is fatal to the retry loop.
pub fn classify_status(status: u16, retry_after: Option<Duration>) -> ErrorClass {
    match status {
        429 => ErrorClass::RateLimited(retry_after),
        408 | 500 | 502 | 503 | 504 | 520..=524 => match retry_after {
            Some(d) if status == 503 => ErrorClass::RateLimited(Some(d)),
            _ => ErrorClass::Transient,
        },
        500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Fatal,
    }
}

fn classify_io(kind: std::io::ErrorKind) -> ErrorClass {
    use std::io::ErrorKind::*;
    match kind {
        ConnectionReset | ConnectionAborted | ConnectionRefused | BrokenPipe | TimedOut
        | UnexpectedEof | Interrupted | NotConnected => ErrorClass::Transient,
        _ => ErrorClass::Fatal,
    }
}

/// Walks the source chain: TLS/certificate failures are fatal (never "retry until it works"),
/// I/O kinds decide, then reqwest's own flags.
fn classify_transport(e: &reqwest::Error) -> ErrorClass {
    let mut src: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(s) = src {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return ErrorClass::Fatal;
        }
        let text = s.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls handshake") {
            return ErrorClass::Fatal;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref()
                && inner.downcast_ref::<rustls::Error>().is_some()
            {
                return ErrorClass::Fatal;
            }
            return classify_io(io.kind());
        }
        src = s.source();
    }
    if e.is_builder() || e.is_redirect() || e.is_decode() && !e.is_body() {
        return ErrorClass::Fatal;
    }
    if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
        return ErrorClass::Transient;
    }
    ErrorClass::Fatal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_classified() {
        for s in 100u16..600 {
            let c = classify_status(s, None);
            let expect = match s {
                429 => ErrorClass::RateLimited(None),
                408 | 500..=599 => ErrorClass::Transient,
                _ => ErrorClass::Fatal,
            };
            assert_eq!(c, expect, "status {s}");
        }
        let d = Some(Duration::from_secs(3));
        assert_eq!(classify_status(429, d), ErrorClass::RateLimited(d));
        assert_eq!(classify_status(503, d), ErrorClass::RateLimited(d));
    }

    #[test]
    fn api_error_parses_body_and_hints() {
        let e = ZoomError::api(
            403,
            r#"{"code":4711,"message":"Invalid access token, does not contain scopes"}"#,
            None,
        );
        assert_eq!(e.code(), Some(4711));
        let s = e.to_string();
        assert!(s.contains("4711") && s.contains("scope"), "{s}");
        assert_eq!(e.class(), ErrorClass::Fatal);
        let e = ZoomError::api(
            400,
            r#"{"reason":"Invalid authorization code","error":"invalid_grant"}"#,
            None,
        );
        assert!(e.to_string().contains("Invalid authorization code"));
        let e = ZoomError::api(502, "<html>bad gateway</html>", None);
        assert_eq!(e.class(), ErrorClass::Transient);
        assert_eq!(
            ZoomError::api(
                404,
                r#"{"code":1001,"message":"User does not exist"}"#,
                None
            )
            .class(),
            ErrorClass::Fatal
        );
    }

    #[test]
    fn admin_listing_refusals_are_told_from_other_errors() {
        let listing = AdminListing::AccountRecordings;
        let refused = |status, body: &str| ZoomError::api(status, body, None).refusing(listing);
        let e = refused(
            403,
            r#"{"code":4711,"message":"Invalid access token, does not contain scopes:[cloud_recording:read:list_account_recordings, cloud_recording:read:list_account_recordings:admin]."}"#,
        );
        assert!(e.is_refused());
        assert_eq!(e.refused_listing(), Some(listing));
        assert_eq!(
            e.scope_to_grant().as_deref(),
            Some("cloud_recording:read:list_account_recordings:admin")
        );
        assert!(
            e.to_string().contains("list_account_recordings:admin"),
            "{e}"
        );
        assert_eq!(e.class(), ErrorClass::Fatal);
        for (status, body) in [
            (403, r#"{"code":4700,"message":"not authorized"}"#),
            (400, r#"{"code":200,"message":"not on the plan"}"#),
            (404, r#"{"code":2001,"message":"Account does not exist."}"#),
            (404, "<html>no such route</html>"),
        ] {
            let e = refused(status, body);
            assert!(e.is_refused(), "{status} {body}");
            assert_eq!(e.scope_to_grant().as_deref(), Some(listing.scope()));
        }
        for (status, body) in [
            (500, r#"{"code":500,"message":"Internal server error"}"#),
            (503, r#"{"code":503,"message":"Service Unavailable"}"#),
            (429, r#"{"code":429,"message":"rate"}"#),
            (401, r#"{"code":124,"message":"Invalid access token."}"#),
            (
                400,
                r#"{"code":300,"message":"The next page token is invalid or expired."}"#,
            ),
            (403, r#"{"code":2305,"message":"restricted"}"#),
        ] {
            let e = refused(status, body);
            assert!(!e.is_refused(), "{status} {body}");
            assert_eq!(e.status(), Some(status));
        }
        assert!(
            !ZoomError::Stalled(Duration::from_secs(1))
                .refusing(listing)
                .is_refused()
        );
        // A missing scope elsewhere is not a refused listing, but still names its scope.
        let e = ZoomError::api(
            403,
            r#"{"code":4711,"message":"Invalid access token, does not contain scopes:[meeting:read:summary]."}"#,
            None,
        );
        assert!(!e.is_refused());
        assert_eq!(e.scope_to_grant().as_deref(), Some("meeting:read:summary"));
        // Text that is not a scope is never repeated as one.
        assert!(named_scopes("scopes:[<script>, a b:c]").is_empty());
    }

    #[test]
    fn io_and_download_errors() {
        let e = ZoomError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(e.class(), ErrorClass::Transient);
        let e = ZoomError::Io(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(e.class(), ErrorClass::Fatal);
        assert_eq!(
            ZoomError::Stalled(Duration::from_secs(1)).class(),
            ErrorClass::Transient
        );
        assert_eq!(
            ZoomError::RangeNotSatisfiable { offset: 5 }.class(),
            ErrorClass::Fatal
        );
        assert_eq!(ZoomError::StateMismatch.class(), ErrorClass::Fatal);
    }
}
