//! [`LocalDestination`]: files on a local (or mounted) file system.
//!
//! Writes are gathered until `BUF_SIZE` bytes wait (network chunks are kept as they came, as
//! reference-counted `Bytes`, not copied); the full queue is handed to `spawn_blocking` as
//! vectored writes while the caller keeps filling a second queue, so network and disk overlap
//! and memory stays at about two buffers per open file. `spawn_blocking` rather than
//! `block_in_place` because the latter panics on current-thread runtimes. Nothing is fsynced
//! per chunk: only `sync()` (called by the engine every few seconds) and `finalize()` are.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use tokio::task::{JoinHandle, spawn_blocking};

use crate::{DestError, Destination, PART_SUFFIX, PartialFile, validate_rel};

/// Bytes gathered before one write to the file. Measured (`cargo bench -p zvm-dest --bench
/// copy_loop`, BENCHMARKS.md): a write per 64 KiB network chunk is 1.5x slower than 256 KiB,
/// and 1 or 4 MiB gain nothing over 256 KiB; at 64 transfers with two buffers each, 256 KiB
/// is 32 MiB where 1 MiB would be 128 MiB.
pub const BUF_SIZE: usize = 256 * 1024;

/// Distinguishes concurrent temp files of `write_atomic` within one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory on the local file system.
#[derive(Clone, Debug)]
pub struct LocalDestination {
    root: PathBuf,
    write_buffer: usize,
}

impl LocalDestination {
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            write_buffer: BUF_SIZE,
        }
    }

    /// Another size for the write buffer of partial files (benchmarks compare sizes).
    pub fn with_write_buffer(mut self, bytes: usize) -> Self {
        self.write_buffer = bytes.max(1);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn write_buffer(&self) -> usize {
        self.write_buffer
    }

    /// The absolute path of `rel` under the root, after validation.
    pub fn final_path(&self, rel: &str) -> Result<PathBuf, DestError> {
        let mut p = self.root.clone();
        for part in validate_rel(rel)? {
            p.push(part);
        }
        Ok(p)
    }

    /// The path of `<rel>.part`.
    pub fn part_path(&self, rel: &str) -> Result<PathBuf, DestError> {
        Ok(with_suffix(&self.final_path(rel)?, PART_SUFFIX))
    }
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Runs blocking file work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    op: &'static str,
    path: &Path,
    f: impl FnOnce() -> Result<T, DestError> + Send + 'static,
) -> Result<T, DestError> {
    spawn_blocking(f)
        .await
        .map_err(|e| DestError::task(op, path, e))?
}

pub(crate) fn create_parent(path: &Path) -> Result<(), DestError> {
    match path.parent() {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| DestError::io("create directory", dir, e))
        }
        None => Ok(()),
    }
}

/// Size of a regular file, `None` if absent; a directory in the way is an error, not "absent".
pub(crate) fn file_len(path: &Path) -> Result<Option<u64>, DestError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(m.len())),
        Ok(_) => Err(DestError::Io {
            op: "stat",
            path: path.to_path_buf(),
            source: io::Error::other(
                "something other than a regular file is in the way; move it aside",
            ),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DestError::io("stat", path, e)),
    }
}

/// fsync of a directory so a rename in it survives a crash. Not possible on Windows (where
/// the rename is made durable by the file system itself), so a no-op there.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), DestError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DestError::io("sync directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Puts a complete partial file under its final name: fsync, the size checked, rename,
/// the folder fsynced. Blocking; the one commit of the `.part` and the ranged file alike.
pub(crate) fn commit_part(
    file: File,
    part: PathBuf,
    fin: &Path,
    expected_size: u64,
) -> Result<u64, DestError> {
    file.sync_all()
        .map_err(|e| DestError::io("sync", &part, e))?;
    // Check the file itself, not our byte counter: it is what gets renamed, and a writer
    // dropped earlier may still have extended it.
    let actual = file
        .metadata()
        .map_err(|e| DestError::io("stat", &part, e))?
        .len();
    if actual != expected_size {
        return Err(DestError::SizeMismatch {
            expected: expected_size,
            actual,
            path: part,
        });
    }
    drop(file);
    std::fs::rename(&part, fin).map_err(|e| DestError::io("rename into place", fin, e))?;
    sync_dir(parent_or_root(fin))?;
    Ok(actual)
}

