//! `zvm sync` and `zvm move` into WebDAV (issue 18): the real binary against the simulator in
//! this process and the WebDAV server `.ci/run` starts (`ZVM_TEST_WEBDAV_URL`, serving
//! `ZVM_TEST_WEBDAV_DIR`), sometimes through a proxy that counts uploads or plays a full
//! server. What the server stored is read back from the folder it serves and held to the
//! same strict check as a local copy (every completed file exactly once, byte-identical, no
//! `.part`, nothing else).

mod common;

#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
mod remote;

use std::path::Path;
use std::time::Duration;

use common::{RunOutput, TestContext, small_account};
use remote::{Mode, Proxy, WEBDAV_PASSWORD, WEBDAV_USER, files_under, webdav_server};
use sha2::Digest;
use zoom_sim::{AccountSpec, FaultConfig, SimConfig};

const MIB: u64 = 1 << 20;

/// Runs zvm with the server's login in the environment, as a user would.
async fn zvm(ctx: &TestContext, args: &[String]) -> RunOutput {
    let mut cmd = ctx.zvm();
    cmd.env("ZVM_WEBDAV_USER", WEBDAV_USER)
        .env("ZVM_WEBDAV_PASSWORD", WEBDAV_PASSWORD)
        .args(args);
    common::run_cmd(cmd).await
}

fn sync_args(ctx: &TestContext, dest: &str, extra: &[&str]) -> Vec<String> {
    let mut v = ctx.sync_args(extra);
    v[1] = dest.to_string();
    v
}

/// A zvm built without the `webdav` feature cannot take part: fail under CI, skip elsewhere.
fn built_without_webdav(out: &RunOutput) -> bool {
    if out.stderr.contains("built without webdav:// support") {
        remote::skip_or_fail("this zvm was built without the webdav feature");
        return true;
    }
    false
}

/// The URL of `folder` on the server as seen through `proxy`.
fn through(proxy: &Proxy, folder: &str) -> String {
    format!(
        "{}/{folder}",
        proxy.endpoint.replacen("http://", "webdav://", 1)
    )
}

