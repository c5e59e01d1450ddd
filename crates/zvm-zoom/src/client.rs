//! The Zoom API client. Every call goes through one path ([`ZoomClient::call`]): pacer slot,
//! bearer token, send, classify, decide, sleep, retry; a 401 refreshes the token once. On top:
//! users, meetings over any date range (one-month windows, newest first, walked by
//! the `window` module) of one user or of the whole account, one meeting's recordings,
//! summaries and the summary listing, deletion and recovery, and downloads. A download is
//! one attempt (see [`ZoomClient::open_download`]): the engine, which resumes from the bytes
//! it has, owns its retries.

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use jiff::civil::Date;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{Credentials, TokenSource, join};
use crate::download_grants::DownloadGrants;
use crate::error::{AdminListing, ZoomError};
use crate::http::{
    MAX_REDIRECTS, api_client, check_redirect, check_url, download_client, same_host,
};
use crate::models::{
    Meeting, MeetingSummary, RecordingsPage, SummariesPage, SummaryListing, User, UsersPage,
};
use crate::pacer::{Category, Pacer, Plan};
use crate::redact::{RedactedUrl, Secret};
use crate::retry::{Attempts, Decision, RetryPolicy, server_delay};
use crate::window::{Lister, PageSource, WindowPage};

/// Characters left alone when encoding a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes a meeting uuid for a path: always twice, which Zoom accepts for every uuid and
/// requires for those starting with `/` or containing `//`.
pub fn encode_uuid(uuid: &str) -> String {
    let once = utf8_percent_encode(uuid, SEGMENT).to_string();
    utf8_percent_encode(&once, SEGMENT).to_string()
}

fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API base, default `https://api.zoom.us/v2`.
    pub api_base: String,
    /// OAuth base, default `https://zoom.us`.
    pub oauth_base: String,
    /// Plan sizing the pacer.
    pub plan: Plan,
    /// Retry policy of every API call. Downloads are not retried by the client: their
    /// caller's loop is the only one (see [`ZoomClient::open_download`]).
    pub retry: RetryPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// A download that delivers no byte for this long ends with a transient error.
    pub stall_timeout: Duration,
    /// Refresh tokens this long before expiry.
    pub token_skew: Duration,
    /// Idle download connections kept per host for reuse. Must cover the most transfers a
    /// run opens at once (64, plus the next file each one opens early), or every request
    /// past it pays a new TCP and TLS handshake.
    pub download_connections: usize,
    /// Download over HTTP/2 (off, the default: HTTP/1.1, one connection per transfer). Over
    /// TLS HTTP/2 is what the server's ALPN offers; over plain loopback http it is h2c with
    /// prior knowledge (the simulator). BENCHMARKS.md measured why it is off.
    pub http2: bool,
    /// Told of each API request's end (the daemon's metrics); none by default.
    pub observer: crate::observer::RequestObserver,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_base: "https://api.zoom.us/v2".into(),
            oauth_base: "https://zoom.us".into(),
            plan: Plan::Pro,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            stall_timeout: Duration::from_secs(60),
            token_skew: Duration::from_secs(120),
            download_connections: 128,
            http2: false,
            observer: crate::observer::RequestObserver::default(),
        }
    }
}

/// Which users to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatusFilter {
    /// Active users.
    Active,
    /// Deactivated users (they keep their recordings).
    Inactive,
}

/// What to delete with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteAction {
    /// Move to trash (kept 30 days).
    Trash,
    /// Delete permanently.
    Delete,
}

/// Outcome of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Deleted (204).
    Deleted,
    /// Already gone (404 3301/1001).
    AlreadyGone,
    /// Meeting still in progress (400 3303).
    InProgress,
}

/// Why a summary is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryAbsent {
    /// 404 3001: none.
    NotFound,
    /// 400 200: paid plans only.
    NotOnPlan,
    /// 403 2305: sharing restricted.
    Restricted,
}

/// A summary or why there is none.
pub type SummaryResult = Result<MeetingSummary, SummaryAbsent>;

/// What a download answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadStatus {
    /// The whole file from byte 0 (also: a ranged request whose range was ignored; restart).
    Full,
    /// 206 from `start`.
    Partial {
        /// First byte served.
        start: u64,
    },
}

