//! `recording.trashed`, `recording.deleted` and `recording.recovered` against the simulator,
//! over real HTTP, with a real SQLite state and folder. Each is sent by the simulator's
//! webhook sender (its envelope, signed as Zoom signs) after the same change was made in
//! the simulator's account (a user trashing, deleting or recovering in Zoom).
//!
//! The setting of each test: everything was copied by a sync (which stored the listing of
//! every month), then the local copy of one old meeting was lost. What the event changes:
//! - trashed or deleted: the meeting's rows say it left the cloud (`vanished`), and a later
//!   sync, which trusts the stored listing of that old month, no longer asks Zoom for the
//!   meeting to fetch its lost copy (and downloads nothing);
//! - recovered: the rows say it is back in the cloud, and the lost copy is fetched again,
//!   by the meeting's uuid (no listing), byte for byte.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{
    Running, account, client, listing_requests, sha256_of, start, sync_options, wait_for,
};
use tokio_util::sync::CancellationToken;
use zoom_sim::{ManifestMeeting, PortalDelete, Simulator, WebhookEvent};
use zvm_dest::LocalDestination;
use zvm_engine::{Engine, RunSummary};
use zvm_state::{CloudState, FileKind, FileRow, StateStore};

/// A GET of one meeting's recordings by uuid: how a sync asks for a stored meeting.
const MEETING_BY_UUID: &str = "GET /v2/meetings/{uuid}/recordings";

/// The daemon, and beside it an engine on the same state and folder for the syncs the
/// tests run themselves.
struct Setting {
    sim: Simulator,
    d: Running,
    engine: Engine,
    /// The old meeting whose local copy was lost.
    lost: ManifestMeeting,
}

impl Setting {
    async fn new(seed: u64) -> Setting {
        let mut cfg = account();
        cfg.seed = seed;
        cfg.account.meetings = 12;
        let sim = Simulator::start(cfg).await.expect("simulator");
        let d = start(&sim).await;
        let engine = Engine::new(
            client(&sim),
            d.state.clone(),
            Arc::new(LocalDestination::new(d.dest.clone())),
            Arc::new(|_event: zvm_engine::Event| {}),
        );
        let first = engine
            .sync(&sync_options(), CancellationToken::new())
            .await
            .expect("sync");
        assert_eq!(first.files_failed, 0, "{first:?}");
        assert!(first.files_downloaded > 0);
        // A meeting older than the months every sync lists again (30 days): its month's
        // stored listing is what a later sync trusts.
        let old = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 60);
        let lost = sim
            .manifest()
            .meetings
            .into_iter()
            .find(|m| {
                m.start_time.parse::<jiff::Timestamp>().unwrap() < old
                    && m.files.iter().any(|f| f.is_completed())
            })
            .expect("an old meeting");
        let s = Setting {
            sim,
            d,
            engine,
            lost,
        };
        let lost = s.recordings(&s.lost.uuid).await;
        assert!(!lost.is_empty());
        for row in &lost {
            std::fs::remove_file(s.d.dest.join(&row.rel_path)).expect("lose the copy");
        }
        s
    }

    async fn sync(&self) -> RunSummary {
        self.engine
            .sync(&sync_options(), CancellationToken::new())
            .await
            .expect("sync")
    }

    /// The meeting's recording files as the state has them.
    async fn recordings(&self, uuid: &str) -> Vec<FileRow> {
        self.d
            .state
            .files_of_meeting(uuid)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| matches!(r.kind, FileKind::Recording | FileKind::ParticipantAudio))
            .collect()
    }

    /// The cloud state of the lost meeting's row and of each of its recording files.
    async fn cloud_of_lost(&self) -> (CloudState, Vec<CloudState>) {
        let meeting = self
            .d
            .state
            .meeting(&self.lost.uuid)
            .await
            .unwrap()
            .expect("the meeting's row");
        let files = self.recordings(&self.lost.uuid).await;
        (meeting.cloud, files.iter().map(|f| f.cloud).collect())
    }

    /// Sends `event` as the simulator's webhook and waits until the daemon did its work
    /// (`done` events in all).
    async fn deliver(&self, event: WebhookEvent, done: u64) {
        let body = self.sim.webhook_body(&event).expect("envelope");
        let status = self
            .sim
            .deliver_webhook(&self.d.webhook_url(), common::SECRET, &body)
            .await
            .expect("webhook sent");
        assert_eq!(status, 200);
        wait_for("the event's work to be done", || async {
            self.d.state.webhook_counts().await.unwrap().done == done
        })
        .await;
    }
}

