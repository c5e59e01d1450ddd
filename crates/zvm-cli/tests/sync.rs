//! Acceptance tests of `zvm sync` (issue "The main job: zvm sync"): the real binary runs as
//! a subprocess against the simulator served from this process over loopback, and every
//! test checks what a user relies on: the copy is complete and byte-identical, re-runs cost
//! nothing, faults are survived within the run (exit 0, exact copy), a kill loses at most what
//! was in flight, no secret ever reaches the output, bad input is refused clearly.

mod common;

use std::time::Duration;

use common::{TestContext, small_account, tail};
use zoom_sim::{AccountSpec, FaultConfig, SimConfig, Stats};

/// 1. A generated account of 200+ meetings over three years (every file type, hostile
/// topics, inactive users, summaries, participant audio) is copied exactly; processing files
/// are skipped, then picked up by a later run once Zoom has finished them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_copies_every_file_exactly_and_picks_up_processing_later() {
    let mut cfg = small_account(7, 220);
    cfg.account.processing_fraction = 0.05;
    let ctx = TestContext::start(cfg).await;
    let manifest = ctx.sim.manifest();
    assert!(manifest.meetings.len() >= 200);
    let processing = manifest.files().filter(|(_, f)| !f.is_completed()).count();
    assert!(processing > 0, "the account must have processing files");
    assert!(manifest.meetings.iter().any(|m| m.has_summary));
    // Deactivated users keep their recordings, and --all-users must include them.
    assert!(manifest.meetings.iter().any(|m| {
        manifest
            .users
            .iter()
            .any(|u| u.email == m.host_email && u.status == "inactive")
    }));
    assert!(
        manifest
            .meetings
            .iter()
            .any(|m| !m.participant_audio.is_empty())
    );

    let out = ctx.sync(&["-j", "4"]).await;
    out.expect_code(0, "first sync");
    let checked = ctx.verify_copy();
    let completed = manifest.files().filter(|(_, f)| f.is_completed()).count();
    assert_eq!(checked, completed, "every completed file is copied");

    // Zoom finishes processing; the next run fetches exactly those files.
    ctx.sim.complete_processing();
    let (before, _) = ctx.download_counts();
    let out = ctx.sync(&[]).await;
    out.expect_code(0, "sync after processing completed");
    let checked = ctx.verify_copy();
    assert_eq!(checked, completed + processing);
    let (after, _) = ctx.download_counts();
    assert!(
        after - before >= processing as u64,
        "the files that finished processing were downloaded"
    );
}

/// 2. A run after a complete one sends no download request at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_run_downloads_nothing() {
    let ctx = TestContext::start(small_account(11, 25)).await;
    ctx.sync(&[]).await.expect_code(0, "first sync");
    ctx.sim.complete_processing();
    ctx.sync(&[]).await.expect_code(0, "second sync");
    ctx.verify_copy();
    let before = ctx.download_counts();
    ctx.sync(&[]).await.expect_code(0, "third sync");
    assert_eq!(
        ctx.download_counts(),
        before,
        "a run with nothing new downloads nothing"
    );
    ctx.verify_copy();
}

/// A fault scenario: a simulator set-up and the exit codes it may correctly end with.
struct Fault {
    name: &'static str,
    cfg: SimConfig,
    extra: &'static [&'static str],
    /// Proof from the simulator's counters that the fault really fired (else the case
    /// would pass without testing anything).
    fired: fn(&Stats) -> bool,
}

/// Some file was requested from the CDN more than once (a retry or a resume).
fn some_download_repeated(s: &Stats) -> bool {
    s.downloads.values().any(|&n| n > 1)
}

fn faulty(name: &'static str, seed: u64, f: impl FnOnce(&mut SimConfig)) -> Fault {
    let mut cfg = small_account(100 + seed, 12);
    cfg.account.processing_fraction = 0.0;
    cfg.faults.seed = seed;
    f(&mut cfg);
    Fault {
        name,
        cfg,
        extra: &[],
        fired: some_download_repeated,
    }
}

