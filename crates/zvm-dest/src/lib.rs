//! Destinations: where recordings end up. The [`Destination`] trait is what the engine writes
//! through: stream into `<rel>.part`, resume from its length, then [`PartialFile::finalize`]
//! checks the size, fsyncs and renames to the final name, so a final name only ever holds a
//! complete file. [`LocalDestination`] implements it on the local filesystem; an S3-compatible
//! implementation comes later. With the `conformance` feature, the `conformance` module holds the test
//! suite every implementation must pass.

use async_trait::async_trait;
use bytes::Bytes;

mod error;
mod local;
mod relpath;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::DestError;
pub use local::LocalDestination;
pub use relpath::validate_rel;

/// Suffix of in-progress files.
pub const PART_SUFFIX: &str = ".part";

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
    /// Writes a small file whole and atomically (temp name, fsync, rename, fsync dir): meeting.json, summary.md.
    async fn write_atomic(&self, rel: &str, bytes: &[u8]) -> Result<(), DestError>;
    /// Reads the final file back and returns its SHA-256 as lowercase hex (for --verify-hash).
    async fn sha256_final(&self, rel: &str) -> Result<String, DestError>;
    /// Removes `<rel>.part`; absent is not an error.
    async fn remove_partial(&self, rel: &str) -> Result<(), DestError>;
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
