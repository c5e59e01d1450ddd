//! Which meetings of one engine run failed, told from the engine's events: the worker
//! copies the meetings of many webhook events in one run, and settles each event by its
//! own meeting (a failed meeting's event is tried again, the others are done).
//!
//! The run's summary alone cannot say it: its failures name files by path, and a meeting
//! Zoom could not give at all has no file. Every [`Event::FileFailed`] names its meeting's
//! uuid (the engine's `by_uuid_keep_going` reports a meeting it could not fetch that way),
//! so the events are the per-meeting record. Only the worker's runs are recorded: the
//! schedules' runs take the same engine slot in turn, never at the same time.

use std::collections::HashMap;
use std::sync::Mutex;

use zvm_engine::Event;

/// The first failure of each meeting during a recording (see [`Self::begin`]).
#[derive(Debug, Default)]
pub struct MeetingOutcomes {
    /// `None` when no run is being recorded.
    failed: Mutex<Option<HashMap<String, String>>>,
}

impl MeetingOutcomes {
    /// Starts recording (a run of the worker's is about to start), forgetting any earlier.
    pub fn begin(&self) {
        if let Ok(mut f) = self.failed.lock() {
            *f = Some(HashMap::new());
        }
    }

    /// Notes a failure the event reports, if one is being recorded.
    pub fn record(&self, e: &Event) {
        let Event::FileFailed { file, error, .. } = e else {
            return;
        };
        if let Ok(mut f) = self.failed.lock()
            && let Some(map) = f.as_mut()
        {
            map.entry(file.meeting_uuid.clone())
                .or_insert_with(|| format!("{}: {error}", file.path));
        }
    }

    /// Stops recording: each meeting that failed, with its first failure.
    pub fn finish(&self) -> HashMap<String, String> {
        self.failed
            .lock()
            .ok()
            .and_then(|mut f| f.take())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zvm_engine::events::{FailureClass, FileRef};

    fn failed(meeting: &str, path: &str) -> Event {
        Event::FileFailed {
            file: FileRef {
                meeting_uuid: meeting.into(),
                file_id: "f".into(),
                path: path.into(),
            },
            class: FailureClass::Download,
            error: "reset".into(),
        }
    }

    #[test]
    fn only_a_recorded_run_s_failures_are_kept_the_first_of_each_meeting() {
        let o = MeetingOutcomes::default();
        o.record(&failed("before", "x.mp4"));
        o.begin();
        o.record(&failed("a", "a/1.mp4"));
        o.record(&failed("a", "a/2.mp4"));
        o.record(&failed("b", "b/1.m4a"));
        let got = o.finish();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got["a"], "a/1.mp4: reset");
        assert_eq!(got["b"], "b/1.m4a: reset");
        o.record(&failed("after", "y.mp4"));
        o.begin();
        assert!(o.finish().is_empty());
    }
}
