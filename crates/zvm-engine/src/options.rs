//! What a run is asked to do, already resolved from flags, environment and config.
//!
//! Nothing past the front end's settings layer sees raw input: the CLI, GUI and daemon each
//! build a [`SyncOptions`] and hand it to the engine.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::Date;

/// Whose recordings a run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSelection {
    /// The signed-in user (`me`).
    Me,
    /// One user, by id or email (needs admin scopes for someone else).
    User(String),
    /// Every active and inactive user of the account (admins).
    AllUsers,
}

/// Which meetings and files a run takes.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Upper-case Zoom file types (MP4, M4A, CHAT, ...). Empty means every type.
    pub file_types: BTreeSet<String>,
    /// A case-insensitive glob (`*` and `?`) the topic must match.
    pub topic: Option<String>,
    /// Host email or id (account-wide runs).
    pub host: Option<String>,
    /// Meetings shorter than this many minutes are left out.
    pub min_duration_min: Option<u32>,
    /// Only these meetings, by Zoom's meeting-instance UUID (`None`: every meeting). For a
    /// front end where the user picked meetings one by one: two meetings of one host with
    /// the same topic on the same day are still told apart.
    pub meeting_uuids: Option<BTreeSet<String>>,
}

impl Filters {
    pub fn wants_file_type(&self, file_type: &str) -> bool {
        self.file_types.is_empty() || self.file_types.contains(&file_type.to_ascii_uppercase())
    }

    /// Whether a listed meeting passes every meeting-level filter (UUIDs, topic, duration;
    /// the host is checked per user, or per meeting of an account listing ([`Self::wants_host`]),
    /// file types per file).
    pub fn admits(&self, m: &zvm_zoom::models::Meeting) -> bool {
        self.meeting_uuids
            .as_ref()
            .is_none_or(|set| set.contains(&m.uuid))
            && self.wants_topic(&m.topic)
            && self
                .min_duration_min
                .is_none_or(|min| m.duration >= i64::from(min))
    }

    /// Whether a meeting passes `--host`: the host named by its listing (`host`), or Zoom's
    /// host id or email on the meeting. For listings that hold meetings of every user (the
    /// account's, and stored listings); a user's listing is chosen by the host instead.
    pub fn wants_host(&self, host: &str, m: &zvm_zoom::models::Meeting) -> bool {
        match &self.host {
            None => true,
            Some(h) => {
                h.eq_ignore_ascii_case(host)
                    || h.eq_ignore_ascii_case(&m.host_email)
                    || (!m.host_id.is_empty() && h == &m.host_id)
            }
        }
    }

    pub fn wants_topic(&self, topic: &str) -> bool {
        match &self.topic {
            None => true,
            Some(pattern) => glob_match(&pattern.to_lowercase(), &topic.to_lowercase()),
        }
    }
}

