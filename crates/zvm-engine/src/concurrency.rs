//! How many transfers run at once: a fixed number (`-j N`) or found by the engine itself
//! (`-j auto`).
//!
//! Workers are spawned up to the ceiling and each holds a permit of [`Gate`] while it
//! transfers a file, so the number of permits is the number of transfers. In auto mode the
//! [`Controller`] adjusts the permits from what it measures each window. It climbs while
//! total throughput rises (doubling first, like TCP's slow start, then a step at a time),
//! steps back when more connections brought nothing, and probes upwards again now and then,
//! because a line can get faster. It steps down only on signs of overload: the CDN
//! answering 429 or 503 (then to what the server let through), the transfers slowing down
//! together (each connection's steady pace falls: the line or the server is congested), or
//! total throughput falling and staying down while every permit is busy.
//!
//! A reset, a truncated body, a stall or an ignored Range is a fault of one connection, not
//! congestion: the transfer retries it and the number of transfers stays. Counting those as
//! "transfers failing" made auto mode fall to a handful of transfers under a 10 % reset
//! rate, three times slower than a fixed `-j 8`. Faults also make throughput noisy, so a
//! step is judged over several windows against the average before it, and a fall counts
//! only once it has lasted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Transfers at once when the engine chooses: where auto mode starts. 32: a run of few large
/// files or many small ones spent its first second climbing from 8 or 16 to the 32 a fixed
/// `-j 32` has from the start (the adaptive bench's scenarios 1 and 2). Starting at 32 used to
/// cost a server that allows fewer connections (scenario 3: 1.30x the best fixed setting), as
/// the refused transfers kept asking every second after auto had come down; now they give
/// their permits back (transfer.rs, `Ended::HandedBack`), and it costs no more than starting
/// at 16 did (BENCHMARKS.md, 2026-11-30).
pub const AUTO_START: usize = 32;

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
    /// Faults of one connection since the start: resets, truncations, stalls, failed
    /// requests and ignored Ranges. Retried, and never a reason for fewer transfers.
    pub(crate) faults: AtomicU64,
    /// Transfers that found no job waiting: the pool was not the bottleneck.
    pub(crate) starved: AtomicU64,
    /// Time from asking for a download to its answer (EWMA, microseconds).
    open_latency_us: AtomicU64,
    /// One connection's receive rate (EWMA, bytes per second), for files too short to
    /// measure their own.
    stream_rate: AtomicU64,
    /// Bytes and time of the spans in which data flowed steadily, summed over every
    /// transfer: their ratio is one connection's pace, with pauses (a stall) left out.
    steady_bytes: AtomicU64,
    steady_micros: AtomicU64,
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
            faults: AtomicU64::new(0),
            starved: AtomicU64::new(0),
            open_latency_us: AtomicU64::new(0),
            stream_rate: AtomicU64::new(0),
            steady_bytes: AtomicU64::new(0),
            steady_micros: AtomicU64::new(0),
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

    /// Whether more transfers hold a permit than the target allows (it was lowered while
    /// they ran; their permits retire as they finish).
    pub(crate) fn over_target(&self) -> bool {
        self.debt.load(Ordering::Acquire) > 0
    }

    /// Notes a connection's measured receive rate.
    pub(crate) fn note_stream_rate(&self, bytes_per_sec: f64) {
        let r = bytes_per_sec.clamp(0.0, 1e12) as u64;
        let old = self.stream_rate.load(Ordering::Relaxed);
        let new = if old == 0 { r } else { (old * 7 + r) / 8 };
        self.stream_rate.store(new, Ordering::Relaxed);
    }

    /// Notes a span in which `bytes` arrived steadily over `span`.
    fn note_steady(&self, bytes: u64, span: Duration) {
        let us = span.as_micros().min(u128::from(u32::MAX)) as u64;
        self.steady_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.steady_micros.fetch_add(us, Ordering::Relaxed);
    }

    /// The steady data so far: (bytes, microseconds of connection time).
    fn steady(&self) -> (u64, u64) {
        (
            self.steady_bytes.load(Ordering::Relaxed),
            self.steady_micros.load(Ordering::Relaxed),
        )
    }

    /// A fault of one connection (see [`Gate::faults`]).
    pub(crate) fn note_fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
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
/// A span longer than this held a pause (a stall, a server that stopped sending), not
/// steady data: it says nothing about how fast the line is, so the pace leaves it out.
const STEADY_SPAN: Duration = Duration::from_millis(250);

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
        let took = self.began.0.elapsed();
        let secs = took.as_secs_f64();
        if self.rate.is_none() && secs > 0.0 && len > self.began.1 {
            gate.note_stream_rate((len - self.began.1) as f64 / secs);
            if took <= STEADY_SPAN {
                gate.note_steady(len - self.began.1, took);
            }
        }
    }

    /// Notes that `len` bytes have arrived so far; the latest full span's rate.
    pub(crate) fn rate(&mut self, len: u64, gate: &Gate) -> Option<f64> {
        let now = Instant::now();
        let span = now.duration_since(self.mark.0);
        if span >= PACE_SPAN {
            let got = len.saturating_sub(self.mark.1);
            let r = got as f64 / span.as_secs_f64();
            gate.note_stream_rate(r);
            if span <= STEADY_SPAN {
                gate.note_steady(got, span);
            }
            self.rate = Some(r);
            self.mark = (now, len);
        }
        self.rate
    }
}

