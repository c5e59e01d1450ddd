//! Segmented downloads against the simulator: a large file over several connections arrives
//! byte-identical; a reset resumes only the range it cut, from the byte where it cut it; a
//! CDN that ignores `Range` gets the file in one piece; a CDN that refuses connections beyond
//! its limit (429) is not asked again and again. What the client asked for is read from the
//! simulator's log of each CDN request's `Range` header, never from timing.
//!
//! Every simulator here caps each connection's bandwidth, so a file takes a second or more on
//! one connection however fast the machine is: the idle transfers always have the time to
//! join it. A slower machine only makes each step slower, never changes what is asserted.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rand::Rng;
use rand::SeedableRng;
use sha2::Digest;
use tokio_util::sync::CancellationToken;
use zoom_sim::{AccountSpec, CdnRequest, FaultConfig, SimConfig, Simulator};
use zvm_dest::LocalDestination;
use zvm_engine::{Engine, Event, Segments, SyncOptions};
use zvm_state::{FileStatus, SqliteState, StateStore};
use zvm_zoom::{ClientConfig, Plan};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// One meeting with one MP4 of `size` bytes, each CDN connection capped at `bps`.
async fn one_file(size: u64, faults: FaultConfig) -> Simulator {
    let mut cfg = SimConfig {
        account: AccountSpec {
            active_users: 1,
            inactive_users: 0,
            pending_users: 0,
            meetings: 1,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(size),
            processing_fraction: 0.0,
            hostile_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            in_progress_fraction: 0.0,
            ..AccountSpec::default()
        },
        faults,
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    Simulator::start(cfg).await.unwrap()
}

/// An engine on `sim` copying into `root`, keeping every event.
fn engine(sim: &Simulator, root: &std::path::Path) -> (Engine, Arc<SqliteState>, Events) {
    let zoom = common::client(
        sim,
        ClientConfig {
            plan: Plan::Unlimited,
            ..ClientConfig::default()
        },
    );
    let state = Arc::new(SqliteState::open(&root.join("state.sqlite3")).unwrap());
    let events: Events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let engine = Engine::new(
        zoom,
        state.clone(),
        Arc::new(LocalDestination::new(root.join("dest"))),
        Arc::new(move |e: Event| sink.lock().unwrap().push(e)),
    );
    (engine, state, events)
}

type Events = Arc<Mutex<Vec<Event>>>;

/// `transfers` fixed transfers, ranges of at least `min_segment`, fast retries.
fn options(transfers: usize, min_segment: u64) -> SyncOptions {
    let mut o = common::all_users_for_years(1);
    o.transfers = transfers;
    o.adaptive = false;
    o.segments = Segments::Auto;
    o.min_segment = min_segment;
    o.summaries = false;
    o.retry.base_delay = std::time::Duration::from_millis(5);
    o.retry.max_delay = std::time::Duration::from_millis(50);
    o
}

/// A `Range` header as (first byte, last byte or `None` for "to the end"); `None` for no header.
fn parse(r: &CdnRequest) -> Option<(u64, Option<u64>)> {
    let spec = r.range.as_deref()?.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()))
}

/// The file's CDN requests in arrival order, and the file's id and size.
fn requests(sim: &Simulator) -> (Vec<CdnRequest>, String, u64) {
    let m = sim.manifest();
    let (_, f) = m.files().next().unwrap();
    let log = sim
        .stats()
        .cdn_requests
        .get(&f.id)
        .cloned()
        .unwrap_or_default();
    (log, f.id.clone(), f.size)
}

