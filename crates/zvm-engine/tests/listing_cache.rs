//! The listing cache end to end: real HTTP to the simulator, a real SQLite state, the
//! run's clock set by the test (`ListingPolicy::now`), so which months are recent or due is
//! fixed whatever day the test runs. Request counts come from the simulator's stats.
//!
//! The account ends on 2025-06-20; the runs happen just after. With the default 30 recent
//! days, May and June 2025 are the recent months, listed on every run; the 23 months before
//! (June 2023 to April 2025) come from the stored listing until it is 7 days old.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use zoom_sim::{AccountSpec, CloudState as SimCloud, Manifest, SimConfig, Simulator, Stats};
use zvm_dest::LocalDestination;
use zvm_engine::{Engine, Event, SyncOptions, UserSelection};
use zvm_state::{CloudState, SqliteState, StateStore};
use zvm_zoom::{ClientConfig, DeleteAction, Plan};

/// The run clock of the first run: an hour after the account's last meeting.
const T0: &str = "2025-06-21T00:00:00Z";
/// Months in the runs' range (June 2023 to June 2025) and the recent ones (May, June 2025).
const MONTHS: u64 = 25;
const RECENT: u64 = 2;
/// Users with recordings: one active, one deactivated.
const USERS: u64 = 2;

fn account(seed: u64) -> SimConfig {
    let mut cfg = SimConfig {
        seed,
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    // These tests are about the cache of the users' listings (what `me`, one user and an
    // account that refuses the account-wide listing use): the account listing is refused,
    // so every run lists the users, as `account_listing.rs` in the CLI's tests checks.
    cfg.access.account_listing = zoom_sim::ListingAccess::Scope4711;
    cfg.account = AccountSpec {
        active_users: 1,
        inactive_users: 1,
        pending_users: 0,
        meetings: 80,
        years: 2,
        end_date: Some("2025-06-20".into()),
        mp4_size: (2 << 10, 16 << 10),
        small_size: (100, 2 << 10),
        processing_fraction: 0.012,
        hostile_fraction: 0.2,
        summary_fraction: 0.3,
        participant_audio_fraction: 0.3,
        in_progress_fraction: 0.0,
        ..AccountSpec::default()
    };
    cfg
}

/// An engine on `sim` whose events are kept for the test to read.
fn engine(sim: &Simulator, root: &Path, state: &Path) -> (Engine, Arc<SqliteState>, Events) {
    let zoom = common::client(
        sim,
        ClientConfig {
            plan: Plan::Unlimited,
            ..ClientConfig::default()
        },
    );
    let state = Arc::new(SqliteState::open(state).expect("state opens"));
    let events: Events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let engine = Engine::new(
        zoom,
        state.clone(),
        Arc::new(LocalDestination::new(root.to_path_buf())),
        Arc::new(move |e: Event| sink.lock().unwrap().push(e)),
    );
    (engine, state, events)
}

type Events = Arc<Mutex<Vec<Event>>>;

/// Every user's recordings from June 2023 to the account's end, at the run clock `now`.
fn opts(now: &str) -> SyncOptions {
    let mut o = SyncOptions::new(
        jiff::civil::date(2023, 6, 1),
        jiff::civil::date(2025, 6, 20),
    );
    o.users = UserSelection::AllUsers;
    o.listing.now = Some(now.parse().expect("time"));
    o
}

/// `T0` plus `secs` seconds, as the run clock.
fn at(secs: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    t.checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap()
        .to_string()
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Requests per route (and downloads per file id) sent between two stats snapshots.
struct Sent {
    routes: BTreeMap<String, u64>,
    downloads: BTreeSet<String>,
}

impl Sent {
    fn between(before: &Stats, after: &Stats) -> Sent {
        let mut routes = BTreeMap::new();
        for route in after.requests.keys() {
            let n = after.count(route) - before.count(route);
            if n > 0 {
                routes.insert(route.clone(), n);
            }
        }
        let downloads = after
            .downloads
            .iter()
            .filter(|(id, n)| before.downloads.get(*id) != Some(*n))
            .map(|(id, _)| id.clone())
            .collect();
        Sent { routes, downloads }
    }

    fn of(&self, route: &str) -> u64 {
        self.routes.get(route).copied().unwrap_or(0)
    }
}

const LISTING: &str = "GET /v2/users/{id}/recordings";
const USERS_ROUTE: &str = "GET /v2/users";
const MEETING: &str = "GET /v2/meetings/{uuid}/recordings";
const SUMMARY: &str = "GET /v2/meetings/{uuid}/meeting_summary";
const TOKEN: &str = "POST /oauth/token";

fn start_day(m: &zoom_sim::ManifestMeeting) -> jiff::civil::Date {
    m.start_time
        .parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// In a month the runs take from the stored listing (before May 2025).
fn is_old(m: &zoom_sim::ManifestMeeting) -> bool {
    start_day(m) < jiff::civil::date(2025, 5, 1)
}

/// In a month every run lists (May or June 2025).
fn is_recent(m: &zoom_sim::ManifestMeeting) -> bool {
    !is_old(m)
}

/// Meetings with a file Zoom is still processing (recording or participant audio).
fn processing(manifest: &Manifest) -> Vec<&zoom_sim::ManifestMeeting> {
    manifest
        .meetings
        .iter()
        .filter(|m| {
            m.files
                .iter()
                .chain(&m.participant_audio)
                .any(|f| !f.is_completed())
        })
        .collect()
}

async fn sync(engine: &Engine, o: &SyncOptions) -> zvm_engine::RunSummary {
    let s = engine
        .sync(o, CancellationToken::new())
        .await
        .expect("sync");
    assert_eq!(s.files_failed, 0, "{:?}", s.failures);
    s
}

fn vanished(events: &Events) -> BTreeSet<String> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::MeetingVanished { meeting_uuid, .. } => Some(meeting_uuid.clone()),
            _ => None,
        })
        .collect()
}

