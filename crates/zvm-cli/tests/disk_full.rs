//! A destination that fills up: a clear error naming it, exit code 4, no partial file under
//! a final name, and a re-run that completes once space is freed. Needs root (CI runs as
//! root) to mount a small tmpfs; elsewhere it says so and skips, and under `CI=true` that
//! skip is a failure (`common::skip_or_fail`).

mod common;

use std::path::Path;
use std::process::Command;

use zoom_sim::{SimConfig, Simulator};

fn zvm(sim: &Simulator, home: &Path) -> tokio::process::Command {
    let mut cmd = common::zvm_against(sim, home);
    cmd.env("ZVM_PLAN", "unlimited");
    cmd
}

struct Mount(std::path::PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_is_a_clear_error_and_the_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("small");
    std::fs::create_dir_all(&dest).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&dest)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        common::skip_or_fail("disk_full: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mount = Mount(dest.clone());

    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    cfg.account.mp4_size = (200_000, 400_000);
    let sim = Simulator::start(cfg).await.unwrap();
    let home = dir.path().join("home");
    let state = dir.path().join("state.sqlite3");
    let args = |d: &Path| {
        vec![
            "sync".to_string(),
            d.display().to_string(),
            "--all-users".into(),
            "--from".into(),
            "4y".into(),
            "--state".into(),
            state.display().to_string(),
            "--quiet".into(),
        ]
    };
    let out = zvm(&sim, &home).args(args(&dest)).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("space"), "names the problem: {stderr}");
    assert!(
        stderr.contains(&dest.display().to_string()),
        "names the destination: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // No partial file under a final name: every final file has its listed size.
    let manifest = sim.manifest();
    let files = common::files_under(&dest);
    let sizes: std::collections::HashSet<u64> = manifest.files().map(|(_, f)| f.size).collect();
    for f in &files {
        let name = f.to_string_lossy();
        if name.ends_with(".part") || name.ends_with(".json") || name.ends_with(".md") {
            continue;
        }
        let len = std::fs::metadata(f).unwrap().len();
        assert!(
            sizes.contains(&len),
            "{name} has a size ({len}) no recording has"
        );
    }

    // Free space, run again: everything completes.
    assert!(
        Command::new("mount")
            .args(["-o", "remount,size=256m"])
            .arg(&dest)
            .status()
            .unwrap()
            .success()
    );
    let out = zvm(&sim, &home).args(args(&dest)).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = common::files_under(&dest);
    assert!(
        files
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".part"))
    );
    let completed = manifest.files().filter(|(_, f)| f.is_completed()).count();
    let media = files
        .iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy();
            n != "meeting.json" && n != "summary.md" && n != "summary.json"
        })
        .count();
    assert_eq!(media, completed);
    sim.shutdown().await;
}

/// The same for a file fetched in ranges: the first range writer that hits the full disk
/// stops the file with the disk's own error (exit 4, "no space"), not a later symptom of
/// it, and a re-run after space is freed resumes the ranges and completes the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_while_a_file_arrives_in_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("small");
    std::fs::create_dir_all(&dest).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&dest)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        common::skip_or_fail("disk_full: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mount = Mount(dest.clone());

    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    cfg.account = zoom_sim::AccountSpec {
        active_users: 1,
        inactive_users: 0,
        pending_users: 0,
        meetings: 1,
        years: 1,
        files_per_meeting: Some(1),
        file_size: Some(8 << 20),
        processing_fraction: 0.0,
        hostile_fraction: 0.0,
        summary_fraction: 0.0,
        participant_audio_fraction: 0.0,
        in_progress_fraction: 0.0,
        ..zoom_sim::AccountSpec::default()
    };
    // Slow enough per connection that the idle transfers join before the disk is full.
    cfg.faults.bandwidth_bps = 2 << 20;
    let sim = Simulator::start(cfg).await.unwrap();
    let home = dir.path().join("home");
    let state = dir.path().join("state.sqlite3");
    let args = [
        "sync",
        &dest.display().to_string(),
        "--all-users",
        "--from",
        "2y",
        "--state",
        &state.display().to_string(),
        "-j",
        "4",
        "--min-segment-size",
        "512K",
        "--quiet",
    ]
    .map(str::to_string);
    let out = zvm(&sim, &home).args(&args).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("no space left"),
        "names the problem: {stderr}"
    );
    assert!(
        stderr.contains(&dest.display().to_string()),
        "names the destination: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (_, f) = sim
        .manifest()
        .files()
        .next()
        .map(|(m, f)| (m.clone(), f.clone()))
        .unwrap();
    assert!(
        sim.stats().cdn_requests[&f.id].len() >= 2,
        "the file was being fetched in ranges"
    );

    assert!(
        Command::new("mount")
            .args(["-o", "remount,size=64m"])
            .arg(&dest)
            .status()
            .unwrap()
            .success()
    );
    let out = zvm(&sim, &home).args(&args).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = common::files_under(&dest);
    assert!(
        files
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".part")),
        "{files:?}"
    );
    let copy = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "mp4"))
        .expect("the recording");
    common::assert_exact(
        &dest,
        &f,
        &copy.strip_prefix(&dest).unwrap().display().to_string(),
    );
    sim.shutdown().await;
}
