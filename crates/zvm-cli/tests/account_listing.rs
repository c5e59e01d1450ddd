//! `zvm sync --all-users` lists the account, not each user (issue #14, parts 1 and 2): the
//! real binary against the simulator, request counts from the simulator's stats. The
//! account-wide recordings listing and the summary listing are used when Zoom allows them;
//! each refusal Zoom answers with is survived by listing the users (or asking each meeting
//! for its summary), said once with the scope to grant, and the copy is still complete.

mod common;

use std::collections::BTreeSet;

use common::{RunOutput, TestContext, small_account, tail};
use serde_json::Value;
use zoom_sim::{ListingAccess, Manifest, SimConfig, Stats};

const ACCOUNT: &str = "GET /v2/accounts/{id}/recordings";
const USER: &str = "GET /v2/users/{id}/recordings";
const USERS: &str = "GET /v2/users";
const SUMMARIES: &str = "GET /v2/meetings/meeting_summaries";
const SUMMARY: &str = "GET /v2/meetings/{uuid}/meeting_summary";

const ACCOUNT_SCOPE: &str = "cloud_recording:read:list_account_recordings:admin";
const SUMMARIES_SCOPE: &str = "meeting_summary:read:list_summaries:admin";

/// Three years of meetings of 3 active users and 1 inactive one (and a pending one, who has
/// no recordings); no meeting in progress, so every meeting's summary is settled.
fn account(seed: u64) -> SimConfig {
    let mut cfg = small_account(seed, 40);
    cfg.account.in_progress_fraction = 0.0;
    cfg
}

/// Calendar months a `--from 37m` run lists, as of `day`.
fn months_of_37m(day: jiff::civil::Date) -> u64 {
    let from = day.checked_sub(jiff::Span::new().months(37)).unwrap();
    (common::month_index(day) - common::month_index(from) + 1) as u64
}

/// Whether `n` is the months of a `--from 37m` run begun at `before` (a month may begin
/// during the run).
fn is_months_of_run(n: u64, before: jiff::civil::Date) -> bool {
    n == months_of_37m(before) || n == months_of_37m(common::utc_today())
}

/// Requests per route sent between two snapshots.
fn sent(before: &Stats, after: &Stats, route: &str) -> u64 {
    after.count(route) - before.count(route)
}

