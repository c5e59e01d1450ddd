//! The one error type of the state crate. Every message names the state file and says what the
//! user can do, because these errors end up in front of people running `zvm` from a terminal.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "another zvm run is using the state file {} (its lock {}.lock is held); wait for that run to finish or stop it, or pass a different --state file",
        path.display(), path.display()
    )]
    Busy { path: PathBuf },

    #[error(
        "cannot open the state file {}: {source}; check that its directory exists and is readable and writable by this user, or pass a different --state file",
        path.display()
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "the state file {} is not a zvm state database or is damaged ({detail}); move it aside (zvm will start a new one and re-check files already on the destination) or pass a different --state file",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "the state file {} was written by a newer zvm (schema version {found}, this zvm knows up to {supported}); upgrade zvm or pass a different --state file",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(
        "the state file {} is locked by another program (SQLite busy); close other programs using it (e.g. an open sqlite3 shell) and retry",
        path.display()
    )]
    Locked { path: PathBuf },

    #[error("state database error in {}: {source}", path.display())]
    Db {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "no planned file {file_id:?} of meeting {meeting_uuid:?} in the state (internal error: files must be planned first)"
    )]
    UnknownFile {
        meeting_uuid: String,
        file_id: String,
    },

    /// A state database server (PostgreSQL) could not be reached or refused the login.
    /// `location` is its URL without the password.
    #[error(
        "cannot connect to the state database {location}: {detail}; check that the server is running and reachable, and the user, password and database name in the --state URL"
    )]
    Unreachable { location: String, detail: String },

    /// A state database server (PostgreSQL) failed a query. `location` is its URL without
    /// the password.
    #[error("state database error in {location}: {detail}")]
    Server { location: String, detail: String },

    /// Another zvm run holds the run lock of a state database server (PostgreSQL).
    #[error(
        "another zvm run is using the state database {location}; wait for that run to finish or stop it, or pass a different --state database"
    )]
    ServerBusy { location: String },

    /// The server's schema is newer than this zvm knows.
    #[error(
        "the state database {location} was written by a newer zvm (schema version {found}, this zvm knows up to {supported}); upgrade zvm or pass a different --state database"
    )]
    ServerTooNew {
        location: String,
        found: i64,
        supported: i64,
    },

    #[error("invalid value in the state: {what}")]
    Invalid { what: String },

    /// The state database's address or its TLS settings cannot be used; the text names the
    /// setting and how to fix it (not a value found in the state, which [`Self::Invalid`] is).
    #[error("{what}")]
    Setting { what: String },

    #[error("internal error: a state database task failed: {0}")]
    Task(String),
}

impl StateError {
    /// Classifies a SQLite error for the state file at `path`.
    pub(crate) fn from_sqlite(path: &std::path::Path, e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StateError::Corrupt {
                path,
                detail: e.to_string(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StateError::Locked { path }
            }
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
                StateError::Open { path, source: e }
            }
            _ => StateError::Db { path, source: e },
        }
    }
}
