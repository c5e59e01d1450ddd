//! `zvm sync` and `zvm move` into Azure Blob Storage (issue 18): the real binary against the
//! simulator in this process and Azurite, the Blob emulator `.ci/run` starts
//! (`ZVM_TEST_AZURE_ENDPOINT`), sometimes through a proxy that counts uploads or plays a
//! full account. The scenarios are the shared ones of `common/remote_dest.rs`; this file
//! says how to reach Azurite (what it stored is read back with requests signed here, not
//! through zvm's destination) and checks what only Azure URLs have.
//!
//! "Full": Azure's Blob error tables name no code for a full account or container (an
//! account holds 5 PiB by default, and blob containers have no quota of their own), and
//! Azurite produces none (its in-memory size limit answers 500, a retried fault). The full
//! scenario therefore has the proxy answer as a full Azure-compatible store would (507 and
//! a "storage full" code, in Azure's error body), which is what zvm's mapping recognises
//! for every service.

mod common;

#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod support;

#[path = "../../zvm-dest-opendal/tests/support/azurite.rs"]
mod azurite;

#[path = "common/remote_dest.rs"]
mod remote_dest;

use common::{TestContext, small_account};
use remote_dest::{KillLeaves, Place, RemoteDest};
use support::{Mode, Proxy};

/// Azurite's development account; zvm writes under the prefix `zoom/` of each container.
struct Azure {
    /// `http://127.0.0.1:PORT/devstoreaccount1`.
    endpoint: String,
}

impl Azure {
    fn reach(test: &str) -> Option<Azure> {
        azurite::azure_endpoint(test).map(|endpoint| Azure { endpoint })
    }
}

impl RemoteDest for Azure {
    const SCHEME: &'static str = "azblob";
    // Blocks put have no name until the block list is committed.
    const KILL_LEAVES: KillLeaves = KillLeaves::Nothing;

    fn secret(&self) -> &str {
        azurite::KEY
    }

    fn credentials(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_ACCOUNT", azurite::ACCOUNT.into()),
            ("AZURE_STORAGE_KEY", azurite::KEY.into()),
        ]
    }

    fn upstream(&self) -> String {
        // The account stays in the request paths.
        azurite::origin(&self.endpoint)
    }

    async fn new_place(&self, what: &str) -> Place {
        Place {
            name: azurite::new_container(&self.endpoint, what).await,
            dir: None,
        }
    }

    fn url(&self, place: &Place, via: Option<&Proxy>) -> String {
        let endpoint = match via {
            Some(p) => {
                let account_path = reqwest::Url::parse(&self.endpoint)
                    .expect("the endpoint is a URL")
                    .path()
                    .to_string();
                format!("{}{account_path}", p.endpoint)
            }
            None => self.endpoint.clone(),
        };
        format!("azblob://{}/zoom?endpoint={endpoint}", place.name)
    }

    async fn stored(&self, place: &Place) -> Vec<String> {
        azurite::blobs(&self.endpoint, &place.name)
            .await
            .into_iter()
            .map(|name| match name.strip_prefix("zoom/") {
                Some(rel) => rel.to_string(),
                None => panic!("{name} is outside the prefix"),
            })
            .collect()
    }

    async fn read(&self, place: &Place, rel: &str) -> Option<Vec<u8>> {
        azurite::blob(&self.endpoint, &place.name, &format!("zoom/{rel}")).await
    }

    fn bytes_in_flight(&self, _: &Place) -> Option<u64> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_into_azure_under_faults_copies_exactly_and_a_rerun_uploads_nothing() {
    if let Some(az) = Azure::reach("sync into azblob") {
        remote_dest::sync_under_faults_then_rerun(&az, 189).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_into_azure_deletes_in_zoom_only_what_the_container_holds() {
    if let Some(az) = Azure::reach("move into azblob") {
        remote_dest::move_deletes_only_what_is_stored(&az, 190).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_account_exits_4_with_a_clear_message_and_deletes_nothing_in_zoom() {
    if let Some(az) = Azure::reach("full azure account") {
        // Room for the write probe and a few files, then "storage full" (see above).
        remote_dest::full_service_exits_4(&az, 191, Mode::FullAfter(64 << 10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_leaves_no_blob_and_the_rerun_completes() {
    if let Some(az) = Azure::reach("kill mid-upload") {
        remote_dest::sigkill_mid_upload_then_rerun(&az).await;
    }
}

/// The account and key only in config.toml's `[remote.azblob]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_key_in_the_config_file_is_used_without_the_environment() {
    if let Some(az) = Azure::reach("login in config.toml") {
        let table = format!(
            "[remote.azblob]\naccount = \"{}\"\naccount_key = \"{}\"\n",
            azurite::ACCOUNT,
            azurite::KEY
        );
        remote_dest::login_only_in_config(&az, 193, &table).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_azure_urls_and_missing_credentials_exit_2_and_say_how_to_fix_them() {
    let ctx = TestContext::start(small_account(192, 1)).await;
    for (dest, says) in [
        ("azblob:///zoom", "no container"),
        ("azblob://c/zoom?colour=blue", "unknown option"),
        ("azblob://anna:key@c/zoom", "AZURE_STORAGE_KEY"),
        ("azblob://c/zoom?part_size=1KiB", "outside 64KiB to 4000MiB"),
    ] {
        let mut cmd = ctx.zvm();
        cmd.args(sync_args(&ctx, dest));
        let out = common::run_cmd(cmd).await;
        out.expect_code(2, dest);
        assert!(out.stderr.contains(says), "{dest}: {}", out.stderr);
    }
    // No credentials in the environment (the harness's zvm has a clean one).
    let mut cmd = ctx.zvm();
    cmd.env_remove("AZURE_STORAGE_ACCOUNT")
        .env_remove("AZURE_STORAGE_KEY")
        .env_remove("AZURE_STORAGE_CONNECTION_STRING")
        .env_remove("AZURE_STORAGE_SAS_TOKEN")
        .args(sync_args(
            &ctx,
            "azblob://c/zoom?endpoint=http://127.0.0.1:9/devstoreaccount1",
        ));
    let out = common::run_cmd(cmd).await;
    if out.stderr.contains("built without azblob:// support") {
        support::skip_or_fail("this zvm was built without the azblob feature");
        return;
    }
    out.expect_code(2, "no credentials");
    assert!(
        out.stderr.contains("AZURE_STORAGE_ACCOUNT") && out.stderr.contains("azblob://c/zoom"),
        "{}",
        out.stderr
    );
    assert!(ctx.sim.deletions().is_empty());
}

fn sync_args(ctx: &TestContext, dest: &str) -> Vec<String> {
    let mut v = ctx.sync_args(&[]);
    v[1] = dest.to_string();
    v
}
