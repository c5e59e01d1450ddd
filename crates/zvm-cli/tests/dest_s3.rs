//! `zvm sync` and `zvm move` into S3-compatible storage (issue 18): the real binary against
//! the simulator in this process and the S3-compatible server `.ci/run` starts
//! (`ZVM_TEST_S3_ENDPOINT`), sometimes through a proxy that plays a full bucket. The
//! scenarios are the shared ones of `common/remote_dest.rs`; this file says how to reach
//! the server and read a bucket back with plain HTTP, and checks what only S3 URLs have.

mod common;

// The S3 harness brings its own copy of the skip rule (`common` has one too): two modules
// of one file, each private to its parent.
#[path = "../../zvm-dest-opendal/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod support;

#[path = "common/remote_dest.rs"]
mod remote_dest;

use common::{RunOutput, TestContext, small_account};
use remote_dest::{KillLeaves, Place, RemoteDest};
use support::{KEY_ID, Mode, Proxy, SECRET, keys, new_bucket, object};

/// moto at `ZVM_TEST_S3_ENDPOINT`; zvm writes under the prefix `zoom/` of each bucket.
struct S3 {
    endpoint: String,
    /// Every file goes up as a multipart upload (`?upload_cutoff=0`), not as one PUT.
    multipart: bool,
}

impl S3 {
    fn reach(test: &str) -> Option<S3> {
        support::s3_endpoint(test).map(|endpoint| S3 {
            endpoint,
            multipart: false,
        })
    }
}

impl RemoteDest for S3 {
    const SCHEME: &'static str = "s3";
    // An upload has no key until it completes: a single PUT's body until its end, a
    // multipart upload's parts until CompleteMultipartUpload.
    const KILL_LEAVES: KillLeaves = KillLeaves::Nothing;

    fn secret(&self) -> &str {
        SECRET
    }

    fn credentials(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
        ]
    }

    fn upstream(&self) -> String {
        self.endpoint.clone()
    }

    async fn new_place(&self, what: &str) -> Place {
        Place {
            name: new_bucket(&self.endpoint, what).await,
            dir: None,
        }
    }

    fn url(&self, place: &Place, via: Option<&Proxy>) -> String {
        let endpoint = via.map_or(self.endpoint.as_str(), |p| p.endpoint.as_str());
        let cutoff = if self.multipart {
            "&upload_cutoff=0"
        } else {
            ""
        };
        format!(
            "s3://{}/zoom?endpoint={endpoint}&region=us-east-1{cutoff}",
            place.name
        )
    }

    async fn stored(&self, place: &Place) -> Vec<String> {
        keys(&self.endpoint, &place.name)
            .await
            .into_iter()
            .map(|key| match key.strip_prefix("zoom/") {
                Some(rel) => rel.to_string(),
                None => panic!("{key} is outside the prefix"),
            })
            .collect()
    }

    async fn read(&self, place: &Place, rel: &str) -> Option<Vec<u8>> {
        object(
            &self.endpoint,
            &place.name,
            &support::encoded_key(&format!("zoom/{rel}")),
        )
        .await
    }

    fn bytes_in_flight(&self, _: &Place) -> Option<u64> {
        None
    }

    fn resumes_in_parts_of(&self) -> Option<u64> {
        // S3's default part size (5 MiB): a multipart upload is taken over by the next run.
        self.multipart.then_some(5 << 20)
    }
}

/// Runs zvm with the test server's keys in the environment, as a user would.
async fn zvm(ctx: &TestContext, args: &[String]) -> RunOutput {
    let mut cmd = ctx.zvm();
    cmd.env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args(args);
    common::run_cmd(cmd).await
}

fn sync_args(ctx: &TestContext, dest: &str, extra: &[&str]) -> Vec<String> {
    let mut v = ctx.sync_args(extra);
    v[1] = dest.to_string();
    v
}

