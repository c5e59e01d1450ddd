//! `zvm sync` and `zvm move` into S3-compatible storage (issue 18): the real binary against
//! the simulator in this process and the S3-compatible server `.ci/run` starts
//! (`ZVM_TEST_S3_ENDPOINT`), sometimes through a proxy that plays a full bucket. Each test
//! reads the bucket back with plain HTTP and holds it to the same strict check as a local
//! copy (every completed file exactly once, byte-identical, nothing else).

mod common;

// The S3 harness brings its own copy of the skip rule (`common` has one too): two modules
// of one file, each private to its parent.
#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod s3;

use std::time::Duration;

use common::{RunOutput, TestContext, small_account};
use s3::{Mode, Proxy, keys, new_bucket, object};
use sha2::Digest;
use zoom_sim::{AccountSpec, FaultConfig, SimConfig};

const MIB: u64 = 1 << 20;

/// `s3://bucket/zoom?endpoint=...` for `endpoint`.
fn url(endpoint: &str, bucket: &str) -> String {
    format!("s3://{bucket}/zoom?endpoint={endpoint}&region=us-east-1")
}

/// Runs zvm with the test server's keys in the environment, as a user would.
async fn zvm(ctx: &TestContext, args: &[String]) -> RunOutput {
    let mut cmd = ctx.zvm();
    cmd.env("AWS_ACCESS_KEY_ID", s3::KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", s3::SECRET)
        .args(args);
    common::run_cmd(cmd).await
}

fn sync_args(ctx: &TestContext, dest: &str, extra: &[&str]) -> Vec<String> {
    let mut v = ctx.sync_args(extra);
    v[1] = dest.to_string();
    v
}

/// A zvm built without the `s3` feature cannot take part: fail under CI, skip elsewhere.
fn built_without_s3(out: &RunOutput) -> bool {
    if out.stderr.contains("built without s3:// support") {
        s3::skip_or_fail("this zvm was built without the s3 feature");
        return true;
    }
    false
}

/// Copies every object under `zoom/` into `ctx.dest`, so the strict local check applies.
async fn mirror(ctx: &TestContext, endpoint: &str, bucket: &str) {
    let _ = std::fs::remove_dir_all(&ctx.dest);
    for key in keys(endpoint, bucket).await {
        let rel = key
            .strip_prefix("zoom/")
            .unwrap_or_else(|| panic!("{key} is outside the prefix"));
        let bytes = object(endpoint, bucket, &urlencode_path(&key))
            .await
            .unwrap_or_else(|| panic!("{key} listed but not readable"));
        let path = ctx.dest.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

/// Percent-encodes each segment of a key for a plain GET.
fn urlencode_path(key: &str) -> String {
    key.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn sync_faults() -> FaultConfig {
    // The rates of the sync acceptance tests: resets, truncations, ignored ranges, 5xx.
    FaultConfig {
        seed: 18,
        api_5xx_prob: 0.05,
        reset_prob: 0.05,
        reset_after_bytes: 20_000,
        truncate_prob: 0.05,
        range_ignored_prob: 0.1,
        ..FaultConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_into_s3_under_faults_copies_exactly_and_a_rerun_uploads_nothing() {
    let Some(ep) = s3::s3_endpoint("sync into s3") else {
        return;
    };
    let mut cfg = small_account(181, 30);
    cfg.account.mp4_size = (64 << 10, 7 << 20); // some files go up in several parts
    cfg.faults = sync_faults();
    let ctx = TestContext::start(cfg).await;
    let bucket = new_bucket(&ep, "sync").await;
    let proxy = Proxy::start(&ep, Mode::Pass).await;
    let dest = url(&proxy.endpoint, &bucket);
    let out = zvm(&ctx, &sync_args(&ctx, &dest, &["-j", "4"])).await;
    if built_without_s3(&out) {
        return;
    }
    out.expect_code(0, "sync into s3 under faults");
    assert!(
        !out.all().contains(s3::SECRET),
        "the secret key is never shown"
    );
    mirror(&ctx, &ep, &bucket).await;
    let checked = ctx.verify_copy();
    assert!(checked > 20, "only {checked} files checked");

    // A re-run finds every recording verified in the bucket: nothing is downloaded, so no
    // recording is streamed up again (only the write probe and the small meeting.json
    // records go up).
    let (downloads, _) = ctx.download_counts();
    let first_bytes = proxy.upload_bytes();
    let out = zvm(&ctx, &sync_args(&ctx, &dest, &[])).await;
    out.expect_code(0, "re-run");
    assert_eq!(
        ctx.download_counts().0,
        downloads,
        "nothing downloaded again"
    );
    let again = proxy.upload_bytes() - first_bytes;
    assert!(
        first_bytes > 20 * MIB && again < MIB,
        "the first run uploaded {first_bytes} bytes, the re-run {again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_into_s3_deletes_in_zoom_only_what_the_bucket_holds() {
    let Some(ep) = s3::s3_endpoint("move into s3") else {
        return;
    };
    let mut cfg = small_account(182, 12);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    let bucket = new_bucket(&ep, "move").await;
    let proxy = Proxy::start(&ep, Mode::Pass).await;
    let dest = url(&proxy.endpoint, &bucket);
    let mut args = sync_args(&ctx, &dest, &["--yes", "--verify-hash"]);
    args[0] = "move".into();
    let out = zvm(&ctx, &args).await;
    if built_without_s3(&out) {
        return;
    }
    out.expect_code(0, "move into s3");
    let deleted = ctx.sim.deletions();
    assert!(!deleted.is_empty(), "the move deleted in Zoom");
    // (A meeting may stay in Zoom for its own reasons, e.g. one still in progress: what is
    // asserted is that every deletion is backed by the bucket, below.)
    // The audit log names each deletion, as for a local destination.
    let audit = std::fs::read_to_string(ctx.state.parent().unwrap().join("audit.jsonl"))
        .expect("audit log beside the state");
    let done: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"outcome\":\"deleted\""))
        .collect();
    assert_eq!(done.len(), deleted.len(), "{audit}");
    // With --verify-hash each deletion names the SHA-256 read back from the bucket.
    for l in &done {
        let v: serde_json::Value = serde_json::from_str(l).expect("an audit line is JSON");
        // ... and the bucket holds exactly those bytes under that name.
        for copy in v["copies"].as_array().expect("copies") {
            let (path, size, sha) = (
                copy[0].as_str().expect("path"),
                copy[1].as_u64().expect("size"),
                copy[2].as_str().expect("a SHA-256 with --verify-hash"),
            );
            let bytes = object(&ep, &bucket, &urlencode_path(&format!("zoom/{path}")))
                .await
                .unwrap_or_else(|| panic!("{path} was deleted in Zoom but is not in the bucket"));
            assert_eq!(bytes.len() as u64, size, "{path}");
            assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), sha, "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bucket_exits_4_with_a_clear_message_and_deletes_nothing_in_zoom() {
    let Some(ep) = s3::s3_endpoint("full bucket") else {
        return;
    };
    let mut cfg = small_account(183, 10);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    let bucket = new_bucket(&ep, "full").await;
    // Room for the write probe and a few files, then "storage full" for every upload.
    let proxy = Proxy::start(&ep, Mode::FullAfter(64 << 10)).await;
    let dest = url(&proxy.endpoint, &bucket);
    let mut args = sync_args(&ctx, &dest, &["--yes"]);
    args[0] = "move".into();
    let out = zvm(&ctx, &args).await;
    if built_without_s3(&out) {
        return;
    }
    out.expect_code(4, "move into a full bucket");
    assert!(proxy.refused() > 0, "the proxy played a full bucket");
    assert!(
        out.stderr.contains("full or over its quota") && out.stderr.contains("s3://"),
        "{}",
        out.stderr
    );
    assert!(
        ctx.sim.deletions().is_empty(),
        "nothing was deleted in Zoom"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_and_missing_keys_exit_2_and_say_how_to_fix_them() {
    let ctx = TestContext::start(small_account(184, 1)).await;
    for (dest, says) in [
        ("s3:///x", "no bucket"),
        ("s3://b/p?colour=blue", "unknown option"),
        ("ftp://host/x", "unknown destination kind ftp://"),
        (
            "gdrive://folder/x",
            "cannot write to gdrive:// destinations yet",
        ),
    ] {
        let out = zvm(&ctx, &sync_args(&ctx, dest, &[])).await;
        out.expect_code(2, dest);
        assert!(out.stderr.contains(says), "{dest}: {}", out.stderr);
    }
    // No keys in the environment.
    let mut cmd = ctx.zvm();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .args(sync_args(
            &ctx,
            "s3://bucket/p?endpoint=http://127.0.0.1:9",
            &[],
        ));
    let out = common::run_cmd(cmd).await;
    if built_without_s3(&out) {
        return;
    }
    out.expect_code(2, "no credentials");
    assert!(out.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", out.stderr);
    assert!(ctx.sim.deletions().is_empty());
}

fn one_large_file(size: u64) -> SimConfig {
    let mut cfg = SimConfig {
        account: AccountSpec {
            active_users: 1,
            inactive_users: 0,
            pending_users: 0,
            meetings: 1,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(size),
            processing_fraction: 0.0,
            hostile_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            in_progress_fraction: 0.0,
            ..AccountSpec::default()
        },
        faults: FaultConfig {
            // Seconds per file whatever the machine: the kill lands mid-upload.
            bandwidth_bps: 2 * MIB,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    };
    cfg.rate_limits.enabled = false;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_leaves_no_object_and_the_rerun_completes() {
    let Some(ep) = s3::s3_endpoint("kill mid-upload") else {
        return;
    };
    let size = 24 * MIB + 5;
    let ctx = TestContext::start(one_large_file(size)).await;
    let manifest = ctx.sim.manifest();
    let (_, file) = manifest.files().next().expect("one file");
    let bucket = new_bucket(&ep, "kill").await;
    let proxy = Proxy::start(&ep, Mode::Pass).await;
    let dest = url(&proxy.endpoint, &bucket);
    let args = sync_args(&ctx, &dest, &["--from", "2y", "--quiet"]);

    let mut cmd = ctx.zvm();
    cmd.env("AWS_ACCESS_KEY_ID", s3::KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", s3::SECRET)
        .args(&args);
    let mut child = cmd.spawn().expect("spawn zvm");
    // Kill once 12 MiB came from Zoom: at least two 5 MiB parts are uploaded by then.
    let mut served = 0;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        served = ctx
            .sim
            .stats()
            .bytes_by_file
            .get(&file.id)
            .copied()
            .unwrap_or(0);
        if served >= 12 * MIB {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    if let Ok(Some(status)) = child.try_wait() {
        let out = common::wait_output(child).await;
        if built_without_s3(&out) {
            return;
        }
        panic!("zvm ended before the kill: {status:?}\n{}", out.stderr);
    }
    assert!(served >= 12 * MIB, "the download never got to 12 MiB");
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "killed by a signal, not finished");
    assert_eq!(
        keys(&ep, &bucket).await,
        Vec::<String>::new(),
        "an interrupted upload must leave nothing under any key"
    );

    // The next run starts the file over (an upload cannot be taken over across runs) and
    // completes it.
    let asked_before = ctx.sim.stats().cdn_requests[&file.id].len();
    let out = zvm(&ctx, &args).await;
    out.expect_code(0, "the run after the kill");
    mirror(&ctx, &ep, &bucket).await;
    assert_eq!(ctx.verify_copy_after_kill(), 1);
    let again = &ctx.sim.stats().cdn_requests[&file.id][asked_before..];
    assert!(
        again
            .first()
            .is_some_and(|r| r.range.is_none() || r.range.as_deref() == Some("bytes=0-")),
        "the re-run fetches the file from its start: {again:?}"
    );
}