/// One measurement window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Bytes per second over the window, all transfers together.
    pub rate: f64,
    /// Download answers in the window that said the server is overloaded: 429 ("too many
    /// connections") or 503.
    pub throttled: u64,
    /// Faults of one connection in the window (resets, truncations, stalls, failed
    /// requests, ignored Ranges): they make throughput noisy, so a step tried while they
    /// happen is judged over longer, but they never lower the number of transfers.
    pub faults: u64,
    /// The most downloads with an open response at once during the window.
    pub streaming: usize,
    /// One connection's pace while its data flowed steadily, in bytes per second (pauses
    /// such as a stall left out); `None` when no transfer measured one in the window.
    pub pace: Option<f64>,
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
    /// The step being tried.
    trial: Option<Trial>,
    /// What is known of the current target (reset at every change).
    level: Level,
    /// The most the server has allowed (after a 429), and until when that holds.
    server_limit: Option<(usize, u32)>,
    /// Windows since the last change, to space out probes.
    quiet: u32,
    /// Windows left in which a 429 is an echo of the previous verdict.
    cooldown: u32,
}

/// A step up being tried: the target before it, the throughput before it, and the windows
/// seen since.
#[derive(Debug)]
struct Trial {
    before: usize,
    rate_before: f64,
    windows: u32,
    sum: f64,
    /// The best single window of the trial (slow start keeps a doubling on the first window
    /// that shows the gain).
    best: f64,
    faults: u64,
}

/// What the controller has measured at the current number of transfers.
#[derive(Debug, Default)]
struct Level {
    /// The first window after a change is skipped: connections are still opening.
    settled: bool,
    /// Average throughput of the saturated windows (an EWMA).
    rate: Option<f64>,
    /// Average steady pace of one connection (an EWMA).
    pace: Option<f64>,
    /// Saturated windows in a row with throughput below `1 - FALL` of `rate`.
    fallen: u32,
    /// Windows in a row with the pace below `SLOWED` of `pace`.
    slowed: u32,
}

/// The overload a [`Level`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overload {
    /// Throughput fell and stayed down while every permit was busy.
    Fell,
    /// Every connection slowed at once: the line or the server is congested.
    Slowed,
}

