//! A fleet worker: `zvm serve` on a PostgreSQL state, one of several processes (on one or
//! many machines, behind one load balancer) that share the state, the webhook queue, the
//! work and the account's rate limits.
//!
//! Every worker takes webhooks (any of them may be behind the load balancer) and stores
//! them in the shared queue before Zoom's 200, as a daemon alone does. Its loops:
//! - **events**: claims due events (`FOR UPDATE SKIP LOCKED`, so one worker works an
//!   event); a copy event becomes the meeting's row of shared work in the same transaction
//!   that marks it done; a meeting that left the cloud or came back is recorded.
//! - **leases**: leases a few meetings of shared work at a time and copies them by uuid
//!   (the engine path of the webhook batch: `by_uuid` with `by_uuid_keep_going`, no
//!   listing), or moves them: copied, proven, and only then deleted in Zoom, by this worker
//!   alone, while it still holds the meeting's lease with time to spare.
//! - **heartbeat**: renews its leases and event claims, beats its `workers` row with what it
//!   copied, and learns how many workers are live: its pacer takes that share of the
//!   account's limits, so the fleet together stays within the plan.
//! - **schedules** ([`FleetJobs`]): the scheduler of every worker wakes at the schedule's
//!   times, but only the one that takes the database's scheduler lock lists; it turns what
//!   it lists into shared work (copies, or moves of meetings older than the cutoff) and
//!   records the run, which the others then see and skip. A listing reads Zoom and the
//!   state and writes no file, so it runs beside the leases loop's engine run rather than
//!   waiting for the run slot; the engine runs themselves (copies, moves) take the slot one
//!   at a time. Between workers, a meeting's files are one lease holder's.
//!
//! A worker killed (SIGKILL, a lost machine) stops renewing: its leases and claims expire
//! and other workers take them over; what it had half-copied resumes from the state's
//! progress (an object store's upload starts again: nothing is final before completion).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use zvm_engine::catalog::AsyncMeetingFn;
use zvm_engine::{Engine, EngineError, MoveOptions, SyncOptions};
use zvm_state::{CloudState, FileStatus, StateStore, WebhookOutcome, WebhookQueue};
use zvm_state_postgres::{Lease, PostgresState, WorkAction};
use zvm_zoom::Meeting;

use crate::envelope::{self, Work};
use crate::outcomes::MeetingOutcomes;
use crate::schedule::{Job, JobRunner, Ran};
use crate::status::{FleetStatus, FleetView, LISTING_COMPLETE, WorkStatus, WorkerStatus};
use crate::worker::EventRetry;

/// Events claimed per look.
const EVENT_BATCH: u32 = 1_000;

/// How a fleet worker shares work.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// This worker's name in the database: unique in the fleet.
    pub worker_id: String,
    /// How long a lease (a meeting, an event's claim) lasts unless renewed: a dead worker's
    /// work waits this long before another takes it over.
    pub lease_ttl: Duration,
    /// How often leases are renewed and the worker's row beaten; well under `lease_ttl`.
    pub heartbeat: Duration,
    /// Meetings leased (and copied in one engine run) at a time.
    pub meetings_per_lease: u32,
    /// How often the shared queue and work are looked at: another worker's webhook or
    /// listing cannot wake this one.
    pub poll: Duration,
}

impl FleetOptions {
    /// The defaults for `worker_id`: leases of 30 s renewed every 5 s, 4 meetings at a
    /// time, the shared work looked at every second.
    pub fn new(worker_id: String) -> Self {
        Self {
            worker_id,
            lease_ttl: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            meetings_per_lease: 4,
            poll: Duration::from_secs(1),
        }
    }
}

/// A name for this process, unique in a fleet: host, pid and start time.
pub fn default_worker_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000)
        .unwrap_or(0);
    format!("{}-{}-{nanos:09}", host_name(), std::process::id())
}

