//! The driver's and the server's errors as the state's errors: the server's own message
//! where it sent one. Shared by the store and its migrations (kept apart from both so that
//! neither module imports the other).

use zvm_state::StateError;

/// A failed query, with the server's own message where it sent one.
pub(crate) fn server_error(location: &str, e: &tokio_postgres::Error) -> StateError {
    StateError::Server {
        location: location.to_string(),
        detail: describe(e),
    }
}

/// The server's message (with its detail) if it sent one, else what failed in TLS (with
/// what to do), else the driver's.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(tls) = crate::tls::explain_failure(e) {
        return tls;
    }
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_string(),
        },
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}
