//! Segmented downloads: one large file over several connections at once, each range written
//! at its offset into the file's `.ranges.part`, finished like any other file (size check,
//! fsync, rename, state row).
//!
//! The extra connections are not extra transfers: they are transfer workers that hold one of
//! the run's permits and found no file waiting (the tail of a run, or a few large files). A
//! file being fetched in ranges is posted on the run's [`SegmentRun`] board; such a worker
//! takes it and splits off a range (see [`crate::segments`]). The worker whose job the file
//! is (its owner) fetches too, saves the ranges to the state four times a second (what a
//! killed run leaves to the next one), fsyncs every 64 MiB (what a power cut leaves), and
//! finishes the file when every range is in.
//!
//! A range that fails (reset, stall, short body) is asked for again from where its bytes
//! end, by whichever connection is free; the others go on. A CDN that answers a ranged request
//! with the whole file (it ignores `Range`) ends the file's ranges: its bytes from the start
//! become a `.part` and it continues in one piece, and no file of the run is split again. A
//! CDN that refuses another connection (429) also stops all splitting for the run: the
//! connections it allows go to separate files.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;

use zvm_dest::{DestError, RangedFile};
use zvm_zoom::{ByteRange, DownloadStatus, ErrorClass, ZoomError};

use crate::accounting::Accounting;
use crate::bwlimit::ByteLimiter;
use crate::concurrency::Gate;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::Event;
use crate::options::SyncOptions;
use crate::queue::TransferJob;
use crate::segments::{Claim, RangePlan};

/// How often a segmented file saves its ranges and reports progress. A killed run loses at
/// most about this much of each connection's bytes (they are fetched again).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Bytes between fsyncs of a segmented file, as for the one-piece transfers' resume points.
const SYNC_EVERY_BYTES: u64 = 64 << 20;
/// How often the file's row in the state gets its byte count (for `zvm status`).
const STATE_PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// Waits a file's first connection accepts from a CDN answering 429 before it counts one
/// failed attempt (as the client's own budget of rate-limit waits).
const THROTTLE_WAITS: u32 = 30;

/// What a run allows of segmented downloads, and its board of files that would take another
/// connection.
pub(crate) struct SegmentRun {
    /// Whether any file of this run may be fetched in ranges.
    enabled: bool,
    per_file: usize,
    min_segment: u64,
    /// The CDN's "too many connections" answers when the run began: one more stops splitting.
    throttles_at_start: u64,
    /// The CDN answered a ranged request with the whole file.
    ranges_ignored: AtomicBool,
    board: Mutex<Vec<Arc<SegmentedFile>>>,
    /// A file was posted, one of them has a range free again, or a file ended.
    posted: Notify,
    /// Files taken by workers and not ended (each may still be posted).
    running: AtomicUsize,
    /// This boot of the machine (see `zvm_state::FileRanges::boot_id`).
    boot_id: Option<String>,
}

impl SegmentRun {
    pub(crate) fn new(engine: &Engine, opts: &SyncOptions) -> Arc<SegmentRun> {
        let per_file = opts.segments.per_file();
        Arc::new(SegmentRun {
            enabled: per_file > 1 && !opts.dry_run && engine.dest.writes_at_offsets(),
            per_file,
            min_segment: opts.min_segment.max(1),
            throttles_at_start: engine.zoom.download_throttles(),
            ranges_ignored: AtomicBool::new(false),
            board: Mutex::new(Vec::new()),
            posted: Notify::new(),
            running: AtomicUsize::new(0),
            boot_id: boot_id(),
        })
    }

    /// Whether a range may still be split off for another connection.
    fn may_split(&self, engine: &Engine) -> bool {
        !self.ranges_ignored.load(Ordering::Acquire)
            && engine.zoom.download_throttles() == self.throttles_at_start
    }

