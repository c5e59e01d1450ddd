//! Destinations: where recordings end up. The [`Destination`] trait is what the engine writes
//! through: stream into `<rel>.part`, resume from its length, then [`PartialFile::finalize`]
//! checks the size, fsyncs and renames to the final name, so a final name only ever holds a
//! complete file. [`LocalDestination`] implements it on the local filesystem; the
//! `zvm-dest-opendal` crate implements it on object stores and other services. With the `conformance` feature, the `conformance` module holds the test
//! suite every implementation must pass.
//!
//! A large file may instead arrive as several ranges at once (a segmented download): those go
//! into `<rel>.ranges.part` through a [`RangedFile`], each range through its own
//! [`RangeWriter`] at its offset. That file has its own name because its length proves
//! nothing (a later range can be complete while an earlier one still has a hole): only the
//! caller's record of the ranges says which bytes it holds, so the `.part` rule "its length is
//! the resume point" is never applied to it.

use async_trait::async_trait;
use bytes::Bytes;

mod error;
mod local;
mod local_ranged;
mod relpath;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::DestError;
pub use local::LocalDestination;
pub use relpath::validate_rel;

/// Suffix of in-progress files.
pub const PART_SUFFIX: &str = ".part";

/// Suffix of in-progress files written as several ranges at once (see the crate docs).
pub const RANGED_SUFFIX: &str = ".ranges.part";

/// A place to store files under '/'-separated relative paths. Object safe: the engine holds an
/// `Arc<dyn Destination>`.
#[async_trait]
pub trait Destination: Send + Sync + 'static {
    /// Human-readable location, e.g. `/home/x/ZoomRecordings`.
    fn describe(&self) -> String;
    /// Creates the root if missing and checks it is writable (write+remove a probe file).
    async fn check_writable(&self) -> Result<(), DestError>;
    /// Size of the final file, `None` if absent.
    async fn stat_final(&self, rel: &str) -> Result<Option<u64>, DestError>;
    /// `stat_final` of each path, in the same order (the planner checks a page of verified
    /// files at once; a local disk answers them in one blocking call).
    async fn stat_final_many(&self, rels: &[String]) -> Vec<Result<Option<u64>, DestError>> {
        let mut out = Vec::with_capacity(rels.len());
        for r in rels {
            out.push(self.stat_final(r).await);
        }
        out
    }
    /// Size of `<rel>.part`, `None` if absent.
    async fn partial_len(&self, rel: &str) -> Result<Option<u64>, DestError>;
    /// Opens `<rel>.part` positioned at `offset`: offset 0 creates/truncates; otherwise truncates
    /// to `offset` (bytes beyond it are discarded) and appends. Creates parent directories.
    /// An `offset` beyond the current `.part` length is [`DestError::ResumeBeyondEnd`].
    async fn open_partial(&self, rel: &str, offset: u64)
    -> Result<Box<dyn PartialFile>, DestError>;
    /// [`Destination::open_partial`] of a file whose whole size is known (`size`: Zoom's
    /// listing; the engine always knows it), so that a destination can choose how to send
    /// it: S3 sends a file up to its cutoff in one streamed PUT of that length, larger ones
    /// in a multipart upload. The default ignores the size.
    async fn open_partial_sized(
        &self,
        rel: &str,
        offset: u64,
        size: u64,
    ) -> Result<Box<dyn PartialFile>, DestError> {
        let _ = size;
        self.open_partial(rel, offset).await
    }
    /// Writes a small file whole and atomically (temp name, fsync, rename, fsync dir): meeting.json, summary.md.
    async fn write_atomic(&self, rel: &str, bytes: &[u8]) -> Result<(), DestError>;
    /// Reads the final file back and returns its SHA-256 as lowercase hex (for --verify-hash).
    async fn sha256_final(&self, rel: &str) -> Result<String, DestError>;
    /// Removes `<rel>.part`; absent is not an error.
    async fn remove_partial(&self, rel: &str) -> Result<(), DestError>;

    /// Reads a small final file whole: the transcripts, chats and summaries the search index
    /// reads back after they are copied. One larger than `limit` bytes is refused
    /// ([`DestError::TooLarge`]) without reading more than `limit + 1` bytes of it, so a
    /// video under a text file's name cannot fill the memory. Destinations that cannot
    /// read back refuse ([`DestError::Unsupported`]).
    async fn read_final(&self, rel: &str, limit: u64) -> Result<Vec<u8>, DestError> {
        let _ = limit;
        Err(DestError::Unsupported {
            what: "reading a file back",
            path: rel.to_string(),
        })
    }

    /// Whether `open_partial` at an offset below the `.part`'s length keeps the bytes before
    /// it (a file on disk can be cut there). An upload in progress cannot: its bytes are
    /// already on their way, so such a destination refuses that and resumes only at the
    /// `.part`'s length or starts over at 0, which is all the engine asks for.
    fn truncates_partials(&self) -> bool {
        true
    }

    // --- Segmented downloads: one file written at several offsets at once. ---

    /// Whether this destination implements the ranged methods below. Without them the engine
    /// downloads every file in one piece; the defaults refuse.
    fn writes_at_offsets(&self) -> bool {
        false
    }
    /// Size of `<rel>.ranges.part`, `None` if absent (its length says nothing about which
    /// bytes it holds; the caller keeps that record).
    async fn ranged_len(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let _ = rel;
        Ok(None)
    }
    /// Opens `<rel>.ranges.part` for writes at offsets, creating it and its directories if
    /// missing. `fresh` empties it first; otherwise its bytes are kept.
    async fn open_ranged(&self, rel: &str, fresh: bool) -> Result<Box<dyn RangedFile>, DestError> {
        let _ = fresh;
        Err(DestError::Unsupported {
            what: "writing a file at several offsets",
            path: rel.to_string(),
        })
    }
    /// Makes `<rel>.part` (a file written from its start) the start of `<rel>.ranges.part`,
    /// replacing any earlier one. Returns how many bytes it holds from its start, or `None`
    /// when there is no `<rel>.part` (nothing changes then).
    async fn partial_into_ranged(&self, rel: &str) -> Result<Option<u64>, DestError> {
        let _ = rel;
        Ok(None)
    }
    /// Cuts `<rel>.ranges.part` to its first `len` bytes (which the caller knows are all
    /// there) and makes it `<rel>.part`, replacing any: the download continues in one piece
    /// from byte `len`. Refuses ([`DestError::ResumeBeyondEnd`]) if it is shorter than `len`.
    async fn ranged_into_partial(&self, rel: &str, len: u64) -> Result<(), DestError> {
        let _ = len;
        Err(DestError::Unsupported {
            what: "writing a file at several offsets",
            path: rel.to_string(),
        })
    }
    /// Removes `<rel>.ranges.part`; absent is not an error.
    async fn remove_ranged(&self, rel: &str) -> Result<(), DestError> {
        let _ = rel;
        Ok(())
    }
}