/// Runs one fault scenario: the sync survives the faults within the run, exits 0 and leaves
/// an exact copy. (A run that gave up on a file and exited 1 is a failure here even if a
/// clean re-run would repair it: retrying is the run's own job.)
async fn check_fault(fault: Fault) {
    let name = fault.name;
    let ctx = TestContext::start(fault.cfg.clone()).await;
    let out = ctx.sync(fault.extra).await;
    out.expect_code(0, name);
    ctx.verify_copy();
    assert!(
        (fault.fired)(&ctx.sim.stats()),
        "{name}: the fault never fired; the case tests nothing"
    );
}

/// 3. Each simulator fault: the run retries its way to a copy with identical bytes, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_faults_end_in_an_exact_copy() {
    let cases = vec![
        faulty("reset mid-body", 1, |c| {
            c.faults.reset_prob = 0.3;
            c.faults.reset_after_bytes = 3000;
        }),
        faulty("truncated body", 2, |c| c.faults.truncate_prob = 0.3),
        faulty("range ignored", 3, |c| {
            // Resets make the client resume with a Range the server then ignores.
            c.faults.reset_prob = 0.3;
            c.faults.reset_after_bytes = 3000;
            c.faults.range_ignored_prob = 1.0;
        }),
        {
            let mut f = faulty("html page", 4, |c| c.faults.html_prob = 0.3);
            // The HTML page is answered on the web route, before any redirect to the CDN.
            f.fired = |s| {
                s.requests
                    .get("GET /rec/download/{id}")
                    .is_some_and(|by| by.contains_key(&200))
            };
            f
        },
        {
            let mut f = faulty("5xx", 5, |c| {
                c.faults.api_5xx_prob = 0.1;
                c.faults.api_5xx_burst = 4;
            });
            f.fired = |s| {
                s.requests
                    .values()
                    .any(|by| by.keys().any(|&code| (500..600).contains(&code)))
            };
            f
        },
        {
            let mut f = faulty("stall", 6, |c| {
                c.faults.stall_prob = 0.15;
                c.faults.stall_secs = 0.0;
            });
            f.extra = &["--stall-timeout", "0.5"];
            f
        },
    ];
    for case in cases {
        check_fault(case).await;
    }
}

/// 3. Per-second rate limits far below the plan's: the pacer and 429 handling still finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_second_rate_limits_are_survived() {
    let mut cfg = small_account(21, 12);
    cfg.account.processing_fraction = 0.0;
    // One year and two users keep the number of month-long listing windows small, so the
    // test is quick even though zvm believes it may send 60 a second and the sim allows 6.
    cfg.account.years = 1;
    cfg.account.active_users = 1;
    cfg.rate_limits.light_per_sec = Some(6);
    cfg.rate_limits.medium_per_sec = Some(6);
    let ctx = TestContext::start(cfg).await;
    let out = ctx.sync(&["--from", "13m"]).await;
    out.expect_code(0, "sync under tight per-second limits");
    ctx.verify_copy();
    assert!(
        ctx.sim.stats().rate_limited > 0,
        "the test must actually hit the limit (plan says business, the sim allows 6/s)"
    );
}

/// 3. A daily quota that runs out: the run stops with a clear message naming the limit and
/// a non-zero exit, or completes; never a silent partial success (and never a hang: the
/// client gives up at once when Zoom asks it to wait past its longest backoff).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_quota_exhausted_is_reported() {
    let mut cfg = small_account(22, 40);
    cfg.account.processing_fraction = 0.0;
    cfg.rate_limits.daily_limit = Some(6);
    let ctx = TestContext::start(cfg).await;
    let out = ctx.sync(&[]).await;
    match out.code {
        Some(0) => {
            ctx.verify_copy();
        }
        Some(c) => {
            assert!(c == 1 || c == 3, "exit {c}:\n{}", tail(&out.all()));
            let text = out.all().to_lowercase();
            assert!(
                text.contains("daily") || text.contains("rate limit"),
                "the message names the limit:\n{}",
                tail(&out.all())
            );
        }
        None => panic!("killed by a signal"),
    }
    assert!(!out.stderr.contains("panicked"));
}

