//! Google Drive's upload (zvm's own resumable upload, src/gdrive_upload.rs) against a fake
//! of Drive's documented protocol over loopback (tests/support/fake_gdrive.rs): the bytes
//! stored are the source's, chunks are aligned and start where the service stands, one
//! chunk at most is held, faults are got over (a 503, a lost answer, a chunk taken in part,
//! a token revoked, a session forgotten before anything was stored), what cannot be got
//! over is an error that names no token and no session URL (a session forgotten mid-file, a
//! wrong MD5, a refused access token). Never run against Google itself.

#[path = "support/fake_gdrive.rs"]
mod fake_gdrive;

use bytes::Bytes;
use fake_gdrive::{
    CLIENT_ID, CLIENT_SECRET, FakeDrive, Faults, REFRESH_TOKEN, SECRET_MARK, UNIT, sha256,
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

fn endpoints(fake: &FakeDrive) -> Endpoints {
    Endpoints {
        api: fake.base.clone(),
        upload: fake.base.clone(),
        token: format!("{}/token", fake.base),
    }
}

/// `n` bytes that differ from chunk to chunk (a misplaced chunk changes the hash).
fn source(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

/// Writes `data` in pieces of an odd size (not aligned to anything).
async fn write_all(up: &mut TestUpload, data: &[u8]) -> Result<(), String> {
    for piece in data.chunks(100_003) {
        up.write(Bytes::copy_from_slice(piece)).await?;
    }
    Ok(())
}

fn gdrive(fake: &FakeDrive, auth: DriveAuth) -> TestDrive {
    drive("gdrive://Zoom/Rec", endpoints(fake), auth, CHUNK).expect("a drive")
}

async fn send(d: &TestDrive, path: &str, data: &[u8]) -> Result<TestUpload, String> {
    let mut up = d.start(path, Some(data.len() as u64)).await?;
    write_all(&mut up, data).await?;
    up.close().await?;
    Ok(up)
}

/// One upload through a drive of its own.
async fn upload(
    fake: &FakeDrive,
    auth: DriveAuth,
    path: &str,
    data: &[u8],
) -> Result<TestUpload, String> {
    send(&gdrive(fake, auth), path, data).await
}

fn assert_clean(text: &str) {
    assert!(
        !text.contains(SECRET_MARK) && !text.contains("upload_id") && !text.contains("http"),
        "a token or a session URL in: {text}"
    );
}

fn assert_no_violations(fake: &FakeDrive) {
    let v = fake.lock().violations.clone();
    assert!(v.is_empty(), "the protocol's rules were broken: {v:?}");
}

#[tokio::test]
async fn a_file_streams_in_aligned_chunks_into_its_folders_and_is_stored_whole() {
    let fake = FakeDrive::start().await;
    let d = gdrive(&fake, refresh());
    let data = source(5 * UNIT + 12_345);
    let up = send(&d, "2026/03/a.mp4", &data).await.expect("stored");
    assert_no_violations(&fake);
    let stored = fake
        .lock()
        .file_at("Zoom/Rec/2026/03/a.mp4")
        .expect("the file");
    assert_eq!(sha256(&stored.bytes), sha256(&data));
    // At most one chunk held, and no PUT longer than one.
    assert!(up.peak_buffered() <= CHUNK, "{}", up.peak_buffered());
    assert!(up.peak_buffered() > 0);
    assert!(fake.lock().longest_put <= CHUNK);
    // Three chunks of 512 KiB and the rest: 3 PUTs and the last.
    assert_eq!(fake.lock().chunk_puts, 3);
    assert_eq!(fake.lock().folders_created, 4);
    // The folders' ids are kept: the next file of the folder looks up only its own name;
    // one token serves both uploads.
    let lists = fake.lock().lists;
    send(&d, "2026/03/b.mp4", &source(10))
        .await
        .expect("stored");
    assert_eq!(fake.lock().lists, lists + 1);
    assert_eq!(fake.lock().folders_created, 4);
    assert_eq!(fake.lock().refreshes, 1);
    // Another destination finds the folders made before.
    upload(&fake, refresh(), "2026/03/c.mp4", &source(10))
        .await
        .expect("stored");
    assert_eq!(fake.lock().folders_created, 4);
    assert_eq!(
        fake.lock()
            .file_at("Zoom/Rec/2026/03/b.mp4")
            .expect("b")
            .bytes,
        source(10)
    );
}

#[tokio::test]
async fn folders_made_elsewhere_are_used_and_a_file_of_the_same_name_is_replaced_not_duplicated() {
    let fake = FakeDrive::start().await;
    let (folder, older, newer) = {
        let mut f = fake.lock();
        let zoom = f.seed("Zoom", "root", true, b"");
        let rec = f.seed("Rec", &zoom, true, b"");
        let older = f.seed("a.mp4", &rec, false, b"old");
        let newer = f.seed("a.mp4", &rec, false, b"newer old");
        // A file whose name is a folder's is not the folder.
        f.seed("x", &rec, false, b"");
        (rec, older, newer)
    };
    let data = source(3 * UNIT);
    upload(&fake, refresh(), "a.mp4", &data)
        .await
        .expect("stored");
    upload(&fake, refresh(), "x/y.mp4", &source(7))
        .await
        .expect("stored");
    assert_no_violations(&fake);
    let f = fake.lock();
    assert_eq!(f.folders_created, 1, "only the folder x was missing");
    let live = f.live(&folder, "a.mp4");
    assert_eq!(live.len(), 1, "one a.mp4 left: {live:?}");
    // The most recent one got the new content (its id kept); the other is in the trash.
    assert_eq!(live[0].id, newer);
    assert_eq!(sha256(&live[0].bytes), sha256(&data));
    assert!(f.files[&older].trashed);
}

#[tokio::test]
async fn an_empty_file_is_stored() {
    let fake = FakeDrive::start().await;
    upload(&fake, refresh(), "empty.txt", b"")
        .await
        .expect("stored");
    assert_no_violations(&fake);
    let f = fake.lock().file_at("Zoom/Rec/empty.txt").expect("the file");
    assert!(f.bytes.is_empty());
}

/// The faults the upload gets over: each in its own upload, the bytes stored whole.
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
        let fake = FakeDrive::start().await;
        fake.lock().faults = faults;
        let data = source(6 * UNIT + 99);
        let up = upload(&fake, refresh(), "f.mp4", &data)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_no_violations(&fake);
        let stored = fake.lock().file_at("Zoom/Rec/f.mp4").expect("the file");
        assert_eq!(sha256(&stored.bytes), sha256(&data), "{what}");
        assert!(up.peak_buffered() <= CHUNK, "{what}");
        if what.contains("revoked") {
            assert_eq!(fake.lock().refreshes, 2, "{what}: renewed once");
        }
    }
}

