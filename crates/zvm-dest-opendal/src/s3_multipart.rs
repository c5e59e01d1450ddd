//! S3 multipart uploads that a later run takes over: the service keeps an upload's parts
//! until it is completed or aborted, and lists both the uploads in progress
//! (ListMultipartUploads) and each one's parts with their sizes and ETags (ListParts), so
//! the state of an interrupted upload lives with the service itself, not in a file of ours
//! that could disagree with it. A run that finds an earlier run's upload of a key goes on
//! after its parts (the download resumes from their end), where OpenDAL's writer, which
//! cannot continue an upload id it did not start, would send the whole file again.
//!
//! The requests are OpenDAL's S3 requests (path-style URLs, SigV4 with an unsigned payload,
//! signed by the signer OpenDAL's S3 service uses, with the same credentials). Their
//! answers' errors go through [`crate::errors`] like OpenDAL's own; a signed URL or header
//! is never put in an error.
//!
//! What a run finds is read once, on the first question about an unfinished upload: every
//! upload in progress under the destination's prefix, in one listing (a page per thousand
//! uploads). A key's parts are asked for when that key is asked about. Parts are taken in
//! order from part 1 while each is at least S3's 5 MiB minimum (a shorter one can only be
//! the last part, after which nothing can follow); a gap ends them, and what lies beyond it
//! is sent again under the same part numbers. Other uploads of the same key (a run killed
//! twice) are aborted once one of them is taken over, and all of them when the file starts
//! over, so abandoned parts do not stay billed until a lifecycle rule removes them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use opendal::{Error, ErrorKind};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqsign_aws_v4::Credential;
use reqsign_core::Signer;
use serde::Deserialize;
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinHandle;

use crate::sink::UploadSink;

/// S3's smallest part but the last.
const MIN_PART: u64 = crate::url::S3_MIN_PART as u64;

/// Attempts of one request on a temporary error (as OpenDAL's retry layer gives its own).
const ATTEMPTS: u32 = crate::transport::RETRIES as u32 + 1;

/// What a path segment keeps unencoded: RFC 3986's unreserved characters (S3's rule for
/// the canonical URI, which the signature covers).
const KEY_CHARS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An upload an earlier run left, as far as it can be continued.
pub(crate) struct Found {
    /// Bytes in its usable parts.
    pub len: u64,
    /// Their MD5s, from their ETags (`None` if one is not an MD5: SSE-KMS, some gateways).
    pub part_md5s: Option<Vec<[u8; 16]>>,
    /// The upload, to be continued after them.
    pub sink: Box<dyn UploadSink>,
}