/// Retry timing and budget for transfers: the only retries a download has (the client
/// makes one attempt per call). Tests shrink the delays to milliseconds; the policy
/// decides, the caller waits.
#[derive(Debug, Clone)]
pub struct TransferRetry {
    /// Attempts per file, counting failures only (resets, truncations, stalls, 5xx).
    pub max_attempts: u32,
    /// The server's "not yet" (429, or 503 with Retry-After) sat through in a row while no
    /// byte arrived anywhere in the run; while other transfers progress, a throttle is a
    /// queue and uses up nothing.
    pub max_throttled_waits: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for TransferRetry {
    fn default() -> Self {
        Self {
            // Twenty: at the simulator's fault-storm rates (an attempt fails 3 times in 10)
            // a file then fails with 0.3^20 = 3.5e-11, so a run of a thousand files finishes
            // by itself; ten left one run in a few hundred giving up on a file. The backoff
            // cap keeps a file that never comes down to about 7 minutes of waiting.
            max_attempts: 20,
            // Thirty waits with nothing arriving anywhere: at a CDN's usual Retry-After of
            // 1 s, half a minute of a server refusing every connection ends the file.
            max_throttled_waits: 30,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl TransferRetry {
    /// Exponential backoff with full jitter for the given (1-based) attempt.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = rand::random::<f64>() * 0.5 + 0.5;
        capped.mul_f64(jitter)
    }
}

/// Which listing windows a run asks Zoom for, and which it takes from the stored listing
/// (the listing cache in the state). Used by runs that have a state (sync); `move` lists
/// everything, since a deletion is decided on what Zoom holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPolicy {
    /// Windows that overlap the last this many days (UTC, up to today) are listed on every
    /// run: that is where new recordings appear.
    pub recent_days: u32,
    /// A window's stored listing is trusted for this many days after it was listed; the
    /// first run after that lists the window again (and so notices recordings that appeared
    /// late in an old window, and meetings deleted in Zoom). 0: every run lists everything.
    pub full_listing_days: u32,
    /// List every window from Zoom in this run (`--full`).
    pub full: bool,
    /// The run's clock: "today" for the recent span, and the time recorded with each window
    /// listed. `None` (what front ends leave): the moment the run starts listing; tests set
    /// it so which months are recent or due does not depend on the day they run.
    pub now: Option<jiff::Timestamp>,
}

impl Default for ListingPolicy {
    fn default() -> Self {
        Self {
            recent_days: 30,
            full_listing_days: 7,
            full: false,
            now: None,
        }
    }
}

/// One meeting a person picked, with what finds it in a listing cheaply: its host and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenMeeting {
    /// Zoom's meeting-instance UUID: two meetings of one host with the same topic on the
    /// same day are still told apart.
    pub uuid: String,
    /// Whose listing holds it.
    pub user: UserSelection,
    /// The day to list (both ends of the listing window).
    pub date: Date,
    /// Only these recording files of the meeting, by Zoom's file id (`None`: every file the
    /// filters take). The person ticked files inside the meeting; the others are left out
    /// of the run as a filtered file type is.
    pub files: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub users: UserSelection,
    pub from: Date,
    pub to: Date,
    pub filters: Filters,
    /// Downloads at once; in auto mode, the most the engine may open.
    pub transfers: usize,
    /// Auto mode: the engine finds the number of transfers itself (up to `transfers`).
    pub adaptive: bool,
    /// Open the next file's download while the previous one finishes (hides the request's
    /// round trips between files).
    pub pipelining: bool,
    /// Global download limit in bytes per second.
    pub bwlimit: Option<u64>,
    /// Read each file back after the rename and store its SHA-256.
    pub verify_hash: bool,
    /// Plan and report, write nothing, download nothing.
    pub dry_run: bool,
    pub folder_template: String,
    pub file_template: String,
    /// Fetch AI Companion summaries (`summary.md`, `summary.json`).
    pub summaries: bool,
    /// Fetch per-participant audio files.
    pub participant_audio: bool,
    pub retry: TransferRetry,
    /// Meeting detail requests (summaries, participant audio) at once. Their rate is set by
    /// the client's pacer (the plan's Light limit); this only lets their round trips overlap,
    /// so that an account of many short meetings is not paced by latency.
    pub detail_concurrency: usize,
    /// Exactly these meetings, in one run (`None`: the query of `users`, `from`, `to`).
    /// When set, `users`, `from` and `to` are not used; the filters still apply.
    pub chosen: Option<Vec<ChosenMeeting>>,
    /// Exactly these meetings, each asked of Zoom by its uuid (`GET
    /// /meetings/{uuid}/recordings`) with no listing at all: for the daemon, which a webhook
    /// told which meeting finished. When set, `chosen`, `users`, `from` and `to` are not
    /// used; the filters still apply.
    pub by_uuid: Option<Vec<String>>,
    /// With `by_uuid`: a meeting Zoom cannot give (gone, refused, failing after its retries)
    /// is reported as an [`Event::FileFailed`](crate::Event::FileFailed) of class `Details`
    /// naming the meeting (no file id, its uuid as the path) and the run goes on to the next
    /// one, so one meeting's failure holds up none of the others (the daemon copies many
    /// meetings in one run and settles each webhook by its own meeting). `false` (sync,
    /// `verify --repair`): that meeting's error ends the run.
    pub by_uuid_keep_going: bool,
    /// What is listed from Zoom and what is taken from the stored listing.
    pub listing: ListingPolicy,
    /// Connections one file may use at once (segmented downloads); they come out of the
    /// run's transfers, only when those have nothing else to do.
    pub segments: crate::segments::Segments,
    /// A file is fetched in ranges only if it is at least twice this, and no range is split
    /// below it (bytes).
    pub min_segment: u64,
}

impl SyncOptions {
    pub fn new(from: Date, to: Date) -> Self {
        Self {
            users: UserSelection::Me,
            from,
            to,
            filters: Filters::default(),
            transfers: 4,
            adaptive: false,
            pipelining: true,
            bwlimit: None,
            verify_hash: false,
            dry_run: false,
            folder_template: zvm_naming::Namer::DEFAULT_FOLDER.to_string(),
            file_template: zvm_naming::Namer::DEFAULT_FILE.to_string(),
            summaries: true,
            participant_audio: true,
            retry: TransferRetry::default(),
            detail_concurrency: 16,
            chosen: None,
            by_uuid: None,
            by_uuid_keep_going: false,
            listing: ListingPolicy::default(),
            segments: crate::segments::Segments::Auto,
            min_segment: crate::segments::DEFAULT_MIN_SEGMENT,
        }
    }
}

/// A small glob: `*` any run, `?` one char. Enough for topic filters without a regex engine.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob_match("*standup*", "daily standup #3"));
        assert!(glob_match("week?", "week1"));
        assert!(!glob_match("week?", "week10"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acd"));
        assert!(glob_match("定例*", "定例会議"));
    }

    #[test]
    fn filters_compare_file_types_case_insensitively() {
        let mut f = Filters::default();
        assert!(f.wants_file_type("CHAT"));
        f.file_types.insert("MP4".into());
        assert!(f.wants_file_type("mp4"));
        assert!(!f.wants_file_type("CHAT"));
    }

    #[test]
    fn host_filter_takes_the_listing_s_host_or_zoom_s() {
        let m: zvm_zoom::models::Meeting = serde_json::from_value(serde_json::json!({
            "uuid": "u", "host_id": "HoSt1", "host_email": "Boss@Example.com"
        }))
        .unwrap();
        let mut f = Filters::default();
        assert!(f.wants_host("anyone", &m));
        f.host = Some("boss@example.com".into());
        assert!(f.wants_host("label", &m));
        f.host = Some("HoSt1".into());
        assert!(f.wants_host("label", &m));
        f.host = Some("host1".into());
        assert!(!f.wants_host("label", &m), "ids are exact");
        f.host = Some("LABEL".into());
        assert!(f.wants_host("label", &m));
        f.host = Some("other@example.com".into());
        assert!(!f.wants_host("label", &m));
    }

    #[test]
    fn retry_delay_grows_and_is_capped() {
        let r = TransferRetry {
            max_attempts: 5,
            max_throttled_waits: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
        };
        assert!(r.delay(1) <= Duration::from_millis(100));
        assert!(r.delay(10) <= Duration::from_millis(400));
        assert!(r.delay(10) >= Duration::from_millis(200));
    }
}
