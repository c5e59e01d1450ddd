//! What a simulator run looks like: the generated account, the plan's rate limits, token
//! lifetime and injected faults. Every field has a default, so a scenario file (TOML) names
//! only what it changes; unknown keys are errors so a typo never silently does nothing.

use serde::{Deserialize, Serialize};

/// Zoom plans, which set the per-category rate limits (zoom-api.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    #[default]
    Pro,
    Business,
}

impl std::str::FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "free" | "basic" => Ok(Plan::Free),
            "pro" => Ok(Plan::Pro),
            "business" | "business+" | "enterprise" => Ok(Plan::Business),
            o => Err(format!("unknown plan '{o}': use free, pro or business")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Everything generated (ids, topics, sizes, bytes) follows from this.
    pub seed: u64,
    pub plan: Plan,
    /// Access-token lifetime in seconds (Zoom: 3599).
    pub token_ttl_secs: u64,
    pub account: AccountSpec,
    pub faults: FaultConfig,
    pub rate_limits: RateLimitConfig,
    /// Listen address of the API/OAuth/web listener (default 127.0.0.1:0).
    pub bind: Option<String>,
    /// Listen address of the CDN listener (default 127.0.0.1:0).
    pub cdn_bind: Option<String>,
    /// When true the CDN also demands `Authorization: Bearer` (one report says Zoom's does).
    pub cdn_requires_auth: bool,
    /// When true the CDN answers 403 to a request that carries an `Authorization` header
    /// (another report says an extra header made Zoom's CDN refuse). Contradicts
    /// `cdn_requires_auth`: at most one of the two may be on.
    pub cdn_refuses_auth: bool,
    /// Zoom's silent narrowing of `GET /users/{id}/recordings`: a span that starts before
    /// `to - narrowing` becomes the span ending at `to`. `None`: Zoom's documented one month.
    /// A shorter span (e.g. 28 days, stricter than any one-month window a client asks for)
    /// makes the narrowing fire on every window, so a test can check nothing is missed.
    pub narrowing_days: Option<u32>,
    /// Signed CDN links stay valid this long (seconds).
    pub cdn_link_ttl_secs: u64,
    /// S2S and user-OAuth credentials the simulator accepts.
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Secret token used to sign webhooks.
    pub webhook_secret: String,
    /// Scopes on issued tokens and the refusals of the admin listings (account recordings,
    /// summaries). The default grants every scope and serves both listings.
    pub access: AccessConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            plan: Plan::Pro,
            token_ttl_secs: 3599,
            account: AccountSpec::default(),
            faults: FaultConfig::default(),
            rate_limits: RateLimitConfig::default(),
            bind: None,
            cdn_bind: None,
            cdn_requires_auth: false,
            cdn_refuses_auth: false,
            narrowing_days: None,
            cdn_link_ttl_secs: 3600,
            account_id: "sim-account-0001".into(),
            client_id: "sim-client-id".into(),
            client_secret: "sim-client-secret-do-not-use".into(),
            webhook_secret: "sim-webhook-secret".into(),
            access: AccessConfig::default(),
        }
    }
}

