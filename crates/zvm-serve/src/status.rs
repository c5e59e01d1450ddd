//! `/status`: one JSON snapshot of what the daemon knows (queue, files by state, storage
//! used, last and next scheduled runs, the current run's figures), and the "now" figures
//! that `/metrics` renders as gauges.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use zvm_engine::{RunMonitor, RunStats};
use zvm_state::{StateError, WebhookCounts, WebhookQueue};

/// The name under which a complete listing (a scheduled sync that listed all it asked
/// for) is recorded among the schedules' last runs.
pub const LISTING_COMPLETE: &str = "listing_complete";

/// Last and next time of one schedule (RFC 3339).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ScheduleTimes {
    pub last: Option<String>,
    pub next: Option<String>,
}

/// A future of the fleet's report (see [`FleetView`]).
pub type FleetFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<FleetStatus, StateError>> + Send>>;

/// Reads the fleet's workers and shared work from its database (zvm-serve's `fleet`).
pub type FleetView = Arc<dyn Fn() -> FleetFuture + Send + Sync>;

/// What `/status` and `/metrics` read besides the state.
#[derive(Clone)]
pub struct StatusSource {
    pub monitor: RunMonitor,
    /// Where copies go, as the destination describes itself.
    pub destination: String,
    /// Filled in by the scheduler.
    pub schedules: Arc<Mutex<BTreeMap<String, ScheduleTimes>>>,
    /// A fleet worker's view of the fleet; `None` for a daemon on its own.
    pub fleet: Option<FleetView>,
}

/// Every worker of a fleet sharing one PostgreSQL state, and the work they share.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct FleetStatus {
    /// The worker answering.
    pub this_worker: String,
    pub workers: Vec<WorkerStatus>,
    pub work: WorkStatus,
}

/// One worker, as the database knows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct WorkerStatus {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// Beating within its promised interval, not stopped.
    pub live: bool,
    /// Stopped cleanly (its leases were given back).
    pub stopped: bool,
    /// RFC 3339.
    pub started: String,
    pub last_heartbeat: String,
    /// Meetings it holds leases on now.
    pub leases: u64,
    pub files_copied: u64,
    pub bytes_copied: u64,
    /// Bytes copied per second since it started (to its last heartbeat).
    pub throughput_bps: f64,
}

/// The shared work rows (one per meeting).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, Default)]
pub struct WorkStatus {
    /// Not done yet (waiting or held).
    pub open: u64,
    /// Held by a live lease now.
    pub held: u64,
    pub done: u64,
    /// Failed too often; waiting for new work to open them again.
    pub gave_up: u64,
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub webhooks: Counts,
    pub files: Files,
    pub storage: Storage,
    pub schedules: BTreeMap<String, ScheduleTimes>,
    /// The figures of the current or latest engine run, if any ran.
    pub run: Option<RunStats>,
    /// A fleet worker: every worker of the fleet and the shared work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetStatus>,
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
    pub async fn report(&self, state: &dyn WebhookQueue) -> Result<StatusReport, StateError> {
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
            fleet: match &self.fleet {
                Some(view) => Some(view().await?),
                None => None,
            },
        })
    }
}
