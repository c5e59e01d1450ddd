//! The conformance suite every [`StateStore`] implementation must pass (SQLite now, PostgreSQL
//! later). It pins the behaviour the engine relies on: `plan_file` keeping progress, status
//! transitions, cloud state, the deletion log, the totals, the listing cache (windows
//! replaced whole, meetings that vanish from Zoom marked without touching what zvm did) and
//! the ranges of segmented downloads.
//!
//! Functions panic with a descriptive message on a violation, like `assert!` in a test.
//! [`run_all`] expects an empty store. For persistence, call [`seed`], drop and reopen the
//! store, then [`check_seeded`].

#![allow(clippy::missing_panics_doc)]

use crate::{
    CloudState, DeletionRow, FileKey, FileKind, FileRange, FileRanges, FileStatus, ListedMeeting,
    ListingWindow, MeetingRow, PlannedFile, StateError, StateStore, Totals,
};

/// Runs every check below on one empty store.
pub async fn run_all(store: &dyn StateStore) {
    meetings_roundtrip(store).await;
    plan_file_semantics(store).await;
    status_transitions(store).await;
    unknown_file_is_an_error(store).await;
    cloud_state(store).await;
    deletion_log(store).await;
    totals_count_everything(store).await;
    listing_windows_are_replaced_whole(store).await;
    vanished_meetings_are_marked_not_deleted(store).await;
    refreshed_and_forgotten_meetings(store).await;
    file_ranges_roundtrip(store).await;
}

/// A meeting row for tests; `n` makes uuid, id and folder unique.
pub fn sample_meeting(n: u32) -> MeetingRow {
    MeetingRow {
        uuid: format!("uuid-{n}/+=="),
        meeting_id: 8_000_000_000 + i64::from(n),
        host_id: "host-1".into(),
        host_email: "host@example.com".into(),
        topic: format!("会議 {n} – weekly"),
        start_time: "2026-03-04T05:06:07Z".into(),
        timezone: "Asia/Tokyo".into(),
        duration_min: 42,
        folder: format!("2026/03/2026-03-04 0506 Meeting {n}"),
        cloud: CloudState::Present,
    }
}

/// A planned recording file for tests.
pub fn sample_file(meeting_uuid: &str, file_id: &str, size: u64) -> PlannedFile {
    PlannedFile {
        key: FileKey::new(meeting_uuid, file_id),
        kind: FileKind::Recording,
        file_type: "MP4".into(),
        recording_type: "shared_screen_with_speaker_view".into(),
        rel_path: format!("folder/{file_id}.mp4"),
        expected_size: size,
    }
}

pub async fn meetings_roundtrip(store: &dyn StateStore) {
    let m = sample_meeting(1);
    assert_eq!(
        store.meeting(&m.uuid).await.unwrap(),
        None,
        "unknown meeting must be None"
    );
    store.upsert_meeting(&m).await.unwrap();
    assert_eq!(store.meeting(&m.uuid).await.unwrap().as_ref(), Some(&m));
    let mut changed = m.clone();
    changed.topic = "renamed".into();
    changed.folder = "other/folder".into();
    store.upsert_meeting(&changed).await.unwrap();
    assert_eq!(
        store.meeting(&m.uuid).await.unwrap().as_ref(),
        Some(&changed),
        "upsert replaces"
    );
    let m2 = sample_meeting(2);
    store.upsert_meeting(&m2).await.unwrap();
    let folders = store.folders().await.unwrap();
    assert!(
        folders.contains(&(changed.uuid.clone(), changed.folder.clone())),
        "{folders:?}"
    );
    assert!(
        folders.contains(&(m2.uuid.clone(), m2.folder.clone())),
        "{folders:?}"
    );
    assert_eq!(folders.len(), 2, "one folder per meeting: {folders:?}");
}