impl SimConfig {
    /// Settings that contradict each other or that no server could play, as one message.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.cdn_requires_auth && self.cdn_refuses_auth {
            anyhow::bail!(
                "cdn_requires_auth and cdn_refuses_auth are both on: a CDN cannot demand the \
                 Authorization header and refuse it; turn one of them off"
            );
        }
        if self.narrowing_days == Some(0) {
            anyhow::bail!(
                "narrowing_days = 0 would answer every listing with nothing; use 1 or more \
                 (or leave it out for Zoom's one month)"
            );
        }
        self.access.check()
    }

    /// Whether `GET /meetings/{uuid}/meeting_summary` serves summaries: AI Companion is a paid
    /// feature, so on the Free plan every request answers 400 code 200 (zoom-api.md §4).
    pub fn summaries_available(&self) -> bool {
        self.plan != Plan::Free
    }

    /// Named presets: `test` (small, fast, every file type), `demo` (realistic, a few hundred
    /// MiB), `big` (a bench base: set `account.meetings`, `file_size`, `files_per_meeting`).
    pub fn preset(name: &str) -> anyhow::Result<SimConfig> {
        let mut c = SimConfig::default();
        match name {
            "test" => {}
            "demo" => {
                // A generous plan so the demo is quick; the pacing is exercised elsewhere.
                c.plan = Plan::Business;
                c.account = AccountSpec {
                    active_users: 5,
                    inactive_users: 1,
                    pending_users: 1,
                    meetings: 220,
                    years: 3,
                    mp4_size: (150 << 10, 1200 << 10),
                    small_size: (1 << 10, 48 << 10),
                    ..AccountSpec::default()
                };
            }
            "big" => {
                c.account = AccountSpec {
                    active_users: 1,
                    inactive_users: 0,
                    pending_users: 0,
                    meetings: 500,
                    years: 1,
                    files_per_meeting: Some(1),
                    file_size: Some(4 << 20),
                    processing_fraction: 0.0,
                    hostile_fraction: 0.0,
                    summary_fraction: 0.0,
                    participant_audio_fraction: 0.0,
                    ..AccountSpec::default()
                };
                c.rate_limits.enabled = false;
            }
            other => anyhow::bail!("unknown preset '{other}': use test, demo or big"),
        }
        Ok(c)
    }

    /// Reads a TOML scenario; errors name the file and the line.
    pub fn from_toml_file(path: &std::path::Path) -> anyhow::Result<SimConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read scenario {}: {e}", path.display()))?;
        Self::from_toml_str(&text)
            .map_err(|e| anyhow::anyhow!("scenario {} is not valid: {e}", path.display()))
    }

    pub fn from_toml_str(text: &str) -> Result<SimConfig, toml::de::Error> {
        // The rest of the file is checked strictly when it becomes a SimConfig below.
        #[derive(Deserialize)]
        struct WithPreset {
            preset: Option<String>,
            #[serde(flatten)]
            rest: toml::Table,
        }
        // Check the file strictly first, against the full shape, so that an error names
        // the line; the `preset` key is blanked (not removed) to keep line numbers.
        let without_preset: String = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("preset") {
                    ""
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        toml::from_str::<SimConfig>(&without_preset)?;
        // A scenario may start from a preset and override parts of it.
        let wp: WithPreset = toml::from_str(text)?;
        let mut base = match wp.preset.as_deref() {
            Some(p) => SimConfig::preset(p).map_err(|e| serde::de::Error::custom(e.to_string()))?,
            None => SimConfig::default(),
        };
        let mut merged =
            toml::Table::try_from(&base).map_err(|e| serde::de::Error::custom(e.to_string()))?;
        merge(&mut merged, wp.rest);
        base = merged.try_into()?;
        Ok(base)
    }
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// The generated account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSpec {
    pub active_users: u32,
    pub inactive_users: u32,
    pub pending_users: u32,
    pub meetings: u32,
    /// Meetings are spread over this many years ending at `end_date`.
    pub years: u32,
    /// Last day of the account's history, `YYYY-MM-DD`; default: today (UTC).
    pub end_date: Option<String>,
    /// MP4/M4A sizes (min, max) in bytes.
    pub mp4_size: (u64, u64),
    /// Text files (chat, transcript, captions, timeline...) sizes (min, max).
    pub small_size: (u64, u64),
    /// Benchmarks: every meeting has exactly this many MP4 files of `file_size` bytes, and
    /// nothing else.
    pub files_per_meeting: Option<u32>,
    pub file_size: Option<u64>,
    /// The first MP4 of the newest meeting has exactly this size: one long recording (an
    /// all-day workshop) among ordinary ones.
    pub large_file: Option<u64>,
    /// Share of files still processing at start (complete later).
    pub processing_fraction: f64,
    pub hostile_fraction: f64,
    pub summary_fraction: f64,
    pub participant_audio_fraction: f64,
    /// Share of meetings "in progress": deleting them answers 400 code 3303.
    pub in_progress_fraction: f64,
}

impl Default for AccountSpec {
    fn default() -> Self {
        Self {
            active_users: 3,
            inactive_users: 1,
            pending_users: 1,
            meetings: 30,
            years: 3,
            end_date: None,
            mp4_size: (20 << 10, 200 << 10),
            small_size: (1 << 10, 16 << 10),
            files_per_meeting: None,
            file_size: None,
            large_file: None,
            processing_fraction: 0.05,
            hostile_fraction: 0.25,
            summary_fraction: 0.4,
            participant_audio_fraction: 0.3,
            in_progress_fraction: 0.03,
        }
    }
}