/// The `--json` warnings of a run.
fn warnings(out: &RunOutput) -> Vec<String> {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "warning")
        .map(|v| v["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The meetings of the account a sync copies something of (a completed file).
fn with_files(manifest: &Manifest) -> usize {
    manifest
        .meetings
        .iter()
        .filter(|m| {
            m.files
                .iter()
                .chain(&m.participant_audio)
                .any(|f| f.is_completed())
        })
        .count()
}

/// The meetings an inactive user hosted: `--all-users` must copy them too.
fn inactive_users_meetings(manifest: &Manifest) -> usize {
    manifest
        .meetings
        .iter()
        .filter(|m| {
            manifest
                .users
                .iter()
                .any(|u| u.email == m.host_email && u.status == "inactive")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_users_lists_the_account_once_per_month_and_asks_only_summaries_that_exist() {
    let ctx = TestContext::start(account(81)).await;
    let manifest = ctx.sim.manifest();
    assert!(
        inactive_users_meetings(&manifest) > 0,
        "the account needs meetings of an inactive user"
    );
    let with_summary = manifest.meetings.iter().filter(|m| m.has_summary).count() as u64;
    assert!(
        with_summary > 0 && with_summary < manifest.meetings.len() as u64,
        "some meetings have a summary, some do not ({with_summary})"
    );

    let day = common::utc_today();
    let before = ctx.sim.stats();
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(0, "sync --all-users");
    let after = ctx.sim.stats();

    // One account request per month (each month is one page here), no user listed.
    let account = sent(&before, &after, ACCOUNT);
    assert!(is_months_of_run(account, day), "{account} account requests");
    assert_eq!(
        sent(&before, &after, USER),
        0,
        "no user's recordings listed"
    );
    assert_eq!(sent(&before, &after, USERS), 0, "no user list needed");
    // The summary listing beside it, and meeting_summary only for the meetings it names.
    let summaries = sent(&before, &after, SUMMARIES);
    assert!(
        is_months_of_run(summaries, day),
        "{summaries} summary listings"
    );
    assert_eq!(
        sent(&before, &after, SUMMARY),
        with_summary,
        "meeting_summary asked exactly for the meetings with a summary"
    );
    assert_eq!(after.count_status(SUMMARY, 404), 0, "never asked in vain");
    assert!(warnings(&out).is_empty(), "{:?}", warnings(&out));

    // The copy is the manifest: every completed file, every summary, inactive users' too.
    let checked = ctx.verify_copy();
    let completed = manifest.files().filter(|(_, f)| f.is_completed()).count();
    assert_eq!(checked, completed);
    assert!(with_files(&manifest) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_of_the_account_listing_falls_back_to_the_users_and_says_so_once() {
    for (i, refusal) in [
        ListingAccess::Scope4711,
        ListingAccess::NotAllowed4700,
        ListingAccess::BadRequest400,
        ListingAccess::NotFound404,
    ]
    .into_iter()
    .enumerate()
    {
        let mut cfg = account(90 + i as u64);
        cfg.access.account_listing = refusal;
        let ctx = TestContext::start(cfg).await;
        let manifest = ctx.sim.manifest();
        let users = manifest.users.iter().filter(|u| u.id.is_some()).count() as u64;
        let day = common::utc_today();
        let out = ctx.sync(&["--json"]).await;
        out.expect_code(0, &format!("sync with the account listing {refusal:?}"));
        let stats = ctx.sim.stats();
        // Asked once, refused, never again; every user's months listed instead.
        assert_eq!(stats.count(ACCOUNT), 1, "{refusal:?}");
        assert_eq!(stats.count_status(ACCOUNT, 200), 0, "{refusal:?}");
        let user = stats.count(USER);
        assert!(
            user == users * months_of_37m(day)
                || user == users * months_of_37m(common::utc_today()),
            "{refusal:?}: {user} user listings for {users} users"
        );
        let told: Vec<String> = warnings(&out)
            .into_iter()
            .filter(|w| w.contains("listing the account's recordings was refused"))
            .collect();
        assert_eq!(told.len(), 1, "{refusal:?}: told once: {told:?}");
        assert!(
            told[0].contains(ACCOUNT_SCOPE),
            "{refusal:?}: names the scope: {}",
            told[0]
        );
        // Not a failure: nothing failed, and the copy is complete.
        let summary = out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "run_finished")
            .expect("run_finished");
        assert_eq!(summary["summary"]["files_failed"], 0, "{refusal:?}");
        ctx.verify_copy();
    }
    // Without --json it is said in words, once.
    let mut cfg = account(95);
    cfg.access.account_listing = ListingAccess::Scope4711;
    let ctx = TestContext::start(cfg).await;
    let out = ctx.sync(&[]).await;
    out.expect_code(0, "sync in words");
    let all = out.all();
    assert_eq!(
        all.matches("listing the account's recordings was refused")
            .count(),
        1,
        "{}",
        tail(&all)
    );
    assert!(all.contains(ACCOUNT_SCOPE), "{}", tail(&all));
    ctx.verify_copy();
    // `zvm list` says it too, on stderr, with the rows on stdout as JSON.
    let out = ctx
        .run(&["list", "--all-users", "--from", "37m", "--json"])
        .await;
    out.expect_code(0, "list with the account listing refused");
    assert_eq!(
        out.stderr
            .matches("listing the account's recordings was refused")
            .count(),
        1,
        "list: {}",
        tail(&out.stderr)
    );
    assert!(out.stderr.contains(ACCOUNT_SCOPE), "{}", tail(&out.stderr));
    assert!(
        out.stdout
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "stdout holds only the rows: {}",
        tail(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_picks_one_host_s_meetings_from_the_account_listing() {
    let ctx = TestContext::start(account(83)).await;
    let manifest = ctx.sim.manifest();
    // The inactive user: the host with meetings, named in capitals (emails match any case).
    let host = manifest
        .users
        .iter()
        .find(|u| u.status == "inactive")
        .expect("an inactive user");
    let theirs: BTreeSet<String> = manifest
        .meetings
        .iter()
        .filter(|m| {
            m.host_email == host.email
                && m.files
                    .iter()
                    .chain(&m.participant_audio)
                    .any(|f| f.is_completed())
        })
        .map(|m| m.uuid.clone())
        .collect();
    assert!(!theirs.is_empty(), "the host has meetings to copy");
    let shout = host.email.to_uppercase();
    let out = ctx.sync(&["--host", &shout, "--json"]).await;
    out.expect_code(0, "sync --host");
    let stats = ctx.sim.stats();
    assert!(stats.count(ACCOUNT) > 0);
    assert_eq!(stats.count(USER), 0, "the account listing, not the user's");
    // Exactly the host's meetings have a record, each file of them exact.
    let mut copied = BTreeSet::new();
    for p in ctx.local_files() {
        if let Some(folder) = p.strip_suffix("meeting.json") {
            let rec: Value =
                serde_json::from_str(&std::fs::read_to_string(ctx.dest.join(&p)).unwrap()).unwrap();
            let uuid = rec["uuid"].as_str().unwrap().to_string();
            let m = manifest.meetings.iter().find(|m| m.uuid == uuid).unwrap();
            for f in rec["files"].as_array().unwrap() {
                let id = f["id"].as_str().unwrap();
                let mf = m.files.iter().find(|x| x.id == id).unwrap();
                if mf.is_completed() {
                    common::assert_exact(&ctx.dest, mf, f["path"].as_str().unwrap());
                }
            }
            assert!(folder.contains(&host.email), "{p}");
            copied.insert(uuid);
        }
    }
    assert_eq!(copied, theirs, "only the host's meetings, all of them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_summary_listing_asks_each_meeting_and_copies_every_summary() {
    let mut cfg = account(84);
    cfg.access.summary_listing = ListingAccess::NotAllowed4700;
    let ctx = TestContext::start(cfg).await;
    let manifest = ctx.sim.manifest();
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(0, "sync with the summary listing refused");
    let stats = ctx.sim.stats();
    assert_eq!(stats.count(SUMMARIES), 1, "asked once, refused, not again");
    assert_eq!(stats.count(USER), 0, "the account listing still used");
    // Every meeting is asked (a meeting's details are fetched once in a first run).
    assert_eq!(
        stats.count(SUMMARY),
        manifest.meetings.len() as u64,
        "meeting_summary per meeting"
    );
    let told: Vec<String> = warnings(&out)
        .into_iter()
        .filter(|w| w.contains("AI Companion summaries was refused"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains(SUMMARIES_SCOPE), "{}", told[0]);
    ctx.verify_copy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_lists_only_the_recent_months_of_the_account() {
    let mut cfg = account(85);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    ctx.sync(&["--json"]).await.expect_code(0, "first sync");
    let state = zvm_state::SqliteState::open(&ctx.state).unwrap();
    use zvm_state::StateStore;
    let stored = state.listed_windows("account:me").await.unwrap();
    assert!(
        is_months_of_run(stored.len() as u64, common::utc_today()),
        "every month stored under the account scope: {}",
        stored.len()
    );
    drop(state);

    let day = common::utc_today();
    let start = day.checked_sub(jiff::Span::new().days(30)).unwrap();
    let recent = (common::month_index(day) - common::month_index(start) + 1) as u64;
    let before = ctx.sim.stats();
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(0, "second sync");
    let after = ctx.sim.stats();
    let account = sent(&before, &after, ACCOUNT);
    assert!(
        account == recent || account == recent + 1,
        "{account} account requests for {recent} recent months"
    );
    assert_eq!(sent(&before, &after, USER), 0);
    assert_eq!(sent(&before, &after, USERS), 0);
    assert_eq!(
        sent(&before, &after, SUMMARIES),
        account,
        "summaries beside it"
    );
    assert_eq!(
        sent(&before, &after, SUMMARY),
        0,
        "every meeting is finished: no summary asked"
    );
    assert!(after.downloads == before.downloads, "nothing downloaded");
    ctx.verify_copy();
}
