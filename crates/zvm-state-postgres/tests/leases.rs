//! Leases on work between workers sharing one database (issue 19), against the real server
//! (`ZVM_TEST_POSTGRES_URL`): two stores stand for two workers on one schema.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::TestDb;
use zvm_state_postgres::PostgresState;

/// Longer than any test takes: a lease of this length never expires during one.
const LONG: Duration = Duration::from_secs(600);

async fn two_workers(db: &TestDb) -> (PostgresState, PostgresState) {
    (
        PostgresState::open(&db.url()).await.unwrap(),
        PostgresState::open(&db.url()).await.unwrap(),
    )
}

fn uuids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("meeting-{i:03}/+==")).collect()
}

#[tokio::test]
async fn a_meeting_is_leased_by_one_worker_at_a_time() {
    let Some(db) = TestDb::create("a_meeting_is_leased_by_one_worker_at_a_time").await else {
        return;
    };
    let (a, b) = two_workers(&db).await;
    let work = uuids(1);
    assert_eq!(a.offer_work(&work).await.unwrap(), 1);
    assert_eq!(b.offer_work(&work).await.unwrap(), 0, "offered once");

    let got = a.lease_work("a", LONG, 5).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].meeting_uuid, work[0]);
    assert!(
        b.lease_work("b", LONG, 5).await.unwrap().is_empty(),
        "a held meeting is not handed to another worker"
    );
    // The holder renews; another worker cannot renew or finish what it does not hold.
    assert_eq!(a.heartbeat("a", &work, LONG).await.unwrap().len(), 1);
    assert!(b.heartbeat("b", &work, LONG).await.unwrap().is_empty());
    assert!(!b.finish_work("b", &work[0]).await.unwrap());
    assert!(a.finish_work("a", &work[0]).await.unwrap());
    assert!(
        b.lease_work("b", LONG, 5).await.unwrap().is_empty(),
        "a finished meeting is not handed out again"
    );
    db.drop_schema().await;
}

#[tokio::test]
async fn an_expired_lease_is_taken_over() {
    let Some(db) = TestDb::create("an_expired_lease_is_taken_over").await else {
        return;
    };
    let (a, b) = two_workers(&db).await;
    let work = uuids(1);
    a.offer_work(&work).await.unwrap();
    // Worker a takes the meeting, then stops renewing (it died).
    let ttl = Duration::from_millis(300);
    assert_eq!(a.lease_work("a", ttl, 1).await.unwrap().len(), 1);
    // Lower bound on an enforced delay: past the lease's end on the server's clock.
    tokio::time::sleep(ttl * 3).await;
    let taken = b.lease_work("b", LONG, 1).await.unwrap();
    assert_eq!(taken.len(), 1, "the expired lease is taken over");
    assert_eq!(taken[0].meeting_uuid, work[0]);
    // The old holder learns it lost the meeting and cannot finish it.
    assert!(a.heartbeat("a", &work, LONG).await.unwrap().is_empty());
    assert!(!a.finish_work("a", &work[0]).await.unwrap());
    assert!(b.finish_work("b", &work[0]).await.unwrap());
    assert_eq!(
        db.count("SELECT leased FROM work_leases").await,
        2,
        "handed out twice: once to a, once to b"
    );
    db.drop_schema().await;
}

/// A meeting another worker is leasing at this very moment (its row locked in an open
/// transaction) is skipped, not waited for: the next one is handed out at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_being_leased_is_skipped_not_waited_for() {
    let Some(db) = TestDb::create("a_row_being_leased_is_skipped").await else {
        return;
    };
    let (a, _) = two_workers(&db).await;
    let work = uuids(2);
    a.offer_work(&work).await.unwrap();
    // Another worker in the middle of taking meeting 0: its row is locked until it commits.
    let (other, conn) = tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    other
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM work_leases WHERE meeting_uuid = '{}' FOR UPDATE",
            work[0]
        ))
        .await
        .unwrap();
    // A safety net only: a lease that waits for the lock would wait for as long as the
    // other transaction stays open, i.e. past this.
    let got = tokio::time::timeout(Duration::from_secs(60), a.lease_work("a", LONG, 1))
        .await
        .expect("lease_work waited on a locked row instead of skipping it")
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].meeting_uuid, work[1],
        "the locked meeting is skipped"
    );
    other.batch_execute("ROLLBACK").await.unwrap();
    drop(other);
    let _ = conn.await;
    db.drop_schema().await;
}

/// Four workers leasing from one pile at the same time, one meeting at a time: every
/// meeting is handed out exactly once and finished by the worker that got it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_leasing_together_never_share_a_meeting() {
    let Some(db) = TestDb::create("workers_leasing_together").await else {
        return;
    };
    let (a, b) = two_workers(&db).await;
    let (c, d) = two_workers(&db).await;
    let work = uuids(200);
    a.offer_work(&work).await.unwrap();
    let run = |store: PostgresState, name: &'static str| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.lease_work(name, LONG, 1).await.unwrap();
                let Some(lease) = got.into_iter().next() else {
                    break;
                };
                assert!(store.finish_work(name, &lease.meeting_uuid).await.unwrap());
                mine.push(lease.meeting_uuid);
            }
            mine
        })
    };
    let (from_a, from_b, from_c, from_d) =
        tokio::join!(run(a, "a"), run(b, "b"), run(c, "c"), run(d, "d"));
    let mut by_meeting: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (who, got) in [
        ("a", from_a.unwrap()),
        ("b", from_b.unwrap()),
        ("c", from_c.unwrap()),
        ("d", from_d.unwrap()),
    ] {
        for m in got {
            by_meeting.entry(m).or_default().push(who);
        }
    }
    assert_eq!(by_meeting.len(), work.len(), "every meeting was done");
    for (m, who) in &by_meeting {
        assert_eq!(who.len(), 1, "{m} was leased by {who:?}");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM work_leases WHERE done AND leased = 1")
            .await,
        work.len() as i64
    );
    db.drop_schema().await;
}
