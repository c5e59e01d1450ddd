//! The PostgreSQL state store against a real server (`ZVM_TEST_POSTGRES_URL`, which
//! `.ci/run` sets): the same conformance suite as SQLite, unchanged, plus what only a shared
//! server has (workers migrating at once, a schema newer than this zvm, a server that is
//! not there). Each test works in a schema of its own.

mod support;

use std::sync::Arc;

use support::TestDb;
use zvm_state::{StateError, StateStore, conformance};
use zvm_state_postgres::{PostgresState, SCHEMA_VERSION};

#[tokio::test]
async fn passes_the_conformance_suite() {
    let Some(db) = TestDb::create("passes_the_conformance_suite").await else {
        return;
    };
    let store = PostgresState::open(&db.url()).await.unwrap();
    conformance::run_all(&store).await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime_through_a_dyn_arc() {
    let Some(db) = TestDb::create("works_on_a_multi_thread_runtime").await else {
        return;
    };
    let store: Arc<dyn StateStore> = Arc::new(PostgresState::open(&db.url()).await.unwrap());
    conformance::run_all(store.as_ref()).await;
    db.drop_schema().await;
}

#[tokio::test]
async fn reopening_keeps_everything_and_migrates_nothing() {
    let Some(db) = TestDb::create("reopening_keeps_everything").await else {
        return;
    };
    {
        let store = PostgresState::open(&db.url()).await.unwrap();
        conformance::seed(&store).await;
    }
    let store = PostgresState::open(&db.url()).await.unwrap();
    conformance::check_seeded(&store).await;
    drop(store);
    let store = PostgresState::open(&db.url()).await.unwrap();
    conformance::check_seeded(&store).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM zvm_schema_migrations").await,
        SCHEMA_VERSION,
        "each migration recorded once"
    );
    db.drop_schema().await;
}

/// Workers started together on a new database: every one opens, and each migration is
/// applied once (the advisory lock serialises them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_opening_together_migrate_once() {
    let Some(db) = TestDb::create("workers_opening_together").await else {
        return;
    };
    let url = db.url();
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresState::open(&url).await })
        })
        .collect();
    for (i, open) in opens.into_iter().enumerate() {
        let store = open
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("worker {i} could not open: {e}"));
        assert_eq!(store.totals().await.unwrap().files, 0);
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM zvm_schema_migrations").await,
        SCHEMA_VERSION
    );
    db.drop_schema().await;
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(db) = TestDb::create("a_newer_schema_is_refused").await else {
        return;
    };
    drop(PostgresState::open(&db.url()).await.unwrap());
    db.admin(&format!(
        "INSERT INTO {}.zvm_schema_migrations (version) VALUES ({})",
        db.schema,
        SCHEMA_VERSION + 1
    ))
    .await;
    let err = PostgresState::open(&db.url()).await.unwrap_err();
    assert!(
        matches!(err, StateError::ServerTooNew { found, .. } if found == SCHEMA_VERSION + 1),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(shown.contains("upgrade zvm"), "{shown}");
    db.drop_schema().await;
}

/// No server at the address: a clear error that names the database without its password.
/// Needs no test server (nothing listens on port 1).
#[tokio::test]
async fn an_unreachable_server_is_named_without_its_password() {
    let err = PostgresState::open("postgres://zvm:hunter2-secret@127.0.0.1:1/zvm")
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::Unreachable { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
    assert!(
        shown.contains("postgres://zvm:***@127.0.0.1:1/zvm"),
        "{shown}"
    );
    assert!(
        shown.contains("check that the server is running"),
        "{shown}"
    );
    let debug = format!("{err:?}");
    assert!(!debug.contains("hunter2"), "the password leaked: {debug}");
}

#[tokio::test]
async fn a_malformed_url_is_a_clear_error_without_the_password() {
    let err = PostgresState::open("postgres://zvm:hunter2-secret@127.0.0.1:notaport/zvm")
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
    assert!(shown.contains("postgres://user:password@host"), "{shown}");
}

/// A server on this machine is reached as it always was, without TLS unless asked (the
/// TLS cases are in tls.rs): these pass the URL's checks and then find no server on port 1.
/// Needs no test server.
#[tokio::test]
async fn a_loopback_server_is_reached_without_tls() {
    for url in [
        "postgres://zvm@127.0.0.1:1/zvm",
        "postgres://zvm@[::1]:1/zvm",
        "postgres://zvm@localhost:1/zvm?sslmode=prefer",
    ] {
        let err = PostgresState::open(url).await.unwrap_err();
        assert!(
            matches!(err, StateError::Unreachable { .. }),
            "{url}: {err:?}"
        );
        assert!(!err.to_string().contains("TLS"), "{url}: {err}");
    }
}

/// The run lock: a second run on the same database is refused while the first holds it,
/// and may run once it is gone (the server releases it with the first run's connection).
#[tokio::test]
async fn one_run_at_a_time_holds_the_run_lock() {
    let Some(db) = TestDb::create("one_run_at_a_time").await else {
        return;
    };
    let first = PostgresState::open(&db.url()).await.unwrap();
    let second = PostgresState::open(&db.url()).await.unwrap();
    let held = first.try_run_lock().await.unwrap();
    let err = second.try_run_lock().await.unwrap_err();
    assert!(matches!(err, StateError::ServerBusy { .. }), "{err:?}");
    assert!(err.to_string().contains("another zvm run"), "{err}");
    drop(held);
    // The server sees the connection close a moment later; until then the lock is held.
    let mut tries = 0;
    let _lock = loop {
        match second.try_run_lock().await {
            Ok(lock) => break lock,
            Err(StateError::ServerBusy { .. }) if tries < 600 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the lock was not released with its connection: {e}"),
        }
    };
    db.drop_schema().await;
}
