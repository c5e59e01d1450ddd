//! Whatever bytes the Zoom API answers with, parsing gives a value or an error, never a
//! panic, a hang or unbounded memory: every model the client reads, plus the error-body parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvm_zoom::{Meeting, MeetingSummary, RecordingsPage, User, UsersPage, ZoomError};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<RecordingsPage>(data);
    let _ = serde_json::from_slice::<Meeting>(data);
    let _ = serde_json::from_slice::<UsersPage>(data);
    let _ = serde_json::from_slice::<User>(data);
    let _ = serde_json::from_slice::<MeetingSummary>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        for status in [400, 401, 404, 429, 503] {
            // The message shown to the user is built from the body: it must stay bounded.
            let e = ZoomError::api(status, text, None);
            let shown = e.to_string();
            assert!(shown.len() < 4096 + 512, "error message of {} bytes", shown.len());
        }
    }
});
