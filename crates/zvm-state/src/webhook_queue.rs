//! The daemon's durable work: webhook events accepted from Zoom, queued here before Zoom is
//! answered, and the last run of each schedule.
//!
//! An event is stored under a key that Zoom's retries of the same event share (the daemon
//! chooses it: event name, `event_ts` and meeting), so a retry arriving after the first
//! delivery was stored inserts nothing and is done once. The queue is a table, not memory:
//! a daemon killed right after answering 200 finds the event still `queued` when it starts
//! again. These are methods of [`SqliteState`]; the engine never reads them. The daemon's
//! HTTP side reaches them through [`WebhookQueue`], which a PostgreSQL store shared by a
//! fleet of daemons implements too (zvm-state-postgres).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use crate::sqlite::{NOW, SqliteState};
use crate::{StateError, StateStore};

/// An accepted event to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEvent {
    /// Equal for every delivery of one event (Zoom's retries), different otherwise.
    pub dedup_key: String,
    /// Zoom's event name, e.g. `recording.completed`.
    pub event: String,
    /// The meeting it is about, when it names one.
    pub meeting_uuid: Option<String>,
    /// The request body as received (the worker reads what else it needs from it).
    pub body: String,
}

/// What queuing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored under this id.
    New(i64),
    /// An event with the same key is stored already (a retry by Zoom): nothing changed.
    Duplicate,
}

/// Where a queued event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    Queued,
    Done,
    Failed,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Queued => "queued",
            WebhookStatus::Done => "done",
            WebhookStatus::Failed => "failed",
        }
    }

    /// The status [`Self::as_str`] wrote.
    pub fn parse(s: &str) -> Result<Self, StateError> {
        match s {
            "queued" => Ok(WebhookStatus::Queued),
            "done" => Ok(WebhookStatus::Done),
            "failed" => Ok(WebhookStatus::Failed),
            other => Err(StateError::Invalid {
                what: format!("unknown webhook event status {other:?}"),
            }),
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEventRow {
    pub id: i64,
    pub dedup_key: String,
    pub event: String,
    pub meeting_uuid: Option<String>,
    pub body: String,
    pub status: WebhookStatus,
    /// Times the worker tried it and failed.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub received_at: String,
}

/// How many stored events are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookCounts {
    pub queued: u64,
    pub done: u64,
    pub failed: u64,
}

/// How one event's work ended (see [`SqliteState::settle_webhooks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Done: never handed out again.
    Done(i64),
    /// An attempt failed: counted, the error kept; the event stays queued, or is set aside
    /// as failed when `give_up`.
    Failed {
        id: i64,
        error: String,
        give_up: bool,
    },
}

impl WebhookOutcome {
    /// The event it settles.
    pub fn id(&self) -> i64 {
        match self {
            WebhookOutcome::Done(id) | WebhookOutcome::Failed { id, .. } => *id,
        }
    }
}

/// Sets an event's status; `?3` is 1 for a failed attempt (counted), 0 otherwise.
fn set_webhook_sql() -> String {
    format!(
        "UPDATE webhook_events SET status = ?2, attempts = attempts + ?3,
            last_error = COALESCE(?4, last_error), updated_at = {NOW} WHERE id = ?1"
    )
}

const EVENT_COLUMNS: &str =
    "id, dedup_key, event, meeting_uuid, body, status, attempts, last_error, received_at";

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(WebhookEventRow, String)> {
    let attempts: i64 = r.get(6)?;
    let status: String = r.get(5)?;
    Ok((
        WebhookEventRow {
            id: r.get(0)?,
            dedup_key: r.get(1)?,
            event: r.get(2)?,
            meeting_uuid: r.get(3)?,
            body: r.get(4)?,
            status: WebhookStatus::Queued,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            last_error: r.get(7)?,
            received_at: r.get(8)?,
        },
        status,
    ))
}

fn with_status(
    (mut row, status): (WebhookEventRow, String),
) -> Result<WebhookEventRow, StateError> {
    row.status = WebhookStatus::parse(&status)?;
    Ok(row)
}

