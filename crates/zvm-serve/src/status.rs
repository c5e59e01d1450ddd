//! `/status`: one JSON snapshot of what the daemon knows (queue, files by state, storage
//! used, last and next scheduled runs, the current run's figures), and the "now" figures
//! that `/metrics` renders as gauges.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use zvm_engine::{RunMonitor, RunStats};
use zvm_state::{SqliteState, StateError, StateStore, WebhookCounts};

use crate::observe::Snapshot;

/// The name under which a complete listing (a scheduled sync that listed all it asked
/// for) is recorded among the schedules' last runs.
pub const LISTING_COMPLETE: &str = "listing_complete";

/// Last and next time of one schedule (RFC 3339).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ScheduleTimes {
    pub last: Option<String>,
    pub next: Option<String>,
}

/// What `/status` and `/metrics` read besides the state.
#[derive(Clone)]
pub struct StatusSource {
    pub monitor: RunMonitor,
    /// Where copies go, as the destination describes itself.
    pub destination: String,
    /// Filled in by the scheduler.
    pub schedules: Arc<Mutex<BTreeMap<String, ScheduleTimes>>>,
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub webhooks: Counts,
    pub files: Files,
    pub storage: Storage,
    pub schedules: BTreeMap<String, ScheduleTimes>,
    /// The figures of the current or latest engine run, if any ran.
    pub run: Option<RunStats>,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub queued: u64,
    pub done: u64,
    pub failed: u64,
}

impl From<WebhookCounts> for Counts {
    fn from(c: WebhookCounts) -> Self {
        Counts {
            queued: c.queued,
            done: c.done,
            failed: c.failed,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Files {
    pub meetings: u64,
    pub files: u64,
    pub verified: u64,
    pub failed: u64,
    pub pending: u64,
}

#[derive(Debug, Serialize)]
pub struct Storage {
    pub destination: String,
    /// Bytes of the verified copies.
    pub bytes_stored: u64,
}

impl StatusSource {
    pub async fn report(&self, state: &SqliteState) -> Result<StatusReport, StateError> {
        let totals = state.totals().await?;
        Ok(StatusReport {
            webhooks: state.webhook_counts().await?.into(),
            files: Files {
                meetings: totals.meetings,
                files: totals.files,
                verified: totals.verified,
                failed: totals.failed,
                pending: totals.pending,
            },
            storage: Storage {
                destination: self.destination.clone(),
                bytes_stored: totals.bytes_verified,
            },
            schedules: self.schedules.lock().map(|s| s.clone()).unwrap_or_default(),
            run: self.monitor.snapshot(),
        })
    }

    /// The gauges of `/metrics`. A state that cannot be read leaves them at 0 rather than
    /// failing the scrape (the counters are still worth having).
    pub async fn metrics_snapshot(&self, state: &SqliteState) -> Snapshot {
        let run = self.monitor.snapshot();
        let listing_age_secs = match state.last_scheduled_run(LISTING_COMPLETE).await {
            Ok(Some(at)) => at.parse::<jiff::Timestamp>().ok().map(|t| {
                (jiff::Timestamp::now().as_millisecond() - t.as_millisecond()) as f64 / 1000.0
            }),
            _ => None,
        };
        Snapshot {
            queue_depth: state.webhook_counts().await.map(|c| c.queued).unwrap_or(0),
            transfers_active: run.as_ref().map(|r| r.transfers_active).unwrap_or(0),
            throughput_bps: run.as_ref().map(|r| r.rate).unwrap_or(0.0),
            listing_age_secs,
        }
    }
}
