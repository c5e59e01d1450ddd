//! OneDrive uploads that stream: Microsoft Graph's upload session
//! (<https://learn.microsoft.com/graph/api/driveitem-createuploadsession>), where OpenDAL's
//! writer sends a whole file in one request.
//!
//! - The folders of the destination's path and of the file's are looked up by path
//!   (`GET /me/drive/root:/{path}`) and created where missing (`POST .../children`, failing
//!   on a conflict, which counts as found), and remembered for the destination's lifetime.
//! - `POST /me/drive/root:/{path}:/createUploadSession` with the conflict behaviour
//!   `replace`: a file of that name is replaced when the last byte is stored (OneDrive keeps
//!   one item per name, with its earlier versions). Its `uploadUrl` is a credential: it is
//!   never put in an error, and no token is sent to it (Graph says not to).
//! - Every PUT carries `Content-Range: bytes a-b/total`: OneDrive needs the file's size up
//!   front (the engine always knows it). Chunks are multiples of 320 KiB (the last may be
//!   shorter); one is held at a time. A 202 answer's `nextExpectedRanges` says where the
//!   service stands; after a failed chunk (5xx, a lost answer) the session is asked
//!   (`GET uploadUrl`) and the rest of the chunk is sent from there. A session the service
//!   forgot (404) is started again if it held nothing; else the file starts over.
//! - The last answer is the stored item: its size and QuickXorHash (computed while
//!   streaming, [`crate::quickxor`]) must be the bytes sent's, else the item is removed and
//!   the upload is an error (a mismatch). If the last answer is lost and the session is
//!   gone, the item at the path is read: stored only if its size and hash are ours.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use async_trait::async_trait;
use bytes::Bytes;
use opendal::{Error, ErrorKind};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::drive_http::{
    ATTEMPTS, ChunkBuffer, DriveHttp, check_session_url, mismatch, status_error, transport_error,
};
use crate::quickxor::QuickXor;
use crate::sink::{StartUpload, UploadSink};

/// OneDrive's chunk unit: every chunk but the last is a multiple of it.
pub(crate) const CHUNK_UNIT: usize = 320 << 10;

/// What a path segment keeps unencoded: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Uploads to one OneDrive destination (a folder path under the drive's root).
pub(crate) struct OnedriveUploads {
    http: Arc<DriveHttp>,
    root: Vec<String>,
    chunk: usize,
    /// Folder paths known to exist.
    folders: tokio::sync::Mutex<HashSet<String>>,
    pub(crate) peak: Arc<AtomicUsize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    upload_url: Option<String>,
    #[serde(default)]
    next_expected_ranges: Vec<String>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
    size: Option<u64>,
    folder: Option<serde_json::Value>,
    file: Option<FileFacet>,
}

#[derive(Deserialize)]
struct FileFacet {
    hashes: Option<Hashes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hashes {
    quick_xor_hash: Option<String>,
}

fn encode(names: &[String]) -> String {
    names
        .iter()
        .map(|n| utf8_percent_encode(n, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, body: &[u8]) -> opendal::Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Unexpected,
            format!("OneDrive's answer to {what} does not read: {e}"),
        )
    })
}