/// Multipart uploads to one bucket under one prefix.
pub(crate) struct S3Multipart {
    client: reqwest::Client,
    signer: Signer<Credential>,
    /// `{endpoint}/{bucket}`, path-style as OpenDAL's S3 service addresses it.
    bucket_url: String,
    /// The prefix every key gets (`prefix/`, or empty).
    root: String,
    part_size: usize,
    concurrent: usize,
    /// Parts that may be sent in the background across all uploads (`upload_memory` over
    /// the part size); each upload's own part being filled is not counted.
    background: Arc<Semaphore>,
    /// The blocks of parts that have been sent, for the parts still to fill.
    blocks: BlockPool,
    /// Uploads in progress by key (relative to the prefix), as listed at the first question
    /// of this run; a key's entry is taken once it is asked about.
    earlier: OnceCell<Mutex<HashMap<String, Vec<String>>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateResult {
    upload_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUploadsResult {
    #[serde(default)]
    is_truncated: bool,
    next_key_marker: Option<String>,
    next_upload_id_marker: Option<String>,
    #[serde(default, rename = "Upload")]
    uploads: Vec<ListedUpload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedUpload {
    key: String,
    upload_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPartsResult {
    #[serde(default)]
    is_truncated: bool,
    next_part_number_marker: Option<String>,
    #[serde(default, rename = "Part")]
    parts: Vec<ListedPart>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct ListedPart {
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
    size: u64,
}

impl S3Multipart {
    pub(crate) fn new(
        signer: Signer<Credential>,
        bucket_url: String,
        prefix: &str,
        part_size: usize,
        concurrent: usize,
        upload_memory: usize,
    ) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            client: crate::transport::part_client(),
            signer,
            bucket_url: bucket_url.trim_end_matches('/').to_string(),
            root: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            part_size,
            concurrent: concurrent.max(1),
            background: Arc::new(Semaphore::new(upload_memory / part_size.max(1))),
            blocks: BlockPool::default(),
            earlier: OnceCell::new(),
        }
    }

    fn object_url(&self, key: &str) -> String {
        let full = format!("{}{key}", self.root);
        let path: Vec<String> = full
            .split('/')
            .map(|s| utf8_percent_encode(s, KEY_CHARS).to_string())
            .collect();
        format!("{}/{}", self.bucket_url, path.join("/"))
    }

    /// Sends a signed request (retrying temporary failures) and returns the answer's
    /// headers and body; `body` is sent again whole on a retry.
    async fn send(
        &self,
        method: http::Method,
        url: &str,
        body: &[Bytes],
    ) -> opendal::Result<(http::HeaderMap, Bytes)> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let pause = Duration::from_millis(200 << attempt.min(5));
                tokio::time::sleep(pause).await;
            }
            match self.send_once(method.clone(), url, body).await {
                Ok(ok) => return Ok(ok),
                Err(e) if e.is_temporary() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Unexpected, "no attempt was made")))
    }

    async fn send_once(
        &self,
        method: http::Method,
        url: &str,
        body: &[Bytes],
    ) -> opendal::Result<(http::HeaderMap, Bytes)> {
        let len: usize = body.iter().map(Bytes::len).sum();
        let (mut parts, ()) = http::Request::builder()
            .method(method)
            .uri(url)
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .header(http::header::CONTENT_LENGTH, len)
            .body(())
            .map_err(|e| Error::new(ErrorKind::Unexpected, format!("a bad request: {e}")))?
            .into_parts();
        self.signer.sign(&mut parts, None).await.map_err(|e| {
            Error::new(
                ErrorKind::PermissionDenied,
                format!("cannot sign the request: {e}"),
            )
        })?;
        // reqwest sets Host itself (from the same URL the signature covers).
        parts.headers.remove(http::header::HOST);
        let url = reqwest::Url::parse(url)
            .map_err(|e| Error::new(ErrorKind::Unexpected, format!("a bad URL: {e}")))?;
        let chunks: Vec<Result<Bytes, std::io::Error>> = body.iter().cloned().map(Ok).collect();
        let req = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
        let resp = req.send().await.map_err(|e| {
            // Without the URL: its query names the upload.
            Error::new(ErrorKind::Unexpected, e.without_url().to_string()).set_temporary()
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.bytes().await.map_err(|e| {
            Error::new(ErrorKind::Unexpected, e.without_url().to_string()).set_temporary()
        })?;
        // CompleteMultipartUpload may answer 200 with an error in its body.
        if !status.is_success() || text.starts_with(b"<?xml") && contains(&text, b"<Error>") {
            let status = if status.is_success() {
                reqwest::StatusCode::INTERNAL_SERVER_ERROR
            } else {
                status
            };
            return Err(crate::streamed_put::status_error(
                status,
                &String::from_utf8_lossy(&text),
            ));
        }
        Ok((headers, text))
    }

    fn parse<T: for<'de> Deserialize<'de>>(what: &str, body: &[u8]) -> opendal::Result<T> {
        quick_xml::de::from_reader(body).map_err(|e| {
            Error::new(
                ErrorKind::Unexpected,
                format!("the service's answer to {what} does not read: {e}"),
            )
        })
    }

    async fn create(&self, key: &str) -> opendal::Result<String> {
        let url = format!("{}?uploads", self.object_url(key));
        let (_, body) = self.send(http::Method::POST, &url, &[]).await?;
        Ok(Self::parse::<InitiateResult>("CreateMultipartUpload", &body)?.upload_id)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        body: &[Bytes],
    ) -> opendal::Result<String> {
        let url = format!(
            "{}?partNumber={number}&uploadId={}",
            self.object_url(key),
            utf8_percent_encode(upload_id, KEY_CHARS)
        );
        let (headers, _) = self.send(http::Method::PUT, &url, body).await?;
        headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| Error::new(ErrorKind::Unexpected, "a part's answer has no ETag"))
    }

    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> opendal::Result<()> {
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (n, etag) in parts {
            xml.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
                quick_xml::escape::escape(etag.as_str())
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let url = format!(
            "{}?uploadId={}",
            self.object_url(key),
            utf8_percent_encode(upload_id, KEY_CHARS)
        );
        self.send(http::Method::POST, &url, &[Bytes::from(xml)])
            .await
            .map(drop)
    }

    /// One PUT of a whole object (a file no longer than one part).
    async fn put(&self, key: &str, body: &[Bytes]) -> opendal::Result<()> {
        self.send(http::Method::PUT, &self.object_url(key), body)
            .await
            .map(drop)
    }

    async fn abort(&self, key: &str, upload_id: &str) -> opendal::Result<()> {
        let url = format!(
            "{}?uploadId={}",
            self.object_url(key),
            utf8_percent_encode(upload_id, KEY_CHARS)
        );
        match self.send(http::Method::DELETE, &url, &[]).await {
            // Already gone (completed or aborted elsewhere): nothing to abort.
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            r => r.map(drop),
        }
    }

    /// Every upload in progress under the prefix, by key relative to it.
    async fn list_uploads(&self) -> opendal::Result<HashMap<String, Vec<String>>> {
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut url = format!(
                "{}?uploads&prefix={}",
                self.bucket_url,
                utf8_percent_encode(&self.root, KEY_CHARS)
            );
            if let Some((k, u)) = &markers {
                url.push_str(&format!(
                    "&key-marker={}&upload-id-marker={}",
                    utf8_percent_encode(k, KEY_CHARS),
                    utf8_percent_encode(u, KEY_CHARS)
                ));
            }
            let (_, body) = self.send(http::Method::GET, &url, &[]).await?;
            let page: ListUploadsResult = Self::parse("ListMultipartUploads", &body)?;
            for u in page.uploads {
                if let Some(key) = u.key.strip_prefix(&self.root) {
                    found.entry(key.to_string()).or_default().push(u.upload_id);
                }
            }
            match (
                page.is_truncated,
                page.next_key_marker,
                page.next_upload_id_marker,
            ) {
                (true, Some(k), Some(u)) if markers.as_ref() != Some(&(k.clone(), u.clone())) => {
                    markers = Some((k, u));
                }
                _ => return Ok(found),
            }
        }
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> opendal::Result<Vec<ListedPart>> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut url = format!(
                "{}?uploadId={}",
                self.object_url(key),
                utf8_percent_encode(upload_id, KEY_CHARS)
            );
            if let Some(m) = &marker {
                url.push_str(&format!("&part-number-marker={m}"));
            }
            let (_, body) = self.send(http::Method::GET, &url, &[]).await?;
            let page: ListPartsResult = Self::parse("ListParts", &body)?;
            parts.extend(page.parts);
            match (page.is_truncated, page.next_part_number_marker) {
                (true, Some(m)) if marker.as_ref() != Some(&m) => marker = Some(m),
                _ => return Ok(parts),
            }
        }
    }

    /// The uploads of `key` an earlier run left, taken out of this run's listing (listed
    /// on the first call). Taking over is a saving, never a condition: a listing the
    /// service refuses (a policy without `s3:ListBucketMultipartUploads`) or that fails
    /// counts as none found, once per run, and every file starts over as before.
    async fn take_earlier(&self, key: &str) -> Vec<String> {
        let map = self
            .earlier
            .get_or_init(|| async { Mutex::new(self.list_uploads().await.unwrap_or_default()) })
            .await;
        map.lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key)
            .unwrap_or_default()
    }

    /// A new upload of `key` (nothing is sent before its first full part).
    pub(crate) fn start(self: &Arc<Self>, key: &str) -> Box<dyn UploadSink> {
        Box::new(MultipartSink::new(self, key, None, Vec::new(), Vec::new()))
    }

    /// Aborts the uploads earlier runs left of `key` (the file starts over).
    pub(crate) async fn forget(&self, key: &str) {
        let ids = self.take_earlier(key).await;
        self.abort_all(key, ids).await;
    }

    /// The longest upload of `key` an earlier run left, ready to be continued; the others
    /// are aborted when it is. `None` if there is none with a usable part (they are
    /// aborted now).
    pub(crate) async fn find(self: &Arc<Self>, key: &str) -> Option<Found> {
        let ids = self.take_earlier(key).await;
        let mut best: Option<(String, Vec<ListedPart>, u64)> = None;
        let mut others = Vec::new();
        for id in ids {
            let parts = match self.list_parts(key, &id).await {
                Ok(p) => usable(p, self.part_size as u64),
                // Gone since the listing, or unreadable: not one to go on with.
                Err(_) => {
                    others.push(id);
                    continue;
                }
            };
            let len: u64 = parts.iter().map(|p| p.size).sum();
            match &best {
                Some((_, _, l)) if *l >= len => others.push(id),
                _ => {
                    if let Some((old, _, _)) = best.take() {
                        others.push(old);
                    }
                    best = Some((id, parts, len));
                }
            }
        }
        let Some((id, parts, len)) = best else {
            self.abort_all(key, others).await;
            return None;
        };
        if len == 0 {
            // Nothing worth going on with: the file starts over, and these go.
            others.push(id);
            self.abort_all(key, others).await;
            return None;
        }
        let part_md5s = parts
            .iter()
            .map(|p| crate::etag::md5_shaped(&p.etag).and_then(|e| md5_bytes(&e)))
            .collect::<Option<Vec<_>>>();
        let done = parts.into_iter().map(|p| (p.part_number, p.etag)).collect();
        Some(Found {
            len,
            part_md5s,
            sink: Box::new(MultipartSink::new(self, key, Some(id), done, others)),
        })
    }

    /// Best effort: the parts of these uploads are dropped at the service.
    pub(crate) async fn abort_all(&self, key: &str, ids: Vec<String>) {
        for id in ids {
            let _ = self.abort(key, &id).await;
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn md5_bytes(hex_md5: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex_md5, &mut out).ok()?;
    Some(out)
}

/// The parts an upload can go on after: 1, 2, 3... without a gap, each at least S3's
/// minimum (a shorter part could only have been the last) and, for the proof's ETag, the
/// same size as the parts this run cuts, but the last.
fn usable(mut parts: Vec<ListedPart>, part_size: u64) -> Vec<ListedPart> {
    parts.sort_by_key(|p| p.part_number);
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if p.part_number as usize != i + 1 || p.size < MIN_PART || p.size != part_size {
            break;
        }
        out.push(p);
    }
    out
}