pub async fn plan_file_semantics(store: &dyn StateStore) {
    let m = sample_meeting(10);
    store.upsert_meeting(&m).await.unwrap();
    let planned = sample_file(&m.uuid, "f1", 1000);

    // New row: pending, nothing done.
    let row = store.plan_file(&planned).await.unwrap();
    assert_eq!(row.key, planned.key);
    assert_eq!(row.kind, FileKind::Recording);
    assert_eq!(row.rel_path, planned.rel_path);
    assert_eq!(row.expected_size, 1000);
    assert_eq!(row.status, FileStatus::Pending);
    assert_eq!((row.bytes_done, row.attempts), (0, 0));
    assert_eq!(row.cloud, CloudState::Present);
    assert!(!row.updated_at.is_empty());
    assert_eq!(store.file(&planned.key).await.unwrap().as_ref(), Some(&row));

    // Progress, then planning again (a later run) keeps status, progress and rel_path even if
    // naming now proposes another path.
    store.start_attempt(&planned.key).await.unwrap();
    store.set_progress(&planned.key, 400).await.unwrap();
    let mut again = planned.clone();
    again.rel_path = "renamed/f1.mp4".into();
    let row = store.plan_file(&again).await.unwrap();
    assert_eq!(
        row.status,
        FileStatus::Partial,
        "re-planning must keep the status"
    );
    assert_eq!(row.bytes_done, 400, "re-planning must keep progress");
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.rel_path, planned.rel_path,
        "re-planning must keep the assigned path"
    );

    // Verified stays verified when planned again with the same size.
    store
        .mark_verified(&planned.key, 1000, Some("ab12"))
        .await
        .unwrap();
    let row = store.plan_file(&planned).await.unwrap();
    assert_eq!(row.status, FileStatus::Verified);
    assert_eq!(row.sha256.as_deref(), Some("ab12"));

    // A changed size resets to pending with no progress.
    let mut bigger = planned.clone();
    bigger.expected_size = 2000;
    let row = store.plan_file(&bigger).await.unwrap();
    assert_eq!(
        row.status,
        FileStatus::Pending,
        "changed size must reset to pending"
    );
    assert_eq!(row.bytes_done, 0, "changed size must reset progress");
    assert_eq!(row.expected_size, 2000);
    assert_eq!(row.sha256, None, "a hash of other content must not survive");
    assert_eq!(row.rel_path, planned.rel_path);

    // Sizes beyond 4 GiB round-trip (recordings can be large).
    let big = sample_file(&m.uuid, "huge", 7 * 1024 * 1024 * 1024 + 3);
    let row = store.plan_file(&big).await.unwrap();
    assert_eq!(row.expected_size, 7 * 1024 * 1024 * 1024 + 3);

    // Other kinds round-trip.
    let mut json = sample_file(&m.uuid, "meeting.json", 10);
    json.kind = FileKind::MeetingJson;
    assert_eq!(
        store.plan_file(&json).await.unwrap().kind,
        FileKind::MeetingJson
    );
    let mut audio = sample_file(&m.uuid, "audio-1", 10);
    audio.kind = FileKind::ParticipantAudio;
    assert_eq!(
        store.plan_file(&audio).await.unwrap().kind,
        FileKind::ParticipantAudio
    );

    let files = store.files_of_meeting(&m.uuid).await.unwrap();
    let mut ids: Vec<_> = files.iter().map(|f| f.key.file_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["audio-1", "f1", "huge", "meeting.json"]);
    assert!(
        store
            .files_of_meeting("no-such-meeting")
            .await
            .unwrap()
            .is_empty()
    );
    // Many meetings at once: the same rows, in the order asked.
    let many = store
        .files_of_meetings(&["no-such-meeting".into(), m.uuid.clone()])
        .await
        .unwrap();
    assert_eq!(many, vec![Vec::new(), files]);
}