/// Which bytes of a file a download asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive); `None`: to the end of the file.
    pub last: Option<u64>,
}

impl From<u64> for ByteRange {
    /// From `offset` to the end (a resumed download).
    fn from(offset: u64) -> Self {
        ByteRange {
            start: offset,
            last: None,
        }
    }
}

impl ByteRange {
    /// The `Range` header, `None` for the whole file.
    pub fn header(&self) -> Option<String> {
        match (self.start, self.last) {
            (0, None) => None,
            (s, None) => Some(format!("bytes={s}-")),
            (s, Some(l)) => Some(format!("bytes={s}-{l}")),
        }
    }
}

/// Whether an answer says the token was not good enough (refresh it once and ask again).
fn is_auth_problem(err: &ZoomError) -> bool {
    matches!(err, ZoomError::HtmlInsteadOfMedia) || matches!(err.status(), Some(401 | 403))
}

/// Byte stream of a download.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ZoomError>> + Send>>;

/// An open download.
pub struct Download {
    /// Full or partial.
    pub status: DownloadStatus,
    /// Bytes that will follow, if announced.
    pub content_length: Option<u64>,
    /// The Content-Type.
    pub content_type: Option<String>,
    /// The body; ends with [`ZoomError::Stalled`] if no byte arrives for the stall timeout.
    pub stream: ByteStream,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("status", &self.status)
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// The Zoom client. Cheap to clone; clones share the token source, pacer and pools.
#[derive(Clone, Debug)]
pub struct ZoomClient {
    api: reqwest::Client,
    dl: reqwest::Client,
    api_base: Url,
    tokens: TokenSource,
    pacer: Pacer,
    cfg: ClientConfig,
    /// Download answers that said "too many" (429, or 503 with Retry-After), for the
    /// engine's concurrency control.
    download_throttles: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Set once the CDN refused a signed link without the bearer token and took it with
    /// the token: from then on the token goes to the CDN at once (see [`Self::open_download`]).
    cdn_wants_token: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Set once Zoom answered a summary request 400 code 200 (AI Companion is not on the
    /// account's plan): from then on no summary is asked for (see [`Self::meeting_summary`]).
    summaries_not_on_plan: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Webhooks' download tokens by download URL, tried before the OAuth token (see
    /// [`Self::grant_download_token`]).
    download_grants: std::sync::Arc<DownloadGrants>,
}

struct Answer {
    body: Bytes,
}

impl ZoomClient {
    /// The client's pacer (shared by its clones): a fleet worker tells it its share of the
    /// account's limits ([`Pacer::share_with`]).
    pub fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    /// Builds a client (refuses plain http to non-loopback hosts).
    pub fn new(cfg: ClientConfig, creds: Credentials) -> Result<Self, ZoomError> {
        let api_base = check_url(&cfg.api_base)?;
        let api = api_client(cfg.connect_timeout)?;
        let dl = download_client(
            cfg.connect_timeout,
            cfg.download_connections,
            cfg.http2,
            api_base.scheme() == "http",
        )?;
        let tokens = TokenSource::new(api.clone(), &cfg.oauth_base, creds, cfg.token_skew)?;
        Ok(Self {
            api,
            dl,
            api_base,
            tokens,
            pacer: Pacer::new(cfg.plan),
            download_throttles: Default::default(),
            cdn_wants_token: Default::default(),
            summaries_not_on_plan: Default::default(),
            download_grants: Default::default(),
            cfg,
        })
    }

    /// A webhook's `download_token` for `download_url`, valid for `valid_for`: the
    /// downloads of that URL send it instead of the OAuth token while it is valid, and go on
    /// with the OAuth token once the download host refuses it (see [`DownloadGrants`]).
    pub fn grant_download_token(&self, download_url: &str, token: Secret, valid_for: Duration) {
        self.download_grants.grant(download_url, token, valid_for);
    }

    /// Download tokens held now.
    pub fn download_tokens_held(&self) -> usize {
        self.download_grants.len()
    }

    /// The token source (status, logout).
    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// The reqwest client used for OAuth/API calls (e.g. for [`crate::auth::login_pkce`]).
    pub fn http(&self) -> &reqwest::Client {
        &self.api
    }

