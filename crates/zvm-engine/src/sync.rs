//! `sync`: copy every selected recording to the destination, verified, and record it.
//!
//! The run is a pipeline of three stages joined by bounded channels:
//! 1. the lister walks users x one-month windows x pages and sends meetings;
//! 2. the planner names each meeting, consults the state and queues what is missing (and
//!    fetches meeting details: participant audio and the AI Companion summary, on a small
//!    pool of its own);
//! 3. N transfer workers stream each file into `NAME.part`, resuming with `Range`, then
//!    finalize (size check, fsync, rename) and commit the state row.
//!
//! A file is only under its final name once complete; the state says `verified` only after
//! the rename. A re-run sends no request for files already verified.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use zvm_dest::{DestError, Destination};
use zvm_naming::{FileInfo, MeetingInfo, NameAllocator, Namer};
use zvm_state::{
    CloudState, FileKey, FileKind, FileRow, FileStatus, MeetingRow, PlannedFile, StateError,
    StateStore,
};
use zvm_zoom::models::{Meeting, RecordingFile};
use zvm_zoom::{DownloadStatus, ErrorClass, UserStatusFilter, ZoomClient, ZoomError};

use crate::artifacts;
use crate::concurrency::{self, Controller, Gate};
use crate::events::{Event, EventSink, Failure, FileRef, RunSummary, SkipReason};
use crate::options::{SyncOptions, UserSelection};

/// Reserved names inside every meeting folder: what the engine itself writes there.
pub const MEETING_JSON: &str = "meeting.json";
pub const SUMMARY_MD: &str = "summary.md";
pub const SUMMARY_JSON: &str = "summary.json";
const PARTICIPANTS_DIR: &str = "participants";

/// How often a transfer makes its resume point durable (fsync of the `.part`).
const SYNC_EVERY_BYTES: u64 = 64 << 20;
/// How often a transfer reports progress (events and the state row).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
const STATE_PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// How often auto mode measures and decides the number of transfers.
const CONTROL_WINDOW: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Zoom(#[from] ZoomError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Dest(#[from] DestError),
    #[error("invalid naming template: {0}")]
    Template(String),
    #[error("invalid option: {0}")]
    Invalid(String),
}

impl EngineError {
    /// Errors that make every further write pointless (disk full, read-only, no permission):
    /// the run stops instead of failing every remaining file one by one.
    pub fn is_destination_fatal(&self) -> bool {
        matches!(
            self,
            EngineError::Dest(
                DestError::NoSpace { .. }
                    | DestError::ReadOnly { .. }
                    | DestError::PermissionDenied { .. }
            )
        )
    }
}

/// The engine: one Zoom client, one state store, one destination, one event sink.
#[derive(Clone)]
pub struct Engine {
    pub(crate) zoom: ZoomClient,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) dest: Arc<dyn Destination>,
    pub(crate) events: Arc<dyn EventSink>,
}

/// One file to fetch.
#[derive(Debug, Clone)]
pub(crate) struct TransferJob {
    key: FileKey,
    file: FileRef,
    url: String,
    size: u64,
    /// The meeting's record, told when this download ends.
    record: Arc<artifacts::RecordGate>,
}

/// Counters shared by the pipeline's tasks.
#[derive(Default)]
struct Tally {
    meetings: AtomicU64,
    downloaded: AtomicU64,
    bytes: AtomicU64,
    skipped: AtomicU64,
    processing: AtomicU64,
    failures: Mutex<Vec<Failure>>,
    /// A destination error that stopped the run (disk full...), reported once.
    fatal: Mutex<Option<String>>,
    /// Every meeting listed in this run, kept only for a move (which decides per meeting).
    listed: Option<Mutex<Vec<Meeting>>>,
}

