//! A reader of zvm's stdout that goes away (`zvm list --json | head -1`, a closed pager) stops
//! a command quietly: no panic (Rust ignores SIGPIPE, so a plain `println!` panics), exit code
//! 130 like an interrupt, and nothing deleted by a move whose plan nobody could read. A sync
//! has nothing to lose by going on: it finishes its copy.
//!
//! The reader is closed before zvm writes anything (the read end of the pipe is dropped at
//! once), so every write meets the closed pipe whatever the output's size.

mod common;

use std::time::Duration;

use common::{RunOutput, TestContext, tail};
use zoom_sim::CloudState;

/// Runs `zvm ARGS` with stdout a pipe nobody reads: its read end is closed at the start.
async fn run_with_stdout_closed(ctx: &TestContext, args: &[String]) -> RunOutput {
    let mut cmd = ctx.zvm();
    cmd.args(args);
    let mut child = cmd.spawn().expect("spawn zvm");
    drop(child.stdout.take());
    common::wait_output(child).await
}

fn list_args(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["list", "--all-users", "--from", "37m"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Nothing on stderr but what the reporter may say: no panic, no "error:" for a reader the
/// user closed on purpose.
fn assert_quiet_stop(run: &RunOutput, what: &str) {
    run.expect_code(130, what);
    assert!(
        !run.stderr.contains("error"),
        "{what}: a closed reader is not an error to report:\n{}",
        tail(&run.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_stops_quietly_when_its_reader_goes_away() {
    let ctx = TestContext::start(common::small_account(71, 40)).await;
    // With a reader, the listing is whole: one JSON line per meeting, every line valid.
    let full = ctx.run(&list_args(&["--json"])).await;
    full.expect_code(0, "list --json");
    let lines: Vec<serde_json::Value> = full
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let listed = ctx
        .sim
        .manifest()
        .meetings
        .iter()
        .filter(|m| !m.files.is_empty())
        .count();
    assert_eq!(lines.len(), listed, "one line per meeting with recordings");
    assert!(
        lines
            .iter()
            .all(|l| l["uuid"].is_string() && l["files"].is_array()),
        "every line names its meeting and files"
    );

    for args in [list_args(&["--json"]), list_args(&[])] {
        let run = run_with_stdout_closed(&ctx, &args).await;
        assert_quiet_stop(&run, &format!("zvm {}", args.join(" ")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_finishes_and_a_move_deletes_nothing_when_stdout_is_closed() {
    let ctx = TestContext::start(common::small_account(72, 12)).await;
    // The sync's events have no reader; the copy is still made whole.
    let run = run_with_stdout_closed(&ctx, &ctx.sync_args(&["--json", "-j", "4"])).await;
    run.expect_code(0, "sync --json with stdout closed");
    let files = ctx.verify_copy();
    assert!(files > 0, "the account has files");

    // A move prints what it will delete before deleting; when that cannot be shown, it stops
    // there, with every recording still in the cloud.
    let present = |ctx: &TestContext| {
        ctx.sim
            .manifest()
            .meetings
            .iter()
            .flat_map(|m| m.files.iter())
            .filter(|f| f.cloud == CloudState::Present)
            .count()
    };
    let before = present(&ctx);
    let args: Vec<String> = [
        "move",
        &ctx.dest.display().to_string(),
        "--all-users",
        "--from",
        "37m",
        "--state",
        &ctx.state.display().to_string(),
        "--yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_with_stdout_closed(&ctx, &args).await;
    assert_quiet_stop(&run, "move --yes with stdout closed");
    assert_eq!(present(&ctx), before, "a recording was deleted");

    // The same move with a reader does delete: the stop above was the closed stdout's doing.
    let run = ctx.run(&args).await;
    run.expect_code(0, "move --yes");
    assert!(present(&ctx) < before, "the move deleted nothing");
}

/// With stderr gone too (`zvm … 2>&1 | head`), an error still ends with its own exit code,
/// not a panic's 101 from `eprintln!`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_keeps_its_exit_code_when_stderr_is_closed() {
    let ctx = TestContext::start(common::small_account(73, 2)).await;
    let mut cmd = ctx.zvm();
    cmd.args(["list", "--all-users", "--from", "the day before yesterday"]);
    let mut child = cmd.spawn().expect("spawn zvm");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("zvm finished")
        .expect("wait for zvm");
    assert_eq!(status.code(), Some(2), "a bad date is a usage error (2)");
}
