//! OneDrive's upload (zvm's own upload session, src/onedrive_upload.rs) against a fake of
//! Microsoft Graph's documented protocol over loopback (tests/support/fake_onedrive.rs):
//! the bytes stored are the source's, chunks are multiples of 320 KiB that start where the
//! session stands, one chunk at most is held, no token goes to the upload URL, faults are
//! got over (a 503, a lost answer, a chunk taken in part, a token revoked, a session
//! forgotten before anything was stored, the last answer lost), what cannot be got over is
//! an error that names no token and no upload URL. Never run against Microsoft itself.

#[path = "support/fake_onedrive.rs"]
mod fake_onedrive;

use bytes::Bytes;
use fake_onedrive::{
    CLIENT_ID, CLIENT_SECRET, FakeOnedrive, Faults, REFRESH_TOKEN, SECRET_MARK, UNIT, sha256,
};
use zvm_dest_opendal::drive::DriveAuth;
use zvm_dest_opendal::drive_testing::{Endpoints, TestDrive, TestUpload, drive};

const CHUNK: usize = 2 * UNIT;

fn refresh() -> DriveAuth {
    DriveAuth::Refresh {
        refresh_token: REFRESH_TOKEN.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    }
}

fn onedrive(fake: &FakeOnedrive, auth: DriveAuth) -> TestDrive {
    drive(
        "onedrive://Zoom/Rec",
        Endpoints {
            api: fake.base.clone(),
            upload: fake.base.clone(),
            token: format!("{}/token", fake.base),
        },
        auth,
        CHUNK,
    )
    .expect("a drive")
}

