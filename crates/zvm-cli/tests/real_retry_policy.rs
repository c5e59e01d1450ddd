//! The one test that runs zvm on its production retry policy: no `ZVM_TEST_FAST_RETRY`, which
//! every other CLI test sets to shrink the backoff to milliseconds. The API answers its first
//! three requests 503; the run must wait out the real backoff (500 ms doubling, each wait at
//! least half its step after jitter: 250 + 500 + 1000 ms) and still finish the copy.
//!
//! Only a lower bound is asserted: the first API success comes no sooner after zvm starts
//! than the policy's shortest total wait. A slow machine only makes it later.

mod common;

use std::time::{Duration, Instant};

use common::TestContext;

/// The shortest total wait of the production policy across three failed attempts:
/// `zvm_zoom::RetryPolicy::default()` backs off 500 ms, 1 s, 2 s, each jittered to no less
/// than half.
const MIN_WAIT: Duration = Duration::from_millis(250 + 500 + 1000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_backoff_is_waited_out_and_the_run_completes() {
    let mut cfg = common::small_account(321, 3);
    cfg.account.processing_fraction = 0.0;
    cfg.rate_limits.enabled = false;
    cfg.faults.api_5xx_burst = 3;
    let ctx = TestContext::start(cfg).await;

    let mut cmd = common::zvm_against(&ctx.sim, &ctx.home);
    cmd.env("ZVM_PLAN", "business")
        .args(ctx.sync_args(&[]))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn zvm");
    // First moment the simulator has answered an API request with success.
    let api_ok = |s: &zoom_sim::Stats| {
        s.requests
            .iter()
            .filter(|(route, _)| route.contains(" /v2/"))
            .any(|(_, by)| by.keys().any(|c| (200..300).contains(c)))
    };
    let deadline = started + Duration::from_secs(120);
    let first_success = loop {
        if api_ok(&ctx.sim.stats()) {
            break started.elapsed();
        }
        assert!(Instant::now() < deadline, "no API request ever succeeded");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("zvm ended ({status}) before any API request succeeded");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let out = common::wait_output(child).await;
    out.expect_code(0, "sync on the production retry policy");
    ctx.verify_copy();

    let s = ctx.sim.stats();
    let unavailable: u64 = s
        .requests
        .iter()
        .filter(|(route, _)| route.contains(" /v2/"))
        .map(|(_, by)| by.get(&503).copied().unwrap_or(0))
        .sum();
    assert_eq!(unavailable, 3, "the burst of three 503s was answered");
    assert!(
        first_success >= MIN_WAIT,
        "the first API success came {first_success:?} after start, sooner than the production backoff allows ({MIN_WAIT:?}): the run did not wait as the policy says"
    );
}
