//! Run state for zvm: what has been planned, downloaded, verified and deleted, so that a run
//! can be interrupted at any moment and the next one resumes instead of starting over.
//!
//! The [`StateStore`] trait is what the engine talks to; [`SqliteState`] is the default,
//! embedded implementation (one SQLite file in WAL mode). Besides the files, the state keeps
//! the listing cache: what each listing window returned and when, so a re-run need not ask
//! Zoom again for months that cannot have changed. [`RunLock`] keeps two zvm runs from
//! sharing one state file. With the `conformance` feature, the `conformance` module holds the test suite
//! that every implementation of the trait must pass.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

mod error;
mod lock;
mod sqlite;
mod webhook_queue;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::StateError;
pub use lock::RunLock;
pub use sqlite::SqliteState;
pub use webhook_queue::{
    Enqueued, NewWebhookEvent, WebhookCounts, WebhookEventRow, WebhookOutcome, WebhookQueue,
    WebhookStatus,
};

/// Identifies one file of one meeting: Zoom's recording file id within a meeting UUID (or an
/// engine-chosen id such as `"meeting.json"` for artifacts the engine writes itself).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct FileKey {
    pub meeting_uuid: String,
    pub file_id: String,
}

impl FileKey {
    pub fn new(meeting_uuid: impl Into<String>, file_id: impl Into<String>) -> Self {
        Self {
            meeting_uuid: meeting_uuid.into(),
            file_id: file_id.into(),
        }
    }
}

/// Generates `as_str`/`FromStr`/`Display` for the enums stored as text, so the database stays
/// readable with the `sqlite3` shell and a renamed Rust variant cannot silently change it.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
        impl FromStr for $name {
            type Err = StateError;
            fn from_str(s: &str) -> Result<Self, StateError> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(StateError::Invalid {
                        what: format!("unknown {} {:?}", stringify!($name), other),
                    }),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// What a file row stands for: artifacts the engine writes count as files too.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Recording,
    ParticipantAudio,
    Summary,
    MeetingJson,
}
text_enum!(FileKind {
    Recording => "recording",
    ParticipantAudio => "participant_audio",
    Summary => "summary",
    MeetingJson => "meeting_json",
});

/// Where a file is in its life: `Partial` means a download was started (bytes may be on disk).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Pending,
    Partial,
    Verified,
    Failed,
    Skipped,
}
text_enum!(FileStatus {
    Pending => "pending",
    Partial => "partial",
    Verified => "verified",
    Failed => "failed",
    Skipped => "skipped",
});

/// What we last knew of the copy in the Zoom cloud.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloudState {
    Present,
    /// zvm trashed it (`move`).
    Trashed,
    /// zvm deleted it (`move --action delete`).
    Deleted,
    /// Zoom stopped listing it without zvm's doing: deleted or trashed in Zoom itself. Only
    /// the record changes; local copies are never touched because of it.
    Vanished,
}
text_enum!(CloudState {
    Present => "present",
    Trashed => "trashed",
    Deleted => "deleted",
    Vanished => "vanished",
});

/// One meeting (one recording UUID) as listed from Zoom.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MeetingRow {
    pub uuid: String,
    pub meeting_id: i64,
    pub host_id: String,
    pub host_email: String,
    pub topic: String,
    /// RFC 3339.
    pub start_time: String,
    pub timezone: String,
    pub duration_min: i64,
    /// Relative folder assigned by the naming crate; reused on later runs so that a renamed
    /// topic or a new collision never moves files that were already downloaded.
    pub folder: String,
    pub cloud: CloudState,
}

/// A file the planner wants on the destination.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PlannedFile {
    pub key: FileKey,
    pub kind: FileKind,
    pub file_type: String,
    pub recording_type: String,
    pub rel_path: String,
    pub expected_size: u64,
}

/// A file as stored: the plan plus its progress.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileRow {
    pub key: FileKey,
    pub kind: FileKind,
    pub file_type: String,
    pub recording_type: String,
    pub rel_path: String,
    pub expected_size: u64,
    pub status: FileStatus,
    pub bytes_done: u64,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sha256: Option<String>,
    pub cloud: CloudState,
    /// RFC 3339 (UTC) time of the last change.
    pub updated_at: String,
}

