//! The webhook queue of a fleet of `zvm serve` workers, in PostgreSQL: the same semantics
//! as SQLite's (`zvm_state::WebhookQueue`: durable before Zoom's 200, Zoom's retries of one
//! event stored once by their key, attempts counted, a retry due after its delay), shared
//! by every worker behind the load balancer.
//!
//! Any worker may receive an event; any worker may work it. A worker takes due events with
//! `SELECT ... FOR UPDATE SKIP LOCKED` and holds them by a claim that expires like a lease
//! (renewed by the worker's heartbeat, see `leases`), so an event is worked by one worker
//! at a time and a dead worker's events are taken over. The work of a copy event is a
//! meeting's row of `work_leases` ([`PostgresState::events_to_work`]): the event is done
//! once that row is written, in the same transaction, and from then on the meeting is
//! copied like any other leased meeting, by whichever worker leases it.

use std::time::Duration;

use async_trait::async_trait;
use tokio_postgres::Row;
use zvm_state::{
    Enqueued, NewWebhookEvent, StateError, WebhookCounts, WebhookEventRow, WebhookOutcome,
    WebhookQueue, WebhookStatus,
};

use crate::store::PostgresState;

const EVENT_COLUMNS: &str =
    "id, dedup_key, event, meeting_uuid, body, status, attempts, last_error, received_at";

