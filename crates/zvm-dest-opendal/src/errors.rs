//! OpenDAL's errors as [`DestError`]s: a full bucket or quota stops the run (like a full
//! disk), a refusal says to check the credentials, a network fault may pass on the next
//! attempt. Only the error's kind and message are shown, never its context, which holds the
//! request's URI and the response's headers.

use opendal::ErrorKind;
use zvm_dest::DestError;

/// Error codes and HTTP statuses by which S3-compatible servers say "no room": S3's own
/// codes, MinIO's, and WebDAV's 507 Insufficient Storage (which some gateways pass on).
const FULL_MARKERS: [&str; 6] = [
    "QuotaExceeded",
    "EntityTooLarge",
    "InsufficientStorage",
    "XMinioStorageFull",
    "StorageFull",
    "status: 507",
];

pub(crate) fn of(op: &'static str, location: &str, e: &opendal::Error) -> DestError {
    let full_text = e.to_string();
    let detail = format!("{}: {}", e.kind(), e.message());
    if FULL_MARKERS.iter().any(|m| full_text.contains(m)) {
        return DestError::RemoteFull {
            location: location.to_string(),
            detail,
        };
    }
    match e.kind() {
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
