//! The search benchmark of issue #20: index the text of many transcripts (the simulator's
//! WebVTT, half English, half Japanese), then time queries. Prints indexing speed (MB of
//! text a second), the index's size against the text's, and query latency (median and p95
//! over repeated runs of each query), with the target (p95 under 50 ms).
//!
//! `cargo bench -p zvm-archive --bench search` (DOCS=100000 by default; DOCS=10000 for a
//! quick look). Needs about 4x the text's size on disk in the temp dir. With ONE_BY_ONE=1
//! each transcript goes in alone, in its own transaction (`SearchIndex::put_document`), as
//! a sync indexes files as they arrive; otherwise in batches of 5,000 (a rebuild).

// A benchmark prints its figures: that is its output.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use zvm_archive::SearchIndex;
use zvm_archive::extract::TextFormat;
use zvm_archive::index::DocMeta;

fn main() {
    let docs: u64 = std::env::var("DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.search.sqlite3");
    let mut index = SearchIndex::open(&path).expect("open the index");

    let started = Instant::now();
    let (mut text_bytes, mut lines) = (0u64, 0u64);
    let one_by_one = std::env::var("ONE_BY_ONE").is_ok_and(|v| v == "1");
    let batch = 5_000u64;
    let mut i = 0u64;
    while i < docs {
        let end = (i + batch).min(docs);
        let items: Vec<_> = (i..end)
            .map(|n| {
                let topic = if n % 2 == 0 {
                    "Math 101 — Lecture"
                } else {
                    "数学Ⅱ 第3回 授業"
                };
                let seed = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let (key, size) =
                    zoom_sim::text::as_text("TRANSCRIPT", seed, topic).expect("a text type");
                let bytes = zoom_sim::text::document(key).expect("a document");
                let meta = DocMeta {
                    meeting_uuid: format!("meeting-{n}"),
                    file_id: format!("file-{n}"),
                    path: format!("user/2026/meeting {n}/audio_transcript.vtt"),
                    size,
                    sha256: None,
                    topic: topic.to_string(),
                    start_time: format!("2026-{:02}-{:02}T09:00:00Z", 1 + n % 12, 1 + n % 28),
                    host: "user@example.com".into(),
                };
                (meta, TextFormat::WebVtt, bytes)
            })
            .collect();
        if one_by_one {
            for (meta, format, bytes) in items {
                lines += index
                    .put_document(&meta, format, &bytes)
                    .expect("index one");
                text_bytes += bytes.len() as u64;
            }
        } else {
            let r = index.add_documents(items).expect("index a batch");
            text_bytes += r.bytes;
            lines += r.lines;
        }
        i = end;
    }
    let secs = started.elapsed().as_secs_f64();
    drop(index);
    let index_bytes: u64 = std::fs::read_dir(dir.path())
        .expect("read the temp dir")
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let mb = text_bytes as f64 / 1e6;
    let how = if one_by_one {
        "one by one"
    } else {
        "in batches"
    };
    println!("indexed {docs} transcripts {how}: {lines} lines, {mb:.1} MB of text in {secs:.1} s");
    println!(
        "indexing speed: {:.2} MB/s (text, including the WebVTT parse)",
        mb / secs
    );
    println!(
        "index size: {:.1} MB = {:.2}x the text",
        index_bytes as f64 / 1e6,
        index_bytes as f64 / text_bytes as f64
    );

    // An index made before the short-term table existed gets it filled when opened: the
    // one-time cost of that migration, over the same lines.
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch("DROP TABLE short_terms"))
        .expect("drop the short-term table");
    let t = Instant::now();
    let index = SearchIndex::open(&path).expect("reopen, filling the short-term table");
    println!(
        "opening it as an index made before short terms (the table filled from its lines): {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let queries = [
        ("English word", "photosynthesis"),
        ("English phrase", "\"the quarterly budget\""),
        ("English, two words", "homework Newton's"),
        ("Japanese, 6 characters", "フランス革命"),
        ("Japanese phrase", "二次方程式の解の公式"),
        ("a speaker's name", "Chloé Dubois"),
        ("rare (no match)", "zqxwvu"),
        ("Japanese, 2 characters", "予算"),
        ("Japanese, 1 character", "健"),
        ("English, 2 characters (a word)", "on"),
        ("English, 1 character (a word)", "I"),
        ("Japanese, 2 characters, no match", "ゑゐ"),
        ("Japanese, 1 character, no match", "ゑ"),
        ("English, 2 characters, no match", "zq"),
        ("a word and a 2-character one", "quarterly on"),
        ("a common word and a 2-character miss", "the zq"),
    ];
    let reps = 25;
    println!("query latency over {reps} runs each, the first 20 hits (target: p95 < 50 ms):");
    for (what, q) in queries {
        let mut times = Vec::with_capacity(reps);
        let mut hits = 0;
        for _ in 0..reps {
            let t = Instant::now();
            hits = index.search(q, 20).expect("search").len();
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "  {what:<44} {q:<26} hits {hits:>2}  median {:>8.2} ms  p95 {:>8.2} ms  {}",
            p(0.5),
            p(0.95),
            if p(0.95) < 50.0 { "met" } else { "NOT met" }
        );
    }
}