/// One entry of the deletion audit log: what was trashed/deleted/recovered in the cloud, and
/// which verified local copies justified it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeletionRow {
    /// RFC 3339.
    pub at: String,
    pub meeting_uuid: String,
    /// `None` when the whole meeting was acted on.
    pub file_id: Option<String>,
    /// `trash`, `delete` or `recover`.
    pub action: String,
    /// `deleted`, `already_gone`, `in_progress` or `recovered`.
    pub outcome: String,
    /// (relative path, size, sha256) of the local copies.
    pub paths: Vec<(String, u64, Option<String>)>,
}

/// One listing window of one listing scope: whose recordings, over which UTC days. The
/// scope names the listing, not a person: `user:<id>` for one user's recordings (`user:me`
/// for the signed-in user), `account` for the account-wide listing.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct ListingWindow {
    pub scope: String,
    /// First day, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
}

/// A meeting as a listing window returned it: enough to plan it and to show it again
/// without asking Zoom.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ListedMeeting {
    pub uuid: String,
    /// RFC 3339; stored listings are read newest first by it.
    pub start_time: String,
    /// Whose meeting, as the listing named it (for folders, events and `--host`).
    pub host: String,
    /// The meeting as Zoom listed it, in JSON.
    pub json: String,
}

/// A window with a stored listing: when it was last listed completely (every page).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct WindowListed {
    pub window: ListingWindow,
    /// RFC 3339 (UTC), as the caller gave it to [`StateStore::record_listing`].
    pub listed_at: String,
    /// Meetings in the stored listing.
    pub meetings: u64,
}

/// Counts for reports. `pending` counts files not finished yet (`Pending` and `Partial`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Totals {
    pub meetings: u64,
    pub files: u64,
    pub verified: u64,
    pub failed: u64,
    pub pending: u64,
    pub bytes_verified: u64,
}

/// One range of a file downloaded over several connections at once (a segmented download):
/// the bytes `start..end` of the file, of which the first `written` are in the partial file
/// and the first `durable` of those survive a power cut. Byte counts are from `start`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileRange {
    pub start: u64,
    pub end: u64,
    /// Written to the partial file: kept by the OS even if the process is killed, but not
    /// across a power cut unless also `durable`.
    pub written: u64,
    /// Made durable (fsynced); never more than `written`.
    pub durable: u64,
}

/// The ranges of a segmented download as last saved, tiling the file from byte 0.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct FileRanges {
    pub ranges: Vec<FileRange>,
    /// The machine's boot when `written` was saved (Linux's boot id): `written` holds only
    /// in that same boot, since a power cut or reboot loses what was not yet durable. `None`
    /// when the boot cannot be told: then only `durable` counts.
    pub boot_id: Option<String>,
}

