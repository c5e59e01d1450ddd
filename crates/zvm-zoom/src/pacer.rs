//! The pacer: one token bucket per Zoom rate-limit category (zoom-api.md §6), sized for the
//! account's plan and shared by every clone of the client, so N workers together stay under
//! the account's limits instead of each one discovering them through 429s.
//!
//! Several processes on one account (a fleet of `zvm serve` workers on one database) share
//! the limits too: each is told how many are live ([`Pacer::share_with`]) and keeps to its
//! share, so together they stay within the plan (see [`fleet_limit`]). One process alone
//! (the default share of 1) is paced exactly as before.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Zoom's rate-limit categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Get one meeting, summary.
    Light,
    /// List users, list recordings.
    Medium,
    /// Delete/recover.
    Heavy,
    /// Resource-intensive calls.
    ResourceIntensive,
}

impl Category {
    /// A stable lower-case name, for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Category::Light => "light",
            Category::Medium => "medium",
            Category::Heavy => "heavy",
            Category::ResourceIntensive => "resource_intensive",
        }
    }
}

/// The account's plan, which sizes the buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plan {
    /// Free / Basic.
    Free,
    /// Pro.
    #[default]
    Pro,
    /// Business, Enterprise and above.
    BusinessPlus,
    /// No pacing at all (tests, simulator benchmarks).
    Unlimited,
}

impl std::str::FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "free" | "basic" => Ok(Plan::Free),
            "pro" => Ok(Plan::Pro),
            "business" | "business+" | "businessplus" | "enterprise" => Ok(Plan::BusinessPlus),
            "unlimited" => Ok(Plan::Unlimited),
            o => Err(format!("unknown plan {o:?} (free, pro, business)")),
        }
    }
}

/// Requests per period for a category on a plan, evenly spaced (a burst of one).
///
/// Zoom counts requests per second (per minute for resource-intensive calls) and the
/// simulator plays that as a fixed window per calendar second. A bucket that may burst the
/// whole quota lets through that quota at once and then, within the same second, the slots
/// it refills: up to twice the limit, answered 429. Spacing slots `period / n` apart never
/// puts more than `n` requests in any window of one period, and costs no throughput.
fn quota(plan: Plan, cat: Category) -> Option<Quota> {
    let one = NonZeroU32::MIN;
    let per_sec = |n: u32| NonZeroU32::new(n).map(|n| Quota::per_second(n).allow_burst(one));
    let per_min = |n: u32| NonZeroU32::new(n).map(|n| Quota::per_minute(n).allow_burst(one));
    match (plan, cat) {
        (Plan::Unlimited, _) => None,
        (Plan::Free, Category::Light) => per_sec(4),
        (Plan::Free, Category::Medium) => per_sec(2),
        (Plan::Free, Category::Heavy) => per_sec(1),
        (Plan::Pro, Category::Light) => per_sec(30),
        (Plan::Pro, Category::Medium) => per_sec(20),
        (Plan::Pro, Category::Heavy) => per_sec(10),
        (Plan::BusinessPlus, Category::Light) => per_sec(80),
        (Plan::BusinessPlus, Category::Medium) => per_sec(60),
        (Plan::BusinessPlus, Category::Heavy) => per_sec(40),
        (Plan::Free | Plan::Pro, Category::ResourceIntensive) => per_min(10),
        (Plan::BusinessPlus, Category::ResourceIntensive) => per_min(20),
    }
}

/// Every category, in the order of the pacer's arrays.
const CATEGORIES: [Category; 4] = [
    Category::Light,
    Category::Medium,
    Category::Heavy,
    Category::ResourceIntensive,
];

/// Shared per-category limiters. Cloning shares the buckets.
#[derive(Clone)]
pub struct Pacer {
    plan: Plan,
    buckets: Arc<[Option<DefaultDirectRateLimiter>; 4]>,
    /// What the server said: when a category's limit turns out lower than the plan's (a
    /// 429), the whole category slows down together, instead of every request in flight
    /// meeting the same 429 and retrying on its own.
    slowdown: Arc<[std::sync::Mutex<Slowdown>; 4]>,
    /// The plan's requests per second per category (`None`: not paced).
    per_second: [Option<f64>; 4],
    /// The processes sharing the account's limits, this one included (1: alone).
    share: Arc<AtomicU32>,
}

/// The length of the window a category's limit is counted in, in seconds.
fn window_secs(cat: Category) -> f64 {
    match cat {
        Category::ResourceIntensive => 60.0,
        _ => 1.0,
    }
}

