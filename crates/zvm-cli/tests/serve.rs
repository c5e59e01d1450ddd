//! `zvm serve`, the real binary against the simulator (real HTTP on loopback, real SQLite,
//! a real folder):
//! - SIGKILL right after Zoom's webhook was answered 200: the event is in the state, and the
//!   next start copies the meeting (by uuid, no listing); `/metrics` then counts the API
//!   requests, files and bytes of that run exactly as the simulator saw them;
//! - SIGTERM mid-transfer: exit 0, the `.part` kept and the event still queued; the next
//!   start resumes the `.part` (a ranged request) and finishes;
//! - a schedule missed while the daemon was down runs once at start, not once per missed
//!   time, and not at all when it was not missed (read from the `--log-format json` log).
//! - `[serve] time_zone`: a cron expression's next time (in `/status`) is on that zone's
//!   clock; a zone the system does not know stops the start with exit 2, naming the key.
//! - a webhook's `download_token`: the meeting's downloads use it (the simulator counts
//!   what it let through), it is in neither the debug log nor the state file; once expired
//!   at Zoom, the downloads go on with the OAuth token.
//! - into S3 (the `s3` feature, the server at `ZVM_TEST_S3_ENDPOINT`) with the keys, endpoint
//!   and region only in config.toml's `[remote.s3]`: a webhook's meeting is copied into the
//!   bucket through the file's endpoint, every file with Zoom's bytes, and the secret is
//!   shown nowhere.

#![allow(clippy::print_stderr)]

mod common;

// The S3 harness brings its own copy of the skip rule (`common` has one too): two modules
// of one file, each private to its parent.
#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use zoom_sim::{AccountSpec, FaultConfig, ManifestMeeting, SimConfig, Simulator, WebhookEvent};
use zvm_state::{SqliteState, WebhookStatus};

const SECRET: &str = "serve-test-secret";

