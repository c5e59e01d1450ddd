//! The Search screen's data: the words asked, and the engine thread's answer from the same
//! full-text index as `zvm search` (zvm-archive's `SearchIndex`, `NAME.search.sqlite3`
//! beside the state). The window never waits for it: each question gets a number, the
//! backend answers with that number, and an answer to an older question (the user typed on)
//! is dropped. Times are put in the window's zone once, when the answer arrives, not per
//! frame.

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use zvm_archive::Hit;

/// At most this many matching lines are asked for and shown (the most recently copied
/// first, as `zvm search --limit`).
pub const SHOWN_HITS: usize = 200;

/// What the engine thread answers to a question.
#[derive(Debug, Clone)]
pub enum SearchAnswer {
    /// No index yet, or one that holds no file: nothing was copied (or indexed) yet.
    NoIndex,
    /// The index is there; the matching lines (none for an empty question).
    Hits(Vec<Hit>),
    /// The words cannot be searched (an unclosed quote...): zvm-archive's reason.
    BadQuery(String),
    /// The index could not be read: its error.
    Failed(String),
}

/// How a rebuild of the index went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildOutcome {
    /// Files and lines now in the index.
    Rebuilt { files: u64, lines: u64 },
    /// No state database yet: nothing was ever copied with these settings.
    NothingCopied,
    /// The destination is not a folder on this computer (the index reads the copied files).
    NotAFolder,
    /// The rebuild failed: the error's words.
    Failed(String),
}

/// Whether there is an index to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    /// Not asked yet.
    Unknown,
    /// No index, or an empty one.
    Missing,
    Present,
    /// Being rebuilt on the engine thread.
    Rebuilding,
}

/// One matching line, ready to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLine {
    pub meeting_uuid: String,
    pub topic: String,
    /// The meeting's start in the window's zone, with the zone (`2026-11-28 18:30 JST`).
    pub when: String,
    pub host: String,
    /// Where in the recording the line was said (`00:12:34`); `None` in a summary.
    pub at: Option<String>,
    /// `transcript`, `chat` or `summary` (zvm-archive's words; the window translates).
    pub kind: String,
    pub text: String,
    /// The file, relative to the destination (as the index keeps it).
    pub path: String,
    /// The file on this computer.
    pub file: PathBuf,
}

/// What the screen shows under the search box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing asked.
    Idle,
    /// Asked; the answer is on its way.
    Searching,
    Found(Vec<FoundLine>),
    BadQuery(String),
    Failed(String),
}

/// The Search screen's state.
#[derive(Debug)]
pub struct SearchView {
    pub query: String,
    /// The number of the latest question; only its answer is shown.
    asked: u64,
    pub index: IndexState,
    pub outcome: Outcome,
    /// The last rebuild's outcome, said under the box until the next question.
    pub rebuilt: Option<RebuildOutcome>,
}

impl Default for SearchView {
    fn default() -> SearchView {
        SearchView {
            query: String::new(),
            asked: 0,
            index: IndexState::Unknown,
            outcome: Outcome::Idle,
            rebuilt: None,
        }
    }
}

impl SearchView {
    /// A new question for the words in `query` (empty words ask only whether an index is
    /// there): returns its number, to send with it.
    pub fn ask(&mut self) -> u64 {
        self.asked += 1;
        self.outcome = if self.query.trim().is_empty() {
            Outcome::Idle
        } else {
            Outcome::Searching
        };
        self.asked
    }

    /// Takes the answer to question `number`, its times put in `tz` and its paths under
    /// `destination`. An answer to an earlier question is dropped (returns false).
    pub fn answer(
        &mut self,
        number: u64,
        answer: SearchAnswer,
        tz: &TimeZone,
        destination: &Path,
    ) -> bool {
        if number != self.asked {
            return false;
        }
        if self.index != IndexState::Rebuilding {
            self.index = match answer {
                SearchAnswer::NoIndex => IndexState::Missing,
                _ => IndexState::Present,
            };
        }
        self.outcome = match answer {
            SearchAnswer::NoIndex => Outcome::Idle,
            SearchAnswer::Hits(_) if self.query.trim().is_empty() => Outcome::Idle,
            SearchAnswer::Hits(hits) => Outcome::Found(
                hits.into_iter()
                    .map(|h| found_line(h, tz, destination))
                    .collect(),
            ),
            SearchAnswer::BadQuery(why) => Outcome::BadQuery(why),
            SearchAnswer::Failed(why) => Outcome::Failed(why),
        };
        true
    }

    /// A rebuild was started.
    pub fn rebuilding(&mut self) {
        self.index = IndexState::Rebuilding;
        self.rebuilt = None;
    }

