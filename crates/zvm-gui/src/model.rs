//! What the screens show, as plain data: the listed recordings (with a cached filtered view
//! and selection totals, so 100,000 rows cost nothing per frame), the transfers (per-file rows
//! built from engine events; overall figures, rate and ETA read from the engine's accounting),
//! and the log of problems.
//!
//! Times are shown in the computer's time zone (a class at 18:30 in Tokyo says 18:30), and
//! the date range the user picks is in local days; only the backend speaks Zoom's UTC days.

use std::collections::HashMap;
use std::time::Instant;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use zvm_engine::events::{FailureClass, FileRef, KeepReason, Notice, SkipReason};
use zvm_engine::{Event, RunStats};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    InCloud,
    Downloaded,
    Partial,
    Trashed,
}

/// Where one recording file of a meeting stands here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileState {
    /// No proven copy here yet.
    #[default]
    NotYet,
    /// Verified in the state database and present at that size.
    Copied,
    /// Zoom is still processing it: there is nothing to copy yet.
    Processing,
}

/// One recording file of a listed meeting.
#[derive(Debug, Clone)]
pub struct RecFile {
    pub id: String,
    pub file_type: String,
    pub size: u64,
    pub state: FileState,
    /// Ticked inside its meeting: a download of the meeting takes it. Every file is, until
    /// the person unticks some.
    pub chosen: bool,
}

impl RecFile {
    pub fn new(id: impl Into<String>, file_type: impl Into<String>, size: u64) -> RecFile {
        RecFile {
            id: id.into(),
            file_type: file_type.into(),
            size,
            state: FileState::NotYet,
            chosen: true,
        }
    }

    pub fn with_state(mut self, state: FileState) -> RecFile {
        self.state = state;
        self
    }
}

/// A line of the Recordings table: a meeting, or one file of an opened meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// `rows[i]`.
    Meeting(usize),
    /// File `j` of `rows[i]`.
    File(usize, usize),
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
    /// When the meeting started.
    pub start: Timestamp,
    /// The meeting's UTC day (what Zoom's listing filters on; the backend finds the meeting
    /// again by it).
    pub date: Date,
    /// The meeting's day in the window's time zone (what the date range filters on).
    pub local_date: Date,
    /// `YYYY-MM-DD HH:MM` in the window's time zone, for the table.
    pub when: String,
    pub files: Vec<RecFile>,
    /// `MP4 M4A CHAT`... for the table.
    pub types: String,
    pub bytes: u64,
    pub status: RowStatus,
    pub selected: bool,
    /// Its files are shown under it (to tick some).
    pub expanded: bool,
    /// The meeting's length in minutes, as Zoom reports it (0: not said).
    pub duration_min: u32,
    /// Lower-cased topic and host for the text filter.
    search: String,
    /// How many bytes of `search` are the lower-cased topic.
    topic_len: usize,
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
        let utc = ts.to_zoned(TimeZone::UTC);
        let mut types: Vec<&str> = files.iter().map(|f| f.file_type.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        let types = types.join(" ");
        let bytes = files.iter().map(|f| f.size).sum();
        let topic_lower = topic.to_lowercase();
        let topic_len = topic_lower.len();
        let search = format!(
            "{topic_lower} {} {}",
            host.to_lowercase(),
            types.to_lowercase()
        );
        Recording {
            uuid,
            host_id,
            host,
            topic,
            start_time,
            start: ts,
            date: utc.date(),
            local_date: utc.date(),
            when: local_when(&TimeZone::UTC, ts),
            files,
            types,
            bytes,
            status,
            selected: false,
            expanded: false,
            duration_min: 0,
            search,
            topic_len,
        }
    }

    /// The bytes a download of this meeting takes: its ticked files.
    pub fn chosen_bytes(&self) -> u64 {
        self.files.iter().filter(|f| f.chosen).map(|f| f.size).sum()
    }

    /// Some of its files are unticked (but not all).
    pub fn partly_chosen(&self) -> bool {
        self.files.iter().any(|f| !f.chosen) && self.files.iter().any(|f| f.chosen)
    }

    /// The ids of the ticked files when only some are (`None`: the whole meeting).
    pub fn chosen_files(&self) -> Option<std::collections::BTreeSet<String>> {
        self.files.iter().any(|f| !f.chosen).then(|| {
            self.files
                .iter()
                .filter(|f| f.chosen)
                .map(|f| f.id.clone())
                .collect()
        })
    }

    /// Every file ticked again (what a fresh tick of the meeting means).
    fn choose_all_files(&mut self) {
        for f in &mut self.files {
            f.chosen = true;
        }
    }

    /// The topic lower-cased (the start of the search text), for sorting without allocating.
    fn search_topic(&self) -> &str {
        &self.search[..self.topic_len]
    }

    /// The meeting's length in minutes (Zoom's `duration`; negative or absent: 0).
    pub fn with_duration(mut self, minutes: i64) -> Recording {
        self.duration_min = u32::try_from(minutes).unwrap_or(0);
        self
    }

    /// Puts the row's day and time in `tz`.
    fn localize(&mut self, tz: &TimeZone) {
        self.local_date = self.start.to_zoned(tz.clone()).date();
        self.when = local_when(tz, self.start);
    }
}

