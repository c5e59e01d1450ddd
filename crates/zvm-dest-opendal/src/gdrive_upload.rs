//! Google Drive uploads that stream: Drive's resumable upload
//! (<https://developers.google.com/drive/api/guides/manage-uploads#resumable>), where
//! OpenDAL's writer sends a whole file in one request.
//!
//! - Drive has no paths: the folders of the destination's path and of the file's are found
//!   by name under their parent (`files.list`, `trashed = false`, the most recently
//!   modified first, as OpenDAL's own lookups pick) or created, and their ids kept for the
//!   destination's lifetime (one lookup at a time, so that two uploads never create the
//!   same folder twice).
//! - A file of the same name already in the folder is replaced, not duplicated (Drive
//!   allows duplicates): the upload is a new content of that file (`PATCH
//!   /upload/drive/v3/files/{id}?uploadType=resumable`), so its id, its sharing and its
//!   earlier versions stay, the old content remains until the last chunk is stored, and
//!   OpenDAL's cached id of the path stays right. Other files of that name in the folder
//!   (duplicates made by something else) are moved to the trash once the upload is stored.
//!   A new file is created in the folder (`POST /upload/drive/v3/files?uploadType=resumable`
//!   with its name and parent).
//! - The bytes go in chunks of the chunk size (a multiple of 256 KiB; the last one may be
//!   shorter) with `Content-Range: bytes a-b/*`, the total given on the last. One chunk is
//!   held at a time: it is sent before more bytes are taken. An answer 308 says, in
//!   `Range`, what the service has; a chunk that failed (5xx, a lost answer) is followed by
//!   a status query (`Content-Range: bytes */*`) and the rest of the chunk is sent from
//!   where the service stands. A session the service forgot (404/410: a week old) is
//!   started again if it held nothing yet; else the upload fails and the engine starts the
//!   file over, since the earlier chunks are no longer held.
//! - The last answer holds the file's id, size and MD5: both must be what was sent (the MD5
//!   is computed while streaming), else the stored file is trashed and the upload is an
//!   error (a mismatch).
//! - The session URL is a credential: it is never put in an error, and the token is sent
//!   to it only when it is on the upload endpoint's own host.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use async_trait::async_trait;
use bytes::Bytes;
use md5::{Digest as _, Md5};
use opendal::{Error, ErrorKind};
use serde::Deserialize;

use crate::drive_http::{
    ATTEMPTS, ChunkBuffer, DriveHttp, check_session_url, mismatch, status_error, transport_error,
};
use crate::sink::{StartUpload, UploadSink};

/// Drive's chunk unit: every chunk but the last is a multiple of it.
pub(crate) const CHUNK_UNIT: usize = 256 << 10;

const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// The fields the last answer (and lookups) return.
const FILE_FIELDS: &str = "id,size,md5Checksum";

/// Uploads to one Drive destination (a folder path under My Drive).
pub(crate) struct GdriveUploads {
    http: Arc<DriveHttp>,
    /// The destination's folder names, from My Drive down.
    root: Vec<String>,
    chunk: usize,
    /// Folder ids by path (`a/b`, relative to My Drive), found or created.
    folders: tokio::sync::Mutex<HashMap<String, String>>,
    /// The largest number of bytes an upload held in its buffer (for tests).
    pub(crate) peak: Arc<AtomicUsize>,
}

#[derive(Deserialize)]
struct FileList {
    #[serde(default)]
    files: Vec<Listed>,
}

#[derive(Deserialize)]
struct Listed {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    id: String,
    size: Option<String>,
    md5_checksum: Option<String>,
}

