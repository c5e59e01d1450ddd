//! `zvm sync` into SFTP (issue 18): the real binary against the simulator in this process and
//! the SFTP server `.ci/run` starts (`ZVM_TEST_SFTP_URL`, serving `ZVM_TEST_SFTP_DIR`, trusted
//! by the `ssh` `.ci/run` puts first on PATH). What the server stored is read back from the
//! folder it serves and held to the strict check of a local copy.

mod common;

#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
mod remote;

use common::{RunOutput, TestContext, small_account};
use remote::{files_under, sftp_server};
use zoom_sim::FaultConfig;

fn sync_args(ctx: &TestContext, dest: &str, extra: &[&str]) -> Vec<String> {
    let mut v = ctx.sync_args(extra);
    v[1] = dest.to_string();
    v
}

/// A zvm built without the `sftp` feature cannot take part: fail under CI, skip elsewhere.
fn built_without_sftp(out: &RunOutput) -> bool {
    if out.stderr.contains("built without sftp:// support") {
        remote::skip_or_fail("this zvm was built without the sftp feature");
        return true;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_into_sftp_under_faults_copies_exactly_and_a_rerun_downloads_nothing() {
    let Some(server) = sftp_server("sync into sftp") else {
        return;
    };
    let mut cfg = small_account(189, 20);
    cfg.account.mp4_size = (64 << 10, 3 << 20);
    cfg.faults = FaultConfig {
        seed: 19,
        api_5xx_prob: 0.05,
        reset_prob: 0.05,
        reset_after_bytes: 20_000,
        truncate_prob: 0.05,
        range_ignored_prob: 0.1,
        ..FaultConfig::default()
    };
    let ctx = TestContext::start(cfg).await;
    let (url, dir) = server.new_folder("sync");
    let mut cmd = ctx.zvm();
    cmd.args(sync_args(&ctx, &url, &["-j", "4"]));
    let out = common::run_cmd(cmd).await;
    if built_without_sftp(&out) {
        return;
    }
    out.expect_code(0, "sync into sftp under faults");
    let _ = std::fs::remove_dir_all(&ctx.dest);
    for rel in files_under(&dir) {
        let to = ctx.dest.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(dir.join(&rel), &to).unwrap();
    }
    let checked = ctx.verify_copy();
    assert!(checked > 10, "only {checked} files checked");

    let (downloads, _) = ctx.download_counts();
    let mut cmd = ctx.zvm();
    cmd.args(sync_args(&ctx, &url, &[]));
    common::run_cmd(cmd).await.expect_code(0, "re-run");
    assert_eq!(
        ctx.download_counts().0,
        downloads,
        "nothing downloaded again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ssh_does_not_trust_exits_4_saying_what_ssh_said() {
    let Some(server) = sftp_server("untrusted sftp server") else {
        return;
    };
    let ctx = TestContext::start(small_account(190, 2)).await;
    let (url, dir) = server.new_folder("untrusted");
    // The same server under a name whose key is not in known_hosts.
    let renamed = url.replacen("127.0.0.1", "localhost", 1);
    let mut cmd = ctx.zvm();
    cmd.args(sync_args(&ctx, &renamed, &[]));
    let out = common::run_cmd(cmd).await;
    if built_without_sftp(&out) {
        return;
    }
    out.expect_code(4, "an untrusted server");
    assert!(
        out.stderr.contains("sftp://") && out.stderr.contains("Host key verification failed"),
        "{}",
        out.stderr
    );
    assert!(!dir.exists(), "nothing was written");
    assert!(ctx.sim.deletions().is_empty());
}
