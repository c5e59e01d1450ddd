//! The demo window shared by the snapshot and the translation tests: connected, listed,
//! three transfers under way, a move plan and a few problems, all fed through the same
//! message path as the engine, with fixed paths and times so the pixels are the same on
//! every run. Each test file uses a part of it (hence `dead_code` is allowed here).

#![allow(dead_code)]

use std::path::PathBuf;

use zvm_engine::events::{FailureClass, FileRef, Notice, SkipReason};
use zvm_engine::{Event, KeepReason, RunStats};
use zvm_gui::ZvmApp;
use zvm_gui::backend::{JobKind, Msg, Problem, TokenView};
use zvm_gui::model::{FileState, RecFile, Recording, RowStatus};
use zvm_gui::settings::{AuthMode, GuiSettings};
use zvm_state::FileStatus;

/// The teacher's zone of the demo.
pub fn tokyo() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Tokyo").expect("the time-zone database (/usr/share/zoneinfo, or the one bundled on Windows) has Asia/Tokyo")
}

pub fn demo_rows() -> Vec<Recording> {
    let topics = [
        "定例会議 2026年度 第3回",
        "Weekly standup",
        "数学 I（2年B組）期末テスト解説",
        "CON",
        "a/b design review (2)",
        "保護者会・オンライン説明会",
        "Lab meeting",
        "英語コミュニケーション",
    ];
    let statuses = [
        RowStatus::Downloaded,
        RowStatus::InCloud,
        RowStatus::Partial,
        RowStatus::InCloud,
        RowStatus::Trashed,
        RowStatus::InCloud,
        RowStatus::Downloaded,
        RowStatus::InCloud,
    ];
    (0..40)
        .map(|i| {
            let k = i % topics.len();
            let files = vec![
                RecFile::new(format!("f{i}a"), "MP4", 150_000_000 + i as u64 * 7_340_033),
                RecFile::new(format!("f{i}b"), "M4A", 20_000_000 + i as u64 * 1_000_003),
                RecFile::new(
                    format!("f{i}c"),
                    if k.is_multiple_of(2) {
                        "TRANSCRIPT"
                    } else {
                        "CHAT"
                    },
                    12_345 + i as u64 * 101,
                ),
            ];
            // Where each file stands, as the listing would say: all here for a downloaded
            // meeting, the video only for a partial one, whose transcript Zoom is still
            // processing.
            let files = files
                .into_iter()
                .enumerate()
                .map(|(j, f)| {
                    let state = match (statuses[k], j) {
                        (RowStatus::Downloaded, _) | (RowStatus::Partial, 0) => FileState::Copied,
                        (RowStatus::Partial, 2) => FileState::Processing,
                        _ => FileState::NotYet,
                    };
                    f.with_state(state)
                })
                .collect();
            let mut r = Recording::new(
                format!("uuid-{i}"),
                format!("host{}", i % 3),
                format!("teacher{}@school.example", i % 3),
                topics[k].to_string(),
                format!("2026-11-{:02}T{:02}:30:00Z", 28 - (i / 2) % 27, 9 + i % 8),
                files,
                statuses[k],
            );
            r.duration_min = 30 + (i as u32 * 7) % 60;
            // The meetings of the demo's move plan (one to remove, two that stay).
            r.selected = matches!(i, 0 | 2 | 4);
            r
        })
        .collect()
}

pub fn fileref(i: usize, name: &str) -> FileRef {
    FileRef {
        meeting_uuid: format!("uuid-{i}"),
        file_id: format!("f{i}a"),
        path: format!(
            "teacher0@school.example/2026/2026-11-2{i} 0930 {name}/shared_screen_with_speaker_view.mp4"
        ),
    }
}

