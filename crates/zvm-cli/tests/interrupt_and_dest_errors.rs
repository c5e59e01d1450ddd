//! Ctrl-C and destinations that refuse writes.
//! - A sync interrupted by SIGINT stops promptly with exit 130, keeps its `.part` files and
//!   its state, and the next run resumes them instead of starting over.
//! - A read-only destination, and one the user may not write to: a clear error naming the
//!   destination, exit 4, nothing under a final name, state consistent, and a re-run that
//!   completes once the destination is writable.
//!
//! The read-only and permission cases need root to mount a read-only tmpfs and to run zvm as
//! an unprivileged user (CI runs as root); elsewhere they use chmod. A root run that lacks
//! what it needs skips with a message, and under `CI=true` fails (`common::skip_or_fail`).

#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{TestContext, tail};
use zoom_sim::{AccountSpec, FaultConfig, SimConfig};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn big_files(seed: u64, meetings: u32, size: u64) -> SimConfig {
    let mut cfg = SimConfig {
        seed,
        plan: zoom_sim::Plan::Business,
        account: AccountSpec {
            active_users: 1,
            inactive_users: 0,
            pending_users: 0,
            meetings,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(size),
            processing_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            ..AccountSpec::default()
        },
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    cfg
}

fn part_bytes(dir: &Path) -> u64 {
    common::files_under(dir)
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".part"))
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_promptly_keeps_part_files_and_the_next_run_resumes() {
    const SIZE: u64 = 4 << 20;
    let mut cfg = big_files(91, 8, SIZE);
    // 8 x 4 MiB at 2 MB/s per connection, 4 connections: ~4 s, interrupted half way.
    cfg.faults.bandwidth_bps = 2_000_000;
    let ctx = TestContext::start(cfg).await;
    let total = ctx.sim.manifest().total_bytes();

    let mut child = ctx
        .zvm()
        .args(ctx.sync_args(&["-j", "4", "--from", "13m", "--quiet"]))
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while ctx.sim.stats().bytes_served < total / 3 {
        assert!(Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().expect("pid").to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let sent = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("zvm stops after Ctrl-C")
        .unwrap();
    let took = sent.elapsed();
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        status.code(),
        Some(130),
        "exit code after Ctrl-C:\n{}",
        tail(&stderr)
    );
    assert!(!stderr.contains("panicked"), "{}", tail(&stderr));
    eprintln!("Ctrl-C: zvm exited {took:?} after SIGINT");
    // "Promptly": well under the time the remaining transfers would need (~2.5 s at this
    // cap); the bound is loose so a loaded machine cannot flake it.
    assert!(took < Duration::from_secs(10), "took {took:?} to stop");

    let kept = part_bytes(&ctx.dest);
    assert!(kept > 0, "no .part file kept after Ctrl-C");
    let served_before = ctx.sim.stats().bytes_served;
    // The state was committed: the same files are known, and the run can be finished.
    ctx.sim.set_faults(FaultConfig::default());
    ctx.sync(&["-j", "4", "--from", "13m"])
        .await
        .expect_code(0, "the run after Ctrl-C");
    ctx.verify_copy();
    let second = ctx.sim.stats().bytes_served - served_before;
    // Resumed, not restarted: the second run fetched the rest, not the kept bytes again.
    assert!(
        second <= total - kept + (64 << 10),
        "the second run fetched {second} bytes; {kept} were kept in .part files of a {total}-byte account"
    );
}

struct Mount(std::path::PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_destination_is_a_clear_error_and_the_rerun_completes() {
    let ctx = TestContext::start(common::small_account(93, 6)).await;
    std::fs::create_dir_all(&ctx.dest).unwrap();
    // A read-only file system (root), else a folder without write permission.
    let mounted = is_root()
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=64m", "tmpfs"])
            .arg(&ctx.dest)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    let _mount = mounted.then(|| Mount(ctx.dest.clone()));
    if !mounted {
        if is_root() {
            common::skip_or_fail("read-only destination: root but cannot mount a read-only tmpfs");
            return;
        }
        chmod(&ctx.dest, 0o555);
    }

    let out = ctx.sync(&["--quiet"]).await;
    out.expect_code(4, "read-only destination");
    let dest = ctx.dest.display().to_string();
    assert!(
        out.stderr.contains(&dest),
        "the error names the destination:\n{}",
        tail(&out.stderr)
    );
    assert!(
        out.stderr.to_lowercase().contains("read-only")
            || out.stderr.to_lowercase().contains("permission"),
        "the error says what is wrong:\n{}",
        tail(&out.stderr)
    );
    assert!(common::files_under(&ctx.dest).is_empty());

    if mounted {
        assert!(
            Command::new("mount")
                .args(["-o", "remount,rw"])
                .arg(&ctx.dest)
                .status()
                .unwrap()
                .success()
        );
    } else {
        chmod(&ctx.dest, 0o755);
    }
    ctx.sync(&[])
        .await
        .expect_code(0, "re-run on a writable destination");
    ctx.verify_copy();
}

/// A destination owned by someone else: zvm runs as an unprivileged user (uid 65534) on a
/// folder only root may write to. Root is needed to switch users; without root, chmod alone
/// makes the folder unwritable to us.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destination_without_write_permission_is_a_clear_error() {
    let ctx = TestContext::start(common::small_account(95, 4)).await;
    let root = is_root();
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if root && !setpriv {
        common::skip_or_fail(
            "destination without write permission: root, but no setpriv to drop privileges",
        );
        return;
    }
    // Everything but the destination must be usable by the unprivileged user.
    let work = ctx.dir.path();
    chmod(work, 0o777);
    std::fs::create_dir_all(&ctx.home).unwrap();
    chmod(&ctx.home, 0o777);
    std::fs::create_dir_all(&ctx.dest).unwrap();
    chmod(&ctx.dest, 0o755); // root's (or ours, then read-only below)
    let dest_meeting = ctx.dest.join("existing");
    std::fs::create_dir_all(&dest_meeting).unwrap();
    if !root {
        chmod(&ctx.dest, 0o555);
    }

    // zvm as the unprivileged user when we are root (setpriv: same environment, uid/gid
    // nobody, no supplementary groups), else as ourselves.
    let command = |args: Vec<String>| {
        let c = ctx.zvm();
        if !root {
            let mut c = c;
            c.args(&args);
            return c;
        }
        let std = c.as_std();
        let mut w = tokio::process::Command::new("setpriv");
        w.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(std.get_program())
            .args(&args)
            .env_clear()
            .envs(std.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        w
    };
    let out = common::run_cmd(command(ctx.sync_args(&["--quiet"]))).await;
    out.expect_code(4, "destination without write permission");
    assert!(
        out.stderr.contains(&ctx.dest.display().to_string())
            && out.stderr.to_lowercase().contains("permission"),
        "the error names the destination and the problem:\n{}",
        tail(&out.stderr)
    );
    let written: Vec<_> = common::files_under(&ctx.dest);
    assert!(
        written.is_empty(),
        "written despite no permission: {written:?}"
    );

    // Made writable, the same user's run completes.
    chmod(&ctx.dest, 0o777);
    chmod(&dest_meeting, 0o777);
    common::run_cmd(command(ctx.sync_args(&[])))
        .await
        .expect_code(0, "re-run once writable");
    ctx.verify_copy();
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