/// `YYYY-MM-DD HH:MM` of `ts` in `tz`.
pub fn local_when(tz: &TimeZone, ts: Timestamp) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// A Zoom time (`2026-11-28T09:30:00Z`) as `YYYY-MM-DD HH:MM` in `tz`.
pub fn local_when_of(tz: &TimeZone, zoom_time: &str) -> String {
    local_when(tz, zvm_engine::artifacts::parse_time(zoom_time))
}

/// The zone's name for labels: its IANA name (`Asia/Tokyo`), else its offset (`UTC+09:00`).
pub fn zone_label(tz: &TimeZone) -> String {
    if let Some(name) = tz.iana_name() {
        return name.to_string();
    }
    let offset = tz.to_offset(Timestamp::now());
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", secs / 3600, (secs / 60) % 60)
}

/// The UTC days to ask Zoom for so that every meeting of the local days `from..=to` is
/// listed: a zone is less than a day from UTC, so one day more on each side covers it (the
/// list then keeps the local days only).
pub fn utc_days_covering(from: Date, to: Date) -> (Date, Date) {
    (
        from.yesterday().unwrap_or(from),
        to.tomorrow().unwrap_or(to),
    )
}

/// What the list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Newest first by default.
    #[default]
    Date,
    Topic,
    Host,
    Duration,
    Size,
    Status,
}

/// The order of rows `a` and `b` of `rows` by `key`; ties keep the listing's order, so the
/// order never jumps between frames.
fn compare(
    rows: &[Recording],
    key: SortKey,
    ascending: bool,
    a: usize,
    b: usize,
) -> std::cmp::Ordering {
    let (x, y) = (&rows[a], &rows[b]);
    let o = match key {
        SortKey::Date => x.start.cmp(&y.start),
        SortKey::Topic => x.search_topic().cmp(y.search_topic()),
        SortKey::Host => x.host.cmp(&y.host),
        SortKey::Duration => x.duration_min.cmp(&y.duration_min),
        SortKey::Size => x.bytes.cmp(&y.bytes),
        SortKey::Status => (x.status as u8).cmp(&(y.status as u8)),
    };
    let o = if ascending { o } else { o.reverse() };
    o.then(a.cmp(&b))
}

/// The window's time zone (UTC until told).
#[derive(Clone)]
struct Zone(TimeZone);

impl Default for Zone {
    fn default() -> Zone {
        Zone(TimeZone::UTC)
    }
}

/// The listing with its filtered view and selection totals.
#[derive(Default)]
pub struct RecordingList {
    pub rows: Vec<Recording>,
    filter: String,
    /// The local days the user asked for (Zoom is asked for a day more on each side).
    days: Option<(Date, Date)>,
    /// Show only meetings not yet downloaded whole.
    only_pending: bool,
    sort: SortKey,
    /// Smallest first (oldest first for dates).
    ascending: bool,
    tz: Zone,
    /// Indices into `rows` that pass the filter, in the sort order.
    pub visible: Vec<usize>,
    pub selected_count: usize,
    pub selected_bytes: u64,
    by_uuid: HashMap<String, usize>,
    /// Every file type seen in the listing (for the file-type choice).
    pub types_seen: std::collections::BTreeSet<String>,
    /// How many rows are opened to their files.
    expanded: usize,
    /// The table's lines while a row is opened: `visible` with each opened row's files
    /// after it (empty while none is, when the lines are `visible` itself).
    lines: Vec<Line>,
    /// Rows looked at by sorting, filtering and laying out the table's lines since the list
    /// was cleared: work in
    /// proportion to the listing, which a frame must never do (a test reads it).
    row_visits: std::cell::Cell<u64>,
}

impl RecordingList {
    pub fn clear(&mut self) {
        *self = RecordingList {
            filter: std::mem::take(&mut self.filter),
            days: self.days,
            only_pending: self.only_pending,
            sort: self.sort,
            ascending: self.ascending,
            tz: self.tz.clone(),
            ..RecordingList::default()
        };
    }

    /// Shows the rows' days and times in `tz`.
    pub fn set_time_zone(&mut self, tz: TimeZone) {
        for r in &mut self.rows {
            r.localize(&tz);
        }
        self.tz = Zone(tz);
        self.refilter();
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz.0
    }

    /// Keeps only meetings of the local days `from..=to` (`None`: every listed meeting).
    pub fn set_days(&mut self, days: Option<(Date, Date)>) {
        if self.days != days {
            self.days = days;
            self.refilter();
        }
    }