    /// Whether `job` is fetched in ranges (large enough for two, and splitting still works).
    pub(crate) fn takes(&self, engine: &Engine, job: &TransferJob) -> bool {
        self.enabled && job.size >= 2 * self.min_segment && self.may_split(engine)
    }

    fn board(&self) -> MutexGuard<'_, Vec<Arc<SegmentedFile>>> {
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn post(&self, file: &Arc<SegmentedFile>) {
        self.board().push(file.clone());
        self.posted.notify_waiters();
    }

    fn withdraw(&self, file: &Arc<SegmentedFile>) {
        self.board().retain(|f| !Arc::ptr_eq(f, file));
    }

    /// A posted file that another connection could help with, if any.
    pub(crate) fn help_wanted(&self, engine: &Engine) -> Option<Arc<SegmentedFile>> {
        let may_split = self.may_split(engine);
        self.board()
            .iter()
            .find(|f| f.wants_help(may_split))
            .cloned()
    }

    /// Waits until a posted file could use another connection. With `while_running`, gives
    /// up (`None`) once no file is being transferred (none can be posted any more).
    pub(crate) async fn wait_for_help(
        &self,
        engine: &Engine,
        while_running: bool,
    ) -> Option<Arc<SegmentedFile>> {
        loop {
            let posted = self.posted.notified();
            tokio::pin!(posted);
            posted.as_mut().enable();
            if let Some(f) = self.help_wanted(engine) {
                return Some(f);
            }
            if while_running && self.running.load(Ordering::Acquire) == 0 {
                return None;
            }
            posted.await;
        }
    }

    /// A worker took a file: until it ends, the file may be posted for help.
    pub(crate) fn job_taken(&self) {
        self.running.fetch_add(1, Ordering::AcqRel);
    }

    /// A worker's file ended: workers waiting only for help may be done.
    pub(crate) fn job_ended(&self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
        self.posted.notify_waiters();
    }
}

/// The machine's boot id (Linux), so that a later run can tell whether bytes written but not
/// yet fsynced can still be there.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// What a connection of a segmented file needs of its run.
pub(crate) struct SegCtx<'a> {
    pub(crate) opts: &'a SyncOptions,
    pub(crate) tally: &'a Accounting,
    pub(crate) cancel: &'a CancellationToken,
    pub(crate) limiter: Option<&'a ByteLimiter>,
    pub(crate) gate: &'a Arc<Gate>,
    pub(crate) run: &'a Arc<SegmentRun>,
}

/// How a segmented file ended, for its transfer worker.
pub(crate) enum SegmentedEnd {
    /// Verified, committed and reported.
    Verified,
    /// The run was cancelled; the ranges are saved for the next run.
    Cancelled,
    /// Failed for this run (its ranges are kept); the worker reports it.
    Failed(EngineError),
}

/// Why a file's connections were stopped before it was complete.
enum Stopped {
    Failed(EngineError),
    /// The CDN ignores `Range`: the file goes on in one piece.
    OnePiece,
}

/// One large file being fetched in ranges, shared by its connections.
pub(crate) struct SegmentedFile {
    engine: Engine,
    job: TransferJob,
    plan: Mutex<RangePlan>,
    file: Box<dyn RangedFile>,
    /// The most connections at once; lowered to what the CDN allowed when it answers 429.
    cap: AtomicUsize,
    /// Connections holding a range now.
    connections: AtomicUsize,
    /// A connection ended or let go of a range.
    changed: Notify,
    /// Stops every connection of the file (a child of the run's cancellation).
    stop: CancellationToken,
    stopped: Mutex<Option<Stopped>>,
    /// Failed attempts of all its connections together.
    failures: AtomicUsize,
}

/// The end of one connection's request for a range.
enum ConnEnd {
    Cancelled,
    Transient(EngineError),
    Fatal(EngineError),
    /// The CDN refused another connection (429), asking to wait this long.
    Throttled(Option<Duration>),
    /// The CDN answered a ranged request with something else than that range.
    RangeIgnored,
}

