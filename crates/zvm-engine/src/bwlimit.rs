//! The global `--bwlimit`: one token bucket that every transfer's chunks pass through, so
//! the run as a whole stays under the rate whatever the number of connections.

use std::num::NonZeroU32;

/// The global `--bwlimit`: a token bucket in KiB shared by every transfer.
pub struct ByteLimiter {
    inner: governor::DefaultDirectRateLimiter,
    burst_kib: u32,
}

impl ByteLimiter {
    pub fn new(bytes_per_sec: u64) -> Self {
        let kib = u32::try_from((bytes_per_sec / 1024).max(1)).unwrap_or(u32::MAX);
        // A burst of a quarter second (at least 64 KiB) keeps the rate smooth without
        // making every chunk wait.
        let burst = (kib / 4).max(64);
        let quota = governor::Quota::per_second(NonZeroU32::new(kib).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            inner: governor::RateLimiter::direct(quota),
            burst_kib: burst,
        }
    }

    pub async fn take(&self, bytes: usize) {
        let mut kib = (bytes as u64).div_ceil(1024);
        while kib > 0 {
            let n = kib.min(u64::from(self.burst_kib)) as u32;
            if let Some(n) = NonZeroU32::new(n) {
                let _ = self.inner.until_n_ready(n).await;
            }
            kib -= u64::from(n);
        }
    }
}
