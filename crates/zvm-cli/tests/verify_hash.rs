//! `--verify-hash` end to end: a sync with it reads every file back after the rename and
//! records its SHA-256 in the state; a `move --verify-hash` deletes from the cloud only
//! meetings whose every file has such a hash, and refuses (naming the reason) a copy that was
//! made without one.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TestContext, tail};
use zoom_sim::SimConfig;
use zvm_state::{SqliteState, StateStore};

fn account(seed: u64, meetings: u32) -> SimConfig {
    let mut cfg = common::small_account(seed, meetings);
    cfg.account.processing_fraction = 0.0;
    cfg.account.in_progress_fraction = 0.0;
    cfg
}

/// file id -> the SHA-256 the state recorded for it (None: none recorded), for every
/// recording file and participant audio file of the account that the state knows.
async fn recorded_hashes(ctx: &TestContext) -> BTreeMap<String, Option<String>> {
    let state = SqliteState::open(&ctx.state).expect("state");
    let mut out = BTreeMap::new();
    for m in &ctx.sim.manifest().meetings {
        let ids: BTreeSet<&str> = m
            .files
            .iter()
            .chain(m.participant_audio.iter())
            .map(|f| f.id.as_str())
            .collect();
        for row in state.files_of_meeting(&m.uuid).await.unwrap() {
            if ids.contains(row.key.file_id.as_str()) {
                out.insert(row.key.file_id, row.sha256);
            }
        }
    }
    out
}

fn move_args(ctx: &TestContext, from: &str) -> Vec<String> {
    [
        "move",
        &ctx.dest.display().to_string(),
        "--all-users",
        "--from",
        from,
        "--state",
        &ctx.state.display().to_string(),
        "--yes",
        "--verify-hash",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_with_verify_hash_records_each_files_sha256() {
    let ctx = TestContext::start(account(301, 10)).await;
    ctx.sync(&["--verify-hash"])
        .await
        .expect_code(0, "sync --verify-hash");
    let checked = ctx.verify_copy();
    let hashes = recorded_hashes(&ctx).await;
    assert_eq!(hashes.len(), checked, "one state row per copied file");
    for (_, f) in ctx.sim.manifest().files() {
        assert_eq!(
            hashes.get(&f.id),
            Some(&Some(f.sha256_hex())),
            "file {} ({} {}): the state must hold the SHA-256 of Zoom's bytes",
            f.id,
            f.file_type,
            f.file_extension
        );
    }
}

/// The case: a copy made without `--verify-hash`, then `zvm move --verify-hash`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_verify_hash_refuses_a_copy_without_a_hash() {
    let ctx = TestContext::start(account(303, 6)).await;
    ctx.sync(&[])
        .await
        .expect_code(0, "sync without --verify-hash");
    ctx.verify_copy();
    let out = ctx.run(&move_args(&ctx, "37m")).await;
    out.expect_code(0, "move --verify-hash over unhashed copies");
    assert!(
        ctx.sim.deletions().is_empty(),
        "deleted from the cloud without a hash read back: {:?}",
        ctx.sim.deletions()
    );
    let meetings = ctx.sim.manifest().meetings.len();
    let refusals = out
        .all()
        .lines()
        .filter(|l| l.contains("kept in the cloud") && l.contains("no SHA-256 read back"))
        .count();
    assert_eq!(
        refusals,
        meetings,
        "each meeting is kept with the reason said:\n{}",
        tail(&out.all())
    );
}

/// Recent meetings copied without a hash, the older ones by the move itself (with one):
/// only the older ones leave the cloud.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_verify_hash_deletes_only_files_whose_hash_was_read_back() {
    let ctx = TestContext::start(account(305, 16)).await;
    ctx.sync(&["--from", "13m"])
        .await
        .expect_code(0, "sync of the last 13 months without --verify-hash");
    let unhashed: BTreeSet<String> = recorded_hashes(&ctx).await.into_keys().collect();
    assert!(!unhashed.is_empty(), "the first sync copied something");

    let out = ctx.run(&move_args(&ctx, "37m")).await;
    out.expect_code(0, "move --verify-hash");
    let hashes = recorded_hashes(&ctx).await;
    let manifest = ctx.sim.manifest();
    let deletions = ctx.sim.deletions();
    let deleted: Vec<_> = deletions.iter().filter(|d| d.action != "recover").collect();
    assert!(
        !deleted.is_empty(),
        "the meetings the move copied with a hash were moved:\n{}",
        tail(&out.all())
    );
    for d in &deleted {
        let m = manifest
            .meetings
            .iter()
            .find(|m| m.uuid == d.meeting_uuid)
            .expect("known meeting");
        for f in m.files.iter().chain(m.participant_audio.iter()) {
            assert!(
                !unhashed.contains(&f.id),
                "meeting {:?} was deleted but its file {} was copied without a hash",
                m.topic,
                f.id
            );
            assert_eq!(
                hashes.get(&f.id),
                Some(&Some(f.sha256_hex())),
                "meeting {:?} was deleted: its file {} must have Zoom's SHA-256 in the state",
                m.topic,
                f.id
            );
        }
    }
    let backed = common::check_backed(&ctx.sim, &ctx.state, &ctx.dest, "move --verify-hash").await;
    assert!(backed > 0);
    assert!(
        out.all().contains("no SHA-256 read back"),
        "the meetings kept say why:\n{}",
        tail(&out.all())
    );
}
