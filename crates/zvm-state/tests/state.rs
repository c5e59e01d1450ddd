//! Integration tests of the SQLite state store and the run lock, on real files in a tempdir.

use std::process::Command;

use zvm_state::{RunLock, SqliteState, StateError, StateStore, conformance};

#[tokio::test]
async fn conformance_in_memory() {
    let store = SqliteState::open_in_memory().unwrap();
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn conformance_on_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteState::open(&dir.path().join("state.sqlite3")).unwrap();
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime_through_a_dyn_arc() {
    let store: std::sync::Arc<dyn StateStore> =
        std::sync::Arc::new(SqliteState::open_in_memory().unwrap());
    conformance::run_all(store.as_ref()).await;
}

#[tokio::test]
async fn reopen_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    // A missing parent directory is created.
    let path = dir.path().join("nested/deeper/state.sqlite3");
    {
        let store = SqliteState::open(&path).unwrap();
        conformance::seed(&store).await;
    }
    let store = SqliteState::open(&path).unwrap();
    conformance::check_seeded(&store).await;
    // Opening again migrates nothing and still works.
    drop(store);
    let store = SqliteState::open(&path).unwrap();
    conformance::check_seeded(&store).await;
}

#[test]
fn uses_wal_and_versions_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    drop(SqliteState::open(&path).unwrap());
    assert_eq!(header_mode_and_version(&path), ("wal".to_string(), 4));
}

/// The schema zvm's first state files have (version 1, before the listing cache), frozen
/// here as those files hold it: migrations are append-only, so this never changes.
const SCHEMA_V1: &str = "CREATE TABLE meetings (
        uuid TEXT PRIMARY KEY NOT NULL, meeting_id INTEGER NOT NULL, host_id TEXT NOT NULL,
        host_email TEXT NOT NULL, topic TEXT NOT NULL, start_time TEXT NOT NULL,
        timezone TEXT NOT NULL, duration_min INTEGER NOT NULL, folder TEXT NOT NULL,
        cloud TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE files (
        meeting_uuid TEXT NOT NULL, file_id TEXT NOT NULL, kind TEXT NOT NULL,
        file_type TEXT NOT NULL, recording_type TEXT NOT NULL, rel_path TEXT NOT NULL,
        expected_size INTEGER NOT NULL, status TEXT NOT NULL,
        bytes_done INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, sha256 TEXT, cloud TEXT NOT NULL DEFAULT 'present',
        updated_at TEXT NOT NULL, PRIMARY KEY (meeting_uuid, file_id));
    CREATE INDEX files_by_status ON files(status);
    CREATE TABLE deletions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, meeting_uuid TEXT NOT NULL,
        file_id TEXT, action TEXT NOT NULL, outcome TEXT NOT NULL, paths TEXT NOT NULL);";

/// A state file written before the listing cache existed opens, keeps every row, and then
/// works in full, the listing cache included.
#[tokio::test]
async fn a_state_file_from_before_the_listing_cache_is_migrated_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(SCHEMA_V1).unwrap();
        c.execute_batch(
            "INSERT INTO meetings VALUES ('old-uuid', 1, 'h', 'h@example.com', 'Old', \
                '2024-01-02T03:04:05Z', 'UTC', 5, '2024/old', 'present', '2024-01-02T03:04:05Z');
             INSERT INTO files (meeting_uuid, file_id, kind, file_type, recording_type, rel_path, \
                expected_size, status, bytes_done, sha256, updated_at) VALUES ('old-uuid', 'f1', \
                'recording', 'MP4', 'active_speaker', '2024/old/a.mp4', 7, 'verified', 7, 'ab', \
                '2024-01-02T03:04:05Z');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    assert_eq!(
        header_mode_and_version(&path).1,
        1,
        "the fixture is version 1"
    );
    let store = SqliteState::open(&path).unwrap();
    let m = store
        .meeting("old-uuid")
        .await
        .unwrap()
        .expect("meeting kept");
    assert_eq!((m.topic.as_str(), m.folder.as_str()), ("Old", "2024/old"));
    let f = store
        .file(&zvm_state::FileKey::new("old-uuid", "f1"))
        .await
        .unwrap()
        .expect("file kept");
    assert_eq!(
        (f.status, f.bytes_done, f.sha256.as_deref()),
        (zvm_state::FileStatus::Verified, 7, Some("ab"))
    );
    // The new tables work on the migrated file, and the old rows take part in them.
    let window = conformance::sample_window("user:me", 1);
    store
        .record_listing(
            &window,
            "2024-02-01T00:00:00Z",
            &[conformance::sample_listed("old-uuid", "2024-01-02", "Old")],
        )
        .await
        .unwrap();
    store
        .record_listing(&window, "2024-02-09T00:00:00Z", &[])
        .await
        .unwrap();
    assert_eq!(
        store.meeting("old-uuid").await.unwrap().unwrap().cloud,
        zvm_state::CloudState::Vanished
    );
    drop(store);
    assert_eq!(header_mode_and_version(&path), ("wal".to_string(), 4));
    // And the listing cache's contract holds on it.
    let store = SqliteState::open(&path).unwrap();
    conformance::listing_windows_are_replaced_whole(&store).await;
    conformance::vanished_meetings_are_marked_not_deleted(&store).await;
    conformance::refreshed_and_forgotten_meetings(&store).await;
}

