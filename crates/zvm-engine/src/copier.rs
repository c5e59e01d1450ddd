//! The copier: copy every selected recording to the destination, verified, and record it.
//! A run takes a query (users, dates, filters) or a chosen set of meetings.
//!
//! The run is a pipeline of three stages joined by bounded channels:
//! 1. the catalog lists meetings (users x one-month windows x pages, or the chosen
//!    meetings' days);
//! 2. the plan stage looks up each batch's state rows and local sizes, has the planner
//!    decide per file, reports the decisions and queues what is missing on the run's
//!    [`JobQueue`] (and fetches meeting details: participant audio and the AI Companion
//!    summary, on a small pool of its own);
//! 3. the transfer workers ([`crate::transfer`]) fetch, verify and commit each file.
//!
//! A re-run sends no request for files already verified.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use zvm_naming::Namer;
use zvm_state::{CloudState, FileRow, MeetingRow};
use zvm_zoom::models::Meeting;

use crate::accounting::{Accounting, FailureClass};
use crate::artifacts::{self, DetailFailure, DetailsJob};
use crate::bwlimit::ByteLimiter;
use crate::catalog::{AsyncMeetingFn, CopyCheck};
use crate::concurrency::{self, Controller, Gate};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::{Event, FileRef, Notice, RunSummary, SkipReason};
use crate::options::SyncOptions;
use crate::planner::{self, Decision, Folders, MeetingInput, MeetingPlan};
use crate::queue::JobQueue;
use crate::segmented::SegmentRun;
use crate::transfer::Worker;

/// How often auto mode measures and decides the number of transfers.
const CONTROL_WINDOW: Duration = Duration::from_millis(500);

impl Engine {
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

        let tally = Arc::new(Accounting::new(keep_listing));
        self.monitor.watch(&tally);
        let run_cancel = cancel.child_token();

