//! The client's admin listings against the project's simulator over real HTTP: the account's
//! recordings (`list_account_meetings`) and the summaries (`list_summaries`) over several
//! months, with Zoom's narrowing and pages; each refusal Zoom answers them with is told apart
//! (`is_refused`, with the scope to tell the admin), server errors are not.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use jiff::civil::Date;
use zoom_sim::{AccountSpec, FaultConfig, ListingAccess, RateLimitConfig, SimConfig, Simulator};
use zvm_zoom::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ACCOUNT_ROUTE: &str = "GET /v2/accounts/{id}/recordings";
const USER_ROUTE: &str = "GET /v2/users/{id}/recordings";
const SUMMARIES_ROUTE: &str = "GET /v2/meetings/meeting_summaries";

/// Three years of an account with active, inactive and pending users.
fn sim_config() -> SimConfig {
    SimConfig {
        account: AccountSpec {
            active_users: 3,
            inactive_users: 2,
            pending_users: 1,
            meetings: 240,
            years: 3,
            end_date: Some("2026-06-30".into()),
            mp4_size: (4 << 10, 8 << 10),
            small_size: (512, 2 << 10),
            summary_fraction: 0.5,
            ..AccountSpec::default()
        },
        rate_limits: RateLimitConfig {
            enabled: false,
            ..RateLimitConfig::default()
        },
        ..SimConfig::default()
    }
}

/// The three years the account covers, and their one-month windows as the client walks
/// them (`[to - 1 month, to]`, back from the end).
fn range() -> Result<(Date, Date), Box<dyn std::error::Error>> {
    Ok(("2023-07-01".parse()?, "2026-06-30".parse()?))
}
const WINDOWS_IN_RANGE: u64 = 35;

async fn start(conf: SimConfig) -> Result<(Simulator, ZoomClient), Box<dyn std::error::Error>> {
    let sim = Simulator::start(conf).await.map_err(|e| e.to_string())?;
    let c = sim.credentials();
    let client = ZoomClient::new(
        ClientConfig {
            api_base: sim.api_base_url(),
            oauth_base: sim.oauth_base_url(),
            plan: Plan::Unlimited,
            retry: RetryPolicy::fast(),
            stall_timeout: Duration::from_millis(300),
            ..ClientConfig::default()
        },
        Credentials::ServerToServer {
            account_id: c.account_id,
            client_id: c.client_id,
            client_secret: Secret::new(c.client_secret),
        },
    )?;
    Ok((sim, client))
}

async fn collect<T>(
    s: impl futures::Stream<Item = Result<T, ZoomError>> + Unpin,
) -> Result<Vec<T>, ZoomError> {
    s.collect::<Vec<_>>().await.into_iter().collect()
}

fn in_range(start_time: &str, from: Date, to: Date) -> bool {
    start_time
        .get(..10)
        .and_then(|d| d.parse::<Date>().ok())
        .is_some_and(|d| d >= from && d <= to)
}

/// Every meeting of every user (inactive users' too), each once, newest first, with its
/// host; one request per one-month window and none per user; the same meetings as the
/// per-user listings together.
#[tokio::test]
async fn the_account_listing_streams_every_users_meetings() -> TestResult {
    let (sim, c) = start(sim_config()).await?;
    let manifest = sim.manifest();
    let (from, to) = range()?;
    let got = collect(c.list_account_meetings(from, to)).await?;
    let stats = sim.stats();
    assert_eq!(
        stats.count(ACCOUNT_ROUTE),
        WINDOWS_IN_RANGE,
        "one request per window"
    );
    assert_eq!(stats.count(USER_ROUTE), 0);

    let want: BTreeMap<&str, &zoom_sim::ManifestMeeting> = manifest
        .meetings
        .iter()
        .filter(|m| in_range(&m.start_time, from, to))
        .map(|m| (m.uuid.as_str(), m))
        .collect();
    assert_eq!(got.len(), want.len(), "each meeting once");
    let got_uuids: BTreeSet<&str> = got.iter().map(|m| m.uuid.as_str()).collect();
    assert_eq!(got_uuids, want.keys().copied().collect::<BTreeSet<_>>());
    let starts: Vec<&str> = got.iter().map(|m| m.start_time.as_str()).collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    for m in &got {
        let w = want[m.uuid.as_str()];
        assert_eq!((&m.host_id, &m.host_email), (&w.host_id, &w.host_email));
    }
    let inactive: BTreeSet<String> = manifest
        .users
        .iter()
        .filter(|u| u.status == "inactive")
        .filter_map(|u| u.id.clone())
        .collect();
    assert!(
        got.iter().any(|m| inactive.contains(&m.host_id)),
        "inactive users' meetings are listed"
    );

    // The same meetings as every user's own listing together.
    let mut users = c.list_users(UserStatusFilter::Active).await?;
    users.extend(c.list_users(UserStatusFilter::Inactive).await?);
    let mut union = BTreeSet::new();
    for u in &users {
        for m in collect(c.list_meetings(&u.id, from, to)).await? {
            union.insert(m.uuid);
        }
    }
    assert_eq!(
        union,
        got.iter().map(|m| m.uuid.clone()).collect::<BTreeSet<_>>()
    );
    Ok(())
}

