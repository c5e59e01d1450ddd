//! WebDAV (Nextcloud, ownCloud, Apache mod_dav, nginx, rclone serve webdav, ...): an
//! [`ObjectDestination`] on OpenDAL's WebDAV service for everything but the upload itself.
//!
//! OpenDAL's WebDAV writer collects the whole file in memory and sends it in one PUT when
//! it is closed, which a 10 GiB recording cannot afford. So uploads are zvm's own PUT with a
//! chunked body fed as the bytes arrive ([`StreamedPut`]): a file in flight holds at most
//! [`QUEUED_CHUNKS`] chunks. The file is written as `<name>.part` and moved into place
//! (`MOVE` with `Overwrite: T`) once its size is read back (PROPFIND); WebDAV defines no
//! checksum, so the size is the proof.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use opendal::services::Webdav;
use opendal::{Error, ErrorKind, Operator};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::object::{ObjectDestination, ObjectSettings};
use crate::sink::{StartUpload, UploadSink};
use crate::url::{RemoteCredentials, UrlError, WebdavUrl};

/// Chunks of a download queued for the PUT at most (each the size the download delivers).
pub const QUEUED_CHUNKS: usize = 16;

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
            detail: "ZVM_WEBDAV_PASSWORD is set but ZVM_WEBDAV_USER is not: set both".into(),
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
    async fn start(&self, path: &str) -> opendal::Result<Box<dyn UploadSink>> {
        // The folders first (MKCOL, as OpenDAL's own writes do).
        if let Some((dir, _)) = path.rsplit_once('/') {
            self.op.create_dir(&format!("{dir}/")).await?;
        }
        let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUED_CHUNKS);
        let body = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let mut req = crate::transport::upload_client()
            .put(format!("{}/{}", self.base, encode_path(path)))
            .body(reqwest::Body::wrap_stream(body));
        if let Some((user, password)) = &self.login {
            req = req.basic_auth(user, Some(password));
        }
        let request = tokio::spawn(async move {
            let resp = req.send().await.map_err(|e| {
                Error::new(ErrorKind::Unexpected, e.without_url().to_string()).set_temporary()
            })?;
            let status = resp.status();
            if status.is_success() {
                return Ok(());
            }
            let body = resp.text().await.unwrap_or_default();
            Err(status_error(status, &body))
        });
        Ok(Box::new(StreamedPut {
            tx: Some(tx),
            request: Some(request),
        }))
    }
}

/// An error of the PUT's answer, in OpenDAL's terms: `status: 507` (no room) is what
/// [`crate::errors`] reads as a full destination.
fn status_error(status: reqwest::StatusCode, body: &str) -> Error {
    let snippet: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    let message = format!("PUT answered status: {} {snippet}", status.as_u16());
    let kind = match status.as_u16() {
        401 | 403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        _ => ErrorKind::Unexpected,
    };
    let e = Error::new(kind, message);
    if status.is_server_error() && status.as_u16() != 507 || status.as_u16() == 429 {
        e.set_temporary()
    } else {
        e
    }
}

/// One PUT whose body is fed as the bytes arrive.
struct StreamedPut {
    /// `None` once the body is complete.
    tx: Option<mpsc::Sender<Result<Bytes, std::io::Error>>>,
    /// The request, answering once the server has the whole body (or gave up).
    request: Option<JoinHandle<opendal::Result<()>>>,
}

impl StreamedPut {
    /// The request's outcome (waits for it).
    async fn outcome(&mut self) -> opendal::Result<()> {
        match self.request.take() {
            Some(r) => r.await.unwrap_or_else(|e| {
                Err(Error::new(
                    ErrorKind::Unexpected,
                    format!("the upload task failed: {e}"),
                ))
            }),
            None => Err(Error::new(
                ErrorKind::Unexpected,
                "the upload already ended",
            )),
        }
    }
}

#[async_trait]
impl UploadSink for StreamedPut {
    async fn write(&mut self, data: Bytes) -> opendal::Result<()> {
        let Some(tx) = &self.tx else {
            return Err(Error::new(
                ErrorKind::Unexpected,
                "the upload already ended",
            ));
        };
        if tx.send(Ok(data)).await.is_ok() {
            return Ok(());
        }
        // The request stopped taking the body: the server answered early, or the
        // connection broke. Its outcome says which.
        self.tx = None;
        match self.outcome().await {
            Ok(()) => Err(Error::new(
                ErrorKind::Unexpected,
                "the server ended the upload before the whole file was sent",
            )
            .set_temporary()),
            Err(e) => Err(e),
        }
    }

    async fn close(&mut self) -> opendal::Result<()> {
        // The end of the body: the request completes and the server answers.
        self.tx = None;
        self.outcome().await
    }

    async fn abort(&mut self) {
        if let Some(tx) = self.tx.take() {
            // An error in the body breaks the request off instead of completing it.
            let _ = tx
                .send(Err(std::io::Error::other("upload abandoned")))
                .await;
        }
        let _ = self.outcome().await;
    }
}

impl Drop for StreamedPut {
    fn drop(&mut self) {
        // Never complete a request that was not closed: a dropped sender alone would end
        // the body cleanly, and the server would keep a short file.
        if let Some(tx) = self.tx.take() {
            let _ = tx.try_send(Err(std::io::Error::other("upload abandoned")));
        }
        if let Some(r) = self.request.take() {
            r.abort();
        }
    }
}