fn account(seed: u64, meetings: u32, size: u64) -> SimConfig {
    let mut cfg = SimConfig {
        seed,
        plan: zoom_sim::Plan::Business,
        account: AccountSpec {
            active_users: 1,
            inactive_users: 0,
            pending_users: 0,
            meetings,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(size),
            processing_fraction: 0.0,
            in_progress_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            ..AccountSpec::default()
        },
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    cfg
}

/// A running `zvm serve`.
struct Serve {
    child: tokio::process::Child,
    base: String,
    stderr: Arc<Mutex<String>>,
    /// Everything it wrote to stdout so far.
    stdout: Arc<Mutex<String>>,
}

impl Serve {
    async fn start(sim: &Simulator, dir: &Path, extra: &[&str]) -> Serve {
        Serve::start_logging(sim, dir, extra, "info").await
    }

    /// Started with the log filter `ZVM_LOG=log`.
    async fn start_logging(sim: &Simulator, dir: &Path, extra: &[&str], log: &str) -> Serve {
        let dest = dir.join("dest").display().to_string();
        Serve::spawn(sim, dir, &dest, extra, log, |_| {})
            .await
            .unwrap_or_else(|stderr| panic!("zvm serve ended: {stderr}"))
    }

    /// `zvm serve DEST` with the log filter `ZVM_LOG=log`, its command shaped by `env` before
    /// the spawn. `Err`: it ended before it listened, with this log.
    async fn spawn(
        sim: &Simulator,
        dir: &Path,
        dest: &str,
        extra: &[&str],
        log: &str,
        env: impl FnOnce(&mut tokio::process::Command),
    ) -> Result<Serve, String> {
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = common::zvm_against(sim, &home);
        cmd.env("ZVM_LOG", log)
            .env("ZVM_PLAN", "business")
            .env("ZVM_WEBHOOK_SECRET_TOKEN", SECRET)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .args([
                "serve",
                dest,
                "--all-users",
                "--from",
                "2y",
                "--state",
                &dir.join("state.sqlite3").display().to_string(),
                "--listen",
                "127.0.0.1:0",
                "-j",
                "1",
                "--segments",
                "1",
            ])
            .args(extra);
        env(&mut cmd);
        let mut child = cmd.spawn().expect("spawn zvm serve");
        // Drain stderr (the log) so that the pipe never fills.
        let stderr = common::drain_stderr(&mut child);
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .expect("zvm serve says where it listens")
            .expect("read stdout");
        let Some(line) = line else {
            let _ = child.wait().await;
            // Let the drain task take the last lines.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err(stderr.lock().unwrap().clone());
        };
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        let stdout = Arc::new(Mutex::new(format!("{line}\n")));
        let more = stdout.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                let mut out = more.lock().unwrap();
                out.push_str(&l);
                out.push('\n');
            }
        });
        Ok(Serve {
            child,
            base,
            stderr,
            stdout,
        })
    }

    fn webhook_url(&self) -> String {
        format!("{}/zoom/webhook", self.base)
    }

    /// Zoom's `recording.completed` for `meeting`, signed with the app's secret; serve must
    /// take it (200).
    async fn completed(&self, sim: &Simulator, meeting: &ManifestMeeting) {
        let status = sim
            .send_webhook(
                &self.webhook_url(),
                SECRET,
                WebhookEvent::RecordingCompleted {
                    meeting_uuid: meeting.uuid.clone(),
                },
            )
            .await
            .expect("webhook");
        assert_eq!(status, 200);
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("pid").to_string();
        assert!(
            Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// SIGTERM, then the exit code, how long it took, and the log.
    async fn terminate(mut self) -> (Option<i32>, Duration, String) {
        self.signal("-TERM");
        let sent = Instant::now();
        let status = tokio::time::timeout(Duration::from_secs(120), self.child.wait())
            .await
            .expect("zvm serve stops after SIGTERM")
            .expect("wait");
        let took = sent.elapsed();
        // Let the drain task take the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let log = self.stderr.lock().unwrap().clone();
        assert!(!log.contains("panicked"), "{}", common::tail(&log));
        (status.code(), took, log)
    }
}

fn the_meeting(sim: &Simulator) -> ManifestMeeting {
    sim.manifest()
        .meetings
        .into_iter()
        .next()
        .expect("a meeting")
}

/// Polls `f` every 100 ms; the bound only ends a test that would otherwise hang.
async fn wait_for<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(180);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn event_done(state_file: &Path) -> bool {
    let st = SqliteState::open(state_file).expect("state");
    st.webhook_counts().await.expect("counts").done == 1
}

fn listing_requests(sim: &Simulator) -> u64 {
    sim.stats()
        .requests
        .iter()
        .filter(|(route, _)| {
            (route.ends_with("/recordings") && !route.contains("/meetings/"))
                || route.contains("meeting_summaries")
                || route.as_str() == "GET /v2/users"
        })
        .map(|(_, s)| s.values().sum::<u64>())
        .sum()
}

fn api_requests(sim: &Simulator) -> u64 {
    sim.stats()
        .requests
        .iter()
        .filter(|(route, _)| route.contains(" /v2/"))
        .map(|(_, s)| s.values().sum::<u64>())
        .sum()
}

/// The copy of the meeting's one file is complete and byte-identical; returns its path.
async fn check_copied(state_file: &Path, dest: &Path, m: &ManifestMeeting) -> std::path::PathBuf {
    use zvm_state::StateStore;
    let st = SqliteState::open(state_file).expect("state");
    let f = &m.files[0];
    let row = st
        .file(&zvm_state::FileKey::new(&m.uuid, &f.id))
        .await
        .unwrap()
        .expect("the file has a state row");
    assert_eq!(row.status, zvm_state::FileStatus::Verified);
    let path = dest.join(&row.rel_path);
    let bytes = std::fs::read(&path).expect("the copy");
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        f.sha256_hex()
    );
    path
}

fn parts_under(dir: &Path) -> Vec<(std::path::PathBuf, u64)> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".part"))
        .map(|p| {
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            (p, len)
        })
        .collect()
}

