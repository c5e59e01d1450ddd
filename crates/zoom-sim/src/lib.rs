//! `zoom-sim`: a faithful local Zoom for tests, benchmarks and `zvm demo`.
//!
//! It serves on loopback what Zoom Video Mover touches (see `shared/zoom-api.md`): OAuth
//! (Server-to-Server, authorization code with PKCE, refresh rotation, revoke) with scopes on
//! tokens, users, recordings per user and for the whole account with Zoom's silent narrowing
//! of long spans and expiring page tokens, meeting details with participant audio, AI
//! Companion summaries and their listing, deletion and recovery, and downloads through a
//! "web" URL that redirects to a "CDN" listener with a signed, expiring query. Rate limits,
//! faults, the admin listings' refusals, the clock and the live account (new meetings,
//! finished processing, deletions in the web portal) are controllable, so tests can
//! reproduce what goes wrong in real accounts without sleeping. A generated account is deterministic from
//! its seed and its bytes are computed on the fly, so a huge account costs no disk.

pub mod access;
pub mod account;
pub mod api;
pub mod config;
pub mod content;
pub mod control;
pub mod deletion;
pub mod download;
pub mod hostile;
pub mod listing;
pub mod live;
pub mod meetings;
pub mod oauth;
pub mod paging;
pub mod ratelimit;
pub mod replies;
pub mod routes;
pub mod state;
pub mod summaries;
pub mod text;
pub mod throttle;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};
use serde::Serialize;

pub use access::{AccessConfig, ListingAccess};
pub use account::{Account, CloudState};
pub use config::{
    AccountSpec, Category, FaultConfig, HostileJson, Plan, RateLimitConfig, SimConfig,
};
pub use live::{NewMeeting, PortalDelete};
pub use state::{CdnRequest, DeletionRecord, Stats};
pub use webhook::WebhookEvent;

use state::Shared;

/// The credentials the simulator accepts.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A running simulator. Dropping it stops both listeners.
pub struct Simulator {
    shared: Arc<Shared>,
    base: SocketAddr,
    cdn: SocketAddr,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The main router (OAuth, API, web downloads, control plane).
fn main_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/token", post(oauth::oauth_token))
        .route("/oauth/authorize", get(oauth::oauth_authorize))
        .route("/oauth/revoke", post(oauth::oauth_revoke))
        .route("/rec/download/{id}", get(download::web_download))
        .route("/v2/{*rest}", any(api::api))
        .nest("/sim", control::router())
        .with_state(shared)
}

fn cdn_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/file/{id}", get(download::cdn_file))
        .with_state(shared)
}