    /// Shows only meetings not yet downloaded whole (in the cloud, or partly here).
    pub fn set_only_pending(&mut self, on: bool) {
        if self.only_pending != on {
            self.only_pending = on;
            self.refilter();
        }
    }

    pub fn only_pending(&self) -> bool {
        self.only_pending
    }

    /// Orders the list by `key`; the same key again turns the order round.
    pub fn sort_by(&mut self, key: SortKey) {
        if self.sort == key {
            self.ascending = !self.ascending;
        } else {
            self.sort = key;
            // Dates, sizes and lengths read best largest first; words from A.
            self.ascending = matches!(key, SortKey::Topic | SortKey::Host | SortKey::Status);
        }
        self.resort();
    }

    /// The order now: the key, and whether smallest first.
    pub fn sorting(&self) -> (SortKey, bool) {
        (self.sort, self.ascending)
    }

    fn resort(&mut self) {
        let (rows, key, ascending) = (&self.rows, self.sort, self.ascending);
        self.visit(self.visible.len());
        self.visible
            .sort_by(|a, b| compare(rows, key, ascending, *a, *b));
        self.relines();
    }

    /// Counts `n` rows looked at (see `row_visits`).
    fn visit(&self, n: usize) {
        self.row_visits.set(self.row_visits.get() + n as u64);
    }

    /// How many rows sorting, filtering and laying out lines have looked at so far: a frame
    /// that leaves it unchanged did no work per listed row.
    pub fn row_visits(&self) -> u64 {
        self.row_visits.get()
    }

    /// Rebuilds the table's lines after the shown rows or the opened ones changed: nothing
    /// to do (and no cost per row) while no row is opened.
    fn relines(&mut self) {
        self.lines.clear();
        if self.expanded == 0 {
            return;
        }
        self.visit(self.visible.len());
        for &i in &self.visible {
            self.lines.push(Line::Meeting(i));
            if self.rows[i].expanded {
                self.lines
                    .extend((0..self.rows[i].files.len()).map(|j| Line::File(i, j)));
            }
        }
    }

    /// How many lines the table has.
    pub fn line_count(&self) -> usize {
        if self.expanded == 0 {
            self.visible.len()
        } else {
            self.lines.len()
        }
    }

    /// The table's `k`-th line.
    pub fn line(&self, k: usize) -> Line {
        if self.expanded == 0 {
            Line::Meeting(self.visible[k])
        } else {
            self.lines[k]
        }
    }

    /// Opens row `i` to its files, or closes it.
    pub fn set_expanded(&mut self, i: usize, open: bool) {
        if let Some(r) = self.rows.get_mut(i)
            && r.expanded != open
        {
            r.expanded = open;
            if open {
                self.expanded += 1;
            } else {
                self.expanded -= 1;
            }
            self.relines();
        }
    }

    fn refilter(&mut self) {
        self.visit(self.rows.len());
        self.visible = (0..self.rows.len())
            .filter(|&i| self.passes(&self.rows[i]))
            .collect();
        self.resort();
    }

    /// Adds a batch of listed meetings (a meeting listed again replaces its row and keeps
    /// its tick), in the shown order.
    pub fn extend(&mut self, batch: Vec<Recording>) {
        let mut added: Vec<usize> = Vec::new();
        for mut r in batch {
            r.localize(&self.tz.0);
            for f in &r.files {
                if !self.types_seen.contains(&f.file_type) {
                    self.types_seen.insert(f.file_type.clone());
                }
            }
            if let Some(&i) = self.by_uuid.get(&r.uuid) {
                let old = &self.rows[i];
                r.selected = old.selected;
                r.expanded = old.expanded;
                for f in &mut r.files {
                    if let Some(o) = old.files.iter().find(|o| o.id == f.id) {
                        f.chosen = o.chosen;
                    }
                }
                if r.selected {
                    self.selected_bytes =
                        self.selected_bytes - old.chosen_bytes() + r.chosen_bytes();
                }
                let reline = r.expanded && r.files.len() != old.files.len();
                self.rows[i] = r;
                if reline {
                    self.relines();
                }
                continue;
            }
            let i = self.rows.len();
            self.by_uuid.insert(r.uuid.clone(), i);
            if self.passes(&r) {
                added.push(i);
            }
            if r.selected {
                self.selected_count += 1;
                self.selected_bytes += r.chosen_bytes();
            }
            if r.expanded {
                self.expanded += 1;
            }
            self.rows.push(r);
        }
        if !added.is_empty() {
            // The new rows are sorted among themselves and merged into the shown order:
            // O(shown + batch · log batch) per batch, so a listing that arrives in a thousand
            // batches never sorts the whole list a thousand times.
            let (rows, key, ascending) = (&self.rows, self.sort, self.ascending);
            added.sort_by(|a, b| compare(rows, key, ascending, *a, *b));
            self.visit(self.visible.len() + added.len());
            let old = std::mem::take(&mut self.visible);
            let mut merged = Vec::with_capacity(old.len() + added.len());
            let (mut x, mut y) = (old.into_iter().peekable(), added.into_iter().peekable());
            while let (Some(&a), Some(&b)) = (x.peek(), y.peek()) {
                if compare(rows, key, ascending, a, b).is_le() {
                    merged.push(a);
                    x.next();
                } else {
                    merged.push(b);
                    y.next();
                }
            }
            merged.extend(x);
            merged.extend(y);
            self.visible = merged;
            self.relines();
        }
    }

