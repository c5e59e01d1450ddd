//! Committing verified files to the SQLite state: one transaction per file (what the engine
//! does, through `StateStore::mark_verified`) against one transaction per batch
//! (`SqliteState::mark_verified_batch`). The state file is on disk in WAL mode with
//! `synchronous=NORMAL`, exactly as `zvm sync` opens it. Figures and the decision are in
//! BENCHMARKS.md ("State writes (criterion)").
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zvm_state::{FileKey, FileKind, MeetingRow, PlannedFile, SqliteState, StateStore};

/// Files committed per measured iteration.
const FILES: usize = 1000;

fn planned(n: usize) -> Vec<PlannedFile> {
    (0..n)
        .map(|i| PlannedFile {
            key: FileKey::new(format!("uuid-{}", i / 4), format!("file-{i}")),
            kind: FileKind::Recording,
            file_type: "MP4".into(),
            recording_type: "shared_screen_with_speaker_view".into(),
            rel_path: format!("host/2024/meeting-{}/file-{i}.mp4", i / 4),
            expected_size: 1 << 20,
        })
        .collect()
}

async fn seeded(dir: &std::path::Path) -> SqliteState {
    let st = SqliteState::open(&dir.join("state.sqlite3")).expect("open the state");
    for i in 0..FILES / 4 {
        st.upsert_meeting(&MeetingRow {
            uuid: format!("uuid-{i}"),
            meeting_id: i as i64,
            host_id: "h".into(),
            host_email: "h@example.com".into(),
            topic: "Weekly team sync".into(),
            start_time: "2024-03-05T01:30:00Z".into(),
            timezone: "UTC".into(),
            duration_min: 30,
            folder: format!("host/2024/meeting-{i}"),
            cloud: zvm_state::CloudState::Present,
        })
        .await
        .expect("meeting");
    }
    for f in planned(FILES) {
        st.plan_file(&f).await.expect("plan");
    }
    st
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let st = rt.block_on(seeded(dir.path()));
    let keys: Vec<FileKey> = planned(FILES).into_iter().map(|f| f.key).collect();
    let sha = Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_string());

    let mut g = c.benchmark_group("commit verified files");
    g.throughput(Throughput::Elements(FILES as u64));
    g.measurement_time(Duration::from_secs(8));
    g.bench_function(BenchmarkId::new("one transaction per file", FILES), |b| {
        b.to_async(&rt).iter(|| async {
            for k in &keys {
                st.mark_verified(k, 1 << 20, sha.as_deref())
                    .await
                    .expect("verified");
            }
        })
    });
    for batch in [16usize, 256, FILES] {
        g.bench_function(
            BenchmarkId::new(format!("one transaction per {batch} files"), FILES),
            |b| {
                b.to_async(&rt).iter(|| async {
                    for chunk in keys.chunks(batch) {
                        let rows = chunk
                            .iter()
                            .map(|k| (k.clone(), 1u64 << 20, sha.clone()))
                            .collect();
                        st.mark_verified_batch(rows).await.expect("verified");
                    }
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
