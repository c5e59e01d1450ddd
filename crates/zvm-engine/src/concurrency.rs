//! How many transfers run at once: a fixed number (`-j N`) or found by the engine itself
//! (`-j auto`).
//!
//! Workers are spawned up to the ceiling and each holds a permit of [`Gate`] while it
//! transfers a file, so the number of permits is the number of transfers. In auto mode the
//! [`Controller`] adjusts the permits from what it measures each window: the bytes that
//! arrived, the 429s the CDN answered, the transient errors, and whether every permit was
//! busy. It climbs while total throughput rises (doubling first, like TCP's slow start,
//! then a step at a time), steps back when one more connection brought nothing or made
//! things worse, drops to what the server allowed when it answers 429 ("too many
//! connections"), and probes upwards again now and then, because a line can get faster.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Transfers at once when the engine chooses: where auto mode starts.
pub const AUTO_START: usize = 8;

/// The most transfers at once a front end offers, and the ceiling of auto mode (the idle
/// download pool, `ClientConfig::download_connections`, is sized for it).
pub const MAX_TRANSFERS: usize = 64;

/// The permits: one per transfer allowed to run now.
pub struct Gate {
    sem: Arc<Semaphore>,
    /// Permits to retire as transfers finish (shrinking cannot take a permit in use).
    debt: AtomicUsize,
    target: AtomicUsize,
    /// Transfers holding a permit right now.
    pub(crate) active: AtomicUsize,
    /// Downloads with an open response right now (each holds a connection at the server).
    pub(crate) streaming: AtomicUsize,
    /// The most open at once since the controller last looked.
    pub(crate) streaming_peak: AtomicUsize,
    /// Bytes received by every transfer (counted per chunk, so a window sees a smooth rate).
    pub(crate) bytes: AtomicU64,
    /// Transient transfer errors (resets, truncations, timeouts) since the start.
    pub(crate) errors: AtomicU64,
    /// Transfers that found no job waiting: the pool was not the bottleneck.
    pub(crate) starved: AtomicU64,
    /// Time from asking for a download to its answer (EWMA, microseconds).
    open_latency_us: AtomicU64,
    /// One connection's receive rate (EWMA, bytes per second), for files too short to
    /// measure their own.
    stream_rate: AtomicU64,
}

/// A running transfer's permit; returned to the gate (or retired) when dropped.
pub struct Slot {
    gate: Arc<Gate>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.active.fetch_sub(1, Ordering::AcqRel);
        if let Some(p) = self.permit.take() {
            // Pay shrink debt first: the permit disappears instead of going back.
            let paid = self
                .gate
                .debt
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
                .is_ok();
            if paid {
                p.forget();
            }
        }
    }
}

impl Gate {
    pub fn new(initial: usize) -> Arc<Gate> {
        let initial = initial.max(1);
        Arc::new(Gate {
            sem: Arc::new(Semaphore::new(initial)),
            debt: AtomicUsize::new(0),
            target: AtomicUsize::new(initial),
            active: AtomicUsize::new(0),
            streaming: AtomicUsize::new(0),
            streaming_peak: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            starved: AtomicU64::new(0),
            open_latency_us: AtomicU64::new(0),
            stream_rate: AtomicU64::new(0),
        })
    }

    /// Waits for a permit (`None` only if the semaphore were closed, which it never is).
    pub async fn enter(self: &Arc<Self>) -> Option<Slot> {
        let permit = self.sem.clone().acquire_owned().await.ok()?;
        self.active.fetch_add(1, Ordering::AcqRel);
        Some(Slot {
            gate: self.clone(),
            permit: Some(permit),
        })
    }

    pub fn target(&self) -> usize {
        self.target.load(Ordering::Acquire)
    }

    /// Notes a connection's measured receive rate.
    pub(crate) fn note_stream_rate(&self, bytes_per_sec: f64) {
        let r = bytes_per_sec.clamp(0.0, 1e12) as u64;
        let old = self.stream_rate.load(Ordering::Relaxed);
        let new = if old == 0 { r } else { (old * 7 + r) / 8 };
        self.stream_rate.store(new, Ordering::Relaxed);
    }