impl ConnEnd {
    fn zoom(e: ZoomError) -> ConnEnd {
        match e.class() {
            ErrorClass::RateLimited(after) => ConnEnd::Throttled(after),
            ErrorClass::Fatal => ConnEnd::Fatal(e.into()),
            _ => ConnEnd::Transient(e.into()),
        }
    }

    fn dest(e: DestError) -> ConnEnd {
        // Unlike a network error, a disk that refused a write will refuse the next one too.
        ConnEnd::Fatal(e.into())
    }
}

/// Counts an open download at the gate while it lives, like the one-piece transfers do (the
/// auto controller reads the most open at once when the CDN answers 429).
struct HeldConnection(Arc<Gate>);

impl HeldConnection {
    fn new(gate: &Arc<Gate>) -> HeldConnection {
        let now = gate.streaming.fetch_add(1, Ordering::AcqRel) + 1;
        gate.streaming_peak.fetch_max(now, Ordering::AcqRel);
        HeldConnection(gate.clone())
    }
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        self.0.streaming.fetch_sub(1, Ordering::AcqRel);
    }
}

impl SegmentedFile {
    fn plan(&self) -> MutexGuard<'_, RangePlan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop_with(&self, why: Stopped) {
        if let Ok(mut s) = self.stopped.lock() {
            s.get_or_insert(why);
        }
        self.stop.cancel();
    }

    /// Whether one more connection would find work now.
    fn wants_help(&self, may_split: bool) -> bool {
        !self.stop.is_cancelled()
            && self.connections.load(Ordering::Acquire) < self.cap.load(Ordering::Acquire)
            && self.plan().has_work(may_split)
    }

    /// Counts a connection in, if the file takes one more and is not stopping.
    fn join(&self) -> bool {
        let joined = self
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.cap.load(Ordering::Acquire)).then_some(n + 1)
            })
            .is_ok();
        // Checked after counting in: whoever stops the file then waits for this connection.
        if joined && self.stop.is_cancelled() {
            self.leave();
            return false;
        }
        joined
    }

    fn leave(&self) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    /// One connection: claims ranges and fetches them until there is nothing to claim, the
    /// file stops, or (a helper) the CDN refuses the connection.
    pub(crate) async fn work(&self, ctx: &SegCtx<'_>, owner: bool) {
        let mut streak = 0u32;
        let mut throttled = 0u32;
        loop {
            if self.stop.is_cancelled() || !self.join() {
                return;
            }
            let may_split = ctx.run.may_split(&self.engine);
            let claim = self.plan().claim(may_split);
            let Some(claim) = claim else {
                self.leave();
                return;
            };
            let res = self.fetch(ctx, claim).await;
            self.plan().release(claim.id);
            self.leave();
            let end = match res {
                Ok(()) => {
                    streak = 0;
                    throttled = 0;
                    continue;
                }
                Err(end) => end,
            };
            if let ConnEnd::Throttled(_) = end {
                // The CDN allows no more connections than this file holds now (besides
                // others'): no more join it, and the ones it has keep its ranges going.
                let holding = self.connections.load(Ordering::Acquire).max(1);
                self.cap.fetch_min(holding, Ordering::AcqRel);
            } else {
                // Its range is free for another connection.
                ctx.run.posted.notify_waiters();
            }
            let wait = match end {
                ConnEnd::Cancelled => return,
                ConnEnd::Fatal(e) => {
                    self.stop_with(Stopped::Failed(e));
                    return;
                }
                ConnEnd::RangeIgnored => {
                    ctx.run.ranges_ignored.store(true, Ordering::Release);
                    self.stop_with(Stopped::OnePiece);
                    return;
                }
                // The CDN allows no more connections: a helper gives its own back; the
                // owner waits as asked (its range is then taken by whichever is free first).
                ConnEnd::Throttled(_) if !owner => return,
                ConnEnd::Throttled(after) if throttled < THROTTLE_WAITS => {
                    throttled += 1;
                    after.unwrap_or(Duration::from_secs(1))
                }
                ConnEnd::Throttled(_) => {
                    throttled = 0;
                    match self.failed(ctx, &mut streak, too_many()) {
                        Some(d) => d,
                        None => return,
                    }
                }
                ConnEnd::Transient(e) => match self.failed(ctx, &mut streak, e) {
                    Some(d) => d,
                    None => return,
                },
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.stop.cancelled() => return,
            }
        }
    }

    /// Counts a failed attempt; the delay before the next one, or `None` when the file has
    /// used its budget (it is then stopped as failed).
    fn failed(&self, ctx: &SegCtx<'_>, streak: &mut u32, e: EngineError) -> Option<Duration> {
        *streak += 1;
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        ctx.gate.note_fault();
        // Each range has the budget a file in one piece has.
        let budget = (ctx.opts.retry.max_attempts as usize).saturating_mul(self.plan().ranges());
        if n >= budget {
            self.stop_with(Stopped::Failed(e));
            return None;
        }
        ctx.tally.retried();
        let delay = ctx.opts.retry.delay(*streak);
        self.engine.emit(Event::FileRetry {
            file: self.job.file.clone(),
            attempt: n as u32,
            error: e.to_string(),
            delay_ms: delay.as_millis() as u64,
        });
        Some(delay)
    }

    /// Fetches the claimed range into the file, until it is complete, the range was split
    /// short of where this connection is, or something fails. What arrived is written and
    /// noted whatever the outcome.
    async fn fetch(&self, ctx: &SegCtx<'_>, claim: Claim) -> Result<(), ConnEnd> {
        let size = self.job.size;
        let whole = claim.from == 0 && claim.to == size;
        let range = if whole {
            ByteRange::from(0)
        } else {
            ByteRange {
                start: claim.from,
                last: Some(claim.to - 1),
            }
        };
        let asked = Instant::now();
        let download = tokio::select! {
            d = self.engine.zoom.open_download_range(&self.job.url, range) => d,
            _ = self.stop.cancelled() => return Err(ConnEnd::Cancelled),
        }
        .map_err(ConnEnd::zoom)?;
        ctx.gate.note_open_latency(asked.elapsed());
        let held = HeldConnection::new(ctx.gate);
        let served_from = match download.status {
            DownloadStatus::Full => 0,
            DownloadStatus::Partial { start } => start,
        };
        if served_from != claim.from {
            // A 200 to a ranged request (zoom-api.md §3), or another range than asked.
            return Err(ConnEnd::RangeIgnored);
        }
        if let Some(len) = download.content_length {
            let holds = if whole { len } else { claim.from + len };
            let short = if whole { len != size } else { holds < claim.to };
            if short {
                return Err(ConnEnd::Fatal(EngineError::Invalid(format!(
                    "Zoom listed {size} bytes for this file but the download of bytes {}..{} holds {len}",
                    claim.from, claim.to
                ))));
            }
        }
        let mut writer = self
            .file
            .writer_at(claim.from)
            .await
            .map_err(ConnEnd::dest)?;
        let mut stream = download.stream;
        let mut write_failed = false;
        let res = loop {
            let next = tokio::select! {
                n = stream.next() => n,
                _ = self.stop.cancelled() => break Err(ConnEnd::Cancelled),
            };
            let chunk = match next {
                None => break Ok(()),
                Some(Err(e)) => break Err(ConnEnd::zoom(e)),
                Some(Ok(c)) => c,
            };
            // A split may have moved this range's end closer: keep only what is still ours.
            let take = self.plan().accept(claim.id, chunk.len() as u64) as usize;
            if take == 0 {
                break Ok(());
            }
            if let Some(l) = ctx.limiter {
                l.take(take).await;
            }
            ctx.gate.bytes.fetch_add(take as u64, Ordering::Relaxed);
            if let Err(e) = writer.write_bytes(chunk.slice(..take)).await {
                write_failed = true;
                break Err(ConnEnd::dest(e));
            }
            let mut plan = self.plan();
            plan.note_written(claim.id, claim.from, writer.written());
            if plan.is_received(claim.id) {
                break Ok(());
            }
        };
        // The body is over or abandoned: the server's connection slot is free while we write.
        drop(stream);
        drop(held);
        let flushed = writer.flush().await;
        let received = {
            let mut plan = self.plan();
            plan.note_written(claim.id, claim.from, writer.written());
            plan.is_received(claim.id)
        };
        match res {
            // The failed write is the cause; the flush after it only finds the writer gone.
            Err(e) if write_failed => return Err(e),
            // The disk failing to keep what arrived outranks the network's failure.
            Err(e) => {
                flushed.map_err(ConnEnd::dest)?;
                return Err(e);
            }
            Ok(()) => flushed.map_err(ConnEnd::dest)?,
        }
        if !received {
            return Err(ConnEnd::Transient(EngineError::Invalid(format!(
                "the connection ended before byte {} of the range {}..{}",
                claim.to, claim.from, claim.to
            ))));
        }
        Ok(())
    }

    /// Saves the ranges (and, every `SYNC_EVERY_BYTES`, makes them durable first) and reports
    /// progress, every `CHECKPOINT_EVERY` until `done`.
    async fn keep_record(&self, ctx: &SegCtx<'_>, done: &CancellationToken, credited: &Mutex<u64>) {
        let mut synced = self.plan().written();
        let mut last_state = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
                _ = done.cancelled() => return,
            }
            if let Err(e) = self.checkpoint(ctx, &mut synced, credited).await {
                self.stop_with(Stopped::Failed(e));
                return;
            }
            if last_state.elapsed() >= STATE_PROGRESS_EVERY {
                last_state = Instant::now();
                let written = self.plan().written();
                let _ = self.engine.state.set_progress(&self.job.key, written).await;
            }
        }
    }

    /// One save of the ranges; fsyncs first when `SYNC_EVERY_BYTES` were written since the
    /// last fsync (`synced`).
    async fn checkpoint(
        &self,
        ctx: &SegCtx<'_>,
        synced: &mut u64,
        credited: &Mutex<u64>,
    ) -> Result<(), EngineError> {
        let (written, received, marks) = {
            let p = self.plan();
            (p.written(), p.received(), p.written_marks())
        };
        if let Ok(mut c) = credited.lock() {
            ctx.tally.progress(&mut c, received);
        }
        self.engine.emit(Event::FileProgress {
            file: self.job.file.clone(),
            bytes_done: received,
            size: self.job.size,
        });
        if written >= *synced + SYNC_EVERY_BYTES {
            self.file.sync().await?;
            self.plan().mark_durable(&marks);
            *synced = written;
        }
        let record = self.plan().record(ctx.run.boot_id.clone());
        // A state that cannot be written now costs only a little re-fetching after a crash;
        // the copy itself goes on (as the one-piece transfers' progress rows do).
        let _ = self
            .engine
            .state
            .save_file_ranges(&self.job.key, &record)
            .await;
        Ok(())
    }

    /// Waits until no connection holds a range, or (`or_claimable`) one is free to claim.
    async fn settle(&self, or_claimable: bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let n = self.connections.load(Ordering::Acquire);
            if n == 0 {
                return;
            }
            if or_claimable
                && !self.stop.is_cancelled()
                && n < self.cap.load(Ordering::Acquire)
                && self.plan().has_work(false)
            {
                return;
            }
            changed.await;
        }
    }
}

