//! The run's accounting: what was listed, queued, received, skipped, verified and failed,
//! counted once by the engine as it happens. The closing [`RunSummary`] is made from it, and
//! front ends (the CLI's progress, the GUI, a daemon's metrics) read a [`RunStats`] snapshot
//! of it through a [`RunMonitor`] instead of each counting events.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use zvm_zoom::models::Meeting;

use crate::concurrency::Gate;
use crate::error::EngineError;
use crate::events::{Event, EventSink, Failure, FileRef, RunSummary};

// The class travels in `FileFailed` events, so its type lives with the events.
pub use crate::events::FailureClass;

impl FailureClass {
    /// The class of an engine error met while transferring a file.
    pub fn of(e: &EngineError) -> FailureClass {
        match e {
            EngineError::Dest(_) => FailureClass::Destination,
            EngineError::State(_) => FailureClass::State,
            EngineError::Zoom(_) | EngineError::Template(_) | EngineError::Invalid(_) => {
                FailureClass::Download
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Failed files by class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FailuresByClass {
    pub download: u64,
    pub destination: u64,
    pub state: u64,
    pub details: u64,
}

/// A snapshot of a run's accounting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunStats {
    /// Since the run started.
    pub elapsed: Duration,
    pub meetings: u64,
    /// Files handed to the transfers, and their bytes (the run's total to fetch).
    pub files_queued: u64,
    pub bytes_queued: u64,
    /// Bytes of the queued files that are here: kept from an earlier attempt or run, or
    /// received in this one. Grows to `bytes_queued` when every file is done.
    pub bytes_done: u64,
    /// Bytes received from Zoom in this run.
    pub bytes_received: u64,
    /// Files verified by this run, and their bytes.
    pub files_verified: u64,
    pub bytes_verified: u64,
    pub files_skipped: u64,
    pub files_processing: u64,
    pub files_failed: u64,
    pub failures: FailuresByClass,
    /// Transient failures retried.
    pub retries: u64,
    /// Bytes per second received over the last few seconds (between snapshots).
    pub rate: f64,
    /// Transfers running now, and how many may run at once.
    pub transfers_active: usize,
    pub transfers_allowed: usize,
}

/// How far back the rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Counters shared by the pipeline's tasks.
pub(crate) struct Accounting {
    started: Instant,
    pub(crate) meetings: AtomicU64,
    files_queued: AtomicU64,
    bytes_queued: AtomicU64,
    bytes_done: AtomicU64,
    retries: AtomicU64,
    by_class: [AtomicU64; 4],
    /// The run's transfer gate: bytes received and the transfers at once.
    gate: OnceLock<Arc<Gate>>,
    /// (when, bytes received) samples for the rate.
    samples: Mutex<VecDeque<(Instant, u64)>>,
    pub(crate) downloaded: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) processing: AtomicU64,
    failures: Mutex<Vec<Failure>>,
    /// A destination error that stopped the run (disk full...), reported once.
    fatal: Mutex<Option<String>>,
    /// Every meeting listed in this run, kept only for a move (which decides per meeting).
    listed: Option<Mutex<Vec<Meeting>>>,
}

impl Accounting {
    /// `keep_listing`: keep every listed meeting (a move decides per meeting afterwards).
    pub(crate) fn new(keep_listing: bool) -> Self {
        Self {
            started: Instant::now(),
            meetings: AtomicU64::new(0),
            files_queued: AtomicU64::new(0),
            bytes_queued: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            by_class: Default::default(),
            gate: OnceLock::new(),
            samples: Mutex::new(VecDeque::new()),
            downloaded: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            processing: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
            listed: keep_listing.then(|| Mutex::new(Vec::new())),
        }
    }

    /// The gate whose counters the snapshot reads.
    pub(crate) fn watch(&self, gate: &Arc<Gate>) {
        let _ = self.gate.set(gate.clone());
    }

    /// A file handed to the transfers.
    pub(crate) fn queued(&self, size: u64) {
        self.files_queued.fetch_add(1, Ordering::Relaxed);
        self.bytes_queued.fetch_add(size, Ordering::Relaxed);
    }

    /// A file now has `len` bytes here; `credited` is what was counted for it so far.
    pub(crate) fn progress(&self, credited: &mut u64, len: u64) {
        if len >= *credited {
            self.bytes_done
                .fetch_add(len - *credited, Ordering::Relaxed);
        } else {
            self.bytes_done
                .fetch_sub(*credited - len, Ordering::Relaxed);
        }
        *credited = len;
    }

    /// A transient failure that will be retried.
    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps a listed meeting, if this run keeps them.
    pub(crate) fn listed(&self, meeting: &Meeting) {
        if let Some(l) = &self.listed
            && let Ok(mut v) = l.lock()
        {
            v.push(meeting.clone());
        }
    }

    /// The meetings kept, taken out.
    pub(crate) fn take_listed(&self) -> Vec<Meeting> {
        self.listed
            .as_ref()
            .and_then(|l| l.lock().ok().map(|mut v| std::mem::take(&mut *v)))
            .unwrap_or_default()
    }

    /// A file verified by this run.
    pub(crate) fn downloaded(&self, size: u64) {
        self.downloaded.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size, Ordering::Relaxed);
    }

    /// Counts a failure in the run's summary and reports it.
    pub(crate) fn failure(
        &self,
        events: &dyn EventSink,
        class: FailureClass,
        file: FileRef,
        error: String,
    ) {
        self.by_class[class.index()].fetch_add(1, Ordering::Relaxed);
        if let Ok(mut f) = self.failures.lock() {
            f.push(Failure {
                path: file.path.clone(),
                error: error.clone(),
            });
        }
        events.emit(Event::FileFailed { file, class, error });
    }

    /// The destination became unusable: the first reason is kept.
    pub(crate) fn stop(&self, why: String) {
        if let Ok(mut f) = self.fatal.lock() {
            f.get_or_insert(why);
        }
    }

    pub(crate) fn stopped(&self) -> Option<String> {
        self.fatal.lock().ok().and_then(|f| f.clone())
    }

    /// The closing figures.
    pub(crate) fn summary(&self, cancelled: bool) -> RunSummary {
        let failures = self.failures.lock().map(|f| f.clone()).unwrap_or_default();
        RunSummary {
            meetings: self.meetings.load(Ordering::Relaxed),
            files_downloaded: self.downloaded.load(Ordering::Relaxed),
            bytes_downloaded: self.bytes.load(Ordering::Relaxed),
            files_skipped: self.skipped.load(Ordering::Relaxed),
            files_processing: self.processing.load(Ordering::Relaxed),
            files_failed: failures.len() as u64,
            failures,
            deleted: 0,
            delete_skipped: 0,
            cancelled,
            stopped: self.stopped(),
        }
    }
}

impl Accounting {
    /// The figures now.
    pub(crate) fn snapshot(&self) -> RunStats {
        let now = Instant::now();
        let gate = self.gate.get();
        let received = gate.map_or(0, |g| g.bytes.load(Ordering::Relaxed));
        let rate = match self.samples.lock() {
            Ok(mut s) => {
                s.push_back((now, received));
                while s.len() > 2
                    && s.front()
                        .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
                {
                    s.pop_front();
                }
                match (s.front(), s.back()) {
                    (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
                        b1.saturating_sub(*b0) as f64 / t1.duration_since(*t0).as_secs_f64()
                    }
                    _ => 0.0,
                }
            }
            Err(_) => 0.0,
        };
        let class = |c: FailureClass| self.by_class[c.index()].load(Ordering::Relaxed);
        let failures = FailuresByClass {
            download: class(FailureClass::Download),
            destination: class(FailureClass::Destination),
            state: class(FailureClass::State),
            details: class(FailureClass::Details),
        };
        RunStats {
            elapsed: now.duration_since(self.started),
            meetings: self.meetings.load(Ordering::Relaxed),
            files_queued: self.files_queued.load(Ordering::Relaxed),
            bytes_queued: self.bytes_queued.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_received: received,
            files_verified: self.downloaded.load(Ordering::Relaxed),
            bytes_verified: self.bytes.load(Ordering::Relaxed),
            files_skipped: self.skipped.load(Ordering::Relaxed),
            files_processing: self.processing.load(Ordering::Relaxed),
            files_failed: failures.download
                + failures.destination
                + failures.state
                + failures.details,
            failures,
            retries: self.retries.load(Ordering::Relaxed),
            rate,
            transfers_active: gate.map_or(0, |g| g.active.load(Ordering::Acquire)),
            transfers_allowed: gate.map_or(0, |g| g.target()),
        }
    }
}

/// A window on an engine's current (or latest) run: cheap to clone, read from any thread.
#[derive(Clone, Default)]
pub struct RunMonitor {
    run: Arc<Mutex<Option<Arc<Accounting>>>>,
}

impl RunMonitor {
    /// The figures of the run now (or as it ended); `None` before any run started.
    pub fn snapshot(&self) -> Option<RunStats> {
        let run = self.run.lock().ok()?.clone()?;
        Some(run.snapshot())
    }

    pub(crate) fn watch(&self, run: &Arc<Accounting>) {
        if let Ok(mut r) = self.run.lock() {
            *r = Some(run.clone());
        }
    }
}