impl Simulator {
    /// Generates the account and starts both listeners on loopback.
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        config.check()?;
        let end = match &config.account.end_date {
            Some(d) => d
                .parse::<jiff::civil::Date>()
                .map_err(|e| anyhow::anyhow!("account.end_date '{d}' is not YYYY-MM-DD: {e}"))?,
            None => jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date(),
        };
        let account = Account::generate(config.seed, &config.account, end);
        let bind = config.bind.clone().unwrap_or_else(|| "127.0.0.1:0".into());
        let cdn_bind = config
            .cdn_bind
            .clone()
            .unwrap_or_else(|| "127.0.0.1:0".into());
        let shared = Arc::new(Shared::new(config, account));
        let main_l = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        let cdn_l = tokio::net::TcpListener::bind(&cdn_bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {cdn_bind}: {e}"))?;
        let base = main_l.local_addr()?;
        let cdn = cdn_l.local_addr()?;
        shared.set_urls(format!("http://{base}"), format!("http://{cdn}"));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for (l, router) in [
            (main_l, main_router(shared.clone())),
            (cdn_l, cdn_router(shared.clone())),
        ] {
            let mut rx = rx.clone();
            tasks.push(tokio::spawn(async move {
                // The client's address reaches the handlers: the bandwidth cap is per TCP
                // connection. `axum::serve` answers HTTP/1.1 and h2c (prior knowledge) alike.
                let svc = router.into_make_service_with_connect_info::<SocketAddr>();
                let _ = axum::serve(l, svc)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|v| *v).await;
                    })
                    .await;
            }));
        }
        Ok(Simulator {
            shared,
            base,
            cdn,
            shutdown: Some(tx),
            tasks,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.base)
    }

    pub fn api_base_url(&self) -> String {
        format!("http://{}/v2", self.base)
    }

    pub fn oauth_base_url(&self) -> String {
        self.base_url()
    }

    pub fn cdn_base_url(&self) -> String {
        format!("http://{}", self.cdn)
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    pub fn credentials(&self) -> Credentials {
        let c = &self.shared.cfg;
        Credentials {
            account_id: c.account_id.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
        }
    }

    pub fn manifest(&self) -> Manifest {
        control::manifest(&self.shared)
    }

    pub fn deletions(&self) -> Vec<DeletionRecord> {
        self.shared
            .world
            .read()
            .map(|w| w.deletions.clone())
            .unwrap_or_default()
    }

    pub fn stats(&self) -> Stats {
        self.shared.snapshot_stats()
    }

    pub fn set_faults(&self, faults: FaultConfig) {
        control::set_faults(&self.shared, faults);
    }

    /// Every processing file becomes completed (Zoom finished processing).
    pub fn complete_processing(&self) {
        control::complete_processing(&self.shared);
    }

    /// Adds a meeting to the live account (as if it had just been recorded); it is listed
    /// from now on. See [`NewMeeting`].
    pub fn add_meeting(&self, new: NewMeeting) -> anyhow::Result<ManifestMeeting> {
        let m = live::add_meeting(&self.shared, &new)?;
        webhook::on_meeting_added(&self.shared, &m);
        Ok(m)
    }

    /// Zoom finishes processing a file of a meeting (`None`: every processing file of it);
    /// returns the files now completed.
    pub fn finish_processing(
        &self,
        meeting_uuid: &str,
        file_id: Option<&str>,
    ) -> anyhow::Result<Vec<ManifestFile>> {
        let files = live::finish_processing(&self.shared, meeting_uuid, file_id)?;
        webhook::on_processing_finished(&self.shared, meeting_uuid, &files);
        Ok(files)
    }

    /// A user deletes a meeting in the web portal, not through the API: it leaves the
    /// listings (to the trash, or for good) and no deletion is recorded.
    pub fn delete_in_portal(&self, meeting_uuid: &str, how: PortalDelete) -> anyhow::Result<()> {
        live::delete_in_portal(&self.shared, meeting_uuid, how)
    }

    /// Moves the simulator's clock forward: tokens, page tokens and CDN links expire.
    pub fn advance_clock(&self, secs: i64) {
        self.shared
            .clock_offset
            .fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every access token becomes invalid (401 code 124 on the next call).
    pub fn revoke_all_tokens(&self) {
        if let Ok(mut s) = self.shared.sessions.lock() {
            s.tokens.clear();
        }
    }

    /// Issues an S2S-equivalent access token directly (for curl/aria2 in benchmarks).
    pub fn issue_access_token(&self) -> String {
        control::issue_token(&self.shared)
    }

    /// From now on the simulator sends the account's webhooks by itself to `sub` (a new
    /// meeting, a transcript that finished processing), with Zoom's retries; `None` stops.
    pub fn subscribe_webhooks(&self, sub: Option<webhook::Subscription>) {
        webhook::subscribe(&self.shared, sub);
    }

    /// Sends a webhook once, signed as Zoom signs it; the answer's status.
    pub async fn send_webhook(
        &self,
        url: &str,
        secret_token: &str,
        event: WebhookEvent,
    ) -> anyhow::Result<u16> {
        webhook::send(&self.shared, url, secret_token, event).await
    }

    /// Sends a webhook with Zoom's retries (see [`webhook::send_with_retries`]): each
    /// delivery's status, 0 where nothing answered.
    pub async fn send_webhook_with_retries(
        &self,
        url: &str,
        secret_token: &str,
        event: WebhookEvent,
        delays: &[std::time::Duration],
    ) -> anyhow::Result<Vec<u16>> {
        webhook::send_with_retries(&self.shared, url, secret_token, event, delays).await
    }

    /// The body Zoom would send for `event` now (sent by [`Self::deliver_webhook`], as
    /// often as a test wants: a retry of one event is the same body).
    pub fn webhook_body(&self, event: &WebhookEvent) -> anyhow::Result<String> {
        webhook::envelope(&self.shared, event)
    }

    /// Delivers a webhook body, signed now; the answer's status.
    pub async fn deliver_webhook(
        &self,
        url: &str,
        secret_token: &str,
        body: &str,
    ) -> anyhow::Result<u16> {
        webhook::deliver(&self.shared, url, secret_token, body).await
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        for t in std::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), t).await;
        }
    }
}

/// Everything in the account, for tests to compare a copy against.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub users: Vec<ManifestUser>,
    pub meetings: Vec<ManifestMeeting>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestUser {
    pub id: Option<String>,
    pub email: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestMeeting {
    pub uuid: String,
    pub id: i64,
    pub host_id: String,
    pub host_email: String,
    pub topic: String,
    pub start_time: String,
    pub timezone: String,
    /// The meeting has a summary the API serves (never on the Free plan: see
    /// [`SimConfig::summaries_available`]).
    pub has_summary: bool,
    pub in_progress: bool,
    pub files: Vec<ManifestFile>,
    pub participant_audio: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestFile {
    pub id: String,
    pub file_type: String,
    pub file_extension: String,
    pub recording_type: Option<String>,
    /// "completed" or "processing".
    pub status: String,
    pub size: u64,
    /// "present", "trashed" or "deleted".
    pub cloud: CloudState,
    #[serde(skip)]
    pub key: u64,
}

impl ManifestFile {
    /// SHA-256 of the file's bytes (hex), computed on demand.
    pub fn sha256_hex(&self) -> String {
        content::sha256_hex(self.key, self.size)
    }

    /// The bytes in `[offset, offset + len)`.
    pub fn content(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        content::fill(self.key, offset, &mut v);
        v
    }

    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }
}

impl Manifest {
    /// Every file (recordings and participant audio) with its meeting.
    pub fn files(&self) -> impl Iterator<Item = (&ManifestMeeting, &ManifestFile)> {
        self.meetings.iter().flat_map(|m| {
            m.files
                .iter()
                .chain(m.participant_audio.iter())
                .map(move |f| (m, f))
        })
    }

    pub fn file(&self, id: &str) -> Option<&ManifestFile> {
        self.files().map(|(_, f)| f).find(|f| f.id == id)
    }

    pub fn total_bytes(&self) -> u64 {
        self.files()
            .filter(|(_, f)| f.is_completed())
            .map(|(_, f)| f.size)
            .sum()
    }
}
