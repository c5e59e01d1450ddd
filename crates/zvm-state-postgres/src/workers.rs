//! The workers of a fleet sharing this database: each `zvm serve` registers a row (id,
//! host, pid, start) and beats it with what it copied. A worker is live while its last
//! heartbeat is younger than the time it promised to beat within (its `ttl`, on the
//! server's clock); the live count is what each worker divides the account's rate limits
//! by, and what `zvm status` shows. Each also records its schedule settings, so that a
//! worker whose schedules differ from the others' is told (only one worker lists).

use std::time::{Duration, SystemTime};

use zvm_state::StateError;

use crate::store::PostgresState;

/// One registered worker, as `zvm status` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerRow {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started: SystemTime,
    pub heartbeat: SystemTime,
    /// Its heartbeat is recent and it did not stop.
    pub live: bool,
    /// It stopped cleanly (SIGTERM).
    pub stopped: bool,
    pub files_copied: u64,
    pub bytes_copied: u64,
    /// Meetings it holds leases on now.
    pub leases: u64,
    /// Its schedule settings as it registered them (see `register_worker`).
    pub schedules: String,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PostgresState {
    /// Registers (or registers again) the worker `id`, live for `ttl` unless it beats.
    /// `schedules` is its schedule settings in a canonical text, compared with the other
    /// workers' ([`PostgresState::live_workers_scheduling_otherwise`]).
    pub async fn register_worker(
        &self,
        id: &str,
        host: &str,
        pid: u32,
        ttl: Duration,
        schedules: &str,
    ) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO workers (id, host, pid, ttl_ms, schedules) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
                    ttl_ms = excluded.ttl_ms, started = clock_timestamp(),
                    heartbeat = clock_timestamp(), stopped = FALSE,
                    schedules = excluded.schedules",
                &[&id, &host, &i64::from(pid), &millis(ttl), &schedules],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The worker's heartbeat, with its totals so far. Returns how many workers are live
    /// (itself included, at least 1).
    pub async fn beat_worker(
        &self,
        id: &str,
        files_copied: u64,
        bytes_copied: u64,
    ) -> Result<u32, StateError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE workers SET heartbeat = clock_timestamp(), files_copied = $2,
                    bytes_copied = $3, stopped = FALSE
                 WHERE id = $1",
                &[&id, &i64_of(files_copied), &i64_of(bytes_copied)],
            )
            .await
            .map_err(|e| self.err(e))?;
        let live: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM workers WHERE NOT stopped
                   AND heartbeat + ttl_ms * interval '1 millisecond' > clock_timestamp()",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?
            .try_get(0)
            .map_err(|e| self.err(e))?;
        Ok(u32::try_from(live).unwrap_or(u32::MAX).max(1))
    }

    /// The worker stopped cleanly: no longer live, its leases and claims given back at
    /// once (others need not wait for them to expire).
    pub async fn stop_worker(&self, id: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute("UPDATE workers SET stopped = TRUE WHERE id = $1", &[&id])
            .await
            .map_err(|e| self.err(e))?;
        client
            .execute(
                "UPDATE work_leases SET holder = NULL, expires_at = NULL
                 WHERE holder = $1 AND NOT done",
                &[&id],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.release_webhooks(id).await
    }

    /// The live workers (other than `id`) whose schedule settings are not `schedules`, with
    /// theirs, by id. Workers of an earlier zvm, which registered none, are left out.
    pub async fn live_workers_scheduling_otherwise(
        &self,
        id: &str,
        schedules: &str,
    ) -> Result<Vec<(String, String)>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, schedules FROM workers
                 WHERE id <> $1 AND schedules <> $2 AND schedules <> '' AND NOT stopped
                   AND heartbeat + ttl_ms * interval '1 millisecond' > clock_timestamp()
                 ORDER BY id",
                &[&id, &schedules],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| Ok((self.get(r, 0)?, self.get(r, 1)?)))
            .collect()
    }

    /// Every registered worker, the live first, then by start.
    pub async fn workers(&self) -> Result<Vec<WorkerRow>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT w.id, w.host, w.pid, w.started, w.heartbeat,
                        NOT w.stopped AND w.heartbeat + w.ttl_ms * interval '1 millisecond'
                            > clock_timestamp(),
                        w.stopped, w.files_copied, w.bytes_copied,
                        (SELECT COUNT(*) FROM work_leases l WHERE l.holder = w.id
                           AND NOT l.done AND l.expires_at > clock_timestamp()),
                        w.schedules
                 FROM workers w ORDER BY 6 DESC, w.started, w.id",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let n = |i| self.get::<i64>(r, i).map(|v| u64::try_from(v).unwrap_or(0));
                Ok(WorkerRow {
                    id: self.get(r, 0)?,
                    host: self.get(r, 1)?,
                    pid: u32::try_from(self.get::<i64>(r, 2)?).unwrap_or(0),
                    started: self.get(r, 3)?,
                    heartbeat: self.get(r, 4)?,
                    live: self.get(r, 5)?,
                    stopped: self.get(r, 6)?,
                    files_copied: n(7)?,
                    bytes_copied: n(8)?,
                    leases: n(9)?,
                    schedules: self.get(r, 10)?,
                })
            })
            .collect()
    }
}