pub async fn status_transitions(store: &dyn StateStore) {
    let m = sample_meeting(20);
    store.upsert_meeting(&m).await.unwrap();
    let a = sample_file(&m.uuid, "a", 100);
    let b = sample_file(&m.uuid, "b", 100);
    let c = sample_file(&m.uuid, "c", 100);
    for f in [&a, &b, &c] {
        store.plan_file(f).await.unwrap();
    }
    store.start_attempt(&a.key).await.unwrap();
    store.start_attempt(&a.key).await.unwrap();
    store.set_progress(&a.key, 60).await.unwrap();
    store
        .mark_failed(&a.key, "HTTP 500 from Zoom")
        .await
        .unwrap();
    let row = store.file(&a.key).await.unwrap().unwrap();
    assert_eq!(row.status, FileStatus::Failed);
    assert_eq!(row.attempts, 2);
    assert_eq!(
        row.bytes_done, 60,
        "a failure keeps progress so the next run resumes"
    );
    assert_eq!(row.last_error.as_deref(), Some("HTTP 500 from Zoom"));

    store.start_attempt(&a.key).await.unwrap();
    store.mark_verified(&a.key, 100, None).await.unwrap();
    let row = store.file(&a.key).await.unwrap().unwrap();
    assert_eq!(row.status, FileStatus::Verified);
    assert_eq!((row.bytes_done, row.attempts), (100, 3));
    assert_eq!(row.last_error, None, "verification clears the old error");
    assert_eq!(row.sha256, None);

    store
        .mark_skipped(&b.key, "filtered by --type")
        .await
        .unwrap();
    let row = store.file(&b.key).await.unwrap().unwrap();
    assert_eq!(row.status, FileStatus::Skipped);
    assert_eq!(row.last_error.as_deref(), Some("filtered by --type"));

    let verified = store.files_with_status(FileStatus::Verified).await.unwrap();
    assert!(verified.iter().any(|f| f.key == a.key));
    assert!(verified.iter().all(|f| f.status == FileStatus::Verified));
    let pending = store.files_with_status(FileStatus::Pending).await.unwrap();
    assert!(pending.iter().any(|f| f.key == c.key));
    assert!(!pending.iter().any(|f| f.key == a.key || f.key == b.key));
}

pub async fn unknown_file_is_an_error(store: &dyn StateStore) {
    let key = FileKey::new("never-planned", "x");
    assert_eq!(store.file(&key).await.unwrap(), None);
    let unknown = |r: Result<(), StateError>| matches!(r, Err(StateError::UnknownFile { .. }));
    assert!(
        unknown(store.start_attempt(&key).await),
        "start_attempt on an unplanned file"
    );
    assert!(
        unknown(store.set_progress(&key, 1).await),
        "set_progress on an unplanned file"
    );
    assert!(
        unknown(store.mark_verified(&key, 1, None).await),
        "mark_verified on an unplanned file"
    );
    assert!(
        unknown(store.mark_failed(&key, "e").await),
        "mark_failed on an unplanned file"
    );
    assert!(
        unknown(store.mark_skipped(&key, "r").await),
        "mark_skipped on an unplanned file"
    );
}

pub async fn cloud_state(store: &dyn StateStore) {
    let m = sample_meeting(30);
    store.upsert_meeting(&m).await.unwrap();
    let a = sample_file(&m.uuid, "a", 1);
    let b = sample_file(&m.uuid, "b", 1);
    store.plan_file(&a).await.unwrap();
    store.plan_file(&b).await.unwrap();

    store
        .set_cloud_state(&m.uuid, Some("a"), CloudState::Trashed)
        .await
        .unwrap();
    assert_eq!(
        store.file(&a.key).await.unwrap().unwrap().cloud,
        CloudState::Trashed
    );
    assert_eq!(
        store.file(&b.key).await.unwrap().unwrap().cloud,
        CloudState::Present
    );
    assert_eq!(
        store.meeting(&m.uuid).await.unwrap().unwrap().cloud,
        CloudState::Present
    );

    store
        .set_cloud_state(&m.uuid, None, CloudState::Deleted)
        .await
        .unwrap();
    assert_eq!(
        store.meeting(&m.uuid).await.unwrap().unwrap().cloud,
        CloudState::Deleted
    );
    for f in store.files_of_meeting(&m.uuid).await.unwrap() {
        assert_eq!(
            f.cloud,
            CloudState::Deleted,
            "meeting-wide state must reach {:?}",
            f.key
        );
    }
    // A recovered meeting is present again.
    store
        .set_cloud_state(&m.uuid, None, CloudState::Present)
        .await
        .unwrap();
    assert_eq!(
        store.file(&a.key).await.unwrap().unwrap().cloud,
        CloudState::Present
    );
}