/// A server that narrows every window (28 days): the client walks the dropped days too and
/// misses nothing, on the account listing and the summary listing alike.
#[tokio::test]
async fn narrowed_windows_lose_nothing_on_either_listing() -> TestResult {
    let mut conf = sim_config();
    conf.narrowing_days = Some(28);
    let (sim, c) = start(conf).await?;
    let manifest = sim.manifest();
    let (from, to) = range()?;
    let got: BTreeSet<String> = collect(c.list_account_meetings(from, to))
        .await?
        .into_iter()
        .map(|m| m.uuid)
        .collect();
    let want: BTreeSet<String> = manifest
        .meetings
        .iter()
        .filter(|m| in_range(&m.start_time, from, to))
        .map(|m| m.uuid.clone())
        .collect();
    assert_eq!(got, want);
    assert!(
        sim.stats().count(ACCOUNT_ROUTE) > WINDOWS_IN_RANGE,
        "the narrowing fired"
    );
    let summaries: BTreeSet<String> = collect(c.list_summaries(from, to))
        .await?
        .into_iter()
        .map(|s| s.meeting_uuid)
        .collect();
    let summarised: BTreeSet<String> = manifest
        .meetings
        .iter()
        .filter(|m| m.has_summary && in_range(&m.start_time, from, to))
        .map(|m| m.uuid.clone())
        .collect();
    assert_eq!(summaries, summarised);
    Ok(())
}

/// Windows of more than 300 meetings come in several pages; every page is read.
#[tokio::test]
async fn every_page_of_a_busy_window_is_read() -> TestResult {
    let mut conf = sim_config();
    conf.account.meetings = 4000;
    conf.account.years = 1;
    conf.account.summary_fraction = 1.0;
    let (sim, c) = start(conf).await?;
    let (from, to): (Date, Date) = ("2026-05-01".parse()?, "2026-06-30".parse()?);
    let got = collect(c.list_account_meetings(from, to)).await?;
    let manifest = sim.manifest();
    let want: BTreeSet<&str> = manifest
        .meetings
        .iter()
        .filter(|m| in_range(&m.start_time, from, to))
        .map(|m| m.uuid.as_str())
        .collect();
    assert!(
        want.len() > 600,
        "{} meetings: fewer than two pages a window",
        want.len()
    );
    assert_eq!(got.len(), want.len());
    assert_eq!(
        got.iter().map(|m| m.uuid.as_str()).collect::<BTreeSet<_>>(),
        want
    );
    // Two windows ([05-30, 06-30] and [05-01, 05-29]), each more than one page.
    assert!(sim.stats().count(ACCOUNT_ROUTE) >= 4);
    let summaries = collect(c.list_summaries(from, to)).await?;
    assert_eq!(
        summaries.len(),
        want.len(),
        "every meeting has a summary here"
    );
    assert!(sim.stats().count(SUMMARIES_ROUTE) >= 4);
    Ok(())
}

/// The summary listing names exactly the meetings with a summary, with their facts, one
/// request per window.
#[tokio::test]
async fn the_summary_listing_streams_the_meetings_with_a_summary() -> TestResult {
    let (sim, c) = start(sim_config()).await?;
    let manifest = sim.manifest();
    let (from, to) = range()?;
    let got = collect(c.list_summaries(from, to)).await?;
    assert_eq!(sim.stats().count(SUMMARIES_ROUTE), WINDOWS_IN_RANGE);
    let want: BTreeMap<&str, &zoom_sim::ManifestMeeting> = manifest
        .meetings
        .iter()
        .filter(|m| m.has_summary && in_range(&m.start_time, from, to))
        .map(|m| (m.uuid.as_str(), m))
        .collect();
    assert!(want.len() >= 50);
    assert_eq!(got.len(), want.len());
    for s in &got {
        let m = want
            .get(s.meeting_uuid.as_str())
            .ok_or_else(|| format!("{} has no summary", s.meeting_uuid))?;
        assert_eq!(
            (s.meeting_id, &s.meeting_topic, &s.meeting_start_time),
            (m.id, &m.topic, &m.start_time)
        );
        assert_eq!(
            (&s.meeting_host_id, &s.meeting_host_email),
            (&m.host_id, &m.host_email)
        );
        // What the listing says matches what the meeting's own summary says.
        let full = c
            .meeting_summary(&s.meeting_uuid)
            .await?
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(full.summary_created_time, s.summary_created_time);
    }
    Ok(())
}

