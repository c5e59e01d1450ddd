//! The search index grows as files arrive (issue #20): `zvm sync` is SIGKILLed while its
//! videos still download, and every transcript, caption, chat and summary the state calls
//! verified at that moment is already in the index; `zvm search` finds a transcript's line
//! at the second it was said. The videos come through a CDN capped at 256 KiB/s a
//! connection, so the run lasts many seconds on any machine and the kill lands mid-run.

mod common;

use std::time::Duration;

use common::{TestContext, small_account};
use serde_json::Value;
use zoom_sim::SimConfig;
use zoom_sim::text::cues;
use zvm_archive::SearchIndex;
use zvm_archive::extract::TextFormat;
use zvm_state::{FileRow, FileStatus, SqliteState, StateStore};

fn slow_account() -> SimConfig {
    let mut cfg = small_account(20_261_201, 10);
    cfg.account.processing_fraction = 0.0;
    cfg.account.hostile_fraction = 0.0;
    cfg.account.mp4_size = (1 << 20, 2 << 20);
    cfg.faults.bandwidth_bps = 256 << 10;
    cfg.rate_limits.enabled = false;
    cfg
}

/// The verified rows of the state as it is now (read while the run writes it: WAL).
async fn verified(ctx: &TestContext) -> Vec<FileRow> {
    if !ctx.state.exists() {
        return Vec::new();
    }
    let Ok(state) = SqliteState::open(&ctx.state) else {
        return Vec::new();
    };
    state
        .files_with_status(FileStatus::Verified)
        .await
        .unwrap_or_default()
}

fn is_text(f: &FileRow) -> bool {
    TextFormat::of(&f.file_type, &f.rel_path).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_mid_run_has_indexed_every_text_file_it_verified() {
    let ctx = TestContext::start(slow_account()).await;
    let manifest = ctx.sim.manifest();
    let videos = manifest
        .meetings
        .iter()
        .flat_map(|m| m.files.iter())
        .filter(|f| f.file_type == "MP4")
        .count();
    let args = ctx.sync_args(&["-j", "2", "--segments", "1"]);
    let mut cmd = ctx.zvm();
    cmd.args(&args).kill_on_drop(true);
    let mut child = cmd.spawn().expect("zvm starts");

    // Waits for a transcript verified while a video is still on its way. A safety net of
    // 5 minutes, never reached when things work: the condition is met within seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let rows = verified(&ctx).await;
        let transcripts = rows.iter().filter(|f| f.file_type == "TRANSCRIPT").count();
        let videos_done = rows.iter().filter(|f| f.file_type == "MP4").count();
        if transcripts >= 2 && videos_done < videos {
            break;
        }
        assert!(
            child.try_wait().expect("poll zvm").is_none(),
            "the sync ended before the kill (a 256 KiB/s CDN cannot carry {videos} videos that fast)"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "no transcript verified after 5 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("zvm ends");

    // Read after the kill: everything verified by then, including what was verified
    // between the check above and the kill.
    let rows = verified(&ctx).await;
    assert!(
        rows.iter().filter(|f| f.file_type == "MP4").count() < videos,
        "the kill came after the last video"
    );
    let texts: Vec<&FileRow> = rows.iter().filter(|f| is_text(f)).collect();
    assert!(texts.len() >= 2, "{} text files verified", texts.len());
    let index = SearchIndex::open(&SearchIndex::path_beside(&ctx.state)).expect("the index");
    for f in &texts {
        assert!(
            index
                .holds(&f.key.meeting_uuid, &f.key.file_id)
                .expect("ask the index"),
            "{} is verified in the state but not in the search index",
            f.rel_path
        );
    }
    drop(index);

    // And found the way a user finds it: a transcript's line, at its time.
    let state = ctx.state.display().to_string();
    let mut checked = 0;
    for f in texts.iter().filter(|f| f.file_type == "TRANSCRIPT") {
        let sim_file = manifest
            .meetings
            .iter()
            .filter(|m| m.uuid == f.key.meeting_uuid)
            .flat_map(|m| m.files.iter())
            .find(|s| s.id == f.key.file_id)
            .expect("a file of the simulator's account");
        let cue = &cues(sim_file.key)[1];
        let out = ctx
            .run(&[
                "--json", "--state", &state, "search", &cue.text, "--limit", "1000",
            ])
            .await;
        out.expect_code(0, &format!("search {:?}", cue.text));
        let line = format!("{}: {}", cue.speaker, cue.text);
        let found = out.stdout.lines().any(|l| {
            let h: Value = serde_json::from_str(l).expect("one JSON hit per line");
            h["meeting_uuid"] == f.key.meeting_uuid.as_str()
                && h["offset_ms"] == cue.start_ms
                && h["text"] == line.as_str()
                && h["path"] == f.rel_path.as_str()
        });
        assert!(
            found,
            "{line:?} of {} not found after the kill: {}",
            f.rel_path, out.stdout
        );
        checked += 1;
    }
    assert!(checked >= 2);
}
