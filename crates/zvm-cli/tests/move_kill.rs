//! `zvm move` killed with SIGKILL at a random moment, then run again: the simulator's record
//! of deletions never names a meeting or file whose copy is not complete and byte-identical
//! at the destination, and after the re-run every complete meeting is trashed.
//!
//! The real `zvm` binary runs as a subprocess against a simulator in this process (real
//! HTTP over loopback). `ZVM_MOVE_KILL_SEEDS` sets the number of seeds (default 12; the
//! long campaign runs 200).

mod common;

use std::path::Path;
use std::time::Duration;

use rand::{Rng, SeedableRng};

use zoom_sim::{AccountSpec, FaultConfig, SimConfig, Simulator};

fn zvm(sim: &Simulator, home: &Path) -> tokio::process::Command {
    let mut cmd = common::zvm_against(sim, home);
    cmd.env("ZVM_PLAN", "unlimited")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

fn move_args(dest: &Path, state: &Path) -> Vec<String> {
    vec![
        "move".into(),
        dest.display().to_string(),
        "--all-users".into(),
        "--from".into(),
        "2y".into(),
        "--state".into(),
        state.display().to_string(),
        "--yes".into(),
        "-j".into(),
        "3".into(),
        "--quiet".into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_survives_sigkill_at_random_moments() {
    let seeds: u64 = std::env::var("ZVM_MOVE_KILL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let mut kills = 0;
    for seed in 0..seeds {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut cfg = SimConfig {
            seed: 500 + seed,
            account: AccountSpec {
                active_users: 2,
                inactive_users: 1,
                pending_users: 0,
                meetings: 6,
                years: 1,
                mp4_size: (20_000, 200_000),
                small_size: (10, 5_000),
                in_progress_fraction: 0.1,
                ..AccountSpec::default()
            },
            faults: FaultConfig {
                seed,
                // A cap makes a run last long enough for the kill to land anywhere in it.
                bandwidth_bps: 2_000_000,
                reset_prob: rng.random_range(0.0..0.2),
                reset_after_bytes: 10_000,
                range_ignored_prob: rng.random_range(0.0..0.2),
                ..FaultConfig::default()
            },
            ..SimConfig::default()
        };
        cfg.rate_limits.enabled = false;
        let sim = Simulator::start(cfg).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("dest");
        let state = dir.path().join("state").join("state.sqlite3");
        let home = dir.path().join("home");

        let mut child = zvm(&sim, &home)
            .args(move_args(&dest, &state))
            .spawn()
            .unwrap();
        let after = Duration::from_millis(rng.random_range(50..1500));
        if tokio::time::timeout(after, child.wait()).await.is_err() {
            child.start_kill().unwrap();
            kills += 1;
        }
        let _ = child.wait().await;
        if state.exists() {
            common::check_backed(&sim, &state, &dest, &format!("seed {seed}")).await;
        }

        // The re-run, without faults, finishes the job.
        sim.set_faults(FaultConfig::default());
        let out = zvm(&sim, &home)
            .args(move_args(&dest, &state))
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "seed {seed}: re-run failed: {stderr}");
        assert!(!stderr.contains("panicked"), "seed {seed}: {stderr}");
        common::check_backed(&sim, &state, &dest, &format!("seed {seed}")).await;
        let trashed: Vec<String> = sim
            .deletions()
            .into_iter()
            .filter(|d| d.file_id.is_none())
            .map(|d| d.meeting_uuid)
            .collect();
        for m in sim.manifest().meetings {
            let complete = !m.in_progress && m.files.iter().all(|f| f.is_completed());
            assert_eq!(
                trashed.contains(&m.uuid),
                complete,
                "seed {seed}: meeting {} complete={complete} but trashed={}",
                m.uuid,
                trashed.contains(&m.uuid)
            );
        }
        // No partial file under a final name: every file is either a .part or complete.
        for entry in common::files_under(&dest) {
            assert!(
                !entry.to_string_lossy().ends_with(".part"),
                "seed {seed}: a .part was left after a complete run: {}",
                entry.display()
            );
        }
        sim.shutdown().await;
    }
    assert!(
        kills > 0 || seeds < 3,
        "no run was killed: the kill timing is wrong"
    );
}

/// Off a terminal, `move` without `--yes` refuses before doing anything; `--older-than`
/// keeps recent meetings in the cloud; `--dry-run` deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_confirmation_age_and_dry_run() {
    let sim = Simulator::start(zvm_testkit::sim_accounts::settled_account())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("dest");
    let state = dir.path().join("state.sqlite3");
    let home = dir.path().join("home");
    let mut args = move_args(&dest, &state);
    args.retain(|a| a != "--yes");
    args.retain(|a| a != "--from" && a != "2y");
    args.extend(["--from".into(), "4y".into()]);

    let out = zvm(&sim, &home).args(&args).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("without --yes"), "{stderr}");
    assert!(sim.deletions().is_empty());
    assert!(!dest.exists(), "refused before any work");

    let mut dry = args.clone();
    dry.push("--dry-run".into());
    let out = zvm(&sim, &home).args(&dry).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sim.deletions().is_empty(), "a dry run deleted");

    // Keep the last 400 days in the cloud: only older meetings go.
    let mut aged = args.clone();
    aged.extend(["--yes".into(), "--older-than".into(), "400d".into()]);
    let out = zvm(&sim, &home).args(&aged).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cutoff = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(400 * 24))
        .unwrap();
    let manifest = sim.manifest();
    let deleted: Vec<String> = sim
        .deletions()
        .into_iter()
        .map(|d| d.meeting_uuid)
        .collect();
    assert!(!deleted.is_empty(), "nothing older than 400 days was moved");
    for m in &manifest.meetings {
        let start: jiff::Timestamp = m.start_time.parse().unwrap();
        if start > cutoff {
            assert!(
                !deleted.contains(&m.uuid),
                "a recent meeting was deleted: {}",
                m.start_time
            );
        }
    }
    // The bad age is a usage error.
    let mut bad = args.clone();
    bad.extend(["--yes".into(), "--older-than".into(), "soon".into()]);
    let out = zvm(&sim, &home).args(&bad).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--older-than 'soon'"));
    sim.shutdown().await;
}
