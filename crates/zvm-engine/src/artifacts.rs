//! What the engine writes beside the recordings: `meeting.json`, the AI Companion summary
//! (`summary.md`, `summary.json`) and the per-participant audio files it discovers.
//!
//! These need one more request per meeting each (meeting details, summary; no summary
//! request for a meeting the month's summary listing left out, see
//! [`Meeting::summary_listed`]), so they run on a small pool of their own and are recorded in the state like files: a meeting whose
//! `meeting.json` row is verified and whose files are all verified costs no request at all on
//! the next run. `meeting.json` is written last: once the meeting's details are all in and
//! every download of the meeting queued in this run has ended verified ([`RecordGate`]). So
//! a folder with a `meeting.json` holds the whole meeting, and a folder without one is not
//! finished; a failure anywhere leaves it missing and the meeting unfinished in the state,
//! and the next run fetches what is missing and writes the record.

use std::collections::BTreeMap;
use std::sync::Arc;

use zvm_naming::NameAllocator;
use zvm_state::{FileKey, FileKind, FileRow, FileStatus, PlannedFile};
use zvm_zoom::models::{Meeting, MeetingSummary};

use crate::error::EngineError;
use crate::events::FileRef;
use crate::layout::{PARTICIPANTS_DIR, SUMMARY_JSON, SUMMARY_MD};
use crate::options::SyncOptions;
use crate::queue::{JobQueue, RecordGate};
use crate::record::{FileRecord, MeetingRecord, PendingRecord, write_artifact};

pub use crate::layout::{parse_time, parse_time_opt};

/// A part of a meeting's details (its summary, its participant audio list) that could not be
/// fetched. The run counts it as a failed file, so the exit code says the copy is incomplete,
/// and the meeting stays unfinished in the state, so the next run asks again.
pub(crate) struct DetailFailure {
    pub file: FileRef,
    pub error: String,
}

/// One meeting whose details are to be fetched, with what the planner found about it.
pub(crate) struct DetailsJob {
    pub meeting: Meeting,
    pub folder: String,
    pub host: String,
    /// The meeting's state rows, by file id.
    pub existing: BTreeMap<String, FileRow>,
    /// Where each recording file lives (or will), by file id.
    pub paths: BTreeMap<String, String>,
    /// The meeting's gate: participant audio is counted in it, the record handed to it.
    pub gate: Arc<RecordGate>,
    /// Whether `meeting` is Zoom's answer for this one meeting (`get_meeting_recordings`,
    /// asked while listing): its participant audio list is then known, not asked again.
    pub detailed: bool,
}

/// Fetches a meeting's details and hands the meeting's record (or the news that there will
/// be none) to its gate; returns what could not be fetched.
pub(crate) async fn run_details(
    queue: &JobQueue,
    opts: &SyncOptions,
    job: &DetailsJob,
) -> Result<Vec<DetailFailure>, EngineError> {
    let fetched = fetch_details(queue, opts, job).await;
    let (failures, pending) = match fetched {
        Ok((failures, pending)) => (Ok(failures), pending),
        Err(e) => (Err(e), None),
    };
    job.gate.details_ended(queue.engine(), pending).await;
    failures
}