impl OnedriveUploads {
    /// `root`: the destination's folder path; `chunk`: rounded down to a multiple of
    /// 320 KiB (at least one unit).
    pub(crate) fn new(http: Arc<DriveHttp>, root: &str, chunk: usize) -> Self {
        Self {
            http,
            root: root
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            chunk: (chunk / CHUNK_UNIT).max(1) * CHUNK_UNIT,
            folders: tokio::sync::Mutex::new(HashSet::new()),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// `{api}/v1.0/me/drive/root:/{path}` (the root itself for no names).
    fn item_url(&self, names: &[String]) -> String {
        if names.is_empty() {
            format!("{}/v1.0/me/drive/root", self.http.ep.api)
        } else {
            format!("{}/v1.0/me/drive/root:/{}", self.http.ep.api, encode(names))
        }
    }

    /// The item at `names`, or `None`.
    async fn item(&self, names: &[String]) -> opendal::Result<Option<Item>> {
        let url = self.item_url(names);
        match self
            .http
            .call("look for a file in OneDrive", || self.http.client.get(&url))
            .await
        {
            Ok((_, body)) => Ok(Some(parse("an item's lookup", &body)?)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes sure the folders `dirs` exist, from the top down.
    async fn folders(&self, dirs: &[String]) -> opendal::Result<()> {
        let mut known = self.folders.lock().await;
        for depth in 1..=dirs.len() {
            let names = &dirs[..depth];
            let key = names.join("/");
            if known.contains(&key) {
                continue;
            }
            match self.item(names).await? {
                Some(item) if item.folder.is_some() => {}
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        format!("a file named {key:?} is in the way of a folder; move it aside"),
                    ));
                }
                None => self.create_folder(names).await?,
            }
            known.insert(key);
        }
        Ok(())
    }

    async fn create_folder(&self, names: &[String]) -> opendal::Result<()> {
        let (parent, name) = names.split_at(names.len() - 1);
        let url = if parent.is_empty() {
            format!("{}/v1.0/me/drive/root/children", self.http.ep.api)
        } else {
            format!("{}:/children", self.item_url(parent))
        };
        let body = serde_json::json!({
            "name": name[0],
            "folder": {},
            "@microsoft.graph.conflictBehavior": "fail",
        });
        match self
            .http
            .call("create a folder in OneDrive", || {
                self.http.client.post(&url).json(&body)
            })
            .await
        {
            Ok(_) => Ok(()),
            // Made meanwhile (or an answer lost after it was made).
            Err(e) if e.message().contains("status: 409") => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn open_session(&self, names: &[String]) -> opendal::Result<reqwest::Url> {
        let url = format!("{}:/createUploadSession", self.item_url(names));
        let body = serde_json::json!({
            "item": { "@microsoft.graph.conflictBehavior": "replace" }
        });
        let (_, answer) = self
            .http
            .call("start an upload to OneDrive", || {
                self.http.client.post(&url).json(&body)
            })
            .await?;
        let s: SessionAnswer = parse("createUploadSession", &answer)?;
        let u = s.upload_url.ok_or_else(|| {
            Error::new(
                ErrorKind::Unexpected,
                "OneDrive answered the start of an upload without its uploadUrl",
            )
        })?;
        check_session_url(&u)
    }

    async fn delete(&self, id: &str) -> opendal::Result<()> {
        let url = format!("{}/v1.0/me/drive/items/{id}", self.http.ep.api);
        self.http
            .call("remove a file from OneDrive", || {
                self.http.client.delete(&url)
            })
            .await
            .map(drop)
    }
}

#[async_trait]
impl StartUpload for Arc<OnedriveUploads> {
    async fn start(&self, path: &str, size: Option<u64>) -> opendal::Result<Box<dyn UploadSink>> {
        let total = size.ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                "OneDrive's upload needs the file's size in advance",
            )
        })?;
        let mut names = self.root.clone();
        names.extend(
            path.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        if names.len() == self.root.len() {
            return Err(Error::new(
                ErrorKind::Unexpected,
                "an upload needs a file name",
            ));
        }
        self.folders(&names[..names.len() - 1]).await?;
        let session = self.open_session(&names).await?;
        Ok(Box::new(OnedriveSink {
            up: self.clone(),
            names,
            total,
            session: Some(session),
            buf: ChunkBuffer::new(self.chunk, self.peak.clone()),
            acked: 0,
            hash: QuickXor::default(),
            stored: None,
        }))
    }
}

/// One upload session in progress.
struct OnedriveSink {
    up: Arc<OnedriveUploads>,
    /// The file's path from the drive's root.
    names: Vec<String>,
    total: u64,
    session: Option<reqwest::Url>,
    buf: ChunkBuffer,
    acked: u64,
    hash: QuickXor,
    stored: Option<String>,
}

enum Answer {
    Has(u64),
    Done(Bytes),
    /// The session is gone (404).
    Gone,
}

/// The start of the first of `nextExpectedRanges` (`"N-"` or `"N-M"`).
fn next_expected(body: &[u8]) -> opendal::Result<u64> {
    let s: SessionAnswer = parse("an upload's status", body)?;
    s.next_expected_ranges
        .first()
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unexpected,
                "OneDrive's answer names no next expected range",
            )
        })
}

