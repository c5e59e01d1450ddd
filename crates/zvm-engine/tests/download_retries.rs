//! A download has one retry loop, the engine's: the client opens a download in one attempt
//! and the engine's `TransferRetry` decides the rest. A file whose every attempt fails costs
//! exactly the engine's budget in requests, not that budget times the client's own
//! attempts (which it was when both loops retried: 20 x 6).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use zoom_sim::{SimConfig, Simulator};
use zvm_dest::LocalDestination;
use zvm_engine::{Engine, Event, TransferRetry};
use zvm_state::SqliteState;
use zvm_zoom::{ClientConfig, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_always_fails_costs_exactly_the_engines_budget_of_requests() {
    let mut cfg = SimConfig::preset("big").expect("preset");
    cfg.account.meetings = 3;
    cfg.account.file_size = Some(64 << 10);
    // Every CDN request answers 502: a transient failure, every time.
    cfg.faults.cdn_5xx_prob = 1.0;
    let sim = Simulator::start(cfg).await.expect("sim");
    let files = sim.manifest().files().count() as u64;
    assert_eq!(files, 3);

    let dir = tempfile::tempdir().expect("tempdir");
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let sink = events.clone();
    let engine = Engine::new(
        common::client(
            &sim,
            ClientConfig {
                plan: Plan::Unlimited,
                ..ClientConfig::default()
            },
        ),
        Arc::new(SqliteState::open(&dir.path().join("s.db")).expect("state")),
        Arc::new(LocalDestination::new(dir.path().join("d"))),
        Arc::new(move |e: Event| {
            if let Ok(mut v) = sink.lock() {
                v.push(e);
            }
        }),
    );
    let budget = TransferRetry::default().max_attempts;
    assert_eq!(budget, 20, "the budget this test is about");
    let mut opts = common::all_users_for_years(2);
    // The production budget, with delays shrunk so the test does not wait minutes.
    opts.retry = TransferRetry {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..TransferRetry::default()
    };
    let summary = engine
        .sync(&opts, CancellationToken::new())
        .await
        .expect("the run itself completes");
    assert_eq!(summary.files_failed, files, "every file fails");

    let s = sim.stats();
    let cdn = s
        .requests
        .get("GET /cdn/file/{id}")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        cdn.get(&502).copied().unwrap_or(0),
        u64::from(budget) * files,
        "CDN requests: {budget} per file, no more (by status: {cdn:?})"
    );
    assert_eq!(cdn.values().sum::<u64>(), u64::from(budget) * files);
    assert_eq!(
        s.download_requests(),
        u64::from(budget) * files,
        "requests to the download URL"
    );
    // Every attempt but the last is reported as a retry, numbered by the engine's count.
    let events = events.lock().expect("events");
    let retries: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            Event::FileRetry { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len() as u64, u64::from(budget - 1) * files);
    assert_eq!(retries.iter().max(), Some(&(budget - 1)));
}
