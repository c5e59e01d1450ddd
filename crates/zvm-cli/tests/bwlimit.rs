//! `--bwlimit` caps the total download rate of all transfers together. Only a lower bound on
//! the time is asserted (a slow machine can never make it fail).

mod common;

use std::time::Instant;

use common::{TestContext, small_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwlimit_caps_the_total_rate() {
    let mut cfg = small_account(31, 6);
    cfg.account.processing_fraction = 0.0;
    cfg.account.mp4_size = (150_000, 250_000);
    let ctx = TestContext::start(cfg).await;
    let total = ctx.sim.manifest().total_bytes();
    assert!(total > 1_000_000, "enough bytes to measure: {total}");
    let rate: u64 = 1024 * 1024; // 1 MiB/s for all transfers together
    let t = Instant::now();
    let out = ctx.sync(&["-j", "4", "--bwlimit", "1M"]).await;
    out.expect_code(0, "a rate-limited sync");
    let took = t.elapsed().as_secs_f64();
    // The token bucket allows a quarter second of burst up front.
    let floor = total as f64 / rate as f64 - 0.3;
    assert!(
        took >= floor,
        "{total} bytes at 1 MiB/s took {took:.2}s, less than {floor:.2}s"
    );
    ctx.verify_copy();
}
