//! What a broken or hostile server, or a careless configuration, may hand zvm: malformed JSON
//! of every kind from the API, plain http to a remote host. Each gives a clear error and the
//! documented exit code, never a panic, a hang or unbounded memory.

mod common;

use common::{TestContext, small_account, tail};
use zoom_sim::HostileJson;

/// Every successful API answer replaced by hostile JSON: the run ends with exit 3 (a Zoom
/// problem), says which answer it could not read and why, and copies nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_json_from_the_api_is_a_clear_error() {
    for (kind, says) in [
        (HostileJson::WrongTypes, "invalid type"),
        (HostileJson::HugeNumbers, "number out of range"),
        (HostileJson::DeepNesting, "invalid type"),
        (HostileJson::Truncated, "EOF while parsing"),
        (HostileJson::Oversized, "larger than 32 MiB"),
    ] {
        let mut cfg = small_account(81, 4);
        cfg.faults.hostile_json = Some(kind);
        let ctx = TestContext::start(cfg).await;
        let out = ctx.sync(&[]).await;
        out.expect_code(3, &format!("{kind:?}"));
        assert!(
            out.stderr.contains("could not parse Zoom's answer") && out.stderr.contains(says),
            "{kind:?}: the error should say what was wrong ({says:?}):\n{}",
            tail(&out.stderr)
        );
        // The error names the endpoint, not a signed or tokened URL.
        assert!(
            out.stderr.contains("/v2/"),
            "{kind:?}: {}",
            tail(&out.stderr)
        );
        assert!(
            !ctx.dest.exists() || common::files_under(&ctx.dest).is_empty(),
            "{kind:?}: something was written from a hostile answer"
        );
        ctx.sim.shutdown().await;
    }
}

/// An 8 MiB topic is valid JSON: zvm copies the meeting under a name cut to 255 bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gigantic_strings_are_handled() {
    let mut cfg = small_account(83, 3);
    cfg.account.processing_fraction = 0.0;
    cfg.faults.hostile_json = Some(HostileJson::GiganticStrings);
    let ctx = TestContext::start(cfg).await;
    let out = ctx.sync(&["--quiet"]).await;
    assert!(
        matches!(out.code, Some(0) | Some(1)),
        "exit {:?}: {}",
        out.code,
        tail(&out.stderr)
    );
    assert!(!out.stderr.contains("panicked"), "{}", tail(&out.stderr));
    // Output stays readable: no 8 MiB line echoed to the terminal.
    assert!(
        out.stderr.len() < 1 << 20,
        "{} bytes of stderr",
        out.stderr.len()
    );
    for p in common::files_under(&ctx.dest) {
        for c in p.strip_prefix(&ctx.dest).unwrap().components() {
            let n = c.as_os_str().len();
            assert!(n <= 255, "a {n}-byte path component: {}", p.display());
        }
    }
    assert!(!common::files_under(&ctx.dest).is_empty(), "nothing copied");
}

/// Plain http is allowed to loopback only (the simulator); a remote http URL is refused
/// before any request, with the variable to fix. There is no switch that turns off TLS
/// certificate checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_remote_host_is_refused_and_tls_checks_cannot_be_disabled() {
    let ctx = TestContext::start(small_account(85, 2)).await;
    for (var, url) in [
        ("ZVM_API_BASE", "http://api.zoom.us/v2"),
        ("ZVM_OAUTH_BASE", "http://zoom.us"),
        ("ZVM_API_BASE", "http://10.1.2.3:8080/v2"),
    ] {
        let mut cmd = ctx.zvm();
        cmd.env(var, url).args(ctx.sync_args(&[]));
        let out = common::run_cmd(cmd).await;
        assert!(
            matches!(out.code, Some(2) | Some(3)),
            "{var}={url}: exit {:?}\n{}",
            out.code,
            tail(&out.stderr)
        );
        assert!(
            out.stderr.contains("https") && out.stderr.contains("http://"),
            "{var}={url}: the error should say https is required:\n{}",
            tail(&out.stderr)
        );
        assert!(!out.stderr.contains("panicked"));
    }
    assert_eq!(
        ctx.sim.stats().count("POST /oauth/token"),
        0,
        "no request may leave before the URL check"
    );

    // No flag or variable disables certificate checks: none is documented...
    let help = ctx.run(&["sync", "--help"]).await;
    for word in ["insecure", "no-verify", "accept-invalid", "skip-tls"] {
        assert!(
            !help.stdout.to_lowercase().contains(word),
            "--help offers {word}"
        );
    }
    // ...and the HTTP clients are built without the switch that would do it.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../zvm-zoom/src/http.rs");
    let text = std::fs::read_to_string(src).expect("zvm-zoom's client builder");
    assert!(
        text.contains("reqwest::Client::builder"),
        "{src} moved: update this test"
    );
    for switch in [
        "danger_accept_invalid_certs",
        "danger_accept_invalid_hostnames",
    ] {
        assert!(!text.contains(switch), "{src} uses {switch}");
    }
}