/// The machine's name, as the kernel has it (`unknown` where it cannot be read).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// What a fleet worker's loops share.
pub(crate) struct FleetWorker {
    pub state: Arc<PostgresState>,
    pub opts: FleetOptions,
    pub engine: Engine,
    /// The settings of every copy; `by_uuid` is set per lease.
    pub template: SyncOptions,
    /// Set when a move schedule exists: what a move's work does.
    pub moves: Option<MoveOptions>,
    pub outcomes: Arc<MeetingOutcomes>,
    /// One engine run at a time in this process (shared with the scheduler, as in a lone
    /// daemon): two runs into one destination must not work on one file at once.
    pub run_slot: Arc<Mutex<()>>,
    pub stop: CancellationToken,
    pub retry: EventRetry,
    /// Woken by this worker's webhook handler.
    pub events_wake: Arc<Notify>,
    /// Woken when this worker made work (from events).
    pub work_wake: Arc<Notify>,
    pub files_copied: AtomicU64,
    pub bytes_copied: AtomicU64,
    /// This worker's schedule settings (`Schedules::describe`), recorded in `workers`.
    pub schedules: String,
    /// The other live workers whose schedules differ, as last warned about.
    pub differing: std::sync::Mutex<Vec<(String, String)>>,
}

impl FleetWorker {
    fn id(&self) -> &str {
        &self.opts.worker_id
    }

    /// Registers this worker (live from now on for the others' rate shares).
    pub async fn register(&self) -> Result<(), zvm_state::StateError> {
        self.state
            .register_worker(
                self.id(),
                &host_name(),
                std::process::id(),
                self.opts.lease_ttl,
                &self.schedules,
            )
            .await?;
        self.beat().await;
        Ok(())
    }

