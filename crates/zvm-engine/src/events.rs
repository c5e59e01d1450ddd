//! Events: the only way the engine talks to the world.
//!
//! The engine never prints. Everything a front end may want to show (the CLI's progress bars
//! and `--json` lines, the GUI, the daemon's metrics) is derived from this stream. Events are
//! plain serializable data so a front end can forward them unchanged; progress events are
//! throttled by the engine to a few per second per file.
//!
//! What an event says to a person is a type, never only an English sentence: why a meeting
//! stays in the cloud ([`KeepReason`]), what a warning is about ([`Notice`]), what kind of
//! thing failed ([`FailureClass`]), why a file was skipped ([`SkipReason`]). Each front end
//! renders them in its own language by variant; their `Display` is the CLI's English, and the
//! `--json` lines carry those same English words they always had.

use std::fmt;

use serde::{Serialize, Serializer};
use zvm_state::FileStatus;

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

/// What kind of thing failed, for counting failures by class and for saying what failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// A download: Zoom or the network, after its retries.
    Download,
    /// The destination (disk full, read-only, permission, a write that failed).
    Destination,
    /// The state store.
    State,
    /// A meeting's details (summary, participant audio list).
    Details,
}

/// Why a meeting (or one of its files) stays in the cloud. Each carries what a front end
/// needs to say it in its own words; `Display` says it in English (the CLI's wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepReason {
    /// Recorded after the `--older-than` cutoff.
    YoungerThanCutoff,
    /// A file of the meeting is still processing at Zoom.
    Processing,
    /// A file Zoom lists has no state row: it was never copied.
    NoLocalCopy { file_id: String },
    /// A copy whose state row is not verified.
    NotVerified { path: String, status: FileStatus },
    /// Zoom lists another size than the copy was verified at.
    SizeChanged {
        path: String,
        listed: u64,
        recorded: u64,
    },
    /// The copy at the destination has another size.
    WrongSize {
        path: String,
        found: u64,
        expected: u64,
    },
    /// No file under the copy's final name at the destination.
    Missing { path: String },
    /// `--verify-hash` and no SHA-256 was read back from the copy yet.
    NoHash { path: String },
    /// The filters left no file of the meeting to delete.
    NothingSelected,
    /// The meeting's details (which list its participant audio) were never fetched whole.
    DetailsNotFetched,
    /// Zoom answered the deletion with an error.
    ZoomRefused { error: String },
    /// The meeting is in progress (Zoom code 3303).
    InProgress,
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::YoungerThanCutoff => write!(f, "younger than --older-than"),
            KeepReason::Processing => write!(f, "a file is still processing at Zoom"),
            KeepReason::NoLocalCopy { file_id } => write!(f, "file {file_id} has no local copy"),
            KeepReason::NotVerified { path, status } => {
                write!(f, "{path} is not verified ({})", status.as_str())
            }
            KeepReason::SizeChanged {
                path,
                listed,
                recorded,
            } => write!(
                f,
                "{path}: Zoom now lists {listed} bytes, the copy has {recorded}"
            ),
            KeepReason::WrongSize {
                path,
                found,
                expected,
            } => write!(
                f,
                "{path} is {found} bytes at the destination, expected {expected}"
            ),
            KeepReason::Missing { path } => write!(f, "{path} is missing at the destination"),
            KeepReason::NoHash { path } => write!(f, "{path} has no SHA-256 read back yet"),
            KeepReason::NothingSelected => write!(f, "nothing selected to delete"),
            KeepReason::DetailsNotFetched => {
                write!(f, "meeting details (participant audio) not yet fetched")
            }
            KeepReason::ZoomRefused { error } => write!(f, "Zoom refused the deletion: {error}"),
            KeepReason::InProgress => {
                write!(f, "the meeting is in progress (Zoom code 3303)")
            }
        }
    }
}