impl Engine {
    pub fn new(
        zoom: ZoomClient,
        state: Arc<dyn StateStore>,
        dest: Arc<dyn Destination>,
        events: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            zoom,
            state,
            dest,
            events,
        }
    }

    pub fn zoom(&self) -> &ZoomClient {
        &self.zoom
    }

    pub fn state(&self) -> &Arc<dyn StateStore> {
        &self.state
    }

    pub(crate) fn emit(&self, e: Event) {
        self.events.emit(e);
    }

    /// Runs a sync. Failed files are counted in the summary, not returned as an error; an
    /// `Err` means the run could not proceed at all (bad credentials, unwritable destination).
    pub async fn sync(
        &self,
        opts: &SyncOptions,
        cancel: CancellationToken,
    ) -> Result<RunSummary, EngineError> {
        self.sync_inner(opts, cancel, false).await.map(|(s, _)| s)
    }

    /// A sync that also returns the meetings it listed (for `move`).
    pub(crate) async fn sync_inner(
        &self,
        opts: &SyncOptions,
        cancel: CancellationToken,
        keep_listing: bool,
    ) -> Result<(RunSummary, Vec<Meeting>), EngineError> {
        if opts.transfers == 0 {
            return Err(EngineError::Invalid(
                "--transfers must be at least 1".into(),
            ));
        }
        let namer = Namer::new(&opts.folder_template, &opts.file_template)
            .map_err(|e| EngineError::Template(e.to_string()))?;
        if !opts.dry_run {
            self.dest.check_writable().await?;
        }
        // Transfers at once to begin with: all of them, or where auto mode starts.
        let start = if opts.adaptive {
            concurrency::AUTO_START.min(opts.transfers)
        } else {
            opts.transfers
        };
        self.emit(Event::RunStarted {
            destination: self.dest.describe(),
            dry_run: opts.dry_run,
            transfers: start,
            auto: opts.adaptive,
        });

        let tally = Arc::new(Tally {
            listed: keep_listing.then(|| Mutex::new(Vec::new())),
            ..Tally::default()
        });
        let run_cancel = cancel.child_token();

        // Stage 3: transfer workers, as many as the ceiling; the gate's permits say how many
        // run at once (fixed, or moved by the controller in auto mode).
        let (job_tx, job_rx) = mpsc::channel::<TransferJob>(opts.transfers * 4);
        let job_rx = Arc::new(tokio::sync::Mutex::new(job_rx));
        let limiter = opts.bwlimit.map(|b| Arc::new(ByteLimiter::new(b)));
        let gate = Gate::new(start);
        let mut workers = tokio::task::JoinSet::new();
        if !opts.dry_run {
            for _ in 0..opts.transfers {
                let worker = Worker {
                    engine: self.clone(),
                    rx: job_rx.clone(),
                    tally: tally.clone(),
                    cancel: run_cancel.clone(),
                    limiter: limiter.clone(),
                    opts: opts.clone(),
                    gate: gate.clone(),
                };
                workers.spawn(worker.run());
            }
        }
        let controller_stop = CancellationToken::new();
        if opts.adaptive && !opts.dry_run {
            let zoom = self.zoom.clone();
            let events = self.events.clone();
            tokio::spawn(concurrency::run_controller(
                gate.clone(),
                Controller::new(start, opts.transfers),
                CONTROL_WINDOW,
                move || zoom.download_throttles(),
                move |c| {
                    events.emit(Event::TransfersChanged {
                        transfers: c.transfers,
                        reason: c.reason.to_string(),
                    })
                },
                controller_stop.clone(),
            ));
        }
        let _stop_controller = controller_stop.drop_guard();

        // Only the workers hold the receiver: if they all stop (cancel), senders see it.
        drop(job_rx);

        // Stages 1 and 2: list and plan in this task; meeting details on their own pool.
        let plan_result = self
            .list_and_plan(opts, &namer, &tally, &job_tx, &run_cancel)
            .await;
        drop(job_tx);
        if plan_result.is_err() {
            run_cancel.cancel();
        }
        while workers.join_next().await.is_some() {}
        plan_result?;

        let failures = tally.failures.lock().map(|f| f.clone()).unwrap_or_default();
        let summary = RunSummary {
            meetings: tally.meetings.load(Ordering::Relaxed),
            files_downloaded: tally.downloaded.load(Ordering::Relaxed),
            bytes_downloaded: tally.bytes.load(Ordering::Relaxed),
            files_skipped: tally.skipped.load(Ordering::Relaxed),
            files_processing: tally.processing.load(Ordering::Relaxed),
            files_failed: failures.len() as u64,
            failures,
            deleted: 0,
            delete_skipped: 0,
            cancelled: cancel.is_cancelled(),
            stopped: tally.fatal.lock().ok().and_then(|f| f.clone()),
        };
        if let Some(msg) = tally.fatal.lock().ok().and_then(|f| f.clone()) {
            self.emit(Event::Warning {
                message: format!("the run stopped early: {msg}"),
            });
        }
        let listed = tally
            .listed
            .as_ref()
            .and_then(|l| l.lock().ok().map(|mut v| std::mem::take(&mut *v)))
            .unwrap_or_default();
        if !keep_listing {
            self.emit(Event::RunFinished {
                summary: summary.clone(),
            });
        }
        Ok((summary, listed))
    }

    /// Streams the selected users' meetings, filtered, to `f`. Shared by `sync` and `list`.
    pub async fn for_each_meeting<F>(
        &self,
        opts: &SyncOptions,
        cancel: &CancellationToken,
        mut f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        let users: Vec<(String, String)> = match &opts.users {
            // Folders are named after the host: ask Zoom who "me" is (one Light request);
            // if it won't say, "me" still works as a name.
            UserSelection::Me => {
                let label = match self.zoom.get_user("me").await {
                    Ok(u) if !u.email.is_empty() => u.email,
                    _ => "me".to_string(),
                };
                vec![("me".to_string(), label)]
            }
            UserSelection::User(u) => vec![(u.clone(), u.clone())],
            UserSelection::AllUsers => {
                let mut all = Vec::new();
                // Deactivated users keep their recordings: list them too.
                let mut users = self.zoom.list_users(UserStatusFilter::Active).await?;
                users.extend(self.zoom.list_users(UserStatusFilter::Inactive).await?);
                for u in users {
                    let label = if u.email.is_empty() {
                        u.id.clone()
                    } else {
                        u.email.clone()
                    };
                    if let Some(host) = &opts.filters.host
                        && !host.eq_ignore_ascii_case(&u.email)
                        && host != &u.id
                    {
                        continue;
                    }
                    all.push((u.id.clone(), label));
                }
                all
            }
        };
        for (user_id, label) in users {
            if cancel.is_cancelled() {
                break;
            }
            self.emit(Event::ListingUser {
                user: label.clone(),
            });
            // What the lister has ready (a page or more) arrives as one batch, so `f` can look
            // up the whole batch at once (`AsyncMeetingFn::prefetch`).
            let stream = self
                .zoom
                .list_meetings(&user_id, opts.from, opts.to)
                .ready_chunks(LIST_BATCH);
            futures::pin_mut!(stream);
            while let Some(batch) = tokio::select! {
                i = stream.next() => i,
                _ = cancel.cancelled() => None,
            } {
                let mut meetings = Vec::with_capacity(batch.len());
                let mut failed = None;
                for item in batch {
                    match item {
                        Ok(m) => meetings.push(m),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                meetings.retain(|m| opts.filters.admits(m));
                f.prefetch(&meetings).await?;
                for meeting in meetings {
                    // Zoom names the host on each meeting where it can; the listing user otherwise.
                    let host = if meeting.host_email.is_empty() {
                        label.clone()
                    } else {
                        meeting.host_email.clone()
                    };
                    f.call(meeting, &host).await?;
                }
                if let Some(e) = failed {
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    async fn list_and_plan(
        &self,
        opts: &SyncOptions,
        namer: &Namer,
        tally: &Arc<Tally>,
        job_tx: &mpsc::Sender<TransferJob>,
        cancel: &CancellationToken,
    ) -> Result<(), EngineError> {
        // Folders already given to meetings by earlier runs keep their names for ever.
        let mut folders = NameAllocator::new();
        let mut known: HashMap<String, String> = HashMap::new();
        for (uuid, folder) in self.state.folders().await? {
            folders.reserve(&folder);
            known.insert(uuid, folder);
        }
        let planner = Planner {
            engine: self.clone(),
            opts: opts.clone(),
            namer,
            tally: tally.clone(),
            job_tx: job_tx.clone(),
            folders,
            known,
            detail_slots: Arc::new(Semaphore::new(opts.detail_concurrency.max(1))),
            details: tokio::task::JoinSet::new(),
            totals: (0, 0, 0),
            rows: HashMap::new(),
            sizes: HashMap::new(),
        };
        let mut planner = planner;
        let res = self.for_each_meeting(opts, cancel, &mut planner).await;
        // Let the detail fetches finish: they may queue participant audio.
        while let Some(r) = planner.details.join_next().await {
            match r {
                Ok(Ok(failures)) => {
                    for f in failures {
                        self.record_failure(tally, f.file, f.error);
                    }
                }
                Ok(Err(e)) => self.emit(Event::Warning {
                    message: format!("meeting details: {e}"),
                }),
                Err(_) => {} // cancelled with the run
            }
        }
        if opts.summaries && self.zoom().summaries_not_on_plan() {
            // Said once per run: the client stopped asking after Zoom's first 400 code 200.
            self.emit(Event::Warning {
                message: "AI Companion summaries are not available on this Zoom account's \
                          plan (Zoom answered 400, code 200): no summaries were saved, which is \
                          not an error"
                    .into(),
            });
        }
        let (m, f, b) = planner.totals;
        self.emit(Event::ListingFinished {
            meetings: m,
            files: f,
            bytes: b,
        });
        res
    }

    /// One file: resume or start, stream, finalize, commit. Never returns an error: failures
    /// are reported as events and counted; returns whether the file ended verified. `pre` is the download already opened while the
    /// worker's previous file finished; `near_end` fires when this one is about to finish.
    async fn run_transfer(
        &self,
        job: &TransferJob,
        run: &RunCtx<'_>,
        mut pre: Option<Result<Opened, TransferError>>,
        near_end: &mut Option<oneshot::Sender<()>>,
    ) -> bool {
        let (opts, tally, cancel) = (run.opts, run.tally, run.cancel);
        let mut attempt = 0u32;
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            attempt += 1;
            let _ = self.state.start_attempt(&job.key).await;
            // A download opened ahead is used once; if opening it failed, open again now.
            let opened = pre.take().and_then(Result::ok);
            match self.transfer_once(job, run, opened, near_end).await {
                Ok(Some(sha)) => {
                    tally.downloaded.fetch_add(1, Ordering::Relaxed);
                    tally.bytes.fetch_add(job.size, Ordering::Relaxed);
                    self.emit(Event::FileDone {
                        file: job.file.clone(),
                        size: job.size,
                        sha256: sha,
                    });
                    return true;
                }
                Ok(None) => return false, // cancelled; the .part stays for the next run
                Err(TransferError::Fatal(e)) | Err(TransferError::Transient(e))
                    if e.is_destination_fatal() =>
                {
                    let msg = e.to_string();
                    self.fail(job, tally, &msg).await;
                    if let Ok(mut f) = tally.fatal.lock() {
                        f.get_or_insert(msg);
                    }
                    cancel.cancel();
                    return false;
                }
                Err(TransferError::Transient(e)) if attempt < opts.retry.max_attempts => {
                    run.gate.errors.fetch_add(1, Ordering::Relaxed);
                    let delay = opts.retry.delay(attempt);
                    self.emit(Event::FileRetry {
                        file: job.file.clone(),
                        attempt,
                        error: e.to_string(),
                        delay_ms: delay.as_millis() as u64,
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.cancelled() => return false,
                    }
                }
                Err(TransferError::Transient(e)) | Err(TransferError::Fatal(e)) => {
                    self.fail(job, tally, &e.to_string()).await;
                    return false;
                }
            }
        }
    }

    async fn fail(&self, job: &TransferJob, tally: &Tally, msg: &str) {
        let _ = self.state.mark_failed(&job.key, msg).await;
        self.record_failure(tally, job.file.clone(), msg.to_string());
    }

    /// Counts a failure in the run's summary and reports it.
    fn record_failure(&self, tally: &Tally, file: FileRef, error: String) {
        if let Ok(mut f) = tally.failures.lock() {
            f.push(Failure {
                path: file.path.clone(),
                error: error.clone(),
            });
        }
        self.emit(Event::FileFailed { file, error });
    }

    /// Opens a file's transfer: the resume point on disk, then the download from there (or
    /// the finished `.part` of an earlier run that stopped before the rename).
    async fn open(&self, job: &TransferJob, gate: &Arc<Gate>) -> Result<Opened, TransferError> {
        let rel = &job.file.path;
        let mut offset = self
            .dest
            .partial_len(rel)
            .await
            .map_err(TransferError::dest)?
            .unwrap_or(0);
        if offset > job.size {
            // Longer than Zoom says the file is: it cannot be a prefix of it.
            offset = 0;
        }
        if offset == job.size && job.size > 0 {
            // Complete from an earlier run that stopped before the rename.
            let part = self
                .dest
                .open_partial(rel, offset)
                .await
                .map_err(TransferError::dest)?;
            return Ok(Opened::Complete(part));
        }
        let asked = Instant::now();
        let download = self
            .zoom
            .open_download(&job.url, offset)
            .await
            .map_err(TransferError::zoom)?;
        gate.note_open_latency(asked.elapsed());
        let streaming = Streaming::new(gate);
        let start = match download.status {
            DownloadStatus::Partial { start } if start == offset => offset,
            // The server ignored the Range (or answered another one): start the file over.
            _ => 0,
        };
        if let Some(len) = download.content_length
            && start + len != job.size
        {
            return Err(TransferError::Fatal(EngineError::Invalid(format!(
                "Zoom listed {} bytes for this file but the download holds {} bytes",
                job.size,
                start + len
            ))));
        }
        Ok(Opened::Download {
            download,
            start,
            _streaming: streaming,
        })
    }

    /// One attempt. `Ok(Some(hash))` when the file is verified under its final name,
    /// `Ok(None)` when cancelled.
    async fn transfer_once(
        &self,
        job: &TransferJob,
        run: &RunCtx<'_>,
        pre: Option<Opened>,
        near_end: &mut Option<oneshot::Sender<()>>,
    ) -> Result<Option<Option<String>>, TransferError> {
        let (opts, cancel, limiter, gate) = (run.opts, run.cancel, run.limiter, run.gate);
        let rel = &job.file.path;
        let opened = match pre {
            Some(o) => o,
            None => self.open(job, gate).await?,
        };
        let (download, start, streaming) = match opened {
            Opened::Complete(part) => {
                fire(near_end);
                return self.finish(job, opts, part).await.map(Some);
            }
            Opened::Download {
                download,
                start,
                _streaming,
            } => (download, start, _streaming),
        };
        let mut part = self
            .dest
            .open_partial(rel, start)
            .await
            .map_err(TransferError::dest)?;
        self.emit(Event::FileStarted {
            file: job.file.clone(),
            size: job.size,
            offset: start,
        });

        let mut pace = concurrency::Pace::new(start);
        let mut stream = download.stream;
        let mut last_event = Instant::now();
        let mut last_state = Instant::now();
        let mut synced_at = start;
        loop {
            let next = tokio::select! {
                n = stream.next() => n,
                _ = cancel.cancelled() => {
                    // Keep what we have: the next run resumes from here.
                    let _ = part.sync().await;
                    let _ = self.state.set_progress(&job.key, part.len()).await;
                    return Ok(None);
                }
            };
            let Some(chunk) = next else { break };
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    // Keep the bytes that did arrive: the retry resumes after them.
                    let _ = part.sync().await;
                    let _ = self.state.set_progress(&job.key, part.len()).await;
                    return Err(TransferError::zoom(e));
                }
            };
            if part.len() + chunk.len() as u64 > job.size {
                return Err(TransferError::Fatal(EngineError::Invalid(format!(
                    "the download is longer than the {} bytes Zoom listed",
                    job.size
                ))));
            }
            if let Some(l) = limiter {
                l.take(chunk.len()).await;
            }
            gate.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            // Handed over, not copied: the destination keeps the chunk until it writes.
            part.write_bytes(chunk).await.map_err(TransferError::dest)?;
            let len = part.len();
            if near_end.is_some() && gate.near_end(job.size - len, pace.rate(len, gate)) {
                fire(near_end);
            }
            if len - synced_at >= SYNC_EVERY_BYTES {
                // A resume point that survives a power cut, made while the stream goes on.
                part.sync_in_background()
                    .await
                    .map_err(TransferError::dest)?;
                synced_at = len;
            }
            if last_event.elapsed() >= PROGRESS_EVERY {
                last_event = Instant::now();
                self.emit(Event::FileProgress {
                    file: job.file.clone(),
                    bytes_done: len,
                    size: job.size,
                });
                if last_state.elapsed() >= STATE_PROGRESS_EVERY {
                    last_state = Instant::now();
                    let _ = self.state.set_progress(&job.key, len).await;
                }
            }
        }
        // The body is over: the server's connection slot is free while we finalize.
        drop(stream);
        drop(streaming);
        pace.finished(part.len(), gate);
        if part.len() < job.size {
            let got = part.len();
            let _ = part.sync().await;
            let _ = self.state.set_progress(&job.key, got).await;
            return Err(TransferError::Transient(EngineError::Invalid(format!(
                "the connection ended after {got} of {} bytes",
                job.size
            ))));
        }
        self.finish(job, opts, part).await.map(Some)
    }

    /// Size check, fsync, rename, optional read-back hash, then the state row.
    async fn finish(
        &self,
        job: &TransferJob,
        opts: &SyncOptions,
        part: Box<dyn zvm_dest::PartialFile>,
    ) -> Result<Option<String>, TransferError> {
        let rel = &job.file.path;
        let size = part.finalize(job.size).await.map_err(TransferError::dest)?;
        let sha = if opts.verify_hash {
            Some(
                self.dest
                    .sha256_final(rel)
                    .await
                    .map_err(TransferError::dest)?,
            )
        } else {
            None
        };
        self.state
            .mark_verified(&job.key, size, sha.as_deref())
            .await
            .map_err(|e| TransferError::Fatal(e.into()))?;
        Ok(sha)
    }
}

/// What one transfer needs of its run.
struct RunCtx<'a> {
    opts: &'a SyncOptions,
    tally: &'a Tally,
    cancel: &'a CancellationToken,
    limiter: Option<&'a ByteLimiter>,
    gate: &'a Arc<Gate>,
}

/// A file's transfer, opened.
enum Opened {
    /// Complete from an earlier run that stopped before the rename: only finalizing is left.
    Complete(Box<dyn zvm_dest::PartialFile>),
    /// The download's answer is in; its body comes from byte `start`.
    Download {
        download: zvm_zoom::Download,
        start: u64,
        _streaming: Streaming,
    },
}

/// Counts an open download (one connection held at the server) while it lives.
struct Streaming(Arc<Gate>);

impl Streaming {
    fn new(gate: &Arc<Gate>) -> Self {
        let now = gate.streaming.fetch_add(1, Ordering::AcqRel) + 1;
        gate.streaming_peak.fetch_max(now, Ordering::AcqRel);
        Streaming(gate.clone())
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.0.streaming.fetch_sub(1, Ordering::AcqRel);
    }
}

fn fire(near_end: &mut Option<oneshot::Sender<()>>) {
    if let Some(tx) = near_end.take() {
        let _ = tx.send(());
    }
}

/// A transfer worker: takes a permit, then a job, and runs it. While a file's last bytes
/// arrive it opens the next file's download, so the request's round trips (the web URL's
/// redirect, then the CDN) overlap the end of the previous file instead of leaving the
/// connection idle between files. It stops pipelining once the CDN has said "too many
/// connections", since an early open would then only earn a 429.
struct Worker {
    engine: Engine,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<TransferJob>>>,
    tally: Arc<Tally>,
    cancel: CancellationToken,
    limiter: Option<Arc<ByteLimiter>>,
    opts: SyncOptions,
    gate: Arc<Gate>,
}

impl Worker {
    async fn run(self) {
        let throttles_at_start = self.engine.zoom.download_throttles();
        let mut next: Option<(TransferJob, Option<Result<Opened, TransferError>>)> = None;
        let run = RunCtx {
            opts: &self.opts,
            tally: &self.tally,
            cancel: &self.cancel,
            limiter: self.limiter.as_deref(),
            gate: &self.gate,
        };
        loop {
            let slot = tokio::select! {
                s = self.gate.enter() => s,
                _ = self.cancel.cancelled() => None,
            };
            let Some(slot) = slot else { break };
            let (job, pre) = match next.take() {
                Some(n) => n,
                None => match self.take_job().await {
                    Some(j) => (j, None),
                    None => break,
                },
            };
            let pipelining =
                self.opts.pipelining && self.engine.zoom.download_throttles() == throttles_at_start;
            let (tx, rx) = oneshot::channel();
            let near_end = pipelining.then_some(tx);
            let transfer = async {
                let mut near_end = near_end;
                let verified = self
                    .engine
                    .run_transfer(&job, &run, pre, &mut near_end)
                    .await;
                // Dropped here if it never fired (failure, cancel): the prefetch then ends.
                drop(near_end);
                job.record.download_ended(&self.engine, verified).await;
            };
            let prefetch = async {
                // Fires when the file is nearly done; dropped unfired otherwise.
                rx.await.ok()?;
                // Only a job already waiting: a worker blocked on an empty queue holds the
                // lock, and this one must not wait for work that is not there.
                let j = self.rx.try_lock().ok()?.try_recv().ok()?;
                let opened = self.engine.open(&j, &self.gate).await;
                Some((j, Some(opened)))
            };
            let ((), fetched) = tokio::join!(transfer, prefetch);
            next = fetched;
            drop(slot);
        }
    }

    /// The next job; counts the wait when there was none (the pool was not the bottleneck).
    async fn take_job(&self) -> Option<TransferJob> {
        let mut rx = self.rx.lock().await;
        match rx.try_recv() {
            Ok(j) => Some(j),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                self.gate.starved.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    j = rx.recv() => j,
                    _ = self.cancel.cancelled() => None,
                }
            }
        }
    }
}