/// An open `<rel>.ranges.part`, shared by the writers of its ranges.
#[async_trait]
pub trait RangedFile: Send + Sync {
    /// A writer of the bytes from `offset` on. Writers of different ranges work at once,
    /// each on its own handle; their ranges must not overlap.
    async fn writer_at(&self, offset: u64) -> Result<Box<dyn RangeWriter>, DestError>;
    /// fdatasync: every byte a writer reported as [`RangeWriter::written`] before this call
    /// survives a power cut once it returns. Writers may go on meanwhile.
    async fn sync(&self) -> Result<(), DestError>;
    /// Fsyncs, checks the length is `expected_size` (else [`DestError::SizeMismatch`], the
    /// file kept), renames it to the final name (replacing) and fsyncs the directory. The
    /// caller must have finished (flushed and dropped) every writer, and must know that every
    /// range is complete: the length alone cannot tell. Returns the final size.
    async fn finalize(&self, expected_size: u64) -> Result<u64, DestError>;
}

/// Writes one range of a [`RangedFile`], in order from its offset. Buffered like a
/// [`PartialFile`]: only [`RangedFile::sync`] and [`RangedFile::finalize`] make bytes durable.
#[async_trait]
pub trait RangeWriter: Send {
    /// Takes a chunk (kept, not copied, until written) for the next bytes of the range.
    async fn write_bytes(&mut self, data: Bytes) -> Result<(), DestError>;
    /// Bytes from the offset whose writes have completed: they are in the file (the OS's
    /// cache), and a process killed now leaves them there. Buffered bytes are not counted.
    fn written(&self) -> u64;
    /// Writes everything taken so far and waits for it: then `written` counts every byte.
    async fn flush(&mut self) -> Result<(), DestError>;
}

/// An open `.part` file. Writes are buffered; only [`PartialFile::sync`] and
/// [`PartialFile::finalize`] make them durable.
#[async_trait]
pub trait PartialFile: Send {
    async fn write_all(&mut self, buf: &[u8]) -> Result<(), DestError>;
    /// Like `write_all`, taking ownership of a (reference-counted) chunk, so a destination can
    /// keep it until it writes instead of copying it; the engine hands over network chunks
    /// this way. Calls of both kinds may be mixed: bytes land in call order. The default
    /// copies through `write_all`.
    async fn write_bytes(&mut self, data: Bytes) -> Result<(), DestError> {
        self.write_all(&data).await
    }
    /// Bytes in the .part so far (including buffered ones).
    fn len(&self) -> u64;
    /// `len() == 0`.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Flush + fdatasync: after it returns, `len()` bytes survive a crash (a durable resume point).
    async fn sync(&mut self) -> Result<(), DestError>;
    /// Starts making the bytes written so far durable without waiting for the disk, so the
    /// download goes on while the kernel writes back. A later call, `sync` or `finalize` waits
    /// for the previous one. The default waits (destinations without a cheap background sync).
    async fn sync_in_background(&mut self) -> Result<(), DestError> {
        self.sync().await
    }
    /// Flushes, checks len == expected_size (else DestError::SizeMismatch, .part kept), fsyncs,
    /// renames `.part` -> final (replacing), fsyncs the directory. Returns the final size.
    async fn finalize(self: Box<Self>, expected_size: u64) -> Result<u64, DestError>;
}
