//! The simulator's admin side over real HTTP (zoom-api.md §1 "Scopes", §2 "Account level",
//! §4): the account-wide recordings listing, the summary listing, scopes on tokens with the
//! 4711 a token without one gets, each refusal of the two listings, and the changes to the
//! live account the control plane makes for incremental re-run tests.

use std::collections::{BTreeMap, BTreeSet};

use jiff::ToSpan;
use jiff::civil::Date;
use reqwest::StatusCode;
use serde_json::Value;

mod common;

use common::{http, s2s_answer, start};
use zoom_sim::{AccountSpec, ListingAccess, NewMeeting, Plan, PortalDelete, SimConfig, Simulator};

const ACCOUNT_ROUTE: &str = "GET /v2/accounts/{id}/recordings";
const USER_ROUTE: &str = "GET /v2/users/{id}/recordings";
const SUMMARIES_ROUTE: &str = "GET /v2/meetings/meeting_summaries";

/// An account of active, inactive and pending users over two years ending on a fixed day,
/// without rate limits (nothing here is about pacing).
fn config() -> SimConfig {
    let mut c = SimConfig::default();
    c.rate_limits.enabled = false;
    c.account = AccountSpec {
        active_users: 4,
        inactive_users: 2,
        pending_users: 1,
        meetings: 160,
        years: 2,
        end_date: Some("2026-06-30".into()),
        summary_fraction: 0.5,
        ..AccountSpec::default()
    };
    c
}

const FIRST_DAY: &str = "2024-06-01";
const LAST_DAY: &str = "2026-06-30";

/// An S2S token and the `scope` its answer lists.
async fn s2s(sim: &Simulator) -> (String, String) {
    let v = s2s_answer(sim).await;
    (
        v["access_token"].as_str().unwrap().to_string(),
        v["scope"].as_str().unwrap().to_string(),
    )
}

async fn token(sim: &Simulator) -> String {
    s2s(sim).await.0
}

async fn get(sim: &Simulator, tok: &str, path: &str) -> (StatusCode, Value) {
    let r = http()
        .get(format!("{}{path}", sim.api_base_url()))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json::<Value>().await.unwrap_or(Value::Null))
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

/// One-month windows `[to - 1 month, to]` walking back from `last` to `first`: none is
/// longer than Zoom's month, so none is narrowed.
fn windows(first: Date, last: Date) -> Vec<(Date, Date)> {
    let mut out = Vec::new();
    let mut to = last;
    while to >= first {
        let from = to.checked_sub(1.month()).unwrap().max(first);
        out.push((from, to));
        to = from.yesterday().unwrap();
    }
    out
}

/// Every entry (`list_key`: "meetings" or "summaries") of one window, page by page; checks
/// that the echoed `from` is the one asked for and that entries come newest first.
async fn walk(
    sim: &Simulator,
    tok: &str,
    path: &str,
    list_key: &str,
    (from, to): (Date, Date),
    page_size: usize,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut page_token = String::new();
    loop {
        let (st, v) = get(
            sim,
            tok,
            &format!(
                "{path}?from={from}&to={to}&page_size={page_size}&next_page_token={page_token}"
            ),
        )
        .await;
        assert_eq!(st, 200, "{path} {from}..{to}: {v}");
        assert_eq!(
            v["from"],
            from.to_string(),
            "a window of one month is not narrowed"
        );
        let page = v[list_key].as_array().unwrap();
        assert!(page.len() <= page_size);
        out.extend(page.iter().cloned());
        page_token = v["next_page_token"].as_str().unwrap().to_string();
        if page_token.is_empty() {
            break;
        }
    }
    let time_key = if list_key == "meetings" {
        "start_time"
    } else {
        "meeting_start_time"
    };
    let starts: Vec<&str> = out.iter().map(|m| m[time_key].as_str().unwrap()).collect();
    assert!(
        starts.windows(2).all(|w| w[0] >= w[1]),
        "{path}: newest first across pages: {starts:?}"
    );
    out
}

fn uuids(entries: &[Value], key: &str) -> BTreeSet<String> {
    entries
        .iter()
        .map(|m| m[key].as_str().unwrap().to_string())
        .collect()
}

