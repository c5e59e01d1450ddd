//! `zvm move` ends with the exit code of the failure's class, whichever phase it fails in:
//! the code comes from the cause (`zvm-app`'s failure types), not from the phase. Each case
//! runs the real binary against the simulator; `--help` documents every code.

mod common;

use common::{TestContext, small_account};

/// `zvm move` of the test account into `dest`, with `extra` arguments.
fn move_args(ctx: &TestContext, dest: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "move",
        dest,
        "--all-users",
        "--from",
        "37m",
        "--yes",
        "--state",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(ctx.state.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_cannot_be_written_while_planning_exits_4() {
    let ctx = TestContext::start(small_account(31, 6)).await;
    // The destination is a regular file: the engine's write check fails while planning.
    let blocker = ctx.dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").expect("write");
    let out = ctx
        .run(&move_args(&ctx, &blocker.display().to_string(), &[]))
        .await;
    out.expect_code(4, "move into a file");
    assert!(out.stderr.contains("not-a-folder"), "{}", out.stderr);
    assert!(ctx.sim.deletions().is_empty(), "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoom_refusing_the_credentials_while_planning_exits_3() {
    let ctx = TestContext::start(small_account(32, 6)).await;
    let mut cmd = ctx.zvm();
    cmd.env("ZOOM_CLIENT_SECRET", "not-the-secret")
        .args(move_args(&ctx, &ctx.dest.display().to_string(), &[]));
    let out = common::run_cmd(cmd).await;
    out.expect_code(3, "move with a wrong secret");
    assert!(
        !out.stderr.contains("not-the-secret"),
        "the secret is never shown"
    );
    assert!(ctx.sim.deletions().is_empty(), "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_held_by_another_run_exits_5_and_bad_usage_exits_2() {
    let ctx = TestContext::start(small_account(33, 4)).await;
    let dest = ctx.dest.display().to_string();
    let held = zvm_state::RunLock::acquire(&ctx.state).expect("lock");
    let out = ctx.run(&move_args(&ctx, &dest, &[])).await;
    out.expect_code(5, "move while another run holds the state");
    assert!(out.stderr.contains("another zvm run"), "{}", out.stderr);
    drop(held);
    let out = ctx.run(&move_args(&ctx, &dest, &["-j", "65"])).await;
    out.expect_code(2, "move -j 65");
    let out = ctx.run(&move_args(&ctx, &dest, &["--plan", "gold"])).await;
    out.expect_code(2, "move --plan gold");
    assert!(
        out.stderr.contains("--plan: unknown plan"),
        "{}",
        out.stderr
    );
    assert!(ctx.sim.deletions().is_empty(), "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_documents_every_exit_code() {
    let ctx = TestContext::start(small_account(34, 1)).await;
    let out = ctx.run(&["--help"]).await;
    out.expect_code(0, "--help");
    // clap wraps the text to the terminal's width: compare word by word.
    let help = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for code in [
        "0 ok",
        "1 some files failed",
        "2 bad usage",
        "3 Zoom refused",
        "4 destination unusable",
        "5 state busy",
        "130 interrupted",
    ] {
        assert!(help.contains(code), "--help lacks {code:?}: {help}");
    }
}
