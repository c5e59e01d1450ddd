//! The run lock: one zvm run per state file. Two runs sharing a state file would download the
//! same files twice and race on deletions, so the second one is refused with a clear message.
//!
//! It is an OS advisory lock (`File::try_lock`) on `<state file>.lock`, so it is released when
//! the [`RunLock`] is dropped and also when the process dies, even by SIGKILL: a stale lock
//! file on disk never blocks a later run.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::{StateError, with_suffix};

/// Held for the whole run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    // Kept open only to hold the lock; closing the descriptor releases it.
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock for `state_path` without waiting; [`StateError::Busy`] if another run
    /// (in this process or another) holds it. Creates the parent directory if missing.
    pub fn acquire(state_path: &Path) -> Result<RunLock, StateError> {
        let path = with_suffix(state_path, ".lock");
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StateError::Io {
                op: "create the state directory",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        // Never truncate: the file carries no data, and truncating a file someone else locked
        // would be rude even if harmless.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| StateError::Io {
                op: "open the lock file",
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(StateError::Busy {
                path: state_path.to_path_buf(),
            }),
            Err(TryLockError::Error(source)) => Err(StateError::Io {
                op: "lock",
                path,
                source,
            }),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
