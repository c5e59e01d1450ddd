//! The end-to-end scenarios every remote destination must pass (issue 18), written once and
//! run by `dest_s3.rs`, `dest_webdav.rs` and `dest_azblob.rs` against the servers `.ci/run`
//! starts: `zvm sync` under Zoom faults copies exactly and a re-run uploads nothing, `zvm
//! move` deletes in Zoom only what the service holds (the audit log's SHA-256 read back), a
//! SIGKILL mid-upload leaves nothing under a final name and the re-run completes, and a full
//! service stops the run with exit 4 and deletes nothing in Zoom.
//!
//! A test file says how to reach its service through [`RemoteDest`]: the URL of a fresh
//! place (bucket, folder, container), the credentials in the environment, and how to read
//! back what the service stored, with the service's own protocol or folder rather than
//! through zvm's destination code. What is stored is mirrored into the test's local folder
//! so that the strict local check applies (every completed file exactly once,
//! byte-identical, nothing else).
//!
//! Loaded by `#[path]` beside `common` and the zvm-dest-opendal `support` module, which the
//! including file declares at its root.

// Each destination uses a different part of it (e.g. only WebDAV has a folder to read).
#![allow(dead_code)]

use std::time::Duration;

use sha2::Digest;
use zoom_sim::{AccountSpec, FaultConfig, SimConfig};

use crate::common::{self, RunOutput, TestContext, small_account};
use crate::support::{Mode, Proxy};

const MIB: u64 = 1 << 20;

/// A fresh place on the service for one test: the bucket, folder or container's name, and
/// the local folder the server stores it in where the test can see one (WebDAV).
pub struct Place {
    pub name: String,
    pub dir: Option<std::path::PathBuf>,
}

/// What a killed upload may leave on the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillLeaves {
    /// Nothing at all under any name (object stores: parts and uncommitted blocks have no
    /// name until the upload is completed).
    Nothing,
    /// A `.part` under a hidden name, and the meeting's small `meeting.json` record (file
    /// servers: the upload streams into the `.part`).
    PartsAndRecords,
}

/// One remote destination, as the scenarios see it.
#[allow(async_fn_in_trait)] // used generically, never as a trait object
pub trait RemoteDest {
    /// The URL scheme zvm is given (`s3`, `webdav`, `azblob`): the "built without" message
    /// names it, and so must the "full" message.
    const SCHEME: &'static str;
    /// What a killed upload may leave behind.
    const KILL_LEAVES: KillLeaves;

