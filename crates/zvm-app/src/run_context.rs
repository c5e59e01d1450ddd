//! The run context: the state database (with the run lock held for as long as the context
//! lives) and the destination a run writes to, opened the same way by every front end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zvm_dest::{Destination, LocalDestination};
use zvm_state::{RunLock, SqliteState};

use crate::failure::{Cause, Failure};

/// The state database: the one given, else the OS data dir's (shared by every front end, so
/// what one copied the others see as done).
pub fn state_path(given: Option<&Path>) -> Result<PathBuf, Failure> {
    given
        .map(Path::to_path_buf)
        .or_else(zvm_state::default_state_path)
        .ok_or_else(|| {
            Failure::new(
                Cause::NoStatePath,
                "no place for the state database: pass --state FILE",
            )
        })
}

/// The audit log of deletions: the one given, else `audit.jsonl` beside the state file.
pub fn audit_path(given: Option<&Path>, state: &Path) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| {
        state
            .parent()
            .map(|d| d.join("audit.jsonl"))
            .unwrap_or_else(|| PathBuf::from("audit.jsonl"))
    })
}

/// What a run works on. The run lock is released when this is dropped.
pub struct RunContext {
    pub state_path: PathBuf,
    pub state: Arc<SqliteState>,
    pub destination: Arc<dyn Destination>,
    _lock: RunLock,
}

impl RunContext {
    /// Takes the run lock of `state_path` (another run holding it is [`Cause::StateBusy`]),
    /// then opens the state and the destination.
    pub fn open(state_path: &Path, destination: &Path) -> Result<RunContext, Failure> {
        Self::open_to(
            state_path,
            Arc::new(LocalDestination::new(destination.to_path_buf())),
        )
    }

    /// Like [`RunContext::open`], for a destination already opened (a folder or a remote
    /// service, see [`crate::destination::open_destination`]).
    pub fn open_to(
        state_path: &Path,
        destination: Arc<dyn Destination>,
    ) -> Result<RunContext, Failure> {
        let lock = RunLock::acquire(state_path)?;
        let state = SqliteState::open(state_path)?;
        Ok(RunContext {
            state_path: state_path.to_path_buf(),
            state: Arc::new(state),
            destination,
            _lock: lock,
        })
    }
}

/// The state alone, under its run lock: for work that touches no destination (restoring
/// from the cloud's trash reads the state and the audit log only).
pub struct StateContext {
    pub state_path: PathBuf,
    pub state: Arc<SqliteState>,
    _lock: RunLock,
}

impl StateContext {
    /// Takes the run lock of `state_path` (another run holding it is [`Cause::StateBusy`]),
    /// then opens the state.
    pub fn open(state_path: &Path) -> Result<StateContext, Failure> {
        let lock = RunLock::acquire(state_path)?;
        let state = SqliteState::open(state_path)?;
        Ok(StateContext {
            state_path: state_path.to_path_buf(),
            state: Arc::new(state),
            _lock: lock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_context_on_the_same_state_is_refused_as_busy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("s").join("state.sqlite3");
        let first = RunContext::open(&state, dir.path()).expect("first");
        let second = RunContext::open(&state, dir.path()).err().expect("refused");
        assert_eq!(second.cause, Cause::StateBusy);
        drop(first);
        RunContext::open(&state, dir.path()).expect("free again");
        assert_eq!(
            audit_path(None, &state),
            dir.path().join("s").join("audit.jsonl")
        );
    }
}