/// One process's limit per window when `workers` processes share a limit of `limit` per
/// window. Each process spaces its requests evenly, so any window holds at most its share
/// plus one of its requests (the window may start just before one); with `(limit -
/// workers) / workers` each, the processes together never exceed `limit` in any window,
/// however their slots fall. A limit smaller than twice the number of workers cannot be
/// shared that way; then a quarter of an even share each keeps the excess rare.
pub fn fleet_limit(limit: f64, workers: u32) -> f64 {
    let n = f64::from(workers.max(1));
    if n <= 1.0 {
        return limit;
    }
    ((limit - n) / n).max(limit / (4.0 * n))
}

/// A category's reaction to 429s: its pace is the plan's times `scale`, halved at each 429
/// and recovered by half again each quiet `RECOVER_AFTER`; after a 429 nothing is sent in
/// the category until the server's wait is over.
#[derive(Debug)]
struct Slowdown {
    scale: f64,
    /// The next slot at the reduced pace.
    next: tokio::time::Instant,
    /// Nothing goes out before this (the server's Retry-After, or a second).
    hold_until: tokio::time::Instant,
    last_change: tokio::time::Instant,
}

impl Default for Slowdown {
    fn default() -> Self {
        let now = tokio::time::Instant::now();
        Slowdown {
            scale: 1.0,
            next: now,
            hold_until: now,
            last_change: now,
        }
    }
}

/// The slowest a category goes after repeated 429s: 1/32 of the plan's pace.
const MIN_SCALE: f64 = 1.0 / 32.0;
/// Quiet time (no 429) after which a slowed category speeds up again.
const RECOVER_AFTER: std::time::Duration = std::time::Duration::from_secs(2);
/// The longest hold taken from one 429 (a longer wait is a quota, handled by the caller).
const MAX_HOLD: std::time::Duration = std::time::Duration::from_secs(5);

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer").field("plan", &self.plan).finish()
    }
}

impl Pacer {
    /// Buckets sized for `plan`.
    pub fn new(plan: Plan) -> Self {
        let mk = |c| quota(plan, c).map(RateLimiter::direct);
        Self {
            plan,
            buckets: Arc::new(CATEGORIES.map(mk)),
            slowdown: Arc::new(Default::default()),
            per_second: CATEGORIES.map(|c| {
                quota(plan, c).map(|q| 1.0 / q.replenish_interval().as_secs_f64().max(1e-6))
            }),
            share: Arc::new(AtomicU32::new(1)),
        }
    }

    /// Shares the account's limits with `workers` processes in all (this one included):
    /// from now on each category goes at [`fleet_limit`] of its plan's limit. Called again
    /// whenever the number changes (a fleet worker, at each heartbeat). Clones share it.
    pub fn share_with(&self, workers: u32) {
        self.share.store(workers.max(1), Ordering::Relaxed);
    }

    /// The pace of `cat` for this process: the plan's, or its share of it in a fleet.
    fn own_rate(&self, cat: Category, plan_rate: f64) -> f64 {
        let workers = self.share.load(Ordering::Relaxed);
        if workers <= 1 {
            return plan_rate;
        }
        let w = window_secs(cat);
        fleet_limit(plan_rate * w, workers) / w
    }

