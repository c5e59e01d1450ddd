//! Transfers: N workers, each streaming one file at a time into `NAME.part` (resuming with
//! `Range`), then finalizing it (size check, fsync, rename, optional read-back hash) and
//! committing its state row.
//!
//! A worker runs only while it holds one of the [`Gate`]'s permits, so the permits are the
//! number of transfers at once. While a file's last bytes arrive the worker opens the next
//! file's download (pipelining). A file is only under its final name once complete; the
//! state says `verified` only after the rename. A file's retries are the one loop of
//! [`Engine::run_transfer`], its budget kept by [`FileRetries`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use zvm_dest::DestError;
use zvm_zoom::{DownloadStatus, ErrorClass, ZoomError};

use crate::accounting::{Accounting, FailureClass};
use crate::bwlimit::ByteLimiter;
use crate::concurrency::{self, Gate, Slot};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::Event;
use crate::options::SyncOptions;
use crate::queue::TransferJob;
use crate::retry::{FileRetries, Next};
use crate::segmented::{SegCtx, SegmentRun, SegmentedEnd, SegmentedFile};

/// How often a transfer makes its resume point durable (fsync of the `.part`).
const SYNC_EVERY_BYTES: u64 = 64 << 20;
/// How often a transfer reports progress (events and the state row).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
const STATE_PROGRESS_EVERY: Duration = Duration::from_secs(2);