/// A multipart upload fed as the bytes arrive: a part goes out once it is full and more
/// bytes follow (so a file of one part or less is one PUT, as OpenDAL's writer sends it and
/// as [`crate::etag::PartHasher`] expects), with `concurrent` parts in flight at most.
struct MultipartSink {
    api: Arc<S3Multipart>,
    key: String,
    /// `None` until the first part goes out.
    upload_id: Option<String>,
    /// Parts the service has, in order: number and ETag.
    done: Vec<(u32, String)>,
    in_flight: VecDeque<(u32, JoinHandle<opendal::Result<String>>)>,
    /// The next part's bytes so far.
    buf: PartBuffer,
    next_part: u32,
    /// Other uploads of the key an earlier run left, aborted once this one goes on.
    stale: Vec<String>,
}

impl MultipartSink {
    /// An upload of `key`: a new one (`upload_id` `None`, created with the first part), or
    /// one going on after the parts `done`.
    fn new(
        api: &Arc<S3Multipart>,
        key: &str,
        upload_id: Option<String>,
        done: Vec<(u32, String)>,
        stale: Vec<String>,
    ) -> Self {
        Self {
            api: api.clone(),
            key: key.to_string(),
            upload_id,
            next_part: done.len() as u32 + 1,
            done,
            in_flight: VecDeque::new(),
            buf: PartBuffer::default(),
            stale,
        }
    }

