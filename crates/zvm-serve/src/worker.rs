//! The worker that drains the webhook queue through the engine, one event at a time:
//! a meeting to copy is asked of Zoom by its uuid and copied (no listing); a meeting that
//! left the cloud is recorded in the state (and leaves the stored listings, so no sync asks
//! Zoom for it again); one that came back is recorded and copied like a new one.
//!
//! The worker yields to the webhook handlers during a burst of events (see [`QUIET`]). An
//! event is marked done only when its work finished; a failed attempt is counted and
//! tried again after a delay, up to a budget, then set aside as failed (visible in
//! `/status`). A stop (SIGTERM) cancels the run in flight: its files keep their `.part`,
//! the event stays queued, and the next start takes it up again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use zvm_engine::{Engine, SyncOptions};
use zvm_state::{CloudState, SqliteState, StateStore, WebhookEventRow};

use crate::envelope::{self, Work};

/// How often the queue is looked at when nothing woke the worker (a safety net: an insert
/// always wakes it).
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Events taken from the queue per look.
const BATCH: u32 = 64;

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

/// How handling one event ended.
enum Handled {
    Done,
    Failed(String),
    /// The daemon is stopping: the event stays queued, no attempt counted.
    Interrupted,
}

pub struct Worker {
    pub engine: Engine,
    pub state: Arc<SqliteState>,
    /// The settings of every copy (transfers, templates, filters); `by_uuid` is set per event.
    pub template: SyncOptions,
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
            for row in due {
                if self.stop.is_cancelled() {
                    return;
                }
                let result = match self.handle(&row).await {
                    Handled::Done => self.state.webhook_done(row.id).await,
                    Handled::Failed(error) => {
                        let give_up = row.attempts + 1 >= self.retry.max_attempts;
                        tracing::warn!(id = row.id, event = %row.event, attempt = row.attempts + 1, give_up, %error, "webhook event's work failed");
                        self.state
                            .webhook_attempt_failed(row.id, &error, give_up)
                            .await
                    }
                    Handled::Interrupted => return,
                };
                if let Err(e) = result {
                    tracing::error!(id = row.id, error = %e, "cannot record a webhook event's outcome");
                }
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

    async fn handle(&self, row: &WebhookEventRow) -> Handled {
        let uuid = row.meeting_uuid.as_deref().unwrap_or_default();
        let Some(work) = envelope::work_of(&row.event, uuid) else {
            // Only events with work are queued; an unknown one (a newer zvm queued it) is
            // left done rather than retried for ever.
            return Handled::Done;
        };
        match work {
            Work::Copy { meeting_uuid } => self.copy(meeting_uuid).await,
            Work::LeftCloud { meeting_uuid } => {
                // Zoom no longer lists it: out of the listing cache, its rows `vanished`.
                // Local copies are never touched because of it.
                match self.state.forget_listed(&meeting_uuid).await {
                    Ok(()) => Handled::Done,
                    Err(e) => Handled::Failed(e.to_string()),
                }
            }
            Work::BackInCloud { meeting_uuid } => {
                if let Err(e) = self
                    .state
                    .set_cloud_state(&meeting_uuid, None, CloudState::Present)
                    .await
                {
                    return Handled::Failed(e.to_string());
                }
                // Its month's stored listing forgot it when it left (see LeftCloud), so a
                // scheduled sync would not see it until that month is listed again: copy
                // now what of it is not here (nothing, when the copy is whole).
                self.copy(meeting_uuid).await
            }
        }
    }

    async fn copy(&self, meeting_uuid: String) -> Handled {
        let _slot = tokio::select! {
            s = self.run_slot.lock() => s,
            () = self.stop.cancelled() => return Handled::Interrupted,
        };
        let mut opts = self.template.clone();
        opts.by_uuid = Some(vec![meeting_uuid.clone()]);
        tracing::info!(meeting = %meeting_uuid, "copying the meeting a webhook named");
        match self.engine.sync(&opts, self.stop.child_token()).await {
            Err(e) => Handled::Failed(e.to_string()),
            Ok(s) if s.cancelled => Handled::Interrupted,
            Ok(s) if s.files_failed > 0 || s.stopped.is_some() => Handled::Failed(
                s.stopped
                    .or_else(|| {
                        s.failures
                            .first()
                            .map(|f| format!("{}: {}", f.path, f.error))
                    })
                    .unwrap_or_else(|| format!("{} files failed", s.files_failed)),
            ),
            Ok(s) => {
                tracing::info!(meeting = %meeting_uuid, files = s.files_downloaded, bytes = s.bytes_downloaded, "meeting copied");
                Handled::Done
            }
        }
    }
}
