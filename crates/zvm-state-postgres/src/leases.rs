//! Leases on work, for several workers sharing one database (issue 19): a meeting to copy is
//! a row of `work_leases`; a worker takes free rows with `SELECT ... FOR UPDATE SKIP LOCKED`
//! (workers asking at the same moment get different rows and never wait on each other),
//! holds each for a time it renews by heartbeats, and marks it done. A worker that dies
//! stops renewing: once its lease has expired, another takes the meeting over. Expiry is
//! the server's clock, so the workers' clocks need not agree.
//!
//! `zvm serve` on a PostgreSQL state runs its loop on these calls (zvm-serve's `fleet`):
//! offer what the listing or a webhook found ([`PostgresState::offer_work_for`]), lease a
//! few meetings, copy (or move) them while a heartbeat renews the leases, finish, or count
//! a failed attempt ([`PostgresState::fail_work`]) that waits a while before another try.

use std::time::{Duration, SystemTime};

use zvm_state::StateError;

use crate::store::PostgresState;

/// A meeting held by one worker until `expires_at` (the server's clock) unless renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub meeting_uuid: String,
    pub expires_at: SystemTime,
    /// What the work is (a copy unless a move schedule offered it).
    pub action: WorkAction,
}

/// What a row of work asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkAction {
    /// Copy what of the meeting is not copied yet.
    Copy,
    /// Copy, then, once the copy is proven, delete the meeting in Zoom (trash or delete).
    Move,
}

impl WorkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkAction::Copy => "copy",
            WorkAction::Move => "move",
        }
    }

    fn parse(s: &str) -> WorkAction {
        // Only these two are ever written; anything else is treated as the harmless one.
        if s == "move" {
            WorkAction::Move
        } else {
            WorkAction::Copy
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PostgresState {
    /// Adds meetings to the work to share (those already there keep their state). Returns
    /// how many were new.
    pub async fn offer_work(&self, meeting_uuids: &[String]) -> Result<u64, StateError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO work_leases (meeting_uuid)
                 SELECT * FROM unnest($1::TEXT[]) ON CONFLICT (meeting_uuid) DO NOTHING",
                &[&meeting_uuids],
            )
            .await
            .map_err(|e| self.err(e))
    }

    /// Leases up to `limit` meetings that are not done and not held (never leased, released,
    /// or their lease expired) to `worker` for `ttl`. Rows another worker is leasing at this
    /// moment are skipped, not waited for.
    pub async fn lease_work(
        &self,
        worker: &str,
        ttl: Duration,
        limit: u32,
    ) -> Result<Vec<Lease>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "WITH free AS (
                    SELECT meeting_uuid FROM work_leases
                    WHERE NOT done AND (holder IS NULL OR expires_at <= clock_timestamp())
                      AND (not_before IS NULL OR not_before <= clock_timestamp())
                    ORDER BY meeting_uuid
                    LIMIT $3
                    FOR UPDATE SKIP LOCKED
                 )
                 UPDATE work_leases w SET holder = $1,
                    expires_at = clock_timestamp() + $2::BIGINT * interval '1 millisecond',
                    leased = leased + 1
                 FROM free WHERE w.meeting_uuid = free.meeting_uuid
                 RETURNING w.meeting_uuid, w.expires_at, w.action",
                &[&worker, &millis(ttl), &i64::from(limit)],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    meeting_uuid: self.get(r, 0)?,
                    expires_at: self.get(r, 1)?,
                    action: WorkAction::parse(&self.get::<String>(r, 2)?),
                })
            })
            .collect()
    }

    /// Renews `worker`'s leases on these meetings for `ttl` from now. Returns the ones it
    /// still holds: a meeting missing from the answer was lost (its lease expired and
    /// another worker took it over) and the worker must stop working on it. An expired
    /// lease nobody took over is still the worker's, and is renewed.
    pub async fn heartbeat(
        &self,
        worker: &str,
        meeting_uuids: &[String],
        ttl: Duration,
    ) -> Result<Vec<Lease>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "UPDATE work_leases
                 SET expires_at = clock_timestamp() + $3::BIGINT * interval '1 millisecond'
                 WHERE meeting_uuid = ANY($2) AND holder = $1 AND NOT done
                 RETURNING meeting_uuid, expires_at, action",
                &[&worker, &meeting_uuids, &millis(ttl)],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    meeting_uuid: self.get(r, 0)?,
                    expires_at: self.get(r, 1)?,
                    action: WorkAction::parse(&self.get::<String>(r, 2)?),
                })
            })
            .collect()
    }

    /// Marks the meeting done, if `worker` still holds it (its lease was not taken over).
    /// Returns whether it did: `false` means another worker owns the meeting now. Work
    /// offered again while it was held (`again`: a late transcript's webhook) leaves the
    /// row open for one more pass instead.
    pub async fn finish_work(&self, worker: &str, meeting_uuid: &str) -> Result<bool, StateError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE work_leases SET done = NOT again, again = FALSE, holder = NULL,
                    expires_at = NULL, failures = 0, last_error = NULL, not_before = NULL
                 WHERE meeting_uuid = $2 AND holder = $1 AND NOT done",
                &[&worker, &meeting_uuid],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Gives the meeting back unfinished (a worker stopping cleanly), so another may take it
    /// at once. Returns whether `worker` held it.
    pub async fn release_work(&self, worker: &str, meeting_uuid: &str) -> Result<bool, StateError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE work_leases SET holder = NULL, expires_at = NULL
                 WHERE meeting_uuid = $2 AND holder = $1 AND NOT done",
                &[&worker, &meeting_uuid],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }
}

