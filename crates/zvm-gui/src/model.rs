//! What the screens show, as plain data: the listed recordings (with a cached filtered view
//! and selection totals, so 100,000 rows cost nothing per frame), the transfers built from
//! engine events (overall and per-file progress, rate, ETA), and the log of problems.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use jiff::civil::Date;

use zvm_engine::Event;
use zvm_engine::events::FileRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    InCloud,
    Downloaded,
    Partial,
    Trashed,
}

#[derive(Debug, Clone)]
pub struct RecFile {
    pub id: String,
    pub file_type: String,
    pub size: u64,
}

/// One listed meeting.
#[derive(Debug, Clone)]
pub struct Recording {
    pub uuid: String,
    pub host_id: String,
    /// Host email (or id when Zoom gives none).
    pub host: String,
    pub topic: String,
    pub start_time: String,
    /// The meeting's UTC day (what Zoom's listing filters on).
    pub date: Date,
    /// `YYYY-MM-DD HH:MM` in UTC, for the table.
    pub when: String,
    pub files: Vec<RecFile>,
    /// `MP4 M4A CHAT`... for the table.
    pub types: String,
    pub bytes: u64,
    pub status: RowStatus,
    pub selected: bool,
    /// Lower-cased topic and host for the text filter.
    search: String,
}

impl Recording {
    pub fn new(
        uuid: String,
        host_id: String,
        host: String,
        topic: String,
        start_time: String,
        files: Vec<RecFile>,
        status: RowStatus,
    ) -> Recording {
        let ts = zvm_engine::artifacts::parse_time(&start_time);
        let utc = ts.to_zoned(jiff::tz::TimeZone::UTC);
        let mut types: Vec<&str> = files.iter().map(|f| f.file_type.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        let types = types.join(" ");
        let bytes = files.iter().map(|f| f.size).sum();
        let search = format!("{} {} {}", topic, host, types).to_lowercase();
        Recording {
            uuid,
            host_id,
            host,
            topic,
            start_time,
            date: utc.date(),
            when: utc.strftime("%Y-%m-%d %H:%M").to_string(),
            files,
            types,
            bytes,
            status,
            selected: false,
            search,
        }
    }
}

/// The listing with its filtered view and selection totals.
#[derive(Default)]
pub struct RecordingList {
    pub rows: Vec<Recording>,
    filter: String,
    /// Indices into `rows` that pass the filter, in order.
    pub visible: Vec<usize>,
    pub selected_count: usize,
    pub selected_bytes: u64,
    by_uuid: HashMap<String, usize>,
    /// Every file type seen in the listing (for the file-type choice).
    pub types_seen: std::collections::BTreeSet<String>,
}

impl RecordingList {
    pub fn clear(&mut self) {
        *self = RecordingList {
            filter: std::mem::take(&mut self.filter),
            ..RecordingList::default()
        };
    }

    /// Adds a batch of listed meetings (a meeting listed again replaces its row and keeps
    /// its tick). Costs O(batch), not O(rows): the listing arrives in many small batches.
    pub fn extend(&mut self, batch: Vec<Recording>) {
        for mut r in batch {
            for f in &r.files {
                if !self.types_seen.contains(&f.file_type) {
                    self.types_seen.insert(f.file_type.clone());
                }
            }
            if let Some(&i) = self.by_uuid.get(&r.uuid) {
                r.selected = self.rows[i].selected;
                if r.selected {
                    self.selected_bytes = self.selected_bytes - self.rows[i].bytes + r.bytes;
                }
                self.rows[i] = r;
                continue;
            }
            let i = self.rows.len();
            self.by_uuid.insert(r.uuid.clone(), i);
            if self.passes(&r) {
                self.visible.push(i);
            }
            if r.selected {
                self.selected_count += 1;
                self.selected_bytes += r.bytes;
            }
            self.rows.push(r);
        }
    }

    fn passes(&self, r: &Recording) -> bool {
        self.filter.is_empty() || r.search.contains(&self.filter)
    }

    pub fn set_filter(&mut self, text: &str) {
        let f = text.trim().to_lowercase();
        if f == self.filter {
            return;
        }
        self.filter = f;
        self.visible = (0..self.rows.len())
            .filter(|&i| self.passes(&self.rows[i]))
            .collect();
    }

    pub fn set_selected(&mut self, i: usize, on: bool) {
        if let Some(r) = self.rows.get_mut(i)
            && r.selected != on
        {
            r.selected = on;
            if on {
                self.selected_count += 1;
                self.selected_bytes += r.bytes;
            } else {
                self.selected_count -= 1;
                self.selected_bytes -= r.bytes;
            }
        }
    }

    /// Selects (or clears) every row the filter shows.
    pub fn select_visible(&mut self, on: bool) {
        for k in 0..self.visible.len() {
            self.set_selected(self.visible[k], on);
        }
    }

    pub fn recount(&mut self) {
        self.selected_count = self.rows.iter().filter(|r| r.selected).count();
        self.selected_bytes = self
            .rows
            .iter()
            .filter(|r| r.selected)
            .map(|r| r.bytes)
            .sum();
    }

