//! The simulator's mutable world, shared by every handler: the account and its deletions,
//! the credentials it issued, the faults, the rate-limit counters, the stats, the download
//! lines and the clock. It names no handler; handlers import it.
//!
//! The locks are grouped by what changes together, and a handler holds at most one of them
//! at a time (it takes what it needs, lets go, then takes the next), so no two locks are
//! ever taken in different orders and none can deadlock:
//! - [`World`] (one `RwLock`): the account and the record of deletions, because a DELETE or
//!   recover changes files' cloud state and appends its record as one step, and every
//!   listing reads a consistent account.
//! - [`Sessions`] (one `Mutex`): access and refresh tokens, authorization codes and page
//!   tokens: the short-lived strings the simulator issued and later checks. A token grant
//!   adds an access and a refresh token together; a revoke looks in both.
//! - [`Faults`] (one `Mutex`): the fault knobs, the 5xx burst left and the dice, because
//!   setting the faults resets the burst and reseeds the dice with them.
//! - [`RateState`] and [`Stats`] (one `Mutex` each): counters of their own that each
//!   request touches briefly.
//! - [`Lines`]: the download lines' clocks, each its own small lock, taken one at a time
//!   per chunk sent.
//!
//! What never changes after start (the config, the CDN key, the listeners' URLs) takes no
//! lock, and single counters are atomics.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use jiff::Timestamp;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::account::Account;
use crate::config::{Category, FaultConfig, SimConfig};
use crate::throttle::LineClock;

/// What every handler is given: the one shared world.
pub type AppState = Arc<Shared>;

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub expires_at: i64,
    /// The user the token acts as ("me").
    pub user_index: usize,
    /// The scopes it was issued with (see [`crate::AccessConfig::scopes`]).
    pub scopes: Arc<[String]>,
}

#[derive(Debug, Clone)]
pub struct CodeInfo {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct PageToken {
    pub query: String,
    pub offset: usize,
    pub created_at: i64,
}

/// One successful DELETE (or recover), as tests read it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeletionRecord {
    pub at: String,
    pub meeting_uuid: String,
    /// `None`: the whole meeting's recordings.
    pub file_id: Option<String>,
    /// `trash`, `delete` or `recover`.
    pub action: String,
}

/// One request to the CDN.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CdnRequest {
    /// The `Range` header as sent (`None`: the whole file).
    pub range: Option<String>,
    pub status: u16,
}

/// Request and byte counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// "METHOD route" -> status -> count. Routes are named as [`crate::routes::Route::name`]
    /// spells them, e.g. `GET /v2/users/{id}/recordings`, `GET /v2/accounts/{id}/recordings`,
    /// `GET /v2/meetings/meeting_summaries`.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    pub bytes_served: u64,
    pub rate_limited: u64,
    pub deletions: u64,
    /// Download requests that reached the CDN, per file id.
    pub downloads: BTreeMap<String, u64>,
    /// Bytes served per file id.
    pub bytes_by_file: BTreeMap<String, u64>,
    /// Every request that reached the CDN, per file id, in arrival order: the `Range` header
    /// it carried and the status of the answer (tests read which ranges a client asked for).
    pub cdn_requests: BTreeMap<String, Vec<CdnRequest>>,
    /// The most `/v2` requests ever being answered at once (latency included): shows
    /// whether a client overlaps its requests, whatever the machine's speed.
    pub peak_api_in_flight: u32,
}