    /// Warns (once for each change) when live workers schedule otherwise than this one.
    /// Only the worker holding the scheduler lock lists, so with differing settings the
    /// fleet's rhythm, and a move's cutoff, depend on which worker that is. A warning, not
    /// a refusal: changing the settings of a running fleet passes, worker by worker,
    /// through a moment where they differ, and a refused worker would stop copying.
    async fn check_schedules(&self) {
        let others = match self
            .state
            .live_workers_scheduling_otherwise(self.id(), &self.schedules)
            .await
        {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "cannot compare this worker's schedules with the fleet's");
                return;
            }
        };
        let Ok(mut last) = self.differing.lock() else {
            return;
        };
        if *last == others {
            return;
        }
        if others.is_empty() {
            tracing::info!("this worker's schedules now agree with every live worker's");
        } else {
            let theirs: Vec<String> = others.iter().map(|(id, s)| format!("{id}: {s}")).collect();
            tracing::warn!(
                ours = %self.schedules,
                theirs = %theirs.join(" | "),
                "this worker's schedules differ from other live workers': only one worker lists for the fleet, so when it lists and what a move deletes depend on which; give every worker the same schedule settings (sync_every, move_cron, move_older_than, time_zone)"
            );
        }
        *last = others;
    }

    async fn pause(&self, wake: &Notify, d: Duration) {
        tokio::select! {
            () = wake.notified() => {}
            () = self.stop.cancelled() => {}
            () = tokio::time::sleep(d) => {}
        }
    }

    /// One heartbeat: leases and claims renewed, the row beaten, the pacer's share set.
    async fn beat(&self) {
        if let Err(e) = self.state.renew_all(self.id(), self.opts.lease_ttl).await {
            tracing::error!(error = %e, "cannot renew this worker's leases");
        }
        match self
            .state
            .beat_worker(
                self.id(),
                self.files_copied.load(Ordering::Relaxed),
                self.bytes_copied.load(Ordering::Relaxed),
            )
            .await
        {
            Ok(live) => self.engine.zoom().pacer().share_with(live),
            Err(e) => tracing::error!(error = %e, "cannot beat this worker's heartbeat"),
        }
        self.check_schedules().await;
    }

    pub async fn heartbeat(self: Arc<Self>) {
        while !self.stop.is_cancelled() {
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = tokio::time::sleep(self.opts.heartbeat) => {}
            }
            self.beat().await;
        }
    }

    /// The events loop (see the module's doc).
    pub async fn events(self: Arc<Self>) {
        while !self.stop.is_cancelled() {
            let due = match self
                .state
                .claim_due_webhooks(
                    self.id(),
                    EVENT_BATCH,
                    self.retry.delay,
                    self.opts.lease_ttl,
                )
                .await
            {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the shared webhook queue");
                    self.pause(&self.events_wake, self.opts.poll).await;
                    continue;
                }
            };
            if due.is_empty() {
                self.pause(&self.events_wake, self.opts.poll).await;
                continue;
            }
            let mut to_work = Vec::new();
            let mut settled = Vec::new();
            for row in &due {
                let uuid = row.meeting_uuid.as_deref().unwrap_or_default();
                match envelope::work_of(&row.event, uuid) {
                    None => settled.push(WebhookOutcome::Done(row.id)),
                    Some(Work::Copy { meeting_uuid }) => to_work.push((row.id, meeting_uuid)),
                    Some(Work::LeftCloud { meeting_uuid }) => {
                        let r = self.state.forget_listed(&meeting_uuid).await;
                        settled.push(outcome(&self.retry, row, r.err()));
                    }
                    Some(Work::BackInCloud { meeting_uuid }) => match self
                        .state
                        .set_cloud_state(&meeting_uuid, None, CloudState::Present)
                        .await
                    {
                        Ok(()) => to_work.push((row.id, meeting_uuid)),
                        Err(e) => settled.push(outcome(&self.retry, row, Some(e))),
                    },
                }
            }
            if !to_work.is_empty() {
                match self.state.events_to_work(self.id(), &to_work).await {
                    Ok(ids) => {
                        tracing::info!(events = ids.len(), "webhook events became shared work");
                        self.work_wake.notify_one();
                    }
                    // The claims expire and the events are taken again.
                    Err(e) => tracing::error!(error = %e, "cannot turn webhook events into work"),
                }
            }
            if !settled.is_empty()
                && let Err(e) = self.state.settle_claimed_webhooks(self.id(), settled).await
            {
                tracing::error!(error = %e, "cannot record the webhook events' outcomes");
            }
        }
    }

    /// The leases loop (see the module's doc). Gives back what it holds when it stops.
    pub async fn leases(self: Arc<Self>) {
        while !self.stop.is_cancelled() {
            let leased = match self
                .state
                .lease_work(self.id(), self.opts.lease_ttl, self.opts.meetings_per_lease)
                .await
            {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "cannot lease shared work");
                    self.pause(&self.work_wake, self.opts.poll).await;
                    continue;
                }
            };
            if leased.is_empty() {
                self.pause(&self.work_wake, self.opts.poll).await;
                continue;
            }
            let (moves, copies): (Vec<Lease>, Vec<Lease>) = leased
                .into_iter()
                .partition(|l| l.action == WorkAction::Move && self.moves.is_some());
            if !copies.is_empty() {
                let uuids = copies.into_iter().map(|l| l.meeting_uuid).collect();
                self.copy(uuids).await;
            }
            if !moves.is_empty() && !self.stop.is_cancelled() {
                let uuids = moves.into_iter().map(|l| l.meeting_uuid).collect();
                self.moves(uuids).await;
            }
        }
        if let Err(e) = self.state.stop_worker(self.id()).await {
            tracing::warn!(error = %e, "cannot give back this worker's leases (they expire)");
        }
    }

    fn by_uuid(&self, meetings: &[String]) -> SyncOptions {
        let mut opts = self.template.clone();
        opts.to = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        if opts.from > opts.to {
            opts.from = opts.to;
        }
        opts.by_uuid = Some(meetings.to_vec());
        opts.by_uuid_keep_going = true;
        opts
    }

    fn count(&self, s: &zvm_engine::RunSummary) {
        self.files_copied
            .fetch_add(s.files_downloaded, Ordering::Relaxed);
        self.bytes_copied
            .fetch_add(s.bytes_downloaded, Ordering::Relaxed);
    }

    /// Settles leased meetings: done, or a failed attempt (tried again after the retry
    /// delay, given up after the retry budget).
    async fn settle(&self, meetings: &[String], failed: &HashMap<String, String>) {
        for m in meetings {
            let r = match failed.get(m) {
                None => self.state.finish_work(self.id(), m).await,
                Some(error) => {
                    tracing::warn!(meeting = %m, %error, "a leased meeting failed");
                    self.state
                        .fail_work(
                            self.id(),
                            m,
                            error,
                            self.retry.delay,
                            self.retry.max_attempts,
                        )
                        .await
                }
            };
            match r {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(meeting = %m, "lease lost before the meeting was settled: another worker has it")
                }
                Err(e) => {
                    tracing::error!(meeting = %m, error = %e, "cannot settle a leased meeting (its lease expires)")
                }
            }
        }
    }

    /// Gives meetings back unfinished (a stop): another worker takes them at once.
    async fn release(&self, meetings: &[String]) {
        for m in meetings {
            let _ = self.state.release_work(self.id(), m).await;
        }
    }

    /// One engine run copying the leased meetings by uuid.
    async fn copy(&self, meetings: Vec<String>) {
        let _slot = tokio::select! {
            s = self.run_slot.lock() => s,
            () = self.stop.cancelled() => return self.release(&meetings).await,
        };
        let opts = self.by_uuid(&meetings);
        tracing::info!(meetings = meetings.len(), "copying leased meetings");
        self.outcomes.begin();
        let result = self.engine.sync(&opts, self.stop.child_token()).await;
        let failed = self.outcomes.finish();
        let all = |why: String| -> HashMap<String, String> {
            meetings.iter().map(|m| (m.clone(), why.clone())).collect()
        };
        match result {
            Err(e) => self.settle(&meetings, &all(e.to_string())).await,
            Ok(s) => {
                self.count(&s);
                if s.cancelled {
                    return self.release(&meetings).await;
                }
                match s.stopped {
                    Some(why) => self.settle(&meetings, &all(why)).await,
                    None if s.files_failed > 0 && failed.is_empty() => {
                        let why = format!("{} files failed", s.files_failed);
                        self.settle(&meetings, &all(why)).await
                    }
                    None => self.settle(&meetings, &failed).await,
                }
            }
        }
    }

    /// Moves the leased meetings: one engine run copies and proves them (the mover's
    /// plan), then each proven meeting is deleted in Zoom if this worker still holds its
    /// lease with half its time left: a worker that lost a lease (it was paused longer
    /// than the lease) deletes nothing, and the worker that took the meeting over decides
    /// again on what Zoom lists then.
    async fn moves(&self, meetings: Vec<String>) {
        let Some(mopts) = self.moves.clone() else {
            return;
        };
        let _slot = tokio::select! {
            s = self.run_slot.lock() => s,
            () = self.stop.cancelled() => return self.release(&meetings).await,
        };
        let opts = self.by_uuid(&meetings);
        tracing::info!(meetings = meetings.len(), "moving leased meetings");
        self.outcomes.begin();
        let planned = self
            .engine
            .plan_move(&opts, &mopts, self.stop.child_token())
            .await;
        let mut failed = self.outcomes.finish();
        let mut plan = match planned {
            Err(e) => {
                let why = e.to_string();
                let all = meetings.iter().map(|m| (m.clone(), why.clone())).collect();
                return self.settle(&meetings, &all).await;
            }
            Ok(p) => p,
        };
        self.count(&plan.sync);
        if plan.sync.cancelled {
            return self.release(&meetings).await;
        }
        if let Some(why) = plan.sync.stopped.clone() {
            let all = meetings.iter().map(|m| (m.clone(), why.clone())).collect();
            return self.settle(&meetings, &all).await;
        }
        // Fresh leases, then only what is still ours, with time to spare, is deleted.
        let _ = self.state.renew_all(self.id(), self.opts.lease_ttl).await;
        let margin = self.opts.lease_ttl / 2;
        let mut ours = Vec::new();
        for c in std::mem::take(&mut plan.candidates) {
            match self
                .state
                .holds_work(self.id(), &c.meeting_uuid, margin)
                .await
            {
                Ok(true) => ours.push(c),
                Ok(false) => {
                    tracing::warn!(meeting = %c.meeting_uuid, "not deleting: this worker no longer holds the meeting's lease");
                }
                Err(e) => {
                    failed.insert(c.meeting_uuid.clone(), e.to_string());
                }
            }
        }
        plan.candidates = ours;
        let candidates: Vec<String> = plan
            .candidates
            .iter()
            .map(|c| c.meeting_uuid.clone())
            .collect();
        if let Err(e) = self.engine.execute_move(&plan, &mopts, &self.stop).await {
            for m in &candidates {
                failed.insert(m.clone(), e.to_string());
            }
        }
        if self.stop.is_cancelled() {
            // Deleted ones are recorded in the state; the others are decided again.
            return self.release(&meetings).await;
        }
        self.settle(&meetings, &failed).await;
    }
}