/// An app in a known state: connected, listed, three transfers under way, a move plan, a
/// few problems; fixed paths and times so the pixels are the same on every run.
pub fn demo_app() -> ZvmApp {
    let settings = GuiSettings {
        auth_mode: AuthMode::ServerToServer,
        account_id: "AbCdEfGh-account".into(),
        client_id: "zvm-client-id".into(),
        client_secret: "not-a-real-secret".into(),
        api_base: "https://api.zoom.us/v2".into(),
        oauth_base: "https://zoom.us".into(),
        destination: PathBuf::from("/home/you/ZoomRecordings"),
        state_path: PathBuf::from("/home/you/.local/share/zvm/state.sqlite3"),
        token_dir: PathBuf::from("/home/you/.config/zvm"),
        transfers: 8,
        transfers_auto: false,
        bwlimit_mib: 20.0,
        ..GuiSettings::default()
    };
    let mut app = ZvmApp::new(settings, None);
    // A demo: the end-of-run notification is decided, not shown on the desktop.
    app.deliver_notifications = false;
    app.set_time_zone(tokyo());
    app.inject(Msg::Connected {
        mode: AuthMode::ServerToServer,
        who: "AbCdEfGh-account".into(),
        scopes: vec![
            "cloud_recording:read:list_user_recordings:admin".into(),
            "user:read:list_users:admin".into(),
        ],
        users: vec![
            ("host0".into(), "teacher0@school.example".into()),
            ("host1".into(), "teacher1@school.example".into()),
        ],
    });
    app.inject(Msg::TokenState(TokenView {
        present: true,
        expires_at: jiff::Timestamp::now().as_second() + 3630,
        has_refresh: true,
        scopes: "cloud_recording:read:list_user_recordings".into(),
        location: "/home/you/.config/zvm/zoom-token.json".into(),
    }));
    app.from_text = "2026-10-01".into();
    app.to_text = "2026-11-28".into();
    app.inject(Msg::ListStarted);
    app.inject(Msg::ListBatch(demo_rows()));
    app.inject(Msg::ListDone);
    app.list.recount();
    app.file_types.insert("MP4".into());
    app.inject(Msg::JobStarted(JobKind::Download));
    let names = ["定例会議", "Weekly standup", "数学 I 期末テスト解説"];
    for (i, name) in names.iter().enumerate() {
        let size = 200_000_000 + i as u64 * 50_000_000;
        app.inject(Msg::Engine(Event::FileQueued {
            file: fileref(i, name),
            size,
        }));
        // Started two seconds before its latest progress, so each file's own speed is a
        // fixed figure (what arrived over those two seconds).
        let t0 = std::time::Instant::now();
        app.transfers.apply_at(
            &Event::FileStarted {
                file: fileref(i, name),
                size,
                offset: 0,
            },
            t0,
        );
        app.transfers.apply_at(
            &Event::FileProgress {
                file: fileref(i, name),
                bytes_done: size / (i as u64 + 2),
                size,
            },
            t0 + std::time::Duration::from_secs(2),
        );
    }
    app.inject(Msg::Engine(Event::FileDone {
        file: fileref(3, "Lab meeting"),
        size: 1_000_000,
        sha256: None,
    }));
    app.inject(Msg::Engine(Event::FileFailed {
        file: fileref(4, "英語コミュニケーション"),
        class: FailureClass::Download,
        error: "download stalled: no data for 60s".into(),
    }));
    // A file Zoom is still processing: not downloaded in this run, said in Problems.
    app.inject(Msg::Engine(Event::FileSkipped {
        file: FileRef {
            meeting_uuid: "uuid-2".into(),
            file_id: "f2c".into(),
            path: "teacher2@school.example/2026/2026-11-27 1130 数学 I（2年B組）期末テスト解説/audio_transcript.vtt".into(),
        },
        size: 0,
        reason: SkipReason::Processing,
    }));
    app.inject(Msg::Engine(Event::Warning {
        message: Notice::SummariesNotOnPlan,
    }));
    // The engine's accounting of the run, as the backend forwards it: 3 files under way, 1
    // done, 1 failed.
    app.inject(Msg::Stats(RunStats {
        meetings: 5,
        files_queued: 5,
        bytes_queued: 751_000_000,
        bytes_done: 259_333_333,
        files_verified: 1,
        bytes_verified: 1_000_000,
        files_failed: 1,
        rate: 3_500_000.0,
        ..RunStats::default()
    }));
    // A failure with a cause: its sentence comes from the window's string table.
    app.inject(Msg::Problem(Problem {
        cause: zvm_app::Cause::DiskFull,
        subject: "定例会議 2026年度 第3回".into(),
        detail: "no space left to write teacher0@school.example/2026/audio_only.m4a".into(),
    }));
    // What stays in the cloud: a meeting with a file Zoom is still processing, and one whose
    // download failed. The engine reports each as it plans, then hands over the plan.
    let kept = vec![
        (
            "uuid-2".to_string(),
            "数学 I（2年B組）期末テスト解説".to_string(),
            KeepReason::Processing,
        ),
        (
            "uuid-4".to_string(),
            "英語コミュニケーション".to_string(),
            KeepReason::NotVerified {
                path: fileref(4, "英語コミュニケーション").path,
                status: FileStatus::Failed,
            },
        ),
    ];
    for (uuid, topic, reason) in &kept {
        app.inject(Msg::Engine(Event::DeleteSkipped {
            meeting_uuid: uuid.clone(),
            topic: topic.clone(),
            reason: reason.clone(),
        }));
    }
    app.inject(Msg::MovePlanned {
        candidates: vec![zvm_engine::MoveCandidate {
            meeting_uuid: "uuid-0".into(),
            topic: "定例会議 2026年度 第3回".into(),
            start_time: "2026-11-28T09:30:00Z".into(),
            file_ids: None,
            copies: vec![
                (
                    "teacher0@school.example/2026/2026-11-28 1830 定例会議 2026年度 第3回/shared_screen_with_speaker_view.mp4".into(),
                    157_340_033,
                    None,
                ),
                (
                    "teacher0@school.example/2026/2026-11-28 1830 定例会議 2026年度 第3回/audio_only.m4a".into(),
                    20_000_003,
                    None,
                ),
            ],
            bytes: 177_340_036,
        }],
        kept: kept.clone(),
    });
    for (i, l) in app.log.iter_mut().enumerate() {
        l.at = format!("10:1{i}:00");
    }
    demo_search(&mut app);
    app
}

