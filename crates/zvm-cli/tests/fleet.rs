//! A fleet of `zvm serve` workers on one PostgreSQL state (issue 19): three real `zvm serve`
//! processes against the simulator in this process (Pro plan, its rate limits on, every
//! download connection capped so that transfers take seconds), writing to the S3-compatible
//! server `.ci/run` starts, their state in a schema of its own on the PostgreSQL server
//! `.ci/run` starts. A scheduled move is shared between them; one is killed with SIGKILL
//! while it copies. The bucket must then hold every file exactly once, byte-identical; no
//! file is downloaded twice unless it was in flight at the kill; each meeting is trashed in
//! Zoom exactly once; the rate limits are (all but) never hit.

#![allow(clippy::print_stderr)]

mod common;

#[path = "../../zvm-state-postgres/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod pg;

#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::Digest;
use tokio::io::{AsyncBufReadExt, BufReader};
use zoom_sim::{AccountSpec, FaultConfig, SimConfig, Simulator, WebhookEvent};

const MIB: u64 = 1 << 20;
const SECRET: &str = "fleet-test-secret";
/// Transfers per worker.
const TRANSFERS: usize = 2;

/// Pro's limits, enforced; files of 3 MiB that come at 1 MiB/s per connection.
fn account(meetings: u32) -> SimConfig {
    SimConfig {
        seed: 1919,
        plan: zoom_sim::Plan::Pro,
        account: AccountSpec {
            active_users: 2,
            inactive_users: 0,
            pending_users: 0,
            meetings,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(3 * MIB + 17),
            processing_fraction: 0.0,
            in_progress_fraction: 0.0,
            hostile_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            ..AccountSpec::default()
        },
        faults: FaultConfig {
            bandwidth_bps: MIB,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    }
}

/// One running worker.
struct Worker {
    id: String,
    /// `http://127.0.0.1:PORT`.
    base: String,
    child: tokio::process::Child,
    log: Arc<Mutex<String>>,
}

impl Worker {
    async fn start(
        sim: &Simulator,
        dir: &Path,
        id: &str,
        dest: &str,
        state: &str,
        extra: &[&str],
    ) -> Worker {
        let home = dir.join(id);
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = common::zvm_against(sim, &home);
        cmd.env("ZVM_LOG", "info")
            .env("ZVM_PLAN", "pro")
            .env("ZVM_TEST_FAST_RETRY", "1")
            .env("ZVM_WEBHOOK_SECRET_TOKEN", SECRET)
            .env("AWS_ACCESS_KEY_ID", s3::KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", s3::SECRET)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .args([
                "serve",
                dest,
                "--state",
                state,
                "--worker-id",
                id,
                "--lease-ttl",
                "6s",
                "--all-users",
                "--from",
                "2y",
                "--listen",
                "127.0.0.1:0",
                "-j",
                &TRANSFERS.to_string(),
                "--segments",
                "1",
            ])
            .args(extra);
        let mut child = cmd.spawn().expect("spawn zvm serve");
        let log = common::drain_stderr(&mut child);
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(Duration::from_secs(180), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{id} says where it listens"))
            .expect("read stdout");
        assert!(
            first.as_deref().is_some_and(|l| l.contains("listening")),
            "{id} did not start: {first:?}\n{}",
            log.lock().unwrap()
        );
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = first
            .unwrap_or_default()
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("an address")
            .to_owned();
        Worker {
            id: id.to_owned(),
            base,
            child,
            log,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// Polls `f` every 200 ms; the bound only ends a test that would otherwise hang.
async fn wait_for<F, Fut>(what: &str, workers: &[Worker], mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(600);
    while !f().await {
        if Instant::now() > deadline {
            for w in workers {
                eprintln!("---- {} ----\n{}", w.id, common::tail(&w.log()));
            }
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// SHA-256 (hex) of every object under the prefix but the meeting records, and how many
/// meeting records there are.
async fn bucket_contents(endpoint: &str, bucket: &str) -> (BTreeMap<String, Vec<String>>, usize) {
    let mut by_hash: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut records = 0;
    for key in s3::keys(endpoint, bucket).await {
        if key.ends_with("/meeting.json") {
            records += 1;
            continue;
        }
        let path = s3::encoded_key(&key);
        let bytes = s3::object(endpoint, bucket, &path)
            .await
            .unwrap_or_else(|| panic!("{key} listed but not readable"));
        by_hash
            .entry(hex::encode(sha2::Sha256::digest(&bytes)))
            .or_default()
            .push(key);
    }
    (by_hash, records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_move_everything_once_when_one_is_killed_mid_transfer() {
    let Some(endpoint) = s3::s3_endpoint("fleet of three") else {
        return;
    };
    let Some(db) = pg::TestDb::create("fleet_of_three").await else {
        return;
    };
    let meetings = 12;
    let sim = Simulator::start(account(meetings))
        .await
        .expect("simulator");
    let manifest = sim.manifest();
    let files: BTreeMap<String, (String, u64, String)> = manifest
        .files()
        .map(|(m, f)| (f.id.clone(), (m.uuid.clone(), f.size, f.sha256_hex())))
        .collect();
    assert_eq!(files.len(), meetings as usize, "one file per meeting");
    let dir = tempfile::tempdir().unwrap();
    let bucket = s3::new_bucket(&endpoint, "fleet").await;
    // Through the harness's proxy, which stores objects readable by the plain GETs below.
    let proxy = s3::Proxy::start(&endpoint, s3::Mode::Pass).await;
    let dest = format!(
        "s3://{bucket}/zoom?endpoint={}&region=us-east-1",
        proxy.endpoint
    );
    let state = db.url();

    let mut workers = Vec::new();
    for id in ["w1", "w2", "w3"] {
        // A move every minute, the next one first: the three workers are up by then.
        let schedule = ["--move-cron", "* * * * *", "--time-zone", "UTC"];
        workers.push(Worker::start(&sim, dir.path(), id, &dest, &state, &schedule).await);
    }
    wait_for("three live workers", &workers, || async {
        db.count("SELECT COUNT(*) FROM workers WHERE NOT stopped")
            .await
            == 3
    })
    .await;

    // A file part-way through its download: its meeting's holder is the victim.
    let deadline = Instant::now() + Duration::from_secs(600);
    let victim = 'found: loop {
        assert!(
            Instant::now() < deadline,
            "no worker was ever seen mid-transfer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stats = sim.stats();
        for (id, (meeting, size, _)) in &files {
            let served = stats.bytes_by_file.get(id).copied().unwrap_or(0);
            if served < MIB / 2 || served > size - MIB / 2 {
                continue;
            }
            let holder = db
                .count(&format!(
                    "SELECT COALESCE(MAX(substr(holder, 2)::BIGINT), 0) FROM work_leases
                     WHERE meeting_uuid = '{}' AND holder IS NOT NULL",
                    meeting.replace('\'', "''")
                ))
                .await;
            if holder > 0 {
                break 'found holder as usize - 1;
            }
        }
    };
    let killed = workers.remove(victim);
    let mut child = killed.child;
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "{} was killed by a signal", killed.id);
    // What may be fetched twice: every file asked of the CDN but not served whole when
    // the victim died (the victim's transfers, and the survivors' of that moment).
    let stats = sim.stats();
    let in_flight: BTreeSet<String> = files
        .iter()
        .filter(|(id, (_, size, _))| {
            let asked = stats.downloads.get(*id).copied().unwrap_or(0) > 0;
            let served = stats.bytes_by_file.get(*id).copied().unwrap_or(0);
            asked && served < *size
        })
        .map(|(id, _)| id.clone())
        .collect();

    // The survivors take over its meetings once its leases expire, and finish the move.
    wait_for("every meeting trashed", &workers, || async {
        sim.deletions().len() >= meetings as usize
            && db
                .count("SELECT COUNT(*) FROM work_leases WHERE NOT done OR holder IS NOT NULL")
                .await
                == 0
    })
    .await;

    // Every file exactly once in the bucket, byte-identical, and a record per meeting.
    let (by_hash, records) = bucket_contents(&endpoint, &bucket).await;
    for (id, (_, _, sha)) in &files {
        let keys = by_hash.get(sha).cloned().unwrap_or_default();
        assert_eq!(keys.len(), 1, "file {id}: objects with its bytes: {keys:?}");
    }
    assert_eq!(
        by_hash.len(),
        files.len(),
        "objects that are no file of the account: {by_hash:?}"
    );
    assert_eq!(records, meetings as usize, "one meeting.json per meeting");

    // Downloads: once per file, twice at most for what was in flight at the kill.
    let stats = sim.stats();
    let mut again = Vec::new();
    for id in files.keys() {
        let n = stats.downloads.get(id).copied().unwrap_or(0);
        assert!(n >= 1, "file {id} never downloaded");
        if n > 1 {
            assert!(
                n == 2 && in_flight.contains(id),
                "file {id} downloaded {n} times, in flight at the kill: {}",
                in_flight.contains(id)
            );
            again.push(id.clone());
        }
    }
    assert!(
        !again.is_empty(),
        "the killed worker was mid-transfer: its file must have been fetched again"
    );
    assert!(
        again.len() <= TRANSFERS + 1,
        "more files fetched twice ({again:?}) than one worker has in flight"
    );

    // Deletions: each meeting once, by one worker.
    let mut per_meeting: BTreeMap<String, u32> = BTreeMap::new();
    for d in sim.deletions() {
        assert_eq!(d.action, "trash", "{d:?}");
        *per_meeting.entry(d.meeting_uuid).or_default() += 1;
    }
    assert_eq!(
        per_meeting.len(),
        meetings as usize,
        "every meeting trashed"
    );
    assert!(
        per_meeting.values().all(|n| *n == 1),
        "a meeting trashed twice: {per_meeting:?}"
    );

    // The shared budget: the three paced at a third of Pro's limits each, they never sum
    // past a limit in any second, whatever their timing (zvm-zoom's `fleet_limit`). The
    // only slack is a worker's first second, paced at the share of the workers it saw
    // live when it started, until its first heartbeat (1 s here) counts the others: a
    // few requests, so a handful of 429s at worst.
    assert!(
        stats.rate_limited <= 3,
        "{} answers 429: the fleet's shared budget did not hold",
        stats.rate_limited
    );

    // A survivor's `/status` and `zvm status` show every worker: the killed one dead, with
    // no lease; the files and bytes of all three add up to at least what the bucket holds.
    let status: serde_json::Value = s3::client()
        .get(format!("{}/status", workers[0].base))
        .send()
        .await
        .expect("GET /status")
        .json()
        .await
        .expect("/status is JSON");
    let out = zvm_status(&sim, dir.path(), &state, true).await;
    out.expect_code(0, "zvm status on the fleet's state");
    let cli: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    for (what, fleet) in [("/status", &status["fleet"]), ("zvm status --json", &cli)] {
        let workers_seen = fleet["workers"].as_array().expect("workers");
        assert_eq!(workers_seen.len(), 3, "{what}: {fleet}");
        let mut files = 0;
        for w in workers_seen {
            let dead = w["id"] == killed.id.as_str();
            assert_eq!(w["live"], !dead, "{what}: {w}");
            if dead {
                assert_eq!(w["leases"], 0, "{what}: {w}");
            }
            files += w["files_copied"].as_u64().expect("files_copied");
        }
        // The killed worker's count is as of its last heartbeat: what it finished in its
        // last second (its transfers at most) may be missing.
        assert!(
            files >= u64::from(meetings) - TRANSFERS as u64,
            "{what}: {fleet}"
        );
        assert_eq!(fleet["work"]["open"], 0, "{what}: {fleet}");
    }
    let text = zvm_status(&sim, dir.path(), &state, false).await;
    text.expect_code(0, "zvm status as text");
    let row = |id: &str| {
        text.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no row for {id}:\n{}", text.stdout))
            .to_owned()
    };
    assert!(row(&killed.id).contains(" dead "), "{}", text.stdout);
    for w in &workers {
        assert!(row(&w.id).contains(" live "), "{}", text.stdout);
    }

    for w in workers {
        let mut c = w.child;
        let pid = c.id().expect("pid").to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let st = tokio::time::timeout(Duration::from_secs(120), c.wait())
            .await
            .expect("stops after SIGTERM")
            .expect("wait");
        let log = w.log.lock().unwrap().clone();
        assert_eq!(st.code(), Some(0), "{}:\n{}", w.id, common::tail(&log));
        assert!(!log.contains("panicked"), "{}", common::tail(&log));
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM workers WHERE stopped").await,
        2,
        "the two stopped cleanly"
    );
    db.drop_schema().await;
}

/// A webhook may reach any worker behind the load balancer, and Zoom's retry of it another
/// one: stored once, the meeting is copied once (by uuid: no listing), by whichever worker
/// leases it, and no other meeting is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_and_its_retry_at_two_workers_copy_the_meeting_once() {
    let Some(endpoint) = s3::s3_endpoint("fleet webhook") else {
        return;
    };
    let Some(db) = pg::TestDb::create("fleet_webhook").await else {
        return;
    };
    let sim = Simulator::start(account(3)).await.expect("simulator");
    let manifest = sim.manifest();
    let meeting = manifest.meetings[0].clone();
    let file = meeting.files[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let bucket = s3::new_bucket(&endpoint, "fleet-hook").await;
    let proxy = s3::Proxy::start(&endpoint, s3::Mode::Pass).await;
    let dest = format!(
        "s3://{bucket}/zoom?endpoint={}&region=us-east-1",
        proxy.endpoint
    );
    let state = db.url();
    let mut workers = Vec::new();
    for id in ["w1", "w2"] {
        workers.push(Worker::start(&sim, dir.path(), id, &dest, &state, &[]).await);
    }
    let body = sim
        .webhook_body(&WebhookEvent::RecordingCompleted {
            meeting_uuid: meeting.uuid.clone(),
        })
        .expect("a webhook body");
    for w in &workers {
        let status = sim
            .deliver_webhook(&format!("{}/zoom/webhook", w.base), SECRET, &body)
            .await
            .expect("delivered");
        assert_eq!(status, 200, "{}", w.id);
    }
    wait_for("the meeting copied", &workers, || async {
        db.count("SELECT COUNT(*) FROM work_leases WHERE done")
            .await
            == 1
    })
    .await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM webhook_events").await,
        1,
        "Zoom's retry is stored once"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM webhook_events WHERE status = 'done'")
            .await,
        1
    );
    let (by_hash, records) = bucket_contents(&endpoint, &bucket).await;
    assert_eq!(records, 1, "only that meeting's record");
    assert_eq!(
        by_hash.get(&file.sha256_hex()).map(Vec::len),
        Some(1),
        "its file once, byte-identical: {by_hash:?}"
    );
    assert_eq!(by_hash.len(), 1, "nothing else: {by_hash:?}");
    let stats = sim.stats();
    assert_eq!(stats.downloads.get(&file.id).copied(), Some(1));
    let listings: u64 = stats
        .requests
        .iter()
        .filter(|(route, _)| route.ends_with("/recordings") && !route.contains("/meetings/"))
        .map(|(_, by_status)| by_status.values().sum::<u64>())
        .sum();
    assert_eq!(listings, 0, "copied by uuid, with no listing");
    db.drop_schema().await;
}

/// Workers whose schedules differ are told (only one lists for the fleet): each one's log
/// warns, naming the other's settings, and `zvm status` warns with every live worker's.
/// A local folder as destination: what is compared is the schedules, not the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_with_different_schedules_are_warned() {
    let Some(db) = pg::TestDb::create("fleet_schedules_differ").await else {
        return;
    };
    let sim = Simulator::start(account(2)).await.expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("dest");
    let dest = dest.to_str().expect("a UTF-8 path");
    let state = db.url();
    let mut workers = vec![
        Worker::start(
            &sim,
            dir.path(),
            "w1",
            dest,
            &state,
            &["--sync-every", "1h"],
        )
        .await,
        Worker::start(
            &sim,
            dir.path(),
            "w2",
            dest,
            &state,
            &["--sync-every", "2h"],
        )
        .await,
    ];
    // Both registered their schedules before saying where they listen.
    let text = zvm_status(&sim, dir.path(), &state, false).await;
    text.expect_code(0, "zvm status as text");
    assert!(
        text.stdout
            .contains("warning: the live workers' schedules differ")
            && text.stdout.contains("  w1: sync every 3600s; move none")
            && text.stdout.contains("  w2: sync every 7200s; move none"),
        "{}",
        text.stdout
    );
    let json = zvm_status(&sim, dir.path(), &state, true).await;
    json.expect_code(0, "zvm status --json");
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("one JSON object");
    assert_eq!(v["schedules_differ"], true, "{v}");

    const WARNING: &str = "this worker's schedules differ from other live workers'";
    wait_for("both workers warned", &workers, || async {
        workers.iter().all(|w| w.log().contains(WARNING))
    })
    .await;
    assert!(
        workers[1].log().contains("w1: sync every 3600s; move none"),
        "{}",
        workers[1].log()
    );
    assert!(
        workers[0].log().contains("w2: sync every 7200s; move none"),
        "{}",
        workers[0].log()
    );

    for w in &mut workers {
        let _ = w.child.start_kill();
    }
    for w in &mut workers {
        let _ = w.child.wait().await;
    }
    db.drop_schema().await;
}

/// `zvm status` (`--json` when `json`) on the fleet's state `state`, run like the workers.
async fn zvm_status(sim: &Simulator, dir: &Path, state: &str, json: bool) -> common::RunOutput {
    let mut cmd = common::zvm_against(sim, dir);
    cmd.arg("status");
    if json {
        cmd.arg("--json");
    }
    cmd.args(["--state", state])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    common::run_cmd(cmd).await
}