    pub fn selected(&self) -> impl Iterator<Item = &Recording> {
        self.rows.iter().filter(|r| r.selected)
    }

    pub fn set_status(&mut self, uuid: &str, status: RowStatus) {
        if let Some(&i) = self.by_uuid.get(uuid) {
            self.rows[i].status = status;
        }
    }

    pub fn index_of(&self, uuid: &str) -> Option<usize> {
        self.by_uuid.get(uuid).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfState {
    Queued,
    Active,
    Done,
    Failed(String),
    Skipped,
}

#[derive(Debug, Clone)]
pub struct TransferRow {
    pub file: FileRef,
    pub size: u64,
    pub done: u64,
    /// Where the latest attempt started (bytes kept from an earlier, paused run).
    pub offset: u64,
    pub state: TfState,
}

/// Transfers of the current job, built from engine events.
#[derive(Default)]
pub struct Transfers {
    pub rows: Vec<TransferRow>,
    index: HashMap<(String, String), usize>,
    /// Files being downloaded now (indices into `rows`).
    pub active: Vec<usize>,
    pub total_bytes: u64,
    pub done_bytes: u64,
    pub files_done: u64,
    pub files_failed: u64,
    samples: VecDeque<(Instant, u64)>,
    /// Bytes per second over the last few seconds.
    pub rate: f64,
}

impl Transfers {
    pub fn clear(&mut self) {
        *self = Transfers::default();
    }

    fn slot(&mut self, file: &FileRef, size: u64) -> usize {
        let key = (file.meeting_uuid.clone(), file.file_id.clone());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.rows.len();
        self.rows.push(TransferRow {
            file: file.clone(),
            size,
            done: 0,
            offset: 0,
            state: TfState::Queued,
        });
        self.total_bytes += size;
        self.index.insert(key, i);
        i
    }

    fn set_done(&mut self, i: usize, done: u64) {
        let row = &mut self.rows[i];
        let done = done.min(row.size.max(done));
        if done >= row.done {
            self.done_bytes += done - row.done;
        } else {
            self.done_bytes -= row.done - done;
        }
        row.done = done;
    }

    fn deactivate(&mut self, i: usize) {
        self.active.retain(|&a| a != i);
    }

    /// Applies one engine event at `now`.
    pub fn apply(&mut self, e: &Event, now: Instant) {
        match e {
            Event::FileQueued { file, size } => {
                self.slot(file, *size);
            }
            Event::FileStarted { file, size, offset } => {
                let i = self.slot(file, *size);
                self.rows[i].state = TfState::Active;
                self.rows[i].offset = *offset;
                self.set_done(i, *offset);
                if !self.active.contains(&i) {
                    self.active.push(i);
                }
            }
            Event::FileProgress {
                file, bytes_done, ..
            } => {
                if let Some(&i) = self
                    .index
                    .get(&(file.meeting_uuid.clone(), file.file_id.clone()))
                {
                    self.set_done(i, *bytes_done);
                }
            }
            Event::FileDone { file, size, .. } => {
                let i = self.slot(file, *size);
                self.set_done(i, *size);
                self.rows[i].state = TfState::Done;
                self.files_done += 1;
                self.deactivate(i);
            }
            Event::FileFailed { file, error } => {
                let i = self.slot(file, 0);
                self.rows[i].state = TfState::Failed(error.clone());
                self.files_failed += 1;
                self.deactivate(i);
            }
            _ => {}
        }
        self.sample(now);
    }

    fn sample(&mut self, now: Instant) {
        let window = Duration::from_secs(5);
        if self
            .samples
            .back()
            .is_none_or(|(t, _)| now.duration_since(*t) >= Duration::from_millis(200))
        {
            self.samples.push_back((now, self.done_bytes));
        }
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > window)
        {
            self.samples.pop_front();
        }
        if let (Some((t0, b0)), Some((t1, b1))) = (self.samples.front(), self.samples.back()) {
            let dt = t1.duration_since(*t0).as_secs_f64();
            if dt > 0.0 {
                self.rate = b1.saturating_sub(*b0) as f64 / dt;
            }
        }
    }

    /// A stopped run's files are no longer downloading.
    pub fn stop_active(&mut self) {
        for &i in &self.active {
            if self.rows[i].state == TfState::Active {
                self.rows[i].state = TfState::Queued;
            }
        }
        self.active.clear();
        self.rate = 0.0;
        self.samples.clear();
    }

    /// Seconds left at the current rate.
    pub fn eta_secs(&self) -> Option<u64> {
        let left = self.total_bytes.saturating_sub(self.done_bytes);
        (self.rate > 1.0 && left > 0).then(|| (left as f64 / self.rate).ceil() as u64)
    }

    pub fn fraction(&self) -> f32 {
        if self.total_bytes == 0 {
            0.0
        } else {
            (self.done_bytes as f64 / self.total_bytes as f64) as f32
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    FileFailed,
    Warning,
    Error,
}

/// What a line of the log says in the window's words: a failure cause of `zvm-app`, or a
/// key of the GUI's own table. `None`: only the engine's words (a file's failure as the
/// engine reported it), under the line's translated heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    Cause(zvm_app::Cause),
    Key(crate::i18n::S),
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: String,
    pub kind: LogKind,
    pub subject: String,
    pub said: Option<Said>,
    /// The underlying words (the error's own message, the engine's reason).
    pub text: String,
}

impl LogLine {
    /// The line in `lang`: time, heading, subject, then the table's words and the detail.
    pub fn render(&self, lang: crate::i18n::Lang) -> String {
        use crate::i18n::S;
        let head = lang.t(match self.kind {
            LogKind::FileFailed => S::ErrCouldNotDownload,
            LogKind::Warning => S::ErrWarning,
            LogKind::Error => S::ErrGeneral,
        });
        let subject = if self.subject.is_empty() {
            String::new()
        } else {
            format!(" {}", self.subject)
        };
        let words = match self.said {
            Some(Said::Cause(c)) => Some(lang.cause(c)),
            Some(Said::Key(k)) => Some(lang.t(k)),
            None => None,
        };
        match (words, self.text.is_empty()) {
            (Some(w), true) => format!("{} {head}{subject}: {w}", self.at),
            (Some(w), false) => format!("{} {head}{subject}: {w} ({})", self.at, self.text),
            (None, _) => format!("{} {head}{subject}: {}", self.at, self.text),
        }
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn human_secs(s: u64) -> String {
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize, topic: &str, bytes: u64) -> Recording {
        Recording::new(
            format!("u{i}"),
            "h".into(),
            "host@example.com".into(),
            topic.into(),
            "2026-11-28T23:30:00Z".into(),
            vec![RecFile {
                id: format!("f{i}"),
                file_type: "MP4".into(),
                size: bytes,
            }],
            RowStatus::InCloud,
        )
    }

    #[test]
    fn filter_selection_and_totals() {
        let mut l = RecordingList::default();
        l.extend(vec![rec(0, "定例会議", 10), rec(1, "Weekly standup", 20)]);
        l.extend(vec![rec(2, "weekly review", 40)]);
        assert_eq!(l.rows[0].date.to_string(), "2026-11-28");
        assert_eq!(l.rows[0].when, "2026-11-28 23:30");
        l.set_filter("WEEKLY");
        assert_eq!(l.visible, vec![1, 2]);
        l.select_visible(true);
        assert_eq!((l.selected_count, l.selected_bytes), (2, 60));
        l.set_filter("定例");
        l.select_visible(true);
        assert_eq!((l.selected_count, l.selected_bytes), (3, 70));
        // Listed again with a new size: the tick stays, the total follows.
        l.extend(vec![rec(2, "weekly review", 45)]);
        assert_eq!((l.selected_count, l.selected_bytes), (3, 75));
        l.set_selected(0, false);
        assert_eq!((l.selected_count, l.selected_bytes), (2, 65));
        l.set_filter("");
        assert_eq!(l.visible.len(), 3);
    }

    #[test]
    fn transfers_follow_events_with_resume_and_eta() {
        let f = FileRef {
            meeting_uuid: "m".into(),
            file_id: "a".into(),
            path: "x/a.mp4".into(),
        };
        let t0 = Instant::now();
        let mut t = Transfers::default();
        t.apply(
            &Event::FileQueued {
                file: f.clone(),
                size: 1000,
            },
            t0,
        );
        t.apply(
            &Event::FileStarted {
                file: f.clone(),
                size: 1000,
                offset: 0,
            },
            t0,
        );
        t.apply(
            &Event::FileProgress {
                file: f.clone(),
                bytes_done: 100,
                size: 1000,
            },
            t0 + Duration::from_secs(1),
        );
        t.apply(
            &Event::FileProgress {
                file: f.clone(),
                bytes_done: 300,
                size: 1000,
            },
            t0 + Duration::from_secs(2),
        );
        assert_eq!(t.done_bytes, 300);
        assert!((t.rate - 150.0).abs() < 1.0, "rate {}", t.rate);
        assert_eq!(t.eta_secs(), Some(5));
        t.stop_active();
        assert!(t.active.is_empty() && t.rows[0].state == TfState::Queued);
        // Resumed: queued again (no double count), started at the .part's length.
        t.apply(
            &Event::FileQueued {
                file: f.clone(),
                size: 1000,
            },
            t0,
        );
        t.apply(
            &Event::FileStarted {
                file: f.clone(),
                size: 1000,
                offset: 250,
            },
            t0,
        );
        assert_eq!(
            (t.total_bytes, t.done_bytes, t.rows[0].offset),
            (1000, 250, 250)
        );
        t.apply(
            &Event::FileDone {
                file: f,
                size: 1000,
                sha256: None,
            },
            t0,
        );
        assert_eq!((t.done_bytes, t.files_done), (1000, 1));
        assert_eq!(t.fraction(), 1.0);
    }
}