    fn url(&self, rel: &str) -> String {
        join(&self.api_base, rel)
    }

    /// One API call with pacing, auth, retries. Returns the status and body of a 2xx answer;
    /// any other answer is an error carrying Zoom's code.
    async fn call(
        &self,
        cat: Category,
        method: Method,
        url: &str,
        query: &[(&str, String)],
        json: Option<&serde_json::Value>,
    ) -> Result<Answer, ZoomError> {
        let mut so_far = Attempts::default();
        let mut refreshed = false;
        loop {
            self.pacer.acquire(cat).await;
            let token = match self.tokens.access_token().await {
                Ok(t) => t,
                Err(err) => match self.cfg.retry.decide(&mut so_far, &err) {
                    Decision::RetryAfter(d) => {
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    Decision::GiveUp => return Err(err),
                },
            };
            let mut req = self
                .api
                .request(method.clone(), url)
                .bearer_auth(token.expose())
                .query(query);
            if let Some(j) = json {
                req = req.json(j);
            }
            let sent = std::time::Instant::now();
            let err = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let delay = server_delay(resp.headers(), SystemTime::now());
                    let read = read_capped(resp, MAX_API_ANSWER, url).await;
                    self.cfg.observer.observe(cat, status, sent.elapsed());
                    match read {
                        Ok(body) if (200..300).contains(&status) => {
                            return Ok(Answer { body });
                        }
                        Ok(body) => {
                            let text = String::from_utf8_lossy(&body);
                            let e = ZoomError::api(status, &text, delay);
                            if status == 429 {
                                self.pacer.throttled(cat, delay);
                            }
                            if status == 401 && !refreshed {
                                // Expired or revoked token (code 124): refresh once, and do
                                // not count it as an attempt.
                                refreshed = true;
                                self.tokens.force_refresh(&token).await?;
                                continue;
                            }
                            e
                        }
                        Err(e) => e,
                    }
                }
                Err(e) => {
                    self.cfg.observer.observe(cat, 0, sent.elapsed());
                    ZoomError::from(e)
                }
            };
            match self.cfg.retry.decide(&mut so_far, &err) {
                Decision::RetryAfter(d) => {
                    tracing::debug!(url = %RedactedUrl(url), failed = so_far.failed, rate_limited = so_far.rate_limited, ?d, error = %err, "retrying");
                    tokio::time::sleep(d).await;
                }
                Decision::GiveUp => return Err(err),
            }
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        cat: Category,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<T, ZoomError> {
        let a = self.call(cat, Method::GET, url, query, None).await?;
        serde_json::from_slice(&a.body).map_err(|e| ZoomError::Parse {
            what: crate::redact::redact_url(url),
            detail: e.to_string(),
        })
    }

    /// All users with `status`, every page. Users without an id are skipped.
    pub async fn list_users(&self, status: UserStatusFilter) -> Result<Vec<User>, ZoomError> {
        let s = match status {
            UserStatusFilter::Active => "active",
            UserStatusFilter::Inactive => "inactive",
        };
        let url = self.url("users");
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let mut q = vec![("status", s.to_owned()), ("page_size", "300".to_owned())];
            if !token.is_empty() {
                q.push(("next_page_token", token.clone()));
            }
            let page: UsersPage = self.get_json(Category::Medium, &url, &q).await?;
            out.extend(page.users.into_iter().filter(|u| !u.id.is_empty()));
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = t,
                _ => return Ok(out),
            }
        }
    }

    /// One page of a date-windowed listing at `path` (relative to the API base, encoded).
    pub(crate) async fn window_page<P: DeserializeOwned>(
        &self,
        path: &str,
        from: Date,
        to: Date,
        page_token: &str,
    ) -> Result<P, ZoomError> {
        let url = self.url(path);
        let mut q = vec![
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("page_size", "300".to_owned()),
        ];
        if !page_token.is_empty() {
            q.push(("next_page_token", page_token.to_owned()));
        }
        self.get_json(Category::Medium, &url, &q).await
    }

