//! Dropbox uploads that stream: the upload session
//! (<https://www.dropbox.com/developers/documentation/http/documentation#files-upload_session-start>),
//! where OpenDAL's writer sends a whole file in one request.
//!
//! - `upload_session/start` (no bytes) opens a session; each full chunk goes in
//!   `upload_session/append_v2` with the cursor (session id and offset); `finish` sends the
//!   rest and commits the file at its path with mode `overwrite` (a file of that name is
//!   replaced; Dropbox creates missing folders itself). One chunk is held at a time.
//! - A request that failed (5xx, 429, a lost answer) is sent again at the same offset; if
//!   the service already had it, it answers `incorrect_offset` with the offset it stands at,
//!   and the rest of the chunk goes from there. A session Dropbox forgot (`not_found`) is
//!   opened again if it held nothing; else the file starts over.
//! - `finish`'s answer is the stored file: its size and `content_hash` (the SHA-256 of the
//!   SHA-256s of its 4 MiB blocks, computed while streaming) must be the bytes sent's, else
//!   the file is deleted and the upload is an error (a mismatch). If `finish`'s answer is
//!   lost and the session is gone, the file at the path is read (`get_metadata`): stored
//!   only if its size and hash are ours.
//! - `Dropbox-API-Arg` is JSON in a header: characters beyond ASCII are written `\uXXXX`.
//!   The session id is never put in an error.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use async_trait::async_trait;
use bytes::Bytes;
use opendal::{Error, ErrorKind};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::drive_http::{ATTEMPTS, ChunkBuffer, DriveHttp, mismatch, status_error};
use crate::sink::{StartUpload, UploadSink};

/// Dropbox's content hash block.
const BLOCK: usize = 4 << 20;

/// Uploads to one Dropbox destination (a folder path under the account's home).
pub(crate) struct DropboxUploads {
    http: Arc<DriveHttp>,
    /// `/Zoom/Rec`, or empty for the home folder.
    root: String,
    chunk: usize,
    pub(crate) peak: Arc<AtomicUsize>,
}

#[derive(Deserialize)]
struct Started {
    session_id: String,
}

#[derive(Deserialize)]
struct Metadata {
    size: Option<u64>,
    content_hash: Option<String>,
}

/// Dropbox's content hash, fed as the bytes go.
#[derive(Default, Clone)]
pub(crate) struct ContentHash {
    whole: Sha256,
    block: Sha256,
    in_block: usize,
}

impl ContentHash {
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (BLOCK - self.in_block).min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take;
            data = &data[take..];
            if self.in_block == BLOCK {
                let b = std::mem::take(&mut self.block).finalize();
                self.whole.update(b);
                self.in_block = 0;
            }
        }
    }

    pub(crate) fn hex(mut self) -> String {
        if self.in_block > 0 {
            let b = std::mem::take(&mut self.block).finalize();
            self.whole.update(b);
        }
        hex::encode(self.whole.finalize())
    }
}

/// `value` as Dropbox takes JSON in a header: every character beyond ASCII (and DEL) as
/// `\uXXXX`.
fn header_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// What an error answer of Dropbox's says: its `error_summary` tag path and, for
/// `incorrect_offset`, the offset the session stands at.
struct DropboxError {
    status: u16,
    summary: String,
    correct_offset: Option<u64>,
    body: Bytes,
}

impl DropboxError {
    fn read(status: u16, body: Bytes) -> Self {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let summary = v["error_summary"].as_str().unwrap_or_default().to_string();
        // `{"error": {".tag": "incorrect_offset", "correct_offset": N}}`, or nested under
        // `lookup_failed` (finish).
        let correct_offset = v["error"]["correct_offset"]
            .as_u64()
            .or_else(|| v["error"]["lookup_failed"]["correct_offset"].as_u64());
        Self {
            status,
            summary,
            correct_offset,
            body,
        }
    }
    fn not_found(&self) -> bool {
        self.status == 409 && self.summary.contains("not_found")
    }
    fn into_error(self, what: &str) -> Error {
        status_error(what, self.status, &self.body)
    }
}

