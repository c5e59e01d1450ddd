//! The move's promise, checked over many seeds: the cloud copy of a meeting (or of a file)
//! is only ever deleted when the local copy is complete and byte-identical; and once the
//! faults stop, every complete meeting ends up trashed.
//!
//! Each seed generates its own small account and its own random mix of simulator faults
//! (5xx, resets, truncations, Range ignored, HTML pages, stalls). The engine runs in-process
//! against the simulator over real HTTP, with real SQLite state and a real folder.
//! `ZVM_MOVE_SEEDS` sets the number of seeds (default 200).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use zoom_sim::{AccountSpec, FaultConfig, SimConfig, Simulator};
use zvm_dest::LocalDestination;
use zvm_engine::{Engine, Event, MoveOptions, TransferRetry};
use zvm_state::SqliteState;
use zvm_zoom::{ClientConfig, DeleteAction, Plan, RetryPolicy, ZoomClient};

/// Fast retries and a short stall timeout: faults are injected on purpose here.
fn client(sim: &Simulator) -> ZoomClient {
    common::client(
        sim,
        ClientConfig {
            plan: Plan::Unlimited,
            retry: RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_millis(2),
                max_delay: Duration::from_millis(20),
                ..RetryPolicy::default()
            },
            stall_timeout: Duration::from_millis(500),
            ..ClientConfig::default()
        },
    )
}

fn random_faults(rng: &mut rand_chacha::ChaCha8Rng, seed: u64) -> FaultConfig {
    FaultConfig {
        seed,
        api_5xx_prob: rng.random_range(0.0..0.15),
        reset_prob: rng.random_range(0.0..0.3),
        reset_after_bytes: rng.random_range(0..20_000),
        truncate_prob: rng.random_range(0.0..0.2),
        stall_prob: rng.random_range(0.0..0.05),
        stall_secs: 0.05,
        range_ignored_prob: rng.random_range(0.0..0.3),
        html_prob: rng.random_range(0.0..0.1),
        ..FaultConfig::default()
    }
}