/// A step up must raise throughput by this fraction to be kept.
const GAIN: f64 = 0.05;
/// Windows a step is judged over, and over how many when faults happened meanwhile (each
/// fault is a dip in throughput that one window would take for the step's effect).
const TRIAL_WINDOWS: u32 = 2;
const TRIAL_WINDOWS_WITH_FAULTS: u32 = 4;
/// A doubling in slow start without a fault is judged on one window: a doubling that pays
/// shows a gain far above `GAIN` at once, and a run of a few large files is over in the
/// seconds that two windows per doubling spent climbing (adaptive bench, scenario 1).
/// It is undone only after `TRIAL_WINDOWS` without the gain, though: the first window after
/// a doubling also holds the new connections' opening, and on a busy machine one window is
/// noisy, so a doubling that paid was undone and auto left slow start at half of what the
/// line takes (scenario 1 at 1.3x `-j 32`, traced: 32 at 0.88 s, back to 16 at 1.08 s).
const SLOW_START_TRIAL_WINDOWS: u32 = 1;
/// Windows without change before probing one step up again.
const PROBE_AFTER: u32 = 10;
/// Windows a server's "too many connections" is respected before probing past it.
const SERVER_LIMIT_WINDOWS: u32 = 60;
/// Throughput this far below its average at the current target, for `FALL_WINDOWS`
/// saturated windows in a row (3 s), is a fall. Shorter dips are the noise of faults: a
/// stall of 3 s takes one connection of several, not a third of the total.
const FALL: f64 = 0.35;
const FALL_WINDOWS: u32 = 6;
/// One connection's steady pace under this share of its average, for `SLOWED_WINDOWS`
/// windows in a row, means every connection slowed at once.
const SLOWED: f64 = 0.6;
const SLOWED_WINDOWS: u32 = 2;
/// Weight of a new window in the averages of a [`Level`].
const EWMA: f64 = 0.25;

impl Level {
    /// Feeds a window; returns an overload once one has lasted.
    fn note(&mut self, w: &Window) -> Option<Overload> {
        if !self.settled {
            self.settled = true;
            return None;
        }
        if let Some(p) = w.pace {
            match self.pace {
                Some(avg) if p < avg * SLOWED => self.slowed += 1,
                Some(avg) => {
                    self.slowed = 0;
                    self.pace = Some(avg + (p - avg) * EWMA);
                }
                None => self.pace = Some(p),
            }
        }
        if self.slowed >= SLOWED_WINDOWS {
            return Some(Overload::Slowed);
        }
        if !w.saturated {
            // Fewer jobs than transfers: throughput says nothing about the line.
            self.fallen = 0;
            return None;
        }
        match self.rate {
            Some(avg) if w.rate < avg * (1.0 - FALL) => self.fallen += 1,
            Some(avg) => {
                self.fallen = 0;
                self.rate = Some(avg + (w.rate - avg) * EWMA);
            }
            None => self.rate = Some(w.rate),
        }
        (self.fallen >= FALL_WINDOWS).then_some(Overload::Fell)
    }
}

impl Controller {
    pub fn new(start: usize, ceiling: usize) -> Controller {
        let ceiling = ceiling.max(1);
        Controller {
            ceiling,
            target: start.clamp(1, ceiling),
            slow_start: true,
            trial: None,
            level: Level::default(),
            server_limit: None,
            quiet: 0,
            cooldown: 0,
        }
    }

    pub fn target(&self) -> usize {
        self.target
    }

    /// How long the next window lasts, given the run's window: half of it in slow start.
    /// Climbing is measured in windows, and a run of a few large files (the adaptive bench's
    /// scenario 1) is over in about two seconds: at full windows, auto spent the first second
    /// settling and measuring before its first step.
    pub fn window(&self, every: Duration) -> Duration {
        if self.slow_start { every / 2 } else { every }
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
            return self.set(allowed, "the server refused more connections (429 or 503)");
        }
        if let Some(t) = &mut self.trial {
            t.windows += 1;
            t.sum += w.rate;
            t.best = t.best.max(w.rate);
            t.faults += w.faults;
            let goal = t.rate_before * (1.0 + GAIN);
            let needed = if t.faults > 0 {
                TRIAL_WINDOWS_WITH_FAULTS
            } else if self.slow_start && t.best >= goal {
                SLOW_START_TRIAL_WINDOWS
            } else {
                TRIAL_WINDOWS
            };
            if t.windows < needed {
                return None;
            }
            let rate = if self.slow_start && t.faults == 0 {
                t.best
            } else {
                t.sum / f64::from(t.windows)
            };
            let before = t.before;
            self.trial = None;
            if rate >= goal {
                // The step paid: keep it and, in slow start, try the next.
                return self.step_up(rate);
            }
            // Nothing gained (or worse): go back, and leave slow start.
            self.slow_start = false;
            return self.set(before, "more transfers did not raise throughput");
        }
        if let Some(overload) = self.level.note(&w) {
            self.slow_start = false;
            let n = (self.target * 3 / 4).max(1);
            return self.set(
                n,
                match overload {
                    Overload::Fell => "throughput fell and stayed down",
                    Overload::Slowed => "every transfer slowed at once",
                },
            );
        }
        if !w.saturated {
            // Fewer jobs than transfers: more would change nothing.
            self.quiet = 0;
            return None;
        }
        self.quiet += 1;
        if self.slow_start || self.quiet >= PROBE_AFTER {
            // The throughput to beat: the average at this target, once there is one.
            if let Some(rate) = self.level.rate {
                return self.step_up(rate);
            }
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
        let before = self.target;
        let change = self.set(next, "throughput still rising");
        self.trial = Some(Trial {
            before,
            rate_before: rate,
            windows: 0,
            sum: 0.0,
            best: 0.0,
            faults: 0,
        });
        change
    }