fn too_many() -> EngineError {
    EngineError::Invalid("the CDN kept refusing the connection (429, too many)".into())
}

impl Engine {
    /// Fetches `job` in ranges when the run takes it that way; `None` when it goes in one
    /// piece (after turning what an earlier segmented attempt left into its `.part`).
    pub(crate) async fn run_segmented(
        &self,
        job: &TransferJob,
        ctx: &SegCtx<'_>,
        near_end: &mut Option<oneshot::Sender<()>>,
    ) -> Option<SegmentedEnd> {
        if !ctx.run.takes(self, job) {
            return match self.ranges_into_one_piece(job, ctx.run).await {
                Ok(()) => None,
                Err(e) => Some(SegmentedEnd::Failed(e)),
            };
        }
        let credited = Mutex::new(0u64);
        let end = match self.open_segmented(job, ctx, &credited).await {
            Ok(file) => self.fetch_segmented(file, ctx, near_end, &credited).await,
            Err(e) => Err(e),
        };
        match end {
            Ok(Some(end)) => Some(end),
            Ok(None) => {
                // Goes on in one piece, which counts its bytes itself.
                if let Ok(mut c) = credited.lock() {
                    ctx.tally.progress(&mut c, 0);
                }
                None
            }
            Err(e) => Some(SegmentedEnd::Failed(e)),
        }
    }