impl Stats {
    /// Requests to a route (any status).
    pub fn count(&self, route: &str) -> u64 {
        self.requests
            .get(route)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// Requests to a route that were answered with `status`.
    pub fn count_status(&self, route: &str, status: u16) -> u64 {
        self.requests
            .get(route)
            .and_then(|m| m.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// Every download request (web path) whatever the answer.
    pub fn download_requests(&self) -> u64 {
        self.count("GET /rec/download/{id}")
    }
}

#[derive(Default)]
pub struct RateState {
    /// Category -> (second, count).
    pub second: HashMap<Category, (i64, u32)>,
    /// Category -> (day, count).
    pub daily: HashMap<Category, (i64, u32)>,
}

/// The account and what was done to it (see the module doc for why they share a lock).
pub struct World {
    pub account: Account,
    pub deletions: Vec<DeletionRecord>,
}

/// What a webhook's `download_token` grants: the downloads of one meeting's files, for a
/// day. It is not an API token (the `/v2` API refuses it).
#[derive(Debug, Clone)]
pub struct DownloadGrant {
    pub meeting_uuid: String,
    pub expires_at: i64,
}

/// What the simulator issued and later checks.
#[derive(Default)]
pub struct Sessions {
    /// Access token -> what it grants.
    pub tokens: HashMap<String, TokenInfo>,
    /// Refresh token -> the user it acts as.
    pub refresh_tokens: HashMap<String, usize>,
    pub codes: HashMap<String, CodeInfo>,
    pub page_tokens: HashMap<String, PageToken>,
    /// A webhook's `download_token` -> the one meeting whose files it downloads, and until
    /// when (see `webhook::issue_download_token`).
    pub download_tokens: HashMap<String, DownloadGrant>,
}

/// The fault knobs and the state they drive.
pub struct Faults {
    pub config: FaultConfig,
    /// Injected 503s still to answer before the dice decide.
    pub burst_left: u32,
    pub dice: ChaCha8Rng,
}

impl Faults {
    fn new(config: FaultConfig) -> Faults {
        Faults {
            burst_left: config.api_5xx_burst,
            dice: ChaCha8Rng::seed_from_u64(config.seed),
            config,
        }
    }
}

/// The download lines under the bandwidth caps.
#[derive(Default)]
pub struct Lines {
    /// The shared line (`link_bps`): when it is next free to send.
    pub link: Mutex<Option<std::time::Instant>>,
    /// Each TCP connection's line under the per-connection cap, by the client's address.
    connections: Mutex<HashMap<std::net::SocketAddr, LineClock>>,
}

/// The listeners' base URLs, known once they are bound.
struct Urls {
    base: String,
    cdn: String,
}

pub struct Shared {
    pub cfg: SimConfig,
    /// Random per run: signs CDN links.
    pub cdn_key: [u8; 32],
    urls: OnceLock<Urls>,
    pub world: RwLock<World>,
    pub sessions: Mutex<Sessions>,
    faults: Mutex<Faults>,
    pub rate: Mutex<RateState>,
    pub stats: Mutex<Stats>,
    pub lines: Lines,
    pub clock_offset: AtomicI64,
    pub counter: AtomicU64,
    pub bytes_served: AtomicU64,
    /// CDN response bodies being sent now (for `max_downloads`).
    pub downloads_in_flight: Arc<AtomicU32>,
    /// `/v2` requests being answered now (for `Stats::peak_api_in_flight`).
    pub api_in_flight: AtomicU32,
    /// Where the account's webhooks go, once a test subscribed (see `webhook`).
    pub webhooks: Mutex<Option<crate::config::WebhookSubscription>>,
}

/// One `/v2` request being answered; counted down when dropped.
pub struct ApiInFlight<'a>(&'a AtomicU32);

impl Drop for ApiInFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Shared {
    /// The line of the TCP connection from `peer`. Lines no response holds any more are
    /// dropped once there are many (a closed connection's port may come back later as a new
    /// connection; an idle line has no state worth keeping beyond its small burst anyway).
    pub fn connection_line(&self, peer: std::net::SocketAddr) -> LineClock {
        let mut lines = self
            .lines
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if lines.len() >= 1024 {
            lines.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
        }
        lines.entry(peer).or_default().clone()
    }

    pub fn new(cfg: SimConfig, account: Account) -> Shared {
        let mut key = [0u8; 32];
        for (i, b) in cfg.seed.to_le_bytes().iter().cycle().take(32).enumerate() {
            key[i] = b ^ (i as u8).wrapping_mul(31) ^ 0x5a;
        }
        Shared {
            faults: Mutex::new(Faults::new(cfg.faults.clone())),
            cfg,
            cdn_key: key,
            urls: OnceLock::new(),
            world: RwLock::new(World {
                account,
                deletions: Vec::new(),
            }),
            sessions: Mutex::new(Sessions::default()),
            rate: Mutex::new(RateState::default()),
            stats: Mutex::new(Stats::default()),
            lines: Lines::default(),
            clock_offset: AtomicI64::new(0),
            counter: AtomicU64::new(1),
            bytes_served: AtomicU64::new(0),
            downloads_in_flight: Arc::new(AtomicU32::new(0)),
            api_in_flight: AtomicU32::new(0),
            webhooks: Mutex::new(None),
        }
    }

    /// Records the listeners' URLs once both are bound (before any request is served).
    pub fn set_urls(&self, base: String, cdn: String) {
        let _ = self.urls.set(Urls { base, cdn });
    }

    /// `http://host:port` of the main listener ("" before it is bound).
    pub fn base_url(&self) -> &str {
        self.urls.get().map_or("", |u| u.base.as_str())
    }

    /// `http://host:port` of the CDN listener ("" before it is bound).
    pub fn cdn_url(&self) -> &str {
        self.urls.get().map_or("", |u| u.cdn.as_str())
    }

    /// Counts a `/v2` request in until the returned guard is dropped, and keeps the peak.
    pub fn api_request_started(&self) -> ApiInFlight<'_> {
        let now = self.api_in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        if let Ok(mut s) = self.stats.lock() {
            s.peak_api_in_flight = s.peak_api_in_flight.max(now);
        }
        ApiInFlight(&self.api_in_flight)
    }

    /// The simulator's clock: real time plus what tests advanced.
    pub fn now(&self) -> Timestamp {
        let off = self.clock_offset.load(Ordering::Relaxed);
        Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(off))
            .unwrap_or_else(|_| Timestamp::now())
    }