pub(crate) fn parent_or_root(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

#[async_trait]
impl Destination for LocalDestination {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn check_writable(&self) -> Result<(), DestError> {
        let root = self.root.clone();
        blocking("check", &self.root, move || {
            std::fs::create_dir_all(&root)
                .map_err(|e| DestError::io("create directory", &root, e))?;
            let probe = root.join(format!(
                ".zvm-write-probe-{}-{}",
                std::process::id(),
                TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let res = File::create(&probe)
                .and_then(|mut f| f.write_all(b"zvm"))
                .map_err(|e| DestError::io("write a test file in", &root, e));
            // Remove even if the write failed half-way.
            let removed = std::fs::remove_file(&probe);
            res?;
            removed.map_err(|e| DestError::io("remove test file", &probe, e))
        })
        .await
    }

    async fn stat_final(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let path = self.final_path(rel)?;
        blocking("stat", &path.clone(), move || file_len(&path)).await
    }

    async fn stat_final_many(&self, rels: &[String]) -> Vec<Result<Option<u64>, DestError>> {
        let paths: Vec<Result<PathBuf, DestError>> =
            rels.iter().map(|r| self.final_path(r)).collect();
        let n = paths.len();
        match spawn_blocking(move || {
            paths
                .into_iter()
                .map(|p| p.and_then(|p| file_len(&p)))
                .collect::<Vec<_>>()
        })
        .await
        {
            Ok(v) => v,
            Err(e) => {
                let e = format!("background task failed: {e}");
                (0..n)
                    .map(|_| {
                        Err(DestError::io(
                            "stat",
                            &self.root,
                            io::Error::other(e.clone()),
                        ))
                    })
                    .collect()
            }
        }
    }

    async fn partial_len(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let path = self.part_path(rel)?;
        blocking("stat", &path.clone(), move || file_len(&path)).await
    }

    async fn open_partial(
        &self,
        rel: &str,
        offset: u64,
    ) -> Result<Box<dyn PartialFile>, DestError> {
        let final_path = self.final_path(rel)?;
        let part_path = with_suffix(&final_path, PART_SUFFIX);
        let p = part_path.clone();
        let file = blocking("open", &part_path, move || {
            create_parent(&p)?;
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&p)
                .map_err(|e| DestError::io("open", &p, e))?;
            let have = file
                .metadata()
                .map_err(|e| DestError::io("stat", &p, e))?
                .len();
            if offset > have {
                return Err(DestError::ResumeBeyondEnd {
                    offset,
                    actual: have,
                    path: p,
                });
            }
            if offset < have {
                file.set_len(offset)
                    .map_err(|e| DestError::io("truncate", &p, e))?;
            }
            // Opened without `append` (so `set_len` behaves the same everywhere): position the
            // cursor at the resume point explicitly.
            file.seek(io::SeekFrom::Start(offset))
                .map_err(|e| DestError::io("seek", &p, e))?;
            Ok(file)
        })
        .await?;
        Ok(Box::new(LocalPartial::new(
            file,
            self.write_buffer,
            offset,
            part_path,
            final_path,
        )))
    }

    async fn write_atomic(&self, rel: &str, bytes: &[u8]) -> Result<(), DestError> {
        let path = self.final_path(rel)?;
        let bytes = bytes.to_vec();
        blocking("write", &path.clone(), move || {
            create_parent(&path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = path.with_file_name(format!(
                ".{name}.tmp-{}-{}",
                std::process::id(),
                TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let res = (|| {
                let mut f = File::create(&tmp).map_err(|e| DestError::io("create", &tmp, e))?;
                f.write_all(&bytes)
                    .map_err(|e| DestError::io("write", &tmp, e))?;
                f.sync_all().map_err(|e| DestError::io("sync", &tmp, e))?;
                drop(f);
                std::fs::rename(&tmp, &path)
                    .map_err(|e| DestError::io("rename into place", &path, e))
            })();
            if res.is_err() {
                // Best effort: a leftover temp file is harmless but untidy.
                let _ = std::fs::remove_file(&tmp);
            }
            res?;
            sweep_stale_temps(&path, &name);
            sync_dir(parent_or_root(&path))
        })
        .await
    }

    async fn sha256_final(&self, rel: &str) -> Result<String, DestError> {
        let path = self.final_path(rel)?;
        blocking("read", &path.clone(), move || {
            let mut f = File::open(&path).map_err(|e| DestError::io("open", &path, e))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; BUF_SIZE];
            loop {
                match f.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => hasher.update(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(DestError::io("read", &path, e)),
                }
            }
            Ok(hex::encode(hasher.finalize()))
        })
        .await
    }

    async fn read_final(&self, rel: &str, limit: u64) -> Result<Vec<u8>, DestError> {
        let path = self.final_path(rel)?;
        blocking("read", &path.clone(), move || {
            let f = File::open(&path).map_err(|e| DestError::io("open", &path, e))?;
            let mut bytes = Vec::new();
            // One byte past the limit tells a file over it without reading the rest.
            f.take(limit.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| DestError::io("read", &path, e))?;
            if bytes.len() as u64 > limit {
                return Err(DestError::TooLarge {
                    location: path.display().to_string(),
                    limit,
                });
            }
            Ok(bytes)
        })
        .await
    }

    async fn remove_partial(&self, rel: &str) -> Result<(), DestError> {
        let path = self.part_path(rel)?;
        blocking(
            "remove",
            &path.clone(),
            move || match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(DestError::io("remove", &path, e)),
            },
        )
        .await
    }

    fn writes_at_offsets(&self) -> bool {
        true
    }

    async fn ranged_len(&self, rel: &str) -> Result<Option<u64>, DestError> {
        self.ranged_len_local(rel).await
    }

    async fn open_ranged(
        &self,
        rel: &str,
        fresh: bool,
    ) -> Result<Box<dyn crate::RangedFile>, DestError> {
        self.open_ranged_local(rel, fresh).await
    }

    async fn partial_into_ranged(&self, rel: &str) -> Result<Option<u64>, DestError> {
        self.partial_into_ranged_local(rel).await
    }

    async fn ranged_into_partial(&self, rel: &str, len: u64) -> Result<(), DestError> {
        self.ranged_into_partial_local(rel, len).await
    }

    async fn remove_ranged(&self, rel: &str) -> Result<(), DestError> {
        self.remove_ranged_local(rel).await
    }
}

/// Result of a background write: the file and the (now written, emptied) queue come back for
/// reuse.
type WriteDone = (File, Vec<Bytes>, io::Result<()>);

/// Most slices one `write_vectored` call is given: Linux's IOV_MAX. std clamps to it too, but
/// saying so here keeps the loop's cost per call independent of how tiny the chunks are.
#[cfg(unix)]
const MAX_IOV: usize = 1024;

/// Writes every chunk, in order, with vectored writes: one system call takes many network
/// chunks without first copying them into one buffer. Loops over short writes (a call may
/// stop anywhere, even inside a chunk) and retries on `Interrupted`, like `Write::write_all`.
#[cfg(unix)]
fn write_chunks(out: &mut impl Write, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = chunks.iter().map(|c| io::IoSlice::new(c)).collect();
    let mut rest = &mut slices[..];
    // Empty slices would make a zero-length write look like "no progress".
    io::IoSlice::advance_slices(&mut rest, 0);
    while !rest.is_empty() {
        let n = rest.len().min(MAX_IOV);
        match out.write_vectored(&rest[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => io::IoSlice::advance_slices(&mut rest, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Elsewhere (Windows) `File::write_vectored` writes only the first slice, which would be one
/// system call per network chunk; one copy into a single buffer on this blocking thread is
/// cheaper than that.
#[cfg(not(unix))]
fn write_chunks(out: &mut impl Write, chunks: &[Bytes]) -> io::Result<()> {
    out.write_all(&chunks.concat())
}

/// Writes the queue out and empties it (dropping the chunks here, off the async threads).
pub(crate) fn write_queue(file: &mut File, queue: &mut Vec<Bytes>) -> io::Result<()> {
    let res = write_chunks(file, queue);
    queue.clear();
    res
}

/// An open `.part` file with double buffering. Bytes are queued as they arrive, without a
/// copy (`write_bytes` keeps the reference-counted network chunks), until about `cap` of them
/// are waiting; then the whole queue goes to one background vectored write while the next
/// queue fills. At most two queues per file exist, so memory stays near `2 * cap`.
struct LocalPartial {
    /// `None` while a background write owns it (or after a background task was lost).
    file: Option<File>,
    /// Bytes to gather before a write (the queue is handed over once it holds at least this).
    cap: usize,
    /// Chunks waiting for the next write, in file order; `staging` comes after them.
    queue: Vec<Bytes>,
    /// Bytes in `queue`.
    queued: usize,
    /// Where `write_all` copies borrowed slices; sealed into `queue` (no copy) before any
    /// owned chunk is queued or the queue is written, so byte order is kept.
    staging: BytesMut,
    /// The other queue (empty), back from a finished background write.
    spare: Option<Vec<Bytes>>,
    inflight: Option<JoinHandle<WriteDone>>,
    /// A background fdatasync (see `sync_in_background`) on a second handle of the file.
    syncing: Option<JoinHandle<io::Result<()>>>,
    /// Bytes written or handed to a background write (everything not pending).
    on_disk: u64,
    part_path: PathBuf,
    final_path: PathBuf,
}

impl LocalPartial {
    fn new(file: File, cap: usize, offset: u64, part_path: PathBuf, final_path: PathBuf) -> Self {
        Self {
            file: Some(file),
            cap,
            queue: Vec::new(),
            queued: 0,
            staging: BytesMut::new(),
            spare: None,
            inflight: None,
            syncing: None,
            on_disk: offset,
            part_path,
            final_path,
        }
    }

    /// Bytes accepted but not yet handed to a write.
    fn pending(&self) -> usize {
        self.queued + self.staging.len()
    }

    /// Moves what `write_all` staged to the end of the queue (a reference, not a copy).
    fn seal_staging(&mut self) {
        if !self.staging.is_empty() {
            let sealed = self.staging.split().freeze();
            self.queued += sealed.len();
            self.queue.push(sealed);
        }
    }

    /// Takes the queue (with the staged bytes) and its byte count for a write, leaving the
    /// spare queue in its place.
    fn take_queue(&mut self) -> (Vec<Bytes>, u64) {
        self.seal_staging();
        let next = self.spare.take().unwrap_or_default();
        let bytes = std::mem::take(&mut self.queued) as u64;
        (std::mem::replace(&mut self.queue, next), bytes)
    }

    /// Waits for the background write, if any, and takes the file back.
    async fn settle(&mut self) -> Result<(), DestError> {
        if let Some(handle) = self.inflight.take() {
            let (file, spare, res) = handle
                .await
                .map_err(|e| DestError::task("write", &self.part_path, e))?;
            self.spare = Some(spare);
            // After a failed write we no longer know where the cursor is, so the handle is
            // dropped: every later call fails and the engine reopens from `partial_len`.
            res.map_err(|e| DestError::io("write", &self.part_path, e))?;
            self.file = Some(file);
        }
        Ok(())
    }

    /// Waits for the background fdatasync, if any, and reports its failure.
    async fn settle_sync(&mut self) -> Result<(), DestError> {
        if let Some(handle) = self.syncing.take() {
            handle
                .await
                .map_err(|e| DestError::task("sync", &self.part_path, e))?
                .map_err(|e| DestError::io("sync", &self.part_path, e))?;
        }
        Ok(())
    }

    fn take_file(&mut self) -> Result<File, DestError> {
        self.file.take().ok_or_else(|| DestError::Io {
            op: "write",
            path: self.part_path.clone(),
            source: io::Error::other(
                "an earlier write to this file failed; reopen it to resume from its current length",
            ),
        })
    }

    /// Hands the full queue to a background write and continues with the spare one.
    async fn flush_in_background(&mut self) -> Result<(), DestError> {
        self.settle().await?;
        let mut file = self.take_file()?;
        let (mut full, bytes) = self.take_queue();
        self.on_disk += bytes;
        self.inflight = Some(spawn_blocking(move || {
            let res = write_queue(&mut file, &mut full);
            (file, full, res)
        }));
        Ok(())
    }

    /// Starts a background write once about `cap` bytes wait.
    async fn flush_if_full(&mut self) -> Result<(), DestError> {
        if self.pending() >= self.cap {
            self.flush_in_background().await?;
        }
        Ok(())
    }

    /// Writes everything out, then runs `then` on the file, all in one blocking task.
    async fn drain_then<T: Send + 'static>(
        &mut self,
        then: impl FnOnce(&mut File) -> io::Result<T> + Send + 'static,
        op: &'static str,
    ) -> Result<T, DestError> {
        self.settle().await?;
        let mut file = self.take_file()?;
        let (mut queue, bytes) = self.take_queue();
        let path = self.part_path.clone();
        let (file, queue, res) = spawn_blocking(move || {
            let res = write_queue(&mut file, &mut queue)
                .map_err(|e| DestError::io("write", &path, e))
                .and_then(|()| then(&mut file).map_err(|e| DestError::io(op, &path, e)));
            (file, queue, res)
        })
        .await
        .map_err(|e| DestError::task(op, &self.part_path, e))?;
        self.spare = Some(queue);
        let value = res?; // on error the file is dropped, see `settle`
        self.file = Some(file);
        self.on_disk += bytes;
        Ok(value)
    }
}

#[async_trait]
impl PartialFile for LocalPartial {
    async fn write_all(&mut self, mut data: &[u8]) -> Result<(), DestError> {
        while !data.is_empty() {
            // Never more than what completes this queue, so a big slice is still written in
            // `cap`-sized steps and memory stays bounded.
            let room = self.cap.saturating_sub(self.pending());
            let n = room.min(data.len());
            // Room for the rest of this queue at once: one allocation per queue, not per call.
            self.staging.reserve(room);
            self.staging.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.flush_if_full().await?;
        }
        Ok(())
    }

    async fn write_bytes(&mut self, data: Bytes) -> Result<(), DestError> {
        if data.is_empty() {
            return Ok(());
        }
        self.seal_staging(); // bytes given earlier through `write_all` go first
        self.queued += data.len();
        self.queue.push(data);
        self.flush_if_full().await
    }

    fn len(&self) -> u64 {
        self.on_disk + self.pending() as u64
    }

    async fn sync(&mut self) -> Result<(), DestError> {
        self.settle_sync().await?;
        self.drain_then(|f| f.sync_data(), "sync").await
    }

    async fn sync_in_background(&mut self) -> Result<(), DestError> {
        // One at a time: waiting here for the previous sync is what keeps the dirty data in
        // the page cache bounded (about two sync intervals) without stopping the download
        // while the disk works.
        self.settle_sync().await?;
        // Everything written so far goes to the kernel (the buffers), then a second handle of
        // the file is synced on a blocking thread while writes continue on the first.
        let second = self.drain_then(|f| f.try_clone(), "sync").await?;
        self.syncing = Some(spawn_blocking(move || second.sync_data()));
        Ok(())
    }

    async fn finalize(mut self: Box<Self>, expected_size: u64) -> Result<u64, DestError> {
        self.settle_sync().await?;
        self.drain_then(|_| Ok(()), "write").await?;
        let file = self.take_file()?;
        let part = self.part_path.clone();
        let fin = self.final_path.clone();
        blocking("finalize", &part.clone(), move || {
            commit_part(file, part, &fin, expected_size)
        })
        .await
    }
}

/// Removes temp files of `write_atomic` for the same name that a killed process left behind
/// (`.NAME.tmp-PID-N` whose PID is no longer running), so that folders stay clean after a
/// crash. A live writer's temp file is never touched.
fn sweep_stale_temps(path: &Path, name: &str) {
    let Some(dir) = path.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.tmp-");
    let me = std::process::id();
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != me && !process_alive(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Elsewhere we cannot cheaply tell; keep the file (harmless, only untidy).
#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A writer that takes at most `max` bytes per call, fails every other call with
    /// `Interrupted`, and records how many slices each call was given.
    struct Stingy {
        out: Vec<u8>,
        max: usize,
        calls: usize,
        widest: usize,
    }

    impl Write for Stingy {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[io::IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            self.widest = self.widest.max(bufs.len());
            if self.calls % 2 == 1 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let mut left = self.max;
            for b in bufs {
                let n = b.len().min(left);
                self.out.extend_from_slice(&b[..n]);
                left -= n;
            }
            Ok(self.max - left)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn chunks(sizes: &[usize]) -> (Vec<Bytes>, Vec<u8>) {
        let mut all = Vec::new();
        let mut out = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let c: Vec<u8> = (0..n).map(|j| (i * 7 + j) as u8).collect();
            all.extend_from_slice(&c);
            out.push(Bytes::from(c));
        }
        (out, all)
    }

    #[test]
    fn write_chunks_survives_short_and_interrupted_writes() {
        // Short writes stop inside chunks and across chunk boundaries.
        for max in [1, 2, 3, 5, 64, 1000] {
            let (cs, want) = chunks(&[3, 1, 10, 7, 100, 2, 1]);
            let mut w = Stingy {
                out: Vec::new(),
                max,
                calls: 0,
                widest: 0,
            };
            write_chunks(&mut w, &cs).unwrap();
            assert_eq!(w.out, want, "max {max}");
        }
    }

    #[test]
    fn write_chunks_gives_at_most_iov_max_slices_per_call() {
        let (cs, want) = chunks(&[3; 5000]);
        let mut w = Stingy {
            out: Vec::new(),
            max: usize::MAX,
            calls: 0,
            widest: 0,
        };
        write_chunks(&mut w, &cs).unwrap();
        assert_eq!(w.out, want);
        assert_eq!(w.widest, MAX_IOV);
    }

    #[test]
    fn write_chunks_reports_a_writer_that_takes_nothing() {
        let (cs, _) = chunks(&[4]);
        let mut w = Stingy {
            out: Vec::new(),
            max: 0,
            calls: 1, // no Interrupted first
            widest: 0,
        };
        let err = write_chunks(&mut w, &cs).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    }
}