/// Faults, each a probability (0..1) or a count. Download faults apply per request, so a
/// client that retries and resumes eventually gets the whole file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the fault dice (separate from the account seed).
    pub seed: u64,
    /// Probability that an API request answers 500/502/503.
    pub api_5xx_prob: f64,
    /// The next N API requests answer 503 (a burst), counted down.
    pub api_5xx_burst: u32,
    /// Probability that a download is cut (connection reset) after `reset_after_bytes`.
    pub reset_prob: f64,
    pub reset_after_bytes: u64,
    /// Probability that a download announces the full length but sends only part, then ends.
    pub truncate_prob: f64,
    /// Probability that a download stops sending mid-body for `stall_secs` (0 = for ever).
    pub stall_prob: f64,
    pub stall_secs: f64,
    /// Probability that a ranged request is answered 200 with the whole file.
    pub range_ignored_prob: f64,
    /// Probability that a CDN request answers 502 Bad Gateway (an edge that could not reach
    /// its origin): a failure of that one request, not overload, so it carries no
    /// Retry-After. At 1.0 every download fails, which lets a test count a client's attempts.
    pub cdn_5xx_prob: f64,
    /// Bandwidth cap of each TCP connection in bytes per second (0 = none): HTTP/1.1
    /// responses on a keep-alive connection take turns under it, HTTP/2 streams share it.
    pub bandwidth_bps: u64,
    /// Added latency per request (ms), API and downloads.
    pub latency_ms: u64,
    /// Total download bandwidth shared by every CDN response at once, in bytes per second
    /// (0 = none): the user's line, which sets how many connections are worth opening.
    pub link_bps: u64,
    /// CDN responses allowed at once (0 = any number); beyond it the CDN answers 429 with
    /// `Retry-After: 1`, as a CDN that limits connections per client does.
    pub max_downloads: u32,
    /// Probability that a web download answers the HTML "Only the host" page despite a valid token.
    pub html_prob: f64,
    /// Every successful `GET /v2/...` answer is replaced by hostile JSON of this kind (a
    /// server bug or an attacker between us and Zoom): the client must fail clearly.
    pub hostile_json: Option<HostileJson>,
    /// API routes that answer 503 with Zoom's JSON error body on every request (after auth
    /// and rate limits, like the other injected errors) until the faults are replaced: a
    /// backend that is down for one kind of request, which retries cannot get past.
    ///
    /// An entry is a route as the simulator names it in its stats, e.g.
    /// `/v2/meetings/{uuid}/meeting_summary`, and matches every request to it. It may start
    /// with a method (`GET /v2/meetings/{uuid}/recordings`: the meeting's details, which is
    /// also where participant audio is listed, while the `DELETE` of that route still
    /// works), and its parameters may be filled in (`/v2/meetings/<uuid>/meeting_summary`,
    /// the uuid as Zoom lists it, not encoded) to fail that one meeting only.
    pub failing_routes: Vec<String>,
}

/// Kinds of malformed or hostile JSON the API can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostileJson {
    /// The real answer with every string turned into a number and every number into a string.
    WrongTypes,
    /// The real answer with every number replaced by one no integer type holds.
    HugeNumbers,
    /// The real answer with every string replaced by a 4 MiB string.
    GiganticStrings,
    /// Arrays nested 100,000 deep.
    DeepNesting,
    /// The real answer cut in the middle.
    Truncated,
    /// An answer larger than any real page (48 MiB of whitespace-padded JSON).
    Oversized,
}

/// Per-category limits. `None` fields take the plan's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub light_per_sec: Option<u32>,
    pub medium_per_sec: Option<u32>,
    pub heavy_per_sec: Option<u32>,
    /// Daily quota per category (all categories share the number); `None` = no daily limit.
    pub daily_limit: Option<u32>,
    /// Whether 429 answers carry the X-RateLimit-* headers (Zoom often omits them).
    pub send_headers: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            light_per_sec: None,
            medium_per_sec: None,
            heavy_per_sec: None,
            daily_limit: None,
            send_headers: true,
        }
    }
}

/// Zoom's rate-limit categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Light,
    Medium,
    Heavy,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Light => "Light",
            Category::Medium => "Medium",
            Category::Heavy => "Heavy",
        }
    }
}

impl RateLimitConfig {
    pub fn per_sec(&self, plan: Plan, cat: Category) -> u32 {
        let (l, m, h) = match plan {
            Plan::Free => (4, 2, 1),
            Plan::Pro => (30, 20, 10),
            Plan::Business => (80, 60, 40),
        };
        match cat {
            Category::Light => self.light_per_sec.unwrap_or(l),
            Category::Medium => self.medium_per_sec.unwrap_or(m),
            Category::Heavy => self.heavy_per_sec.unwrap_or(h),
        }
    }
}

// --- What tokens carry and how the admin listings answer (used by `access`, which checks
// them per request; kept here so the configuration imports no request-handling module). ---

