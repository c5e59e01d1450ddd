//! Tests of the local filesystem destination: the shared conformance suite plus what only a
//! local file system can show (permissions, files in the way, names on disk).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use zvm_dest::{DestError, Destination, LocalDestination, conformance};

// One skip helper for every crate's tests: it fails under CI=true instead of skipping.
#[path = "../../zvm-cli/tests/common/skip.rs"]
mod skip;
use skip::skip_or_fail;

fn dest_in(dir: &Path) -> LocalDestination {
    LocalDestination::new(dir.join("ZoomRecordings"))
}

#[tokio::test]
async fn conformance_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    conformance::run_all(&dest_in(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_multi_thread_runtime_through_a_dyn_arc() {
    let dir = tempfile::tempdir().unwrap();
    let dest: Arc<dyn Destination> = Arc::new(dest_in(dir.path()));
    conformance::run_all(dest.as_ref()).await;
}

#[tokio::test]
async fn check_writable_creates_the_root_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a/b/c");
    let dest = LocalDestination::new(root.clone());
    dest.check_writable().await.unwrap();
    assert!(root.is_dir());
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        0,
        "the probe file must be removed"
    );
    assert_eq!(dest.describe(), root.display().to_string());
}

#[tokio::test]
async fn files_land_at_the_expected_paths_with_parents_created() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    let rel = "2026/03/2026-03-04 定例会議/録画.mp4";
    let mut part = dest.open_partial(rel, 0).await.unwrap();
    part.write_all(b"hello").await.unwrap();
    part.sync().await.unwrap();
    let root = dir.path().join("ZoomRecordings");
    let part_path = root.join("2026/03/2026-03-04 定例会議/録画.mp4.part");
    assert_eq!(std::fs::read(&part_path).unwrap(), b"hello");
    part.finalize(5).await.unwrap();
    assert!(!part_path.exists());
    let final_path = root.join(rel);
    assert_eq!(std::fs::read(&final_path).unwrap(), b"hello");
    // The name on disk is byte-for-byte the NFC name we were given (no re-normalisation).
    let names: Vec<_> = std::fs::read_dir(root.join("2026/03"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("2026-03-04 定例会議")]);

    dest.write_atomic("2026/03/2026-03-04 定例会議/meeting.json", b"{}")
        .await
        .unwrap();
    let mut names: Vec<_> = std::fs::read_dir(root.join("2026/03/2026-03-04 定例会議"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["meeting.json", "録画.mp4"],
        "no temp files left behind"
    );
}

#[tokio::test]
async fn a_file_in_the_way_of_a_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    dest.write_atomic("blocker", b"i am a file").await.unwrap();
    let err = match dest.open_partial("blocker/video.mp4", 0).await {
        Err(e) => e,
        Ok(_) => panic!("creating a directory over a file must fail"),
    };
    let msg = err.to_string();
    assert!(
        msg.contains(
            &dir.path()
                .join("ZoomRecordings/blocker")
                .display()
                .to_string()
        ),
        "{msg}"
    );
    assert!(
        dest.write_atomic("blocker/meeting.json", b"{}")
            .await
            .is_err()
    );
    // A directory where the final file should be is not "absent".
    std::fs::create_dir_all(dir.path().join("ZoomRecordings/dir.mp4")).unwrap();
    assert!(dest.stat_final("dir.mp4").await.is_err());
}

/// Set in the copy of this test binary that [`rerun_unprivileged`] starts as user nobody.
#[cfg(unix)]
const UNPRIVILEGED_ENV: &str = "ZVM_DEST_TEST_UNPRIVILEGED";

/// Root ignores permission bits, so as root (CI runs as root) the test runs itself again in
/// a child process as user nobody (uid 65534, via `setpriv`), and passes only if that child
/// ran the test and passed.
#[cfg(unix)]
fn rerun_unprivileged(test: &str) {
    if std::env::var_os(UNPRIVILEGED_ENV).is_some() {
        panic!("{test}: still privileged after setpriv dropped to uid 65534");
    }
    if std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        skip_or_fail(&format!(
            "{test}: running as root and no setpriv to drop privileges"
        ));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args([test, "--exact", "--test-threads=1"])
        .env(UNPRIVILEGED_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} as user nobody: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_read_only_directory_gives_permission_denied_with_advice() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ro");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(root.join("probe"), b"x").is_ok() {
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        rerun_unprivileged("a_read_only_directory_gives_permission_denied_with_advice");
        return;
    }
    let dest = LocalDestination::new(root.clone());
    let err = dest.check_writable().await.unwrap_err();
    assert!(matches!(err, DestError::PermissionDenied { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&root.display().to_string()) && msg.contains("check permissions"),
        "{msg}"
    );
    let err = match dest.open_partial("a/b.mp4", 0).await {
        Err(e) => e,
        Ok(_) => panic!("writing into a read-only directory must fail"),
    };
    assert!(matches!(err, DestError::PermissionDenied { .. }), "{err:?}");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn invalid_path_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    let err = dest.stat_final("a/../../etc/passwd").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("a/../../etc/passwd") && msg.contains("refusing"),
        "{msg}"
    );
    // Nothing was created outside (or inside) the root.
    assert!(!dir.path().join("ZoomRecordings").exists());
}