impl GdriveUploads {
    /// `root`: the destination's folder path (`Zoom/Recordings`, or empty for My Drive);
    /// `chunk`: rounded down to a multiple of 256 KiB (at least one unit).
    pub(crate) fn new(http: Arc<DriveHttp>, root: &str, chunk: usize) -> Self {
        Self {
            http,
            root: root
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            chunk: (chunk / CHUNK_UNIT).max(1) * CHUNK_UNIT,
            folders: tokio::sync::Mutex::new(HashMap::new()),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn files_url(&self) -> String {
        format!("{}/drive/v3/files", self.http.ep.api)
    }

    /// The ids of what is named `name` in folder `parent` (folders or files), the most
    /// recently modified first.
    async fn find(&self, parent: &str, name: &str, folder: bool) -> opendal::Result<Vec<String>> {
        let q = format!(
            "name = '{}' and '{}' in parents and trashed = false and mimeType {} '{FOLDER_MIME}'",
            escape(name),
            escape(parent),
            if folder { "=" } else { "!=" }
        );
        let url = self.files_url();
        let (_, body) = self
            .http
            .call("look for a file in Google Drive", || {
                self.http.client.get(&url).query(&[
                    ("q", q.as_str()),
                    ("fields", "files(id)"),
                    ("orderBy", "modifiedTime desc,createdTime desc"),
                    ("pageSize", "100"),
                    ("spaces", "drive"),
                ])
            })
            .await?;
        let list: FileList = parse("files.list", &body)?;
        Ok(list.files.into_iter().map(|f| f.id).collect())
    }

    /// The id of the folder `dirs` (names from My Drive down), created where missing.
    async fn folder(&self, dirs: &[String]) -> opendal::Result<String> {
        let mut cache = self.folders.lock().await;
        let mut id = "root".to_string();
        let mut path = String::new();
        for name in dirs {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(name);
            if let Some(known) = cache.get(&path) {
                id = known.clone();
                continue;
            }
            id = self.find_or_create_folder(&id, name).await?;
            cache.insert(path.clone(), id.clone());
        }
        Ok(id)
    }

    async fn find_or_create_folder(&self, parent: &str, name: &str) -> opendal::Result<String> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            self.http.pause(attempt).await;
            // Looked for again after a failed creation: its answer may have been lost after
            // the folder was made.
            if let Some(id) = self.find(parent, name, true).await?.into_iter().next() {
                return Ok(id);
            }
            let meta = serde_json::json!({
                "name": name,
                "mimeType": FOLDER_MIME,
                "parents": [parent],
            });
            let url = self.files_url();
            let created = self
                .http
                .call_once("create a folder in Google Drive", || {
                    self.http
                        .client
                        .post(&url)
                        .query(&[("fields", "id")])
                        .json(&meta)
                })
                .await;
            match created {
                Ok((_, body)) => return Ok(parse::<Listed>("files.create", &body)?.id),
                Err(e) if e.is_temporary() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Unexpected, "no attempt was made")))
    }

    /// A resumable session for `name` in `parent`: a new content of `existing`, else a new
    /// file. Returns the session URL.
    async fn open_session(
        &self,
        parent: &str,
        name: &str,
        existing: Option<&str>,
    ) -> opendal::Result<reqwest::Url> {
        let (method, url, meta) = match existing {
            Some(id) => (
                reqwest::Method::PATCH,
                format!("{}/upload/drive/v3/files/{id}", self.http.ep.upload),
                serde_json::json!({}),
            ),
            None => (
                reqwest::Method::POST,
                format!("{}/upload/drive/v3/files", self.http.ep.upload),
                serde_json::json!({ "name": name, "parents": [parent] }),
            ),
        };
        let (headers, _) = self
            .http
            .call("start an upload to Google Drive", || {
                self.http
                    .client
                    .request(method.clone(), &url)
                    .query(&[("uploadType", "resumable"), ("fields", FILE_FIELDS)])
                    .json(&meta)
            })
            .await?;
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Unexpected,
                    "Google Drive answered the start of an upload without its session address",
                )
                .set_temporary()
            })?;
        check_session_url(location)
    }

    async fn trash(&self, id: &str) -> opendal::Result<()> {
        let url = format!("{}/{id}", self.files_url());
        self.http
            .call("move a file to the trash in Google Drive", || {
                self.http
                    .client
                    .patch(&url)
                    .json(&serde_json::json!({ "trashed": true }))
            })
            .await
            .map(drop)
    }
}

/// Whether `a` and `b` are on the same origin (scheme, host, port): a token is only sent
/// to the service's own host.
fn same_origin(a: &reqwest::Url, b: &str) -> bool {
    reqwest::Url::parse(b).is_ok_and(|b| a.origin() == b.origin())
}

/// `text` inside a quoted string of a Drive query.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, body: &[u8]) -> opendal::Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Unexpected,
            format!("Google Drive's answer to {what} does not read: {e}"),
        )
    })
}

