//! The destination a run writes to, from what the user gave: a folder, or a URL such as
//! `s3://bucket/prefix?endpoint=...` for the services this build supports (the `s3` feature;
//! see `zvm-dest-opendal`). Every front end opens it here, so a bad URL or missing
//! credentials read the same everywhere.

use std::path::Path;
use std::sync::Arc;

use zvm_dest::{Destination, LocalDestination};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, is_remote};

use crate::failure::{Cause, Failure};

/// Opens `given`: a URL when it starts with `scheme://`, else a folder. Credentials of
/// remote services come from their usual environment variables (AWS_ACCESS_KEY_ID, ...).
/// Nothing is contacted yet; the engine's first step checks the destination is writable.
pub fn open_destination(given: &Path) -> Result<Arc<dyn Destination>, Failure> {
    let text = given.to_string_lossy();
    if !is_remote(&text) {
        return Ok(Arc::new(LocalDestination::new(given.to_path_buf())));
    }
    let bad = |e: zvm_dest_opendal::UrlError| Failure::new(Cause::BadSettings, e);
    let url = DestUrl::parse(&text).map_err(bad)?;
    zvm_dest_opendal::open(&url, &RemoteCredentials::default()).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_stay_folders() {
        let d = open_destination(Path::new("/data/ZoomRecordings")).expect("a folder");
        assert_eq!(d.describe(), "/data/ZoomRecordings");
    }

    #[test]
    fn bad_urls_are_settings_errors_that_say_what_to_fix() {
        let e = open_destination(Path::new("s3:///no-bucket"))
            .err()
            .expect("refused");
        assert_eq!(e.cause, Cause::BadSettings);
        assert!(e.to_string().contains("no bucket"), "{e}");
        let e = open_destination(Path::new("dropbox://x"))
            .err()
            .expect("refused");
        assert_eq!(e.cause, Cause::BadSettings);
        assert!(e.to_string().contains("dropbox://"), "{e}");
    }
}