#[tokio::test]
async fn a_part_file_is_not_mistaken_for_a_final_one() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    let mut part = dest.open_partial("x.mp4", 0).await.unwrap();
    part.write_all(&[1; 2_500_000]).await.unwrap(); // spans background writes
    drop(part); // cancelled mid-transfer: buffered bytes may be lost, never the final name
    assert_eq!(dest.stat_final("x.mp4").await.unwrap(), None);
    let have = dest.partial_len("x.mp4").await.unwrap().unwrap();
    assert!(have <= 2_500_000);
}

/// A full disk, simulated with Linux's /dev/full (every write fails with ENOSPC).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_reported_as_no_space_and_the_handle_is_not_reused() {
    if !Path::new("/dev/full").exists() {
        skip_or_fail("a full disk: no /dev/full to simulate one");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    dest.check_writable().await.unwrap();
    let part_path = dir.path().join("ZoomRecordings/x.mp4.part");
    std::os::unix::fs::symlink("/dev/full", &part_path).unwrap();
    let mut part = dest.open_partial("x.mp4", 0).await.unwrap();
    part.write_all(&[0; 1000]).await.unwrap(); // buffered, not yet written
    let err = part.sync().await.unwrap_err();
    assert!(matches!(err, DestError::NoSpace { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("free space") && msg.contains(&part_path.display().to_string()),
        "{msg}"
    );
    // The cursor position is unknown after a failed write: further use must fail, not guess.
    assert!(part.sync().await.is_err());
    assert!(part.finalize(1000).await.is_err());
    assert_eq!(dest.stat_final("x.mp4").await.unwrap(), None);

    // Same through the background writes of a long transfer.
    let mut part = dest.open_partial("x.mp4", 0).await.unwrap();
    let mut failed = None;
    for _ in 0..5 {
        if let Err(e) = part.write_all(&[0; 1024 * 1024]).await {
            failed = Some(e);
            break;
        }
    }
    assert!(
        matches!(failed, Some(DestError::NoSpace { .. })),
        "{failed:?}"
    );
    // And through owned chunks (the engine's path): the failure surfaces, then sticks.
    let mut part = dest.open_partial("x.mp4", 0).await.unwrap();
    let chunk = Bytes::from(vec![0; 64 * 1024]);
    let mut failed = None;
    for _ in 0..40 {
        if let Err(e) = part.write_bytes(chunk.clone()).await {
            failed = Some(e);
            break;
        }
    }
    assert!(
        matches!(failed, Some(DestError::NoSpace { .. })),
        "{failed:?}"
    );
    assert!(part.write_bytes(chunk).await.is_err());
    assert!(part.sync().await.is_err());
}

/// A killed run can leave `write_atomic`'s temp file behind; the next write of that name
/// removes it (only when its process is gone).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn write_atomic_sweeps_temps_of_dead_processes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = LocalDestination::new(dir.path().to_path_buf());
    std::fs::create_dir_all(dir.path().join("m")).unwrap();
    let stale = dir.path().join("m/.meeting.json.tmp-4000000-0");
    let live = dir
        .path()
        .join(format!("m/.meeting.json.tmp-{}-99", std::process::id()));
    std::fs::write(&stale, b"half").unwrap();
    std::fs::write(&live, b"mine").unwrap();
    dest.write_atomic("m/meeting.json", b"{}").await.unwrap();
    assert!(!stale.exists(), "a dead process's temp file is swept");
    assert!(live.exists(), "a live process's temp file is kept");
    assert_eq!(
        std::fs::read(dir.path().join("m/meeting.json")).unwrap(),
        b"{}"
    );
}

/// The engine's path: network chunks handed over as `Bytes`. 100 000 chunks of 7 bytes put
/// about 37 000 chunks in one 256 KiB queue, far more than one vectored write takes (IOV_MAX).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tiny_owned_chunks_are_written_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    let data = conformance::pattern(700_000, 11);
    let whole = Bytes::from(data.clone());
    let mut part = dest.open_partial("tiny.mp4", 0).await.unwrap();
    for at in (0..data.len()).step_by(7) {
        part.write_bytes(whole.slice(at..at + 7)).await.unwrap();
    }
    assert_eq!(part.len(), 700_000);
    part.finalize(700_000).await.unwrap();
    assert_eq!(
        std::fs::read(dest.final_path("tiny.mp4").unwrap()).unwrap(),
        data
    );
}