/// The account listing holds every user's meetings, inactive users' included, and in each
/// window exactly the union of the per-user listings; each meeting names its host.
#[tokio::test]
async fn the_account_listing_is_the_union_of_every_users_listing() {
    let sim = start(config()).await;
    let tok = token(&sim).await;
    let manifest = sim.manifest();
    let hosts: BTreeMap<String, String> = manifest
        .users
        .iter()
        .filter_map(|u| Some((u.id.clone()?, u.email.clone())))
        .collect();
    let inactive: BTreeSet<&str> = manifest
        .users
        .iter()
        .filter(|u| u.status == "inactive")
        .filter_map(|u| u.id.as_deref())
        .collect();
    assert!(
        manifest
            .meetings
            .iter()
            .any(|m| inactive.contains(m.host_id.as_str())),
        "the account has meetings of inactive users to find"
    );

    let mut all = BTreeSet::new();
    let (mut account_calls, mut user_calls) = (0, 0);
    for w in windows(day(FIRST_DAY), day(LAST_DAY)) {
        let before = sim.stats();
        let account = walk(&sim, &tok, "/accounts/me/recordings", "meetings", w, 7).await;
        account_calls += sim.stats().count(ACCOUNT_ROUTE) - before.count(ACCOUNT_ROUTE);
        for m in &account {
            let host = m["host_id"].as_str().unwrap();
            assert_eq!(
                m["host_email"].as_str(),
                hosts.get(host).map(String::as_str),
                "{m}"
            );
        }
        let mut union = BTreeSet::new();
        for id in hosts.keys() {
            let mine = walk(
                &sim,
                &tok,
                &format!("/users/{id}/recordings"),
                "meetings",
                w,
                300,
            )
            .await;
            user_calls += 1;
            union.extend(uuids(&mine, "uuid"));
        }
        let got = uuids(&account, "uuid");
        assert_eq!(got.len(), account.len(), "each meeting once in {w:?}");
        assert_eq!(got, union, "window {w:?}");
        all.extend(got);
    }
    let want: BTreeSet<String> = manifest.meetings.iter().map(|m| m.uuid.clone()).collect();
    assert_eq!(all, want, "every meeting of every user");
    let stats = sim.stats();
    assert_eq!(stats.count(ACCOUNT_ROUTE), account_calls);
    assert_eq!(stats.count(USER_ROUTE), user_calls);
    assert!(
        account_calls > 25,
        "pages of 7 over 25 windows: {account_calls}"
    );

    // The account's own id names the same listing as `me`; another account is not there.
    let w = "from=2026-06-01&to=2026-06-30&page_size=300";
    let (_, by_me) = get(&sim, &tok, &format!("/accounts/me/recordings?{w}")).await;
    let id = sim.credentials().account_id;
    let (st, by_id) = get(&sim, &tok, &format!("/accounts/{id}/recordings?{w}")).await;
    assert_eq!(st, 200);
    assert_eq!(by_me["meetings"], by_id["meetings"]);
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/accounts/other-account/recordings?{w}"),
    )
    .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (404, Some(2001)), "{v}");
}

/// The account listing narrows a long span to the month ending at `to` and echoes the
/// narrowed `from`, as the user listing does; `narrowing_days` applies to it too.
#[tokio::test]
async fn the_account_listing_narrows_and_echoes_from() {
    let sim = start(config()).await;
    let tok = token(&sim).await;
    let (st, v) = get(
        &sim,
        &tok,
        "/accounts/me/recordings?from=2025-06-30&to=2026-06-30",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-05-30"), Some("2026-06-30"))
    );
    let listed: BTreeSet<String> = uuids(v["meetings"].as_array().unwrap(), "uuid");
    let in_month: BTreeSet<String> = sim
        .manifest()
        .meetings
        .iter()
        .filter(|m| m.start_time.as_str() >= "2026-05-30")
        .map(|m| m.uuid.clone())
        .collect();
    assert_eq!(listed, in_month, "the narrowed month, nothing before it");

    let mut c = config();
    c.narrowing_days = Some(28);
    let sim = start(c).await;
    let tok = token(&sim).await;
    let (_, v) = get(
        &sim,
        &tok,
        "/accounts/me/recordings?from=2026-05-30&to=2026-06-30",
    )
    .await;
    assert_eq!(v["from"], "2026-06-02", "28 days before `to`");
    let (_, v) = get(
        &sim,
        &tok,
        "/meetings/meeting_summaries?from=2026-05-30&to=2026-06-30",
    )
    .await;
    assert_eq!(v["from"], "2026-06-02", "the summary listing narrows alike");
}

