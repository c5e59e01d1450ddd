//! The destination error type. Messages say what is wrong, where (the full path) and how to fix
//! it, because they are shown as-is to the person running zvm.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DestError {
    #[error(
        "no space left to write {}: free space on that disk (or raise your quota), then run zvm again; partial downloads resume",
        path.display()
    )]
    NoSpace { path: PathBuf, source: io::Error },

    #[error(
        "permission denied while trying to {op} {}: check permissions and ownership of {} (the user running zvm needs write access), or choose another destination",
        path.display(), dir_of(path).display()
    )]
    PermissionDenied {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    #[error(
        "cannot {op} {}: the file system is read-only; remount it read-write or choose another destination",
        path.display()
    )]
    ReadOnly {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    #[error(
        "size mismatch for {}: expected {expected} bytes but have {actual}; the partial file was kept and the download will be retried",
        path.display()
    )]
    SizeMismatch {
        expected: u64,
        actual: u64,
        path: PathBuf,
    },

    #[error(
        "cannot resume {} at byte {offset}: it only holds {actual} bytes; resume from its current length or start over",
        path.display()
    )]
    ResumeBeyondEnd {
        offset: u64,
        actual: u64,
        path: PathBuf,
    },

    #[error(
        "refusing unsafe destination path {path:?}: {reason} (this is a zvm bug; please report it)"
    )]
    InvalidPath { path: String, reason: &'static str },

    #[error(
        "this destination does not support {what} (needed for {path}); this is a zvm bug, please report it"
    )]
    Unsupported { what: &'static str, path: String },

    // --- Remote destinations (object stores, WebDAV, ...): `location` is a URL-like name
    // without credentials, e.g. `s3://bucket/prefix/2026/03/x.mp4`. ---
    #[error(
        "the storage service refused to store {location}: it is full or over its quota ({detail}); free space or raise the quota, then run zvm again"
    )]
    RemoteFull { location: String, detail: String },

    #[error(
        "access denied while trying to {op} {location} ({detail}): check that the credentials zvm uses for this service (options in the URL, else its [remote.SERVICE] table in config.toml, else its environment variables) is current and may read and write there (for S3 also the bucket policy), or choose another destination"
    )]
    RemoteDenied {
        op: &'static str,
        location: String,
        detail: String,
    },

    #[error(
        "{location} does not match what was uploaded: {detail}; it was removed and the file will be uploaded again"
    )]
    RemoteMismatch { location: String, detail: String },

    #[error(
        "the name {location} is {len} bytes, more than the {limit} bytes this service allows: choose a shorter naming template or destination prefix"
    )]
    NameTooLong {
        location: String,
        len: usize,
        limit: usize,
    },

    #[error(
        "{location} is over {limit} bytes, more than zvm reads whole (it reads back only small text files: transcripts, chats, summaries)"
    )]
    TooLarge { location: String, limit: u64 },

    #[error("cannot {op} {location}: {detail}")]
    Remote {
        op: &'static str,
        location: String,
        detail: String,
        /// A fault of the connection or a busy server: trying again may succeed.
        transient: bool,
    },

    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

fn dir_of(path: &Path) -> &Path {
    path.parent().unwrap_or(path)
}

impl DestError {
    /// Classifies an I/O error by the OS error behind it. `io::ErrorKind` is std's decoding of
    /// `raw_os_error()` (ENOSPC -> StorageFull, EDQUOT -> QuotaExceeded, EACCES/EPERM ->
    /// PermissionDenied, EROFS -> ReadOnlyFilesystem), and it works on every OS.
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        let path = path.to_path_buf();
        match source.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                DestError::NoSpace { path, source }
            }
            io::ErrorKind::PermissionDenied => DestError::PermissionDenied { op, path, source },
            io::ErrorKind::ReadOnlyFilesystem => DestError::ReadOnly { op, path, source },
            _ => DestError::Io { op, path, source },
        }
    }

    /// Whether the same transfer may succeed if tried again: a short file (resumed), a
    /// remote copy that did not match (uploaded again), a network fault on the way to a
    /// remote destination. Everything else about a destination does not change by retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            DestError::SizeMismatch { .. } | DestError::RemoteMismatch { .. } => true,
            DestError::Remote { transient, .. } => *transient,
            _ => false,
        }
    }

    /// Errors that make every further write pointless (full, read-only, no permission): a
    /// run stops instead of failing every remaining file one by one.
    pub fn is_destination_fatal(&self) -> bool {
        matches!(
            self,
            DestError::NoSpace { .. }
                | DestError::ReadOnly { .. }
                | DestError::PermissionDenied { .. }
                | DestError::RemoteFull { .. }
                | DestError::RemoteDenied { .. }
        )
    }

    /// A background task died (it panicked or the runtime is shutting down).
    pub(crate) fn task(op: &'static str, path: &Path, e: tokio::task::JoinError) -> Self {
        DestError::Io {
            op,
            path: path.to_path_buf(),
            source: io::Error::other(format!("background task failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn os_errors_map_to_actionable_variants() {
        let p = Path::new("/data/ZoomRecordings/x.mp4.part");
        let raw = |code| io::Error::from_raw_os_error(code);
        // ENOSPC, EDQUOT, EACCES, EPERM, EROFS on Linux.
        assert!(matches!(
            DestError::io("write", p, raw(28)),
            DestError::NoSpace { .. }
        ));
        assert!(matches!(
            DestError::io("write", p, raw(122)),
            DestError::NoSpace { .. }
        ));
        assert!(matches!(
            DestError::io("open", p, raw(13)),
            DestError::PermissionDenied { .. }
        ));
        assert!(matches!(
            DestError::io("open", p, raw(1)),
            DestError::PermissionDenied { .. }
        ));
        assert!(matches!(
            DestError::io("open", p, raw(30)),
            DestError::ReadOnly { .. }
        ));
        assert!(matches!(
            DestError::io("open", p, raw(5)),
            DestError::Io { .. }
        ));
    }

    #[test]
    fn messages_say_where_and_what_to_do() {
        let p = Path::new("/data/ZoomRecordings/x.mp4.part");
        let nospace =
            DestError::io("write", p, io::Error::from(io::ErrorKind::StorageFull)).to_string();
        assert!(
            nospace.contains("/data/ZoomRecordings/x.mp4.part") && nospace.contains("free space"),
            "{nospace}"
        );
        let denied =
            DestError::io("open", p, io::Error::from(io::ErrorKind::PermissionDenied)).to_string();
        assert!(
            denied.contains("check permissions and ownership of /data/ZoomRecordings"),
            "{denied}"
        );
        let ro = DestError::io(
            "open",
            p,
            io::Error::from(io::ErrorKind::ReadOnlyFilesystem),
        )
        .to_string();
        assert!(
            ro.contains("read-only") && ro.contains("/data/ZoomRecordings/x.mp4.part"),
            "{ro}"
        );
        let mismatch = DestError::SizeMismatch {
            expected: 10,
            actual: 7,
            path: p.to_path_buf(),
        }
        .to_string();
        assert!(
            mismatch.contains("expected 10 bytes but have 7") && mismatch.contains("x.mp4.part"),
            "{mismatch}"
        );
    }
}
