//! Frame time of the GUI with 100,000 listed recordings while 8 transfers run.
//!
//! Each frame: the 8 transfers report progress, and the run its figures, through the same
//! channel the engine thread uses (drained inside the frame), the list scrolls by a wheel
//! step, and the frame is laid out and tessellated (what egui does on the CPU before the GPU
//! draws). Prints p50/p99/max per screen, and on Recordings the most rows a frame laid out
//! and whether any frame sorted or filtered the list (work per listed row). Run:
//! `cargo bench -p zvm-gui --bench frame_time`.

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use zvm_engine::events::FileRef;
use zvm_engine::{Event, RunStats};
use zvm_gui::backend::Msg;
use zvm_gui::fonts::{self, FontSource};
use zvm_gui::model::{RecFile, Recording, RowStatus};
use zvm_gui::settings::GuiSettings;
use zvm_gui::{Screen, ZvmApp};

const ROWS: usize = 100_000;
const TRANSFERS: usize = 8;
const FRAMES: usize = 600;

fn rows() -> Vec<Recording> {
    let topics = [
        "定例会議",
        "Weekly standup",
        "数学 I 期末テスト解説",
        "Lab meeting",
        "保護者会",
    ];
    (0..ROWS)
        .map(|i| {
            let files = vec![
                RecFile::new(format!("{i}-mp4"), "MP4", 100_000_000 + i as u64),
                RecFile::new(format!("{i}-m4a"), "M4A", 10_000_000 + i as u64),
                RecFile::new(format!("{i}-chat"), "CHAT", 2_000 + i as u64),
            ];
            Recording::new(
                format!("uuid-{i}"),
                format!("host{}", i % 50),
                format!("user{}@example.com", i % 50),
                format!("{} #{i}", topics[i % topics.len()]),
                format!(
                    "20{:02}-{:02}-{:02}T{:02}:00:00Z",
                    20 + i % 7,
                    1 + i % 12,
                    1 + i % 28,
                    i % 24
                ),
                files,
                RowStatus::InCloud,
            )
        })
        .collect()
}

fn file(i: usize) -> FileRef {
    FileRef {
        meeting_uuid: format!("uuid-{i}"),
        file_id: format!("{i}-mp4"),
        path: format!("user{i}@example.com/2026/2026-11-28 0900 定例会議 #{i}/video.mp4"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    let mut app = ZvmApp::new(GuiSettings::default(), None);
    app.inject(Msg::ListStarted);
    let t = Instant::now();
    app.inject(Msg::ListBatch(rows()));
    app.inject(Msg::ListDone);
    println!(
        "loaded {} rows into the list in {:.1} ms",
        app.list.rows.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let size = 1u64 << 30;
    for i in 0..TRANSFERS {
        app.inject(Msg::Engine(Event::FileQueued {
            file: file(i),
            size,
        }));
        app.inject(Msg::Engine(Event::FileStarted {
            file: file(i),
            size,
            offset: 0,
        }));
    }
    let outbox = app.outbox();
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .with_accessibility_check(false)
        .with_context_setup(|ctx| {
            fonts::install(ctx, FontSource::Bundled);
        })
        .build_ui_state(|ui, app: &mut ZvmApp| app.ui(ui), app);

    h.state_mut().screen = Screen::Recordings;
    h.run_steps(2);
    // The list shows the newest first: its first row is drawn.
    let first = {
        let list = &h.state().list;
        list.rows[list.visible[0]].topic.clone()
    };
    assert!(h.query_by_label(&first).is_some(), "the first row is drawn");
    let mut done = 0u64;
    let visits_before = h.state().list.row_visits();
    let mut most_drawn = 0;
    for screen in [Screen::Recordings, Screen::Transfers] {
        h.state_mut().screen = screen;
        h.hover_at(egui::pos2(600.0, 500.0));
        let mut times = Vec::with_capacity(FRAMES);
        for frame in 0..(FRAMES + 30) {
            done += 1 << 20;
            for i in 0..TRANSFERS {
                outbox.send(Msg::Engine(Event::FileProgress {
                    file: file(i),
                    bytes_done: done.min(size),
                    size,
                }));
            }
            // The run's figures, as the backend forwards the engine's accounting.
            outbox.send(Msg::Stats(RunStats {
                files_queued: TRANSFERS as u64,
                bytes_queued: size * TRANSFERS as u64,
                bytes_done: done.min(size) * TRANSFERS as u64,
                rate: 8.0 * 1024.0 * 1024.0 * 60.0,
                ..RunStats::default()
            }));
            // Scroll down, and every 200 frames jump back up.
            let dy = if frame % 200 == 199 { 40_000.0 } else { -200.0 };
            h.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, dy),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Unknown,
                modifiers: egui::Modifiers::NONE,
            });
            let start = Instant::now();
            h.step();
            let shapes = h.output().shapes.clone();
            let ppp = h.output().pixels_per_point;
            let prims = h.ctx.tessellate(shapes, ppp);
            let elapsed = start.elapsed();
            std::hint::black_box(prims);
            if frame >= 30 {
                times.push(elapsed);
            }
            if screen == Screen::Recordings {
                most_drawn = most_drawn.max(h.state().rows_drawn);
            }
        }
        if screen == Screen::Recordings {
            // The wheel really moved the list: the first row is out of view, a later one is in.
            assert!(
                h.query_by_label(&first).is_none(),
                "the list did not scroll"
            );
            println!(
                "Recordings: at most {most_drawn} of {ROWS} rows laid out in a frame; rows sorted or filtered during the frames: {}",
                h.state().list.row_visits() - visits_before
            );
        }
        times.sort();
        println!(
            "{screen:?}: {ROWS} rows, {TRANSFERS} transfers, {FRAMES} frames: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&times, 0.50).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0),
        );
    }
}