    pub(crate) fn note_open_latency(&self, d: Duration) {
        let us = d.as_micros().min(u128::from(u32::MAX)) as u64;
        // A lost race between two updates only loses one sample.
        let old = self.open_latency_us.load(Ordering::Relaxed);
        let new = if old == 0 { us } else { (old * 7 + us) / 8 };
        self.open_latency_us.store(new, Ordering::Relaxed);
    }

    /// Whether a transfer with `remaining` bytes to go at `rate` bytes per second will be
    /// done within the time it takes to open a download: then is the moment to ask for the
    /// next file, so that its first bytes arrive as this one's last bytes do, not earlier
    /// (earlier would make the worker two transfers at once).
    pub(crate) fn near_end(&self, remaining: u64, rate: Option<f64>) -> bool {
        if remaining == 0 {
            return true;
        }
        let shared = self.stream_rate.load(Ordering::Relaxed) as f64;
        let Some(rate) = rate.or((shared > 0.0).then_some(shared)) else {
            return false;
        };
        if rate <= 0.0 {
            return false;
        }
        let lead = Duration::from_micros(self.open_latency_us.load(Ordering::Relaxed));
        (remaining as f64) / rate <= lead.as_secs_f64()
    }

    /// Sets the number of transfers allowed at once.
    pub fn set_target(&self, n: usize) {
        let n = n.max(1);
        let old = self.target.swap(n, Ordering::AcqRel);
        if n > old {
            let mut add = n - old;
            // Cancel outstanding debt before adding permits.
            while add > 0 {
                match self
                    .debt
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
                {
                    Ok(_) => add -= 1,
                    Err(_) => break,
                }
            }
            self.sem.add_permits(add);
        } else if n < old {
            let shrink = old - n;
            // Idle permits go at once; the rest as their transfers finish.
            let now = self.sem.forget_permits(shrink);
            self.debt.fetch_add(shrink - now, Ordering::AcqRel);
        }
    }
}

/// A transfer's recent receive rate, measured over spans of at least `PACE_SPAN` so that the
/// burst a connection delivers first (bytes the server sent before we read) does not count
/// as its pace.
pub(crate) struct Pace {
    mark: (Instant, u64),
    rate: Option<f64>,
    began: (Instant, u64),
}

const PACE_SPAN: Duration = Duration::from_millis(40);

impl Pace {
    pub(crate) fn new(at: u64) -> Pace {
        let now = Instant::now();
        Pace {
            mark: (now, at),
            rate: None,
            began: (now, at),
        }
    }

    /// The whole transfer's rate, for the shared estimate (a file shorter than a span).
    pub(crate) fn finished(&self, len: u64, gate: &Gate) {
        let secs = self.began.0.elapsed().as_secs_f64();
        if self.rate.is_none() && secs > 0.0 && len > self.began.1 {
            gate.note_stream_rate((len - self.began.1) as f64 / secs);
        }
    }

    /// Notes that `len` bytes have arrived so far; the latest full span's rate.
    pub(crate) fn rate(&mut self, len: u64, gate: &Gate) -> Option<f64> {
        let now = Instant::now();
        let span = now.duration_since(self.mark.0);
        if span >= PACE_SPAN {
            let r = len.saturating_sub(self.mark.1) as f64 / span.as_secs_f64();
            gate.note_stream_rate(r);
            self.rate = Some(r);
            self.mark = (now, len);
        }
        self.rate
    }
}

/// One measurement window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Bytes per second over the window.
    pub rate: f64,
    /// 429 answers from the CDN ("too many connections") in the window.
    pub throttled: u64,
    /// Transient transfer errors in the window.
    pub errors: u64,
    /// The most downloads with an open response at once during the window.
    pub streaming: usize,
    /// Whether there was more work than transfers (every permit busy, jobs waiting).
    pub saturated: bool,
}

/// What the controller decided, and why (reported as an event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub transfers: usize,
    pub reason: &'static str,
}