/// The inserts of [`SqliteState::enqueue_webhooks`], in one immediate transaction.
fn insert_events(
    c: &mut rusqlite::Connection,
    events: &[NewWebhookEvent],
) -> rusqlite::Result<Vec<Enqueued>> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(events.len());
    {
        let mut st = tx.prepare_cached(&format!(
            "INSERT INTO webhook_events (dedup_key, event, meeting_uuid, body, status,
                received_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', {NOW}, {NOW})
             ON CONFLICT(dedup_key) DO NOTHING"
        ))?;
        for e in events {
            let inserted = st.execute(params![e.dedup_key, e.event, e.meeting_uuid, e.body])?;
            out.push(if inserted == 1 {
                Enqueued::New(tx.last_insert_rowid())
            } else {
                Enqueued::Duplicate
            });
        }
    }
    tx.commit()?;
    Ok(out)
}

impl SqliteState {
    /// Stores an accepted event as `queued`, unless one with its key is stored already.
    /// Returns once the row is committed durably (see [`Self::enqueue_webhooks`]): the
    /// caller may then answer Zoom.
    pub async fn enqueue_webhook(&self, e: &NewWebhookEvent) -> Result<Enqueued, StateError> {
        let mut done = self.enqueue_webhooks(vec![e.clone()]).await?;
        done.pop().ok_or_else(|| StateError::Invalid {
            what: "a batch of one webhook event gave no outcome".into(),
        })
    }

    /// Stores accepted events in one transaction (the daemon's group commit: every event
    /// waiting is written with one commit), each as `queued` unless one with its key is
    /// stored already, a key twice in `events` included. The outcomes are in the order of
    /// `events`; all are stored or none.
    ///
    /// The commit is made with `synchronous=FULL`: SQLite syncs the WAL to disk before the
    /// commit returns, so an event the caller then answers 200 survives a power cut, not
    /// only a crash of the process. The rest of the state keeps `NORMAL` (a lost progress
    /// row costs a re-check; a lost event would be a recording never copied). Batching is
    /// what makes the sync affordable: one per batch, not one per event.
    pub async fn enqueue_webhooks(
        &self,
        events: Vec<NewWebhookEvent>,
    ) -> Result<Vec<Enqueued>, StateError> {
        self.with(move |c, p| {
            let err = |e| StateError::from_sqlite(p, e);
            c.execute_batch("PRAGMA synchronous=FULL").map_err(err)?;
            let outcome = insert_events(c, &events).map_err(err);
            // Back to the connection's setting whatever happened; a failure here would
            // leave only more syncing than needed, never less.
            let restored = c.execute_batch("PRAGMA synchronous=NORMAL").map_err(err);
            let outcome = outcome?;
            restored?;
            Ok(outcome)
        })
        .await
    }