    async fn drop_stale(&mut self) {
        if !self.stale.is_empty() {
            let ids = std::mem::take(&mut self.stale);
            self.api.abort_all(&self.key, ids).await;
        }
    }

    /// Waits for the oldest part in flight.
    async fn settle_one(&mut self) -> opendal::Result<()> {
        let Some((n, task)) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let etag = task.await.unwrap_or_else(|e| {
            Err(Error::new(
                ErrorKind::Unexpected,
                format!("the part's upload task failed: {e}"),
            ))
        })?;
        self.done.push((n, etag));
        Ok(())
    }

    async fn send_buffered(&mut self) -> opendal::Result<()> {
        let id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let id = self.api.create(&self.key).await?;
                self.upload_id = Some(id.clone());
                id
            }
        };
        while self.in_flight.len() >= self.api.concurrent {
            self.settle_one().await?;
        }
        let body = self.buf.take();
        let n = self.next_part;
        self.next_part += 1;
        match self.api.background.clone().try_acquire_owned() {
            // The part goes in the background while the next fills: its memory is the
            // budget's until the service answers.
            Ok(permit) => {
                let (api, key) = (self.api.clone(), self.key.clone());
                let task = tokio::spawn(async move {
                    let _held = permit;
                    let sent = api.upload_part(&key, &id, n, &body).await;
                    api.blocks.give_back(body);
                    sent
                });
                self.in_flight.push_back((n, task));
            }
            // The budget is spent: this file sends its part and waits (after the parts before
            // it, so that `done` stays in order), holding no more than the part it filled.
            Err(_) => {
                self.flush().await?;
                let sent = self.api.upload_part(&self.key, &id, n, &body).await;
                self.api.blocks.give_back(body);
                self.done.push((n, sent?));
            }
        }
        Ok(())
    }
}