/// Persistent run state. Object safe: the engine holds an `Arc<dyn StateStore>`.
///
/// Methods that change one file (`start_attempt`, `set_progress`, `mark_*`) return
/// [`StateError::UnknownFile`] when the file was never planned: that is an engine bug, and
/// silently ignoring it would lose progress.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Inserts or replaces the meeting (every field, including `folder` and `cloud`).
    async fn upsert_meeting(&self, m: &MeetingRow) -> Result<(), StateError>;
    async fn meeting(&self, uuid: &str) -> Result<Option<MeetingRow>, StateError>;
    /// All folders already assigned (to seed the collision allocator), uuid -> folder.
    async fn folders(&self) -> Result<Vec<(String, String)>, StateError>;
    /// Insert a planned file; if a row exists keep status/progress/rel_path, except that a
    /// changed expected_size resets it to Pending (bytes_done 0). Returns the stored row.
    async fn plan_file(&self, f: &PlannedFile) -> Result<FileRow, StateError>;
    async fn file(&self, key: &FileKey) -> Result<Option<FileRow>, StateError>;
    async fn files_of_meeting(&self, uuid: &str) -> Result<Vec<FileRow>, StateError>;
    /// `files_of_meeting` of each uuid, in the same order. The planner asks once per page of
    /// listing rather than once per meeting; a store that can answer in one round trip
    /// should (a re-sync of 10,000 meetings otherwise waits on 10,000 of them).
    async fn files_of_meetings(&self, uuids: &[String]) -> Result<Vec<Vec<FileRow>>, StateError> {
        let mut out = Vec::with_capacity(uuids.len());
        for u in uuids {
            out.push(self.files_of_meeting(u).await?);
        }
        Ok(out)
    }
    /// Every file row with a given status (for reports / move).
    async fn files_with_status(&self, status: FileStatus) -> Result<Vec<FileRow>, StateError>;
    /// attempts += 1, status Partial.
    async fn start_attempt(&self, key: &FileKey) -> Result<(), StateError>;
    /// Records bytes durably on the destination. Called a few times per second per transfer.
    async fn set_progress(&self, key: &FileKey, bytes_done: u64) -> Result<(), StateError>;
    /// Status Verified, bytes_done = size, the hash if computed; clears last_error.
    async fn mark_verified(
        &self,
        key: &FileKey,
        size: u64,
        sha256: Option<&str>,
    ) -> Result<(), StateError>;
    /// Status Failed with the error; bytes_done is kept so a later run can resume.
    async fn mark_failed(&self, key: &FileKey, error: &str) -> Result<(), StateError>;
    /// Status Skipped; the reason is stored in `last_error`.
    async fn mark_skipped(&self, key: &FileKey, reason: &str) -> Result<(), StateError>;
    /// `file_id: None` sets the meeting and all its files; `Some` sets that one file.
    async fn set_cloud_state(
        &self,
        meeting_uuid: &str,
        file_id: Option<&str>,
        cloud: CloudState,
    ) -> Result<(), StateError>;
    /// Appends to the deletion audit log.
    async fn record_deletion(&self, d: &DeletionRow) -> Result<(), StateError>;
    /// The audit log in the order it was recorded.
    async fn deletions(&self) -> Result<Vec<DeletionRow>, StateError>;
    async fn totals(&self) -> Result<Totals, StateError>;

    // The listing cache. A window's listing is replaced whole, and only by a complete walk
    // of its pages: a stored window is exactly what Zoom listed for it at `listed_at`.

    /// Replaces the stored listing of `window` with `meetings` (a complete listing taken at
    /// `listed_at`), all in one transaction. Returns the meetings the window held before
    /// that are not in it now: Zoom no longer has them. Each is dropped from every stored
    /// listing (every scope), and its meeting row, if `Present`, becomes `Vanished` (its
    /// files too); a listed meeting whose row is `Vanished` becomes `Present` again. Rows
    /// zvm itself marked (`Trashed`, `Deleted`) keep their state.
    async fn record_listing(
        &self,
        window: &ListingWindow,
        listed_at: &str,
        meetings: &[ListedMeeting],
    ) -> Result<Vec<ListedMeeting>, StateError>;
    /// The windows of `scope` with a stored listing, oldest first.
    async fn listed_windows(&self, scope: &str) -> Result<Vec<WindowListed>, StateError>;
    /// Every scope with a stored listing, sorted.
    async fn listing_scopes(&self) -> Result<Vec<String>, StateError>;
    /// The stored listing of `window`, newest first (empty when it has none).
    async fn window_listing(
        &self,
        window: &ListingWindow,
    ) -> Result<Vec<ListedMeeting>, StateError>;
    /// Replaces what every stored listing holding `m.uuid` says of it (a newer answer of
    /// Zoom's for that one meeting). Windows keep their `listed_at`. Returns whether any
    /// listing held it.
    async fn refresh_listed(&self, m: &ListedMeeting) -> Result<bool, StateError>;
    /// Zoom no longer has the meeting (asked by its uuid): dropped from every stored
    /// listing, its meeting row marked as [`StateStore::record_listing`] marks one.
    async fn forget_listed(&self, uuid: &str) -> Result<(), StateError>;
    // --- Segmented downloads (a file fetched as several ranges at once). ---

    /// The ranges saved for a file, `None` if none are.
    async fn file_ranges(&self, key: &FileKey) -> Result<Option<FileRanges>, StateError>;
    /// Replaces the file's saved ranges, all at once. Called a few times a second per
    /// segmented file: it must be cheap.
    async fn save_file_ranges(&self, key: &FileKey, ranges: &FileRanges) -> Result<(), StateError>;
    /// Forgets the file's ranges (it was verified, or continues in one piece); none saved is
    /// not an error.
    async fn clear_file_ranges(&self, key: &FileKey) -> Result<(), StateError>;
}

/// Default state file: `<OS data dir>/zvm/state.sqlite3` (e.g. `~/.local/share/zvm/` on Linux).
/// `None` when the OS reports no home directory.
pub fn default_state_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "zvm").map(|d| d.data_dir().join("state.sqlite3"))
}

/// `<path>.<suffix>` next to `path` (used for the lock file).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
