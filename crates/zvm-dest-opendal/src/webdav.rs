//! WebDAV (Nextcloud, ownCloud, Apache mod_dav, nginx, rclone serve webdav, ...): an
//! [`ObjectDestination`] on OpenDAL's WebDAV service for everything but the upload itself.
//!
//! OpenDAL's WebDAV writer collects the whole file in memory and sends it in one PUT when
//! it is closed, which a 10 GiB recording cannot afford. So uploads are zvm's own PUT with a
//! chunked body fed as the bytes arrive ([`StreamedPut`]): a file in flight holds at most
//! [`crate::streamed_put::QUEUED_CHUNKS`] chunks. The file is written as `<name>.part` and moved into place
//! (`MOVE` with `Overwrite: T`) once its size is read back (PROPFIND); WebDAV defines no
//! checksum, so the size is the proof.

use std::sync::Arc;

use async_trait::async_trait;
use opendal::Operator;
use opendal::services::Webdav;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::object::{ObjectDestination, ObjectSettings};
use crate::sink::{StartUpload, UploadSink};
use crate::streamed_put::StreamedPut;
use crate::url::{RemoteCredentials, UrlError, WebdavUrl};

/// Longest path most servers' file systems take (PATH_MAX).
const PATH_LIMIT: usize = 4096;

/// What a path segment keeps unencoded in a URL: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn open(
    u: &WebdavUrl,
    creds: &RemoteCredentials,
) -> Result<ObjectDestination, UrlError> {
    let shown_scheme = if u.endpoint.starts_with("https://") {
        "webdavs"
    } else {
        "webdav"
    };
    let host = u.endpoint.split_once("://").map_or("", |(_, h)| h);
    let name = if u.path.is_empty() {
        format!("{shown_scheme}://{host}")
    } else {
        format!("{shown_scheme}://{host}/{}", u.path)
    };
    let user = creds.webdav_user.clone().or_else(|| env("ZVM_WEBDAV_USER"));
    let password = creds
        .webdav_password
        .clone()
        .or_else(|| env("ZVM_WEBDAV_PASSWORD"));
    if user.is_none() && password.is_some() {
        return Err(UrlError::Setup {
            url: name,
            detail: "a password is given (ZVM_WEBDAV_PASSWORD, or password under [remote.webdav] in config.toml) but no user name: set ZVM_WEBDAV_USER, or user under [remote.webdav], too".into(),
        });
    }
    let login = user.map(|u| (u, password.unwrap_or_default()));

    let mut b = Webdav::default()
        .endpoint(&u.endpoint)
        .root(&format!("/{}", u.path));
    if let Some((user, password)) = &login {
        b = b.username(user).password(password);
    }
    let op = crate::transport::retrying_operator(b, &name)?;
    let base = if u.path.is_empty() {
        u.endpoint.clone()
    } else {
        format!("{}/{}", u.endpoint, encode_path(&u.path))
    };
    let starter = StreamedPuts {
        op: op.clone(),
        base,
        login,
    };
    let prefix_len = crate::transport::key_offset(&u.path);
    Ok(ObjectDestination::new(
        op,
        ObjectSettings {
            name,
            // Unused: uploads do not go through OpenDAL's writer.
            part_size: crate::url::S3_MIN_PART,
            concurrent: 1,
            single_put_max: 0,
            verify_etag: false,
            verify_content_md5: false,
            staging: true,
            await_readable: false,
            key_limit: PATH_LIMIT,
            prefix_len,
        },
    )
    .with_starter(Arc::new(starter)))
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| utf8_percent_encode(seg, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Starts [`StreamedPut`]s under the destination's folder.
struct StreamedPuts {
    op: Operator,
    /// `https://host/folder`, percent-encoded.
    base: String,
    login: Option<(String, String)>,
}

#[async_trait]
impl StartUpload for StreamedPuts {
    async fn start(&self, path: &str, _: Option<u64>) -> opendal::Result<Box<dyn UploadSink>> {
        // The folders first (MKCOL, as OpenDAL's own writes do).
        if let Some((dir, _)) = path.rsplit_once('/') {
            self.op.create_dir(&format!("{dir}/")).await?;
        }
        let mut req =
            crate::transport::upload_client().put(format!("{}/{}", self.base, encode_path(path)));
        if let Some((user, password)) = &self.login {
            req = req.basic_auth(user, Some(password));
        }
        Ok(Box::new(StreamedPut::send(req)))
    }
}
