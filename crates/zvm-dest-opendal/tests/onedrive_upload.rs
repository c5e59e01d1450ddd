//! OneDrive's upload (zvm's own upload session, src/onedrive_upload.rs) against a fake of
//! Microsoft Graph's documented protocol over loopback (tests/support/fake_onedrive.rs):
//! the bytes stored are the source's, chunks are multiples of 320 KiB that start where the
//! session stands, one chunk at most is held, no token goes to the upload URL, faults are
//! got over (a 503, a lost answer, a chunk taken in part, a token revoked, a session
//! forgotten before anything was stored, the last answer lost), what cannot be got over is
//! an error that names no token and no upload URL. Never run against Microsoft itself.

#[path = "support/drive_cases.rs"]
mod drive_cases;
#[path = "support/fake_http.rs"]
mod fake_http;
#[path = "support/fake_onedrive.rs"]
mod fake_onedrive;

use drive_cases::{Service, assert_no_violations, drive_at, refresh, send, sha256, source};
use fake_http::DriveState as _;
use fake_onedrive::{FakeOnedrive, UNIT};
use zvm_dest_opendal::drive::DriveAuth;
use zvm_dest_opendal::drive_testing::TestDrive;

const CHUNK: usize = 2 * UNIT;

const ONEDRIVE: Service = Service {
    url: "onedrive://Zoom/Rec",
    token_path: "/token",
    chunk: CHUNK,
    unit: UNIT,
    named_in_errors: "OneDrive",
    session_marks: &["/up/"],
    session_is: "an upload URL",
    last_answer_lost: "the last chunk's answer lost",
    chunk_in_part: "a chunk taken in part",
    token_renewed_by_next_file: true,
};

fn onedrive(fake: &FakeOnedrive, auth: DriveAuth) -> TestDrive {
    drive_at(&ONEDRIVE, fake, auth)
}

fn stored(fake: &FakeOnedrive, path: &str) -> Option<Vec<u8>> {
    fake.lock().stored(path)
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
    drive_cases::an_existing_file_is_replaced_and_an_empty_file_is_stored(&ONEDRIVE, &fake).await;
    assert_eq!(fake.lock().folders_created, 0);
}

#[tokio::test]
async fn a_503_a_lost_answer_a_chunk_taken_in_part_and_a_revoked_token_are_got_over() {
    drive_cases::faults_are_got_over::<fake_onedrive::Fake>(&ONEDRIVE).await;
}

#[tokio::test]
async fn a_session_forgotten_mid_file_fails_the_upload_and_the_file_starts_over() {
    drive_cases::a_session_forgotten_mid_file_starts_the_file_over::<fake_onedrive::Fake>(
        &ONEDRIVE,
    )
    .await;
}

#[tokio::test]
async fn a_service_that_stops_answering_fails_the_upload_without_the_upload_url() {
    drive_cases::a_service_that_stops_answering_fails_the_upload::<fake_onedrive::Fake>(&ONEDRIVE)
        .await;
}

#[tokio::test]
async fn a_wrong_quickxorhash_is_a_mismatch_and_the_stored_file_is_removed() {
    drive_cases::a_wrong_checksum_is_a_mismatch_and_the_file_is_removed::<fake_onedrive::Fake>(
        &ONEDRIVE,
        "quickXorHash",
    )
    .await;
}

#[tokio::test]
async fn a_refused_token_is_an_error_without_the_token_and_the_size_is_needed() {
    let fake = FakeOnedrive::start().await;
    drive_cases::refused_tokens_are_errors_without_the_token(&ONEDRIVE, &fake).await;
    let e = onedrive(&fake, refresh())
        .start("f.mp4", None)
        .await
        .err()
        .expect("refused");
    assert!(e.contains("size in advance"), "{e}");
}