/// Scope of the account-wide recordings listing (granular; classic: `account:read:admin`).
pub const ACCOUNT_RECORDINGS_SCOPE: &str = "cloud_recording:read:list_account_recordings:admin";
/// Scope of the summary listing (granular; classic: `meeting_summary:read:admin`).
pub const SUMMARIES_LIST_SCOPE: &str = "meeting_summary:read:list_summaries:admin";

/// What a token carries when [`AccessConfig::scopes`] is `None`: the admin variant of every
/// route's scope, so every route (the account and summary listings included) answers.
pub const FULL_GRANT: &[&str] = &[
    "cloud_recording:read:list_user_recordings:admin",
    ACCOUNT_RECORDINGS_SCOPE,
    "cloud_recording:read:list_recording_files:admin",
    "cloud_recording:delete:meeting_recording:admin",
    "cloud_recording:delete:recording_file:admin",
    "cloud_recording:update:recover_meeting_recordings:admin",
    "cloud_recording:update:recover_single_recording:admin",
    "meeting:read:summary:admin",
    SUMMARIES_LIST_SCOPE,
    "user:read:list_users:admin",
    "user:read:user:admin",
];

/// How the simulator answers one of the two admin listings (account recordings, summaries)
/// to a token that holds its scope: the refusals zoom-api.md lists, each playable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ListingAccess {
    /// Served.
    #[default]
    #[serde(rename = "allowed")]
    Allowed,
    /// 403 code 4711 naming the listing's scope, whatever the token holds (an app whose
    /// scope list lacks it, seen from the endpoint's side).
    #[serde(rename = "scope_4711")]
    Scope4711,
    /// 403 code 4700: the scope is there but the account or role may not use the listing.
    #[serde(rename = "not_allowed_4700")]
    NotAllowed4700,
    /// 400 code 200: the account's plan does not offer the listing.
    #[serde(rename = "bad_request_400")]
    BadRequest400,
    /// 404: the account listing answers code 2001 (no such account, as on a setup where it
    /// takes only a sub-account's id); the summary listing answers as a route the server
    /// does not have (code 404).
    #[serde(rename = "not_found_404")]
    NotFound404,
}

impl std::str::FromStr for ListingAccess {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "allowed" => Ok(Self::Allowed),
            "scope_4711" | "4711" => Ok(Self::Scope4711),
            "not_allowed_4700" | "4700" => Ok(Self::NotAllowed4700),
            "bad_request_400" | "400" => Ok(Self::BadRequest400),
            "not_found_404" | "404" => Ok(Self::NotFound404),
            o => Err(format!(
                "unknown listing access '{o}': use allowed, scope_4711, not_allowed_4700, \
                 bad_request_400 or not_found_404"
            )),
        }
    }
}

/// Scopes on tokens and the admin listings' refusals. The defaults grant everything and
/// serve both listings, so a scenario that names none of this behaves as before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// The scopes every issued token carries (S2S, user OAuth, control-plane tokens) and the
    /// token response's `scope` lists; `None`: [`FULL_GRANT`].
    pub scopes: Option<Vec<String>>,
    /// How `GET /v2/accounts/{id}/recordings` answers a token holding its scope.
    pub account_listing: ListingAccess,
    /// How `GET /v2/meetings/meeting_summaries` answers a token holding its scope.
    pub summary_listing: ListingAccess,
}

impl AccessConfig {
    /// The scopes issued tokens carry.
    pub fn granted(&self) -> Vec<String> {
        match &self.scopes {
            Some(s) => s.clone(),
            None => FULL_GRANT.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A scope list no token could carry, as one message.
    pub fn check(&self) -> anyhow::Result<()> {
        for s in self.scopes.iter().flatten() {
            if s.is_empty() || s.chars().any(char::is_whitespace) {
                anyhow::bail!(
                    "access.scopes has {s:?}: a scope is one word such as \
                     cloud_recording:read:list_user_recordings:admin (the token's `scope` \
                     lists them separated by spaces)"
                );
            }
        }
        Ok(())
    }
}

/// Where the simulator sends its webhooks by itself (`webhook::subscribe`): the app's
/// endpoint, its secret token, and the scale of Zoom's retry waits (1.0: Zoom's 5, 20 and
/// 60 minutes; tests use a tiny fraction).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSubscription {
    pub url: String,
    pub secret_token: String,
    #[serde(default = "zoom_retry_scale")]
    pub retry_scale: f64,
}

fn zoom_retry_scale() -> f64 {
    1.0
}