impl OnedriveSink {
    fn ended() -> Error {
        Error::new(ErrorKind::Unexpected, "the OneDrive upload already ended")
    }

    /// One PUT of `body` at `from` (no token: the upload URL is its own credential).
    async fn put(&self, from: u64, body: Bytes) -> opendal::Result<Answer> {
        let session = self.session.as_ref().ok_or_else(Self::ended)?;
        let what = "upload to OneDrive";
        let resp = self
            .up
            .http
            .client
            .put(session.clone())
            .header(
                reqwest::header::CONTENT_RANGE,
                format!(
                    "bytes {from}-{}/{}",
                    from + body.len() as u64 - 1,
                    self.total
                ),
            )
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(what, e))?;
        let status = resp.status().as_u16();
        let answer = resp.bytes().await.map_err(|e| transport_error(what, e))?;
        match status {
            200 | 201 => Ok(Answer::Done(answer)),
            202 => Ok(Answer::Has(next_expected(&answer)?)),
            404 => Ok(Answer::Gone),
            // The range was taken already: ask where the session stands.
            416 => Err(status_error(what, 503, b"range already received")),
            _ => Err(status_error(what, status, &answer)),
        }
    }

    /// Where the session stands (`GET uploadUrl`).
    async fn status(&self) -> opendal::Result<Answer> {
        let session = self.session.as_ref().ok_or_else(Self::ended)?;
        let what = "ask OneDrive where the upload stands";
        let resp = self
            .up
            .http
            .client
            .get(session.clone())
            .send()
            .await
            .map_err(|e| transport_error(what, e))?;
        let status = resp.status().as_u16();
        let answer = resp.bytes().await.map_err(|e| transport_error(what, e))?;
        match status {
            200 => Ok(Answer::Has(next_expected(&answer)?)),
            404 => Ok(Answer::Gone),
            _ => Err(status_error(what, status, &answer)),
        }
    }

    /// Sends `chunk` (the bytes after `self.acked`) until the service has it; the stored
    /// item's JSON after the last.
    async fn send_chunk(&mut self, chunk: Bytes) -> opendal::Result<Option<Bytes>> {
        let start = self.acked;
        let end = start + chunk.len() as u64;
        let last = end == self.total;
        let mut has = start;
        let mut query = false;
        let mut attempt = 0;
        let mut last_err = None;
        let mut restarted = false;
        loop {
            if attempt >= ATTEMPTS {
                return Err(last_err.unwrap_or_else(|| {
                    Error::new(
                        ErrorKind::Unexpected,
                        "OneDrive did not take the chunk (the file starts over)",
                    )
                    .set_temporary()
                }));
            }
            let outcome = if query {
                self.status().await
            } else {
                self.put(has, chunk.slice((has - start) as usize..)).await
            };
            match outcome {
                Ok(Answer::Done(item)) if last => {
                    self.acked = end;
                    return Ok(Some(item));
                }
                Ok(Answer::Done(_)) => {
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        "OneDrive completed the upload before its last chunk",
                    ));
                }
                Ok(Answer::Has(n)) if n == end && !last => {
                    self.acked = end;
                    return Ok(None);
                }
                Ok(Answer::Has(n)) if (start..end).contains(&n) => {
                    if !query && n == has {
                        attempt += 1;
                    }
                    has = n;
                    query = false;
                }
                Ok(Answer::Has(n)) => {
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        format!(
                            "OneDrive expects byte {n} of the upload where {start} to {end} were sent (the file starts over)"
                        ),
                    )
                    .set_temporary());
                }
                Ok(Answer::Gone) if query && last => {
                    // The last answer was lost and the session is gone: stored, if the
                    // item at the path is ours.
                    return self.stored_after_all().await.map(Some);
                }
                Ok(Answer::Gone) if start == 0 && !restarted => {
                    restarted = true;
                    self.session = Some(self.up.open_session(&self.names).await?);
                    has = 0;
                    query = false;
                }
                Ok(Answer::Gone) => {
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        "OneDrive forgot the upload session (it expired); the file starts over",
                    )
                    .set_temporary());
                }
                Err(e) if e.is_temporary() => {
                    attempt += 1;
                    last_err = Some(e);
                    self.up.http.pause(attempt).await;
                    query = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The item at the path, as the last answer would have been, if it is what was sent.
    async fn stored_after_all(&mut self) -> opendal::Result<Bytes> {
        let unknown = || {
            Error::new(
                ErrorKind::Unexpected,
                "the answer to the upload's last chunk was lost and OneDrive does not hold it (the file starts over)",
            )
            .set_temporary()
        };
        let url = self.up.item_url(&self.names);
        let (_, body) = self
            .up
            .http
            .call("look for a file in OneDrive", || {
                self.up.http.client.get(&url)
            })
            .await
            .map_err(|_| unknown())?;
        let item: Item = parse("an item's lookup", &body)?;
        let ours = item.size == Some(self.total)
            && item
                .file
                .as_ref()
                .and_then(|f| f.hashes.as_ref())
                .and_then(|h| h.quick_xor_hash.as_deref())
                == Some(self.hash.base64().as_str());
        if ours { Ok(body) } else { Err(unknown()) }
    }
}

