//! The drives' uploads as the tests drive them: one upload of one file to a fake of the
//! service's protocol at the given addresses (loopback), through the same starter and sink
//! as `open` builds, with the largest buffer the upload held. Errors read as the engine
//! would show them. Not meant for other uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::drive::DriveAuth;
use crate::sink::UploadSink;
use crate::url::DestUrl;

/// The service's addresses (each `https://`, or `http://` to this machine only).
pub struct Endpoints {
    pub api: String,
    pub upload: String,
    pub token: String,
}

/// One drive destination's uploads (one token, one folder cache).
pub struct TestDrive {
    starter: Arc<dyn crate::sink::StartUpload>,
    peak: Arc<AtomicUsize>,
    name: String,
}

/// One upload in progress.
pub struct TestUpload {
    sink: Box<dyn UploadSink>,
    peak: Arc<AtomicUsize>,
    location: String,
}

/// The uploads to the drive URL `url` (`gdrive://Folder`) at `ep`, in chunks of `chunk`
/// bytes (rounded as the service needs).
pub fn drive(url: &str, ep: Endpoints, auth: DriveAuth, chunk: usize) -> Result<TestDrive, String> {
    let Ok(DestUrl::Drive(d)) = DestUrl::parse(url) else {
        return Err(format!("{url} is not a drive URL"));
    };
    let ep = crate::drive_http::Endpoints {
        api: ep.api,
        upload: ep.upload,
        token: ep.token,
        retry_pause: Duration::from_millis(5),
    }
    .checked()?;
    let (starter, peak) = crate::drive::starter(&d, auth, ep, chunk)
        .ok_or_else(|| format!("no upload for {url} in this build"))?;
    Ok(TestDrive {
        starter,
        peak,
        name: d.display(),
    })
}

impl TestDrive {
    /// Starts an upload of `path` (relative to the drive URL's folder), of `size` bytes
    /// when given.
    pub async fn start(&self, path: &str, size: Option<u64>) -> Result<TestUpload, String> {
        let location = format!("{}/{path}", self.name);
        let sink = self
            .starter
            .start(path, size)
            .await
            .map_err(|e| crate::errors::of("start an upload to", &location, &e).to_string())?;
        Ok(TestUpload {
            sink,
            peak: self.peak.clone(),
            location,
        })
    }
}

impl TestUpload {
    pub async fn write(&mut self, data: Bytes) -> Result<(), String> {
        self.sink
            .write(data)
            .await
            .map_err(|e| crate::errors::of("upload", &self.location, &e).to_string())
    }

    pub async fn close(&mut self) -> Result<(), String> {
        self.sink.close().await.map_err(|e| {
            crate::errors::of("complete the upload of", &self.location, &e).to_string()
        })
    }

    pub async fn abort(&mut self) {
        self.sink.abort().await;
    }

    /// The most bytes the upload held in its buffer at once.
    pub fn peak_buffered(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}
