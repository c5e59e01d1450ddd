//! Segmented downloads on the local file system: `<rel>.ranges.part` written at several
//! offsets at once.
//!
//! Each range gets its own file handle, opened afresh and positioned at the range's offset, so
//! the ranges' writes never share a cursor and need no lock (a `dup`ed handle would share
//! one). Like the `.part` writer, a range writer keeps network chunks as they came and hands
//! about `BUF_SIZE` of them at a time to one vectored write on a blocking thread while the
//! next batch fills; what it reports as written is only what those writes have completed.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek};
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::task::{JoinHandle, spawn_blocking};

use crate::local::{blocking, commit_part, create_parent, file_len, with_suffix, write_queue};
use crate::{DestError, LocalDestination, RANGED_SUFFIX, RangeWriter, RangedFile};

impl LocalDestination {
    /// The path of `<rel>.ranges.part`.
    pub fn ranged_path(&self, rel: &str) -> Result<PathBuf, DestError> {
        Ok(with_suffix(&self.final_path(rel)?, RANGED_SUFFIX))
    }

    pub(crate) async fn ranged_len_local(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let path = self.ranged_path(rel)?;
        blocking("stat", &path.clone(), move || file_len(&path)).await
    }

    pub(crate) async fn open_ranged_local(
        &self,
        rel: &str,
        fresh: bool,
    ) -> Result<Box<dyn RangedFile>, DestError> {
        let final_path = self.final_path(rel)?;
        let path = with_suffix(&final_path, RANGED_SUFFIX);
        let p = path.clone();
        let file = blocking("open", &path, move || {
            create_parent(&p)?;
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(fresh)
                .open(&p)
                .map_err(|e| DestError::io("open", &p, e))
        })
        .await?;
        Ok(Box::new(LocalRanged {
            file,
            path,
            final_path,
            cap: self.write_buffer(),
        }))
    }

    pub(crate) async fn partial_into_ranged_local(
        &self,
        rel: &str,
    ) -> Result<Option<u64>, DestError> {
        let part = self.part_path(rel)?;
        let ranged = self.ranged_path(rel)?;
        blocking("rename", &part.clone(), move || {
            let Some(len) = file_len(&part)? else {
                return Ok(None);
            };
            std::fs::rename(&part, &ranged)
                .map_err(|e| DestError::io("rename into place", &ranged, e))?;
            Ok(Some(len))
        })
        .await
    }

    pub(crate) async fn ranged_into_partial_local(
        &self,
        rel: &str,
        len: u64,
    ) -> Result<(), DestError> {
        let part = self.part_path(rel)?;
        let ranged = self.ranged_path(rel)?;
        blocking("truncate", &ranged.clone(), move || {
            let file = OpenOptions::new()
                .write(true)
                .open(&ranged)
                .map_err(|e| DestError::io("open", &ranged, e))?;
            let have = file
                .metadata()
                .map_err(|e| DestError::io("stat", &ranged, e))?
                .len();
            if have < len {
                return Err(DestError::ResumeBeyondEnd {
                    offset: len,
                    actual: have,
                    path: ranged,
                });
            }
            file.set_len(len)
                .map_err(|e| DestError::io("truncate", &ranged, e))?;
            drop(file);
            std::fs::rename(&ranged, &part)
                .map_err(|e| DestError::io("rename into place", &part, e))
        })
        .await
    }

