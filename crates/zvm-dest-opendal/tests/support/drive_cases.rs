//! What the upload tests of the cloud drives (gdrive_upload.rs, onedrive_upload.rs,
//! dropbox_upload.rs) share: a drive pointed at its fake, the source bytes and the way they
//! are written, the checks every test makes (no rule of the protocol broken, no secret in an
//! error), and the cases whose steps and assertions are the same for every service, with
//! what differs between the services in a [`Service`].

#![allow(dead_code)]

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use zvm_dest_opendal::drive::DriveAuth;
use zvm_dest_opendal::drive_testing::{Endpoints, TestDrive, TestUpload, drive};

use crate::fake_http::{
    CLIENT_ID, CLIENT_SECRET, DriveState, FakeServer, Faults, REFRESH_TOKEN, SECRET_MARK,
};

/// What differs between the services in the shared cases.
pub struct Service {
    /// The destination the tests upload to (its folder is `Zoom/Rec`).
    pub url: &'static str,
    /// The token endpoint's path on the fake.
    pub token_path: &'static str,
    /// The upload's chunk size, and the size a chunk is a multiple of.
    pub chunk: usize,
    pub unit: usize,
    /// What names the service in an upload's error.
    pub named_in_errors: &'static str,
    /// What an error must not show of the upload session, besides any URL (`http`), and
    /// what that is called in a failed assertion's message.
    pub session_marks: &'static [&'static str],
    pub session_is: &'static str,
    /// How the fault cases call the last chunk's answer lost, and a chunk stored in part
    /// (each protocol settles them its own way).
    pub last_answer_lost: &'static str,
    pub chunk_in_part: &'static str,
    /// The upload URL takes no token (OneDrive): a token revoked mid-upload is found out,
    /// and renewed, at the next request of the API, so the fault case sends another file.
    pub token_renewed_by_next_file: bool,
}

/// The refresh token and client the fakes accept.
pub fn refresh() -> DriveAuth {
    DriveAuth::Refresh {
        refresh_token: REFRESH_TOKEN.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    }
}

/// A refresh token the token endpoint refuses.
pub fn revoked_refresh() -> DriveAuth {
    DriveAuth::Refresh {
        refresh_token: format!("refresh-{SECRET_MARK}-revoked"),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    }
}

/// The service's uploads, all of its addresses at `fake`.
pub fn drive_at<S>(service: &Service, fake: &FakeServer<S>, auth: DriveAuth) -> TestDrive {
    drive(
        service.url,
        Endpoints {
            api: fake.base.clone(),
            upload: fake.base.clone(),
            token: format!("{}{}", fake.base, service.token_path),
        },
        auth,
        service.chunk,
    )
    .expect("a drive")
}

