//! The worker's batches, against the simulator over real HTTP with a real SQLite state:
//! events queued together (a burst, or what a stopped daemon left) have their meetings
//! copied in ONE engine run with no listing, each meeting asked of Zoom once, and each
//! event settled by its own meeting: one failing meeting neither holds up nor marks the
//! others.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{account, listing_requests, sha256_of, start_in, wait_for};
use zoom_sim::{ManifestMeeting, Simulator, WebhookEvent};
use zvm_serve::envelope::{self, Incoming};
use zvm_serve::{EventRetry, Schedules};
use zvm_state::{FileStatus, NewWebhookEvent, SqliteState, StateStore, WebhookStatus};

/// Meetings whose files are all complete.
fn complete_meetings(sim: &Simulator) -> Vec<ManifestMeeting> {
    sim.manifest()
        .meetings
        .into_iter()
        .filter(|m| !m.files.is_empty() && m.files.iter().all(|f| f.is_completed()))
        .collect()
}

/// The queue's row for an envelope, as the webhook endpoint stores it.
fn queued(body: &str) -> NewWebhookEvent {
    match envelope::parse(body.as_bytes()).expect("an envelope") {
        Incoming::Event {
            event,
            meeting_uuid,
            dedup_key,
            ..
        } => NewWebhookEvent {
            dedup_key,
            event,
            meeting_uuid: Some(meeting_uuid),
            body: envelope::body_to_store(body.as_bytes()),
        },
        other => panic!("not an event to queue: {other:?}"),
    }
}

/// Queues `events` in the state of `dir`, as a daemon stopped before its worker took
/// them would have left them; the next daemon finds them all due at once.
async fn leave_queued(dir: &tempfile::TempDir, events: Vec<NewWebhookEvent>) {
    let state = SqliteState::open(&dir.path().join("state.sqlite3")).expect("state");
    state.enqueue_webhooks(events).await.expect("queued");
}

/// A failed event is tried again only after an hour: far beyond these tests.
fn patient() -> EventRetry {
    EventRetry {
        max_attempts: 5,
        delay: Duration::from_secs(3600),
    }
}

/// `zvm_engine_runs_total` read from `/metrics` with a Prometheus text parser.
async fn engine_runs(base: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text format");
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == "zvm_engine_runs_total")
        .unwrap_or_else(|| panic!("no zvm_engine_runs_total in {text}"));
    match sample.value {
        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
        ref other => panic!("{other:?}"),
    }
}

fn assert_copied(d: &common::Running, rows: &[zvm_state::FileRow], m: &ManifestMeeting) {
    for f in &m.files {
        let row = rows
            .iter()
            .find(|r| r.key.file_id == f.id)
            .unwrap_or_else(|| panic!("file {} of {} has no state row", f.id, m.uuid));
        assert_eq!(row.status, FileStatus::Verified, "{}", row.rel_path);
        assert_eq!(
            sha256_of(&d.dest.join(&row.rel_path)),
            f.sha256_hex(),
            "{}",
            row.rel_path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_queued_together_are_copied_in_one_run_without_listing_each_settled() {
    let sim = Simulator::start(account()).await.expect("simulator");
    let meetings = complete_meetings(&sim);
    assert!(
        meetings.len() >= 3,
        "the account has several complete meetings"
    );
    let mut events = Vec::new();
    for m in &meetings {
        let body = sim
            .webhook_body(&WebhookEvent::RecordingCompleted {
                meeting_uuid: m.uuid.clone(),
            })
            .expect("envelope");
        events.push(queued(&body));
    }
    // A second event about the first meeting (its summary): one more event to settle, not
    // one more request to Zoom.
    let summary = serde_json::json!({
        "event": "meeting.summary_completed",
        "event_ts": 1,
        "payload": {"account_id": "a", "object": {"meeting_uuid": meetings[0].uuid}},
    })
    .to_string();
    events.push(queued(&summary));
    let n = events.len() as u64;
    let dir = tempfile::tempdir().expect("tempdir");
    leave_queued(&dir, events).await;

    let d = start_in(&sim, dir, |_| Schedules::default(), patient()).await;
    wait_for("every event to be settled", || async {
        d.state.webhook_counts().await.unwrap().done == n
    })
    .await;

    for m in &meetings {
        let rows = d.state.files_of_meeting(&m.uuid).await.unwrap();
        assert_copied(&d, &rows, m);
    }
    let events = d.state.webhook_events().await.unwrap();
    assert!(
        events
            .iter()
            .all(|e| e.status == WebhookStatus::Done && e.attempts == 0),
        "{events:?}"
    );
    // One engine run, no listing, each meeting asked of Zoom once.
    assert_eq!(engine_runs(&d.base).await, 1.0);
    assert_eq!(
        listing_requests(&sim),
        0,
        "no listing: {:?}",
        sim.stats().requests
    );
    assert_eq!(
        sim.stats().count("GET /v2/meetings/{uuid}/recordings"),
        meetings.len() as u64,
        "{:?}",
        sim.stats().requests
    );
    d.daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_meeting_neither_holds_up_nor_marks_the_others() {
    let sim = Simulator::start(account()).await.expect("simulator");
    let meetings = complete_meetings(&sim);
    assert!(
        meetings.len() >= 2,
        "the account has several complete meetings"
    );
    let body = |uuid: &str| {
        sim.webhook_body(&WebhookEvent::RecordingCompleted {
            meeting_uuid: uuid.to_owned(),
        })
        .expect("envelope")
    };
    // A meeting Zoom does not have (404) first in the queue, then two it has.
    let missing = serde_json::json!({
        "event": "recording.completed",
        "event_ts": 7,
        "payload": {"account_id": "a", "object": {"uuid": "not-in-zoom=="}},
    })
    .to_string();
    let events = vec![
        queued(&missing),
        queued(&body(&meetings[0].uuid)),
        queued(&body(&meetings[1].uuid)),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    leave_queued(&dir, events).await;

    let d = start_in(&sim, dir, |_| Schedules::default(), patient()).await;
    wait_for("the three events to be settled", || async {
        let events = d.state.webhook_events().await.unwrap();
        events
            .iter()
            .all(|e| e.status == WebhookStatus::Done || e.attempts > 0)
    })
    .await;

    let events = d.state.webhook_events().await.unwrap();
    let by_meeting = |uuid: &str| {
        events
            .iter()
            .find(|e| e.meeting_uuid.as_deref() == Some(uuid))
            .unwrap_or_else(|| panic!("no event for {uuid}: {events:?}"))
    };
    // The missing meeting's event failed once and waits to be tried again.
    let failed = by_meeting("not-in-zoom==");
    assert_eq!(
        (failed.status, failed.attempts),
        (WebhookStatus::Queued, 1),
        "{failed:?}"
    );
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("404")),
        "{failed:?}"
    );
    // The others are done and copied, in the same single run.
    for m in &meetings[..2] {
        let e = by_meeting(&m.uuid);
        assert_eq!((e.status, e.attempts), (WebhookStatus::Done, 0), "{e:?}");
        let rows = d.state.files_of_meeting(&m.uuid).await.unwrap();
        assert_copied(&d, &rows, m);
    }
    assert_eq!(engine_runs(&d.base).await, 1.0);
    let copied: BTreeSet<String> = d
        .state
        .webhook_events()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.status == WebhookStatus::Done)
        .filter_map(|e| e.meeting_uuid)
        .collect();
    assert_eq!(copied.len(), 2, "{copied:?}");
    d.daemon.shutdown().await;
}