/// A transfer attempt's failure, already classified.
enum TransferError {
    Transient(EngineError),
    Fatal(EngineError),
}

impl TransferError {
    fn zoom(e: ZoomError) -> Self {
        if e.class() != ErrorClass::Fatal {
            TransferError::Transient(e.into())
        } else {
            TransferError::Fatal(e.into())
        }
    }

    fn dest(e: DestError) -> Self {
        match e {
            // A short file can be resumed; everything else about the disk is not going to
            // change by trying again.
            DestError::SizeMismatch { .. } => TransferError::Transient(e.into()),
            _ => TransferError::Fatal(e.into()),
        }
    }
}

/// Listed meetings handed over at once, at most: about a page of Zoom's (300).
const LIST_BATCH: usize = 300;

/// Called for every listed meeting that passed the filters.
pub trait AsyncMeetingFn {
    fn call(
        &mut self,
        meeting: Meeting,
        host_label: &str,
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send;

    /// Called with each batch of meetings before `call` is called for each of them: a chance
    /// to look them all up at once. Does nothing by default.
    fn prefetch(
        &mut self,
        meetings: &[Meeting],
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send {
        let _ = meetings;
        async { Ok(()) }
    }
}

/// Stage 2: names each meeting, asks the state what is missing, queues transfers.
struct Planner<'a> {
    engine: Engine,
    opts: SyncOptions,
    namer: &'a Namer,
    tally: Arc<Tally>,
    job_tx: mpsc::Sender<TransferJob>,
    folders: NameAllocator,
    known: HashMap<String, String>,
    detail_slots: Arc<Semaphore>,
    details: tokio::task::JoinSet<Result<Vec<artifacts::DetailFailure>, EngineError>>,
    totals: (u64, u64, u64),
    /// State rows of the current batch's meetings, by uuid (see `prefetch`).
    rows: HashMap<String, Vec<FileRow>>,
    /// Sizes on the destination of the current batch's verified files, by path.
    sizes: HashMap<String, Option<u64>>,
}

impl AsyncMeetingFn for &mut Planner<'_> {
    async fn call(&mut self, meeting: Meeting, host_label: &str) -> Result<(), EngineError> {
        self.plan_meeting(meeting, host_label).await
    }