async fn scrape(base: &str) -> BTreeMap<String, f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text format");
    scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let v = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            let mut labels: Vec<String> =
                s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            Some((format!("{}{{{}}}", s.metric, labels.join(",")), v))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_200_loses_no_event_and_the_next_start_copies_the_meeting() {
    const SIZE: u64 = 4 << 20;
    let mut cfg = account(161, 3, SIZE);
    // 4 MiB at 1 MB/s: the copy cannot be done when the kill lands.
    cfg.faults.bandwidth_bps = 1_000_000;
    let sim = Simulator::start(cfg).await.expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.sqlite3");
    let meeting = the_meeting(&sim);

    let mut first = Serve::start(&sim, dir.path(), &[]).await;
    first.completed(&sim, &meeting).await;
    first.child.start_kill().expect("SIGKILL");
    let killed = first.child.wait().await.unwrap();
    assert_eq!(killed.code(), None, "killed by the signal");

    // The event was in the state before the 200, so it survived the kill.
    {
        let st = SqliteState::open(&state_file).unwrap();
        let rows = st.webhook_events().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, WebhookStatus::Queued);
        assert_eq!(rows[0].meeting_uuid.as_deref(), Some(meeting.uuid.as_str()));
    }

    sim.set_faults(FaultConfig::default());
    let api_before = api_requests(&sim);
    let second = Serve::start(&sim, dir.path(), &[]).await;
    wait_for("the queued event to be done", || event_done(&state_file)).await;
    let copy = check_copied(&state_file, &dir.path().join("dest"), &meeting).await;
    assert_eq!(listing_requests(&sim), 0, "copied by uuid, with no listing");
    // The other meetings were not touched.
    assert_eq!(
        common::files_under(&dir.path().join("dest"))
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
            .count(),
        1,
        "{copy:?}"
    );

    // /metrics counts this process's work exactly as the simulator saw it.
    let m = scrape(&second.base).await;
    let api_total: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("zvm_api_requests_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        api_total,
        (api_requests(&sim) - api_before) as f64,
        "{m:#?}"
    );
    assert!(
        m.keys()
            .any(|k| k.starts_with("zvm_api_requests_total{category=light,status=200")),
        "{m:#?}"
    );
    assert!(
        m.keys()
            .any(|k| k.starts_with("zvm_api_request_duration_seconds"))
            || m.keys().any(|k| k.contains("duration")),
        "latency histogram: {m:#?}"
    );
    assert_eq!(m["zvm_files_copied_total{}"], 1.0, "{m:#?}");
    assert_eq!(m["zvm_bytes_copied_total{}"], SIZE as f64, "{m:#?}");
    assert_eq!(m["zvm_api_rate_limited_total{}"], 0.0);
    assert_eq!(m["zvm_queue_depth{}"], 0.0);

    let (code, took, log) = second.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
    eprintln!("idle zvm serve stopped {took:?} after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_transfer_exits_0_and_the_next_start_resumes_the_part() {
    const SIZE: u64 = 4 << 20;
    let mut cfg = account(162, 2, SIZE);
    cfg.faults.bandwidth_bps = 1_000_000;
    let sim = Simulator::start(cfg).await.expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.sqlite3");
    let dest = dir.path().join("dest");
    let meeting = the_meeting(&sim);
    let file_id = meeting.files[0].id.clone();

    let first = Serve::start(&sim, dir.path(), &[]).await;
    first.completed(&sim, &meeting).await;
    wait_for("a quarter of the file to arrive", || async {
        sim.stats().bytes_served >= SIZE / 4
    })
    .await;
    let (code, took, log) = first.terminate().await;
    eprintln!("zvm serve stopped {took:?} after SIGTERM mid-transfer");
    assert_eq!(code, Some(0), "{}", common::tail(&log));

    let parts = parts_under(&dest);
    assert_eq!(parts.len(), 1, "the .part is kept: {parts:?}");
    let kept = parts[0].1;
    assert!(kept > 0 && kept < SIZE, "kept {kept} bytes");
    {
        let st = SqliteState::open(&state_file).unwrap();
        let rows = st.webhook_events().await.unwrap();
        assert_eq!(
            rows[0].status,
            WebhookStatus::Queued,
            "the event waits for the next start"
        );
        assert_eq!(rows[0].attempts, 0, "a stop is not a failed attempt");
    }

    sim.set_faults(FaultConfig::default());
    let second = Serve::start(&sim, dir.path(), &[]).await;
    wait_for("the queued event to be done", || event_done(&state_file)).await;
    check_copied(&state_file, &dest, &meeting).await;
    assert!(parts_under(&dest).is_empty());
    // Resumed: the last request for the file asked for the bytes after what was kept.
    let requests = sim
        .stats()
        .cdn_requests
        .get(&file_id)
        .cloned()
        .unwrap_or_default();
    let last = requests.last().expect("CDN requests for the file");
    let range = last.range.clone().unwrap_or_default();
    let start: u64 = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        start > 0 && start <= kept,
        "resumed from {range:?}, {kept} bytes were kept; {requests:?}"
    );
    let (code, _, log) = second.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
}