impl DropboxUploads {
    /// `root`: the destination's folder path; `chunk`: any size (a sequential session takes
    /// appends of any length), at least 1 byte.
    pub(crate) fn new(http: Arc<DriveHttp>, root: &str, chunk: usize) -> Self {
        let root = root.trim_matches('/');
        Self {
            http,
            root: if root.is_empty() {
                String::new()
            } else {
                format!("/{root}")
            },
            chunk: chunk.max(1),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// One POST to the content endpoint `route` with `arg` in `Dropbox-API-Arg` and `body`:
    /// the answer's body, or Dropbox's error (`Ok(Err)`), or a temporary failure (`Err`).
    async fn content(
        &self,
        what: &str,
        route: &str,
        arg: &serde_json::Value,
        body: Bytes,
    ) -> opendal::Result<Result<Bytes, DropboxError>> {
        let url = format!("{}/2/files/{route}", self.http.ep.upload);
        let arg = header_json(arg);
        let resp = self
            .http
            .send_authorised(what, || {
                self.http
                    .client
                    .post(&url)
                    .header("Dropbox-API-Arg", &arg)
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .header(reqwest::header::CONTENT_LENGTH, body.len())
                    .body(body.clone())
            })
            .await?;
        let status = resp.status().as_u16();
        let answer = resp
            .bytes()
            .await
            .map_err(|e| crate::drive_http::transport_error(what, e))?;
        if (200..300).contains(&status) {
            return Ok(Ok(answer));
        }
        let e = DropboxError::read(status, answer);
        if status >= 500 || status == 429 {
            return Err(e.into_error(what));
        }
        Ok(Err(e))
    }

    async fn open_session(&self) -> opendal::Result<String> {
        let what = "start an upload to Dropbox";
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            self.http.pause(attempt).await;
            match self
                .content(
                    what,
                    "upload_session/start",
                    &serde_json::json!({ "close": false }),
                    Bytes::new(),
                )
                .await
            {
                Ok(Ok(body)) => {
                    let s: Started = parse("upload_session/start", &body)?;
                    return Ok(s.session_id);
                }
                Ok(Err(e)) => return Err(e.into_error(what)),
                Err(e) if e.is_temporary() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Unexpected, "no attempt was made")))
    }

    /// The file at `path` as `get_metadata` describes it, or `None`.
    async fn metadata(&self, path: &str) -> opendal::Result<Option<(Bytes, Metadata)>> {
        let url = format!("{}/2/files/get_metadata", self.http.ep.api);
        let arg = serde_json::json!({ "path": path });
        match self
            .http
            .call("look for a file in Dropbox", || {
                self.http.client.post(&url).json(&arg)
            })
            .await
        {
            Ok((_, body)) => {
                let m: Metadata = parse("get_metadata", &body)?;
                Ok(Some((body, m)))
            }
            Err(e) if e.message().contains("not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, path: &str) -> opendal::Result<()> {
        let url = format!("{}/2/files/delete_v2", self.http.ep.api);
        let arg = serde_json::json!({ "path": path });
        self.http
            .call("remove a file from Dropbox", || {
                self.http.client.post(&url).json(&arg)
            })
            .await
            .map(drop)
    }
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, body: &[u8]) -> opendal::Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Unexpected,
            format!("Dropbox's answer to {what} does not read: {e}"),
        )
    })
}

#[async_trait]
impl StartUpload for Arc<DropboxUploads> {
    async fn start(&self, path: &str, _: Option<u64>) -> opendal::Result<Box<dyn UploadSink>> {
        let rel = path.trim_matches('/');
        if rel.is_empty() {
            return Err(Error::new(
                ErrorKind::Unexpected,
                "an upload needs a file name",
            ));
        }
        let session = self.open_session().await?;
        Ok(Box::new(DropboxSink {
            up: self.clone(),
            path: format!("{}/{rel}", self.root),
            session: Some(session),
            buf: ChunkBuffer::new(self.chunk, self.peak.clone()),
            acked: 0,
            hash: Some(ContentHash::default()),
            stored: false,
        }))
    }
}

struct DropboxSink {
    up: Arc<DropboxUploads>,
    /// `/Zoom/Rec/a.mp4`.
    path: String,
    /// The session id (a credential of sorts: never in an error); `None` once ended.
    session: Option<String>,
    buf: ChunkBuffer,
    acked: u64,
    hash: Option<ContentHash>,
    /// The file was committed (to delete it if it is not right).
    stored: bool,
}

impl DropboxSink {
    fn ended() -> Error {
        Error::new(ErrorKind::Unexpected, "the Dropbox upload already ended")
    }

