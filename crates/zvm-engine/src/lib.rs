//! The Zoom Video Mover engine: list, plan, transfer, verify, commit, and (for a move) delete
//! in the cloud only what is proven copied.
//!
//! The engine is shared by every front end (CLI, GUI, daemon). It never prints: it reports
//! through [`events::Event`]s sent to an [`events::EventSink`], and returns a
//! [`events::RunSummary`]. Listing, planning and transfers form a pipeline, so the first
//! downloads start while later pages are still being listed.
//!
//! Split by job, lower modules first (none imports a module above it):
//! - [`error`], [`events`], [`options`], [`layout`], [`concurrency`]: shared vocabulary;
//! - [`windows`]: listing windows (calendar months) and which of them a run lists;
//! - `admin_listings`: the account-wide recordings and summary listings' refusals, asked
//!   once, told once;
//! - [`catalog`]: listing (with the listing cache for runs that have a state), and the one
//!   check of whether a local copy is proven; [`stored_listing`]: the stored listing read
//!   without a request;
//! - [`engine`]: the client, state, destination and event sink a copy or a move works with;
//! - [`planner`]: what to do with each file of a meeting (pure, no I/O);
//! - `record`, `queue`, [`accounting`]: `meeting.json`, the job queue and its gate, the
//!   run's counters;
//! - [`artifacts`]: meeting details (summary, participant audio);
//! - `retry`: one file's retry budget (failures and the server's "not yet");
//! - [`segments`] (the ranges of a file fetched over several connections) and `segmented`
//!   (those connections, their help board, the ranges' record);
//! - `transfer`: the workers that fetch, verify and commit files;
//! - [`copier`]: a run (a query or a chosen set of meetings);
//! - [`mover`]: plan, execute and restore deletions in the cloud.

pub mod accounting;
mod admin_listings;
pub mod artifacts;
mod bwlimit;
pub mod catalog;
pub mod concurrency;
pub mod copier;
pub mod engine;
pub mod error;
pub mod events;
pub mod layout;
pub mod mover;
pub mod options;
pub mod planner;
mod queue;
mod record;
mod retry;
mod segmented;
pub mod segments;
pub mod stored_listing;
mod transfer;
pub mod windows;

pub use accounting::{RunMonitor, RunStats};
pub use catalog::{Catalog, CopyCheck, LocalStatus};
pub use engine::Engine;
pub use error::EngineError;
pub use events::{Event, EventSink, RunSummary};
pub use mover::{KeepReason, MoveCandidate, MoveOptions, MovePlan};
pub use options::{
    ChosenMeeting, Filters, ListingPolicy, SyncOptions, TransferRetry, UserSelection,
};
pub use segments::{DEFAULT_MIN_SEGMENT, Segments};
pub use stored_listing::{StoredListing, for_each_stored_meeting};