#[async_trait]
impl StartUpload for Arc<GdriveUploads> {
    async fn start(&self, path: &str, _: Option<u64>) -> opendal::Result<Box<dyn UploadSink>> {
        let mut dirs = self.root.clone();
        let mut names: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let name = names
            .pop()
            .ok_or_else(|| Error::new(ErrorKind::Unexpected, "an upload needs a file name"))?
            .to_string();
        dirs.extend(names.into_iter().map(str::to_string));
        let parent = self.folder(&dirs).await?;
        let mut same_name = self.find(&parent, &name, false).await?;
        let existing = (!same_name.is_empty()).then(|| same_name.remove(0));
        let session = self
            .open_session(&parent, &name, existing.as_deref())
            .await?;
        Ok(Box::new(GdriveSink {
            up: self.clone(),
            parent,
            name,
            existing,
            duplicates: same_name,
            session: Some(session),
            buf: ChunkBuffer::new(self.chunk, self.peak.clone()),
            acked: 0,
            md5: Md5::new(),
            stored: None,
        }))
    }
}

/// One resumable upload in progress.
struct GdriveSink {
    up: Arc<GdriveUploads>,
    parent: String,
    name: String,
    /// The file whose content this upload replaces.
    existing: Option<String>,
    /// Other files of the same name, trashed once the upload is stored.
    duplicates: Vec<String>,
    /// `None` once the upload ended.
    session: Option<reqwest::Url>,
    /// Bytes not sent yet: less than one chunk.
    buf: ChunkBuffer,
    /// Bytes the service has.
    acked: u64,
    md5: Md5,
    /// The stored file's id, once the last answer came (to trash it if it is not right).
    stored: Option<String>,
}

/// What the service said to a chunk or a status query.
enum Answer {
    /// It has this many bytes.
    Has(u64),
    /// The upload is complete: the file.
    Done(Bytes),
}

impl GdriveSink {
    fn ended() -> Error {
        Error::new(
            ErrorKind::Unexpected,
            "the Google Drive upload already ended",
        )
    }

