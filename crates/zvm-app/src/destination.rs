//! The destination a run writes to, from what the user gave: a folder, or a URL such as
//! `s3://bucket/prefix?endpoint=...`, `webdavs://host/path`, `sftp://user@host/path` or
//! `azblob://container/prefix` for the services this build supports (the `s3`, `webdav`,
//! `sftp`, `azblob`, `gcs`, `gdrive`, `onedrive` and `dropbox` features; see
//! `zvm-dest-opendal`). Every front end opens it here, so a bad URL or missing
//! credentials read the same everywhere.

use std::path::Path;
use std::sync::Arc;

use zvm_dest::{Destination, LocalDestination};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, is_remote};

use crate::failure::{Cause, Failure};

pub use zvm_dest_opendal::UrlError;

/// What a destination the user gave is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationKind {
    Folder,
    /// A URL of a service this build writes to, e.g. `s3`.
    Remote {
        scheme: String,
    },
}

/// Checks `given` as [`open_destination`] reads it, without opening anything (no
/// environment read, nothing contacted): a folder, or a URL of a service this build has.
/// For front ends that check the field as it is typed; the error says what is wrong
/// (a bad URL, an unknown kind, a service this build was built without).
pub fn check_destination(given: &Path) -> Result<DestinationKind, UrlError> {
    let text = given.to_string_lossy();
    if !is_remote(&text) {
        return Ok(DestinationKind::Folder);
    }
    let url = DestUrl::parse(&text)?;
    let scheme = url.scheme();
    // What `open` answers for a service whose feature is off, said before anything opens.
    // Each arm's value is the build's (`cfg!`): with every feature on, clippy would read the
    // arms as one `matches!`, which the other builds are not.
    #[allow(clippy::match_like_matches_macro)]
    let built_in = match scheme.as_str() {
        "s3" => cfg!(feature = "s3"),
        "webdav" => cfg!(feature = "webdav"),
        "sftp" => cfg!(feature = "sftp"),
        "azblob" => cfg!(feature = "azblob"),
        "gcs" => cfg!(feature = "gcs"),
        "gdrive" => cfg!(feature = "gdrive"),
        "onedrive" => cfg!(feature = "onedrive"),
        "dropbox" => cfg!(feature = "dropbox"),
        _ => false,
    };
    if !built_in {
        return Err(UrlError::NotBuiltIn { scheme });
    }

    Ok(DestinationKind::Remote { scheme })
}

/// Opens `given`: a URL when it starts with `scheme://`, else a folder. Credentials of
/// remote services come from their usual places (AWS_ACCESS_KEY_ID, ...,
/// ZVM_WEBDAV_USER/ZVM_WEBDAV_PASSWORD, ssh's own keys and agent for SFTP,
/// AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING for Azure).
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
    fn a_destination_is_checked_as_it_would_be_opened() {
        let kind = |p: &str| check_destination(Path::new(p));
        assert!(matches!(
            kind("/data/ZoomRecordings"),
            Ok(DestinationKind::Folder)
        ));
        assert!(matches!(kind("C:\\Zoom"), Ok(DestinationKind::Folder)));
        match kind("s3://bucket/zoom?region=eu-west-1") {
            Ok(DestinationKind::Remote { scheme }) if cfg!(feature = "s3") => {
                assert_eq!(scheme, "s3")
            }
            Err(e @ UrlError::NotBuiltIn { .. }) if !cfg!(feature = "s3") => {
                assert!(e.to_string().contains("--features s3"), "{e}")
            }
            other => panic!("s3 with the feature {}: {other:?}", cfg!(feature = "s3")),
        }
        match kind("azblob://recordings/zoom") {
            Ok(DestinationKind::Remote { scheme }) if cfg!(feature = "azblob") => {
                assert_eq!(scheme, "azblob")
            }
            Err(e @ UrlError::NotBuiltIn { .. }) if !cfg!(feature = "azblob") => {
                assert!(e.to_string().contains("--features azblob"), "{e}")
            }
            other => panic!(
                "azblob with the feature {}: {other:?}",
                cfg!(feature = "azblob")
            ),
        }
        // Every service the build has is accepted, not only S3.
        if cfg!(feature = "webdav") {
            assert!(matches!(
                kind("webdavs://nas/dav"),
                Ok(DestinationKind::Remote { .. })
            ));
        }
        if cfg!(feature = "sftp") {
            assert!(matches!(
                kind("sftp://u@nas/data"),
                Ok(DestinationKind::Remote { .. })
            ));
        }
        assert!(matches!(
            kind("s3:///no-bucket"),
            Err(UrlError::Invalid { .. })
        ));
        if !cfg!(feature = "dropbox") {
            assert!(matches!(
                kind("dropbox://x"),
                Err(UrlError::NotBuiltIn { .. })
            ));
        }
        assert!(matches!(
            kind("nosuchkind://x"),
            Err(UrlError::UnknownScheme { .. })
        ));
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