/// Borrowed and owned writes alternate (both smaller and larger than the buffer), with a
/// buffer size that no write size divides: the file holds the bytes in call order.
#[tokio::test]
async fn mixed_write_all_and_write_bytes_keep_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    for buf in [1000, 256 * 1024] {
        let dest = dest_in(dir.path()).with_write_buffer(buf);
        let rel = format!("mixed-{buf}.mp4");
        let data = conformance::pattern(2_000_000, 12);
        let mut part = dest.open_partial(&rel, 0).await.unwrap();
        let mut at = 0;
        for (i, n) in [3usize, 999, 1001, 5000, 1, 70_000, 300_000]
            .iter()
            .cycle()
            .enumerate()
        {
            if at == data.len() {
                break;
            }
            let end = (at + n).min(data.len());
            if i % 3 == 0 {
                part.write_all(&data[at..end]).await.unwrap();
            } else {
                part.write_bytes(Bytes::copy_from_slice(&data[at..end]))
                    .await
                    .unwrap();
            }
            at = end;
        }
        part.finalize(data.len() as u64).await.unwrap();
        assert_eq!(std::fs::read(dest.final_path(&rel).unwrap()).unwrap(), data);
    }
}

/// `sync` and `sync_in_background` write out what is queued; writing goes on afterwards.
#[tokio::test]
async fn sync_midway_then_more_owned_writes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    let data = Bytes::from(conformance::pattern(1_500_000, 13));
    let mut part = dest.open_partial("s.mp4", 0).await.unwrap();
    part.write_bytes(data.slice(..100_000)).await.unwrap(); // queued only
    part.sync().await.unwrap();
    assert_eq!(dest.partial_len("s.mp4").await.unwrap(), Some(100_000));
    part.write_bytes(data.slice(100_000..700_000))
        .await
        .unwrap();
    part.write_bytes(data.slice(700_000..700_010))
        .await
        .unwrap();
    part.sync_in_background().await.unwrap();
    // The background sync only started, but every byte already reached the file.
    assert_eq!(dest.partial_len("s.mp4").await.unwrap(), Some(700_010));
    for at in (700_010..1_500_000).step_by(65_536) {
        let end = (at + 65_536).min(1_500_000);
        part.write_bytes(data.slice(at..end)).await.unwrap();
    }
    assert_eq!(part.len(), 1_500_000);
    part.finalize(1_500_000).await.unwrap();
    assert_eq!(
        std::fs::read(dest.final_path("s.mp4").unwrap()).unwrap(),
        data
    );
}

/// The size check counts queued chunks: they are written before it, and a mismatch keeps the
/// `.part` with every byte in it.
#[tokio::test]
async fn finalize_checks_the_size_after_owned_writes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dest_in(dir.path());
    let data = Bytes::from(conformance::pattern(300_000, 14));
    let mut part = dest.open_partial("f.mp4", 0).await.unwrap();
    part.write_bytes(data.clone()).await.unwrap(); // one chunk bigger than the buffer
    part.write_bytes(Bytes::from_static(b"tail")).await.unwrap(); // queued only
    let err = part.finalize(300_000).await.unwrap_err();
    assert!(
        matches!(
            err,
            DestError::SizeMismatch {
                expected: 300_000,
                actual: 300_004,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(dest.stat_final("f.mp4").await.unwrap(), None);
    assert_eq!(dest.partial_len("f.mp4").await.unwrap(), Some(300_004));
    let part = dest.open_partial("f.mp4", 300_000).await.unwrap();
    assert_eq!(part.finalize(300_000).await.unwrap(), 300_000);
    assert_eq!(
        std::fs::read(dest.final_path("f.mp4").unwrap()).unwrap(),
        data
    );
}
