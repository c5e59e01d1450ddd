//! Destinations beyond the local disk, on Apache OpenDAL: S3 and S3-compatible storage
//! (MinIO, Ceph, R2, Wasabi, ...) now, each service behind its own Cargo feature so that the
//! core of zvm builds without them. A destination is a URL (`s3://bucket/prefix?...`),
//! parsed by [`DestUrl::parse`] and opened by [`open`] into an `Arc<dyn Destination>` the
//! engine writes through like the local disk.
//!
//! A separate crate rather than a feature of `zvm-dest`: OpenDAL and its signing stack are a
//! large build, and the engine, the state and their tests depend on `zvm-dest`; keeping them
//! here means only the binaries that ask for a remote destination compile them.
//!
//! Uploads stream: bytes go from the download to the service in parts (S3 multipart), with
//! no temporary file on the local disk and a bounded number of parts in memory per file
//! (see [`object`]). A file appears under its final name only when the service completes
//! the upload, which S3 does atomically; it is then read back (size, and the ETag where it
//! is an MD5) before the engine may call it verified.

#[cfg(feature = "object-store")]
mod errors;
#[cfg(feature = "object-store")]
mod etag;
#[cfg(feature = "object-store")]
pub mod object;
mod url;

#[cfg(feature = "s3")]
mod s3;

use std::sync::Arc;

use zvm_dest::Destination;

pub use url::{DestUrl, RemoteCredentials, UrlError, is_remote};

#[cfg(feature = "object-store")]
pub use object::ObjectDestination;

/// Opens the destination a URL names, with credentials from `creds` (the config file)
/// first, else the service's usual environment variables. Nothing is sent yet: the first
/// request is the engine's `check_writable`.
pub fn open(url: &DestUrl, creds: &RemoteCredentials) -> Result<Arc<dyn Destination>, UrlError> {
    let _ = creds;
    match url {
        #[cfg(feature = "s3")]
        DestUrl::S3(s) => Ok(Arc::new(s3::open(s, creds)?)),
        #[allow(unreachable_patterns)]
        other => Err(UrlError::NotBuiltIn {
            scheme: other.scheme(),
        }),
    }
}

#[cfg(all(test, not(feature = "s3")))]
mod tests {
    #[test]
    fn a_build_without_s3_says_how_to_get_it() {
        let url = super::DestUrl::parse("s3://b/p").expect("a valid URL");
        let e = super::open(&url, &super::RemoteCredentials::default())
            .err()
            .expect("refused");
        assert!(e.to_string().contains("--features s3"), "{e}");
    }
}