        // Stage 3: transfer workers, as many as the ceiling; the gate's permits say how many
        // run at once (fixed, or moved by the controller in auto mode).
        let (queue, job_rx) = JobQueue::new(self.clone(), tally.clone(), opts.transfers * 4);
        let job_rx = Arc::new(tokio::sync::Mutex::new(job_rx));
        let limiter = opts.bwlimit.map(|b| Arc::new(ByteLimiter::new(b)));
        let gate = Gate::new(start);
        tally.watch(&gate);
        let segments = SegmentRun::new(self, opts);
        let mut workers = tokio::task::JoinSet::new();
        if !opts.dry_run {
            for _ in 0..opts.transfers {
                let worker = Worker::new(
                    self.clone(),
                    job_rx.clone(),
                    tally.clone(),
                    run_cancel.clone(),
                    limiter.clone(),
                    opts.clone(),
                    gate.clone(),
                    segments.clone(),
                );
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
            .list_and_plan(opts, &namer, &tally, queue, &run_cancel)
            .await;
        if plan_result.is_err() {
            run_cancel.cancel();
        }
        while workers.join_next().await.is_some() {}
        plan_result?;

        let summary = tally.summary(cancel.is_cancelled());
        if let Some(msg) = tally.stopped() {
            self.emit(Event::Warning {
                message: Notice::StoppedEarly { error: msg },
            });
        }
        let listed = tally.take_listed();
        if !keep_listing {
            self.emit(Event::RunFinished {
                summary: summary.clone(),
            });
        }
        Ok((summary, listed))
    }

    /// Stages 1 and 2. Takes the queue: when this returns, nothing more is queued and the
    /// workers end once the queue is empty.
    async fn list_and_plan(
        &self,
        opts: &SyncOptions,
        namer: &Namer,
        tally: &Arc<Accounting>,
        queue: JobQueue,
        cancel: &CancellationToken,
    ) -> Result<(), EngineError> {
        // Folders already given to meetings by earlier runs keep their names for ever.
        let folders = Folders::new(self.state.folders().await?);
        let mut stage = PlanStage {
            engine: self.clone(),
            opts: opts.clone(),
            namer,
            tally: tally.clone(),
            queue,
            folders,
            detail_slots: Arc::new(Semaphore::new(opts.detail_concurrency.max(1))),
            details: tokio::task::JoinSet::new(),
            totals: (0, 0, 0),
            rows: HashMap::new(),
            sizes: HashMap::new(),
            chosen_files: opts
                .chosen
                .iter()
                .flatten()
                .filter_map(|c| Some((c.uuid.clone(), c.files.clone()?)))
                .collect(),
        };
        let res = self
            .catalog()
            .for_each_meeting(opts, cancel, &mut stage)
            .await;
        // Let the detail fetches finish: they may queue participant audio.
        while let Some(r) = stage.details.join_next().await {
            match r {
                Ok(Ok(failures)) => {
                    for f in failures {
                        tally.failure(&*self.events, FailureClass::Details, f.file, f.error);
                    }
                }
                Ok(Err(e)) => self.emit(Event::Warning {
                    message: Notice::DetailsFailed {
                        error: e.to_string(),
                    },
                }),
                Err(_) => {} // cancelled with the run
            }
        }
        if opts.summaries && self.zoom().summaries_not_on_plan() {
            // Said once per run: the client stopped asking after Zoom's first 400 code 200.
            self.emit(Event::Warning {
                message: Notice::SummariesNotOnPlan,
            });
        }
        let (m, f, b) = stage.totals;
        self.emit(Event::ListingFinished {
            meetings: m,
            files: f,
            bytes: b,
        });
        res
    }
}

/// Stage 2: looks up what the planner needs, reports its decisions, queues the fetches.
struct PlanStage<'a> {
    engine: Engine,
    opts: SyncOptions,
    namer: &'a Namer,
    tally: Arc<Accounting>,
    queue: JobQueue,
    folders: Folders,
    detail_slots: Arc<Semaphore>,
    details: tokio::task::JoinSet<Result<Vec<DetailFailure>, EngineError>>,
    totals: (u64, u64, u64),
    /// State rows of the current batch's meetings, by uuid (see `prefetch`).
    rows: HashMap<String, Vec<FileRow>>,
    /// Sizes on the destination of the current batch's verified files, by path.
    sizes: HashMap<String, Option<u64>>,
    /// The files chosen inside a chosen meeting, by meeting uuid (a meeting not here takes
    /// every file the filters take).
    chosen_files: HashMap<String, BTreeSet<String>>,
}

/// Leaves out of `plan` the files not among `chosen` (file ids): they count as filtered,
/// so nothing is fetched, reported or waited for, and the meeting is complete once the
/// chosen ones are.
fn keep_chosen_files(plan: &mut MeetingPlan, chosen: &BTreeSet<String>) {
    for f in &mut plan.files {
        if !chosen.contains(&f.file_id) {
            f.decision = Decision::Filtered;
            f.rel_path.clear();
        }
    }
}

impl AsyncMeetingFn for &mut PlanStage<'_> {
    async fn call(&mut self, meeting: Meeting, host_label: &str) -> Result<(), EngineError> {
        self.plan_meeting(meeting, host_label, false).await
    }

    async fn prefetch(&mut self, meetings: &[Meeting]) -> Result<(), EngineError> {
        self.load_batch(meetings).await
    }

    /// A stored meeting is asked of Zoom again exactly when its plan has work (a file to
    /// fetch or still processing, details not done): the planner decides, as for a listed
    /// one, so a meeting with nothing left to do costs no request.
    async fn needs_refresh(
        &mut self,
        meeting: &Meeting,
        host_label: &str,
    ) -> Result<bool, EngineError> {
        let folder = self.folders.folder_for(meeting, host_label, self.namer);
        let (rows, local_sizes) = self.peek(meeting).await?;
        let plan = self.plan(meeting, host_label, &folder, &rows, &local_sizes);
        Ok(!plan.is_complete())
    }

    async fn call_refreshed(
        &mut self,
        meeting: Meeting,
        host_label: &str,
    ) -> Result<(), EngineError> {
        self.plan_meeting(meeting, host_label, true).await
    }
}