pub async fn deletion_log(store: &dyn StateStore) {
    let first = DeletionRow {
        at: "2026-05-01T10:00:00Z".into(),
        meeting_uuid: "uuid-del".into(),
        file_id: None,
        action: "trash".into(),
        outcome: "deleted".into(),
        paths: vec![
            (
                "a/b.mp4".into(),
                7 * 1024 * 1024 * 1024,
                Some("00ff".into()),
            ),
            ("a/会議.m4a".into(), 12, None),
        ],
    };
    let second = DeletionRow {
        at: "2026-05-01T10:00:01Z".into(),
        meeting_uuid: "uuid-del".into(),
        file_id: Some("f9".into()),
        action: "delete".into(),
        outcome: "already_gone".into(),
        paths: vec![],
    };
    let before = store.deletions().await.unwrap().len();
    store.record_deletion(&first).await.unwrap();
    store.record_deletion(&second).await.unwrap();
    let all = store.deletions().await.unwrap();
    assert_eq!(
        &all[before..],
        &[first, second],
        "deletions come back in recording order"
    );
}

pub async fn totals_count_everything(store: &dyn StateStore) {
    let before = store.totals().await.unwrap();
    let m = sample_meeting(40);
    store.upsert_meeting(&m).await.unwrap();
    let files: Vec<_> = (0..5)
        .map(|i| sample_file(&m.uuid, &format!("t{i}"), 1000 + i))
        .collect();
    for f in &files {
        store.plan_file(f).await.unwrap();
    }
    store
        .mark_verified(&files[0].key, 1000, None)
        .await
        .unwrap();
    store
        .mark_verified(&files[1].key, 1001, None)
        .await
        .unwrap();
    store.mark_failed(&files[2].key, "boom").await.unwrap();
    store.start_attempt(&files[3].key).await.unwrap(); // partial counts as pending
    let after = store.totals().await.unwrap();
    let expected = Totals {
        meetings: before.meetings + 1,
        files: before.files + 5,
        verified: before.verified + 2,
        failed: before.failed + 1,
        pending: before.pending + 2,
        bytes_verified: before.bytes_verified + 2001,
    };
    assert_eq!(after, expected);
}

/// A listing window of a test scope: the month `month` (1-12) of 2025.
pub fn sample_window(scope: &str, month: u32) -> ListingWindow {
    let last = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(month as usize - 1) % 12];
    ListingWindow {
        scope: scope.into(),
        from: format!("2025-{month:02}-01"),
        to: format!("2025-{month:02}-{last}"),
    }
}

