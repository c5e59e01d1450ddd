//! Dropbox's upload (zvm's own upload session, src/dropbox_upload.rs) against a fake of
//! Dropbox's documented protocol over loopback (tests/support/fake_dropbox.rs): the bytes
//! stored are the source's, each append at the offset the session stands at, one chunk at
//! most is held, faults are got over (a 503, a lost answer and a chunk cut midway settled
//! by `incorrect_offset`, a token revoked, a session forgotten before anything was stored, the answer to `finish`
//! lost), what cannot be got over is an error that names no token and no session id. Never
//! run against Dropbox itself.

#[path = "support/fake_dropbox.rs"]
mod fake_dropbox;

use bytes::Bytes;
use fake_dropbox::{
    CLIENT_ID, CLIENT_SECRET, FakeDropbox, Faults, REFRESH_TOKEN, SECRET_MARK, content_hash, sha256,
};
use zvm_dest_opendal::drive::DriveAuth;
use zvm_dest_opendal::drive_testing::{Endpoints, TestDrive, TestUpload, drive};

const CHUNK: usize = 1 << 20;
const UNIT: usize = CHUNK / 2;

fn refresh() -> DriveAuth {
    DriveAuth::Refresh {
        refresh_token: REFRESH_TOKEN.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    }
}

fn dropbox(fake: &FakeDropbox, auth: DriveAuth) -> TestDrive {
    drive(
        "dropbox://Zoom/Rec",
        Endpoints {
            api: fake.base.clone(),
            upload: fake.base.clone(),
            token: format!("{}/oauth2/token", fake.base),
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
    fake: &FakeDropbox,
    auth: DriveAuth,
    path: &str,
    data: &[u8],
) -> Result<TestUpload, String> {
    send(&dropbox(fake, auth), path, data).await
}

fn assert_clean(text: &str) {
    assert!(
        !text.contains(SECRET_MARK) && !text.contains("http"),
        "a token or a session id in: {text}"
    );
}

fn assert_no_violations(fake: &FakeDropbox) {
    let v = fake.lock().violations.clone();
    assert!(v.is_empty(), "the protocol's rules were broken: {v:?}");
}

fn stored(fake: &FakeDropbox, path: &str) -> Option<Vec<u8>> {
    fake.lock().files.get(&format!("/{path}")).cloned()
}

#[tokio::test]
async fn a_file_streams_in_chunks_and_is_stored_whole_with_its_content_hash() {
    let fake = FakeDropbox::start().await;
    let d = dropbox(&fake, refresh());
    // Three 4 MiB blocks of Dropbox's content hash, the last one short.
    let data = source(9 * CHUNK + 12_345);
    let up = send(&d, "2026/03 März/a b#c.mp4", &data)
        .await
        .expect("stored");
    assert_no_violations(&fake);
    let got = stored(&fake, "Zoom/Rec/2026/03 März/a b#c.mp4").expect("the file");
    assert_eq!(sha256(&got), sha256(&data));
    assert_eq!(content_hash(&got), content_hash(&data));
    assert!(up.peak_buffered() <= CHUNK && up.peak_buffered() > 0);
    assert!(fake.lock().longest_body <= CHUNK);
    // Nine appends and the finish.
    assert_eq!(fake.lock().chunk_requests, 10);
    send(&d, "b.mp4", &source(10)).await.expect("stored");
    assert_eq!(fake.lock().refreshes, 1);
    // A file whose size is a multiple of the chunk: the finish carries no bytes.
    let whole = source(2 * CHUNK);
    send(&d, "c.mp4", &whole).await.expect("stored");
    assert_eq!(stored(&fake, "Zoom/Rec/c.mp4").expect("c"), whole);
    assert_no_violations(&fake);
}

#[tokio::test]
async fn an_existing_file_is_replaced_and_an_empty_file_is_stored() {
    let fake = FakeDropbox::start().await;
    fake.lock()
        .files
        .insert("/Zoom/Rec/a.mp4".into(), b"old".to_vec());
    let data = source(3 * UNIT);
    upload(&fake, refresh(), "a.mp4", &data)
        .await
        .expect("stored");
    upload(&fake, refresh(), "empty.txt", b"")
        .await
        .expect("stored");
    assert_no_violations(&fake);
    assert_eq!(stored(&fake, "Zoom/Rec/a.mp4").expect("a"), data);
    assert_eq!(stored(&fake, "Zoom/Rec/empty.txt").expect("empty"), b"");
}

#[tokio::test]
async fn a_503_a_lost_answer_a_chunk_cut_midway_and_a_revoked_token_are_got_over() {
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
            "the answer to finish lost",
            Faults {
                lose_answer_of_chunk: Some(4),
                ..Default::default()
            },
        ),
        (
            "a chunk cut midway, half of it kept",
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
        let fake = FakeDropbox::start().await;
        fake.lock().faults = faults;
        let d = dropbox(&fake, refresh());
        let data = source(6 * UNIT + 99);
        let up = send(&d, "f.mp4", &data)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_no_violations(&fake);
        let got = stored(&fake, "Zoom/Rec/f.mp4").expect("the file");
        assert_eq!(sha256(&got), sha256(&data), "{what}");
        assert!(up.peak_buffered() <= CHUNK, "{what}");
        if what.contains("revoked") {
            assert_eq!(fake.lock().refreshes, 2, "{what}: renewed once");
        }
    }
}

#[tokio::test]
async fn a_session_forgotten_mid_file_fails_the_upload_and_the_file_starts_over() {
    let fake = FakeDropbox::start().await;
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
async fn a_service_that_stops_answering_fails_the_upload_without_the_session_id() {
    let fake = FakeDropbox::start().await;
    fake.lock().faults.lose_all_answers_from = Some(2);
    let e = upload(&fake, refresh(), "f.mp4", &source(6 * UNIT))
        .await
        .err()
        .expect("failed");
    assert!(e.contains("Dropbox"), "{e}");
    assert_clean(&e);
}

#[tokio::test]
async fn a_wrong_content_hash_is_a_mismatch_and_the_stored_file_is_removed() {
    let fake = FakeDropbox::start().await;
    fake.lock().faults.wrong_hash = true;
    let d = dropbox(&fake, refresh());
    let data = source(UNIT + 5);
    let mut up = d
        .start("f.mp4", Some(data.len() as u64))
        .await
        .expect("started");
    up.write(Bytes::from(data)).await.expect("written");
    let e = up.close().await.expect_err("a mismatch");
    assert!(
        e.contains("differs from what was sent") && e.contains("content_hash"),
        "{e}"
    );
    assert_clean(&e);
    up.abort().await;
    assert!(stored(&fake, "Zoom/Rec/f.mp4").is_none());
}

#[tokio::test]
async fn a_refused_token_is_an_error_without_the_token() {
    let fake = FakeDropbox::start().await;
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
}