fn all(files: &[CloudState], want: CloudState) -> bool {
    !files.is_empty() && files.iter().all(|c| *c == want)
}

/// The copy of `row` in `dest` is the simulator's file, byte for byte.
fn is_whole(dest: &Path, row: &FileRow, m: &ManifestMeeting) -> bool {
    let path = dest.join(&row.rel_path);
    let f = m
        .files
        .iter()
        .chain(&m.participant_audio)
        .find(|f| f.id == row.key.file_id)
        .expect("the file in the manifest");
    path.is_file() && sha256_of(&path) == f.sha256_hex()
}

/// The meeting left the cloud (`how`, told by `event`): its rows say so, and a later sync
/// does not ask Zoom for it to fetch its lost copy.
async fn left_cloud(seed: u64, how: PortalDelete, event: fn(String) -> WebhookEvent) {
    let s = Setting::new(seed).await;
    assert_eq!(s.cloud_of_lost().await.0, CloudState::Present);
    s.sim
        .delete_in_portal(&s.lost.uuid, how)
        .expect("deleted in Zoom");
    s.deliver(event(s.lost.uuid.clone()), 1).await;

    let (meeting, files) = s.cloud_of_lost().await;
    assert_eq!(meeting, CloudState::Vanished, "the meeting's row");
    assert!(all(&files, CloudState::Vanished), "its files: {files:?}");

    let asked = s.sim.stats().count(MEETING_BY_UUID);
    let downloads = s.sim.stats().download_requests();
    let later = s.sync().await;
    assert_eq!(
        s.sim.stats().count(MEETING_BY_UUID),
        asked,
        "the later sync asked Zoom for the meeting that left"
    );
    assert_eq!(s.sim.stats().download_requests(), downloads);
    assert_eq!((later.files_downloaded, later.files_failed), (0, 0));
    let (meeting, _) = s.cloud_of_lost().await;
    assert_eq!(meeting, CloudState::Vanished, "still, after the sync");
    s.d.daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trashed_meeting_leaves_the_state_and_no_later_sync_fetches_its_lost_copy() {
    left_cloud(161, PortalDelete::Trash, |meeting_uuid| {
        WebhookEvent::RecordingTrashed { meeting_uuid }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_meeting_leaves_the_state_and_no_later_sync_fetches_its_lost_copy() {
    left_cloud(162, PortalDelete::Permanently, |meeting_uuid| {
        WebhookEvent::RecordingDeleted { meeting_uuid }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovered_meeting_is_back_in_the_state_and_its_lost_copy_is_fetched_again() {
    let s = Setting::new(163).await;
    let uuid = s.lost.uuid.clone();
    s.sim
        .delete_in_portal(&uuid, PortalDelete::Trash)
        .expect("trashed in Zoom");
    s.deliver(
        WebhookEvent::RecordingTrashed {
            meeting_uuid: uuid.clone(),
        },
        1,
    )
    .await;
    assert_eq!(s.cloud_of_lost().await.0, CloudState::Vanished);

    client(&s.sim)
        .recover_meeting_recordings(&uuid)
        .await
        .expect("recovered in Zoom");
    let listings = listing_requests(&s.sim);
    s.deliver(
        WebhookEvent::RecordingRecovered {
            meeting_uuid: uuid.clone(),
        },
        2,
    )
    .await;

    let (meeting, files) = s.cloud_of_lost().await;
    assert_eq!(meeting, CloudState::Present, "the meeting's row");
    assert!(all(&files, CloudState::Present), "its files: {files:?}");
    for row in s.recordings(&uuid).await {
        assert!(
            is_whole(&s.d.dest, &row, &s.lost),
            "{} fetched again",
            row.rel_path
        );
    }
    assert_eq!(listing_requests(&s.sim), listings, "by uuid, no listing");

    // Whole again: a later sync has nothing to fetch.
    let downloads = s.sim.stats().download_requests();
    let later = s.sync().await;
    assert_eq!((later.files_downloaded, later.files_failed), (0, 0));
    assert_eq!(s.sim.stats().download_requests(), downloads);
    s.d.daemon.shutdown().await;
}