/// 3. Access tokens that live 3 seconds, and every token revoked while zvm runs: it gets a
/// new one and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_and_revocation_mid_run() {
    let mut cfg = small_account(23, 20);
    cfg.account.processing_fraction = 0.0;
    cfg.token_ttl_secs = 3;
    // Slow enough that the run outlives several tokens and a revocation lands mid-run.
    cfg.faults.bandwidth_bps = 400_000;
    let ctx = TestContext::start(cfg).await;
    let mut cmd = ctx.zvm();
    cmd.args(ctx.sync_args(&[]));
    let run = tokio::spawn(common::run_cmd(cmd));
    let total = ctx.sim.manifest().total_bytes();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ctx.sim.stats().bytes_served < total / 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ctx.sim.revoke_all_tokens();
    let out = run.await.expect("join");
    out.expect_code(0, "sync with expiring and revoked tokens");
    ctx.verify_copy();
    assert!(
        ctx.sim.stats().count("POST /oauth/token") >= 2,
        "a new token was fetched"
    );
}

/// 4. SIGKILL at ~40 % of the bytes, then a re-run: the copy completes and the bytes fetched
/// twice are no more than what was in flight when the kill landed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_then_rerun_refetches_only_what_was_in_flight() {
    const SIZE: u64 = 2 << 20;
    const TRANSFERS: u64 = 4;
    let mut cfg = SimConfig {
        seed: 31,
        plan: zoom_sim::Plan::Business,
        account: AccountSpec {
            active_users: 2,
            inactive_users: 0,
            pending_users: 0,
            meetings: 30,
            years: 1,
            files_per_meeting: Some(1),
            file_size: Some(SIZE),
            processing_fraction: 0.0,
            summary_fraction: 0.0,
            participant_audio_fraction: 0.0,
            ..AccountSpec::default()
        },
        ..SimConfig::default()
    };
    // 4 x 4 MB/s: a 60 MiB account takes a few seconds, so the kill lands mid-file.
    cfg.faults.bandwidth_bps = 4_000_000;
    let ctx = TestContext::start(cfg).await;
    let total = ctx.sim.manifest().total_bytes();
    assert_eq!(total, 30 * SIZE);

    let mut cmd = ctx.zvm();
    cmd.args(ctx.sync_args(&["-j", "4", "--from", "13m"]));
    let mut child = cmd.spawn().expect("spawn");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ctx.sim.stats().bytes_served < total * 2 / 5 {
        assert!(tokio::time::Instant::now() < deadline, "no progress");
        if let Ok(Some(st)) = child.try_wait() {
            panic!("zvm ended before the kill: {st}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed_pid = child.id().expect("pid");
    // The kill must land while a file is in flight. Files of one size on equal lines finish
    // together, so there are instants with no `.part` at all (every transfer between its
    // rename and its next file's first bytes): zvm is stopped (SIGSTOP) until one is seen,
    // and killed while stopped, so nothing moves between the look and the kill.
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &killed_pid.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    };
    loop {
        assert!(signal("-STOP"), "SIGSTOP zvm");
        if common::files_under(&ctx.dest)
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".part"))
        {
            break;
        }
        assert!(signal("-CONT"), "SIGCONT zvm");
        assert!(tokio::time::Instant::now() < deadline, "no file in flight");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // tokio's kill is SIGKILL on Unix: no chance to clean up (a stopped process dies too).
    child.kill().await.expect("kill");
    let at_kill = ctx.sim.stats().bytes_served;
    assert!(at_kill < total, "the kill landed before the end");
    // What a kill between an atomic write's create and rename leaves: the killed process's
    // hidden temp beside the meeting.json it was writing. Timing cannot aim a kill there, so
    // the temp is laid down by hand, in a folder whose transfer was cut (its meeting.json is
    // still to be written); the re-run must sweep it (verify_copy_after_kill allows none).
    let part = common::files_under(&ctx.dest)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".part"))
        .expect("the kill left a .part");
    let folder = part.parent().expect("folder");
    assert!(!folder.join("meeting.json").exists());
    std::fs::write(
        folder.join(format!(".meeting.json.tmp-{killed_pid}-999")),
        b"{\"half\": ",
    )
    .expect("lay down a killed writer's temp");

    ctx.sim.set_faults(FaultConfig::default());
    ctx.sync(&["--from", "13m"])
        .await
        .expect_code(0, "re-run after SIGKILL");
    ctx.verify_copy_after_kill();
    let served = ctx.sim.stats().bytes_served;
    let slack = 64 << 10;
    assert!(
        served <= total + TRANSFERS * SIZE + slack,
        "served {served} bytes for a {total}-byte account: more than the {TRANSFERS} in-flight files were fetched again"
    );
}

