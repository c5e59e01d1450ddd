//! The generated account: users, meetings and files, deterministic from the seed.
//!
//! It deliberately contains what real accounts contain and what broke earlier tools: every
//! file type and recording type, several MP4 views per meeting (sometimes two of the same
//! view), processing files, recurring meetings (one numeric id, many uuids), two meetings
//! with the same topic and minute, hostile topics, uuids with `/`, `+`, `=`, a leading `/`
//! and `//`, empty time zones, TIMELINE files without `play_url`, deactivated and pending
//! users.

use jiff::{Timestamp, ToSpan};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::AccountSpec;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudState {
    Present,
    Trashed,
    Deleted,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimUser {
    /// Pending users have no id.
    pub id: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: &'static str,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimFile {
    pub id: String,
    /// Key of the content generator.
    #[serde(skip)]
    pub key: u64,
    /// What the file is once complete.
    pub file_type: String,
    pub file_extension: String,
    pub recording_type: Option<String>,
    pub size: u64,
    pub recording_start: String,
    pub recording_end: String,
    pub processing: bool,
    pub has_play_url: bool,
    pub cloud: CloudState,
    /// Participant audio only.
    pub file_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimMeeting {
    pub uuid: String,
    pub id: i64,
    pub host_index: usize,
    pub host_id: String,
    pub topic: String,
    pub start: Timestamp,
    pub timezone: String,
    pub duration: i64,
    pub files: Vec<SimFile>,
    pub participant_audio: Vec<SimFile>,
    pub has_summary: bool,
    pub in_progress: bool,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub users: Vec<SimUser>,
    /// Newest first.
    pub meetings: Vec<SimMeeting>,
}

const TOPICS: &[&str] = &[
    "Weekly team sync",
    "Math 101 — Lecture",
    "Project kickoff",
    "Office hours",
    "1:1 Alice / Bob",
    "Quarterly review",
    "定例会議",
    "数学Ⅱ 第3回 授業",
    "Board meeting",
    "Design review",
    "Parent-teacher conference",
    "Sprint planning",
];

const HOSTILE: &[&str] = &[
    "CON",
    "con.txt",
    "../../etc/passwd",
    "a/b\\c:d*e?f\"g<h>i|j",
    "trailing dots...",
    "  leading and trailing spaces  ",
    "tab\tnew\nline\u{7}bell",
    "\u{202E}gnp.exe",
    "🎉 Party 🎉 会議 🚀",
    "定例会議／第３回：「予算」",
    "NUL",
    "COM1",
    "LPT9.log",
    ".",
    "..",
    "",
];

const TIMEZONES: &[&str] = &[
    "America/New_York",
    "Asia/Tokyo",
    "Europe/London",
    "",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
];

const MP4_VIEWS: &[&str] = &[
    "shared_screen_with_speaker_view",
    "shared_screen_with_speaker_view(CC)",
    "shared_screen_with_gallery_view",
    "active_speaker",
    "gallery_view",
    "shared_screen",
    "speaker_view",
    "host_video",
    "audio_interpretation",
    "sign_interpretation",
    "production_studio",
    "future_view_kind",
];

fn rand_id(rng: &mut ChaCha8Rng, len: usize) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| ALPHA[rng.random_range(0..ALPHA.len())] as char)
        .collect()
}

/// A Zoom-like uuid: 16 random bytes in standard base64 (so `/`, `+` and `=` appear).
fn rand_uuid(rng: &mut ChaCha8Rng, i: usize) -> String {
    use base64::Engine;
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    let mut s = base64::engine::general_purpose::STANDARD.encode(b);
    // Make sure the awkward shapes are present, deterministically.
    match i % 9 {
        1 => s.replace_range(0..1, "/"),
        2 => s.replace_range(5..7, "//"),
        3 => s.replace_range(3..4, "+"),
        _ => {}
    }
    s
}

fn size_in(rng: &mut ChaCha8Rng, (lo, hi): (u64, u64)) -> u64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