fn source(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

async fn send(d: &TestDrive, path: &str, data: &[u8]) -> Result<TestUpload, String> {
    let mut up = d.start(path, Some(data.len() as u64)).await?;
    for piece in data.chunks(100_003) {
        up.write(Bytes::copy_from_slice(piece)).await?;
    }
    up.close().await?;
    Ok(up)
}

async fn upload(
    fake: &FakeOnedrive,
    auth: DriveAuth,
    path: &str,
    data: &[u8],
) -> Result<TestUpload, String> {
    send(&onedrive(fake, auth), path, data).await
}

fn assert_clean(text: &str) {
    assert!(
        !text.contains(SECRET_MARK) && !text.contains("/up/") && !text.contains("http"),
        "a token or an upload URL in: {text}"
    );
}

fn assert_no_violations(fake: &FakeOnedrive) {
    let v = fake.lock().violations.clone();
    assert!(v.is_empty(), "the protocol's rules were broken: {v:?}");
}

fn stored(fake: &FakeOnedrive, path: &str) -> Option<Vec<u8>> {
    fake.lock()
        .items
        .get(path)
        .filter(|i| !i.folder)
        .map(|i| i.bytes.clone())
}

#[tokio::test]
async fn a_file_streams_in_aligned_chunks_into_its_folders_and_is_stored_whole() {
    let fake = FakeOnedrive::start().await;
    let d = onedrive(&fake, refresh());
    let data = source(5 * UNIT + 12_345);
    let up = send(&d, "2026/03 März/a b#c.mp4", &data)
        .await
        .expect("stored");
    assert_no_violations(&fake);
    let got = stored(&fake, "Zoom/Rec/2026/03 März/a b#c.mp4").expect("the file");
    assert_eq!(sha256(&got), sha256(&data));
    assert!(up.peak_buffered() <= CHUNK && up.peak_buffered() > 0);
    assert!(fake.lock().longest_put <= CHUNK);
    assert_eq!(fake.lock().chunk_puts, 3);
    assert_eq!(fake.lock().folders_created, 4);
    // Folders are remembered: the next file of the folder looks nothing up.
    let lookups = fake.lock().lookups;
    send(&d, "2026/03 März/b.mp4", &source(10))
        .await
        .expect("stored");
    assert_eq!(fake.lock().lookups, lookups);
    assert_eq!(fake.lock().refreshes, 1);
    // A file whose size is a multiple of the chunk: its last chunk is full.
    let whole = source(2 * CHUNK);
    send(&d, "c.mp4", &whole).await.expect("stored");
    assert_eq!(stored(&fake, "Zoom/Rec/c.mp4").expect("c"), whole);
    assert_no_violations(&fake);
}

#[tokio::test]
async fn an_existing_file_is_replaced_and_an_empty_file_is_stored() {
    let fake = FakeOnedrive::start().await;
    {
        let mut f = fake.lock();
        f.seed("Zoom", true, b"");
        f.seed("Zoom/Rec", true, b"");
        f.seed("Zoom/Rec/a.mp4", false, b"old");
    }
    let data = source(3 * UNIT);
    upload(&fake, refresh(), "a.mp4", &data)
        .await
        .expect("stored");
    upload(&fake, refresh(), "empty.txt", b"")
        .await
        .expect("stored");
    assert_no_violations(&fake);
    assert_eq!(fake.lock().folders_created, 0);
    assert_eq!(stored(&fake, "Zoom/Rec/a.mp4").expect("a"), data);
    assert_eq!(stored(&fake, "Zoom/Rec/empty.txt").expect("empty"), b"");
}

#[tokio::test]
async fn a_503_a_lost_answer_a_chunk_taken_in_part_and_a_revoked_token_are_got_over() {
    for (what, faults) in [
        (
            "a 503 mid-upload",
            Faults {
                fail_chunk: Some(2),
                ..Default::default()
            },
        ),
        (
            "a lost answer mid-upload",
            Faults {
                lose_answer_of_chunk: Some(2),
                ..Default::default()
            },
        ),
        (
            "the last chunk's answer lost",
            Faults {
                lose_answer_of_chunk: Some(4),
                ..Default::default()
            },
        ),
        (
            "a chunk taken in part",
            Faults {
                partial_chunk: Some(2),
                ..Default::default()
            },
        ),
        (
            "the access token revoked mid-upload",
            Faults {
                revoke_token_at_chunk: Some(3),
                ..Default::default()
            },
        ),
        (
            "the session forgotten before it held anything",
            Faults {
                expire_sessions_at_chunk: Some(1),
                ..Default::default()
            },
        ),
    ] {
        let fake = FakeOnedrive::start().await;
        fake.lock().faults = faults;
        let d = onedrive(&fake, refresh());
        let data = source(6 * UNIT + 99);
        let up = send(&d, "f.mp4", &data)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_no_violations(&fake);
        let got = stored(&fake, "Zoom/Rec/f.mp4").expect("the file");
        assert_eq!(sha256(&got), sha256(&data), "{what}");
        assert!(up.peak_buffered() <= CHUNK, "{what}");
        if what.contains("revoked") {
            // The upload URL needs no token; the next Graph request renews it.
            send(&d, "g.mp4", b"abc").await.expect("stored");
            assert_eq!(fake.lock().refreshes, 2, "{what}: renewed once");
        }
    }
}

#[tokio::test]
async fn a_session_forgotten_mid_file_fails_the_upload_and_the_file_starts_over() {
    let fake = FakeOnedrive::start().await;
    fake.lock().faults.expire_sessions_at_chunk = Some(2);
    let data = source(4 * UNIT + 1);
    let e = upload(&fake, refresh(), "f.mp4", &data)
        .await
        .err()
        .expect("refused");
    assert!(e.contains("forgot the upload session"), "{e}");
    assert_clean(&e);
    assert!(stored(&fake, "Zoom/Rec/f.mp4").is_none());
    fake.lock().faults = Faults::default();
    upload(&fake, refresh(), "f.mp4", &data)
        .await
        .expect("stored");
    assert_eq!(stored(&fake, "Zoom/Rec/f.mp4").expect("f"), data);
}

#[tokio::test]
async fn a_service_that_stops_answering_fails_the_upload_without_the_upload_url() {
    let fake = FakeOnedrive::start().await;
    fake.lock().faults.lose_all_answers_from = Some(2);
    let e = upload(&fake, refresh(), "f.mp4", &source(6 * UNIT))
        .await
        .err()
        .expect("failed");
    assert!(e.contains("OneDrive"), "{e}");
    assert_clean(&e);
}

#[tokio::test]
async fn a_wrong_quickxorhash_is_a_mismatch_and_the_stored_file_is_removed() {
    let fake = FakeOnedrive::start().await;
    fake.lock().faults.wrong_hash = true;
    let d = onedrive(&fake, refresh());
    let data = source(UNIT + 5);
    let mut up = d
        .start("f.mp4", Some(data.len() as u64))
        .await
        .expect("started");
    up.write(Bytes::from(data)).await.expect("written");
    let e = up.close().await.expect_err("a mismatch");
    assert!(
        e.contains("differs from what was sent") && e.contains("quickXorHash"),
        "{e}"
    );
    assert_clean(&e);
    up.abort().await;
    assert!(stored(&fake, "Zoom/Rec/f.mp4").is_none());
}

#[tokio::test]
async fn a_refused_token_is_an_error_without_the_token_and_the_size_is_needed() {
    let fake = FakeOnedrive::start().await;
    let e = upload(
        &fake,
        DriveAuth::AccessToken(format!("access-{SECRET_MARK}-1")),
        "f.mp4",
        b"abc",
    )
    .await
    .err()
    .expect("refused");
    assert!(e.contains("access token was refused"), "{e}");
    assert_clean(&e);
    let e = upload(
        &fake,
        DriveAuth::Refresh {
            refresh_token: format!("refresh-{SECRET_MARK}-revoked"),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        },
        "f.mp4",
        b"abc",
    )
    .await
    .err()
    .expect("refused");
    assert!(
        e.contains("invalid_grant") && e.contains("authorise zvm again"),
        "{e}"
    );
    assert_clean(&e);
    let e = onedrive(&fake, refresh())
        .start("f.mp4", None)
        .await
        .err()
        .expect("refused");
    assert!(e.contains("size in advance"), "{e}");
}
