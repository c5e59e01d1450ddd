//! [`ObjectDestination`]: a [`Destination`] on a storage service reached through OpenDAL:
//! an object store (S3), or a file service (WebDAV, SFTP) where a file is written under a
//! temporary name and renamed (see "Staging" below).
//!
//! An object cannot be appended to or cut, and the bytes of a multipart upload in progress
//! cannot be read back, so the `.part` of the local disk becomes an upload in progress:
//!
//! - `open_partial(rel, 0)` starts a multipart writer for the final key. Bytes stream into
//!   it and go out as parts of `part_size` bytes; at most a few parts per file are held in
//!   memory, and nothing touches the local disk.
//! - `open_partial_sized(rel, 0, size)` of a file up to `single_put_max` bytes (S3's
//!   `?upload_cutoff=`, 200 MiB by default) instead sends it in ONE PUT of that length whose
//!   body streams as the bytes arrive ([`StreamedPut`], to a URL OpenDAL presigns, with
//!   `Content-Length` set so the body is not chunked): one request where multipart costs
//!   three or more, and at most [`crate::streamed_put::QUEUED_CHUNKS`] network chunks held
//!   per file. The presigned URL carries a signature: it is never put in an error or a log
//!   (the request's errors are reported without their URL, a refusal by its XML `Code` and
//!   `Message` only).
//! - The upload is not visible under its key until the service completes it
//!   (CompleteMultipartUpload, or the single PUT's last byte: its body ends with its
//!   `Content-Length`, so the object may appear, complete, before `finalize` proves it),
//!   which S3 does atomically. So the final key never holds a partial file, without a temporary key to
//!   copy from.
//! - Within one run, an upload whose writer is dropped (the download broke off) is parked
//!   with its length: `partial_len` reports it and `open_partial(rel, that length)` goes on
//!   with the same upload, so a fault of Zoom's connection costs no bytes already sent.
//!   Resuming below that length is refused ([`Destination::truncates_partials`] is false).
//!   A single PUT parked this way keeps its request open, waiting for the rest of the body;
//!   if the service gives up waiting first, the next write fails and the file starts over.
//! - Across runs: on S3, a multipart upload an earlier process left is taken over
//!   ([`crate::s3_multipart`]: the service lists it and its parts): `partial_len` reports
//!   the bytes of its parts and the file goes on after them; other uploads of the key are
//!   aborted. A single PUT broken off leaves nothing at the service, and the other
//!   services' uploads cannot be taken over (OpenDAL's writer cannot continue an upload
//!   of another process), so there a file interrupted by a crash starts over.
//! - `sync` waits until the parts sent so far are stored (what a later run could go on
//!   after); no byte is readable before completion, so there is nothing else to make
//!   durable. `sync_in_background` does not wait.
//! - `finalize` completes the upload, then reads the object's size and ETag back from the
//!   service: the size must be the expected one and, where the ETag is an MD5, it must be
//!   the one computed from the bytes sent. A mismatch removes the object and is an error
//!   the engine retries, so the state never calls an unproven object verified.
//!
//! Staging (WebDAV, SFTP): a file written to those services is visible, growing, under the
//! name it is written to, so the bytes go to `<key>.part`, and `finalize` checks that
//! file's size, renames it to the final name (replacing: WebDAV `MOVE` with `Overwrite: T`,
//! SFTP's `posix-rename`, else remove and rename) and reads the final file's size back.
//! (Azure Blob is an object store like S3: its block list is committed atomically; its ETag
//! is no MD5, but the Content-MD5 it reports for a blob sent in one request is compared
//! with the MD5 of the bytes sent.) Those services offer no checksum, so the proof is the size (and `--verify-hash`'s
//! SHA-256 read back). An abandoned upload's `.part` is removed; one a crash left behind is
//! overwritten when the file starts over.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64_STANDARD;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use md5::{Digest as _, Md5};
use opendal::{ErrorKind, Operator};
use sha2::{Digest as _, Sha256};
use zvm_dest::{DestError, Destination, PartialFile, validate_rel};

use crate::errors;
use crate::etag::{PartHasher, md5_shaped};
use crate::sink::{StartUpload, UploadSink};
use crate::streamed_put::StreamedPut;