/// Fetches a meeting's details, queues its participant audio (each counted in the gate),
/// writes the summary; returns what could not be fetched, and the meeting's record for the
/// gate to write once the downloads are done (none when a part of the details failed).
async fn fetch_details(
    queue: &JobQueue,
    opts: &SyncOptions,
    job: &DetailsJob,
) -> Result<(Vec<DetailFailure>, Option<PendingRecord>), EngineError> {
    let engine = queue.engine();
    let DetailsJob {
        meeting,
        folder,
        host,
        existing,
        paths,
        gate,
        detailed,
    } = job;
    let (folder, host) = (folder.as_str(), host.as_str());
    let mut complete = true;
    let mut failures = Vec::new();
    let failed = |file_id: &str, path: String, error: String| DetailFailure {
        file: FileRef {
            meeting_uuid: meeting.uuid.clone(),
            file_id: file_id.to_string(),
            path,
        },
        error,
    };

    // Participant audio (one request: the meeting's details).
    let mut participant_records = Vec::new();
    if opts.participant_audio && opts.filters.wants_file_type("M4A") {
        let asked = if *detailed {
            Ok(meeting.clone())
        } else {
            engine.zoom().get_meeting_recordings(&meeting.uuid).await
        };
        match asked {
            Ok(details) => {
                let mut names = NameAllocator::new();
                for row in existing.values() {
                    if row.kind == FileKind::ParticipantAudio
                        && let Some(n) = row
                            .rel_path
                            .strip_prefix(&format!("{folder}/{PARTICIPANTS_DIR}/"))
                    {
                        names.reserve(n);
                    }
                }
                for pa in &details.participant_audio_files {
                    if pa.id.is_empty() {
                        continue;
                    }
                    let rel = match existing.get(&pa.id) {
                        Some(r) if !r.rel_path.is_empty() => r.rel_path.clone(),
                        _ => {
                            let stem = if pa.file_name.is_empty() {
                                pa.id.as_str()
                            } else {
                                pa.file_name.as_str()
                            };
                            let ext = pa.file_extension.to_ascii_lowercase();
                            let base = zvm_naming::sanitize_component(&format!(
                                "{stem}.{}",
                                if ext.is_empty() { "m4a" } else { &ext }
                            ));
                            format!("{folder}/{PARTICIPANTS_DIR}/{}", names.allocate(&base))
                        }
                    };
                    participant_records.push(FileRecord {
                        id: pa.id.clone(),
                        file_type: pa.file_type.as_str().to_string(),
                        recording_type: "participant_audio".into(),
                        file_extension: pa.file_extension.clone(),
                        file_size: pa.file_size,
                        recording_start: pa.recording_start.clone(),
                        recording_end: pa.recording_end.clone(),
                        status: pa.status.as_str().to_string(),
                        path: rel.clone(),
                    });
                    if pa.status == zvm_zoom::FileStatus::Processing || pa.file_size == 0 {
                        complete = false;
                        continue;
                    }
                    if existing.get(&pa.id).is_some_and(|r| {
                        r.status == FileStatus::Verified && r.expected_size == pa.file_size
                    }) {
                        continue;
                    }
                    let plan = PlannedFile {
                        key: FileKey {
                            meeting_uuid: meeting.uuid.clone(),
                            file_id: pa.id.clone(),
                        },
                        kind: FileKind::ParticipantAudio,
                        file_type: pa.file_type.as_str().to_string(),
                        recording_type: "participant_audio".into(),
                        rel_path: rel,
                        expected_size: pa.file_size,
                    };
                    queue.push(plan, pa.download_url.clone(), gate).await?;
                }
            }
            Err(e) => {
                complete = false;
                failures.push(failed(
                    "participant_audio",
                    format!("{folder}/{PARTICIPANTS_DIR}/"),
                    format!("participant audio of \"{}\": {e}", meeting.topic),
                ));
            }
        }
    }

    // The AI Companion summary: a missing one is normal. When the summary listing of the
    // meeting's month left it out, it has none: no request.
    let mut summary_state = None;
    if opts.summaries && meeting.summary_listed == Some(false) {
        summary_state = Some("none");
    } else if opts.summaries {
        match engine.zoom().meeting_summary(&meeting.uuid).await {
            Ok(Ok(summary)) => {
                let json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
                let md = summary_markdown(&summary, meeting);
                write_artifact(
                    engine,
                    &meeting.uuid,
                    folder,
                    SUMMARY_JSON,
                    FileKind::Summary,
                    &json,
                )
                .await?;
                write_artifact(
                    engine,
                    &meeting.uuid,
                    folder,
                    SUMMARY_MD,
                    FileKind::Summary,
                    md.as_bytes(),
                )
                .await?;
                summary_state = Some("saved");
            }
            Ok(Err(_absent)) => summary_state = Some("none"),
            Err(e) => {
                complete = false;
                failures.push(failed(
                    "summary",
                    format!("{folder}/{SUMMARY_MD}"),
                    format!("summary of \"{}\": {e}", meeting.topic),
                ));
            }
        }
    }

    if !failures.is_empty() {
        // Part of the details never came: a meeting.json now would say the meeting has no
        // participant audio or no summary where we only failed to ask. None is written, so
        // the folder shows the copy is unfinished (as the module promises), and nothing is
        // marked done, so the next run asks for the details again.
        return Ok((failures, None));
    }

    let files = meeting
        .recording_files
        .iter()
        .map(|f| FileRecord {
            id: f.id.clone(),
            file_type: f.file_type.as_str().to_string(),
            recording_type: f.recording_type.as_str().to_string(),
            file_extension: f.file_extension.clone(),
            file_size: f.file_size,
            recording_start: f.recording_start.clone(),
            recording_end: f.recording_end.clone(),
            status: f.status.as_str().to_string(),
            path: paths.get(&f.id).cloned().unwrap_or_default(),
        })
        .collect();
    let record = MeetingRecord {
        uuid: &meeting.uuid,
        meeting_id: meeting.id,
        topic: &meeting.topic,
        host,
        host_id: &meeting.host_id,
        start_time: &meeting.start_time,
        timezone: &meeting.timezone,
        duration_minutes: meeting.duration,
        share_url: &meeting.share_url,
        files,
        participant_audio: participant_records,
        summary: summary_state,
        saved_by: format!("zvm {}", env!("CARGO_PKG_VERSION")),
    };
    let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
    Ok((
        failures,
        Some(PendingRecord {
            meeting_uuid: meeting.uuid.clone(),
            folder: folder.to_string(),
            json,
            // Participant audio still processing: the record is true (it lists those files
            // as processing), so it is written for the person looking at the folder, but not
            // marked done: the next run asks for the details again.
            mark_done: complete,
        }),
    ))
}

