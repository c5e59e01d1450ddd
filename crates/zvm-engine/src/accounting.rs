//! The run's accounting: what was listed, skipped, downloaded and failed, counted once by the
//! engine as it happens. The closing [`RunSummary`] is made from it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use zvm_zoom::models::Meeting;

use crate::events::{Event, EventSink, Failure, FileRef, RunSummary};

/// Counters shared by the pipeline's tasks.
#[derive(Default)]
pub(crate) struct Accounting {
    pub(crate) meetings: AtomicU64,
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
            listed: keep_listing.then(|| Mutex::new(Vec::new())),
            ..Self::default()
        }
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
    pub(crate) fn failure(&self, events: &dyn EventSink, file: FileRef, error: String) {
        if let Ok(mut f) = self.failures.lock() {
            f.push(Failure {
                path: file.path.clone(),
                error: error.clone(),
            });
        }
        events.emit(Event::FileFailed { file, error });
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