impl Engine {
    /// One file: resume or start, stream, finalize, commit, and try again after a setback
    /// while the budget lasts (the only retry loop of a download: the client makes one
    /// attempt per call). Never returns an error: failures are reported as events and
    /// counted; returns whether the file ended verified. `pre` is the download already
    /// opened (or refused) while the worker's previous file finished: it is this file's
    /// first attempt. `near_end` fires when this one is about to finish.
    async fn run_transfer(
        &self,
        job: &TransferJob,
        run: &RunCtx<'_>,
        mut pre: Option<Result<Opened, TransferError>>,
        near_end: &mut Option<oneshot::Sender<()>>,
        handed_back: Option<HandedBack>,
    ) -> Ended {
        let (opts, tally, cancel) = (run.opts, run.tally, run.cancel);
        // A large file with connections to spare goes in ranges (segmented.rs), reporting
        // itself; otherwise, or when its CDN ignores ranges, in one piece below.
        match self.run_segmented(job, &run.segmented(), near_end).await {
            Some(SegmentedEnd::Verified) => return Ended::Done(true),
            Some(SegmentedEnd::Cancelled) => return Ended::Done(false),
            Some(SegmentedEnd::Failed(e)) => {
                if e.is_destination_fatal() {
                    let msg = e.to_string();
                    self.fail(job, tally, &e).await;
                    tally.stop(msg);
                    cancel.cancel();
                } else {
                    self.fail(job, tally, &e).await;
                }
                return Ended::Done(false);
            }
            None => {}
        }
        let mut retries = FileRetries::new(&opts.retry);
        // A wait the server asked for is not a new attempt in the state (nor is taking up a
        // file handed back after one).
        let mut after_throttle = handed_back.is_some();
        // Bytes of this file counted as here in the run's accounting.
        let mut credited = handed_back.map_or(0, |h| h.credited);
        loop {
            if cancel.is_cancelled() {
                return Ended::Done(false);
            }
            if !after_throttle {
                let _ = self.state.start_attempt(&job.key).await;
            }
            let outcome = self
                .transfer_once(job, run, pre.take(), near_end, &mut credited)
                .await;
            let (delay, error) = match outcome {
                Ok(Some(sha)) => {
                    tally.progress(&mut credited, job.size);
                    tally.downloaded(job.size);
                    self.emit(Event::FileDone {
                        file: job.file.clone(),
                        size: job.size,
                        sha256: sha,
                    });
                    return Ended::Done(true);
                }
                Ok(None) => return Ended::Done(false), // cancelled; the .part stays for the next run
                Err(TransferError::Fatal(e))
                | Err(TransferError::Transient(e))
                | Err(TransferError::Throttled(e, _))
                    if e.is_destination_fatal() =>
                {
                    let msg = e.to_string();
                    self.fail(job, tally, &e).await;
                    tally.stop(msg);
                    cancel.cancel();
                    return Ended::Done(false);
                }
                Err(TransferError::Fatal(e)) => {
                    self.fail(job, tally, &e).await;
                    return Ended::Done(false);
                }
                Err(TransferError::Throttled(e, asked)) => {
                    // The server is busy, not failing: wait as told, silently (the
                    // controller hears of it through the client's count of throttles).
                    after_throttle = true;
                    let run_bytes = run.gate.bytes.load(Ordering::Relaxed);
                    match retries.throttled(asked, run_bytes) {
                        // More transfers run than `-j auto` now wants (it lowered the
                        // target on these very refusals): give the permit back, so the
                        // surplus goes at once, and take the file up again with a permit.
                        // Waiting here, the surplus kept asking the server every second
                        // and held the run above what the server allows (the adaptive
                        // bench's scenario 3).
                        Next::Retry(d) if run.gate.over_target() => {
                            return Ended::HandedBack(HandedBack {
                                not_before: Instant::now() + d,
                                credited,
                            });
                        }
                        Next::Retry(d) => (d, None),
                        Next::GiveUp => {
                            self.fail(job, tally, &e).await;
                            return Ended::Done(false);
                        }
                    }
                }
                Err(TransferError::Transient(e)) => {
                    after_throttle = false;
                    run.gate.note_fault();
                    match retries.failed() {
                        Next::Retry(d) => (d, Some(e)),
                        Next::GiveUp => {
                            self.fail(job, tally, &e).await;
                            return Ended::Done(false);
                        }
                    }
                }
            };
            if let Some(e) = error {
                tally.retried();
                self.emit(Event::FileRetry {
                    file: job.file.clone(),
                    attempt: retries.failures(),
                    error: e.to_string(),
                    delay_ms: delay.as_millis() as u64,
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => return Ended::Done(false),
            }
        }
    }

    async fn fail(&self, job: &TransferJob, tally: &Accounting, e: &EngineError) {
        let msg = e.to_string();
        let _ = self.state.mark_failed(&job.key, &msg).await;
        tally.failure(&*self.events, FailureClass::of(e), job.file.clone(), msg);
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
        if start != offset {
            // A fault of this connection (the bytes will come again), not congestion.
            gate.note_fault();
        }
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

    /// One attempt (`pre`: its download, already opened or refused). `Ok(Some(hash))` when
    /// the file is verified under its final name, `Ok(None)` when cancelled.
    async fn transfer_once(
        &self,
        job: &TransferJob,
        run: &RunCtx<'_>,
        pre: Option<Result<Opened, TransferError>>,
        near_end: &mut Option<oneshot::Sender<()>>,
        credited: &mut u64,
    ) -> Result<Option<Option<String>>, TransferError> {
        let (opts, cancel, limiter, gate) = (run.opts, run.cancel, run.limiter, run.gate);
        let rel = &job.file.path;
        let opened = match pre {
            Some(opened) => opened?,
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
            .open_partial_sized(rel, start, job.size)
            .await
            .map_err(TransferError::dest)?;
        self.emit(Event::FileStarted {
            file: job.file.clone(),
            size: job.size,
            offset: start,
        });
        run.tally.progress(credited, start);

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
            run.tally
                .progress(credited, part.len() + chunk.len() as u64);
            // Handed over, not copied: the destination keeps the chunk until it writes.
            part.write_bytes(chunk).await.map_err(TransferError::dest)?;
            let len = part.len();
            // Measured on every chunk, not only while a next file may be opened early: the
            // auto controller reads each connection's pace from it.
            let rate = pace.rate(len, gate);
            if near_end.is_some() && gate.near_end(job.size - len, rate) {
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
    tally: &'a Accounting,
    cancel: &'a CancellationToken,
    limiter: Option<&'a ByteLimiter>,
    gate: &'a Arc<Gate>,
    segments: &'a Arc<SegmentRun>,
}

impl RunCtx<'_> {
    /// What a segmented file's connections need of the run.
    fn segmented(&self) -> SegCtx<'_> {
        SegCtx {
            opts: self.opts,
            tally: self.tally,
            cancel: self.cancel,
            limiter: self.limiter,
            gate: self.gate,
            run: self.segments,
        }
    }
}

/// How a file's transfer ended for the worker that ran it.
enum Ended {
    /// Verified under its final name (`true`), or given up or cancelled.
    Done(bool),
    /// Refused by the server while more transfers ran than the target: the worker gave its
    /// permit back and takes the file up again once it holds one.
    HandedBack(HandedBack),
}

/// A file handed back after a refusal, and what its next transfer carries over.
struct HandedBack {
    /// Not asked again before the time the server said to wait.
    not_before: Instant,
    /// Bytes of the file already counted in the run's accounting.
    credited: u64,
}

/// What a worker found to do.
enum Work {
    Job(TransferJob),
    /// Another connection for a file being fetched in ranges.
    Help(Arc<SegmentedFile>),
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
pub(crate) struct Worker {
    engine: Engine,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<TransferJob>>>,
    tally: Arc<Accounting>,
    cancel: CancellationToken,
    limiter: Option<Arc<ByteLimiter>>,
    opts: SyncOptions,
    gate: Arc<Gate>,
    segments: Arc<SegmentRun>,
}

impl Worker {
    // Each is a part of the run the worker shares with the others; a struct for them would
    // only be built here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        engine: Engine,
        rx: Arc<tokio::sync::Mutex<mpsc::Receiver<TransferJob>>>,
        tally: Arc<Accounting>,
        cancel: CancellationToken,
        limiter: Option<Arc<ByteLimiter>>,
        opts: SyncOptions,
        gate: Arc<Gate>,
        segments: Arc<SegmentRun>,
    ) -> Self {
        Self {
            engine,
            rx,
            tally,
            cancel,
            limiter,
            opts,
            gate,
            segments,
        }
    }

    pub(crate) async fn run(self) {
        let throttles_at_start = self.engine.zoom.download_throttles();
        let mut next: Option<(TransferJob, Option<Result<Opened, TransferError>>)> = None;
        // A file this worker gave its permit back for (see [`Ended::HandedBack`]).
        let mut resumed: Option<(TransferJob, HandedBack)> = None;
        let run = RunCtx {
            opts: &self.opts,
            tally: &self.tally,
            cancel: &self.cancel,
            limiter: self.limiter.as_deref(),
            gate: &self.gate,
            segments: &self.segments,
        };
        loop {
            if let Some((_, back)) = &resumed {
                // The wait the server asked for, without a permit.
                tokio::select! {
                    _ = tokio::time::sleep_until(back.not_before.into()) => {}
                    _ = self.cancel.cancelled() => break,
                }
            }
            let slot = tokio::select! {
                s = self.gate.enter() => s,
                _ = self.cancel.cancelled() => None,
            };
            let Some(slot) = slot else { break };
            let mut slot = Some(slot);
            // The handed-back file first; a file opened early (pipelining) stays `next`
            // until then (both when the early open came before the refusal).
            let back = resumed.take();
            let upcoming = if back.is_none() { next.take() } else { None };
            let (job, pre, back) = match (back, upcoming) {
                (Some((job, back)), _) => (job, None, Some(back)),
                (None, Some((job, pre))) => (job, pre, None),
                (None, None) => match self.take_work(&mut slot).await {
                    Some(Work::Job(j)) => (j, None, None),
                    Some(Work::Help(file)) => {
                        file.work(&run.segmented(), false).await;
                        drop(slot);
                        continue;
                    }
                    None => break,
                },
            };
            // Not while a file opened early still waits its turn (`next`).
            let pipelining = next.is_none()
                && self.opts.pipelining
                && self.engine.zoom.download_throttles() == throttles_at_start;
            let (tx, rx) = oneshot::channel();
            let near_end = pipelining.then_some(tx);
            let transfer = async {
                let mut near_end = near_end;
                let ended = self
                    .engine
                    .run_transfer(&job, &run, pre, &mut near_end, back)
                    .await;
                // Dropped here if it never fired (failure, cancel, handed back): the
                // prefetch then ends.
                drop(near_end);
                match ended {
                    Ended::Done(verified) => {
                        job.record.download_ended(&self.engine, verified).await;
                        self.segments.job_ended();
                        None
                    }
                    // Still this worker's job: not ended for its meeting or the segments.
                    Ended::HandedBack(back) => Some(back),
                }
            };
            let prefetch = async {
                // Fires when the file is nearly done; dropped unfired otherwise.
                rx.await.ok()?;
                // Only a job already waiting: a worker blocked on an empty queue holds the
                // lock, and this one must not wait for work that is not there.
                let j = self.rx.try_lock().ok()?.try_recv().ok()?;
                self.segments.job_taken();
                if self.segments.takes(&self.engine, &j) {
                    // It opens its own ranges.
                    return Some((j, None));
                }
                let opened = self.engine.open(&j, &self.gate).await;
                Some((j, Some(opened)))
            };
            let (back, fetched) = tokio::join!(transfer, prefetch);
            if fetched.is_some() {
                next = fetched;
            }
            drop(slot);
            if let Some(back) = back {
                resumed = Some((job, back));
            }
        }
    }

    /// The next job, or else another connection for a file being fetched in ranges; counts
    /// the wait when there was neither (the pool was not the bottleneck). Once the queue is
    /// closed and empty, only help is left, until no file is being transferred.
    ///
    /// `slot` is the worker's permit. Waiting for help, the worker gives it back and enters
    /// the gate again when help is wanted: a job that another worker took ahead (pipelining)
    /// waits for a permit, and after `-j auto` lowered the target there may be none but
    /// those. Idle workers holding every permit kept such a file waiting until the target
    /// rose past them: 12.5 s of a 13 s run in the adaptive bench's scenario 1 (BENCHMARKS.md).
    async fn take_work(&self, slot: &mut Option<Slot>) -> Option<Work> {
        let mut rx = self.rx.lock().await;
        let job = match rx.try_recv() {
            Ok(j) => Some(j),
            Err(mpsc::error::TryRecvError::Disconnected) => {
                // Not held while waiting for help below: the other workers would queue on
                // the lock, each holding its permit.
                drop(rx);
                None
            }
            Err(mpsc::error::TryRecvError::Empty) => {
                if let Some(f) = self.segments.help_wanted(&self.engine) {
                    return Some(Work::Help(f));
                }
                self.gate.starved.fetch_add(1, Ordering::Relaxed);
                drop(rx);
                // Whichever comes first: a job, or a file that can use this connection.
                tokio::select! {
                    j = async { self.rx.lock().await.recv().await } => j,
                    f = self.segments.wait_for_help(&self.engine, false) => return f.map(Work::Help),
                    _ = self.cancel.cancelled() => return None,
                }
            }
        };
        match job {
            Some(j) => {
                self.segments.job_taken();
                Some(Work::Job(j))
            }
            None => {
                drop(slot.take());
                let file = tokio::select! {
                    f = self.segments.wait_for_help(&self.engine, true) => f?,
                    _ = self.cancel.cancelled() => return None,
                };
                *slot = Some(tokio::select! {
                    s = self.gate.enter() => s?,
                    _ = self.cancel.cancelled() => return None,
                });
                Some(Work::Help(file))
            }
        }
    }
}

/// A transfer attempt's failure, already classified.
enum TransferError {
    /// Worth another attempt after a backoff (a reset, a truncation, a stall, a 5xx).
    Transient(EngineError),
    /// The server said "not yet" (429, or 503 with Retry-After), and how long to wait if it
    /// said so.
    Throttled(EngineError, Option<Duration>),
    Fatal(EngineError),
}

impl TransferError {
    fn zoom(e: ZoomError) -> Self {
        match e.class() {
            ErrorClass::Transient => TransferError::Transient(e.into()),
            ErrorClass::RateLimited(asked) => TransferError::Throttled(e.into(), asked),
            ErrorClass::Fatal => TransferError::Fatal(e.into()),
        }
    }

    fn dest(e: DestError) -> Self {
        // A short file can be resumed and a network fault on the way to a remote destination
        // may pass; everything else about the destination is not going to change by trying
        // again.
        if e.is_transient() {
            TransferError::Transient(e.into())
        } else {
            TransferError::Fatal(e.into())
        }
    }
}