    pub(crate) async fn remove_ranged_local(&self, rel: &str) -> Result<(), DestError> {
        let path = self.ranged_path(rel)?;
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

/// An open `<rel>.ranges.part`. The handle it keeps serves `sync`, the length check and the
/// rename; the writers open their own.
struct LocalRanged {
    file: File,
    path: PathBuf,
    final_path: PathBuf,
    cap: usize,
}

#[async_trait]
impl RangedFile for LocalRanged {
    async fn writer_at(&self, offset: u64) -> Result<Box<dyn RangeWriter>, DestError> {
        let p = self.path.clone();
        let file = blocking("open", &self.path, move || {
            let mut f = OpenOptions::new()
                .write(true)
                .open(&p)
                .map_err(|e| DestError::io("open", &p, e))?;
            f.seek(io::SeekFrom::Start(offset))
                .map_err(|e| DestError::io("seek", &p, e))?;
            Ok(f)
        })
        .await?;
        Ok(Box::new(LocalRangeWriter {
            file: Some(file),
            cap: self.cap,
            queue: Vec::new(),
            queued: 0,
            spare: None,
            inflight: None,
            written: 0,
            path: self.path.clone(),
        }))
    }

    async fn sync(&self) -> Result<(), DestError> {
        // fdatasync applies to the file, not the handle: the writers' data is covered too.
        let f = self
            .file
            .try_clone()
            .map_err(|e| DestError::io("sync", &self.path, e))?;
        let p = self.path.clone();
        blocking("sync", &self.path, move || {
            f.sync_data().map_err(|e| DestError::io("sync", &p, e))
        })
        .await
    }

    async fn finalize(&self, expected_size: u64) -> Result<u64, DestError> {
        let f = self
            .file
            .try_clone()
            .map_err(|e| DestError::io("sync", &self.path, e))?;
        let part = self.path.clone();
        let fin = self.final_path.clone();
        blocking("finalize", &self.path, move || {
            commit_part(f, part, &fin, expected_size)
        })
        .await
    }
}

/// What a background write hands back: the file, the emptied queue, the result, and how many
/// bytes it wrote.
type WriteDone = (File, Vec<Bytes>, io::Result<()>, u64);

/// One range's writer: a double buffer like the `.part` writer's, counting completed writes.
struct LocalRangeWriter {
    /// `None` while a background write owns it (or after one failed).
    file: Option<File>,
    cap: usize,
    queue: Vec<Bytes>,
    queued: usize,
    spare: Option<Vec<Bytes>>,
    inflight: Option<JoinHandle<WriteDone>>,
    /// Bytes whose writes have completed.
    written: u64,
    path: PathBuf,
}

impl LocalRangeWriter {
    /// Waits for the background write, if any, and takes the file back.
    async fn settle(&mut self) -> Result<(), DestError> {
        if let Some(handle) = self.inflight.take() {
            let (file, spare, res, bytes) = handle
                .await
                .map_err(|e| DestError::task("write", &self.path, e))?;
            self.spare = Some(spare);
            // After a failed write the cursor is unknown: the handle is dropped and every
            // later call fails; the caller opens a new writer where its record says.
            res.map_err(|e| DestError::io("write", &self.path, e))?;
            self.written += bytes;
            self.file = Some(file);
        }
        Ok(())
    }

    fn take_file(&mut self) -> Result<File, DestError> {
        self.file.take().ok_or_else(|| DestError::Io {
            op: "write",
            path: self.path.clone(),
            source: io::Error::other(
                "an earlier write to this file failed; open a new writer to go on",
            ),
        })
    }

    /// Hands the queue to a background write and continues with the spare one.
    async fn write_in_background(&mut self) -> Result<(), DestError> {
        self.settle().await?;
        let mut file = self.take_file()?;
        let next = self.spare.take().unwrap_or_default();
        let mut full = std::mem::replace(&mut self.queue, next);
        let bytes = std::mem::take(&mut self.queued) as u64;
        self.inflight = Some(spawn_blocking(move || {
            let res = write_queue(&mut file, &mut full);
            (file, full, res, bytes)
        }));
        Ok(())
    }
}

#[async_trait]
impl RangeWriter for LocalRangeWriter {
    async fn write_bytes(&mut self, data: Bytes) -> Result<(), DestError> {
        if data.is_empty() {
            return Ok(());
        }
        self.queued += data.len();
        self.queue.push(data);
        // A finished background write is collected now, so `written` keeps up without
        // waiting for the next full queue.
        if self.inflight.as_ref().is_some_and(JoinHandle::is_finished) {
            self.settle().await?;
        }
        if self.queued >= self.cap {
            self.write_in_background().await?;
        }
        Ok(())
    }

    fn written(&self) -> u64 {
        self.written
    }

    async fn flush(&mut self) -> Result<(), DestError> {
        if self.queued > 0 {
            self.write_in_background().await?;
        }
        self.settle().await
    }
}
