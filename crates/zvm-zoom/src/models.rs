//! Lenient models of Zoom's JSON answers. Every field has a default, unknown enum values are
//! kept as `Other(String)`, `type` is accepted as an integer or a string, and numbers that do
//! not fit are a parse error, never a panic. All models also serialize (the engine writes
//! `meeting.json`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $(#[allow(missing_docs)] $var,)*
            /// A value this version does not know; kept verbatim.
            Other(String),
            /// Absent or empty (e.g. while processing).
            #[default]
            Empty,
        }
        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self { $(Self::$var => $s,)* Self::Other(s) => s, Self::Empty => "" }
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s { $($s => Self::$var,)* "" => Self::Empty, o => Self::Other(o.to_owned()) }
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s: Option<String> = Option::deserialize(d)?;
                Ok(s.as_deref().map(Self::from).unwrap_or_default())
            }
        }
    };
}

string_enum!(
    /// `file_type` of a recording file.
    FileType { Mp4 => "MP4", M4a => "M4A", Chat => "CHAT", Transcript => "TRANSCRIPT", Csv => "CSV",
    Tb => "TB", Cc => "CC", ChatMessage => "CHAT_MESSAGE", Summary => "SUMMARY", Timeline => "TIMELINE" }
);
string_enum!(
    /// `recording_type` of a recording file.
    RecordingType {
    SharedScreenWithSpeakerViewCc => "shared_screen_with_speaker_view(CC)",
    SharedScreenWithSpeakerView => "shared_screen_with_speaker_view",
    SharedScreenWithGalleryView => "shared_screen_with_gallery_view",
    ActiveSpeaker => "active_speaker", GalleryView => "gallery_view", SharedScreen => "shared_screen",
    AudioOnly => "audio_only", AudioTranscript => "audio_transcript", ChatFile => "chat_file",
    Poll => "poll", HostVideo => "host_video", ClosedCaption => "closed_caption", Timeline => "timeline",
    Thumbnail => "thumbnail", AudioInterpretation => "audio_interpretation", Summary => "summary",
    SummaryNextSteps => "summary_next_steps", SummarySmartChapters => "summary_smart_chapters",
    SignInterpretation => "sign_interpretation", ProductionStudio => "production_studio" }
);
string_enum!(
    /// `status` of a recording file.
    FileStatus { Completed => "completed", Processing => "processing" }
);
string_enum!(
    /// `status` of a user.
    UserStatus { Active => "active", Inactive => "inactive", Pending => "pending" }
);

/// Treats `null` like an absent field: Zoom sends either for "no value".
fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// A JSON value that Zoom sends as an integer or a string (meeting `type`, user `type`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IntOrString {
    /// Integer form.
    Int(i64),
    /// String form.
    Str(String),
    /// Absent.
    #[default]
    None,
}
impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(i) => s.serialize_i64(*i),
            Self::Str(v) => s.serialize_str(v),
            Self::None => s.serialize_none(),
        }
    }
}
impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Str(n.to_string()),
            },
            serde_json::Value::String(s) => match s.parse() {
                Ok(i) => Self::Int(i),
                Err(_) => Self::Str(s),
            },
            _ => Self::None,
        })
    }
}

/// One user of the account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub email: String,
    #[serde(deserialize_with = "null_default")]
    pub first_name: String,
    #[serde(deserialize_with = "null_default")]
    pub last_name: String,
    #[serde(rename = "type")]
    pub user_type: IntOrString,
    pub status: UserStatus,
    #[serde(deserialize_with = "null_default")]
    pub timezone: String,
}

/// A page of `GET /users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UsersPage {
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub page_count: u64,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub page_number: u64,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub page_size: u64,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub next_page_token: Option<String>,
    // Required: an answer without its list is malformed, not an empty page.
    #[serde(deserialize_with = "null_default")]
    pub users: Vec<User>,
}

/// One recording file of a meeting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordingFile {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_id: String,
    #[serde(deserialize_with = "null_default")]
    pub recording_start: String,
    #[serde(deserialize_with = "null_default")]
    pub recording_end: String,
    pub file_type: FileType,
    #[serde(deserialize_with = "null_default")]
    pub file_extension: String,
    #[serde(deserialize_with = "null_default")]
    pub file_size: u64,
    pub play_url: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub download_url: String,
    pub status: FileStatus,
    pub recording_type: RecordingType,
}

impl RecordingFile {
    /// True while Zoom is still processing the file: skip it now, fetch it on a later run.
    pub fn is_processing(&self) -> bool {
        self.status == FileStatus::Processing || self.file_type == FileType::Empty
    }
}

/// Per-participant audio file (`participant_audio_files[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParticipantAudioFile {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub file_name: String,
    pub file_type: FileType,
    #[serde(deserialize_with = "null_default")]
    pub file_extension: String,
    #[serde(deserialize_with = "null_default")]
    pub file_size: u64,
    #[serde(deserialize_with = "null_default")]
    pub download_url: String,
    pub status: FileStatus,
    #[serde(deserialize_with = "null_default")]
    pub recording_start: String,
    #[serde(deserialize_with = "null_default")]
    pub recording_end: String,
}