impl PlanStage<'_> {
    /// The planner's decisions for one meeting, less the files not chosen inside it.
    fn plan(
        &self,
        meeting: &Meeting,
        host_label: &str,
        folder: &str,
        rows: &[FileRow],
        local_sizes: &HashMap<String, Option<u64>>,
    ) -> MeetingPlan {
        let mut plan = planner::plan_meeting(&MeetingInput {
            meeting,
            host: host_label,
            folder,
            rows,
            local_sizes,
            filters: &self.opts.filters,
            namer: self.namer,
        });
        if let Some(chosen) = self.chosen_files.get(&meeting.uuid) {
            keep_chosen_files(&mut plan, chosen);
        }
        plan
    }

    /// Reads the state rows of a batch of meetings in one call, then the sizes on the
    /// destination of the files those rows say are verified with the size Zoom lists, in one
    /// call: a re-sync then costs two round trips per page, not two per meeting.
    async fn load_batch(&mut self, meetings: &[Meeting]) -> Result<(), EngineError> {
        let uuids: Vec<String> = meetings.iter().map(|m| m.uuid.clone()).collect();
        let rows = self.engine.state.files_of_meetings(&uuids).await?;
        let check: Vec<String> = meetings
            .iter()
            .zip(&rows)
            .flat_map(|(m, rows)| planner::paths_to_stat(m, rows))
            .collect();
        let sizes = self.engine.dest.stat_final_many(&check).await;
        self.sizes = check
            .into_iter()
            .zip(sizes)
            .map(|(p, s)| (p, s.ok().flatten()))
            .collect();
        self.rows = uuids.into_iter().zip(rows).collect();
        Ok(())
    }

    /// What [`Self::lookup`] answers, leaving the batch's rows in place for the `call`
    /// that follows.
    async fn peek(
        &mut self,
        meeting: &Meeting,
    ) -> Result<(Vec<FileRow>, HashMap<String, Option<u64>>), EngineError> {
        let rows = match self.rows.get(&meeting.uuid) {
            Some(rows) => rows.clone(),
            None => self.engine.state.files_of_meeting(&meeting.uuid).await?,
        };
        let mut sizes = HashMap::new();
        for path in planner::paths_to_stat(meeting, &rows) {
            let size = match self.sizes.get(&path) {
                Some(s) => *s,
                None => self.engine.dest.stat_final(&path).await.ok().flatten(),
            };
            sizes.insert(path, size);
        }
        Ok((rows, sizes))
    }

    /// The meeting's state rows and the local sizes the planner needs: from the batch
    /// looked up already, or asked for now.
    async fn lookup(
        &mut self,
        meeting: &Meeting,
    ) -> Result<(Vec<FileRow>, HashMap<String, Option<u64>>), EngineError> {
        let rows = match self.rows.remove(&meeting.uuid) {
            Some(rows) => rows,
            None => self.engine.state.files_of_meeting(&meeting.uuid).await?,
        };
        let mut sizes = HashMap::new();
        for path in planner::paths_to_stat(meeting, &rows) {
            let size = match self.sizes.remove(&path) {
                Some(s) => s,
                None => self.engine.dest.stat_final(&path).await.ok().flatten(),
            };
            sizes.insert(path, size);
        }
        Ok((rows, sizes))
    }

    /// Plans one meeting, reports and queues what it needs. `detailed`: the meeting is
    /// Zoom's answer for it alone, so its participant audio list is known already.
    async fn plan_meeting(
        &mut self,
        meeting: Meeting,
        host_label: &str,
        detailed: bool,
    ) -> Result<(), EngineError> {
        let engine = self.engine.clone();
        self.tally.listed(&meeting);
        let folder = self.folders.folder_for(&meeting, host_label, self.namer);
        let (rows, local_sizes) = self.lookup(&meeting).await?;
        let plan = self.plan(&meeting, host_label, &folder, &rows, &local_sizes);
        let fref = |f: &planner::FilePlan| FileRef {
            meeting_uuid: meeting.uuid.clone(),
            file_id: f.file_id.clone(),
            path: f.rel_path.clone(),
        };
        for f in &plan.files {
            match &f.decision {
                Decision::Filtered => {}
                Decision::Processing => {
                    self.tally.processing.fetch_add(1, Ordering::Relaxed);
                    engine.emit(Event::FileSkipped {
                        file: fref(f),
                        size: 0,
                        reason: SkipReason::Processing,
                    });
                }
                Decision::Done => {
                    self.tally.skipped.fetch_add(1, Ordering::Relaxed);
                    engine.emit(Event::FileSkipped {
                        file: fref(f),
                        size: f.size,
                        reason: SkipReason::AlreadyVerified,
                    });
                }
                Decision::Fetch { .. } => {
                    if let Some(lost) = f.lost_copy() {
                        let path = f.rel_path.clone();
                        engine.emit(Event::Warning {
                            message: match lost {
                                CopyCheck::WrongSize { found, expected } => {
                                    Notice::VerifiedCopyWrongSize {
                                        path,
                                        found: *found,
                                        expected: *expected,
                                    }
                                }
                                _ => Notice::VerifiedCopyMissing { path },
                            },
                        });
                    }
                }
            }
        }

        let (planned, bytes) = plan
            .planned()
            .fold((0u64, 0u64), |(n, b), f| (n + 1, b + f.size));
        self.tally.meetings.fetch_add(1, Ordering::Relaxed);
        self.totals.0 += 1;
        self.totals.1 += planned;
        self.totals.2 += bytes;
        engine.emit(Event::MeetingPlanned {
            meeting_uuid: meeting.uuid.clone(),
            topic: meeting.topic.clone(),
            folder: folder.clone(),
            start_time: meeting.start_time.clone(),
            files: planned as usize,
            bytes,
        });
        if plan.is_complete() {
            return Ok(());
        }

        if self.opts.dry_run {
            for f in plan.fetches() {
                engine.emit(Event::WouldDownload {
                    file: fref(f),
                    size: f.size,
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
        // meeting.json waits for the details and for each download queued here.
        let gate = self.queue.meeting();
        for f in plan.fetches() {
            let Some(file) = meeting.recording_files.iter().find(|r| r.id == f.file_id) else {
                continue;
            };
            let planned = planner::planned_file(&meeting, file, &f.rel_path);
            // Back-pressure: when the workers are busy, listing waits here.
            if !self
                .queue
                .push(planned, file.download_url.clone(), &gate)
                .await?
            {
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
        let queue = self.queue.clone();
        let job = DetailsJob {
            paths: plan.paths(),
            existing: rows
                .into_iter()
                .map(|r| (r.key.file_id.clone(), r))
                .collect(),
            meeting,
            folder,
            host: host_label.to_string(),
            gate,
            detailed,
        };
        self.details.spawn(async move {
            let _permit = permit;
            artifacts::run_details(&queue, &opts, &job).await
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::FilePlan;

    fn file(id: &str, decision: Decision) -> FilePlan {
        FilePlan {
            file_id: id.into(),
            rel_path: format!("m/{id}.mp4"),
            size: 10,
            decision,
        }
    }

    #[test]
    fn files_not_chosen_inside_a_meeting_are_left_out_and_do_not_hold_it_open() {
        let mut plan = MeetingPlan {
            folder: "m".into(),
            files: vec![
                file("video", Decision::Fetch { copy: None }),
                file("audio", Decision::Fetch { copy: None }),
                file("chat", Decision::Done),
            ],
            artifacts_done: true,
        };
        let chosen: BTreeSet<String> = ["video".to_string(), "chat".to_string()].into();
        keep_chosen_files(&mut plan, &chosen);
        let fetched: Vec<&str> = plan.fetches().map(|f| f.file_id.as_str()).collect();
        assert_eq!(fetched, ["video"], "only the chosen file still to fetch");
        assert_eq!(plan.files[1].decision, Decision::Filtered);
        assert!(
            plan.files[1].rel_path.is_empty(),
            "no name for a file not taken"
        );
        assert_eq!(
            plan.files[2].decision,
            Decision::Done,
            "a chosen file keeps its decision"
        );

        // Once the chosen video is here, the meeting needs nothing more, though its audio
        // was never fetched.
        plan.files[0].decision = Decision::Done;
        assert!(plan.is_complete());
    }
}
