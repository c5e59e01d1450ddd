//! Retry policy of API calls: given what a call has been through ([`Attempts`]) and its
//! latest error, [`RetryPolicy::decide`] returns a [`Decision`]; the caller does the
//! sleeping. Deciding apart from waiting lets tests scale delays down to milliseconds and
//! lets the pacer see every wait. Downloads do not use it: a download is one attempt, and
//! the engine, which resumes from what it already has, owns its retries.

use std::time::{Duration, SystemTime};

use crate::error::{ErrorClass, ZoomError};

/// Exponential backoff with full jitter, capped, for a bounded number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First backoff.
    pub base_delay: Duration,
    /// Cap for any one backoff (and for a server-requested delay, so a bogus Retry-After of
    /// a week cannot hang a run).
    pub max_delay: Duration,
    /// Total attempts including the first, counting failures only: a short rate-limit wait
    /// is Zoom saying "not yet", not a failure, and has its own budget below.
    pub max_attempts: u32,
    /// Short rate-limit waits (a per-second 429) one call may sit through. Counted apart from
    /// failures because under a busy per-second limit several workers meet 429s in turn:
    /// counting them as failures made a call that never failed give up after six waits
    /// (seen in the fault-storm test). Bounded all the same, so a server that never stops
    /// saying 429 cannot hang a run.
    pub max_rate_limited_waits: u32,
}

/// What one call has been through so far; starts at zero for each call.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts that failed (transient errors), the first included.
    pub failed: u32,
    /// Rate-limit waits sat through.
    pub rate_limited: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_attempts: 6,
            max_rate_limited_waits: 30,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sleep this long, then try again.
    RetryAfter(Duration),
    /// Give up and return the error.
    GiveUp,
}

impl RetryPolicy {
    /// Tiny delays for tests.
    pub fn fast() -> Self {
        Self {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            max_attempts: 6,
            max_rate_limited_waits: 30,
        }
    }

    /// Backoff for attempt `n` (1-based: the attempt that just failed), before jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// Decides after the latest attempt failed with `err`, counting it into `so_far`.
    pub fn decide(&self, so_far: &mut Attempts, err: &ZoomError) -> Decision {
        match err.class() {
            ErrorClass::Fatal => Decision::GiveUp,
            ErrorClass::Transient => {
                so_far.failed += 1;
                if so_far.failed >= self.max_attempts {
                    Decision::GiveUp
                } else {
                    Decision::RetryAfter(jitter(self.backoff(so_far.failed)))
                }
            }
            // Zoom asks for a longer wait than a run should sit through (a daily quota says
            // "tomorrow"): stop now with Zoom's message rather than hang for minutes.
            ErrorClass::RateLimited(Some(d)) if d > self.max_delay => Decision::GiveUp,
            ErrorClass::RateLimited(wait) => {
                so_far.rate_limited += 1;
                if so_far.rate_limited > self.max_rate_limited_waits {
                    return Decision::GiveUp;
                }
                match wait {
                    Some(d) => Decision::RetryAfter(d),
                    None => Decision::RetryAfter(jitter(self.backoff(so_far.rate_limited))),
                }
            }
        }
    }
}

/// Jitter between half and the full delay: spreads workers apart without ever retrying
/// immediately.
fn jitter(d: Duration) -> Duration {
    let f: f64 = 0.5 + rand::random::<f64>() * 0.5;
    d.mul_f64(f)
}

/// Reads the delay Zoom asks for: `Retry-After` as seconds, ISO 8601 / RFC 3339, or HTTP
/// date; else `X-RateLimit-Reset` (Unix seconds). `now` is injectable for tests.
pub fn server_delay(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
    let now_ts = jiff::Timestamp::try_from(now).ok()?;
    if let Some(v) = headers.get("retry-after").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        let at = v
            .parse::<jiff::Timestamp>()
            .ok()
            .or_else(|| {
                // ISO datetime without an offset: Zoom means UTC.
                v.parse::<jiff::civil::DateTime>()
                    .ok()
                    .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .map(|z| z.timestamp())
            })
            .or_else(|| jiff::fmt::rfc2822::parse(v).ok().map(|z| z.timestamp()));
        if let Some(at) = at {
            return Some(until(now_ts, at));
        }
    }
    if let Some(reset) = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        let at = jiff::Timestamp::from_second(reset).ok()?;
        return Some(until(now_ts, at));
    }
    None
}