/// A meeting occurrence with its recordings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meeting {
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    #[serde(deserialize_with = "null_default")]
    pub id: i64,
    #[serde(deserialize_with = "null_default")]
    pub account_id: String,
    #[serde(deserialize_with = "null_default")]
    pub host_id: String,
    #[serde(deserialize_with = "null_default")]
    pub host_email: String,
    #[serde(deserialize_with = "null_default")]
    pub topic: String,
    #[serde(rename = "type")]
    pub meeting_type: IntOrString,
    #[serde(deserialize_with = "null_default")]
    pub start_time: String,
    #[serde(deserialize_with = "null_default")]
    pub timezone: String,
    #[serde(deserialize_with = "null_default")]
    pub duration: i64,
    #[serde(deserialize_with = "null_default")]
    pub total_size: u64,
    #[serde(deserialize_with = "null_default")]
    pub recording_count: u64,
    #[serde(deserialize_with = "null_default")]
    pub share_url: String,
    #[serde(deserialize_with = "null_default")]
    pub recording_play_passcode: String,
    #[serde(deserialize_with = "null_default")]
    pub recording_files: Vec<RecordingFile>,
    /// Only in `get_meeting_recordings`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_default")]
    pub participant_audio_files: Vec<ParticipantAudioFile>,
    /// What the account's summary listing (`list_summaries`) said of this meeting, when the
    /// caller listed its window with it: `Some(true)` it has an AI Companion summary,
    /// `Some(false)` it has none (no need to ask), `None` unknown (ask the meeting). Never
    /// sent by Zoom and never serialized: it holds only for the run that listed it.
    #[serde(skip)]
    pub summary_listed: Option<bool>,
}

/// A page of `GET /users/{id}/recordings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordingsPage {
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub from: String,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub to: String,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub page_count: u64,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub page_size: u64,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub next_page_token: Option<String>,
    // Required: an answer without its list is malformed, not an empty page.
    #[serde(deserialize_with = "null_default")]
    pub meetings: Vec<Meeting>,
}

/// `summary_details[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryDetail {
    #[serde(deserialize_with = "null_default")]
    pub label: String,
    #[serde(deserialize_with = "null_default")]
    pub summary: String,
}

/// AI Companion meeting summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeetingSummary {
    #[serde(deserialize_with = "null_default")]
    pub meeting_uuid: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_id: i64,
    #[serde(deserialize_with = "null_default")]
    pub meeting_topic: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_start_time: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_end_time: String,
    #[serde(deserialize_with = "null_default")]
    pub summary_title: String,
    #[serde(deserialize_with = "null_default")]
    pub summary_created_time: String,
    #[serde(deserialize_with = "null_default")]
    pub summary_last_modified_time: String,
    #[serde(deserialize_with = "null_default")]
    pub summary_content: String,
    pub summary_overview: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub summary_details: Vec<SummaryDetail>,
    #[serde(deserialize_with = "null_default")]
    pub next_steps: Vec<serde_json::Value>,
}

/// One entry of the admin summary listing (`GET /meetings/meeting_summaries`): a meeting
/// that has an AI Companion summary, without the summary itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryListing {
    #[serde(deserialize_with = "null_default")]
    pub meeting_uuid: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_id: i64,
    #[serde(deserialize_with = "null_default")]
    pub meeting_topic: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_host_id: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_host_email: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_start_time: String,
    #[serde(deserialize_with = "null_default")]
    pub meeting_end_time: String,
    #[serde(deserialize_with = "null_default")]
    pub summary_created_time: String,
    #[serde(deserialize_with = "null_default")]
    pub summary_last_modified_time: String,
}

/// A page of `GET /meetings/meeting_summaries`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SummariesPage {
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub from: String,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub to: String,
    #[serde(deserialize_with = "null_default")]
    #[serde(default)]
    pub page_size: u64,
    #[serde(default)]
    pub next_page_token: Option<String>,
    // Required: an answer without its list is malformed, not an empty page.
    #[serde(deserialize_with = "null_default")]
    pub summaries: Vec<SummaryListing>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_meeting() {
        let j = r#"{"uuid":"/a+b==","id":123,"type":"8","topic":"x/y","extra":1,
            "recording_files":[{"id":"f","file_type":"","status":"processing"},
            {"id":"g","file_type":"MP4","recording_type":"brand_new_view","file_size":5,"status":"completed"}]}"#;
        let m: Meeting = serde_json::from_str(j).unwrap_or_default();
        assert_eq!(m.uuid, "/a+b==");
        assert_eq!(m.meeting_type, IntOrString::Int(8));
        assert!(m.recording_files[0].is_processing());
        assert_eq!(
            m.recording_files[1].recording_type,
            RecordingType::Other("brand_new_view".into())
        );
        assert_eq!(m.recording_files[1].file_type, FileType::Mp4);
        let back = serde_json::to_value(&m).unwrap_or_default();
        assert_eq!(
            back["recording_files"][1]["recording_type"],
            "brand_new_view"
        );
    }

    #[test]
    fn lenient_summary_listing() {
        let p: SummariesPage = serde_json::from_str(
            r#"{"from":"2026-06-01","next_page_token":null,"summaries":[
            {"meeting_uuid":"/a==","meeting_id":7,"meeting_topic":null,"new_field":[1]},{}]}"#,
        )
        .unwrap_or_default();
        assert_eq!(p.summaries.len(), 2);
        assert_eq!(p.summaries[0].meeting_uuid, "/a==");
        assert!(serde_json::from_str::<SummariesPage>(r#"{"from":"2026-06-01"}"#).is_err());
    }

    #[test]
    fn numbers_that_do_not_fit_error() {
        let r: Result<Meeting, _> = serde_json::from_str(r#"{"id":1e30}"#);
        assert!(r.is_err());
        let r: Result<RecordingFile, _> = serde_json::from_str(r#"{"file_size":-1}"#);
        assert!(r.is_err());
        let r: Result<Meeting, _> = serde_json::from_str(
            r#"{"type":null,"timezone":null,"topic":null,"recording_files":null}"#,
        );
        assert!(r.is_ok());
    }
}