async fn one_seed(seed: u64) -> (usize, usize) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let cfg = SimConfig {
        seed,
        account: AccountSpec {
            active_users: 2,
            inactive_users: 1,
            pending_users: 0,
            meetings: rng.random_range(3..9),
            years: 1,
            mp4_size: (1_000, 60_000),
            small_size: (10, 3_000),
            processing_fraction: 0.05,
            in_progress_fraction: 0.1,
            ..AccountSpec::default()
        },
        faults: random_faults(&mut rng, seed),
        ..SimConfig::default()
    };
    let mut cfg = cfg;
    cfg.rate_limits.enabled = false;
    let sim = Simulator::start(cfg).await.expect("sim");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let state = Arc::new(SqliteState::open(&dir.path().join("state.sqlite3")).unwrap());
    let dest = Arc::new(LocalDestination::new(root.clone()));
    let engine = Engine::new(client(&sim), state.clone(), dest, Arc::new(|_e: Event| {}));
    let mut opts = common::all_users_for_years(2);
    opts.transfers = rng.random_range(1..5);
    opts.retry = TransferRetry {
        max_attempts: 6,
        max_throttled_waits: 30,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    };
    // Some seeds move only MP4s: chats and transcripts must then never be deleted.
    let only_mp4 = rng.random_bool(0.25);
    if only_mp4 {
        opts.filters.file_types.insert("MP4".into());
    }
    let mopts = MoveOptions {
        action: DeleteAction::Trash,
        older_than: None,
        audit_log: dir.path().join("audit.jsonl"),
    };

    // Run 1 under faults: may fail files; must never delete an unproven meeting.
    let cancel = CancellationToken::new();
    if let Ok(plan) = engine.plan_move(&opts, &mopts, cancel.clone()).await {
        let _ = engine.execute_move(&plan, &mopts, &cancel).await;
    }
    let mut checked =
        zvm_testkit::assert_deletions_backed(&sim, state.as_ref(), &root, &format!("seed {seed}"))
            .await;

    // Run 2 without faults: everything complete must end up trashed.
    sim.set_faults(FaultConfig::default());
    let plan = engine
        .plan_move(&opts, &mopts, CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: clean move failed: {e}"));
    engine
        .execute_move(&plan, &mopts, &CancellationToken::new())
        .await
        .unwrap();
    checked +=
        zvm_testkit::assert_deletions_backed(&sim, state.as_ref(), &root, &format!("seed {seed}"))
            .await;

    let manifest = sim.manifest();
    let deleted: Vec<_> = sim.deletions();
    let whole: HashSet<&str> = deleted
        .iter()
        .filter(|d| d.file_id.is_none() && d.action == "trash")
        .map(|d| d.meeting_uuid.as_str())
        .collect();
    let by_file: HashSet<&str> = deleted
        .iter()
        .filter_map(|d| d.file_id.as_deref())
        .collect();
    for m in &manifest.meetings {
        let complete = !m.in_progress && m.files.iter().all(|f| f.is_completed());
        if only_mp4 {
            // Never the whole meeting, never anything but MP4.
            assert!(
                !whole.contains(m.uuid.as_str()),
                "seed {seed}: MP4-only move trashed a whole meeting"
            );
            for f in m.files.iter().chain(m.participant_audio.iter()) {
                if by_file.contains(f.id.as_str()) {
                    assert_eq!(
                        f.file_type, "MP4",
                        "seed {seed}: MP4-only move deleted a {}",
                        f.file_type
                    );
                }
            }
            if !m.in_progress {
                for f in m
                    .files
                    .iter()
                    .filter(|f| f.file_type == "MP4" && f.is_completed())
                {
                    assert!(
                        by_file.contains(f.id.as_str()),
                        "seed {seed}: MP4 {} left in the cloud",
                        f.id
                    );
                }
            }
        } else if complete {
            assert!(
                whole.contains(m.uuid.as_str()),
                "seed {seed}: complete meeting {} ({:?}) was not trashed",
                m.uuid,
                m.topic
            );
        } else {
            assert!(
                !whole.contains(m.uuid.as_str()),
                "seed {seed}: incomplete or in-progress meeting {} was trashed",
                m.uuid
            );
        }
    }
    sim.shutdown().await;
    (checked, deleted.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_never_deletes_an_unproven_copy_over_many_seeds() {
    let seeds: u64 = std::env::var("ZVM_MOVE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut files_checked = 0;
    let mut deletions = 0;
    for seed in 0..seeds {
        let (c, d) = one_seed(1000 + seed).await;
        files_checked += c;
        deletions += d;
    }
    assert!(
        deletions > seeds as usize,
        "too few deletions to mean anything: {deletions}"
    );
    assert!(files_checked > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_move_sends_no_delete_and_restore_brings_back() {
    let sim = Simulator::start(zvm_testkit::sim_accounts::settled_account())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let state = Arc::new(SqliteState::open(&dir.path().join("s.sqlite3")).unwrap());
    let engine = Engine::new(
        client(&sim),
        state.clone(),
        Arc::new(LocalDestination::new(root.clone())),
        Arc::new(|_e: Event| {}),
    );
    let opts = common::all_users_for_years(2);
    let mopts = MoveOptions {
        action: DeleteAction::Trash,
        older_than: None,
        audit_log: dir.path().join("audit.jsonl"),
    };
    // Download everything first, then a dry run: it plans deletions but sends none.
    engine.sync(&opts, CancellationToken::new()).await.unwrap();
    let mut dry = opts.clone();
    dry.dry_run = true;
    let plan = engine
        .plan_move(&dry, &mopts, CancellationToken::new())
        .await
        .unwrap();
    assert!(!plan.candidates.is_empty());
    assert!(sim.deletions().is_empty(), "a dry run deleted something");
    assert_eq!(
        sim.stats().count("DELETE /v2/meetings/{uuid}/recordings"),
        0
    );

    // The real move trashes them; restore recovers every one, checked against the simulator.
    let plan = engine
        .plan_move(&opts, &mopts, CancellationToken::new())
        .await
        .unwrap();
    let (done, _) = engine
        .execute_move(&plan, &mopts, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(done as usize, plan.candidates.len());
    let trashed: Vec<String> = sim
        .deletions()
        .iter()
        .map(|d| d.meeting_uuid.clone())
        .collect();
    assert!(
        sim.manifest()
            .meetings
            .iter()
            .filter(|m| trashed.contains(&m.uuid))
            .all(|m| m
                .files
                .iter()
                .all(|f| f.cloud == zoom_sim::CloudState::Trashed))
    );
    let (recovered, failed) = engine.restore(&mopts.audit_log).await.unwrap();
    assert_eq!((recovered as usize, failed), (trashed.len(), 0));
    assert!(sim.manifest().meetings.iter().all(|m| {
        m.files
            .iter()
            .all(|f| f.cloud == zoom_sim::CloudState::Present)
    }));
    // The audit log has a line per request, outcome and recovery.
    let audit = std::fs::read_to_string(&mopts.audit_log).unwrap();
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains("\"outcome\":\"deleted\""))
            .count(),
        trashed.len()
    );
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains("\"recovered\""))
            .count(),
        trashed.len()
    );
    sim.shutdown().await;
}