/// Bytes of a part gathered in blocks of [`BLOCK`]: the network's chunks are copied out,
/// since each pins the read buffer it shares with others (a part's worth of them held more
/// memory than the part), and into blocks rather than one part-sized buffer, which the
/// allocator kept around (measured at -j 8 with 8 files of 512 MiB: chunks 131 MiB peak
/// RSS, one 5 MiB buffer per part 151 MiB; BENCHMARKS.md).
#[derive(Default)]
struct PartBuffer {
    blocks: Vec<Bytes>,
    current: BytesMut,
    len: usize,
}

/// The size of a [`PartBuffer`]'s blocks.
const BLOCK: usize = 256 * 1024;

/// Blocks of parts the service has answered, filled again for later parts. Freed instead,
/// glibc's arenas kept them as free space the process never gave back (its threshold for
/// returning a freed buffer to the system rises with the buffers freed): at `-j 8` with 8
/// large recordings peak RSS stood some 25 MiB above the parts in use (BENCHMARKS.md). The
/// pool holds no more blocks than were in use at once, and at most [`POOL_MAX`].
#[derive(Default)]
struct BlockPool(Mutex<Vec<BytesMut>>);

/// Most blocks a [`BlockPool`] keeps (128 MiB): beyond what the defaults ever have in use
/// at `-j 16`; more are freed.
const POOL_MAX: usize = 512;

impl BlockPool {
    fn take(&self) -> BytesMut {
        self.lock()
            .pop()
            .unwrap_or_else(|| BytesMut::with_capacity(BLOCK))
    }

