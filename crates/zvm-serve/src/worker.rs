//! The worker that drains the webhook queue through the engine, a batch of due events at a
//! time: the meetings of every copy event in the batch (`recording.completed`, a late
//! transcript, a summary, a meeting back from the trash) are asked of Zoom by their uuid
//! and copied in ONE engine run (no listing); a meeting that left the cloud is recorded in
//! the state (and leaves the stored listings, so no sync asks Zoom for it again).
//!
//! One engine run per batch, not per event: a run has a fixed cost (the destination
//! checked, the state's folders read, its transfer workers started) that made the worker
//! copy about 28 events a second when each event had a run of its own. Each event is
//! settled by its own meeting's outcome ([`MeetingOutcomes`]): a meeting that failed has its
//! events tried again, the others are done, and one failing meeting holds up none of the
//! others (`SyncOptions::by_uuid_keep_going`).
//!
//! The worker yields to the webhook handlers during a burst of events (see [`QUIET`]). An
//! event is marked done only when its work finished; a failed attempt is counted and
//! tried again after a delay, up to a budget, then set aside as failed (visible in
//! `/status`). A stop (SIGTERM) cancels the run in flight: its files keep their `.part`,
//! the events stay queued, and the next start takes them up again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use zvm_engine::{Engine, SyncOptions};
use zvm_state::{CloudState, SqliteState, StateStore, WebhookEventRow, WebhookOutcome};

use crate::envelope::{self, Work};
use crate::outcomes::MeetingOutcomes;

/// How often the queue is looked at when nothing woke the worker (a safety net: an insert
/// always wakes it).
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Events taken from the queue per look, their meetings copied in one engine run. Large
/// enough that a burst is a few runs; bounded so that a backlog after a long outage is not
/// read into memory whole.
const BATCH: u32 = 1_000;

/// Webhooks first: when an event wakes the idle worker, it waits until no other event has
/// arrived for this long before it starts copying...
const QUIET: Duration = Duration::from_millis(200);

/// ...but no longer than this after the first one. Within a burst of webhooks (Zoom
/// delivering what it held during an outage, many meetings ending on the hour) every engine
/// run would share the cores and the state with the handlers that must answer Zoom within
/// its 3 s; a copy that starts a few seconds later loses nothing.
const MAX_DEFER: Duration = Duration::from_secs(5);

/// How failed events are tried again.
#[derive(Debug, Clone, Copy)]
pub struct EventRetry {
    /// Attempts before an event is set aside as failed.
    pub max_attempts: u32,
    /// Wait after a failed attempt.
    pub delay: Duration,
}

impl Default for EventRetry {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            delay: Duration::from_secs(60),
        }
    }
}

/// How the batch's engine run ended.
enum Copied {
    /// Each meeting's first failure; a meeting not in it was copied whole.
    Each(HashMap<String, String>),
    /// The run itself failed (destination unusable, state, settings): every meeting's
    /// events failed with this.
    All(String),
    /// The daemon is stopping: the events stay queued, no attempt counted.
    Interrupted,
}

pub struct Worker {
    pub engine: Engine,
    pub state: Arc<SqliteState>,
    /// The settings of every copy (transfers, templates, filters); `by_uuid` is set per batch.
    pub template: SyncOptions,
    /// Fed by the engine's events: which meetings of the worker's run failed.
    pub outcomes: Arc<MeetingOutcomes>,
    pub wake: Arc<Notify>,
    /// One engine run at a time: the worker's copies and the schedules' runs take turns.
    pub run_slot: Arc<Mutex<()>>,
    pub stop: CancellationToken,
    pub retry: EventRetry,
}