impl Account {
    pub fn generate(seed: u64, spec: &AccountSpec, end: jiff::civil::Date) -> Account {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut users = Vec::new();
        let total = spec.active_users + spec.inactive_users + spec.pending_users;
        for i in 0..total {
            let status = if i < spec.active_users {
                "active"
            } else if i < spec.active_users + spec.inactive_users {
                "inactive"
            } else {
                "pending"
            };
            users.push(SimUser {
                id: (status != "pending").then(|| rand_id(&mut rng, 22)),
                email: format!("user{}@example.com", i + 1),
                first_name: ["Aiko", "Ben", "Chloé", "Daichi", "Eve", "Farid", "Grace"]
                    [i as usize % 7]
                    .into(),
                last_name: ["Tanaka", "Smith", "Dubois", "Sato", "Jones"][i as usize % 5].into(),
                status,
                timezone: TIMEZONES[i as usize % TIMEZONES.len()].to_string(),
            });
        }
        let hosts: Vec<usize> = users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.id.is_some())
            .map(|(i, _)| i)
            .collect();

        let end_ts = end
            .at(23, 0, 0, 0)
            .in_tz("UTC")
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let span_secs = i64::from(spec.years.max(1)) * 365 * 86_400;
        let mut meetings = Vec::new();
        let mut recurring_id: Option<i64> = None;
        let mut file_counter = 0u64;
        for i in 0..spec.meetings as usize {
            if hosts.is_empty() {
                break;
            }
            let host_index = hosts[rng.random_range(0..hosts.len())];
            let offset = rng.random_range(0..span_secs.max(1));
            // Whole minutes, like Zoom start times.
            let mut start = end_ts
                .checked_sub((offset - offset % 60).seconds())
                .unwrap_or(end_ts);
            let mut topic = if rng.random_bool(spec.hostile_fraction.clamp(0.0, 1.0)) {
                HOSTILE[rng.random_range(0..HOSTILE.len())].to_string()
            } else {
                TOPICS[rng.random_range(0..TOPICS.len())].to_string()
            };
            if i % 53 == 7 {
                topic = "長い会議名".repeat(20); // 300 bytes of Japanese
            }
            // One id, many occurrences: every 5th meeting continues a recurring series.
            let id = match recurring_id {
                Some(r) if i % 5 == 0 => r,
                _ => {
                    let id = rng.random_range(81_000_000_000i64..99_999_999_999);
                    if i % 11 == 0 {
                        recurring_id = Some(id);
                    }
                    id
                }
            };
            let mut timezone = TIMEZONES[rng.random_range(0..TIMEZONES.len())].to_string();
            // Same topic, same host, same minute as the previous meeting: names must not collide.
            if i % 37 == 36
                && let Some(prev) = meetings.last()
            {
                let prev: &SimMeeting = prev;
                start = prev.start;
                topic = prev.topic.clone();
                timezone = prev.timezone.clone();
            }
            let duration = rng.random_range(0..180i64);
            let uuid = rand_uuid(&mut rng, i);
            let mut files = Vec::new();
            let mut mk = |rng: &mut ChaCha8Rng,
                          ft: &str,
                          ext: &str,
                          rt: &str,
                          size: u64,
                          start_off: i64,
                          files: &mut Vec<SimFile>| {
                file_counter += 1;
                let rs = start.checked_add(start_off.seconds()).unwrap_or(start);
                let re = rs.checked_add((duration * 60).seconds()).unwrap_or(rs);
                files.push(SimFile {
                    id: format!("{}-{}", rand_id(rng, 8), file_counter),
                    key: text::binary_key(rng.next_u64()),
                    file_type: ft.into(),
                    file_extension: ext.into(),
                    recording_type: Some(rt.into()),
                    size,
                    recording_start: rs.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    recording_end: re.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    processing: false,
                    has_play_url: ft != "TIMELINE",
                    cloud: CloudState::Present,
                    file_name: None,
                });
            };
            if let Some(n) = spec.files_per_meeting {
                let size = spec.file_size.unwrap_or(spec.mp4_size.0);
                for k in 0..n {
                    let view = MP4_VIEWS[k as usize % 6];
                    mk(&mut rng, "MP4", "MP4", view, size, i64::from(k), &mut files);
                }
            } else {
                let views = rng.random_range(1..=3usize);
                for v in 0..views {
                    let view = MP4_VIEWS[rng.random_range(0..MP4_VIEWS.len())];
                    let size = size_in(&mut rng, spec.mp4_size);
                    mk(&mut rng, "MP4", "MP4", view, size, v as i64, &mut files);
                }
                if i % 7 == 3 {
                    // Recording stopped and restarted: the same view twice.
                    let size = size_in(&mut rng, spec.mp4_size);
                    mk(
                        &mut rng,
                        "MP4",
                        "MP4",
                        "shared_screen_with_speaker_view",
                        size,
                        600,
                        &mut files,
                    );
                    let size = size_in(&mut rng, spec.mp4_size);
                    mk(
                        &mut rng,
                        "MP4",
                        "MP4",
                        "shared_screen_with_speaker_view",
                        size,
                        1200,
                        &mut files,
                    );
                }
                let small = spec.small_size;
                let extras: &[(&str, &str, &str)] = &[
                    ("M4A", "M4A", "audio_only"),
                    ("TRANSCRIPT", "VTT", "audio_transcript"),
                    ("CHAT", "TXT", "chat_file"),
                    ("CC", "VTT", "closed_caption"),
                    ("TIMELINE", "JSON", "timeline"),
                    ("CSV", "CSV", "poll"),
                    ("TB", "JPG", "thumbnail"),
                    ("CHAT_MESSAGE", "JSON", "chat_message"),
                    ("SUMMARY", "JSON", "summary"),
                    ("SUMMARY", "JSON", "summary_next_steps"),
                    ("SUMMARY", "JSON", "summary_smart_chapters"),
                ];
                for (k, (ft, ext, rt)) in extras.iter().enumerate() {
                    // Every type appears often; M4A and transcripts nearly always.
                    let p = if k < 3 { 0.9 } else { 0.45 };
                    if rng.random_bool(p) {
                        let size = if *ft == "M4A" {
                            size_in(&mut rng, spec.mp4_size) / 4 + 1
                        } else {
                            size_in(&mut rng, small)
                        };
                        mk(&mut rng, ft, ext, rt, size, 0, &mut files);
                    }
                }
            }
            for f in &mut files {
                if let Some((key, size)) = text::as_text(&f.file_type, f.key, &topic) {
                    (f.key, f.size) = (key, size);
                }
                if rng.random_bool(spec.processing_fraction.clamp(0.0, 1.0)) {
                    f.processing = true;
                }
            }
            let mut participant_audio = Vec::new();
            if spec.files_per_meeting.is_none()
                && rng.random_bool(spec.participant_audio_fraction.clamp(0.0, 1.0))
            {
                let n = rng.random_range(2..=4);
                for p in 0..n {
                    let size = size_in(&mut rng, spec.small_size) * 4 + 1;
                    mk(
                        &mut rng,
                        "M4A",
                        "M4A",
                        "audio_only",
                        size,
                        0,
                        &mut participant_audio,
                    );
                    if let Some(last) = participant_audio.last_mut() {
                        let names = [
                            "Aiko Tanaka",
                            "Ben Smith",
                            "Chloé Dubois",
                            "佐藤 大地",
                            "Ben Smith",
                        ];
                        last.file_name = Some(names[p % names.len()].to_string());
                        last.recording_type = None;
                    }
                }
            }
            meetings.push(SimMeeting {
                uuid,
                id,
                host_index,
                host_id: users[host_index].id.clone().unwrap_or_default(),
                topic,
                start,
                timezone,
                duration,
                files,
                participant_audio,
                has_summary: spec.files_per_meeting.is_none()
                    && rng.random_bool(spec.summary_fraction.clamp(0.0, 1.0)),
                in_progress: rng.random_bool(spec.in_progress_fraction.clamp(0.0, 1.0)),
            });
        }
        meetings.sort_by(|a, b| b.start.cmp(&a.start).then_with(|| a.uuid.cmp(&b.uuid)));
        if let Some(size) = spec.large_file
            && let Some(f) = meetings
                .first_mut()
                .and_then(|m| m.files.iter_mut().find(|f| f.file_type == "MP4"))
        {
            f.size = size;
        }
        Account { users, meetings }
    }
}