/// Renders an AI Companion summary as Markdown a person can read in any editor.
pub fn summary_markdown(s: &MeetingSummary, meeting: &Meeting) -> String {
    let mut out = String::new();
    let title = if s.summary_title.is_empty() {
        meeting.topic.as_str()
    } else {
        s.summary_title.as_str()
    };
    out.push_str(&format!("# {title}\n\n"));
    out.push_str(&format!("- Meeting: {}\n", meeting.topic));
    out.push_str(&format!("- Start: {}\n", meeting.start_time));
    if !s.meeting_end_time.is_empty() {
        out.push_str(&format!("- End: {}\n", s.meeting_end_time));
    }
    out.push('\n');
    if let Some(overview) = s.summary_overview.as_deref().filter(|o| !o.is_empty()) {
        out.push_str("## Overview\n\n");
        out.push_str(overview);
        out.push_str("\n\n");
    }
    if !s.summary_details.is_empty() {
        out.push_str("## Details\n\n");
        for d in &s.summary_details {
            out.push_str(&format!("### {}\n\n{}\n\n", d.label, d.summary));
        }
    }
    if !s.next_steps.is_empty() {
        out.push_str("## Next steps\n\n");
        for step in &s.next_steps {
            // Zoom sends next steps as strings or as objects; show text, not JSON quotes.
            let text = match step {
                serde_json::Value::String(t) => t.clone(),
                serde_json::Value::Object(o) => o
                    .get("text")
                    .or_else(|| o.get("summary"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| step.to_string()),
                other => other.to_string(),
            };
            out.push_str(&format!("- {text}\n"));
        }
        out.push('\n');
    }
    if !s.summary_content.is_empty() {
        out.push_str("## Summary\n\n");
        out.push_str(&s.summary_content);
        out.push('\n');
    }
    out
}