fn until(now: jiff::Timestamp, at: jiff::Timestamp) -> Duration {
    let ms = at.as_millisecond() - now.as_millisecond();
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(k: &'static str, v: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(v) {
            h.insert(k, v);
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            server_delay(&hm("retry-after", "7"), now),
            Some(Duration::from_secs(7))
        );
        let iso = jiff::Timestamp::from_second(1_800_000_030)
            .map(|t| t.to_string())
            .unwrap_or_default();
        assert_eq!(
            server_delay(&hm("retry-after", &iso), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            server_delay(&hm("retry-after", "2027-01-15T08:00:10"), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            server_delay(&hm("x-ratelimit-reset", "1800000005"), now),
            Some(Duration::from_secs(5))
        );
        // A reset in the past means "now".
        assert_eq!(
            server_delay(&hm("x-ratelimit-reset", "1"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(server_delay(&hm("retry-after", "garbage"), now), None);
    }

    #[test]
    fn decisions() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_attempts: 3,
            max_rate_limited_waits: 4,
        };
        let transient = ZoomError::api(503, "", None);
        let mut so_far = Attempts::default();
        match p.decide(&mut so_far, &transient) {
            Decision::RetryAfter(d) => {
                assert!(d >= Duration::from_millis(5) && d <= Duration::from_millis(10))
            }
            Decision::GiveUp => panic!("should retry"),
        }
        assert!(matches!(
            p.decide(&mut so_far, &transient),
            Decision::RetryAfter(_)
        ));
        assert_eq!(p.decide(&mut so_far, &transient), Decision::GiveUp);
        assert_eq!(so_far.failed, 3, "three attempts in all");
        assert_eq!(
            p.decide(&mut Attempts::default(), &ZoomError::api(404, "", None)),
            Decision::GiveUp
        );
        // A server wait within the cap is honoured exactly; a longer one (a daily quota)
        // ends the call instead of hanging the run.
        let limited = ZoomError::api(429, "", Some(Duration::from_millis(30)));
        assert_eq!(
            p.decide(&mut Attempts::default(), &limited),
            Decision::RetryAfter(Duration::from_millis(30))
        );
        let daily = ZoomError::api(429, "", Some(Duration::from_secs(100)));
        assert_eq!(p.decide(&mut Attempts::default(), &daily), Decision::GiveUp);
        assert_eq!(p.backoff(10), Duration::from_millis(40));
    }

    #[test]
    fn short_rate_limit_waits_do_not_use_up_the_failure_budget_but_are_bounded() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_attempts: 2,
            max_rate_limited_waits: 4,
        };
        let limited = ZoomError::api(429, "", Some(Duration::from_millis(30)));
        let transient = ZoomError::api(503, "", None);
        let mut so_far = Attempts::default();
        // One failure, then four 429s, and the call is still alive: the 429s were waits.
        assert!(matches!(
            p.decide(&mut so_far, &transient),
            Decision::RetryAfter(_)
        ));
        for _ in 0..4 {
            assert_eq!(
                p.decide(&mut so_far, &limited),
                Decision::RetryAfter(Duration::from_millis(30))
            );
        }
        // The fifth wait is past the budget: a server that never stops saying 429 ends.
        assert_eq!(p.decide(&mut so_far, &limited), Decision::GiveUp);
        // A 429 without a wait backs off on its own count.
        let mut so_far = Attempts::default();
        let bare = ZoomError::api(429, "", None);
        assert!(matches!(
            p.decide(&mut so_far, &bare),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            so_far,
            Attempts {
                failed: 0,
                rate_limited: 1
            }
        );
        // Failures keep their own count: the second one ends the call (max_attempts 2).
        assert!(matches!(
            p.decide(&mut so_far, &transient),
            Decision::RetryAfter(_)
        ));
        assert_eq!(p.decide(&mut so_far, &transient), Decision::GiveUp);
    }
}