fn outcome(
    retry: &EventRetry,
    row: &zvm_state::WebhookEventRow,
    error: Option<zvm_state::StateError>,
) -> WebhookOutcome {
    match error {
        None => WebhookOutcome::Done(row.id),
        Some(e) => WebhookOutcome::Failed {
            id: row.id,
            error: e.to_string(),
            give_up: row.attempts + 1 >= retry.max_attempts,
        },
    }
}

/// The fleet's schedules: the worker holding the scheduler lock lists and offers work.
pub(crate) struct FleetJobs {
    pub state: Arc<PostgresState>,
    pub engine: Engine,
    pub stop: CancellationToken,
    pub work_wake: Arc<Notify>,
}

/// Collects what a listing found: each meeting's uuid, whether it has files not copied
/// yet, and its start.
struct Listed<'a> {
    state: &'a dyn StateStore,
    opts: &'a SyncOptions,
    meetings: Vec<(String, bool, String)>,
}

impl Listed<'_> {
    /// Whether the meeting has a completed file (of the types asked for) that is not
    /// verified in the state.
    async fn has_work(&self, m: &Meeting) -> Result<bool, EngineError> {
        let rows = self.state.files_of_meeting(&m.uuid).await?;
        Ok(m.recording_files.iter().any(|f| {
            !f.is_processing()
                && self.opts.filters.wants_file_type(f.file_type.as_str())
                && !rows
                    .iter()
                    .any(|r| r.key.file_id == f.id && r.status == FileStatus::Verified)
        }))
    }
}

