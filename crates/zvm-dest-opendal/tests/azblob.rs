//! The Azure Blob destination against Azurite, Microsoft's Blob emulator (the one `.ci/run`
//! starts): the shared conformance suite of zvm-dest, unchanged, then what only this service
//! shows: no blob before its block list is committed, the Content-MD5 proof, a busy server,
//! credentials and names refused before any request.

#[path = "support/azurite.rs"]
mod azurite;
mod support;

use std::sync::Arc;

use azurite::{ACCOUNT, KEY, azure_endpoint, blob, blobs, new_container, origin};
use support::{Mode, Proxy};
use zvm_dest::{DestError, Destination, conformance};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, open};

fn creds() -> RemoteCredentials {
    RemoteCredentials {
        azure_account: Some(ACCOUNT.into()),
        azure_account_key: Some(KEY.into()),
        ..Default::default()
    }
}

fn url(endpoint: &str, container: &str, prefix: &str) -> String {
    format!("azblob://{container}/{prefix}?endpoint={endpoint}")
}

fn dest_at(endpoint: &str, container: &str, prefix: &str) -> Arc<dyn Destination> {
    let u = url(endpoint, container, prefix);
    open(&DestUrl::parse(&u).expect("a valid URL"), &creds()).expect("open the Azure destination")
}

