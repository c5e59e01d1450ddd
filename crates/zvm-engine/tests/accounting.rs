//! The run's accounting, read through the engine's monitor, agrees with what the run did:
//! what it queued, received and verified, and on a re-run, that it skipped everything.

mod common;

use tokio_util::sync::CancellationToken;
use zoom_sim::{SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_counts_what_the_run_did() {
    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, _state) = common::engine(&sim, &dir.path().join("d"), &dir.path().join("s.db"));
    let monitor = engine.monitor();
    assert!(monitor.snapshot().is_none(), "no run yet");
    let opts = common::all_users_for_years(4);

    let first = engine.sync(&opts, CancellationToken::new()).await.unwrap();
    let s = monitor.snapshot().expect("a run happened");
    assert_eq!(first.files_failed, 0);
    assert!(first.files_downloaded > 20);
    assert_eq!(s.meetings, first.meetings);
    assert_eq!(s.files_verified, first.files_downloaded);
    assert_eq!(s.bytes_verified, first.bytes_downloaded);
    // A fresh run queues exactly what it verifies, and receives each byte once.
    assert_eq!(s.files_queued, s.files_verified);
    assert_eq!(s.bytes_queued, s.bytes_verified);
    assert_eq!(s.bytes_done, s.bytes_queued);
    assert_eq!(s.bytes_received, s.bytes_verified);
    assert_eq!(s.files_failed, 0);
    assert_eq!(s.transfers_active, 0, "nothing runs after the run");
    assert_eq!(s.transfers_allowed, opts.transfers);

    let second = engine.sync(&opts, CancellationToken::new()).await.unwrap();
    let s = monitor.snapshot().unwrap();
    assert_eq!(s.files_queued, 0);
    assert_eq!(s.bytes_received, 0);
    assert_eq!(second.files_downloaded, 0);
    assert_eq!(s.files_verified, 0);
    assert!(s.files_skipped > 0);
    assert_eq!(s.files_skipped, second.files_skipped);
}