    /// Keeps the blocks of a part that was sent; a block still shared (a request that has
    /// not let go of it yet) is simply dropped.
    fn give_back(&self, blocks: Vec<Bytes>) {
        let mut pool = self.lock();
        for b in blocks {
            if pool.len() >= POOL_MAX {
                break;
            }
            if let Ok(mut m) = b.try_into_mut()
                && m.capacity() >= BLOCK
            {
                m.clear();
                pool.push(m);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BytesMut>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PartBuffer {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, mut data: &[u8], pool: &BlockPool) {
        while !data.is_empty() {
            if self.current.len() == self.current.capacity() {
                if !self.current.is_empty() {
                    self.blocks.push(std::mem::take(&mut self.current).freeze());
                }
                self.current = pool.take();
            }
            let n = (self.current.capacity() - self.current.len()).min(data.len());
            self.current.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.len += n;
        }
    }

    /// The bytes gathered, as the part's body; the buffer is empty after.
    fn take(&mut self) -> Vec<Bytes> {
        if !self.current.is_empty() {
            self.blocks.push(std::mem::take(&mut self.current).freeze());
        }
        self.len = 0;
        std::mem::take(&mut self.blocks)
    }
}

#[async_trait]
impl UploadSink for MultipartSink {
    async fn write(&mut self, mut data: Bytes) -> opendal::Result<()> {
        self.drop_stale().await;
        let part = self.api.part_size;
        while !data.is_empty() {
            if self.buf.len() == part {
                self.send_buffered().await?;
            }
            let take = (part - self.buf.len()).min(data.len());
            self.buf.push(&data.split_to(take), &self.api.blocks);
        }
        Ok(())
    }

    async fn flush(&mut self) -> opendal::Result<()> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        Ok(())
    }

    async fn close(&mut self) -> opendal::Result<()> {
        self.drop_stale().await;
        let Some(id) = self.upload_id.clone() else {
            let body = self.buf.take();
            let sent = self.api.put(&self.key, &body).await;
            self.api.blocks.give_back(body);
            return sent;
        };
        if !self.buf.is_empty() {
            self.send_buffered().await?;
        }
        self.flush().await?;
        self.api.complete(&self.key, &id, &self.done).await
    }

    async fn abort(&mut self) {
        for (_, task) in self.in_flight.drain(..) {
            task.abort();
        }
        let mut ids = std::mem::take(&mut self.stale);
        ids.extend(self.upload_id.take());
        self.api.abort_all(&self.key, ids).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: u32, size: u64) -> ListedPart {
        ListedPart {
            part_number: n,
            etag: format!("\"{:032x}\"", n),
            size,
        }
    }

    #[test]
    fn a_part_buffer_gives_back_every_byte_in_order() {
        let pool = BlockPool::default();
        let mut b = PartBuffer::default();
        let data: Vec<u8> = (0..(3 * BLOCK + 17)).map(|i| (i % 251) as u8).collect();
        for piece in data.chunks(10_000) {
            b.push(piece, &pool);
        }
        assert_eq!(b.len(), data.len());
        let blocks = b.take();
        assert!(blocks.iter().all(|x| x.len() <= BLOCK));
        assert_eq!(blocks.concat(), data);
        assert!(b.is_empty());
        assert!(b.take().is_empty());
        // The blocks of a part sent fill the next part, which holds its own bytes only.
        pool.give_back(blocks);
        assert_eq!(pool.lock().len(), 4);
        let next: Vec<u8> = (0..(BLOCK + 5)).map(|i| (i % 7) as u8).collect();
        for piece in next.chunks(3000) {
            b.push(piece, &pool);
        }
        assert_eq!(pool.lock().len(), 2, "two blocks taken from the pool");
        assert_eq!(b.take().concat(), next);
    }

    #[test]
    fn an_upload_goes_on_after_its_parts_in_order_up_to_a_gap_or_a_short_part() {
        let p = MIN_PART;
        let sizes = |v: Vec<ListedPart>| v.iter().map(|x| x.part_number).collect::<Vec<_>>();
        assert_eq!(
            sizes(usable(vec![part(2, p), part(1, p), part(3, p)], p)),
            [1, 2, 3]
        );
        assert_eq!(sizes(usable(vec![part(1, p), part(3, p)], p)), [1]);
        assert_eq!(sizes(usable(vec![part(2, p)], p)), Vec::<u32>::new());
        // A last part shorter than the minimum: nothing can follow it.
        assert_eq!(sizes(usable(vec![part(1, p), part(2, 10)], p)), [1]);
        // Parts of another size (another ?part_size=): the ETag would not be the one
        // this run computes, so the file starts over.
        assert_eq!(sizes(usable(vec![part(1, 2 * p)], p)), Vec::<u32>::new());
    }

    #[test]
    fn the_services_answers_read() {
        let list: ListUploadsResult = S3Multipart::parse(
            "ListMultipartUploads",
            br#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
<NextKeyMarker>zoom/b</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
<MaxUploads>1000</MaxUploads><IsTruncated>true</IsTruncated>
<Upload><Key>zoom/a</Key><UploadId>u1</UploadId><Initiated>2026-12-01T00:00:00.000Z</Initiated></Upload>
<Upload><Key>zoom/b</Key><UploadId>u2</UploadId></Upload>
</ListMultipartUploadsResult>"#,
        )
        .unwrap();
        assert!(list.is_truncated);
        assert_eq!(list.next_upload_id_marker.as_deref(), Some("u2"));
        let ids: Vec<_> = list
            .uploads
            .iter()
            .map(|u| (&*u.key, &*u.upload_id))
            .collect();
        assert_eq!(ids, [("zoom/a", "u1"), ("zoom/b", "u2")]);
        let empty: ListUploadsResult = S3Multipart::parse(
            "ListMultipartUploads",
            b"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>",
        )
        .unwrap();
        assert!(empty.uploads.is_empty());
        let parts: ListPartsResult = S3Multipart::parse(
            "ListParts",
            br#"<ListPartsResult><IsTruncated>false</IsTruncated>
<Part><PartNumber>1</PartNumber><ETag>"0123456789abcdef0123456789abcdef"</ETag><Size>5242880</Size></Part>
</ListPartsResult>"#,
        )
        .unwrap();
        assert_eq!(parts.parts.len(), 1);
        assert_eq!(parts.parts[0].size, 5_242_880);
        assert_eq!(
            md5_bytes(&crate::etag::md5_shaped(&parts.parts[0].etag).unwrap()),
            Some([
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                0xcd, 0xef
            ])
        );
    }
}