/// The decision rule of auto mode, separate from time and I/O so it can be tested alone.
#[derive(Debug)]
pub struct Controller {
    ceiling: usize,
    target: usize,
    /// Doubling until one step brings less than `GAIN`.
    slow_start: bool,
    /// The step being tried: (target before it, rate before it).
    trial: Option<(usize, f64)>,
    /// The most the server has allowed (after a 429), and until when that holds.
    server_limit: Option<(usize, u32)>,
    /// Windows since the last change, to space out probes.
    quiet: u32,
    /// Windows left in which a 429 is an echo of the previous verdict.
    cooldown: u32,
}

/// A step up must raise throughput by this fraction to be kept.
const GAIN: f64 = 0.05;
/// Windows without change before probing one step up again.
const PROBE_AFTER: u32 = 10;
/// Windows a server's "too many connections" is respected before probing past it.
const SERVER_LIMIT_WINDOWS: u32 = 60;

impl Controller {
    pub fn new(start: usize, ceiling: usize) -> Controller {
        let ceiling = ceiling.max(1);
        Controller {
            ceiling,
            target: start.clamp(1, ceiling),
            slow_start: true,
            trial: None,
            server_limit: None,
            quiet: 0,
            cooldown: 0,
        }
    }

    pub fn target(&self) -> usize {
        self.target
    }

    fn cap(&self) -> usize {
        match self.server_limit {
            Some((n, _)) => n.min(self.ceiling),
            None => self.ceiling,
        }
    }

    /// Feeds one window; returns a change of target, if any.
    pub fn observe(&mut self, w: Window) -> Option<Change> {
        if let Some((n, left)) = self.server_limit {
            self.server_limit = (left > 1).then(|| (n, left - 1));
        }
        // The server says too many: the most it let stream at once is what it allows (the
        // transfers it refused wait to try again). Answers to requests sent before the
        // change may still say 429 for a window: those are not a new verdict.
        if self.cooldown > 0 {
            self.cooldown -= 1;
            if w.throttled > 0 {
                return None;
            }
        }
        if w.throttled > 0 {
            let allowed = w.streaming.min(self.target).max(1);
            self.server_limit = Some((allowed, SERVER_LIMIT_WINDOWS));
            self.slow_start = false;
            self.trial = None;
            self.cooldown = 2;
            return self.set(allowed, "the server refused more connections (429)");
        }
        // Connections failing: fewer, gently (a quarter off).
        if w.errors > 0 && w.errors as usize * 4 >= self.target {
            self.slow_start = false;
            self.trial = None;
            let n = (self.target * 3 / 4).max(1);
            return self.set(n, "transfers failing");
        }
        if let Some((before, rate_before)) = self.trial.take() {
            if w.rate >= rate_before * (1.0 + GAIN) {
                // The step paid: keep it and, in slow start, try the next.
                return self.step_up(w.rate);
            }
            // Nothing gained (or worse): go back, and leave slow start.
            self.slow_start = false;
            return self.set(before, "more transfers did not raise throughput");
        }
        if !w.saturated {
            // Fewer jobs than transfers: more would change nothing.
            self.quiet = 0;
            return None;
        }
        self.quiet += 1;
        if self.slow_start || self.quiet >= PROBE_AFTER {
            return self.step_up(w.rate);
        }
        None
    }

    fn step_up(&mut self, rate: f64) -> Option<Change> {
        let cap = self.cap();
        if self.target >= cap {
            return None;
        }
        let next = if self.slow_start {
            self.target * 2
        } else {
            self.target + (self.target / 4).max(1)
        }
        .min(cap);
        self.trial = Some((self.target, rate));
        self.set(next, "throughput still rising")
    }

    fn set(&mut self, n: usize, reason: &'static str) -> Option<Change> {
        self.quiet = 0;
        let n = n.clamp(1, self.ceiling);
        if n == self.target {
            return None;
        }
        self.target = n;
        Some(Change {
            transfers: n,
            reason,
        })
    }
}

