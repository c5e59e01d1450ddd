//! Refuses a request seen before: the same signature (which covers the timestamp and the
//! body) within the window in which its timestamp is still fresh. Zoom's own retries are
//! new requests with a new timestamp and signature; they pass here and are made harmless by
//! the queue's key instead (see `envelope`).
//!
//! Memory is bounded by the window: signatures older than it are forgotten, since a
//! request that old is refused as stale anyway.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use crate::signature::MAX_SKEW_SECS;

/// Signatures accepted within the freshness window, in arrival order.
#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    set: HashSet<String>,
    order: VecDeque<(i64, String)>,
}

impl ReplayGuard {
    /// Records `signature` (of a request stamped `ts`, checked at `now_secs`); `false` if it
    /// was recorded before (a replay).
    pub fn first_time(&self, signature: &str, ts: i64, now_secs: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // Forget what is too old to be accepted again. Arrival order is nearly timestamp
        // order; a straggler kept a little longer costs only memory.
        while let Some((t, _)) = seen.order.front() {
            if *t >= now_secs - MAX_SKEW_SECS * 2 {
                break;
            }
            if let Some((_, s)) = seen.order.pop_front() {
                seen.set.remove(&s);
            }
        }
        if !seen.set.insert(signature.to_owned()) {
            return false;
        }
        seen.order.push_back((ts, signature.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_passes_once_and_is_forgotten_after_the_window() {
        let g = ReplayGuard::default();
        assert!(g.first_time("v0=a", 1000, 1000));
        assert!(!g.first_time("v0=a", 1000, 1001));
        assert!(g.first_time("v0=b", 1000, 1001));
        // Long after: "a" is forgotten (a request that old is refused as stale before this).
        assert!(g.first_time("v0=c", 5000, 5000));
        assert!(g.first_time("v0=a", 5000, 5000));
    }
}