#[async_trait]
impl UploadSink for OnedriveSink {
    async fn write(&mut self, mut data: Bytes) -> opendal::Result<()> {
        if self.session.is_none() {
            return Err(Self::ended());
        }
        if self.acked + (self.buf.len() + data.len()) as u64 > self.total {
            return Err(Error::new(
                ErrorKind::Unexpected,
                format!("more bytes than the {} announced to OneDrive", self.total),
            ));
        }
        self.hash.update(&data);
        let chunk = self.up.chunk as u64;
        while !data.is_empty() {
            // A full chunk goes out, unless it is the last (sent by `close`).
            if self.buf.fill(&mut data) && self.acked + chunk < self.total {
                let full = self.buf.take();
                self.send_chunk(full).await?;
            }
        }
        Ok(())
    }

    async fn close(&mut self) -> opendal::Result<()> {
        let rest = self.buf.take();
        if self.acked + rest.len() as u64 != self.total {
            return Err(Error::new(
                ErrorKind::Unexpected,
                format!(
                    "{} bytes were written where {} were announced to OneDrive",
                    self.acked + rest.len() as u64,
                    self.total
                ),
            ));
        }
        let item = if self.total == 0 {
            // No bytes to send in a session: an empty file is written in one request.
            let url = format!("{}:/content", self.up.item_url(&self.names));
            self.up
                .http
                .call("upload to OneDrive", || {
                    self.up
                        .http
                        .client
                        .put(&url)
                        .header(reqwest::header::CONTENT_LENGTH, 0)
                        .body(Bytes::new())
                })
                .await?
                .1
        } else {
            self.send_chunk(rest).await?.ok_or_else(|| {
                Error::new(
                    ErrorKind::Unexpected,
                    "OneDrive did not complete the upload",
                )
            })?
        };
        if self.total == 0
            && let Some(session) = self.session.take()
        {
            let _ = self.up.http.client.delete(session).send().await;
        }
        self.session = None;
        let item: Item = parse("the upload", &item)?;
        self.stored = Some(item.id.clone());
        if item.size != Some(self.total) {
            return Err(mismatch(format!(
                "OneDrive holds {} bytes where {} were sent",
                item.size
                    .map_or("an unknown number of".to_string(), |s| s.to_string()),
                self.total
            )));
        }
        let want = self.hash.base64();
        let got = item
            .file
            .as_ref()
            .and_then(|f| f.hashes.as_ref())
            .and_then(|h| h.quick_xor_hash.clone());
        if got.as_deref() != Some(want.as_str()) {
            return Err(mismatch(format!(
                "OneDrive's quickXorHash is {} where the bytes sent give {want}",
                got.as_deref().unwrap_or("missing")
            )));
        }
        self.stored = None;
        Ok(())
    }

    async fn abort(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = self.up.http.client.delete(session).send().await;
        }
        if let Some(id) = self.stored.take() {
            // Stored but not what was sent: not left under its name.
            let _ = self.up.delete(&id).await;
        }
    }
}
