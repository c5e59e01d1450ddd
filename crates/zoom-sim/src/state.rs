//! The simulator's mutable world: the account, tokens, page tokens, the clock, faults,
//! rate-limit counters, stats and the record of deletions. Shared by every handler.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

/// Request and byte counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// "METHOD route" -> status -> count.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    pub bytes_served: u64,
    pub rate_limited: u64,
    pub deletions: u64,
    /// Download requests that reached the CDN, per file id.
    pub downloads: BTreeMap<String, u64>,
    /// Bytes served per file id.
    pub bytes_by_file: BTreeMap<String, u64>,
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

pub struct Shared {
    pub cfg: SimConfig,
    pub account: RwLock<Account>,
    pub tokens: Mutex<HashMap<String, TokenInfo>>,
    pub refresh_tokens: Mutex<HashMap<String, usize>>,
    pub codes: Mutex<HashMap<String, CodeInfo>>,
    pub page_tokens: Mutex<HashMap<String, PageToken>>,
    pub clock_offset: AtomicI64,
    pub faults: RwLock<FaultConfig>,
    pub burst_left: AtomicU32,
    pub dice: Mutex<ChaCha8Rng>,
    pub rate: Mutex<RateState>,
    pub stats: Mutex<Stats>,
    pub bytes_served: AtomicU64,
    pub deletions: Mutex<Vec<DeletionRecord>>,
    pub base_url: RwLock<String>,
    pub cdn_url: RwLock<String>,
    /// Random per run: signs CDN links.
    pub cdn_key: [u8; 32],
    pub counter: AtomicU64,
    /// CDN response bodies being sent now (for `max_downloads`).
    pub downloads_in_flight: std::sync::Arc<AtomicU32>,
    /// The shared line (`link_bps`): when it is next free to send.
    pub link_free_at: Mutex<Option<std::time::Instant>>,
    /// Each TCP connection's line under the per-connection cap, by the client's address.
    pub connection_lines: Mutex<HashMap<std::net::SocketAddr, LineClock>>,
    /// `/v2` requests being answered now (for `Stats::peak_api_in_flight`).
    pub api_in_flight: AtomicU32,
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
            .connection_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if lines.len() >= 1024 {
            lines.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
        }
        lines.entry(peer).or_default().clone()
    }

    pub fn new(cfg: SimConfig, account: Account) -> Shared {
        let faults = cfg.faults.clone();
        let mut key = [0u8; 32];
        for (i, b) in cfg.seed.to_le_bytes().iter().cycle().take(32).enumerate() {
            key[i] = b ^ (i as u8).wrapping_mul(31) ^ 0x5a;
        }
        Shared {
            burst_left: AtomicU32::new(faults.api_5xx_burst),
            dice: Mutex::new(ChaCha8Rng::seed_from_u64(faults.seed)),
            faults: RwLock::new(faults),
            cfg,
            account: RwLock::new(account),
            tokens: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            page_tokens: Mutex::new(HashMap::new()),
            clock_offset: AtomicI64::new(0),
            rate: Mutex::new(RateState::default()),
            stats: Mutex::new(Stats::default()),
            bytes_served: AtomicU64::new(0),
            deletions: Mutex::new(Vec::new()),
            base_url: RwLock::new(String::new()),
            cdn_url: RwLock::new(String::new()),
            cdn_key: key,
            counter: AtomicU64::new(1),
            downloads_in_flight: std::sync::Arc::new(AtomicU32::new(0)),
            link_free_at: Mutex::new(None),
            connection_lines: Mutex::new(HashMap::new()),
            api_in_flight: AtomicU32::new(0),
        }
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

    /// The configured per-request latency (a fault knob), applied by every route.
    pub async fn injected_latency(&self) {
        let ms = self.faults.read().map(|f| f.latency_ms).unwrap_or(0);
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }

    pub fn faults(&self) -> FaultConfig {
        self.faults.read().map(|f| f.clone()).unwrap_or_default()
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
        self.dice
            .lock()
            .map(|mut r| r.random_bool(p))
            .unwrap_or(false)
    }

    pub fn snapshot_stats(&self) -> Stats {
        let mut s = self.stats.lock().map(|s| s.clone()).unwrap_or_default();
        s.bytes_served = self.bytes_served.load(Ordering::Relaxed);
        s.deletions = self.deletions.lock().map(|d| d.len() as u64).unwrap_or(0);
        s
    }
}
