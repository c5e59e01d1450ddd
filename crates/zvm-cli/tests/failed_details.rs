//! A meeting's details that cannot be fetched (its participant-audio list, its AI Companion
//! summary) are reported, cost nothing else, and a re-run finishes exactly the rest.
//!
//! The simulator's `failing_routes` makes a route answer 503 on every attempt, so the
//! client's retries give up the same way in every run: the contract the randomized fault
//! storm reaches only by chance is checked here on every run of the test.
//!
//! Participant audio is listed by the meeting's details (`GET /v2/meetings/{uuid}/recordings`,
//! `participant_audio_files`); the simulator has no other route for it. zvm cannot know a
//! meeting has participant audio without that answer, so a route that is down for every
//! meeting fails every meeting's list, not only the lists that would hold files.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{RunOutput, TestContext, assert_exact, small_account, tail};
use serde_json::Value;
use zoom_sim::{CloudState, FaultConfig, Manifest, ManifestMeeting};

/// The account: its seed was chosen so that it holds meetings with participant audio only,
/// a summary only, both, and neither (checked in [`Kinds::of`], so a change to the
/// generator that loses one of them fails the test rather than weakening it).
fn account() -> zoom_sim::SimConfig {
    small_account(23, 30)
}

/// The account's meetings by what their details hold, from the simulator's manifest.
struct Kinds {
    /// Meetings whose details list participant audio files (present, completed).
    participant_audio: BTreeSet<String>,
    /// Meetings with an AI Companion summary.
    summary: BTreeSet<String>,
    /// Every meeting with a present file: what `zvm sync` lists.
    all: BTreeSet<String>,
}

impl Kinds {
    fn of(manifest: &Manifest) -> Kinds {
        let present = |m: &ManifestMeeting| m.files.iter().any(|f| f.cloud == CloudState::Present);
        let all: BTreeSet<String> = manifest
            .meetings
            .iter()
            .filter(|m| present(m))
            .map(|m| m.uuid.clone())
            .collect();
        let participant_audio: BTreeSet<String> = manifest
            .meetings
            .iter()
            .filter(|m| present(m) && !participant_files(m).is_empty())
            .map(|m| m.uuid.clone())
            .collect();
        let summary: BTreeSet<String> = manifest
            .meetings
            .iter()
            .filter(|m| present(m) && m.has_summary)
            .map(|m| m.uuid.clone())
            .collect();
        let both = participant_audio.intersection(&summary).count();
        let neither = all
            .iter()
            .filter(|u| !participant_audio.contains(*u) && !summary.contains(*u))
            .count();
        assert!(
            participant_audio.len() > both && summary.len() > both && both > 0 && neither > 0,
            "the account must hold meetings with participant audio only ({}), a summary only \
             ({}), both ({both}) and neither ({neither})",
            participant_audio.len() - both,
            summary.len() - both,
        );
        Kinds {
            participant_audio,
            summary,
            all,
        }
    }
}

/// A meeting's participant audio files that a sync copies.
fn participant_files(m: &ManifestMeeting) -> Vec<&zoom_sim::ManifestFile> {
    m.participant_audio
        .iter()
        .filter(|f| f.cloud == CloudState::Present && f.is_completed())
        .collect()
}

/// What one `--json` run printed.
struct Events {
    /// Meeting uuid -> its folder, relative to DEST.
    folders: BTreeMap<String, String>,
    /// File id -> where it was saved, for each file downloaded and verified in this run.
    done: BTreeMap<String, String>,
    /// (meeting uuid, path) of each failure, in the order reported.
    failed: Vec<(String, String)>,
}

impl Events {
    fn parse(out: &RunOutput) -> Events {
        let mut e = Events {
            folders: BTreeMap::new(),
            done: BTreeMap::new(),
            failed: Vec::new(),
        };
        for line in out.stdout.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|err| {
                panic!("--json printed a line that is not JSON ({err}): {line}")
            });
            let s = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            match v["event"].as_str() {
                Some("meeting_planned") => {
                    e.folders.insert(s("/meeting_uuid"), s("/folder"));
                }
                Some("file_done") => {
                    let previous = e.done.insert(s("/file/file_id"), s("/file/path"));
                    assert!(
                        previous.is_none(),
                        "a file was done twice in one run: {line}"
                    );
                }
                Some("file_failed") => e.failed.push((s("/file/meeting_uuid"), s("/file/path"))),
                _ => {}
            }
        }
        e
    }

    fn folder(&self, uuid: &str) -> &str {
        self.folders
            .get(uuid)
            .unwrap_or_else(|| panic!("meeting {uuid} was not planned"))
    }
}

