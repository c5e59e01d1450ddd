//! One sign-in for every front end: a `zvm auth login` made on the command line is the GUI's
//! sign-in, and a GUI sign-in is the command line's, through the OS keyring (the Secret
//! Service on Linux), with the real token stores of both.
//!
//! The test runs itself again inside a private D-Bus session with its own unlocked
//! gnome-keyring (`dbus-run-session`, `gnome-keyring-daemon`), so it never touches the keyring
//! of the machine it runs on. Without those programs it fails under `CI=true` and says so
//! elsewhere.

#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;
use zoom_sim::{SimConfig, Simulator};
use zvm_app::token_store::StoreKind;
use zvm_gui::ZvmApp;
use zvm_gui::settings::{AuthMode, GuiSettings};

/// Set in the re-run inside the private session.
const INSIDE: &str = "ZVM_TEST_INSIDE_KEYRING_SESSION";
const TEST_NAME: &str = "the_gui_sees_a_cli_sign_in_and_the_cli_sees_a_gui_sign_in";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

#[test]
fn the_gui_sees_a_cli_sign_in_and_the_cli_sees_a_gui_sign_in() {
    if std::env::var_os(INSIDE).is_some() {
        inside_the_session();
        return;
    }
    let missing: Vec<&str> = ["dbus-run-session", "gnome-keyring-daemon"]
        .into_iter()
        .filter(|p| !on_path(p))
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "{missing:?} not found: install the Debian packages dbus-daemon, dbus-bin and gnome-keyring"
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test executable");
    // A password on stdin creates and unlocks the session's login keyring (a throwaway one,
    // in the temporary HOME); then wait until that daemon owns the Secret Service name, or
    // the first client would have D-Bus start a second, locked one that asks for a password
    // on a display there is none of.
    let out = Command::new("dbus-run-session")
        .arg("--")
        .arg("sh")
        .arg("-c")
        .arg(
            "printf 'zvm-test-keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
             for _ in $(seq 100); do \
               dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
                 org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets \
                 | grep -q 'boolean true' && break; sleep 0.1; done && \
             exec \"$0\" --exact \"$1\" --nocapture --test-threads=1",
        )
        .arg(&exe)
        .arg(TEST_NAME)
        .env(INSIDE, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("dbus-run-session starts");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the keyring session failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the test did not run inside the session:\n{text}"
    );
}

/// `zvm` for user OAuth in `home`, in this D-Bus session (so with its keyring).
fn zvm_user(sim: &Simulator, home: &Path) -> tokio::process::Command {
    let mut cmd = common::zvm_against(sim, home);
    cmd.env_remove("ZOOM_ACCOUNT_ID")
        .env_remove("ZOOM_CLIENT_SECRET")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("inside a D-Bus session"),
        );
    cmd
}

/// Runs `zvm auth login --no-browser` and plays the browser.
async fn cli_login(sim: &Simulator, home: &Path) {
    let mut child = zvm_user(sim, home)
        .args(["auth", "login", "--no-browser"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("zvm starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("login prints the address")
            .expect("read")
            .expect("a line");
        if let Some(u) = line.trim().strip_prefix("http") {
            break format!("http{u}");
        }
    };
    play_browser(&url).await;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("login ends")
        .expect("wait");
    let mut rest = Vec::new();
    while let Ok(Some(l)) = lines.next_line().await {
        rest.push(l);
    }
    assert!(status.success(), "zvm auth login failed: {rest:#?}");
}

async fn play_browser(url: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::get(url).await.expect("the authorize page answers");
    assert!(r.status().is_success(), "{}", r.status());
}

async fn cli_status(sim: &Simulator, home: &Path) -> (Option<i32>, String) {
    let out = zvm_user(sim, home)
        .args(["auth", "status"])
        .output()
        .await
        .expect("zvm runs");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Steps the GUI's message queue until `done` holds.
fn wait_gui(app: &mut ZvmApp, what: &str, mut done: impl FnMut(&ZvmApp) -> bool) {
    let end = Instant::now() + Duration::from_secs(60);
    while !done(app) {
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}; log: {:?}",
            app.log
                .iter()
                .map(|l| l.render(zvm_gui::i18n::Lang::En))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
        app.drain();
    }
}

fn inside_the_session() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut cfg = SimConfig::default();
    cfg.rate_limits.enabled = false;
    let sim = rt.block_on(Simulator::start(cfg)).expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    // Where the CLI would put its token file if no keyring answered.
    let config_dir = home.join("config").join("zvm");
    let token_file = config_dir.join("zoom-token.json");
    let gui_settings = || GuiSettings {
        auth_mode: AuthMode::User,
        client_id: sim.credentials().client_id.clone(),
        api_base: sim.api_base_url(),
        oauth_base: sim.oauth_base_url(),
        token_dir: config_dir.clone(),
        token_store: StoreKind::Auto,
        open_browser: false,
        destination: dir.path().join("dest"),
        state_path: dir.path().join("state.sqlite3"),
        ..GuiSettings::default()
    };

    // 1. Signed in on the command line: the token is in the keyring, not in a file...
    rt.block_on(cli_login(&sim, &home));
    assert!(
        !token_file.exists(),
        "the CLI used the file, not the keyring"
    );
    let (code, text) = rt.block_on(cli_status(&sim, &home));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("the OS keyring"), "{text}");
    // ...and the GUI, on the same machine, is signed in with it.
    let mut gui = ZvmApp::new(gui_settings(), None);
    gui.connect();
    wait_gui(&mut gui, "the GUI to connect with the CLI's sign-in", |a| {
        a.connection.is_some()
    });
    assert!(
        gui.token
            .as_ref()
            .is_some_and(|t| t.present && t.location.contains("keyring")),
        "the GUI reads the keyring: {:?}",
        gui.token
    );
    drop(gui);

    // 2. Signed out on the command line: the GUI has no sign-in either.
    // (`output` spawns at once, so it is called inside the runtime.)
    let out = rt
        .block_on(async {
            zvm_user(&sim, &home)
                .args(["auth", "logout"])
                .output()
                .await
        })
        .expect("logout runs");
    assert_eq!(out.status.code(), Some(0));
    let (code, _) = rt.block_on(cli_status(&sim, &home));
    assert_eq!(code, Some(3), "signed out");

    // 3. Signed in in the GUI: the command line is signed in with it.
    let mut gui = ZvmApp::new(gui_settings(), None);
    gui.sign_in_with_browser();
    wait_gui(&mut gui, "the sign-in address", |a| a.login_url.is_some());
    let url = gui.login_url.clone().expect("url");
    rt.block_on(play_browser(&url));
    wait_gui(&mut gui, "the GUI's sign-in", |a| a.connection.is_some());
    assert!(
        !token_file.exists(),
        "the GUI used the file, not the keyring"
    );
    let (code, text) = rt.block_on(cli_status(&sim, &home));
    assert_eq!(code, Some(0), "the CLI sees the GUI's sign-in: {text}");
    assert!(text.contains("Signed in (user OAuth)") && text.contains("the OS keyring"));
    // The token works for the CLI: it lists the signed-in user's recordings.
    let out = rt
        .block_on(async {
            zvm_user(&sim, &home)
                .args(["list", "--json", "--from", "37m"])
                .output()
                .await
        })
        .expect("list runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rt.block_on(sim.shutdown());
}
