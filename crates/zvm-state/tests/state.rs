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
    assert_eq!(header_mode_and_version(&path), ("wal".to_string(), 1));
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
                supported: 1,
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