impl AsyncMeetingFn for &mut Listed<'_> {
    async fn call(&mut self, meeting: Meeting, _host_label: &str) -> Result<(), EngineError> {
        let work = self.has_work(&meeting).await?;
        self.meetings.push((meeting.uuid, work, meeting.start_time));
        Ok(())
    }
}

impl FleetJobs {
    async fn list_and_offer(&self, job: &Job, opts: &SyncOptions) -> Result<u64, String> {
        let state = self.engine.state().clone();
        let mut listed = Listed {
            state: &*state,
            opts,
            meetings: Vec::new(),
        };
        let mut opts = opts.clone();
        if matches!(job, Job::Move(_)) {
            // A deletion is decided on what Zoom lists now: every month listed again.
            opts.listing.full = true;
        }
        self.engine
            .for_each_meeting(&opts, &self.stop, &mut listed)
            .await
            .map_err(|e| e.to_string())?;
        let (uuids, action) = match job {
            Job::Sync => (
                listed
                    .meetings
                    .into_iter()
                    .filter(|(_, work, _)| *work)
                    .map(|(u, _, _)| u)
                    .collect::<Vec<_>>(),
                WorkAction::Copy,
            ),
            Job::Move(m) => {
                let cutoff = m.older_than.and_then(|d| {
                    Timestamp::now()
                        .checked_sub(jiff::SignedDuration::try_from(d).ok()?)
                        .ok()
                });
                let old_enough = |start: &str| match (cutoff, start.parse::<Timestamp>()) {
                    (None, _) => true,
                    (Some(cut), Ok(t)) => t <= cut,
                    // A start Zoom did not give readably: the mover decides on it.
                    (Some(_), Err(_)) => true,
                };
                (
                    listed
                        .meetings
                        .into_iter()
                        .filter(|(_, _, start)| old_enough(start))
                        .map(|(u, _, _)| u)
                        .collect(),
                    WorkAction::Move,
                )
            }
        };
        self.state
            .offer_work_for(&uuids, action, true)
            .await
            .map_err(|e| e.to_string())
    }
}