    /// One PUT to the session: `body` at `from` (a status query when empty), `total` on the
    /// last. `Err` with a temporary error: ask the service where it stands.
    async fn put(&self, from: u64, body: Bytes, total: Option<u64>) -> opendal::Result<Answer> {
        let session = self.session.as_ref().ok_or_else(Self::ended)?;
        let total_text = total.map_or("*".to_string(), |t| t.to_string());
        let range = if body.is_empty() {
            format!("bytes */{total_text}")
        } else {
            format!("bytes {from}-{}/{total_text}", from + body.len() as u64 - 1)
        };
        let what = "upload to Google Drive";
        let build = || {
            self.up
                .http
                .client
                .put(session.clone())
                .header(reqwest::header::CONTENT_RANGE, &range)
                .header(reqwest::header::CONTENT_LENGTH, body.len())
                .body(body.clone())
        };
        let resp = if same_origin(session, &self.up.http.ep.upload) {
            self.up.http.send_authorised(what, build).await?
        } else {
            build().send().await.map_err(|e| transport_error(what, e))?
        };
        let status = resp.status().as_u16();
        let range_header = resp
            .headers()
            .get(reqwest::header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer = resp.bytes().await.map_err(|e| transport_error(what, e))?;
        match status {
            200 | 201 => Ok(Answer::Done(answer)),
            308 => Ok(Answer::Has(match range_header {
                // `bytes=0-N`: it has N + 1 bytes.
                Some(r) => r
                    .rsplit('-')
                    .next()
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .map(|n| n + 1)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Unexpected,
                            format!("Google Drive answered an unreadable Range: {r:?}"),
                        )
                    })?,
                None => 0,
            })),
            404 | 410 => Err(Error::new(
                ErrorKind::NotFound,
                format!("{what}: status: {status} the upload session expired"),
            )),
            _ => Err(status_error(what, status, &answer)),
        }
    }

    /// Sends `chunk` (the bytes after `self.acked`; the last chunk when `total` is given)
    /// until the service has all of it. On the last, returns the file the service stored.
    async fn send_chunk(&mut self, chunk: Bytes, total: Option<u64>) -> opendal::Result<Bytes> {
        let start = self.acked;
        let end = start + chunk.len() as u64;
        let mut has = start;
        let mut query = false;
        let mut last_err = None;
        let mut attempt = 0;
        let mut restarted = false;
        loop {
            if attempt >= ATTEMPTS {
                return Err(last_err.unwrap_or_else(|| {
                    Error::new(
                        ErrorKind::Unexpected,
                        "Google Drive did not take the chunk (the file starts over)",
                    )
                    .set_temporary()
                }));
            }
            let body = if query {
                Bytes::new()
            } else {
                chunk.slice((has - start) as usize..)
            };
            let outcome = self.put(has, body, total).await;
            match outcome {
                Ok(Answer::Done(file)) if total.is_some() && (query || has <= end) => {
                    self.acked = end;
                    return Ok(file);
                }
                Ok(Answer::Done(_)) => {
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        "Google Drive completed the upload before its last chunk",
                    ));
                }
                Ok(Answer::Has(n)) if n == end && total.is_none() => {
                    self.acked = end;
                    return Ok(Bytes::new());
                }
                Ok(Answer::Has(n)) if (start..=end).contains(&n) => {
                    // The rest of the chunk from where the service stands (a chunk it took
                    // part of, or a status query's answer).
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
                            "Google Drive has {n} bytes of the upload where {start} to {end} were expected (the file starts over)"
                        ),
                    )
                    .set_temporary());
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    if start == 0 && !restarted {
                        // Forgotten before it held anything: a new session.
                        restarted = true;
                        let s = self
                            .up
                            .open_session(&self.parent, &self.name, self.existing.as_deref())
                            .await?;
                        self.session = Some(s);
                        has = 0;
                        query = false;
                        continue;
                    }
                    return Err(Error::new(
                        ErrorKind::Unexpected,
                        "Google Drive forgot the upload session (it expired); the file starts over",
                    )
                    .set_temporary());
                }
                Err(e) if e.is_temporary() => {
                    // Where does the service stand? (Its answer may have been lost.)
                    attempt += 1;
                    last_err = Some(e);
                    self.up.http.pause(attempt).await;
                    query = true;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[async_trait]
impl UploadSink for GdriveSink {
    async fn write(&mut self, mut data: Bytes) -> opendal::Result<()> {
        if self.session.is_none() {
            return Err(Self::ended());
        }
        self.md5.update(&data);
        while !data.is_empty() {
            if self.buf.fill(&mut data) {
                let full = self.buf.take();
                self.send_chunk(full, None).await?;
            }
        }
        Ok(())
    }

    async fn close(&mut self) -> opendal::Result<()> {
        let rest = self.buf.take();
        let total = self.acked + rest.len() as u64;
        let answer = self.send_chunk(rest, Some(total)).await?;
        self.session = None;
        let file: Stored = parse("the upload", &answer)?;
        self.stored = Some(file.id.clone());
        let size = file.size.as_deref().and_then(|s| s.parse::<u64>().ok());
        if size != Some(total) {
            return Err(mismatch(format!(
                "Google Drive holds {} bytes where {total} were sent",
                file.size.as_deref().unwrap_or("an unknown number of")
            )));
        }
        let want = hex::encode(std::mem::take(&mut self.md5).finalize());
        match file.md5_checksum.as_deref() {
            Some(got) if got.eq_ignore_ascii_case(&want) => {}
            got => {
                return Err(mismatch(format!(
                    "Google Drive's MD5 is {} where the bytes sent give {want}",
                    got.unwrap_or("missing")
                )));
            }
        }
        self.stored = None;
        for dup in std::mem::take(&mut self.duplicates) {
            // Best effort: the upload itself is stored and proven.
            let _ = self.up.trash(&dup).await;
        }
        Ok(())
    }

    async fn abort(&mut self) {
        if let Some(session) = self.session.take() {
            // Cancels the session (Google answers 499).
            let req = self.up.http.client.delete(session.clone());
            let req = if same_origin(&session, &self.up.http.ep.upload) {
                match self.up.http.bearer().await {
                    Ok(t) => req.bearer_auth(t),
                    Err(_) => req,
                }
            } else {
                req
            };
            let _ = req.send().await;
        }
        if let Some(id) = self.stored.take() {
            // Stored but not what was sent: not left under its name.
            let _ = self.up.trash(&id).await;
        }
    }
}
