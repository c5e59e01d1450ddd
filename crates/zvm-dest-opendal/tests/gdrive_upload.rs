//! Google Drive's upload (zvm's own resumable upload, src/gdrive_upload.rs) against a fake
//! of Drive's documented protocol over loopback (tests/support/fake_gdrive.rs): the bytes
//! stored are the source's, chunks are aligned and start where the service stands, one
//! chunk at most is held, faults are got over (a 503, a lost answer, a chunk taken in part,
//! a token revoked, a session forgotten before anything was stored), what cannot be got
//! over is an error that names no token and no session URL (a session forgotten mid-file, a
//! wrong MD5, a refused access token). Never run against Google itself.

#[path = "support/drive_cases.rs"]
mod drive_cases;
#[path = "support/fake_gdrive.rs"]
mod fake_gdrive;
#[path = "support/fake_http.rs"]
mod fake_http;

use drive_cases::{
    Service, assert_no_violations, drive_at, refresh, send, sha256, source, write_all,
};
use fake_gdrive::{FakeDrive, UNIT};
use fake_http::SECRET_MARK;
use zvm_dest_opendal::drive::DriveAuth;
use zvm_dest_opendal::drive_testing::{Endpoints, TestDrive, TestUpload, drive};

const CHUNK: usize = 2 * UNIT;

const GDRIVE: Service = Service {
    url: "gdrive://Zoom/Rec",
    token_path: "/token",
    chunk: CHUNK,
    unit: UNIT,
    named_in_errors: "upload to Google Drive",
    session_marks: &["upload_id"],
    session_is: "a session URL",
    last_answer_lost: "the last chunk's answer lost",
    chunk_in_part: "a chunk taken in part",
    token_renewed_by_next_file: false,
};

fn gdrive(fake: &FakeDrive, auth: DriveAuth) -> TestDrive {
    drive_at(&GDRIVE, fake, auth)
}

async fn upload(
    fake: &FakeDrive,
    auth: DriveAuth,
    path: &str,
    data: &[u8],
) -> Result<TestUpload, String> {
    drive_cases::upload(&GDRIVE, fake, auth, path, data).await
}

fn assert_clean(text: &str) {
    drive_cases::assert_clean(&GDRIVE, text)
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
    drive_cases::faults_are_got_over::<fake_gdrive::Fake>(&GDRIVE).await;
}

#[tokio::test]
async fn a_session_forgotten_mid_file_fails_the_upload_and_the_file_starts_over() {
    drive_cases::a_session_forgotten_mid_file_starts_the_file_over::<fake_gdrive::Fake>(&GDRIVE)
        .await;
}

#[tokio::test]
async fn a_service_that_stops_answering_fails_the_upload_without_the_session_url() {
    drive_cases::a_service_that_stops_answering_fails_the_upload::<fake_gdrive::Fake>(&GDRIVE)
        .await;
}

#[tokio::test]
async fn a_wrong_md5_is_a_mismatch_and_the_stored_file_goes_to_the_trash() {
    let fake = FakeDrive::start().await;
    fake.lock().faults.wrong_hash = true;
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
    drive_cases::refused_tokens_are_errors_without_the_token(&GDRIVE, &fake).await;
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
