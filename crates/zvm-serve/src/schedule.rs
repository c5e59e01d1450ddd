//! Scheduled runs: a periodic sync (`sync_every = "15m"` or a cron expression) and a
//! periodic move (`move_cron = "0 3 * * *"`, with `move_older_than`), each on the engine
//! the webhooks use, one run at a time.
//!
//! Each sync lists incrementally (the listing cache: recent months every time, a month's
//! stored listing trusted for `full_listing_days`, 7 by default, so everything is listed
//! again weekly). The last run of each schedule is kept in the state: after downtime a
//! schedule whose time passed runs once at start (not once per missed time), then keeps its
//! rhythm. Cron expressions are read on the wall clock of a time zone (`[serve] time_zone`,
//! the system's by default): "0 3 * * *" is 03:00 there, summer and winter.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio_util::sync::CancellationToken;
use zvm_engine::{Engine, MoveOptions, SyncOptions};
use zvm_state::WebhookQueue;

use crate::observe::Metrics;
use crate::status::{LISTING_COMPLETE, ScheduleTimes};

/// When a schedule runs.
#[derive(Debug, Clone)]
pub enum When {
    /// At this interval after its last run.
    Every(Duration),
    /// At the times of a cron expression, read on the wall clock of `zone`.
    Cron {
        cron: Box<croner::Cron>,
        zone: TimeZone,
    },
}

/// A schedule that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("{key} = {value:?} is not an interval: use a number with s, m, h or d, e.g. \"15m\"")]
    Interval { key: &'static str, value: String },
    #[error(
        "{key} = {value:?} is not a cron expression (minute hour day month weekday, e.g. \"0 3 * * *\"): {detail}"
    )]
    Cron {
        key: &'static str,
        value: String,
        detail: String,
    },
}

impl When {
    /// `15m`, `1h`, `30s`, `1d` (`key` names the setting in errors). At least one second.
    pub fn every(key: &'static str, value: &str) -> Result<When, ScheduleError> {
        let bad = || ScheduleError::Interval {
            key,
            value: value.to_owned(),
        };
        let t = value.trim();
        let (num, unit) = t.split_at(t.len().saturating_sub(1));
        let n: u64 = num.trim().parse().map_err(|_| bad())?;
        let secs = match unit {
            "s" => n,
            "m" => n.checked_mul(60).ok_or_else(bad)?,
            "h" => n.checked_mul(3600).ok_or_else(bad)?,
            "d" => n.checked_mul(86_400).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if secs == 0 {
            return Err(bad());
        }
        Ok(When::Every(Duration::from_secs(secs)))
    }

    /// A five-field cron expression on the wall clock of `zone` (`key` names the setting
    /// in errors).
    pub fn cron(key: &'static str, value: &str, zone: TimeZone) -> Result<When, ScheduleError> {
        croner::Cron::from_str(value)
            .map(|c| When::Cron {
                cron: Box::new(c),
                zone,
            })
            .map_err(|e| ScheduleError::Cron {
                key,
                value: value.to_owned(),
                detail: e.to_string(),
            })
    }

    /// The first time after `t` this schedule is due.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            When::Every(d) => {
                let span = jiff::SignedDuration::try_from(*d).ok()?;
                t.checked_add(span).ok()
            }
            When::Cron { cron, zone } => next_on_wall_clock(cron, zone, t),
        }
    }

    /// When a schedule that never ran first runs: an interval at once (a first sync
    /// catches up on everything), a cron expression at its next time.
    fn first(&self, now: Timestamp) -> Option<Timestamp> {
        match self {
            When::Every(_) => Some(now),
            When::Cron { .. } => self.next_after(now),
        }
    }
}

