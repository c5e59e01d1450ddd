//! What the daemon's integration tests share: the simulator's account, a client of it, a
//! daemon started on a real SQLite state and a real destination folder, and a patient wait.

// Each test binary uses a different part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use zoom_sim::{AccountSpec, SimConfig, Simulator};
use zvm_dest::LocalDestination;
use zvm_engine::{SyncOptions, UserSelection};
use zvm_serve::{Daemon, EventRetry, Metrics, Schedules, SecretToken, ServeOptions};
use zvm_state::SqliteState;
use zvm_zoom::{ClientConfig, Credentials, Plan, Secret, ZoomClient};

pub const SECRET: &str = "webhook-secret-of-the-test";
pub const PATH: &str = "/zoom/webhook";

pub fn account() -> SimConfig {
    let mut cfg = SimConfig {
        seed: 16,
        account: AccountSpec {
            active_users: 2,
            inactive_users: 0,
            pending_users: 0,
            meetings: 6,
            years: 1,
            mp4_size: (20_000, 200_000),
            small_size: (100, 4_000),
            processing_fraction: 0.0,
            in_progress_fraction: 0.0,
            hostile_fraction: 0.0,
            ..AccountSpec::default()
        },
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    cfg
}

pub fn client(sim: &Simulator) -> ZoomClient {
    let c = sim.credentials();
    ZoomClient::new(
        ClientConfig {
            api_base: sim.api_base_url(),
            oauth_base: sim.oauth_base_url(),
            plan: Plan::Unlimited,
            ..ClientConfig::default()
        },
        Credentials::ServerToServer {
            account_id: c.account_id,
            client_id: c.client_id,
            client_secret: Secret::new(c.client_secret),
        },
    )
    .expect("client")
}

pub struct Running {
    pub daemon: Daemon,
    pub state: Arc<SqliteState>,
    pub base: String,
    pub dest: std::path::PathBuf,
    pub _dir: tempfile::TempDir,
}

impl Running {
    pub fn webhook_url(&self) -> String {
        format!("{}{PATH}", self.base)
    }
}

pub async fn start(sim: &Simulator) -> Running {
    start_with(sim, |_| Schedules::default()).await
}

/// A daemon whose schedules `schedules` makes (given the daemon's folder, for the audit log).
pub async fn start_with(sim: &Simulator, schedules: impl FnOnce(&Path) -> Schedules) -> Running {
    start_full(sim, schedules, EventRetry::default()).await
}

/// A daemon with those schedules and this retry of failed events.
pub async fn start_full(
    sim: &Simulator,
    schedules: impl FnOnce(&Path) -> Schedules,
    retry: EventRetry,
) -> Running {
    start_in(sim, tempfile::tempdir().expect("tempdir"), schedules, retry).await
}

/// A daemon on the state `dir/state.sqlite3` (a test may have queued events in it first)
/// and the destination `dir/dest`.
pub async fn start_in(
    sim: &Simulator,
    dir: tempfile::TempDir,
    schedules: impl FnOnce(&Path) -> Schedules,
    retry: EventRetry,
) -> Running {
    let dest = dir.path().join("dest");
    let state = Arc::new(SqliteState::open(&dir.path().join("state.sqlite3")).expect("state"));
    let opts = ServeOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        webhook_path: PATH.into(),
        secret: SecretToken::new(SECRET),
        sync: sync_options(),
        schedules: schedules(dir.path()),
        retry,
    };
    let daemon = Daemon::start(
        opts,
        client(sim),
        state.clone(),
        Arc::new(LocalDestination::new(dest.clone())),
        Metrics::new(),
    )
    .await
    .expect("daemon starts");
    let base = format!("http://{}", daemon.local_addr());
    Running {
        daemon,
        state,
        base,
        dest,
        _dir: dir,
    }
}

/// The sync settings of every copy the daemon makes in these tests (and of a test's own
/// engine runs): every user, the last two years.
pub fn sync_options() -> SyncOptions {
    let today = jiff::Zoned::now().date();
    let mut sync = SyncOptions::new(
        today.checked_sub(jiff::Span::new().years(2)).unwrap(),
        today,
    );
    sync.users = UserSelection::AllUsers;
    sync.transfers = 2;
    sync
}

/// Waits (polling; generous for a slow machine, never reached when it works) until `f`.
pub async fn wait_for<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

pub fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read copy")))
}

/// Requests that list recordings (any user's, the account's, the summaries', the users).
pub fn listing_requests(sim: &Simulator) -> u64 {
    sim.stats()
        .requests
        .iter()
        .filter(|(route, _)| {
            route.ends_with("/recordings") && !route.contains("/meetings/")
                || route.contains("meeting_summaries")
                || route.as_str() == "GET /v2/users"
        })
        .map(|(_, by_status)| by_status.values().sum::<u64>())
        .sum()
}
