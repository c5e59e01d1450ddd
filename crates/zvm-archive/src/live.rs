//! Indexing as files arrive. [`IndexingState`] is a run's state store with one addition:
//! when the engine records a transcript, caption, chat or summary as verified, the file is
//! first read back from the destination and put into the search index, then recorded. So at
//! any moment, a kill included, every text file the state calls verified is searchable; a
//! crash between the two leaves a file indexed but not recorded, which the next update
//! drops. Everything else passes straight to the wrapped store.
//!
//! Indexing never fails the run: a file that cannot be read or indexed is counted
//! ([`IndexingState::failures`]) and left to the update after the run, which reports it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use zvm_dest::Destination;
use zvm_state::{
    CloudState, DeletionRow, FileKey, FileRanges, FileRow, FileStatus, ListedMeeting,
    ListingWindow, MeetingRow, PlannedFile, StateError, StateStore, Totals, WindowListed,
};

use crate::extract::TextFormat;
use crate::index::{DocMeta, MAX_TEXT_BYTES, SearchIndex, shown_path};

/// A state store that indexes each text file as it is recorded verified (see the module).
pub struct IndexingState {
    inner: Arc<dyn StateStore>,
    dest: Arc<dyn Destination>,
    remote: bool,
    /// Held only while a file's lines are written (never across a read).
    index: Mutex<SearchIndex>,
    indexed: AtomicU64,
    failures: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl IndexingState {
    /// Wraps `inner`; text files are read back from `dest` and written to `index`, named in
    /// results as [`crate::Copies::remote`] (`remote`) or [`crate::Copies::folder`] name them.
    pub fn new(
        inner: Arc<dyn StateStore>,
        dest: Arc<dyn Destination>,
        remote: bool,
        index: SearchIndex,
    ) -> Self {
        IndexingState {
            inner,
            dest,
            remote,
            index: Mutex::new(index),
            indexed: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            first_failure: Mutex::new(None),
        }
    }

    /// Text files indexed as they arrived.
    pub fn indexed(&self) -> u64 {
        self.indexed.load(Ordering::Relaxed)
    }

    /// Text files that could not be indexed as they arrived, and the first one's reason.
    pub fn failures(&self) -> (u64, Option<String>) {
        let first = self
            .first_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        (self.failures.load(Ordering::Relaxed), first)
    }

    /// Indexes the file `key` names if it is a text file (its row as planned: the path and
    /// type are known before it is verified).
    async fn index_arrival(&self, key: &FileKey, sha256: Option<&str>) {
        let Ok(Some(row)) = self.inner.file(key).await else {
            return;
        };
        let Some(format) = TextFormat::of(&row.file_type, &row.rel_path) else {
            return;
        };
        if let Err(why) = self.index_file(&row, format, sha256).await {
            self.failures.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_failure.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| format!("{}: {why}", row.rel_path));
        }
    }

