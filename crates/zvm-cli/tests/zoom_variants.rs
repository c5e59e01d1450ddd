//! End-to-end runs of `zvm sync` against the variants of Zoom's behaviour that zoom-api.md
//! leaves open, each played by the simulator: a CDN that wants the bearer token and one that
//! refuses it (§3), per-second 429s with no rate-limit header at all (§6), the Free plan's
//! answer to summary requests (§4), and a server that narrows listing spans more strictly
//! than zvm's one-month windows (§2). In each, the run must copy everything and exit 0.

mod common;

use common::{TestContext, small_account};
use zoom_sim::{Plan, SimConfig};

/// A small account over about a year, so a variant run stays short under a strict limit.
fn account_of_a_year(seed: u64, meetings: u32) -> SimConfig {
    let mut cfg = small_account(seed, meetings);
    cfg.account.years = 1;
    cfg.account.processing_fraction = 0.0;
    cfg
}

/// Runs one sync of the whole account and checks the copy is complete and exact.
async fn sync_and_verify(ctx: &TestContext, what: &str) -> common::RunOutput {
    let out = ctx.sync(&["--from", "13m"]).await;
    out.expect_code(0, what);
    let manifest = ctx.sim.manifest();
    let completed = manifest.files().filter(|(_, f)| f.is_completed()).count();
    assert!(completed > 0, "{what}: the account has files to copy");
    assert_eq!(ctx.verify_copy(), completed, "{what}: every file copied");
    out
}

/// The CDN requests so far, by status.
fn cdn_answers(ctx: &TestContext) -> std::collections::BTreeMap<u16, u64> {
    ctx.sim
        .stats()
        .requests
        .get("GET /cdn/file/{id}")
        .cloned()
        .unwrap_or_default()
}

/// zvm sends the token to Zoom's download host only; a CDN that refuses the signed link
/// alone gets it on a second ask, and from then on at once. Both CDNs get every file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_copies_everything_whether_the_cdn_wants_or_refuses_the_token() {
    // The CDN that refuses an Authorization header: zvm never sends it one.
    let mut cfg = account_of_a_year(31, 16);
    cfg.cdn_refuses_auth = true;
    let ctx = TestContext::start(cfg).await;
    sync_and_verify(&ctx, "sync against a CDN that refuses the token").await;
    let answers = cdn_answers(&ctx);
    assert_eq!(
        answers.get(&403),
        None,
        "a request carried the token: {answers:?}"
    );

    // The CDN that wants it: refused only until zvm learned that, a few transfers at most.
    let mut cfg = account_of_a_year(32, 16);
    cfg.cdn_requires_auth = true;
    let ctx = TestContext::start(cfg).await;
    sync_and_verify(&ctx, "sync against a CDN that wants the token").await;
    let answers = cdn_answers(&ctx);
    let refused = answers.get(&403).copied().unwrap_or(0);
    let served = answers.get(&200).copied().unwrap_or(0);
    assert!(
        refused >= 1,
        "the CDN never refused: the case tests nothing"
    );
    // Transfers already on their way when the first refusal was learned from are refused
    // too; anything near one refusal per file means zvm did not remember.
    assert!(
        refused * 2 < served,
        "{refused} refusals for {served} files: zvm does not remember the CDN wants the token"
    );
}

/// Per-second 429s with no `X-RateLimit-*` and no `Retry-After`: zvm (paced for Business,
/// far above this account's limit) backs off on its own, finishes and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_backs_off_on_bare_429s_and_finishes() {
    let mut cfg = account_of_a_year(33, 16);
    cfg.rate_limits.enabled = true;
    cfg.rate_limits.send_headers = false;
    cfg.rate_limits.medium_per_sec = Some(5);
    cfg.rate_limits.light_per_sec = Some(5);
    let ctx = TestContext::start(cfg).await;
    sync_and_verify(&ctx, "sync under bare 429s").await;
    assert!(
        ctx.sim.stats().rate_limited > 0,
        "the simulator never answered 429: the case tests nothing"
    );
}

/// On the Free plan every summary request answers 400 code 200. zvm treats it as "no
/// summaries on this plan": not a failure, exit 0, everything else copied, one warning, and
/// it stops asking after the first answers instead of asking for every meeting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_on_the_free_plan_copies_everything_without_summaries() {
    let mut cfg = account_of_a_year(34, 40);
    cfg.plan = Plan::Free;
    // The plan's summaries are what is tested here, not its rate limits.
    cfg.rate_limits.enabled = false;
    cfg.account.summary_fraction = 1.0;
    let ctx = TestContext::start(cfg).await;
    let out = sync_and_verify(&ctx, "sync on the Free plan").await;
    let meetings = ctx.sim.manifest().meetings.len() as u64;
    let warnings = out
        .all()
        .matches("summaries are not available on this Zoom account's plan")
        .count();
    assert_eq!(warnings, 1, "one warning:\n{}", common::tail(&out.all()));
    // Detail requests run 16 at once, so up to 16 may be on their way before the first
    // answer: never one per meeting.
    let asked = ctx
        .sim
        .stats()
        .count("GET /v2/meetings/{uuid}/meeting_summary");
    assert!(
        (1..=16).contains(&asked) && asked < meetings,
        "{asked} summary requests for {meetings} meetings"
    );
}

/// A server that narrows any span longer than 28 days (stricter than zvm's one-month
/// windows, so it narrows every one of them): zvm walks the dropped days too and copies
/// every meeting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_misses_nothing_when_the_server_narrows_every_window() {
    let mut cfg = account_of_a_year(35, 40);
    cfg.narrowing_days = Some(28);
    let ctx = TestContext::start(cfg).await;
    sync_and_verify(&ctx, "sync with 28-day narrowing").await;
    // 13 months of the account is at most 14 one-month windows: more requests than that
    // means the narrowing fired and the dropped days were asked for.
    let listing = ctx.sim.stats().count("GET /v2/accounts/{id}/recordings");
    assert!(
        listing > 14,
        "{listing} listing requests: the narrowing never fired"
    );
}
