//! The SFTP destination against a real SFTP server (the one `.ci/run` starts, rclone's
//! `serve sftp`, reached through OpenSSH's `ssh` as OpenDAL does): the shared conformance
//! suite of zvm-dest, unchanged, then what only a file service shows: the upload goes to
//! `<name>.part` and takes its name only when complete and checked, and a server `ssh` does
//! not trust is refused with what `ssh` said.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{files_under, sftp_server};
use zvm_dest::{Destination, conformance};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, open};

fn dest_at(url: &str) -> Arc<dyn Destination> {
    open(
        &DestUrl::parse(url).expect("a valid URL"),
        &RemoteCredentials::default(),
    )
    .expect("open the SFTP destination")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_an_sftp_server() {
    let Some(server) = sftp_server("conformance_against_an_sftp_server") else {
        return;
    };
    let (url, dir) = server.new_folder("conformance");
    let dest = dest_at(&format!("{url}/zoom/recordings"));
    conformance::run_all(dest.as_ref()).await;
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
async fn an_upload_goes_to_a_part_file_and_takes_its_name_only_when_complete() {
    let Some(server) = sftp_server("staged upload") else {
        return;
    };
    let (url, dir) = server.new_folder("stream");
    let dest = dest_at(&url);
    let data = conformance::pattern(12 * 1024 * 1024 + 7, 8);
    let mut part = dest.open_partial("m/video.mp4", 0).await.unwrap();
    for c in data.chunks(64 * 1024) {
        part.write_all(c).await.unwrap();
    }
    // The bytes go out as they come (waited for, never timed).
    let mut on_server = 0;
    for _ in 0..600 {
        on_server = std::fs::metadata(dir.join("m/video.mp4.part"))
            .map(|m| m.len())
            .unwrap_or(0);
        if on_server >= 8 * 1024 * 1024 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        on_server >= 8 * 1024 * 1024,
        "only {on_server} bytes reached the server before the upload was closed"
    );
    assert!(
        !dir.join("m/video.mp4").exists(),
        "no final name before finalize"
    );
    part.finalize(data.len() as u64).await.unwrap();
    assert_eq!(files_under(&dir), vec!["m/video.mp4".to_string()]);
    assert!(std::fs::read(dir.join("m/video.mp4")).unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ssh_does_not_trust_is_refused_with_what_ssh_said() {
    let Some(server) = sftp_server("unknown host key") else {
        return;
    };
    // The same server under another name: its key is not in known_hosts for that name.
    let (url, _) = server.new_folder("untrusted");
    let renamed = url.replacen("127.0.0.1", "localhost", 1);
    assert_ne!(renamed, url, "the test server is at 127.0.0.1");
    let dest = dest_at(&renamed);
    let err = dest.check_writable().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("sftp://") && msg.to_lowercase().contains("host key verification failed"),
        "{msg}"
    );
}
