//! The fleet's shared tables on the real server (`ZVM_TEST_POSTGRES_URL`), several stores
//! standing for several `zvm serve` workers on one schema: the webhook queue (SQLite's
//! semantics, plus claims taken with SKIP LOCKED), events turned into work, failed work
//! waiting out its delay, and the workers' registry.

mod support;

use std::time::Duration;

use support::TestDb;
use zvm_state::{Enqueued, NewWebhookEvent, WebhookOutcome, WebhookQueue, WebhookStatus};
use zvm_state_postgres::{PostgresState, WorkAction};

const LONG: Duration = Duration::from_secs(600);

fn event(key: &str, meeting: &str) -> NewWebhookEvent {
    NewWebhookEvent {
        dedup_key: key.into(),
        event: "recording.completed".into(),
        meeting_uuid: Some(meeting.into()),
        body: "{}".into(),
    }
}

async fn stores(db: &TestDb, n: usize) -> Vec<PostgresState> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(PostgresState::open(&db.url()).await.unwrap());
    }
    v
}

#[tokio::test]
async fn events_are_stored_once_and_claimed_by_one_worker() {
    let Some(db) = TestDb::create("events_are_stored_once_and_claimed_by_one_worker").await else {
        return;
    };
    let s = stores(&db, 2).await;
    let (a, b) = (&s[0], &s[1]);
    // Zoom's retry of an event, delivered to another worker, stores nothing.
    let first = a
        .enqueue_webhooks(vec![event("k1", "m1"), event("k2", "m2")])
        .await
        .unwrap();
    assert!(matches!(first[..], [Enqueued::New(_), Enqueued::New(_)]));
    let again = b
        .enqueue_webhooks(vec![
            event("k1", "m1"),
            event("k3", "m3"),
            event("k3", "m3"),
        ])
        .await
        .unwrap();
    assert!(
        matches!(
            again[..],
            [Enqueued::Duplicate, Enqueued::New(_), Enqueued::Duplicate]
        ),
        "{again:?}"
    );
    assert_eq!(a.webhook_counts().await.unwrap().queued, 3);

    // Two workers claim at once: each event goes to one of them.
    let (ca, cb) = tokio::join!(
        a.claim_due_webhooks("a", 2, LONG, LONG),
        b.claim_due_webhooks("b", 10, LONG, LONG)
    );
    let (ca, cb) = (ca.unwrap(), cb.unwrap());
    let mut ids: Vec<i64> = ca.iter().chain(&cb).map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every event claimed once: {ca:?} {cb:?}");
    assert_eq!(ca.len() + cb.len(), 3);
    assert!(
        a.claim_due_webhooks("a", 10, LONG, LONG)
            .await
            .unwrap()
            .is_empty(),
        "claimed events are not handed out again"
    );

    // A copy event becomes the meeting's work, in one step that marks it done; a worker
    // cannot settle what another claims.
    let mine = if ca.is_empty() { &cb } else { &ca };
    let (me, other) = if ca.is_empty() {
        ("b", "a")
    } else {
        ("a", "b")
    };
    let e = &mine[0];
    let meeting = e.meeting_uuid.clone().unwrap();
    assert!(
        a.events_to_work(other, &[(e.id, meeting.clone())])
            .await
            .unwrap()
            .is_empty(),
        "not its claim"
    );
    assert_eq!(
        a.events_to_work(me, &[(e.id, meeting.clone())])
            .await
            .unwrap(),
        vec![e.id]
    );
    let leased = b.lease_work("b", LONG, 10).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].meeting_uuid, meeting);
    assert_eq!(leased[0].action, WorkAction::Copy);
    let done = a
        .webhook_events()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == e.id)
        .unwrap();
    assert_eq!(done.status, WebhookStatus::Done);
    db.drop_schema().await;
}

#[tokio::test]
async fn a_dead_worker_s_claims_expire_and_failed_events_wait_their_delay() {
    let Some(db) =
        TestDb::create("a_dead_worker_s_claims_expire_and_failed_events_wait_their_delay").await
    else {
        return;
    };
    let s = stores(&db, 2).await;
    let (a, b) = (&s[0], &s[1]);
    a.enqueue_webhooks(vec![event("k1", "m1")]).await.unwrap();
    let got = a
        .claim_due_webhooks("a", 10, LONG, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    // "a" dies: once its claim expires, "b" takes the event.
    let mut taken = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        taken = b.claim_due_webhooks("b", 10, LONG, LONG).await.unwrap();
        if !taken.is_empty() {
            break;
        }
    }
    assert_eq!(taken.len(), 1, "the expired claim was taken over");
    // A failed attempt: counted, and not due again before the retry delay.
    b.settle_claimed_webhooks(
        "b",
        vec![WebhookOutcome::Failed {
            id: taken[0].id,
            error: "boom".into(),
            give_up: false,
        }],
    )
    .await
    .unwrap();
    assert!(
        b.claim_due_webhooks("b", 10, LONG, LONG)
            .await
            .unwrap()
            .is_empty(),
        "waiting out its delay"
    );
    let again = b
        .claim_due_webhooks("b", 10, Duration::ZERO, LONG)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_error.as_deref(), Some("boom"));
    db.drop_schema().await;
}