#[tokio::test]
async fn a_session_forgotten_mid_file_fails_the_upload_and_the_file_starts_over() {
    let fake = FakeDrive::start().await;
    fake.lock().faults.expire_sessions_at_chunk = Some(2);
    let data = source(4 * UNIT + 1);
    let e = upload(&fake, refresh(), "f.mp4", &data)
        .await
        .err()
        .expect("refused");
    assert!(e.contains("forgot the upload session"), "{e}");
    assert_clean(&e);
    assert!(fake.lock().file_at("Zoom/Rec/f.mp4").is_none());
    // The engine's next attempt starts the file over.
    fake.lock().faults = Faults::default();
    upload(&fake, refresh(), "f.mp4", &data)
        .await
        .expect("stored");
    let stored = fake.lock().file_at("Zoom/Rec/f.mp4").expect("the file");
    assert_eq!(sha256(&stored.bytes), sha256(&data));
}

#[tokio::test]
async fn a_service_that_stops_answering_fails_the_upload_without_the_session_url() {
    let fake = FakeDrive::start().await;
    fake.lock().faults.lose_all_answers_from = Some(2);
    let e = upload(&fake, refresh(), "f.mp4", &source(6 * UNIT))
        .await
        .err()
        .expect("failed");
    assert!(e.contains("upload to Google Drive"), "{e}");
    assert_clean(&e);
}

#[tokio::test]
async fn a_wrong_md5_is_a_mismatch_and_the_stored_file_goes_to_the_trash() {
    let fake = FakeDrive::start().await;
    fake.lock().faults.wrong_md5 = true;
    let mut up = gdrive(&fake, refresh())
        .start("f.mp4", None)
        .await
        .expect("started");
    write_all(&mut up, &source(UNIT + 5))
        .await
        .expect("written");
    let e = up.close().await.expect_err("a mismatch");
    assert!(
        e.contains("differs from what was sent") && e.contains("MD5"),
        "{e}"
    );
    assert_clean(&e);
    // What the engine does with a failed close: abort, which trashes the file.
    up.abort().await;
    assert!(fake.lock().file_at("Zoom/Rec/f.mp4").is_none());
}

#[tokio::test]
async fn a_refused_access_token_or_refresh_token_is_an_error_without_the_token() {
    let fake = FakeDrive::start().await;
    // An access token the service does not take (expired): no way to renew it.
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
    // A refresh token the token endpoint refuses.
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
    // An access token that is valid works as it is.
    fake.lock().valid_tokens = vec![format!("access-{SECRET_MARK}-2")];
    upload(
        &fake,
        DriveAuth::AccessToken(format!("access-{SECRET_MARK}-2")),
        "f.mp4",
        b"abc",
    )
    .await
    .expect("stored");
    assert_eq!(fake.lock().refreshes, 0);
}

#[tokio::test]
async fn plain_http_is_refused_beyond_this_machine() {
    let e = drive(
        "gdrive://Zoom",
        Endpoints {
            api: "http://example.com".into(),
            upload: "https://example.com".into(),
            token: "https://example.com/token".into(),
        },
        refresh(),
        CHUNK,
    )
    .err()
    .expect("refused");
    assert!(e.contains("plain HTTP to another machine"), "{e}");
}