    /// The secret among the credentials, which zvm must never print.
    fn secret(&self) -> &str;
    /// Credentials in the environment, as a user would give them.
    fn credentials(&self) -> Vec<(&'static str, String)>;
    /// The address the test proxy forwards to.
    fn upstream(&self) -> String;
    /// A fresh, empty place named after `what`.
    async fn new_place(&self, what: &str) -> Place;
    /// zvm's destination URL for `place`, direct or through the proxy at `via`.
    fn url(&self, place: &Place, via: Option<&Proxy>) -> String;
    /// Every name the service holds in `place`, relative to zvm's prefix there, sorted.
    async fn stored(&self, place: &Place) -> Vec<String>;
    /// The bytes stored under `rel` (relative to the prefix), or `None`.
    async fn read(&self, place: &Place, rel: &str) -> Option<Vec<u8>>;
    /// Bytes of an unfinished upload that the server shows (a `.part`), where it shows any.
    /// `None`: the service shows none, and the scenario watches what Zoom served instead.
    fn bytes_in_flight(&self, place: &Place) -> Option<u64>;
    /// The size of the parts a run after a kill goes on after, where the upload can be taken
    /// over across runs (an S3 multipart upload); `None`: the file starts over.
    fn resumes_in_parts_of(&self) -> Option<u64> {
        None
    }
}

/// `zvm` with the service's credentials in its environment.
fn zvm_cmd<D: RemoteDest>(d: &D, ctx: &TestContext) -> tokio::process::Command {
    let mut cmd = ctx.zvm();
    for (k, v) in d.credentials() {
        cmd.env(k, v);
    }
    cmd
}

async fn zvm<D: RemoteDest>(d: &D, ctx: &TestContext, args: &[String]) -> RunOutput {
    let mut cmd = zvm_cmd(d, ctx);
    cmd.args(args);
    common::run_cmd(cmd).await
}

/// `zvm sync DEST ...` (or `move` with `command`).
fn args(ctx: &TestContext, command: &str, dest: &str, extra: &[&str]) -> Vec<String> {
    let mut v = ctx.sync_args(extra);
    v[0] = command.to_string();
    v[1] = dest.to_string();
    v
}

/// A zvm built without the service's feature cannot take part: fail under CI, skip
/// elsewhere. True when the caller must return.
fn built_without<D: RemoteDest>(out: &RunOutput) -> bool {
    if out
        .stderr
        .contains(&format!("built without {}:// support", D::SCHEME))
    {
        crate::support::skip_or_fail(&format!(
            "this zvm was built without the {} feature",
            D::SCHEME
        ));
        return true;
    }
    false
}

/// Copies what the service holds in `place` into `ctx.dest`, so the strict local check
/// applies (a `.part` or any other leftover fails it).
async fn mirror<D: RemoteDest>(d: &D, ctx: &TestContext, place: &Place) {
    let _ = std::fs::remove_dir_all(&ctx.dest);
    for rel in d.stored(place).await {
        let bytes = d
            .read(place, &rel)
            .await
            .unwrap_or_else(|| panic!("{rel} listed but not readable"));
        let path = ctx.dest.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
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

/// `zvm sync` under the simulator's faults copies every file exactly; a re-run downloads
/// nothing and uploads no recording again (only the write probe and the small meeting.json
/// records may go up).
pub async fn sync_under_faults_then_rerun<D: RemoteDest>(d: &D, seed: u64) {
    let mut cfg = small_account(seed, 30);
    cfg.account.mp4_size = (64 << 10, 7 << 20); // some files go up in several parts
    cfg.faults = sync_faults();
    let ctx = TestContext::start(cfg).await;
    let place = d.new_place("sync").await;
    let proxy = Proxy::start(&d.upstream(), Mode::Pass).await;
    let dest = d.url(&place, Some(&proxy));
    let out = zvm(d, &ctx, &args(&ctx, "sync", &dest, &["-j", "4"])).await;
    if built_without::<D>(&out) {
        return;
    }
    out.expect_code(0, &format!("sync into {} under faults", D::SCHEME));
    assert!(!out.all().contains(d.secret()), "the secret is never shown");
    mirror(d, &ctx, &place).await;
    let checked = ctx.verify_copy();
    assert!(checked > 20, "only {checked} files checked");

    let (downloads, _) = ctx.download_counts();
    let first_bytes = proxy.upload_bytes();
    let out = zvm(d, &ctx, &args(&ctx, "sync", &dest, &[])).await;
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

/// The login only in a config file's `[remote.SERVICE]` table (`table`, the same
/// credentials as [`RemoteDest::credentials`]), none of the service's variables in the
/// environment: every file arrives, and the secret is never shown, not even in the most
/// detailed log (`ZVM_LOG=trace`, where the signing libraries would print their
/// credentials). Without the table the same run is refused with exit 2 and nothing
/// stored, so the login did come from the file.
pub async fn login_only_in_config<D: RemoteDest>(d: &D, seed: u64, table: &str) {
    let ctx = TestContext::start(small_account(seed, 6)).await;
    let place = d.new_place("config-login").await;
    // Through a proxy that passes everything, as in the other scenarios (on S3 it makes
    // objects readable by the test's plain GETs).
    let proxy = Proxy::start(&d.upstream(), Mode::Pass).await;
    let dest = d.url(&place, Some(&proxy));
    let config = ctx.dir.path().join("zvm-remote.toml");
    let run = |text: String| {
        common::write_config(&config, &text, 0o600);
        let mut cmd = ctx.zvm();
        for (k, _) in d.credentials() {
            cmd.env_remove(k);
        }
        cmd.env("ZVM_LOG", "trace");
        let mut a = args(&ctx, "sync", &dest, &[]);
        a.extend(["--config".to_string(), config.display().to_string()]);
        cmd.args(a);
        common::run_cmd(cmd)
    };

    let out = run(String::new()).await;
    if built_without::<D>(&out) {
        return;
    }
    out.expect_code(2, "no login anywhere");
    assert!(d.stored(&place).await.is_empty(), "nothing stored");

    let out = run(table.to_string()).await;
    out.expect_code(
        0,
        &format!("sync into {} with the login in the file", D::SCHEME),
    );
    let all = out.all();
    let shown: Vec<&str> = all.lines().filter(|l| l.contains(d.secret())).collect();
    assert!(
        shown.is_empty(),
        "the secret is in {} lines of the trace log, e.g. {}",
        shown.len(),
        shown
            .first()
            .map_or(String::new(), |l| l.replace(d.secret(), "<SECRET>"))
    );
    mirror(d, &ctx, &place).await;
    assert!(ctx.verify_copy() > 5, "every file arrived");
}

/// `zvm move --verify-hash` deletes in Zoom only what the service holds: each deletion is
/// in the audit log with the size and SHA-256 read back from the service, and the service
/// holds exactly those bytes under that name; no `.part` is left.
pub async fn move_deletes_only_what_is_stored<D: RemoteDest>(d: &D, seed: u64) {
    let mut cfg = small_account(seed, 12);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    let place = d.new_place("move").await;
    // Through a proxy that passes everything (on S3 it also makes objects readable by the
    // test's plain GETs).
    let proxy = Proxy::start(&d.upstream(), Mode::Pass).await;
    let dest = d.url(&place, Some(&proxy));
    let out = zvm(
        d,
        &ctx,
        &args(&ctx, "move", &dest, &["--yes", "--verify-hash"]),
    )
    .await;
    if built_without::<D>(&out) {
        return;
    }
    out.expect_code(0, &format!("move into {}", D::SCHEME));
    let deleted = ctx.sim.deletions();
    assert!(!deleted.is_empty(), "the move deleted in Zoom");
    // (A meeting may stay in Zoom for its own reasons, e.g. one still in progress: what is
    // asserted is that every deletion is backed by the service, below.)
    let audit = std::fs::read_to_string(ctx.state.parent().unwrap().join("audit.jsonl"))
        .expect("audit log beside the state");
    let done: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"outcome\":\"deleted\""))
        .collect();
    assert_eq!(done.len(), deleted.len(), "{audit}");
    for l in &done {
        let v: serde_json::Value = serde_json::from_str(l).expect("an audit line is JSON");
        for copy in v["copies"].as_array().expect("copies") {
            let (path, size, sha) = (
                copy[0].as_str().expect("path"),
                copy[1].as_u64().expect("size"),
                copy[2].as_str().expect("a SHA-256 with --verify-hash"),
            );
            let bytes = d
                .read(&place, path)
                .await
                .unwrap_or_else(|| panic!("{path} was deleted in Zoom but is not on the service"));
            assert_eq!(bytes.len() as u64, size, "{path}");
            assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), sha, "{path}");
        }
    }
    let stored = d.stored(&place).await;
    assert!(
        stored.iter().all(|f| !f.ends_with(".part")),
        "no .part is left on the service: {stored:?}"
    );
}

