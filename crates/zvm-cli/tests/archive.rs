//! `zvm search`, `zvm verify` and `zvm status` (issue #20) against the simulator, whose
//! transcripts, captions and chats are real WebVTT and chat text in English or Japanese and
//! whose AI summaries name what each meeting discussed. What a search must find, and where,
//! is read from the simulator's own cues, never written into the test.

mod common;

use std::collections::BTreeMap;

use common::{TestContext, assert_exact, small_account};
use serde_json::Value;
use zoom_sim::text::{cues, is_japanese, summary_subject};
use zoom_sim::{ManifestFile, ManifestMeeting, SimConfig};

fn account() -> SimConfig {
    let mut cfg = small_account(20_261_130, 60);
    // Every file complete: the status test compares with the whole account.
    cfg.account.processing_fraction = 0.0;
    cfg
}

/// Every line of `zvm --json search WORDS` (every match: the limit is far above them).
async fn search(ctx: &TestContext, words: &str) -> Vec<Value> {
    let state = ctx.state.display().to_string();
    let out = ctx
        .run(&[
            "--json", "--state", &state, "search", words, "--limit", "100000",
        ])
        .await;
    out.expect_code(0, &format!("search {words:?}"));
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON hit per line"))
        .collect()
}

/// A completed transcript of a meeting whose topic is (or is not) Japanese.
fn transcript(manifest: &zoom_sim::Manifest, japanese: bool) -> (&ManifestMeeting, &ManifestFile) {
    manifest
        .meetings
        .iter()
        .filter(|m| is_japanese(&m.topic) == japanese)
        .find_map(|m| {
            m.files
                .iter()
                .find(|f| f.file_type == "TRANSCRIPT" && f.is_completed())
                .map(|f| (m, f))
        })
        .unwrap_or_else(|| {
            panic!("the account has no transcript (japanese: {japanese}): pick another seed")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_english_and_japanese_lines_where_they_were_said() {
    let ctx = TestContext::start(account()).await;
    ctx.sync(&[]).await.expect_code(0, "sync");
    let manifest = ctx.sim.manifest();

    // A line of a transcript, in each language: found in its meeting's transcript, at the
    // second it was said. The search gives no --dest: the sync indexed the files itself.
    for japanese in [false, true] {
        let (m, f) = transcript(&manifest, japanese);
        let cue = &cues(f.key)[2];
        assert_eq!(is_japanese(&cue.text), japanese, "{}", cue.text);
        let hits = search(&ctx, &cue.text).await;
        let line = format!("{}: {}", cue.speaker, cue.text);
        assert!(
            hits.iter().any(|h| h["meeting_uuid"] == m.uuid.as_str()
                && h["kind"] == "transcript"
                && h["offset_ms"] == cue.start_ms
                && h["text"] == line.as_str()
                && h["path"].as_str().is_some_and(|p| p.ends_with(".vtt"))),
            "{line:?} at {} ms of {:?} not among {} hits: {hits:?}",
            cue.start_ms,
            m.topic,
            hits.len()
        );
        for h in &hits {
            assert!(
                h["text"]
                    .as_str()
                    .is_some_and(|t| t.contains(cue.text.as_str())),
                "a hit without the words: {h}"
            );
        }
    }

    // What a summary says, in each language: found in that meeting's summary, with no time.
    for japanese in [false, true] {
        let m = manifest
            .meetings
            .iter()
            .find(|m| m.has_summary && is_japanese(&m.topic) == japanese)
            .expect("a meeting with a summary in this language: pick another seed");
        let subject = summary_subject(m.id, &m.topic);
        let hits = search(&ctx, subject).await;
        assert!(
            hits.iter().any(|h| h["meeting_uuid"] == m.uuid.as_str()
                && h["kind"] == "summary"
                && h["offset_ms"].is_null()
                && h["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("summary.json"))),
            "{subject:?} not found in the summary of {:?}: {hits:?}",
            m.topic
        );
    }

    // A two-character Japanese word (below the index's three): every line holding it, and
    // only those.
    let hits = search(&ctx, "予算").await;
    assert!(!hits.is_empty(), "no line with 予算");
    assert!(
        hits.iter()
            .all(|h| h["text"].as_str().is_some_and(|t| t.contains("予算")))
    );

    // Nothing found: exit 1, like grep. A broken query: exit 2 with what to fix.
    let state = ctx.state.display().to_string();
    let none = ctx.run(&["--state", &state, "search", "zzqqxxvv"]).await;
    none.expect_code(1, "search with no match");
    let bad = ctx.run(&["--state", &state, "search", "\"open"]).await;
    bad.expect_code(2, "an unclosed quote");
    assert!(bad.stderr.contains("quote is not closed"), "{}", bad.stderr);
}

/// The path of each of a meeting's files, from its meeting.json.
fn paths_by_id(ctx: &TestContext) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in ctx
        .local_files()
        .iter()
        .filter(|p| p.ends_with("meeting.json"))
    {
        let folder = p.trim_end_matches("meeting.json");
        let v: Value =
            serde_json::from_slice(&std::fs::read(ctx.dest.join(p)).expect("meeting.json"))
                .expect("meeting.json is JSON");
        for f in v["files"].as_array().into_iter().flatten() {
            if let (Some(id), Some(path)) = (f["id"].as_str(), f["path"].as_str()) {
                assert!(path.starts_with(folder), "{path} outside {folder}");
                out.insert(id.to_string(), path.to_string());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_truncated_flipped_and_missing_files_and_repair_restores_them() {
    let ctx = TestContext::start(account()).await;
    ctx.sync(&["--verify-hash"]).await.expect_code(0, "sync");
    let manifest = ctx.sim.manifest();
    let paths = paths_by_id(&ctx);
    let videos: Vec<&ManifestFile> = manifest
        .meetings
        .iter()
        .flat_map(|m| m.files.iter())
        .filter(|f| f.file_type == "MP4" && f.is_completed() && f.size > 64)
        .take(3)
        .collect();
    assert_eq!(videos.len(), 3);
    let path = |f: &ManifestFile| paths[&f.id].clone();
    let (truncated, flipped, missing) = (path(videos[0]), path(videos[1]), path(videos[2]));
    let file = |p: &str| ctx.dest.join(p);
    std::fs::OpenOptions::new()
        .write(true)
        .open(file(&truncated))
        .and_then(|f| f.set_len(videos[0].size / 2))
        .expect("truncate");
    let mut bytes = std::fs::read(file(&flipped)).expect("read");
    bytes[40] ^= 0x08;
    std::fs::write(file(&flipped), &bytes).expect("flip a bit");
    std::fs::remove_file(file(&missing)).expect("remove");
    std::fs::write(ctx.dest.join("stray.txt"), b"not zvm's").expect("stray file");

    let dest = ctx.dest.display().to_string();
    let state = ctx.state.display().to_string();
    let out = ctx
        .run(&["--json", "--state", &state, "verify", &dest, "--hash"])
        .await;
    out.expect_code(1, "verify of a damaged copy");
    let report: Value = serde_json::from_str(out.stdout.trim()).expect("a JSON report");
    let kinds: BTreeMap<String, String> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap_or_default().to_string(),
                p["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            (truncated.clone(), "wrong_size".to_string()),
            (flipped.clone(), "hash_mismatch".to_string()),
            (missing.clone(), "missing".to_string()),
        ]),
        "{report}"
    );
    assert_eq!(report["unexpected"], serde_json::json!(["stray.txt"]));
    // Every recording's hash was compared but the truncated and the missing one's (the
    // flipped one's was, and differed). The files zvm writes itself, meeting.json and the
    // summary, have none recorded and are checked by size.
    let recordings = manifest
        .meetings
        .iter()
        .flat_map(|m| m.files.iter().chain(m.participant_audio.iter()))
        .filter(|f| f.is_completed())
        .count();
    assert_eq!(
        report["hashed"].as_u64(),
        Some(recordings as u64 - 2),
        "{report}"
    );

    // Repair: only those three are downloaded again, and the copy is whole.
    let records_before = meeting_records(&ctx.dest);
    let (_, cdn_before) = ctx.download_counts();
    let out = ctx
        .run(&["--state", &state, "verify", &dest, "--hash", "--repair"])
        .await;
    out.expect_code(0, "verify --repair");
    let (_, cdn_after) = ctx.download_counts();
    assert_eq!(cdn_after - cdn_before, 3, "{}", out.all());
    for (f, p) in [
        (videos[0], &truncated),
        (videos[1], &flipped),
        (videos[2], &missing),
    ] {
        assert_exact(&ctx.dest, f, p);
        assert!(
            !ctx.dest.join(format!("{p}.damaged")).exists(),
            "the damaged copy of {p} was kept after the repair"
        );
    }
    // The repair asks Zoom for each damaged meeting by uuid, whose answer names the host by
    // id only: the rewritten records still say what the sync's did (the host's email).
    let records_after = meeting_records(&ctx.dest);
    let changed: Vec<String> = records_before
        .iter()
        .filter(|(path, text)| records_after.get(*path) != Some(*text))
        .map(|(path, text)| {
            let host = |t: &str| {
                t.lines()
                    .find(|l| l.contains("\"host\""))
                    .map(str::trim)
                    .map(String::from)
            };
            format!(
                "{path}: {:?} became {:?}",
                host(text),
                records_after.get(path).and_then(|t| host(t))
            )
        })
        .collect();
    assert!(
        changed.is_empty(),
        "records rewritten differently: {changed:#?}"
    );
    assert_eq!(
        records_after.len(),
        records_before.len(),
        "records added or lost"
    );
    let out = ctx
        .run(&["--json", "--state", &state, "verify", &dest, "--hash"])
        .await;
    out.expect_code(0, "verify after the repair");
    let report: Value = serde_json::from_str(out.stdout.trim()).expect("a JSON report");
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_figures_equal_the_simulators_account_and_show_what_move_freed() {
    let ctx = TestContext::start(account()).await;
    ctx.sync(&[]).await.expect_code(0, "sync");
    let manifest = ctx.sim.manifest();
    let recordings: Vec<&ManifestFile> = manifest
        .meetings
        .iter()
        .flat_map(|m| m.files.iter().chain(m.participant_audio.iter()))
        .filter(|f| f.is_completed())
        .collect();
    let bytes: u64 = recordings.iter().map(|f| f.size).sum();
    let meetings = manifest
        .meetings
        .iter()
        .filter(|m| m.files.iter().any(ManifestFile::is_completed))
        .count();

    let state = ctx.state.display().to_string();
    let s = status(&ctx).await;
    let total = &s["total"];
    for fig in ["in_cloud", "copied"] {
        assert_eq!(total[fig]["files"], recordings.len(), "{fig}: {s}");
        assert_eq!(total[fig]["bytes"], bytes, "{fig}: {s}");
        assert_eq!(total[fig]["meetings"], meetings, "{fig}: {s}");
    }
    assert_eq!(total["pending"]["files"], 0, "{s}");
    assert_eq!(total["freed"]["files"], 0, "{s}");
    // By host and year: the rows add up to the total, one row per host's year.
    let rows = s["rows"].as_array().expect("rows");
    let sum: u64 = rows
        .iter()
        .map(|r| r["in_cloud"]["bytes"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(sum, bytes);
    let mut by_host_year: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for m in &manifest.meetings {
        let year: i64 = m.start_time[..4].parse().expect("year");
        for f in m.files.iter().chain(m.participant_audio.iter()) {
            *by_host_year
                .entry((m.host_email.clone(), year))
                .or_default() += f.size;
        }
    }
    let rows_seen: BTreeMap<(String, i64), u64> = rows
        .iter()
        .map(|r| {
            (
                (
                    r["host"].as_str().unwrap_or_default().to_string(),
                    r["year"].as_i64().unwrap_or_default(),
                ),
                r["in_cloud"]["bytes"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(rows_seen, by_host_year);

    // `zvm move` frees the cloud: what it freed, and when, is in the status.
    let dest = ctx.dest.display().to_string();
    let out = ctx
        .run(&[
            "move",
            &dest,
            "--all-users",
            "--from",
            "37m",
            "--state",
            &state,
            "--yes",
        ])
        .await;
    out.expect_code(0, "move");
    let s = status(&ctx).await;
    let total = &s["total"];
    // Move may keep a meeting in the cloud (it says why); every byte is either freed or
    // still there, and each freed meeting is one removal in the audit log.
    let freed = total["freed"]["bytes"].as_u64().unwrap_or(0);
    assert!(freed > bytes / 2, "{s}");
    assert_eq!(
        freed + total["in_cloud"]["bytes"].as_u64().unwrap_or(0),
        bytes,
        "{s}"
    );
    assert_eq!(total["copied"]["bytes"], bytes, "{s}");
    assert_eq!(s["removals"], total["freed"]["meetings"], "{s}");
    assert!(s["last_removal"].as_str().is_some(), "{s}");
}

/// `zvm --json status` of the test's state.
async fn status(ctx: &TestContext) -> Value {
    let state = ctx.state.display().to_string();
    let out = ctx.run(&["--json", "--state", &state, "status"]).await;
    out.expect_code(0, "status");
    serde_json::from_str::<Value>(out.stdout.trim()).expect("a JSON report")
}

/// Files the simulator's account holds in the cloud still processing, by host and year.
fn processing_by_host_year(manifest: &zoom_sim::Manifest) -> BTreeMap<(String, i64), u64> {
    let mut out = BTreeMap::new();
    for m in &manifest.meetings {
        let year: i64 = m.start_time[..4].parse().expect("year");
        let n = m
            .files
            .iter()
            .filter(|f| !f.is_completed() && f.cloud == zoom_sim::CloudState::Present)
            .count() as u64;
        if n > 0 {
            *out.entry((m.host_email.clone(), year)).or_default() += n;
        }
    }
    out
}

/// `status` rows' `processing` file counts, by host and year (rows with none left out).
fn status_processing(s: &Value) -> BTreeMap<(String, i64), u64> {
    s["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["processing"]["files"].as_u64().unwrap_or(0) > 0)
        .map(|r| {
            (
                (
                    r["host"].as_str().unwrap_or_default().to_string(),
                    r["year"].as_i64().unwrap_or_default(),
                ),
                r["processing"]["files"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_files_processing_at_zoom_and_not_yet_copied_until_they_complete() {
    // The small account keeps a share of its files processing.
    let ctx = TestContext::start(small_account(20_261_131, 60)).await;
    ctx.sync(&[]).await.expect_code(0, "sync");
    let manifest = ctx.sim.manifest();
    let expected = processing_by_host_year(&manifest);
    assert!(!expected.is_empty(), "the account has processing files");
    let s = status(&ctx).await;
    assert_eq!(status_processing(&s), expected, "{s}");
    let total: u64 = expected.values().sum();
    assert_eq!(s["total"]["processing"]["files"], total, "{s}");
    // Listed and complete, minus copied: after a sync that exited 0, what is left pending.
    let listed_complete = manifest
        .meetings
        .iter()
        .flat_map(|m| m.files.iter().chain(m.participant_audio.iter()))
        .filter(|f| f.is_completed() && f.cloud == zoom_sim::CloudState::Present)
        .count() as u64;
    let copied = s["total"]["copied"]["files"].as_u64().expect("copied");
    assert_eq!(copied, listed_complete, "{s}");
    assert_eq!(
        s["total"]["pending"]["files"].as_u64(),
        Some(listed_complete - copied),
        "{s}"
    );
    let text = {
        let state = ctx.state.display().to_string();
        let out = ctx.run(&["--state", &state, "status"]).await;
        out.expect_code(0, "status");
        out.stdout
    };
    assert!(text.contains("processing at Zoom"), "{text}");

    // Zoom finishes; a re-run copies the files and nothing is processing any more.
    ctx.sim.complete_processing();
    ctx.sync(&[]).await.expect_code(0, "second sync");
    let manifest = ctx.sim.manifest();
    assert!(processing_by_host_year(&manifest).is_empty());
    let s = status(&ctx).await;
    assert_eq!(s["total"]["processing"]["files"], 0, "{s}");
    assert!(status_processing(&s).is_empty(), "{s}");
    assert_eq!(s["total"]["pending"]["files"], 0, "{s}");
    assert_eq!(
        s["total"]["copied"]["files"].as_u64(),
        Some(listed_complete + total),
        "{s}"
    );
}

/// Every `meeting.json` under `dest`, by path, as text.
fn meeting_records(dest: &std::path::Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![dest.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if entry.file_name() == "meeting.json" {
                let text = std::fs::read_to_string(&path).expect("meeting.json");
                found.insert(path.display().to_string(), text);
            }
        }
    }
    assert!(
        !found.is_empty(),
        "no meeting.json under {}",
        dest.display()
    );
    found
}