    /// The file's ranges from the state (or its `.part`, or nothing), its ranged file open.
    async fn open_segmented(
        &self,
        job: &TransferJob,
        ctx: &SegCtx<'_>,
        credited: &Mutex<u64>,
    ) -> Result<Arc<SegmentedFile>, EngineError> {
        let (rel, size, min) = (&job.file.path, job.size, ctx.run.min_segment);
        let boot = ctx.run.boot_id.clone();
        let saved = self.state.file_ranges(&job.key).await?;
        let resumed = match (&saved, self.dest.ranged_len(rel).await?) {
            (Some(s), Some(_)) => {
                let same_boot = boot.is_some() && s.boot_id == boot;
                RangePlan::resume(size, min, s, same_boot)
            }
            _ => None,
        };
        let (plan, fresh) = match resumed {
            Some(plan) => (plan, false),
            // Bytes of a download in one piece (an earlier run, or an older zvm) are kept.
            None => match self.dest.partial_len(rel).await? {
                Some(have) if have <= size => {
                    let plan = RangePlan::with_prefix(size, min, have);
                    // Saved before the rename: a crash between the two finds the ranges and
                    // the `.part`, and converts again.
                    self.state
                        .save_file_ranges(&job.key, &plan.record(boot.clone()))
                        .await?;
                    self.dest.partial_into_ranged(rel).await?;
                    (plan, false)
                }
                other => {
                    if other.is_some() {
                        // Longer than the file: not a prefix of it.
                        self.dest.remove_partial(rel).await?;
                    }
                    (RangePlan::new(size, min), true)
                }
            },
        };
        let file = self.dest.open_ranged(rel, fresh).await?;
        self.state
            .save_file_ranges(&job.key, &plan.record(boot))
            .await?;
        let _ = self.state.start_attempt(&job.key).await;
        let have = plan.written();
        self.emit(Event::FileStarted {
            file: job.file.clone(),
            size,
            offset: have,
        });
        if let Ok(mut c) = credited.lock() {
            ctx.tally.progress(&mut c, have);
        }
        Ok(Arc::new(SegmentedFile {
            engine: self.clone(),
            job: job.clone(),
            plan: Mutex::new(plan),
            file,
            cap: AtomicUsize::new(ctx.run.per_file),
            connections: AtomicUsize::new(0),
            changed: Notify::new(),
            stop: ctx.cancel.child_token(),
            stopped: Mutex::new(None),
            failures: AtomicUsize::new(0),
        }))
    }