/// A service that answers every upload past the first 64 KiB with "full" stops `zvm
/// move` with exit 4 and a message naming the destination, and nothing is deleted in
/// Zoom. `mode` is how the proxy plays the service's "full" answer.
pub async fn full_service_exits_4<D: RemoteDest>(d: &D, seed: u64, mode: Mode) {
    let mut cfg = small_account(seed, 10);
    cfg.account.processing_fraction = 0.0;
    let ctx = TestContext::start(cfg).await;
    let place = d.new_place("full").await;
    let proxy = Proxy::start(&d.upstream(), mode).await;
    let dest = d.url(&place, Some(&proxy));
    let out = zvm(d, &ctx, &args(&ctx, "move", &dest, &["--yes"])).await;
    if built_without::<D>(&out) {
        return;
    }
    out.expect_code(4, &format!("move into a full {} service", D::SCHEME));
    assert!(proxy.refused() > 0, "the proxy played a full service");
    assert!(
        out.stderr.contains("full or over its quota")
            && out.stderr.contains(&format!("{}://", D::SCHEME)),
        "{}",
        out.stderr
    );
    assert!(
        ctx.sim.deletions().is_empty(),
        "nothing was deleted in Zoom"
    );
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

/// SIGKILL once 12 MiB of a 24 MiB file are on their way up (on the server's `.part` where
/// it shows one, else served by Zoom: two 5 MiB parts or three 4 MiB blocks are up by
/// then; 16 MiB where the upload is taken over, so that its first part is surely stored);
/// nothing is left under a final name, and the next run completes the file: from the end
/// of the stored parts where the service lets a run take an upload over, else from its
/// start.
pub async fn sigkill_mid_upload_then_rerun<D: RemoteDest>(d: &D) {
    let size = 24 * MIB + 5;
    let ctx = TestContext::start(one_large_file(size)).await;
    let manifest = ctx.sim.manifest();
    let (_, file) = manifest.files().next().expect("one file");
    let place = d.new_place("kill").await;
    // A service that shows an upload growing is reached directly (the proxy holds a
    // streamed body until its end, so no `.part` would grow); the others through a proxy
    // that passes everything, as in the other scenarios (on S3 it makes objects readable by
    // the test's plain GETs).
    let proxy = Proxy::start(&d.upstream(), Mode::Pass).await;
    let shows_progress = d.bytes_in_flight(&place).is_some();
    let dest = d.url(&place, (!shows_progress).then_some(&proxy));
    let run_args = args(&ctx, "sync", &dest, &["--from", "2y", "--quiet"]);

    let mut cmd = zvm_cmd(d, &ctx);
    cmd.args(&run_args);
    let mut child = cmd.spawn().expect("spawn zvm");
    let kill_at = if d.resumes_in_parts_of().is_some() {
        16 * MIB
    } else {
        12 * MIB
    };
    let mut progress = 0;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        progress = match d.bytes_in_flight(&place) {
            Some(n) => n,
            None => ctx
                .sim
                .stats()
                .bytes_by_file
                .get(&file.id)
                .copied()
                .unwrap_or(0),
        };
        if progress >= kill_at {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    if let Ok(Some(status)) = child.try_wait() {
        let out = common::wait_output(child).await;
        if built_without::<D>(&out) {
            return;
        }
        panic!("zvm ended before the kill: {status:?}\n{}", out.stderr);
    }
    assert!(
        progress >= kill_at,
        "the upload never got to {kill_at} bytes"
    );
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), None, "killed by a signal, not finished");
    let left = d.stored(&place).await;
    match D::KILL_LEAVES {
        KillLeaves::Nothing => assert_eq!(
            left,
            Vec::<String>::new(),
            "an interrupted upload must leave nothing under any name"
        ),
        KillLeaves::PartsAndRecords => assert!(
            left.iter()
                .all(|f| f.ends_with(".part") || f.ends_with("meeting.json")),
            "an interrupted upload leaves nothing under a final name: {left:?}"
        ),
    }

    // The next run completes the file.
    let asked_before = ctx.sim.stats().cdn_requests[&file.id].len();
    let out = zvm(d, &ctx, &run_args).await;
    out.expect_code(0, "the run after the kill");
    mirror(d, &ctx, &place).await;
    assert_eq!(ctx.verify_copy_after_kill(), 1);
    let again = &ctx.sim.stats().cdn_requests[&file.id][asked_before..];
    let first = again.first().and_then(|r| r.range.clone());
    match d.resumes_in_parts_of() {
        // It goes on after the stored parts: Zoom is asked from their end, not for the
        // bytes the service already holds.
        Some(part) => {
            let from: Option<u64> = first
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse().ok());
            assert!(
                from.is_some_and(|n| n >= part && n % part == 0 && n < size),
                "the re-run fetches the file from the end of the stored parts: {again:?}"
            );
        }
        // An upload cannot be taken over across runs: the file starts over.
        None => assert!(
            first.is_none() || first.as_deref() == Some("bytes=0-"),
            "the re-run fetches the file from its start: {again:?}"
        ),
    }
}
