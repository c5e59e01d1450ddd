//! The bandwidth caps' clocks: when a capped line (one TCP connection, or the link all
//! downloads share) is next free to send, and the waiting for a turn on it. A token bucket
//! with a small burst, so a reader that pauses cannot bank bandwidth for later.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When a capped line (one connection, or the shared link) is next free to send. Shared by
/// everything sent on it; `None` until the first chunk.
pub type LineClock = Arc<Mutex<Option<Instant>>>;

/// Takes the next `n` bytes' turn on a line of `bps` bytes per second and returns when the
/// turn ends. A token bucket with a small burst: a line left idle does not bank more than
/// `MAX_BURST` of sending time (a CDN's bucket is small too).
pub fn take_turn(line: &Mutex<Option<Instant>>, n: u64, bps: u64) -> Instant {
    let now = Instant::now();
    let mut free = line.lock().unwrap_or_else(|p| p.into_inner());
    let floor = now.checked_sub(MAX_BURST).unwrap_or(now);
    let start = free.map_or(now, |t| t.max(floor));
    let done = start + Duration::from_secs_f64(n as f64 / bps as f64);
    *free = Some(done);
    done
}

/// How far behind its schedule a capped line may fall and then catch up in a burst: a
/// reader that pauses does not bank bandwidth for later (a CDN's bucket is small too).
pub const MAX_BURST: Duration = Duration::from_millis(50);

/// A response starts with no credit on its connection: time the connection sat idle between
/// keep-alive requests is not banked (else every reused HTTP/1.1 connection would start with
/// a `MAX_BURST` burst and the cap would not be the cap). A response joining a busy line (an
/// HTTP/2 stream beside others) waits its turn as before.
pub fn begin_response(line: &Mutex<Option<Instant>>) {
    let now = Instant::now();
    let mut free = line.lock().unwrap_or_else(|p| p.into_inner());
    *free = Some(free.map_or(now, |t| t.max(now)));
}

pub async fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        tokio::time::sleep(t - now).await;
    }
}
