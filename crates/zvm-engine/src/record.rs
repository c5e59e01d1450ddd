//! The files the engine writes itself: `meeting.json` (its content and the state row that
//! says it is done) and any small artifact written whole (the summary).

use serde::Serialize;

use zvm_state::{FileKey, FileKind, PlannedFile};

use crate::engine::Engine;
use crate::error::EngineError;

/// The `meeting.json` we write: what a person or a script needs to know about the copy.
/// Built from our own fields rather than Zoom's raw answer so that no token (Zoom's
/// `download_access_token`) can end up on disk.
#[derive(Debug, Serialize)]
pub struct MeetingRecord<'a> {
    pub uuid: &'a str,
    pub meeting_id: i64,
    pub topic: &'a str,
    pub host: &'a str,
    pub host_id: &'a str,
    pub start_time: &'a str,
    pub timezone: &'a str,
    pub duration_minutes: i64,
    pub share_url: &'a str,
    pub files: Vec<FileRecord>,
    pub participant_audio: Vec<FileRecord>,
    pub summary: Option<&'static str>,
    pub saved_by: String,
}

#[derive(Debug, Serialize)]
pub struct FileRecord {
    pub id: String,
    pub file_type: String,
    pub recording_type: String,
    pub file_extension: String,
    pub file_size: u64,
    pub recording_start: String,
    pub recording_end: String,
    pub status: String,
    /// Relative to the destination root; empty when not downloaded (processing, filtered).
    pub path: String,
}

/// A meeting's `meeting.json`, ready, waiting for the meeting's downloads.
#[derive(Debug)]
pub(crate) struct PendingRecord {
    pub(crate) meeting_uuid: String,
    pub(crate) folder: String,
    pub(crate) json: Vec<u8>,
    /// Record it as verified in the state (the meeting then costs no request next run).
    pub(crate) mark_done: bool,
}

/// Writes a small file atomically and records it as verified.
pub(crate) async fn write_artifact(
    engine: &Engine,
    meeting_uuid: &str,
    folder: &str,
    name: &str,
    kind: FileKind,
    bytes: &[u8],
) -> Result<(), EngineError> {
    let rel = format!("{folder}/{name}");
    engine.dest.write_atomic(&rel, bytes).await?;
    let key = FileKey {
        meeting_uuid: meeting_uuid.to_string(),
        file_id: name.to_string(),
    };
    engine
        .state
        .plan_file(&PlannedFile {
            key: key.clone(),
            kind,
            file_type: String::new(),
            recording_type: String::new(),
            rel_path: rel,
            expected_size: bytes.len() as u64,
        })
        .await?;
    engine
        .state
        .mark_verified(&key, bytes.len() as u64, None)
        .await?;
    Ok(())
}
