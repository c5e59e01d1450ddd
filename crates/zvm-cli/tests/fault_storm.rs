//! Server faults at scale: one long sync with every simulator fault mixed in at high rates
//! (API 5xx, per-second 429s, connection resets, truncated bodies, stalls, ignored Range
//! headers, the HTML page instead of the file, latency).
//!
//! Checked: the run survives the storm by itself (exit 0, no file reported failed, every
//! file identical; see the failure budget below), peak memory stays flat, and the requests stay within a stated bound of the ideal
//! (the same account synced by the same binary from a fault-free simulator).
//! `ZVM_STORM_MEETINGS` sets the account size (default 150; the long manual run uses 2000).

#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{TestContext, tail};
use zoom_sim::{FaultConfig, SimConfig};

fn meetings() -> u32 {
    std::env::var("ZVM_STORM_MEETINGS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150)
}

fn account() -> SimConfig {
    let mut cfg = common::small_account(131, meetings());
    cfg.account.mp4_size = (32 << 10, 256 << 10);
    cfg.account.years = 2;
    cfg
}

fn storm() -> FaultConfig {
    FaultConfig {
        seed: 131,
        api_5xx_prob: 0.15,
        reset_prob: 0.15,
        reset_after_bytes: 20_000,
        truncate_prob: 0.10,
        stall_prob: 0.03,
        stall_secs: 0.0,
        range_ignored_prob: 0.25,
        html_prob: 0.05,
        latency_ms: 2,
        ..FaultConfig::default()
    }
}

/// Peak resident memory of a running process in KiB (`VmHWM`: the kernel keeps the maximum,
/// so polling finds the true peak as long as the last poll is before the exit).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_kib: u64,
}

async fn run_measured(ctx: &TestContext, extra: &[&str]) -> Run {
    let mut child = ctx.zvm().args(ctx.sync_args(extra)).spawn().unwrap();
    let pid = child.id().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = tokio::spawn(async move {
        let mut s = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut s)
            .await
            .ok();
        s
    });
    let err = tokio::spawn(async move {
        let mut s = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stderr, &mut s)
            .await
            .ok();
        s
    });
    let mut peak = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(k) = peak_rss_kib(pid) {
            peak = peak.max(k);
        }
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the storm run hangs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.await.unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.await.unwrap()).into_owned(),
        peak_kib: peak,
    }
}

/// All requests the simulator answered, by kind.
fn requests(ctx: &TestContext) -> (u64, u64, u64) {
    let s = ctx.sim.stats();
    let mut api = 0;
    let mut rate_limited = 0;
    for (route, by_status) in &s.requests {
        if route.contains(" /v2/") {
            api += by_status.values().sum::<u64>();
            rate_limited += by_status.get(&429).copied().unwrap_or(0);
        }
    }
    let downloads = s.download_requests() + s.count("GET /cdn/file/{id}");
    (api, downloads, rate_limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_once_loses_nothing_and_stays_bounded() {
    let args = ["-j", "6", "--from", "25m", "--json", "--stall-timeout", "1"];

    // The ideal: the same account, the same binary, no faults.
    let clean = TestContext::start(account()).await;
    let base = run_measured(&clean, &args).await;
    assert_eq!(base.code, Some(0), "clean run: {}", tail(&base.stderr));
    let files = clean.verify_copy() as u64;
    let (api0, dl0, _) = requests(&clean);

    let mut cfg = account();
    cfg.faults = storm();
    // Per-second limits low enough that zvm meets 429s all along the run.
    cfg.rate_limits.light_per_sec = Some(8);
    cfg.rate_limits.medium_per_sec = Some(4);
    cfg.rate_limits.heavy_per_sec = Some(2);
    let ctx = TestContext::start(cfg).await;
    let run = run_measured(&ctx, &args).await;
    assert!(!run.stderr.contains("panicked"), "{}", tail(&run.stderr));

    // The storm is survived within the run: nothing reported failed, exit 0, exact copy.
    // Failure budget (why this cannot flake): a download attempt fails with probability
    // q = 0.05 (HTML page) + 0.95 x (0.15 reset + 0.85 x 0.10 truncated + 0.85 x 0.9 x 0.03
    // stalled) = 0.295, independently per attempt, and the engine makes up to 20 attempts per
    // file (zvm_engine::TransferRetry): q^20 = 2.5e-11 per file. An API call fails with
    // p = 0.15 per attempt and zvm allows 12 (zvm-cli connect.rs): p^12 = 1.3e-10 per call.
    // A run fails with probability below files x 2.5e-11 + calls x 1.3e-10: at the default
    // size (1315 files, ~400 API calls, as this test prints) about 9e-8.
    let failed: BTreeSet<String> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "file_failed")
        .map(|v| {
            eprintln!(
                "storm: reported failed: {} ({})",
                v["file"]["path"], v["error"]
            );
            v["file"]["path"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert!(
        failed.is_empty(),
        "the storm run gave up on {failed:?} (exit {:?}):\n{}",
        run.code,
        tail(&run.stderr)
    );
    assert_eq!(
        run.code,
        Some(0),
        "the storm run must finish by itself:\n{}",
        tail(&run.stderr)
    );
    ctx.verify_copy();

    // Retries stay bounded. With these rates about 1 download in 2.4 fails and 1 API call in
    // 6.7; retrying each until it succeeds costs ~1.7x downloads and ~1.2x API calls on
    // average. The bound allows 3x, far below a retry storm (which multiplies without limit).
    let (api, dl, limited) = requests(&ctx);
    eprintln!(
        "storm: {files} files, {} failed; downloads {dl} vs {dl0} ideal ({:.2}x); API {api} vs {api0} ({:.2}x), {limited} answered 429; peak RSS {} KiB (clean run {} KiB)",
        failed.len(),
        dl as f64 / dl0 as f64,
        api as f64 / api0 as f64,
        run.peak_kib,
        base.peak_kib
    );
    assert!(
        limited > 0,
        "the rate limit never answered 429: the case tests less than it says"
    );
    assert!(
        dl <= 3 * dl0,
        "{dl} download requests for an ideal of {dl0}"
    );
    // 429s count too: the limits here are below the plan's, so zvm's pacer (sized for the
    // plan) meets them and waits as told; they must not multiply the calls either.
    assert!(
        api <= 3 * api0,
        "{api} API requests ({limited} of them 429) for an ideal of {api0}"
    );
    // Memory: flat means the storm costs no more than the clean run plus a margin, and both
    // stay within the 64 MiB the tool promises.
    assert!(
        run.peak_kib > 0 && base.peak_kib > 0,
        "RSS was not measured"
    );
    assert!(
        run.peak_kib <= base.peak_kib + 16 * 1024,
        "peak RSS {} KiB under faults vs {} KiB clean",
        run.peak_kib,
        base.peak_kib
    );
    assert!(run.peak_kib <= 64 * 1024, "peak RSS {} KiB", run.peak_kib);
}