/// The server's clock as SQLite's store writes times.
const NOW: &str =
    "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PostgresState {
    fn event_row(&self, r: &Row) -> Result<WebhookEventRow, StateError> {
        let attempts: i64 = self.get(r, 6)?;
        let status: String = self.get(r, 5)?;
        Ok(WebhookEventRow {
            id: self.get(r, 0)?,
            dedup_key: self.get(r, 1)?,
            event: self.get(r, 2)?,
            meeting_uuid: self.get(r, 3)?,
            body: self.get(r, 4)?,
            status: WebhookStatus::parse(&status)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            last_error: self.get(r, 7)?,
            received_at: self.get(r, 8)?,
        })
    }

    /// Claims up to `limit` due events for `worker` until `ttl` from now: queued, not
    /// claimed by a live worker, never tried or their last failed attempt at least
    /// `retry_delay` old; new ones before retries. Events another worker is claiming at
    /// this moment are skipped, not waited for.
    pub async fn claim_due_webhooks(
        &self,
        worker: &str,
        limit: u32,
        retry_delay: Duration,
        ttl: Duration,
    ) -> Result<Vec<WebhookEventRow>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "WITH due AS (
                        SELECT id FROM webhook_events
                        WHERE status = 'queued'
                          AND (claimed_by IS NULL OR claim_expires <= clock_timestamp())
                          AND (attempts = 0 OR updated_at
                               <= clock_timestamp() - $3::BIGINT * interval '1 millisecond')
                        ORDER BY attempts > 0, id
                        LIMIT $2
                        FOR UPDATE SKIP LOCKED
                     )
                     UPDATE webhook_events w SET claimed_by = $1,
                        claim_expires = clock_timestamp() + $4::BIGINT * interval '1 millisecond'
                     FROM due WHERE w.id = due.id
                     RETURNING {}",
                    EVENT_COLUMNS
                        .split(", ")
                        .map(|c| format!("w.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[
                    &worker,
                    &i64::from(limit),
                    &millis(retry_delay),
                    &millis(ttl),
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        let mut events = rows
            .iter()
            .map(|r| self.event_row(r))
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|e| (e.attempts > 0, e.id));
        Ok(events)
    }

    /// Turns claimed copy events into work: in one transaction, each meeting is offered as
    /// a copy (a meeting copied before is opened again: the event means there is something
    /// new), and the events are done. Only events `worker` still claims are settled; the
    /// ids settled are returned.
    pub async fn events_to_work(
        &self,
        worker: &str,
        events: &[(i64, String)],
    ) -> Result<Vec<i64>, StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        let ids: Vec<i64> = events.iter().map(|(id, _)| *id).collect();
        let held = tx
            .query(
                &format!(
                    "UPDATE webhook_events SET status = 'done', claimed_by = NULL,
                        claim_expires = NULL, updated_at = clock_timestamp()
                     WHERE id = ANY($1) AND claimed_by = $2 AND status = 'queued'
                     RETURNING id, {NOW}"
                ),
                &[&ids, &worker],
            )
            .await
            .map_err(|e| self.err(e))?;
        let held: Vec<i64> = held
            .iter()
            .map(|r| self.get(r, 0))
            .collect::<Result<_, _>>()?;
        let meetings: Vec<String> = events
            .iter()
            .filter(|(id, _)| held.contains(id))
            .map(|(_, m)| m.clone())
            .collect();
        tx.execute(
            "INSERT INTO work_leases (meeting_uuid, action)
             SELECT u, 'copy' FROM unnest($1::TEXT[]) AS u
             ON CONFLICT (meeting_uuid) DO UPDATE SET
                again = work_leases.holder IS NOT NULL,
                action = CASE WHEN work_leases.done THEN 'copy' ELSE work_leases.action END,
                done = FALSE, gave_up = FALSE, failures = 0, not_before = NULL",
            &[&meetings],
        )
        .await
        .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(held)
    }

    /// Settles events `worker` worked itself (state-only events, or failures), as SQLite's
    /// `settle_webhooks` does, and drops its claim on them.
    pub async fn settle_claimed_webhooks(
        &self,
        worker: &str,
        outcomes: Vec<WebhookOutcome>,
    ) -> Result<(), StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        for o in &outcomes {
            let (status, error) = match o {
                WebhookOutcome::Done(_) => (WebhookStatus::Done, None),
                WebhookOutcome::Failed { error, give_up, .. } => (
                    if *give_up {
                        WebhookStatus::Failed
                    } else {
                        WebhookStatus::Queued
                    },
                    Some(error.as_str()),
                ),
            };
            tx.execute(
                "UPDATE webhook_events SET status = $3, attempts = attempts + $4,
                    last_error = COALESCE($5, last_error), updated_at = clock_timestamp(),
                    claimed_by = NULL, claim_expires = NULL
                 WHERE id = $1 AND claimed_by = $2",
                &[
                    &o.id(),
                    &worker,
                    &status.as_str(),
                    &i64::from(error.is_some()),
                    &error,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Gives back `worker`'s claims on events it did not work (a stop).
    pub async fn release_webhooks(&self, worker: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE webhook_events SET claimed_by = NULL, claim_expires = NULL
                 WHERE claimed_by = $1",
                &[&worker],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every stored event, oldest first (tests).
    pub async fn webhook_events(&self) -> Result<Vec<WebhookEventRow>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events ORDER BY id"),
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.event_row(r)).collect()
    }
}

#[async_trait]
impl WebhookQueue for PostgresState {
    /// One transaction for the batch; its commit is durable when it returns (the server's
    /// `synchronous_commit`, on by default), so the caller may answer Zoom.
    async fn enqueue_webhooks(
        &self,
        events: Vec<NewWebhookEvent>,
    ) -> Result<Vec<Enqueued>, StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        let st = tx
            .prepare_cached(&format!(
                "INSERT INTO webhook_events (dedup_key, event, meeting_uuid, body, status,
                    received_at)
                 VALUES ($1, $2, $3, $4, 'queued', {NOW})
                 ON CONFLICT (dedup_key) DO NOTHING
                 RETURNING id"
            ))
            .await
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(events.len());
        for e in &events {
            let row = tx
                .query_opt(&st, &[&e.dedup_key, &e.event, &e.meeting_uuid, &e.body])
                .await
                .map_err(|e| self.err(e))?;
            out.push(match row {
                Some(r) => Enqueued::New(self.get(&r, 0)?),
                None => Enqueued::Duplicate,
            });
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(out)
    }

    async fn webhook_counts(&self) -> Result<WebhookCounts, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT status, COUNT(*) FROM webhook_events GROUP BY status",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        let mut counts = WebhookCounts::default();
        for r in &rows {
            let status: String = self.get(r, 0)?;
            let n = u64::try_from(self.get::<i64>(r, 1)?).unwrap_or(0);
            match WebhookStatus::parse(&status)? {
                WebhookStatus::Queued => counts.queued = n,
                WebhookStatus::Done => counts.done = n,
                WebhookStatus::Failed => counts.failed = n,
            }
        }
        Ok(counts)
    }

    async fn last_scheduled_run(&self, name: &str) -> Result<Option<String>, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT last_run FROM scheduled_runs WHERE name = $1",
                &[&name],
            )
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| self.get(&r, 0)).transpose()
    }

    async fn record_scheduled_run(&self, name: &str, at: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO scheduled_runs (name, last_run) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run",
                &[&name, &at],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
