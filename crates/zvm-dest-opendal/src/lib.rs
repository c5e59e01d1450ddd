//! Destinations beyond the local disk, on Apache OpenDAL: S3 and S3-compatible storage
//! (MinIO, Ceph, R2, Wasabi, ...), WebDAV, SFTP, Azure Blob Storage, Google Cloud
//! Storage and the cloud drives (Google Drive, OneDrive, Dropbox), each service behind its
//! own Cargo feature (`s3`, `webdav`, `sftp`, `azblob`, `gcs`, `gdrive`, `onedrive`,
//! `dropbox`) so that the core of zvm builds
//! without them. A destination is a URL (`s3://bucket/prefix?...`, `webdavs://host/path`,
//! `sftp://user@host/path`, `azblob://container/prefix`, `gcs://bucket/prefix`,
//! `gdrive://folder`, `onedrive://folder`, `dropbox://folder`; see [`drive`]),
//! parsed by [`DestUrl::parse`] and opened by [`open`] into an `Arc<dyn Destination>` the
//! engine writes through like the local disk.
//!
//! A separate crate rather than a feature of `zvm-dest`: OpenDAL and its signing stack are a
//! large build, and the engine, the state and their tests depend on `zvm-dest`; keeping them
//! here means only the binaries that ask for a remote destination compile them.
//!
//! Uploads stream: bytes go from the download to the service in one PUT of the file's
//! length (S3, a file up to `?upload_cutoff=`), in parts (S3 multipart above it), in a
//! chunked PUT (WebDAV), in SFTP writes, as Azure blocks or in a drive's upload session
//! (chunks of 8 MiB at most), with no temporary file on the local disk and a
//! bounded amount in memory per file (see [`object`]). A file appears under its final name
//! only when complete: S3 completes an upload atomically, Azure commits a block list
//! atomically; WebDAV and SFTP files are written
//! as `<name>.part` and renamed. It is then read back (size, and S3's ETag where it is an
//! MD5, Azure's Content-MD5 where it reports one) before the engine may call it verified.

pub mod drive;
mod drive_auth;
#[cfg(feature = "object-store")]
mod errors;
#[cfg(feature = "object-store")]
mod etag;
#[cfg(feature = "object-store")]
pub mod object;
#[cfg(feature = "object-store")]
mod sink;
#[cfg(feature = "object-store")]
mod streamed_put;
#[cfg(feature = "object-store")]
mod transport;
mod url;

#[cfg(feature = "drive-uploads")]
mod drive_http;
#[cfg(feature = "drive-uploads")]
#[doc(hidden)]
pub mod drive_testing;
#[cfg(feature = "dropbox")]
mod dropbox_upload;
#[cfg(feature = "gdrive")]
mod gdrive_upload;
#[cfg(feature = "onedrive")]
mod onedrive_upload;
#[cfg(feature = "onedrive")]
mod quickxor;

#[cfg(feature = "azblob")]
mod azblob;
#[cfg(feature = "gcs")]
mod gcs;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "s3")]
mod s3_multipart;
#[cfg(feature = "sftp")]
mod sftp;
#[cfg(feature = "webdav")]
mod webdav;

use std::sync::Arc;

use zvm_dest::Destination;

pub use url::{
    AzblobUrl, DestUrl, GcsUrl, RemoteCredentials, SftpUrl, UrlError, WebdavUrl, is_remote,
};

#[cfg(feature = "object-store")]
pub use object::ObjectDestination;

/// Parts of one file an S3 upload sends at once unless `?upload_concurrency=` says otherwise.
#[cfg(feature = "s3")]
pub use s3::DEFAULT_CONCURRENCY as S3_DEFAULT_UPLOAD_CONCURRENCY;

/// Opens the destination a URL names, with credentials from `creds` (the config file)
/// first, else the service's usual environment variables. Nothing is sent yet: the first
/// request is the engine's `check_writable`.
pub fn open(url: &DestUrl, creds: &RemoteCredentials) -> Result<Arc<dyn Destination>, UrlError> {
    let _ = creds;
    match url {
        #[cfg(feature = "s3")]
        DestUrl::S3(s) => Ok(Arc::new(s3::open(s, creds)?)),
        #[cfg(feature = "webdav")]
        DestUrl::Webdav(w) => Ok(Arc::new(webdav::open(w, creds)?)),
        #[cfg(feature = "sftp")]
        DestUrl::Sftp(s) => Ok(Arc::new(sftp::open(s, creds)?)),
        #[cfg(feature = "azblob")]
        DestUrl::Azblob(a) => Ok(Arc::new(azblob::open(a, creds)?)),
        #[cfg(feature = "gcs")]
        DestUrl::Gcs(g) => Ok(Arc::new(gcs::open(g, creds)?)),
        DestUrl::Drive(d) => drive::open(d, creds),
        #[allow(unreachable_patterns)]
        other => Err(UrlError::NotBuiltIn {
            scheme: other.scheme(),
        }),
    }
}

#[cfg(all(
    test,
    not(all(
        feature = "s3",
        feature = "webdav",
        feature = "sftp",
        feature = "azblob",
        feature = "gcs"
    ))
))]
mod tests {
    /// A build without a service's feature refuses its URLs saying which feature to build.
    fn refused_with(url: &str, feature: &str) {
        let url = super::DestUrl::parse(url).expect("a valid URL");
        let e = super::open(&url, &super::RemoteCredentials::default())
            .err()
            .expect("refused");
        assert!(
            e.to_string().contains(&format!("--features {feature}")),
            "{e}"
        );
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn a_build_without_s3_says_how_to_get_it() {
        refused_with("s3://b/p", "s3");
    }

    #[cfg(not(feature = "webdav"))]
    #[test]
    fn a_build_without_webdav_says_how_to_get_it() {
        refused_with("webdavs://h/p", "webdav");
        refused_with("webdav://127.0.0.1/p", "webdav");
    }

    #[cfg(not(feature = "sftp"))]
    #[test]
    fn a_build_without_sftp_says_how_to_get_it() {
        refused_with("sftp://u@h/p", "sftp");
    }

    #[cfg(not(feature = "azblob"))]
    #[test]
    fn a_build_without_azblob_says_how_to_get_it() {
        refused_with("azblob://c/p", "azblob");
    }

    #[cfg(not(feature = "gcs"))]
    #[test]
    fn a_build_without_gcs_says_how_to_get_it() {
        refused_with("gcs://b/p", "gcs");
    }
}
