//! Changes to the live account that happen outside the API, for tests of incremental
//! re-runs: a new meeting is recorded, Zoom finishes processing a file, a user deletes a
//! meeting in the web portal. None of them is a request a client made, so none is counted in
//! the stats or recorded as a [`crate::DeletionRecord`] (those are what the client did).
//!
//! A new meeting is generated like the account's (sizes from its spec, bytes from a key),
//! deterministically from the seed and how many meetings the account already holds, and is
//! inserted where the listings expect it (newest first).

use anyhow::{Context, anyhow, bail};
use jiff::{Timestamp, ToSpan};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::account::{Account, CloudState, SimFile, SimMeeting};
use crate::state::{Shared, World};
use crate::{ManifestFile, ManifestMeeting};

/// A meeting to add to the live account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewMeeting {
    /// The host: a user's id or email (an active or inactive user; pending users have no id).
    pub host: String,
    /// Start, RFC 3339 (`2026-06-01T09:30:00Z`).
    pub start_time: String,
    /// Topic; default "Added meeting".
    pub topic: Option<String>,
    /// Minutes; default 30.
    pub duration: Option<i64>,
    /// Its transcript is still processing (Zoom makes transcripts last); finish it with
    /// [`finish_processing`].
    pub transcript_processing: bool,
    /// It has an AI Companion summary (served on paid plans).
    pub summary: bool,
}

/// How a meeting is deleted in the web portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalDelete {
    /// To the trash (the portal's default; recoverable for 30 days).
    #[default]
    Trash,
    /// For good.
    Permanently,
}

/// Adds a meeting with an MP4, an M4A and a transcript; returns it as the manifest shows it.
pub fn add_meeting(st: &Shared, new: &NewMeeting) -> anyhow::Result<ManifestMeeting> {
    let start: Timestamp = new
        .start_time
        .parse()
        .with_context(|| format!("start_time {:?} is not RFC 3339", new.start_time))?;
    // Zoom start times are whole seconds; the listings compare by day.
    let start = Timestamp::from_second(start.as_second())?;
    let duration = new.duration.unwrap_or(30);
    if duration < 0 {
        bail!("duration {duration} is negative: give minutes, 0 or more");
    }
    let mut world = write_world(st)?;
    let acct = &mut world.account;
    let host_index = acct
        .users
        .iter()
        .position(|u| {
            u.id.as_deref() == Some(new.host.as_str()) || u.email.eq_ignore_ascii_case(&new.host)
        })
        .ok_or_else(|| {
            anyhow!(
                "no user {:?} in the account (give an id or email)",
                new.host
            )
        })?;
    let host = &acct.users[host_index];
    let Some(host_id) = host.id.clone() else {
        bail!(
            "user {} is pending and has no id: Zoom records no meeting for them",
            host.email
        );
    };
    // Meetings are never removed, only their files' cloud state changes: the count is a
    // unique number for this meeting, and with the seed it makes it reproducible.
    let n = acct.meetings.len();
    let mut rng = ChaCha8Rng::seed_from_u64(st.cfg.seed ^ (n as u64).wrapping_mul(0x9e37_79b9));
    let spec = &st.cfg.account;
    let end = start.checked_add((duration * 60).seconds())?;
    let stamp = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut size_in = |(lo, hi): (u64, u64)| {
        if hi <= lo {
            lo
        } else {
            rng.random_range(lo..=hi)
        }
    };
    let mp4 = size_in(spec.mp4_size);
    let m4a = mp4 / 4 + 1;
    let vtt = size_in(spec.small_size);
    let kinds = [
        ("MP4", "MP4", "shared_screen_with_speaker_view", mp4),
        ("M4A", "M4A", "audio_only", m4a),
        ("TRANSCRIPT", "VTT", "audio_transcript", vtt),
    ];
    let topic = new.topic.clone().unwrap_or_else(|| "Added meeting".into());
    let files: Vec<SimFile> = kinds
        .iter()
        .enumerate()
        .map(|(k, (ft, ext, rt, size))| {
            let key = crate::text::binary_key(rng.next_u64());
            let (key, size) = crate::text::as_text(ft, key, &topic).unwrap_or((key, *size));
            SimFile {
                id: format!("live-{n}-{k}"),
                key,
                file_type: (*ft).into(),
                file_extension: (*ext).into(),
                recording_type: Some((*rt).into()),
                size,
                recording_start: stamp(start),
                recording_end: stamp(end),
                processing: *ft == "TRANSCRIPT" && new.transcript_processing,
                has_play_url: true,
                cloud: CloudState::Present,
                file_name: None,
            }
        })
        .collect();
    let mut uuid_bytes = [0u8; 16];
    rng.fill_bytes(&mut uuid_bytes);
    use base64::Engine;
    let meeting = SimMeeting {
        uuid: base64::engine::general_purpose::STANDARD.encode(uuid_bytes),
        id: rng.random_range(81_000_000_000i64..99_999_999_999),
        host_index,
        host_id,
        topic,
        start,
        timezone: "UTC".into(),
        duration,
        files,
        participant_audio: Vec::new(),
        has_summary: new.summary,
        in_progress: false,
    };
    // The order the generator leaves (newest first, then by uuid) is what the listings'
    // binary search relies on.
    let at = acct.meetings.partition_point(|m| {
        m.start > meeting.start || (m.start == meeting.start && m.uuid < meeting.uuid)
    });
    acct.meetings.insert(at, meeting);
    Ok(manifest_meeting(st, acct, &acct.meetings[at]))
}