    /// A rebuild ended: the index is there if it holds a file.
    pub fn rebuild_ended(&mut self, outcome: RebuildOutcome) {
        self.index = match outcome {
            RebuildOutcome::Rebuilt { files, .. } if files > 0 => IndexState::Present,
            _ => IndexState::Missing,
        };
        self.rebuilt = Some(outcome);
    }

    /// The matching lines shown now.
    pub fn lines(&self) -> &[FoundLine] {
        match &self.outcome {
            Outcome::Found(lines) => lines,
            _ => &[],
        }
    }
}

fn found_line(h: Hit, tz: &TimeZone, destination: &Path) -> FoundLine {
    FoundLine {
        file: destination.join(&h.path),
        when: local_when_with_zone(tz, &h.start_time),
        at: h.offset_ms.map(clock),
        meeting_uuid: h.meeting_uuid,
        topic: h.topic,
        host: h.host,
        kind: h.kind,
        text: h.text,
        path: h.path,
    }
}

/// A Zoom time (`2026-11-28T09:30:00Z`) as `2026-11-28 18:30 JST` in `tz`: the zone's
/// abbreviation where it has one, else its offset.
pub fn local_when_with_zone(tz: &TimeZone, zoom_time: &str) -> String {
    zvm_engine::artifacts::parse_time(zoom_time)
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `HH:MM:SS` of an offset into a recording.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(text: &str, offset_ms: Option<u64>) -> Hit {
        Hit {
            meeting_uuid: "m1".into(),
            topic: "定例会議".into(),
            start_time: "2026-11-28T09:30:00Z".into(),
            host: "teacher@school.example".into(),
            path: "teacher@school.example/2026/2026-11-28 1830 定例会議/audio_transcript.vtt"
                .into(),
            kind: "transcript".into(),
            offset_ms,
            text: text.into(),
        }
    }

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").expect("the system's zone database has Asia/Tokyo")
    }

    #[test]
    fn an_answer_is_in_local_time_with_the_zone_and_its_file_under_the_destination() {
        let mut v = SearchView {
            query: "予算".into(),
            ..SearchView::default()
        };
        let n = v.ask();
        assert_eq!(v.outcome, Outcome::Searching);
        let dest = Path::new("/data/Zoom");
        assert!(v.answer(
            n,
            SearchAnswer::Hits(vec![hit("A: 予算の件", Some(3_723_400))]),
            &tokyo(),
            dest
        ));
        assert_eq!(v.index, IndexState::Present);
        let l = &v.lines()[0];
        assert_eq!(l.when, "2026-11-28 18:30 JST");
        assert_eq!(l.at.as_deref(), Some("01:02:03"));
        assert_eq!(
            l.file,
            dest.join("teacher@school.example/2026/2026-11-28 1830 定例会議/audio_transcript.vtt")
        );
    }

    #[test]
    fn an_answer_to_an_earlier_question_is_dropped() {
        let mut v = SearchView {
            query: "bud".into(),
            ..SearchView::default()
        };
        let first = v.ask();
        v.query = "budget".into();
        let second = v.ask();
        let tz = tokyo();
        let dest = Path::new("/d");
        assert!(!v.answer(first, SearchAnswer::Hits(vec![hit("old", None)]), &tz, dest));
        assert_eq!(
            v.outcome,
            Outcome::Searching,
            "the late answer is not shown"
        );
        assert!(v.answer(
            second,
            SearchAnswer::Hits(vec![hit("new", None)]),
            &tz,
            dest
        ));
        assert_eq!(v.lines().len(), 1);
        assert_eq!(v.lines()[0].text, "new");
        assert_eq!(v.lines()[0].at, None, "a summary's line has no time");
    }

    #[test]
    fn no_index_and_rebuilds_say_whether_there_is_one() {
        let mut v = SearchView::default();
        let n = v.ask();
        assert_eq!(
            v.outcome,
            Outcome::Idle,
            "empty words only ask about the index"
        );
        v.answer(n, SearchAnswer::NoIndex, &tokyo(), Path::new("/d"));
        assert_eq!(v.index, IndexState::Missing);
        v.rebuilding();
        assert_eq!(v.index, IndexState::Rebuilding);
        v.rebuild_ended(RebuildOutcome::Rebuilt { files: 0, lines: 0 });
        assert_eq!(v.index, IndexState::Missing, "an empty index is no index");
        v.rebuild_ended(RebuildOutcome::Rebuilt {
            files: 3,
            lines: 90,
        });
        assert_eq!(v.index, IndexState::Present);
    }
}
