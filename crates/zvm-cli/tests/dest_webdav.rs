//! `zvm sync` and `zvm move` into WebDAV (issue 18): the real binary against the simulator in
//! this process and the WebDAV server `.ci/run` starts (`ZVM_TEST_WEBDAV_URL`, serving
//! `ZVM_TEST_WEBDAV_DIR`), sometimes through a proxy that counts uploads or plays a full
//! server. The scenarios are the shared ones of `common/remote_dest.rs`; this file says how
//! to reach the server (what it stored is read back from the folder it serves) and checks
//! what only WebDAV URLs have.

mod common;

#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
mod support;

#[path = "common/remote_dest.rs"]
mod remote_dest;

use common::{RunOutput, TestContext, small_account, write_config};
use remote_dest::{KillLeaves, Place, RemoteDest};
use support::{FileServer, Mode, Proxy, WEBDAV_PASSWORD, WEBDAV_USER, files_under, webdav_server};

/// rclone's `serve webdav`; zvm writes into a fresh folder of the served one per test.
struct WebDav {
    server: FileServer,
}

impl WebDav {
    fn reach(test: &str) -> Option<WebDav> {
        webdav_server(test).map(|server| WebDav { server })
    }

    fn dir<'a>(&self, place: &'a Place) -> &'a std::path::Path {
        place
            .dir
            .as_deref()
            .expect("a WebDAV folder is on this machine")
    }
}

impl RemoteDest for WebDav {
    const SCHEME: &'static str = "webdav";
    // The upload streams into a `.part` beside its final name.
    const KILL_LEAVES: KillLeaves = KillLeaves::PartsAndRecords;

    fn secret(&self) -> &str {
        WEBDAV_PASSWORD
    }

    fn credentials(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ZVM_WEBDAV_USER", WEBDAV_USER.into()),
            ("ZVM_WEBDAV_PASSWORD", WEBDAV_PASSWORD.into()),
        ]
    }

    fn upstream(&self) -> String {
        self.server.url.replacen("webdav://", "http://", 1)
    }

    async fn new_place(&self, what: &str) -> Place {
        let (url, dir) = self.server.new_folder(what);
        Place {
            name: url.rsplit('/').next().unwrap().to_string(),
            dir: Some(dir),
        }
    }

    fn url(&self, place: &Place, via: Option<&Proxy>) -> String {
        match via {
            Some(p) => format!(
                "{}/{}",
                p.endpoint.replacen("http://", "webdav://", 1),
                place.name
            ),
            None => format!("{}/{}", self.server.url, place.name),
        }
    }

    async fn stored(&self, place: &Place) -> Vec<String> {
        files_under(self.dir(place))
    }

    async fn read(&self, place: &Place, rel: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir(place).join(rel)).ok()
    }

    fn bytes_in_flight(&self, place: &Place) -> Option<u64> {
        let dir = self.dir(place);
        let largest_part = files_under(dir)
            .iter()
            .filter(|f| f.ends_with(".part"))
            .map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0))
            .max();
        Some(largest_part.unwrap_or(0))
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_into_webdav_under_faults_copies_exactly_and_a_rerun_uploads_nothing() {
    if let Some(dav) = WebDav::reach("sync into webdav") {
        remote_dest::sync_under_faults_then_rerun(&dav, 185).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_into_webdav_deletes_in_zoom_only_what_the_server_holds() {
    if let Some(dav) = WebDav::reach("move into webdav") {
        remote_dest::move_deletes_only_what_is_stored(&dav, 186).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_exits_4_with_a_clear_message_and_deletes_nothing_in_zoom() {
    if let Some(dav) = WebDav::reach("full webdav server") {
        // Room for a few files, then 507 Insufficient Storage for every upload.
        remote_dest::full_service_exits_4(&dav, 187, Mode::FullAfter(64 << 10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_leaves_nothing_under_the_final_name_and_the_rerun_completes() {
    if let Some(dav) = WebDav::reach("kill mid-upload") {
        remote_dest::sigkill_mid_upload_then_rerun(&dav).await;
    }
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

/// The login only in config.toml's `[remote.webdav]`: the environment holds a wrong one,
/// which alone is refused by the server, and the file's wins over it; every file arrives.
/// The same file readable by others is warned about by key, never by value; an unknown key
/// of the table is an error naming the key and the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_in_the_config_file_wins_over_the_environment() {
    let Some(dav) = WebDav::reach("webdav login in config.toml") else {
        return;
    };
    let ctx = TestContext::start(small_account(189, 6)).await;
    let (url, served) = dav.server.new_folder("config-login");
    let cfg = ctx.dir.path().join("zvm.toml");
    let with_config = |extra: &[&str]| {
        let mut v = sync_args(&ctx, &url, extra);
        v.extend(["--config".to_string(), cfg.display().to_string()]);
        v
    };
    let wrong = "not-the-password";
    let run = |args: Vec<String>| {
        let mut cmd = ctx.zvm();
        cmd.env("ZVM_WEBDAV_USER", WEBDAV_USER)
            .env("ZVM_WEBDAV_PASSWORD", wrong)
            .args(args);
        common::run_cmd(cmd)
    };

    // The environment's login alone: refused, nothing written.
    write_config(&cfg, "", 0o600);
    let out = run(with_config(&[])).await;
    assert_ne!(
        out.code,
        Some(0),
        "a wrong login is refused:\n{}",
        out.all()
    );
    assert!(
        files_under(&served).is_empty(),
        "{:?}",
        files_under(&served)
    );

    // The file's login wins.
    write_config(
        &cfg,
        &format!("[remote.webdav]\nuser = \"{WEBDAV_USER}\"\npassword = \"{WEBDAV_PASSWORD}\"\n"),
        0o600,
    );
    let out = run(with_config(&[])).await;
    out.expect_code(0, "sync with the login in config.toml");
    assert!(!out.all().contains(WEBDAV_PASSWORD), "{}", out.all());
    assert!(
        !out.stderr.contains("warning"),
        "a private file: {}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(&ctx.dest);
    for rel in files_under(&served) {
        let to = ctx.dest.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(served.join(&rel), to).unwrap();
    }
    assert!(ctx.verify_copy() > 5, "every file arrived");

    // The same file readable by others: a warning naming the file and the key.
    #[cfg(unix)]
    {
        write_config(
            &cfg,
            &std::fs::read_to_string(&cfg).expect("read config"),
            0o644,
        );
        let out = run(with_config(&[])).await;
        out.expect_code(0, "re-run with the file readable by others");
        assert!(
            out.stderr.contains("warning")
                && out.stderr.contains("remote.webdav.password")
                && out.stderr.contains(&cfg.display().to_string())
                && out.stderr.contains("chmod 600"),
            "{}",
            out.stderr
        );
        assert!(!out.all().contains(WEBDAV_PASSWORD), "{}", out.all());
    }

    // A typo in the table: exit 2, the key and the file named, the value never shown.
    write_config(
        &cfg,
        &format!("[remote.webdav]\nuser = \"{WEBDAV_USER}\"\npasword = \"{WEBDAV_PASSWORD}\"\n"),
        0o600,
    );
    let out = run(with_config(&[])).await;
    out.expect_code(2, "an unknown key in [remote.webdav]");
    assert!(
        out.stderr.contains("`pasword`") && out.stderr.contains(&cfg.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(WEBDAV_PASSWORD), "{}", out.all());
    let _ = std::fs::remove_dir_all(&served);
}
