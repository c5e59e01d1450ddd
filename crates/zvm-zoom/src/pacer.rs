//! The pacer: one token bucket per Zoom rate-limit category (zoom-api.md §6), sized for the
//! account's plan and shared by every clone of the client, so N workers together stay under
//! the account's limits instead of each one discovering them through 429s.

use std::num::NonZeroU32;
use std::sync::Arc;

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

/// Shared per-category limiters. Cloning shares the buckets.
#[derive(Clone)]
pub struct Pacer {
    plan: Plan,
    buckets: Arc<[Option<DefaultDirectRateLimiter>; 4]>,
}

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
            buckets: Arc::new([
                mk(Category::Light),
                mk(Category::Medium),
                mk(Category::Heavy),
                mk(Category::ResourceIntensive),
            ]),
        }
    }

    /// The plan.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// Waits for a slot in `cat`.
    pub async fn acquire(&self, cat: Category) {
        let idx = match cat {
            Category::Light => 0,
            Category::Medium => 1,
            Category::Heavy => 2,
            Category::ResourceIntensive => 3,
        };
        if let Some(Some(l)) = self.buckets.get(idx) {
            l.until_ready().await;
        }
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
}
