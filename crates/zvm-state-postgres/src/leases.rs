//! Leases on work, for several workers sharing one database (issue 19): a meeting to copy is
//! a row of `work_leases`; a worker takes free rows with `SELECT ... FOR UPDATE SKIP LOCKED`
//! (workers asking at the same moment get different rows and never wait on each other),
//! holds each for a time it renews by heartbeats, and marks it done. A worker that dies
//! stops renewing: once its lease has expired, another takes the meeting over. Expiry is
//! the server's clock, so the workers' clocks need not agree.
//!
//! `zvm serve --worker` is meant to run its loop on these calls: offer what the listing
//! found, lease a few meetings, copy them while a heartbeat renews the leases, finish.

use std::time::{Duration, SystemTime};

use zvm_state::StateError;

use crate::store::PostgresState;

/// A meeting held by one worker until `expires_at` (the server's clock) unless renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub meeting_uuid: String,
    pub expires_at: SystemTime,
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
                    ORDER BY meeting_uuid
                    LIMIT $3
                    FOR UPDATE SKIP LOCKED
                 )
                 UPDATE work_leases w SET holder = $1,
                    expires_at = clock_timestamp() + $2::BIGINT * interval '1 millisecond',
                    leased = leased + 1
                 FROM free WHERE w.meeting_uuid = free.meeting_uuid
                 RETURNING w.meeting_uuid, w.expires_at",
                &[&worker, &millis(ttl), &i64::from(limit)],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    meeting_uuid: self.get(r, 0)?,
                    expires_at: self.get(r, 1)?,
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
                 RETURNING meeting_uuid, expires_at",
                &[&worker, &meeting_uuids, &millis(ttl)],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    meeting_uuid: self.get(r, 0)?,
                    expires_at: self.get(r, 1)?,
                })
            })
            .collect()
    }

    /// Marks the meeting done, if `worker` still holds it (its lease was not taken over).
    /// Returns whether it did: `false` means another worker owns the meeting now.
    pub async fn finish_work(&self, worker: &str, meeting_uuid: &str) -> Result<bool, StateError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE work_leases SET done = TRUE, holder = NULL, expires_at = NULL
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