fn planned(events: &Events) -> BTreeSet<String> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::MeetingPlanned { meeting_uuid, .. } => Some(meeting_uuid.clone()),
            _ => None,
        })
        .collect()
}

/// Ids of every completed file of `m` (recordings and participant audio).
fn completed_files(m: &zoom_sim::ManifestMeeting) -> BTreeSet<String> {
    m.files
        .iter()
        .chain(&m.participant_audio)
        .filter(|f| f.is_completed())
        .map(|f| f.id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_lists_only_recent_months_and_asks_again_only_for_unfinished_meetings() {
    let sim = Simulator::start(account(71)).await.unwrap();
    let manifest = sim.manifest();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let (engine, state, events) = engine(&sim, &root, &dir.path().join("s.sqlite3"));

    // The account must hold what the test is about; a generator change that loses it
    // fails here rather than weakening the test.
    let busy = processing(&manifest);
    let old_busy: Vec<_> = busy.iter().filter(|m| is_old(m)).collect();
    assert!(
        !old_busy.is_empty() && busy.len() < 10,
        "the account needs a few meetings with files processing, one in an old month \
         ({} in all, {} old)",
        busy.len(),
        old_busy.len()
    );
    // A meeting in the recent span that is new to the second run: trashed (so not listed)
    // before the first run, recovered after it.
    let new = manifest
        .meetings
        .iter()
        .find(|m| is_recent(m) && !busy.iter().any(|b| b.uuid == m.uuid))
        .expect("a recent meeting");
    engine
        .zoom()
        .delete_meeting_recordings(&new.uuid, DeleteAction::Trash)
        .await
        .unwrap();

    // Run 1: every month is listed (nothing is stored yet).
    let s0 = sim.stats();
    let first = sync(&engine, &opts(T0)).await;
    let sent = Sent::between(&s0, &sim.stats());
    assert_eq!(sent.of(LISTING), USERS * MONTHS, "{:?}", sent.routes);
    assert!(first.files_downloaded > 50, "{first:?}");
    // Each user's months are stored, each with when it was listed.
    for u in &manifest.users {
        let id = u.id.as_ref().expect("users with recordings have ids");
        let stored = state.listed_windows(&format!("user:{id}")).await.unwrap();
        assert_eq!(stored.len() as u64, MONTHS, "{}", u.email);
        assert!(stored.iter().all(|w| w.listed_at == T0), "{stored:?}");
    }

    // Run 2, an hour later, nothing new: the users, the recent months of each, and one
    // request per meeting with a file still processing (its details: the stored ones are
    // asked again by uuid, the recent ones' details asked as every run does). No download.
    let s1 = sim.stats();
    let second = sync(&engine, &opts(&at(HOUR))).await;
    let sent = Sent::between(&s1, &sim.stats());
    assert_eq!(second.files_downloaded, 0, "{second:?}");
    assert!(sent.downloads.is_empty(), "{:?}", sent.downloads);
    assert_eq!(sent.of(USERS_ROUTE), 2, "active and inactive users");
    assert_eq!(
        sent.of(LISTING),
        USERS * RECENT,
        "only the recent months are listed: {:?}",
        sent.routes
    );
    let busy_n = busy.len() as u64;
    assert_eq!(sent.of(MEETING), busy_n, "{:?}", sent.routes);
    assert_eq!(sent.of(SUMMARY), busy_n, "{:?}", sent.routes);
    // (+1: the account listing, asked once and refused.)
    let expected_total = 1 + 2 + USERS * RECENT + 2 * busy_n + sent.of(TOKEN);
    assert_eq!(
        sent.routes.values().sum::<u64>(),
        expected_total,
        "nothing else is asked: {:?}",
        sent.routes
    );
    assert!(sent.of(TOKEN) <= 1);

    // Run 3: the recent meeting appears, and Zoom finishes processing every file. Both are
    // found without listing an old month again.
    engine
        .zoom()
        .recover_meeting_recordings(&new.uuid)
        .await
        .unwrap();
    sim.complete_processing();
    let s2 = sim.stats();
    let third = sync(&engine, &opts(&at(2 * HOUR))).await;
    let sent = Sent::between(&s2, &sim.stats());
    assert_eq!(sent.of(LISTING), USERS * RECENT, "{:?}", sent.routes);
    let mut wanted: BTreeSet<String> = completed_files(new);
    for m in &busy {
        for f in m.files.iter().chain(&m.participant_audio) {
            if !f.is_completed() {
                wanted.insert(f.id.clone());
            }
        }
    }
    assert_eq!(
        sent.downloads, wanted,
        "the new meeting's files and the files that finished processing, nothing else"
    );
    assert_eq!(third.files_downloaded, wanted.len() as u64);
    // Every file is now here and whole.
    let after = sim.manifest();
    for m in &after.meetings {
        for f in m.files.iter().chain(&m.participant_audio) {
            let row = state
                .file(&zvm_state::FileKey::new(&m.uuid, &f.id))
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("file {} of {:?} never planned", f.id, m.topic));
            assert_eq!(row.status, zvm_state::FileStatus::Verified, "{}", f.id);
            common_exact(&root, &row.rel_path, f);
        }
    }

    // Run 4: nothing new and nothing unfinished: users and recent months, nothing else.
    let s3 = sim.stats();
    let fourth = sync(&engine, &opts(&at(3 * HOUR))).await;
    let sent = Sent::between(&s3, &sim.stats());
    assert_eq!(fourth.files_downloaded, 0);
    let mut expected = BTreeMap::from([
        ("GET /v2/accounts/{id}/recordings".to_string(), 1),
        (USERS_ROUTE.to_string(), 2),
        (LISTING.to_string(), USERS * RECENT),
    ]);
    if sent.of(TOKEN) > 0 {
        expected.insert(TOKEN.to_string(), sent.of(TOKEN));
    }
    assert_eq!(sent.routes, expected, "a no-op re-run");
    assert!(sent.downloads.is_empty());
    assert!(vanished(&events).is_empty(), "nothing vanished");
    sim.shutdown().await;
}

/// A local file is byte-identical to the simulator's.
fn common_exact(root: &Path, rel: &str, f: &zoom_sim::ManifestFile) {
    use sha2::Digest;
    let bytes = std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(bytes.len() as u64, f.size, "{rel}");
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        f.sha256_hex(),
        "{rel}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_month_s_changes_are_seen_when_its_listing_is_due_or_with_full() {
    let sim = Simulator::start(account(72)).await.unwrap();
    let manifest = sim.manifest();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let (engine, state, events) = engine(&sim, &root, &dir.path().join("s.sqlite3"));
    let busy = processing(&manifest);
    let quiet_old: Vec<_> = manifest
        .meetings
        .iter()
        .filter(|m| is_old(m) && !busy.iter().any(|b| b.uuid == m.uuid))
        .collect();
    assert!(
        quiet_old.len() >= 3,
        "three old meetings without processing"
    );
    let (late, deleted, deleted_later) = (quiet_old[0], quiet_old[1], quiet_old[2]);
    let zoom = engine.zoom().clone();

    // `late` is in Zoom's trash during the first run: it appears later, in an old month.
    zoom.delete_meeting_recordings(&late.uuid, DeleteAction::Trash)
        .await
        .unwrap();
    sync(&engine, &opts(T0)).await;
    let deleted_folder = state.meeting(&deleted.uuid).await.unwrap().unwrap().folder;
    assert!(root.join(&deleted_folder).join("meeting.json").exists());

    zoom.recover_meeting_recordings(&late.uuid).await.unwrap();
    zoom.delete_meeting_recordings(&deleted.uuid, DeleteAction::Delete)
        .await
        .unwrap();

    // A day later the old months are trusted: neither change is seen.
    let s1 = sim.stats();
    let quiet = sync(&engine, &opts(&at(DAY))).await;
    let sent = Sent::between(&s1, &sim.stats());
    assert_eq!(sent.of(LISTING), USERS * RECENT, "{:?}", sent.routes);
    assert_eq!(quiet.files_downloaded, 0);
    assert!(vanished(&events).is_empty());
    assert_eq!(
        state.meeting(&deleted.uuid).await.unwrap().unwrap().cloud,
        CloudState::Present
    );

    // --full lists every month again: the late meeting is copied, the deleted one noticed,
    // marked, reported, and its local copy kept.
    let mut full = opts(&at(DAY + HOUR));
    full.listing.full = true;
    let s2 = sim.stats();
    let run = sync(&engine, &full).await;
    let sent = Sent::between(&s2, &sim.stats());
    assert_eq!(sent.of(LISTING), USERS * MONTHS, "{:?}", sent.routes);
    assert_eq!(
        sent.downloads,
        completed_files(late),
        "the late meeting only"
    );
    assert_eq!(run.files_downloaded, completed_files(late).len() as u64);
    assert_eq!(vanished(&events), BTreeSet::from([deleted.uuid.clone()]));
    let row = state.meeting(&deleted.uuid).await.unwrap().unwrap();
    assert_eq!(row.cloud, CloudState::Vanished);
    for f in state.files_of_meeting(&deleted.uuid).await.unwrap() {
        assert_eq!(f.cloud, CloudState::Vanished, "{}", f.rel_path);
        assert_eq!(f.status, zvm_state::FileStatus::Verified);
        assert!(
            root.join(&f.rel_path).exists(),
            "the local copy {} is kept",
            f.rel_path
        );
    }
    assert!(root.join(&deleted_folder).join("meeting.json").exists());

    // Without --full: a deletion in an old month is seen by the first run at least 7 days
    // after the month was last listed (the --full run above), not before.
    zoom.delete_meeting_recordings(&deleted_later.uuid, DeleteAction::Delete)
        .await
        .unwrap();
    let s3 = sim.stats();
    sync(&engine, &opts(&at(DAY + HOUR + 7 * DAY - 1))).await;
    let sent = Sent::between(&s3, &sim.stats());
    assert_eq!(
        sent.of(LISTING),
        USERS * RECENT,
        "not due yet: {:?}",
        sent.routes
    );
    assert!(!vanished(&events).contains(&deleted_later.uuid));
    let s4 = sim.stats();
    sync(&engine, &opts(&at(DAY + HOUR + 7 * DAY))).await;
    let sent = Sent::between(&s4, &sim.stats());
    assert_eq!(sent.of(LISTING), USERS * MONTHS, "due: {:?}", sent.routes);
    assert!(vanished(&events).contains(&deleted_later.uuid));
    assert_eq!(
        state
            .meeting(&deleted_later.uuid)
            .await
            .unwrap()
            .unwrap()
            .cloud,
        CloudState::Vanished
    );
    // What the simulator says happened is what the state says.
    let now = sim.manifest();
    for m in [deleted, deleted_later] {
        let sim_m = now.meetings.iter().find(|x| x.uuid == m.uuid).unwrap();
        assert!(sim_m.files.iter().all(|f| f.cloud == SimCloud::Deleted));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_dates_and_hosts_work_on_stored_months_and_the_stored_listing_needs_no_request() {
    let sim = Simulator::start(account(73)).await.unwrap();
    let manifest = sim.manifest();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let (engine, state, events) = engine(&sim, &root, &dir.path().join("s.sqlite3"));
    sync(&engine, &opts(T0)).await;

    // Narrower runs an hour later take old months from the stored listing; the meetings
    // they plan are exactly those the options select.
    let host = manifest.users[1].email.clone();
    let host_id = manifest.users[1].id.clone().unwrap();
    // A plain topic (no glob characters) that several meetings may share.
    let topic = manifest
        .meetings
        .iter()
        .map(|m| m.topic.clone())
        .find(|t| t.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
        .expect("a plain topic");
    let (from, to) = (
        jiff::civil::date(2024, 2, 10),
        jiff::civil::date(2024, 9, 17),
    );
    type Select = Box<dyn Fn(&zoom_sim::ManifestMeeting) -> bool>;
    // (what, options, which meetings they select, listing requests: the recent months of
    // the users listed, none when the dates hold no recent month).
    let cases: Vec<(&str, SyncOptions, Select, u64)> = vec![
        {
            let mut o = opts(&at(HOUR));
            o.from = from;
            o.to = to;
            (
                "dates in the middle of old months",
                o,
                Box::new(move |m| from <= start_day(m) && start_day(m) <= to),
                0,
            )
        },
        {
            let mut o = opts(&at(HOUR));
            o.filters.host = Some(host.clone());
            let id = host_id.clone();
            ("--host", o, Box::new(move |m| m.host_id == id), RECENT)
        },
        {
            let mut o = opts(&at(HOUR));
            o.filters.topic = Some(topic.clone());
            o.filters.min_duration_min = Some(20);
            let t = topic.clone();
            (
                "--topic and --min-duration",
                o,
                Box::new(move |m| m.topic.to_lowercase() == t.to_lowercase()),
                USERS * RECENT,
            )
        },
    ];
    for (what, o, select, listings) in cases {
        // The duration is not in the manifest: the state's meeting rows have it.
        let mut expected = BTreeSet::new();
        for m in manifest.meetings.iter().filter(|m| select(m)) {
            let row = state.meeting(&m.uuid).await.unwrap();
            let long_enough = match (o.filters.min_duration_min, row) {
                (Some(min), Some(r)) => r.duration_min >= i64::from(min),
                (Some(_), None) => panic!("{} was copied by the first run", m.uuid),
                (None, _) => true,
            };
            if long_enough {
                expected.insert(m.uuid.clone());
            }
        }
        events.lock().unwrap().clear();
        let s = sim.stats();
        sync(&engine, &o).await;
        let sent = Sent::between(&s, &sim.stats());
        assert_eq!(
            sent.of(LISTING),
            listings,
            "{what}: old months from the stored listing: {:?}",
            sent.routes
        );
        assert!(
            !expected.is_empty(),
            "{what} selects no meeting: the case tests nothing"
        );
        assert_eq!(planned(&events), expected, "{what}");

        // The stored listing with the same options: the same meetings, and no request.
        let s = sim.stats();
        let mut seen = Collect::default();
        let read = zvm_engine::for_each_stored_meeting(state.as_ref(), &o, &mut seen)
            .await
            .unwrap();
        assert_eq!(
            sim.stats().requests,
            s.requests,
            "{what}: no request at all"
        );
        assert_eq!(seen.uuids, expected, "{what}: stored listing");
        assert_eq!(read.meetings, expected.len(), "{what}");
        assert!(
            read.windows > 0 && read.oldest.is_some(),
            "{what}: {read:?}"
        );
    }

    // Meetings picked one by one (the GUI) in old months: exactly those, each found in a
    // fresh listing of its host's month (one request per host and month), since a picked
    // meeting may be newer than the month's stored listing.
    let picks: Vec<&zoom_sim::ManifestMeeting> = manifest
        .meetings
        .iter()
        .filter(|m| is_old(m))
        .step_by(7)
        .take(3)
        .collect();
    let mut chosen = opts(&at(HOUR));
    chosen.chosen = Some(
        picks
            .iter()
            .map(|m| zvm_engine::ChosenMeeting {
                uuid: m.uuid.clone(),
                user: UserSelection::User(m.host_id.clone()),
                date: start_day(m),
                files: None,
            })
            .collect(),
    );
    let months: BTreeSet<(String, i16, i8)> = picks
        .iter()
        .map(|m| (m.host_id.clone(), start_day(m).year(), start_day(m).month()))
        .collect();
    events.lock().unwrap().clear();
    let s = sim.stats();
    sync(&engine, &chosen).await;
    let sent = Sent::between(&s, &sim.stats());
    assert_eq!(sent.of(LISTING), months.len() as u64, "{:?}", sent.routes);
    assert_eq!(
        planned(&events),
        picks
            .iter()
            .map(|m| m.uuid.clone())
            .collect::<BTreeSet<_>>(),
        "the picked meetings"
    );

    // The stored listing of one user's scope by its own name: that user's meetings only.
    let mut mine = opts(&at(HOUR));
    mine.users = UserSelection::User(host_id.clone());
    let mut seen = Collect::default();
    zvm_engine::for_each_stored_meeting(state.as_ref(), &mine, &mut seen)
        .await
        .unwrap();
    let theirs: BTreeSet<String> = manifest
        .meetings
        .iter()
        .filter(|m| m.host_id == host_id)
        .map(|m| m.uuid.clone())
        .collect();
    assert_eq!(seen.uuids, theirs);
    // A scope never listed has nothing stored.
    mine.users = UserSelection::User("nobody@example.com".into());
    let mut none = Collect::default();
    let read = zvm_engine::for_each_stored_meeting(state.as_ref(), &mine, &mut none)
        .await
        .unwrap();
    assert!(none.uuids.is_empty() && read.windows == 0);
    sim.shutdown().await;
}

/// Meetings handed over by a listing, by uuid (each must come once).
#[derive(Default)]
struct Collect {
    uuids: BTreeSet<String>,
}

impl zvm_engine::catalog::AsyncMeetingFn for &mut Collect {
    async fn call(
        &mut self,
        meeting: zvm_zoom::models::Meeting,
        _host: &str,
    ) -> Result<(), zvm_engine::EngineError> {
        assert!(
            self.uuids.insert(meeting.uuid.clone()),
            "{} handed over twice",
            meeting.uuid
        );
        Ok(())
    }
}

/// `move` deletes on a fresh listing: a file that came back to a meeting after the meeting's
/// month was stored (here recovered from Zoom's trash) is seen, copied and verified before
/// the meeting is trashed. A move that trusted the stored month would trash it uncopied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_decides_on_a_fresh_listing_never_on_the_stored_one() {
    let sim = Simulator::start(account(74)).await.unwrap();
    let manifest = sim.manifest();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dest");
    let (engine, state, _events) = engine(&sim, &root, &dir.path().join("s.sqlite3"));
    let busy = processing(&manifest);
    let m = manifest
        .meetings
        .iter()
        .find(|m| {
            is_old(m)
                && !busy.iter().any(|b| b.uuid == m.uuid)
                && m.files.iter().filter(|f| f.is_completed()).count() >= 2
        })
        .expect("an old meeting with two files");
    let hidden = &m.files[0];
    let zoom = engine.zoom().clone();
    zoom.delete_recording_file(&m.uuid, &hidden.id, DeleteAction::Trash)
        .await
        .unwrap();
    sync(&engine, &opts(T0)).await;
    let key = zvm_state::FileKey::new(&m.uuid, &hidden.id);
    assert_eq!(
        state.file(&key).await.unwrap(),
        None,
        "not listed, not copied"
    );
    zoom.recover_recording_file(&m.uuid, &hidden.id)
        .await
        .unwrap();

    let mopts = zvm_engine::MoveOptions {
        action: DeleteAction::Trash,
        older_than: None,
        audit_log: dir.path().join("audit.jsonl"),
    };
    let s = sim.stats();
    let plan = engine
        .plan_move(&opts(&at(HOUR)), &mopts, CancellationToken::new())
        .await
        .unwrap();
    let sent = Sent::between(&s, &sim.stats());
    assert_eq!(sent.of(LISTING), USERS * MONTHS, "every month listed");
    engine
        .execute_move(&plan, &mopts, &CancellationToken::new())
        .await
        .unwrap();
    assert!(
        sim.deletions()
            .iter()
            .any(|d| d.meeting_uuid == m.uuid && d.file_id.is_none() && d.action == "trash"),
        "the meeting was moved"
    );
    let row = state
        .file(&key)
        .await
        .unwrap()
        .expect("the file back in the cloud was copied before its meeting was trashed");
    assert_eq!(row.status, zvm_state::FileStatus::Verified);
    common_exact(&root, &row.rel_path, hidden);
    sim.shutdown().await;
}