    /// Up to `limit` queued events, oldest first.
    pub async fn queued_webhooks(&self, limit: u32) -> Result<Vec<WebhookEventRow>, StateError> {
        self.with(move |c, p| {
            let rows: Vec<(WebhookEventRow, String)> = c
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE status = 'queued'
                     ORDER BY id LIMIT ?1"
                ))
                .and_then(|mut st| st.query_map([limit], event_row)?.collect())
                .map_err(|e| StateError::from_sqlite(p, e))?;
            rows.into_iter().map(with_status).collect()
        })
        .await
    }

    /// Up to `limit` queued events whose work is due: first those never tried, oldest
    /// first, then those whose last failed attempt is at least `retry_delay` old. Events
    /// waiting out their delay are passed over, and a new event comes before the retries,
    /// so failing events, however many, never hold up a newer one.
    pub async fn due_webhooks(
        &self,
        limit: u32,
        retry_delay: std::time::Duration,
    ) -> Result<Vec<WebhookEventRow>, StateError> {
        // `updated_at` is written by NOW in the same fixed-width format as this cut-off, so
        // the text comparison is a time comparison.
        let cutoff = format!("-{:.3} seconds", retry_delay.as_secs_f64());
        self.with(move |c, p| {
            let rows: Vec<(WebhookEventRow, String)> = c
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE status = 'queued'
                       AND (attempts = 0
                            OR updated_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2))
                     ORDER BY attempts > 0, id LIMIT ?1"
                ))
                .and_then(|mut st| st.query_map(params![limit, cutoff], event_row)?.collect())
                .map_err(|e| StateError::from_sqlite(p, e))?;
            rows.into_iter().map(with_status).collect()
        })
        .await
    }

    /// Every stored event, oldest first (tests and `/status`).
    pub async fn webhook_events(&self) -> Result<Vec<WebhookEventRow>, StateError> {
        self.with(move |c, p| {
            let rows: Vec<(WebhookEventRow, String)> = c
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM webhook_events ORDER BY id"
                ))
                .and_then(|mut st| st.query_map([], event_row)?.collect())
                .map_err(|e| StateError::from_sqlite(p, e))?;
            rows.into_iter().map(with_status).collect()
        })
        .await
    }

    /// The event's work is done: it is never handed out again.
    pub async fn webhook_done(&self, id: i64) -> Result<(), StateError> {
        self.set_webhook(id, WebhookStatus::Done, None).await
    }

    /// One attempt at the event's work failed: counted, the error kept, and the event stays
    /// queued (`give_up: false`) or is set aside as failed (`give_up: true`).
    pub async fn webhook_attempt_failed(
        &self,
        id: i64,
        error: &str,
        give_up: bool,
    ) -> Result<(), StateError> {
        let status = if give_up {
            WebhookStatus::Failed
        } else {
            WebhookStatus::Queued
        };
        self.set_webhook(id, status, Some(error.to_owned())).await
    }

    /// Records the outcomes of many events' work in one transaction (the worker settles a
    /// whole batch at once): each as [`Self::webhook_done`] or
    /// [`Self::webhook_attempt_failed`] would.
    pub async fn settle_webhooks(&self, outcomes: Vec<WebhookOutcome>) -> Result<(), StateError> {
        self.with(move |c, p| {
            let err = |e| StateError::from_sqlite(p, e);
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            {
                let mut st = tx.prepare_cached(&set_webhook_sql()).map_err(err)?;
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
                    st.execute(params![
                        o.id(),
                        status.as_str(),
                        i64::from(error.is_some()),
                        error
                    ])
                    .map_err(err)?;
                }
            }
            tx.commit().map_err(err)
        })
        .await
    }

    async fn set_webhook(
        &self,
        id: i64,
        status: WebhookStatus,
        error: Option<String>,
    ) -> Result<(), StateError> {
        self.with(move |c, p| {
            let failed = i64::from(error.is_some());
            c.prepare_cached(&set_webhook_sql())
                .and_then(|mut st| st.execute(params![id, status.as_str(), failed, error]))
                .map_err(|e| StateError::from_sqlite(p, e))?;
            Ok(())
        })
        .await
    }

    /// How many events are queued, done and failed.
    pub async fn webhook_counts(&self) -> Result<WebhookCounts, StateError> {
        self.with(move |c, p| {
            let rows: Vec<(String, i64)> = c
                .prepare_cached("SELECT status, COUNT(*) FROM webhook_events GROUP BY status")
                .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(|e| StateError::from_sqlite(p, e))?;
            let mut counts = WebhookCounts::default();
            for (status, n) in rows {
                let n = u64::try_from(n).unwrap_or(0);
                match WebhookStatus::parse(&status)? {
                    WebhookStatus::Queued => counts.queued = n,
                    WebhookStatus::Done => counts.done = n,
                    WebhookStatus::Failed => counts.failed = n,
                }
            }
            Ok(counts)
        })
        .await
    }

    /// When the schedule `name` last ran (RFC 3339, as it was recorded), if ever.
    pub async fn last_scheduled_run(&self, name: &str) -> Result<Option<String>, StateError> {
        let name = name.to_owned();
        self.with(move |c, p| {
            c.prepare_cached("SELECT last_run FROM scheduled_runs WHERE name = ?1")
                .and_then(|mut st| st.query_row([name], |r| r.get(0)).optional())
                .map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    /// Records that the schedule `name` ran at `at` (RFC 3339).
    pub async fn record_scheduled_run(&self, name: &str, at: &str) -> Result<(), StateError> {
        let (name, at) = (name.to_owned(), at.to_owned());
        self.with(move |c, p| {
            c.prepare_cached(
                "INSERT INTO scheduled_runs (name, last_run) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET last_run = excluded.last_run",
            )
            .and_then(|mut st| st.execute(params![name, at]))
            .map_err(|e| StateError::from_sqlite(p, e))?;
            Ok(())
        })
        .await
    }
}

/// The queue as the daemon's intake, `/status` and `/metrics` use it, whatever store holds
/// it: stores accepted events durably, counts them, and keeps the schedules' last runs.
/// Each store keeps SQLite's semantics: an event's key inserts it once, and a call returns
/// only once what it wrote is durable.
#[async_trait]
pub trait WebhookQueue: StateStore {
    /// Stores accepted events in one transaction, as [`SqliteState::enqueue_webhooks`].
    async fn enqueue_webhooks(
        &self,
        events: Vec<NewWebhookEvent>,
    ) -> Result<Vec<Enqueued>, StateError>;
    /// How many events are queued, done and failed.
    async fn webhook_counts(&self) -> Result<WebhookCounts, StateError>;
    /// When the schedule `name` last ran (RFC 3339), if ever.
    async fn last_scheduled_run(&self, name: &str) -> Result<Option<String>, StateError>;
    /// Records that the schedule `name` ran at `at` (RFC 3339).
    async fn record_scheduled_run(&self, name: &str, at: &str) -> Result<(), StateError>;
}

#[async_trait]
impl WebhookQueue for SqliteState {
    async fn enqueue_webhooks(
        &self,
        events: Vec<NewWebhookEvent>,
    ) -> Result<Vec<Enqueued>, StateError> {
        SqliteState::enqueue_webhooks(self, events).await
    }
    async fn webhook_counts(&self) -> Result<WebhookCounts, StateError> {
        SqliteState::webhook_counts(self).await
    }
    async fn last_scheduled_run(&self, name: &str) -> Result<Option<String>, StateError> {
        SqliteState::last_scheduled_run(self, name).await
    }
    async fn record_scheduled_run(&self, name: &str, at: &str) -> Result<(), StateError> {
        SqliteState::record_scheduled_run(self, name, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: &str) -> NewWebhookEvent {
        NewWebhookEvent {
            dedup_key: key.into(),
            event: "recording.completed".into(),
            meeting_uuid: Some("u1".into()),
            body: "{}".into(),
        }
    }

    #[tokio::test]
    async fn a_retry_of_one_event_is_stored_once_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let st = SqliteState::open(&path).unwrap();
        let first = st.enqueue_webhook(&event("k1")).await.unwrap();
        assert!(matches!(first, Enqueued::New(_)));
        assert_eq!(
            st.enqueue_webhook(&event("k1")).await.unwrap(),
            Enqueued::Duplicate
        );
        assert!(matches!(
            st.enqueue_webhook(&event("k2")).await.unwrap(),
            Enqueued::New(_)
        ));
        drop(st);
        let st = SqliteState::open(&path).unwrap();
        let queued = st.queued_webhooks(10).await.unwrap();
        assert_eq!(
            queued
                .iter()
                .map(|r| r.dedup_key.as_str())
                .collect::<Vec<_>>(),
            ["k1", "k2"]
        );
        st.webhook_done(queued[0].id).await.unwrap();
        st.webhook_attempt_failed(queued[1].id, "boom", false)
            .await
            .unwrap();
        let left = st.queued_webhooks(10).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (left[0].attempts, left[0].last_error.as_deref()),
            (1, Some("boom"))
        );
        st.webhook_attempt_failed(queued[1].id, "again", true)
            .await
            .unwrap();
        assert_eq!(
            st.webhook_counts().await.unwrap(),
            WebhookCounts {
                queued: 0,
                done: 1,
                failed: 1
            }
        );
    }

    #[tokio::test]
    async fn a_batch_is_stored_in_order_with_its_duplicates_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let st = SqliteState::open(&path).unwrap();
        st.enqueue_webhook(&event("old")).await.unwrap();
        let got = st
            .enqueue_webhooks(vec![event("a"), event("old"), event("b"), event("a")])
            .await
            .unwrap();
        assert!(matches!(got[0], Enqueued::New(_)), "{got:?}");
        assert_eq!(got[1], Enqueued::Duplicate, "stored by an earlier batch");
        assert!(matches!(got[2], Enqueued::New(_)), "{got:?}");
        assert_eq!(got[3], Enqueued::Duplicate, "twice in one batch");
        // The rest of the state keeps its own durability setting (1 = NORMAL).
        let sync: i64 = st
            .with(|c, p| {
                c.query_row("PRAGMA synchronous", [], |r| r.get(0))
                    .map_err(|e| StateError::from_sqlite(p, e))
            })
            .await
            .unwrap();
        assert_eq!(sync, 1);
        drop(st);
        let st = SqliteState::open(&path).unwrap();
        let keys: Vec<String> = st
            .queued_webhooks(10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.dedup_key)
            .collect();
        assert_eq!(keys, ["old", "a", "b"]);
    }

    #[tokio::test]
    async fn events_waiting_out_their_retry_delay_are_passed_over() {
        let st = SqliteState::open_in_memory().unwrap();
        let mut ids = Vec::new();
        for k in ["failed-1", "failed-2", "new"] {
            match st.enqueue_webhook(&event(k)).await.unwrap() {
                Enqueued::New(id) => ids.push(id),
                Enqueued::Duplicate => unreachable!(),
            }
        }
        st.webhook_attempt_failed(ids[0], "boom", false)
            .await
            .unwrap();
        st.webhook_attempt_failed(ids[1], "boom", false)
            .await
            .unwrap();
        let keys = |rows: Vec<WebhookEventRow>| -> Vec<String> {
            rows.into_iter().map(|r| r.dedup_key).collect()
        };
        let hour = std::time::Duration::from_secs(3600);
        // Within their hour: only the new one, even with room for one event only.
        assert_eq!(keys(st.due_webhooks(1, hour).await.unwrap()), ["new"]);
        // No delay: all of them, the new one first, then the retries, oldest first.
        assert_eq!(
            keys(
                st.due_webhooks(10, std::time::Duration::ZERO)
                    .await
                    .unwrap()
            ),
            ["new", "failed-1", "failed-2"]
        );
    }

    #[tokio::test]
    async fn a_batch_of_outcomes_settles_each_event_as_told() {
        let st = SqliteState::open_in_memory().unwrap();
        let mut ids = Vec::new();
        for k in ["done", "retry", "give-up"] {
            match st.enqueue_webhook(&event(k)).await.unwrap() {
                Enqueued::New(id) => ids.push(id),
                Enqueued::Duplicate => unreachable!(),
            }
        }
        st.settle_webhooks(vec![
            WebhookOutcome::Done(ids[0]),
            WebhookOutcome::Failed {
                id: ids[1],
                error: "404".into(),
                give_up: false,
            },
            WebhookOutcome::Failed {
                id: ids[2],
                error: "gone".into(),
                give_up: true,
            },
        ])
        .await
        .unwrap();
        let rows = st.webhook_events().await.unwrap();
        let got: Vec<(WebhookStatus, u32, Option<&str>)> = rows
            .iter()
            .map(|r| (r.status, r.attempts, r.last_error.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (WebhookStatus::Done, 0, None),
                (WebhookStatus::Queued, 1, Some("404")),
                (WebhookStatus::Failed, 1, Some("gone")),
            ]
        );
    }

    #[tokio::test]
    async fn schedules_remember_their_last_run() {
        let st = SqliteState::open_in_memory().unwrap();
        assert_eq!(st.last_scheduled_run("sync").await.unwrap(), None);
        st.record_scheduled_run("sync", "2026-01-01T00:00:00Z")
            .await
            .unwrap();
        st.record_scheduled_run("sync", "2026-01-02T00:00:00Z")
            .await
            .unwrap();
        assert_eq!(
            st.last_scheduled_run("sync").await.unwrap().as_deref(),
            Some("2026-01-02T00:00:00Z")
        );
    }
}
