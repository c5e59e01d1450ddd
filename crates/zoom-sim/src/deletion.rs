//! Deletion and recovery (zoom-api.md §5): `DELETE` of a meeting's recordings or one file
//! (to the trash or for good) and `PUT .../status` to recover from the trash, each recorded
//! as a [`DeletionRecord`] for tests to read.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::account::{CloudState, SimFile};
use crate::replies::{no_recording, zoom_error};
use crate::routes::decode_uuid_segment;
use crate::state::{DeletionRecord, Shared, World};

pub fn delete(st: &Shared, raw: &str, file_id: Option<&str>, action: Option<&str>) -> Response {
    let action = action.unwrap_or("trash");
    let target = match action {
        "trash" => CloudState::Trashed,
        "delete" => CloudState::Deleted,
        _ => return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: action"),
    };
    let uuid = decode_uuid_segment(raw);
    let Ok(mut world) = st.world.write() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let Some(m) = world.account.meetings.iter_mut().find(|m| m.uuid == uuid) else {
        return no_recording();
    };
    if m.in_progress {
        return zoom_error(
            StatusCode::BAD_REQUEST,
            3303,
            "The meeting is in progress, recordings cannot be deleted.",
        );
    }
    // What can still be acted on: present files (and trashed ones, for a permanent delete).
    let eligible = |f: &SimFile| match target {
        CloudState::Trashed => f.cloud == CloudState::Present,
        _ => f.cloud != CloudState::Deleted,
    };
    let mut changed = false;
    match file_id {
        None => {
            for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
                if eligible(f) {
                    f.cloud = target;
                    changed = true;
                }
            }
        }
        Some(id) => {
            if let Some(f) = m
                .files
                .iter_mut()
                .chain(m.participant_audio.iter_mut())
                .find(|f| f.id == id)
                && eligible(f)
            {
                f.cloud = target;
                changed = true;
            }
        }
    }
    if !changed {
        return no_recording();
    }
    let uuid = m.uuid.clone();
    record_change(st, &mut world, uuid, file_id, action)
}

pub fn recover(st: &Shared, raw: &str, file_id: Option<&str>, body: &[u8]) -> Response {
    let action = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_string));
    if action.as_deref() != Some("recover") {
        return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: action");
    }
    let uuid = decode_uuid_segment(raw);
    let Ok(mut world) = st.world.write() else {
        return zoom_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "state");
    };
    let Some(m) = world.account.meetings.iter_mut().find(|m| m.uuid == uuid) else {
        return no_recording();
    };
    let mut changed = false;
    for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
        if f.cloud == CloudState::Trashed && file_id.is_none_or(|id| id == f.id) {
            f.cloud = CloudState::Present;
            changed = true;
        }
    }
    if !changed {
        return no_recording();
    }
    let uuid = m.uuid.clone();
    record_change(st, &mut world, uuid, file_id, "recover")
}

/// Records a successful DELETE or recover for tests to read (under the same write lock as
/// the change, so a reader never sees one without the other), and answers 204.
fn record_change(
    st: &Shared,
    world: &mut World,
    meeting_uuid: String,
    file_id: Option<&str>,
    action: &str,
) -> Response {
    world.deletions.push(DeletionRecord {
        at: st.now().to_string(),
        meeting_uuid,
        file_id: file_id.map(str::to_string),
        action: action.to_string(),
    });
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default()
}