    async fn prefetch(&mut self, meetings: &[Meeting]) -> Result<(), EngineError> {
        self.load_batch(meetings).await
    }
}

impl Planner<'_> {
    /// Reads the state rows of a batch of meetings in one call, then the sizes on the
    /// destination of the files those rows say are verified with the size Zoom lists, in one
    /// call: a re-sync then costs two round trips per page, not two per meeting.
    async fn load_batch(&mut self, meetings: &[Meeting]) -> Result<(), EngineError> {
        let uuids: Vec<String> = meetings.iter().map(|m| m.uuid.clone()).collect();
        let rows = self.engine.state.files_of_meetings(&uuids).await?;
        let mut check = Vec::new();
        for (m, rows) in meetings.iter().zip(&rows) {
            for r in rows {
                let listed = m.recording_files.iter().find(|f| f.id == r.key.file_id);
                if r.status == FileStatus::Verified
                    && listed.is_some_and(|f| f.file_size == r.expected_size)
                {
                    check.push(r.rel_path.clone());
                }
            }
        }
        let sizes = self.engine.dest.stat_final_many(&check).await;
        self.sizes = check
            .into_iter()
            .zip(sizes)
            .map(|(p, s)| (p, s.ok().flatten()))
            .collect();
        self.rows = uuids.into_iter().zip(rows).collect();
        Ok(())
    }

    async fn plan_meeting(
        &mut self,
        meeting: Meeting,
        host_label: &str,
    ) -> Result<(), EngineError> {
        let engine = self.engine.clone();
        if let Some(l) = &self.tally.listed
            && let Ok(mut v) = l.lock()
        {
            v.push(meeting.clone());
        }
        let start = artifacts::parse_time(&meeting.start_time);
        let info = MeetingInfo {
            host: host_label,
            host_email: host_label,
            topic: &meeting.topic,
            start_time: start,
            timezone: &meeting.timezone,
            meeting_id: meeting.id,
            uuid: &meeting.uuid,
        };
        let folder = match self.known.get(&meeting.uuid) {
            Some(f) => f.clone(),
            None => {
                let f = self.folders.allocate_dir(&self.namer.folder(&info));
                self.known.insert(meeting.uuid.clone(), f.clone());
                f
            }
        };
        let rows = match self.rows.remove(&meeting.uuid) {
            Some(rows) => rows,
            None => engine.state.files_of_meeting(&meeting.uuid).await?,
        };
        let existing: BTreeMap<String, FileRow> = rows
            .into_iter()
            .map(|r| (r.key.file_id.clone(), r))
            .collect();

        // Names inside the folder: what the engine writes is reserved first, then names
        // earlier runs gave, then new files in a stable order.
        let mut names = NameAllocator::new();
        for reserved in [MEETING_JSON, SUMMARY_MD, SUMMARY_JSON, PARTICIPANTS_DIR] {
            names.reserve(reserved);
        }
        for row in existing.values() {
            if let Some(name) = row.rel_path.strip_prefix(&format!("{folder}/")) {
                names.reserve(name);
            }
        }
        let mut files: Vec<&RecordingFile> = meeting.recording_files.iter().collect();
        files.sort_by(|a, b| {
            (a.recording_start.as_str(), a.id.as_str())
                .cmp(&(b.recording_start.as_str(), b.id.as_str()))
        });

        let mut planned = 0usize;
        let mut bytes = 0u64;
        // Where each recording file lives (or will), for meeting.json.
        let mut paths: BTreeMap<String, String> = BTreeMap::new();
        let mut all_verified = true;
        let mut jobs = Vec::new();
        // meeting.json waits for the details and for each download queued here.
        let record = artifacts::RecordGate::new(0);
        for file in files {
            if !file.is_processing() && !self.opts.filters.wants_file_type(file.file_type.as_str())
            {
                continue;
            }
            if file.id.is_empty() {
                continue;
            }
            if file.is_processing() {
                self.tally.processing.fetch_add(1, Ordering::Relaxed);
                all_verified = false;
                engine.emit(Event::FileSkipped {
                    file: FileRef {
                        meeting_uuid: meeting.uuid.clone(),
                        file_id: file.id.clone(),
                        path: String::new(),
                    },
                    size: 0,
                    reason: SkipReason::Processing,
                });
                continue;
            }
            let key = FileKey {
                meeting_uuid: meeting.uuid.clone(),
                file_id: file.id.clone(),
            };
            let rel_path = match existing.get(&file.id) {
                Some(row) if !row.rel_path.is_empty() => row.rel_path.clone(),
                _ => {
                    let finfo = FileInfo {
                        recording_type: file.recording_type.as_str(),
                        file_type: file.file_type.as_str(),
                        file_extension: &file.file_extension,
                        file_id: &file.id,
                        recording_start: artifacts::parse_time_opt(&file.recording_start),
                        participant: None,
                    };
                    let name = names.allocate(&self.namer.file_name(&info, &finfo));
                    format!("{folder}/{name}")
                }
            };
            let size = file.file_size;
            paths.insert(file.id.clone(), rel_path.clone());
            planned += 1;
            bytes += size;
            let fref = FileRef {
                meeting_uuid: meeting.uuid.clone(),
                file_id: file.id.clone(),
                path: rel_path.clone(),
            };
            if let Some(row) = existing.get(&file.id)
                && row.status == FileStatus::Verified
                && row.expected_size == size
            {
                // A local stat, no request: a copy someone deleted or damaged since is
                // fetched again rather than trusted.
                let present = match self.sizes.remove(&row.rel_path) {
                    Some(s) => s,
                    None => engine.dest.stat_final(&row.rel_path).await.ok().flatten(),
                };
                if present == Some(size) {
                    self.tally.skipped.fetch_add(1, Ordering::Relaxed);
                    engine.emit(Event::FileSkipped {
                        file: fref,
                        size,
                        reason: SkipReason::AlreadyVerified,
                    });
                    continue;
                }
                engine.emit(Event::Warning {
                    message: format!(
                        "{} was verified earlier but is {} now; fetching it again",
                        row.rel_path,
                        match present {
                            None => "missing".to_string(),
                            Some(n) => format!("{n} bytes instead of {size}"),
                        }
                    ),
                });
            }
            all_verified = false;
            jobs.push((
                PlannedFile {
                    key: key.clone(),
                    kind: FileKind::Recording,
                    file_type: file.file_type.as_str().to_string(),
                    recording_type: file.recording_type.as_str().to_string(),
                    rel_path,
                    expected_size: size,
                },
                TransferJob {
                    key,
                    file: fref,
                    url: file.download_url.clone(),
                    size,
                    record: {
                        record.add_download();
                        record.clone()
                    },
                },
            ));
        }

        // A meeting whose files, details and artifacts are all done costs no request.
        let artifacts_done = existing
            .values()
            .filter(|r| r.kind != FileKind::Recording)
            .all(|r| matches!(r.status, FileStatus::Verified | FileStatus::Skipped))
            && existing
                .get(MEETING_JSON)
                .is_some_and(|r| r.status == FileStatus::Verified);
        self.tally.meetings.fetch_add(1, Ordering::Relaxed);
        self.totals.0 += 1;
        self.totals.1 += planned as u64;
        self.totals.2 += bytes;
        engine.emit(Event::MeetingPlanned {
            meeting_uuid: meeting.uuid.clone(),
            topic: meeting.topic.clone(),
            folder: folder.clone(),
            start_time: meeting.start_time.clone(),
            files: planned,
            bytes,
        });
        if all_verified && artifacts_done {
            return Ok(());
        }

        if self.opts.dry_run {
            for (_, job) in jobs {
                engine.emit(Event::WouldDownload {
                    file: job.file,
                    size: job.size,
                });
            }
            return Ok(());
        }

        engine
            .state
            .upsert_meeting(&MeetingRow {
                uuid: meeting.uuid.clone(),
                meeting_id: meeting.id,
                host_id: meeting.host_id.clone(),
                host_email: host_label.to_string(),
                topic: meeting.topic.clone(),
                start_time: meeting.start_time.clone(),
                timezone: meeting.timezone.clone(),
                duration_min: meeting.duration,
                folder: folder.clone(),
                cloud: CloudState::Present,
            })
            .await?;
        for (plan, job) in jobs {
            let row = engine.state.plan_file(&plan).await?;
            let job = TransferJob {
                file: FileRef {
                    path: row.rel_path.clone(),
                    ..job.file
                },
                ..job
            };
            engine.emit(Event::FileQueued {
                file: job.file.clone(),
                size: job.size,
            });
            // Back-pressure: when the workers are busy, listing waits here.
            if self.job_tx.send(job).await.is_err() {
                return Ok(()); // workers are gone: the run is being cancelled
            }
        }

        // Details (participant audio, summary, meeting.json) on their own small pool so that
        // listing never waits for them.
        let permit = self
            .detail_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| EngineError::Invalid("detail pool closed".into()))?;
        let opts = self.opts.clone();
        let job_tx = self.job_tx.clone();
        let folder2 = folder.clone();
        let host = host_label.to_string();
        self.details.spawn(async move {
            let _permit = permit;
            let fetched = artifacts::fetch_details(
                &engine, &opts, &meeting, &folder2, &host, &existing, &paths, &job_tx, &record,
            )
            .await;
            let (failures, pending) = match fetched {
                Ok(done) => (Ok(done.0), done.1),
                Err(e) => (Err(e), None),
            };
            record.details_ended(&engine, pending).await;
            failures
        });
        Ok(())
    }
}

