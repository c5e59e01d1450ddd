//! Events: the only way the engine talks to the world.
//!
//! The engine never prints. Everything a front end may want to show (the CLI's progress bars
//! and `--json` lines, the GUI, the daemon's metrics) is derived from this stream. Events are
//! plain serializable data so a front end can forward them unchanged; progress events are
//! throttled by the engine to a few per second per file.

use serde::Serialize;

/// Identifies one file of one meeting (a recording file, a participant audio file, or an
/// artifact the engine writes such as `meeting.json`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FileRef {
    pub meeting_uuid: String,
    pub file_id: String,
    /// Path relative to the destination root, '/'-separated.
    pub path: String,
}

/// Why a file was not transferred in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Verified by an earlier run: no request was sent for it.
    AlreadyVerified,
    /// Zoom is still processing it; a later run picks it up.
    Processing,
    /// Excluded by a filter (file type).
    Filtered,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        destination: String,
        dry_run: bool,
        /// Transfers at once (in auto mode, the number it starts with).
        transfers: usize,
        /// The engine adjusts the number as it measures (`-j auto`).
        auto: bool,
    },
    /// Auto mode changed the number of transfers running at once.
    TransfersChanged {
        transfers: usize,
        reason: String,
    },
    /// A user whose recordings are being listed (one per user for account-wide runs).
    ListingUser {
        user: String,
    },
    /// How one user's listing was made: windows (calendar months) asked of Zoom in this run,
    /// windows taken from the stored listing, and stored meetings asked of Zoom again by
    /// their uuid (a file still processing, or not yet copied).
    ListingWindows {
        user: String,
        listed: usize,
        stored: usize,
        refreshed: usize,
    },
    /// Zoom no longer has a meeting an earlier listing had: it was deleted or trashed in
    /// Zoom itself. The state marks it (`vanished`); nothing local is touched.
    MeetingVanished {
        meeting_uuid: String,
        topic: String,
        start_time: String,
    },
    /// A meeting was listed, planned and named.
    MeetingPlanned {
        meeting_uuid: String,
        topic: String,
        folder: String,
        start_time: String,
        files: usize,
        bytes: u64,
    },
    /// Listing has finished: the totals will not grow any more.
    ListingFinished {
        meetings: u64,
        files: u64,
        bytes: u64,
    },
    FileQueued {
        file: FileRef,
        size: u64,
    },
    FileSkipped {
        file: FileRef,
        size: u64,
        reason: SkipReason,
    },
    FileStarted {
        file: FileRef,
        size: u64,
        /// Bytes already present from an earlier attempt (resume point).
        offset: u64,
    },
    FileProgress {
        file: FileRef,
        bytes_done: u64,
        size: u64,
    },
    /// A transient failure; the engine will try again after `delay_ms`.
    FileRetry {
        file: FileRef,
        attempt: u32,
        error: String,
        delay_ms: u64,
    },
    FileDone {
        file: FileRef,
        size: u64,
        sha256: Option<String>,
    },
    FileFailed {
        file: FileRef,
        error: String,
    },
    /// `--dry-run`: this file would be downloaded.
    WouldDownload {
        file: FileRef,
        size: u64,
    },
    /// Something the user should know that is not a file failure (e.g. a summary not allowed).
    Warning {
        message: String,
    },
    /// The cloud copy of a meeting (file_id None) or of one file was trashed or deleted.
    CloudDeleted {
        meeting_uuid: String,
        file_id: Option<String>,
        topic: String,
        action: String,
        outcome: String,
    },
    /// `--dry-run` of a move: this would be deleted.
    WouldDelete {
        meeting_uuid: String,
        file_id: Option<String>,
        topic: String,
        action: String,
        bytes: u64,
    },
    /// A meeting was not deleted from the cloud, and why.
    DeleteSkipped {
        meeting_uuid: String,
        topic: String,
        reason: String,
    },
    Recovered {
        meeting_uuid: String,
        topic: String,
    },
    RunFinished {
        summary: RunSummary,
    },
}

/// The closing figures of a run: front ends print them and derive the exit code.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RunSummary {
    pub meetings: u64,
    pub files_downloaded: u64,
    pub bytes_downloaded: u64,
    pub files_skipped: u64,
    pub files_processing: u64,
    pub files_failed: u64,
    pub failures: Vec<Failure>,
    pub deleted: u64,
    pub delete_skipped: u64,
    pub cancelled: bool,
    /// Why the run stopped early when the destination became unusable (disk full,
    /// read-only, permission): front ends exit with "destination unusable".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub path: String,
    pub error: String,
}

/// Where events go. Front ends implement it; it must be cheap and never block (a channel send).
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, event: Event);
}

impl<F> EventSink for F
where
    F: Fn(Event) + Send + Sync + 'static,
{
    fn emit(&self, event: Event) {
        self(event)
    }
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<Event> {
    fn emit(&self, event: Event) {
        // A front end that went away is not the engine's problem: the run goes on.
        let _ = self.send(event);
    }
}