/// 5. No token, secret or signed URL in any output at any log level, nor in the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_output() {
    let mut cfg = small_account(41, 10);
    cfg.account.processing_fraction = 0.0;
    cfg.token_ttl_secs = 5;
    cfg.faults.seed = 41;
    // Faults make the error paths log too (they are where URLs tend to leak).
    cfg.faults.reset_prob = 0.2;
    cfg.faults.reset_after_bytes = 2000;
    cfg.faults.html_prob = 0.1;
    let ctx = TestContext::start(cfg).await;
    let secret = ctx.sim.credentials().client_secret;
    let sample = ctx.sim.issue_access_token();
    assert!(sample.starts_with("sim-at-"));
    let check = |what: &str, text: &str| {
        for needle in [
            secret.as_str(),
            "sim-at-",
            "signature=",
            "access_token=",
            "sim-rt-",
        ] {
            assert!(
                !text.contains(needle),
                "{what} contains {needle:?}:\n{}",
                tail(text)
            );
        }
    };
    for extra in [&["-vvv"][..], &["-vvv", "--json"][..]] {
        let mut cmd = ctx.zvm();
        cmd.env("ZVM_LOG", "trace").args(ctx.sync_args(extra));
        let out = common::run_cmd(cmd).await;
        assert!(
            matches!(out.code, Some(0) | Some(1)),
            "exit {:?}: {}",
            out.code,
            tail(&out.stderr)
        );
        assert!(
            out.stderr.len() > 1000,
            "-vvv with ZVM_LOG=trace logs something"
        );
        check("output", &out.all());
    }
    // A bad secret's error path must not echo it either.
    let mut cmd = ctx.zvm();
    cmd.env("ZOOM_CLIENT_SECRET", "wrong-secret-xyz")
        .env("ZVM_LOG", "trace")
        .args(ctx.sync_args(&["-vvv"]));
    let out = common::run_cmd(cmd).await;
    assert!(!out.all().contains("wrong-secret-xyz"));
    // The state database (and its WAL, if any) keeps no token or signed URL either.
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", ctx.state.display());
        if let Ok(bytes) = std::fs::read(&path) {
            check(&path, &String::from_utf8_lossy(&bytes));
        }
    }
    for p in ctx.local_files() {
        if p.ends_with(".json") || p.ends_with(".md") {
            let text = std::fs::read_to_string(ctx.dest.join(&p)).unwrap_or_default();
            check(&p, &text);
        }
    }
}