    /// The entries of a date-windowed listing, as a stream (walked by the `window` module).
    fn walk<P: WindowPage>(
        &self,
        path: String,
        admin: Option<AdminListing>,
        from: Date,
        to: Date,
    ) -> impl Stream<Item = Result<P::Item, ZoomError>> + Send + Unpin + 'static {
        let source = Source {
            client: self.clone(),
            path,
            admin,
        };
        let st = Lister::<P, Source>::new(source, from, to);
        Box::pin(futures::stream::try_unfold(st, |mut st| async move {
            let m = st.next().await?;
            Ok(m.map(|m| (m, st)))
        }))
    }

    /// Every meeting of `user` (`me`, an id or an email) that starts between `from` and `to`
    /// (UTC days, inclusive), **newest first**: the range is walked backwards in windows of at
    /// most one month, every page of each, with the first pages of the next few windows
    /// requested ahead (the pacer keeps the account within its rate limit); if Zoom echoes a
    /// narrower `from` the rest of the window is walked separately; uuids are deduplicated
    /// across window edges; an expired page token (400 code 300) restarts its window. Must be
    /// polled inside a Tokio runtime.
    pub fn list_meetings(
        &self,
        user: &str,
        from: Date,
        to: Date,
    ) -> impl Stream<Item = Result<Meeting, ZoomError>> + Send + Unpin + 'static {
        let path = format!("users/{}/recordings", encode_segment(user));
        self.walk::<RecordingsPage>(path, None, from, to)
    }

    /// Every meeting of every user of the account (inactive users' included) that starts
    /// between `from` and `to`, from `GET /accounts/me/recordings` (zoom-api.md §2 "Account
    /// level"): the same windows, narrowing check, pages, dedup and order as
    /// [`Self::list_meetings`]; each meeting names its `host_id` and `host_email`. One request
    /// per month (per page) for the whole account instead of one per user per month.
    ///
    /// Zoom refuses it to some apps and plans: the stream then ends with an error whose
    /// [`ZoomError::is_refused`] is true (fall back to [`Self::list_users`] and
    /// [`Self::list_meetings`] per user) and whose [`ZoomError::scope_to_grant`] names the
    /// scope to tell the admin about.
    pub fn list_account_meetings(
        &self,
        from: Date,
        to: Date,
    ) -> impl Stream<Item = Result<Meeting, ZoomError>> + Send + Unpin + 'static {
        self.walk::<RecordingsPage>(
            "accounts/me/recordings".to_owned(),
            Some(AdminListing::AccountRecordings),
            from,
            to,
        )
    }

    /// Every meeting of the account with an AI Companion summary that starts between `from`
    /// and `to`, from `GET /meetings/meeting_summaries` (zoom-api.md §4), walked like
    /// [`Self::list_meetings`] (deduplicated by meeting uuid): ask [`Self::meeting_summary`]
    /// only for these. Refusals (a missing scope, a plan without it) end the stream with an
    /// error whose [`ZoomError::is_refused`] is true: then ask each meeting.
    pub fn list_summaries(
        &self,
        from: Date,
        to: Date,
    ) -> impl Stream<Item = Result<SummaryListing, ZoomError>> + Send + Unpin + 'static {
        self.walk::<SummariesPage>(
            "meetings/meeting_summaries".to_owned(),
            Some(AdminListing::MeetingSummaries),
            from,
            to,
        )
    }

    /// One user, by id, email or `me` (the signed-in user).
    pub async fn get_user(&self, id_or_me: &str) -> Result<User, ZoomError> {
        let url = self.url(&format!("users/{}", encode_segment(id_or_me)));
        self.get_json(Category::Light, &url, &[]).await
    }

    /// One meeting occurrence with its files and `participant_audio_files`.
    pub async fn get_meeting_recordings(&self, uuid: &str) -> Result<Meeting, ZoomError> {
        let url = self.url(&format!("meetings/{}/recordings", encode_uuid(uuid)));
        self.get_json(Category::Light, &url, &[]).await
    }

    /// The AI Companion summary, or why there is none (absence is normal, not a failure).
    /// Once Zoom has said summaries are not on the account's plan (400 code 200), every later
    /// call answers [`SummaryAbsent::NotOnPlan`] without a request: the plan does not change
    /// within a run, and asking for every meeting would spend the Light rate limit for nothing.
    pub async fn meeting_summary(&self, uuid: &str) -> Result<SummaryResult, ZoomError> {
        use std::sync::atomic::Ordering;
        if self.summaries_not_on_plan.load(Ordering::Relaxed) {
            return Ok(Err(SummaryAbsent::NotOnPlan));
        }
        let url = self.url(&format!("meetings/{}/meeting_summary", encode_uuid(uuid)));
        match self.get_json(Category::Light, &url, &[]).await {
            Ok(s) => Ok(Ok(s)),
            Err(e) => match (e.status(), e.code()) {
                (Some(404), Some(3001)) | (Some(404), None) => Ok(Err(SummaryAbsent::NotFound)),
                (Some(400), Some(200)) => {
                    self.summaries_not_on_plan.store(true, Ordering::Relaxed);
                    Ok(Err(SummaryAbsent::NotOnPlan))
                }
                (Some(403), Some(2305)) => Ok(Err(SummaryAbsent::Restricted)),
                _ => Err(e),
            },
        }
    }

    /// Whether Zoom has said that AI Companion summaries are not on the account's plan
    /// (400 code 200). Shared by clones.
    pub fn summaries_not_on_plan(&self) -> bool {
        self.summaries_not_on_plan
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn delete(&self, url: String, action: DeleteAction) -> Result<DeleteOutcome, ZoomError> {
        let a = match action {
            DeleteAction::Trash => "trash",
            DeleteAction::Delete => "delete",
        };
        match self
            .call(
                Category::Light,
                Method::DELETE,
                &url,
                &[("action", a.into())],
                None,
            )
            .await
        {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(e) => match (e.status(), e.code()) {
                (Some(404), Some(3301 | 1001)) => Ok(DeleteOutcome::AlreadyGone),
                (Some(400), Some(3303)) => Ok(DeleteOutcome::InProgress),
                _ => Err(e),
            },
        }
    }

    /// Deletes (or trashes) all recordings of a meeting occurrence.
    pub async fn delete_meeting_recordings(
        &self,
        uuid: &str,
        action: DeleteAction,
    ) -> Result<DeleteOutcome, ZoomError> {
        self.delete(
            self.url(&format!("meetings/{}/recordings", encode_uuid(uuid))),
            action,
        )
        .await
    }

    /// Deletes (or trashes) one recording file.
    pub async fn delete_recording_file(
        &self,
        uuid: &str,
        file_id: &str,
        action: DeleteAction,
    ) -> Result<DeleteOutcome, ZoomError> {
        let url = self.url(&format!(
            "meetings/{}/recordings/{}",
            encode_uuid(uuid),
            encode_segment(file_id)
        ));
        self.delete(url, action).await
    }

    /// Recovers a trashed meeting's recordings.
    pub async fn recover_meeting_recordings(&self, uuid: &str) -> Result<(), ZoomError> {
        let url = self.url(&format!("meetings/{}/recordings/status", encode_uuid(uuid)));
        let body = serde_json::json!({"action": "recover"});
        self.call(Category::Light, Method::PUT, &url, &[], Some(&body))
            .await
            .map(|_| ())
    }

    /// Recovers one trashed file.
    pub async fn recover_recording_file(&self, uuid: &str, file_id: &str) -> Result<(), ZoomError> {
        let url = self.url(&format!(
            "meetings/{}/recordings/{}/status",
            encode_uuid(uuid),
            encode_segment(file_id)
        ));
        let body = serde_json::json!({"action": "recover"});
        self.call(Category::Light, Method::PUT, &url, &[], Some(&body))
            .await
            .map(|_| ())
    }

    /// Opens a download: one attempt. The bearer token goes to Zoom's download host (the host
    /// of `download_url`); its redirect to the CDN is followed without it, because the CDN's
    /// signed query is its credential and a CDN may refuse an extra header (zoom-api.md §3).
    /// If the CDN refuses the signed link alone (403), the same link is asked once more with
    /// the token, and when that works the token goes to the CDN on every later download of
    /// the run. `Range: bytes=offset-` when `offset > 0`, on every hop. A 401/403 or an HTML
    /// answer refreshes the token once and asks again.
    ///
    /// Those second requests are part of the one attempt (the credentials changed, nothing
    /// failed). A failure is not retried here: the caller owns the download's retries, their
    /// backoff and their budget (zvm-engine's `TransferRetry`), and reads what to do from
    /// [`ZoomError::class`]: transient, rate limited (with the server's Retry-After, if any)
    /// or fatal. Retrying here as well made the attempts multiply (six per try, twenty tries
    /// per file) and hid the real budget. A 429 or 503 answer is also counted in
    /// [`Self::download_throttles`]: the server saying it is overloaded.
    pub async fn open_download(
        &self,
        download_url: &str,
        offset: u64,
    ) -> Result<Download, ZoomError> {
        self.open_download_range(download_url, ByteRange::from(offset))
            .await
    }

    /// Opens one range of a download (closed, or open to the end), in one attempt exactly as
    /// [`Self::open_download`]: a segmented download asks for its ranges through this.
    pub async fn open_download_range(
        &self,
        download_url: &str,
        range: ByteRange,
    ) -> Result<Download, ZoomError> {
        use std::sync::atomic::Ordering;
        let origin = check_url(download_url)?;
        if let Some(token) = self.download_grants.token_for(download_url) {
            match self.download_once(&origin, &token, range).await {
                Ok(d) => return Ok(d),
                Err(e) if is_auth_problem(&e) => {
                    // Expired at Zoom, or not for this file: the OAuth token from now on.
                    tracing::debug!(url = %RedactedUrl(download_url), "the webhook's download token was refused; using the OAuth token");
                    self.download_grants.refused(download_url);
                }
                Err(e) => {
                    if matches!(e.status(), Some(429 | 503)) {
                        self.download_throttles
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    return Err(e);
                }
            }
        }
        let mut refreshed = false;
        loop {
            let token = self.tokens.access_token().await?;
            let err = match self.download_once(&origin, &token, range).await {
                Ok(d) => return Ok(d),
                Err(e) => e,
            };
            if is_auth_problem(&err) && !refreshed {
                refreshed = true;
                self.refresh_after_reject(&token).await?;
                continue;
            }
            if matches!(err.status(), Some(429 | 503)) {
                self.download_throttles.fetch_add(1, Ordering::Relaxed);
            }
            return Err(err);
        }
    }

    /// One request chain for a download with `token`: the redirects, and the CDN asked again
    /// with the token if it refused the signed link alone.
    async fn download_once(
        &self,
        origin: &Url,
        token: &Secret,
        range: ByteRange,
    ) -> Result<Download, ZoomError> {
        use std::sync::atomic::Ordering;
        let with_token = self.cdn_wants_token.load(Ordering::Relaxed);
        let (resp, at) = self
            .follow(origin, origin, token, range, with_token)
            .await?;
        let (resp, _) = if resp.status() == reqwest::StatusCode::FORBIDDEN
            && !with_token
            && !same_host(&at, origin)
        {
            // The CDN wants the token as well as its signed query: ask again with it.
            let (resp, at) = self.follow(&at, origin, token, range, true).await?;
            if resp.status().is_success() {
                tracing::info!("the CDN wants the bearer token; sending it from now on");
                self.cdn_wants_token.store(true, Ordering::Relaxed);
            }
            (resp, at)
        } else {
            (resp, at)
        };
        self.classify_download(resp, range.start)
    }

    /// GETs `start` and follows its redirects (at most [`MAX_REDIRECTS`], never to plain
    /// http on a remote host). The token goes to `origin`'s host, and to other hosts only
    /// when `token_everywhere`. Returns the final answer and the URL that gave it.
    async fn follow(
        &self,
        start: &Url,
        origin: &Url,
        token: &Secret,
        range: ByteRange,
        token_everywhere: bool,
    ) -> Result<(reqwest::Response, Url), ZoomError> {
        let mut url = start.clone();
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.dl.get(url.clone());
            if token_everywhere || same_host(&url, origin) {
                req = req.bearer_auth(token.expose());
            }
            if let Some(value) = range.header() {
                req = req.header(reqwest::header::RANGE, value);
            }
            let resp = req.send().await?;
            if !resp.status().is_redirection() {
                return Ok((resp, url));
            }
            let Some(location) = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                // A 3xx without a place to go (304 and the like): the caller judges it.
                return Ok((resp, url));
            };
            url = check_redirect(&url, location)?;
        }
        Err(ZoomError::Redirect(format!(
            "more than {MAX_REDIRECTS} redirects from the download host"
        )))
    }

    /// How many download answers so far said "too many connections" (429, or 503 with
    /// Retry-After). Shared by clones.
    pub fn download_throttles(&self) -> u64 {
        self.download_throttles
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn refresh_after_reject(&self, token: &Secret) -> Result<(), ZoomError> {
        self.tokens.force_refresh(token).await.map(|_| ())
    }

    fn classify_download(
        &self,
        resp: reqwest::Response,
        offset: u64,
    ) -> Result<Download, ZoomError> {
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if status == 416 {
            return Err(ZoomError::RangeNotSatisfiable { offset });
        }
        if !(200..300).contains(&status) {
            let delay = server_delay(resp.headers(), SystemTime::now());
            return Err(ZoomError::api(status, "", delay));
        }
        if ctype
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/html"))
        {
            return Err(ZoomError::HtmlInsteadOfMedia);
        }
        let dstatus = if status == 206 {
            let start = resp
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_content_range_start)
                .ok_or_else(|| ZoomError::Parse {
                    what: "download Content-Range".into(),
                    detail: "206 without a usable Content-Range".into(),
                })?;
            DownloadStatus::Partial { start }
        } else {
            DownloadStatus::Full
        };
        let content_length = resp.content_length();
        let stall = self.cfg.stall_timeout;
        let inner = resp.bytes_stream();
        let stream = futures::stream::unfold(Some(Box::pin(inner)), move |st| async move {
            let mut s = st?;
            match tokio::time::timeout(stall, s.next()).await {
                Err(_) => Some((Err(ZoomError::Stalled(stall)), None)),
                Ok(None) => None,
                Ok(Some(Ok(b))) => Some((Ok(b), Some(s))),
                Ok(Some(Err(e))) => Some((Err(ZoomError::from(e)), None)),
            }
        });
        Ok(Download {
            status: dstatus,
            content_length,
            content_type: ctype,
            stream: Box::pin(stream),
        })
    }
}