/// Samples the gate every `every` and applies the controller's decisions until cancelled.
pub(crate) async fn run_controller(
    gate: Arc<Gate>,
    mut ctl: Controller,
    every: Duration,
    throttles: impl Fn() -> u64,
    mut on_change: impl FnMut(&Change),
    cancel: tokio_util::sync::CancellationToken,
) {
    let mut last_bytes = gate.bytes.load(Ordering::Relaxed);
    let mut last_throttles = throttles();
    let mut last_errors = gate.errors.load(Ordering::Relaxed);
    let mut last_starved = gate.starved.load(Ordering::Relaxed);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = cancel.cancelled() => return,
        }
        let now = Instant::now();
        let bytes = gate.bytes.load(Ordering::Relaxed);
        let t = throttles();
        let errors = gate.errors.load(Ordering::Relaxed);
        let starved = gate.starved.load(Ordering::Relaxed);
        let secs = now.duration_since(last).as_secs_f64().max(1e-3);
        let active = gate.active.load(Ordering::Acquire);
        let w = Window {
            rate: bytes.saturating_sub(last_bytes) as f64 / secs,
            throttled: t.saturating_sub(last_throttles),
            errors: errors.saturating_sub(last_errors),
            streaming: gate
                .streaming_peak
                .swap(gate.streaming.load(Ordering::Acquire), Ordering::AcqRel),
            saturated: starved == last_starved && active >= gate.target(),
        };
        (last_bytes, last_throttles, last_errors, last_starved, last) =
            (bytes, t, errors, starved, now);
        if let Some(c) = ctl.observe(w) {
            gate.set_target(c.transfers);
            on_change(&c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(rate: f64) -> Window {
        Window {
            rate,
            throttled: 0,
            errors: 0,
            streaming: 0,
            saturated: true,
        }
    }

    /// Throughput that grows with connections up to `best`, then stays flat.
    fn line(n: usize, best: usize) -> f64 {
        n.min(best) as f64 * 10.0
    }

    #[test]
    fn climbs_to_where_throughput_stops_rising() {
        for best in [3usize, 8, 13, 40, 64] {
            let mut c = Controller::new(AUTO_START, 64);
            for _ in 0..200 {
                let r = line(c.target(), best);
                c.observe(Window {
                    streaming: c.target(),
                    ..win(r)
                });
            }
            // It ends with the best throughput there is, never more than one doubling (plus
            // a probe) above the knee, or where it started if more never helped.
            let t = c.target();
            assert_eq!(line(t, best), line(64, best), "best {best}: {t}");
            assert!(t <= (best * 5 / 2).max(AUTO_START), "best {best}: {t}");
        }
    }

    #[test]
    fn a_429_drops_to_what_the_server_allowed_and_it_stays_there() {
        let mut c = Controller::new(AUTO_START, 64);
        let limit = 6;
        let mut over = 0;
        for _ in 0..300 {
            let n = c.target();
            let w = Window {
                rate: line(n, limit),
                throttled: u64::from(n > limit),
                streaming: n.min(limit),
                errors: 0,
                saturated: true,
            };
            over += usize::from(n > limit);
            c.observe(w);
        }
        assert_eq!(c.target(), limit);
        // Probing past the limit is rare: a handful of windows in 300.
        assert!(over <= 8, "{over} windows over the limit");
    }

    #[test]
    fn no_climb_without_work_waiting() {
        let mut c = Controller::new(4, 64);
        for _ in 0..50 {
            c.observe(Window {
                saturated: false,
                ..win(10.0)
            });
        }
        assert_eq!(c.target(), 4);
    }

    #[test]
    fn errors_back_off() {
        let mut c = Controller::new(16, 64);
        c.observe(Window {
            errors: 8,
            ..win(10.0)
        });
        assert_eq!(c.target(), 12);
    }

    #[tokio::test]
    async fn gate_shrinks_as_transfers_finish_and_grows_at_once() {
        let g = Gate::new(3);
        let a = g.enter().await.unwrap();
        let b = g.enter().await.unwrap();
        let c = g.enter().await.unwrap();
        g.set_target(1);
        drop(a);
        drop(b);
        // Two permits retired: the third transfer is still running, nothing else may enter.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), g.enter())
                .await
                .is_err()
        );
        drop(c);
        let d = g.enter().await.unwrap();
        g.set_target(2);
        let e = tokio::time::timeout(Duration::from_millis(50), g.enter()).await;
        assert!(e.is_ok(), "growing adds a permit at once");
        drop(d);
    }
}
