//! How a run that ran ended, as a type: front ends turn it into an exit code or words.

use zvm_engine::RunSummary;

/// The end of a run that did not fail outright (for that, see [`crate::Failure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything selected is copied (or was already).
    Done,
    /// Some files failed; a re-run retries them.
    FilesFailed(u64),
    /// Stopped by the user; `.part` files and the state are kept, a re-run resumes.
    Interrupted,
    /// Stopped early because the destination became unusable (disk full, read-only...).
    DestinationStopped(String),
}

impl Outcome {
    /// The outcome a summary reports; a stop for the destination outranks an interruption,
    /// which outranks failed files.
    pub fn of(summary: &RunSummary) -> Outcome {
        if let Some(why) = &summary.stopped {
            Outcome::DestinationStopped(why.clone())
        } else if summary.cancelled {
            Outcome::Interrupted
        } else if summary.files_failed > 0 {
            Outcome::FilesFailed(summary.files_failed)
        } else {
            Outcome::Done
        }
    }
}
