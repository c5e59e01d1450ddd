//! Simulator accounts that several test crates start from.
//!
//! A move test wants an account with nothing in the way of a deletion: no rate limits to
//! wait out, no meeting still in progress (Zoom refuses to delete those) and no file still
//! processing (never deleted). Written once so the tests agree on what "settled" means.

use zoom_sim::SimConfig;

/// The default account, settled: rate limits off, no meeting in progress, no file
/// processing.
pub fn settled_account() -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    cfg.account.in_progress_fraction = 0.0;
    cfg.account.processing_fraction = 0.0;
    cfg
}