impl JobRunner for FleetJobs {
    fn run<'a>(
        &'a self,
        job: &'a Job,
        opts: &'a SyncOptions,
        last: Option<Timestamp>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Ran> + Send + 'a>> {
        Box::pin(async move {
            let lock = match self.state.try_scheduler_lock().await {
                Ok(l) => l,
                Err(zvm_state::StateError::ServerBusy { .. }) => return Ran::Busy,
                Err(e) => {
                    tracing::error!(error = %e, "cannot take the fleet's scheduler lock");
                    return Ran::NotRun;
                }
            };
            match self.state.last_scheduled_run(job.name()).await {
                Ok(Some(at)) => {
                    if let Ok(at) = at.parse::<Timestamp>()
                        && last.is_none_or(|l| at > l)
                    {
                        return Ran::Elsewhere(at);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the fleet's scheduled runs");
                    return Ran::NotRun;
                }
            }
            let started = Timestamp::now();
            tracing::info!(
                job = job.name(),
                "scheduled listing starts (this worker lists for the fleet)"
            );
            let offered = match self.list_and_offer(job, opts).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(job = job.name(), error = %e, "scheduled listing failed");
                    return Ran::NotRun;
                }
            };
            if self.stop.is_cancelled() || !lock.is_held() {
                return Ran::NotRun;
            }
            tracing::info!(
                job = job.name(),
                meetings = offered,
                "scheduled listing offered work"
            );
            self.work_wake.notify_one();
            // Recorded while the lock is held: the next worker to take it sees this run.
            let at = started.to_string();
            let mut names = vec![job.name()];
            if matches!(job, Job::Sync) {
                names.push(LISTING_COMPLETE);
            }
            for name in names {
                if let Err(e) = self.state.record_scheduled_run(name, &at).await {
                    tracing::error!(error = %e, "cannot record a scheduled run");
                }
            }
            drop(lock);
            Ran::Finished
        })
    }
}

/// The `/status` view of the fleet from `state`, as `this_worker` sees it.
pub(crate) fn fleet_view(state: Arc<PostgresState>, this_worker: String) -> FleetView {
    Arc::new(move || {
        let state = state.clone();
        let this_worker = this_worker.clone();
        Box::pin(async move { fleet_status(&state, this_worker).await })
    })
}

fn rfc3339(t: SystemTime) -> String {
    Timestamp::try_from(t)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Every worker of the fleet and the shared work, read from the database.
pub async fn fleet_status(
    state: &PostgresState,
    this_worker: String,
) -> Result<FleetStatus, zvm_state::StateError> {
    let workers = state
        .workers()
        .await?
        .into_iter()
        .map(|w| {
            let secs = w
                .heartbeat
                .duration_since(w.started)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            WorkerStatus {
                throughput_bps: if secs > 0.0 {
                    w.bytes_copied as f64 / secs
                } else {
                    0.0
                },
                id: w.id,
                host: w.host,
                pid: w.pid,
                live: w.live,
                stopped: w.stopped,
                started: rfc3339(w.started),
                last_heartbeat: rfc3339(w.heartbeat),
                leases: w.leases,
                files_copied: w.files_copied,
                bytes_copied: w.bytes_copied,
                schedules: w.schedules,
            }
        })
        .collect();
    let c = state.work_counts().await?;
    Ok(FleetStatus {
        this_worker,
        workers,
        work: WorkStatus {
            open: c.open,
            held: c.held,
            done: c.done,
            gave_up: c.gave_up,
        },
    })
}
