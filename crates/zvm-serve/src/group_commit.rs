//! Group commit of accepted webhook events: the handlers hand their event to one writer
//! task, which stores everything waiting in one transaction and then answers each handler.
//!
//! Why: one commit per event on the state's one connection made every request wait for
//! the commits of all the requests ahead of it, each in its own blocking task. Here a burst
//! of N events costs one transaction and one disk sync, and while a commit runs the next
//! events gather for the following one. Nothing changes for Zoom: a handler still answers
//! 200 only once its own event is committed (and synced: see
//! `SqliteState::enqueue_webhooks`), so a crash or a power cut loses no answered event.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
#[cfg(test)]
use zvm_state::SqliteState;
use zvm_state::{Enqueued, NewWebhookEvent, WebhookQueue};

/// Events written in one transaction at most: bounds one commit's time, so the events
/// behind it are not kept waiting long.
const MAX_BATCH: usize = 512;

/// Events waiting for the writer at most; a handler beyond it waits for room (and is
/// answered 503 by its deadline if none comes).
const CHANNEL: usize = 4096;

type Reply = oneshot::Sender<Result<Enqueued, String>>;

/// The handlers' side of the writer. Cheap to share; the writer task ends when the last
/// `QueueWriter` is dropped, after storing what it was given.
pub struct QueueWriter {
    tx: mpsc::Sender<(NewWebhookEvent, Reply)>,
}

impl QueueWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(state: Arc<dyn WebhookQueue>) -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL);
        tokio::spawn(write_batches(state, rx));
        Self { tx }
    }

    /// Stores `event`; returns once it is committed. `Err` says why it is not (the state
    /// failed, or the writer is gone); the caller answers 503 and Zoom retries.
    pub async fn enqueue(&self, event: NewWebhookEvent) -> Result<Enqueued, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((event, reply))
            .await
            .map_err(|_| "the queue's writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the queue's writer stopped before committing".to_owned())?
    }
}

async fn write_batches(
    state: Arc<dyn WebhookQueue>,
    mut rx: mpsc::Receiver<(NewWebhookEvent, Reply)>,
) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    // recv_many waits for at least one, then takes whatever else is already there.
    while rx.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        let (events, replies): (Vec<NewWebhookEvent>, Vec<Reply>) = waiting.drain(..).unzip();
        let n = events.len();
        match state.enqueue_webhooks(events).await {
            Ok(outcomes) if outcomes.len() == n => {
                let new = outcomes
                    .iter()
                    .filter(|o| matches!(o, Enqueued::New(_)))
                    .count();
                tracing::info!(
                    new,
                    duplicates = n - new,
                    "webhook events queued (committed together)"
                );
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A handler that gave up (its deadline) is gone: its event is stored
                    // anyway, and Zoom's retry of it is a duplicate.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(outcomes) => {
                let e = format!("{n} events written, {} outcomes", outcomes.len());
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            Err(e) => {
                let e = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: &str) -> NewWebhookEvent {
        NewWebhookEvent {
            dedup_key: key.into(),
            event: "recording.completed".into(),
            meeting_uuid: Some(format!("m-{key}")),
            body: "{}".into(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_handler_gets_its_own_event_s_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let state = Arc::new(SqliteState::open(&dir.path().join("s.sqlite3")).unwrap());
        let writer = Arc::new(QueueWriter::start(state.clone()));
        let mut handlers = tokio::task::JoinSet::new();
        for i in 0..300 {
            let w = writer.clone();
            // Every tenth key is sent twice: one of the two is new, the other a duplicate.
            let key = if i % 10 == 9 { i - 1 } else { i };
            handlers.spawn(async move { (key, w.enqueue(event(&key.to_string())).await) });
        }
        let mut new = std::collections::BTreeMap::new();
        let mut duplicates = 0;
        while let Some(r) = handlers.join_next().await {
            match r.unwrap() {
                (key, Ok(Enqueued::New(id))) => assert!(new.insert(key, id).is_none()),
                (_, Ok(Enqueued::Duplicate)) => duplicates += 1,
                (key, Err(e)) => panic!("{key}: {e}"),
            }
        }
        assert_eq!((new.len(), duplicates), (270, 30));
        // Each id a handler was given is the row of its own event.
        let rows = state.webhook_events().await.unwrap();
        assert_eq!(rows.len(), 270);
        for row in rows {
            let key: i32 = row.dedup_key.parse().unwrap();
            assert_eq!(new[&key], row.id, "{row:?}");
        }
    }
}