/// The first time after `t` at which the wall clock of `zone` shows a time of `cron`.
///
/// croner counts on chrono's clocks, and chrono alone knows no IANA zones: it is given the
/// zone's wall-clock time dressed as UTC, and its answer, a wall-clock time, is placed back
/// in the zone by jiff. A wall-clock time that a DST change skips runs at the same time
/// after the change (02:30 on the spring-forward night: 03:30); one that happens twice
/// runs the first time only (once a day, as the expression says).
fn next_on_wall_clock(cron: &croner::Cron, zone: &TimeZone, t: Timestamp) -> Option<Timestamp> {
    let dressed_as_utc = |civil: jiff::civil::DateTime| {
        let secs = civil.to_zoned(TimeZone::UTC).ok()?.timestamp().as_second();
        chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)
    };
    let mut wall = t.to_zoned(zone.clone()).datetime();
    // A few rounds at most: a candidate not after `t` only happens in the repeated hour
    // of a DST change; the next round looks past it.
    for _ in 0..4 {
        let next = cron
            .find_next_occurrence(&dressed_as_utc(wall)?, false)
            .ok()?;
        wall = Timestamp::from_second(next.timestamp())
            .ok()?
            .to_zoned(TimeZone::UTC)
            .datetime();
        let at = zone.to_ambiguous_zoned(wall).compatible().ok()?.timestamp();
        if at > t {
            return Some(at);
        }
    }
    None
}

/// The daemon's schedules (none by default: webhooks only).
#[derive(Debug, Clone, Default)]
pub struct Schedules {
    pub sync: Option<When>,
    pub moves: Option<(When, MoveOptions)>,
}

impl When {
    /// A canonical text of the rhythm: `every 900s`, or `cron "0 3 * * *" in Europe/Berlin`.
    fn describe(&self) -> String {
        match self {
            When::Every(d) => format!("every {}s", d.as_secs()),
            When::Cron { cron, zone } => format!(
                "cron {:?} in {}",
                cron.to_string(),
                zone.iana_name().unwrap_or("a fixed offset")
            ),
        }
    }
}

impl Schedules {
    /// The settings that decide when the fleet lists and what a move deletes, in a
    /// canonical text that workers with the same settings write alike (the fleet compares
    /// them: see `fleet`), e.g. `sync every 900s; move cron "0 3 * * *" in UTC, older than
    /// 2592000s, trash`.
    pub fn describe(&self) -> String {
        let sync = self
            .sync
            .as_ref()
            .map_or_else(|| "none".to_owned(), When::describe);
        let moves = self.moves.as_ref().map_or_else(
            || "none".to_owned(),
            |(when, m)| {
                let older = m.older_than.map_or_else(
                    || "any age".to_owned(),
                    |d| format!("older than {}s", d.as_secs()),
                );
                let action = match m.action {
                    zvm_zoom::DeleteAction::Trash => "trash",
                    zvm_zoom::DeleteAction::Delete => "delete",
                };
                format!("{}, {older}, {action}", when.describe())
            },
        );
        format!("sync {sync}; move {moves}")
    }
}

#[derive(Debug, Clone)]
pub enum Job {
    Sync,
    Move(MoveOptions),
}

impl Job {
    /// The name its last run is recorded under.
    pub fn name(&self) -> &'static str {
        match self {
            Job::Sync => "sync",
            Job::Move(_) => "move",
        }
    }
}

/// How a job handed to a [`JobRunner`] ended.
pub enum Ran {
    /// It ran to its end (failed files included).
    Finished,
    /// It could not run, or was stopped.
    NotRun,
    /// Another worker of the fleet ran it at this time (RFC 3339): nothing to do now.
    Elsewhere(Timestamp),
    /// Another worker of the fleet is running it now: look again a little later.
    Busy,
}

/// Runs the scheduled jobs somewhere else than on this daemon's engine: a fleet's worker
/// turns the listing into shared work instead of copying it all itself (zvm-serve's
/// `fleet`). `last` is this scheduler's last run of the job, to tell whether another
/// worker ran it since.
pub trait JobRunner: Send + Sync {
    fn run<'a>(
        &'a self,
        job: &'a Job,
        opts: &'a SyncOptions,
        last: Option<Timestamp>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Ran> + Send + 'a>>;
}

/// How long a schedule waits before looking again while another worker runs it.
const BUSY_RETRY: Duration = Duration::from_secs(30);

