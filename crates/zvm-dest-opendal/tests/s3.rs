//! The S3 destination against a real S3-compatible server (the one `.ci/run` starts): the
//! shared conformance suite of zvm-dest, unchanged, then what only an object store shows:
//! no temporary objects, the proof after the upload, a full bucket, a busy server.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use support::{KEY_ID, Mode, Proxy, SECRET, keys, new_bucket, object, s3_endpoint};
use zvm_dest::{DestError, Destination, conformance};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, S3_DEFAULT_UPLOAD_CONCURRENCY, open};

fn creds() -> RemoteCredentials {
    RemoteCredentials {
        access_key_id: Some(KEY_ID.into()),
        secret_access_key: Some(SECRET.into()),
        ..Default::default()
    }
}

fn dest_at(endpoint: &str, bucket: &str, prefix: &str) -> Arc<dyn Destination> {
    let url = format!("s3://{bucket}/{prefix}?endpoint={endpoint}&region=us-east-1");
    open(&DestUrl::parse(&url).expect("a valid URL"), &creds()).expect("open the S3 destination")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_an_s3_server() {
    let Some(ep) = s3_endpoint("conformance_against_an_s3_server") else {
        return;
    };
    let bucket = new_bucket(&ep, "conformance").await;
    let dest = dest_at(&ep, &bucket, "zoom/recordings");
    conformance::run_all(dest.as_ref()).await;
    // Everything the suite finalized is under the prefix, and no upload left anything else
    // behind: no `.part` objects, no probe objects.
    let all = keys(&ep, &bucket).await;
    assert!(!all.is_empty());
    for k in &all {
        assert!(
            k.starts_with("zoom/recordings/"),
            "{k} is outside the prefix"
        );
        assert!(
            !k.ends_with(".part") && !k.contains(".zvm-write-probe"),
            "{k} was left behind"
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
async fn a_file_has_no_key_until_its_upload_completes_and_then_holds_every_byte() {
    let Some(ep) = s3_endpoint("final key") else {
        return;
    };
    let bucket = new_bucket(&ep, "finalkey").await;
    let dest = dest_at(&ep, &bucket, "");
    // Three parts' worth (5 MiB each, the default) and a tail: a multipart upload.
    let data = conformance::pattern(16 * 1024 * 1024 + 4321, 8);
    let mut part = dest.open_partial("m/video.mp4", 0).await.unwrap();
    for c in data.chunks(100_000) {
        part.write_all(c).await.unwrap();
    }
    part.sync().await.unwrap();
    assert_eq!(
        keys(&ep, &bucket).await,
        Vec::<String>::new(),
        "parts already sent must not show under any key"
    );
    assert_eq!(
        part.finalize(data.len() as u64).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(keys(&ep, &bucket).await, vec!["m/video.mp4".to_string()]);
    let stored = object(&ep, &bucket, "m/video.mp4").await.unwrap();
    assert!(stored == data, "the object differs from the bytes sent");
}

/// Waits until the proxy holds `n` parts unanswered, then gives the writers time to take
/// whatever more they would (a slower machine can only make them take less, never more).
/// The deadline is only against a hang: the parts arrive as fast as the machine allows.
async fn await_parts_held(proxy: &Proxy, n: u64) {
    let began = Instant::now();
    while proxy.parts_held() < n {
        assert!(
            began.elapsed() < Duration::from_secs(300),
            "the service never held {n} parts (holds {})",
            proxy.parts_held()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
}

/// What one upload holds in memory is its parts, whatever the file's size: while the service
/// answers no part, the writer takes no more bytes once `upload_concurrency` parts are in
/// flight, one is kept back by OpenDAL's multipart writer and one more has been filled. (At
/// `-j 8` that is what bounds zvm's peak RSS with 10 GiB recordings; BENCHMARKS.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_holds_at_most_its_parts_in_flight_and_two_more_whatever_the_file_size() {
    let Some(ep) = s3_endpoint("bounded upload") else {
        return;
    };
    const PART: u64 = 5 << 20;
    // Far more than the bound: a writer that kept taking bytes would go on to the end.
    const SIZE: u64 = 14 * PART;
    for concurrency in [S3_DEFAULT_UPLOAD_CONCURRENCY, 3] {
        let bucket = new_bucket(&ep, "bounded").await;
        let proxy = Proxy::start(&ep, Mode::HoldParts).await;
        let url = format!(
            "s3://{bucket}/b?endpoint={}&region=us-east-1&part_size=5MiB&upload_concurrency={concurrency}",
            proxy.endpoint
        );
        let dest = open(&DestUrl::parse(&url).unwrap(), &creds()).unwrap();
        let accepted = Arc::new(AtomicU64::new(0));
        let writer = tokio::spawn({
            let (dest, accepted) = (dest.clone(), accepted.clone());
            async move {
                let mut part = dest.open_partial("big.mp4", 0).await.unwrap();
                let chunk = Bytes::from(vec![7u8; 256 << 10]);
                while accepted.load(Ordering::Acquire) < SIZE {
                    part.write_bytes(chunk.clone()).await.unwrap();
                    accepted.fetch_add(chunk.len() as u64, Ordering::AcqRel);
                }
                part.finalize(SIZE).await.unwrap()
            }
        });
        await_parts_held(&proxy, concurrency as u64).await;
        let taken = accepted.load(Ordering::Acquire);
        let bound = (concurrency as u64 + 2) * PART;
        assert!(
            taken <= bound,
            "with upload_concurrency={concurrency} the writer took {taken} bytes while the service answered no part; at most {bound} may be held"
        );
        assert_eq!(
            proxy.most_parts_held(),
            concurrency as u64,
            "parts in flight at once"
        );
        proxy.release_parts();
        assert_eq!(writer.await.unwrap(), SIZE);
        assert_eq!(dest.stat_final("big.mp4").await.unwrap(), Some(SIZE));
    }
}

/// Files uploaded at once share one budget for the parts they send in the background
/// (`upload_memory`): once it is spent, a file sends the part it filled and waits, instead of
/// filling another. So with every part unanswered, the files together take no more than one
/// part each plus the budget (at `-j 8` this is what keeps peak RSS under its target).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_at_once_hold_one_part_each_and_the_shared_budget_no_more() {
    let Some(ep) = s3_endpoint("shared upload budget") else {
        return;
    };
    const PART: u64 = 5 << 20;
    const SIZE: u64 = 6 * PART;
    const FILES: u64 = 4;
    const BUDGET: u64 = PART;
    let bucket = new_bucket(&ep, "budget").await;
    let proxy = Proxy::start(&ep, Mode::HoldParts).await;
    let url = format!(
        "s3://{bucket}/m?endpoint={}&region=us-east-1&part_size=5MiB&upload_cutoff=0&upload_memory={BUDGET}",
        proxy.endpoint
    );
    let dest = open(&DestUrl::parse(&url).unwrap(), &creds()).unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..FILES)
        .map(|i| {
            let (dest, accepted) = (dest.clone(), accepted.clone());
            tokio::spawn(async move {
                let name = format!("f{i}.mp4");
                let mut part = dest.open_partial(&name, 0).await.unwrap();
                let chunk = Bytes::from(vec![i as u8; 256 << 10]);
                let mut mine = 0;
                while mine < SIZE {
                    part.write_bytes(chunk.clone()).await.unwrap();
                    mine += chunk.len() as u64;
                    accepted.fetch_add(chunk.len() as u64, Ordering::AcqRel);
                }
                part.finalize(SIZE).await.unwrap()
            })
        })
        .collect();
    // Every file has a part at the service once each has filled one (in the background or
    // waiting for its answer).
    await_parts_held(&proxy, FILES).await;
    let taken = accepted.load(Ordering::Acquire);
    let bound = FILES * PART + BUDGET;
    assert!(
        taken <= bound,
        "{FILES} uploads with upload_memory={BUDGET} took {taken} bytes while the service answered no part; at most {bound} may be held"
    );
    proxy.release_parts();
    for w in writers {
        assert_eq!(w.await.unwrap(), SIZE);
    }
    for i in 0..FILES {
        let name = format!("f{i}.mp4");
        assert_eq!(dest.stat_final(&name).await.unwrap(), Some(SIZE), "{name}");
        let back = dest.read_final(&name, SIZE).await.unwrap();
        assert!(
            back.iter().all(|b| *b == i as u8),
            "{name}: not the bytes sent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_whose_etag_is_not_what_was_sent_is_refused_and_removed() {
    let Some(ep) = s3_endpoint("etag proof") else {
        return;
    };
    let bucket = new_bucket(&ep, "etag").await;
    let proxy = Proxy::start(&ep, Mode::WrongEtag).await;
    let dest = dest_at(&proxy.endpoint, &bucket, "p");
    for size in [1000usize, 11 * 1024 * 1024] {
        let rel = format!("e/{size}.mp4");
        let data = conformance::pattern(size, 3);
        let mut part = dest.open_partial(&rel, 0).await.unwrap();
        part.write_all(&data).await.unwrap();
        match part.finalize(size as u64).await {
            Err(e @ DestError::RemoteMismatch { .. }) => {
                assert!(e.is_transient(), "a mismatch is uploaded again");
                let msg = e.to_string();
                assert!(msg.contains("ETag") && msg.contains(&rel), "{msg}");
            }
            other => panic!("{size} bytes: expected a mismatch, got {other:?}"),
        }
        assert_eq!(
            dest.stat_final(&rel).await.unwrap(),
            None,
            "an unproven object must not stay under its final name"
        );
    }
    // The same uploads with the proof left off (SSE-KMS buckets) are accepted.
    let lenient = open(
        &DestUrl::parse(&format!(
            "s3://{bucket}/p?endpoint={}&verify_etag=false",
            proxy.endpoint
        ))
        .unwrap(),
        &creds(),
    )
    .unwrap();
    let mut part = lenient.open_partial("e/ok.mp4", 0).await.unwrap();
    part.write_all(b"fine").await.unwrap();
    part.finalize(4).await.unwrap();
    assert_eq!(lenient.stat_final("e/ok.mp4").await.unwrap(), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bucket_stops_the_run_with_a_clear_error_and_leaves_no_object() {
    let Some(ep) = s3_endpoint("full bucket") else {
        return;
    };
    let bucket = new_bucket(&ep, "full").await;
    let proxy = Proxy::start(&ep, Mode::Pass).await;
    let dest = dest_at(&proxy.endpoint, &bucket, "zoom");
    dest.check_writable().await.unwrap();
    proxy.set_mode(Mode::FullAfter(0));
    let data = conformance::pattern(12 * 1024 * 1024, 4);
    let mut part = dest.open_partial("full/video.mp4", 0).await.unwrap();
    let mut failed = None;
    for c in data.chunks(256 * 1024) {
        if let Err(e) = part.write_all(c).await {
            failed = Some(e);
            break;
        }
    }
    let err = match failed {
        Some(e) => e,
        None => part.finalize(data.len() as u64).await.unwrap_err(),
    };
    assert!(
        matches!(err, DestError::RemoteFull { .. }),
        "expected RemoteFull, got {err:?}"
    );
    assert!(err.is_destination_fatal(), "a full bucket stops the run");
    let msg = err.to_string();
    assert!(
        msg.contains("s3://") && msg.contains("full/video.mp4") && msg.contains("raise the quota"),
        "{msg}"
    );
    assert!(!msg.contains(SECRET) && !msg.contains(KEY_ID), "{msg}");
    assert_eq!(keys(&ep, &bucket).await, Vec::<String>::new());
    assert_eq!(
        dest.partial_len("full/video.mp4").await.unwrap(),
        None,
        "a failed upload is forgotten: the next attempt starts over"
    );
}

/// A file whose size is known and at most the cutoff goes up in ONE PUT (rclone's way: it
/// costs the service less than multipart), streamed: nothing shows under its key until the
/// body is complete, and the proof (size and ETag, the plain MD5 here) is read back as for
/// multipart. Above the cutoff, or with `upload_cutoff=0`, the same file goes multipart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_up_to_the_cutoff_goes_up_in_one_streamed_put_with_the_same_proof() {
    let Some(ep) = s3_endpoint("single put") else {
        return;
    };
    // More than two default parts: one request where multipart would send five.
    let data = conformance::pattern(11 * 1024 * 1024 + 17, 6);
    let size = data.len() as u64;
    for (query, requests_at_most) in [
        ("", 1),
        ("&upload_cutoff=0", u64::MAX),
        ("&upload_cutoff=10MiB", u64::MAX),
    ] {
        let bucket = new_bucket(&ep, "single").await;
        let proxy = Proxy::start(&ep, Mode::Pass).await;
        let url = format!(
            "s3://{bucket}/s?endpoint={}&region=us-east-1{query}",
            proxy.endpoint
        );
        let dest = open(&DestUrl::parse(&url).unwrap(), &creds()).unwrap();
        let mut part = dest.open_partial_sized("v.mp4", 0, size).await.unwrap();
        // All but the last bytes: a single PUT's body ends with its Content-Length, so the
        // object may appear as soon as the last byte is sent (complete, before the proof).
        let (most, tail) = data.split_at(data.len() - 17);
        for c in most.chunks(100_000) {
            part.write_all(c).await.unwrap();
        }
        assert_eq!(
            keys(&ep, &bucket).await,
            Vec::<String>::new(),
            "{query}: nothing under any key before the upload completes"
        );
        part.write_all(tail).await.unwrap();
        assert_eq!(part.finalize(size).await.unwrap(), size);
        let stored = object(&ep, &bucket, "s/v.mp4").await.unwrap();
        assert!(
            stored == data,
            "{query}: the object differs from the bytes sent"
        );
        if requests_at_most == 1 {
            assert_eq!(proxy.uploads(), 1, "one PUT, not a multipart upload");
        } else {
            assert!(
                proxy.uploads() >= 4,
                "{query}: a multipart upload ({} requests)",
                proxy.uploads()
            );
        }
    }

    // The proof is the same: an ETag that is not the MD5 of the bytes sent is refused and
    // the object removed.
    let bucket = new_bucket(&ep, "single-etag").await;
    let proxy = Proxy::start(&ep, Mode::WrongEtag).await;
    let dest = dest_at(&proxy.endpoint, &bucket, "p");
    let mut part = dest.open_partial_sized("e.mp4", 0, size).await.unwrap();
    part.write_all(&data).await.unwrap();
    match part.finalize(size).await {
        Err(e @ DestError::RemoteMismatch { .. }) => assert!(e.to_string().contains("ETag"), "{e}"),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert_eq!(proxy.uploads(), 1, "one PUT");
    assert_eq!(dest.stat_final("e.mp4").await.unwrap(), None);
}

/// A single PUT broken off within a run goes on from where its writer stopped (the request
/// waits for the rest of its body); given up, it leaves nothing in the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_put_resumes_within_the_run_and_an_abandoned_one_leaves_nothing() {
    let Some(ep) = s3_endpoint("single put resume") else {
        return;
    };
    let bucket = new_bucket(&ep, "single-resume").await;
    let dest = dest_at(&ep, &bucket, "");
    let data = conformance::pattern(3 * 1024 * 1024, 2);
    let size = data.len() as u64;
    let mut part = dest.open_partial_sized("r.mp4", 0, size).await.unwrap();
    part.write_all(&data[..1_000_000]).await.unwrap();
    drop(part);
    assert_eq!(dest.partial_len("r.mp4").await.unwrap(), Some(1_000_000));
    let mut part = dest
        .open_partial_sized("r.mp4", 1_000_000, size)
        .await
        .unwrap();
    part.write_all(&data[1_000_000..]).await.unwrap();
    assert_eq!(part.finalize(size).await.unwrap(), size);
    // Read back through the destination (moto refuses unsigned reads of private objects).
    assert!(dest.read_final("r.mp4", size).await.unwrap() == data);

    let mut part = dest.open_partial_sized("gone.mp4", 0, size).await.unwrap();
    part.write_all(&data[..2_000_000]).await.unwrap();
    drop(part);
    dest.remove_partial("gone.mp4").await.unwrap();
    assert_eq!(dest.partial_len("gone.mp4").await.unwrap(), None);
    assert_eq!(keys(&ep, &bucket).await, vec!["r.mp4".to_string()]);
}

/// A multipart upload a killed process left (nothing aborted, nothing completed) is taken
/// over by the next process: it reports the bytes of the stored parts, goes on after them,
/// and the object completes with every byte and its multipart ETag proven. An older
/// leftover of the same key (a run killed earlier) is aborted, so nothing of either upload
/// stays behind for the service to bill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_left_by_a_killed_process_is_taken_over_by_the_next() {
    let Some(ep) = s3_endpoint("multipart take-over") else {
        return;
    };
    let bucket = new_bucket(&ep, "takeover").await;
    let url = format!("s3://{bucket}/zoom?endpoint={ep}&region=us-east-1&upload_cutoff=0");
    let open_dest = || open(&DestUrl::parse(&url).unwrap(), &creds()).unwrap();
    const MIB: usize = 1 << 20;
    let data = conformance::pattern(23 * MIB + 7, 9);
    let size = data.len() as u64;
    let rel = "2026/会議 1/video.mp4";
    // Two processes killed mid-upload: the first after one 5 MiB part, the second after
    // two (a part goes out once the bytes after it arrive; `sync` waits for it). The
    // second looked for leftovers before the first began (two runs at once), so it did
    // not abort the first's upload: both are left.
    let (first, second) = (open_dest(), open_dest());
    assert_eq!(second.partial_len(rel).await.unwrap(), None);
    for (d, sent) in [(first, 6 * MIB), (second, 12 * MIB)] {
        let mut p = d.open_partial_sized(rel, 0, size).await.unwrap();
        p.write_all(&data[..sent]).await.unwrap();
        p.sync().await.unwrap();
        // Killed: neither parked, aborted nor completed.
        std::mem::forget(p);
        std::mem::forget(d);
    }
    assert_eq!(keys(&ep, &bucket).await, Vec::<String>::new());

    let d = open_dest();
    let have = d.partial_len(rel).await.unwrap();
    assert_eq!(have, Some(10 * MIB as u64), "the longer upload's two parts");
    let mut p = d
        .open_partial_sized(rel, 10 * MIB as u64, size)
        .await
        .unwrap();
    p.write_all(&data[10 * MIB..]).await.unwrap();
    assert_eq!(p.finalize(size).await.unwrap(), size);
    assert!(d.read_final(rel, size).await.unwrap() == data);
    assert_eq!(keys(&ep, &bucket).await, vec![format!("zoom/{rel}")]);
    // Neither upload is left: a further process finds nothing to take over.
    assert_eq!(open_dest().partial_len(rel).await.unwrap(), None);

    // A file that starts over drops what an earlier process left of it.
    let d = open_dest();
    let mut p = d.open_partial_sized("again.mp4", 0, size).await.unwrap();
    p.write_all(&data[..6 * MIB]).await.unwrap();
    p.sync().await.unwrap();
    std::mem::forget(p);
    std::mem::forget(d);
    let d = open_dest();
    let mut p = d.open_partial_sized("again.mp4", 0, size).await.unwrap();
    p.write_all(&data).await.unwrap();
    assert_eq!(p.finalize(size).await.unwrap(), size);
    assert_eq!(open_dest().partial_len("again.mp4").await.unwrap(), None);
}

/// A full bucket refusing a single PUT is the same clear, run-stopping error as for
/// multipart, and it names no part of the presigned URL (its signature and key id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bucket_refusing_a_single_put_is_a_clear_error_without_the_signed_url() {
    let Some(ep) = s3_endpoint("single put full") else {
        return;
    };
    let bucket = new_bucket(&ep, "single-full").await;
    let proxy = Proxy::start(&ep, Mode::FullAfter(0)).await;
    let dest = dest_at(&proxy.endpoint, &bucket, "zoom");
    let data = conformance::pattern(2 * 1024 * 1024, 4);
    let mut part = dest
        .open_partial_sized("full/one.mp4", 0, data.len() as u64)
        .await
        .unwrap();
    let err = match part.write_all(&data).await {
        Err(e) => e,
        Ok(()) => part.finalize(data.len() as u64).await.unwrap_err(),
    };
    assert!(
        matches!(err, DestError::RemoteFull { .. }),
        "expected RemoteFull, got {err:?}"
    );
    assert!(err.is_destination_fatal(), "a full bucket stops the run");
    let msg = format!("{err} {err:?}");
    assert!(
        msg.contains("s3://") && msg.contains("full/one.mp4"),
        "{msg}"
    );
    for secret in [
        SECRET,
        KEY_ID,
        "X-Amz-Signature",
        "X-Amz-Credential",
        "Signature=",
    ] {
        assert!(!msg.contains(secret), "{secret} in {msg}");
    }
    assert_eq!(proxy.uploads(), 1, "one PUT");
    assert_eq!(keys(&ep, &bucket).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_is_retried_and_the_upload_completes() {
    let Some(ep) = s3_endpoint("busy server") else {
        return;
    };
    let bucket = new_bucket(&ep, "busy").await;
    let proxy = Proxy::start(&ep, Mode::BusyEvery(3)).await;
    let dest = dest_at(&proxy.endpoint, &bucket, "");
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
    assert!(object(&ep, &bucket, "busy.mp4").await.unwrap() == data);
}

#[tokio::test]
async fn keys_longer_than_s3_allows_are_refused_with_the_fix() {
    // No server needed: the name is checked before any request.
    let url = "s3://b/some/prefix?endpoint=http://127.0.0.1:9&region=x";
    let dest = open(&DestUrl::parse(url).unwrap(), &creds()).unwrap();
    let long = format!("{}/x.mp4", "n".repeat(1020));
    match dest.stat_final(&long).await {
        Err(e @ DestError::NameTooLong { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("1024") && msg.contains("shorter naming template"),
                "{msg}"
            );
        }
        other => panic!("expected NameTooLong, got {other:?}"),
    }
    // Just under the limit with the prefix ("some/prefix/" is 12 bytes) is fine to ask for.
    let fits = "n".repeat(1024 - 12);
    assert!(!matches!(
        dest.partial_len(&fits).await,
        Err(DestError::NameTooLong { .. })
    ));
}

#[test]
fn missing_credentials_and_region_are_clear_errors() {
    // Run with the variables cleared in a child process would be cleaner; here the
    // config-file credentials are empty and the URL names an endpoint, so only the
    // environment could supply keys.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() || std::env::var_os("AWS_PROFILE").is_some()
    {
        support::skip_or_fail("AWS credentials are set in this environment");
        return;
    }
    let url = DestUrl::parse("s3://bucket/p?endpoint=http://127.0.0.1:9").unwrap();
    let msg = open(&url, &RemoteCredentials::default())
        .err()
        .expect("no credentials")
        .to_string();
    assert!(
        msg.contains("s3://bucket/p") && msg.contains("AWS_ACCESS_KEY_ID"),
        "{msg}"
    );

    // Keys but no region anywhere (AWS itself, no endpoint): every place to give one is named.
    if std::env::var_os("AWS_REGION").is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        support::skip_or_fail("AWS_REGION or AWS_ENDPOINT_URL is set in this environment");
        return;
    }
    let keys = RemoteCredentials {
        access_key_id: Some("AKIAEXAMPLE".into()),
        secret_access_key: Some("secret-example".into()),
        ..Default::default()
    };
    let msg = open(&DestUrl::parse("s3://bucket/p").unwrap(), &keys)
        .err()
        .expect("no region")
        .to_string();
    for want in ["s3://bucket/p", "?region=", "[remote.s3]", "AWS_REGION"] {
        assert!(msg.contains(want), "{want:?} missing from: {msg}");
    }
    assert!(!msg.contains("secret-example"), "{msg}");
}