impl PostgresState {
    /// Offers meetings as work of `action`. A meeting with no row gets one. One whose row is
    /// done is opened again when `reopen` (there is new work: a webhook, or a listing that
    /// shows files not copied yet); one held right now is marked to be passed over once
    /// more when its holder finishes. A move never turns back into a copy while open, and
    /// a row given up on is tried afresh. Returns how many rows were added or opened.
    pub async fn offer_work_for(
        &self,
        meeting_uuids: &[String],
        action: WorkAction,
        reopen: bool,
    ) -> Result<u64, StateError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO work_leases (meeting_uuid, action)
                 SELECT u, $2 FROM unnest($1::TEXT[]) AS u
                 ON CONFLICT (meeting_uuid) DO UPDATE SET
                    action = CASE WHEN work_leases.done OR excluded.action = 'move'
                                  THEN excluded.action ELSE work_leases.action END,
                    again = work_leases.holder IS NOT NULL,
                    done = FALSE, gave_up = FALSE, failures = 0, not_before = NULL
                 WHERE $3 OR NOT work_leases.done",
                &[&meeting_uuids, &action.as_str(), &reopen],
            )
            .await
            .map_err(|e| self.err(e))
    }

    /// One attempt at the meeting failed: the lease is given back, the failure counted and
    /// kept, and nobody takes the meeting again for `delay`; after `max_failures` it is
    /// set aside (done, `gave_up`) until new work reopens it. Returns whether `worker`
    /// still held it.
    pub async fn fail_work(
        &self,
        worker: &str,
        meeting_uuid: &str,
        error: &str,
        delay: Duration,
        max_failures: u32,
    ) -> Result<bool, StateError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE work_leases SET holder = NULL, expires_at = NULL,
                    failures = failures + 1, last_error = $3,
                    not_before = clock_timestamp() + $4::BIGINT * interval '1 millisecond',
                    gave_up = failures + 1 >= $5, done = failures + 1 >= $5
                 WHERE meeting_uuid = $2 AND holder = $1 AND NOT done",
                &[
                    &worker,
                    &meeting_uuid,
                    &error,
                    &millis(delay),
                    &i64::from(max_failures),
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Whether `worker` holds the meeting, with at least `margin` of its lease left (the
    /// server's clock): asked right before a deletion in Zoom, which must happen inside
    /// the lease.
    pub async fn holds_work(
        &self,
        worker: &str,
        meeting_uuid: &str,
        margin: Duration,
    ) -> Result<bool, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT 1 FROM work_leases WHERE meeting_uuid = $2 AND holder = $1 AND NOT done
                   AND expires_at > clock_timestamp() + $3::BIGINT * interval '1 millisecond'",
                &[&worker, &meeting_uuid, &millis(margin)],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.is_some())
    }

    /// Renews every lease `worker` holds (meetings and webhook events) for `ttl`: one
    /// statement per table, whatever the number of leases. Returns the meetings it still
    /// holds.
    pub async fn renew_all(&self, worker: &str, ttl: Duration) -> Result<Vec<String>, StateError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE webhook_events
                 SET claim_expires = clock_timestamp() + $2::BIGINT * interval '1 millisecond'
                 WHERE claimed_by = $1 AND status = 'queued'",
                &[&worker, &millis(ttl)],
            )
            .await
            .map_err(|e| self.err(e))?;
        let rows = client
            .query(
                "UPDATE work_leases
                 SET expires_at = clock_timestamp() + $2::BIGINT * interval '1 millisecond'
                 WHERE holder = $1 AND NOT done
                 RETURNING meeting_uuid",
                &[&worker, &millis(ttl)],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.get(r, 0)).collect()
    }

    /// Counts of the work rows: open (not done), held right now, done, given up.
    pub async fn work_counts(&self) -> Result<WorkCounts, StateError> {
        let client = self.client().await?;
        let r = client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE NOT done),
                        COUNT(*) FILTER (WHERE NOT done AND holder IS NOT NULL
                                         AND expires_at > clock_timestamp()),
                        COUNT(*) FILTER (WHERE done AND NOT gave_up),
                        COUNT(*) FILTER (WHERE gave_up)
                 FROM work_leases",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        let n = |i| {
            self.get::<i64>(&r, i)
                .map(|v| u64::try_from(v).unwrap_or(0))
        };
        Ok(WorkCounts {
            open: n(0)?,
            held: n(1)?,
            done: n(2)?,
            gave_up: n(3)?,
        })
    }
}

/// How much shared work there is (see [`PostgresState::work_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkCounts {
    pub open: u64,
    pub held: u64,
    pub done: u64,
    pub gave_up: u64,
}