    fn set(&mut self, n: usize, reason: &'static str) -> Option<Change> {
        self.quiet = 0;
        let n = n.clamp(1, self.ceiling);
        if n == self.target {
            return None;
        }
        self.target = n;
        self.level = Level::default();
        Some(Change {
            transfers: n,
            reason,
        })
    }
}

/// Steady data of less than this much connection time in a window is too little to say
/// how fast a connection goes.
const MIN_STEADY: Duration = Duration::from_millis(100);

/// One connection's steady pace between two readings of [`Gate::steady`].
fn pace_between(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let bytes = after.0.saturating_sub(before.0);
    let micros = after.1.saturating_sub(before.1);
    (micros >= MIN_STEADY.as_micros() as u64).then(|| bytes as f64 * 1e6 / micros as f64)
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
    let mut last_faults = gate.faults.load(Ordering::Relaxed);
    let mut last_steady = gate.steady();
    let mut last_starved = gate.starved.load(Ordering::Relaxed);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(ctl.window(every)) => {}
            _ = cancel.cancelled() => return,
        }
        let now = Instant::now();
        let bytes = gate.bytes.load(Ordering::Relaxed);
        let t = throttles();
        let faults = gate.faults.load(Ordering::Relaxed);
        let steady = gate.steady();
        let starved = gate.starved.load(Ordering::Relaxed);
        let secs = now.duration_since(last).as_secs_f64().max(1e-3);
        let active = gate.active.load(Ordering::Acquire);
        let w = Window {
            rate: bytes.saturating_sub(last_bytes) as f64 / secs,
            throttled: t.saturating_sub(last_throttles),
            faults: faults.saturating_sub(last_faults),
            pace: pace_between(last_steady, steady),
            streaming: gate
                .streaming_peak
                .swap(gate.streaming.load(Ordering::Acquire), Ordering::AcqRel),
            saturated: starved == last_starved && active >= gate.target(),
        };
        (
            last_bytes,
            last_throttles,
            last_faults,
            last_steady,
            last_starved,
            last,
        ) = (bytes, t, faults, steady, starved, now);
        if let Some(c) = ctl.observe(w) {
            gate.set_target(c.transfers);
            on_change(&c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the controller starts in these tests: low, so every rule has room to act (the
    /// engine starts at `AUTO_START`).
    const START: usize = 8;

    fn win(rate: f64) -> Window {
        Window {
            rate,
            throttled: 0,
            faults: 0,
            streaming: 0,
            pace: None,
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
            let mut c = Controller::new(START, 64);
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
            assert!(t <= (best * 5 / 2).max(START), "best {best}: {t}");
        }
    }

    /// A run of a few large files on a line that takes every connection it gets is over in
    /// a few seconds: slow start must double once a window (500 ms) while each doubling
    /// pays, after one window to settle and one to measure where it started.
    #[test]
    fn slow_start_doubles_once_a_window_while_it_pays() {
        let mut c = Controller::new(START, 64);
        let mut targets = vec![c.target()];
        for _ in 0..5 {
            c.observe(win(line(c.target(), 64)));
            targets.push(c.target());
        }
        assert_eq!(targets, [8, 8, 16, 32, 64, 64]);
    }

    /// One noisy window right after a doubling (the new connections still opening, a busy
    /// machine) does not undo a doubling that pays: slow start looks at a second window
    /// before going back, and goes back when neither showed the gain.
    #[test]
    fn slow_start_undoes_a_doubling_only_after_two_windows_without_gain() {
        let mut c = Controller::new(START, 64);
        c.observe(win(line(8, 64)));
        c.observe(win(line(8, 64)));
        assert_eq!(c.target(), 16, "the first doubling");
        // The first window at 16 looks no better than 8 (noise), the second does.
        c.observe(win(line(8, 64)));
        assert_eq!(c.target(), 16, "one window without gain is not a verdict");
        c.observe(win(line(16, 64)));
        assert_eq!(c.target(), 32, "the doubling paid, and slow start goes on");

        // A line that takes 8: the doubling to 16 shows nothing in two windows.
        let mut c = Controller::new(START, 64);
        c.observe(win(line(8, 8)));
        c.observe(win(line(8, 8)));
        assert_eq!(c.target(), 16);
        c.observe(win(line(16, 8)));
        assert_eq!(c.target(), 16);
        c.observe(win(line(16, 8)));
        assert_eq!(c.target(), 8, "two windows without gain undo it");
    }

    /// Windows are half the run's window while climbing, and the run's window once a step
    /// did not pay (the later rules count windows of that length: a fall lasts 3 s).
    #[test]
    fn windows_are_short_only_while_climbing() {
        let every = Duration::from_millis(500);
        let mut c = Controller::new(START, 64);
        assert_eq!(c.window(every), every / 2);
        for _ in 0..20 {
            c.observe(win(line(c.target(), 16)));
        }
        assert_eq!(c.target(), 16);
        assert_eq!(c.window(every), every);
    }

    #[test]
    fn probes_again_and_finds_a_line_that_got_faster() {
        let mut c = Controller::new(START, 64);
        for _ in 0..100 {
            c.observe(win(line(c.target(), 8)));
        }
        assert!(c.target() <= 20, "{}", c.target());
        for _ in 0..300 {
            c.observe(win(line(c.target(), 40)));
        }
        assert!(c.target() >= 40, "{}", c.target());
    }

    #[test]
    fn a_429_drops_to_what_the_server_allowed_and_it_stays_there() {
        let mut c = Controller::new(START, 64);
        let limit = 6;
        let mut over = 0;
        for _ in 0..300 {
            let n = c.target();
            let w = Window {
                rate: line(n, limit),
                throttled: u64::from(n > limit),
                streaming: n.min(limit),
                ..win(0.0)
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

    /// A controller settled at `n` transfers on a line whose best is `n` (a ceiling of `n`
    /// keeps it from trying more), one connection's pace 1 MB/s.
    fn settled(n: usize) -> Controller {
        let mut c = Controller::new(n, n);
        for _ in 0..10 {
            assert_eq!(c.observe(steady(line(n, n), 1e6)), None);
        }
        c
    }

    fn steady(rate: f64, pace: f64) -> Window {
        Window {
            pace: Some(pace),
            ..win(rate)
        }
    }

    /// Resets, truncations, stalls and ignored Ranges, as the controller sees them: faults
    /// counted, throughput dipping in the windows they hit, the pace of the connections that
    /// flow unchanged. The number of transfers never goes below where it was; the old rule
    /// ("a quarter of the transfers failing: a quarter off") took it down to one.
    #[test]
    fn connection_faults_never_lower_the_target() {
        let n = 16;
        let best = line(n, n);
        // What each fault does in window i: (faults counted, share of the throughput).
        type Pattern = fn(usize) -> (u64, f64);
        let patterns: [(&str, Pattern); 4] = [
            // Resets and truncations: a connection ends early and backs off; one window in
            // three dips by 30 %.
            ("resets", |i| (8, if i % 3 == 0 { 0.7 } else { 1.0 })),
            // A 3 s stall holds a quarter of the connections for six windows in ten.
            ("stalls", |i| (1, if i % 10 < 6 { 0.75 } else { 1.0 })),
            // An ignored Range restarts a file: bytes still arrive, nothing dips.
            ("ignored ranges", |_| (16, 1.0)),
            // All of them at once, every window.
            ("everything", |i| (24, if i % 2 == 0 { 0.72 } else { 0.9 })),
        ];
        for (what, pattern) in patterns {
            // Alone at its best...
            let mut c = settled(n);
            // ...and free to climb, from below its best.
            let mut free = Controller::new(n / 2, 64);
            for i in 0..400 {
                let (faults, share) = pattern(i);
                let w = Window {
                    faults,
                    ..steady(best * share, 1e6)
                };
                assert_eq!(c.observe(w), None, "{what}, window {i}");
                let f = free.target();
                free.observe(Window {
                    faults,
                    streaming: f,
                    ..steady(line(f, n) * share, 1e6)
                });
            }
            assert!(free.target() >= n, "{what}: {} transfers", free.target());
        }
    }

    /// A step tried while connection faults hit is judged over four windows: one window's
    /// dip (the new connections met resets) does not send it back.
    #[test]
    fn a_step_is_not_judged_on_one_window_of_faults() {
        let mut c = Controller::new(16, 64);
        // On a line where more transfers always help: a settled window, then the step.
        assert_eq!(c.observe(win(line(16, 64))), None);
        let step = c.observe(win(line(16, 64)));
        assert_eq!(step.map(|c| c.transfers), Some(32));
        // Its first window is no better than before the step...
        let dip = Window {
            faults: 6,
            ..win(line(32, 64) * 0.5)
        };
        assert_eq!(c.observe(dip), None);
        // ...the next three show what it brought: kept, and the next doubling tried.
        let after = Window {
            faults: 1,
            ..win(line(32, 64))
        };
        assert_eq!(c.observe(after), None);
        assert_eq!(c.observe(after), None);
        assert_eq!(c.observe(after).map(|c| c.transfers), Some(64));
    }

    /// The server refusing connections lowers the target at once, whether it says 429 or
    /// 503 (the client counts both as `throttled`).
    #[test]
    fn the_server_refusing_connections_lowers_the_target() {
        let mut c = settled(16);
        let change = c.observe(Window {
            throttled: 3,
            streaming: 10,
            ..win(100.0)
        });
        assert_eq!(change.map(|c| c.transfers), Some(10));
    }

    #[test]
    fn a_sustained_fall_in_throughput_lowers_the_target_and_a_dip_does_not() {
        let n = 16;
        let best = line(n, n);
        // Dips of up to five windows (2.5 s, the length of a stall or of a burst of resets),
        // even deep ones, change nothing.
        let mut c = settled(n);
        for dip in 1..=5 {
            for _ in 0..dip {
                assert_eq!(c.observe(steady(best * 0.4, 1e6)), None);
            }
            for _ in 0..3 {
                assert_eq!(c.observe(steady(best, 1e6)), None);
            }
        }
        // Nor does a fall while work is short (throughput then says nothing of the line).
        for _ in 0..20 {
            let w = Window {
                saturated: false,
                ..steady(best * 0.4, 1e6)
            };
            assert_eq!(c.observe(w), None);
        }
        // A fall that lasts six saturated windows (3 s) takes a quarter off.
        for i in 1..6 {
            assert_eq!(c.observe(steady(best * 0.5, 1e6)), None, "window {i}");
        }
        let change = c.observe(steady(best * 0.5, 1e6));
        assert_eq!(change.map(|c| c.transfers), Some(12));
    }

    #[test]
    fn every_transfer_slowing_at_once_lowers_the_target_and_one_slow_window_does_not() {
        let n = 16;
        let best = line(n, n);
        let mut c = settled(n);
        // One window of slow pace (a burst of noise) changes nothing.
        assert_eq!(c.observe(steady(best, 0.4e6)), None);
        assert_eq!(c.observe(steady(best, 1e6)), None);
        // Every connection at under half its pace for two windows: a quarter off, even
        // though throughput has not fallen yet (work is short: no fall could be seen).
        let slow = Window {
            saturated: false,
            ..steady(best, 0.5e6)
        };
        assert_eq!(c.observe(slow), None);
        let change = c.observe(slow);
        assert_eq!(change.map(|c| c.transfers), Some(12));
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