#[tokio::test]
async fn work_offered_again_while_held_gets_one_more_pass_and_failures_wait() {
    let Some(db) =
        TestDb::create("work_offered_again_while_held_gets_one_more_pass_and_failures_wait").await
    else {
        return;
    };
    let s = stores(&db, 2).await;
    let (a, b) = (&s[0], &s[1]);
    let m = vec!["m1".to_string()];
    assert_eq!(
        a.offer_work_for(&m, WorkAction::Copy, true).await.unwrap(),
        1
    );
    assert_eq!(a.lease_work("a", LONG, 5).await.unwrap().len(), 1);
    // A late transcript's webhook while "a" copies: finishing does not close the row.
    b.offer_work_for(&m, WorkAction::Copy, true).await.unwrap();
    assert!(a.finish_work("a", "m1").await.unwrap());
    let next = b.lease_work("b", LONG, 5).await.unwrap();
    assert_eq!(next.len(), 1, "one more pass for the new work");
    assert!(b.finish_work("b", "m1").await.unwrap());
    assert!(b.lease_work("b", LONG, 5).await.unwrap().is_empty());

    // A move offered for a done copy opens it as a move.
    b.offer_work_for(&m, WorkAction::Move, true).await.unwrap();
    let moved = a.lease_work("a", LONG, 5).await.unwrap();
    assert_eq!(moved[0].action, WorkAction::Move);
    assert!(
        a.holds_work("a", "m1", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(!b.holds_work("b", "m1", Duration::ZERO).await.unwrap());
    assert!(
        !a.holds_work("a", "m1", LONG * 2).await.unwrap(),
        "not with less of the lease left than the margin"
    );

    // A failure waits its delay; the budget spent, the row is set aside.
    assert!(a.fail_work("a", "m1", "boom", LONG, 2).await.unwrap());
    assert!(
        b.lease_work("b", LONG, 5).await.unwrap().is_empty(),
        "waiting"
    );
    db.admin(&format!(
        "UPDATE {}.work_leases SET not_before = NULL",
        db.schema
    ))
    .await;
    assert_eq!(b.lease_work("b", LONG, 5).await.unwrap().len(), 1);
    assert!(
        b.fail_work("b", "m1", "boom", Duration::ZERO, 2)
            .await
            .unwrap()
    );
    assert!(
        b.lease_work("b", LONG, 5).await.unwrap().is_empty(),
        "given up"
    );
    let c = b.work_counts().await.unwrap();
    assert_eq!((c.open, c.gave_up), (0, 1));
    db.drop_schema().await;
}

#[tokio::test]
async fn workers_are_live_while_they_beat_and_stopping_gives_their_leases_back() {
    let Some(db) =
        TestDb::create("workers_are_live_while_they_beat_and_stopping_gives_their_leases_back")
            .await
    else {
        return;
    };
    let s = stores(&db, 3).await;
    for (i, st) in s.iter().enumerate() {
        st.register_worker(
            &format!("w{i}"),
            "host",
            100 + i as u32,
            LONG,
            "sync every 1h",
        )
        .await
        .unwrap();
    }
    assert_eq!(s[0].beat_worker("w0", 1, 10).await.unwrap(), 3);
    // w2 registered with a short promise and never beats again: no longer live.
    s[2].register_worker(
        "w2",
        "host",
        102,
        Duration::from_millis(200),
        "sync every 1h",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s[0].beat_worker("w0", 2, 20).await.unwrap(), 2);

    s[1].offer_work_for(&["m1".to_string()], WorkAction::Copy, true)
        .await
        .unwrap();
    assert_eq!(s[1].lease_work("w1", LONG, 5).await.unwrap().len(), 1);
    s[1].stop_worker("w1").await.unwrap();
    assert_eq!(
        s[0].lease_work("w0", LONG, 5).await.unwrap().len(),
        1,
        "a stopped worker's lease is free at once"
    );
    let rows = s[0].workers().await.unwrap();
    let w0 = rows.iter().find(|w| w.id == "w0").unwrap();
    assert!(w0.live && !w0.stopped);
    assert_eq!((w0.files_copied, w0.bytes_copied, w0.leases), (2, 20, 1));
    let w1 = rows.iter().find(|w| w.id == "w1").unwrap();
    assert!(!w1.live && w1.stopped);
    let w2 = rows.iter().find(|w| w.id == "w2").unwrap();
    assert!(!w2.live && !w2.stopped, "dead, not stopped");
    assert_eq!(s[0].beat_worker("w0", 2, 20).await.unwrap(), 1);
    db.drop_schema().await;
}

/// A worker learns which live workers schedule otherwise than it does: not itself, not the
/// dead or stopped, not a worker of an earlier zvm that recorded no schedules.
#[tokio::test]
async fn workers_whose_schedules_differ_are_found() {
    let Some(db) = TestDb::create("workers_whose_schedules_differ_are_found").await else {
        return;
    };
    let s = stores(&db, 1).await;
    let st = &s[0];
    let mine = "sync every 15m; move none";
    let theirs = "sync every 1h; move none";
    st.register_worker("w1", "host", 1, LONG, mine)
        .await
        .unwrap();
    st.register_worker("w2", "host", 2, LONG, mine)
        .await
        .unwrap();
    assert!(
        st.live_workers_scheduling_otherwise("w1", mine)
            .await
            .unwrap()
            .is_empty()
    );
    st.register_worker("w3", "host", 3, LONG, theirs)
        .await
        .unwrap();
    st.register_worker("old", "host", 4, LONG, "")
        .await
        .unwrap();
    st.register_worker("gone", "host", 5, LONG, theirs)
        .await
        .unwrap();
    st.stop_worker("gone").await.unwrap();
    assert_eq!(
        st.live_workers_scheduling_otherwise("w1", mine)
            .await
            .unwrap(),
        vec![("w3".to_owned(), theirs.to_owned())]
    );
    // w3 sees both others as different.
    let other: Vec<String> = st
        .live_workers_scheduling_otherwise("w3", theirs)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(other, ["w1", "w2"]);
    let rows = st.workers().await.unwrap();
    let w3 = rows.iter().find(|w| w.id == "w3").unwrap();
    assert_eq!(w3.schedules, theirs);
    db.drop_schema().await;
}
