//! Meetings picked one by one (the GUI's selection): a run with `Filters::meeting_uuids`
//! downloads those meetings and nothing else, and a move plans deletions of those alone.

mod common;

use std::collections::BTreeSet;

use tokio_util::sync::CancellationToken;
use zoom_sim::{SimConfig, Simulator};
use zvm_engine::MoveOptions;
use zvm_state::{FileStatus, StateStore};
use zvm_zoom::DeleteAction;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_picked_meetings_are_downloaded_and_planned_for_deletion() {
    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, state) = common::engine(
        &sim,
        &dir.path().join("dest"),
        &dir.path().join("s.sqlite3"),
    );

    // Two finished meetings with files, of different hosts where the account has them.
    let manifest = sim.manifest();
    let done: Vec<_> = manifest
        .meetings
        .iter()
        .filter(|m| !m.in_progress && m.files.iter().any(|f| f.is_completed()))
        .collect();
    assert!(done.len() > 4, "the account has meetings to choose from");
    let a = done[0];
    let b = done
        .iter()
        .find(|m| m.host_id != a.host_id)
        .unwrap_or(&done[1]);
    let picked: BTreeSet<String> = [a.uuid.clone(), b.uuid.clone()].into();

    let mut opts = common::all_users_for_years(6);
    opts.filters.meeting_uuids = Some(picked.clone());
    let run = engine.sync(&opts, CancellationToken::new()).await.unwrap();
    assert_eq!(run.files_failed, 0, "{run:?}");
    assert!(run.files_downloaded >= 2, "{run:?}");

    let verified = state.files_with_status(FileStatus::Verified).await.unwrap();
    let meetings: BTreeSet<String> = verified
        .iter()
        .map(|r| r.key.meeting_uuid.clone())
        .collect();
    assert_eq!(meetings, picked, "files of exactly the picked meetings");
    let wanted_downloads = [a, b]
        .iter()
        .flat_map(|m| m.files.iter().chain(m.participant_audio.iter()))
        .filter(|f| f.is_completed())
        .count() as u64;
    assert_eq!(
        sim.stats().download_requests(),
        wanted_downloads,
        "one download per file of the picked meetings, none of the others"
    );

    // A move with the same selection plans deletions of the picked meetings only.
    let plan = engine
        .plan_move(
            &opts,
            &MoveOptions {
                action: DeleteAction::Trash,
                older_than: None,
                audit_log: dir.path().join("audit.jsonl"),
            },
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(!plan.candidates.is_empty());
    for c in &plan.candidates {
        assert!(picked.contains(&c.meeting_uuid), "{c:?}");
    }
    for (uuid, topic, reason) in &plan.kept {
        assert!(picked.contains(uuid), "{uuid} {topic}: {reason}");
    }
    assert!(sim.deletions().is_empty(), "planning deletes nothing");
}