/// 6. Bad input: a clear error, the documented exit code, no panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_clearly() {
    let ctx = TestContext::start(small_account(51, 3)).await;
    let d = ctx.dir.path();

    let out = ctx.sync(&["--from", "2024-13-01"]).await;
    out.expect_code(2, "bad date");
    assert!(out.stderr.contains("2024-13-01"), "{}", out.stderr);

    let out = ctx.sync(&["--no-such-flag"]).await;
    out.expect_code(2, "unknown flag");
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);

    let out = ctx.sync(&["--config", "/nonexistent/zvm.toml"]).await;
    out.expect_code(2, "missing config");
    assert!(
        out.stderr.contains("/nonexistent/zvm.toml"),
        "{}",
        out.stderr
    );

    let cfg_path = d.join("bad.toml");
    std::fs::write(&cfg_path, "transfers = 2\nbogus_key = 1\n").expect("write config");
    let out = ctx
        .sync(&["--config", cfg_path.to_str().expect("utf-8 path")])
        .await;
    out.expect_code(2, "config with an unknown key");
    assert!(
        out.stderr.contains("bad.toml") && out.stderr.contains("bogus_key"),
        "the message names the file and the key:\n{}",
        out.stderr
    );

    // A destination under a regular file cannot be created, even by root.
    let file = d.join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let bad_dest = file.join("sub");
    let mut args = ctx.sync_args(&[]);
    args[1] = bad_dest.display().to_string();
    let out = ctx.run(&args).await;
    out.expect_code(4, "unusable destination");
    assert!(
        out.stderr.contains("plain-file"),
        "the message names the destination:\n{}",
        out.stderr
    );

    let mut cmd = ctx.zvm();
    cmd.env("ZOOM_CLIENT_SECRET", "not-the-secret")
        .args(ctx.sync_args(&[]));
    let out = common::run_cmd(cmd).await;
    out.expect_code(3, "wrong credentials");
    let lower = out.stderr.to_lowercase();
    assert!(
        lower.contains("credential") || lower.contains("secret") || lower.contains("invalid"),
        "the message says the credentials are wrong:\n{}",
        out.stderr
    );
    assert_eq!(ctx.download_counts(), (0, 0));
}

/// 7. A second sync on the same state while one runs is refused with exit 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_run_on_same_state_is_refused() {
    let mut cfg = small_account(61, 10);
    cfg.faults.bandwidth_bps = 100_000;
    let ctx = TestContext::start(cfg).await;
    let mut cmd = ctx.zvm();
    cmd.args(ctx.sync_args(&[]));
    let mut first = cmd.spawn().expect("spawn");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // Once bytes flow the first run holds the state.
    while ctx.sim.stats().bytes_served == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "first run never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = ctx.sync(&[]).await;
    out.expect_code(5, "second run on a busy state");
    assert!(
        out.stderr.to_lowercase().contains("another"),
        "the message says another run holds the state:\n{}",
        out.stderr
    );
    first.kill().await.expect("kill first run");
}

/// 8. `--dry-run` prints the plan, creates no file and downloads nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing() {
    let ctx = TestContext::start(small_account(71, 8)).await;
    let out = ctx.sync(&["--dry-run"]).await;
    out.expect_code(0, "dry run");
    assert!(
        ctx.local_files().is_empty(),
        "dry run created {:?}",
        ctx.local_files()
    );
    assert_eq!(ctx.download_counts(), (0, 0), "dry run downloaded");
    // The plan names every completed recording file (participant audio too, when the dry
    // run looks at meeting details) and nothing that is still processing.
    let manifest = ctx.sim.manifest();
    let planned = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("would download "))
        .count();
    let recordings = manifest
        .meetings
        .iter()
        .flat_map(|m| m.files.iter())
        .filter(|f| f.is_completed())
        .count();
    let with_audio = manifest.files().filter(|(_, f)| f.is_completed()).count();
    assert!(
        planned >= recordings && planned <= with_audio,
        "plan lists {planned} files; {recordings} recordings, {with_audio} with participant audio:\n{}",
        tail(&out.all())
    );
}