    pub fn now_secs(&self) -> i64 {
        self.now().as_second()
    }

    /// A fresh opaque token; unique and unguessable enough for a test server.
    pub fn fresh_token(&self, prefix: &str) -> String {
        use rand::RngCore;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut r = rand::rng();
        format!("{prefix}{n:x}.{:016x}{:016x}", r.next_u64(), r.next_u64())
    }

    pub fn record(&self, route: &str, status: u16) {
        if let Ok(mut s) = self.stats.lock() {
            *s.requests
                .entry(route.to_string())
                .or_default()
                .entry(status)
                .or_default() += 1;
            if status == 429 {
                s.rate_limited += 1;
            }
        }
    }

    /// Notes a CDN request's `Range` and answer.
    pub fn record_cdn_request(&self, id: &str, range: Option<String>, status: u16) {
        if let Ok(mut s) = self.stats.lock() {
            s.cdn_requests
                .entry(id.to_string())
                .or_default()
                .push(CdnRequest { range, status });
        }
    }

    /// The configured per-request latency (a fault knob), applied by every route.
    pub async fn injected_latency(&self) {
        let ms = self.faults.lock().map(|f| f.config.latency_ms).unwrap_or(0);
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }

    pub fn faults(&self) -> FaultConfig {
        self.faults
            .lock()
            .map(|f| f.config.clone())
            .unwrap_or_default()
    }

    /// Replaces the faults; the 5xx burst restarts and the dice are reseeded with them.
    pub fn set_faults(&self, config: FaultConfig) {
        if let Ok(mut f) = self.faults.lock() {
            *f = Faults::new(config);
        }
    }

    /// Takes one injected 503 of the burst, if any is left.
    pub fn take_burst(&self) -> bool {
        self.faults.lock().is_ok_and(|mut f| match f.burst_left {
            0 => false,
            n => {
                f.burst_left = n - 1;
                true
            }
        })
    }

    /// Rolls the fault dice.
    pub fn roll(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        use rand::Rng;
        self.faults
            .lock()
            .map(|mut f| f.dice.random_bool(p))
            .unwrap_or(false)
    }

    pub fn snapshot_stats(&self) -> Stats {
        let mut s = self.stats.lock().map(|s| s.clone()).unwrap_or_default();
        s.bytes_served = self.bytes_served.load(Ordering::Relaxed);
        s.deletions = self
            .world
            .read()
            .map(|w| w.deletions.len() as u64)
            .unwrap_or(0);
        s
    }
}
