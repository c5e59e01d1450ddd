//! What a meeting's folder holds besides its recordings, and how Zoom's times are read.
//!
//! The names here are reserved in every meeting folder before any recording is named, so a
//! recording can never take the name of a file the engine writes itself.

/// The meeting's record, written last: a folder with it holds the whole meeting.
pub const MEETING_JSON: &str = "meeting.json";
/// The AI Companion summary, for people.
pub const SUMMARY_MD: &str = "summary.md";
/// The AI Companion summary, as Zoom sent it.
pub const SUMMARY_JSON: &str = "summary.json";
/// Where participant audio files go inside the meeting folder.
pub const PARTICIPANTS_DIR: &str = "participants";

/// Every name a recording file may not take inside a meeting folder.
pub const RESERVED: [&str; 4] = [MEETING_JSON, SUMMARY_MD, SUMMARY_JSON, PARTICIPANTS_DIR];

/// Parses Zoom's RFC 3339 times; a missing or odd time becomes the epoch rather than an
/// error, so one bad field never stops a meeting from being saved.
pub fn parse_time(s: &str) -> jiff::Timestamp {
    parse_time_opt(s).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

pub fn parse_time_opt(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}
