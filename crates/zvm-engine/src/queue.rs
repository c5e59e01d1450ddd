//! The run's job queue: every download goes through it, and it holds each meeting's
//! `meeting.json` back until all of that meeting's work has ended ([`RecordGate`]).
//!
//! Queuing a file plans it in the state (so a crash leaves a row to resume from), reports
//! it, counts it in its meeting's gate and hands it to the transfer workers. The channel is
//! bounded: when the workers are busy, whoever queues (the planner, the details) waits.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use zvm_state::{FileKey, FileKind, PlannedFile};

use crate::accounting::Accounting;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::{Event, FileRef, Notice};
use crate::layout::MEETING_JSON;
use crate::record::{PendingRecord, write_artifact};

/// One file to fetch.
#[derive(Debug, Clone)]
pub(crate) struct TransferJob {
    pub(crate) key: FileKey,
    pub(crate) file: FileRef,
    pub(crate) url: String,
    pub(crate) size: u64,
    /// The meeting's record, told when this download ends.
    pub(crate) record: Arc<RecordGate>,
}

/// The sending side of the run's transfer queue. Cheap to clone.
#[derive(Clone)]
pub(crate) struct JobQueue {
    engine: Engine,
    tally: Arc<Accounting>,
    tx: mpsc::Sender<TransferJob>,
}

impl JobQueue {
    /// A queue of `capacity` jobs; the receiver goes to the transfer workers.
    pub(crate) fn new(
        engine: Engine,
        tally: Arc<Accounting>,
        capacity: usize,
    ) -> (Self, mpsc::Receiver<TransferJob>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { engine, tally, tx }, rx)
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A new meeting's gate: its record waits for its details and for every download
    /// queued with it.
    pub(crate) fn meeting(&self) -> Arc<RecordGate> {
        RecordGate::new(0)
    }

    /// Plans `plan` in the state, reports it queued, and hands it to the workers (waiting
    /// while they are busy). `Ok(false)`: the workers are gone (the run is being cancelled).
    pub(crate) async fn push(
        &self,
        plan: PlannedFile,
        url: String,
        gate: &Arc<RecordGate>,
    ) -> Result<bool, EngineError> {
        let row = self.engine.state.plan_file(&plan).await?;
        let file = FileRef {
            meeting_uuid: plan.key.meeting_uuid.clone(),
            file_id: plan.key.file_id.clone(),
            path: row.rel_path.clone(),
        };
        self.engine.emit(Event::FileQueued {
            file: file.clone(),
            size: plan.expected_size,
        });
        gate.add_download();
        self.tally.queued(plan.expected_size);
        Ok(self
            .tx
            .send(TransferJob {
                key: plan.key,
                file,
                url,
                size: plan.expected_size,
                record: gate.clone(),
            })
            .await
            .is_ok())
    }
}

/// Holds a meeting's `meeting.json` back until everything of the meeting this run started has
/// ended: its details and each of its queued downloads. Whichever ends last writes the record,
/// and only if none failed. A download that never ends (the run was cancelled first) leaves
/// it unwritten, which is right: the meeting is not finished.
#[derive(Debug)]
pub(crate) struct RecordGate {
    /// The details plus the downloads queued and not ended yet.
    outstanding: AtomicUsize,
    failed: AtomicBool,
    record: Mutex<Option<PendingRecord>>,
}

impl RecordGate {
    /// A gate for `downloads` queued downloads and the meeting's details.
    pub(crate) fn new(downloads: usize) -> Arc<Self> {
        Arc::new(Self {
            outstanding: AtomicUsize::new(downloads + 1),
            failed: AtomicBool::new(false),
            record: Mutex::new(None),
        })
    }

    /// One more download to wait for. The details count themselves until they end, so the
    /// gate cannot open between two downloads they queue.
    pub(crate) fn add_download(&self) {
        self.outstanding.fetch_add(1, Ordering::AcqRel);
    }

    /// A download of the meeting ended, verified or not.
    pub(crate) async fn download_ended(&self, engine: &Engine, verified: bool) {
        if !verified {
            self.failed.store(true, Ordering::Release);
        }
        self.release(engine).await;
    }

    /// The details ended; `record` is what to write if every download succeeds.
    pub(crate) async fn details_ended(&self, engine: &Engine, record: Option<PendingRecord>) {
        match record {
            Some(r) => {
                if let Ok(mut slot) = self.record.lock() {
                    *slot = Some(r);
                }
            }
            None => self.failed.store(true, Ordering::Release),
        }
        self.release(engine).await;
    }

    async fn release(&self, engine: &Engine) {
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The last one out: the details deposited the record before counting themselves out.
        if self.failed.load(Ordering::Acquire) {
            return;
        }
        let Some(rec) = self.record.lock().ok().and_then(|mut r| r.take()) else {
            return;
        };
        let written = if rec.mark_done {
            write_artifact(
                engine,
                &rec.meeting_uuid,
                &rec.folder,
                MEETING_JSON,
                FileKind::MeetingJson,
                &rec.json,
            )
            .await
        } else {
            engine
                .dest
                .write_atomic(&format!("{}/{MEETING_JSON}", rec.folder), &rec.json)
                .await
                .map_err(EngineError::from)
        };
        if let Err(e) = written {
            engine.emit(Event::Warning {
                message: Notice::RecordNotWritten {
                    path: format!("{}/{MEETING_JSON}", rec.folder),
                    error: e.to_string(),
                },
            });
        }
    }
}