/// A zvm built without the `s3` feature cannot take part: fail under CI, skip elsewhere.
fn built_without_s3(out: &RunOutput) -> bool {
    if out.stderr.contains("built without s3:// support") {
        support::skip_or_fail("this zvm was built without the s3 feature");
        return true;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_into_s3_under_faults_copies_exactly_and_a_rerun_uploads_nothing() {
    if let Some(s3) = S3::reach("sync into s3") {
        remote_dest::sync_under_faults_then_rerun(&s3, 181).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_into_s3_deletes_in_zoom_only_what_the_bucket_holds() {
    if let Some(s3) = S3::reach("move into s3") {
        remote_dest::move_deletes_only_what_is_stored(&s3, 182).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bucket_exits_4_with_a_clear_message_and_deletes_nothing_in_zoom() {
    if let Some(s3) = S3::reach("full bucket") {
        // Room for the write probe and a few files, then MinIO's "storage full" (507).
        remote_dest::full_service_exits_4(&s3, 183, Mode::FullAfter(64 << 10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_leaves_no_object_and_the_rerun_completes() {
    if let Some(s3) = S3::reach("kill mid-upload") {
        remote_dest::sigkill_mid_upload_then_rerun(&s3).await;
    }
}

/// A file bigger than the cutoff goes up in parts; killed mid-upload, the next run takes
/// the upload over and asks Zoom only for the bytes after the stored parts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_multipart_upload_and_the_rerun_goes_on_after_the_stored_parts() {
    if let Some(mut s3) = S3::reach("kill mid-multipart") {
        s3.multipart = true;
        remote_dest::sigkill_mid_upload_then_rerun(&s3).await;
    }
}

/// The keys only in config.toml's `[remote.s3]` (the URL names the endpoint and region).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_in_the_config_file_are_used_without_the_environment_and_never_logged() {
    if let Some(s3) = S3::reach("keys in config.toml") {
        let table = format!(
            "[remote.s3]\naccess_key_id = \"{KEY_ID}\"\nsecret_access_key = \"{SECRET}\"\n"
        );
        remote_dest::login_only_in_config(&s3, 194, &table).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_and_missing_keys_exit_2_and_say_how_to_fix_them() {
    let ctx = TestContext::start(small_account(184, 1)).await;
    for (dest, says) in [
        ("s3:///x", "no bucket"),
        ("s3://b/p?colour=blue", "unknown option"),
        ("ftp://host/x", "unknown destination kind ftp://"),
        // Built with the drive: its missing token; without: the feature to build with.
        (
            "gdrive://folder/x",
            "ZVM_GDRIVE_REFRESH_TOKEN|--features gdrive",
        ),
    ] {
        let out = zvm(&ctx, &sync_args(&ctx, dest, &[])).await;
        out.expect_code(2, dest);
        assert!(
            says.split('|').any(|s| out.stderr.contains(s)),
            "{dest}: {}",
            out.stderr
        );
    }
    // No keys in the environment.
    let mut cmd = ctx.zvm();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .args(sync_args(
            &ctx,
            "s3://bucket/p?endpoint=http://127.0.0.1:9",
            &[],
        ));
    let out = common::run_cmd(cmd).await;
    if built_without_s3(&out) {
        return;
    }
    out.expect_code(2, "no credentials");
    assert!(out.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", out.stderr);
    assert!(ctx.sim.deletions().is_empty());
}

/// config.toml's `[remote.s3]` with the keys, region and endpoint, none in the environment
/// but a wrong AWS_ENDPOINT_URL: the copy goes through the file's endpoint (the file wins
/// over the environment), and a URL with its own `?endpoint=` goes through that one (the
/// URL wins over the file). Each endpoint is a counting proxy in front of the test server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_and_endpoint_of_the_config_file_are_used_under_the_url_s_own_options() {
    let Some(endpoint) = support::s3_endpoint("s3 login in config.toml") else {
        return;
    };
    let ctx = TestContext::start(small_account(190, 3)).await;
    let bucket = new_bucket(&endpoint, "cfg").await;
    let via_file = Proxy::start(&endpoint, Mode::Pass).await;
    let via_env = Proxy::start(&endpoint, Mode::Pass).await;
    let via_url = Proxy::start(&endpoint, Mode::Pass).await;
    let cfg = ctx.dir.path().join("zvm.toml");
    common::write_config(
        &cfg,
        &format!(
            "[remote.s3]\naccess_key_id = \"{KEY_ID}\"\nsecret_access_key = \"{SECRET}\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n",
            via_file.endpoint
        ),
        0o600,
    );
    // Each run into a prefix of its own, with a state of its own: everything goes up again.
    let run = |prefix: &str, query: &str, state: &str| {
        let mut args = sync_args(&ctx, &format!("s3://{bucket}/{prefix}{query}"), &[]);
        let state = ctx.dir.path().join(state).display().to_string();
        let at = args.iter().position(|a| a == "--state").expect("--state") + 1;
        args[at] = state;
        args.extend(["--config".to_string(), cfg.display().to_string()]);
        let mut cmd = ctx.zvm();
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env("AWS_ENDPOINT_URL", &via_env.endpoint)
            .args(args);
        common::run_cmd(cmd)
    };
    let out = run("one", "", "one.sqlite3").await;
    if built_without_s3(&out) {
        return;
    }
    out.expect_code(0, "sync with the keys and endpoint in config.toml");
    assert!(!out.all().contains(SECRET), "{}", out.all());
    assert!(via_file.uploads() > 3, "through the file's endpoint");
    assert_eq!(via_env.uploads(), 0, "not through AWS_ENDPOINT_URL");
    assert!(
        keys(&endpoint, &bucket)
            .await
            .iter()
            .any(|k| k.starts_with("one/"))
    );

    let (file_before, url_before) = (via_file.uploads(), via_url.uploads());
    let out = run(
        "two",
        &format!("?endpoint={}", via_url.endpoint),
        "two.sqlite3",
    )
    .await;
    out.expect_code(0, "sync with ?endpoint= in the URL");
    assert!(
        via_url.uploads() > url_before + 3,
        "through the URL's endpoint"
    );
    assert_eq!(via_file.uploads(), file_before, "not through the file's");
    assert_eq!(via_env.uploads(), 0);
    assert!(
        keys(&endpoint, &bucket)
            .await
            .iter()
            .any(|k| k.starts_with("two/"))
    );
}
