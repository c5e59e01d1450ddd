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