/// A meeting as a listing returned it; `day` sets its start and `json` carries `tag` so a
/// changed answer can be told apart.
pub fn sample_listed(uuid: &str, day: &str, tag: &str) -> ListedMeeting {
    ListedMeeting {
        uuid: uuid.into(),
        start_time: format!("{day}T09:30:00Z"),
        host: "host@example.com".into(),
        json: format!(r#"{{"uuid":"{uuid}","topic":"{tag} – 会議"}}"#),
    }
}

pub async fn listing_windows_are_replaced_whole(store: &dyn StateStore) {
    let scope = "user:conf-a";
    let march = sample_window(scope, 3);
    let april = sample_window(scope, 4);
    assert!(
        store.listed_windows(scope).await.unwrap().is_empty(),
        "a scope never listed has no windows"
    );
    assert!(store.window_listing(&march).await.unwrap().is_empty());

    // Stored newest first, whatever order they were listed in.
    let old = sample_listed("a/1==", "2025-03-02", "old");
    let new = sample_listed("a+2", "2025-03-20", "new");
    let gone = store
        .record_listing(&march, "2025-04-01T00:00:00Z", &[old.clone(), new.clone()])
        .await
        .unwrap();
    assert!(gone.is_empty(), "a first listing loses nothing: {gone:?}");
    assert_eq!(
        store.window_listing(&march).await.unwrap(),
        vec![new.clone(), old.clone()],
        "a window's listing comes back newest first"
    );
    // An empty month is a complete listing too: it is stored, with no meetings.
    store
        .record_listing(&april, "2025-05-01T00:00:00Z", &[])
        .await
        .unwrap();
    let windows = store.listed_windows(scope).await.unwrap();
    assert_eq!(
        windows
            .iter()
            .map(|w| (&w.window, w.listed_at.as_str(), w.meetings))
            .collect::<Vec<_>>(),
        vec![
            (&march, "2025-04-01T00:00:00Z", 2),
            (&april, "2025-05-01T00:00:00Z", 0)
        ],
        "windows oldest first, each with when it was listed and its meeting count"
    );

    // Listing again replaces the window whole: the new time, the new answers, a meeting
    // that is no longer listed is returned as gone and no longer stored.
    let mut changed = new.clone();
    changed.json = r#"{"uuid":"a+2","topic":"renamed"}"#.into();
    let third = sample_listed("a3", "2025-03-10", "third");
    let gone = store
        .record_listing(
            &march,
            "2025-04-09T12:00:00Z",
            &[changed.clone(), third.clone()],
        )
        .await
        .unwrap();
    assert_eq!(gone, vec![old.clone()], "the meeting Zoom no longer lists");
    assert_eq!(
        store.window_listing(&march).await.unwrap(),
        vec![changed.clone(), third.clone()]
    );
    let windows = store.listed_windows(scope).await.unwrap();
    assert_eq!(windows[0].listed_at, "2025-04-09T12:00:00Z");
    assert_eq!(windows[0].meetings, 2);

    // Scopes are apart: another scope's window of the same month is its own.
    let other = sample_window("account", 3);
    store
        .record_listing(&other, "2025-04-02T00:00:00Z", std::slice::from_ref(&third))
        .await
        .unwrap();
    assert_eq!(store.window_listing(&march).await.unwrap().len(), 2);
    assert_eq!(store.listed_windows("account").await.unwrap().len(), 1);
    let scopes = store.listing_scopes().await.unwrap();
    assert!(
        scopes.contains(&"account".to_string()) && scopes.contains(&scope.to_string()),
        "{scopes:?}"
    );
    let mut sorted = scopes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(scopes, sorted, "scopes are sorted, each once");

    // The same uuid twice in one answer is one meeting.
    let twice = store
        .record_listing(
            &april,
            "2025-05-02T00:00:00Z",
            &[
                sample_listed("dup", "2025-04-03", "first"),
                sample_listed("dup", "2025-04-03", "second"),
            ],
        )
        .await
        .unwrap();
    assert!(twice.is_empty());
    let april_now = store.window_listing(&april).await.unwrap();
    assert_eq!(april_now.len(), 1, "{april_now:?}");
    assert!(
        april_now[0].json.contains("second"),
        "the later answer wins"
    );
}

pub async fn vanished_meetings_are_marked_not_deleted(store: &dyn StateStore) {
    let scope = "user:conf-b";
    let may = sample_window(scope, 5);
    // Three meetings zvm copied: one stays, one vanishes from Zoom, one zvm trashed itself.
    let stays = sample_meeting(50);
    let vanishes = sample_meeting(51);
    let trashed = sample_meeting(52);
    for m in [&stays, &vanishes, &trashed] {
        store.upsert_meeting(m).await.unwrap();
        store
            .plan_file(&sample_file(&m.uuid, "f", 10))
            .await
            .unwrap();
        store
            .mark_verified(&FileKey::new(&m.uuid, "f"), 10, None)
            .await
            .unwrap();
    }
    store
        .set_cloud_state(&trashed.uuid, None, CloudState::Trashed)
        .await
        .unwrap();
    let listed = |m: &MeetingRow| sample_listed(&m.uuid, "2025-05-05", &m.topic);
    // The vanishing meeting is also in another scope's stored listing.
    let elsewhere = sample_window("user:conf-b-other", 5);
    store
        .record_listing(&elsewhere, "2025-06-01T00:00:00Z", &[listed(&vanishes)])
        .await
        .unwrap();
    store
        .record_listing(
            &may,
            "2025-06-01T00:00:00Z",
            &[listed(&stays), listed(&vanishes), listed(&trashed)],
        )
        .await
        .unwrap();

    let gone = store
        .record_listing(&may, "2025-06-08T00:00:00Z", &[listed(&stays)])
        .await
        .unwrap();
    let mut gone_uuids: Vec<_> = gone.iter().map(|m| m.uuid.clone()).collect();
    gone_uuids.sort();
    let mut expected = vec![vanishes.uuid.clone(), trashed.uuid.clone()];
    expected.sort();
    assert_eq!(gone_uuids, expected, "both are no longer listed");
    let cloud = |uuid: String| async move { store.meeting(&uuid).await.unwrap().unwrap().cloud };
    assert_eq!(cloud(stays.uuid.clone()).await, CloudState::Present);
    assert_eq!(
        cloud(vanishes.uuid.clone()).await,
        CloudState::Vanished,
        "a meeting Zoom stopped listing is marked vanished"
    );
    assert_eq!(
        store
            .file(&FileKey::new(&vanishes.uuid, "f"))
            .await
            .unwrap()
            .unwrap()
            .cloud,
        CloudState::Vanished,
        "its files too"
    );
    assert_eq!(
        cloud(trashed.uuid.clone()).await,
        CloudState::Trashed,
        "what zvm did itself keeps its state"
    );
    // Nothing local is forgotten: the verified rows are still verified.
    let row = store
        .file(&FileKey::new(&vanishes.uuid, "f"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, FileStatus::Verified);
    assert!(
        store.window_listing(&elsewhere).await.unwrap().is_empty(),
        "a vanished meeting leaves every stored listing"
    );

    // It comes back (recovered from Zoom's trash): present again.
    store
        .record_listing(
            &may,
            "2025-06-09T00:00:00Z",
            &[listed(&stays), listed(&vanishes)],
        )
        .await
        .unwrap();
    assert_eq!(cloud(vanishes.uuid.clone()).await, CloudState::Present);
    assert_eq!(
        store
            .file(&FileKey::new(&vanishes.uuid, "f"))
            .await
            .unwrap()
            .unwrap()
            .cloud,
        CloudState::Present
    );
}

pub async fn refreshed_and_forgotten_meetings(store: &dyn StateStore) {
    let june = sample_window("user:conf-c", 6);
    let m = sample_meeting(60);
    store.upsert_meeting(&m).await.unwrap();
    let first = sample_listed(&m.uuid, "2025-06-06", "processing");
    store
        .record_listing(&june, "2025-07-01T00:00:00Z", std::slice::from_ref(&first))
        .await
        .unwrap();
    let mut newer = first.clone();
    newer.json = r#"{"status":"completed"}"#.into();
    assert!(store.refresh_listed(&newer).await.unwrap());
    assert_eq!(
        store.window_listing(&june).await.unwrap(),
        vec![newer.clone()]
    );
    assert_eq!(
        store.listed_windows("user:conf-c").await.unwrap()[0].listed_at,
        "2025-07-01T00:00:00Z",
        "a refresh of one meeting is not a listing of the window"
    );
    assert!(
        !store
            .refresh_listed(&sample_listed("never-listed", "2025-06-01", "x"))
            .await
            .unwrap(),
        "a meeting no listing holds is not added by a refresh"
    );

    store.forget_listed(&m.uuid).await.unwrap();
    assert!(store.window_listing(&june).await.unwrap().is_empty());
    assert_eq!(
        store.meeting(&m.uuid).await.unwrap().unwrap().cloud,
        CloudState::Vanished
    );
    assert_eq!(
        store.listed_windows("user:conf-c").await.unwrap()[0].meetings,
        0,
        "the window stays listed, without the meeting"
    );
}

/// Writes a known state; see [`check_seeded`].
/// Ranges a test saves: two of a 6 GiB file (sizes past 4 GiB must survive).
pub fn sample_ranges() -> FileRanges {
    FileRanges {
        ranges: vec![
            FileRange {
                start: 0,
                end: 5 << 30,
                written: (5 << 30) - 1,
                durable: 1 << 20,
            },
            FileRange {
                start: 5 << 30,
                end: 6 << 30,
                written: 0,
                durable: 0,
            },
        ],
        boot_id: Some("0b3f-boot".into()),
    }
}

pub async fn file_ranges_roundtrip(store: &dyn StateStore) {
    let unplanned = FileKey::new("never-planned", "ranged");
    assert!(
        matches!(
            store.save_file_ranges(&unplanned, &sample_ranges()).await,
            Err(StateError::UnknownFile { .. })
        ),
        "ranges of an unplanned file must be refused"
    );
    let m = sample_meeting(70);
    store.upsert_meeting(&m).await.unwrap();
    let f = sample_file(&m.uuid, "ranged", 6 << 30);
    store.plan_file(&f).await.unwrap();
    assert_eq!(store.file_ranges(&f.key).await.unwrap(), None);
    let first = sample_ranges();
    store.save_file_ranges(&f.key, &first).await.unwrap();
    assert_eq!(store.file_ranges(&f.key).await.unwrap(), Some(first));
    // Saving replaces the whole set (ranges split and finish between saves).
    let second = FileRanges {
        ranges: vec![
            FileRange {
                start: 0,
                end: 3 << 30,
                written: 3 << 30,
                durable: 3 << 30,
            },
            FileRange {
                start: 3 << 30,
                end: 6 << 30,
                written: 7,
                durable: 0,
            },
        ],
        boot_id: None,
    };
    store.save_file_ranges(&f.key, &second).await.unwrap();
    assert_eq!(store.file_ranges(&f.key).await.unwrap(), Some(second));
    // Another file's ranges are its own.
    let g = sample_file(&m.uuid, "other", 10);
    store.plan_file(&g).await.unwrap();
    assert_eq!(store.file_ranges(&g.key).await.unwrap(), None);
    store.clear_file_ranges(&f.key).await.unwrap();
    assert_eq!(store.file_ranges(&f.key).await.unwrap(), None);
    store
        .clear_file_ranges(&f.key)
        .await
        .expect("clearing absent ranges is fine");
}

pub async fn seed(store: &dyn StateStore) {
    let m = sample_meeting(90);
    store.upsert_meeting(&m).await.unwrap();
    let f = sample_file(&m.uuid, "persist", 5000);
    store.plan_file(&f).await.unwrap();
    store.start_attempt(&f.key).await.unwrap();
    store.set_progress(&f.key, 2500).await.unwrap();
    store
        .save_file_ranges(&f.key, &sample_ranges())
        .await
        .unwrap();
    let g = sample_file(&m.uuid, "done", 10);
    store.plan_file(&g).await.unwrap();
    store.mark_verified(&g.key, 10, Some("beef")).await.unwrap();
    store
        .record_deletion(&DeletionRow {
            at: "2026-06-01T00:00:00Z".into(),
            meeting_uuid: m.uuid.clone(),
            file_id: None,
            action: "recover".into(),
            outcome: "recovered".into(),
            paths: vec![("x".into(), 1, None)],
        })
        .await
        .unwrap();
    store
        .record_listing(
            &sample_window("user:seed", 9),
            "2025-10-01T00:00:00Z",
            &[sample_listed(&m.uuid, "2025-09-09", "seeded")],
        )
        .await
        .unwrap();
}

/// Checks that a store reopened after [`seed`] still holds everything.
pub async fn check_seeded(store: &dyn StateStore) {
    let m = sample_meeting(90);
    assert_eq!(
        store.meeting(&m.uuid).await.unwrap(),
        Some(m.clone()),
        "meeting lost"
    );
    let f = store
        .file(&FileKey::new(&m.uuid, "persist"))
        .await
        .unwrap()
        .expect("file lost");
    assert_eq!(
        (f.status, f.bytes_done, f.attempts),
        (FileStatus::Partial, 2500, 1)
    );
    assert_eq!(
        store.file_ranges(&f.key).await.unwrap(),
        Some(sample_ranges()),
        "ranges lost"
    );
    let g = store
        .file(&FileKey::new(&m.uuid, "done"))
        .await
        .unwrap()
        .expect("file lost");
    assert_eq!(
        (g.status, g.sha256.as_deref()),
        (FileStatus::Verified, Some("beef"))
    );
    let dels = store.deletions().await.unwrap();
    assert_eq!(dels.len(), 1, "deletion log lost");
    assert_eq!(dels[0].action, "recover");
    assert_eq!(
        store.folders().await.unwrap(),
        vec![(m.uuid.clone(), m.folder.clone())]
    );
    let window = sample_window("user:seed", 9);
    assert_eq!(
        store.window_listing(&window).await.unwrap(),
        vec![sample_listed(&m.uuid, "2025-09-09", "seeded")],
        "stored listing lost"
    );
    assert_eq!(
        store.listed_windows("user:seed").await.unwrap()[0].listed_at,
        "2025-10-01T00:00:00Z"
    );
}
