//! A large file fetched over several connections, `zvm` SIGKILLed in the middle of it, then
//! run again: the second run asks the CDN for no byte that the first one had recorded as
//! written (each range resumes where its bytes end), the first run lost only what was in
//! flight when it died, and the copy is whole and byte-identical.
//!
//! The real `zvm` binary runs as a subprocess against a simulator in this process. Each CDN
//! connection is capped at 512 KiB/s, so the file takes seconds whatever the machine's speed,
//! and the cap bounds how much can be in flight at the kill.

mod common;

use std::time::Duration;

use common::TestContext;
use zoom_sim::{AccountSpec, FaultConfig, SimConfig};
use zvm_state::{FileKey, FileRanges, SqliteState, StateStore};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const CAP: u64 = 512 * KIB;
const CONNECTIONS: u64 = 4;

fn one_large_file() -> SimConfig {
    let mut cfg = SimConfig {
        account: AccountSpec {
            active_users: 1,
            inactive_users: 0,
            pending_users: 0,
            meetings: 1,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(16 * MIB + 9),
            processing_fraction: 0.0,
            hostile_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            in_progress_fraction: 0.0,
            ..AccountSpec::default()
        },
        faults: FaultConfig {
            bandwidth_bps: CAP,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    cfg
}

/// The ranges the state holds for `key` now, if it can be read.
async fn saved_ranges(ctx: &TestContext, key: &FileKey) -> Option<FileRanges> {
    if !ctx.state.exists() {
        return None;
    }
    let state = SqliteState::open(&ctx.state).ok()?;
    state.file_ranges(key).await.ok().flatten()
}

/// `(first, last)` bytes a CDN request asked for.
fn asked(range: Option<&str>, size: u64) -> (u64, u64) {
    let Some(spec) = range.and_then(|r| r.strip_prefix("bytes=")) else {
        return (0, size - 1);
    };
    let (a, b) = spec.split_once('-').expect("a byte range");
    (
        a.parse().expect("first byte"),
        b.parse().unwrap_or(size - 1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_file_then_rerun_fetches_no_written_range_again() {
    let ctx = TestContext::start(one_large_file()).await;
    let manifest = ctx.sim.manifest();
    let (meeting, file) = manifest.files().next().expect("one file");
    let key = FileKey::new(meeting.uuid.clone(), file.id.clone());
    let size = file.size;
    let args = ctx.sync_args(&[
        "--from",
        "2y",
        "-j",
        "4",
        "--segments",
        "4",
        "--min-segment-size",
        "512K",
        "--quiet",
    ]);

    let mut cmd = ctx.zvm();
    cmd.args(&args);
    let mut child = cmd.spawn().expect("spawn zvm");
    // Kill once the state shows several ranges under way and 4 MiB written: mid-file. The
    // wait is bounded by the run itself (it may not end first) and a generous safety net: a
    // 30 s bound failed once on a loaded machine, before the listing had even finished.
    let mut before_kill = None;
    for _ in 0..6000 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(Some(status)) = child.try_wait() {
            panic!("zvm ended ({status}) before the state showed the file in several ranges");
        }
        if let Some(r) = saved_ranges(&ctx, &key).await {
            let written: u64 = r.ranges.iter().map(|x| x.written).sum();
            let busy = r.ranges.iter().filter(|x| x.written > 0).count();
            if busy >= 2 && written >= 4 * MIB {
                before_kill = Some(r);
                break;
            }
        }
    }
    assert!(
        before_kill.is_some(),
        "the state never showed the file in several ranges"
    );
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "killed by a signal, not finished");

    // What the killed run left: the ranges as last saved, and what the CDN had sent.
    let left = saved_ranges(&ctx, &key).await.expect("ranges saved");
    let written: u64 = left.ranges.iter().map(|r| r.written).sum();
    assert!(written < size, "the kill landed before the end");
    let stats = ctx.sim.stats();
    let served_first = stats.bytes_by_file[&file.id];
    let asked_first = stats.cdn_requests[&file.id].len();
    // Lost to the kill: bytes that had arrived but were not yet recorded. Per connection at
    // most its two write buffers (256 KiB each) and what the cap lets through while the
    // record waits for its next save (every 250 ms; two seconds allowed here for a slow
    // machine).
    let lost = served_first - written;
    let bound = CONNECTIONS * (2 * 256 * KIB + 2 * CAP);
    assert!(
        lost <= bound,
        "the killed run lost {lost} bytes (served {served_first}, recorded {written}); at most {bound} can have been in flight"
    );

    let out = ctx.run(&args).await;
    out.expect_code(0, "the run after the kill");
    ctx.verify_copy_after_kill();

    // Not one byte recorded as written was asked for again.
    let log = ctx.sim.stats().cdn_requests[&file.id].clone();
    let again = &log[asked_first..];
    assert!(!again.is_empty(), "the second run fetched the rest");
    for req in again {
        let (a, b) = asked(req.range.as_deref(), size);
        for r in &left.ranges {
            let (ws, we) = (r.start, r.start + r.written);
            assert!(
                b < ws || a >= we,
                "the second run asked for bytes {a}..={b}, but {ws}..{we} were written before the kill ({req:?})"
            );
        }
    }
    let served_second = ctx.sim.stats().bytes_by_file[&file.id] - served_first;
    assert!(
        served_second >= size - written,
        "the rest of the file came from the CDN"
    );
    ctx.sim.shutdown().await;
}
