//! `zvm status`: what is in the Zoom cloud and what is copied, by host and by year, from the
//! state alone (no request to Zoom: it is as fresh as the last sync's listing). Counts the
//! recordings Zoom holds (videos, audio, transcripts, chats, ...), not the files zvm writes
//! itself (`meeting.json`, the summary), and says what `move` freed in the cloud and when.
//! Files Zoom is still processing never reach the file table (there is nothing to fetch
//! yet), so they are counted from the sync's stored listing (Zoom's own answer, kept in the
//! state), with the size Zoom gives while processing (often none).
//! Given the destination, [`stored`] also measures what zvm's copies take there now (for a
//! remote one, the storage the service bills), asking it for each file's size.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;
use zvm_dest::Destination;
use zvm_state::{CloudState, FileKind, FileRow, FileStatus, ListedMeeting, StateStore};

use crate::ArchiveError;

/// Meetings, files and bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub meetings: u64,
    pub files: u64,
    pub bytes: u64,
}

/// The figures of one host's year (or of everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// The host's email; `None` in the total.
    pub host: Option<String>,
    /// The year the meetings started (UTC); `None` in the total.
    pub year: Option<i32>,
    /// Recordings Zoom holds, as of the last listing.
    pub in_cloud: Figures,
    /// Recordings copied and verified.
    pub copied: Figures,
    /// Recordings in the cloud and not copied yet (never tried, in progress, or failed).
    pub pending: Figures,
    /// Recordings Zoom listed as still processing (a later sync copies them), with the
    /// bytes Zoom gave for them so far.
    pub processing: Figures,
    /// Recordings zvm removed from the cloud (`move`), each only after its copy was proven.
    pub freed: Figures,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// By host, then year.
    pub rows: Vec<StatusRow>,
    pub total: StatusRow,
    /// The audit log's entries, and the time of the last (RFC 3339 UTC).
    pub removals: u64,
    pub last_removal: Option<String>,
    /// What the copies take in the destination, when it was given ([`stored`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Stored>,
}

/// Every file zvm copied to a destination (recordings and the files it writes itself),
/// measured there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The destination, without credentials (`/data/Zoom`, `s3://bucket/prefix`).
    pub location: String,
    /// Files found, and their bytes as the destination reports them.
    pub files: u64,
    pub bytes: u64,
    /// Files the state calls copied that the destination does not have (`zvm verify`
    /// says more), and files it could not be asked about.
    pub missing: u64,
    pub unreadable: u64,
}

/// Asks `dest` for the size of every file the state calls verified (the destination's
/// batch of stats: one blocking call on a local disk, HEADs a few at once on a service).
pub async fn stored(
    state: &dyn StateStore,
    dest: &dyn Destination,
) -> Result<Stored, ArchiveError> {
    let paths: Vec<String> = state
        .files_with_status(FileStatus::Verified)
        .await?
        .into_iter()
        .map(|f| f.rel_path)
        .collect();
    let mut out = Stored {
        location: dest.describe(),
        ..Stored::default()
    };
    for size in dest.stat_final_many(&paths).await {
        match size {
            Ok(Some(n)) => {
                out.files += 1;
                out.bytes += n;
            }
            Ok(None) => out.missing += 1,
            Err(_) => out.unreadable += 1,
        }
    }
    Ok(out)
}

/// Per-category meeting sets while counting.
#[derive(Default)]
struct Tally {
    row: StatusRow,
    meetings: [BTreeSet<String>; 5],
}

/// Index of the processing figures in [`Tally`].
const PROCESSING: usize = 4;

impl Tally {
    fn add(&mut self, which: usize, f: &FileRow) {
        self.add_file(which, &f.key.meeting_uuid, f.expected_size);
    }

    fn add_file(&mut self, which: usize, meeting_uuid: &str, bytes: u64) {
        let fig = match which {
            0 => &mut self.row.in_cloud,
            1 => &mut self.row.copied,
            2 => &mut self.row.pending,
            PROCESSING => &mut self.row.processing,
            _ => &mut self.row.freed,
        };
        fig.files += 1;
        fig.bytes += bytes;
        if self.meetings[which].insert(meeting_uuid.to_string()) {
            fig.meetings += 1;
        }
    }
}

