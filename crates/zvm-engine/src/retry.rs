//! One file's retries: the only retry loop a download has. The client opens a download in
//! one attempt and says what went wrong ([`zvm_zoom::ErrorClass`]); this decides what
//! happens next, so the budget a user relies on ([`TransferRetry`]) is the number of
//! requests a failing file really costs.
//!
//! Two kinds of setback are counted apart:
//! - a failure (a reset, a truncated or stalled body, a 5xx): backs off exponentially and
//!   uses up one of `max_attempts`;
//! - a throttle (429, or 503 with Retry-After: the server saying "not yet"): waits as long
//!   as the server asked (within `base_delay ..= max_delay`) and uses up nothing while the
//!   run is making progress. With a fixed `-j` above what a CDN allows, most transfers meet
//!   429s for as long as the others stream; that is a queue, not a failure. Only throttles
//!   with no byte received anywhere in the run since the file's previous one count, and
//!   `max_throttled_waits` of those end the file, so a server that refuses everyone cannot
//!   hang the run.

use std::time::Duration;

use crate::options::TransferRetry;

/// What to do after a setback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait this long, then try again.
    Retry(Duration),
    /// The budget is spent: the file fails.
    GiveUp,
}

/// The setbacks of one file so far.
#[derive(Debug)]
pub(crate) struct FileRetries<'a> {
    policy: &'a TransferRetry,
    failed: u32,
    /// Throttles since the last failure or answer (for the backoff of a bare 429).
    throttled_in_row: u32,
    /// Throttles with no progress of the run in between.
    throttled_in_vain: u32,
    /// The run's bytes received at the file's latest throttle.
    run_bytes_at_throttle: Option<u64>,
}

impl<'a> FileRetries<'a> {
    pub(crate) fn new(policy: &'a TransferRetry) -> Self {
        Self {
            policy,
            failed: 0,
            throttled_in_row: 0,
            throttled_in_vain: 0,
            run_bytes_at_throttle: None,
        }
    }

    /// Attempts that failed so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failed
    }

    /// An attempt failed (transiently).
    pub(crate) fn failed(&mut self) -> Next {
        self.failed += 1;
        self.throttled_in_row = 0;
        if self.failed >= self.policy.max_attempts {
            Next::GiveUp
        } else {
            Next::Retry(self.policy.delay(self.failed))
        }
    }

    /// The server said "not yet", asking to wait `asked` if it said how long; `run_bytes`
    /// is what the whole run has received so far.
    pub(crate) fn throttled(&mut self, asked: Option<Duration>, run_bytes: u64) -> Next {
        self.throttled_in_row += 1;
        self.throttled_in_vain = if self.run_bytes_at_throttle == Some(run_bytes) {
            self.throttled_in_vain + 1
        } else {
            1
        };
        self.run_bytes_at_throttle = Some(run_bytes);
        if self.throttled_in_vain > self.policy.max_throttled_waits {
            return Next::GiveUp;
        }
        Next::Retry(match asked {
            // Honoured exactly within bounds: a bogus week cannot hang the run, and a zero
            // cannot make it spin.
            Some(d) => d.clamp(self.policy.base_delay, self.policy.max_delay),
            None => self.policy.delay(self.throttled_in_row),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TransferRetry {
        TransferRetry {
            max_attempts: 5,
            max_throttled_waits: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }

    #[test]
    fn failures_back_off_and_end_after_the_budget() {
        let p = policy();
        let mut r = FileRetries::new(&p);
        for n in 1..5u32 {
            match r.failed() {
                Next::Retry(d) => {
                    let step = Duration::from_millis(100 * (1 << (n - 1)));
                    assert!(d >= step / 2 && d <= step, "failure {n}: {d:?}");
                }
                Next::GiveUp => panic!("gave up after {n} of 5"),
            }
        }
        assert_eq!(r.failed(), Next::GiveUp, "the fifth failure is the last");
        assert_eq!(r.failures(), 5);
    }

    #[test]
    fn throttles_wait_as_asked_and_use_no_failure() {
        let p = policy();
        let mut r = FileRetries::new(&p);
        // The run makes progress between throttles: they are a queue, never the end.
        for i in 0..100u64 {
            assert_eq!(
                r.throttled(Some(Duration::from_secs(1)), i * 1000),
                Next::Retry(Duration::from_secs(1))
            );
        }
        assert_eq!(r.failures(), 0);
        // A wait beyond the cap is capped; none at all is the base backoff, not a spin.
        assert_eq!(
            r.throttled(Some(Duration::from_secs(3600)), 1_000_000),
            Next::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            r.throttled(Some(Duration::ZERO), 2_000_000),
            Next::Retry(Duration::from_millis(100))
        );
        // Failures keep their own budget.
        for _ in 1..5 {
            assert!(matches!(r.failed(), Next::Retry(_)));
        }
        assert_eq!(r.failed(), Next::GiveUp);
    }

    #[test]
    fn throttles_while_nothing_arrives_anywhere_end_the_file() {
        let p = policy();
        let mut r = FileRetries::new(&p);
        for _ in 0..3 {
            assert!(matches!(r.throttled(None, 42), Next::Retry(_)));
        }
        assert_eq!(r.throttled(None, 42), Next::GiveUp);
        // Progress in the run starts the count again.
        let mut r = FileRetries::new(&p);
        for _ in 0..3 {
            assert!(matches!(r.throttled(None, 42), Next::Retry(_)));
        }
        assert!(matches!(r.throttled(None, 43), Next::Retry(_)));
    }

    #[test]
    fn a_bare_throttle_backs_off_on_its_own_count() {
        let p = policy();
        let mut r = FileRetries::new(&p);
        let Next::Retry(first) = r.throttled(None, 1) else {
            panic!("gave up")
        };
        let Next::Retry(third) = ({
            let _ = r.throttled(None, 2);
            r.throttled(None, 3)
        }) else {
            panic!("gave up")
        };
        assert!(first <= Duration::from_millis(100), "{first:?}");
        assert!(third >= Duration::from_millis(200), "{third:?}");
    }
}