/// A page token of the account listing lives 15 minutes, and belongs to its own query.
#[tokio::test]
async fn account_page_tokens_expire_after_15_minutes_and_belong_to_their_query() {
    let sim = start(config()).await;
    let tok = token(&sim).await;
    let q = "from=2026-05-30&to=2026-06-30&page_size=1";
    let (_, v) = get(&sim, &tok, &format!("/accounts/me/recordings?{q}")).await;
    let next = v["next_page_token"].as_str().unwrap().to_string();
    assert!(
        !next.is_empty(),
        "this month of the account holds more than one meeting"
    );
    // Not valid for the same window of a user's listing.
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/users/me/recordings?{q}&next_page_token={next}"),
    )
    .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (400, Some(300)));
    sim.advance_clock(899);
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/accounts/me/recordings?{q}&next_page_token={next}"),
    )
    .await;
    assert_eq!(st, 200, "still valid at 14:59: {v}");
    sim.advance_clock(2);
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/accounts/me/recordings?{q}&next_page_token={next}"),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_i64()),
        (400, Some(300)),
        "expired at 15:01"
    );
}

/// `trash=true` lists the trashed meetings, as on the user listing.
#[tokio::test]
async fn the_account_listing_shows_the_trash_on_request() {
    let sim = start(config()).await;
    let tok = token(&sim).await;
    let w = "from=2026-06-01&to=2026-06-30&page_size=300";
    let (_, v) = get(&sim, &tok, &format!("/accounts/me/recordings?{w}")).await;
    let victim = v["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uuid"].as_str().unwrap().to_string())
        .find(|u| {
            !sim.manifest()
                .meetings
                .iter()
                .any(|m| &m.uuid == u && m.in_progress)
        })
        .expect("a meeting in June 2026 that is not in progress");
    let r = http()
        .delete(format!(
            "{}/meetings/{}/recordings",
            sim.api_base_url(),
            enc(&enc(&victim))
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, v) = get(&sim, &tok, &format!("/accounts/me/recordings?{w}")).await;
    assert!(!uuids(v["meetings"].as_array().unwrap(), "uuid").contains(&victim));
    let (_, v) = get(
        &sim,
        &tok,
        &format!("/accounts/me/recordings?{w}&trash=true"),
    )
    .await;
    assert_eq!(
        uuids(v["meetings"].as_array().unwrap(), "uuid"),
        BTreeSet::from([victim])
    );
}

/// What each refusal of the two admin listings answers (zoom-api.md §2, §4); the per-user
/// listing and the per-meeting summary, the fallbacks, still answer.
#[tokio::test]
async fn each_refusal_of_the_admin_listings_is_played() {
    let cases = [
        (ListingAccess::Scope4711, 403, 4711),
        (ListingAccess::NotAllowed4700, 403, 4700),
        (ListingAccess::BadRequest400, 400, 200),
    ];
    let q = "from=2026-06-01&to=2026-06-30";
    for (access, status, code) in cases
        .into_iter()
        .chain([(ListingAccess::NotFound404, 404, 2001)])
    {
        let mut c = config();
        c.access.account_listing = access;
        let sim = start(c).await;
        let tok = token(&sim).await;
        let (st, v) = get(&sim, &tok, &format!("/accounts/me/recordings?{q}")).await;
        assert_eq!(
            (st.as_u16(), v["code"].as_i64()),
            (status, Some(code)),
            "{access:?}: {v}"
        );
        if access == ListingAccess::Scope4711 {
            let msg = v["message"].as_str().unwrap();
            assert!(
                msg.contains("cloud_recording:read:list_account_recordings:admin"),
                "{msg}"
            );
        }
        assert_eq!(sim.stats().count_status(ACCOUNT_ROUTE, status), 1);
        let (st, _) = get(&sim, &tok, &format!("/users/me/recordings?{q}")).await;
        assert_eq!(st, 200, "{access:?}: the per-user listing still answers");
        let (st, _) = get(&sim, &tok, &format!("/meetings/meeting_summaries?{q}")).await;
        assert_eq!(
            st, 200,
            "{access:?} of the account listing leaves the summaries alone"
        );
    }
    for (access, status, code) in cases
        .into_iter()
        .chain([(ListingAccess::NotFound404, 404, 404)])
    {
        let mut c = config();
        c.access.summary_listing = access;
        let sim = start(c).await;
        let tok = token(&sim).await;
        let (st, v) = get(&sim, &tok, &format!("/meetings/meeting_summaries?{q}")).await;
        assert_eq!(
            (st.as_u16(), v["code"].as_i64()),
            (status, Some(code)),
            "{access:?}: {v}"
        );
        if access == ListingAccess::Scope4711 {
            let msg = v["message"].as_str().unwrap();
            assert!(
                msg.contains("meeting_summary:read:list_summaries:admin"),
                "{msg}"
            );
        }
        let with_summary = sim
            .manifest()
            .meetings
            .into_iter()
            .find(|m| m.has_summary)
            .unwrap();
        let (st, _) = get(
            &sim,
            &tok,
            &format!(
                "/meetings/{}/meeting_summary",
                enc(&enc(&with_summary.uuid))
            ),
        )
        .await;
        assert_eq!(st, 200, "{access:?}: the per-meeting summary still answers");
        let (st, _) = get(&sim, &tok, &format!("/accounts/me/recordings?{q}")).await;
        assert_eq!(st, 200);
    }
}