    fn passes(&self, r: &Recording) -> bool {
        let in_days = self
            .days
            .is_none_or(|(from, to)| r.local_date >= from && r.local_date <= to);
        let pending =
            !self.only_pending || matches!(r.status, RowStatus::InCloud | RowStatus::Partial);
        in_days && pending && (self.filter.is_empty() || r.search.contains(&self.filter))
    }

    pub fn set_filter(&mut self, text: &str) {
        let f = text.trim().to_lowercase();
        if f == self.filter {
            return;
        }
        self.filter = f;
        self.refilter();
    }

    /// Ticks (or unticks) meeting `i`, with all its files: a tick of the meeting itself
    /// means the whole meeting.
    pub fn set_selected(&mut self, i: usize, on: bool) {
        if let Some(r) = self.rows.get_mut(i)
            && r.selected != on
        {
            if on {
                r.choose_all_files();
                self.selected_count += 1;
                self.selected_bytes += r.chosen_bytes();
            } else {
                self.selected_count -= 1;
                self.selected_bytes -= r.chosen_bytes();
                r.choose_all_files();
            }
            r.selected = on;
        }
    }

    /// Ticks (or unticks) file `j` of meeting `i`. Ticking a file of a meeting not ticked
    /// takes that file alone; unticking its last ticked file unticks the meeting.
    pub fn set_file_chosen(&mut self, i: usize, j: usize, on: bool) {
        let Some(r) = self.rows.get_mut(i) else {
            return;
        };
        if j >= r.files.len() {
            return;
        }
        let before = if r.selected { r.chosen_bytes() } else { 0 };
        if on && !r.selected {
            for f in &mut r.files {
                f.chosen = false;
            }
            r.files[j].chosen = true;
            r.selected = true;
            self.selected_count += 1;
        } else if r.selected {
            r.files[j].chosen = on;
            if !r.files.iter().any(|f| f.chosen) {
                r.selected = false;
                r.choose_all_files();
                self.selected_count -= 1;
            }
        }
        let after = if r.selected { r.chosen_bytes() } else { 0 };
        self.selected_bytes = self.selected_bytes - before + after;
    }

    /// Selects (or clears) every row the filter shows.
    pub fn select_visible(&mut self, on: bool) {
        self.visit(self.visible.len());
        for k in 0..self.visible.len() {
            self.set_selected(self.visible[k], on);
        }
    }

    pub fn recount(&mut self) {
        self.visit(self.rows.len());
        self.selected_count = self.rows.iter().filter(|r| r.selected).count();
        self.selected_bytes = self
            .rows
            .iter()
            .filter(|r| r.selected)
            .map(Recording::chosen_bytes)
            .sum();
    }

    pub fn selected(&self) -> impl Iterator<Item = &Recording> {
        self.visit(self.rows.len());
        self.rows.iter().filter(|r| r.selected)
    }

    pub fn set_status(&mut self, uuid: &str, status: RowStatus) {
        if let Some(&i) = self.by_uuid.get(uuid) {
            self.rows[i].status = status;
        }
    }

    /// A run worked on meeting `uuid` and these of its files arrived: they are copied now,
    /// and the meeting is downloaded if every file Zoom has ready is, else partly here
    /// (unless it is trashed).
    pub fn files_copied(&mut self, uuid: &str, ids: &[&str]) {
        let Some(&i) = self.by_uuid.get(uuid) else {
            return;
        };
        let r = &mut self.rows[i];
        for f in &mut r.files {
            if ids.contains(&f.id.as_str()) {
                f.state = FileState::Copied;
            }
        }
        let mut ready = r.files.iter().filter(|f| f.state != FileState::Processing);
        if r.status == RowStatus::Trashed || ready.clone().next().is_none() {
            return;
        }
        r.status = if ready.all(|f| f.state == FileState::Copied) {
            RowStatus::Downloaded
        } else {
            RowStatus::Partial
        };
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
    /// What failed, when the file failed (the window's words for it; the error's own
    /// words are in `TfState::Failed`).
    pub failure: Option<FailureClass>,
    /// This file's speed in bytes per second, measured from its own progress.
    pub rate: Option<f64>,
    /// The start of the current measuring window: when, and how many bytes were here.
    window: Option<(Instant, u64)>,
}

impl TransferRow {
    /// Seconds left for this file at its own speed.
    pub fn eta_secs(&self) -> Option<u64> {
        let left = self.size.saturating_sub(self.done);
        match self.rate {
            Some(r) if r > 1.0 && left > 0 => Some((left as f64 / r).ceil() as u64),
            _ => None,
        }
    }