/// `bytes START-END/TOTAL` -> START.
fn parse_content_range_start(v: &str) -> Option<u64> {
    v.trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The largest API answer read into memory. A real page of 300 meetings with every file is a
/// few MiB; anything far larger is a broken or hostile server, refused before it fills RAM.
pub const MAX_API_ANSWER: usize = 32 << 20;

/// Reads a response body, failing once it passes `limit` bytes (announced or actual).
async fn read_capped(
    mut resp: reqwest::Response,
    limit: usize,
    url: &str,
) -> Result<Bytes, ZoomError> {
    let too_big = || ZoomError::Parse {
        what: crate::redact::redact_url(url),
        detail: format!(
            "the answer is larger than {} MiB, far beyond any real Zoom page; refusing it",
            limit >> 20
        ),
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await? {
        if buf.len() + chunk.len() > limit {
            return Err(too_big());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_double_encoding() {
        assert_eq!(encode_uuid("/ab+c=="), "%252Fab%252Bc%253D%253D");
        assert_eq!(encode_uuid("a//b"), "a%252F%252Fb");
        assert_eq!(encode_uuid("plain"), "plain");
    }

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(parse_content_range_start("bytes */200"), None);
    }
}

/// Where a listing's pages come from: this client, one API path.
#[derive(Clone)]
pub(crate) struct Source {
    pub client: ZoomClient,
    /// The API path relative to the base, already encoded (`users/{id}/recordings`).
    pub path: String,
    /// Set for an admin listing Zoom may refuse: its refusals are marked as such.
    pub admin: Option<AdminListing>,
}

impl PageSource for Source {
    async fn page<P: WindowPage>(&self, from: Date, to: Date, token: &str) -> Result<P, ZoomError> {
        let page = self.client.window_page(&self.path, from, to, token).await;
        match self.admin {
            Some(listing) => page.map_err(|e| e.refusing(listing)),
            None => page,
        }
    }
}