/// Tokens carry the configured scopes (and say so in `scope`); a route whose scope the token
/// lacks answers 403 code 4711 naming it, whatever token kind asks.
#[tokio::test]
async fn a_token_without_a_routes_scope_gets_4711_naming_it() {
    // The full grant by default lists both admin listings' scopes.
    let sim = start(config()).await;
    let (_, scope) = s2s(&sim).await;
    for s in [
        "cloud_recording:read:list_account_recordings:admin",
        "meeting_summary:read:list_summaries:admin",
        "cloud_recording:read:list_user_recordings:admin",
    ] {
        assert!(scope.split(' ').any(|x| x == s), "{s} missing from {scope}");
    }

    let mut c = config();
    c.access.scopes = Some(vec![
        "user:read:list_users:admin".into(),
        "cloud_recording:read:list_user_recordings".into(),
    ]);
    let sim = start(c).await;
    let (tok, scope) = s2s(&sim).await;
    assert_eq!(
        scope,
        "user:read:list_users:admin cloud_recording:read:list_user_recordings"
    );
    let q = "from=2026-06-01&to=2026-06-30";
    let needs = |v: &Value, scope: &str| {
        assert_eq!(v["code"], 4711, "{v}");
        let msg = v["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("scopes:[{scope}")),
            "{msg} should name {scope}"
        );
    };
    let (st, v) = get(&sim, &tok, &format!("/accounts/me/recordings?{q}")).await;
    assert_eq!(st, 403);
    needs(&v, "cloud_recording:read:list_account_recordings:admin");
    let (st, v) = get(&sim, &tok, &format!("/meetings/meeting_summaries?{q}")).await;
    assert_eq!(st, 403);
    needs(&v, "meeting_summary:read:list_summaries:admin");
    // The user-level scope lists the token's own user, not another.
    assert_eq!(
        get(&sim, &tok, &format!("/users/me/recordings?{q}"))
            .await
            .0,
        200
    );
    assert_eq!(get(&sim, &tok, "/users?status=inactive").await.0, 200);
    let other = sim
        .manifest()
        .users
        .iter()
        .filter_map(|u| u.id.clone())
        .nth(1)
        .unwrap();
    let (st, v) = get(&sim, &tok, &format!("/users/{other}/recordings?{q}")).await;
    assert_eq!(st, 403);
    needs(&v, "cloud_recording:read:list_user_recordings:admin");
    let m = sim.manifest().meetings[0].uuid.clone();
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/meetings/{}/meeting_summary", enc(&enc(&m))),
    )
    .await;
    assert_eq!(st, 403);
    needs(&v, "meeting:read:summary:admin");
    // The control plane's tokens (for scripts) carry the same scopes.
    let t: Value = http()
        .post(format!("{}/sim/token", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (st, _) = get(
        &sim,
        t["access_token"].as_str().unwrap(),
        &format!("/accounts/me/recordings?{q}"),
    )
    .await;
    assert_eq!(st, 403);

    // The classic scope opens the account listing too.
    let mut c = config();
    c.access.scopes = Some(vec!["account:read:admin".into()]);
    let sim = start(c).await;
    let tok = token(&sim).await;
    assert_eq!(
        get(&sim, &tok, &format!("/accounts/me/recordings?{q}"))
            .await
            .0,
        200
    );
    assert_eq!(get(&sim, &tok, "/users").await.0, 403);
}

/// The summary listing lists exactly the meetings whose `meeting_summary` answers 200,
/// newest first, with the same fields, paged and windowed like the recordings listings;
/// a meeting deleted for good drops out, a trashed one keeps its summary.
#[tokio::test]
async fn the_summary_listing_is_exactly_the_meetings_whose_summary_answers() {
    let sim = start(config()).await;
    let tok = token(&sim).await;
    let manifest = sim.manifest();
    let with: Vec<&zoom_sim::ManifestMeeting> = manifest
        .meetings
        .iter()
        .filter(|m| m.has_summary && !m.in_progress)
        .collect();
    assert!(with.len() >= 2);
    let del = |uuid: String, action: &'static str| {
        let url = format!(
            "{}/meetings/{}/recordings?action={action}",
            sim.api_base_url(),
            enc(&enc(&uuid))
        );
        let tok = tok.clone();
        async move {
            http()
                .delete(url)
                .bearer_auth(tok)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(del(with[0].uuid.clone(), "delete").await, 204);
    assert_eq!(del(with[1].uuid.clone(), "trash").await, 204);

    let mut summarised = BTreeMap::new();
    for m in &manifest.meetings {
        let (st, v) = get(
            &sim,
            &tok,
            &format!("/meetings/{}/meeting_summary", enc(&enc(&m.uuid))),
        )
        .await;
        if st == 200 {
            summarised.insert(m.uuid.clone(), v);
        }
    }
    assert!(!summarised.contains_key(&with[0].uuid), "deleted for good");
    assert!(
        summarised.contains_key(&with[1].uuid),
        "trashed keeps its summary"
    );

    let mut listed = BTreeMap::new();
    let mut small_pages = BTreeSet::new();
    for w in windows(day(FIRST_DAY), day(LAST_DAY)) {
        for e in walk(
            &sim,
            &tok,
            "/meetings/meeting_summaries",
            "summaries",
            w,
            300,
        )
        .await
        {
            let uuid = e["meeting_uuid"].as_str().unwrap().to_string();
            assert!(listed.insert(uuid, e).is_none(), "each meeting once");
        }
        small_pages.extend(uuids(
            &walk(&sim, &tok, "/meetings/meeting_summaries", "summaries", w, 2).await,
            "meeting_uuid",
        ));
    }
    assert_eq!(
        listed.keys().collect::<BTreeSet<_>>(),
        summarised.keys().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        small_pages,
        listed.keys().cloned().collect(),
        "pages of 2 list the same"
    );
    for (uuid, e) in &listed {
        let full = &summarised[uuid];
        for k in [
            "meeting_uuid",
            "meeting_id",
            "meeting_topic",
            "meeting_start_time",
            "meeting_end_time",
            "summary_created_time",
            "summary_last_modified_time",
        ] {
            assert_eq!(e[k], full[k], "{k} of {uuid}");
        }
        let host = manifest.meetings.iter().find(|m| &m.uuid == uuid).unwrap();
        assert_eq!(e["meeting_host_id"], host.host_id.as_str());
        assert_eq!(e["meeting_host_email"], host.host_email.as_str());
    }
    assert_eq!(
        sim.stats().count_status(SUMMARIES_ROUTE, 200),
        sim.stats().count(SUMMARIES_ROUTE)
    );
}

/// On the Free plan there are no summaries: the listing answers 400 code 200, like
/// `meeting_summary` there.
#[tokio::test]
async fn the_free_plan_answers_the_summary_listing_400_code_200() {
    let mut c = config();
    c.plan = Plan::Free;
    let sim = start(c).await;
    let tok = token(&sim).await;
    let (st, v) = get(
        &sim,
        &tok,
        "/meetings/meeting_summaries?from=2026-06-01&to=2026-06-30",
    )
    .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (400, Some(200)), "{v}");
}

/// The meeting `uuid` as the listing at `path` shows it, if it does.
async fn find_meeting(sim: &Simulator, tok: &str, path: String, uuid: &str) -> Option<Value> {
    let (st, v) = get(sim, tok, &path).await;
    assert_eq!(st, 200, "{v}");
    v["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uuid"] == uuid)
        .cloned()
}

/// A meeting added to the live account is listed (account and host listings, summaries),
/// its files download with the manifest's bytes; a processing file, once finished, is listed
/// completed with its size; a meeting deleted in the portal leaves the listings without a
/// deletion record. Bad requests are refused with the reason.
#[tokio::test]
async fn the_live_account_changes_outside_the_api() {
    let sim = start(config()).await;
    let tok = token(&sim).await;
    let manifest = sim.manifest();
    let inactive = manifest
        .users
        .iter()
        .find(|u| u.status == "inactive")
        .unwrap();
    let before = manifest.meetings.len();
    let added = sim
        .add_meeting(NewMeeting {
            host: inactive.email.clone(),
            start_time: "2025-01-15T09:30:00Z".into(),
            topic: Some("Late upload".into()),
            transcript_processing: true,
            summary: true,
            ..NewMeeting::default()
        })
        .unwrap();
    assert_eq!(added.host_id, inactive.id.clone().unwrap());
    assert_eq!(added.start_time, "2025-01-15T09:30:00Z");
    assert_eq!(sim.manifest().meetings.len(), before + 1);
    let transcript = added
        .files
        .iter()
        .find(|f| f.file_type == "TRANSCRIPT")
        .unwrap()
        .clone();
    assert_eq!(transcript.status, "processing");

    let w = "from=2025-01-01&to=2025-01-31&page_size=300";
    let listed = |path: String| find_meeting(&sim, &tok, path, &added.uuid);
    let host = inactive.id.clone().unwrap();
    let m = listed(format!("/accounts/me/recordings?{w}"))
        .await
        .expect("in the account listing");
    assert_eq!(m["host_email"], inactive.email.as_str());
    assert!(
        listed(format!("/users/{host}/recordings?{w}"))
            .await
            .is_some()
    );
    let (_, v) = get(
        &sim,
        &tok,
        "/meetings/meeting_summaries?from=2025-01-01&to=2025-01-31",
    )
    .await;
    assert!(uuids(v["summaries"].as_array().unwrap(), "meeting_uuid").contains(&added.uuid));
    let file = |m: &Value, id: &str| {
        m["recording_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    let t = file(&m, &transcript.id);
    assert_eq!(
        (t["status"].as_str(), t["file_size"].as_u64()),
        (Some("processing"), Some(0))
    );

    // Its MP4 downloads with the bytes the manifest promises.
    let mp4 = added.files.iter().find(|f| f.file_type == "MP4").unwrap();
    let url = file(&m, &mp4.id)["download_url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http().get(&url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let cdn = r.headers()["location"].to_str().unwrap().to_string();
    let body = http()
        .get(&cdn)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len() as u64, mp4.size);
    assert_eq!(body.to_vec(), mp4.content(0, mp4.size as usize));

    // Zoom finishes the transcript.
    let done = sim
        .finish_processing(&added.uuid, Some(&transcript.id))
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].status.as_str(), done[0].size),
        ("completed", transcript.size)
    );
    let m = listed(format!("/accounts/me/recordings?{w}"))
        .await
        .unwrap();
    let t = file(&m, &transcript.id);
    assert_eq!(
        (
            t["status"].as_str(),
            t["file_size"].as_u64(),
            t["file_type"].as_str()
        ),
        (Some("completed"), Some(transcript.size), Some("TRANSCRIPT"))
    );
    let e = sim
        .finish_processing(&added.uuid, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no file still processing"), "{e}");

    // Deleted in the portal: to the trash, then for good; never a deletion record.
    sim.delete_in_portal(&added.uuid, PortalDelete::Trash)
        .unwrap();
    assert!(
        listed(format!("/accounts/me/recordings?{w}"))
            .await
            .is_none()
    );
    assert!(
        listed(format!("/accounts/me/recordings?{w}&trash=true"))
            .await
            .is_some()
    );
    sim.delete_in_portal(&added.uuid, PortalDelete::Permanently)
        .unwrap();
    assert!(
        listed(format!("/accounts/me/recordings?{w}&trash=true"))
            .await
            .is_none()
    );
    let (st, _) = get(
        &sim,
        &tok,
        &format!("/meetings/{}/recordings", enc(&enc(&added.uuid))),
    )
    .await;
    assert_eq!(st, 404);
    assert!(sim.deletions().is_empty());
    assert_eq!(sim.stats().deletions, 0);

    // What cannot be done says why.
    let pending = manifest
        .users
        .iter()
        .find(|u| u.status == "pending")
        .unwrap();
    for (new, why) in [
        (
            NewMeeting {
                host: pending.email.clone(),
                start_time: "2025-01-15T09:30:00Z".into(),
                ..NewMeeting::default()
            },
            "pending",
        ),
        (
            NewMeeting {
                host: "nobody@example.com".into(),
                start_time: "2025-01-15T09:30:00Z".into(),
                ..NewMeeting::default()
            },
            "no user",
        ),
        (
            NewMeeting {
                host: inactive.email.clone(),
                start_time: "yesterday".into(),
                ..NewMeeting::default()
            },
            "RFC 3339",
        ),
    ] {
        let e = sim.add_meeting(new).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
    let e = sim
        .delete_in_portal("no-such-uuid", PortalDelete::Trash)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no meeting"), "{e}");
}

/// The same changes over the control plane, for scripts and subprocess tests.
#[tokio::test]
async fn the_live_account_changes_over_http() {
    let mut c = config();
    c.account.processing_fraction = 0.3;
    let sim = start(c).await;
    let base = format!("{}/sim", sim.base_url());
    let host = sim.manifest().users[0].id.clone().unwrap();
    let r = http()
        .post(format!("{base}/meetings"))
        .json(&serde_json::json!({"host": host, "start_time": "2026-06-29T08:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let added: Value = r.json().await.unwrap();
    let uuid = added["uuid"].as_str().unwrap().to_string();
    assert!(sim.manifest().meetings.iter().any(|m| m.uuid == uuid));

    // A generated meeting with a processing file, finished over HTTP.
    let (m, f) = sim
        .manifest()
        .files()
        .find(|(_, f)| !f.is_completed())
        .map(|(m, f)| (m.uuid.clone(), f.id.clone()))
        .expect("a processing file at 30%");
    let r = http()
        .post(format!("{base}/meetings/finish-processing"))
        .json(&serde_json::json!({"uuid": m, "file_id": f}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done[0]["id"], f.as_str());
    assert!(sim.manifest().file(&f).unwrap().is_completed());

    let r = http()
        .post(format!("{base}/meetings/portal-delete"))
        .json(&serde_json::json!({"uuid": uuid, "how": "permanently"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let gone = sim
        .manifest()
        .meetings
        .into_iter()
        .find(|m| m.uuid == uuid)
        .unwrap();
    assert!(
        gone.files
            .iter()
            .all(|f| f.cloud == zoom_sim::CloudState::Deleted)
    );
    let r = http()
        .post(format!("{base}/meetings/portal-delete"))
        .json(&serde_json::json!({"uuid": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("no meeting"));
}

/// A scenario names the access settings in `[access]`; a scope with a space is refused.
#[test]
fn scenarios_set_scopes_and_refusals() {
    let c = SimConfig::from_toml_str(
        "[access]\nscopes = [\"account:read:admin\"]\naccount_listing = \"not_allowed_4700\"\n",
    )
    .unwrap();
    assert_eq!(
        c.access.scopes,
        Some(vec!["account:read:admin".to_string()])
    );
    assert_eq!(c.access.account_listing, ListingAccess::NotAllowed4700);
    assert_eq!(c.access.summary_listing, ListingAccess::Allowed);
    let mut bad = SimConfig::default();
    bad.access.scopes = Some(vec!["two words".into()]);
    assert!(
        bad.check()
            .unwrap_err()
            .to_string()
            .contains("access.scopes")
    );
    let e = SimConfig::from_toml_str("[access]\naccount_listing = \"maybe\"\n").unwrap_err();
    assert!(e.to_string().contains("maybe"), "{e}");
}
