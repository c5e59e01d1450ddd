//! Dropbox's upload (zvm's own upload session, src/dropbox_upload.rs) against a fake of
//! Dropbox's documented protocol over loopback (tests/support/fake_dropbox.rs): the bytes
//! stored are the source's, each append at the offset the session stands at, one chunk at
//! most is held, faults are got over (a 503, a lost answer and a chunk cut midway settled
//! by `incorrect_offset`, a token revoked, a session forgotten before anything was stored, the answer to `finish`
//! lost), what cannot be got over is an error that names no token and no session id. Never
//! run against Dropbox itself.

#[path = "support/drive_cases.rs"]
mod drive_cases;
#[path = "support/fake_dropbox.rs"]
mod fake_dropbox;
#[path = "support/fake_http.rs"]
mod fake_http;

use drive_cases::{Service, assert_no_violations, drive_at, refresh, send, sha256, source};
use fake_dropbox::{FakeDropbox, content_hash};
use fake_http::DriveState as _;

const CHUNK: usize = 1 << 20;
const UNIT: usize = CHUNK / 2;

const DROPBOX: Service = Service {
    url: "dropbox://Zoom/Rec",
    token_path: "/oauth2/token",
    chunk: CHUNK,
    unit: UNIT,
    named_in_errors: "Dropbox",
    session_marks: &[],
    session_is: "a session id",
    last_answer_lost: "the answer to finish lost",
    chunk_in_part: "a chunk cut midway, half of it kept",
    token_renewed_by_next_file: false,
};

fn stored(fake: &FakeDropbox, path: &str) -> Option<Vec<u8>> {
    fake.lock().stored(path)
}

#[tokio::test]
async fn a_file_streams_in_chunks_and_is_stored_whole_with_its_content_hash() {
    let fake = FakeDropbox::start().await;
    let d = drive_at(&DROPBOX, &fake, refresh());
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
    drive_cases::an_existing_file_is_replaced_and_an_empty_file_is_stored(&DROPBOX, &fake).await;
}

#[tokio::test]
async fn a_503_a_lost_answer_a_chunk_cut_midway_and_a_revoked_token_are_got_over() {
    drive_cases::faults_are_got_over::<fake_dropbox::Fake>(&DROPBOX).await;
}

#[tokio::test]
async fn a_session_forgotten_mid_file_fails_the_upload_and_the_file_starts_over() {
    drive_cases::a_session_forgotten_mid_file_starts_the_file_over::<fake_dropbox::Fake>(&DROPBOX)
        .await;
}

#[tokio::test]
async fn a_service_that_stops_answering_fails_the_upload_without_the_session_id() {
    drive_cases::a_service_that_stops_answering_fails_the_upload::<fake_dropbox::Fake>(&DROPBOX)
        .await;
}

#[tokio::test]
async fn a_wrong_content_hash_is_a_mismatch_and_the_stored_file_is_removed() {
    drive_cases::a_wrong_checksum_is_a_mismatch_and_the_file_is_removed::<fake_dropbox::Fake>(
        &DROPBOX,
        "content_hash",
    )
    .await;
}

#[tokio::test]
async fn a_refused_token_is_an_error_without_the_token() {
    let fake = FakeDropbox::start().await;
    drive_cases::refused_tokens_are_errors_without_the_token(&DROPBOX, &fake).await;
}
