//! OpenDAL's errors as [`DestError`]s: a full bucket or quota stops the run (like a full
//! disk), a refusal says to check the credentials, a network fault may pass on the next
//! attempt. Only the error's kind, message and cause are shown, never its context, which
//! holds the request's URI and the response's headers; a URL's query is cut from the cause.

use opendal::ErrorKind;
use zvm_dest::DestError;

/// Error codes and HTTP statuses by which S3-compatible servers say "no room": S3's own
/// codes, MinIO's, and WebDAV's 507 Insufficient Storage (which some gateways pass on).
const FULL_MARKERS: [&str; 8] = [
    "QuotaExceeded",
    "EntityTooLarge",
    "InsufficientStorage",
    "XMinioStorageFull",
    "StorageFull",
    "status: 507",
    // OneDrive's and Dropbox's (Google Drive's storageQuotaExceeded is matched above).
    "quotaLimitReached",
    "insufficient_space",
];

pub(crate) fn of(op: &'static str, location: &str, e: &opendal::Error) -> DestError {
    let full_text = e.to_string();
    #[cfg(feature = "drive-uploads")]
    if e.message().starts_with(crate::drive_http::MISMATCH) {
        return DestError::RemoteMismatch {
            location: location.to_string(),
            detail: e.message().to_string(),
        };
    }
    let mut detail = format!("{}: {}", e.kind(), e.message());
    // The cause, where there is one, says what the message does not (SFTP: what `ssh`
    // reported, such as "Host key verification failed").
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        detail.push_str(": ");
        detail.push_str(&without_queries(&c.to_string()));
        cause = c.source();
    }
    if FULL_MARKERS.iter().any(|m| full_text.contains(m)) {
        return DestError::RemoteFull {
            location: location.to_string(),
            detail,
        };
    }
    // OpenDAL's WebDAV service calls a refused login (401) "unexpected"; it is a refusal.
    let unauthorized = full_text.contains("status: 401");
    match e.kind() {
        _ if unauthorized => DestError::RemoteDenied {
            op,
            location: location.to_string(),
            detail,
        },
        ErrorKind::PermissionDenied => DestError::RemoteDenied {
            op,
            location: location.to_string(),
            detail,
        },
        _ => DestError::Remote {
            op,
            location: location.to_string(),
            detail,
            transient: e.is_temporary() || e.kind() == ErrorKind::RateLimited,
        },
    }
}

/// `text` with every `?query` cut (up to the next blank, quote or bracket): a URL's query
/// may hold a signature or a token.
fn without_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for c in text.chars() {
        if c == '?' {
            skipping = true;
            continue;
        }
        if skipping && (c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>')) {
            skipping = false;
        }
        if !skipping {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_are_cut_from_causes() {
        assert_eq!(
            super::without_queries("error for url (http://h/b/k?X-Amz-Signature=abc) and more?"),
            "error for url (http://h/b/k) and more"
        );
    }
}
