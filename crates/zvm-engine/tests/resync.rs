//! A re-run trusts the state only while the copy is really there: a verified file that was
//! deleted or damaged locally is fetched again; everything else costs no download request.

mod common;

use tokio_util::sync::CancellationToken;
use zoom_sim::{SimConfig, Simulator};
use zvm_state::{FileStatus, StateStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_damaged_copy_is_fetched_again_and_nothing_else() {
    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let (engine, state) = common::engine(&sim, &root, &dir.path().join("s.sqlite3"));
    let opts = common::all_users_for_years(4);
    let first = engine.sync(&opts, CancellationToken::new()).await.unwrap();
    assert_eq!(first.files_failed, 0);
    assert!(first.files_downloaded > 20);

    let verified = state.files_with_status(FileStatus::Verified).await.unwrap();
    let recordings: Vec<_> = verified
        .iter()
        .filter(|r| r.kind == zvm_state::FileKind::Recording && r.expected_size > 10)
        .collect();
    let gone = &recordings[0];
    let damaged = &recordings[1];
    std::fs::remove_file(root.join(&gone.rel_path)).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(root.join(&damaged.rel_path))
        .unwrap();
    f.set_len(damaged.expected_size / 2).unwrap();
    drop(f);

    let before = sim.stats().download_requests();
    let second = engine.sync(&opts, CancellationToken::new()).await.unwrap();
    assert_eq!(second.files_downloaded, 2, "{second:?}");
    assert_eq!(sim.stats().download_requests() - before, 2);
    let manifest = sim.manifest();
    for row in [gone, damaged] {
        let bytes = std::fs::read(root.join(&row.rel_path)).unwrap();
        use sha2::Digest;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            manifest.file(&row.key.file_id).unwrap().sha256_hex()
        );
    }
    // And a third run has nothing to do.
    let before = sim.stats().download_requests();
    let third = engine.sync(&opts, CancellationToken::new()).await.unwrap();
    assert_eq!(third.files_downloaded, 0);
    assert_eq!(sim.stats().download_requests(), before);
    sim.shutdown().await;
}
