//! `zvm sync` re-runs and `zvm list --cached` end to end: the real binary against the
//! simulator, request counts from the simulator's stats. The account ends today, so the
//! recent months (those overlapping the last 30 days) hold meetings.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{RunOutput, TestContext, small_account, tail};
use serde_json::Value;
use zoom_sim::{Manifest, ManifestMeeting, Simulator, Stats};
use zvm_state::{CloudState, SqliteState, StateStore};
use zvm_zoom::{ClientConfig, Credentials, DeleteAction, Plan, Secret, ZoomClient};

const LISTING: &str = "GET /v2/users/{id}/recordings";
const MEETING: &str = "GET /v2/meetings/{uuid}/recordings";
const SUMMARY: &str = "GET /v2/meetings/{uuid}/meeting_summary";

/// The account: few files processing, no meeting in progress (the test deletes some).
fn account(seed: u64) -> zoom_sim::SimConfig {
    let mut cfg = small_account(seed, 40);
    // The cache of the users' listings (an account that refuses the account-wide listing;
    // `account_listing.rs` has the account's): each run asks the account once, then the users.
    cfg.access.account_listing = zoom_sim::ListingAccess::Scope4711;
    cfg.account.processing_fraction = 0.008;
    cfg.account.in_progress_fraction = 0.0;
    cfg
}

/// Calendar months that overlap the last 30 days up to `today` (what every run lists).
fn recent_months(today: jiff::civil::Date) -> u64 {
    let start = today.checked_sub(jiff::Span::new().days(30)).unwrap();
    (common::month_index(today) - common::month_index(start) + 1) as u64
}

/// Whether a meeting is in one of the months every run lists (as of `today`).
fn in_recent_month(m: &ManifestMeeting, today: jiff::civil::Date) -> bool {
    let start = today.checked_sub(jiff::Span::new().days(30)).unwrap();
    start_day(m) >= start.first_of_month()
}

