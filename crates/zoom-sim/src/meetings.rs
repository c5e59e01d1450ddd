//! A meeting's recordings as Zoom describes them (zoom-api.md §2, §4): the JSON of a meeting
//! and its files, `GET /v2/meetings/{uuid}/recordings`, and the AI Companion summary of
//! `GET /v2/meetings/{uuid}/meeting_summary` (with the rule of which meetings serve one,
//! which the summary listing shares).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::account::{CloudState, SimFile, SimMeeting};
use crate::replies::{json_response, no_recording, zoom_error};
use crate::routes::decode_uuid_segment;
use crate::state::Shared;

fn file_json(st: &Shared, m: &SimMeeting, f: &SimFile) -> Value {
    let base = st.base_url();
    if f.processing {
        // What Zoom sends while a file is processing.
        return json!({
            "id": f.id, "meeting_id": m.uuid,
            "recording_start": f.recording_start, "recording_end": "",
            "file_type": "", "file_size": 0, "status": "processing",
        });
    }
    let mut v = json!({
        "id": f.id,
        "meeting_id": m.uuid,
        "recording_start": f.recording_start,
        "recording_end": f.recording_end,
        "file_type": f.file_type,
        "file_extension": f.file_extension,
        "file_size": f.size,
        "download_url": format!("{base}/rec/download/{}", f.id),
        "status": "completed",
    });
    if let Some(rt) = &f.recording_type {
        v["recording_type"] = Value::String(rt.clone());
    }
    if f.has_play_url {
        v["play_url"] = Value::String(format!("{base}/rec/play/{}", f.id));
    }
    if let Some(n) = &f.file_name {
        v["file_name"] = Value::String(n.clone());
    }
    v
}

pub fn meeting_json(st: &Shared, m: &SimMeeting, details: bool) -> Value {
    meeting_json_filtered(st, m, details, false)
}

pub fn meeting_json_filtered(st: &Shared, m: &SimMeeting, details: bool, trash: bool) -> Value {
    let want = if trash {
        CloudState::Trashed
    } else {
        CloudState::Present
    };
    let files: Vec<Value> = m
        .files
        .iter()
        .filter(|f| f.cloud == want)
        .map(|f| file_json(st, m, f))
        .collect();
    let total: u64 = m
        .files
        .iter()
        .filter(|f| f.cloud == want && !f.processing)
        .map(|f| f.size)
        .sum();
    let host_id = m.host_id.clone();
    let mut v = json!({
        "uuid": m.uuid,
        "id": m.id,
        "account_id": st.cfg.account_id,
        "host_id": host_id,
        "topic": m.topic,
        "type": 2,
        "start_time": m.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "timezone": m.timezone,
        "duration": m.duration,
        "total_size": total,
        "recording_count": files.len(),
        "share_url": format!("https://example.invalid/rec/share/{}", m.id),
        "recording_files": files,
    });
    if details {
        let pa: Vec<Value> = m
            .participant_audio
            .iter()
            .filter(|f| f.cloud == CloudState::Present)
            .map(|f| file_json(st, m, f))
            .collect();
        v["participant_audio_files"] = Value::Array(pa);
        v["download_access_token"] = Value::String("sim-dat-not-a-real-token".into());
        v["recording_play_passcode"] = Value::String("sim-passcode".into());
    }
    v
}

/// Whether the meeting still has a file in the cloud (present or in the trash): only then do
/// the per-meeting routes find it.
fn in_cloud(m: &SimMeeting) -> bool {
    m.files.iter().any(|f| f.cloud != CloudState::Deleted)
}

/// Whether `GET /v2/meetings/{uuid}/meeting_summary` answers 200 for `m`; the summary listing
/// lists exactly these meetings.
pub fn serves_summary(st: &Shared, m: &SimMeeting) -> bool {
    in_cloud(m) && st.cfg.summaries_available() && m.has_summary
}

/// The summary `meeting_summary` serves; the summary listing's entries are parts of it, so
/// the two always agree.
pub fn summary_json(m: &SimMeeting) -> Value {
    let start = m.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    // What the meeting was about, in its language: an archive's search finds it.
    let subject = crate::text::summary_subject(m.id, &m.topic);
    let (overview, details, next_steps, content) = if crate::text::is_japanese(&m.topic) {
        (
            format!("{subject}について話し合い、次のステップに合意しました。"),
            json!([
                {"label": "議題", "summary": format!("{subject}の確認と次回の日程。")},
                {"label": "進捗", "summary": "ほとんどの項目は予定どおりです。"}
            ]),
            json!(["議事録を送る", "次回の会議を予約する"]),
            format!("## 要約\n\n- {subject}について話し合った\n- 次のステップに合意した\n"),
        )
    } else {
        (
            format!("The meeting discussed {subject} and agreed on next steps."),
            json!([
                {"label": "Topic", "summary": format!("A review of {subject}.")},
                {"label": "Progress", "summary": "Most items are on track."}
            ]),
            json!(["Send the minutes", "Book the next session"]),
            format!("## Summary\n\n- Discussed {subject}\n- Next steps agreed\n"),
        )
    };
    json!({
        "meeting_uuid": m.uuid,
        "meeting_id": m.id,
        "meeting_topic": m.topic,
        "meeting_start_time": start,
        "meeting_end_time": start,
        "summary_title": format!("Meeting summary for {}", m.topic),
        "summary_created_time": start,
        "summary_last_modified_time": start,
        "summary_overview": overview,
        "summary_details": details,
        "next_steps": next_steps,
        "summary_content": content,
    })
}

/// Finds a meeting by its uuid path segment, Zoom-style.
fn with_meeting(
    st: &Shared,
    raw: &str,
    f: impl FnOnce(&Shared, &SimMeeting) -> Response,
) -> Response {
    let uuid = decode_uuid_segment(raw);
    let Ok(world) = st.world.read() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    match world
        .account
        .meetings
        .iter()
        .find(|m| m.uuid == uuid && in_cloud(m))
    {
        Some(m) => f(st, m),
        None => no_recording(),
    }
}

/// `GET /v2/meetings/{uuid}/recordings`: the meeting with its participant audio.
pub fn meeting_recordings(st: &Shared, raw_uuid: &str) -> Response {
    with_meeting(st, raw_uuid, |st, m| {
        json_response(StatusCode::OK, &meeting_json(st, m, true))
    })
}

/// `GET /v2/meetings/{uuid}/meeting_summary`.
pub fn meeting_summary(st: &Shared, raw_uuid: &str) -> Response {
    with_meeting(st, raw_uuid, |st, m| {
        if !st.cfg.summaries_available() {
            // What Zoom answers an account whose plan has no AI Companion.
            zoom_error(
                StatusCode::BAD_REQUEST,
                200,
                "Meeting summary is only available for paid accounts.",
            )
        } else if m.has_summary {
            json_response(StatusCode::OK, &summary_json(m))
        } else {
            zoom_error(
                StatusCode::NOT_FOUND,
                3001,
                "Meeting summary does not exist.",
            )
        }
    })
}