/// Copies what the server stored under `served` into `ctx.dest`, so the strict local check
/// applies (a `.part` or any other leftover fails it).
fn mirror(ctx: &TestContext, served: &Path) {
    let _ = std::fs::remove_dir_all(&ctx.dest);
    for rel in files_under(served) {
        let to = ctx.dest.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(served.join(&rel), &to).unwrap();
    }
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
async fn sync_into_webdav_under_faults_copies_exactly_and_a_rerun_uploads_nothing() {
    let Some(server) = webdav_server("sync into webdav") else {
        return;
    };
    let mut cfg = small_account(185, 30);
    cfg.account.mp4_size = (64 << 10, 7 << 20);
    cfg.faults = sync_faults();
    let ctx = TestContext::start(cfg).await;
    let (url, dir) = server.new_folder("sync");
    let folder = url.rsplit('/').next().unwrap().to_string();
    let proxy = Proxy::start(&server.url.replacen("webdav://", "http://", 1), Mode::Pass).await;
    let dest = through(&proxy, &folder);
    let out = zvm(&ctx, &sync_args(&ctx, &dest, &["-j", "4"])).await;
    if built_without_webdav(&out) {
        return;
    }
    out.expect_code(0, "sync into webdav under faults");
    assert!(
        !out.all().contains(WEBDAV_PASSWORD),
        "the password is never shown"
    );
    mirror(&ctx, &dir);
    let checked = ctx.verify_copy();
    assert!(checked > 20, "only {checked} files checked");

    // A re-run finds every recording on the server with its size: nothing is downloaded or
    // uploaded again (only the small meeting.json records are rewritten).
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
async fn move_into_webdav_deletes_in_zoom_only_what_the_server_holds() {
    let Some(server) = webdav_server("move into webdav") else {
        return;
    };
    let mut cfg = small_account(186, 12);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    let (url, dir) = server.new_folder("move");
    let mut args = sync_args(&ctx, &url, &["--yes", "--verify-hash"]);
    args[0] = "move".into();
    let out = zvm(&ctx, &args).await;
    if built_without_webdav(&out) {
        return;
    }
    out.expect_code(0, "move into webdav");
    let deleted = ctx.sim.deletions();
    assert!(!deleted.is_empty(), "the move deleted in Zoom");
    let audit = std::fs::read_to_string(ctx.state.parent().unwrap().join("audit.jsonl"))
        .expect("audit log beside the state");
    let done: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"outcome\":\"deleted\""))
        .collect();
    assert_eq!(done.len(), deleted.len(), "{audit}");
    for l in &done {
        let v: serde_json::Value = serde_json::from_str(l).expect("an audit line is JSON");
        // Each deletion names the SHA-256 read back from the server, and the server holds
        // exactly those bytes under that name.
        for copy in v["copies"].as_array().expect("copies") {
            let (path, size, sha) = (
                copy[0].as_str().expect("path"),
                copy[1].as_u64().expect("size"),
                copy[2].as_str().expect("a SHA-256 with --verify-hash"),
            );
            let bytes = std::fs::read(dir.join(path))
                .unwrap_or_else(|_| panic!("{path} was deleted in Zoom but is not on the server"));
            assert_eq!(bytes.len() as u64, size, "{path}");
            assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), sha, "{path}");
        }
    }
    assert!(
        files_under(&dir).iter().all(|f| !f.ends_with(".part")),
        "no .part is left on the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_exits_4_with_a_clear_message_and_deletes_nothing_in_zoom() {
    let Some(server) = webdav_server("full webdav server") else {
        return;
    };
    let mut cfg = small_account(187, 10);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    let (url, _) = server.new_folder("full");
    let folder = url.rsplit('/').next().unwrap().to_string();
    // Room for a few files, then 507 Insufficient Storage for every upload.
    let proxy = Proxy::start(
        &server.url.replacen("webdav://", "http://", 1),
        Mode::FullAfter(64 << 10),
    )
    .await;
    let mut args = sync_args(&ctx, &through(&proxy, &folder), &["--yes"]);
    args[0] = "move".into();
    let out = zvm(&ctx, &args).await;
    if built_without_webdav(&out) {
        return;
    }
    out.expect_code(4, "move into a full webdav server");
    assert!(proxy.refused() > 0, "the proxy played a full server");
    assert!(
        out.stderr.contains("full or over its quota") && out.stderr.contains("webdav://"),
        "{}",
        out.stderr
    );
    assert!(
        ctx.sim.deletions().is_empty(),
        "nothing was deleted in Zoom"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_webdav_urls_exit_2_and_say_how_to_fix_them() {
    let ctx = TestContext::start(small_account(188, 1)).await;
    for (dest, says) in [
        (
            "webdav://files.example.org/dav",
            "use webdavs://files.example.org",
        ),
        (
            "webdavs://anna:pw@files.example.org/dav",
            "ZVM_WEBDAV_PASSWORD",
        ),
        ("sftp://u@host", "no folder"),
    ] {
        let out = zvm(&ctx, &sync_args(&ctx, dest, &[])).await;
        out.expect_code(2, dest);
        assert!(out.stderr.contains(says), "{dest}: {}", out.stderr);
    }
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
async fn sigkill_mid_upload_leaves_nothing_under_the_final_name_and_the_rerun_completes() {
    let Some(server) = webdav_server("kill mid-upload") else {
        return;
    };
    let size = 24 * MIB + 5;
    let ctx = TestContext::start(one_large_file(size)).await;
    let manifest = ctx.sim.manifest();
    let (_, file) = manifest.files().next().expect("one file");
    let (url, dir) = server.new_folder("kill");
    let args = sync_args(&ctx, &url, &["--from", "2y", "--quiet"]);

    let mut cmd = ctx.zvm();
    cmd.env("ZVM_WEBDAV_USER", WEBDAV_USER)
        .env("ZVM_WEBDAV_PASSWORD", WEBDAV_PASSWORD)
        .args(&args);
    let mut child = cmd.spawn().expect("spawn zvm");
    // Kill once 12 MiB reached the server's `.part` (the upload streams).
    let mut on_server = 0;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        on_server = files_under(&dir)
            .iter()
            .filter(|f| f.ends_with(".part"))
            .map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        if on_server >= 12 * MIB {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    if let Ok(Some(status)) = child.try_wait() {
        let out = common::wait_output(child).await;
        if built_without_webdav(&out) {
            return;
        }
        panic!("zvm ended before the kill: {status:?}\n{}", out.stderr);
    }
    assert!(
        on_server >= 12 * MIB,
        "the upload never got to 12 MiB on the server"
    );
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "killed by a signal, not finished");
    let left = files_under(&dir);
    assert!(
        left.iter()
            .all(|f| f.ends_with(".part") || f.ends_with("meeting.json")),
        "an interrupted upload leaves nothing under a final name: {left:?}"
    );

    // The next run starts the file over (the server's `.part` cannot be appended to
    // through OpenDAL) and completes it.
    let asked_before = ctx.sim.stats().cdn_requests[&file.id].len();
    let out = zvm(&ctx, &args).await;
    out.expect_code(0, "the run after the kill");
    mirror(&ctx, &dir);
    assert_eq!(ctx.verify_copy_after_kill(), 1);
    let again = &ctx.sim.stats().cdn_requests[&file.id][asked_before..];
    assert!(
        again
            .first()
            .is_some_and(|r| r.range.is_none() || r.range.as_deref() == Some("bytes=0-")),
        "the re-run fetches the file from its start: {again:?}"
    );
}