/// The scheduled runs that started, read from the JSON log.
fn scheduled_starts(log: &str) -> usize {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "scheduled run starts" && v["job"] == "sync")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_missed_while_down_runs_once_at_start() {
    let sim = Simulator::start(account(163, 3, 50_000))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.sqlite3");
    let args = ["--sync-every", "1h", "--log-format", "json"];
    let last_sync = || async {
        SqliteState::open(&state_file)
            .unwrap()
            .last_scheduled_run("sync")
            .await
            .unwrap()
    };

    // Never ran: an interval schedule runs at the first start.
    let first = Serve::start(&sim, dir.path(), &args).await;
    wait_for("the first scheduled sync", || async {
        last_sync().await.is_some()
    })
    .await;
    let (code, _, log) = first.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
    assert_eq!(scheduled_starts(&log), 1, "{}", common::tail(&log));
    assert!(listing_requests(&sim) > 0, "a scheduled sync lists");

    // Down for three hours (three missed times): the next start runs it once.
    let three_hours_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(3);
    SqliteState::open(&state_file)
        .unwrap()
        .record_scheduled_run("sync", &three_hours_ago.to_string())
        .await
        .unwrap();
    let restarted = jiff::Timestamp::now();
    let second = Serve::start(&sim, dir.path(), &args).await;
    wait_for("the caught-up sync", || async {
        last_sync()
            .await
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .is_some_and(|t| t >= restarted)
    })
    .await;
    let listed = listing_requests(&sim);
    // Time for a second run, if there were to be one (the next is due in an hour).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (code, _, log) = second.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
    assert_eq!(
        scheduled_starts(&log),
        1,
        "caught up once: {}",
        common::tail(&log)
    );
    assert_eq!(listing_requests(&sim), listed, "no second run");

    // Not missed (ran minutes ago): no run at start.
    let third = Serve::start(&sim, dir.path(), &args).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (code, _, log) = third.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
    assert_eq!(scheduled_starts(&log), 0, "{}", common::tail(&log));
    assert_eq!(listing_requests(&sim), listed);
}