/// Zoom finishes processing `file_id` of the meeting (every processing file of it when
/// `None`): the files appear completed, with their size, in the next listing. Returns them.
pub fn finish_processing(
    st: &Shared,
    meeting_uuid: &str,
    file_id: Option<&str>,
) -> anyhow::Result<Vec<ManifestFile>> {
    let mut world = write_world(st)?;
    let m = meeting_mut(&mut world.account, meeting_uuid)?;
    let mut finished = Vec::new();
    for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
        let chosen = file_id.is_none_or(|id| id == f.id);
        if chosen && f.processing {
            f.processing = false;
            finished.push(manifest_file(f));
        }
    }
    if finished.is_empty() {
        match file_id {
            Some(id) => bail!("meeting {meeting_uuid:?} has no processing file {id:?}"),
            None => bail!("meeting {meeting_uuid:?} has no file still processing"),
        }
    }
    Ok(finished)
}

/// A user deletes the meeting in the web portal: every file still in the cloud goes to the
/// trash, or is gone for good. No API request is involved, so no deletion is recorded.
pub fn delete_in_portal(st: &Shared, meeting_uuid: &str, how: PortalDelete) -> anyhow::Result<()> {
    let target = match how {
        PortalDelete::Trash => CloudState::Trashed,
        PortalDelete::Permanently => CloudState::Deleted,
    };
    let mut world = write_world(st)?;
    let m = meeting_mut(&mut world.account, meeting_uuid)?;
    let mut changed = false;
    for f in m.files.iter_mut().chain(m.participant_audio.iter_mut()) {
        let applies = match how {
            PortalDelete::Trash => f.cloud == CloudState::Present,
            PortalDelete::Permanently => f.cloud != CloudState::Deleted,
        };
        if applies {
            f.cloud = target;
            changed = true;
        }
    }
    if !changed {
        bail!("meeting {meeting_uuid:?} has nothing left to delete that way");
    }
    Ok(())
}

/// A file as the manifest describes it.
pub(crate) fn manifest_file(f: &SimFile) -> ManifestFile {
    ManifestFile {
        id: f.id.clone(),
        file_type: f.file_type.clone(),
        file_extension: f.file_extension.clone(),
        recording_type: f.recording_type.clone(),
        status: if f.processing {
            "processing"
        } else {
            "completed"
        }
        .into(),
        size: f.size,
        cloud: f.cloud,
        key: f.key,
    }
}

/// A meeting of `a` as the manifest describes it.
pub(crate) fn manifest_meeting(st: &Shared, a: &Account, m: &SimMeeting) -> ManifestMeeting {
    let host = a.users.get(m.host_index);
    ManifestMeeting {
        uuid: m.uuid.clone(),
        id: m.id,
        host_id: host.and_then(|h| h.id.clone()).unwrap_or_default(),
        host_email: host.map(|h| h.email.clone()).unwrap_or_default(),
        topic: m.topic.clone(),
        start_time: m.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        timezone: m.timezone.clone(),
        has_summary: m.has_summary && st.cfg.summaries_available(),
        in_progress: m.in_progress,
        files: m.files.iter().map(manifest_file).collect(),
        participant_audio: m.participant_audio.iter().map(manifest_file).collect(),
    }
}

/// The account's state, to change it.
fn write_world(st: &Shared) -> anyhow::Result<std::sync::RwLockWriteGuard<'_, World>> {
    st.world
        .write()
        .map_err(|_| anyhow!("the simulator's state is poisoned"))
}

/// The meeting a change is about, or why there is none.
fn meeting_mut<'a>(
    acct: &'a mut Account,
    meeting_uuid: &str,
) -> anyhow::Result<&'a mut SimMeeting> {
    acct.meetings
        .iter_mut()
        .find(|m| m.uuid == meeting_uuid)
        .ok_or_else(|| anyhow!("no meeting {meeting_uuid:?} in the account"))
}