/// The Search screen of the demo: "予算" asked, and lines of a transcript, a chat and a
/// summary of two meetings answered (as the engine thread answers from the index).
pub fn demo_search(app: &mut ZvmApp) {
    let hit = |uuid: &str,
               topic: &str,
               start: &str,
               file: &str,
               kind: &str,
               at: Option<u64>,
               text: &str| {
        let day = &start[..10];
        zvm_archive::Hit {
            meeting_uuid: uuid.into(),
            topic: topic.into(),
            start_time: start.into(),
            host: "teacher0@school.example".into(),
            path: format!("teacher0@school.example/2026/{day} {topic}/{file}"),
            kind: kind.into(),
            offset_ms: at,
            text: text.into(),
        }
    };
    let m0 = ("uuid-0", "定例会議 2026年度 第3回", "2026-11-28T09:30:00Z");
    let m5 = (
        "uuid-5",
        "保護者会・オンライン説明会",
        "2026-11-20T10:00:00Z",
    );
    let hits = vec![
        hit(
            m0.0,
            m0.1,
            m0.2,
            "audio_transcript.vtt",
            "transcript",
            Some(754_000),
            "佐藤: 来年度の予算について確認します",
        ),
        hit(
            m0.0,
            m0.1,
            m0.2,
            "chat.txt",
            "chat",
            Some(801_500),
            "田中: 予算の資料を共有しました",
        ),
        hit(
            m0.0,
            m0.1,
            m0.2,
            "summary.json",
            "summary",
            None,
            "予算案と行事の日程を決めました。",
        ),
        hit(
            m5.0,
            m5.1,
            m5.2,
            "audio_transcript.vtt",
            "transcript",
            Some(2_415_000),
            "Suzuki: 修学旅行の予算は前年と同じです",
        ),
    ];
    app.search.query = "予算".into();
    let number = app.search.ask();
    app.inject(Msg::SearchAnswer {
        number,
        answer: zvm_gui::search::SearchAnswer::Hits(hits),
    });
}