/// Writes `[serve]` settings into the config.toml that `Serve::start`'s zvm reads.
fn write_serve_config(dir: &Path, serve_section: &str) {
    let config_dir = dir.join("home").join("config").join("zvm");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!("[serve]\n{serve_section}"),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_expressions_follow_the_configured_time_zone() {
    let sim = Simulator::start(account(164, 1, 10_000))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    write_serve_config(
        dir.path(),
        "move_cron = \"0 3 * * *\"\ntime_zone = \"Asia/Tokyo\"\n",
    );
    let before = jiff::Timestamp::now();
    let serve = Serve::start(&sim, dir.path(), &[]).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status: serde_json::Value = reqwest::get(format!("{}/status", serve.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (code, _, log) = serve.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
    let next: jiff::Timestamp = status["schedules"]["move"]["next"]
        .as_str()
        .unwrap_or_else(|| panic!("no next move in {status}"))
        .parse()
        .unwrap();
    // The next 03:00 on Tokyo's clock (18:00 UTC), within the coming day.
    let in_tokyo = next.to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap());
    assert_eq!(
        (in_tokyo.hour(), in_tokyo.minute(), in_tokyo.second()),
        (3, 0, 0),
        "{next} is {in_tokyo}"
    );
    assert!(next > before && next <= before + jiff::SignedDuration::from_hours(24));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_time_zone_is_refused_at_start_with_exit_2() {
    let sim = Simulator::start(account(165, 1, 10_000))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    write_serve_config(
        dir.path(),
        "move_cron = \"0 3 * * *\"\ntime_zone = \"Mars/Olympus_Mons\"\n",
    );
    let home = dir.path().join("home");
    let out = common::zvm_against(&sim, &home)
        .env("ZVM_WEBHOOK_SECRET_TOKEN", SECRET)
        .args([
            "serve",
            &dir.path().join("dest").display().to_string(),
            "--all-users",
            "--state",
            &dir.path().join("state.sqlite3").display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .await
        .expect("run zvm serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("time_zone")
            && stderr.contains("Mars/Olympus_Mons")
            && stderr.contains("Europe/Berlin"),
        "says what, where and how to fix: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening"),
        "it did not start"
    );
}

/// Whether `needle` occurs in the file (and its WAL, where SQLite's last writes are).
fn file_contains(path: &Path, needle: &str) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), std::path::PathBuf::from(wal)]
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

/// The `recording.completed` body of `m` and the `download_token` in it.
fn completed_with_token(sim: &Simulator, m: &ManifestMeeting) -> (String, String) {
    let body = sim
        .webhook_body(&WebhookEvent::RecordingCompleted {
            meeting_uuid: m.uuid.clone(),
        })
        .expect("envelope");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = v["download_token"].as_str().expect("a token").to_owned();
    (body, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_s_download_token_downloads_its_meeting_and_is_never_logged_or_stored() {
    let sim = Simulator::start(account(162, 2, 64 << 10))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.sqlite3");
    let meeting = the_meeting(&sim);
    let (body, token) = completed_with_token(&sim, &meeting);

    let serve = Serve::start_logging(&sim, dir.path(), &[], "debug").await;
    let status = sim
        .deliver_webhook(&serve.webhook_url(), SECRET, &body)
        .await
        .expect("webhook");
    assert_eq!(status, 200);
    wait_for("the event to be done", || event_done(&state_file)).await;
    check_copied(&state_file, &dir.path().join("dest"), &meeting).await;
    // Every download of the meeting went with the webhook's token, none with the OAuth one.
    let stats = sim.stats();
    assert!(stats.download_requests() > 0);
    assert_eq!(
        stats.count(zoom_sim::download::BY_DOWNLOAD_TOKEN),
        stats.download_requests(),
        "{:?}",
        stats.requests
    );
    let (code, _, log) = serve.terminate().await;
    assert_eq!(code, Some(0));
    assert!(log.contains("DEBUG"), "the log is at debug level");
    assert!(!log.contains(&token), "the download token is in the log");
    assert!(
        !file_contains(&state_file, &token),
        "the download token is in the state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_download_token_falls_back_to_the_oauth_token() {
    let sim = Simulator::start(account(163, 2, 64 << 10))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.sqlite3");
    let meeting = the_meeting(&sim);
    let (body, _) = completed_with_token(&sim, &meeting);
    let serve = Serve::start(&sim, dir.path(), &[]).await;
    // A day and an hour later at Zoom the token has expired; the daemon cannot know it
    // (its clock says the event is new), so it offers the token first.
    sim.advance_clock(25 * 3600);
    // Signed on the daemon's clock: the simulator's is a day ahead now.
    let ts = jiff::Timestamp::now().as_second().to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::Client::new()
        .post(serve.webhook_url())
        .header("content-type", "application/json")
        .header("x-zm-request-timestamp", &ts)
        .header(
            "x-zm-signature",
            zoom_sim::webhook::signature(SECRET, &ts, &body),
        )
        .body(body.clone())
        .send()
        .await
        .expect("webhook");
    assert_eq!(r.status(), 200);
    wait_for("the event to be done", || event_done(&state_file)).await;
    check_copied(&state_file, &dir.path().join("dest"), &meeting).await;
    let stats = sim.stats();
    assert_eq!(
        stats.count(zoom_sim::download::BY_DOWNLOAD_TOKEN),
        0,
        "{:?}",
        stats.requests
    );
    // The token was tried: Zoom's "only the host" page (200) answered it once per file.
    let pages = stats
        .requests
        .get("GET /rec/download/{id}")
        .and_then(|by| by.get(&200u16))
        .copied()
        .unwrap_or(0);
    assert!(pages >= 1, "{:?}", stats.requests);
    let (code, _, _) = serve.terminate().await;
    assert_eq!(code, Some(0));
}

/// `zvm serve s3://BUCKET/PREFIX` with the S3 login (keys, endpoint, region) only in
/// config.toml's `[remote.s3]` and none of the AWS variables in its environment: a
/// `recording.completed` webhook's meeting goes into the bucket through the file's endpoint
/// (a counting proxy in front of the test server), every file under the name the state
/// gives it with Zoom's size and bytes (read back from the server with plain GETs), nothing
/// else of the account; SIGTERM stops it with exit 0; the secret is in neither its stdout,
/// its log, nor its state or audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_into_s3_with_the_login_only_in_config_toml_copies_a_webhook_s_meeting() {
    use zvm_state::StateStore;
    let Some(endpoint) = support::s3_endpoint("zvm serve into s3 with the login in config.toml")
    else {
        return;
    };
    // Meetings of every file type (not one MP4 each), none still processing.
    let mut cfg = account(166, 3, 0);
    cfg.account.files_per_meeting = None;
    cfg.account.file_size = None;
    let sim = Simulator::start(cfg).await.expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.sqlite3");
    let meeting = the_meeting(&sim);
    assert!(meeting.files.len() > 1, "{:?}", meeting.files);

    let bucket = support::new_bucket(&endpoint, "serve").await;
    let via_file = support::Proxy::start(&endpoint, support::Mode::Pass).await;
    // The config.toml that `Serve::spawn`'s zvm reads (XDG_CONFIG_HOME under its home).
    let config_dir = dir.path().join("home").join("config").join("zvm");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("config.toml");
    common::write_config(
        &config,
        &format!(
            "[remote.s3]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n",
            support::KEY_ID,
            support::SECRET,
            via_file.endpoint
        ),
        0o600,
    );

    const PREFIX: &str = "served";
    let dest = format!("s3://{bucket}/{PREFIX}");
    // `zvm_against` starts from an empty environment; the AWS variables are removed by name
    // too, so that the login can only come from the file.
    let started = Serve::spawn(&sim, dir.path(), &dest, &[], "debug", |cmd| {
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
        ] {
            cmd.env_remove(var);
        }
    })
    .await;
    let serve = match started {
        Ok(serve) => serve,
        Err(log) if log.contains("built without s3:// support") => {
            support::skip_or_fail("this zvm was built without the s3 feature");
            return;
        }
        Err(log) => panic!("zvm serve into {dest} ended at start: {log}"),
    };
    serve.completed(&sim, &meeting).await;
    wait_for("the event to be done", || event_done(&state_file)).await;
    let stdout = serve.stdout.clone();
    let (code, _, log) = serve.terminate().await;
    assert_eq!(code, Some(0), "{}", common::tail(&log));
    assert!(log.contains("DEBUG"), "the log is at debug level");

    // Every file of the meeting is in the bucket, under the name its state row gives, with
    // Zoom's size and bytes.
    let st = SqliteState::open(&state_file).expect("state");
    let mut expected = Vec::new();
    for f in &meeting.files {
        let row = st
            .file(&zvm_state::FileKey::new(&meeting.uuid, &f.id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{} ({}) has no state row", f.id, f.file_type));
        assert_eq!(row.status, zvm_state::FileStatus::Verified, "{row:?}");
        let key = format!("{PREFIX}/{}", row.rel_path);
        let bytes = support::object(&endpoint, &bucket, &support::encoded_key(&key))
            .await
            .unwrap_or_else(|| panic!("{key} ({}) is not in the bucket", f.file_type));
        assert_eq!(bytes.len() as u64, f.size, "{key}");
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            f.sha256_hex(),
            "{key}"
        );
        expected.push(key);
    }
    // Nothing else of the account: only the meeting's files and its meeting.json record.
    let stored = support::keys(&endpoint, &bucket).await;
    for key in &stored {
        assert!(
            expected.contains(key) || key.ends_with("/meeting.json"),
            "{key} is in the bucket: {stored:?}"
        );
    }
    assert!(
        via_file.uploads() >= expected.len() as u64,
        "uploaded through config.toml's endpoint: {} uploads",
        via_file.uploads()
    );
    eprintln!(
        "{} files ({} bytes) copied into s3 with {} uploads through config.toml's endpoint; the bucket holds {stored:?}",
        expected.len(),
        meeting.files.iter().map(|f| f.size).sum::<u64>(),
        via_file.uploads()
    );

    let stdout = stdout.lock().unwrap().clone();
    assert!(stdout.contains("listening on"), "{stdout}");
    for (what, text) in [("stdout", &stdout), ("log", &log)] {
        let showing: Vec<String> = text
            .lines()
            .filter(|l| l.contains(support::SECRET))
            .map(|l| l.replace(support::SECRET, "<THE SECRET>"))
            .collect();
        assert!(showing.is_empty(), "the secret is in {what}: {showing:#?}");
    }
    let audit = dir.path().join("audit.jsonl");
    for file in [&state_file, &audit] {
        assert!(
            !file_contains(file, support::SECRET),
            "the secret is in {}",
            file.display()
        );
    }
}