/// Runs a sync whose details fail for `pa_down` (participant-audio lists) and `summary_down`
/// (summaries) under `faults`, checks what it reported and left, clears the faults, re-runs,
/// and checks that the re-run fetched exactly what the reports named.
async fn fail_then_finish(
    ctx: &TestContext,
    faults: FaultConfig,
    pa_down: &BTreeSet<String>,
    summary_down: &BTreeSet<String>,
) {
    let manifest = ctx.sim.manifest();
    let kinds = Kinds::of(&manifest);
    let incomplete: BTreeSet<&String> = pa_down.union(summary_down).collect();

    ctx.sim.set_faults(faults);
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(1, "sync with detail routes down");
    let first = Events::parse(&out);
    assert_eq!(
        first.folders.keys().cloned().collect::<BTreeSet<_>>(),
        kinds.all,
        "the run lists every meeting with a present file"
    );

    // Reported: one failure per list or summary that could not be fetched, and nothing else.
    // A failed participant-audio list names the folder its files would go to.
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for u in pa_down {
        expected.insert((u.clone(), format!("{}/participants/", first.folder(u))));
    }
    for u in summary_down {
        expected.insert((u.clone(), format!("{}/summary.md", first.folder(u))));
    }
    let reported: BTreeSet<(String, String)> = first.failed.iter().cloned().collect();
    assert_eq!(
        first.failed.len(),
        reported.len(),
        "a failure was reported twice: {:?}",
        first.failed
    );
    assert_eq!(
        reported,
        expected,
        "failures reported vs failures caused\n{}",
        tail(&out.stderr)
    );

    // Nothing else is lost: every recording file of every meeting, incomplete ones included,
    // is in and exact; participant audio is not (its list never came).
    let mut recordings = 0;
    for m in &manifest.meetings {
        for f in m
            .files
            .iter()
            .filter(|f| f.cloud == CloudState::Present && f.is_completed())
        {
            let path = first.done.get(&f.id).unwrap_or_else(|| {
                panic!("recording file {} of {:?} was not copied", f.id, m.topic)
            });
            assert!(
                path.starts_with(&format!("{}/", first.folder(&m.uuid))),
                "{path} is outside its meeting's folder"
            );
            assert_exact(&ctx.dest, f, path);
            recordings += 1;
        }
    }
    assert_eq!(
        first.done.len(),
        recordings,
        "the run downloaded only recording files"
    );
    // What is on disk: those files and the meeting.json of each complete meeting, nothing
    // more. A meeting whose details failed has no meeting.json (it is written once the details
    // are all in, so its absence tells a person the copy is not finished);
    // no `.part` is left; no summary came (every summary's route was down).
    let mut on_disk: BTreeSet<String> = first.done.values().cloned().collect();
    for u in kinds.all.iter().filter(|u| !incomplete.contains(u)) {
        on_disk.insert(format!("{}/meeting.json", first.folder(u)));
    }
    let present = ctx.local_files();
    let missing: Vec<_> = on_disk.difference(&present).collect();
    let extra: Vec<_> = present.difference(&on_disk).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "after the failed run, missing from DEST: {missing:?}; not expected there: {extra:?}"
    );

    // The re-run, with the routes back: exit 0 and a complete, exact copy.
    let (web_before, cdn_before) = ctx.download_counts();
    ctx.sim.set_faults(FaultConfig::default());
    let out = ctx.sync(&["--json"]).await;
    out.expect_code(0, "re-run with the routes back");
    ctx.verify_copy();
    let second = Events::parse(&out);
    assert_eq!(
        second.folders, first.folders,
        "each meeting keeps its folder in the re-run"
    );

    // It added exactly what the reports named: the participant files under each reported
    // folder, the summaries reported (summary.json is the other form of summary.md), and the
    // meeting.json of each incomplete meeting.
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut participant = 0u64;
    for m in manifest
        .meetings
        .iter()
        .filter(|m| kinds.participant_audio.contains(&m.uuid))
    {
        let folder = format!("{}/participants/", first.folder(&m.uuid));
        assert!(
            reported.contains(&(m.uuid.clone(), folder.clone())),
            "meeting {:?} has participant audio but its list was not reported failed",
            m.topic
        );
        for f in participant_files(m) {
            let path = second.done.get(&f.id).unwrap_or_else(|| {
                panic!("participant file {} of {:?} was not fetched", f.id, m.topic)
            });
            assert!(path.starts_with(&folder), "{path} is not under {folder}");
            wanted.insert(path.clone());
            participant += 1;
        }
    }
    for u in &kinds.summary {
        assert!(
            summary_down.contains(u),
            "every summary was failed in this test"
        );
        for name in ["summary.md", "summary.json"] {
            wanted.insert(format!("{}/{name}", first.folder(u)));
        }
    }
    for u in &incomplete {
        wanted.insert(format!("{}/meeting.json", first.folder(u)));
    }
    let added: BTreeSet<String> = ctx.local_files().difference(&present).cloned().collect();
    let missing: Vec<_> = wanted.difference(&added).collect();
    let extra: Vec<_> = added.difference(&wanted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the re-run did not add: {missing:?}; it added beyond the reports: {extra:?}"
    );

    // And downloaded nothing already verified: one request (web, then CDN) per participant
    // file, the only files the first run could not fetch.
    assert!(participant > 0, "the re-run had participant audio to fetch");
    assert_eq!(
        second.done.len() as u64,
        participant,
        "the re-run downloaded only participant files: {:?}",
        second.done.values().collect::<Vec<_>>()
    );
    let (web_after, cdn_after) = ctx.download_counts();
    assert_eq!(
        (web_after - web_before, cdn_after - cdn_before),
        (participant, participant),
        "download requests (web, CDN) of the re-run vs participant files it added"
    );
}