/// What a [`Event::Warning`] is about: something the user should know that is not a file
/// failure. `error` fields hold the underlying error's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The destination became unusable (disk full, read-only, permission): the run stopped.
    StoppedEarly { error: String },
    /// A meeting's details could not be fetched at all.
    DetailsFailed { error: String },
    /// Zoom answered that the account's plan has no AI Companion summaries (400, code 200).
    SummariesNotOnPlan,
    /// A copy verified by an earlier run is no longer at the destination: fetched again.
    VerifiedCopyMissing { path: String },
    /// A copy verified by an earlier run has another size now: fetched again.
    VerifiedCopyWrongSize {
        path: String,
        found: u64,
        expected: u64,
    },
    /// A meeting's `meeting.json` could not be written (the meeting stays unfinished).
    RecordNotWritten { path: String, error: String },
    /// A meeting zvm trashed could not be recovered from the trash.
    RecoverFailed { topic: String, error: String },
    /// A month's stored listing did not read back (a meeting in it is unreadable): that
    /// month is listed from Zoom again.
    StoredListingUnreadable {
        from: String,
        to: String,
        meeting_uuid: String,
    },
    /// A stored meeting with work left could not be asked of Zoom again: its stored listing
    /// is used for this run.
    RefreshFailed { topic: String, error: String },
    /// Zoom refused the account-wide recordings listing to this app or plan (`refusal`:
    /// its status and code): every user's recordings are listed one user at a time for the
    /// rest of the run, which is slower. Granting `scope` makes it fast again.
    AccountListingRefused { scope: String, refusal: String },
    /// Zoom refused the AI Companion summary listing to this app or plan: each meeting is
    /// asked for its summary for the rest of the run. Granting `scope` saves those requests.
    SummaryListingRefused { scope: String, refusal: String },
    /// A meeting asked by its uuid names its host by id only, and the host's user record
    /// could not be read (`error`): its meetings copied by uuid are filed under `host_id`
    /// instead of the host's email. Granting a user-read scope fixes it.
    HostEmailUnknown { host_id: String, error: String },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::StoppedEarly { error } => write!(f, "the run stopped early: {error}"),
            Notice::DetailsFailed { error } => write!(f, "meeting details: {error}"),
            Notice::SummariesNotOnPlan => write!(
                f,
                "AI Companion summaries are not available on this Zoom account's plan (Zoom \
                 answered 400, code 200): no summaries were saved, which is not an error"
            ),
            Notice::VerifiedCopyMissing { path } => write!(
                f,
                "{path} was verified earlier but is missing now; fetching it again"
            ),
            Notice::VerifiedCopyWrongSize {
                path,
                found,
                expected,
            } => write!(
                f,
                "{path} was verified earlier but is {found} bytes instead of {expected} now; \
                 fetching it again"
            ),
            Notice::RecordNotWritten { path, error } => write!(f, "{path}: {error}"),
            Notice::RecoverFailed { topic, error } => {
                write!(f, "could not recover \"{topic}\": {error}")
            }
            Notice::StoredListingUnreadable {
                from,
                to,
                meeting_uuid,
            } => write!(
                f,
                "the stored listing of {from}..{to} does not read back (meeting \
                 {meeting_uuid}); listing that month from Zoom again"
            ),
            Notice::RefreshFailed { topic, error } => write!(
                f,
                "could not ask Zoom again for \"{topic}\" ({error}); using its stored listing"
            ),
            Notice::AccountListingRefused { scope, refusal } => write!(
                f,
                "listing the account's recordings was refused ({refusal}); listing each user's \
                 recordings instead, which takes one request per user per month. Grant the app \
                 the scope {scope} to make this faster"
            ),
            Notice::SummaryListingRefused { scope, refusal } => write!(
                f,
                "listing the account's AI Companion summaries was refused ({refusal}); asking \
                 each meeting for its summary instead. Grant the app the scope {scope} to make \
                 this faster"
            ),
            Notice::HostEmailUnknown { host_id, error } => write!(
                f,
                "the email of host {host_id} could not be read ({error}); its meetings copied by \
                 uuid are filed under the host's id. Grant the app the scope \
                 user:read:user:admin (classic user:read:admin) to file them under the email"
            ),
        }
    }
}

/// Serializes a typed message as its English words: the `--json` lines keep the strings they
/// always had, while the front ends written in Rust match on the type.
fn as_words<T: fmt::Display, S: Serializer>(message: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(message)
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
        /// What failed, for a front end to say in its words.
        class: FailureClass,
        /// The underlying error's own words.
        error: String,
    },
    /// `--dry-run`: this file would be downloaded.
    WouldDownload {
        file: FileRef,
        size: u64,
    },
    /// Something the user should know that is not a file failure (e.g. a summary not allowed).
    Warning {
        #[serde(serialize_with = "as_words")]
        message: Notice,
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
        #[serde(serialize_with = "as_words")]
        reason: KeepReason,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed messages reach `--json` readers as the English words they always had.
    #[test]
    fn typed_messages_serialize_as_their_english_words() {
        let warning = serde_json::to_value(Event::Warning {
            message: Notice::VerifiedCopyWrongSize {
                path: "a/b.mp4".into(),
                found: 5,
                expected: 9,
            },
        })
        .expect("json");
        assert_eq!(
            warning,
            serde_json::json!({
                "event": "warning",
                "message": "a/b.mp4 was verified earlier but is 5 bytes instead of 9 now; \
                            fetching it again",
            })
        );
        let kept = serde_json::to_value(Event::DeleteSkipped {
            meeting_uuid: "u".into(),
            topic: "t".into(),
            reason: KeepReason::NotVerified {
                path: "a/c.m4a".into(),
                status: FileStatus::Partial,
            },
        })
        .expect("json");
        assert_eq!(kept["reason"], "a/c.m4a is not verified (partial)");
        let failed = serde_json::to_value(Event::FileFailed {
            file: FileRef {
                meeting_uuid: "u".into(),
                file_id: "f".into(),
                path: "a/b.mp4".into(),
            },
            class: FailureClass::Destination,
            error: "no space left".into(),
        })
        .expect("json");
        assert_eq!(
            (&failed["class"], &failed["error"]),
            (
                &serde_json::json!("destination"),
                &serde_json::json!("no space left")
            )
        );
    }
}