    /// Takes a progress report at `now`: a file's speed is measured over a second or more
    /// (a single chunk says nothing), and smoothed so the figure does not flicker.
    fn progress(&mut self, done: u64, now: Instant) {
        self.done = done;
        let Some((since, from)) = self.window else {
            self.window = Some((now, done));
            return;
        };
        let dt = now.saturating_duration_since(since).as_secs_f64();
        if dt >= MEASURE_SECS {
            let sample = done.saturating_sub(from) as f64 / dt;
            self.rate = Some(match self.rate {
                Some(r) => 0.5 * r + 0.5 * sample,
                None => sample,
            });
            self.window = Some((now, done));
        }
    }
}

/// How long a file's speed is measured over before it is shown.
const MEASURE_SECS: f64 = 1.0;

/// Transfers of the current job: one row per file, built from engine events, and the job's
/// figures, read from the engine's accounting ([`RunStats`]) and never counted here, so the
/// window says what the CLI and the state say.
#[derive(Default)]
pub struct Transfers {
    pub rows: Vec<TransferRow>,
    index: HashMap<(String, String), usize>,
    /// Files being downloaded now (indices into `rows`).
    pub active: Vec<usize>,
    /// Bytes of the job's files, and how many of them are here.
    pub total_bytes: u64,
    pub done_bytes: u64,
    /// Files verified, and files that failed, in the job.
    pub files_done: u64,
    pub files_failed: u64,
    /// Bytes per second received over the last few seconds.
    pub rate: f64,
    /// What the job's earlier runs verified (a paused or cancelled job that was resumed):
    /// a resumed run's accounting starts at zero and does not queue those files again.
    earlier_files: u64,
    earlier_bytes: u64,
    /// The latest figures of the job's current run.
    run: RunStats,
    /// Rows failed now, kept as rows change state: the Transfers screen asks every frame,
    /// and counting the rows there would cost a frame in proportion to the job.
    failed_rows: u64,
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
            failure: None,
            rate: None,
            window: None,
        });
        self.index.insert(key, i);
        i
    }

    /// Row `i` is now in `state` (the count of failed rows follows).
    fn set_state(&mut self, i: usize, state: TfState) {
        let was_failed = matches!(self.rows[i].state, TfState::Failed(_));
        let is_failed = matches!(state, TfState::Failed(_));
        match (was_failed, is_failed) {
            (false, true) => self.failed_rows += 1,
            (true, false) => self.failed_rows -= 1,
            _ => {}
        }
        self.rows[i].state = state;
    }

    fn deactivate(&mut self, i: usize) {
        self.active.retain(|&a| a != i);
    }

    /// Applies one engine event to the file's row, as of now.
    pub fn apply(&mut self, e: &Event) {
        self.apply_at(e, Instant::now());
    }

    /// Applies one engine event that arrived at `now` (per-file speeds are measured from
    /// these instants; tests and snapshots give their own).
    pub fn apply_at(&mut self, e: &Event, now: Instant) {
        match e {
            Event::FileQueued { file, size } => {
                self.slot(file, *size);
            }
            Event::FileStarted { file, size, offset } => {
                let i = self.slot(file, *size);
                self.set_state(i, TfState::Active);
                let row = &mut self.rows[i];
                row.offset = *offset;
                row.done = *offset;
                row.failure = None;
                row.rate = None;
                row.window = Some((now, *offset));
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
                    self.rows[i].progress(*bytes_done, now);
                }
            }
            Event::FileDone { file, size, .. } => {
                let i = self.slot(file, *size);
                self.rows[i].done = *size;
                self.set_state(i, TfState::Done);
                self.rows[i].rate = None;
                self.deactivate(i);
            }
            Event::FileFailed { file, error, class } => {
                let i = self.slot(file, 0);
                self.set_state(i, TfState::Failed(error.clone()));
                self.rows[i].failure = Some(*class);
                self.rows[i].rate = None;
                self.deactivate(i);
            }
            _ => {}
        }
    }

    /// The engine's accounting of the current run, as of now.
    pub fn set_run_stats(&mut self, stats: RunStats) {
        self.run = stats;
        self.total_bytes = self.earlier_bytes + self.run.bytes_queued;
        self.done_bytes = self.earlier_bytes + self.run.bytes_done;
        self.files_done = self.earlier_files + self.run.files_verified;
        self.files_failed = self.run.files_failed;
        self.rate = self.run.rate;
    }

    /// The job goes on in a new run (resume): what its runs verified so far stays counted,
    /// and the rows stay (the engine reports each resumed file's offset).
    pub fn resume(&mut self) {
        self.earlier_files += self.run.files_verified;
        self.earlier_bytes += self.run.bytes_verified;
        self.set_run_stats(RunStats::default());
    }

    /// A stopped run's files are no longer downloading.
    pub fn stop_active(&mut self) {
        for &i in &self.active {
            if self.rows[i].state == TfState::Active {
                self.rows[i].state = TfState::Queued;
                self.rows[i].rate = None;
                self.rows[i].window = None;
            }
        }
        self.active.clear();
        self.rate = 0.0;
    }

    /// How many files failed in this job (kept as rows change: no work per row).
    pub fn failed_count(&self) -> u64 {
        self.failed_rows
    }

    /// The meetings with a file that failed in this job.
    pub fn failed_meetings(&self) -> std::collections::BTreeSet<String> {
        self.rows
            .iter()
            .filter(|r| matches!(r.state, TfState::Failed(_)))
            .map(|r| r.file.meeting_uuid.clone())
            .collect()
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

/// What a line of the log says, as a type the window puts in its own words: a failure cause
/// of `zvm-app`, a key of the GUI's own table, or what an engine event says. There is no
/// "the engine's English" case: every line goes through the string tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Cause(zvm_app::Cause),
    Key(crate::i18n::S),
    /// Why a meeting stays in the cloud.
    Keep(KeepReason),
    /// A warning of the engine.
    Notice(Notice),
    /// A file failed; what failed.
    Failed(FailureClass),
    /// A file was not downloaded, and why.
    Skipped(SkipReason),
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: String,
    pub kind: LogKind,
    pub subject: String,
    pub said: Said,
    /// The underlying error's own words (not the GUI's), shown beside the sentence.
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
        let words = match &self.said {
            Said::Cause(c) => lang.cause(*c).to_string(),
            Said::Key(k) => lang.t(*k).to_string(),
            Said::Keep(r) => lang.keep_reason(r),
            Said::Notice(n) => lang.notice(n),
            Said::Failed(c) => lang.failure_class(*c).to_string(),
            Said::Skipped(r) => lang.skip_reason(r).to_string(),
        };
        if self.text.is_empty() {
            format!("{} {head}{subject}: {words}", self.at)
        } else {
            format!("{} {head}{subject}: {words} ({})", self.at, self.text)
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
            vec![RecFile::new(format!("f{i}"), "MP4", bytes)],
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
    fn rows_are_in_local_time_and_the_date_range_is_in_local_days() {
        let tokyo = TimeZone::get("Asia/Tokyo").expect("the time-zone database (/usr/share/zoneinfo, or the one bundled on Windows) has Asia/Tokyo");
        let mut l = RecordingList::default();
        l.set_time_zone(tokyo.clone());
        // 23:30 UTC on the 28th is 08:30 on the 29th in Tokyo.
        l.extend(vec![rec(0, "朝の会", 10)]);
        let r = &l.rows[0];
        assert_eq!(r.when, "2026-11-29 08:30");
        assert_eq!(r.local_date.to_string(), "2026-11-29");
        assert_eq!(
            r.date.to_string(),
            "2026-11-28",
            "the backend's day stays UTC"
        );
        assert_eq!(zone_label(&tokyo), "Asia/Tokyo");
        assert_eq!(
            local_when_of(&tokyo, "2026-11-28T09:30:00Z"),
            "2026-11-28 18:30"
        );
        // The Tokyo day the class was held shows it; the UTC day does not.
        l.set_days(Some((
            "2026-11-29".parse().unwrap(),
            "2026-11-29".parse().unwrap(),
        )));
        assert_eq!(l.visible, vec![0]);
        l.set_days(Some((
            "2026-11-28".parse().unwrap(),
            "2026-11-28".parse().unwrap(),
        )));
        assert!(l.visible.is_empty());
        // Zoom is asked for the UTC days around the local ones.
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(
            utc_days_covering(d("2026-11-29"), d("2026-11-29")),
            (d("2026-11-28"), d("2026-11-30"))
        );
        // Back in UTC the same row moves to its UTC day.
        l.set_time_zone(TimeZone::UTC);
        assert_eq!(l.visible, vec![0]);
        assert_eq!(l.rows[0].when, "2026-11-28 23:30");
        let fixed = TimeZone::fixed(jiff::tz::offset(-5));
        assert_eq!(zone_label(&fixed), "UTC-05:00");
    }

    #[test]
    fn rows_arriving_in_batches_are_merged_into_the_shown_order() {
        let day = |i: usize, d: u32| {
            let mut r = rec(i, "t", 1);
            r.start = format!("2026-11-{d:02}T00:00:00Z").parse().unwrap();
            r
        };
        let mut l = RecordingList::default();
        l.extend(vec![day(0, 5), day(1, 20)]);
        l.extend(vec![day(2, 10), day(3, 25), day(4, 1)]);
        l.extend(vec![day(5, 15)]);
        assert_eq!(
            l.visible,
            vec![3, 1, 5, 2, 0, 4],
            "newest first across batches"
        );
    }

    #[test]
    fn sorting_and_the_not_yet_downloaded_filter() {
        let mut l = RecordingList::default();
        let mut rows = vec![rec(0, "b", 30), rec(1, "A", 10), rec(2, "c", 20)];
        rows[0].start = "2026-11-01T00:00:00Z".parse().unwrap();
        rows[1].start = "2026-11-03T00:00:00Z".parse().unwrap();
        rows[2].start = "2026-11-02T00:00:00Z".parse().unwrap();
        rows[1].status = RowStatus::Downloaded;
        rows[2].status = RowStatus::Partial;
        l.extend(rows);
        assert_eq!(l.visible, vec![1, 2, 0], "newest first");
        l.sort_by(SortKey::Date);
        assert_eq!(l.visible, vec![0, 2, 1], "the same key again: oldest first");
        l.sort_by(SortKey::Topic);
        assert_eq!(l.visible, vec![1, 0, 2], "topics from A, case aside");
        l.sort_by(SortKey::Size);
        assert_eq!(l.visible, vec![0, 2, 1], "largest first");
        l.set_only_pending(true);
        assert_eq!(l.visible, vec![0, 2], "the downloaded meeting is left out");
        l.set_only_pending(false);
        assert_eq!(l.visible.len(), 3);
    }

    #[test]
    fn files_inside_a_meeting_are_ticked_counted_and_shown_under_it() {
        let mut l = RecordingList::default();
        let mut m = rec(0, "three files", 100);
        m.files.push(RecFile::new("f0-audio", "M4A", 20));
        m.files.push(RecFile::new("f0-chat", "CHAT", 3));
        m.bytes = 123;
        l.extend(vec![m, rec(1, "other", 7)]);
        let (i, other) = (l.index_of("u0").unwrap(), l.index_of("u1").unwrap());
        assert_eq!(l.line_count(), 2);

        // Opened: its three files are lines under it, the other meeting after them.
        l.set_expanded(i, true);
        let lines: Vec<Line> = (0..l.line_count()).map(|k| l.line(k)).collect();
        let first = lines.iter().position(|x| *x == Line::Meeting(i)).unwrap();
        assert_eq!(
            lines[first..first + 4],
            [
                Line::Meeting(i),
                Line::File(i, 0),
                Line::File(i, 1),
                Line::File(i, 2)
            ]
        );
        assert!(lines.contains(&Line::Meeting(other)));
        // Still so after sorting; a filter that hides it hides its files.
        l.sort_by(SortKey::Size);
        assert_eq!(l.line_count(), 5);
        l.set_filter("other");
        assert_eq!(l.line_count(), 1);
        l.set_filter("");

        // A file ticked alone selects the meeting with that file only.
        l.set_file_chosen(i, 1, true);
        assert_eq!((l.selected_count, l.selected_bytes), (1, 20));
        assert_eq!(
            l.rows[i].chosen_files(),
            Some(["f0-audio".to_string()].into())
        );
        l.set_file_chosen(i, 2, true);
        assert_eq!(l.selected_bytes, 23);
        assert!(l.rows[i].partly_chosen());
        // Its last ticked file unticked: the meeting is no longer selected.
        l.set_file_chosen(i, 1, false);
        l.set_file_chosen(i, 2, false);
        assert_eq!((l.selected_count, l.selected_bytes), (0, 0));
        // Ticking the meeting takes every file; unticking one leaves the rest.
        l.set_selected(i, true);
        assert_eq!((l.selected_count, l.selected_bytes), (1, 123));
        assert_eq!(l.rows[i].chosen_files(), None, "the whole meeting");
        l.set_file_chosen(i, 0, false);
        assert_eq!(l.selected_bytes, 23);
        // Listed again: the choice stays, and so does the opening.
        l.extend(vec![{
            let mut m = rec(0, "three files", 100);
            m.files.push(RecFile::new("f0-audio", "M4A", 20));
            m.files.push(RecFile::new("f0-chat", "CHAT", 3));
            m
        }]);
        assert_eq!((l.selected_count, l.selected_bytes), (1, 23));
        assert_eq!(l.line_count(), 5);
        l.recount();
        assert_eq!(l.selected_bytes, 23, "a full recount agrees");

        // A run copied the audio: copied, and the meeting only partly here.
        l.files_copied("u0", &["f0-audio"]);
        assert_eq!(l.rows[i].files[1].state, FileState::Copied);
        assert_eq!(l.rows[i].status, RowStatus::Partial);
        l.files_copied("u0", &["f0", "f0-chat"]);
        assert_eq!(l.rows[i].status, RowStatus::Downloaded);
        l.set_expanded(i, false);
        assert_eq!(l.line_count(), 2);
    }

    fn stats(queued: u64, done: u64, verified: (u64, u64), rate: f64) -> RunStats {
        RunStats {
            bytes_queued: queued,
            bytes_done: done,
            files_verified: verified.0,
            bytes_verified: verified.1,
            rate,
            ..RunStats::default()
        }
    }

    #[test]
    fn the_failed_count_follows_a_file_that_fails_and_then_arrives_on_a_retry() {
        let f = |id: &str| FileRef {
            meeting_uuid: "m".into(),
            file_id: id.into(),
            path: format!("x/{id}.mp4"),
        };
        let mut t = Transfers::default();
        let failed = |id: &str| Event::FileFailed {
            file: f(id),
            class: zvm_engine::events::FailureClass::Download,
            error: "stalled".into(),
        };
        for id in ["a", "b", "c"] {
            t.apply(&Event::FileQueued {
                file: f(id),
                size: 10,
            });
        }
        t.apply(&failed("a"));
        let ev = failed("b");
        t.apply(&ev);
        // Reported twice: still one failed file.
        t.apply(&ev);
        assert_eq!(t.failed_count(), 2);
        assert_eq!(t.failed_meetings().len(), 1);
        // The retry starts `a` again and it arrives; `b` stays failed.
        t.apply(&Event::FileStarted {
            file: f("a"),
            size: 10,
            offset: 0,
        });
        assert_eq!(t.failed_count(), 1);
        t.apply(&Event::FileDone {
            file: f("a"),
            size: 10,
            sha256: None,
        });
        assert_eq!(t.failed_count(), 1);
        let counted = t
            .rows
            .iter()
            .filter(|r| matches!(r.state, TfState::Failed(_)))
            .count() as u64;
        assert_eq!(t.failed_count(), counted);
        t.clear();
        assert_eq!(t.failed_count(), 0);
    }

    #[test]
    fn rows_follow_events_and_the_figures_follow_the_accounting_across_a_resume() {
        let f = |id: &str| FileRef {
            meeting_uuid: "m".into(),
            file_id: id.into(),
            path: format!("x/{id}.mp4"),
        };
        let mut t = Transfers::default();
        for (id, size) in [("a", 400), ("b", 1000)] {
            t.apply(&Event::FileQueued { file: f(id), size });
            t.apply(&Event::FileStarted {
                file: f(id),
                size,
                offset: 0,
            });
        }
        t.apply(&Event::FileDone {
            file: f("a"),
            size: 400,
            sha256: None,
        });
        t.apply(&Event::FileProgress {
            file: f("b"),
            bytes_done: 300,
            size: 1000,
        });
        assert_eq!((t.rows[0].done, t.rows[1].done), (400, 300));
        assert_eq!(t.rows[0].state, TfState::Done);
        assert_eq!(t.active, vec![1]);
        // Events move the rows only: the figures are the engine's.
        assert_eq!((t.total_bytes, t.done_bytes, t.files_done), (0, 0, 0));
        t.set_run_stats(stats(1400, 700, (1, 400), 140.0));
        assert_eq!((t.total_bytes, t.done_bytes, t.files_done), (1400, 700, 1));
        assert_eq!(t.rate, 140.0);
        assert_eq!(t.eta_secs(), Some(5));
        t.stop_active();
        assert!(t.active.is_empty() && t.rows[1].state == TfState::Queued);
        assert_eq!(t.rate, 0.0);

        // Resumed: a new run whose accounting starts at zero and skips `a` (verified).
        t.resume();
        assert_eq!((t.total_bytes, t.done_bytes, t.files_done), (400, 400, 1));
        t.apply(&Event::FileQueued {
            file: f("b"),
            size: 1000,
        });
        t.apply(&Event::FileStarted {
            file: f("b"),
            size: 1000,
            offset: 250,
        });
        assert_eq!(
            (t.rows.len(), t.rows[1].offset, t.rows[1].done),
            (2, 250, 250)
        );
        t.set_run_stats(stats(1000, 250, (0, 0), 0.0));
        assert_eq!((t.total_bytes, t.done_bytes), (1400, 650));
        t.apply(&Event::FileDone {
            file: f("b"),
            size: 1000,
            sha256: None,
        });
        t.set_run_stats(stats(1000, 1000, (1, 1000), 0.0));
        assert_eq!((t.total_bytes, t.done_bytes, t.files_done), (1400, 1400, 2));
        assert_eq!(t.fraction(), 1.0);
        assert_eq!(t.eta_secs(), None);
    }
}