impl Worker {
    pub async fn run(self) {
        while !self.stop.is_cancelled() {
            // Events waiting out a failed attempt's delay are left in the state, not
            // handed out: however many there are, a newer event is never held up by them.
            let due = match self.state.due_webhooks(BATCH, self.retry.delay).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the webhook queue");
                    self.pause(self.retry.delay).await;
                    continue;
                }
            };
            if due.is_empty() {
                // A new event wakes us; a failed one is due again within its delay.
                if self.pause(self.retry.delay.min(IDLE_POLL)).await {
                    self.settle().await;
                }
                continue;
            }
            let Some(outcomes) = self.handle_batch(&due).await else {
                return;
            };
            if let Err(e) = self.state.settle_webhooks(outcomes).await {
                tracing::error!(events = due.len(), error = %e, "cannot record the webhook events' outcomes");
                self.pause(self.retry.delay).await;
            }
        }
    }

    /// Waits for a wake-up, the stop, or `d`; `true` when a new event woke it.
    async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            () = self.wake.notified() => true,
            () = self.stop.cancelled() => false,
            () = tokio::time::sleep(d) => false,
        }
    }

    /// Waits while events keep arriving: until none came for [`QUIET`], at most
    /// [`MAX_DEFER`] in all (see there why).
    async fn settle(&self) {
        let until = tokio::time::Instant::now() + MAX_DEFER;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = self.stop.cancelled() => return,
                () = tokio::time::sleep(QUIET.min(left)) => return,
            }
        }
    }

    /// Does the work of a batch: the state-only events one by one, in the order they came,
    /// then the meetings of every copy in one engine run. `None`: the daemon is stopping
    /// (what is not settled stays queued).
    async fn handle_batch(&self, rows: &[WebhookEventRow]) -> Option<Vec<WebhookOutcome>> {
        let mut settled = Vec::with_capacity(rows.len());
        let mut copies: Vec<(&WebhookEventRow, String)> = Vec::new();
        for row in rows {
            let uuid = row.meeting_uuid.as_deref().unwrap_or_default();
            // Only events with work are queued; an unknown one (a newer zvm queued it) is
            // left done rather than retried for ever.
            let Some(work) = envelope::work_of(&row.event, uuid) else {
                settled.push(WebhookOutcome::Done(row.id));
                continue;
            };
            match work {
                Work::Copy { meeting_uuid } => copies.push((row, meeting_uuid)),
                Work::LeftCloud { meeting_uuid } => {
                    // Zoom no longer lists it: out of the listing cache, its rows
                    // `vanished`. Local copies are never touched because of it.
                    let r = self.state.forget_listed(&meeting_uuid).await;
                    settled.push(self.outcome(row, r.err().map(|e| e.to_string())));
                }
                Work::BackInCloud { meeting_uuid } => {
                    match self
                        .state
                        .set_cloud_state(&meeting_uuid, None, CloudState::Present)
                        .await
                    {
                        // Its month's stored listing forgot it when it left (see LeftCloud),
                        // so a scheduled sync would not see it until that month is listed
                        // again: copy now what of it is not here (nothing, when whole).
                        Ok(()) => copies.push((row, meeting_uuid)),
                        Err(e) => settled.push(self.outcome(row, Some(e.to_string()))),
                    }
                }
            }
        }
        if copies.is_empty() {
            return Some(settled);
        }
        let mut seen = HashSet::new();
        let meetings: Vec<String> = copies
            .iter()
            .filter(|(_, m)| seen.insert(m.as_str()))
            .map(|(_, m)| m.clone())
            .collect();
        match self.copy(meetings).await {
            Copied::Interrupted => {
                // What was settled before the stop is kept; the copies stay queued.
                if let Err(e) = self.state.settle_webhooks(settled).await {
                    tracing::error!(error = %e, "cannot record the webhook events' outcomes");
                }
                return None;
            }
            Copied::All(error) => {
                for (row, _) in copies {
                    settled.push(self.outcome(row, Some(error.clone())));
                }
            }
            Copied::Each(failed) => {
                for (row, meeting) in copies {
                    settled.push(self.outcome(row, failed.get(&meeting).cloned()));
                }
            }
        }
        Some(settled)
    }

    /// The outcome of one event's work: done, or `error` (logged; given up after the
    /// budget of attempts).
    fn outcome(&self, row: &WebhookEventRow, error: Option<String>) -> WebhookOutcome {
        let Some(error) = error else {
            return WebhookOutcome::Done(row.id);
        };
        let give_up = row.attempts + 1 >= self.retry.max_attempts;
        tracing::warn!(id = row.id, event = %row.event, meeting = row.meeting_uuid.as_deref().unwrap_or_default(), attempt = row.attempts + 1, give_up, %error, "webhook event's work failed");
        WebhookOutcome::Failed {
            id: row.id,
            error,
            give_up,
        }
    }

    /// One engine run copying `meetings`, each asked of Zoom by its uuid.
    async fn copy(&self, meetings: Vec<String>) -> Copied {
        let _slot = tokio::select! {
            s = self.run_slot.lock() => s,
            () = self.stop.cancelled() => return Copied::Interrupted,
        };
        let n = meetings.len();
        let mut opts = self.template.clone();
        opts.by_uuid = Some(meetings);
        opts.by_uuid_keep_going = true;
        tracing::info!(meetings = n, "copying the meetings webhooks named");
        self.outcomes.begin();
        let result = self.engine.sync(&opts, self.stop.child_token()).await;
        let failed = self.outcomes.finish();
        match result {
            Err(e) => Copied::All(e.to_string()),
            Ok(s) if s.cancelled => Copied::Interrupted,
            Ok(s) => match s.stopped {
                // The destination became unusable: no meeting of the run is known whole.
                Some(why) => Copied::All(why),
                // A failure no event tied to a meeting: no meeting is known whole.
                None if s.files_failed > 0 && failed.is_empty() => Copied::All(format!(
                    "{} files failed: {}",
                    s.files_failed,
                    s.failures
                        .first()
                        .map(|f| format!("{}: {}", f.path, f.error))
                        .unwrap_or_default()
                )),
                None => {
                    tracing::info!(
                        meetings = n,
                        failed = failed.len(),
                        files = s.files_downloaded,
                        bytes = s.bytes_downloaded,
                        "meetings copied"
                    );
                    Copied::Each(failed)
                }
            },
        }
    }
}