/// HEADs in flight at once when the planner asks for the sizes of many files.
const STAT_CONCURRENCY: usize = 16;

/// How long the signature of a single PUT's URL holds. The request goes out at once, and the
/// service checks the signature when the request arrives, not when its body ends, so a
/// slow upload outlasting it is still accepted.
const PRESIGN_FOR: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Distinguishes concurrent write probes of one process.
static PROBE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How an object store is used, apart from the OpenDAL operator itself.
#[derive(Clone, Debug)]
pub struct ObjectSettings {
    /// What the user sees, without credentials: `s3://bucket/prefix`.
    pub name: String,
    /// Multipart part size: what one file holds in memory is a few of these.
    pub part_size: usize,
    /// Parts of one file sent at once (OpenDAL's `concurrent`); 1 sends each part before
    /// taking more bytes.
    pub concurrent: usize,
    /// Files whose size is known and at most this go up in one streamed PUT to a presigned
    /// URL instead of a multipart upload (0: never; only where OpenDAL can presign a write).
    pub single_put_max: u64,
    /// Compare the ETag with the MD5 computed from the bytes sent.
    pub verify_etag: bool,
    /// Compare the Content-MD5 the service reports for the stored object (where it reports
    /// one: Azure, for a blob sent in one request) with the MD5 of the bytes sent.
    pub verify_content_md5: bool,
    /// Write to `<key>.part` and rename on completion (services where a file being
    /// written is visible under its name).
    pub staging: bool,
    /// After the rename, wait until the file can be read under its final name (see
    /// [`await_readable`]).
    pub await_readable: bool,
    /// Longest key the service accepts, in bytes, and the length of the prefix every key
    /// gets (counted against it).
    pub key_limit: usize,
    pub prefix_len: usize,
}

/// An object store under a prefix (the operator's root).
pub struct ObjectDestination {
    op: Operator,
    settings: Arc<ObjectSettings>,
    uploads: Arc<Uploads>,
    /// How an upload is started where OpenDAL's writer does not stream (WebDAV's holds the
    /// whole file in memory); `None`: OpenDAL's writer.
    starter: Option<Arc<dyn StartUpload>>,
    /// S3's multipart uploads, sent by zvm so that a later run can take them over.
    #[cfg(feature = "s3")]
    multipart: Option<Arc<crate::s3_multipart::S3Multipart>>,
    /// How a relative path becomes the service's (the drives' names made acceptable to
    /// them); `None`: as it is.
    names: Option<fn(&str) -> String>,
}

/// Uploads in progress in this process, by key.
#[derive(Default)]
struct Uploads(Mutex<HashMap<String, Arc<Slot>>>);

