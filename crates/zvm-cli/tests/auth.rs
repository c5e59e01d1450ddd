//! `zvm auth login | status | logout` end to end against the simulator: the browser is played
//! by an HTTP client that follows the authorize redirect to zvm's one-shot loopback listener.

mod common;

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use zoom_sim::{SimConfig, Simulator};

/// User OAuth: the client id only, no Server-to-Server account or secret.
fn zvm(sim: &Simulator, home: &Path) -> tokio::process::Command {
    let mut cmd = common::zvm_against(sim, home);
    cmd.env_remove("ZOOM_ACCOUNT_ID")
        .env_remove("ZOOM_CLIENT_SECRET")
        .env("ZVM_TOKEN_STORE", "file");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_status_sync_logout() {
    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");

    // Not signed in yet: a clear message and exit 3.
    let out = zvm(&sim, &home).args(["sync", "x"]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("zvm auth login"));

    let mut child = zvm(&sim, &home)
        .args(["auth", "login", "--no-browser"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("login prints the URL")
            .unwrap()
            .expect("a line");
        if let Some(u) = line.trim().strip_prefix("http") {
            break format!("http{u}");
        }
    };
    assert!(url.contains("code_challenge_method=S256") && url.contains("state="));
    // The "browser": follow the redirect to zvm's loopback listener.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::get(&url).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let token_file = home.join("config/zvm/zoom-token.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let out = zvm(&sim, &home)
        .args(["auth", "status"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Signed in"), "{text}");
    assert!(
        !text.contains("sim-at-") && !text.contains("sim-rt-"),
        "no token shown: {text}"
    );

    // The signed-in user's recordings land under their email, not "me".
    let dest = dir.path().join("dest");
    let out = zvm(&sim, &home)
        .args([
            "sync",
            dest.to_str().unwrap(),
            "--from",
            "4y",
            "--quiet",
            "--state",
        ])
        .arg(dir.path().join("s.sqlite3"))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let owner = &sim.manifest().users[0].email;
    let tops: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(tops, vec![owner.clone()]);

    // A token file readable by others is refused with the fix spelled out.
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = zvm(&sim, &home)
        .args(["auth", "status"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = zvm(&sim, &home)
        .args(["auth", "logout"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!token_file.exists(), "logout forgets the token");
    sim.shutdown().await;
}