/// The first item of an admin listing's stream, which must be an error.
async fn first_error<T>(
    s: impl futures::Stream<Item = Result<T, ZoomError>> + Unpin,
) -> Result<ZoomError, Box<dyn std::error::Error>> {
    let mut s = s;
    match s.next().await {
        Some(Err(e)) => {
            assert!(s.next().await.is_none(), "the stream ends with its error");
            Ok(e)
        }
        Some(Ok(_)) => Err("the listing answered".into()),
        None => Err("the listing was empty".into()),
    }
}

/// Each refusal zoom-api.md lists, for either listing, is a refusal naming the scope to
/// grant; a token without the scope too; the message never shows the token.
#[tokio::test]
async fn every_refusal_is_classified_as_refused() -> TestResult {
    let (from, to) = range()?;
    let variants = [
        (ListingAccess::Scope4711, 403),
        (ListingAccess::NotAllowed4700, 403),
        (ListingAccess::BadRequest400, 400),
        (ListingAccess::NotFound404, 404),
    ];
    for (access, status) in variants {
        let mut conf = sim_config();
        conf.access.account_listing = access;
        let (sim, c) = start(conf).await?;
        let e = first_error(c.list_account_meetings(from, to)).await?;
        assert!(e.is_refused(), "{access:?}: {e}");
        assert_eq!(e.refused_listing(), Some(AdminListing::AccountRecordings));
        assert_eq!(e.status(), Some(status));
        assert_eq!(
            e.scope_to_grant().as_deref(),
            Some("cloud_recording:read:list_account_recordings:admin")
        );
        let text = e.to_string();
        assert!(text.contains("list_account_recordings:admin"), "{text}");
        assert!(!text.contains("sim-at-"), "no token in {text}");
        // The fallback answers.
        let users = c.list_users(UserStatusFilter::Active).await?;
        collect(c.list_meetings(&users[0].id, from, to)).await?;
        // Nothing was retried: a refusal is final.
        assert_eq!(
            sim.stats().count_status(ACCOUNT_ROUTE, status),
            sim.stats().count(ACCOUNT_ROUTE)
        );

        let mut conf = sim_config();
        conf.access.summary_listing = access;
        let (_sim, c) = start(conf).await?;
        let e = first_error(c.list_summaries(from, to)).await?;
        assert!(e.is_refused(), "{access:?}: {e}");
        assert_eq!(e.refused_listing(), Some(AdminListing::MeetingSummaries));
        assert_eq!(
            e.scope_to_grant().as_deref(),
            Some("meeting_summary:read:list_summaries:admin")
        );
    }

    // An app whose token lacks the scopes: 4711 from the gateway, the scope from its message.
    let mut conf = sim_config();
    conf.access.scopes = Some(vec![
        "user:read:list_users:admin".into(),
        "cloud_recording:read:list_user_recordings:admin".into(),
        "meeting:read:summary:admin".into(),
    ]);
    let (_sim, c) = start(conf).await?;
    let e = first_error(c.list_account_meetings(from, to)).await?;
    assert!(e.is_refused());
    assert_eq!(e.code(), Some(4711));
    assert_eq!(
        e.scope_to_grant().as_deref(),
        Some("cloud_recording:read:list_account_recordings:admin")
    );
    let e = first_error(c.list_summaries(from, to)).await?;
    assert!(e.is_refused());
    assert_eq!(
        e.scope_to_grant().as_deref(),
        Some("meeting_summary:read:list_summaries:admin")
    );

    // On the Free plan the summary listing is a refusal too (400 code 200).
    let mut conf = sim_config();
    conf.plan = zoom_sim::Plan::Free;
    let (_sim, c) = start(conf).await?;
    let e = first_error(c.list_summaries(from, to)).await?;
    assert!(e.is_refused());
    assert_eq!((e.status(), e.code()), (Some(400), Some(200)));
    Ok(())
}

/// A listing that is down (503 on every request) or an expired token is not a refusal:
/// the caller must not fall back silently on a server's bad day.
#[tokio::test]
async fn server_errors_are_not_refusals() -> TestResult {
    let (from, to) = range()?;
    for route in [
        "/v2/accounts/{id}/recordings",
        "/v2/meetings/meeting_summaries",
    ] {
        let mut conf = sim_config();
        conf.faults = FaultConfig {
            failing_routes: vec![route.into()],
            ..FaultConfig::default()
        };
        let (sim, c) = start(conf).await?;
        let e = if route.contains("accounts") {
            first_error(c.list_account_meetings(from, to)).await?
        } else {
            first_error(c.list_summaries(from, to)).await?
        };
        assert!(!e.is_refused(), "{route}: {e}");
        assert_eq!(e.refused_listing(), None);
        assert_eq!(e.status(), Some(503));
        assert_eq!(e.scope_to_grant(), None);
        assert!(
            sim.stats().count(&format!("GET {route}"))
                >= u64::from(RetryPolicy::fast().max_attempts),
            "the 503s were retried before giving up"
        );
    }
    Ok(())
}