    /// The plan.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    fn index(cat: Category) -> usize {
        match cat {
            Category::Light => 0,
            Category::Medium => 1,
            Category::Heavy => 2,
            Category::ResourceIntensive => 3,
        }
    }

    /// The plan's requests per second in `cat` (`None`: not paced).
    fn per_second(&self, cat: Category) -> Option<f64> {
        self.per_second[Self::index(cat)]
    }

    /// Waits for a slot in `cat`.
    pub async fn acquire(&self, cat: Category) {
        let idx = Self::index(cat);
        if let Some(Some(l)) = self.buckets.get(idx) {
            l.until_ready().await;
        }
        let Some(rate) = self.per_second(cat) else {
            return;
        };
        let wait_until = {
            let Ok(mut s) = self.slowdown[idx].lock() else {
                return;
            };
            let now = tokio::time::Instant::now();
            if s.scale < 1.0 && now.duration_since(s.last_change) >= RECOVER_AFTER {
                s.scale = (s.scale * 2.0).min(1.0);
                s.last_change = now;
            }
            let own = self.own_rate(cat, rate);
            // Alone, the plan's bucket above paces it; in a fleet its share is paced here.
            if s.scale >= 1.0 && s.hold_until <= now && own >= rate {
                return;
            }
            let gap = std::time::Duration::from_secs_f64(1.0 / (own * s.scale));
            let at = s.next.max(now).max(s.hold_until);
            s.next = at + gap;
            at
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// The server answered 429 in `cat` (a per-second limit, not a daily quota): slow the
    /// category down and hold it for `wait` (at most a few seconds).
    pub fn throttled(&self, cat: Category, wait: Option<std::time::Duration>) {
        if self.per_second(cat).is_none() {
            return;
        }
        let Ok(mut s) = self.slowdown[Self::index(cat)].lock() else {
            return;
        };
        let now = tokio::time::Instant::now();
        // One verdict per moment: the other requests of the same burst say the same thing.
        if s.hold_until > now {
            return;
        }
        s.scale = (s.scale / 2.0).max(MIN_SCALE);
        s.last_change = now;
        let hold = wait
            .unwrap_or(std::time::Duration::from_secs(1))
            .min(MAX_HOLD);
        s.hold_until = now + hold;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unlimited_never_waits_and_free_limits_burst() {
        let p = Pacer::new(Plan::Unlimited);
        for _ in 0..1000 {
            p.acquire(Category::Heavy).await;
        }
        let p = Pacer::new(Plan::Free);
        let lim = p.buckets[2]
            .as_ref()
            .map(|l| (0..5).filter(|_| l.check().is_ok()).count());
        // Heavy on Free is 1/s: a burst of 5 gets exactly one slot.
        assert_eq!(lim, Some(1));
        // Medium on Pro is 20/s: evenly spaced, not a burst of 20.
        let p = Pacer::new(Plan::Pro);
        let lim = p.buckets[1]
            .as_ref()
            .map(|l| (0..5).filter(|_| l.check().is_ok()).count());
        assert_eq!(lim, Some(1));
        assert_eq!("business".parse::<Plan>(), Ok(Plan::BusinessPlus));
        assert!("gold".parse::<Plan>().is_err());
    }

    /// 21 slots of a 20/s category take a second: never more than 20 in any one second, so a
    /// server counting per calendar second (Zoom, the simulator) never answers 429.
    #[tokio::test]
    async fn no_more_than_the_limit_in_any_second() {
        let p = Pacer::new(Plan::Pro);
        let t = std::time::Instant::now();
        for _ in 0..21 {
            p.acquire(Category::Medium).await;
        }
        let took = t.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(990),
            "21 Medium slots in {took:?}"
        );
    }

    #[test]
    fn a_fleet_s_shares_never_add_up_to_more_than_the_limit() {
        assert_eq!(fleet_limit(20.0, 1), 20.0);
        for workers in 2..=8u32 {
            for limit in [1.0, 2.0, 4.0, 10.0, 20.0, 30.0, 80.0] {
                let each = fleet_limit(limit, workers);
                assert!(each > 0.0, "{limit}/{workers}");
                // Evenly spaced: at most floor(each) + 1 requests of one worker in a window.
                if limit >= 2.0 * f64::from(workers) {
                    let worst = f64::from(workers) * (each.floor() + 1.0);
                    assert!(
                        worst <= limit,
                        "{workers} workers at {each} of {limit}: {worst}"
                    );
                }
            }
        }
    }

    /// A worker of three sharing Pro's Medium (20/s) goes at (20 - 3) / 3 = 5.67/s: seven
    /// slots take at least six gaps of 176 ms, where alone they take 300 ms.
    #[tokio::test]
    async fn a_worker_of_three_keeps_to_its_share() {
        let p = Pacer::new(Plan::Pro);
        p.share_with(3);
        let t = std::time::Instant::now();
        for _ in 0..7 {
            p.acquire(Category::Medium).await;
        }
        let took = t.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(1000),
            "7 slots of a third of Medium in {took:?}"
        );
    }

    /// After a 429 the category waits out the server's word together, then runs at half the
    /// plan's pace, and returns to the full pace after quiet seconds. (Lower bounds only on
    /// time; the recovery is checked on the state, never with a stopwatch.)
    #[tokio::test]
    async fn a_429_slows_the_whole_category_then_it_recovers() {
        let p = Pacer::new(Plan::Pro); // Light: 30/s
        p.acquire(Category::Light).await;
        let t = tokio::time::Instant::now();
        p.throttled(Category::Light, Some(std::time::Duration::from_millis(700)));
        // A second 429 of the same burst is the same verdict.
        p.throttled(Category::Light, Some(std::time::Duration::from_millis(700)));
        let scale = |c: Category| p.slowdown[Pacer::index(c)].lock().unwrap().scale;
        assert_eq!(scale(Category::Light), 0.5);
        for _ in 0..16 {
            p.acquire(Category::Light).await;
        }
        let took = t.elapsed();
        // 700 ms held, then 15 gaps at 15/s (half of 30/s) = 1 s more.
        assert!(
            took >= std::time::Duration::from_millis(1650),
            "16 slots after a 429 in {took:?}"
        );
        // Other categories are not slowed.
        assert_eq!(scale(Category::Heavy), 1.0);
        // Quiet long enough: the next slot finds the category back at the plan's pace.
        p.slowdown[0].lock().unwrap().last_change -= RECOVER_AFTER;
        p.acquire(Category::Light).await;
        assert_eq!(scale(Category::Light), 1.0);
    }
}
