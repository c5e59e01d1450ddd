//! Crash safety: one long `zvm sync`, and one long `zvm move`, each SIGKILLed 20 times at
//! random moments and started again. After every kill:
//! - no file sits under a final name unless it is complete and byte-identical to a file of
//!   the account (partial data lives only in `.part` files);
//! - every file the state calls verified is at its path with its size and hash;
//! - every deletion in the cloud is backed by an identical copy (move).
//!
//! Then a last run finishes the job and the copy matches the manifest exactly.
//! `ZVM_CRASH_KILLS` sets the number of kills per campaign (default 20).

// The campaign prints its figures (kills, bytes) for RELIABILITY.md.
#![allow(clippy::print_stderr)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use common::TestContext;
use rand::{Rng, SeedableRng};
use sha2::Digest;
use zoom_sim::{AccountSpec, FaultConfig, SimConfig};
use zvm_state::{FileStatus, SqliteState, StateStore};

fn kills() -> usize {
    std::env::var("ZVM_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// 48 one-MiB files (plus small ones) per 20 kills: each run is killed within its first MiB
/// (plus what flows before the kill lands), so the job outlasts the kills. The 1.5 MB/s cap
/// per connection keeps a kill from landing long after its trigger.
fn long_account(seed: u64) -> SimConfig {
    let meetings = (48 * kills() as u32).div_ceil(20).max(48);
    let mut cfg = SimConfig {
        seed,
        plan: zoom_sim::Plan::Business,
        account: AccountSpec {
            active_users: 2,
            inactive_users: 1,
            pending_users: 0,
            meetings,
            years: 1,
            mp4_size: (1 << 20, 1 << 20),
            small_size: (100, 20_000),
            processing_fraction: 0.0,
            in_progress_fraction: 0.0,
            summary_fraction: 0.3,
            participant_audio_fraction: 0.2,
            ..AccountSpec::default()
        },
        faults: FaultConfig {
            seed,
            bandwidth_bps: 1_500_000,
            // A little of everything, so kills also land in retries and resumes.
            reset_prob: 0.05,
            reset_after_bytes: 300_000,
            range_ignored_prob: 0.05,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    cfg
}

/// The invariants that must hold whenever zvm is not running, after a crash or not.
async fn check_after_crash(ctx: &TestContext, what: &str) {
    // 1. Nothing under a final name is partial: every regular file other than `.part`, the
    //    atomic writer's hidden temps and zvm's own artifacts is one of the account's files,
    //    whole.
    let known: HashSet<(u64, String)> = ctx
        .sim
        .manifest()
        .files()
        .map(|(_, f)| (f.size, f.sha256_hex()))
        .collect();
    for path in common::files_under(&ctx.dest) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".part")
            || (name.starts_with('.') && name.contains(".tmp-"))
            || name == "meeting.json"
            || name.starts_with("summary.")
            || name.ends_with(".jsonl")
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let id = (
            bytes.len() as u64,
            hex::encode(sha2::Sha256::digest(&bytes)),
        );
        assert!(
            known.contains(&id),
            "{what}: {} is under a final name but is not a whole file of the account ({} bytes)",
            path.display(),
            bytes.len()
        );
    }
    // 2. The state is readable and every verified file is really there.
    if ctx.state.exists() {
        let state = SqliteState::open(&ctx.state).expect("state opens after a crash");
        for row in state.files_with_status(FileStatus::Verified).await.unwrap() {
            let p = ctx.dest.join(&row.rel_path);
            let bytes = std::fs::read(&p).unwrap_or_else(|e| {
                panic!("{what}: state says {} is verified but: {e}", row.rel_path)
            });
            assert_eq!(
                bytes.len() as u64,
                row.expected_size,
                "{what}: {}",
                row.rel_path
            );
            if let Some(sha) = &row.sha256 {
                assert_eq!(
                    &hex::encode(sha2::Sha256::digest(&bytes)),
                    sha,
                    "{what}: {} differs from the hash the state recorded",
                    row.rel_path
                );
            }
        }
        // 3. A deletion in the cloud only with an identical copy.
        common::check_backed(&ctx.sim, &ctx.state, &ctx.dest, what).await;
    }
}

/// Starts `args` again and again, `kills` times, and SIGKILLs each run once the simulator has
/// served it a random 1 byte to 1 MiB (never more than a quarter of what the account still
/// has unserved, so the run cannot finish first); checks the invariants after each kill.
///
/// The kill is tied to bytes the simulator counted, not to time: on a slow or a fast machine
/// alike it lands while the run is downloading (bytes flowed in this run, the job is not done,
/// SIGKILL is what ended the process), which each kill asserts.
async fn campaign(ctx: &TestContext, args: &[String], seed: u64, what: &str) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let total = ctx.sim.manifest().total_bytes();
    let mut with_part = 0;
    for kill in 1..=kills() {
        let before = ctx.sim.stats().bytes_served;
        // Every byte that reached the copy was served, so at least `total - before` remain.
        let room = total.saturating_sub(before) / 4;
        assert!(
            room >= 1 << 16,
            "{what}: only {room} bytes of room left before kill {kill}: make the account longer"
        );
        let trigger = rng.random_range(1..=(1u64 << 20)).min(room);
        let mut child = ctx.zvm().args(args).spawn().expect("spawn zvm");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let out = child.wait_with_output().await.unwrap();
                panic!(
                    "{what}: run {kill} ended by itself ({:?}) before its kill at {trigger} bytes:\n{}",
                    status.code(),
                    common::tail(&String::from_utf8_lossy(&out.stderr))
                );
            }
            if ctx.sim.stats().bytes_served - before >= trigger {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: run {kill} served no {trigger} bytes within the 120 s safety net"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // tokio's kill is SIGKILL: no handler, no cleanup, no flush.
        child.kill().await.expect("kill");
        // The signal ended it, not its own exit between the last check and the kill.
        let status = child.wait().await.expect("wait");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{what}: run {kill} was not ended by its kill: {status}"
        );
        if files_exist_with_suffix(&ctx.dest, ".part") {
            with_part += 1;
        }
        check_after_crash(ctx, &format!("{what}, after kill {kill}")).await;
    }
    eprintln!(
        "{what} campaign: {} kills, each after 1 B..1 MiB of its run's download; {with_part} left a .part",
        kills()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_killed_twenty_times_loses_nothing() {
    let ctx = TestContext::start(long_account(71)).await;
    let total = ctx.sim.manifest().total_bytes();
    let args = ctx.sync_args(&["-j", "4", "--from", "13m", "--quiet"]);
    campaign(&ctx, &args, 71, "sync").await;

    ctx.sim.set_faults(FaultConfig::default());
    ctx.sync(&["-j", "4", "--from", "13m"])
        .await
        .expect_code(0, "the run after the kills");
    let checked = ctx.verify_copy_after_kill();
    assert!(checked > 48, "{checked} files checked");
    check_after_crash(&ctx, "sync, final").await;
    // Resuming from `.part` files: the kills cost at most what was unwritten in flight, not
    // whole files again. 20 kills x 4 transfers x 1 MiB would be the cost without resume.
    let served = ctx.sim.stats().bytes_served;
    eprintln!(
        "sync campaign: {} kills, {checked} files verified, {served} bytes served for {total} ({:.3}x)",
        kills(),
        served as f64 / total as f64
    );
    assert!(
        served < total + (kills() as u64) * 4 * (1 << 20) / 2,
        "served {served} bytes for a {total}-byte account over {} kills",
        kills()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_killed_twenty_times_deletes_only_what_is_copied() {
    let ctx = TestContext::start(long_account(73)).await;
    let args: Vec<String> = [
        "move",
        &ctx.dest.display().to_string(),
        "--all-users",
        "--from",
        "13m",
        "--state",
        &ctx.state.display().to_string(),
        "--yes",
        "-j",
        "4",
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    campaign(&ctx, &args, 73, "move").await;

    ctx.sim.set_faults(FaultConfig::default());
    ctx.run(&args)
        .await
        .expect_code(0, "the move after the kills");
    check_after_crash(&ctx, "move, final").await;
    let deleted = common::check_backed(&ctx.sim, &ctx.state, &ctx.dest, "move, final").await;
    let manifest = ctx.sim.manifest();
    let complete: Vec<_> = manifest
        .meetings
        .iter()
        .filter(|m| !m.in_progress && m.files.iter().all(|f| f.is_completed()))
        .collect();
    let trashed: HashSet<String> = ctx
        .sim
        .deletions()
        .into_iter()
        .filter(|d| d.file_id.is_none() && d.action != "recover")
        .map(|d| d.meeting_uuid)
        .collect();
    for m in &complete {
        assert!(
            trashed.contains(&m.uuid),
            "meeting {} was not moved",
            m.uuid
        );
    }
    assert!(deleted >= complete.len(), "{deleted} deleted files checked");
    eprintln!(
        "move campaign: {} kills, {} meetings moved, {deleted} deleted files each backed by an identical copy",
        kills(),
        trashed.len()
    );
    assert!(
        !files_exist_with_suffix(&ctx.dest, ".part"),
        "a .part file is left after the final move"
    );
}

fn files_exist_with_suffix(dir: &Path, suffix: &str) -> bool {
    common::files_under(dir)
        .iter()
        .any(|p| p.to_string_lossy().ends_with(suffix))
}