/// Some meetings' details are down: the participant-audio list of each meeting that has
/// participant audio, and the summary of each meeting that has one. The other meetings are
/// complete after the first run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_lists_and_summaries_are_reported_and_a_rerun_fetches_only_them() {
    let ctx = TestContext::start(account()).await;
    let kinds = Kinds::of(&ctx.sim.manifest());
    // The details route is failed by method, so only the GET (the listing) is down, and by
    // meeting, so only the meetings that hold participant audio fail.
    let mut routes: Vec<String> = kinds
        .participant_audio
        .iter()
        .map(|u| format!("GET /v2/meetings/{u}/recordings"))
        .collect();
    routes.extend(
        kinds
            .summary
            .iter()
            .map(|u| format!("/v2/meetings/{u}/meeting_summary")),
    );
    let faults = FaultConfig {
        failing_routes: routes,
        ..FaultConfig::default()
    };
    fail_then_finish(&ctx, faults, &kinds.participant_audio, &kinds.summary).await;
}

/// Both detail routes are down for every meeting, as in an outage of that part of Zoom: every
/// meeting reports its participant-audio list (zvm cannot know which would have been empty),
/// and every meeting with a summary its summary (the account's summary listing, which is up,
/// says which have none: those are not asked); every recording is still copied, and the
/// re-run completes the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_the_detail_routes_fails_every_meeting_s_details_and_nothing_else() {
    let ctx = TestContext::start(account()).await;
    let kinds = Kinds::of(&ctx.sim.manifest());
    let faults = FaultConfig {
        failing_routes: vec![
            "GET /v2/meetings/{uuid}/recordings".into(),
            "/v2/meetings/{uuid}/meeting_summary".into(),
        ],
        ..FaultConfig::default()
    };
    fail_then_finish(&ctx, faults, &kinds.all, &kinds.summary).await;
}

/// meeting.json is written last: a meeting whose download failed has none (its folder shows
/// the copy is unfinished), and the re-run that fetches the file writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_whose_download_fails_gets_its_meeting_json_only_when_the_rerun_completes_it() {
    let ctx = TestContext::start(small_account(24, 5)).await;
    // Every download answers Zoom's HTML sign-in page instead of the file: refused each time.
    ctx.sim.set_faults(FaultConfig {
        html_prob: 1.0,
        ..FaultConfig::default()
    });
    // Each refused file costs its retries (tens of ms each here): all at once keeps it short.
    let out = ctx.sync(&["--json", "-j", "64"]).await;
    out.expect_code(1, "sync with every download refused");
    let first = Events::parse(&out);
    let mut queued: BTreeSet<String> = BTreeSet::new();
    for line in out.stdout.lines() {
        let v: Value = serde_json::from_str(line).expect("JSON line");
        if v["event"] == "file_queued" {
            queued.insert(
                v["file"]["meeting_uuid"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            );
        }
    }
    assert!(
        !queued.is_empty(),
        "no download was queued: the case tests nothing"
    );
    assert!(
        first.done.is_empty(),
        "a download succeeded: {:?}",
        first.done
    );
    let on_disk = ctx.local_files();
    for u in &queued {
        let record = format!("{}/meeting.json", first.folder(u));
        assert!(
            !on_disk.contains(&record),
            "{record} was written although the meeting's downloads failed"
        );
    }
    // The summaries and details did come: only the records wait.
    assert!(
        on_disk.iter().any(|p| p.ends_with("/summary.md")),
        "no summary was saved: the details should not depend on the downloads\n{}",
        tail(&out.stdout)
    );

    ctx.sim.set_faults(FaultConfig::default());
    ctx.sync(&["--json"])
        .await
        .expect_code(0, "re-run without faults");
    ctx.verify_copy();
    let on_disk = ctx.local_files();
    for u in &queued {
        let record = format!("{}/meeting.json", first.folder(u));
        assert!(
            on_disk.contains(&record),
            "{record} missing after the re-run"
        );
    }
    // And the records are done now: a third run asks Zoom for the details of no meeting but
    // those with a file Zoom is still processing (they are asked again until it is ready).
    let still_processing = ctx
        .sim
        .manifest()
        .meetings
        .iter()
        .filter(|m| {
            m.files.iter().any(|f| f.cloud == CloudState::Present)
                && m.files
                    .iter()
                    .chain(m.participant_audio.iter())
                    .any(|f| f.cloud == CloudState::Present && !f.is_completed())
        })
        .count() as u64;
    let details_before = ctx.sim.stats().count("GET /v2/meetings/{uuid}/recordings");
    ctx.sync(&[]).await.expect_code(0, "third run");
    let asked = ctx.sim.stats().count("GET /v2/meetings/{uuid}/recordings") - details_before;
    assert!(
        asked <= still_processing,
        "{asked} meetings' details were fetched again; only {still_processing} have a file \
         still processing"
    );
}