/// The copy is the simulator's file byte for byte, verified in the state, with nothing
/// partial left behind.
async fn assert_copied(sim: &Simulator, root: &std::path::Path, state: &SqliteState) {
    let m = sim.manifest();
    let (meeting, f) = m.files().next().unwrap();
    let rows = state.files_of_meeting(&meeting.uuid).await.unwrap();
    let row = rows.iter().find(|r| r.key.file_id == f.id).unwrap();
    assert_eq!(row.status, FileStatus::Verified);
    let bytes = std::fs::read(root.join("dest").join(&row.rel_path)).unwrap();
    assert_eq!(bytes.len() as u64, f.size);
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        f.sha256_hex(),
        "the copy differs from Zoom's bytes"
    );
    assert_eq!(
        state.file_ranges(&row.key).await.unwrap(),
        None,
        "the ranges are forgotten once the file is verified"
    );
    let leftovers: Vec<_> = walk(&root.join("dest"))
        .into_iter()
        .filter(|p| p.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "partial files left: {leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_split_into_ranges_arrives_byte_identical() {
    // 6 MiB and a bit at 1 MiB/s per connection: six seconds on one connection.
    let sim = one_file(
        6 * MIB + 12_345,
        FaultConfig {
            bandwidth_bps: MIB,
            ..FaultConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, state, _) = engine(&sim, dir.path());
    let summary = engine
        .sync(&options(8, 256 * KIB), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((summary.files_downloaded, summary.files_failed), (1, 0));
    assert_copied(&sim, dir.path(), &state).await;

    let (log, _, size) = requests(&sim);
    let closed: Vec<(u64, u64)> = log
        .iter()
        .filter_map(parse)
        .filter_map(|(a, b)| Some((a, b?)))
        .collect();
    assert!(
        closed.len() >= 2,
        "the file was fetched over several connections: {log:?}"
    );
    // Each request starts where no other did: a connection joining takes the second half of
    // a range whose holder then stops short of it, so a start is never asked for twice.
    let starts: BTreeSet<u64> = log.iter().map(|r| parse(r).map_or(0, |(a, _)| a)).collect();
    assert_eq!(starts.len(), log.len(), "a start asked for twice: {log:?}");
    assert!(closed.iter().all(|&(a, b)| a <= b && b < size), "{log:?}");
    assert!(
        log.iter().all(|r| r.status == 200 || r.status == 206),
        "{log:?}"
    );
    sim.shutdown().await;
}

/// A fault seed whose first two dice, at probability `p`, both say "fault": the first two
/// CDN requests are reset whatever their order (the simulator rolls one die per request with
/// a body, from a ChaCha8 generator seeded with the fault seed).
fn seed_with_two_faults_first(p: f64) -> u64 {
    (0u64..)
        .find(|&s| {
            let mut dice = rand_chacha::ChaCha8Rng::seed_from_u64(s);
            dice.random_bool(p) && dice.random_bool(p)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_resumes_only_its_range_from_where_it_was_cut() {
    let cut = 64 * KIB;
    let sim = one_file(
        4 * MIB + 777,
        FaultConfig {
            seed: seed_with_two_faults_first(0.4),
            reset_prob: 0.4,
            reset_after_bytes: cut,
            bandwidth_bps: MIB,
            ..FaultConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, state, events) = engine(&sim, dir.path());
    let summary = engine
        .sync(&options(6, 256 * KIB), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((summary.files_downloaded, summary.files_failed), (1, 0));
    assert_copied(&sim, dir.path(), &state).await;

    let retries = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::FileRetry { .. }))
        .count();
    assert!(retries >= 2, "the first two requests were reset");
    let (log, _, _) = requests(&sim);
    let starts: Vec<u64> = log.iter().map(|r| parse(r).map_or(0, |(a, _)| a)).collect();
    // Nothing was asked for again from where it had been asked before: neither the range
    // that was reset (it resumes after the bytes that arrived) nor any other.
    let distinct: BTreeSet<u64> = starts.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        starts.len(),
        "a range was asked for again from its start: {log:?}"
    );
    // Each reset cut a response after exactly `cut` bytes, all of which arrived: the range
    // goes on from there. So at least one later request starts `cut` after an earlier one
    // for every reset.
    let resumed = starts
        .iter()
        .enumerate()
        .filter(|&(i, &s)| starts[..i].iter().any(|&e| e + cut == s))
        .count();
    assert!(
        resumed >= retries,
        "{retries} resets but only {resumed} requests resume {cut} bytes after an earlier one: {log:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_that_ignores_range_gets_the_file_in_one_piece() {
    let sim = one_file(
        3 * MIB + 5,
        FaultConfig {
            range_ignored_prob: 1.0,
            bandwidth_bps: MIB,
            ..FaultConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, state, _) = engine(&sim, dir.path());
    let summary = engine
        .sync(&options(8, 256 * KIB), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((summary.files_downloaded, summary.files_failed), (1, 0));
    assert_copied(&sim, dir.path(), &state).await;

    let (log, _, _) = requests(&sim);
    let ignored = log
        .iter()
        .filter(|r| r.status == 200 && parse(r).is_some_and(|(_, b)| b.is_some()))
        .count();
    assert!(ignored >= 1, "a range was asked for and ignored: {log:?}");
    // After the first ignored range no range is split off again: what follows asks for the
    // file from a point to its end, one request at a time.
    let first = log
        .iter()
        .position(|r| r.status == 200 && parse(r).is_some_and(|(_, b)| b.is_some()))
        .unwrap();
    let later_closed = log[first + 1..]
        .iter()
        .filter(|r| parse(r).is_some_and(|(_, b)| b.is_some()))
        .count();
    // Connections that had split a range before the verdict may still have been asking.
    assert!(
        later_closed <= 7,
        "ranges kept being split after the CDN ignored one: {log:?}"
    );
    assert!(
        log.len() <= 10,
        "one piece after the fallback, not a request per range: {log:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_that_refuses_more_connections_is_obeyed() {
    // Two connections at once; 6 MiB at 1 MiB/s each is three seconds with both, in which a
    // client that kept knocking once a second with six more would collect over a dozen 429s.
    let sim = one_file(
        6 * MIB + 3,
        FaultConfig {
            max_downloads: 2,
            bandwidth_bps: MIB,
            ..FaultConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, state, _) = engine(&sim, dir.path());
    let summary = engine
        .sync(&options(8, 256 * KIB), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((summary.files_downloaded, summary.files_failed), (1, 0));
    assert_copied(&sim, dir.path(), &state).await;
    let (log, _, _) = requests(&sim);
    let refused = log.iter().filter(|r| r.status == 429).count();
    assert!(refused >= 1, "the limit was met: {log:?}");
    // Each of the seven idle transfers may have asked once before the first 429 was known.
    assert!(
        refused <= 7,
        "{refused} answers of 429: the limit was not obeyed: {log:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_file_is_never_split() {
    // Under twice the minimum segment: one request, no Range, as before segments existed.
    let sim = one_file(
        MIB,
        FaultConfig {
            bandwidth_bps: MIB,
            ..FaultConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, state, _) = engine(&sim, dir.path());
    let summary = engine
        .sync(&options(8, 512 * KIB + 1), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(summary.files_downloaded, 1);
    assert_copied(&sim, dir.path(), &state).await;
    let (log, _, _) = requests(&sim);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].range, None);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_storm_in_ranges_still_copies_exactly() {
    // Resets, truncated bodies, pauses and 5xx answers to API calls, all at once, on every
    // range: the run finishes the copy itself.
    let sim = one_file(
        5 * MIB + 321,
        FaultConfig {
            seed: 7,
            reset_prob: 0.15,
            reset_after_bytes: 100 * KIB,
            truncate_prob: 0.15,
            stall_prob: 0.1,
            stall_secs: 0.3,
            api_5xx_prob: 0.1,
            bandwidth_bps: 2 * MIB,
            ..FaultConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, state, _) = engine(&sim, dir.path());
    let summary = engine
        .sync(&options(6, 256 * KIB), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((summary.files_downloaded, summary.files_failed), (1, 0));
    assert_copied(&sim, dir.path(), &state).await;
    let (log, _, _) = requests(&sim);
    assert!(
        log.iter().filter(|r| parse(r).is_some()).count() >= 2,
        "fetched in ranges: {log:?}"
    );
    sim.shutdown().await;
}