    /// Sends `chunk` (the bytes after `self.acked`): appended, or with `finish` (the
    /// stored file's metadata returned) when `last`.
    async fn send_chunk(&mut self, chunk: Bytes, last: bool) -> opendal::Result<Option<Bytes>> {
        let what = "upload to Dropbox";
        let start = self.acked;
        let end = start + chunk.len() as u64;
        let mut has = start;
        let mut attempt = 0;
        let mut last_err = None;
        let mut restarted = false;
        let mut retried = false;
        loop {
            if attempt >= ATTEMPTS {
                return Err(last_err.unwrap_or_else(|| {
                    Error::new(
                        ErrorKind::Unexpected,
                        "Dropbox did not take the chunk (the file starts over)",
                    )
                    .set_temporary()
                }));
            }
            let session = self.session.clone().ok_or_else(Self::ended)?;
            let cursor = serde_json::json!({ "session_id": session, "offset": has });
            let body = chunk.slice((has - start) as usize..);
            let outcome = if last {
                let arg = serde_json::json!({
                    "cursor": cursor,
                    "commit": {
                        "path": self.path,
                        "mode": "overwrite",
                        "autorename": false,
                        "mute": true,
                    }
                });
                self.up
                    .content(what, "upload_session/finish", &arg, body)
                    .await
            } else {
                let arg = serde_json::json!({ "cursor": cursor, "close": false });
                self.up
                    .content(what, "upload_session/append_v2", &arg, body)
                    .await
            };
            match outcome {
                Ok(Ok(answer)) => {
                    self.acked = end;
                    return Ok(last.then_some(answer));
                }
                Ok(Err(e)) if e.correct_offset.is_some() => {
                    // The service stands elsewhere: it took (part of) a chunk whose answer
                    // was lost.
                    let n = e.correct_offset.unwrap_or_default();
                    if n == end && !last {
                        self.acked = end;
                        return Ok(None);
                    }
                    if !(start..=end).contains(&n) || n == has {
                        return Err(Error::new(
                            ErrorKind::Unexpected,
                            format!(
                                "Dropbox stands at byte {n} of the upload where {start} to {end} were sent (the file starts over)"
                            ),
                        )
                        .set_temporary());
                    }
                    has = n;
                    attempt += 1;
                }
                Ok(Err(e)) if e.not_found() && start == 0 && has == 0 && !restarted => {
                    restarted = true;
                    self.session = Some(self.up.open_session().await?);
                }
                Ok(Err(e)) if e.not_found() && last && retried => {
                    // `finish` was sent before and its answer lost: the session is gone
                    // with it. Stored, if the file at the path is ours.
                    return self.stored_after_all(end).await.map(Some);
                }
                Ok(Err(e)) if e.not_found() => {
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        "Dropbox forgot the upload session (it expired); the file starts over",
                    )
                    .set_temporary());
                }
                Ok(Err(e)) => return Err(e.into_error(what)),
                Err(e) if e.is_temporary() => {
                    attempt += 1;
                    retried = true;
                    last_err = Some(e);
                    self.up.http.pause(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `total`: the file's size.
    async fn stored_after_all(&mut self, total: u64) -> opendal::Result<Bytes> {
        let unknown = || {
            Error::new(
                ErrorKind::Unexpected,
                "the answer to the upload's end was lost and Dropbox does not hold the file (the file starts over)",
            )
            .set_temporary()
        };
        let Some((body, m)) = self.up.metadata(&self.path).await.map_err(|_| unknown())? else {
            return Err(unknown());
        };
        let want = self.hash.clone().map(ContentHash::hex);
        if m.size == Some(total) && m.content_hash == want {
            Ok(body)
        } else {
            Err(unknown())
        }
    }
}

#[async_trait]
impl UploadSink for DropboxSink {
    async fn write(&mut self, mut data: Bytes) -> opendal::Result<()> {
        if self.session.is_none() {
            return Err(Self::ended());
        }
        if let Some(h) = self.hash.as_mut() {
            h.update(&data);
        }
        while !data.is_empty() {
            if self.buf.fill(&mut data) {
                let full = self.buf.take();
                self.send_chunk(full, false).await?;
            }
        }
        Ok(())
    }

    async fn close(&mut self) -> opendal::Result<()> {
        let rest = self.buf.take();
        let total = self.acked + rest.len() as u64;
        let answer = self.send_chunk(rest, true).await?.ok_or_else(|| {
            Error::new(ErrorKind::Unexpected, "Dropbox did not complete the upload")
        })?;
        self.session = None;
        self.stored = true;
        let m: Metadata = parse("upload_session/finish", &answer)?;
        if m.size != Some(total) {
            return Err(mismatch(format!(
                "Dropbox holds {} bytes where {total} were sent",
                m.size
                    .map_or("an unknown number of".to_string(), |s| s.to_string())
            )));
        }
        let want = self.hash.take().map(ContentHash::hex).unwrap_or_default();
        if m.content_hash.as_deref() != Some(want.as_str()) {
            return Err(mismatch(format!(
                "Dropbox's content_hash is {} where the bytes sent give {want}",
                m.content_hash.as_deref().unwrap_or("missing")
            )));
        }
        self.stored = false;
        Ok(())
    }

    async fn abort(&mut self) {
        // An unfinished session holds nothing visible and expires by itself.
        self.session = None;
        if std::mem::take(&mut self.stored) {
            // Stored but not what was sent: not left under its name.
            let _ = self.up.delete(&self.path).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_hash_is_the_sha256_of_the_blocks_sha256s() {
        let data: Vec<u8> = (0..(BLOCK * 2 + 1000)).map(|i| (i % 251) as u8).collect();
        let mut whole = Sha256::new();
        for block in data.chunks(BLOCK) {
            whole.update(Sha256::digest(block));
        }
        let want = hex::encode(whole.finalize());
        for piece in [1000, BLOCK - 1, BLOCK, BLOCK + 7] {
            let mut h = ContentHash::default();
            for p in data.chunks(piece) {
                h.update(p);
            }
            assert_eq!(h.hex(), want, "pieces of {piece}");
        }
        // No bytes, no blocks: the SHA-256 of nothing.
        assert_eq!(
            ContentHash::default().hex(),
            hex::encode(Sha256::digest([]))
        );
    }

    #[test]
    fn header_json_escapes_what_is_not_ascii() {
        let v = serde_json::json!({"path": "/Réunions/会議 😀.mp4"});
        assert_eq!(
            header_json(&v),
            r#"{"path":"/R\u00e9unions/\u4f1a\u8b70 \ud83d\ude00.mp4"}"#
        );
    }
}