    /// The owner's part: fetch with the helpers until every range is in, keeping the record,
    /// then finish. `Ok(None)`: the file goes on in one piece.
    async fn fetch_segmented(
        &self,
        f: Arc<SegmentedFile>,
        ctx: &SegCtx<'_>,
        near_end: &mut Option<oneshot::Sender<()>>,
        credited: &Mutex<u64>,
    ) -> Result<Option<SegmentedEnd>, EngineError> {
        ctx.run.post(&f);
        let done = CancellationToken::new();
        let fetching = async {
            loop {
                f.work(ctx, true).await;
                // Nothing left for this connection: the worker may open its next file now.
                fire(near_end);
                f.settle(true).await;
                let finished = f.connections.load(Ordering::Acquire) == 0
                    && (f.stop.is_cancelled() || f.plan().is_complete());
                if finished {
                    break;
                }
            }
            done.cancel();
        };
        tokio::join!(fetching, f.keep_record(ctx, &done, credited));
        ctx.run.withdraw(&f);
        let stopped = f.stopped.lock().ok().and_then(|mut s| s.take());
        let mut synced = 0;
        match stopped {
            Some(Stopped::OnePiece) => {
                let prefix = f.plan().contiguous_prefix();
                self.dest
                    .ranged_into_partial(&f.job.file.path, prefix)
                    .await?;
                self.state.clear_file_ranges(&f.job.key).await?;
                return Ok(None);
            }
            Some(Stopped::Failed(e)) => {
                let _ = f.checkpoint(ctx, &mut synced, credited).await;
                return Ok(Some(SegmentedEnd::Failed(e)));
            }
            None if !f.plan().is_complete() => {
                // Cancelled: what arrived is kept, durable, for the next run.
                let _ = f.file.sync().await;
                let marks = f.plan().written_marks();
                f.plan().mark_durable(&marks);
                let _ = f.checkpoint(ctx, &mut synced, credited).await;
                return Ok(Some(SegmentedEnd::Cancelled));
            }
            None => {}
        }
        let job = &f.job;
        let rel = &job.file.path;
        let size = match f.file.finalize(job.size).await {
            Ok(s) => s,
            Err(e @ DestError::SizeMismatch { .. }) => {
                // Every range said complete, yet the length differs: nothing of it can be
                // trusted. The next attempt starts over.
                let _ = self.state.clear_file_ranges(&job.key).await;
                let _ = self.dest.remove_ranged(rel).await;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let sha = if ctx.opts.verify_hash {
            Some(self.dest.sha256_final(rel).await?)
        } else {
            None
        };
        self.state
            .mark_verified(&job.key, size, sha.as_deref())
            .await?;
        let _ = self.state.clear_file_ranges(&job.key).await;
        if let Ok(mut c) = credited.lock() {
            ctx.tally.progress(&mut c, job.size);
        }
        ctx.tally.downloaded(job.size);
        self.emit(Event::FileDone {
            file: job.file.clone(),
            size: job.size,
            sha256: sha,
        });
        Ok(Some(SegmentedEnd::Verified))
    }

    /// A file about to go in one piece whose earlier attempt was in ranges: its bytes from
    /// the start become its `.part`, the rest is fetched again.
    async fn ranges_into_one_piece(
        &self,
        job: &TransferJob,
        run: &SegmentRun,
    ) -> Result<(), EngineError> {
        let Some(saved) = self.state.file_ranges(&job.key).await? else {
            return Ok(());
        };
        let rel = &job.file.path;
        if self.dest.ranged_len(rel).await?.is_some() {
            let same_boot = run.boot_id.is_some() && saved.boot_id == run.boot_id;
            let prefix = RangePlan::resume(job.size, run.min_segment, &saved, same_boot)
                .map_or(0, |p| p.contiguous_prefix());
            self.dest.ranged_into_partial(rel, prefix).await?;
        }
        self.state.clear_file_ranges(&job.key).await?;
        Ok(())
    }
}

fn fire(near_end: &mut Option<oneshot::Sender<()>>) {
    if let Some(tx) = near_end.take() {
        let _ = tx.send(());
    }
}