/// The same endpoint through a proxy at `proxy` (Azurite names the account in the path).
fn through(proxy: &Proxy, endpoint: &str) -> String {
    let path = reqwest::Url::parse(endpoint)
        .expect("a URL")
        .path()
        .to_string();
    format!("{}{path}", proxy.endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_azurite() {
    let Some(ep) = azure_endpoint("conformance_against_azurite") else {
        return;
    };
    let container = new_container(&ep, "conformance").await;
    let dest = dest_at(&ep, &container, "zoom/recordings");
    conformance::run_all(dest.as_ref()).await;
    let all = blobs(&ep, &container).await;
    assert!(!all.is_empty());
    for b in &all {
        assert!(
            b.starts_with("zoom/recordings/"),
            "{b} is outside the prefix"
        );
        assert!(
            !b.ends_with(".part") && !b.contains(".zvm-write-probe"),
            "{b} was left behind"
        );
    }
    assert!(
        all.contains(
            &"zoom/recordings/2026/03/2026-03-04 定例会議/録画 – 画面共有.mp4".to_string()
        ),
        "{all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_has_no_name_until_its_block_list_is_committed_and_then_holds_every_byte() {
    let Some(ep) = azure_endpoint("block list") else {
        return;
    };
    let container = new_container(&ep, "blocklist").await;
    let dest = dest_at(&ep, &container, "");
    // Four blocks of 4 MiB (the default) and a tail.
    let data = conformance::pattern(16 * 1024 * 1024 + 4321, 8);
    let mut part = dest.open_partial("m/video.mp4", 0).await.unwrap();
    for c in data.chunks(100_000) {
        part.write_all(c).await.unwrap();
    }
    part.sync().await.unwrap();
    assert_eq!(
        blobs(&ep, &container).await,
        Vec::<String>::new(),
        "blocks already sent must not show under any name"
    );
    assert_eq!(
        part.finalize(data.len() as u64).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(
        blobs(&ep, &container).await,
        vec!["m/video.mp4".to_string()]
    );
    let stored = blob(&ep, &container, "m/video.mp4").await.unwrap();
    assert!(stored == data, "the blob differs from the bytes sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_whose_content_md5_is_not_what_was_sent_is_refused_and_removed() {
    let Some(ep) = azure_endpoint("content-md5 proof") else {
        return;
    };
    let container = new_container(&ep, "md5").await;
    // The real service reports a Content-MD5 for a blob sent in one request, so the proof
    // is in force there: a small file goes through it and is accepted.
    let direct = dest_at(&ep, &container, "p");
    let mut part = direct.open_partial("ok.mp4", 0).await.unwrap();
    part.write_all(b"fine bytes").await.unwrap();
    part.finalize(10).await.unwrap();
    assert_eq!(direct.stat_final("ok.mp4").await.unwrap(), Some(10));

    let proxy = Proxy::start(&origin(&ep), Mode::WrongContentMd5).await;
    let dest = dest_at(&through(&proxy, &ep), &container, "p");
    for size in [1000usize, 9 * 1024 * 1024] {
        let rel = format!("e/{size}.mp4");
        let data = conformance::pattern(size, 3);
        let mut part = dest.open_partial(&rel, 0).await.unwrap();
        part.write_all(&data).await.unwrap();
        match part.finalize(size as u64).await {
            Err(e @ DestError::RemoteMismatch { .. }) => {
                assert!(e.is_transient(), "a mismatch is uploaded again");
                let msg = e.to_string();
                assert!(msg.contains("Content-MD5") && msg.contains(&rel), "{msg}");
            }
            other => panic!("{size} bytes: expected a mismatch, got {other:?}"),
        }
        assert_eq!(
            blob(&ep, &container, &format!("p/{rel}")).await,
            None,
            "an unproven blob must not stay under its final name"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_is_retried_and_the_upload_completes() {
    let Some(ep) = azure_endpoint("busy server") else {
        return;
    };
    let container = new_container(&ep, "busy").await;
    let proxy = Proxy::start(&origin(&ep), Mode::BusyEvery(3)).await;
    let dest = dest_at(&through(&proxy, &ep), &container, "");
    let data = conformance::pattern(21 * 1024 * 1024, 5);
    let mut part = dest.open_partial("busy.mp4", 0).await.unwrap();
    for c in data.chunks(1 << 20) {
        part.write_all(c).await.unwrap();
    }
    part.finalize(data.len() as u64).await.unwrap();
    assert!(
        proxy.refused() >= 2,
        "the proxy refused {}",
        proxy.refused()
    );
    assert!(blob(&ep, &container, "busy.mp4").await.unwrap() == data);
}

#[tokio::test]
async fn names_longer_than_azure_allows_are_refused_with_the_fix() {
    // No server needed: the name is checked before any request.
    let dest = dest_at("http://127.0.0.1:9/devstoreaccount1", "c", "some/prefix");
    let long = format!("{}/x.mp4", "n".repeat(1020));
    match dest.stat_final(&long).await {
        Err(e @ DestError::NameTooLong { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("1024") && msg.contains("azblob://c/some/prefix"),
                "{msg}"
            );
        }
        other => panic!("expected NameTooLong, got {other:?}"),
    }
}

#[test]
fn missing_credentials_are_a_clear_error_and_given_ones_never_show() {
    for var in [
        "AZURE_STORAGE_ACCOUNT",
        "AZURE_STORAGE_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_STORAGE_CONNECTION_STRING",
    ] {
        if std::env::var_os(var).is_some() {
            support::skip_or_fail(&format!("{var} is set in this environment"));
            return;
        }
    }
    let url = DestUrl::parse("azblob://rec/zoom").unwrap();
    let msg = open(&url, &RemoteCredentials::default())
        .err()
        .expect("no credentials")
        .to_string();
    assert!(
        msg.contains("azblob://rec/zoom")
            && msg.contains("AZURE_STORAGE_KEY")
            && msg.contains("AZURE_STORAGE_CONNECTION_STRING"),
        "{msg}"
    );
    // A connection string that cannot be read is reported without its text (it holds the key).
    let bad = RemoteCredentials {
        azure_connection_string: Some("AccountKey=hunter2;nonsense".into()),
        ..Default::default()
    };
    match open(&url, &bad) {
        Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
        Ok(d) => assert!(!d.describe().contains("hunter2")),
    }
    // An account and key are enough: the endpoint is the account's own.
    let ok = open(&url, &creds()).expect("account and key");
    assert_eq!(ok.describe(), "azblob://rec/zoom");
}
