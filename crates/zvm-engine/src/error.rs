//! The engine's one error type: what stops a run (or one step of it) from going on.
//!
//! Failed files are not errors: they are counted in the run's summary. An [`EngineError`]
//! means the run could not proceed at all, or a step (a state write, a destination call)
//! failed in a way the caller decides about.

use zvm_dest::DestError;
use zvm_state::StateError;
use zvm_zoom::ZoomError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Zoom(#[from] ZoomError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Dest(#[from] DestError),
    #[error("invalid naming template: {0}")]
    Template(String),
    #[error("invalid option: {0}")]
    Invalid(String),
}

impl EngineError {
    /// Errors that make every further write pointless (disk full, read-only, no permission):
    /// the run stops instead of failing every remaining file one by one.
    pub fn is_destination_fatal(&self) -> bool {
        matches!(self, EngineError::Dest(d) if d.is_destination_fatal())
    }
}
