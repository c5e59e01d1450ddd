//! Where the bytes of one upload go: OpenDAL's writer (S3 multipart, SFTP), or one streamed
//! PUT ([`crate::streamed_put`]) where OpenDAL's writer would hold the whole file in memory
//! (WebDAV) or where one request costs the service less (S3, a file up to its cutoff).
//! Errors are OpenDAL's, so one mapping ([`crate::errors`]) serves every service.

use async_trait::async_trait;
use bytes::Bytes;

/// One upload in progress.
#[async_trait]
pub(crate) trait UploadSink: Send + Sync {
    /// Sends the next bytes (or queues them, a bounded amount).
    async fn write(&mut self, data: Bytes) -> opendal::Result<()>;
    /// Waits until every byte written so far is with the service, where it is kept even if
    /// this process dies (an S3 multipart upload's parts, which a later run goes on after).
    async fn flush(&mut self) -> opendal::Result<()> {
        Ok(())
    }
    /// Sends what is left and completes the upload.
    async fn close(&mut self) -> opendal::Result<()>;
    /// Gives the upload up (best effort: the caller removes what it may have left).
    async fn abort(&mut self);
}

/// Starts uploads for a service whose uploads do not go through OpenDAL's writer.
#[async_trait]
pub(crate) trait StartUpload: Send + Sync {
    /// `size`: the file's whole size when the caller knows it (OneDrive's upload needs it).
    async fn start(&self, path: &str, size: Option<u64>) -> opendal::Result<Box<dyn UploadSink>>;
}

#[async_trait]
impl UploadSink for opendal::Writer {
    async fn write(&mut self, data: Bytes) -> opendal::Result<()> {
        opendal::Writer::write(self, data).await
    }

    async fn close(&mut self) -> opendal::Result<()> {
        opendal::Writer::close(self).await.map(drop)
    }

    async fn abort(&mut self) {
        // SFTP's writer cannot abort (it says so); the staged file is removed instead.
        let _ = opendal::Writer::abort(self).await;
    }
}