/// Journal mode and schema version read from the SQLite file header (documented format), so
/// the test needs no SQLite client of its own.
fn header_mode_and_version(path: &std::path::Path) -> (String, i64) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"), "not a SQLite file");
    // Header bytes 18/19 are the read/write format versions: 2 means WAL.
    let mode = if bytes[18] == 2 && bytes[19] == 2 {
        "wal"
    } else {
        "rollback"
    };
    // Header offset 60: user_version, big-endian.
    let version = i64::from(i32::from_be_bytes([
        bytes[60], bytes[61], bytes[62], bytes[63],
    ]));
    (mode.to_string(), version)
}

#[test]
fn a_newer_schema_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    drop(SqliteState::open(&path).unwrap());
    // Pretend a newer zvm migrated it: bump user_version in the header.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[60..64].copy_from_slice(&99i32.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    let err = SqliteState::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::TooNew {
                found: 99,
                supported: 4,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("upgrade zvm"),
        "{msg}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = SqliteState::open(&path).unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("move it aside"), "{msg}");
}

#[test]
fn lock_is_refused_in_the_same_process_and_released_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/state.sqlite3");
    let held = RunLock::acquire(&path).unwrap();
    let err = RunLock::acquire(&path).unwrap_err();
    assert!(
        matches!(&err, StateError::Busy { path: p } if p == &path),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("another zvm run") && msg.contains(&path.display().to_string()),
        "{msg}"
    );
    drop(held);
    let _again = RunLock::acquire(&path).expect("lock must be free after drop");
}

/// Env var telling the child copy of this test binary which state path to try.
const CHILD_ENV: &str = "ZVM_STATE_TEST_LOCK_CHILD";

#[test]
fn lock_is_refused_from_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    let held = RunLock::acquire(&path).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("CHILD-SAW-BUSY"),
        "child did not run the check: {stdout}"
    );
    drop(held);

    // And once released, another process can take it.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .env("ZVM_STATE_TEST_EXPECT_FREE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-GOT-LOCK"),
        "{stdout}"
    );
}

/// Not a test on its own: the body of `lock_is_refused_from_another_process`'s child process.
/// Without the env var (a normal test run) it does nothing.
#[test]
#[allow(clippy::print_stdout)]
fn lock_child_process() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let res = RunLock::acquire(&path);
    if std::env::var_os("ZVM_STATE_TEST_EXPECT_FREE").is_some() {
        assert!(res.is_ok(), "{res:?}");
        println!("CHILD-GOT-LOCK");
    } else {
        assert!(matches!(res, Err(StateError::Busy { .. })), "{res:?}");
        println!("CHILD-SAW-BUSY");
    }
}

#[test]
fn default_state_path_ends_in_zvm_state_file() {
    // Home is set on CI and dev machines; the function must then give .../zvm/state.sqlite3.
    if let Some(p) = zvm_state::default_state_path() {
        assert!(p.ends_with("state.sqlite3"), "{p:?}");
        assert!(p.to_string_lossy().contains("zvm"), "{p:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_progress_updates_from_many_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SqliteState::open(&dir.path().join("s.sqlite3")).unwrap());
    let m = conformance::sample_meeting(1);
    store.upsert_meeting(&m).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let f = conformance::sample_file(&m.uuid, &format!("f{t}"), 1_000_000);
        store.plan_file(&f).await.unwrap();
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.start_attempt(&f.key).await.unwrap();
            for i in 1..=200u64 {
                store.set_progress(&f.key, i * 1000 + t).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for t in 0..8u64 {
        let row = store
            .file(&zvm_state::FileKey::new(&m.uuid, format!("f{t}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.bytes_done,
            200_000 + t,
            "last progress of f{t} must win"
        );
    }
}

/// A state file of schema 2 (before segmented downloads) opens, keeps its rows and takes
/// ranges.
#[tokio::test]
async fn a_schema_2_file_gains_the_ranges_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let store = SqliteState::open(&path).unwrap();
        conformance::seed(&store).await;
    }
    // Back to what schema 2 had: no ranges table (nor the daemon's tables of schema 4),
    // version 2.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE file_ranges; DROP TABLE webhook_events; DROP TABLE scheduled_runs;
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let version = || -> i64 {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(), 2);
    let store = SqliteState::open(&path).unwrap();
    assert_eq!(version(), 4);
    // Schema 4's queue is there too.
    assert!(matches!(
        store
            .enqueue_webhook(&zvm_state::NewWebhookEvent {
                dedup_key: "k".into(),
                event: "recording.completed".into(),
                meeting_uuid: None,
                body: "{}".into(),
            })
            .await
            .unwrap(),
        zvm_state::Enqueued::New(_)
    ));
    let key = zvm_state::FileKey::new(conformance::sample_meeting(90).uuid, "persist");
    assert_eq!(store.file(&key).await.unwrap().unwrap().bytes_done, 2500);
    assert_eq!(store.file_ranges(&key).await.unwrap(), None);
    store
        .save_file_ranges(&key, &conformance::sample_ranges())
        .await
        .unwrap();
    assert_eq!(
        store.file_ranges(&key).await.unwrap(),
        Some(conformance::sample_ranges())
    );
}