pub struct Scheduler {
    pub engine: Engine,
    /// The schedules' last runs (SQLite's, or the fleet's shared PostgreSQL).
    pub state: Arc<dyn WebhookQueue>,
    /// `None`: the jobs run on `engine` here.
    pub runner: Option<Arc<dyn JobRunner>>,
    pub template: SyncOptions,
    pub schedules: Schedules,
    pub run_slot: Arc<tokio::sync::Mutex<()>>,
    pub stop: CancellationToken,
    pub times: Arc<Mutex<BTreeMap<String, ScheduleTimes>>>,
    pub metrics: Arc<Metrics>,
}

/// One schedule's rhythm.
struct Slot {
    job: Job,
    when: When,
    last: Option<Timestamp>,
    next: Option<Timestamp>,
}

impl Scheduler {
    pub async fn run(self) {
        let mut slots = Vec::new();
        if let Some(when) = self.schedules.sync.clone() {
            slots.push((Job::Sync, when));
        }
        if let Some((when, m)) = self.schedules.moves.clone() {
            slots.push((Job::Move(m), when));
        }
        let now = Timestamp::now();
        let mut slots: Vec<Slot> = {
            let mut v = Vec::new();
            for (job, when) in slots {
                let last = match self.state.last_scheduled_run(job.name()).await {
                    Ok(l) => l.and_then(|s| s.parse::<Timestamp>().ok()),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the last scheduled runs");
                        None
                    }
                };
                // A time that passed while the daemon was down: once, now.
                let next = match last {
                    Some(l) => when.next_after(l).map(|n| n.max(now)),
                    None => when.first(now),
                };
                v.push(Slot {
                    job,
                    when,
                    last,
                    next,
                });
            }
            v
        };
        loop {
            self.publish(&slots);
            let Some(i) = (0..slots.len())
                .filter(|&i| slots[i].next.is_some())
                .min_by_key(|&i| slots[i].next)
            else {
                // Nothing scheduled: wait for the stop.
                self.stop.cancelled().await;
                return;
            };
            let due = slots[i].next.unwrap_or_else(Timestamp::now);
            let wait = (due - Timestamp::now())
                .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
                .ok()
                .and_then(|d| Duration::try_from(d).ok())
                .unwrap_or(Duration::ZERO);
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            let started = Timestamp::now();
            let finished = match self.run_job(&slots[i].job, slots[i].last).await {
                Ran::Finished => true,
                Ran::NotRun => false,
                Ran::Elsewhere(at) => {
                    slots[i].last = Some(at);
                    slots[i].next = slots[i].when.next_after(at).map(|n| n.max(started));
                    continue;
                }
                Ran::Busy => {
                    slots[i].next = jiff::SignedDuration::try_from(BUSY_RETRY)
                        .ok()
                        .and_then(|d| started.checked_add(d).ok());
                    continue;
                }
            };
            if self.stop.is_cancelled() {
                return;
            }
            if finished {
                if let Err(e) = self
                    .state
                    .record_scheduled_run(slots[i].job.name(), &started.to_string())
                    .await
                {
                    tracing::error!(error = %e, "cannot record a scheduled run");
                }
                slots[i].last = Some(started);
            }
            slots[i].next = slots[i].when.next_after(Timestamp::now().max(started));
        }
    }

    fn publish(&self, slots: &[Slot]) {
        if let Ok(mut t) = self.times.lock() {
            for s in slots {
                t.insert(
                    s.job.name().to_owned(),
                    ScheduleTimes {
                        last: s.last.map(|l| l.to_string()),
                        next: s.next.map(|n| n.to_string()),
                    },
                );
            }
        }
    }

    /// Runs one job; `true` when it ran to its end (failed files included: they are the
    /// next run's), `false` when it could not run or was stopped.
    async fn run_job(&self, job: &Job, last: Option<Timestamp>) -> Ran {
        let mut opts = self.template.clone();
        // The daemon runs for months: "to" is always today.
        opts.to = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        if opts.from > opts.to {
            opts.from = opts.to;
        }
        if let Some(runner) = &self.runner {
            return runner.run(job, &opts, last).await;
        }
        let _slot = tokio::select! {
            s = self.run_slot.lock() => s,
            () = self.stop.cancelled() => return Ran::NotRun,
        };
        tracing::info!(job = job.name(), "scheduled run starts");
        let finished = match job {
            Job::Sync => match self.engine.sync(&opts, self.stop.child_token()).await {
                Ok(s) if s.cancelled => false,
                Ok(s) => {
                    tracing::info!(
                        files = s.files_downloaded,
                        failed = s.files_failed,
                        "scheduled sync finished"
                    );
                    // The listing ran to its end: that is the last complete listing.
                    let at = Timestamp::now().to_string();
                    if let Err(e) = self.state.record_scheduled_run(LISTING_COMPLETE, &at).await {
                        tracing::error!(error = %e, "cannot record the listing's time");
                    }
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "scheduled sync failed");
                    false
                }
            },
            Job::Move(m) => self.run_move(&opts, m).await,
        };
        if finished { Ran::Finished } else { Ran::NotRun }
    }

    async fn run_move(&self, opts: &SyncOptions, m: &MoveOptions) -> bool {
        let before = self.state.deletions().await.map(|d| d.len()).unwrap_or(0);
        let plan = match self
            .engine
            .plan_move(opts, m, self.stop.child_token())
            .await
        {
            Ok(p) if p.sync.cancelled => return false,
            Ok(p) if p.sync.stopped.is_some() => {
                tracing::error!(why = ?p.sync.stopped, "scheduled move deleted nothing: the destination stopped the copy");
                return false;
            }
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "scheduled move could not plan");
                return false;
            }
        };
        let result = self.engine.execute_move(&plan, m, &self.stop).await;
        // Bytes freed: the local copies' sizes of what Zoom confirmed deleted in this run.
        if let Ok(rows) = self.state.deletions().await {
            let freed: u64 = rows
                .iter()
                .skip(before)
                .filter(|r| r.outcome == "deleted")
                .flat_map(|r| r.paths.iter().map(|(_, size, _)| *size))
                .sum();
            self.metrics.bytes_freed(freed);
        }
        match result {
            Ok((done, skipped)) => {
                tracing::info!(
                    done,
                    skipped,
                    kept = plan.kept.len(),
                    "scheduled move finished"
                );
                !self.stop.is_cancelled()
            }
            Err(e) => {
                tracing::error!(error = %e, "scheduled move failed");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The text the fleet compares: the same settings give the same text, and every
    /// setting that changes when the fleet lists or what a move deletes changes it.
    #[test]
    fn schedules_describe_every_setting_that_matters() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let moves = |older_days: Option<u64>, action| MoveOptions {
            action,
            older_than: older_days.map(|d| Duration::from_secs(d * 86_400)),
            audit_log: "/var/log/zvm/moves.jsonl".into(),
        };
        let a = Schedules {
            sync: Some(When::every("sync_every", "15m").unwrap()),
            moves: Some((
                When::cron("move_cron", "0 3 * * *", berlin.clone()).unwrap(),
                moves(Some(30), zvm_zoom::DeleteAction::Trash),
            )),
        };
        assert_eq!(
            a.describe(),
            "sync every 900s; move cron \"0 3 * * *\" in Europe/Berlin, older than 2592000s, trash"
        );
        assert_eq!(Schedules::default().describe(), "sync none; move none");
        let mut b = a.clone();
        b.moves = Some((
            When::cron("move_cron", "0 3 * * *", TimeZone::UTC).unwrap(),
            moves(Some(30), zvm_zoom::DeleteAction::Trash),
        ));
        let mut c = a.clone();
        c.moves = Some((
            When::cron("move_cron", "0 3 * * *", berlin.clone()).unwrap(),
            moves(Some(7), zvm_zoom::DeleteAction::Trash),
        ));
        let mut d = a.clone();
        d.moves = Some((
            When::cron("move_cron", "0 3 * * *", berlin).unwrap(),
            moves(Some(30), zvm_zoom::DeleteAction::Delete),
        ));
        for other in [b, c, d] {
            assert_ne!(a.describe(), other.describe());
        }
    }

    #[test]
    fn intervals_and_cron_expressions_give_the_next_time() {
        let every = When::every("sync_every", "15m").unwrap();
        assert_eq!(
            every.next_after(ts("2026-01-01T00:00:00Z")),
            Some(ts("2026-01-01T00:15:00Z"))
        );
        let cron = When::cron("move_cron", "0 3 * * *", TimeZone::UTC).unwrap();
        assert_eq!(
            cron.next_after(ts("2026-01-01T02:59:59Z")),
            Some(ts("2026-01-01T03:00:00Z"))
        );
        assert_eq!(
            cron.next_after(ts("2026-01-01T03:00:00Z")),
            Some(ts("2026-01-02T03:00:00Z"))
        );
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap_or_else(|e| panic!("{name}: {e} (is tzdata installed?)"))
    }

    #[test]
    fn cron_expressions_are_read_on_the_zone_s_wall_clock() {
        // 03:00 in Tokyo (UTC+9, no DST) is 18:00 UTC the day before.
        let tokyo = When::cron("move_cron", "0 3 * * *", zone("Asia/Tokyo")).unwrap();
        assert_eq!(
            tokyo.next_after(ts("2026-01-01T00:00:00Z")),
            Some(ts("2026-01-01T18:00:00Z"))
        );
        assert_eq!(
            tokyo.next_after(ts("2026-01-01T18:00:00Z")),
            Some(ts("2026-01-02T18:00:00Z"))
        );
        // New York: 03:00 is 08:00 UTC in winter and 07:00 UTC in summer.
        let ny = zone("America/New_York");
        let three = When::cron("move_cron", "0 3 * * *", ny.clone()).unwrap();
        assert_eq!(
            three.next_after(ts("2026-01-15T12:00:00Z")),
            Some(ts("2026-01-16T08:00:00Z"))
        );
        assert_eq!(
            three.next_after(ts("2026-07-15T12:00:00Z")),
            Some(ts("2026-07-16T07:00:00Z"))
        );
        // 02:30 does not exist on 2026-03-08 (02:00 EST -> 03:00 EDT): it runs at 03:30
        // EDT, once.
        let skipped = When::cron("move_cron", "30 2 * * *", ny.clone()).unwrap();
        let first = skipped.next_after(ts("2026-03-08T05:00:00Z")).unwrap();
        assert_eq!(first, ts("2026-03-08T07:30:00Z"));
        assert_eq!(skipped.next_after(first), Some(ts("2026-03-09T06:30:00Z")));
        // 01:30 happens twice on 2026-11-01 (EDT, then EST): it runs once, the first time.
        let twice = When::cron("move_cron", "30 1 * * *", ny).unwrap();
        let first = twice.next_after(ts("2026-11-01T04:00:00Z")).unwrap();
        assert_eq!(first, ts("2026-11-01T05:30:00Z"));
        assert_eq!(twice.next_after(first), Some(ts("2026-11-02T06:30:00Z")));
        // From inside the repeated hour, past its first 01:30: the next day's.
        assert_eq!(
            twice.next_after(ts("2026-11-01T06:10:00Z")),
            Some(ts("2026-11-02T06:30:00Z"))
        );
    }

    #[test]
    fn bad_schedules_say_what_and_how() {
        for bad in ["", "15", "0m", "m", "15x", "-1h"] {
            let e = When::every("sync_every", bad).unwrap_err().to_string();
            assert!(e.contains("sync_every") && e.contains("15m"), "{bad}: {e}");
        }
        let e = When::cron("move_cron", "every night", TimeZone::UTC)
            .unwrap_err()
            .to_string();
        assert!(e.contains("move_cron") && e.contains("0 3 * * *"), "{e}");
    }
}
