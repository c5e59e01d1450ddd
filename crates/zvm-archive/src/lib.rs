//! What zvm does with the archive once it is copied: search it ([`index`], `zvm search`),
//! check it against the state ([`verify`], `zvm verify`) and report what is where
//! ([`status`], `zvm status`). A library: no printing; front ends render the reports.
//!
//! - [`extract`]: the searchable lines of transcripts, captions, chats and summaries (pure);
//! - [`query`]: a user's words as SQLite conditions (pure);
//! - [`short`]: what the index keeps of each line for terms of one or two characters (pure);
//! - [`index`]: the FTS5 index beside the state, updated from it and the destination;
//! - [`live`]: a run's state store that indexes each text file as it is verified;
//! - [`verify`]: every verified file present, its size right, and its SHA-256 if asked;
//! - [`status`]: counts and bytes by host and year, in the cloud and copied.

pub mod extract;
pub mod index;
pub mod live;
pub mod query;
pub mod short;
pub mod status;
pub mod verify;

use std::path::PathBuf;

pub use index::{Copies, Hit, IndexReport, SearchIndex};
pub use live::IndexingState;
pub use status::{StatusReport, status};
pub use verify::{Problem, ProblemKind, VerifyReport, verify};

/// Why an archive operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(
        "the search index {path} cannot be used: {source} (delete it and run `zvm search --rebuild`)"
    )]
    Index {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Query(#[from] query::QueryError),
    #[error(transparent)]
    State(#[from] zvm_state::StateError),
}