impl Uploads {
    fn get(&self, key: &str) -> Option<Arc<Slot>> {
        self.lock().get(key).cloned()
    }
    fn insert(&self, key: &str, slot: Arc<Slot>) {
        self.lock().insert(key.to_string(), slot);
    }
    fn remove(&self, key: &str) -> Option<Arc<Slot>> {
        self.lock().remove(key)
    }
    /// Removes `slot` if it is still the one registered for `key`.
    fn remove_if(&self, key: &str, slot: &Arc<Slot>) {
        let mut map = self.lock();
        if map.get(key).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            map.remove(key);
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One upload in progress: its length (read by `partial_len` while a writer is open) and
/// the upload itself while parked (`None` while a [`ObjectPartial`] holds it).
struct Slot {
    len: AtomicU64,
    parked: Mutex<Option<Upload>>,
}

impl Slot {
    fn take(&self) -> Option<Upload> {
        self.parked.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
    fn park(&self, u: Upload) {
        *self.parked.lock().unwrap_or_else(|p| p.into_inner()) = Some(u);
    }
}

struct Upload {
    sink: Box<dyn UploadSink>,
    /// The parts' MD5s, when an ETag is to be checked.
    hasher: Option<PartHasher>,
    /// The MD5 of all the bytes, when a Content-MD5 is to be checked.
    whole_md5: Option<Md5>,
    /// The temporary name the bytes go to (staging), removed if the upload is abandoned.
    staged_at: Option<String>,
    /// A copy of the bytes of a small staged file, to write it again if the writer's close
    /// gets lost (see `write_atomic`); `None` once the file outgrows [`REPLAY_MAX`].
    replay: Option<Vec<u8>>,
}

impl ObjectDestination {
    pub fn new(op: Operator, settings: ObjectSettings) -> Self {
        Self {
            op,
            settings: Arc::new(settings),
            uploads: Arc::default(),
            starter: None,
            #[cfg(feature = "s3")]
            multipart: None,
            names: None,
        }
    }

    /// Paths made acceptable to the service by `names` (each name of a path).
    #[cfg(feature = "drive-uploads")]
    pub(crate) fn with_names(mut self, names: fn(&str) -> String) -> Self {
        self.names = Some(names);
        self
    }

    /// Multipart uploads through `m`, taken over across runs.
    #[cfg(feature = "s3")]
    pub(crate) fn with_multipart(mut self, m: Arc<crate::s3_multipart::S3Multipart>) -> Self {
        self.multipart = Some(m);
        self
    }

    /// An upload of `key` an earlier process left, parked for this run to go on with; its
    /// length. `None` where there is none (or the service cannot take one over).
    async fn take_over(&self, key: &str) -> Option<u64> {
        #[cfg(feature = "s3")]
        if let Some(m) = &self.multipart
            && let Some(found) = m.find(key).await
        {
            let hasher = match (self.settings.verify_etag, found.part_md5s) {
                (true, Some(md5s)) => Some(PartHasher::resumed(self.settings.part_size, md5s)),
                _ => None,
            };
            let slot = Arc::new(Slot {
                len: AtomicU64::new(found.len),
                parked: Mutex::new(Some(Upload {
                    sink: found.sink,
                    hasher,
                    whole_md5: None,
                    staged_at: None,
                    replay: None,
                })),
            });
            self.uploads.insert(key, slot);
            return Some(found.len);
        }
        let _ = key;
        None
    }

    /// Drops what earlier processes left of `key` (the file starts over).
    async fn forget_earlier(&self, key: &str) {
        #[cfg(feature = "s3")]
        if let Some(m) = &self.multipart {
            m.forget(key).await;
        }
        let _ = key;
    }

    /// Uploads through `starter` instead of OpenDAL's writer.
    #[cfg(any(feature = "webdav", feature = "drive-uploads"))]
    pub(crate) fn with_starter(mut self, starter: Arc<dyn StartUpload>) -> Self {
        self.starter = Some(starter);
        self
    }

    /// The key of `rel` under the root, after validation and the service's length limit.
    fn key(&self, rel: &str) -> Result<String, DestError> {
        validate_rel(rel)?;
        let key = match self.names {
            Some(f) => f(rel),
            None => rel.to_string(),
        };
        let s = &self.settings;
        let len = s.prefix_len + key.len();
        if len > s.key_limit {
            return Err(DestError::NameTooLong {
                location: self.location(rel),
                len,
                limit: s.key_limit,
            });
        }
        Ok(key)
    }

    fn location(&self, rel: &str) -> String {
        format!("{}/{rel}", self.settings.name.trim_end_matches('/'))
    }

    /// Whether a file of `size` bytes goes up in one streamed PUT (see the module docs).
    fn single_put(&self, size: Option<u64>) -> bool {
        size.is_some_and(|n| n <= self.settings.single_put_max)
            && self.starter.is_none()
            && !self.settings.staging
            && self.op.info().capability().presign_write
    }

    async fn start_upload(
        &self,
        key: &str,
        rel: &str,
        size: Option<u64>,
    ) -> Result<Upload, DestError> {
        let staged_at = self.settings.staging.then(|| staged_name(key));
        let target = staged_at.as_deref().unwrap_or(key);
        let single = self.single_put(size);
        self.forget_earlier(key).await;
        let sink: Box<dyn UploadSink> = match (&self.starter, size) {
            (_, Some(size)) if single => self.start_single_put(target, size).await,
            (Some(s), _) => s.start(target, size).await,
            #[cfg(feature = "s3")]
            (None, _) if self.multipart.is_some() => {
                let m = self.multipart.as_ref().expect("checked");
                Ok(m.start(target))
            }
            (None, _) => self
                .op
                .writer_with(target)
                .chunk(self.settings.part_size)
                .concurrent(self.settings.concurrent)
                .await
                .map(|w| Box::new(w) as Box<dyn UploadSink>),
        }
        .map_err(|e| errors::of("start an upload to", &self.location(rel), &e))?;
        Ok(Upload {
            sink,
            hasher: self.settings.verify_etag.then(|| {
                if single {
                    PartHasher::whole()
                } else {
                    PartHasher::new(self.settings.part_size)
                }
            }),
            whole_md5: self.settings.verify_content_md5.then(Md5::new),
            replay: (self.settings.staging && self.settings.await_readable).then(Vec::new),
            staged_at,
        })
    }
}

impl ObjectDestination {
    /// One PUT of `size` bytes to `target`, its body fed as the bytes arrive. The URL is
    /// presigned by OpenDAL (the request is signed for an unsigned payload, so the body need
    /// not be known in advance); `Content-Length` is the file's size, so the body goes out
    /// as it is, not chunked (S3 refuses a chunked PUT without its own framing), and the
    /// service refuses a body that ends short.
    async fn start_single_put(
        &self,
        target: &str,
        size: u64,
    ) -> opendal::Result<Box<dyn UploadSink>> {
        let signed = self.op.presign_write(target, PRESIGN_FOR).await?;
        let url = reqwest::Url::parse(&signed.uri().to_string()).map_err(|e| {
            // Not the URL itself: it carries the signature.
            opendal::Error::new(
                ErrorKind::Unexpected,
                format!("the presigned upload URL does not parse: {e}"),
            )
        })?;
        let mut req = crate::transport::upload_client().request(signed.method().clone(), url);
        for (name, value) in signed.header() {
            if name != reqwest::header::HOST && name != reqwest::header::CONTENT_LENGTH {
                req = req.header(name, value);
            }
        }
        let req = req.header(reqwest::header::CONTENT_LENGTH, size);
        Ok(Box::new(StreamedPut::send(req)))
    }
}

/// Where a staged upload of `key` is written until it is complete.
fn staged_name(key: &str) -> String {
    format!("{key}{}", zvm_dest::PART_SUFFIX)
}

/// Best effort: tells the service to drop an upload's parts, and removes a staged file.
async fn abort(op: &Operator, mut u: Upload) {
    u.sink.abort().await;
    let staged = u.staged_at.take();
    // The writer goes first: on SFTP dropping it is what closes the file.
    drop(u);
    if let Some(staged) = staged {
        let _ = remove(op, &staged, true).await;
    }
}

/// How long a renamed file is looked for before it counts as missing. Time, not a count of
/// attempts: 40 looks 50 ms apart (2 s) ran out while CI's build loaded the machine and
/// rclone's `serve sftp` had not yet written the file out (the SFTP conformance suite failed
/// on `write_atomic`). A server that answers at once costs one look.
const READABLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);
/// The first pause between looks; each is half as long again as the last, up to a second.
const READABLE_FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Waits until `path` can be opened and read. OpenDAL's SFTP writer sends the close of a
/// file without waiting for it, and a server that stores a file only on its close while
/// answering `stat` from what it was told (rclone's `serve sftp`) reports the renamed file
/// before it can be read: it counts as stored only once its first byte reads back. Servers
/// that write as they go (OpenSSH) answer on the first attempt.
async fn await_readable(op: &Operator, path: &str, size: u64) -> opendal::Result<()> {
    if size == 0 {
        return Ok(());
    }
    let mut last = None;
    let began = std::time::Instant::now();
    let mut pause = READABLE_FIRST_PAUSE;
    loop {
        match op.read_with(path).range(0..1).await {
            Ok(b) if b.len() == 1 => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => last = Some(e),
            Err(e) => return Err(e),
        }
        if began.elapsed() >= READABLE_WITHIN {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(std::time::Duration::from_secs(1));
    }
    Err(last
        .unwrap_or_else(|| opendal::Error::new(ErrorKind::Unexpected, "the file reads back empty"))
        .set_temporary())
}

/// Times a small file is written to a file service whose writer's close can get lost.
const WRITE_ATTEMPTS: u32 = 3;

/// The largest staged upload whose bytes are kept to be written again if its close gets
/// lost (SFTP): a meeting's chat, transcript, captions and most audio fit; a larger file
/// whose close is lost fails the attempt, and the engine sends it again.
const REPLAY_MAX: usize = 8 << 20;

/// Waits until a staged file of `size` bytes reads back, before it is renamed: a server that applies the writer's
/// late close after the rename never shows the file under its final name (CI: the SFTP
/// conformance suite's `finalize` read back nothing for 30 s). OpenDAL's SFTP writer sends a
/// file's close without waiting for it, and now and then (rclone's `serve sftp` under load)
/// the file is never stored: with a copy of its bytes (`copy`) it is written again.
async fn await_stored(
    op: &Operator,
    staged: &str,
    size: u64,
    copy: Option<&[u8]>,
    location: &str,
) -> Result<(), DestError> {
    let mut attempt = 1;
    loop {
        match await_readable(op, staged, size).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < WRITE_ATTEMPTS && e.kind() == ErrorKind::NotFound => {
                let Some(bytes) = copy else {
                    return Err(errors::of("read back", location, &e));
                };
                attempt += 1;
                op.write(staged, bytes.to_vec())
                    .await
                    .map_err(|e| errors::of("write", location, &e))?;
            }
            Err(e) => return Err(errors::of("read back", location, &e)),
        }
    }
}

/// Times a file service is asked again to remove a file that came back.
const REMOVE_ATTEMPTS: u32 = 20;

/// Removes `path`. On file services (`recheck`) it is then looked for, and removed again if
/// it is back: OpenDAL's SFTP writer closes a file without waiting for the server, and a
/// server that runs requests in parallel and only writes a file out on its close (rclone's
/// `serve sftp`) may apply that close after the removal, bringing the file back.
async fn remove(op: &Operator, path: &str, recheck: bool) -> opendal::Result<()> {
    op.delete(path).await?;
    if !recheck {
        return Ok(());
    }
    for _ in 0..REMOVE_ATTEMPTS {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        match op.stat(path).await {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => op.delete(path).await?,
        }
    }
    Ok(())
}

/// Renames `from` to `to`, replacing `to`. Services whose rename refuses an existing target
/// (SFTP servers without `posix-rename`) get it removed first: the old file there is being
/// replaced anyway, and the new one is complete and checked.
async fn rename_replacing(op: &Operator, from: &str, to: &str) -> opendal::Result<()> {
    match op.rename(from, to).await {
        Ok(()) => Ok(()),
        Err(first) => match op.stat(to).await {
            Ok(_) => {
                op.delete(to).await?;
                op.rename(from, to).await
            }
            Err(_) => Err(first),
        },
    }
}

impl ObjectDestination {
    /// `open_partial`, with the file's whole size when the caller knows it (a new upload of
    /// a file up to `single_put_max` bytes is then one streamed PUT).
    async fn open_upload(
        &self,
        rel: &str,
        offset: u64,
        size: Option<u64>,
    ) -> Result<Box<dyn PartialFile>, DestError> {
        let key = self.key(rel)?;
        let location = self.location(rel);
        let (slot, upload) = if offset == 0 {
            if let Some(old) = self.uploads.remove(&key)
                && let Some(u) = old.take()
            {
                abort(&self.op, u).await;
            }
            let upload = self.start_upload(&key, rel, size).await?;
            let slot = Arc::new(Slot {
                len: AtomicU64::new(0),
                parked: Mutex::new(None),
            });
            self.uploads.insert(&key, slot.clone());
            (slot, upload)
        } else {
            let Some(slot) = self.uploads.get(&key) else {
                return Err(DestError::ResumeBeyondEnd {
                    offset,
                    actual: 0,
                    path: PathBuf::from(location),
                });
            };
            let have = slot.len.load(Ordering::Acquire);
            if offset > have {
                return Err(DestError::ResumeBeyondEnd {
                    offset,
                    actual: have,
                    path: PathBuf::from(location),
                });
            }
            if offset < have {
                return Err(DestError::Unsupported {
                    what: "resuming an upload below the bytes it has sent",
                    path: location,
                });
            }
            let Some(upload) = slot.take() else {
                return Err(DestError::Unsupported {
                    what: "a second writer of an upload in progress",
                    path: location,
                });
            };
            (slot, upload)
        };
        Ok(Box::new(ObjectPartial {
            op: self.op.clone(),
            settings: self.settings.clone(),
            uploads: self.uploads.clone(),
            key,
            location,
            slot,
            upload: Some(upload),
            len: offset,
        }))
    }
}

#[async_trait]
impl Destination for ObjectDestination {
    fn describe(&self) -> String {
        self.settings.name.clone()
    }

    async fn check_writable(&self) -> Result<(), DestError> {
        let probe = format!(
            ".zvm-write-probe-{}-{}",
            std::process::id(),
            PROBE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let location = self.location(&probe);
        if self.settings.staging {
            // A folder, not a file: its creation and removal leave no open file whose late
            // close could bring it back (see `remove`).
            let dir = format!("{probe}/");
            self.op
                .create_dir(&dir)
                .await
                .map_err(|e| errors::of("create a test folder at", &location, &e))?;
            return self
                .op
                .delete(&dir)
                .await
                .map_err(|e| errors::of("remove the test folder", &location, &e));
        }
        self.op
            .write(&probe, Bytes::from_static(b"zvm"))
            .await
            .map_err(|e| errors::of("write a test object at", &location, &e))?;
        self.op
            .delete(&probe)
            .await
            .map_err(|e| errors::of("remove the test object", &location, &e))
    }

    async fn stat_final(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let key = self.key(rel)?;
        match self.op.stat(&key).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.content_length())),
            Ok(_) => Err(DestError::Remote {
                op: "stat",
                location: self.location(rel),
                detail: "something other than a file is in the way; move it aside".into(),
                transient: false,
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(errors::of("stat", &self.location(rel), &e)),
        }
    }

    async fn stat_final_many(&self, rels: &[String]) -> Vec<Result<Option<u64>, DestError>> {
        // One HEAD per object, several at once: an object store has no batch stat.
        let asks: Vec<_> = rels.iter().map(|r| self.stat_final(r)).collect();
        futures::stream::iter(asks)
            .buffered(STAT_CONCURRENCY)
            .collect()
            .await
    }

    async fn partial_len(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let key = self.key(rel)?;
        match self.uploads.get(&key) {
            Some(s) => Ok(Some(s.len.load(Ordering::Acquire))),
            None => Ok(self.take_over(&key).await),
        }
    }

    async fn open_partial(
        &self,
        rel: &str,
        offset: u64,
    ) -> Result<Box<dyn PartialFile>, DestError> {
        self.open_upload(rel, offset, None).await
    }

    async fn open_partial_sized(
        &self,
        rel: &str,
        offset: u64,
        size: u64,
    ) -> Result<Box<dyn PartialFile>, DestError> {
        self.open_upload(rel, offset, Some(size)).await
    }

    async fn write_atomic(&self, rel: &str, bytes: &[u8]) -> Result<(), DestError> {
        let key = self.key(rel)?;
        let location = self.location(rel);
        if !self.settings.staging {
            // One PUT: the object is replaced whole or not at all.
            return self
                .op
                .write(&key, bytes.to_vec())
                .await
                .map(drop)
                .map_err(|e| errors::of("write", &location, &e));
        }
        let staged = staged_name(&key);
        self.op
            .write(&staged, bytes.to_vec())
            .await
            .map_err(|e| errors::of("write", &location, &e))?;
        if self.settings.await_readable {
            await_stored(
                &self.op,
                &staged,
                bytes.len() as u64,
                Some(bytes),
                &location,
            )
            .await?;
        }
        rename_replacing(&self.op, &staged, &key)
            .await
            .map_err(|e| errors::of("rename into place", &location, &e))?;
        if self.settings.await_readable {
            await_readable(&self.op, &key, bytes.len() as u64)
                .await
                .map_err(|e| errors::of("read back", &location, &e))?;
        }
        Ok(())
    }

    async fn sha256_final(&self, rel: &str) -> Result<String, DestError> {
        let key = self.key(rel)?;
        let location = self.location(rel);
        let read_err = |e: std::io::Error| DestError::Remote {
            op: "read back",
            location: location.clone(),
            detail: e.to_string(),
            transient: true,
        };
        let reader = self
            .op
            .reader(&key)
            .await
            .map_err(|e| errors::of("read back", &location, &e))?;
        let mut stream = reader
            .into_bytes_stream(..)
            .await
            .map_err(|e| errors::of("read back", &location, &e))?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.try_next().await.map_err(read_err)? {
            hasher.update(&chunk);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    async fn read_final(&self, rel: &str, limit: u64) -> Result<Vec<u8>, DestError> {
        let key = self.key(rel)?;
        let location = self.location(rel);
        let mut stream = self
            .op
            .reader(&key)
            .await
            .map_err(|e| errors::of("read back", &location, &e))?
            .into_bytes_stream(..)
            .await
            .map_err(|e| errors::of("read back", &location, &e))?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.try_next().await.map_err(|e| DestError::Remote {
            op: "read back",
            location: location.clone(),
            detail: e.to_string(),
            transient: true,
        })? {
            bytes.extend_from_slice(&chunk);
            // Stops at the first chunk past the limit: dropping the stream ends the request.
            if bytes.len() as u64 > limit {
                return Err(DestError::TooLarge { location, limit });
            }
        }
        Ok(bytes)
    }

    async fn remove_partial(&self, rel: &str) -> Result<(), DestError> {
        let key = self.key(rel)?;
        if let Some(slot) = self.uploads.remove(&key)
            && let Some(u) = slot.take()
        {
            abort(&self.op, u).await;
        }
        self.forget_earlier(&key).await;
        if self.settings.staging {
            // Also one an earlier run left behind (deleting an absent file succeeds).
            remove(&self.op, &staged_name(&key), true)
                .await
                .map_err(|e| errors::of("remove the partial", &self.location(rel), &e))?;
        }
        Ok(())
    }

    fn truncates_partials(&self) -> bool {
        false
    }
}

/// An upload in progress, written by one transfer. Dropping it parks the upload (see the
/// module docs); an error of the service ends it.
struct ObjectPartial {
    op: Operator,
    settings: Arc<ObjectSettings>,
    uploads: Arc<Uploads>,
    key: String,
    location: String,
    slot: Arc<Slot>,
    /// `None` once the upload failed or was completed.
    upload: Option<Upload>,
    len: u64,
}

impl ObjectPartial {
    fn ended(&self) -> DestError {
        DestError::Remote {
            op: "go on with the upload of",
            location: self.location.clone(),
            detail: "it failed earlier and was abandoned".into(),
            transient: true,
        }
    }

    /// The upload cannot go on: drop it at the service and forget it here, so the next
    /// attempt starts the file over.
    async fn give_up(&mut self) {
        self.uploads.remove_if(&self.key, &self.slot);
        if let Some(u) = self.upload.take() {
            abort(&self.op, u).await;
        }
    }

    /// Removes an object that failed its proof (best effort: the error says why anyway).
    async fn discard(&self, name: &str) {
        let _ = self.op.delete(name).await;
    }

    /// Reads back the size of what the service holds under `name`; a different size removes
    /// it and is a mismatch (the file is uploaded again).
    async fn prove_size(
        &self,
        name: &str,
        expected_size: u64,
    ) -> Result<opendal::Metadata, DestError> {
        let meta = self
            .op
            .stat(name)
            .await
            .map_err(|e| errors::of("check the uploaded", &self.location, &e))?;
        if meta.content_length() != expected_size {
            self.discard(name).await;
            return Err(DestError::RemoteMismatch {
                location: self.location.clone(),
                detail: format!(
                    "the service holds {} bytes where {expected_size} were sent",
                    meta.content_length()
                ),
            });
        }
        Ok(meta)
    }
}

impl Drop for ObjectPartial {
    fn drop(&mut self) {
        if let Some(u) = self.upload.take() {
            self.slot.park(u);
        }
    }
}

#[async_trait]
impl PartialFile for ObjectPartial {
    async fn write_all(&mut self, buf: &[u8]) -> Result<(), DestError> {
        self.write_bytes(Bytes::copy_from_slice(buf)).await
    }

    async fn write_bytes(&mut self, data: Bytes) -> Result<(), DestError> {
        if data.is_empty() {
            return Ok(());
        }
        let n = data.len() as u64;
        let Some(u) = self.upload.as_mut() else {
            return Err(self.ended());
        };
        if let Some(h) = u.hasher.as_mut() {
            h.update(&data);
        }
        if let Some(h) = u.whole_md5.as_mut() {
            h.update(&data);
        }
        if let Some(r) = u.replay.as_mut() {
            if r.len() + data.len() <= REPLAY_MAX {
                r.extend_from_slice(&data);
            } else {
                u.replay = None;
            }
        }
        if let Err(e) = u.sink.write(data).await {
            let err = errors::of("upload", &self.location, &e);
            self.give_up().await;
            return Err(err);
        }
        self.len += n;
        self.slot.len.store(self.len, Ordering::Release);
        Ok(())
    }

    fn len(&self) -> u64 {
        self.len
    }

    async fn sync(&mut self) -> Result<(), DestError> {
        // No byte of an upload is readable before it completes; what can be made to last is
        // the parts sent so far, which a later run goes on after (S3).
        let Some(u) = self.upload.as_mut() else {
            return Ok(());
        };
        if let Err(e) = u.sink.flush().await {
            let err = errors::of("upload", &self.location, &e);
            self.give_up().await;
            return Err(err);
        }
        Ok(())
    }

    async fn sync_in_background(&mut self) -> Result<(), DestError> {
        // The parts go out as they fill; waiting for them here would stall the download.
        Ok(())
    }

    async fn finalize(mut self: Box<Self>, expected_size: u64) -> Result<u64, DestError> {
        if self.len != expected_size {
            // Kept (parked on drop) for the retry to go on with, like a short `.part`.
            return Err(DestError::SizeMismatch {
                expected: expected_size,
                actual: self.len,
                path: PathBuf::from(self.location.clone()),
            });
        }
        let Some(mut u) = self.upload.take() else {
            return Err(self.ended());
        };
        self.uploads.remove_if(&self.key, &self.slot);
        if let Err(e) = u.sink.close().await {
            let err = errors::of("complete the upload of", &self.location, &e);
            abort(&self.op, u).await;
            return Err(err);
        }
        // The writer goes now: OpenDAL's SFTP writer closes the file only when dropped (and
        // without waiting for the server), so it must not stay open while the file is
        // checked and renamed.
        let Upload {
            sink,
            hasher,
            whole_md5,
            staged_at,
            replay,
        } = u;
        drop(sink);
        // The proof: what the service now holds, asked anew. A staged file is checked before
        // it takes the final name, and again under it.
        let written_to = staged_at.clone().unwrap_or_else(|| self.key.clone());
        let meta = self.prove_size(&written_to, expected_size).await?;
        if let Some(staged) = &staged_at {
            if self.settings.await_readable {
                // Only a copy of all the bytes can be written again.
                let copy = replay
                    .as_deref()
                    .filter(|r| r.len() as u64 == expected_size);
                await_stored(&self.op, staged, expected_size, copy, &self.location).await?;
            }
            if let Err(e) = rename_replacing(&self.op, staged, &self.key).await {
                let err = errors::of("rename into place", &self.location, &e);
                self.discard(staged).await;
                return Err(err);
            }
            self.prove_size(&self.key, expected_size).await?;
            if self.settings.await_readable {
                await_readable(&self.op, &self.key, expected_size)
                    .await
                    .map_err(|e| errors::of("read back", &self.location, &e))?;
            }
            return Ok(expected_size);
        }
        if let Some(md5) = whole_md5
            // GCS reports an empty MD5 for objects it has none for (multipart ones).
            && let Some(reported) = meta.content_md5().filter(|m| !m.is_empty())
        {
            let want = BASE64_STANDARD.encode(md5.finalize());
            if reported != want {
                self.discard(&self.key).await;
                return Err(DestError::RemoteMismatch {
                    location: self.location.clone(),
                    detail: format!(
                        "its Content-MD5 is {reported} where the bytes sent give {want}"
                    ),
                });
            }
        }
        if let Some(hasher) = &hasher
            && let Some(etag) = meta.etag().and_then(md5_shaped)
        {
            let want = hasher.expected_etag();
            if etag != want {
                self.discard(&self.key).await;
                return Err(DestError::RemoteMismatch {
                    location: self.location.clone(),
                    detail: format!(
                        "its ETag is {etag} where the bytes sent give {want} (if the bucket encrypts with SSE-KMS or SSE-C, add ?verify_etag=false to the URL)"
                    ),
                });
            }
        }
        Ok(expected_size)
    }
}
