//! The WebDAV destination against a real WebDAV server (the one `.ci/run` starts, rclone's
//! `serve webdav`): the shared conformance suite of zvm-dest, unchanged, then what only a
//! file service shows: the upload streams into `<name>.part` (nothing under the final name
//! until it is complete and checked), a full server, a refused login, plain HTTP refused
//! beyond this machine.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{Mode, Proxy, WEBDAV_PASSWORD, WEBDAV_USER, files_under, webdav_server};
use zvm_dest::{DestError, Destination, conformance};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, open};

fn creds() -> RemoteCredentials {
    RemoteCredentials {
        webdav_user: Some(WEBDAV_USER.into()),
        webdav_password: Some(WEBDAV_PASSWORD.into()),
        ..Default::default()
    }
}

fn dest_at(url: &str) -> Arc<dyn Destination> {
    open(&DestUrl::parse(url).expect("a valid URL"), &creds()).expect("open the WebDAV destination")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_a_webdav_server() {
    let Some(server) = webdav_server("conformance_against_a_webdav_server") else {
        return;
    };
    let (url, dir) = server.new_folder("conformance");
    let dest = dest_at(&format!("{url}/zoom/recordings"));
    conformance::run_all(dest.as_ref()).await;
    // What the suite finalized is there, and nothing else: no `.part`, no write probe.
    let all = files_under(&dir);
    assert!(!all.is_empty());
    for f in &all {
        assert!(
            f.starts_with("zoom/recordings/"),
            "{f} is outside the folder"
        );
        // The suite leaves two uploads unfinished on purpose (a refused resume, a size
        // mismatch), as it leaves their `.part` on a local disk; any other is a leftover.
        let unfinished = ["beyond/x.bin.part", "mismatch/short.mp4.part"];
        assert!(
            (!f.ends_with(".part") || unfinished.iter().any(|u| f.ends_with(u)))
                && !f.contains(".zvm-write-probe"),
            "{f} was left behind"
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
async fn an_upload_streams_into_a_part_file_and_takes_its_name_only_when_complete() {
    let Some(server) = webdav_server("streaming upload") else {
        return;
    };
    let (url, dir) = server.new_folder("stream");
    let dest = dest_at(&url);
    let data = conformance::pattern(24 * 1024 * 1024 + 99, 8);
    let part_file = dir.join("m/video.mp4.part");
    let mut part = dest.open_partial("m/video.mp4", 0).await.unwrap();
    for c in data.chunks(64 * 1024) {
        part.write_all(c).await.unwrap();
    }
    // The bytes reach the server while the upload is open (a writer that held the file in
    // memory until the end would show nothing here). A lower bound only, however slow the
    // machine: waited for, not timed.
    let mut on_server = 0;
    for _ in 0..600 {
        on_server = std::fs::metadata(&part_file).map(|m| m.len()).unwrap_or(0);
        if on_server >= 16 * 1024 * 1024 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        on_server >= 16 * 1024 * 1024,
        "only {on_server} bytes reached the server before the upload was closed"
    );
    assert!(
        !dir.join("m/video.mp4").exists(),
        "nothing under the final name before finalize"
    );
    assert_eq!(
        part.finalize(data.len() as u64).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(files_under(&dir), vec!["m/video.mp4".to_string()]);
    assert!(std::fs::read(dir.join("m/video.mp4")).unwrap() == data);
    // And over HTTP, as any client of the server sees it.
    let got = support::client()
        .get(format!(
            "{}/m/video.mp4",
            url.replacen("webdav://", "http://", 1)
        ))
        .basic_auth(WEBDAV_USER, Some(WEBDAV_PASSWORD))
        .send()
        .await
        .unwrap();
    assert!(got.status().is_success(), "{}", got.status());
    assert!(got.bytes().await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_upload_leaves_no_file() {
    let Some(server) = webdav_server("abandoned upload") else {
        return;
    };
    let (url, dir) = server.new_folder("abandon");
    let dest = dest_at(&url);
    let mut part = dest.open_partial("a/x.mp4", 0).await.unwrap();
    part.write_all(&conformance::pattern(3 << 20, 1))
        .await
        .unwrap();
    drop(part);
    dest.remove_partial("a/x.mp4").await.unwrap();
    // The request is broken off, not completed, and its `.part` removed.
    for _ in 0..100 {
        if files_under(&dir).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(files_under(&dir), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_stops_the_run_with_a_clear_error_and_leaves_no_file() {
    let Some(server) = webdav_server("full server") else {
        return;
    };
    let (url, dir) = server.new_folder("full");
    let upstream = server.url.replacen("webdav://", "http://", 1);
    let proxy = Proxy::start(&upstream, Mode::Pass).await;
    let via_proxy = url.replacen(
        server.url.as_str(),
        &proxy.endpoint.replacen("http://", "webdav://", 1),
        1,
    );
    let dest = dest_at(&via_proxy);
    dest.check_writable().await.unwrap();
    proxy.set_mode(Mode::FullAfter(0));
    let mut part = dest.open_partial("full/video.mp4", 0).await.unwrap();
    let mut failed = None;
    for c in conformance::pattern(4 << 20, 4).chunks(256 * 1024) {
        if let Err(e) = part.write_all(c).await {
            failed = Some(e);
            break;
        }
    }
    let err = match failed {
        Some(e) => e,
        None => part.finalize(4 << 20).await.unwrap_err(),
    };
    assert!(
        matches!(err, DestError::RemoteFull { .. }),
        "expected RemoteFull, got {err:?}"
    );
    assert!(err.is_destination_fatal(), "a full server stops the run");
    let msg = err.to_string();
    assert!(
        msg.contains("webdav://")
            && msg.contains("full/video.mp4")
            && msg.contains("raise the quota"),
        "{msg}"
    );
    assert!(!msg.contains(WEBDAV_PASSWORD), "{msg}");
    assert_eq!(files_under(&dir), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_clear_refusal() {
    let Some(server) = webdav_server("wrong password") else {
        return;
    };
    let (url, _) = server.new_folder("denied");
    let wrong = RemoteCredentials {
        webdav_user: Some(WEBDAV_USER.into()),
        webdav_password: Some("not-the-password".into()),
        ..Default::default()
    };
    let dest = open(&DestUrl::parse(&url).unwrap(), &wrong).unwrap();
    let err = dest.check_writable().await.unwrap_err();
    assert!(
        matches!(err, DestError::RemoteDenied { .. }) && err.is_destination_fatal(),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("check that the credentials"), "{msg}");
    assert!(!msg.contains("not-the-password"), "{msg}");
}