fn start_day(m: &ManifestMeeting) -> jiff::civil::Date {
    m.start_time
        .parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Users whose recordings `--all-users` lists (active and inactive, with an id).
fn users(manifest: &Manifest) -> u64 {
    manifest.users.iter().filter(|u| u.id.is_some()).count() as u64
}

/// Meetings with a file still processing (each is asked again on every run).
fn busy(manifest: &Manifest) -> BTreeSet<String> {
    manifest
        .meetings
        .iter()
        .filter(|m| {
            m.files
                .iter()
                .chain(&m.participant_audio)
                .any(|f| !f.is_completed())
        })
        .map(|m| m.uuid.clone())
        .collect()
}

/// Requests per route sent between two snapshots, and the files downloaded.
fn sent(before: &Stats, after: &Stats) -> (BTreeMap<String, u64>, BTreeSet<String>) {
    let routes = after
        .requests
        .keys()
        .map(|r| (r.clone(), after.count(r) - before.count(r)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let downloads = after
        .downloads
        .iter()
        .filter(|(id, n)| before.downloads.get(*id) != Some(*n))
        .map(|(id, _)| id.clone())
        .collect();
    (routes, downloads)
}

/// A Server-to-Server client of the simulator, to change the account the way a person
/// would in Zoom's web portal (trash, recover, delete).
fn portal(sim: &Simulator) -> ZoomClient {
    let c = sim.credentials();
    ZoomClient::new(
        ClientConfig {
            api_base: sim.api_base_url(),
            oauth_base: sim.oauth_base_url(),
            plan: Plan::Unlimited,
            ..ClientConfig::default()
        },
        Credentials::ServerToServer {
            account_id: c.account_id,
            client_id: c.client_id,
            client_secret: Secret::new(c.client_secret),
        },
    )
    .expect("client")
}

/// The `--json` events of a run with this name.
fn events<'a>(out: &'a RunOutput, name: &'a str) -> impl Iterator<Item = Value> + 'a {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(move |v| v["event"] == name)
}

/// `zvm list` of every user since `--from 37m`, as the set of its `--json` lines.
async fn list_json(ctx: &TestContext, extra: &[&str]) -> BTreeSet<String> {
    let state = ctx.state.display().to_string();
    let mut args = vec![
        "list",
        "--all-users",
        "--from",
        "37m",
        "--state",
        &state,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = ctx.run(&args).await;
    out.expect_code(0, "zvm list");
    out.stdout.lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_lists_only_the_recent_months_and_finds_what_changed() {
    let ctx = TestContext::start(account(61)).await;
    let manifest = ctx.sim.manifest();
    let day = common::utc_today();
    let users = users(&manifest);
    let busy = busy(&manifest);
    assert!(
        !busy.is_empty() && busy.len() <= 8,
        "the account needs a few meetings with files processing ({})",
        busy.len()
    );
    assert!(
        manifest
            .meetings
            .iter()
            .any(|m| busy.contains(&m.uuid) && !in_recent_month(m, day)),
        "a file processing in an old month"
    );
    // A meeting new to the third run, recorded an hour ago: in Zoom's trash until then.
    // (Added, not picked from the generated account: its meetings are spread over three
    // years from today, so whether one falls in the recent months depends on the date.)
    let host = manifest
        .users
        .iter()
        .find(|u| u.id.is_some())
        .expect("a user with an id");
    let an_hour_ago = jiff::Timestamp::now()
        .checked_sub(jiff::Span::new().hours(1))
        .unwrap();
    let new = ctx
        .sim
        .add_meeting(zoom_sim::NewMeeting {
            host: host.email.clone(),
            start_time: an_hour_ago.to_string(),
            ..Default::default()
        })
        .expect("add a meeting");
    assert!(in_recent_month(&new, day));
    let manifest = ctx.sim.manifest();
    let zoom = portal(&ctx.sim);
    zoom.delete_meeting_recordings(&new.uuid, DeleteAction::Trash)
        .await
        .unwrap();

    ctx.sync(&["--json"]).await.expect_code(0, "first sync");

    // The re-run with nothing new: a token, the users, the recent months of each user, and
    // one request per meeting with a file processing (its details) plus its summary.
    let before = ctx.sim.stats();
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(0, "second sync");
    let (routes, downloads) = sent(&before, &ctx.sim.stats());
    let recent = recent_months(day);
    // A month can begin during the run: then the new month is listed too.
    let recent_after = recent_months(common::utc_today());
    let b = busy.len() as u64;
    let mut expected = BTreeMap::from([
        ("POST /oauth/token".to_string(), 1),
        ("GET /v2/accounts/{id}/recordings".to_string(), 1),
        ("GET /v2/users".to_string(), 2),
        (LISTING.to_string(), users * recent),
        (MEETING.to_string(), b),
        (SUMMARY.to_string(), b),
    ]);
    if recent_after != recent && routes.get(LISTING) == Some(&(users * recent_after)) {
        expected.insert(LISTING.to_string(), users * recent_after);
    }
    assert_eq!(routes, expected, "a re-run with nothing new");
    assert!(downloads.is_empty(), "it downloads nothing: {downloads:?}");
    let windows: Vec<Value> = events(&out, "listing_windows").collect();
    assert_eq!(windows.len() as u64, users, "{windows:?}");
    for w in &windows {
        assert_eq!(w["listed"].as_u64(), Some(recent), "{w}");
        assert!(w["stored"].as_u64() > Some(30), "{w}");
    }

    // Zoom finishes processing, and the trashed meeting comes back: both are found, and
    // still only the recent months are listed.
    zoom.recover_meeting_recordings(&new.uuid).await.unwrap();
    ctx.sim.complete_processing();
    let before = ctx.sim.stats();
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(0, "third sync");
    let (routes, downloads) = sent(&before, &ctx.sim.stats());
    assert_eq!(
        routes.get(LISTING).copied(),
        Some(users * recent_months(common::utc_today())),
        "{routes:?}"
    );
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for m in &manifest.meetings {
        for f in m.files.iter().chain(&m.participant_audio) {
            if m.uuid == new.uuid || !f.is_completed() {
                wanted.insert(f.id.clone());
            }
        }
    }
    assert_eq!(downloads, wanted, "the new meeting and the finished files");
    ctx.verify_copy();

    // The stored listing: exactly what a live listing shows now, with no request at all.
    let live = list_json(&ctx, &[]).await;
    let before = ctx.sim.stats();
    let cached = list_json(&ctx, &["--cached"]).await;
    assert_eq!(
        ctx.sim.stats().requests,
        before.requests,
        "list --cached sent a request"
    );
    assert_eq!(cached.len(), manifest.meetings.len());
    assert_eq!(cached, live, "the stored listing is the live one");
    // The table says where it comes from.
    let state = ctx.state.display().to_string();
    let out = ctx
        .run(&[
            "list",
            "--cached",
            "--all-users",
            "--from",
            "37m",
            "--state",
            &state,
        ])
        .await;
    out.expect_code(0, "list --cached");
    assert!(
        out.stdout
            .contains(&format!("{} meetings", manifest.meetings.len())),
        "{}",
        tail(&out.stdout)
    );
    assert!(out.stderr.contains("no request was sent"), "{}", out.stderr);
    assert_eq!(ctx.sim.stats().requests, before.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_notices_a_meeting_deleted_in_the_cloud_and_keeps_its_copy() {
    let ctx = TestContext::start(account(62)).await;
    let manifest = ctx.sim.manifest();
    let day = common::utc_today();
    let users = users(&manifest);
    // The whole range in whole months: from the first day of the month 37 months ago.
    let from = day
        .checked_sub(jiff::Span::new().months(37))
        .unwrap()
        .first_of_month();
    let months = (common::month_index(day) - common::month_index(from) + 1) as u64;
    let from_arg = from.to_string();
    let busy = busy(&manifest);
    let gone = manifest
        .meetings
        .iter()
        .find(|m| !in_recent_month(m, day) && !busy.contains(&m.uuid))
        .expect("an old meeting");

    ctx.sync(&["--from", &from_arg, "--json"])
        .await
        .expect_code(0, "first sync");
    let state = SqliteState::open(&ctx.state).unwrap();
    let folder = state.meeting(&gone.uuid).await.unwrap().unwrap().folder;
    let copies: Vec<String> = state
        .files_of_meeting(&gone.uuid)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.rel_path)
        .collect();
    drop(state);
    assert!(!copies.is_empty());

    portal(&ctx.sim)
        .delete_meeting_recordings(&gone.uuid, DeleteAction::Delete)
        .await
        .unwrap();

    // Not noticed while its month's stored listing is trusted.
    let out = ctx.sync(&["--from", &from_arg, "--json"]).await;
    out.expect_code(0, "second sync");
    assert_eq!(events(&out, "meeting_vanished").count(), 0);

    // --full lists every month, notices it, says so, marks it, keeps the copy.
    let before = ctx.sim.stats();
    let out = ctx.sync(&["--from", &from_arg, "--json", "--full"]).await;
    out.expect_code(0, "sync --full");
    let (routes, downloads) = sent(&before, &ctx.sim.stats());
    let listed = routes.get(LISTING).copied().unwrap_or(0);
    assert!(
        listed == users * months
            || listed
                == users
                    * (common::month_index(common::utc_today()) - common::month_index(from) + 1)
                        as u64,
        "every month of every user: {listed} for {users} users x {months} months"
    );
    assert!(downloads.is_empty(), "{downloads:?}");
    let vanished: Vec<Value> = events(&out, "meeting_vanished").collect();
    assert_eq!(vanished.len(), 1, "{vanished:?}");
    assert_eq!(vanished[0]["meeting_uuid"], gone.uuid.as_str());
    assert_eq!(vanished[0]["topic"], gone.topic.as_str());
    let state = SqliteState::open(&ctx.state).unwrap();
    assert_eq!(
        state.meeting(&gone.uuid).await.unwrap().unwrap().cloud,
        CloudState::Vanished
    );
    for p in &copies {
        assert!(ctx.dest.join(p).exists(), "the local copy {p} is kept");
    }
    assert!(ctx.dest.join(&folder).join("meeting.json").exists());

    // Without --json the run says it in words.
    drop(state);
    portal(&ctx.sim)
        .delete_meeting_recordings(
            &manifest
                .meetings
                .iter()
                .find(|m| !in_recent_month(m, day) && m.uuid != gone.uuid)
                .expect("another old meeting")
                .uuid,
            DeleteAction::Trash,
        )
        .await
        .unwrap();
    let out = ctx.sync(&["--from", &from_arg, "--full"]).await;
    out.expect_code(0, "sync --full in words");
    assert!(
        out.all().contains("no longer in the Zoom cloud"),
        "{}",
        tail(&out.all())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_cached_without_a_state_file_says_so_and_creates_nothing() {
    let ctx = TestContext::start(account(63)).await;
    let before = ctx.sim.stats();
    let state = ctx.state.display().to_string();
    let out = ctx
        .run(&["list", "--cached", "--all-users", "--state", &state])
        .await;
    out.expect_code(0, "list --cached with no state");
    assert!(out.stderr.contains("nothing stored"), "{}", out.stderr);
    assert!(out.stdout.contains("0 meetings"), "{}", out.stdout);
    assert!(!ctx.state.exists(), "no state file was created");
    assert_eq!(ctx.sim.stats().requests, before.requests);
}