/// The global `--bwlimit`: a token bucket in KiB shared by every transfer.
pub struct ByteLimiter {
    inner: governor::DefaultDirectRateLimiter,
    burst_kib: u32,
}

impl ByteLimiter {
    pub fn new(bytes_per_sec: u64) -> Self {
        let kib = u32::try_from((bytes_per_sec / 1024).max(1)).unwrap_or(u32::MAX);
        // A burst of a quarter second (at least 64 KiB) keeps the rate smooth without
        // making every chunk wait.
        let burst = (kib / 4).max(64);
        let quota = governor::Quota::per_second(NonZeroU32::new(kib).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            inner: governor::RateLimiter::direct(quota),
            burst_kib: burst,
        }
    }

    pub async fn take(&self, bytes: usize) {
        let mut kib = (bytes as u64).div_ceil(1024);
        while kib > 0 {
            let n = kib.min(u64::from(self.burst_kib)) as u32;
            if let Some(n) = NonZeroU32::new(n) {
                let _ = self.inner.until_n_ready(n).await;
            }
            kib -= u64::from(n);
        }
    }
}

/// Used by the artifacts module to queue participant audio.
pub(crate) async fn queue_participant_audio(
    engine: &Engine,
    job_tx: &mpsc::Sender<TransferJob>,
    plan: PlannedFile,
    url: String,
    record: &Arc<artifacts::RecordGate>,
) -> Result<(), EngineError> {
    let row = engine.state.plan_file(&plan).await?;
    let file = FileRef {
        meeting_uuid: plan.key.meeting_uuid.clone(),
        file_id: plan.key.file_id.clone(),
        path: row.rel_path.clone(),
    };
    engine.emit(Event::FileQueued {
        file: file.clone(),
        size: plan.expected_size,
    });
    let _ = job_tx
        .send(TransferJob {
            key: plan.key,
            file,
            url,
            size: plan.expected_size,
            record: {
                record.add_download();
                record.clone()
            },
        })
        .await;
    Ok(())
}

pub(crate) type Job = TransferJob;