    async fn index_file(
        &self,
        row: &FileRow,
        format: TextFormat,
        sha256: Option<&str>,
    ) -> Result<(), String> {
        let meeting = self
            .inner
            .meeting(&row.key.meeting_uuid)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "its meeting is not in the state".to_string())?;
        let bytes = self
            .dest
            .read_final(&row.rel_path, MAX_TEXT_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        let mut meta = DocMeta::of(
            row,
            &meeting,
            shown_path(self.dest.as_ref(), self.remote, &row.rel_path),
        );
        // The hash being recorded now, as the update after the run will find it.
        meta.sha256 = sha256.map(str::to_string);
        self.index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .put_document(&meta, format, &bytes)
            .map_err(|e| e.to_string())?;
        self.indexed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl StateStore for IndexingState {
    async fn mark_verified(
        &self,
        key: &FileKey,
        size: u64,
        sha256: Option<&str>,
    ) -> Result<(), StateError> {
        // Indexed first: once the state says verified, the lines are searchable.
        self.index_arrival(key, sha256).await;
        self.inner.mark_verified(key, size, sha256).await
    }

    // Everything else is the wrapped store's, every method spelled out (a default method
    // here would bypass a store's own, faster one).

    async fn upsert_meeting(&self, m: &MeetingRow) -> Result<(), StateError> {
        self.inner.upsert_meeting(m).await
    }
    async fn meeting(&self, uuid: &str) -> Result<Option<MeetingRow>, StateError> {
        self.inner.meeting(uuid).await
    }
    async fn folders(&self) -> Result<Vec<(String, String)>, StateError> {
        self.inner.folders().await
    }
    async fn plan_file(&self, f: &PlannedFile) -> Result<FileRow, StateError> {
        self.inner.plan_file(f).await
    }
    async fn file(&self, key: &FileKey) -> Result<Option<FileRow>, StateError> {
        self.inner.file(key).await
    }
    async fn files_of_meeting(&self, uuid: &str) -> Result<Vec<FileRow>, StateError> {
        self.inner.files_of_meeting(uuid).await
    }
    async fn files_of_meetings(&self, uuids: &[String]) -> Result<Vec<Vec<FileRow>>, StateError> {
        self.inner.files_of_meetings(uuids).await
    }
    async fn files_with_status(&self, status: FileStatus) -> Result<Vec<FileRow>, StateError> {
        self.inner.files_with_status(status).await
    }
    async fn start_attempt(&self, key: &FileKey) -> Result<(), StateError> {
        self.inner.start_attempt(key).await
    }
    async fn set_progress(&self, key: &FileKey, bytes_done: u64) -> Result<(), StateError> {
        self.inner.set_progress(key, bytes_done).await
    }
    async fn mark_failed(&self, key: &FileKey, error: &str) -> Result<(), StateError> {
        self.inner.mark_failed(key, error).await
    }
    async fn mark_skipped(&self, key: &FileKey, reason: &str) -> Result<(), StateError> {
        self.inner.mark_skipped(key, reason).await
    }
    async fn set_cloud_state(
        &self,
        meeting_uuid: &str,
        file_id: Option<&str>,
        cloud: CloudState,
    ) -> Result<(), StateError> {
        self.inner
            .set_cloud_state(meeting_uuid, file_id, cloud)
            .await
    }
    async fn record_deletion(&self, d: &DeletionRow) -> Result<(), StateError> {
        self.inner.record_deletion(d).await
    }
    async fn deletions(&self) -> Result<Vec<DeletionRow>, StateError> {
        self.inner.deletions().await
    }
    async fn totals(&self) -> Result<Totals, StateError> {
        self.inner.totals().await
    }
    async fn record_listing(
        &self,
        window: &ListingWindow,
        listed_at: &str,
        meetings: &[ListedMeeting],
    ) -> Result<Vec<ListedMeeting>, StateError> {
        self.inner.record_listing(window, listed_at, meetings).await
    }
    async fn listed_windows(&self, scope: &str) -> Result<Vec<WindowListed>, StateError> {
        self.inner.listed_windows(scope).await
    }
    async fn listing_scopes(&self) -> Result<Vec<String>, StateError> {
        self.inner.listing_scopes().await
    }
    async fn window_listing(
        &self,
        window: &ListingWindow,
    ) -> Result<Vec<ListedMeeting>, StateError> {
        self.inner.window_listing(window).await
    }
    async fn refresh_listed(&self, m: &ListedMeeting) -> Result<bool, StateError> {
        self.inner.refresh_listed(m).await
    }
    async fn forget_listed(&self, uuid: &str) -> Result<(), StateError> {
        self.inner.forget_listed(uuid).await
    }
    async fn file_ranges(&self, key: &FileKey) -> Result<Option<FileRanges>, StateError> {
        self.inner.file_ranges(key).await
    }
    async fn save_file_ranges(&self, key: &FileKey, ranges: &FileRanges) -> Result<(), StateError> {
        self.inner.save_file_ranges(key, ranges).await
    }
    async fn clear_file_ranges(&self, key: &FileKey) -> Result<(), StateError> {
        self.inner.clear_file_ranges(key).await
    }
}