/// The report of `state`.
pub async fn status(state: &dyn StateStore) -> Result<StatusReport, ArchiveError> {
    let mut files = Vec::new();
    for s in [
        FileStatus::Pending,
        FileStatus::Partial,
        FileStatus::Verified,
        FileStatus::Failed,
    ] {
        files.extend(state.files_with_status(s).await?);
    }
    let mut hosts: HashMap<String, (String, Option<i32>)> = HashMap::new();
    let mut by: BTreeMap<(String, Option<i32>), Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for f in files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::Recording | FileKind::ParticipantAudio))
    {
        let uuid = &f.key.meeting_uuid;
        if !hosts.contains_key(uuid) {
            let m = state.meeting(uuid).await?;
            let host_year = m.map_or((String::new(), None), |m| {
                (
                    m.host_email,
                    m.start_time.get(..4).and_then(|y| y.parse().ok()),
                )
            });
            hosts.insert(uuid.clone(), host_year);
        }
        let key = hosts[uuid].clone();
        let tally = by.entry(key).or_default();
        let copied = f.status == FileStatus::Verified;
        let mut add = |which| {
            tally.add(which, f);
            total.add(which, f);
        };
        match f.cloud {
            CloudState::Present => {
                add(0);
                if !copied {
                    add(2);
                }
            }
            CloudState::Trashed | CloudState::Deleted => add(3),
            CloudState::Vanished => {}
        }
        if copied {
            add(1);
        }
    }
    for (uuid, listed) in processing_listed(state).await? {
        let key = host_year(state, &uuid, &listed).await?;
        let tally = by.entry(key).or_default();
        for size in processing_sizes(&listed.json) {
            tally.add_file(PROCESSING, &uuid, size);
            total.add_file(PROCESSING, &uuid, size);
        }
    }
    let rows = by
        .into_iter()
        .map(|((host, year), t)| StatusRow {
            host: Some(host),
            year,
            ..t.row
        })
        .collect();
    let log = state.deletions().await?;
    Ok(StatusReport {
        rows,
        total: total.row,
        removals: log.len() as u64,
        last_removal: log.iter().map(|d| d.at.clone()).max(),
        destination: None,
    })
}

/// The newest stored listing of every meeting that has a file still processing, by uuid
/// (a meeting can be in an account-wide and a per-user listing: it is counted once, as the
/// latest listing of a window holding it says).
async fn processing_listed(
    state: &dyn StateStore,
) -> Result<BTreeMap<String, ListedMeeting>, ArchiveError> {
    let mut newest: BTreeMap<String, (String, ListedMeeting)> = BTreeMap::new();
    for scope in state.listing_scopes().await? {
        for w in state.listed_windows(&scope).await? {
            for m in state.window_listing(&w.window).await? {
                let newer = newest.get(&m.uuid).is_none_or(|(at, _)| *at < w.listed_at);
                if newer {
                    newest.insert(m.uuid.clone(), (w.listed_at.clone(), m));
                }
            }
        }
    }
    Ok(newest
        .into_iter()
        .filter(|(_, (_, m))| !processing_sizes(&m.json).is_empty())
        .map(|(uuid, (_, m))| (uuid, m))
        .collect())
}

/// The meeting's host (as the state knows it, else as the listing named it) and year.
async fn host_year(
    state: &dyn StateStore,
    uuid: &str,
    listed: &ListedMeeting,
) -> Result<(String, Option<i32>), ArchiveError> {
    let year = |t: &str| t.get(..4).and_then(|y| y.parse().ok());
    if let Some(m) = state.meeting(uuid).await? {
        return Ok((m.host_email, year(&m.start_time)));
    }
    let json: Value = serde_json::from_str(&listed.json).unwrap_or(Value::Null);
    let host = json["host_email"]
        .as_str()
        .map_or_else(|| listed.host.clone(), str::to_string);
    Ok((host, year(&listed.start_time)))
}

/// The sizes Zoom gave (0 when none) of the files of a listed meeting still processing:
/// `status` "processing", or no file type yet (Zoom's placeholder while it works).
fn processing_sizes(meeting_json: &str) -> Vec<u64> {
    let Ok(m) = serde_json::from_str::<Value>(meeting_json) else {
        return Vec::new();
    };
    ["recording_files", "participant_audio_files"]
        .iter()
        .filter_map(|k| m[*k].as_array())
        .flatten()
        .filter(|f| {
            f["status"].as_str() == Some("processing")
                || f["file_type"].as_str().is_some_and(str::is_empty)
        })
        .map(|f| f["file_size"].as_u64().unwrap_or(0))
        .collect()
}
