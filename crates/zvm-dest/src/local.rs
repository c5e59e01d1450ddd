//! [`LocalDestination`]: files on a local (or mounted) file system.
//!
//! Writes go through a fixed 1 MiB buffer; a full buffer is handed to `spawn_blocking` as one
//! large `write` while the caller keeps filling a second buffer, so network and disk overlap
//! and memory stays at two buffers per open file. `spawn_blocking` rather than
//! `block_in_place` because the latter panics on current-thread runtimes. Nothing is fsynced
//! per chunk: only `sync()` (called by the engine every few seconds) and `finalize()` are.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::task::{JoinHandle, spawn_blocking};

use crate::{DestError, Destination, PART_SUFFIX, PartialFile, validate_rel};

/// Size of each write buffer.
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

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Runs blocking file work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    op: &'static str,
    path: &Path,
    f: impl FnOnce() -> Result<T, DestError> + Send + 'static,
) -> Result<T, DestError> {
    spawn_blocking(f)
        .await
        .map_err(|e| DestError::task(op, path, e))?
}

fn create_parent(path: &Path) -> Result<(), DestError> {
    match path.parent() {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| DestError::io("create directory", dir, e))
        }
        None => Ok(()),
    }
}

/// Size of a regular file, `None` if absent; a directory in the way is an error, not "absent".
fn file_len(path: &Path) -> Result<Option<u64>, DestError> {
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
fn sync_dir(dir: &Path) -> Result<(), DestError> {
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

fn parent_or_root(path: &Path) -> &Path {
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
        Ok(Box::new(LocalPartial {
            file: Some(file),
            cap: self.write_buffer,
            buf: Vec::with_capacity(self.write_buffer),
            spare: None,
            inflight: None,
            syncing: None,
            on_disk: offset,
            part_path,
            final_path,
        }))
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
}

/// Result of a background write: the file and the (now written) buffer come back for reuse.
type WriteDone = (File, Vec<u8>, io::Result<()>);

/// An open `.part` file with double buffering.
struct LocalPartial {
    /// `None` while a background write owns it (or after a background task was lost).
    file: Option<File>,
    /// Size of `buf` when full.
    cap: usize,
    /// Being filled by `write_all`; never grows past `cap`.
    buf: Vec<u8>,
    /// The other buffer, back from a finished background write.
    spare: Option<Vec<u8>>,
    inflight: Option<JoinHandle<WriteDone>>,
    /// A background fdatasync (see `sync_in_background`) on a second handle of the file.
    syncing: Option<JoinHandle<io::Result<()>>>,
    /// Bytes written or handed to a background write (everything but `buf`).
    on_disk: u64,
    part_path: PathBuf,
    final_path: PathBuf,
}

impl LocalPartial {
    /// Waits for the background write, if any, and takes the file back.
    async fn settle(&mut self) -> Result<(), DestError> {
        if let Some(handle) = self.inflight.take() {
            let (file, mut spare, res) = handle
                .await
                .map_err(|e| DestError::task("write", &self.part_path, e))?;
            spare.clear();
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

    /// Hands the full buffer to a background write and continues with the spare one.
    async fn flush_in_background(&mut self) -> Result<(), DestError> {
        self.settle().await?;
        let mut file = self.take_file()?;
        let next = self
            .spare
            .take()
            .unwrap_or_else(|| Vec::with_capacity(self.cap));
        let full = std::mem::replace(&mut self.buf, next);
        self.on_disk += full.len() as u64;
        self.inflight = Some(spawn_blocking(move || {
            let res = file.write_all(&full);
            (file, full, res)
        }));
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
        let buf = std::mem::take(&mut self.buf);
        let path = self.part_path.clone();
        let (file, mut buf, res) = spawn_blocking(move || {
            let res = file
                .write_all(&buf)
                .map_err(|e| DestError::io("write", &path, e))
                .and_then(|()| then(&mut file).map_err(|e| DestError::io(op, &path, e)));
            (file, buf, res)
        })
        .await
        .map_err(|e| DestError::task(op, &self.part_path, e))?;
        let value = res?; // on error the file is dropped, see `settle`
        self.file = Some(file);
        self.on_disk += buf.len() as u64;
        buf.clear();
        self.buf = buf;
        Ok(value)
    }
}

#[async_trait]
impl PartialFile for LocalPartial {
    async fn write_all(&mut self, mut data: &[u8]) -> Result<(), DestError> {
        while !data.is_empty() {
            let room = self.cap - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() == self.cap {
                self.flush_in_background().await?;
            }
        }
        Ok(())
    }

    fn len(&self) -> u64 {
        self.on_disk + self.buf.len() as u64
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
            file.sync_all()
                .map_err(|e| DestError::io("sync", &part, e))?;
            // Check the file itself, not our byte counter: it is what gets renamed, and a
            // writer dropped earlier may still have extended it.
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
            std::fs::rename(&part, &fin)
                .map_err(|e| DestError::io("rename into place", &fin, e))?;
            sync_dir(parent_or_root(&fin))?;
            Ok(actual)
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
