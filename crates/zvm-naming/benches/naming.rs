//! Naming cost per meeting: it runs for every listed meeting on every sync.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use zvm_naming::{FileInfo, MeetingInfo, Namer};

fn bench(c: &mut Criterion) {
    let n = Namer::new(Namer::DEFAULT_FOLDER, Namer::DEFAULT_FILE).unwrap();
    let typical = MeetingInfo {
        host: "alice@example.com",
        host_email: "alice@example.com",
        topic: "Weekly team sync",
        start_time: "2024-03-05T01:30:00Z".parse().unwrap(),
        timezone: "Asia/Tokyo",
        meeting_id: 1,
        uuid: "abc==",
    };
    let long = format!("{}/CON:*?{}", "定例会議".repeat(30), "🎉".repeat(20));
    let hostile = MeetingInfo {
        topic: &long,
        ..typical
    };
    let f = FileInfo {
        recording_type: "shared_screen_with_speaker_view",
        file_type: "MP4",
        file_extension: "MP4",
        file_id: "x",
        recording_start: None,
        participant: None,
    };
    c.bench_function("name typical meeting", |b| {
        b.iter(|| (n.folder(black_box(&typical)), n.file_name(&typical, &f)))
    });
    c.bench_function("name hostile meeting", |b| {
        b.iter(|| (n.folder(black_box(&hostile)), n.file_name(&hostile, &f)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
