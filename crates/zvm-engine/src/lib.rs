//! The Zoom Video Mover engine: list, plan, transfer, verify, commit, and (for a move) delete
//! in the cloud only what is proven copied.
//!
//! The engine is shared by every front end (CLI, GUI, daemon). It never prints: it reports
//! through [`events::Event`]s sent to an [`events::EventSink`], and returns a
//! [`events::RunSummary`]. Listing, planning and transfers form a pipeline, so the first
//! downloads start while later pages are still being listed.

pub mod artifacts;
pub mod concurrency;
pub mod events;
pub mod mover;
pub mod options;
pub mod sync;

pub use events::{Event, EventSink, RunSummary};
pub use mover::{MoveCandidate, MoveOptions, MovePlan};
pub use options::{Filters, SyncOptions, TransferRetry, UserSelection};
pub use sync::{Engine, EngineError};
