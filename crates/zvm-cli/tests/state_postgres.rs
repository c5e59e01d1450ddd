//! `zvm sync --state postgres://...` (issue 19): the real binary against the simulator in
//! this process, its state in a schema of its own on the PostgreSQL server `.ci/run` starts
//! (`ZVM_TEST_POSTGRES_URL`). The copy is held to the same strict check as with a SQLite
//! state, a re-run downloads nothing, and the URL's password is never printed.

mod common;

// The PostgreSQL harness brings its own copy of the skip rule (`common` has one too): two
// modules of one file, each private to its parent.
#[path = "../../zvm-state-postgres/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod pg;

use common::{RunOutput, TestContext, small_account};
use pg::TestDb;

const BUILT_WITHOUT: &str = "built without PostgreSQL state support";

/// The usual sync arguments with the state in `url` instead of a file.
fn sync_args_with_state(ctx: &TestContext, url: &str) -> Vec<String> {
    let mut args = ctx.sync_args(&[]);
    let at = args.iter().position(|a| a == "--state").expect("--state") + 1;
    args[at] = url.to_string();
    args
}

/// A zvm built without the `postgres` feature cannot take part: fail under CI, skip
/// elsewhere. Either way it must not have printed the password.
fn built_without_postgres(out: &RunOutput, password: &str) -> bool {
    assert!(
        !out.all().contains(password),
        "the password leaked:\n{}",
        out.all()
    );
    if out.stderr.contains(BUILT_WITHOUT) {
        out.expect_code(2, "a PostgreSQL state without the feature");
        pg::skip_or_fail("this zvm was built without the postgres feature");
        return true;
    }
    false
}

/// The password in a `postgres://user:password@...` URL.
fn password_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let user_part = rest.rsplit_once('@').map(|(u, _)| u).unwrap_or("");
    user_part
        .split_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_with_a_postgres_state_copies_everything_and_a_rerun_downloads_nothing() {
    let Some(db) = TestDb::create("sync_with_a_postgres_state").await else {
        return;
    };
    let ctx = TestContext::start(small_account(91, 14)).await;
    let url = db.url();
    let password = password_of(&url);
    let args = sync_args_with_state(&ctx, &url);

    let first = ctx.run(&args).await;
    if built_without_postgres(&first, &password) {
        return;
    }
    first.expect_code(0, "first sync into a PostgreSQL state");
    ctx.sim.complete_processing();
    let second = ctx.run(&args).await;
    second.expect_code(0, "second sync, after processing completed");
    let checked = ctx.verify_copy();
    assert!(checked > 0, "the account has files to copy");

    // Every copied file is recorded in the database, none in a file.
    let verified = db
        .count(
            "SELECT COUNT(*) FROM files WHERE status = 'verified'
             AND kind IN ('recording', 'participant_audio')",
        )
        .await;
    assert!(
        verified >= checked as i64,
        "{checked} recording and audio files copied, {verified} verified in PostgreSQL"
    );
    assert!(
        !ctx.state.exists(),
        "no SQLite state file is made beside a PostgreSQL state"
    );

    let before = ctx.download_counts();
    let third = ctx.run(&args).await;
    third.expect_code(0, "third sync");
    assert_eq!(
        ctx.download_counts(),
        before,
        "a re-run on the same PostgreSQL state downloads nothing"
    );
    ctx.verify_copy();
    for out in [&first, &second, &third] {
        assert!(
            !out.all().contains(&password),
            "the password leaked:\n{}",
            out.all()
        );
    }
    db.drop_schema().await;
}

/// No server at the URL: exit 5 (state unusable) with the URL shown without its password,
/// before anything is downloaded. Needs no PostgreSQL server (nothing listens on port 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_state_is_a_clear_error_without_the_password() {
    let ctx = TestContext::start(small_account(92, 3)).await;
    let url = "postgres://zvm:hunter2-secret@127.0.0.1:1/zvm";
    let out = ctx.run(&sync_args_with_state(&ctx, url)).await;
    if built_without_postgres(&out, "hunter2") {
        return;
    }
    out.expect_code(5, "an unreachable PostgreSQL state");
    assert!(
        out.stderr.contains("postgres://zvm:***@127.0.0.1:1/zvm"),
        "the message names the database:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("check that the server is running"),
        "the message says what to do:\n{}",
        out.stderr
    );
    assert_eq!(ctx.download_counts(), (0, 0), "nothing was downloaded");
}

/// Commands that keep their state in a file refuse a PostgreSQL URL instead of making a
/// SQLite file named after it, and do not print its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_commands_refuse_a_postgres_state() {
    let ctx = TestContext::start(small_account(93, 2)).await;
    let cwd = ctx.dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let url = "postgres://zvm:hunter2-secret@db.example/zvm";
    let dest = ctx.dest.display().to_string();
    for args in [
        vec!["verify", dest.as_str(), "--state", url],
        vec!["move", dest.as_str(), "--all-users", "--state", url],
    ] {
        let mut cmd = ctx.zvm();
        cmd.current_dir(&cwd).args(&args);
        let out = common::run_cmd(cmd).await;
        out.expect_code(2, &format!("zvm {}", args[0]));
        assert!(
            out.stderr
                .contains("work on a PostgreSQL state so far: this command keeps its state"),
            "zvm {}:\n{}",
            args[0],
            out.stderr
        );
        assert!(
            !out.all().contains("hunter2"),
            "the password leaked:\n{}",
            out.all()
        );
        assert_eq!(
            std::fs::read_dir(&cwd).unwrap().count(),
            0,
            "zvm {} made a file for the URL",
            args[0]
        );
    }
}

/// A second sync on the same PostgreSQL state while one runs is refused with exit 5, as
/// with a state file; the URL's password is not printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_a_busy_postgres_state_is_refused() {
    let Some(db) = TestDb::create("a_second_run_on_a_busy_postgres_state").await else {
        return;
    };
    let mut cfg = small_account(94, 10);
    cfg.faults.bandwidth_bps = 100_000;
    let ctx = TestContext::start(cfg).await;
    let url = db.url();
    let password = password_of(&url);
    let args = sync_args_with_state(&ctx, &url);
    let mut cmd = ctx.zvm();
    cmd.args(&args);
    let mut first = cmd.spawn().expect("spawn");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    // Once bytes flow the first run holds the state.
    while ctx.sim.stats().bytes_served == 0 {
        if let Ok(Some(status)) = first.try_wait() {
            let out = common::wait_output(first).await;
            if built_without_postgres(&out, &password) {
                return;
            }
            panic!(
                "the first run ended ({status}) before downloading:\n{}",
                out.all()
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "first run never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let out = ctx.run(&args).await;
    out.expect_code(5, "second run on a busy PostgreSQL state");
    assert!(
        out.stderr
            .contains("another zvm run is using the state database"),
        "the message says another run holds the state:\n{}",
        out.stderr
    );
    assert!(
        !out.all().contains(&password),
        "the password leaked:\n{}",
        out.all()
    );
    first.kill().await.expect("kill first run");
    db.drop_schema().await;
}