/// `n` bytes that differ from chunk to chunk (a misplaced chunk changes the hash).
pub fn source(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

/// The SHA-256 of `bytes`, hex (what the tests compare, rather than megabytes).
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `data` in pieces of an odd size (not aligned to anything).
pub async fn write_all(up: &mut TestUpload, data: &[u8]) -> Result<(), String> {
    for piece in data.chunks(100_003) {
        up.write(Bytes::copy_from_slice(piece)).await?;
    }
    Ok(())
}

/// One file through `d`, its size told in advance.
pub async fn send(d: &TestDrive, path: &str, data: &[u8]) -> Result<TestUpload, String> {
    let mut up = d.start(path, Some(data.len() as u64)).await?;
    write_all(&mut up, data).await?;
    up.close().await?;
    Ok(up)
}

/// One upload through a drive of its own.
pub async fn upload<S>(
    service: &Service,
    fake: &FakeServer<S>,
    auth: DriveAuth,
    path: &str,
    data: &[u8],
) -> Result<TestUpload, String> {
    send(&drive_at(service, fake, auth), path, data).await
}

/// `text` shows no secret and nothing of the upload session.
pub fn assert_clean(service: &Service, text: &str) {
    assert!(
        !text.contains(SECRET_MARK)
            && !service.session_marks.iter().any(|m| text.contains(m))
            && !text.contains("http"),
        "a token or {} in: {text}",
        service.session_is
    );
}

pub fn assert_no_violations<S: DriveState>(fake: &FakeServer<S>) {
    let v = fake.lock().violations().to_vec();
    assert!(v.is_empty(), "the protocol's rules were broken: {v:?}");
}

/// The faults the upload gets over: each in its own upload to a fake of its own, the bytes
/// stored whole, one chunk at most held.
pub async fn faults_are_got_over<S: DriveState>(service: &Service) {
    fn case(what: &'static str, set: fn(&mut Faults)) -> (&'static str, Faults) {
        let mut faults = Faults::default();
        set(&mut faults);
        (what, faults)
    }
    for (what, faults) in [
        case("a 503 mid-upload", |f| f.fail_chunk = Some(2)),
        case("a lost answer mid-upload", |f| {
            f.lose_answer_of_chunk = Some(2)
        }),
        case(service.last_answer_lost, |f| {
            f.lose_answer_of_chunk = Some(4)
        }),
        case(service.chunk_in_part, |f| f.partial_chunk = Some(2)),
        case("the access token revoked mid-upload", |f| {
            f.revoke_token_at_chunk = Some(3)
        }),
        case("the session forgotten before it held anything", |f| {
            f.expire_sessions_at_chunk = Some(1)
        }),
    ] {
        let fake = FakeServer::<S>::start().await;
        *fake.lock().faults_mut() = faults;
        let d = drive_at(service, &fake, refresh());
        let data = source(6 * service.unit + 99);
        let up = send(&d, "f.mp4", &data)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_no_violations(&fake);
        let got = fake.lock().stored("Zoom/Rec/f.mp4").expect("the file");
        assert_eq!(sha256(&got), sha256(&data), "{what}");
        assert!(up.peak_buffered() <= service.chunk, "{what}");
        if what.contains("revoked") {
            if service.token_renewed_by_next_file {
                send(&d, "g.mp4", b"abc").await.expect("stored");
            }
            assert_eq!(fake.lock().refreshes(), 2, "{what}: renewed once");
        }
    }
}

/// A session forgotten once the service held part of the file: the upload fails, naming
/// no secret, nothing is stored, and the engine's next attempt starts the file over.
pub async fn a_session_forgotten_mid_file_starts_the_file_over<S: DriveState>(service: &Service) {
    let fake = FakeServer::<S>::start().await;
    fake.lock().faults_mut().expire_sessions_at_chunk = Some(2);
    let data = source(4 * service.unit + 1);
    let e = upload(service, &fake, refresh(), "f.mp4", &data)
        .await
        .err()
        .expect("refused");
    assert!(e.contains("forgot the upload session"), "{e}");
    assert_clean(service, &e);
    assert!(fake.lock().stored("Zoom/Rec/f.mp4").is_none());
    *fake.lock().faults_mut() = Faults::default();
    upload(service, &fake, refresh(), "f.mp4", &data)
        .await
        .expect("stored");
    let got = fake.lock().stored("Zoom/Rec/f.mp4").expect("the file");
    assert_eq!(sha256(&got), sha256(&data));
}

/// A service that stops answering mid-upload: an error that names the service and no
/// secret.
pub async fn a_service_that_stops_answering_fails_the_upload<S: DriveState>(service: &Service) {
    let fake = FakeServer::<S>::start().await;
    fake.lock().faults_mut().lose_all_answers_from = Some(2);
    let e = upload(
        service,
        &fake,
        refresh(),
        "f.mp4",
        &source(6 * service.unit),
    )
    .await
    .err()
    .expect("failed");
    assert!(e.contains(service.named_in_errors), "{e}");
    assert_clean(service, &e);
}

/// An access token the service does not take (expired, no way to renew it) and a refresh
/// token the token endpoint refuses: each an error without the token.
pub async fn refused_tokens_are_errors_without_the_token<S: DriveState>(
    service: &Service,
    fake: &FakeServer<S>,
) {
    let e = upload(
        service,
        fake,
        DriveAuth::AccessToken(format!("access-{SECRET_MARK}-1")),
        "f.mp4",
        b"abc",
    )
    .await
    .err()
    .expect("refused");
    assert!(e.contains("access token was refused"), "{e}");
    assert_clean(service, &e);
    let e = upload(service, fake, revoked_refresh(), "f.mp4", b"abc")
        .await
        .err()
        .expect("refused");
    assert!(
        e.contains("invalid_grant") && e.contains("authorise zvm again"),
        "{e}"
    );
    assert_clean(service, &e);
}

/// Over a file already at `Zoom/Rec/a.mp4` (seeded by the test): the new content replaces
/// it; an empty file is stored.
pub async fn an_existing_file_is_replaced_and_an_empty_file_is_stored<S: DriveState>(
    service: &Service,
    fake: &FakeServer<S>,
) {
    let data = source(3 * service.unit);
    upload(service, fake, refresh(), "a.mp4", &data)
        .await
        .expect("stored");
    upload(service, fake, refresh(), "empty.txt", b"")
        .await
        .expect("stored");
    assert_no_violations(fake);
    assert_eq!(fake.lock().stored("Zoom/Rec/a.mp4").expect("a"), data);
    assert_eq!(
        fake.lock().stored("Zoom/Rec/empty.txt").expect("empty"),
        b""
    );
}

/// A wrong checksum (`hash` names it) in the service's last answer, the size told in
/// advance and the file written at once: a mismatch, and the engine's abort removes what
/// was stored.
pub async fn a_wrong_checksum_is_a_mismatch_and_the_file_is_removed<S: DriveState>(
    service: &Service,
    hash: &str,
) {
    let fake = FakeServer::<S>::start().await;
    fake.lock().faults_mut().wrong_hash = true;
    let d = drive_at(service, &fake, refresh());
    let data = source(service.unit + 5);
    let mut up = d
        .start("f.mp4", Some(data.len() as u64))
        .await
        .expect("started");
    up.write(Bytes::from(data)).await.expect("written");
    let e = up.close().await.expect_err("a mismatch");
    assert!(
        e.contains("differs from what was sent") && e.contains(hash),
        "{e}"
    );
    assert_clean(service, &e);
    up.abort().await;
    assert!(fake.lock().stored("Zoom/Rec/f.mp4").is_none());
}
